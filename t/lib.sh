# t/lib.sh: helpers for the shell tests (TAP).  Source it:  . t/lib.sh
# Every test bounds itself in time: run commands through `bounded`.
set -u
LW_TOP=${LW_TOP:-$(pwd)}
CORPUS=${LW_CORPUS:-$LW_TOP/../shared/corpus}
LUREWALL=$LW_TOP/lurewall
MILTER=$LW_TOP/lurewall-milter
_tap_n=0
_tap_fail=0

plan() { echo "1..$1"; }
ok() {	# ok STATUS DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"
	else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
is() {	# is WANT GOT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"
	else ok 1 "$3"; echo "#   want: $1"; echo "#    got: $2"; fi
}
like() { # like REGEX TEXT DESCRIPTION
	if printf '%s' "$2" | grep -Eq -- "$1"; then ok 0 "$3"
	else ok 1 "$3"; echo "#   want match: $1"; printf '%s\n' "$2" | sed 's/^/#    got: /' | head -20; fi
}
unlike() {
	if printf '%s' "$2" | grep -Eq -- "$1"; then ok 1 "$3"; echo "#   unwanted match: $1"
	else ok 0 "$3"; fi
}
diag() { echo "# $*"; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_fail" -eq 0 ]; }
bail() { echo "Bail out! $*"; exit 255; }
bounded() { timeout -k 5 "${BOUND:-60}" "$@"; }
# memlimited CMD...: bounded, in at most ${LIMIT_MB:-900} MiB: `ulimit -v`
# for a plain build; ASan reserves terabytes of address space, so a
# sanitizer build gets hard_rss_limit_mb instead.
memlimited() {
	if [ "${LW_SANITIZE:-0}" = 1 ] || nm "$LUREWALL" 2>/dev/null |
	    grep -q __asan_init; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=${LIMIT_MB:-900} \
		    bounded "$@"
	else
		( ulimit -v $((${LIMIT_MB:-900} * 1024)); bounded "$@" )
	fi
}
# default_config: $d/lurewall.yaml with the shipped default policy
default_config() {
	mkdir -p "$d/policy.d" &&
	    cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/" &&
	    printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' \
	    > "$d/lurewall.yaml"
}
# attach FILE NAME BODY [TYPE]: a message whose text is BODY, with FILE
# attached as NAME (TYPE: application/octet-stream unless given)
attach() {
	python3 - "$@" <<'PY'
import sys, base64
a = sys.argv[1:] + ["application/octet-stream"] * (5 - len(sys.argv))
b = base64.encodebytes(open(a[0], "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: documents\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + a[2] +
    "\r\n--XX\r\nContent-Type: " + a[3] + "; name=\"" + a[1] +
    "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}
# verdict EML: `lurewall -v scan --json` of EML with $d/lurewall.yaml,
# run through ${RUN:-bounded}, as "action score RULE@part ..."; the
# log goes to $d/err
verdict() {
	${RUN:-bounded} "$LUREWALL" -v scan -c "$d/lurewall.yaml" --json "$1" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}
tmpdir() {	# fresh t/tmp/NAME
	d=$LW_TOP/t/tmp/$1; rm -rf "$d"; mkdir -p "$d"; echo "$d"
}

# memlimited CMD...: run CMD bounded in time and in memory (LIMIT_MB,
# default 900): `ulimit -v` for a plain build; ASan reserves terabytes
# of address space, so a sanitizer build gets hard_rss_limit_mb instead.
memlimited() {
	if [ "${LW_SANITIZE:-0}" = 1 ] || nm "$LUREWALL" 2>/dev/null |
	    grep -q __asan_init; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=${LIMIT_MB:-900} \
		    bounded "$@"
	else
		( ulimit -v $((${LIMIT_MB:-900} * 1024)); bounded "$@" )
	fi
}
