# t/lib-postfix.sh: run lurewall-milter, a private Postfix and smtp-sink
# for end-to-end tests.  Source it after t/lib.sh:
#
#	. t/lib.sh; . t/lib-postfix.sh
#	T=$(tmpdir 6050-x); lw_trap
#	lw_conf "$T"                      # $T/conf/{lurewall.yaml,policy.d/}
#	milter_start "$T" unix:$T/milter.sock
#	sink_start "$T"                   # SINK_PORT, dumps in $T/sink/
#	pf_start "$T" "$MILTER_SOCK"      # PF_PORT, PF_DIR
#	swaks ... --server 127.0.0.1:$PF_PORT
#	mt_run NAME "what it shows" <<'EOF'  # or miltertest, Lua on stdin
#	sink_wait 1; pf_queue_json        # what arrived / what Postfix holds
#
# Everything listens on 127.0.0.1 on ports picked at run time and is
# stopped by lw_cleanup (lw_trap installs it on EXIT).  Each wait is
# bounded.  Needs root (Postfix drops to the postfix user itself).

PF_DIR=
PF_PORT=
SINK_PORT=
SINK_PID=
SINK_DIR=
MILTER_PID=
MILTER_SOCK=
MILTER_LOG=

# A TCP port nobody listens on right now (the kernel picks it).
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
	_w_n=$(($1 * 10)); shift
	while [ "$_w_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_w_n=$((_w_n - 1))
	done
	return 1
}

port_open() {	# port_open PORT: something accepts on 127.0.0.1:PORT
	python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# redis_up DIR PORT PASSWORD: a redis-server on 127.0.0.1:PORT run in
# DIR, no persistence, the user "lurewall" (PASSWORD) limited to
# lurewall:* keys without admin or dangerous commands, and the default
# user the admin's (PASSWORD-admin), as contrib/MULTI-MX sets it up
# (the append-only file is replayed as the default user: off, every
# MULTI/EXEC in it would be refused); REDIS_PID.  Waits until it answers
# (listening is not enough while it loads a file).  redis_down stops
# it (SIGTERM), redis_kill kills it (SIGKILL, a crash), redis_cli talks
# to it as lurewall.  With REDIS_AOF=1 every write goes to an
# append-only file fsync'd at once: started again in the same DIR and
# PORT after a kill, it has its data.
REDIS_PID=
REDIS_PORT= REDIS_PASS=
redis_up() {
	command -v redis-server >/dev/null ||
	    bail "redis-server missing: contrib/install-deps"
	REDIS_PORT=$2 REDIS_PASS=$3
	if [ "${REDIS_AOF:-0}" = 1 ]; then
		_r_aof="--appendonly yes --appendfsync always"
	else
		_r_aof="--appendonly no"
	fi
	# shellcheck disable=SC2086
	(cd "$1" && exec redis-server --port "$2" --bind 127.0.0.1 \
	    --save '' $_r_aof --daemonize no \
	    --user default on ">$3-admin" '~*' '&*' '+@all' \
	    --user lurewall on ">$3" '~lurewall:*' '+@all' '-@admin' \
	    '-@dangerous' --loglevel warning --logfile redis.log) &
	REDIS_PID=$!
	wait_for 30 redis_ping || bail "redis-server did not start"
}
redis_ping() {
	[ "$(redis_cli PING 2>/dev/null)" = PONG ]
}
redis_cli() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --user lurewall \
	    --pass "$REDIS_PASS" --no-auth-warning "$@"
}
redis_down() {
	[ -n "$REDIS_PID" ] && kill -TERM "$REDIS_PID" 2>/dev/null &&
	    wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}
redis_kill() {
	[ -n "$REDIS_PID" ] && kill -KILL "$REDIS_PID" 2>/dev/null &&
	    wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

# redis_trap: at exit, $REDIS_CLEANUP_FIRST (a command, if set), the
# milters $M1_PID and $M2_PID, then the server (the two-host tests).
M1_PID= M2_PID=
redis_cleanup() {
	[ -n "${REDIS_CLEANUP_FIRST:-}" ] && $REDIS_CLEANUP_FIRST
	for _rc_p in $M1_PID $M2_PID; do
		MILTER_PID=$_rc_p milter_stop
	done
	redis_down
}
redis_trap() {
	trap 'redis_cleanup' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

unix_open() {	# unix_open PATH: something accepts on the unix socket PATH
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(1)
sys.exit(0 if s.connect_ex(sys.argv[1]) == 0 else 1)' "$1"
}

# lw_conf DIR [POLICY-YAML]: a config in DIR/conf with a default policy.
# Without POLICY-YAML the policy tags at 50 (subject prefix [要注意]),
# quarantines at 400 and rejects at 800, with test rules on the
# subject: tagme (100), quarme (500), rejectme (1000), and on the body:
# bodytagme (100); MIME_LIMIT scores 50 (tags, as in the shipped
# policy).  A quarantined message is stored in DIR/conf/quarantine (or
# $LW_QDIR) and then held (Postfix hold).  Extra lines for lurewall.yaml
# come from $LW_CONF_EXTRA.
lw_conf() {
	mkdir -p "$1/conf/policy.d"
	{
		echo "policy_dir: policy.d"
		echo "on_error: tempfail"
		echo "quarantine_dir: ${LW_QDIR:-quarantine}"
		[ -n "${LW_CONF_EXTRA:-}" ] && printf '%s\n' "$LW_CONF_EXTRA"
	} >"$1/conf/lurewall.yaml"
	if [ $# -ge 2 ]; then
		printf '%s\n' "$2" >"$1/conf/policy.d/default.yaml"
	else
		cat >"$1/conf/policy.d/default.yaml" <<'EOF'
thresholds:
  tag: 50
  quarantine: 400
  reject: 800
scores:
  MIME_LIMIT: 50      # as in the shipped policy: reaches tag
tag:
  subject_prefix: "[要注意]"
  headers: true
reject_text: "Rejected by lurewall test policy"
quarantine:
  then: hold
rules:
  - name: TEST_TAG
    where: subject
    pattern: 'tagme'
    score: 100
  - name: TEST_BODY
    where: body
    pattern: 'bodytagme'
    score: 100
  - name: TEST_QUAR
    where: subject
    pattern: 'quarme'
    score: 500
  - name: TEST_REJECT
    where: subject
    pattern: 'rejectme'
    score: 1000
EOF
	fi
}

# milter_start DIR SOCKET [ARGS...]: run lurewall-milter -f with
# DIR/conf/lurewall.yaml, log in DIR/milter.log; wait until it listens.
# It runs as $LW_MILTER_USER (default nobody:postfix: the daemon refuses
# to keep root, and Postfix reaches a unix socket through its group);
# a -u in ARGS wins.  What it must write (the quarantine, TMPDIR) has
# to be that user's: let the daemon create the quarantine directory.
LW_MILTER_USER=${LW_MILTER_USER:-nobody:postfix}
milter_start() {
	_m_dir=$1 MILTER_SOCK=$2; shift 2
	MILTER_LOG=$_m_dir/milter.log
	"$MILTER" -f -c "$_m_dir/conf/lurewall.yaml" -p "$MILTER_SOCK" \
	    -u "$LW_MILTER_USER" "$@" >>"$MILTER_LOG" 2>&1 &
	MILTER_PID=$!
	case $MILTER_SOCK in
	unix:*)	wait_for 10 unix_open "${MILTER_SOCK#unix:}" ;;
	inet:*)	_m_p=${MILTER_SOCK#inet:}; wait_for 10 port_open "${_m_p%@*}" ;;
	esac || { cat "$MILTER_LOG" >&2; bail "lurewall-milter did not start"; }
}

# milter_stop: SIGTERM (libmilter's stop), then wait, bounded.
milter_stop() {
	[ -n "$MILTER_PID" ] || return 0
	kill -TERM "$MILTER_PID" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $MILTER_PID" ||
	    kill -KILL "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	_m_rc=$?
	MILTER_PID=
	return $_m_rc
}

# mt_run [-s SOCKET] NAME DESCRIPTION [ARGS...]: a miltertest script
# against the daemon at SOCKET (default $MILTER_SOCK, the last one
# milter_start started): $MT_PRELUDE (default t/lib-mt-send.lua: check,
# send, reply) and then the Lua on standard input, kept as $T/NAME.lua
# ($T: the test's directory).  ARGS go to miltertest (-D name=value;
# sock is always defined).  One TAP line, ok when the script exits 0,
# with miltertest's output as diagnostics when not; returns its status.
mt_run() {
	_mt_sock=$MILTER_SOCK
	if [ "$1" = -s ]; then
		_mt_sock=$2
		shift 2
	fi
	_mt_lua=$T/$1.lua _mt_what=$2
	shift 2
	cat "${MT_PRELUDE:-$LW_TOP/t/lib-mt-send.lua}" - >"$_mt_lua"
	_mt_out=$(bounded miltertest -D sock="$_mt_sock" "$@" \
	    -s "$_mt_lua" 2>&1)
	_mt_rc=$?
	ok $_mt_rc "$_mt_what"
	[ $_mt_rc -eq 0 ] || printf '%s\n' "$_mt_out" | sed 's/^/#   /'
	return $_mt_rc
}

# sink_start DIR: smtp-sink on a free port, one file per message in
# DIR/sink/ (as written by smtp-sink -d).
sink_start() {
	SINK_DIR=$1/sink
	mkdir -p "$SINK_DIR"
	chown postfix "$SINK_DIR"
	SINK_PORT=$(free_port)
	/usr/sbin/smtp-sink -u postfix -R "$SINK_DIR" -d "%Y%m%d%H/%M." \
	    127.0.0.1:"$SINK_PORT" 64 >"$1/sink.log" 2>&1 &
	SINK_PID=$!
	wait_for 10 port_open "$SINK_PORT" || bail "smtp-sink did not start"
}

sink_stop() {
	[ -n "$SINK_PID" ] || return 0
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	SINK_PID=
}

# Messages the sink has received so far, one path a line.
sink_files() {
	find "$SINK_DIR" -type f | sort
}

# sink_wait N [SECONDS]: until the sink holds at least N messages.
sink_wait() {
	wait_for "${2:-30}" sh -c "[ \$(find '$SINK_DIR' -type f | wc -l) -ge $1 ]"
}

# sink_count REGEX: how many messages at the sink have a line matching
# REGEX (0 when none; never reads standard input).  smtp-sink writes a
# file as the message comes in: wait for the line, not for the file.
sink_count() {
	find "$SINK_DIR" -type f -exec grep -lE -- "$1" {} + 2>/dev/null |
	    wc -l
}

# sink_has REGEX [N]: at least N (1) messages match; for wait_for.
sink_has() {
	[ "$(sink_count "$1")" -ge "${2:-1}" ]
}

# sink_grep PATTERN: the sink file(s) holding a line matching PATTERN.
sink_grep() {
	grep -rlE -- "$1" "$SINK_DIR" 2>/dev/null
}

# pf_register: /etc/postfix/main.cf must exist and list our config
# directory in alternate_config_directories (postfix -c refuses others).
# Serialised with flock: other tests may do the same at the same time.
pf_register() {
	(
		flock -w 30 9 || exit 1
		[ -f /etc/postfix/main.cf ] ||
		    printf '# made by lurewall t/lib-postfix.sh\n' \
		    >/etc/postfix/main.cf
		_cur=$(postconf -c /etc/postfix -h alternate_config_directories \
		    2>/dev/null)
		case " $_cur " in
		*" $1 "*) ;;
		*) postconf -c /etc/postfix -e \
		    "alternate_config_directories = $_cur $1" ;;
		esac
	) 9>/etc/postfix/.lurewall-test.lock
}

pf_unregister() {
	(
		flock -w 30 9 || exit 1
		_cur=$(postconf -c /etc/postfix -h alternate_config_directories \
		    2>/dev/null)
		_new=$(printf '%s\n' $_cur | grep -vxF -- "$1" | tr '\n' ' ')
		postconf -c /etc/postfix -e \
		    "alternate_config_directories = $_new"
	) 9>/etc/postfix/.lurewall-test.lock
}

# pf_start DIR MILTER [MAIN-CF-LINES]: a private Postfix in DIR/postfix
# (config in DIR/postfix/etc, queue and data beside it) listening on
# 127.0.0.1:PF_PORT, relaying everything to the sink, with MILTER as
# smtpd_milters and non_smtpd_milters (milter_default_action tempfail).
# The log is DIR/postfix/maillog (no syslog needed).  $PF_MASTER_EXTRA
# lines go to the end of master.cf (another listener, say).
#
# Several Postfixes in one test: pf_start sets PF_DIR and PF_PORT for
# the one it started; save them after each (pf_use below switches), and
# stop each (PF_DIR=... pf_stop).
pf_start() {
	PF_DIR=$1/postfix
	_pf_milter=$2
	case $_pf_milter in
	inet:*@*) _p=${_pf_milter#inet:}; _pf_milter=inet:${_p#*@}:${_p%@*} ;;
	esac
	rm -rf "$PF_DIR"
	mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data"
	chown postfix "$PF_DIR/data"
	PF_PORT=$(free_port)
	# master.cf: smtpd on our port only; no chroot (the queue is ours)
	sed -e "s/^smtp\([[:space:]]*\)inet/127.0.0.1:$PF_PORT\1inet/" \
	    -e 's/^\([^#][^[:space:]]*[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]\{1,\}[^[:space:]]\{1,\}[[:space:]]\{1,\}\)y/\1n/' \
	    /etc/postfix/master.cf >"$PF_DIR/etc/master.cf"
	[ -n "${PF_MASTER_EXTRA:-}" ] &&
	    printf '%s\n' "$PF_MASTER_EXTRA" >>"$PF_DIR/etc/master.cf"
	cat >"$PF_DIR/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = mx.lurewall.test
mydomain = lurewall.test
myorigin = lurewall.test
mydestination =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = static:all
relayhost = [127.0.0.1]:$SINK_PORT
smtpd_relay_restrictions = permit_mynetworks, reject
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_milters = $_pf_milter
non_smtpd_milters = $_pf_milter
milter_default_action = tempfail
milter_protocol = 6
alias_maps =
alias_database =
biff = no
EOF
	[ $# -ge 3 ] && printf '%s\n' "$3" >>"$PF_DIR/etc/main.cf"
	pf_register "$PF_DIR/etc" || bail "cannot register $PF_DIR/etc"
	postfix -c "$PF_DIR/etc" check >>"$1/postfix.out" 2>&1
	postfix -c "$PF_DIR/etc" set-permissions >>"$1/postfix.out" 2>&1 ||
	    { cat "$1/postfix.out" >&2; bail "postfix set-permissions failed"; }
	postfix -c "$PF_DIR/etc" start >>"$1/postfix.out" 2>&1 ||
	    { cat "$1/postfix.out" >&2; bail "postfix start failed"; }
	wait_for 20 port_open "$PF_PORT" ||
	    { cat "$1/postfix.out" "$PF_DIR/maillog" >&2;
	    bail "postfix does not listen"; }
}

# pf_use DIR PORT: the Postfix that pf_send, pf_queue_json, pf_idle,
# pf_flush and pf_stop talk to.
pf_use() {
	PF_DIR=$1 PF_PORT=$2
}

pf_stop() {
	[ -n "$PF_DIR" ] || return 0
	postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1 ||
	    postfix -c "$PF_DIR/etc" abort >/dev/null 2>&1
	# master waits for its children; give it a bounded moment
	wait_for 10 sh -c "! postfix -c '$PF_DIR/etc' status" ||
	    postfix -c "$PF_DIR/etc" abort >/dev/null 2>&1
	pf_unregister "$PF_DIR/etc"
	PF_DIR=
}

# Postfix's queue as JSON, one message a line (postqueue -j).
pf_queue_json() {
	postqueue -c "$PF_DIR/etc" -j 2>/dev/null
}

# pf_idle: Postfix's queue (maildrop included) is empty: nothing more
# is on its way.  A check that a second copy never came waits for this,
# not for a fixed time.
pf_idle() {
	[ -z "$(pf_queue_json)" ]
}

# pf_flush: ask Postfix to deliver what is deferred, now.
pf_flush() {
	postqueue -c "$PF_DIR/etc" -f >/dev/null 2>&1
}

# pf_wait_log REGEX [SECONDS]: until the Postfix log has a matching line.
pf_wait_log() {
	wait_for "${2:-30}" grep -Eq -- "$1" "$PF_DIR/maillog"
}

# pf_send FROM TO FILE: submit FILE over SMTP to the private Postfix;
# prints swaks' transcript, returns its status.
pf_send() {
	bounded swaks --silent 1 --server 127.0.0.1 --port "$PF_PORT" \
	    --helo client.lurewall.test --from "$1" --to "$2" --data "$3" \
	    --timeout 30
}

lw_cleanup() {
	pf_stop
	sink_stop
	milter_stop
}

lw_trap() {
	trap 'lw_cleanup' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
