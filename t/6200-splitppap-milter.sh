#!/bin/sh
# 6200-splitppap-milter: split PPAP through the real daemon, driven by
# miltertest.  The corpus pair benign-02a/02b: the zip mail is held as
# pending (discarded, listed with its expiry), survives a daemon
# restart, a password mail from another sender does not unlock it, the
# right one releases it (through the submit command) with
# X-Lurewall-Result noting the delayed scan, and the released copy
# passes the milter again with that header.  A macro lure in a zip whose
# password follows stays held with OFFICE_VBA and its password mail is
# tagged.  Two password mails at once release one item once.  The
# pending item's record lives in the state (LMDB), not in files.  A
# password mail after the wait does not unlock; the sweep thread and
# `lurewall quarantine sweep` apply on_timeout.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-splitppap.sh"
BOUND=120

T=$(tmpdir 6200-splitppap-milter)
lw_trap
command -v zip >/dev/null || bail "zip not installed (contrib/install-deps)"

# A fake submission command: one file per message, argv first.
cat >"$T/submit" <<EOF
#!/bin/sh
f=$T/out/\$\$.\$(date +%s%N)
{ echo "ARGV: \$*"; cat; } >"\$f.tmp" && mv "\$f.tmp" "\$f.eml"
EOF
chmod +x "$T/submit"
mkdir -p "$T/out"
chown "$LW_MILTER_USER" "$T/out"	# the daemon (nobody) submits
LW_CONF_EXTRA="submit_command: $T/submit -f %f -- %r" lw_conf "$T" \
'split_password:
  wait: 30m
quarantine:
  then: discard'
cat >"$T/conf/policy.d/short.yaml" <<'EOF'
domains: [short.example]
split_password:
  wait: 2s
  on_timeout: keep
EOF
cat >"$T/conf/policy.d/tagged.yaml" <<'EOF'
domains: [late.example]
split_password:
  wait: 3s
EOF
milter_start "$T" "unix:$T/milter.sock"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }

cp "$LW_TOP/t/lib-mt-send.lua" "$T/prelude.lua"

# run NAME DESCRIPTION: the Lua body on stdin, after the prelude
run() {
	cat "$T/prelude.lua" - >"$T/$1.lua"
	out=$(bounded miltertest -D sock="unix:$T/milter.sock" \
	    -D dir="$T" -D corpus="$CORPUS" -s "$T/$1.lua" 2>&1)
	rc=$?
	ok $rc "$2"
	[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
}

# json_ids STATE: ids of items in that state, one a line
json_ids() {
	QL list --json | grep "\"state\": *\"$1\"" |
	    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p'
}
outs() { find "$T/out" -name '*.eml' | sort; }

A=$CORPUS/messages/benign-02a-ppap-aes-xlsx.eml
B=$CORPUS/messages/benign-02b-ppap-password-mail.eml
SND=yamada@torihiki.example.ne.jp
RCP=sato@example.co.jp

# --- the corpus pair
run hold "02a: the zip mail is held as pending and discarded" <<EOF
local conn = send("$A", "Q02A", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
like "qid=Q02A: .*action=pending .*state=pending expires=" \
    "$(cat "$MILTER_LOG")" "logged as pending with its expiry"
id=$(json_ids pending)
ok $([ -n "$id" ] && [ "$(echo "$id" | wc -l)" -eq 1 ]; echo $?) \
    "list --json: one pending item"
j=$(QL list --json)
like '"expires": *"[0-9]{4}-' "$j" "list --json: expires"
like '"rules": *\["ARCHIVE_PASSWORD_UNKNOWN"' "$j" "list --json: its rule"
like "\[pending until " "$(COLUMNS=200 QL list)" "list: pending until ..."
like "state: +pending" "$(QL show "$id")" "show: state pending"
skeys() { mdb_dump -p "$T/conf/state" | grep -c "^ pending:[^:]*:$1\$"; }
is 1 "$(skeys "$id")" "its record in the state (LMDB)"
ok $([ ! -e "$T/conf/quarantine/pending" ]; echo $?) "no pending/ markers"

sed 's/^ <yamada@torihiki.example.ne.jp>/ <mallory@evil.example>/' "$B" \
    >"$T/other.eml"
grep -q mallory "$T/other.eml" || bail "other.eml: From not rewritten"
run other "a password mail from another sender does not unlock" <<EOF
local conn = send("$T/other.eml", "QOTHER", "mallory@evil.example", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
is "$id" "$(json_ids pending)" "still pending"
is "" "$(outs)" "nothing submitted"

milter_stop
milter_start "$T" "unix:$T/milter.sock"
is "$id" "$(json_ids pending)" "pending after a daemon restart"

run unlock "02b from the same sender: accepted, the held zip released" <<EOF
local conn = send("$B", "Q02B", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(not mt.eom_check(conn, MT_HDRADD, "X-Lurewall-Result"),
    "the password mail was tagged")
mt.disconnect(conn)
EOF
is "$id" "$(json_ids released)" "the item is released"
o=$(outs)
is 1 "$(echo "$o" | grep -c .)" "submitted once"
m=$(cat $o 2>/dev/null)
like "^ARGV: -f $SND -- $RCP\$" "$m" "to the original recipient, from the original sender"
like "X-Lurewall-Released: $id; " "$m" "with X-Lurewall-Released"
like "X-Lurewall-Result: accept score=[0-9]+ rules=[A-Z_,]+ delayed-scan=password-mail" \
    "$m" "with X-Lurewall-Result noting the delayed scan"
like "qid=Q02B: split PPAP: quarantine_id=$id opened .*released" \
    "$(cat "$MILTER_LOG")" "logged"
like "ARCHIVE_PASSWORD_IN_MESSAGE" "$(QL show "$id" --findings)" \
    "the item now has the findings of the opened zip"
is 0 "$(skeys "$id")" "its record gone from the state"

# The released copy through the milter again (as Postfix's pickup would).
sed '1d' "$o" >"$T/released.eml"
run repass "the released copy passes with its X-Lurewall-Result" <<EOF
local conn = send("$T/released.eml", "QREL", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_HDRADD, "X-Lurewall-Result"),
    "no X-Lurewall-Result added")
local r = mt.getheader(conn, "X-Lurewall-Result", 0)
check(r ~= nil and string.find(r, "delayed-scan=password-mail", 1, true),
    "X-Lurewall-Result: " .. tostring(r))
mt.disconnect(conn)
EOF
like "qid=QREL: .*action=accept .*released=yes" "$(cat "$MILTER_LOG")" \
    "logged as released, not held again"
unlike "qid=QREL: removed 0 incoming" "$(cat "$MILTER_LOG")" \
    "the kept release field is not logged as a removal of none"

run again "02b once more: nothing left to release" <<EOF
local conn = send("$B", "Q02B2", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
is 1 "$(outs | grep -c .)" "still submitted once"

# --- a lure: a macro document in a zip, its password in the next mail
cp "$CORPUS/files/SimpleMacro.docm" "$T/report.docm"
(cd "$T" && zip -q -P Kx7pQ2mZ lure.zip report.docm) || bail "zip failed"
mk_zipmail "$T/lure1.eml" lure1@partner.example "$T/lure.zip"
mk_pwmail "$T/lure2.eml" lure2@partner.example lure1@partner.example Kx7pQ2mZ
run lure-hold "lure: the zip mail is pending" <<EOF
local conn = send("$T/lure1.eml", "QLURE1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
lid=$(json_ids pending)
ok $([ -n "$lid" ]; echo $?) "lure: pending"
run lure-pw "lure: its password mail is tagged as part of the lure" <<EOF
local conn = send("$T/lure2.eml", "QLURE2", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = mt.getheader(conn, "X-Lurewall-Rules", 0)
check(r ~= nil and string.find(r, "SPLIT_PASSWORD_LURE", 1, true),
    "X-Lurewall-Rules: " .. tostring(r))
check(mt.getheader(conn, "X-Lurewall-Result", 0) ~= nil, "no X-Lurewall-Result")
mt.disconnect(conn)
EOF
s=$(QL show "$lid")
like "state: +held" "$s" "lure: the item stays held"
like "rules: .*OFFICE_VBA" "$s" "lure: with OFFICE_VBA from inside the zip"
is 1 "$(outs | grep -c .)" "lure: nothing submitted"

# --- two password mails at once: one release
printf 'Minutes of the meeting.\n' >"$T/note.txt"
(cd "$T" && zip -q -P Qw3rTy9z clean.zip note.txt) || bail "zip failed"
mk_zipmail "$T/c1.eml" conc1@partner.example "$T/clean.zip"
mk_pwmail "$T/c2.eml" conc2@partner.example conc1@partner.example Qw3rTy9z
run conc-hold "a clean zip mail is pending" <<EOF
local conn = send("$T/c1.eml", "QC1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
cid=$(json_ids pending)
ok $([ -n "$cid" ]; echo $?) "clean zip pending"
for n in 1 2 3; do
	cat "$T/prelude.lua" - >"$T/conc$n.lua" <<EOF
local conn = send("$T/c2.eml", "QC2$n", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
	bounded miltertest -D sock="unix:$T/milter.sock" -s "$T/conc$n.lua" \
	    >"$T/conc$n.out" 2>&1 &
	eval "cpid$n=\$!"
done
wait $cpid1 $cpid2 $cpid3
is 2 "$(outs | grep -c .)" "three password mails at once: one more release"
is "$cid" "$(json_ids released | grep -x "$cid")" "the item is released"

# --- after the wait: no unlock; the sweep thread applies on_timeout
mk_zipmail "$T/s1.eml" short1@partner.example "$T/clean.zip"
sed -i 's/^To: .*/To: bob@short.example/' "$T/s1.eml"
run short-hold "a zip for short.example (wait 2s, on_timeout keep)" <<EOF
local conn = send("$T/s1.eml", "QS1", "billing@partner.example", "bob@short.example")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
sid=$(json_ids pending)
ok $([ -n "$sid" ]; echo $?) "short: pending"
sleep 3
mk_pwmail "$T/s2.eml" short2@partner.example short1@partner.example Qw3rTy9z
run short-late "its password mail after the wait" <<EOF
local conn = send("$T/s2.eml", "QS2", "billing@partner.example", "bob@short.example")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
wait_for 10 sh -c "'$LUREWALL' -c '$T/conf/lurewall.yaml' quarantine show $sid | grep -q 'state: *held'"
ok $? "the sweep thread kept it (on_timeout keep)"
is 2 "$(outs | grep -c .)" "short: not released"
like "quarantine_id=$sid timed out: kept" "$(cat "$MILTER_LOG")" \
    "the timeout is logged"

# release-tagged by the sweep thread (wait 3s)
mk_zipmail "$T/l1.eml" late1@partner.example "$T/clean.zip"
run late-hold "a zip for late.example (wait 3s, release-tagged)" <<EOF
local conn = send("$T/l1.eml", "QL1", "billing@partner.example", "carol@late.example")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
wait_for 15 sh -c "[ \$(find '$T/out' -name '*.eml' | wc -l) -ge 3 ]"
ok $? "the sweep thread released it after the wait"
m=$(cat $(outs | xargs ls -t | head -1))
like "X-Lurewall-Result: tag score=[0-9]+ rules=.*ARCHIVE_PASSWORD_UNKNOWN.* delayed-scan=timeout" \
    "$m" "tagged: the zip could not be opened"

# `lurewall quarantine sweep --now`: release-tagged by hand
mk_zipmail "$T/h1.eml" hand1@partner.example "$T/clean.zip"
run hand-hold "a zip for the default policy (wait 30m)" <<EOF
local conn = send("$T/h1.eml", "QH1", "billing@partner.example", "dave@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
hid=$(json_ids pending)
out=$(QL sweep 2>&1)
like "^0 pending items timed out" "$out" "sweep now: nothing expired"
out=$(QL sweep --now +1h 2>&1)
like "quarantine_id=$hid timed out: released \(on_timeout release-tagged\)" \
    "$out" "sweep --now +1h: released"
is released "$(QL list --json | grep "\"$hid\"" | sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p')" \
    "state released"
is 4 "$(outs | grep -c .)" "submitted"
out=$(QL sweep --now +2h 2>&1)
like "^0 pending items timed out" "$out" "a second sweep does nothing"
QL sweep --now yesterday >/dev/null 2>&1
is 2 $? "sweep: bad --now is a usage error"
done_testing
