#!/bin/sh
# 4060-config-renamed: the config vocabulary.  Limits carry no max_
# prefix and durations take a unit (scan_timeout: 30s); the old names
# (max_message_bytes, max_header_bytes, max_headers, scan_timeout_ms)
# and outbound.action: hold (now quarantine) still load, each with one
# warning in the config error form (file:line:col: key) naming the new
# key, and take effect; the new names load silently; a limit under both
# names is an error; a bad duration names the key.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
T=$(tmpdir 4060-config-renamed)
mkdir -p "$T/policy.d" "$T/q" || bail "mkdir"

pol() {	# pol OUTBOUND-ACTION
	printf 'outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, action: %s}\n' \
	    "$1" > "$T/policy.d/default.yaml"
}
conf() {	# conf NAME LIMIT-LINES...
	n=$1; shift
	{ printf 'policy_dir: policy.d\nquarantine_dir: q\nlimits:\n'
	  for l in "$@"; do printf '  %s\n' "$l"; done; } > "$T/$n.yaml"
}
cc() {	# cc NAME: check-config, stdout in $T/out, stderr in $T/err
	bounded "$LUREWALL" check-config -c "$T/$1.yaml" > "$T/out" 2> "$T/err"
	rc=$?
}

# Old names: loaded, warned, applied.
pol hold
conf old 'max_message_bytes: 2M' 'max_header_bytes: 4k' 'max_headers: 77' \
    'scan_timeout_ms: 1500'
cc old
is 0 "$rc" "old names still load"
err=$(cat "$T/err")
like "old.yaml:4:22: limits.max_message_bytes: deprecated, use limits.message_bytes" \
    "$err" "max_message_bytes: warned with file, line, column and new key"
like "old.yaml:5:21: limits.max_header_bytes: deprecated, use limits.header_bytes" \
    "$err" "max_header_bytes warned"
like "old.yaml:6:16: limits.max_headers: deprecated, use limits.headers" \
    "$err" "max_headers warned"
like "old.yaml:7:20: limits.scan_timeout_ms: deprecated, use limits.scan_timeout" \
    "$err" "scan_timeout_ms warned"
like "default.yaml:1:[0-9]+: outbound.action: hold: deprecated, use outbound.action: quarantine" \
    "$err" "outbound.action: hold warned"
is 5 "$(grep -c deprecated "$T/err")" "one warning per old name"
out=$(cat "$T/out")
like '  message_bytes: 2097152' "$out" "max_message_bytes applied"
like '  header_bytes: 4096' "$out" "max_header_bytes applied"
like '  headers: 77' "$out" "max_headers applied"
like '  scan_timeout: 1500ms' "$out" "scan_timeout_ms read as milliseconds"
like 'action: quarantine' "$out" "outbound.action: hold is quarantine"
unlike 'max_(message|header)|scan_timeout_ms' "$out" "check-config prints the new names only"

# New names: loaded silently, applied.
pol quarantine
conf new 'message_bytes: 3M' 'header_bytes: 8k' 'headers: 88' \
    'scan_timeout: 2m'
cc new
is 0 "$rc" "new names load"
is '' "$(cat "$T/err")" "no warning for the new names"
out=$(cat "$T/out")
like '  message_bytes: 3145728' "$out" "message_bytes applied"
like '  header_bytes: 8192' "$out" "header_bytes applied"
like '  headers: 88' "$out" "headers applied"
like '  scan_timeout: 120s' "$out" "scan_timeout: 2m is 120 s"
like 'action: quarantine' "$out" "outbound.action: quarantine"
conf ms 'scan_timeout: 250ms'
cc ms
like '  scan_timeout: 250ms' "$(cat "$T/out")" "scan_timeout: 250ms"

# Both names, bad durations: errors naming file, line and key.
conf both 'headers: 10' 'max_headers: 20'
cc both
ok $([ $rc -ne 0 ]; echo $?) "a limit under both names is an error (exit $rc)"
like 'both.yaml:5:[0-9]+: limits.headers: given twice, also as max_headers' \
    "$(cat "$T/err")" "the error names both keys"
for v in 30 30x 1.5s 25h -1s; do
	conf bad "scan_timeout: $v"
	cc bad
	ok $([ $rc -ne 0 ]; echo $?) "scan_timeout: $v is an error"
	like 'bad.yaml:4:[0-9]+: limits.scan_timeout: expected a duration' \
	    "$(cat "$T/err")" "scan_timeout: $v: the error names the key"
done
pol hold2
cc new
like 'outbound.action: expected quarantine or tempfail' "$(cat "$T/err")" \
    "an unknown outbound.action names the values"

rm -rf "$T"
done_testing
