#!/bin/sh
# 6203-splitppap-reopen: through the real daemon (miltertest, the
# default LMDB state).
#   - a lure quarantined outright (a subject rule is already enough)
#     whose zip nobody could open is re-opened when its password comes
#     in a second mail: `quarantine show` lists the findings of its
#     contents (OFFICE_VBA) in place of ARCHIVE_PASSWORD_UNKNOWN, its
#     reason says re-opened, it stays quarantined, the daemon logs it,
#     and the password mail is tagged SPLIT_PASSWORD_LURE; a second
#     password mail re-opens nothing;
#   - migration: a store from before the state (a pending item with its
#     pending/ marker, no state) is moved into the state at the next
#     start, and its password mail releases it once.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-splitppap.sh"
BOUND=120

T=$(tmpdir 6203-splitppap-reopen)
lw_trap
command -v zip >/dev/null || bail "zip not installed (contrib/install-deps)"
command -v mdb_dump >/dev/null || bail "mdb_dump missing: contrib/install-deps (lmdb-utils)"

cat >"$T/submit" <<EOF
#!/bin/sh
f=$T/out/\$\$.\$(date +%s%N)
{ echo "ARGV: \$*"; cat; } >"\$f.tmp" && mv "\$f.tmp" "\$f.eml"
EOF
chmod +x "$T/submit"
mkdir -p "$T/out"
chown "$LW_MILTER_USER" "$T/out"
LW_CONF_EXTRA="submit_command: $T/submit -f %f -- %r" lw_conf "$T" \
'thresholds: {tag: 5, quarantine: 10, reject: 1000}
split_password: {wait: 30m}
quarantine: {then: discard}
rules:
  - name: TEST_URGENT
    where: subject
    pattern: URGENT
    score: 20'
milter_start "$T" "unix:$T/milter.sock"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }
outs() { find "$T/out" -name '*.eml' | sort; }

# --- a lure quarantined outright, re-opened by its password mail
cp "$CORPUS/files/SimpleMacro.docm" "$T/report.docm"
(cd "$T" && zip -q -P Kx7pQ2mZ lure.zip report.docm) || bail "zip failed"
mk_zipmail "$T/lure1.eml" lure1@partner.example "$T/lure.zip" \
    "URGENT documents"
mk_pwmail "$T/lure2.eml" lure2@partner.example lure1@partner.example Kx7pQ2mZ
mt_run q1 "the lure is quarantined outright (discarded)" <<EOF
local conn = send("$T/lure1.eml", "QLURE1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
like "qid=QLURE1: .*action=quarantine .*then=discard quarantine_id=" \
    "$(cat "$MILTER_LOG")" "logged as quarantined, not pending"
id=$(QL list --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
ok $([ -n "$id" ] && [ "$(echo "$id" | wc -l)" -eq 1 ]; echo $?) "one item"
s=$(QL show "$id")
like "rules: .*ARCHIVE_PASSWORD_UNKNOWN" "$s" "its zip could not be opened"
unlike "OFFICE_VBA" "$s" "what it holds is unknown"
mt_run pw "its password mail is accepted, tagged SPLIT_PASSWORD_LURE" <<EOF
local conn = send("$T/lure2.eml", "QLURE2", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = mt.getheader(conn, "X-Lurewall-Rules", 0)
check(r ~= nil and string.find(r, "SPLIT_PASSWORD_LURE", 1, true),
    "X-Lurewall-Rules: " .. tostring(r))
check(mt.getheader(conn, "X-Lurewall-Result", 0) ~= nil, "no X-Lurewall-Result")
mt.disconnect(conn)
EOF
s=$(QL show "$id")
like "rules: .*OFFICE_VBA" "$s" "show: the item gained its contents' findings"
like "OFFICE_VBA +2/docs.zip/report.docm" "$s" "show: found inside the zip"
unlike "ARCHIVE_PASSWORD_UNKNOWN" "$s" "show: the zip is no longer unopened"
like "reason: +archive re-opened with the password from a later mail \(qid QLURE2\): quarantine" \
    "$s" "show: its reason says re-opened"
like "score: +[0-9]+ \(quarantine\)" "$s" "show: it stays quarantined"
like "released: +no" "$s" "show: not released"
like '"rules": *\[[^]]*"OFFICE_VBA"' "$(QL list --json)" \
    "list --json: the metadata is updated"
like "qid=QLURE2: split PPAP: quarantine_id=$id re-opened with this mail's password: quarantine score=[0-9]+ rules=.*OFFICE_VBA.*: stays quarantined with its contents' findings; this mail is tagged" \
    "$(cat "$MILTER_LOG")" "the daemon logs it"
mt_run pw2 "a second password mail re-opens nothing" <<EOF
local conn = send("$T/lure2.eml", "QLURE3", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
local r = mt.getheader(conn, "X-Lurewall-Rules", 0)
check(r == nil or not string.find(r, "SPLIT_PASSWORD_LURE", 1, true),
    "tagged again: " .. tostring(r))
mt.disconnect(conn)
EOF
is 0 "$(outs | grep -c .)" "nothing submitted"

# --- migration: a pending item of a store from before the state
printf 'Minutes of the meeting.\n' >"$T/note.txt"
(cd "$T" && zip -q -P Qw3rTy9z clean.zip note.txt) || bail "zip failed"
mk_zipmail "$T/c1.eml" old1@partner.example "$T/clean.zip" Minutes
mk_pwmail "$T/c2.eml" old2@partner.example old1@partner.example Qw3rTy9z
mt_run c1 "a clean zip mail is held pending" <<EOF
local conn = send("$T/c1.eml", "QOLD1", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_DISCARD, "not discarded")
mt.disconnect(conn)
EOF
pid=$(QL list --json | grep '"state": *"pending"' |
    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
ok $([ -n "$pid" ]; echo $?) "pending"
skeys() { mdb_dump -p "$T/conf/state" | grep -c "^ pending:[^:]*:$1\$"; }
is 1 "$(skeys "$pid")" "its record is in the state"
milter_stop
# What the store looked like before the state: a marker, no database.
rm -rf "$T/conf/state"
mkdir "$T/conf/quarantine/pending"
: >"$T/conf/quarantine/pending/$pid"
chown -R "$LW_MILTER_USER" "$T/conf/quarantine/pending"
milter_start "$T" "unix:$T/milter.sock"
wait_for 20 sh -c "grep -q 'pending item(s) moved from' '$MILTER_LOG'"
ok $? "the daemon's first start moves it"
like "split PPAP: 1 pending item\(s\) moved from .*/quarantine/pending into the state" \
    "$(cat "$MILTER_LOG")" "and logs how many"
ok $([ ! -e "$T/conf/quarantine/pending" ]; echo $?) "pending/ is gone"
is 1 "$(skeys "$pid")" "its record is in the state again"
mt_run c2 "its password mail releases it" <<EOF
local conn = send("$T/c2.eml", "QOLD2", "billing@partner.example", "alice@example.com")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
mt.disconnect(conn)
EOF
is 1 "$(outs | grep -c .)" "submitted once"
like "X-Lurewall-Released: $pid; " "$(cat $(outs))" "the migrated item"
like "qid=QOLD2: split PPAP: quarantine_id=$pid opened .*released" \
    "$(cat "$MILTER_LOG")" "logged"
done_testing
