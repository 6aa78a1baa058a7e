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
