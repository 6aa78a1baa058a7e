#!/bin/sh
# 7020-valgrind: `lurewall scan` of the whole corpus (every
# ../shared/corpus/messages/*.eml, to the scenario's recipient under the
# shipped default policy plus the scenario policy) in one process under
# valgrind memcheck: no invalid access, no use of uninitialised memory,
# no definite leak.  The sanitizer build cannot run under valgrind: there
# the same scan runs under ASan with LeakSanitizer instead.
. t/lib.sh
d=$(tmpdir 7020-valgrind)
BOUND=600

mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/" &&
cp "$CORPUS/scenario-policy.yaml" "$d/policy.d/example.co.jp.yaml" ||
    bail "cannot set up the policies"
printf 'policy_dir: %s/policy.d\nquarantine_dir: %s/q\n' "$d" "$d" > "$d/lurewall.yaml"
set -- "$CORPUS"/messages/*.eml
n=$#
[ "$n" -gt 20 ] || bail "corpus not found at $CORPUS"

if [ "${LW_SANITIZE:-0}" = 1 ] || nm "$LUREWALL" 2>/dev/null | grep -q __asan_init; then
	what="ASan/LSan"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:exitcode=99 \
	    bounded "$LUREWALL" scan -c "$d/lurewall.yaml" \
	    --rcpt sato@example.co.jp "$@" > "$d/out" 2> "$d/err"
	rc=$?
else
	what=valgrind
	bounded valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --track-origins=yes --num-callers=30 \
	    "$LUREWALL" scan -c "$d/lurewall.yaml" \
	    --rcpt sato@example.co.jp "$@" > "$d/out" 2> "$d/err"
	rc=$?
fi
# 0: all accepted, 1: some flagged (the lures); 2 trouble, 99 an error.
[ $rc -le 1 ]; ok $? "$what: whole corpus clean (exit $rc)"
[ $rc -le 1 ] || grep -v '^qid=' "$d/err" | head -60 | sed 's/^/#   /'
unlike '==[0-9]+==|ERROR: (Address|Leak)Sanitizer|runtime error' \
    "$(cat "$d/err")" "$what: no report on stderr"
is "$n" "$(grep -c '^[^ ].*: [a-z]* score=' "$d/out")" "$what: all $n messages scanned"
like 'lure-.*: (quarantine|reject) ' "$(cat "$d/out")" "$what: the lures are still caught"

rm -rf "$d"
done_testing
