#!/bin/sh
# 6202-splitppap-two-mx: split PPAP across two hosts.  Two
# lurewall-milter instances (mx1, mx2: state.host_name) share their
# state on one real redis-server (127.0.0.1, a free port, an ACL user
# limited to lurewall:* keys, stopped by PID), driven by miltertest.
#   - the corpus pair benign-02a/02b: the zip through mx1 is held
#     pending, its password mail through mx2 releases it exactly once,
#     through mx2's submit command (mx1 submits nothing), and mx1 then
#     removes its local copy; the released copy passes mx1 unscanned
#     once (its release-once marker: mx1 cannot verify mx2's HMAC) and
#     is scanned on a second pass through mx2 (released=replayed);
#   - a macro lure in a zip through mx1, its password mail through mx2:
#     the password mail is tagged SPLIT_PASSWORD_LURE on mx2, the lure
#     stays held on mx1 with OFFICE_VBA from inside the zip, nothing is
#     submitted anywhere;
#   - a pending item deleted by hand on mx1 is not opened by its
#     password mail on mx2;
#   - a zip held on mx1 while Redis is down goes back into Redis once
#     it returns (a sweep), and its password mail on mx2 releases it.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-splitppap.sh"
BOUND=180

T=$(tmpdir 6202-splitppap-two-mx)
redis_trap

command -v zip >/dev/null || bail "zip not installed (contrib/install-deps)"
RPORT=$(free_port)
redis_up "$T" "$RPORT" two-mx-pw

for h in mx1 mx2; do
	# A fake submission command per host: one file per message.
	mkdir -p "$T/$h/out"
	chown "$LW_MILTER_USER" "$T/$h/out"
	cat >"$T/$h/submit" <<EOF
#!/bin/sh
f=$T/$h/out/\$\$.\$(date +%s%N)
{ echo "ARGV: \$*"; cat; } >"\$f.tmp" && mv "\$f.tmp" "\$f.eml"
EOF
	chmod +x "$T/$h/submit"
	LW_CONF_EXTRA="submit_command: $T/$h/submit -f %f -- %r
state:
  backend: redis
  host_name: $h
  redis: {host: 127.0.0.1, port: $RPORT, username: lurewall, password: two-mx-pw, timeout: 1s}"
	lw_conf "$T/$h" 'split_password:
  wait: 30m
quarantine:
  then: discard'
done
MX1=unix:$T/mx1/milter.sock MX2=unix:$T/mx2/milter.sock
milter_start "$T/mx1" "$MX1"
M1_PID=$MILTER_PID M1_LOG=$MILTER_LOG
milter_start "$T/mx2" "$MX2"
M2_PID=$MILTER_PID M2_LOG=$MILTER_LOG
MILTER_PID=

cp "$LW_TOP/t/lib-mt-send.lua" "$T/prelude.lua"

QL() { h=$1; shift; bounded "$LUREWALL" -c "$T/$h/conf/lurewall.yaml" quarantine "$@"; }
json_ids() {	# json_ids HOST STATE
	QL "$1" list --json --host "$1" | grep "\"state\": *\"$2\"" |
	    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p'
}
outs() { find "$T/$1/out" -name '*.eml' | sort; }

A=$CORPUS/messages/benign-02a-ppap-aes-xlsx.eml
B=$CORPUS/messages/benign-02b-ppap-password-mail.eml
SND=yamada@torihiki.example.ne.jp
RCP=sato@example.co.jp

# --- the corpus pair: the zip on mx1, the password on mx2
mt_run -s "$MX1" pa "02a through mx1: held pending (discarded)" <<EOF
local conn = send("$A", "Q02A", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
id=$(json_ids mx1 pending)
ok $([ -n "$id" ] && [ "$(echo "$id" | wc -l)" -eq 1 ]; echo $?) \
    "mx1: one pending item"
mt_run -s "$MX2" pb "02b through mx2: accepted, not tagged" <<EOF
local conn = send("$B", "Q02B", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(not mt.eom_check(conn, MT_HDRADD, "X-Lurewall-Result"),
    "the password mail was tagged")
mt.disconnect(conn)
EOF
like "qid=Q02B: split PPAP: quarantine_id=$id of mx1 opened with this mail's password: .*released" \
    "$(cat "$M2_LOG")" "mx2 opened mx1's item and says so"
is 1 "$(outs mx2 | grep -c .)" "released exactly once, by mx2"
is 0 "$(outs mx1 | grep -c .)" "mx1 submitted nothing"
o=$(outs mx2)
m=$(cat $o 2>/dev/null)
like "^ARGV: -f $SND -- $RCP\$" "$m" "to the original recipient, from the original sender"
like "X-Lurewall-Released: $id; " "$m" "with X-Lurewall-Released naming mx1's item"
like "X-Lurewall-Result: accept score=[0-9]+ rules=[A-Z_,]+ delayed-scan=password-mail" \
    "$m" "and X-Lurewall-Result noting the delayed scan"
wait_for 30 sh -c "! '$LUREWALL' -c '$T/mx1/conf/lurewall.yaml' quarantine show $id >/dev/null 2>&1"
ok $? "mx1 removed its local copy"
# The log line follows the removal: wait for it, do not race it.
wait_for 30 grep -qE "quarantine_id=$id released by mx2 \(password mail qid Q02B\): local copy removed" "$M1_LOG"
ok $? "mx1 logs why"

mt_run -s "$MX2" pb2 "02b once more through mx2: nothing left" <<EOF
local conn = send("$B", "Q02B2", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
mt_run -s "$MX1" pb3 "and through mx1" <<EOF
local conn = send("$B", "Q02B3", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
is 10 "$(outs mx2 | grep -c .)$(outs mx1 | grep -c .)" "still one release in all (mx2: 1, mx1: 0)"

# The released copy: once unscanned (on mx1), then a replay (on mx2).
sed '1d' "$o" >"$T/released.eml"
mt_run -s "$MX1" rel1 "the released copy passes mx1 with its X-Lurewall-Result" <<EOF
local conn = send("$T/released.eml", "QREL1", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = mt.getheader(conn, "X-Lurewall-Result", 0)
check(r ~= nil and string.find(r, "delayed-scan=password-mail", 1, true),
    "X-Lurewall-Result: " .. tostring(r))
mt.disconnect(conn)
EOF
like "qid=QREL1: .*action=accept .*released=yes" "$(cat "$M1_LOG")" \
    "mx1 knows mx2's release (by its marker)"
mt_run -s "$MX2" rel2 "a second pass through mx2 is scanned" <<EOF
local conn = send("$T/released.eml", "QREL2", "$SND", "$RCP")
check(mt.getreply(conn) == SMFIR_DISCARD, "not judged again")
mt.disconnect(conn)
EOF
like "qid=QREL2: .*released=replayed" "$(cat "$M2_LOG")" \
    "mx2 logs it as a replay"

# --- a lure: a macro document in a zip, its password in the next mail
cp "$CORPUS/files/SimpleMacro.docm" "$T/report.docm"
(cd "$T" && zip -q -P Kx7pQ2mZ lure.zip report.docm) || bail "zip failed"
mk_zipmail "$T/lure1.eml" lure1@partner.example "$T/lure.zip"
mk_pwmail "$T/lure2.eml" lure2@partner.example lure1@partner.example Kx7pQ2mZ
mt_run -s "$MX1" l1 "lure: the zip mail through mx1 is pending" <<EOF
local conn = send("$T/lure1.eml", "QLURE1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
lid=$(json_ids mx1 pending)
ok $([ -n "$lid" ]; echo $?) "lure: pending on mx1"
mt_run -s "$MX2" l2 "lure: its password mail through mx2 is tagged" <<EOF
local conn = send("$T/lure2.eml", "QLURE2", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = mt.getheader(conn, "X-Lurewall-Rules", 0)
check(r ~= nil and string.find(r, "SPLIT_PASSWORD_LURE", 1, true),
    "X-Lurewall-Rules: " .. tostring(r))
mt.disconnect(conn)
EOF
wait_for 30 sh -c "'$LUREWALL' -c '$T/mx1/conf/lurewall.yaml' quarantine show $lid | grep -q 'state: *held'"
ok $? "lure: kept on mx1 (held)"
s=$(QL mx1 show "$lid")
like "rules: .*OFFICE_VBA" "$s" "lure: with OFFICE_VBA from inside the zip"
like "reason: .*opened with the password from a later mail \(qid QLURE2 on mx2\)" "$s" "lure: its reason says where it was opened"
like "quarantine_id=$lid opened on mx2 with the password of mail qid QLURE2" \
    "$(cat "$M1_LOG")" "lure: mx1 logs it"
is 10 "$(outs mx2 | grep -c .)$(outs mx1 | grep -c .)" "lure: nothing submitted anywhere"

# --- deleted by hand on mx1: mx2 no longer opens it
printf 'Minutes of the meeting.\n' >"$T/note.txt"
(cd "$T" && zip -q -P Qw3rTy9z clean.zip note.txt) || bail "zip failed"
mk_zipmail "$T/d1.eml" del1@partner.example "$T/clean.zip"
mk_pwmail "$T/d2.eml" del2@partner.example del1@partner.example Qw3rTy9z
mt_run -s "$MX1" d1 "a clean zip mail through mx1 is pending" <<EOF
local conn = send("$T/d1.eml", "QDEL1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
did=$(json_ids mx1 pending)
ok $([ -n "$did" ]; echo $?) "pending on mx1"
like "deleted $did" "$(QL mx1 delete "$did")" "deleted by hand on mx1"
mt_run -s "$MX2" d2 "its password mail through mx2" <<EOF
local conn = send("$T/d2.eml", "QDEL2", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
unlike "qid=QDEL2: split PPAP" "$(cat "$M2_LOG")" "mx2 opens nothing"
is 10 "$(outs mx2 | grep -c .)$(outs mx1 | grep -c .)" "a deleted item is never sent"

# --- held while Redis was away: back in Redis, opened on mx2
redis_down
mk_zipmail "$T/o1.eml" out1@partner.example "$T/clean.zip"
mk_pwmail "$T/o2.eml" out2@partner.example out1@partner.example Qw3rTy9z
mt_run -s "$MX1" o1 "redis down: a zip mail through mx1 is still held pending" <<EOF
local conn = send("$T/o1.eml", "QOUT1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
oid=$(json_ids mx1 pending)
ok $([ -n "$oid" ]; echo $?) "pending on mx1 (in its local state)"
redis_up "$T" "$RPORT" two-mx-pw
like "0 pending items timed out" "$(QL mx1 sweep 2>&1)" \
    "redis back: a sweep on mx1 puts it back in redis"
# mx2 reconnects within its backoff (at most 5 s): retry until then.
n=0
while [ "$(outs mx2 | grep -c .)" -lt 2 ] && [ $n -lt 20 ]; do
	cat "$T/prelude.lua" - >"$T/o2.lua" <<EOF
local conn = send("$T/o2.eml", "QOUT2", "billing@partner.example", "alice@example.com")
mt.disconnect(conn)
EOF
	bounded miltertest -D sock="$MX2" -s "$T/o2.lua" \
	    >/dev/null 2>&1
	n=$((n + 1))
	[ "$(outs mx2 | grep -c .)" -ge 2 ] || sleep 1
done
is 20 "$(outs mx2 | grep -c .)$(outs mx1 | grep -c .)" \
    "its password mail on mx2 released it, once"
like "X-Lurewall-Released: $oid; " "$(cat $(outs mx2 | xargs ls -t | head -1))" \
    "the item held during the outage"
done_testing
