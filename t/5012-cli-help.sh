#!/bin/sh
# 5012-cli-help: `lurewall help`, --help and COMMAND --help print usage
# on stdout and exit 0; -c FILE works after the command as before it,
# for every command (outbreak list -c used to read the default store);
# outbreak list says so when no sender is tripped.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=30

T=$(tmpdir 5012-cli-help)
lw_conf "$T"
C=$T/conf/lurewall.yaml
printf 'socket: unix:/x\nbogus: 1\n' >"$T/bad.yaml"
mkdir -p "$T/conf/quarantine/outbreak"

out=$(bounded "$LUREWALL" help); rc=$?
is 0 $rc "lurewall help exits 0"
for v in scan check-config quarantine outbreak reload stats version help; do
	like "lurewall $v" "$out" "help lists $v"
done
like '-c FILE may also follow the command' "$out" "help says where -c goes"
is "$out" "$(bounded "$LUREWALL" --help)" "--help is help"
is "$out" "$(bounded "$LUREWALL" -h)" "-h is help"
out=$(bounded "$LUREWALL" help stats); rc=$?
is "0:usage: lurewall stats [--json] [--since DURATION|today]" "$rc:$out" \
    "help stats"
is "$out" "$(bounded "$LUREWALL" stats --help)" "stats --help"
bounded "$LUREWALL" help nosuch >/dev/null 2>&1
is 2 $? "help for an unknown command exits 2"

# Every verb of quarantine and outbreak (as their own usage lists them)
# is in the top-level usage, sweep included; an unknown verb exits 2.
top=$(bounded "$LUREWALL" help)
sub=$(bounded "$LUREWALL" quarantine nosuch -c "$C" 2>&1); rc=$?
is 2 $rc "quarantine with an unknown verb exits 2"
qverbs=$(printf '%s\n' "$sub" |
    sed -n 's/^.*lurewall quarantine \[-c FILE\] \([a-z]*\).*/\1/p')
ok $([ "$(echo $qverbs | wc -w)" -ge 9 ]; echo $?) "quarantine lists its verbs: $(echo $qverbs)"
qline=$(printf '%s\n' "$top" | grep 'lurewall quarantine ')
for v in $qverbs; do
	like "[ |]$v[ |]" "$qline" "help lists quarantine $v"
done
sub=$(bounded "$LUREWALL" outbreak nosuch -c "$C" 2>&1); rc=$?
is 2 $rc "outbreak with an unknown verb exits 2"
oline=$(printf '%s\n' "$top" | grep 'lurewall outbreak ')
for v in $(printf '%s\n' "$sub" | sed -n 's/^.*lurewall outbreak \([a-z]*\).*/\1/p'); do
	like "[ |]$v[ |]" "$oline" "help lists outbreak $v"
done

# -c after the command, for every command that reads the config: the
# broken file is named, so it was read.
for cmd in "check-config" "outbreak list" "quarantine list" "stats" \
    "scan /dev/null" "reload"; do
	# shellcheck disable=SC2086
	out=$(bounded "$LUREWALL" $cmd -c "$T/bad.yaml" 2>&1)
	like 'bad\.yaml:2:1: unknown key "bogus"' "$out" "$cmd -c FILE reads FILE"
	# shellcheck disable=SC2086
	out=$(bounded "$LUREWALL" -c "$T/bad.yaml" $cmd 2>&1)
	like 'bad\.yaml:2:1: unknown key "bogus"' "$out" "-c FILE $cmd reads FILE"
done
out=$(bounded "$LUREWALL" check-config --config="$T/bad.yaml" 2>&1)
like 'bad\.yaml:2:1' "$out" "--config=FILE after the command"

out=$(bounded "$LUREWALL" outbreak list -c "$C" 2>&1); rc=$?
is "0:no sender is tripped: outbound mail flows" "$rc:$out" \
    "outbreak list -c FILE on an empty store says nothing is tripped"
is "" "$(bounded "$LUREWALL" outbreak list --json -c "$C")" \
    "and --json prints nothing"
done_testing
