# t/lib-sendmail.sh: a private Sendmail on 127.0.0.1 for end-to-end
# tests.  Source it after t/lib.sh and t/lib-postfix.sh (free_port,
# wait_for, port_open, the milter and smtp-sink helpers):
#
#	. t/lib.sh; . t/lib-postfix.sh; . t/lib-sendmail.sh
#	sm_uts "$0" "$@"                   # own UTS namespace, FQDN host name
#	T=$(tmpdir 6300-x); lw_trap
#	sm_unpack "$T"                     # SM_BIN, SM_ROOT
#	sink_start "$T"
#	sm_start "$T" MILTER_PORT          # SM_PORT, SM_DIR, SM_SUBMIT
#	swaks ... --server 127.0.0.1:$SM_PORT
#	sm_mailq -qQ                       # Sendmail's quarantine queue
#
# Debian's sendmail packages conflict with postfix, so they are never
# installed: contrib/install-deps keeps their .debs in $LW_SENDMAIL_CACHE
# (default /var/cache/lurewall-test/sendmail) and installs m4 and the
# libraries sendmail links against; sm_unpack unpacks the .debs with
# dpkg -x.  Missing .debs are a failure (bail), never a skip.
#
# The MTA (sendmail.cf) listens on 127.0.0.1:SM_PORT only, relays every
# recipient to smtp-sink and runs lurewall-milter through
# contrib/lurewall.m4 with only the port changed.  The submission
# program (submit.cf, SM_SUBMIT) hands mail to that MTA over SMTP, as
# Debian's /usr/sbin/sendmail does.  Every path is private (OSTYPE(linux),
# not OSTYPE(debian), which hard-codes /etc/mail); no DNS is used.
# Needs root; the submission program runs as nobody (RunAsUser).

SM_CACHE=${LW_SENDMAIL_CACHE:-/var/cache/lurewall-test/sendmail}
SM_ROOT=
SM_BIN=
SM_DIR=
SM_PORT=
SM_PID=
SM_SUBMIT=
SM_HOST=mx.lurewall.test

# sm_uts "$0" "$@": run the test again in its own UTS namespace with the
# host name mx.lurewall.test.  With a short host name Sendmail (and every
# mailq) sleeps 60 s trying to qualify it; a namespace of our own lets us
# name the host without touching the machine's name.
sm_uts() {
	[ "$(hostname)" = "$SM_HOST" ] && return 0
	[ -z "${LW_SM_UTS:-}" ] || bail "cannot set the host name in a UTS namespace"
	command -v unshare >/dev/null 2>&1 || bail "unshare(1) missing"
	LW_SM_UTS=1 exec unshare -u sh -c \
	    'hostname "$0" && exec sh "$@"' "$SM_HOST" "$@"
}

# sm_unpack DIR: unpack the cached sendmail-bin, sendmail-base and
# sendmail-cf .debs (the newest of each) into DIR/sm-root.
sm_unpack() {
	SM_ROOT=$1/sm-root
	rm -rf "$SM_ROOT"
	mkdir -p "$SM_ROOT"
	command -v dpkg >/dev/null 2>&1 || bail "dpkg missing"
	command -v m4 >/dev/null 2>&1 || bail "m4 missing: run contrib/install-deps"
	for _s_p in sendmail-bin sendmail-base sendmail-cf; do
		_s_deb=$(ls "$SM_CACHE/${_s_p}_"*.deb 2>/dev/null | sort -V |
		    tail -1)
		[ -n "$_s_deb" ] ||
		    bail "$_s_p .deb missing in $SM_CACHE: run contrib/install-deps"
		dpkg -x "$_s_deb" "$SM_ROOT" ||
		    bail "dpkg -x $_s_deb failed"
	done
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	[ -x "$SM_BIN" ] || bail "no sendmail binary in the unpacked .debs"
	# setgid: the dynamic loader would ignore LD_LIBRARY_PATH, and our
	# copy must not hand group mail to anybody.
	chmod g-s "$SM_BIN"
}

# sm_mc_common VERSION: the lines both configurations share, every file
# path private; VERSION names the configuration in Received: fields.
sm_mc_common() {
	cat <<EOF
divert(-1)
include(\`$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4')
define(\`confCF_VERSION', \`$1')
OSTYPE(\`linux')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM_DIR/etc/hosts')dnl
define(\`confHELP_FILE', \`$SM_DIR/etc/helpfile')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
dnl the test machine may be busy: never queue or refuse for its load
define(\`confQUEUE_LA', \`10000')dnl
define(\`confREFUSE_LA', \`10000')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
define(\`PROCMAIL_MAILER_PATH', \`/bin/false')dnl
define(\`confEBINDIR', \`$SM_ROOT/usr/libexec/sendmail')dnl
FEATURE(\`no_default_msa')dnl
EOF
}

# sm_start DIR MILTER_PORT: build sendmail.cf and submit.cf in DIR/sm/etc
# and run the MTA in the foreground (-bD) on 127.0.0.1:SM_PORT, relaying
# to 127.0.0.1:SINK_PORT (sink_start first).  SM_SUBMIT is the command
# that submits through submit.cf, as lurewall's submit_command would.
sm_start() {
	SM_DIR=$1/sm
	_s_mport=$2
	[ -n "$SM_BIN" ] || bail "sm_unpack first"
	[ -n "$SINK_PORT" ] || bail "sink_start first"
	rm -rf "$SM_DIR"
	mkdir -p "$SM_DIR/etc" "$SM_DIR/mqueue" "$SM_DIR/clientmqueue"
	chmod 0700 "$SM_DIR/mqueue"
	chown nobody "$SM_DIR/clientmqueue"
	chmod 0770 "$SM_DIR/clientmqueue"
	SM_PORT=$(free_port)
	printf 'hosts files\naliases files\n' >"$SM_DIR/etc/service.switch"
	printf '127.0.0.1 %s localhost\n' "$SM_HOST" >"$SM_DIR/etc/hosts"
	: >"$SM_DIR/etc/aliases"
	: >"$SM_DIR/etc/helpfile"
	: >"$SM_DIR/etc/statistics"
	{
		sm_mc_common MTA
		cat <<EOF
define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/etc/statistics')dnl
define(\`ALIAS_FILE', \`$SM_DIR/etc/aliases')dnl
define(\`confTRUSTED_USERS', \`nobody')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
EOF
		# the milter exactly as README and contrib/lurewall.m4 say,
		# on our port
		sed "s/inet:8894@/inet:$_s_mport@/" "$LW_TOP/contrib/lurewall.m4"
		printf 'divert(0)dnl\nMAILER(`local'"'"')dnl\nMAILER(`smtp'"'"')dnl\n'
	} >"$SM_DIR/etc/sendmail.mc"
	{
		sm_mc_common Submit
		cat <<EOF
define(\`MSP_QUEUE_DIR', \`$SM_DIR/clientmqueue')dnl
define(\`confPID_FILE', \`$SM_DIR/clientmqueue/sm-client.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/clientmqueue/sm-client.st')dnl
define(\`confRUN_AS_USER', \`nobody')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_PORT')dnl
FEATURE(\`msp', \`[127.0.0.1]')dnl
EOF
	} >"$SM_DIR/etc/submit.mc"
	for _s_f in sendmail submit; do
		m4 "$SM_DIR/etc/$_s_f.mc" >"$SM_DIR/etc/$_s_f.cf" \
		    2>"$SM_DIR/m4-$_s_f.err" && ! [ -s "$SM_DIR/m4-$_s_f.err" ] ||
		    { cat "$SM_DIR/m4-$_s_f.err" >&2; bail "m4 $_s_f.mc failed"; }
	done
	SM_SUBMIT="$SM_BIN -C $SM_DIR/etc/submit.cf"
	"$SM_BIN" -C "$SM_DIR/etc/sendmail.cf" -bD -q1h \
	    >"$SM_DIR/daemon.out" 2>&1 &
	SM_PID=$!
	wait_for 30 port_open "$SM_PORT" ||
	    { cat "$SM_DIR/daemon.out" >&2; bail "sendmail does not listen"; }
}

# sm_stop: SIGTERM to the daemon, bounded wait, then SIGKILL.
sm_stop() {
	[ -n "$SM_PID" ] || return 0
	kill -TERM "$SM_PID" 2>/dev/null
	wait_for 10 sh -c "! kill -0 $SM_PID" ||
	    kill -KILL "$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=
}

# sm_mailq [ARGS...]: the MTA's queue listing (-qQ: the quarantine).
sm_mailq() {
	bounded "$SM_BIN" -C "$SM_DIR/etc/sendmail.cf" -bp "$@"
}

# sm_send FROM TO FILE: submit FILE over SMTP to the private Sendmail;
# prints swaks' transcript, returns its status.
sm_send() {
	bounded swaks --silent 1 --server 127.0.0.1 --port "$SM_PORT" \
	    --helo client.lurewall.test --from "$1" --to "$2" --data "$3" \
	    --timeout 30
}
