#!/bin/sh
# 4005-shipped-policy: conf/policy.d/default.yaml and the Japanese sample
# list every policy key as an active (uncommented) key, the nested keys
# of thresholds, tag, quarantine, split_password and outbound too (taken
# from milter/policy_apply.c, so a new key without a line here fails), and
# both load.  default.yaml keeps split PPAP off and says why; the sample
# is Japanese (language: ja, prefix [要注意]) with split PPAP on.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
SRC=$LW_TOP/milter
DEF=$LW_TOP/conf/policy.d/default.yaml
SAM=$LW_TOP/conf/policy.d/example.co.jp.yaml.sample
T=$(tmpdir 4005-shipped-policy)

keys=$(awk '/policy_keys\[\] = \{/ { on = 1 } on {
	s = $0
	while (match(s, /"[^"]*"/)) {
		print substr(s, RSTART + 1, RLENGTH - 2)
		s = substr(s, RSTART + RLENGTH)
	}
	if ($0 ~ /NULL/) exit }' "$SRC/policy_apply.c")
ok $([ "$(echo "$keys" | wc -l)" -ge 15 ]; echo $?) "read the policy keys"
for k in $keys; do
	[ "$k" = domains ] ||
	    { grep -q "^$k:" "$DEF"; ok $? "default.yaml: $k is active"; }
	grep -q "^$k:" "$SAM"; ok $? "sample: $k is active"
done
# nested keys: the map's block, indented key lines
nested() {	# nested FILE MAP KEY
	awk -v m="$2:" -v k="$3" 'index($0, m) == 1 { on = 1; next }
	    on && /^[^ #]/ { exit }
	    on && $1 == k ":" { found = 1 }
	    END { exit !found }' "$1"
}
for mk in thresholds:tag thresholds:quarantine thresholds:reject \
    tag:subject_prefix tag:headers tag:always_header quarantine:then \
    notify:recipients notify:digest notify:admin notify:from \
    split_password:wait split_password:on_timeout outbound:window \
    outbound:max_lures outbound:max_new_rcpts outbound:action; do
	for f in "$DEF" "$SAM"; do
		nested "$f" "${mk%%:*}" "${mk#*:}"
		ok $? "$(basename "$f"): ${mk%%:*}.${mk#*:} is active"
	done
done

# both load; what they mean
mkdir -p "$T/policy.d"
cp "$DEF" "$T/policy.d/"
cp "$SAM" "$T/policy.d/example.co.jp.yaml"
printf 'policy_dir: policy.d\nquarantine_dir: q\n' >"$T/l.yaml"
out=$(bounded "$LUREWALL" check-config -c "$T/l.yaml" 2>&1)
ok $? "default.yaml and the sample load"
def=$(printf '%s\n' "$out" | awk '/^# policy default /,/^---$/')
sam=$(printf '%s\n' "$out" | awk '/^# policy example.co.jp /,0')
like '^language: en' "$(printf '%s\n' "$def" | grep '^language')" "default: English"
unlike 'split_password' "$def" "default: split PPAP off"
like 'wait: 0' "$(grep -A2 '^split_password:' "$DEF")" \
    "default.yaml lists it with wait: 0"
like 'OFF here .*because' "$(tr '\n' ' ' <"$DEF" | tr -s ' #' ' ')" \
    "and says why"
is 'language: ja' "$(printf '%s\n' "$sam" | grep '^language')" "sample: Japanese"
like '^ +ja: "\[要注意\]"' "$(printf '%s\n' "$sam" | grep ' ja:')" \
    "sample: prefix [要注意]"
like 'wait: 1800s' "$sam" "sample: split PPAP on, 30 minutes"

# a domain file that only says language: ja gets the Japanese prefix
printf 'domains: [example.jp]\nlanguage: ja\n' >"$T/policy.d/example.jp.yaml"
rm "$T/policy.d/example.co.jp.yaml"
out=$(bounded "$LUREWALL" check-config -c "$T/l.yaml" 2>&1)
ok $? "a domain file with only language: ja loads"
jp=$(printf '%s\n' "$out" | awk '/^# policy example.jp /,0')
like '^ +ja: "\[要注意\]"' "$(printf '%s\n' "$jp" | grep ' ja:')" \
    "it inherits the Japanese prefix from default.yaml"
printf 'domains: [example.jp]\nlanguage: de\n' >"$T/policy.d/example.jp.yaml"
out=$(bounded "$LUREWALL" check-config -c "$T/l.yaml" 2>&1)
like 'example.jp.yaml:2:11: language: expected en or ja' "$out" \
    "an unknown language is an error with its place"
done_testing
