#!/bin/sh
# 1012-tnef: winmail.dat (TNEF) generated in the test: a macro .xls
# inside is found under 2/winmail.dat/invoice.xls and quarantined, a
# .js by its title; a TNEF holding a PDF is accepted; a stream whose
# attribute runs past the end is ARCHIVE_CORRUPT and what came before
# is still analysed.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 1012-tnef)
F=$CORPUS/files
command -v python3 > /dev/null || bail "python3 missing"
[ -f "$F/SimpleMacro.xls" ] || bail "no corpus at $CORPUS"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# tnef OUT [cut] TITLE=FILE...: a winmail.dat with those attachments
tnef() {
	python3 - "$@" <<'PY'
import sys, struct
out, args = sys.argv[1], sys.argv[2:]
cut = args and args[0] == "cut"
if cut:
    args = args[1:]
def attr(level, aid, data):
    return (struct.pack("<BII", level, aid, len(data)) + data +
        struct.pack("<H", sum(data) & 0xffff))
b = struct.pack("<IH", 0x223e9f78, 0x1234)
b += attr(1, 0x00089006, struct.pack("<I", 0x00010000))     # attTnefVersion
b += attr(1, 0x00078008, b"IPM.Microsoft Mail.Note\0")       # attMessageClass
for a in args:
    title, path = a.split("=", 1)
    data = open(path, "rb").read()
    b += attr(2, 0x00069002, b"\1\0" + b"\xff" * 12)         # attAttachRendData
    b += attr(2, 0x00018010, title.encode() + b"\0")         # attAttachTitle
    b += attr(2, 0x0006800f, data)                           # attAttachData
if cut:
    b += struct.pack("<BII", 2, 0x00069002, 1 << 30) + b"xx"
open(out, "wb").write(b)
PY
}
mail() {
	python3 - "$@" <<'PY'
import sys, base64
b = base64.encodebytes(open(sys.argv[1], "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: invoice\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    "--XX\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}
scan() {
	mail "$1" > "$d/m.eml" || bail "mail"
	bounded "$LUREWALL" scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}

printf '%%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' > "$d/doc.pdf"
printf 'WScript.Echo("x")\r\n' > "$d/run.js"

tnef "$d/macro.dat" "invoice.xls=$F/SimpleMacro.xls" || bail "tnef"
out=$(scan "$d/macro.dat")
like "^quarantine .*OFFICE_VBA@2/winmail.dat/invoice.xls" "$out" \
    "TNEF with a macro .xls: OFFICE_VBA at 2/winmail.dat/invoice.xls"

tnef "$d/two.dat" "drawing.pdf=$d/doc.pdf" "update.js=$d/run.js" || bail "tnef"
out=$(scan "$d/two.dat")
like "^quarantine .*FILE_SCRIPT@2/winmail.dat/update.js" "$out" \
    "TNEF with a PDF and a .js: the second attachment is found"

tnef "$d/pdf.dat" "drawing.pdf=$d/doc.pdf" || bail "tnef"
out=$(scan "$d/pdf.dat")
like "^accept 0" "$out" "TNEF with a PDF: accepted"

tnef "$d/cut.dat" cut "invoice.xls=$F/SimpleMacro.xls" || bail "tnef"
out=$(scan "$d/cut.dat")
like "ARCHIVE_CORRUPT@2/winmail.dat" "$out" "attribute past the end: ARCHIVE_CORRUPT"
like "OFFICE_VBA@2/winmail.dat/invoice.xls" "$out" "what came before is analysed"

rm -rf "$d"
done_testing
