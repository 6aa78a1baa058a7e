#!/bin/sh
# 6100-postfix-e2e: the corpus under load through a private Postfix on
# 127.0.0.1 that runs lurewall-milter as smtpd_milters and relays to
# smtp-sink.  2,000 copies of the corpus messages (500 under the
# sanitizers), each with its own Message-ID, for two domains, sent by
# smtp-source and swaks over 20 concurrent sessions.  Afterwards every
# Message-ID is in exactly one place: delivered at the sink (tagged ones
# with the X-Lurewall headers), in the quarantine, or rejected at SMTP
# time; each as `lurewall scan` judges it offline.  Nothing lost,
# nothing doubled, nothing left in Postfix's queue.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-e2e.sh"
BOUND=60

T=$(tmpdir 6100-postfix-e2e)
lw_trap
e2e_count 2000
e2e_conf "$T"
e2e_start "$T"
e2e_jobs "$T" "$N"

start=$(date +%s)
e2e_send "$T"
ok $? "sent $N messages over 20 sessions"
diag "sending took $(($(date +%s) - start)) s"
is 0 "$(e2e_tempfailed "$T" | wc -l)" "no message tempfailed"
e2e_drain
ok $? "Postfix delivered everything it accepted"
e2e_queue_empty
e2e_account "$T"
unlike 'ERROR: AddressSanitizer|runtime error' "$(cat "$MILTER_LOG")" \
    "no sanitizer report in the milter log"
milter_stop
ok $? "the milter stops cleanly"
e2e_tidy "$T"
done_testing
