#!/bin/sh
# 6260-outbound-two-mx: two lurewall-milter instances (two "hosts")
# share their state on one real redis-server (127.0.0.1, a free port,
# an ACL user limited to lurewall:* keys, stopped by PID).  Three lures
# of one sender spread over both trip the breaker; the other host holds
# the sender's next mail too and lists it; a clear on one host frees it
# on both.  Redis killed mid-run: each host counts on in its local LMDB
# state (a sender still trips), the outage is logged once, inbound mail
# is unaffected, and after a restart the milters count in Redis again
# without a restart of their own.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=180

T=$(tmpdir 6260-outbound-two-mx)
redis_trap

RPORT=$(free_port)
redis_up "$T" "$RPORT" two-mx-pw

POLICY='thresholds: {tag: 5, quarantine: 10, reject: 50}
quarantine: {then: hold}
outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, action: quarantine}'
for h in mx1 mx2; do
	LW_CONF_EXTRA="outbound_daemon_names: [ORIGINATING]
state:
  backend: redis
  redis: {host: 127.0.0.1, port: $RPORT, username: lurewall, password: two-mx-pw, timeout: 1s}"
	lw_conf "$T/$h" "$POLICY"
done
MX1=unix:$T/mx1/milter.sock MX2=unix:$T/mx2/milter.sock
milter_start "$T/mx1" "$MX1"
M1_PID=$MILTER_PID M1_LOG=$MILTER_LOG
milter_start "$T/mx2" "$MX2"
M2_PID=$MILTER_PID M2_LOG=$MILTER_LOG
MILTER_PID=

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
-- one message through {daemon_name} (ORIGINATING: outbound)
function send(qid, daemon, from, rcpt, lure)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", daemon)
	check(mt.conninfo(conn, "client.example", "203.0.113.5") == nil,
	    "conninfo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect reply")
	check(mt.helo(conn, "client.example") == nil, "helo")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<" .. from .. ">") == nil, "mailfrom")
	check(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcptto")
	local hdrs = {
		{"From", " <" .. from .. ">"},
		{"To", " <" .. rcpt .. ">"},
		{"Date", " Tue, 22 Nov 2022 10:00:00 +0900"},
		{"Message-ID", " <" .. qid .. "@corp.example>"},
		{"Subject", " invoice " .. qid},
		{"MIME-Version", " 1.0"},
		{"Content-Type", " multipart/mixed; boundary=\"BB\""},
	}
	for _, h in ipairs(hdrs) do
		check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	check(mt.eoh(conn) == nil, "eoh")
	local body = "--BB\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	if lure then
		body = body .. "--BB\r\nContent-Type: application/octet-stream;" ..
		    " name=\"invoice.vbs\"\r\nContent-Disposition: attachment;" ..
		    " filename=\"invoice.vbs\"\r\n\r\n" ..
		    "Set s = CreateObject(\"WScript.Shell\")\r\n" ..
		    "s.Run \"calc.exe\"\r\n"
	end
	body = body .. "--BB--\r\n"
	check(mt.bodystring(conn, body) == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	return conn
end
EOF
} >"$T/prelude.lua"
MT_PRELUDE=$T/prelude.lua

cli() { h=$1; shift; bounded "$LUREWALL" -c "$T/$h/conf/lurewall.yaml" "$@"; }

mt_run -s "$MX1" l1 "mx1: lure 1 of mallory is discarded, flowing" <<'EOF'
reply(send("L1", "ORIGINATING", "mallory@corp.example", "p1@partner.example",
    true), SMFIR_DISCARD, "lure 1 not discarded")
EOF
mt_run -s "$MX2" l2 "mx2: lure 2 of mallory is discarded, flowing" <<'EOF'
reply(send("L2", "ORIGINATING", "mallory@corp.example", "p2@partner.example",
    true), SMFIR_DISCARD, "lure 2 not discarded")
EOF
unlike 'outbreak' "$(cat "$M2_LOG")" "two lures: nobody tripped yet"
mt_run -s "$MX1" l3 "mx1: lure 3 of mallory" <<'EOF'
reply(send("L3", "ORIGINATING", "mallory@corp.example", "p3@partner.example",
    true), SMFIR_DISCARD, "lure 3 not discarded")
EOF
like 'qid=L3: outbreak: sender=<mallory@corp.example> tripped the breaker: reason=lures lures=3' \
    "$(cat "$M1_LOG")" "mx1: the third lure over two hosts trips the breaker"
mt_run -s "$MX2" h1 "mx2: mallory's clean mail is held there too" <<'EOF'
reply(send("H1", "ORIGINATING", "mallory@corp.example", "p4@partner.example",
    false), SMFIR_DISCARD, "clean mail of a tripped sender not held")
reply(send("C1", "ORIGINATING", "alice@corp.example", "p4@partner.example",
    false), SMFIR_ACCEPT, "another sender's mail not accepted")
EOF
like 'qid=H1: .*outbreak=held sender=<mallory@corp.example> reason=lures' \
    "$(cat "$M2_LOG")" "mx2 says why it held it"
like 'mallory@corp.example' "$(cli mx2 outbreak list)" \
    "outbreak list on mx2 shows the sender tripped on mx1"
cli mx2 outbreak clear mallory@corp.example >/dev/null
ok $? "outbreak clear on mx2"
mt_run -s "$MX1" c2 "mx1: after the clear on mx2, mallory's mail flows on mx1" <<'EOF'
reply(send("C2", "ORIGINATING", "mallory@corp.example", "p5@partner.example",
    false), SMFIR_ACCEPT, "cleared sender not accepted")
EOF

# Redis dies mid-run: each host counts on alone in its local state.
redis_down
mt_run -s "$MX1" down "redis down: mx1 counts bob's lures locally and trips" <<'EOF'
for i = 1, 3 do
	reply(send("D" .. i, "ORIGINATING", "bob@corp.example",
	    "p" .. i .. "@partner.example", true), SMFIR_DISCARD,
	    "outbound lure without redis not discarded")
end
reply(send("D4", "smtpd", "someone@outside.example", "bob@corp.example",
    false), SMFIR_ACCEPT, "inbound mail not accepted")
EOF
like 'qid=D3: outbreak: sender=<bob@corp.example> tripped the breaker' \
    "$(cat "$M1_LOG")" "redis down: the breaker still trips on one host"
is 1 "$(grep -c 'state: redis unavailable' "$M1_LOG")" \
    "the outage is logged once, not per message"
redis_up "$T" "$RPORT" two-mx-pw
# The backoff is at most 5 s: within 20 s mx2 counts in redis again.
rkeys() {
	redis-cli -p "$RPORT" --user lurewall --pass two-mx-pw \
	    --no-auth-warning --scan --pattern 'lurewall:outbreak:*' | wc -l
}
n=0
while [ "$(rkeys)" -eq 0 ] && [ $n -lt 20 ]; do
	cat "$T/prelude.lua" - >"$T/up.lua" <<'EOF'
reply(send("U1", "ORIGINATING", "carol@corp.example", "p7@partner.example",
    true), SMFIR_DISCARD, "lure not discarded")
EOF
	bounded miltertest -D sock="$MX2" -s "$T/up.lua" \
	    >/dev/null 2>&1
	n=$((n + 1))
	sleep 1
done
ok $([ "$(rkeys)" -ge 1 ]; echo $?) \
    "redis back: the milters count in it again without a restart"
done_testing
