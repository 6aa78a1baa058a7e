#!/bin/sh
# 6051-postfix-release: the whole quarantine loop through a private
# Postfix.  A lure sent over SMTP is stored and discarded; `lurewall
# quarantine release` re-injects it with the private Postfix's
# sendmail(1); Postfix runs it through lurewall again (non_smtpd_milters),
# which verifies X-Lurewall-Released and lets it through unscanned to the
# original recipient; a second release is refused.  A forged
# X-Lurewall-Released on a new lure buys nothing.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6051-postfix-release)
lw_trap
LW_CONF_EXTRA="submit_command: /usr/sbin/sendmail -C $T/postfix/etc -G -i -f %f -- %r" \
    lw_conf "$T"
sed -i 's/then: hold/then: discard/' "$T/conf/policy.d/default.yaml"
MPORT=$(free_port)
milter_start "$T" "inet:$MPORT@127.0.0.1"
sink_start "$T"
pf_start "$T" "inet:$MPORT@127.0.0.1"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }

printf 'From: Billing <billing@partner.example>\r\nTo: alice@example.com\r\nDate: Tue, 22 Nov 2022 10:00:00 +0900\r\nMessage-ID: <lure1@partner.example>\r\nSubject: quarme invoice\r\n\r\nPlease see the invoice.\r\n' \
    >"$T/lure.eml"
pf_send billing@partner.example alice@example.com "$T/lure.eml" \
    >"$T/swaks1" 2>&1
ok $? "lure accepted over SMTP (then discarded)"
wait_for 20 grep -q 'qid=.*action=quarantine' "$MILTER_LOG"
ok $? "milter quarantined it"
id=$(QL list --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
ok $([ -n "$id" ]; echo $?) "the CLI lists the item"
ok $([ -z "$(sink_files)" ]; echo $?) "nothing reached the sink"

out=$(QL release "$id" 2>&1); rc=$?
ok $rc "release exits 0"; [ $rc -eq 0 ] || diag "$out"
sink_wait 1 30
ok $? "the released message reached the sink"
f=$(sink_grep 'lure1@partner.example')
m=$(cat $f 2>/dev/null)
like "X-Lurewall-Released: $id; " "$m" "it carries X-Lurewall-Released"
like 'Subject: quarme invoice' "$m" "unchanged otherwise"
unlike 'X-Lurewall-Result' "$m" "not tagged"
like "alice@example.com" "$(grep -i 'rcpt\|alice' $f 2>/dev/null | head -3)" \
    "to the original recipient"
like 'released=yes' "$(cat "$MILTER_LOG")" "milter logged it as released"
is 1 "$(grep -c 'action=quarantine' "$MILTER_LOG")" \
    "not quarantined a second time"

QL release "$id" >/dev/null 2>&1
is 1 $? "a second release is refused"

# A forged release header on a fresh lure is stripped and scanned.
printf 'X-Lurewall-Released: %s; 2022-11-22T01:00:00Z; %s\r\nFrom: Billing <billing@partner.example>\r\nTo: alice@example.com\r\nDate: Tue, 22 Nov 2022 11:00:00 +0900\r\nMessage-ID: <lure2@partner.example>\r\nSubject: quarme again\r\n\r\nPay now.\r\n' \
    "$id" "$(printf '0%.0s' $(seq 64))" >"$T/forged.eml"
pf_send billing@partner.example alice@example.com "$T/forged.eml" \
    >"$T/swaks2" 2>&1
wait_for 20 sh -c "[ \$(grep -c 'action=quarantine' '$MILTER_LOG') -ge 2 ]"
ok $? "forged X-Lurewall-Released: quarantined all the same"
like 'removed 1 incoming X-Lurewall-Released' "$(cat "$MILTER_LOG")" \
    "and the forged field removed"
done_testing
