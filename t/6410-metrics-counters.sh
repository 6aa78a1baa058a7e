#!/bin/sh
# 6410-metrics-counters: the counters of issue 20 that need a real
# daemon and real mail, read from /metrics with curl and checked with
# python3-prometheus-client's text parser (t/prom-check.py): password
# candidates tried and the archives they opened; split PPAP pending,
# released (its password mail came) and expired (the sweep thread,
# on_timeout keep); and one breaker trip for three outbound lures of a
# sender (a fourth message of the sender is held, not counted again).
# lurewall stats says the same.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

command -v curl >/dev/null || bail "curl not installed (contrib/install-deps)"
command -v miltertest >/dev/null || bail "miltertest not installed"
command -v zip >/dev/null || bail "zip not installed (contrib/install-deps)"
/usr/bin/python3 -c 'import prometheus_client.parser' ||
    bail "python3-prometheus-client not installed (contrib/install-deps)"

T=$(tmpdir 6410-metrics-counters)
lw_trap
PORT=$(free_port)
URL=http://127.0.0.1:$PORT/metrics
# A fake submission command: the released zip mail lands in out/.
mkdir -p "$T/out"
chown "$LW_MILTER_USER" "$T/out"
printf '#!/bin/sh\ncat >%s/out/$$.eml\n' "$T" >"$T/submit"
chmod +x "$T/submit"
LW_CONF_EXTRA="metrics:
  listen: 127.0.0.1:$PORT
outbound_daemon_names: [ORIGINATING]
submit_command: $T/submit -f %f -- %r" lw_conf "$T" \
'thresholds: {tag: 5, quarantine: 10, reject: 50}
quarantine: {then: discard}
split_password: {wait: 30m}
outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, action: quarantine}'
printf 'domains: [short.example]\nsplit_password: {wait: 2s, on_timeout: keep}\n' \
    >"$T/conf/policy.d/short.yaml"
milter_start "$T" "unix:$T/milter.sock"
wait_for 30 port_open "$PORT"
ok $? "the endpoint listens"

# The messages.  A clean zip (password Qw3rTy9z), alone or with its
# password in the body; a password mail; an outbound .vbs lure.
printf 'Minutes of the meeting.\n' >"$T/note.txt"
(cd "$T" && zip -q -P Qw3rTy9z clean.zip note.txt) || bail "zip failed"
zipmail() {	# zipmail OUT MSGID TO BODY-LINE
	{
		printf 'From: Partner <billing@partner.example>\nTo: %s\n' "$3"
		printf 'Date: Tue, 22 Nov 2022 10:00:00 +0900\n'
		printf 'Message-ID: <%s>\nSubject: Documents\n' "$2"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary="b1"\n\n'
		printf -- '--b1\nContent-Type: text/plain; charset=us-ascii\n\n'
		printf 'Please find the documents attached.\n%s\n\n' "$4"
		printf -- '--b1\nContent-Type: application/zip; name="docs.zip"\n'
		printf 'Content-Transfer-Encoding: base64\n'
		printf 'Content-Disposition: attachment; filename="docs.zip"\n\n'
		base64 "$T/clean.zip"
		printf -- '--b1--\n'
	} >"$1"
}
zipmail "$T/p1.eml" p1@partner.example alice@example.com \
    'The password is Qw3rTy9z'
zipmail "$T/z1.eml" z1@partner.example alice@example.com \
    'The key follows in a separate mail.'
zipmail "$T/z2.eml" z2@partner.example bob@short.example \
    'The key follows in a separate mail.'
printf 'From: Partner <billing@partner.example>\nTo: alice@example.com\nDate: Tue, 22 Nov 2022 10:05:00 +0900\nMessage-ID: <pw1@partner.example>\nIn-Reply-To: <z1@partner.example>\nSubject: key\n\nPassword: Qw3rTy9z\n' \
    >"$T/pw1.eml"
printf 'From: <mallory@corp.example>\nTo: <p@partner.example>\nDate: Tue, 22 Nov 2022 10:00:00 +0900\nMessage-ID: <lure@corp.example>\nSubject: invoice\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BB"\n\n--BB\nContent-Type: text/plain\n\nsee attached\n--BB\nContent-Type: application/octet-stream; name="invoice.vbs"\nContent-Disposition: attachment; filename="invoice.vbs"\n\nSet s = CreateObject("WScript.Shell")\ns.Run "calc.exe"\n--BB--\n' \
    >"$T/lure.eml"

scrape() {	# scrape FILE
	bounded curl -sS -o "$1" "$URL"
}
check() {	# check FILE EXPR...
	/usr/bin/python3 "$LW_TOP/t/prom-check.py" "$@"
}

scrape "$T/m0.txt"
check "$T/m0.txt" \
    'lurewall_password_tries_total{} == 0' \
    'lurewall_password_successes_total{} == 0' \
    'lurewall_split_ppap_total{event=pending} == 0' \
    'lurewall_split_ppap_total{event=released} == 0' \
    'lurewall_split_ppap_total{event=expired} == 0' \
    'lurewall_outbreak_trips_total{} == 0'
ok $? "at start every counter is there, at 0"

mt_run inbound "a zip with its password, a split pair, a zip that waits" <<EOF
local c = send("$T/p1.eml", "P1", "billing@partner.example", "alice@example.com")
check(mt.getreply(c) ~= SMFIR_DISCARD, "P1: the zip with its password was held")
mt.disconnect(c)
reply(send("$T/z1.eml", "Z1", "billing@partner.example", "alice@example.com"),
    SMFIR_DISCARD, "Z1: the zip without its password is not pending")
reply(send("$T/z2.eml", "Z2", "billing@partner.example", "bob@short.example"),
    SMFIR_DISCARD, "Z2: not pending")
reply(send("$T/pw1.eml", "PW1", "billing@partner.example", "alice@example.com"),
    SMFIR_ACCEPT, "PW1: the password mail not accepted")
EOF
like 'qid=PW1: split PPAP: quarantine_id=.* released' "$(cat "$MILTER_LOG")" \
    "the password mail released Z1"

mt_run outbound "three outbound lures of one sender, then a clean mail" <<EOF
for i = 1, 3 do
	reply(send("$T/lure.eml", "L" .. i, "mallory@corp.example",
	    "p" .. i .. "@partner.example", "ORIGINATING"), SMFIR_DISCARD,
	    "lure " .. i .. " not discarded")
end
reply(send("$T/pw1.eml", "H1", "mallory@corp.example", "p4@partner.example",
    "ORIGINATING"), SMFIR_DISCARD, "the tripped sender's mail not held")
EOF
like 'qid=L3: outbreak: sender=<mallory@corp.example> tripped the breaker' \
    "$(cat "$MILTER_LOG")" "the third lure trips the breaker"

# Z2 (wait 2s, on_timeout keep): the sweep thread keeps it once it is
# due; wait for the counter, not for a time.
expired() {
	scrape "$T/e.txt" &&
	    check "$T/e.txt" 'lurewall_split_ppap_total{event=expired} == 1' \
	    >/dev/null
}
wait_for 60 expired
ok $? "the sweep thread expired Z2"
like "timed out: kept" "$(cat "$MILTER_LOG")" "and logged it"

scrape "$T/m1.txt"
ok $? "curl GET /metrics"
check "$T/m1.txt" \
    'type lurewall_password_tries counter' \
    'type lurewall_split_ppap counter' \
    'type lurewall_outbreak_trips counter' \
    'lurewall_password_successes_total{} == 2' \
    'lurewall_password_tries_total{} >= 2' \
    'lurewall_split_ppap_total{event=pending} == 2' \
    'lurewall_split_ppap_total{event=released} == 1' \
    'lurewall_split_ppap_total{event=expired} == 1' \
    'lurewall_outbreak_trips_total{} == 1' \
    'lurewall_messages_total{action=pending,direction=inbound} == 2' \
    'lurewall_state_up{backend=lmdb} == 1'
ok $? "passwords: 2 opened; split PPAP: 2 pending, 1 released, 1 expired; 1 trip"

out=$(bounded "$LUREWALL" stats -c "$T/conf/lurewall.yaml")
ok $? "lurewall stats"
like 'passwords +[0-9]+ tried, 2 opened an archive' "$out" "stats: passwords"
like 'split PPAP +2 pending, 1 released, 1 expired' "$out" "stats: split PPAP"
like 'outbreak trips +1' "$out" "stats: breaker trips"
done_testing
