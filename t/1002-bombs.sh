#!/bin/sh
# 1002-bombs: zip bombs end inside the default bounds: one huge entry is
# cut (ARCHIVE_ENTRY_CUT, ARCHIVE_PADDED for its zeros), nested and
# overlapping bombs end with ARCHIVE_LIMIT.
# The scan runs under `ulimit -v` (plain build) or ASan's hard_rss_limit_mb
# (sanitizer build), so memory past the bound fails the test, not the box.
. t/lib.sh
DRIVER=$LW_TOP/t/1001-archive
[ -x "$DRIVER" ] || bail "build t/1001-archive first"
d=$(tmpdir 1002-bombs)
BOUND=120

# 256 MiB message budget + 64 MiB entry buffer + libmagic + the zip.
LIMIT_MB=640
asan=0
if [ "${LW_SANITIZE:-0}" = 1 ] || nm "$DRIVER" 2>/dev/null | grep -q __asan_init; then
	asan=1
fi
scan() {	# scan FILE [PW...]: findings on stdout
	if [ $asan = 1 ]; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=$LIMIT_MB \
		    bounded "$DRIVER" scan "$@"
	else
		( ulimit -v $((LIMIT_MB * 1024)); bounded "$DRIVER" scan "$@" )
	fi
}

# 1 GiB of zeros in one entry.
( cd "$d" && head -c 1073741824 /dev/zero | bounded zip -q -9 zeros.zip - ) ||
    bail "cannot build zeros.zip"
out=$(scan "$d/zeros.zip"); rc=$?
is 0 "$rc" "1 GiB of zeros: scan ends normally"
like "ARCHIVE_ENTRY_CUT" "$out" "1 GiB of zeros: the entry is cut (ARCHIVE_ENTRY_CUT)"
like "ARCHIVE_PADDED" "$out" "1 GiB of zeros: ARCHIVE_PADDED says what was seen"
infl=$(printf '%s\n' "$out" | sed -n 's/^inflated //p')
[ "${infl:-999999999999}" -le $((65 * 1048576)) ]; ok $? "stopped after $infl bytes"

# 42.zip style: 16 copies of the zeros zip per level, four levels.
( cd "$d" && for l in 1 2 3 4; do
	i=0; files=
	while [ $i -lt 16 ]; do
		if [ $l = 1 ]; then cp zeros.zip "z$i.zip"; else cp "l$((l-1)).zip" "z$i.zip"; fi
		files="$files z$i.zip"; i=$((i + 1))
	done
	zip -q -9 "l$l.zip" $files && rm -f $files
done ) || bail "cannot build the nested bomb"
out=$(scan "$d/l4.zip"); rc=$?
is 0 "$rc" "nested bomb: scan ends normally"
like 'ARCHIVE_LIMIT' "$out" "nested bomb: ARCHIVE_LIMIT"
n=$(printf '%s\n' "$out" | grep -c '^ARCHIVE_LIMIT')
[ "$n" -le 4 ]; ok $? "one finding per limit, not per archive ($n)"
infl=$(printf '%s\n' "$out" | sed -n 's/^inflated //p')
[ "${infl:-999999999999}" -le $((256 * 1048576)) ]; ok $? "message budget kept ($infl)"

# Overlapping entries (one deflated kernel of zeros, 1000 directory
# records pointing into it).
python3 - "$d/overlap.zip" <<'PY' || bail "cannot build overlap.zip"
import sys, zlib, struct
data = zlib.compress(b"\0" * (32 << 20), 9)[2:-4]
crc = zlib.crc32(b"\0" * (32 << 20))
name = b"k"
lh = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, crc, len(data), 32 << 20, len(name), 0) + name
body = lh + data
cd = b""
for i in range(1000):
    n = b"f%04d" % i
    cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0, crc, len(data), 32 << 20, len(n), 0, 0, 0, 0, 0, 0) + n
eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1000, 1000, len(cd), len(body), 0)
open(sys.argv[1], "wb").write(body + cd + eocd)
PY
out=$(scan "$d/overlap.zip"); rc=$?
is 0 "$rc" "overlapping entries: scan ends normally"
like 'ARCHIVE_LIMIT.*archive_overlap' "$out" "overlapping entries: ARCHIVE_LIMIT"

rm -rf "$d"
done_testing
