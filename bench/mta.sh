#!/bin/sh
# bench/mta.sh OUT CONF SESSIONS COPIES FILE...: the MTA benchmark.
# smtp-source sends COPIES of each FILE over SESSIONS parallel sessions
# into a private Postfix on 127.0.0.1 that relays everything to
# smtp-sink; once with no milter (mode postfix), once with
# bench/nullmilter (mode nullmilter: a milter that accepts everything
# unread, the floor of what any milter costs Postfix) and once with
# lurewall-milter (mode lurewall: config CONF, quarantine under OUT/mta)
# in smtpd_milters.  The milters listen on a unix socket, as the README
# wires lurewall into Postfix; BENCH_MILTER_SOCKET=inet puts both on
# TCP loopback instead.  The rate is what the SMTP client sees:
# messages whose DATA Postfix acknowledged (after the milter's
# end-of-message reply) per second.  Writes OUT/mta.csv
# (mode,messages,seconds,msgs_per_s,milter_hwm_kb,largest_bytes,
# milter_anon_kb,milter_private_dirty_kb,milter_lmdb_kb); lurewall's
# peak RSS is VmHWM from /proc after its run; its private memory
# (Anonymous, Private_Dirty of /proc/PID/smaps_rollup) and the
# resident pages of LMDB's mapped files (*.mdb in /proc/PID/smaps) are
# their largest values sampled by bench/memwatch during the run
# (every 0.1 s, every second for the LMDB pages; it does not fork).
#
# Uses t/lib-postfix.sh (private Postfix, free ports, bounded waits,
# cleanup on exit).  Needs root, bench/memwatch and bench/nullmilter
# (make bench builds them).
#
# To profile the daemon under this load, BENCH_MILTER_WRAP is a command
# put in front of lurewall-milter (e.g. "valgrind --tool=callgrind
# --callgrind-out-file=/tmp/cg.%p"; the daemon runs as nobody, so the
# output must be writable by it), and BENCH_MILTER another binary.
set -u
OUT=$1 CONF=$2 SESSIONS=$3 COPIES=$4
shift 4
LW_TOP=$(cd "$(dirname "$0")/.." && pwd)
export LW_TOP
. "$LW_TOP/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=120
MILTER=${BENCH_MILTER:-$MILTER}

M=$OUT/mta
rm -rf "$M"
mkdir -p "$M/lf" "$M/milter/conf"
lw_trap

# smtp-source appends CRLF to each line it reads: give it LF files.
largest=0
n=0
for f in "$@"; do
	n=$((n + 1))
	tr -d '\r' <"$f" >"$M/lf/$n.eml"
	basename "$f" >>"$M/lf/names"
	sz=$(wc -c <"$f")
	[ "$sz" -gt "$largest" ] && largest=$sz
done
nfiles=$n

# A discarding sink (no -d: nothing written to disk, the same for both
# runs); sink_stop from lib-postfix.sh stops it.
SINK_PORT=$(free_port)
/usr/sbin/smtp-sink -u postfix 127.0.0.1:"$SINK_PORT" 256 \
    >"$M/sink.log" 2>&1 &
SINK_PID=$!
wait_for 10 port_open "$SINK_PORT" || bail "smtp-sink did not start"

now() { date +%s.%N; }

# inject N FILE: N copies of FILE over SESSIONS sessions, bounded.
inject() {
	bounded /usr/sbin/smtp-source -A -s "$SESSIONS" -m "$1" \
	    -M client.lurewall.test -f john.smith@partner.example.com \
	    -t "$RCPT" -F "$2" 127.0.0.1:"$PF_PORT" \
	    >>"$M/smtp-source.log" 2>&1 ||
	    { echo "mta: smtp-source failed (see $M/smtp-source.log)" >&2;
	    return 1; }
}

# warm: SESSIONS copies of the first file, untimed, before each run's
# send, so that each timed run finds Postfix's smtpd, cleanup and smtp
# processes started (master starts them on demand) and the milter's
# threads and caches warm: every run then measures the same steady
# state.  Without it Postfix alone, the first run, read 163 msg/s in
# one bench and 206 in the next.
warm() {
	inject "$SESSIONS" "$M/lf/1.eml"
}

# send MODE: every file, COPIES times, SESSIONS at once; one CSV line.
send() {
	_t0=$(now)
	_i=1
	if [ "$1" = lurewall ]; then
		rm -f "$M/mem" "$M/mem.stop"
		"$LW_TOP/bench/memwatch" "$MILTER_PID" "$M/mem" "$M/mem.stop" &
		_sampler=$!
	fi
	while [ "$_i" -le "$nfiles" ]; do
		_f0=$(now)
		inject "$COPIES" "$M/lf/$_i.eml" || return 1
		awk -v m="$1" -v f="$(sed -n "${_i}p" "$M/lf/names")" \
		    -v t0="$_f0" -v t1="$(now)" 'BEGIN {
			printf "%s,%s,%.3f\n", m, f, t1 - t0 }' >>"$OUT/mta-files.csv"
		_i=$((_i + 1))
	done
	_t1=$(now)
	_hwm=0 _mem="0 0 0"
	if [ "$1" = lurewall ]; then
		_hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$MILTER_PID/status")
		touch "$M/mem.stop"
		wait "$_sampler" && _mem=$(cat "$M/mem") ||
		    echo "mta: memwatch failed, memory not measured" >&2
	fi
	awk -v m="$1" -v n=$((nfiles * COPIES)) -v t0="$_t0" -v t1="$_t1" \
	    -v hwm="$_hwm" -v big="$largest" -v mem="$_mem" 'BEGIN {
		split(mem, v, " ")
		printf "%s,%d,%.3f,%.1f,%d,%d,%d,%d,%d\n", m, n, t1 - t0,
		    n / (t1 - t0), hwm, big, v[1], v[2], v[3] }' >>"$OUT/mta.csv"
}
RCPT=sato@example.co.jp

echo "mode,messages,seconds,msgs_per_s,milter_hwm_kb,largest_bytes,milter_anon_kb,milter_private_dirty_kb,milter_lmdb_kb" \
    >"$OUT/mta.csv"
echo "mode,file,seconds" >"$OUT/mta-files.csv"

# Postfix's in-flow control: cleanup takes a token per message and the
# queue manager hands tokens back (up to default_process_limit) when it
# feeds from the incoming queue; a message discarded by a milter never
# gets there and returns none (a held one does).  With the lures
# quarantined and then discarded, the second run would use up the 100
# tokens and then wait in_flow_delay (1 s) before each new message: a
# stall per wave that measures Postfix, not the milter, and that
# Postfix alone, delivering everything, never sees.  Off in both runs
# (README "Performance" has the production advice).
PF_EXTRA="in_flow_delay = 0"

# 1. Postfix alone.
pf_start "$M/plain" "" "$PF_EXTRA"
warm && send postfix || exit 1
pf_stop

# milter_sock NAME: where the milter of that run listens.
milter_sock() {
	if [ "${BENCH_MILTER_SOCKET:-unix}" = inet ]; then
		echo "inet:$(free_port)@127.0.0.1"
	else
		echo "unix:$M/$1.sock"
	fi
}

# 2. Postfix with a milter that does nothing: what any milter costs.
mkdir -p "$M/null"
LW_MILTER=$MILTER
MILTER=$LW_TOP/bench/nullmilter
SOCK=$(milter_sock null)
milter_start "$M/null" "$SOCK"
pf_start "$M/nm" "$SOCK" "$PF_EXTRA"
warm && send nullmilter || exit 1
pf_stop
milter_stop
MILTER=$LW_MILTER

# 3. Postfix with lurewall (quarantine on disk, as in production).
cp -R "$CONF/." "$M/milter/conf/"
if [ -n "${BENCH_MILTER_WRAP:-}" ]; then
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$BENCH_MILTER_WRAP" \
	    "$MILTER" >"$M/milter-wrap"
	chmod +x "$M/milter-wrap"
	MILTER=$M/milter-wrap
fi
echo "quarantine_dir: $M/quarantine" >>"$M/milter/conf/lurewall.yaml"
SOCK=$(milter_sock lurewall)
milter_start "$M/milter" "$SOCK"
pf_start "$M/lw" "$SOCK" "$PF_EXTRA"
warm && send lurewall || exit 1
pf_stop
# The warm-up's SESSIONS verdicts are not the run's.
judged=$(($(grep -c 'action=' "$MILTER_LOG") - SESSIONS))
milter_stop

awk -F, -v judged="$judged" 'NR > 1 {
	printf "%-10s %6d messages in %7.2f s: %7.1f msg/s", $1, $2, $3, $4
	if ($1 == "lurewall")
		printf "   milter peak RSS %.1f MB (anonymous %.1f, private dirty %.1f, LMDB mapped %.1f), %d verdicts logged",
		    $5 / 1024, $7 / 1024, $8 / 1024, $9 / 1024, judged
	printf "\n"
	r[$1] = $4
}
END {
	printf "ratio: Postfix+lurewall / Postfix alone = %.0f%% (%s socket)\n",
	    100 * r["lurewall"] / r["postfix"], sock
	printf "floor: Postfix+nullmilter / Postfix alone = %.0f%%; lurewall / nullmilter = %.0f%%\n",
	    100 * r["nullmilter"] / r["postfix"], 100 * r["lurewall"] / r["nullmilter"]
}' sock="${BENCH_MILTER_SOCKET:-unix}" "$OUT/mta.csv"
