#!/bin/sh
# 9100-bench-smoke: bench/lwbench answers --help and scans a corpus
# message once with the shipped config (one pass, no timing asserted);
# bench/floor decodes and inflates what it should; bench/statebench
# (make bench-state) measures every backend, Redis on a redis-server of
# its own, in a short run; bench/mta.sh's helpers: bench/memwatch
# samples a process's memory until told to stop, bench/nullmilter
# accepts a message unread through miltertest.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 9100-bench-smoke)
if ! [ -x "$LW_TOP/bench/lwbench" ]; then
	(cd "$LW_TOP" && make bench/lwbench) >"$T/make.out" 2>&1 ||
	    { cat "$T/make.out"; bail "cannot build bench/lwbench"; }
fi
if ! [ -x "$LW_TOP/bench/floor" ]; then
	(cd "$LW_TOP" && make bench/floor) >"$T/make.out" 2>&1 ||
	    { cat "$T/make.out"; bail "cannot build bench/floor"; }
fi
B=$LW_TOP/bench/lwbench
F=$LW_TOP/bench/floor

out=$(bounded "$B" --help 2>&1)
ok $? "lwbench --help exits 0"
like '^usage: lwbench' "$out" "--help prints the usage"

mkdir -p "$T/conf/policy.d"
printf 'policy_dir: policy.d\n' >"$T/conf/lurewall.yaml"
cp "$LW_TOP/conf/policy.d/default.yaml" "$T/conf/policy.d/"
cp "$CORPUS/scenario-policy.yaml" "$T/conf/policy.d/example.co.jp.yaml"
out=$(bounded "$B" -c "$T/conf/lurewall.yaml" -r sato@example.co.jp -t 1 \
    -d 0 -s smoke -o "$T/out.csv" \
    "$CORPUS/messages/lure-03-zipcrypto-docm-pw-ja.eml" \
    "$CORPUS/messages/benign-04-newsletter.eml" 2>"$T/err")
ok $? "one pass over two corpus messages"
like '^smoke +1 +2 ' "$out" "a table row for the set"
like ' 1/2 *$' "$out" "the lure is flagged, the newsletter is not"
csv=$(cat "$T/out.csv")
like '^set,threads,files,' "$csv" "CSV header"
like '^smoke,1,2,[0-9]+,2,' "$csv" "CSV row: two scans"

bounded "$B" -t 0 x.eml >/dev/null 2>&1
is 2 $? "a bad thread count is a usage error"

# floor,FILES,PASSES,SECONDS,MSGS_PER_S,DECODED_BYTES,INFLATED_BYTES
out=$(bounded "$F" -d 0 -N 1 "$CORPUS/messages/benign-05-pptx-attachment.eml")
ok $? "floor: one pass over a message with a .pptx"
like '^floor,1,1,[0-9.]+,[0-9.]+,[1-9][0-9]*,[1-9][0-9]*$' "$out" \
    "floor: the .pptx (a zip) decoded and its entries inflated"
out=$(bounded "$F" -d 0 -N 1 \
    "$CORPUS/messages/lure-03-zipcrypto-docm-pw-ja.eml")
like '^floor,1,1,[0-9.]+,[0-9.]+,[1-9][0-9]*,0$' "$out" \
    "floor: an encrypted zip decoded, nothing inflated"
bounded "$F" >/dev/null 2>&1
is 2 $? "floor without files is a usage error"

if ! [ -x "$LW_TOP/bench/statebench" ]; then
	(cd "$LW_TOP" && make bench/statebench) >"$T/make.out" 2>&1 ||
	    { cat "$T/make.out"; bail "cannot build bench/statebench"; }
fi
out=$(bounded "$LW_TOP/bench/statebench" "$T/state" 5 2>"$T/err")
ok $? "statebench: a short run on every backend"
like '^lmdb .* vs files \(old\)$' "$out" "the breaker on LMDB, next to files"
like '^redis .* vs files \(old\)$' "$out" "and on Redis"
like '^redis .* vs state files$' "$out" "the pending items' walk on Redis"
like '^load average: ' "$out" "with the machine's load"

for p in memwatch nullmilter; do
	if ! [ -x "$LW_TOP/bench/$p" ]; then
		(cd "$LW_TOP" && make "bench/$p") >"$T/make.out" 2>&1 ||
		    { cat "$T/make.out"; bail "cannot build bench/$p"; }
	fi
done

# memwatch on a process that holds 8 MiB it has written to; it reports
# that peak, and stops when told.
/usr/bin/python3 -c 'import time; b = bytearray(8 << 20)
for i in range(0, len(b), 4096): b[i] = 1
time.sleep(20)' &
hog=$!
sleep 1
bounded "$LW_TOP/bench/memwatch" "$hog" "$T/mem" "$T/mem.stop" &
watch=$!
sleep 0.5
touch "$T/mem.stop"
wait "$watch"
ok $? "memwatch stops when its stop file appears"
kill "$hog" 2>/dev/null
wait "$hog" 2>/dev/null
like '^[0-9]+ [0-9]+ 0$' "$(cat "$T/mem")" "memwatch: anon dirty lmdb, in kB"
anon=$(cut -d' ' -f1 "$T/mem")
[ "$anon" -ge 8192 ]
ok $? "memwatch saw the 8 MiB the process wrote ($anon kB)"
rm -f "$T/mem" "$T/mem.stop"
bounded "$LW_TOP/bench/memwatch" "$hog" "$T/mem" "$T/mem.stop"
ok $? "memwatch ends by itself when the process is gone"
bounded "$LW_TOP/bench/memwatch" x "$T/mem" "$T/mem.stop" 2>/dev/null
is 2 $? "memwatch: a bad pid is a usage error"

# nullmilter on a unix socket anyone may connect to; a corpus lure
# goes through unread and accepted.
MILTER=$LW_TOP/bench/nullmilter
mkdir -p "$T/null"
milter_start "$T/null" "unix:$T/null.sock"
like '^srw-rw-rw-' "$(ls -l "$T/null.sock")" "nullmilter: socket mode 0666"
mt_run null "nullmilter accepts a lure unread" <<EOF
local conn = send("$CORPUS/messages/lure-03-zipcrypto-docm-pw-ja.eml",
    "Q1", "a@example.net", "sato@example.co.jp")
reply(conn, SMFIR_ACCEPT, "accept")
EOF
milter_stop
ok $? "nullmilter stops on SIGTERM"
done_testing
