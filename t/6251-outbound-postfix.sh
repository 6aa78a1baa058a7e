#!/bin/sh
# 6251-outbound-postfix: the breaker end to end through a private
# Postfix, SASL-less submission from 127.0.0.1 declared internal
# (internal_networks: [127.0.0.0/8]).  Three macro-document lures from
# one sender are stored and never sent, and trip the breaker; that
# sender's fourth, clean mail is held too while another sender's mail
# reaches the sink; a restart of the daemon keeps the tripped state;
# `lurewall outbreak clear` lets the sender's mail flow again.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60
LURE=$CORPUS/messages/lure-14-docm-enable-content.eml
[ -f "$LURE" ] || bail "no $LURE"

T=$(tmpdir 6251-outbound-postfix)
lw_trap
LW_CONF_EXTRA='internal_networks: [127.0.0.0/8]'
lw_conf "$T"
MPORT=$(free_port)
milter_start "$T" "inet:$MPORT@127.0.0.1"
sink_start "$T"
pf_start "$T" "inet:$MPORT@127.0.0.1"
CONF=$T/conf/lurewall.yaml

clean() {	# clean FILE FROM MESSAGE-ID
	printf 'From: <%s>\r\nTo: partner@partner.example\r\nDate: Tue, 22 Nov 2022 10:00:00 +0900\r\nMessage-ID: <%s@corp.example>\r\nSubject: Lunch on Friday\r\n\r\nSee you at noon, %s.\r\n' \
	    "$2" "$3" "$3" >"$1"
}
nq() { bounded "$LUREWALL" -c "$CONF" quarantine list | tail -n +2 |
    wc -l | tr -d ' '; }
nlog() { grep -c -- "$1" "$MILTER_LOG"; }

for i in 1 2 3; do
	pf_send alice@corp.example "p$i@partner.example" "$LURE" \
	    >"$T/swaks-lure$i" 2>&1
	ok $? "lure $i from alice accepted by Postfix"
done
wait_for 20 sh -c "[ \$(grep -c 'lure=OFFICE_VBA' '$MILTER_LOG') -ge 3 ]"
is 3 "$(nlog 'direction=outbound then=discard quarantine_id=.* lure=OFFICE_VBA')" \
    "three outbound lures stored and discarded"
like 'outbreak: sender=<alice@corp.example> tripped the breaker: reason=lures lures=3' \
    "$(cat "$MILTER_LOG")" "the third trips the breaker (LOG_CRIT line)"

clean "$T/a1.eml" alice@corp.example alice1
pf_send alice@corp.example partner@partner.example "$T/a1.eml" \
    >"$T/swaks-a1" 2>&1
clean "$T/b1.eml" bob@corp.example bob1
pf_send bob@corp.example partner@partner.example "$T/b1.eml" \
    >"$T/swaks-b1" 2>&1
sink_wait 1
ok $([ -n "$(sink_grep 'bob1@corp.example')" ]; echo $?) \
    "another sender's mail reaches the sink"
wait_for 20 grep -q 'outbreak=held sender=<alice@corp.example>' "$MILTER_LOG"
ok $? "alice's clean mail is held (logged with sender and reason)"
ok $([ -z "$(sink_grep 'alice1@corp.example')" ]; echo $?) \
    "alice's clean mail did not reach the sink"
ok $([ -z "$(sink_grep 'enable content\|Enable Content')" ] &&
    [ $(sink_files | wc -l) -eq 1 ]; echo $?) "no lure reached the sink"
is 4 "$(nq)" "three lures and the held mail are in the quarantine"

# A restart keeps the tripped state.
milter_stop
milter_start "$T" "inet:$MPORT@127.0.0.1"
like 'alice@corp.example' "$(bounded "$LUREWALL" -c "$CONF" outbreak list)" \
    "outbreak list shows alice after the restart"
clean "$T/a2.eml" alice@corp.example alice2
pf_send alice@corp.example partner@partner.example "$T/a2.eml" \
    >"$T/swaks-a2" 2>&1
wait_for 20 sh -c "[ \$(grep -c 'outbreak=held sender=<alice@corp.example>' '$MILTER_LOG') -ge 2 ]"
is 2 "$(nlog 'outbreak=held sender=<alice@corp.example>')" \
    "after a restart alice's mail is still held"
is 5 "$(nq)" "and stored"

bounded "$LUREWALL" -c "$CONF" outbreak clear alice@corp.example \
    >"$T/clear.out" 2>&1
ok $? "lurewall outbreak clear alice@corp.example"
unlike 'alice' "$(bounded "$LUREWALL" -c "$CONF" outbreak list)" \
    "alice is no longer listed"
clean "$T/a3.eml" alice@corp.example alice3
pf_send alice@corp.example partner@partner.example "$T/a3.eml" \
    >"$T/swaks-a3" 2>&1
sink_wait 2
ok $([ -n "$(sink_grep 'alice3@corp.example')" ]; echo $?) \
    "after clear alice's mail reaches the sink again"
done_testing
