#!/bin/sh
# 6107-init: the service on any init.  `make install INIT=none|systemd|
# sysv` installs nothing, the systemd unit or the LSB init script (paths
# following PREFIX/sbindir), never over an admin's copy; INIT=bogus
# fails.  The installed init script, run as written (paths moved under
# the test directory, user nobody), starts the daemon through
# start-stop-daemon (socket directory for group postfix, pidfile for the
# user), reports status, reloads through `lurewall reload` (failing on a
# broken policy while the daemon keeps running), restarts and stops it
# (pidfile gone).
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6107-init)
lw_trap
inst() {	# inst DESTDIR ARGS...
	_d=$1; shift
	bounded make -C "$LW_TOP" --no-print-directory install DESTDIR="$_d" \
	    "$@" >>"$T/install.out" 2>&1
}
# gone PID: no such process, or a zombie (a container's init may not
# reap the daemon, which start-stop-daemon detached from us)
gone() {
	_st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -z "$_st" ] || [ "$_st" = Z ]
}
svc() {		# what an install put in etc/systemd and etc/init.d
	(cd "$1" && find etc/systemd etc/init.d ! -type d 2>/dev/null | sort)
}

inst "$T/none" PREFIX=/usr INIT=none
ok $? "make install INIT=none"
is "" "$(svc "$T/none")" "installs no unit and no init script"

inst "$T/sd" PREFIX=/usr/local INIT=systemd
ok $? "make install INIT=systemd PREFIX=/usr/local"
is "etc/systemd/system/lurewall-milter.service" "$(svc "$T/sd")" \
    "installs the unit in /etc/systemd/system"
U=$T/sd/etc/systemd/system/lurewall-milter.service
like 'ExecStart=/usr/local/sbin/lurewall-milter ' "$(cat "$U")" \
    "with the programs where PREFIX put them"
like 'ExecReload=\+/usr/local/sbin/lurewall reload' "$(cat "$U")" \
    "ExecReload too"

inst "$T/sv" PREFIX=/usr INIT=sysv
ok $? "make install INIT=sysv"
I=$T/sv/etc/init.d/lurewall-milter
is "etc/init.d/lurewall-milter" "$(svc "$T/sv")" "installs the init script"
is "-rwxr-xr-x" "$(stat -c %A "$I")" "mode 0755"
hdr=$(sed -n '/^### BEGIN INIT INFO/,/^### END INIT INFO/p' "$I")
like '# Provides: +lurewall-milter' "$hdr" "LSB header: Provides"
like '# Default-Start: +2 3 4 5' "$hdr" "LSB header: Default-Start"
like '# X-Start-Before: +postfix' "$hdr" "LSB header: starts before Postfix"
like 'start-stop-daemon' "$(cat "$I")" "uses start-stop-daemon"
printf '# local\n' >>"$I"
inst "$T/sv" PREFIX=/usr INIT=sysv
like '# local' "$(tail -1 "$I")" "a second install keeps the admin's script"
inst "$T/bad" INIT=bogus
ok $([ $? -ne 0 ]; echo $?) "INIT=bogus fails"
is "" "$(svc "$T/sv" | grep -v init.d)" "INIT=sysv installs no unit"

# --- the init script, run as written under $R
R=$T/sv
sed -i -e "s|^quarantine_dir: /|quarantine_dir: $R/|" \
    -e "s|^pidfile: /|pidfile: $R/|" "$R/etc/lurewall/lurewall.yaml"
sed -e "s|/usr/sbin/lurewall|$R/usr/sbin/lurewall|g" \
    -e "s|/etc/lurewall/|$R/etc/lurewall/|g" \
    -e "s|/etc/default/|$R/etc/default/|g" \
    -e "s|/run/lurewall-milter|$R/run/lurewall-milter|g" \
    -e "s|/var/spool/postfix|$R/spool|g" \
    -e "s|/var/lib/lurewall|$R/var/lib/lurewall|g" \
    -e 's/^USER=lurewall$/USER=nobody/' "$I" >"$T/init"
chmod +x "$T/init"
P=$R/run/lurewall-milter/lurewall-milter.pid
# The daemon opens its socket as root, then detaches, writes its
# pidfile and drops to the user: each is a moment of its own, so each
# is waited for (under load they come seconds apart).
# running_new OLD: the pidfile names a live process other than OLD.
running_new() {
	_p=$(cat "$P" 2>/dev/null)
	[ -n "$_p" ] && [ "$_p" != "$1" ] && kill -0 "$_p" && ! gone "$_p"
}
# euid PID: its effective uid; uid_is PID UID
euid() { awk '/^Uid:/ { print $3 }' "/proc/$1/status" 2>/dev/null; }
uid_is() { [ "$(euid "$1")" = "$2" ]; }
out=$(bounded "$T/init" start 2>&1)
ok $? "init script: start"
[ $? -eq 0 ] || diag "$out"
wait_for 30 unix_open "$R/spool/lurewall/lurewall.sock"
ok $? "the milter listens on the socket"
wait_for 30 running_new none
ok $? "its pidfile names a running process"
MILTER_PID=$(cat "$P" 2>/dev/null)
wait_for 30 uid_is "$MILTER_PID" 65534
is 65534 "$(euid "$MILTER_PID")" "it runs as the user"
is "drwxr-x--- nobody postfix" "$(stat -c '%A %U %G' "$R/spool/lurewall")" \
    "socket directory 0750 for the group postfix"
out=$(bounded "$T/init" status 2>&1)
ok $? "status: running"
like "running \\(pid $MILTER_PID\\)" "$out" "with the pid"
out=$(bounded "$T/init" start 2>&1)
ok $? "a second start is no error"
is "$MILTER_PID" "$(cat "$P")" "and starts nothing new"

out=$(bounded "$T/init" reload 2>&1)
ok $? "reload"
like 'reloaded' "$out" "through lurewall reload"
POL=$R/etc/lurewall/policy.d/default.yaml
cp "$POL" "$T/default.good"
printf 'bogus_key: 1\n' >>"$POL"
out=$(bounded "$T/init" reload 2>&1)
ok $([ $? -ne 0 ]; echo $?) "reload with a broken policy fails"
like 'bogus_key' "$out" "saying why"
ok $(kill -0 "$MILTER_PID"; echo $?) "and the daemon keeps running"
out=$(bounded "$T/init" restart 2>&1)
ok $([ $? -ne 0 ]; echo $?) "restart refuses the broken policy"
is "$MILTER_PID" "$(cat "$P")" "and leaves the running daemon alone"
cp "$T/default.good" "$POL"

out=$(bounded "$T/init" restart 2>&1)
ok $? "restart"
[ $? -eq 0 ] || diag "$out"
wait_for 30 running_new "$MILTER_PID"
ok $? "a new daemon runs"
new=$(cat "$P" 2>/dev/null)
wait_for 30 unix_open "$R/spool/lurewall/lurewall.sock"
ok $? "and listens"
wait_for 30 gone "$MILTER_PID"
ok $? "the old one is gone"
MILTER_PID=$new

out=$(bounded "$T/init" stop 2>&1)
ok $? "stop"
wait_for 30 gone "$MILTER_PID"
ok $? "the daemon is gone"
ok $([ ! -e "$P" ]; echo $?) "and its pidfile"
MILTER_PID=
bounded "$T/init" status >/dev/null 2>&1
is 3 "$?" "status: not running (3)"
done_testing
