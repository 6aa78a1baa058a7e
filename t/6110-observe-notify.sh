#!/bin/sh
# 6110-observe-notify: the day-one features through miltertest and the
# real daemon.  Observe mode (policy mode: observe, then -O): a lure is
# delivered unchanged but for X-Lurewall-Result: would-quarantine and
# X-Lurewall-Rules, stored flagged observed (quarantine list --observed),
# no notice sent.  Enforced after `lurewall reload`: discarded, the
# recipient and the admin get a notice through submit_command and the
# on_quarantine_command hook runs (no shell); a notice fed back is
# recognised and passed unscanned, a tampered one is scanned.
# tag.always_header: clean mail says "accept score=0".  allow: a
# partner's domain with a DKIM pass from our authserv-id passes, the
# same without it is quarantined; the log says allowed=NAME.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6110-observe-notify)
lw_trap
mkdir -p "$T/out" "$T/hook"
chmod 0777 "$T/out" "$T/hook"
cat >"$T/fake-sendmail" <<EOF
#!/bin/sh
# submit_command stand-in: one file per mail, its arguments beside it
n=\$(date +%s%N)
cat >"$T/out/\$n.tmp"
echo "\$*" >"$T/out/\$n.args"
mv "$T/out/\$n.tmp" "$T/out/\$n.eml"
EOF
cat >"$T/hook.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/hook/\$1"
EOF
chmod 0755 "$T/fake-sendmail" "$T/hook.sh"

LW_CONF_EXTRA="authserv_id: mx.example.co.jp
submit_command: $T/fake-sendmail -f %f -- %r
on_quarantine_command: $T/hook.sh %i %a %s x%qx %r
pidfile: run/m.pid"
policy() {	# policy MODE
	cat <<EOF
mode: $1
thresholds: {tag: 50, quarantine: 400, reject: 800}
tag: {subject_prefix: "[SUSPICIOUS]", headers: true, always_header: true}
quarantine: {then: discard}
notify:
  recipients: true
  admin: sec@example.com
  from: postmaster@example.com
allow:
  - name: partner
    sender_domain: partner.example.net
    verified: dkim
    skip: all
rules:
  - {name: TEST_QUAR, where: subject, pattern: quarme, score: 500}
EOF
}
lw_conf "$T" "$(policy observe)"
milter_start "$T" "unix:$T/milter.sock"

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
function send(qid, from, hdrs, body)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conninfo")
	check(mt.helo(conn, "client.example") == nil, "helo")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<" .. from .. ">") == nil, "mailfrom")
	check(mt.rcptto(conn, "<user@example.com>") == nil, "rcptto")
	for _, h in ipairs(hdrs) do
		check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, body or "hello\r\n") == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	return conn
end
function std(subject, from)
	return {
		{"From", " " .. (from or "sender@example.org")},
		{"To", " user@example.com"},
		{"Date", " Tue, 22 Nov 2022 10:00:00 +0900"},
		{"Message-ID", " <" .. subject:gsub("%W", "") .. "@example.org>"},
		{"Subject", " " .. subject},
	}
end
function result(conn)
	return mt.getheader(conn, "X-Lurewall-Result", 0)
end
EOF
} >"$T/prelude.lua"
MT_PRELUDE=$T/prelude.lua
Q() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }

# --- observe
mt_run observe "observe: a lure is delivered, X-Lurewall-Result says would-quarantine" <<'EOF'
local conn = send("OBS1", "sender@example.org", std("quarme now"))
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = result(conn)
check(r ~= nil and string.find(r, "^ ?would%-quarantine score=500$"), "result " .. tostring(r))
local rules = mt.getheader(conn, "X-Lurewall-Rules", 0)
check(rules ~= nil and string.find(rules, "TEST_QUAR", 1, true), "rules")
check(not mt.eom_check(conn, MT_HDRCHANGE), "the subject was changed")
check(not mt.eom_check(conn, MT_QUARANTINE), "the MTA was told to hold it")
EOF
like 'qid=OBS1: .*action=quarantine .*mode=observe delivered=yes' \
    "$(cat "$MILTER_LOG")" "the log says what enforcement would do"
l=$(Q list --observed --json)
is 1 "$(printf '%s\n' "$l" | grep -c '"observed":true')" \
    "quarantine list --observed shows the kept copy"
OID=$(printf '%s\n' "$l" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1)
like '^mode: +observed' "$(Q show "$OID")" "show says observed"
sleep 1
is 0 "$(ls "$T/out" | wc -l)" "observe sends no notice"
mt_run clean "always_header: clean mail says accept score=0" <<'EOF'
local conn = send("CLEAN1", "sender@example.org", std("hello"))
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = result(conn)
check(r ~= nil and string.find(r, "^ ?accept score=0$"), "result " .. tostring(r))
EOF

# --- enforce, after a reload
lw_conf "$T" "$(policy enforce)"
out=$(bounded "$LUREWALL" reload -c "$T/conf/lurewall.yaml" 2>&1)
ok $? "lurewall reload switches to enforce"
mt_run enforce "enforce: the lure is quarantined and discarded" <<'EOF'
local conn = send("ENF1", "sender@example.org", std("quarme again"))
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
EOF
wait_for 10 sh -c "[ \$(ls '$T/out' | grep -c 'eml$') -ge 2 ]"
ok $? "two notices submitted"
EID=$(sed -n 's/.*qid=ENF1: .*quarantine_id=\([^ ]*\).*/\1/p' "$MILTER_LOG")
ok $([ -n "$EID" ]; echo $?) "the log names the item ($EID)"
rn=$(grep -l '^To: user@example.com' "$T"/out/*.eml)
an=$(grep -l '^To: sec@example.com' "$T"/out/*.eml)
ok $([ -n "$rn" ] && [ -n "$an" ]; echo $?) "one to the recipient, one to the admin"
is "-f  -- user@example.com" "$(cat "${rn%.eml}.args")" \
    "submitted with the null sender to the recipient"
like '^X-Lurewall-Notice: [0-9]+; [0-9a-f]{64}$' "$(grep '^X-Lurewall-Notice' "$rn")" \
    "marked with X-Lurewall-Notice"
body=$(sed '1,/^$/d' "$rn" | base64 -d 2>/dev/null)
like "$EID" "$body" "the notice names the item"
like 'quarme again' "$body" "and the subject"
wait_for 10 test -s "$T/hook/$EID"
is "$EID discard 500 xENF1x user@example.com" \
    "$(tr '\n' ' ' <"$T/hook/$EID" 2>/dev/null | sed 's/ $//')" \
    "on_quarantine_command ran with its arguments"

# the notice, fed back through the milter: passed unscanned
{
	echo 'local h = {}'
	sed '/^$/q' "$rn" | grep -v '^$' | grep -v '^ ' |
	while IFS= read -r line; do
		n=${line%%:*}; v=${line#*:}
		printf 'table.insert(h, {"%s", "%s"})\n' "$n" "$v"
	done
} >"$T/notice-hdrs.lua"
{ cat "$T/notice-hdrs.lua"; cat <<'EOF'
table.insert(h, {"Subject", " quarme in a notice"})
local conn = send("NOT1", "", h)
check(mt.getreply(conn) == SMFIR_ACCEPT, "our notice was not accepted")
EOF
} >"$T/notice-body.lua"
mt_run notice "our own notice is accepted" <"$T/notice-body.lua"
like 'qid=NOT1: .*action=accept.*notice=yes' "$(cat "$MILTER_LOG")" \
    "recognised as our notice, not scanned"
sed -e 's/"Message-ID", " </"Message-ID", " <x/' "$T/notice-hdrs.lua" \
    >"$T/forged-hdrs.lua"
{ cat "$T/forged-hdrs.lua"; cat <<'EOF'
table.insert(h, {"Subject", " quarme in a forged notice"})
local conn = send("NOT2", "", h)
check(mt.getreply(conn) == SMFIR_DISCARD, "a forged notice passed")
EOF
} >"$T/forged-body.lua"
mt_run forged "a notice with another Message-ID is scanned (and held)" \
    <"$T/forged-body.lua"

# --- allow: a partner's domain with a DKIM pass from our MTA
mt_run allow "allow: the partner's DKIM-signed mail passes" <<'EOF'
local h = std("quarme from the partner", "taro@partner.example.net")
table.insert(h, 1, {"Received", " from mail.partner.example.net by mx.example.co.jp"})
table.insert(h, 1, {"Authentication-Results", " mx.example.co.jp; dkim=pass header.d=partner.example.net header.s=s1"})
local conn = send("ALW1", "bounce@partner.example.net", h)
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = result(conn)
check(r ~= nil and string.find(r, "^ ?accept score=0$"), "result " .. tostring(r))
EOF
like 'qid=ALW1: .*action=accept.*allowed=partner' "$(cat "$MILTER_LOG")" \
    "the log says allowed=partner"
mt_run noallow "allow: the same without the DKIM pass is quarantined" <<'EOF'
local h = std("quarme from the partner", "taro@partner.example.net")
local conn = send("ALW2", "bounce@partner.example.net", h)
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
EOF
unlike 'qid=ALW2: .*allowed=' "$(cat "$MILTER_LOG")" "no allowed= without it"

# --- -O: observe whatever the policy says
milter_stop
milter_start "$T" "unix:$T/milter.sock" -O
mt_run dasho "-O: an enforcing policy only observes" <<'EOF'
local conn = send("OBS2", "sender@example.org", std("quarme with -O"))
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = result(conn)
check(r ~= nil and string.find(r, "^ ?would%-quarantine"), "result " .. tostring(r))
EOF
is 2 "$(Q list --observed --json | grep -c '"observed":true')" \
    "both observed copies are listed"
done_testing
