#!/bin/sh
# 6270-learn-milter: the learned signs end to end (issue 18), with the
# shipped default policy and no list in it (no staff_names, no
# correspondents, no domains).  t/lib-learn.py generates an
# organisation's history (2,000 outbound messages from 50 accounts to
# 500 correspondents over six simulated months) and the inbound mail to
# judge.  Before the history, nothing learned fires: no thread, no name,
# no first contact on an empty store.  The history goes through
# lurewall-milter as outbound mail ({auth_authen}), as the daemon learns
# it; then every hijack variant is quarantined (a stolen thread answered
# from a new domain, by reference and by subject + quoted author; a
# correspondent's name from a new domain; a colleague's name from
# outside; a first contact with an archive left closed; an outbound lure
# the daemon stopped teaches nothing), a hijacked
# thread without payload is tagged, and genuine replies (AW: too, and
# with a PPAP zip), a partner from its second known domain, a
# first-contact inquiry and a stranger with a common name are accepted.
# `lurewall scan -c FILE` reads the same store read-only and judges
# every inbound message exactly as the daemon did.  The daemon writes
# what it learns in batches: the inbound mail waits (polled) until the
# history is written, and what it learned last is in the store after
# it stops.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=300
command -v miltertest >/dev/null || bail "no miltertest"
command -v zip >/dev/null || bail "no zip"

T=$(tmpdir 6270-learn-milter)
lw_trap
lw_conf "$T" "$(cat "$LW_TOP/conf/policy.d/default.yaml")"
(cd "$T" && printf 'Rechnung 2026\n' > invoice.txt &&
    zip -q -P Zq8-secret locked.zip invoice.txt) || bail "zip"
bounded python3 "$LW_TOP/t/lib-learn.py" "$T/gen" "$T/locked.zip" \
    2>"$T/gen.log"
ok $? "generated the history and the inbound mail: $(cat "$T/gen.log")"
is 2000 "$(ls "$T/gen/out" | wc -l | tr -d ' ')" "2000 outbound messages"
milter_start "$T" "unix:$T/milter.sock"

cat >"$T/prelude.lua" <<'EOF'
check = assert

-- One message of lib-learn.py's tables; its reply as a word.
function send(m, qid)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	check(mt.conninfo(conn, "client.example", "203.0.113.5") == nil,
	    "conninfo")
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect reply")
	check(mt.helo(conn, "client.example") == nil, "helo")
	if m.auth ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", m.auth)
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
	check(mt.mailfrom(conn, "<" .. m.from .. ">") == nil, "mailfrom")
	for _, r in ipairs(m.rcpts) do
		check(mt.rcptto(conn, "<" .. r .. ">") == nil, "rcptto")
	end
	for _, h in ipairs(m.hdrs) do
		check(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
	end
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, m.body) == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	local r = mt.getreply(conn)
	mt.disconnect(conn)
	if r == SMFIR_ACCEPT or r == SMFIR_CONTINUE then
		return "accept"
	elseif r == SMFIR_DISCARD then
		return "discard"
	end
	return "other"
end
EOF

run() {	# run NAME DESCRIPTION < lua: the script's echo lines in $T/NAME.out
	cat "$T/prelude.lua" - >"$T/$1.lua"
	bounded miltertest -D sock="unix:$T/milter.sock" -D gen="$T/gen" \
	    -s "$T/$1.lua" >"$T/$1.out" 2>&1
	rc=$?
	ok $rc "$2"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T/$1.out" | tail -5
}
logline() { grep "qid=$1: from=" "$MILTER_LOG" | tail -1; }
rules_of() { logline "$1" | sed -n 's/.* rules=\([^ ]*\) .*/\1/p'; }
LEARNED='HDR_THREAD_HIJACK|HDR_KNOWN_THREAD|HDR_FIRST_CONTACT|HDR_DISPLAY_NAME_SPOOF|HDR_INTERNAL_NAME_EXTERNAL'

# --- An empty store: nothing learned, nothing fires.
run empty "the inbound mail before any history" <<'EOF'
dofile(gen .. "/inbound.lua")
for _, m in ipairs(I) do
	mt.echo(m.qid .. " " .. send(m, "pre-" .. m.qid))
end
EOF
n=0
while read -r c _; do
	r=$(rules_of "pre-$c")
	printf '%s\n' "$r" | grep -Eq "$LEARNED" && { n=$((n + 1));
	    diag "pre-$c: $r"; }
done <"$T/gen/cases"
is 0 "$n" "on an empty store no learned sign fires"

# --- The history, as the daemon learns it: outbound, accepted.
run history "2000 outbound messages through the daemon" <<'EOF'
dofile(gen .. "/history.lua")
local bad = 0
for _, m in ipairs(H) do
	if send(m, m.qid) ~= "accept" then
		bad = bad + 1
	end
end
mt.echo("not accepted: " .. bad)
EOF
like 'not accepted: 0' "$(cat "$T/history.out")" "every history message flowed"
is 2000 "$(grep -c 'direction=outbound.* learned=outbound' "$MILTER_LOG")" \
    "every one was learned as outbound"

# The daemon writes what it learns in batches (LEARN_BATCH_MSGS
# messages or a second a write): the inbound mail waits for the last.
learned() {	# learned outbound|replies: what learn stats counts
	bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" learn stats |
	    awk -v w="$1" '$1 == "messages" { print (w == "outbound" ? $2 : $4) }'
}
history_written() { [ "$(learned outbound)" = 2000 ]; }
wait_for 120 history_written
ok $? "the daemon wrote all 2000 within its batch interval"
# --- An outbound lure is stopped and teaches nothing.
run outlure "an outbound lure" <<'EOF'
dofile(gen .. "/outlure.lua")
mt.echo("OL1 " .. send(O[1], "OL1"))
EOF
like '^OL1 discard' "$(cat "$T/outlure.out")" "the outbound lure is discarded"
unlike 'learned=' "$(logline OL1)" "and not learned"

# --- The inbound mail.
run inbound "the inbound mail after the history" <<'EOF'
dofile(gen .. "/inbound.lua")
for _, m in ipairs(I) do
	mt.echo(m.qid .. " " .. send(m, m.qid))
end
EOF
has() {	# has LIST RULE: RULE in the comma-separated LIST
	case ",$1," in *",$2,"*) return 0 ;; esac
	return 1
}
while read -r c want must mustnot; do
	got=$(sed -n "s/^$c //p" "$T/inbound.out")
	act=$(logline "$c" | sed -n 's/.* action=\([^ ]*\) .*/\1/p')
	r=$(rules_of "$c")
	case $want in
	quarantine) w=discard ;;
	*) w=accept ;;
	esac
	is "$want $w" "$act $got" "$c: $want ($r)"
	for x in $(printf '%s' "$must" | tr ',' ' '); do
		[ "$x" = - ] && continue
		has "$r" "$x"
		ok $? "$c: $x fires"
	done
	for x in $(printf '%s' "$mustnot" | tr ',' ' '); do
		[ "$x" = - ] && continue
		! has "$r" "$x"
		ok $? "$c: no $x"
	done
done <"$T/gen/cases"
like 'qid=ok-reply: .* learned=reply' "$(logline ok-reply)" \
    "a genuine reply extends its thread"
like 'HDR_DISPLAY_NAME_SPOOF .*learned from [0-9]+ messages to s[0-9]@p[0-9]+' \
    "$(bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" scan \
    "$T/gen/in/hij-corrname.eml")" \
    "the detail says where the name was learned"

# --- lurewall scan -c FILE: the same store, read-only, the same verdicts.
while read -r c _; do
	out=$(bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" scan --json \
	    --rcpt "$(sed -n 's/^To: .*<\(.*\)>.*/\1/p' "$T/gen/in/$c.eml")" \
	    "$T/gen/in/$c.eml")
	sa=$(printf '%s' "$out" | sed -n 's/^{[^{]*"action":"\([^"]*\)".*/\1/p')
	sr=$(printf '%s' "$out" | sed -n 's/.*"rules":"\([^"]*\)".*/\1/p')
	act=$(logline "$c" | sed -n 's/.* action=\([^ ]*\) .*/\1/p')
	is "$act $(rules_of "$c")" "$sa ${sr:--}" "scan judges $c as the daemon"
done <"$T/gen/cases"

milter_stop
ok $? "the daemon stops cleanly"
is "$(grep -c 'learned=reply' "$MILTER_LOG")" "$(learned replies)" \
    "every reply the daemon learned is in the store after it stopped"
done_testing
