#!/bin/sh
# bench/bench.sh: `make bench`.  Measures what lurewall costs, and
# prints the figures next to the targets (measured, never asserted).
#
#   1. engine: bench/lwbench scans message sets with scan_message() in
#      1 and 2 threads (the corpus with the shipped default policy and
#      the corpus scenario's example.co.jp policy; generated mails);
#      bench/floor only base64-decodes and inflates the corpus (the
#      floor of issue 22) in one thread;
#   2. scaling: one lure padded to 1 KiB .. 16 MiB, least-squares slope;
#   3. MTA: smtp-source -> private Postfix -> smtp-sink on 127.0.0.1,
#      without a milter, with bench/nullmilter (a milter that does
#      nothing: the floor) and with lurewall-milter in smtpd_milters
#      on a unix socket, 20 sessions, the same messages; the milter's
#      peak RSS (VmHWM), its private memory and LMDB's mapped pages
#      (bench/memwatch, from /proc/PID/smaps_rollup and smaps).
#
# Options: --no-mta (engine only), --quick (short runs, for the smoke
# test).  Everything lands in bench/out/ (CSV files, logs, the
# generated messages); nothing big is committed.  Bounded: each engine
# run lasts BENCH_SECONDS (default 2) seconds, each MTA round is under
# `timeout`, and the whole script stops itself after BENCH_LIMIT
# seconds (default 300).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/bench/out
CORPUS=${LW_CORPUS:-$TOP/../shared/corpus}
LWBENCH=$TOP/bench/lwbench
FLOOR=$TOP/bench/floor
SECONDS_RUN=${BENCH_SECONDS:-2}
MTA_PER_MSG=${BENCH_MTA_PER_MSG:-40}
MTA_SESSIONS=20
RCPT=sato@example.co.jp
do_mta=1
quick=0
for a in "$@"; do
	case $a in
	--no-mta) do_mta=0 ;;
	--quick) quick=1; do_mta=0; SECONDS_RUN=0 ;;
	*) echo "usage: bench.sh [--no-mta] [--quick]" >&2; exit 2 ;;
	esac
done

# Bound the whole run: a watchdog kills our process group.
if [ -z "${BENCH_WATCHED:-}" ]; then
	BENCH_WATCHED=1 exec timeout -k 10 "${BENCH_LIMIT:-300}" sh "$0" "$@"
fi

[ -x "$LWBENCH" ] && [ -x "$FLOOR" ] ||
    { echo "bench: build first (make bench)" >&2; exit 2; }
[ -d "$CORPUS/messages" ] ||
    { echo "bench: no corpus at $CORPUS (set LW_CORPUS)" >&2; exit 2; }

mkdir -p "$OUT"
rm -f "$OUT"/engine.csv "$OUT"/scaling.csv "$OUT"/mta.csv "$OUT"/lwbench.log \
    "$OUT"/floor.csv
MSGS=$OUT/msgs

# The config: shipped default policy, plus the scenario's policy as
# example.co.jp; limits as shipped.
CONF=$OUT/conf
rm -rf "$CONF"
mkdir -p "$CONF/policy.d"
sed -n '/^limits:/,$p' "$TOP/conf/lurewall.yaml" >"$CONF/limits.yaml"
{
	echo "policy_dir: policy.d"
	echo "on_error: tempfail"
	cat "$CONF/limits.yaml"
} >"$CONF/lurewall.yaml"
rm -f "$CONF/limits.yaml"
cp "$TOP/conf/policy.d/default.yaml" "$CONF/policy.d/"
cp "$CORPUS/scenario-policy.yaml" "$CONF/policy.d/example.co.jp.yaml"

python3 "$TOP/bench/mkmsgs.py" "$MSGS" "$CORPUS" ||
    { echo "bench: cannot generate messages" >&2; exit 2; }

machine() {
	printf 'machine: %s CPUs (nproc), %s, %s MB memory; %s\n' \
	    "$(nproc)" \
	    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	    "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" \
	    "$(uname -sr)"
}

lwb() {	# lwb SET CSV FILE...: one engine run, 1 and 2 threads
	_set=$1 _csv=$2; shift 2
	"$LWBENCH" -c "$CONF/lurewall.yaml" -r "$RCPT" -t 1,2 \
	    -d "$SECONDS_RUN" -N 200000 -s "$_set" -o "$_csv" "$@" \
	    2>>"$OUT/lwbench.log" ||
	    { echo "bench: lwbench failed on $_set (see $OUT/lwbench.log)" >&2;
	    tail -5 "$OUT/lwbench.log" >&2; exit 1; }
}

echo "== lurewall benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')"
machine
echo
echo "== engine: scan_message() in-process, ${SECONDS_RUN}s per run"
echo "   (flagged = files whose verdict is not accept; MB = 2^20 bytes;"
echo "    rss = peak RSS of the whole process, message copies included)"
"$LWBENCH" -H
lwb corpus "$OUT/engine.csv" "$CORPUS"/messages/*.eml
lwb plain-5k "$OUT/engine.csv" "$MSGS/plain-5k.eml"
lwb pdf-200k "$OUT/engine.csv" "$MSGS/pdf-200k.eml"
lwb multi-2m "$OUT/engine.csv" "$MSGS/multi-2m.eml"
lwb lure-pwzip "$OUT/engine.csv" "$MSGS/lure-pwzip.eml"
echo
echo "== floor: base64-decode every part, inflate every unencrypted zip entry"
echo "   (bench/floor, corpus, 1 thread, ${SECONDS_RUN}s; no analysis)"
"$FLOOR" -d "$SECONDS_RUN" "$CORPUS"/messages/*.eml >"$OUT/floor.csv" ||
    { echo "bench: floor failed" >&2; exit 1; }
awk -F, '{ printf "corpus: %.1f msg/s, %.1f MB decoded, %.1f MB inflated in %d passes\n",
    $5, $6 / 1048576, $7 / 1048576, $3 }' "$OUT/floor.csv"
echo
echo "== scaling: one lure (password zip, script inside) padded with a quoted thread"
"$LWBENCH" -H
for s in 1k 64k 1m 16m; do
	lwb "lure-$s" "$OUT/scaling.csv" "$MSGS/lure-scale-$s.eml"
done

# Least squares over the 1-thread p50 latencies: ms = a + slope * MB.
# Growth looks linear when going from 1 MiB to 16 MiB multiplies the
# time by 16^e with e in [0.8, 1.2]; below that a cap or the fixed
# cost dominates, above it something grows faster than the input.
awk -F, 'NR > 1 && $2 == 1 {
	x = $4 / 1048576; y = $9; n++; sx += x; sy += y; sxx += x * x;
	sxy += x * y; t[$1] = y
}
END {
	slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	icpt = (sy - slope * sx) / n;
	e = log(t["lure-16m"] / t["lure-1m"]) / log(16);
	shape = "linear"
	if (e < 0.8)
		shape = "sublinear (a cap or a fixed cost dominates)"
	if (e > 1.2)
		shape = "SUPERLINEAR"
	printf "slope: %.3f ms per MB (intercept %.3f ms); 1 MB -> 16 MB: time x%.1f, exponent %.2f: %s\n",
	    slope, icpt, t["lure-16m"] / t["lure-1m"], e, shape
}' "$OUT/scaling.csv" | tee "$OUT/slope.txt"

# --- MTA -------------------------------------------------------------
mta_status="not run (--no-mta)"
if [ "$do_mta" -eq 1 ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null ||
	    ! [ -x /usr/sbin/smtp-source ] || ! [ -x /usr/sbin/smtp-sink ] ||
	    ! [ -x "$TOP/lurewall-milter" ] || ! [ -x "$TOP/bench/memwatch" ] ||
	    ! [ -x "$TOP/bench/nullmilter" ]; then
		mta_status="skipped: needs root, Postfix, smtp-source/smtp-sink, lurewall-milter, bench/memwatch and bench/nullmilter (make bench)"
		do_mta=0
	fi
fi
if [ "$do_mta" -eq 1 ]; then
	echo
	echo "== MTA: smtp-source -> Postfix -> smtp-sink, $MTA_SESSIONS sessions, $MTA_PER_MSG copies of each message"
	sh "$TOP/bench/mta.sh" "$OUT" "$CONF" "$MTA_SESSIONS" "$MTA_PER_MSG" \
	    "$CORPUS"/messages/*.eml "$MSGS/plain-5k.eml" \
	    "$MSGS/pdf-200k.eml" "$MSGS/multi-2m.eml" \
	    "$MSGS/lure-pwzip.eml" || { echo "bench: MTA benchmark failed" >&2; exit 1; }
	mta_status=ok
fi

# --- targets ---------------------------------------------------------
echo
echo "== targets of issue 22 (measured here, not asserted anywhere;"
echo "   load average $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(nproc) CPUs)"
# Issue 22 was filed at 2,033 msg/s for 2 clients on this corpus set,
# i.e. 1,016.5 per core; its target is 3x that.  Its memory target is
# the milter's 68.5 MB of then, now counted as private memory.
awk -F, -v mta="$mta_status" -v mtacsv="$OUT/mta.csv" \
    -v floorcsv="$OUT/floor.csv" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
function row(what, got, ok) { printf "%-50s %-36s %s\n", what, got, verdict(ok) }
# floor.csv: floor,files,passes,seconds,msgs_per_s,decoded,inflated
FILENAME == floorcsv { floor = $5; next }
FNR == 1 { next }
# engine.csv and scaling.csv: set,threads,files,set_bytes,scans,seconds,
# msgs_per_s,mb_per_s,p50_ms,p99_ms,max_ms,peak_rss_kb,flagged
FILENAME != mtacsv {
	if ($1 == "corpus" && $2 == 1) corpus = $7
	if ($1 == "corpus" && $2 == 2) corpus2 = $7
	if ($4 / $3 <= 1048576 + 4096 && $10 > p99) { p99 = $10; p99set = $1 "/" $2 "thr" }
	next
}
# mta.csv: mode,messages,seconds,msgs_per_s,milter_hwm_kb,largest_bytes,
# milter_anon_kb,milter_private_dirty_kb,milter_lmdb_kb
{ rate[$1] = $4; if ($1 == "lurewall") { hwm = $5; anon = $7; dirty = $8; lmdb = $9 } }
END {
	base = 2033 / 2
	row("engine msg/s per core, corpus (>= 3 x 1016.5)",
	    sprintf("%.0f (1 thr; 2 thr: %.0f/core) = %.1fx", corpus,
	    corpus2 / 2, corpus / base), corpus >= 3 * base)
	row("engine vs decode+inflate floor, per core (>= 25%)",
	    sprintf("%.1f%% (floor %.0f msg/s)", floor > 0 ? 100 * corpus / floor : 0,
	    floor), floor > 0 && corpus / floor >= 0.25)
	row("p99 latency, messages up to 1 MiB (< 20 ms)",
	    sprintf("%.2f ms worst (%s)", p99, p99set), p99 < 20)
	if (mta != "ok") {
		printf "%-50s %s\n", "Postfix+lurewall vs Postfix alone (>= 80%)", mta
		printf "%-50s %s\n", "milter peak private memory, 20 sessions", mta
		exit
	}
	r = rate["lurewall"] / rate["postfix"]
	row("Postfix+lurewall vs Postfix alone (>= 80%)",
	    sprintf("%.0f%% (%.0f vs %.0f msg/s)", 100 * r, rate["lurewall"],
	    rate["postfix"]), r >= 0.8)
	if (rate["nullmilter"] > 0)
		printf "%-50s %.0f%% (%.0f msg/s); lurewall %.0f%% of it\n",
		    "  (floor: Postfix+nullmilter vs alone)",
		    100 * rate["nullmilter"] / rate["postfix"],
		    rate["nullmilter"], 100 * rate["lurewall"] / rate["nullmilter"]
	row("milter private memory, 20 sessions (<= 68.5 MB)",
	    sprintf("%.1f MB anonymous, peak", anon / 1024), anon / 1024 <= 68.5)
	printf "%-50s %.1f MB private dirty, %.1f MB LMDB\n",
	    "  (bench/memwatch, every 0.1 s; not targets)", dirty / 1024,
	    lmdb / 1024
	printf "%-50s %.1f MB\n", "  peak RSS (VmHWM), shared pages included",
	    hwm / 1024
}' "$OUT/floor.csv" "$OUT/engine.csv" "$OUT/scaling.csv" \
    $( [ -f "$OUT/mta.csv" ] && echo "$OUT/mta.csv") | tee "$OUT/targets.txt"
echo
echo "CSV: $OUT/engine.csv $OUT/floor.csv $OUT/scaling.csv$( [ -f "$OUT/mta.csv" ] && echo " $OUT/mta.csv")"
