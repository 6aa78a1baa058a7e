#!/bin/sh
# 6250-outbound-milter: miltertest drives lurewall-milter with the
# macros that make mail outbound: {auth_authen} and {daemon_name}.  A
# lure-like outbound message is stored and discarded and logged as
# outbound; clean outbound mail flows; the same lure inbound is judged
# by the recipient policy as before (Postfix hold) and counts nothing;
# three lures trip the sender (LOG_CRIT line, alert_command with a
# hostile login as one literal argument), its next clean message is
# held, `lurewall outbreak list` shows it, `clear` lets it flow again;
# a policy with action tempfail answers 451 4.7.1.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=120

T=$(tmpdir 6250-outbound-milter)
lw_trap
# The daemon runs as nobody: what its alert command writes (and what a
# shell injection would touch) goes where nobody can write.
W=$T/out
mkdir -p "$W"
chown "$LW_MILTER_USER" "$W"
cat >"$T/alert.sh" <<EOF
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done >"$W/alert.tmp"
mv "$W/alert.tmp" "$W/alert.out"
EOF
chmod 755 "$T/alert.sh"
LW_CONF_EXTRA="outbound_daemon_names: [ORIGINATING]
internal_networks: [10.9.0.0/16, \"2001:db8:9::/48\"]
alert_command: $T/alert.sh %s %r %l %n %a"
lw_conf "$T" 'thresholds: {tag: 5, quarantine: 10, reject: 50}
quarantine: {then: hold}
outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, action: quarantine}'
cat >"$T/conf/policy.d/slow.yaml" <<'EOF'
domains: [tempfail.example]
outbound: {action: tempfail}
EOF
milter_start "$T" "unix:$T/milter.sock"
HOSTILE="x\"; \$(touch $W/pwned) 'y' ;"

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
-- one message: client ip, {daemon_name}, {auth_authen}, sender, body
function send(qid, ip, daemon, auth, from, rcpt, lure)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	if daemon ~= nil then
		mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", daemon)
	end
	check(mt.conninfo(conn, "client.example", ip) == nil, "conninfo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect reply")
	check(mt.helo(conn, "client.example") == nil, "helo")
	if auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", auth)
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
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

function discarded(conn)
	check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
	mt.disconnect(conn)
end

function accepted(conn)
	check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	check(not mt.eom_check(conn, MT_QUARANTINE), "held")
	mt.disconnect(conn)
end
EOF
} >"$T/prelude.lua"
MT_PRELUDE=$T/prelude.lua

nq() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine list |
    tail -n +2 | wc -l | tr -d ' '; }
log() { cat "$MILTER_LOG"; }

mt_run auth-lure "{auth_authen}: a lure is discarded" <<'EOF'
discarded(send("AL1", "203.0.113.5", nil, "alice", "alice@corp.example",
    "p@partner.example", true))
EOF
like 'qid=AL1: from=<alice@corp.example> .*action=quarantine .*direction=outbound then=discard quarantine_id=[^ ]+ lure=FILE_SCRIPT sender=<alice>' \
    "$(log)" "logged as outbound with its quarantine id"
is 1 "$(nq)" "the outbound lure is in the quarantine"

mt_run auth-clean "{auth_authen}: clean mail flows" <<'EOF'
accepted(send("AC1", "203.0.113.5", nil, "alice", "alice@corp.example",
    "p@partner.example", false))
EOF
like 'qid=AC1: .*action=accept .*direction=outbound' "$(log)" \
    "clean outbound mail logged as outbound"

mt_run daemon-lure "{daemon_name} ORIGINATING: a lure is discarded" <<'EOF'
discarded(send("DL1", "203.0.113.5", "ORIGINATING", nil,
    "bob@corp.example", "p@partner.example", true))
EOF
mt_run net-lure "internal network (IPv6): a lure is discarded" <<'EOF'
discarded(send("NL1", "2001:db8:9::7", nil, nil,
    "net@corp.example", "p@partner.example", true))
EOF

mt_run inbound "inbound: the same lure is held by the recipient policy" <<'EOF'
local conn = send("IN1", "203.0.113.5", "smtpd", nil,
    "lure@outside.example", "alice@corp.example", true)
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_QUARANTINE), "not held")
mt.disconnect(conn)
EOF
like 'qid=IN1: .*action=quarantine .*then=hold' "$(log)" \
    "inbound lure: quarantine, then hold, as the policy says"
unlike 'qid=IN1: .*direction=outbound' "$(log)" "inbound is not outbound"
mt_run inbound2 "inbound lures do not trip anything" <<'EOF'
for i = 2, 4 do
	local conn = send("IN" .. i, "203.0.113.5", nil, nil,
	    "lure@outside.example", "alice@corp.example", true)
	check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	mt.disconnect(conn)
end
EOF
unlike 'outside' "$(bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" outbreak \
    list --json)" "an inbound sender is never listed"

mt_run trip "three lures from a hostile login trip the breaker" \
    -D hostile="$HOSTILE" <<'EOF'
for i = 1, 3 do
	discarded(send("HL" .. i, "203.0.113.5", nil, hostile,
	    "mallory@corp.example", "p" .. i .. "@partner.example", true))
end
EOF
like 'qid=HL3: outbreak: sender=<x"; \$\(touch .*pwned\) .y. ;> tripped the breaker: reason=lures lures=3' \
    "$(log)" "LOG_CRIT line names the sender and the reason"
wait_for 10 test -f "$W/alert.out"
printf '%s\nlures\n3\n3\nquarantine\n' "$HOSTILE" >"$T/alert.want"
cmp -s "$T/alert.want" "$W/alert.out"
ok $? "alert_command got sender, reason, counts, action as literal arguments"
ok $([ ! -e "$W/pwned" ]; echo $?) "no shell interpreted the login"

mt_run held "the tripped sender's clean mail is held; others flow" \
    -D hostile="$HOSTILE" <<'EOF'
discarded(send("HC1", "203.0.113.5", nil, hostile, "mallory@corp.example",
    "p1@partner.example", false))
accepted(send("OC1", "203.0.113.5", nil, "alice", "alice@corp.example",
    "p1@partner.example", false))
EOF
like 'qid=HC1: .*action=quarantine .*direction=outbound then=discard quarantine_id=[^ ]+ outbreak=held sender=<x".*> reason=lures' \
    "$(log)" "held line says which sender and why"
out=$(bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" outbreak list)
like 'lures +3 +[0-9]+ +2  x"; \$\(touch' "$out" "outbreak list shows the sender"
out=$(bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" outbreak list --json)
like '"reason":"lures","lures":3' "$out" "outbreak list --json"
bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" outbreak clear "$HOSTILE" \
    >/dev/null
ok $? "outbreak clear"
bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" outbreak clear "$HOSTILE" \
    >/dev/null 2>&1
is 1 "$?" "a second clear: not tripped (exit 1)"
mt_run cleared "after clear the sender's mail flows without a restart" \
    -D hostile="$HOSTILE" <<'EOF'
accepted(send("HC2", "203.0.113.5", nil, hostile, "mallory@corp.example",
    "p1@partner.example", false))
EOF

mt_run tempfail "outbound.action tempfail: 451 4.7.1 once tripped" <<'EOF'
for i = 1, 3 do
	discarded(send("TL" .. i, "10.9.1.1", nil, nil,
	    "carol@tempfail.example", "p@partner.example", true))
end
local conn = send("TC1", "10.9.1.1", nil, nil, "carol@tempfail.example",
    "p@partner.example", false)
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1",
    "lurewall: mail of this sender is held, please contact your administrator"),
    "451 4.7.1")
mt.disconnect(conn)
EOF
like 'qid=TC1: .*action=tempfail .*direction=outbound outbreak=held sender=<carol@tempfail.example>' \
    "$(log)" "tempfail logged with the sender"
done_testing
