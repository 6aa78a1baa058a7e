#!/bin/sh
# 6400-metrics: the daemon's /metrics endpoint (libmicrohttpd) and
# `lurewall stats`.  miltertest sends clean, tagged, quarantined and
# rejected mail; the endpoint is read with curl and checked with
# python3-prometheus-client's text parser (Debian's, under
# /usr/bin/python3); the counters survive a reload, a failed reload is
# counted; stats answers in text and JSON, for a window too, and the
# window survives a restart (minutes kept in the state).
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

command -v curl >/dev/null || bail "curl not installed (contrib/install-deps)"
command -v miltertest >/dev/null || bail "miltertest not installed"
/usr/bin/python3 -c 'import prometheus_client.parser' ||
    bail "python3-prometheus-client not installed (contrib/install-deps)"

T=$(tmpdir 6400-metrics)
lw_trap
PORT=$(free_port)
LW_CONF_EXTRA="metrics:
  listen: 127.0.0.1:$PORT"
lw_conf "$T"
milter_start "$T" "unix:$T/milter.sock"
wait_for 10 port_open "$PORT"
ok $? "the endpoint listens on 127.0.0.1:$PORT"
URL=http://127.0.0.1:$PORT/metrics

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
function send(qid, subject, want)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conninfo")
	check(mt.helo(conn, "client.example") == nil, "helo")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<sender@example.org>") == nil, "mailfrom")
	check(mt.rcptto(conn, "<user@example.com>") == nil, "rcptto")
	check(mt.header(conn, "From", " Sender <sender@example.org>") == nil, "From")
	check(mt.header(conn, "To", " user@example.com") == nil, "To")
	check(mt.header(conn, "Subject", " " .. subject) == nil, "Subject")
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, "Hello\r\n") == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	check(mt.getreply(conn) == want, qid .. ": reply " .. tostring(mt.getreply(conn)))
	mt.disconnect(conn)
end
send("M1", "Lunch", SMFIR_ACCEPT)
send("M2", "Dinner", SMFIR_ACCEPT)
send("M3", "please tagme", SMFIR_ACCEPT)
send("M4", "please quarme", SMFIR_ACCEPT)
send("M5", "please rejectme", SMFIR_REPLYCODE)
EOF
} >"$T/send.lua"
out=$(bounded miltertest -D sock="unix:$T/milter.sock" -s "$T/send.lua" 2>&1)
ok $? "five messages through the milter"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
like 'qid=M3: .* action=tag rules=TEST_TAG scan_ms=[0-9]+ policy=default' \
    "$(cat "$MILTER_LOG")" "the verdict line names the policy"

# check FILE EXPR...: each EXPR ("name{l=v,...} == N") holds in the
# Prometheus text FILE, parsed by prometheus_client (t/prom-check.py).
check() {
	/usr/bin/python3 "$LW_TOP/t/prom-check.py" "$@"
}

hdrs=$(bounded curl -sS -D - -o "$T/m1.txt" "$URL")
ok $? "curl GET /metrics"
like '^HTTP/1\.[01] 200' "$hdrs" "200 OK"
like 'Content-Type: text/plain; version=0\.0\.4' "$hdrs" \
    "Prometheus text format content type"
check "$T/m1.txt" \
    'type lurewall_messages counter' \
    'type lurewall_scan_seconds histogram' \
    'type lurewall_findings counter' \
    'lurewall_messages_total{action=accept,direction=inbound} == 2' \
    'lurewall_messages_total{action=tag,direction=inbound} == 1' \
    'lurewall_messages_total{action=quarantine,direction=inbound} == 1' \
    'lurewall_messages_total{action=reject,direction=inbound} == 1' \
    'lurewall_messages_total{action=accept,direction=outbound} == 0' \
    'lurewall_findings_total{rule=TEST_TAG} == 1' \
    'lurewall_findings_total{rule=TEST_QUAR} == 1' \
    'lurewall_findings_total{rule=TEST_REJECT} == 1' \
    'lurewall_scan_seconds_count{} == 5' \
    'lurewall_scan_seconds_bucket{le=+Inf} == 5' \
    'lurewall_scan_seconds_sum{} >= 0' \
    'lurewall_scanned_bytes_total{} > 0' \
    'lurewall_start_time_seconds{} > 1600000000' \
    'type lurewall_quarantine_items gauge' \
    'type lurewall_state_up gauge' \
    'lurewall_quarantine_items{} == 1' \
    'lurewall_quarantine_bytes{} > 50' \
    'lurewall_state_up{backend=lmdb} == 1'
ok $? "the parser reads the counts of the five messages, and the gauges"

bounded curl -sS -o /dev/null -w '%{http_code}' "$URL?since=3600" >"$T/code"
is 200 "$(cat "$T/code")" "?since=3600 answers"
bounded curl -sS -o "$T/w.txt" "$URL?since=3600"
check "$T/w.txt" \
    'lurewall_messages_total{action=accept,direction=inbound} == 2' \
    'lurewall_findings_total{rule=TEST_TAG} == 1' \
    'lurewall_scan_seconds_count{} == 5' \
    'lurewall_window_seconds{} <= 3600'
ok $? "a one-hour window holds the same messages"
is 404 "$(bounded curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$PORT/other")" "another path is 404"
is 405 "$(bounded curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" \
    "POST is 405"
is 400 "$(bounded curl -s -o /dev/null -w '%{http_code}' \
    "$URL?since=abc")" "a bad since is 400"

C="$T/conf/lurewall.yaml"
out=$(bounded "$LUREWALL" stats -c "$C")
ok $? "lurewall stats exits 0"
like 'messages +5 +\(inbound 5, outbound 0\)' "$out" "stats: 5 messages"
like 'quarantine +1 +held' "$out" "stats: one held"
like 'TEST_(TAG|QUAR|REJECT) +1' "$out" "stats: top rules"
like 'scan time +5 scans, mean' "$out" "stats: scan time"
like 'quarantine now +1 items' "$out" "stats: the quarantine holds one item"
like 'state +lmdb up; 0 error' "$out" "stats: the state answers"
like 'since the daemon started, [0-9-]+ [0-9:]+ [A-Z+0-9-]+' "$out" \
    "stats: start in local time with the zone"
bounded "$LUREWALL" -c "$C" stats --json >"$T/s.json"
ok $? "stats --json, -c before the verb"
/usr/bin/python3 - "$T/s.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["messages"]["total"] == 5, d
assert d["messages"]["by_action"]["quarantine"] == 1, d
assert d["messages"]["by_action"]["accept"] == 2, d
assert {r["rule"] for r in d["rules"]} == {"TEST_TAG", "TEST_QUAR", "TEST_REJECT"}, d
assert d["scan_seconds"]["count"] == 5, d
assert d["since"].endswith("Z"), d
assert d["quarantine"]["items"] == 1 and d["quarantine"]["bytes"] > 50, d
assert d["state"]["up"] == {"lmdb": True} and d["state"]["errors"] == 0, d
EOF
ok $? "stats --json: totals, rules, scan count, UTC since"
out=$(bounded "$LUREWALL" stats -c "$C" --since 1h)
like 'messages +5 ' "$out" "stats --since 1h: 5 messages"
out=$(bounded "$LUREWALL" stats -c "$C" --since today)
like 'messages +5 ' "$out" "stats --since today: 5 messages"
bounded "$LUREWALL" stats -c "$C" --since 1y 2>"$T/err"
is 2 $? "stats --since 1y: usage error"

# Counters survive a reload; a failed reload is counted.
kill -USR1 "$MILTER_PID"
wait_for 10 grep -q "reloaded" "$MILTER_LOG"
ok $? "reloaded"
like 'reloaded .*lurewall\.yaml: nothing changed' "$(cat "$MILTER_LOG")" \
    "the reload says nothing changed"
cp "$C" "$T/good.yaml"
echo "bogus_key: 1" >>"$C"
kill -USR1 "$MILTER_PID"
wait_for 10 grep -q "reload failed" "$MILTER_LOG"
ok $? "a broken config: reload failed"
cp "$T/good.yaml" "$C"
bounded curl -sS -o "$T/m2.txt" "$URL"
check "$T/m2.txt" \
    'lurewall_messages_total{action=accept,direction=inbound} == 2' \
    'lurewall_scan_seconds_count{} == 5' \
    'lurewall_reloads_total{result=ok} == 1' \
    'lurewall_reloads_total{result=failed} == 1'
ok $? "counters survive the reloads, which are counted"

milter_stop
out=$(bounded "$LUREWALL" stats -c "$C" 2>&1)
rc=$?
is 2 $rc "stats without a running daemon exits 2"
like 'cannot reach' "$out" "and says why"

# A window survives a restart: the daemon stored its minutes in the
# state when it stopped, and a new daemon answers --since from there.
milter_start "$T" "unix:$T/milter.sock"
wait_for 10 port_open "$PORT"
ok $? "the restarted daemon listens again"
out=$(bounded "$LUREWALL" stats -c "$C" --since 1h)
like 'messages +5 ' "$out" "after a restart, stats --since 1h: still 5 messages"
bounded curl -sS -o "$T/m3.txt" "$URL"
check "$T/m3.txt" 'lurewall_scan_seconds_count{} == 0'
ok $? "while the since-start counters begin again at 0"
milter_stop

# Off by default: no endpoint, and stats says so.
T2=$(tmpdir 6400-metrics-off)
LW_CONF_EXTRA= lw_conf "$T2"
out=$(bounded "$LUREWALL" stats -c "$T2/conf/lurewall.yaml" 2>&1)
is 2 $? "stats with metrics off exits 2"
like 'metrics\.listen is not set' "$out" "and names the key"

# The config checks the address.
printf 'metrics:\n  listen: 9787\n' >>"$T2/conf/lurewall.yaml"
out=$(bounded "$LUREWALL" check-config -c "$T2/conf/lurewall.yaml" 2>&1)
like 'lurewall.yaml:[0-9]+:[0-9]+: metrics.listen: expected HOST:PORT' \
    "$out" "a listen without a host is an error with its line"
done_testing
