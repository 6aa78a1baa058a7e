#!/bin/sh
# 6006-negotiate: what lurewall-milter asks of the MTA, checked with
# miltertest against the real daemon.  An MTA that offers everything
# (Postfix, Sendmail 8.14+) is told not to send DATA and unknown
# commands and not to wait for any reply before end of message, body
# chunks included (so no SKIP, a reply): a message past message_bytes
# is read whole (the copy cut at the limit) and gets its verdict
# (MIME_LIMIT) at end of message.  An MTA that offers none of it
# (protocol version 2, no HDR_LEADSPC) gets a reply to every step from
# libmilter, the whole body, and the same verdict.  Many distinct forged X-Lurewall-* names
# are each deleted.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=120

T=$(tmpdir 6006-negotiate)
lw_trap
LW_CONF_EXTRA='limits:
  message_bytes: 4k
  memory_body_bytes: 4k'
lw_conf "$T"
milter_start "$T" "unix:$T/milter.sock"

{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
LIMIT = 4096
CHUNK = string.rep("x", 1000) .. "\r\n"

-- negotiate with PROT (nil: all miltertest knows), then the envelope
function start(qid, prot)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	if prot ~= nil then
		check(mt.negotiate(conn, 2, prot, nil) == nil, "negotiate")
	end
	check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil,
	    "conninfo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect reply")
	check(mt.helo(conn, "client.example") == nil, "helo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "helo reply")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<sender@example.org>") == nil, "mailfrom")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "mail reply")
	check(mt.rcptto(conn, "<user@example.com>") == nil, "rcptto")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt reply")
	return conn
end

-- Subject (miltertest adds the leading space when HDR_LEADSPC was
-- negotiated, lurewall when not), end of header fields; the bytes the
-- milter's copy holds so far
function head(conn, subject)
	check(mt.header(conn, "Subject", subject) == nil, "header")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "header reply")
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "eoh reply")
	return #"Subject: " + #subject + 4
end

-- body chunks until n sent or the milter says SKIP; the chunk it did
function body(conn, held, n)
	for i = 1, n do
		check(mt.bodystring(conn, CHUNK) == nil, "body chunk " .. i)
		held = held + #CHUNK
		local r = mt.getreply(conn)
		if r == SMFIR_SKIP then
			return i, held
		end
		check(r == SMFIR_CONTINUE, "body reply " .. i)
	end
	return nil, held
end

-- n body chunks to a milter that does not reply to them
function body_noreply(conn, n)
	for i = 1, n do
		check(mt.bodystring(conn, CHUNK) == nil, "body chunk " .. i)
	end
end

-- the chunk that first carries the copy past LIMIT
function crossing(held)
	local i = 1
	while held + i * #CHUNK <= LIMIT do
		i = i + 1
	end
	return i
end

function limit_tagged(conn)
	check(mt.eom(conn) == nil, "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
	local rules = mt.getheader(conn, "X-Lurewall-Rules", 0)
	check(rules ~= nil and string.find(rules, "MIME_LIMIT", 1, true),
	    "X-Lurewall-Rules: " .. tostring(rules))
end
EOF
} >"$T/prelude.lua"
MT_PRELUDE=$T/prelude.lua

mt_run flags "an MTA offering everything: the flags lurewall asks for" <<'EOF'
local conn = start("FLAGS1")
for _, f in ipairs({ {SMFIP_NR_CONN, "NR_CONN"}, {SMFIP_NR_HELO, "NR_HELO"},
    {SMFIP_NR_MAIL, "NR_MAIL"}, {SMFIP_NR_RCPT, "NR_RCPT"},
    {SMFIP_NR_DATA, "NR_DATA"}, {SMFIP_NR_UNKN, "NR_UNKN"},
    {SMFIP_NR_HDR, "NR_HDR"}, {SMFIP_NR_EOH, "NR_EOH"},
    {SMFIP_NR_BODY, "NR_BODY"},
    {SMFIP_NODATA, "NODATA"}, {SMFIP_NOUNKNOWN, "NOUNKNOWN"},
    {SMFIP_HDR_LEADSPC, "HDR_LEADSPC"} }) do
	check(mt.test_option(conn, f[1]), f[2] .. " not requested")
end
-- no reply before end of message, so no SKIP; every step we use is sent
for _, f in ipairs({ {SMFIP_SKIP, "SKIP"},
    {SMFIP_NOCONNECT, "NOCONNECT"}, {SMFIP_NOHELO, "NOHELO"},
    {SMFIP_NOMAIL, "NOMAIL"}, {SMFIP_NORCPT, "NORCPT"},
    {SMFIP_NOHDRS, "NOHDRS"}, {SMFIP_NOEOH, "NOEOH"},
    {SMFIP_NOBODY, "NOBODY"}, {SMFIP_RCPT_REJ, "RCPT_REJ"} }) do
	check(not mt.test_option(conn, f[1]), f[2] .. " requested")
end
check(mt.test_action(conn, SMFIF_ADDHDRS), "ADDHDRS not requested")
check(mt.test_action(conn, SMFIF_CHGHDRS), "CHGHDRS not requested")
check(mt.test_action(conn, SMFIF_QUARANTINE), "QUARANTINE not requested")
-- no stray reply: the end-of-message reply is the verdict's
head(conn, "please tagme")
check(mt.bodystring(conn, "Hello\r\n") == nil, "body")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_HDRADD, "X-Lurewall-Result"), "not tagged")
mt.disconnect(conn)
EOF

mt_run nrbody "past message_bytes, no body replies: read whole, a verdict" <<'EOF'
local conn = start("NRB1")
local held = head(conn, "huge nr")
body_noreply(conn, crossing(held) + 3)
limit_tagged(conn)
mt.disconnect(conn)
EOF

# Protocol version 2 steps only (SMFI_V2_PROT, 0x7f: miltertest has no
# name for it): no NR_*, NODATA, SKIP, HDR_LEADSPC.
mt_run old "an MTA offering nothing new: a reply to each step, no SKIP" <<'EOF'
local conn = start("OLD1", 0x7f)
for _, f in ipairs({ {SMFIP_NR_CONN, "NR_CONN"}, {SMFIP_NR_HDR, "NR_HDR"},
    {SMFIP_NR_EOH, "NR_EOH"}, {SMFIP_NODATA, "NODATA"},
    {SMFIP_SKIP, "SKIP"}, {SMFIP_HDR_LEADSPC, "HDR_LEADSPC"} }) do
	check(not mt.test_option(conn, f[1]), f[2] .. " not offered, asked")
end
check(mt.data(conn) == nil, "data")
check(mt.getreply(conn) == SMFIR_CONTINUE, "data reply")
local held = head(conn, "huge old")
local at = body(conn, held, crossing(held) + 3)
check(at == nil, "SKIP to an MTA that did not offer it")
limit_tagged(conn)
mt.disconnect(conn)
EOF

mt_run forged "2,000 forged X-Lurewall-* names, each deleted" <<'EOF'
local conn = start("MANY1")
for i = 1, 2000 do
	check(mt.header(conn, "X-Lurewall-Junk" .. i, "x") == nil, "header")
	if i == 1000 then
		check(mt.header(conn, "X-LUREWALL-RESULT", "accept") == nil,
		    "result")
	end
end
check(mt.header(conn, "X-Lurewall-Result", "accept") == nil, "result 2")
check(mt.header(conn, "Subject", "many") == nil, "subject")
check(mt.eoh(conn) == nil, "eoh")
-- the header fields alone pass message_bytes: the body is dropped
body_noreply(conn, 1)
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
for _, n in ipairs({"X-Lurewall-Junk1", "X-Lurewall-Junk1000",
    "X-Lurewall-Junk2000", "X-LUREWALL-RESULT"}) do
	check(mt.eom_check(conn, MT_HDRDELETE, n), n .. " kept")
end
mt.disconnect(conn)
EOF

log=$(cat "$MILTER_LOG")
like 'qid=MANY1: removed 2 incoming X-LUREWALL-RESULT field' "$log" \
    "both spellings counted as one name, the first spelling logged"
is 2000 "$(grep -c 'qid=MANY1: removed 1 incoming X-Lurewall-Junk[0-9]* ' \
    "$MILTER_LOG")" "each forged name removed once"
like 'qid=NRB1: message exceeds message_bytes' "$log" "oversize logged"
# The copy is cut at 4096 either way; the size logged is what came.
like 'qid=OLD1: from=<sender@example.org> .*size=8037 ' "$log" \
    "no SKIP: size is the whole message"
like 'qid=NRB1: from=<sender@example.org> .*size=8036 ' "$log" \
    "NR_BODY: size is the whole message"
like 'qid=NRB1: .*rules=[^ ]*MIME_LIMIT' "$log" "NR_BODY: MIME_LIMIT"
like 'qid=OLD1: .*rules=[^ ]*MIME_LIMIT' "$log" "no SKIP: MIME_LIMIT"
unlike 'internal error|tempfail' "$log" "no internal error"

milter_stop
ok $? "SIGTERM stops the daemon cleanly"
done_testing
