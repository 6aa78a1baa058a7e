#!/bin/sh
# 7030-daemon-modes: lurewall-milter started as root under a careless
# umask (000) still creates what it creates with tight modes: the socket
# 0660 with the user's group, the pid file writable by root only (a
# world-writable pid file lets anyone aim the init script's kill), a new
# quarantine directory 0700 owned by the user; then it runs with no root
# id left (real, effective, saved, no supplementary groups) and its
# quarantine items are private.  Run as root (CI is); t/6002-daemon
# covers the rest of the start-up.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

[ "$(id -u)" = 0 ] || bail "needs root (CI runs as root)"
T=$(tmpdir 7030-daemon-modes)
lw_trap
chmod 755 "$T"
LW_QDIR=$T/q lw_conf "$T"

(
	umask 000
	milter_start "$T" "unix:$T/m.sock" -u nobody:postfix -P "$T/m.pid"
	echo "$MILTER_PID" > "$T/milter.pidvar"
	wait "$MILTER_PID"
) &
sub=$!
wait_for 10 test -s "$T/milter.pidvar" || bail "lurewall-milter did not start"
MILTER_PID=$(cat "$T/milter.pidvar")
wait_for 10 test -S "$T/m.sock" || bail "no socket"

is "nobody postfix 660" "$(stat -c '%U %G %a' "$T/m.sock")" \
    "socket: the user's group, mode 0660"
m=$(stat -c '%U %a' "$T/m.pid")
case $m in
root\ [0-7][0-5][0-5]|root\ [0-7][0-5][0-5][0-5]) ok 0 "pid file: root's, not group or world writable ($m)" ;;
*) ok 1 "pid file: root's, not group or world writable ($m)" ;;
esac
is "$MILTER_PID" "$(cat "$T/m.pid")" "pid file holds the pid"
is "nobody 700" "$(stat -c '%U %a' "$T/q")" "quarantine: the user's, mode 0700"
ids=$(awk '/^Uid:|^Gid:/ {print $2, $3, $4, $5}' "/proc/$MILTER_PID/status" |
    tr '\n' ' ')
u=$(id -u nobody); g=$(getent group postfix | cut -d: -f3)
is "$u $u $u $u $g $g $g $g " "$ids" "no root id left"
is "$g" "$(awk '/^Groups:/ {print $2}' "/proc/$MILTER_PID/status")" \
    "no supplementary group left"
is 0 "$(awk '/^CapEff:/ {print $2 + 0}' "/proc/$MILTER_PID/status")" \
    "no effective capability left"
# Anything it writes later (quarantine items) is private too.
bad=$(find "$T/q" \( -perm -o=r -o -perm -o=w -o -perm -g=w \) -print | head -5)
is "" "$bad" "nothing in the quarantine is open to others"

milter_stop
wait "$sub" 2>/dev/null
done_testing
