#!/bin/sh
# 6102-postfix-reload: SIGUSR1 with a broken policy keeps the old one in
# force while mail keeps flowing through Postfix, and the log names the
# file and the error; once the policy is fixed, SIGUSR1 puts the new one
# in force.  The old policy has a rule OLDRULE (subject "oldmark") that
# tags, the new one NEWRULE ("newmark") instead; the broken one has
# NEWRULE plus an unknown key.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-e2e.sh"
BOUND=60

T=$(tmpdir 6102-postfix-reload)
lw_trap
policy() {	# policy RULE-NAME PATTERN [EXTRA-LINE]
	cat <<EOP
thresholds:
  tag: 50
  quarantine: 400
  reject: 800
tag:
  subject_prefix: "[TAGGED]"
  headers: true
rules:
  - name: $1
    where: subject
    pattern: '$2'
    score: 100
${3:-}
EOP
}
lw_conf "$T" "$(policy OLDRULE oldmark)"
POL=$T/conf/policy.d/default.yaml
e2e_start "$T"

probe() {	# probe N SUBJECT: send; print where it ended: tagged/clean/CODE
	e2e_mail "$T/p$1.eml" "$2" "probe$1" "probe $1"
	_c=$(e2e_smtp sato@example.co.jp "$T/p$1.eml")
	if [ "$_c" != 250 ]; then echo "$_c"; return; fi
	wait_for 30 sh -c "grep -rqF 'probe$1@lurewall.test' '$SINK_DIR'"
	_f=$(e2e_sink_msg "probe$1")
	if [ -z "$_f" ]; then echo lost
	elif grep -q '^X-Lurewall-Rules: .*[A-Z]' $_f; then
		echo "tagged $(sed -n 's/^X-Lurewall-Rules: //p' $_f)"
	else echo clean; fi
}

is "tagged OLDRULE" "$(probe 1 'invoice oldmark')" "old policy: oldmark tags"
is "clean" "$(probe 2 'invoice newmark')" "old policy: newmark passes"

# the broken policy, reloaded while a stream of clean mail is under way
policy NEWRULE newmark "bogus_key: 1" >"$POL"
printf 'From: s@client.lurewall.test\nTo: sato@example.co.jp\nSubject: stream\n\nclean stream\n' \
    >"$T/stream.eml"
# 5 sessions, up to 1 s between messages: a few seconds in all
bounded smtp-source -4 -s 5 -m 60 -R 1 -M client.lurewall.test \
    -f sender@client.lurewall.test -t sato@example.co.jp -F "$T/stream.eml" \
    127.0.0.1:"$PF_PORT" >"$T/stream.out" 2>&1 &
stream=$!
sink_wait 5
kill -USR1 "$MILTER_PID"
ok $(kill -0 "$stream"; echo $?) "the reload comes while the stream is under way"
wait_for 20 grep -q 'reload failed' "$MILTER_LOG"
ok $? "the daemon logged the failed reload"
like 'reload failed, keeping the running configuration: .*default\.yaml:[0-9]+:[0-9]+: unknown key "bogus_key"' \
    "$(cat "$MILTER_LOG")" "the log names file, line, column and the error"
kill -USR1 "$MILTER_PID"	# twice, during the stream
wait "$stream"
ok $? "60 clean messages over 5 sessions accepted meanwhile"
[ $? -eq 0 ] || diag "$(cat "$T/stream.out")"
ok $(kill -0 "$MILTER_PID"; echo $?) "the daemon still runs"
is "tagged OLDRULE" "$(probe 3 'invoice oldmark')" \
    "broken policy: the old one stays (oldmark tags)"
is "clean" "$(probe 4 'invoice newmark')" \
    "broken policy: newmark still passes"

policy NEWRULE newmark >"$POL"
lines=$(grep -c 'reloaded' "$MILTER_LOG")
kill -USR1 "$MILTER_PID"
wait_for 20 sh -c "[ \$(grep -c 'reloaded' '$MILTER_LOG') -gt $lines ]"
ok $? "the fixed policy reloads"
is "clean" "$(probe 5 'invoice oldmark')" "new policy: oldmark passes"
is "tagged NEWRULE" "$(probe 6 'invoice newmark')" "new policy: newmark tags"

e2e_drain 60
ok $? "Postfix delivered everything"
is 66 "$(sink_files | wc -l)" "every message reached the sink once"
milter_stop
ok $? "the milter stops cleanly"
done_testing
