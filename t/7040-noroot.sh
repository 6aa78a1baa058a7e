#!/bin/sh
# 7040-noroot: lurewall-milter never keeps root.  Started as root without
# a user (no user: in lurewall.yaml, no -u) it stops with exit 1 and says
# how to set one, before it opens the socket; a user with uid 0, from
# the config or -u, is refused the same way.  -n only warns about a
# missing user (the file is valid) but fails on a root user.  With -u
# or user: it runs as that user (real, effective and saved ids); started
# as an unprivileged user it stays that user, and cannot become another.
# Run as root (CI is).
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=20

[ "$(id -u)" = 0 ] || bail "needs root (CI runs as root)"
T=$(tmpdir 7040-noroot)
lw_trap
chmod 755 "$T"

# refused DIR SOCK [ARGS...]: start as root; it must exit (not run until
# BOUND) with status 1, leave no socket; its stderr in $out.
refused() {
	_dir=$1 _sock=$2; shift 2
	out=$(bounded "$MILTER" -f -c "$_dir/conf/lurewall.yaml" \
	    -p "unix:$_sock" "$@" 2>&1)
	rc=$?
	[ -e "$_sock" ]; nosock=$?
}

# ids PID: "uid uid uid uid gid gid gid gid " from /proc.
ids() {
	awk '/^Uid:|^Gid:/ {print $2, $3, $4, $5}' "/proc/$1/status" |
	    tr '\n' ' '
}

# 1. As root, no user anywhere.
mkdir -p "$T/none"
lw_conf "$T/none"
refused "$T/none" "$T/none/m.sock"
is 1 "$rc" "root without a user: exit 1"
like "refusing to run as root: set user: in .*/none/conf/lurewall\.yaml or use -u" \
    "$out" "the message names user: in lurewall.yaml and -u"
is 1 "$nosock" "no socket created"
ok $([ ! -e "$T/none/conf/quarantine" ]; echo $?) "no quarantine created"

out=$(bounded "$MILTER" -n -c "$T/none/conf/lurewall.yaml" 2>"$T/n.err")
is 0 $? "-n as root without a user: exit 0 (the file is valid)"
like "ok" "$out" "-n says ok"
like "warning: no user: .*refuses to run; set user: in .*lurewall\.yaml or use -u" \
    "$(cat "$T/n.err")" "-n warns that the start would be refused"
out=$(bounded "$MILTER" -n -u nobody -c "$T/none/conf/lurewall.yaml" 2>&1)
is "$T/none/conf/lurewall.yaml: ok" "$out" "-n with -u: no warning"

# 2. A user whose uid is 0: user: root in the file, or -u.
mkdir -p "$T/root"
LW_CONF_EXTRA='user: root' lw_conf "$T/root"
refused "$T/root" "$T/root/m.sock"
is 1 "$rc" "user: root: exit 1"
like "refusing to run as root: user root has uid 0; set an unprivileged user: in .*lurewall\.yaml or use -u" \
    "$out" "the message says the user has uid 0"
is 1 "$nosock" "no socket created"
out=$(bounded "$MILTER" -n -c "$T/root/conf/lurewall.yaml" 2>&1)
is 1 $? "-n: user: root is an error"
like "user root is root \(uid 0\)" "$out" "-n says why"

refused "$T/none" "$T/none/m.sock" -u root:nogroup
is 1 "$rc" "-u root:nogroup: exit 1"
like "user root:nogroup has uid 0" "$out" "-u root is refused by uid"
is 1 "$nosock" "no socket created"
# -u overrides user: of the file, root included.
refused "$T/root" "$T/root/m.sock" -u nobody -n
is 0 "$rc" "-n: -u nobody overrides user: root"

# 3. As root with -u nobody: runs as nobody (its login group nogroup).
u=$(id -u nobody); g=$(id -g nobody)
"$MILTER" -f -c "$T/none/conf/lurewall.yaml" -p "unix:$T/none/m.sock" \
    -u nobody >"$T/none/milter.log" 2>&1 &
MILTER_PID=$!
wait_for 10 unix_open "$T/none/m.sock"
ok $? "-u nobody: it listens"
is "$u $u $u $u $g $g $g $g " "$(ids "$MILTER_PID")" \
    "-u nobody: real, effective, saved uid and gid are nobody's"
is "nobody 700" "$(stat -c '%U %a' "$T/none/conf/quarantine")" \
    "the quarantine it made is nobody's"
unlike "running as root|refusing" "$(cat "$T/none/milter.log")" \
    "no complaint"
milter_stop
is 0 $? "SIGTERM stops it (exit 0)"

# 4. user: nobody:postfix from the file, no -u.
mkdir -p "$T/conf-user"
LW_CONF_EXTRA='user: nobody:postfix' lw_conf "$T/conf-user"
"$MILTER" -f -c "$T/conf-user/conf/lurewall.yaml" \
    -p "unix:$T/conf-user/m.sock" >"$T/conf-user/milter.log" 2>&1 &
MILTER_PID=$!
wait_for 10 unix_open "$T/conf-user/m.sock"
ok $? "user: nobody:postfix: it listens"
pg=$(getent group postfix | cut -d: -f3)
is "$u $u $u $u $pg $pg $pg $pg " "$(ids "$MILTER_PID")" \
    "user: from the file: runs as nobody, group postfix"
is "nobody postfix 660" "$(stat -c '%U %G %a' "$T/conf-user/m.sock")" \
    "the socket: the user's, group postfix, mode 0660"
milter_stop

# 5. Started as nobody: stays nobody, without or with -u nobody; cannot
# become another user.
mkdir -p "$T/nb/run"
LW_QDIR=$T/nb/run/q lw_conf "$T/nb"
chown nobody "$T/nb/run"
# setpriv execs: the pid is the daemon's.
asnobody="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
$asnobody "$MILTER" -f -c "$T/nb/conf/lurewall.yaml" \
    -p "unix:$T/nb/run/m.sock" >"$T/nb/milter.log" 2>&1 &
MILTER_PID=$!
wait_for 10 unix_open "$T/nb/run/m.sock"
ok $? "started as nobody without a user: it listens"
is "$u $u $u $u $g $g $g $g " "$(ids "$MILTER_PID")" "it runs as nobody"
milter_stop
is 0 $? "SIGTERM stops it (exit 0)"
$asnobody "$MILTER" -f -c "$T/nb/conf/lurewall.yaml" \
    -p "unix:$T/nb/run/m.sock" -u nobody >>"$T/nb/milter.log" 2>&1 &
MILTER_PID=$!
wait_for 10 unix_open "$T/nb/run/m.sock"
ok $? "started as nobody with -u nobody: it listens"
is "$u $u $u $u $g $g $g $g " "$(ids "$MILTER_PID")" "it runs as nobody"
milter_stop
out=$(bounded $asnobody "$MILTER" -f \
    -c "$T/nb/conf/lurewall.yaml" -p "unix:$T/nb/run/m2.sock" -u postfix 2>&1)
is 1 $? "as nobody, -u postfix: exit 1"
like "only root can change user" "$out" "and says why"
done_testing
