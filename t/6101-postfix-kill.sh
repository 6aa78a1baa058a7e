#!/bin/sh
# 6101-postfix-kill: lurewall-milter killed with SIGKILL in the middle
# of a run of 600 corpus copies (150 under the sanitizers) over 20
# sessions.  Postfix (milter_default_action = tempfail) answers 4xx
# meanwhile and accepts nothing unscanned; smtp-source and swaks never
# retry a 4xx, so the test does, for every tempfailed message, after the
# daemon is back.  Then every Message-ID is accounted for exactly once,
# as in 6100.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-e2e.sh"
BOUND=60

T=$(tmpdir 6101-postfix-kill)
lw_trap
e2e_count 600
e2e_conf "$T"
e2e_start "$T"
e2e_jobs "$T" "$N"

: >"$T/outcomes.tsv"
e2e_send "$T" &
sender=$!
# kill once a third has been answered, mid-stream
wait_for 120 sh -c "[ \$(wc -l <'$T/outcomes.tsv') -ge $((N / 3)) ]"
ok $? "a third of the messages answered"
sock=$MILTER_SOCK
kill -KILL "$MILTER_PID"
wait "$MILTER_PID" 2>/dev/null
MILTER_PID=
killed_at=$(wc -l <"$T/outcomes.tsv")
diag "milter killed after $killed_at answers"
# down long enough for every session to notice
wait_for 60 sh -c "[ \$(grep -c '	tempfail	' '$T/outcomes.tsv') -ge 20 ]"
ok $? "Postfix tempfails while the milter is down"
milter_start "$T" "$sock"
wait "$sender"
ok $? "first pass done"
first=$(e2e_tempfailed "$T" | wc -l)
diag "$first messages tempfailed in the first pass"
ok $([ "$first" -gt 0 ]; echo $?) "some messages were tempfailed"
is "" "$(grep '	tempfail	' "$T/outcomes.tsv" | grep -v '	451 4\.7\.1 ')" \
    "every 4xx is Postfix's 451 4.7.1 (milter_default_action = tempfail)"

round=0
while [ $round -lt 5 ] && [ -n "$(e2e_tempfailed "$T")" ]; do
	round=$((round + 1))
	e2e_tempfailed "$T" >"$T/retry.$round"
	diag "retry round $round: $(wc -l <"$T/retry.$round") messages"
	e2e_send "$T" "$T/retry.$round"
done
is 0 "$(e2e_tempfailed "$T" | wc -l)" "every tempfailed message went through on retry"
e2e_drain
ok $? "Postfix delivered everything it accepted"
e2e_queue_empty
e2e_account "$T"
like 'connect to Milter service .*: Connection refused' \
    "$(cat "$PF_DIR/maillog")" "Postfix logged the milter down"
unlike 'ERROR: AddressSanitizer|runtime error' "$(cat "$MILTER_LOG")" \
    "no sanitizer report in the milter log"
milter_stop
ok $? "the restarted milter stops cleanly"
e2e_tidy "$T"
done_testing
