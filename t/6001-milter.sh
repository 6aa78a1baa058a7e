#!/bin/sh
# 6001-milter: miltertest drives the real lurewall-milter over a unix
# socket: clean mail accepted unchanged, tag headers and subject prefix
# (RFC 2047 when not ASCII), forged X-Lurewall-* fields removed, reject
# with 550 5.7.1, Postfix hold without a quarantine dir, per-message
# reset on one connection and after abort, oversize and spilled mail.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=120

T=$(tmpdir 6001-milter)
lw_trap
LW_CONF_EXTRA='limits:
  message_bytes: 200000
  memory_body_bytes: 4096'
lw_conf "$T"
milter_start "$T" "unix:$T/milter.sock"

# [要注意] as one RFC 2047 B word, alone and with its trailing space
ENC="=?UTF-8?B?$(printf '[要注意]' | base64)?="
ENCSP="=?UTF-8?B?$(printf '[要注意] ' | base64)?="

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"
printf 'enc = "%s"\nencsp = "%s"\n' "$ENC" "$ENCSP"
cat <<'EOF'
-- connect, HELO, MAIL (with queue id macro), RCPT
function start(qid, conn)
	if conn == nil then
		conn = mt.connect(sock, 40, 0.25)
		check(conn ~= nil, "connect")
		check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil,
		    "conninfo")
		check(mt.getreply(conn) == SMFIR_CONTINUE, "connect reply")
		check(mt.helo(conn, "client.example") == nil, "helo")
	end
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<sender@example.org>") == nil, "mailfrom")
	check(mt.rcptto(conn, "<user@example.com>") == nil, "rcptto")
	return conn
end

-- header fields as Postfix sends them with HDR_LEADSPC: " value"
function message(conn, hdrs, body)
	for _, h in ipairs(hdrs) do
		check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	check(mt.eoh(conn) == nil, "eoh")
	if body ~= nil then
		check(mt.bodystring(conn, body) == nil, "body")
	end
	check(mt.eom(conn) == nil, "eom")
end

function std(subject)
	return {
		{"From", " Sender <sender@example.org>"},
		{"To", " user@example.com"},
		{"Date", " Tue, 22 Nov 2022 10:00:00 +0900"},
		{"Message-ID", " <" .. subject:gsub("%W", "") .. "@example.org>"},
		{"Subject", " " .. subject},
	}
end

function unchanged(conn)
	check(not mt.eom_check(conn, MT_HDRADD), "a header was added")
	check(not mt.eom_check(conn, MT_HDRINSERT), "a header was inserted")
	check(not mt.eom_check(conn, MT_HDRCHANGE), "a header was changed")
	check(not mt.eom_check(conn, MT_HDRDELETE), "a header was deleted")
	check(not mt.eom_check(conn, MT_QUARANTINE), "message was held")
end

function tagged(conn, rule)
	check(mt.getreply(conn) == SMFIR_ACCEPT, "tag: not accepted")
	local r = mt.getheader(conn, "X-Lurewall-Result", 0)
	check(r ~= nil and string.find(r, "^ ?tag score=%d+$"),
	    "X-Lurewall-Result: " .. tostring(r))
	local rules = mt.getheader(conn, "X-Lurewall-Rules", 0)
	check(rules ~= nil and string.find(rules, rule, 1, true),
	    "X-Lurewall-Rules: " .. tostring(rules))
end
EOF
} >"$T/prelude.lua"
MT_PRELUDE=$T/prelude.lua

mt_run clean "clean message accepted unchanged" <<'EOF'
local conn = start("CLEAN1")
check(mt.test_option(conn, SMFIP_HDR_LEADSPC), "HDR_LEADSPC not negotiated")
check(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS not requested")
check(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS not requested")
check(mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE not requested")
message(conn, std("Lunch on Friday"), "See you at noon.\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
unchanged(conn)
mt.disconnect(conn)
EOF

mt_run tag "tag: headers and encoded subject prefix" <<'EOF'
local conn = start("TAG1")
message(conn, std("please tagme now"), "Hello\r\n")
tagged(conn, "TEST_TAG")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " " .. enc .. " please tagme now"),
    "subject prefix not applied as " .. enc)
mt.disconnect(conn)
EOF

mt_run tag-encoded "tag: encoded subject keeps its form, space inside the prefix word" <<'EOF'
local conn = start("TAG2")
-- "tagme ok" as an encoded word; the rule sees the decoded subject
local subj = "=?UTF-8?B?dGFnbWUgb2s=?="
local h = std("x")
h[5] = {"Subject", " " .. subj}
message(conn, h, "Hello\r\n")
tagged(conn, "TEST_TAG")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " " .. encsp .. " " .. subj),
    "encoded subject not prefixed as expected")
mt.disconnect(conn)
EOF

mt_run tag-nosubject "tag: a message without Subject gets one" <<'EOF'
local conn = start("TAG3")
local h = std("x")
table.remove(h, 5)
message(conn, h, "this body says bodytagme\r\n")
tagged(conn, "TEST_BODY")
check(mt.eom_check(conn, MT_HDRADD, "Subject", " " .. enc),
    "no Subject added")
check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "Subject changed")
mt.disconnect(conn)
EOF

mt_run forged "forged X-Lurewall-* fields removed, clean mail otherwise untouched" <<'EOF'
local conn = start("FORGED1")
local h = std("Quarterly report")
table.insert(h, {"X-Lurewall-Result", " accept score=0"})
table.insert(h, {"x-lurewall-rules", " -"})
table.insert(h, {"X-LUREWALL-RESULT", " accept score=0"})
table.insert(h, {"X-Lurewall-Released", " forged-id forged-mac"})
message(conn, h, "numbers\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Lurewall-Result"), "Result kept")
check(mt.eom_check(conn, MT_HDRDELETE, "x-lurewall-rules"), "Rules kept")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Lurewall-Released"),
    "unverified Released kept")
check(not mt.eom_check(conn, MT_HDRADD), "a header was added")
mt.disconnect(conn)
EOF

mt_run reject "reject: 550 5.7.1 with the policy's text" <<'EOF'
local conn = start("REJ1")
message(conn, std("rejectme invoice"), "pay\r\n")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
    "Rejected by lurewall test policy"), "wrong reply")
mt.disconnect(conn)
EOF

mt_run hold "quarantine, then hold: stored and Postfix hold (smfi_quarantine)" <<'EOF'
local conn = start("HOLD1")
message(conn, std("quarme invoice"), "pay\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_QUARANTINE), "not held")
mt.disconnect(conn)
EOF

mt_run reset "one connection: tag, abort, clean: state reset between messages" <<'EOF'
local conn = start("SEQ1")
message(conn, std("tagme first"), "one\r\n")
tagged(conn, "TEST_TAG")
conn = start("SEQ2", conn)
check(mt.header(conn, "Subject", " tagme aborted") == nil, "header")
check(mt.abort(conn) == nil, "abort")
conn = start("SEQ3", conn)
message(conn, std("harmless third"), "three\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "third not accepted")
unchanged(conn)
mt.disconnect(conn)
EOF

mt_run spill "a body past memory_body_bytes is spilled and scanned" <<'EOF'
local conn = start("BIG1")
local body = string.rep("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n", 500)
message(conn, std("big clean"), body .. "bodytagme\r\n")
tagged(conn, "TEST_BODY")
mt.disconnect(conn)
EOF

mt_run oversize "a message past message_bytes: no crash, scanned as MIME_LIMIT" <<'EOF'
local conn = start("HUGE1")
local line = string.rep("x", 1000) .. "\r\n"
check(mt.header(conn, "Subject", " huge") == nil, "header")
check(mt.eoh(conn) == nil, "eoh")
for i = 1, 300 do
	check(mt.bodystring(conn, line) == nil, "body chunk " .. i)
end
check(mt.eom(conn) == nil, "eom")
tagged(conn, "MIME_LIMIT")
mt.disconnect(conn)
EOF

log=$(cat "$MILTER_LOG")
like 'qid=TAG1: from=<sender@example.org> rcpts=user@example.com size=[0-9]+ score=[0-9]+ action=tag rules=[^ ]*TEST_TAG[^ ]* scan_ms=[0-9]+' \
    "$log" "one key=value verdict line per message"
like 'qid=REJ1: .*action=reject' "$log" "reject logged with its qid"
like 'qid=FORGED1: removed 2 incoming X-Lurewall-Result' "$log" \
    "forged fields logged"
like 'qid=HUGE1: message exceeds message_bytes' "$log" "oversize logged"
is 11 "$(grep -c 'scan_ms=' "$MILTER_LOG")" \
    "exactly one verdict line per finished message"

milter_stop
ok $? "SIGTERM stops the daemon cleanly"
done_testing
