#!/bin/sh
# 6265-quarantine-index: two hosts (mx1, mx2: two lurewall-milter
# daemons, each with its own quarantine and state.host_name) share one
# real redis-server (127.0.0.1, a free port, an ACL user limited to
# lurewall:* keys, stopped by PID).  `quarantine list` on mx2 shows
# mx1's items with a HOST column (80 columns) and --host filters; show
# on mx2 gives mx1's metadata and says where the message is; a release
# asked on mx2 is carried out once by mx1's daemon (its submit command
# runs once) and confirmed (exit 0); a delete likewise; with mx1's
# daemon stopped the request times out (--timeout 2, exit 1, "not
# confirmed", withdrawn: it does not run when mx1 comes back); Redis
# killed and restarted empty: the daemons publish their items again and
# mx2's list shows both hosts' items (polled with a deadline).
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60
FILL=$LW_TOP/t/5005-fill
[ -x "$FILL" ] || bail "no $FILL: run make t/5005-fill"

T=$(tmpdir 6265-quarantine-index)
redis_trap
RPORT=$(free_port)
redis_up "$T" "$RPORT" qi-pw

# Each host: its own quarantine (filled with three items), its name,
# and a submit command that leaves one file per message it sends.
chmod 0755 "$T"
for h in mx1 mx2; do
	mkdir -p "$T/$h/sent"
	chmod 0777 "$T/$h/sent"
	cat >"$T/$h/submit" <<EOF
#!/bin/sh
cat >"$T/$h/sent/\$\$"
EOF
	chmod 0755 "$T/$h/submit"
	LW_QDIR=$T/$h/q LW_CONF_EXTRA="submit_command: \"$T/$h/submit -f %f -- %r\"
state:
  backend: redis
  host_name: $h
  redis: {host: 127.0.0.1, port: $RPORT, username: lurewall, password: qi-pw, timeout: 1s}"
	lw_conf "$T/$h" "thresholds: {tag: 50, quarantine: 400, reject: 800}"
	LW_QDIR=$T/$h/q bounded "$FILL" >"$T/$h/ids" || bail "cannot fill $h"
	chown -R "$LW_MILTER_USER" "$T/$h/q"
done
chmod -R a+rX "$T"
A_RECENT=$(awk '$1 == "recent" { print $2 }' "$T/mx1/ids")
A_MID=$(awk '$1 == "mid" { print $2 }' "$T/mx1/ids")
A_OLD=$(awk '$1 == "old" { print $2 }' "$T/mx1/ids")
B_RECENT=$(awk '$1 == "recent" { print $2 }' "$T/mx2/ids")

milter_start "$T/mx1" "unix:$T/mx1/milter.sock"
M1_PID=$MILTER_PID M1_LOG=$MILTER_LOG
milter_start "$T/mx2" "unix:$T/mx2/milter.sock"
M2_PID=$MILTER_PID M2_LOG=$MILTER_LOG
MILTER_PID=

cli() { h=$1; shift; bounded "$LUREWALL" -c "$T/$h/conf/lurewall.yaml" "$@"; }
# poll SECONDS CMD...: until CMD succeeds, at most SECONDS
poll() {
	_n=$(($1 * 10)); shift
	while [ $_n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
# hosts_items HOST N: mx2's list shows N items of HOST
hosts_items() {
	[ "$(cli mx2 quarantine list --json 2>/dev/null |
	    grep -c "\"host\":\"$1\"")" -eq "$2" ]
}
sent() { find "$T/$1/sent" -type f | wc -l; }

poll 30 hosts_items mx1 3
ok $? "mx2 lists mx1's three items (published at mx1's start)"
hosts_items mx2 3
ok $? "and its own three, named mx2"
out=$(COLUMNS=80 cli mx2 quarantine list)
like '^ID +HOST +' "$out" "the table has a HOST column after ID"
like "^$(echo "$A_RECENT" | sed 's/.*-//' | cut -c1-6)[0-9a-f]* +mx1 " "$out" \
    "mx1's item shows host mx1"
is 0 "$([ "$(printf '%s\n' "$out" | LC_ALL=C.UTF-8 wc -L)" -le 80 ]; echo $?; )" \
    "every line within 80 columns"
out=$(cli mx2 quarantine list --host mx1 --json)
is 3 "$(printf '%s\n' "$out" | grep -c .)" "--host mx1: three items"
unlike '"host":"mx2"' "$out" "--host mx1: none of mx2's"
is 3 "$(cli mx2 quarantine list --host mx2 --json | grep -c '"host":"mx2"')" \
    "--host mx2: mx2's own three"
like "$A_RECENT  mx1  " "$(cli mx2 quarantine list --wide)" \
    "--wide carries the host"

out=$(cli mx2 quarantine show "$A_RECENT")
like '^host: +mx1$' "$out" "show on mx2 of mx1's item names its host"
like 'kept on mx1' "$out" "and says where the message is"
like '^subject:' "$out" "with its indexed metadata"
cli mx2 quarantine show --raw "$A_RECENT" >/dev/null 2>"$T/err"
is 1 "$?" "show --raw of another host's item: exit 1"
like 'kept on mx1' "$(cat "$T/err")" "saying where to run it"

# Release from mx2: carried out by mx1's daemon, once, confirmed.
out=$(cli mx2 quarantine release "$A_RECENT" --timeout 20 2>&1)
is 0 "$?" "release on mx2 of mx1's item: exit 0 once confirmed"
like "^mx1: released $A_RECENT to " "$out" "relaying what mx1 did"
is 1 "$(sent mx1)" "mx1's submit command ran once"
is 0 "$(sent mx2)" "mx2 sent nothing"
like '"released":true' "$(cli mx1 quarantine show --json "$A_RECENT")" \
    "mx1's store records the release"
like "released_by\":\"[^\"]*for [^\"]* on mx2" \
    "$(cli mx1 quarantine show --json "$A_RECENT")" \
    "recording who asked on mx2"
is 1 "$(grep -c "quarantine index: release $A_RECENT asked by .* on mx2: done" "$M1_LOG")" \
    "mx1's daemon logs it once"
released_seen() {
	cli mx2 quarantine show --json "$A_RECENT" | grep -q '"released":true'
}
poll 10 released_seen
ok $? "the index on mx2 shows it released"
cli mx2 quarantine release "$A_RECENT" --timeout 20 >/dev/null 2>"$T/err"
is 1 "$?" "a second release is refused by mx1 (exit 1)"
like 'mx1: .*already released' "$(cat "$T/err")" "with mx1's reason"
is 1 "$(sent mx1)" "and nothing sent again"

# Delete from mx2.
out=$(cli mx2 quarantine delete "$A_MID" --host mx1 --timeout 20 2>&1)
is 0 "$?" "delete on mx2 of mx1's item: exit 0"
like "^mx1: deleted $A_MID" "$out" "relaying mx1's answer"
ok $([ ! -e "$T/mx1/q/new/$A_MID" ]; echo $?) "gone from mx1's disk"
unlike "$A_MID" "$(cli mx2 quarantine list --json)" "and from the list on mx2"

# mx1's daemon stopped: the request is not confirmed, and withdrawn.
MILTER_PID=$M1_PID milter_stop; M1_PID=
out=$(cli mx2 quarantine release "$A_OLD" --timeout 2 2>&1)
is 1 "$?" "mx1 down: release times out with exit 1"
like "queued for mx1, not confirmed within 2s .*withdrawn, nothing done" \
    "$out" "saying where it stands"
milter_start "$T/mx1" "unix:$T/mx1/milter.sock"
M1_PID=$MILTER_PID M1_LOG=$MILTER_LOG
MILTER_PID=
withdrawn_logged() {
	grep -q "release $A_OLD (asked by .*) was withdrawn" "$M1_LOG"
}
poll 20 withdrawn_logged
ok $? "mx1 back: it skips the withdrawn request"
is 1 "$(sent mx1)" "nothing released late"
unlike '"released":true' "$(cli mx1 quarantine show --json "$A_OLD")" \
    "the item stays held"

# Redis killed and restarted empty: both hosts publish again.
redis_down
out=$(cli mx2 quarantine list --json 2>"$T/err")
is 0 "$?" "redis down: list still works on mx2"
is 3 "$(printf '%s\n' "$out" | grep -c '"host":"mx2"')" "with mx2's own items"
like 'unreachable' "$(cat "$T/err")" "saying the index is unreachable"
redis_up "$T" "$RPORT" qi-pw
both() { hosts_items mx1 2 && hosts_items mx2 3; }
poll 30 both
ok $? "redis back: mx2 lists mx1's item and its own again"
is 1 "$(grep -c 'quarantine index: redis .* failed .* published again' "$M1_LOG")" \
    "mx1 logged the outage once"
# A delete on mx2 of its own item leaves the index too.
cli mx2 quarantine delete "$B_RECENT" >/dev/null
ok $? "mx2 deletes its own item"
unlike "$B_RECENT" "$(cli mx1 quarantine list --json)" \
    "mx1's list no longer shows it"
done_testing
