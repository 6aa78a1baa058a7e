#!/bin/sh
# 6002-daemon: lurewall-milter's options and life cycle: -V, -n on a
# good and a broken config, a stale unix socket, -u (socket group and
# mode, privileges dropped for good), -P pidfile, SIGUSR1 reload (a
# broken policy keeps the running one), on_error when buffering fails,
# SIGTERM stops.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6002-daemon)
lw_trap

out=$(bounded "$MILTER" -V)
like "^lurewall-milter [0-9]+\.[0-9]+" "$out" "-V prints the version"

lw_conf "$T"
out=$(bounded "$MILTER" -n -c "$T/conf/lurewall.yaml" 2>&1)
ok $? "-n: good config exits 0"
like "ok" "$out" "-n says ok"

mkdir -p "$T/bad/policy.d"
cp "$T/conf/lurewall.yaml" "$T/bad/"
printf 'thresholds:\n  tag: [oops\n' >"$T/bad/policy.d/default.yaml"
out=$(bounded "$MILTER" -n -c "$T/bad/lurewall.yaml" 2>&1)
is 1 $? "-n: broken policy exits 1"
like "default\.yaml" "$out" "-n names the broken file"
out=$(bounded "$MILTER" -n -c "$T/nonexistent.yaml" 2>&1)
is 1 $? "-n: missing config exits 1"
out=$(bounded "$MILTER" -x 2>&1)
is 1 $? "unknown option exits 1"
like "usage" "$out" "usage on a bad option"

# check() (and send, reply) from t/lib-mt-send.lua; this test's own after
{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
function send(subject, body)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conn")
	check(mt.helo(conn, "client.example") == nil, "helo")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<sender@example.org>") == nil, "mailfrom")
	check(mt.rcptto(conn, "<user@example.com>") == nil, "rcptto")
	check(mt.header(conn, "From", " sender@example.org") == nil, "from")
	check(mt.header(conn, "Subject", " " .. subject) == nil, "subject")
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, body or "hello\r\n") == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	return conn
end
EOF
} >"$T/prelude.lua"
# mt NAME SOCKET QID: run the Lua body (stdin) after the prelude
mt() {
	cat "$T/prelude.lua" - >"$T/$1.lua"
	bounded miltertest -D sock="$2" -D qid="$3" -s "$T/$1.lua" 2>&1
}

# A stale socket file from a crash does not stop the start.
S=$T/milter.sock
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$S"
test -S "$S"; ok $? "stale socket in place"
milter_start "$T" "unix:$S" -u nobody:postfix -P "$T/milter.pid"
ok 0 "started over a stale socket"
is "$MILTER_PID" "$(cat "$T/milter.pid" 2>/dev/null)" "-P writes the pid"
is "nobody postfix 660" "$(stat -c '%U %G %a' "$S")" \
    "-u: socket owned by the user and group, mode 0660"
ids=$(awk '/^Uid:|^Gid:/ {print $2, $3, $4, $5}' "/proc/$MILTER_PID/status" |
    tr '\n' ' ')
u=$(id -u nobody); g=$(getent group postfix | cut -d: -f3)
is "$u $u $u $u $g $g $g $g " "$ids" "-u: real, effective, saved uid/gid dropped"
is "$g" "$(awk '/^Groups:/ {print $2}' "/proc/$MILTER_PID/status")" \
    "-u: supplementary groups dropped"

out=$(mt tag1 "unix:$S" R1 <<'EOF'
local conn = send("tagme one")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " =?UTF-8?B?W+imgeazqOaEj10=?= tagme one"), "first prefix")
EOF
)
ok $? "tag with the first policy"; [ -z "$out" ] || diag "$out"

# Reload: a new prefix is in force after SIGUSR1.
sed -i 's/subject_prefix: .*/subject_prefix: "[CHECK]"/' \
    "$T/conf/policy.d/default.yaml"
kill -USR1 "$MILTER_PID"
wait_for 10 grep -q "reloaded" "$MILTER_LOG"
ok $? "SIGUSR1 logs the reload"
out=$(mt tag2 "unix:$S" R2 <<'EOF'
local conn = send("tagme two")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " [CHECK] tagme two"), "new prefix")
EOF
)
ok $? "reloaded policy in force"; [ -z "$out" ] || diag "$out"

# A broken policy: logged, the running one stays.
cp "$T/conf/policy.d/default.yaml" "$T/good.yaml"
printf 'thresholds: {tag: [\n' >"$T/conf/policy.d/default.yaml"
kill -USR1 "$MILTER_PID"
wait_for 10 grep -q "reload failed" "$MILTER_LOG"
ok $? "broken policy: reload failure logged"
like "reload failed.*default\.yaml" "$(cat "$MILTER_LOG")" \
    "the log names the broken file"
out=$(mt tag3 "unix:$S" R3 <<'EOF'
local conn = send("tagme three")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " [CHECK] tagme three"), "old policy kept")
EOF
)
ok $? "old policy still in force, mail still flows"; [ -z "$out" ] || diag "$out"
kill -0 "$MILTER_PID"; ok $? "daemon still running"
cp "$T/good.yaml" "$T/conf/policy.d/default.yaml"

milter_stop
ok $? "SIGTERM: clean exit"

# on_error: spilling to an unusable TMPDIR is an internal error.
T2=$T/onerr
LW_CONF_EXTRA='limits:
  memory_body_bytes: 16' lw_conf "$T2"
TMPDIR=$T2/missing milter_start "$T2" "unix:$T2/m.sock"
out=$(mt err1 "unix:$T2/m.sock" E1 <<'EOF'
local conn = send("harmless", string.rep("a", 100) .. "\r\n")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "no reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
    "lurewall: temporary failure, please try again later"), "not 451 4.3.0")
EOF
)
ok $? "on_error tempfail: 451 4.3.0 when the body cannot be buffered"
[ -z "$out" ] || diag "$out"
like "qid=E1: .*action=tempfail" "$(cat "$MILTER_LOG")" "tempfail logged"
milter_stop

sed -i 's/^on_error: .*/on_error: accept/' "$T2/conf/lurewall.yaml"
TMPDIR=$T2/missing milter_start "$T2" "unix:$T2/m.sock"
out=$(mt err2 "unix:$T2/m.sock" E2 <<'EOF'
local conn = send("harmless", string.rep("a", 100) .. "\r\n")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
EOF
)
ok $? "on_error accept: accepted when the body cannot be buffered"
[ -z "$out" ] || diag "$out"
milter_stop
done_testing
