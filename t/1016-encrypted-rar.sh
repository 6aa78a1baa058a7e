#!/bin/sh
# 1016-encrypted-rar: RAR4 and RAR5 archives whose files or headers are
# encrypted.  libarchive reads both formats but decrypts neither, and
# 3.6 does not even report RAR5 file encryption (rar5.c reads it).
# `rar` is non-free and no Debian main tool writes RAR, so the archives
# are built here by hand to the RAR 4.x technote and the RAR 5.0 format
# description: stored files, file headers with the encryption flag and
# salt (RAR4) or the file encryption record (RAR5), and archives whose
# headers are encrypted.  An unencrypted twin of each shows the crafted
# headers are ones libarchive reads.  Encrypted files give
# ARCHIVE_PASSWORD_UNKNOWN (tagged, as zip) with their names checked
# (a .js: quarantined); encrypted headers give it with no names.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 1016-encrypted-rar)
command -v python3 > /dev/null || bail "python3 missing"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# rar KIND OUT NAME...: KIND rar4|rar5, -enc (files encrypted), -hdr
# (headers encrypted); each file is 64 bytes, stored.
rar() {
	python3 - "$@" <<'PY'
import struct, sys, zlib
kind, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
enc, hdr = kind.endswith("-enc"), kind.endswith("-hdr")
def noise(n, seed):
    return bytes((i * 97 + seed * 31 + 13) & 255 for i in range(n))
def plain(n):
    return (b"quarterly figures, as discussed\r\n" * 2)[:n]
def b4(typ, flags, body, data=b""):
    h = struct.pack("<BHH", typ, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(h) & 0xffff) + h + data
def vint(v):
    o = b""
    while v >= 0x80:
        o += bytes([v & 0x7f | 0x80])
        v >>= 7
    return o + bytes([v])
def b5(typ, fields, extra=b"", data=b""):
    h = vint(typ) + vint((1 if extra else 0) | (2 if data else 0))
    h += (vint(len(extra)) if extra else b"") + (vint(len(data)) if data else b"")
    h = vint(len(h + fields + extra)) + h + fields + extra
    return struct.pack("<I", zlib.crc32(h)) + h + data
if kind.startswith("rar4"):
    a = b"Rar!\x1a\x07\x00" + b4(0x73, 0x0080 if hdr else 0, b"\0" * 6)
    if hdr:    # salt, then AES-128 blocks nobody here can read
        a += noise(8, 1) + noise(96, 2)
    for i, n in enumerate([] if hdr else names):
        data = noise(64, i) if enc else plain(64)
        nb = n.encode()
        body = struct.pack("<IIBIIBBHI", len(data), 64, 2, zlib.crc32(plain(64)),
            0x5a000000, 29, 0x30, len(nb), 0x20) + nb + (noise(8, i) if enc else b"")
        a += b4(0x74, 0x8000 | (0x0404 if enc else 0), body, data)
    a += b"" if hdr else b4(0x7b, 0x4000, b"")
else:
    a = b"Rar!\x1a\x07\x01\x00"
    if hdr:    # archive encryption header: AES-256, KDF 2^15, salt, check
        a += b5(4, vint(0) + vint(1) + bytes([15]) + noise(16, 3) + noise(12, 4))
        a += noise(16, 5) + noise(64, 6)
    else:
        a += b5(1, vint(0))
    for i, n in enumerate([] if hdr else names):
        data = noise(64, i) if enc else plain(64)
        nb = n.encode()
        fields = vint(0x4) + vint(64) + vint(0x20) + struct.pack("<I",
            zlib.crc32(data)) + vint(0) + vint(0) + vint(len(nb)) + nb
        rec = vint(1) + vint(0) + vint(1) + bytes([15]) + noise(16, i) + \
            noise(16, i + 7) + noise(12, i + 9)
        a += b5(2, fields, vint(len(rec)) + rec if enc else b"", data)
    a += b"" if hdr else b5(5, vint(0))
open(out, "wb").write(a)
PY
}

# scan FILE: "action score rule@part[detail] ..."
scan() {
	python3 - "$1" > "$d/m.eml" <<'PY' || bail "mail"
import base64, os, sys
b = base64.encodebytes(open(sys.argv[1], "rb").read()).decode()
print("From: a@example.com\r\nTo: b@example.net\r\nSubject: docs\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n--XX\r\nContent-Type: text/plain\r\n\r\nThe documents.\r\n--XX\r\n"
    "Content-Type: application/vnd.rar; name=\"" + os.path.basename(sys.argv[1]) +
    "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r", end="\n")
PY
	bounded "$LUREWALL" scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
w = [r["action"], str(r["score"])]
w += ["%s@%s[%s]" % (f["rule"], f["part"], f["detail"]) for f in r["findings"]]
print(" ".join(w))'
}

cd "$d" || bail "no $d"
for v in rar4 rar5; do
	rar $v $v.rar invoice.xls run.js || bail "build $v"
	out=$(scan $v.rar)
	like "^quarantine .*FILE_SCRIPT@2/$v.rar/run.js" "$out" \
	    "$v, not encrypted: libarchive reads the crafted headers"
	unlike "ARCHIVE_(CORRUPT|ENCRYPTED|PASSWORD_UNKNOWN)" "$out" \
	    "$v, not encrypted: read whole"
	rar $v clean-$v.rar notes.txt || bail "build $v"
	out=$(scan clean-$v.rar)
	like "^accept 0" "$out" "$v of a text file: accepted"

	rar $v-enc $v-enc.rar invoice.xls run.js || bail "build $v-enc"
	out=$(scan $v-enc.rar)
	like "^quarantine .*FILE_SCRIPT@2/$v-enc.rar/run.js\[name run.js" "$out" \
	    "$v, files encrypted: the .js is named and quarantined"
	like "ARCHIVE_PASSWORD_UNKNOWN@2/$v-enc.rar\[2 encrypted" "$out" \
	    "$v, files encrypted: ARCHIVE_PASSWORD_UNKNOWN"
	unlike "ARCHIVE_CORRUPT|OFFICE_MALFORMED|invoice.xls" "$out" \
	    "$v, files encrypted: the ciphertext is not analysed"
	rar $v-enc $v-enc1.rar invoice.xls || bail "build $v-enc"
	out=$(scan $v-enc1.rar)
	like "^tag .*ARCHIVE_PASSWORD_UNKNOWN@2/$v-enc1.rar" "$out" \
	    "$v, an encrypted .xls alone: tagged, as zip"

	rar $v-hdr $v-hdr.rar run.js || bail "build $v-hdr"
	out=$(scan $v-hdr.rar)
	like "^tag .*ARCHIVE_PASSWORD_UNKNOWN@2/$v-hdr.rar" "$out" \
	    "$v, headers encrypted: ARCHIVE_PASSWORD_UNKNOWN, tagged"
	like "ARCHIVE_ENCRYPTED@2/$v-hdr.rar\[.*headers encrypted" "$out" \
	    "$v, headers encrypted: said so"
	unlike "FILE_" "$out" "$v, headers encrypted: no names"
done

cd "$LW_TOP" && rm -rf "$d"
done_testing
