#!/bin/sh
# 6201-splitppap-postfix: split PPAP through a private Postfix.  The
# corpus zip mail benign-02a is held as pending and discarded (it does
# not reach the sink); once its password mail benign-02b arrives, both
# are at the sink: 02a released through Postfix's sendmail(1), passed
# by lurewall again on its verified X-Lurewall-Released, with the
# X-Lurewall-Result of the delayed scan.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=90

T=$(tmpdir 6201-splitppap-postfix)
lw_trap
LW_CONF_EXTRA="submit_command: /usr/sbin/sendmail -C $T/postfix/etc -G -i -f %f -- %r" \
    lw_conf "$T" 'split_password: {wait: 30m, on_timeout: release-tagged}
quarantine: {then: discard}'
MPORT=$(free_port)
milter_start "$T" "inet:$MPORT@127.0.0.1"
sink_start "$T"
pf_start "$T" "inet:$MPORT@127.0.0.1"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }

A=$CORPUS/messages/benign-02a-ppap-aes-xlsx.eml
B=$CORPUS/messages/benign-02b-ppap-password-mail.eml
SND=yamada@torihiki.example.ne.jp
RCP=sato@example.co.jp

pf_send $SND $RCP "$A" >"$T/swaks1" 2>&1
ok $? "02a accepted over SMTP"
wait_for 20 grep -q 'action=pending' "$MILTER_LOG"
ok $? "milter held it as pending"
id=$(QL list --json | grep '"state": *"pending"' |
    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
ok $([ -n "$id" ]; echo $?) "the CLI lists it as pending"
pf_wait_log 'discard' 20
ok $? "Postfix discarded it"
sleep 1
is "" "$(sink_files)" "02a did not reach the sink"

pf_send $SND $RCP "$B" >"$T/swaks2" 2>&1
ok $? "02b accepted over SMTP"
sink_wait 2 30
ok $? "both messages at the sink"
fa=$(sink_grep '^Message-ID: <30bd5e5e29e028c0cfc5@')
fb=$(sink_grep '^Message-ID: <508571c0aca7bc1125ac@')
ok $([ -n "$fa" ] && [ -n "$fb" ]; echo $?) "02a and 02b both delivered"
a=$(cat $fa 2>/dev/null)
like "X-Lurewall-Released: $id; " "$a" "02a carries X-Lurewall-Released"
like "X-Lurewall-Result: accept score=[0-9]+ rules=[A-Z_,]+ delayed-scan=password-mail" \
    "$a" "02a carries the delayed-scan X-Lurewall-Result"
is 1 "$(grep -c '^X-Lurewall-Result:' $fa 2>/dev/null)" "exactly once"
unlike "X-Lurewall" "$(cat $fb 2>/dev/null)" "02b delivered as is"
like 'released=yes' "$(cat "$MILTER_LOG")" "lurewall passed the released copy"
is 1 "$(grep -c 'action=pending' "$MILTER_LOG")" "not held a second time"
like '"state": *"released"' "$(QL list --json)" "the item is released"
done_testing
