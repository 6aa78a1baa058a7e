#!/bin/sh
# 6007-drain: SIGTERM while an end of message is in progress.  libmilter's
# smfi_main returns without waiting for it; the daemon must wait for it
# before it closes the learned store, the state and the quarantine.  The
# scan is held at a test gate (LUREWALL_TEST_EOM_GATE, a FIFO) until the
# test writes to it, so every step is an event, not a delay:
#  - drained: the daemon logs that it drains, stays up, and once the
#    gate opens the message gets its real verdict (stored and held),
#    logged before the stores close; exit 0, the pidfile gone;
#  - a second SIGTERM during the drain: exit 1 at once, said in the log,
#    nothing stored, the pidfile gone;
#  - the bound (scan_timeout + 10 s) passing: exit 1, said in the log.
# The sanitizer build runs the same (a use after free is fatal there).
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=90

T=$(tmpdir 6007-drain)
lw_trap
MT_PID=
trap 'lw_cleanup; [ -n "$MT_PID" ] && kill "$MT_PID" 2>/dev/null' EXIT

GATE=$T/gate
mkfifo -m 0666 "$GATE" || bail "mkfifo"

{ cat "$LW_TOP/t/lib-mt-send.lua"; cat <<'EOF'
-- the reply waits while the daemon drains: longer than the default 10 s
mt.set_timeout(80)
local conn = mt.connect(sock, 40, 0.25)
check(conn ~= nil, "connect")
check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conninfo")
check(mt.helo(conn, "client.example") == nil, "helo")
mt.macro(conn, SMFIC_MAIL, "i", qid)
check(mt.mailfrom(conn, "<sender@example.org>") == nil, "mailfrom")
check(mt.rcptto(conn, "<user@example.com>") == nil, "rcptto")
check(mt.header(conn, "From", " Sender <sender@example.org>") == nil, "h")
check(mt.header(conn, "Message-ID", " <" .. qid .. "@example.org>") == nil,
    "h")
check(mt.header(conn, "Subject", " quarme invoice") == nil, "h")
check(mt.eoh(conn) == nil, "eoh")
check(mt.bodystring(conn, "Please see the invoice.\r\n") == nil, "body")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_ACCEPT, "not accepted")
check(mt.eom_check(conn, MT_QUARANTINE), "not held")
-- said at once, unbuffered: the daemon exits once drained, and the QUIT
-- of the disconnect may then meet a closed socket (SIGPIPE)
io.stderr:write("verdict: accepted and held\n")
mt.disconnect(conn)
EOF
} >"$T/send.lua"

# start NAME: the daemon with the gate, socket $T/NAME.sock, pidfile
# $T/run/NAME.pid (the daemon makes $T/run its user's, to remove it)
start() {
	LUREWALL_TEST_EOM_GATE=$GATE
	export LUREWALL_TEST_EOM_GATE
	milter_start "$T" "unix:$T/$1.sock" -P "$T/run/$1.pid"
	unset LUREWALL_TEST_EOM_GATE
}
# send NAME QID: miltertest in the background (MT_PID), output in
# $T/QID.out; returns once the message waits at the gate
send() {
	bounded miltertest -D sock="unix:$T/$1.sock" -D qid="$2" \
	    -s "$T/send.lua" >"$T/$2.out" 2>&1 &
	MT_PID=$!
	wait_for 30 grep -q "qid=$2: test gate: waiting" "$MILTER_LOG"
}
# term: SIGTERM; returns once the daemon says it drains
term() {
	kill -TERM "$MILTER_PID"
	wait_for 30 grep -q "stopping: draining 1 message" "$MILTER_LOG"
}
# gone [SECONDS]: the daemon exited; its status in $rc
gone() {
	wait_for "${1:-30}" sh -c "! kill -0 $MILTER_PID"
	wait "$MILTER_PID"
	rc=$?
	MILTER_PID=
}
items() {
	bounded "$LUREWALL" quarantine list --json -c "$T/conf/lurewall.yaml"
}

# 1. Drained: the real verdict, then the stores close.
lw_conf "$T"
start one
send one DRAIN1
ok $? "the end of message waits at the gate"
term
ok $? "SIGTERM: the daemon says it drains 1 message"
kill -0 "$MILTER_PID"
ok $? "the daemon is still up while the message is in progress"
# the daemon reads the FIFO: the write does not block (bounded anyway)
timeout -k 5 10 sh -c "printf x >'$GATE'"
ok $? "gate released"
wait "$MT_PID"
MT_PID=
like '^verdict: accepted and held' "$(cat "$T/DRAIN1.out")" \
    "the message got its verdict: accepted and held"
gone
is 0 "$rc" "exit 0 once drained"
test ! -e "$T/run/one.pid"
ok $? "pidfile removed"
like '"rules":.*TEST_QUAR' "$(items)" "the message is in the quarantine"
is 1 "$(items | grep -c .)" "exactly one item"
# The order of the log: verdict, drained, stores closed, stopped last.
order=$(grep -nE 'qid=DRAIN1: .*action=quarantine|stopping: drained|stopped$' \
    "$MILTER_LOG" | cut -d: -f1 | tr '\n' ' ')
n=$(grep -c . "$MILTER_LOG")
like "^[0-9]+ [0-9]+ $n $" "$order" "verdict, drained, then stopped (last line)"
[ "${order%% *}" -lt "$(echo "$order" | cut -d' ' -f2)" ]
ok $? "the verdict is logged before the drain ends"
unlike 'Sanitizer|runtime error|second stop signal|still in progress' \
    "$(cat "$MILTER_LOG")" "no sanitizer report, no forced exit"

# 2. A second SIGTERM: out at once, nothing stored.
: >"$MILTER_LOG"
start two
send two DRAIN2
ok $? "second run: the end of message waits at the gate"
term
ok $? "second run: SIGTERM, draining"
kill -TERM "$MILTER_PID"
gone
is 1 "$rc" "a second SIGTERM: exit 1"
like 'stopping: second stop signal: exiting now with 1 message\(s\) in progress' \
    "$(cat "$MILTER_LOG")" "the log says why"
test ! -e "$T/run/two.pid"
ok $? "pidfile removed"
wait "$MT_PID"
MT_PID=
unlike 'verdict' "$(cat "$T/DRAIN2.out")" \
    "the client got no verdict (its MTA retries)"
is 1 "$(items | grep -c .)" "nothing stored for the cut message"
unlike 'qid=DRAIN2: .*action=' "$(cat "$MILTER_LOG")" "no verdict logged"

# 3. The bound: scan_timeout (1 s) + 10 s, then out.
: >"$MILTER_LOG"
LW_CONF_EXTRA='limits:
  scan_timeout: 1s' lw_conf "$T"
start three
send three DRAIN3
ok $? "third run: the end of message waits at the gate"
term
ok $? "third run: SIGTERM, draining"
like 'waiting up to 11s' "$(cat "$MILTER_LOG")" \
    "the bound is scan_timeout + 10 s"
gone 40
is 1 "$rc" "the bound passed: exit 1"
like 'stopping: 1 message\(s\) still in progress after 11s: exiting' \
    "$(cat "$MILTER_LOG")" "the log says why"
test ! -e "$T/run/three.pid"
ok $? "pidfile removed"
wait "$MT_PID"
MT_PID=
done_testing
