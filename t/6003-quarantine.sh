#!/bin/sh
# 6003-quarantine: lurewall-milter with a quarantine_dir: a quarantine
# verdict is stored, then discarded, rejected (the policy's own DSN
# code) or held as each recipient domain's policy says; the CLI lists
# the stored items with their rules; a store that cannot be written
# answers tempfail, never accept or discard.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6003-quarantine)
lw_trap
lw_conf "$T"
cat >"$T/conf/policy.d/discard.test.yaml" <<'EOF'
domains: [discard.test]
quarantine:
  then: discard
EOF
cat >"$T/conf/policy.d/reject.test.yaml" <<'EOF'
domains: [reject.test]
reject_text: "5.7.0 Held and refused by lurewall"
quarantine:
  then: reject
EOF
# Not root while it runs, so a read-only store really is read-only.
milter_start "$T" "unix:$T/milter.sock" -u nobody
Q=$T/conf/quarantine
is "nobody 700" "$(stat -c '%U %a' "$Q")" \
    "a missing quarantine dir is created 0700 for the user"

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
function send(rcpt, subject)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conn")
	check(mt.helo(conn, "client.example") == nil, "helo")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<sender@example.org>") == nil, "mailfrom")
	check(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcptto")
	check(mt.header(conn, "From", " Sender <sender@example.org>") == nil, "h")
	check(mt.header(conn, "To", " " .. rcpt) == nil, "h")
	check(mt.header(conn, "Message-ID", " <" .. qid .. "@example.org>") == nil, "h")
	check(mt.header(conn, "Date", " Tue, 22 Nov 2022 10:00:00 +0900") == nil, "h")
	check(mt.header(conn, "Subject", " " .. subject) == nil, "h")
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, "Please see the invoice.\r\n") == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	return conn
end
EOF
} >"$T/prelude.lua"
mt() {	# mt NAME QID: the Lua body (stdin) after the prelude
	cat "$T/prelude.lua" - >"$T/$1.lua"
	bounded miltertest -D sock="unix:$T/milter.sock" -D qid="$2" \
	    -s "$T/$1.lua" 2>&1
}
items() {
	bounded "$LUREWALL" quarantine list --json -c "$T/conf/lurewall.yaml"
}

out=$(mt discard Q1 <<'EOF'
local conn = send("user@discard.test", "quarme invoice")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
EOF
)
ok $? "then: discard: stored and discarded"; [ -z "$out" ] || diag "$out"
list=$(items)
like '"rules":.*TEST_QUAR' "$list" "the CLI lists the item with its rule"
like '"from": *"sender@example.org"' "$list" "with its envelope sender"
is 1 "$(printf '%s\n' "$list" | grep -c .)" "exactly one item"

out=$(mt reject Q2 <<'EOF'
local conn = send("user@reject.test", "quarme invoice")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.0",
    "Held and refused by lurewall"), "wrong reply")
EOF
)
ok $? "then: reject: 550 with the policy's own 5.7.0"
[ -z "$out" ] || diag "$out"

out=$(mt hold Q3 <<'EOF'
local conn = send("user@example.com", "quarme invoice")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_QUARANTINE), "not held")
EOF
)
ok $? "then: hold: stored and smfi_quarantine"; [ -z "$out" ] || diag "$out"
is 3 "$(items | grep -c .)" "three items stored"
log=$(cat "$MILTER_LOG")
like 'qid=Q1: .*action=quarantine .*then=discard quarantine_id=[^ ]+' "$log" \
    "verdict line names the quarantine item"

# A store that cannot be written: tempfail.
chmod 0500 "$Q"
find "$Q" -mindepth 1 -maxdepth 1 -type d -exec chmod 0500 {} +
out=$(mt fail Q4 <<'EOF'
local conn = send("user@example.com", "quarme invoice")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
    "lurewall: temporary failure, please try again later"), "not 451")
EOF
)
ok $? "read-only quarantine: tempfail"; [ -z "$out" ] || diag "$out"
like 'qid=Q4: quarantine store failed' "$(cat "$MILTER_LOG")" \
    "store failure logged"
chmod -R u+w "$Q"

milter_stop
done_testing
