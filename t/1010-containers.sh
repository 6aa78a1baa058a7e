#!/bin/sh
# 1010-containers: containers other than zip (libarchive) through
# `lurewall scan`: a macro .xls inside a 7z, a tar.gz, a tar.xz, a .gz,
# a .bz2, a .xz, a cab and an ISO is found under its part path and
# quarantined; the clean twins (a 7z of a clean xlsx, a tar.gz of
# drawings) are accepted; encrypted 7z (names visible or not), a
# truncated 7z and a VHD give their named findings, never silence; a 7z
# and a gzip of 256 MiB of zeros are cut (ARCHIVE_ENTRY_CUT) under
# `ulimit -v`.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=120
d=$(tmpdir 1010-containers)
F=$CORPUS/files
for tool in 7z tar gzip bzip2 xz gcab xorriso python3; do
	command -v $tool > /dev/null || bail "$tool missing: run contrib/install-deps"
done
[ -f "$F/SimpleMacro.xls" ] || bail "no corpus at $CORPUS"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# Memory bound: memlimited (t/lib.sh) at LIMIT_MB.
LIMIT_MB=900

# mail FILE NAME [BODY]: a message with FILE attached as NAME
mail() {
	python3 - "$@" <<'PY'
import sys, base64
path, name = sys.argv[1], sys.argv[2]
body = sys.argv[3] if len(sys.argv) > 3 else "Please find the files attached."
b = base64.encodebytes(open(path, "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: files\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
    "\r\n--XX\r\nContent-Type: application/octet-stream; name=\"" + name +
    "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}

# scan FILE NAME [BODY]: "action score rule@part ..." of the message
scan() {
	mail "$@" > "$d/m.eml" || bail "cannot build a message for $2"
	bounded "$LUREWALL" scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}

cd "$d" || bail "no $d"
cp "$F/SimpleMacro.xls" invoice.xls
cp "$F/Formatting.xlsx" report.xlsx
7z a -bd -bso0 m.7z invoice.xls || bail "7z"
tar czf m.tar.gz invoice.xls && tar cJf m.tar.xz invoice.xls || bail "tar"
gzip -c invoice.xls > invoice.xls.gz && bzip2 -c invoice.xls > invoice.xls.bz2 &&
    xz -c invoice.xls > invoice.xls.xz || bail "gzip/bzip2/xz"
gcab -c m.cab invoice.xls || bail "gcab"
mkdir iso && cp invoice.xls iso/ && printf 'L\0\0\0' > iso/open.lnk &&
    xorriso -as mkisofs -quiet -o m.iso -J -R iso 2> /dev/null || bail "xorriso"

for f in m.7z m.tar.gz m.tar.xz m.cab; do
	out=$(scan $f $f)
	like "^quarantine .*OFFICE_VBA@2/$f/invoice.xls" "$out" \
	    "macro .xls inside $f: OFFICE_VBA at 2/$f/invoice.xls, quarantined"
done
for f in invoice.xls.gz invoice.xls.bz2 invoice.xls.xz; do
	out=$(scan $f $f)
	like "^quarantine .*OFFICE_VBA@2/$f/invoice.xls( |$)" "$out" \
	    "macro .xls compressed as $f: named invoice.xls, quarantined"
done
# The gzip header's own name wins over the attachment's.
gzip -c invoice.xls > renamed.gz
out=$(scan renamed.gz doc.gz)
like "OFFICE_VBA@2/doc.gz/invoice.xls" "$out" "gzip FNAME names the entry"
out=$(scan m.iso m.iso)
like "^quarantine .*FILE_DISK_IMAGE@2/m.iso" "$out" "ISO: FILE_DISK_IMAGE stays"
like "OFFICE_VBA@2/m.iso/invoice.xls" "$out" "ISO: the macro .xls inside is analysed"
like "FILE_SHORTCUT@2/m.iso/open.lnk" "$out" "ISO: the .lnk inside is named"
unlike "ARCHIVE_CORRUPT|ARCHIVE_UNSUPPORTED" "$out" "ISO: read whole"

# Clean twins.
7z a -bd -bso0 c.7z report.xlsx || bail "7z"
out=$(scan c.7z c.7z)
like "^accept 0" "$out" "7z of a clean xlsx: accepted"
mkdir drawings
python3 -c '
import zlib, struct
def png(w, h):
    raw = b"".join(b"\0" + bytes((x * 7 + y) & 255 for x in range(w)) for y in range(h))
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i in range(3):
    open("drawings/part-%d.png" % i, "wb").write(png(64 + i, 48))
open("drawings/bom.csv", "w").write("part,qty\nbolt M6,12\nnut M6,12\n")
' || bail "drawings"
tar czf drawings.tar.gz drawings
out=$(scan drawings.tar.gz drawings.tar.gz)
like "^accept 0" "$out" "tar.gz of engineering drawings: accepted"
gcab -c clean.cab report.xlsx || bail "gcab"
out=$(scan clean.cab clean.cab)
like "^accept 0" "$out" "cab of a clean xlsx: accepted"

# A nested archive: a zip inside a 7z is opened too.
printf 'WScript.Echo("x")\r\n' > run.js
zip -q inner.zip run.js && 7z a -bd -bso0 outer.7z inner.zip || bail "nest"
out=$(scan outer.7z outer.7z)
like "ARCHIVE_NESTED@2/outer.7z/inner.zip" "$out" "zip in 7z: ARCHIVE_NESTED"
like "^quarantine .*FILE_SCRIPT@2/outer.7z/inner.zip/run.js" "$out" \
    "zip in 7z: the script inside is found"

# Encrypted 7z without its password in the mail (t/1011 has it): the
# names are checked; header encryption hides them.
7z a -bd -bso0 -p8462 enc.7z report.xlsx || bail "7z -p"
out=$(scan enc.7z enc.7z)
like "ARCHIVE_ENCRYPTED@2/enc.7z" "$out" "AES 7z: ARCHIVE_ENCRYPTED"
like "ARCHIVE_PASSWORD_UNKNOWN@2/enc.7z" "$out" "AES 7z: ARCHIVE_PASSWORD_UNKNOWN"
7z a -bd -bso0 -p8462 encjs.7z run.js || bail "7z -p"
out=$(scan encjs.7z encjs.7z)
like "^quarantine .*FILE_SCRIPT@2/encjs.7z/run.js" "$out" \
    "AES 7z holding a .js: the visible name quarantines"
7z a -bd -bso0 -p8462 -mhe=on henc.7z run.js || bail "7z -mhe"
out=$(scan henc.7z henc.7z)
like "ARCHIVE_PASSWORD_UNKNOWN@2/henc.7z" "$out" \
    "header-encrypted 7z: ARCHIVE_PASSWORD_UNKNOWN, not silence"

# Damage and formats not read: named findings.
head -c 200 m.7z > cut.7z
out=$(scan cut.7z cut.7z)
like "ARCHIVE_CORRUPT@2/cut.7z" "$out" "truncated 7z: ARCHIVE_CORRUPT"
python3 -c '
import sys
f = bytearray(1024); f[512:520] = b"conectix"
open("disk.vhd", "wb").write(bytes(f))'
out=$(scan disk.vhd disk.vhd)
like "^quarantine .*FILE_DISK_IMAGE@2/disk.vhd" "$out" "VHD: FILE_DISK_IMAGE"
like "ARCHIVE_UNSUPPORTED@2/disk.vhd" "$out" "VHD: ARCHIVE_UNSUPPORTED (names unknown)"

# Bombs end at the limits, in bounded memory: 256 MiB message budget +
# 64 MiB entry buffer + libmagic.  (A leading byte: tar would take
# plain zeros for an empty tar.)
{ printf x; head -c 268435456 /dev/zero; } > zeros || bail "zeros"
gzip -1 -c zeros > zeros.gz && 7z a -bd -bso0 -mx=1 zeros.7z zeros ||
    bail "zeros.gz, zeros.7z"
rm -f zeros
for f in zeros.gz zeros.7z; do
	mail $f $f > "$d/m.eml"
	out=$(memlimited "$LUREWALL" scan -c "$d/lurewall.yaml" "$d/m.eml" \
	    2>/dev/null); rc=$?
	is 0 "$rc" "$f: scan ends with a verdict under ulimit -v"
	like "ARCHIVE_ENTRY_CUT" "$out" "$f: the entry is cut (ARCHIVE_ENTRY_CUT)"
done

cd "$LW_TOP" && rm -rf "$d"
done_testing
