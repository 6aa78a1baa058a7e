#!/bin/sh
# 6004-run-milter: `make run`'s contrib/run-milter starts the daemon from
# the source tree with the bundled conf/ (no lurewall user, no /var paths
# needed), listening on 127.0.0.1 and answering milter clients; the
# bundled config passes -n.  Started by root, the daemon runs as nobody
# (it never keeps root), even over a quarantine an earlier run left
# root's.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=30

T=$(tmpdir 6004-run-milter)
lw_trap
out=$(bounded "$MILTER" -n -c "$LW_TOP/conf/lurewall.yaml" 2>&1); rc=$?
ok $rc "the bundled conf/lurewall.yaml passes -n"; [ $rc -eq 0 ] || diag "$out"

mkdir -p "$T/run/quarantine"	# as an earlier run as root left it
chmod 0700 "$T/run" "$T/run/quarantine"
port=$(free_port)
LUREWALL_PORT=$port LUREWALL_RUNDIR=$T/run "$LW_TOP/contrib/run-milter" \
    >"$T/out" 2>&1 &
MILTER_PID=$!	# run-milter execs the daemon: lw_cleanup stops it
wait_for 10 port_open "$port"
ok $? "run-milter listens on 127.0.0.1:$port"
like "smtpd_milters = inet:127.0.0.1:$port" "$(cat "$T/out")" \
    "and prints the Postfix main.cf lines"
is "$MILTER_PID" "$(cat "$T/run/pid/lurewall-milter.pid" 2>/dev/null)" \
    "pidfile in the run directory"
out=$(bounded "$LUREWALL" -c "$T/run/lurewall.yaml" reload 2>&1)
ok $? "the printed lurewall reload command reloads it"
[ $? -eq 0 ] || diag "$out"
u=$(id -u nobody)
is "$u $u $u $u" "$(awk '/^Uid:/ {print $2, $3, $4, $5}' \
    "/proc/$MILTER_PID/status" 2>/dev/null)" "started by root, it runs as nobody"
is "nobody 700" "$(stat -c '%U %a' "$T/run/quarantine")" \
    "the quarantine is nobody's"
like "listening on inet:$port@127\.0\.0\.1 as nobody:nogroup" \
    "$(cat "$T/out")" "and says so"

cat >"$T/clean.lua" <<'EOF2'
local conn = mt.connect(sock, 40, 0.25)
if conn == nil then error("connect") end
if mt.conninfo(conn, "client.example", "192.0.2.1") ~= nil then error("conn") end
if mt.helo(conn, "client.example") ~= nil then error("helo") end
mt.macro(conn, SMFIC_MAIL, "i", "RUN1")
if mt.mailfrom(conn, "<a@example.org>") ~= nil then error("mail") end
if mt.rcptto(conn, "<b@example.com>") ~= nil then error("rcpt") end
if mt.header(conn, "Subject", " hello") ~= nil then error("header") end
if mt.eom(conn) ~= nil then error("eom") end
if mt.getreply(conn) ~= SMFIR_ACCEPT then
	mt.echo("FAIL: not accepted")
	error("reply")
end
mt.disconnect(conn)
EOF2
out=$(bounded miltertest -D sock="inet:$port@127.0.0.1" -s "$T/clean.lua" 2>&1)
ok $? "a clean message through the bundled policy is accepted"
[ -z "$out" ] || diag "$out"
like "qid=RUN1: .*action=accept" "$(cat "$T/out")" "verdict logged to the terminal"
done_testing
