#!/bin/sh
# 7010-limits: every key of lurewall.yaml's limits: map, set low in a
# generated config, is hit by a message built for it (t/7010-limits.py):
# `lurewall -v scan` ends normally (exit 0 or 1, never 2 or a signal) with
# the finding that names the limit on stdout and its log line on stderr,
# in bounded memory: under `ulimit -v` in the plain build, under ASan's
# hard_rss_limit_mb in the sanitizer build (ASan cannot start under
# ulimit -v).  scan_timeout: a zip of 20000 entries (a scan of some
# 25 s with the default budget) ends with SCAN_TIMEOUT within seconds.
# memory_body_bytes is the milter's (body spilled to a temp file), tested
# by t/6000-msgbuf and t/6001-milter; the list at the end makes sure no
# new limit goes untested.
. t/lib.sh
d=$(tmpdir 7010-limits)
BOUND=120
VM_MB=256		# plain build: address space
RSS_MB=400		# sanitizer build: resident set

python3 t/7010-limits.py "$d" "$CORPUS" || bail "cannot build the messages"
mkdir -p "$d/policy.d"
# The shipped default policy plus a custom rule that backtracks once per
# character of the subject (for the pcre2 limits).
sed 's/^rules: \[\]$/rules:\n  - {name: SLOW_RULE, where: subject, pattern: "^(?:a|b)*$", score: 1}/' \
    "$LW_TOP/conf/policy.d/default.yaml" > "$d/policy.d/default.yaml"
grep -q SLOW_RULE "$d/policy.d/default.yaml" || bail "default.yaml has no rules: []"

asan=0
if [ "${LW_SANITIZE:-0}" = 1 ] || nm "$LUREWALL" 2>/dev/null | grep -q __asan_init; then
	asan=1
fi

# conf KEY VALUE [EXTRA-LINE]: a config setting one limit
conf() {
	{ printf 'policy_dir: %s/policy.d\nquarantine_dir: %s/q\nlimits:\n' "$d" "$d"
	  printf '  %s: %s\n' "$1" "$2"
	  if [ $# -gt 2 ]; then printf '  %s\n' "$3"; fi; } > "$d/$1.yaml"
}
# scan CONFIG MESSAGE: stdout in $d/out, stderr in $d/err, exit in rc
scan() {
	if [ $asan = 1 ]; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=$RSS_MB \
		    bounded "$LUREWALL" -v scan -c "$1" "$2" > "$d/out" 2> "$d/err"
		rc=$?
	else
		( ulimit -v $((VM_MB * 1024))
		  exec timeout -k 5 "$BOUND" "$LUREWALL" -v scan -c "$1" "$2" ) \
		    > "$d/out" 2> "$d/err"
		rc=$?
	fi
}
# limit KEY VALUE FINDING-REGEX LOG-REGEX [EXTRA-LINE]
limit() {
	key=$1 val=$2 find=$3 logre=$4
	shift 4
	conf "$key" "$val" "$@"
	scan "$d/$key.yaml" "$d/$key.eml"
	[ $rc -eq 0 ] || [ $rc -eq 1 ]
	ok $? "$key: scan ends normally in bounded memory (exit $rc)"
	[ $rc -le 1 ] || sed 's/^/#   /' "$d/err" | tail -20
	like "$find" "$(cat "$d/out")" "$key: finding"
	like "$logre" "$(cat "$d/err")" "$key: log line"
	tested="$tested $key"
}
tested=memory_body_bytes

limit message_bytes 1024 'MIME_LIMIT .*exceeds message_bytes 1024' \
    'MIME_LIMIT .*exceeds message_bytes 1024'
limit header_bytes 998 'MIME_LIMIT .*header field over 998 bytes' \
    'MIME_LIMIT .*header field over 998 bytes'
limit headers 10 'MIME_LIMIT .*more than 10 header fields' \
    'MIME_LIMIT .*more than 10 header fields'
limit mime_depth 3 'MIME_LIMIT .*nesting deeper than 3' \
    'MIME_LIMIT .*nesting deeper than 3'
limit mime_parts 5 'MIME_LIMIT .*more than 5 MIME parts' \
    'MIME_LIMIT .*more than 5 MIME parts'
limit archive_depth 1 'ARCHIVE_LIMIT .*archive_depth 1 reached' \
    'archive .*archive_depth 1 reached'
limit archive_entries 5 'ARCHIVE_LIMIT .*archive_entries 5 reached' \
    'archive .*archive_entries 5 reached'
limit archive_total_bytes 1M \
    'ARCHIVE_LIMIT .*archive_total_bytes 1048576 reached' \
    'archive .*archive_total_bytes 1048576 reached'
# 512 MiB of zeros in one entry: past VM_MB unless the limit holds.
# A cut entry is analysed on its start: ARCHIVE_ENTRY_CUT (a27c782).
limit archive_entry_bytes 1M \
    'ARCHIVE_ENTRY_CUT .*archive_entry_bytes 1048576 reached' \
    'archive entry .* cut at archive_entry_bytes 1048576' \
    'archive_ratio: 1000000'
limit archive_ratio 10 'ARCHIVE_ENTRY_CUT .*archive_ratio 10 reached' \
    'archive entry .* cut at archive_ratio 10'
limit ole_sectors 8 'OFFICE_MALFORMED .*sectors, limit 8' \
    'OFFICE_MALFORMED .*sectors, limit 8'
limit office_stream_bytes 1k 'OFFICE_MALFORMED .*1024 bytes' \
    'OFFICE_MALFORMED .*1024 bytes'
limit vba_modules 1 'OFFICE_MALFORMED .*more than 1 modules' \
    'OFFICE_MALFORMED .*more than 1 modules'
limit pcre2_match_limit 1000 'SCAN_ERROR .*SLOW_RULE.*match limit' \
    'SCAN_ERROR .*SLOW_RULE.*match limit'
limit pcre2_depth_limit 50 'SCAN_ERROR .*SLOW_RULE.*depth limit' \
    'SCAN_ERROR .*SLOW_RULE.*depth limit'
# Without the limits the rule runs to its end (no match: the subject
# ends in "!").
conf scan_timeout 30s && mv "$d/scan_timeout.yaml" "$d/nolimit.yaml"
scan "$d/nolimit.yaml" "$d/pcre2_match_limit.eml"
unlike 'SCAN_ERROR|SLOW_RULE' "$(cat "$d/out")" "pcre2: default limits let the rule finish"

# password_candidates: a ZipCrypto zip whose password is the second
# candidate of the body.
( cd "$d" && printf 'MsgBox "x"\r\n' > a.vbs &&
  bounded zip -q -P Secret2468 pw.zip a.vbs ) || bail "cannot build pw.zip"
python3 - "$d/pw.zip" "$d/password_candidates.eml" <<'PY' || bail "cannot build the pw message"
import base64, sys
z = base64.encodebytes(open(sys.argv[1], "rb").read()).decode()
body = ("Password: Wrong1357\r\n\r\nPassword: Secret2468\r\n")
m = ("From: a@example.com\r\nTo: b@example.co.jp\r\nSubject: pw\r\n"
     'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
     "--b\r\nContent-Type: text/plain\r\n\r\n" + body +
     "--b\r\nContent-Type: application/zip\r\n"
     'Content-Disposition: attachment; filename="doc.zip"\r\n'
     "Content-Transfer-Encoding: base64\r\n\r\n" +
     z.replace("\n", "\r\n") + "--b--\r\n")
open(sys.argv[2], "w").write(m)
PY
scan "$d/nolimit.yaml" "$d/password_candidates.eml"
like 'ARCHIVE_PASSWORD_IN_MESSAGE' "$(cat "$d/out")" \
    "password_candidates: the default finds the second password"
limit password_candidates 1 \
    'ARCHIVE_PASSWORD_UNKNOWN .*not opened \(1 password candidates tried\)' \
    'ARCHIVE_PASSWORD_UNKNOWN .*1 password candidates tried'

# scan_timeout: 1 ms for 20000 entries.
limit scan_timeout 1ms 'SCAN_TIMEOUT .*scan budget of 1 ms spent' \
    'scan budget of 1 ms spent' 'archive_entries: 100000'
ms=$(sed -n 's/.* (\([0-9]*\) ms)$/\1/p' "$d/out" | head -1)
[ "${ms:-999999}" -lt 10000 ]; ok $? "scan_timeout: the scan stopped early (${ms:-?} ms)"
like '^[^ ].*: (tag|quarantine|reject) ' "$(cat "$d/out")" \
    "scan_timeout: the policy's action applies"

# Every limit the config knows is tested here.
bounded "$LUREWALL" check-config -c "$d/nolimit.yaml" > "$d/cc" 2>&1 ||
    bail "check-config failed: $(cat "$d/cc")"
keys=$(sed -n '/^limits:/,/^[^ ]/s/^  \([a-z0-9_]*\):.*/\1/p' "$d/cc")
[ -n "$keys" ] || bail "no limits: in check-config output"
for k in $keys; do
	case " $tested " in
	*" $k "*) ;;
	*) ok 1 "limit $k has a test here"; continue ;;
	esac
done
ok 0 "every limit is tested ($(echo $keys | wc -w) keys)"

rm -rf "$d"
done_testing
