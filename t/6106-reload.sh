#!/bin/sh
# 6106-reload: the pidfile and `lurewall reload`.  Started by root with a
# pidfile in a directory that does not exist yet, the daemon creates it
# for its user, writes the pidfile and the reload status file, and
# removes both at exit.  `lurewall reload` (pidfile from the config or
# -P) signals it and waits: 0 when the reload took, 1 with the daemon's
# error when a policy is broken (the daemon keeps running on the old
# one), 2 when the pidfile is missing or names a process that is not
# lurewall-milter (which is then not signalled).  Foreground log lines
# carry a UTC time stamp.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=30

T=$(tmpdir 6106-reload)
lw_trap
LW_CONF_EXTRA="pidfile: run/lurewall-milter.pid" lw_conf "$T"
C=$T/conf/lurewall.yaml
P=$T/conf/run/lurewall-milter.pid
S=$T/conf/run/lurewall-milter.reload
milter_start "$T" "unix:$T/m.sock"

is "$MILTER_PID" "$(cat "$P" 2>/dev/null)" "the pidfile holds the daemon's PID"
is "nobody 755" "$(stat -c '%U %a' "$T/conf/run" 2>&1)" \
    "its missing directory was made for the user"
is "nobody" "$(stat -c '%U' "$S" 2>&1)" "the reload status file is the user's"
like '^pid=[0-9]+ gen=0 result=start ' "$(cat "$S")" "and says: started"
like '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z .*listening on' \
    "$(cat "$MILTER_LOG")" "foreground log lines start with a UTC time"

out=$(bounded "$LUREWALL" reload -c "$C" 2>&1); rc=$?
is 0 "$rc" "lurewall reload (pidfile from the config) exits 0"
like "lurewall-milter $MILTER_PID reloaded " "$out" "and says the daemon reloaded"
like 'gen=1 result=ok' "$(cat "$S")" "the status file counts the reload"
like 'reloaded .*lurewall\.yaml' "$(cat "$MILTER_LOG")" "the daemon logged it"

# a broken policy: the daemon refuses it and says why
cp "$T/conf/policy.d/default.yaml" "$T/default.good"
printf 'thresholds:\n  tag: [broken\n' >"$T/conf/policy.d/default.yaml"
out=$(bounded "$LUREWALL" reload -P "$P" -t 10 2>&1); rc=$?
is 1 "$rc" "a broken policy: lurewall reload -P exits 1"
like 'reload failed.*keeps its running configuration: .*default\.yaml' "$out" \
    "and prints the daemon's error"
ok $(kill -0 "$MILTER_PID"; echo $?) "the daemon still runs"
cp "$T/default.good" "$T/conf/policy.d/default.yaml"
out=$(bounded "$LUREWALL" reload -c "$C" 2>&1); rc=$?
is 0 "$rc" "fixed: the next reload exits 0"

# the config itself broken: nothing is signalled
printf 'on_error: sometimes\n' >>"$C"
out=$(bounded "$LUREWALL" reload -c "$C" 2>&1); rc=$?
is 1 "$rc" "a config that does not load: exit 1"
like 'not reloading' "$out" "and nothing signalled"
like 'gen=3 result=ok' "$(cat "$S")" "(the daemon saw no reload)"
sed -i '$d' "$C"

# a stale pidfile pointing at some other process
sleep 30 &
other=$!
echo "$other" >"$T/other.pid"
out=$(bounded "$LUREWALL" reload -P "$T/other.pid" 2>&1); rc=$?
is 2 "$rc" "a pidfile naming another program: exit 2"
like "PID $other is not lurewall-milter" "$out" "and says so"
ok $(kill -0 "$other"; echo $?) "that process was not signalled"
kill "$other"; wait "$other" 2>/dev/null
out=$(bounded "$LUREWALL" reload -P "$T/none.pid" 2>&1); rc=$?
is 2 "$rc" "no pidfile: exit 2"
like 'not found' "$out" "and says so"
out=$(bounded "$LUREWALL" reload -t 0 2>&1); rc=$?
is 2 "$rc" "-t 0 is a usage error"

milter_stop
is 0 "$?" "the daemon stops on SIGTERM"
ok $([ ! -e "$P" ] && [ ! -e "$S" ]; echo $?) \
    "the pidfile and the status file are removed at exit"
done_testing
