#!/bin/sh
# 1011-sevenz-aes: 7z AES archives opened with the password from the
# body, like zip PPAP: a macro .xls inside is found (plain and
# header-encrypted 7z, LZMA2, LZMA, Deflate, BZip2, BCJ x86 and Delta
# coders), a clean .xlsx twin is accepted, a wrong password leaves
# ARCHIVE_PASSWORD_UNKNOWN, a coder we lack (PPMd, BCJ2) gives
# ARCHIVE_UNSUPPORTED with the names that show checked,
# and forty wrong candidates before the right one hit the key
# derivation budget (logged as not tried) instead of the clock.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 1011-sevenz-aes)
F=$CORPUS/files
for tool in 7z python3; do
	command -v $tool > /dev/null || bail "$tool missing: run contrib/install-deps"
done
[ -f "$F/SimpleMacro.xls" ] || bail "no corpus at $CORPUS"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

mail() {	# mail FILE NAME BODY
	python3 - "$@" <<'PY'
import sys, base64
path, name, body = sys.argv[1], sys.argv[2], sys.argv[3]
b = base64.encodebytes(open(path, "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: invoice\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
    "\r\n--XX\r\nContent-Type: application/x-7z-compressed; name=\"" + name +
    "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}
scan() {	# scan FILE BODY: "action score rule@part ..."
	mail "$1" "$(basename "$1")" "$2" > "$d/m.eml" || bail "mail"
	bounded "$LUREWALL" ${VERBOSE:+-v} scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], r["elapsed_ms"], " ".join(f["rule"] + "@" +
    f["part"] for f in r["findings"]))'
}

cd "$d" || bail "no $d"
cp "$F/SimpleMacro.xls" invoice.xls
cp "$F/Formatting.xlsx" report.xlsx
PW="Password: 8462"

7z a -bd -bso0 -p8462 lzma2.7z invoice.xls || bail "7z"
out=$(scan lzma2.7z "$PW")
like "^quarantine .*OFFICE_VBA@2/lzma2.7z/invoice.xls" "$out" \
    "AES 7z (LZMA2), password in the body: the macro .xls is found"
like "ARCHIVE_PASSWORD_IN_MESSAGE@2/lzma2.7z" "$out" "ARCHIVE_PASSWORD_IN_MESSAGE"

7z a -bd -bso0 -p8462 -mhe=on hdr.7z invoice.xls || bail "7z -mhe"
out=$(scan hdr.7z "$PW")
like "^quarantine .*OFFICE_VBA@2/hdr.7z/invoice.xls" "$out" \
    "header-encrypted AES 7z: names and macro found"

7z a -bd -bso0 -p8462 clean.7z report.xlsx || bail "7z"
out=$(scan clean.7z "$PW")
like "^accept [01] " "$out" "AES 7z PPAP of a clean xlsx: accepted"
unlike "ARCHIVE_PASSWORD_UNKNOWN" "$out" "... and opened"

for m in LZMA Deflate; do
	7z a -bd -bso0 -p8462 -m0=$m "m-$m.7z" invoice.xls || bail "7z -m0=$m"
	out=$(scan "m-$m.7z" "$PW")
	like "^quarantine .*OFFICE_VBA@2/m-$m.7z/invoice.xls" "$out" \
	    "AES 7z with $m: opened"
done
7z a -bd -bso0 -p8462 -mf=BCJ bcj.7z invoice.xls || bail "7z -mf=BCJ"
out=$(scan bcj.7z "$PW")
like "^quarantine .*OFFICE_VBA@2/bcj.7z/invoice.xls" "$out" "AES 7z with BCJ x86: opened"
7z a -bd -bso0 -p8462 -mf=Delta:4 delta.7z invoice.xls || bail "7z -mf=Delta"
out=$(scan delta.7z "$PW")
like "^quarantine .*OFFICE_VBA@2/delta.7z/invoice.xls" "$out" "AES 7z with Delta: opened"

out=$(scan lzma2.7z "Password: 1111")
like "^tag .*ARCHIVE_PASSWORD_UNKNOWN@2/lzma2.7z" "$out" \
    "wrong password in the body: ARCHIVE_PASSWORD_UNKNOWN, tagged"

# Coders we lack: ARCHIVE_UNSUPPORTED, scored like ARCHIVE_PASSWORD_UNKNOWN
# (tagged), and the names that show are checked (a .js: quarantined).
printf 'WScript.Echo("x")\r\n' > run.js
7z a -bd -bso0 -p8462 -m0=PPMd ppmd.7z invoice.xls || bail "7z -m0=PPMd"
out=$(scan ppmd.7z "$PW")
like "^tag .*ARCHIVE_UNSUPPORTED@2/ppmd.7z" "$out" "PPMd folder: ARCHIVE_UNSUPPORTED, tagged"
7z a -bd -bso0 -p8462 -m0=PPMd ppmdjs.7z invoice.xls run.js || bail "7z -m0=PPMd"
out=$(scan ppmdjs.7z "$PW")
like "^quarantine .*FILE_SCRIPT@2/ppmdjs.7z/run.js" "$out" \
    "PPMd folder holding a .js: its name is checked"
# BCJ2 has four streams; libarchive cannot even list it encrypted.
7z a -bd -bso0 -p8462 -mf=BCJ2 bcj2.7z invoice.xls || bail "7z -mf=BCJ2"
out=$(scan bcj2.7z "$PW")
like "^tag .*ARCHIVE_UNSUPPORTED@2/bcj2.7z" "$out" "BCJ2 folder: ARCHIVE_UNSUPPORTED, tagged"
unlike "ARCHIVE_CORRUPT" "$out" "BCJ2 folder: not taken for damage"
7z a -bd -bso0 -p8462 -mf=BCJ2 bcj2js.7z invoice.xls run.js || bail "7z -mf=BCJ2"
out=$(scan bcj2js.7z "$PW")
like "^quarantine .*FILE_SCRIPT@2/bcj2js.7z/run.js.*ARCHIVE_UNSUPPORTED@2/bcj2js.7z" \
    "$out" "BCJ2 folder holding a .js: named and quarantined"
7z a -bd -bso0 -p8462 -mhe=on -mf=BCJ2 bcj2h.7z invoice.xls run.js || bail "7z -mf=BCJ2"
out=$(scan bcj2h.7z "$PW")
like "^quarantine .*FILE_SCRIPT@2/bcj2h.7z/run.js.*ARCHIVE_UNSUPPORTED@2/bcj2h.7z" \
    "$out" "BCJ2 with encrypted headers: the header opens, names checked"
# BZip2 is decoded (libbz2).
7z a -bd -bso0 -p8462 -m0=BZip2 bz.7z invoice.xls || bail "7z -m0=BZip2"
out=$(scan bz.7z "$PW")
like "^quarantine .*OFFICE_VBA@2/bz.7z/invoice.xls" "$out" "AES 7z with BZip2: opened"
7z a -bd -bso0 -p8462 -m0=BZip2 bzclean.7z report.xlsx || bail "7z -m0=BZip2"
out=$(scan bzclean.7z "$PW")
like "^accept [01] " "$out" "AES 7z with BZip2 of a clean xlsx: accepted"

# NumCyclesPower 30: refused as 7-Zip does, never derived.
python3 - lzma2.7z c30.7z <<'PY' || bail "c30.7z"
import sys, struct, zlib
d = bytearray(open(sys.argv[1], "rb").read())
i = d.rfind(b"\x06\xf1\x07\x01")
d[i + 5] = (d[i + 5] & 0xc0) | 30
off = 32 + struct.unpack("<Q", d[12:20])[0]
size = struct.unpack("<Q", d[20:28])[0]
d[28:32] = struct.pack("<I", zlib.crc32(d[off:off + size]))
d[8:12] = struct.pack("<I", zlib.crc32(d[12:32]))
open(sys.argv[2], "wb").write(d)
PY
out=$(scan c30.7z "$PW")
like "ARCHIVE_CORRUPT@2/c30.7z" "$out" "NumCyclesPower above 24: ARCHIVE_CORRUPT"

# 40 wrong candidates first: the derivation budget stops them, not the
# scan clock; the log says how many were not tried.
body=$(python3 -c '
print("\r\n".join("Password: w%04dz" % i for i in range(40)) + "\r\nPassword: 8462")')
out=$(VERBOSE=1 scan lzma2.7z "$body")
like "ARCHIVE_PASSWORD_UNKNOWN@2/lzma2.7z" "$out" "budget spent: ARCHIVE_PASSWORD_UNKNOWN"
unlike "SCAN_TIMEOUT" "$out" "no SCAN_TIMEOUT"
like "password candidates not tried" "$(cat "$d/err")" "skipped candidates logged"

cd "$LW_TOP" && rm -rf "$d"
done_testing
