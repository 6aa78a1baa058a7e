#!/bin/sh
# 1013-lying-zips: zips whose central directory lies, built in the test
# from a real macro .xls.  libzip refuses them, Info-ZIP and 7-Zip
# extract them: lurewall reads them from the local headers as those do,
# so each variant is quarantined for the macro inside, and the same
# lies around a clean .xlsx are not.  An entry nobody can read scores
# as its name says: an unreadable invoice.xls is quarantined
# (ARCHIVE_ENTRY_UNREADABLE), an unreadable PDF is not.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 1013-lying-zips)
F=$CORPUS/files
command -v python3 > /dev/null || bail "python3 missing"
[ -f "$F/SimpleMacro.xls" ] || bail "no corpus at $CORPUS"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# lie KIND IN NAME OUT: a one-entry zip of IN (as NAME) that lies KIND
lie() {
	python3 - "$@" <<'PY'
import sys, struct, zlib
kind, src, name, out = sys.argv[1:5]
data = open(src, "rb").read()
crc = zlib.crc32(data)
stored = kind in ("stored-cd-large",)
comp = data if stored else zlib.compress(data, 9)[2:-4]
if kind == "unreadable":
    comp = b"\xff" * 600   # no deflate stream: nobody reads it
method = 0 if stored else 8
n = name.encode()
lh = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, method, 0, 0, crc,
    len(comp), len(data), len(n), 0) + n
csize, usize, off = len(comp), len(data), 0
if kind == "cd-csize-small":
    csize = 100
elif kind == "cd-usize-small":
    usize = 1000
elif kind == "stored-cd-large":
    csize = usize = len(data) + 5000
cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, method, 0, 0,
    crc, csize, usize, len(n), 0, 0, 0, 0, 0, off) + n
body = lh + comp
cdoff = len(body)
if kind == "cd-outside":
    cdoff = len(body) + len(cd) + 4096
eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(cd), cdoff, 0)
z = body + cd + eocd
if kind == "prepended":
    z = b"Scanned by the copier\r\n" * 200 + z   # offsets not adjusted
open(out, "wb").write(z)
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
    "--XX\r\nContent-Type: application/zip; name=\"invoice.zip\"\r\n"
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

for kind in cd-csize-small cd-usize-small stored-cd-large cd-outside prepended; do
	lie $kind "$F/SimpleMacro.xls" invoice.xls "$d/$kind.zip" || bail "build $kind"
	out=$(scan "$d/$kind.zip")
	like "^quarantine .*OFFICE_VBA@2/invoice.zip/invoice.xls" "$out" \
	    "$kind: the macro .xls is read from the local header"
	lie $kind "$F/Formatting.xlsx" report.xlsx "$d/c-$kind.zip" || bail "build $kind"
	out=$(scan "$d/c-$kind.zip")
	like "^accept " "$out" "$kind around a clean .xlsx: accepted"
done

# Two zips concatenated: the first one's entries count too.
( cd "$d" && cp "$F/SimpleMacro.xls" invoice.xls && cp "$F/Formatting.xlsx" report.xlsx &&
    zip -q a.zip invoice.xls && zip -q b.zip report.xlsx && cat a.zip b.zip > cat.zip ) ||
    bail "concatenated zip"
out=$(scan "$d/cat.zip")
like "^quarantine .*OFFICE_VBA@2/invoice.zip/invoice.xls" "$out" \
    "concatenated zips: the first zip's macro .xls is found"

# An entry that cannot be read at all scores as what its name says:
# an unreadable invoice.xls is quarantined, an unreadable PDF is not.
lie unreadable "$F/SimpleMacro.xls" invoice.xls "$d/unreadable.zip" || bail "unreadable"
out=$(scan "$d/unreadable.zip")
like "^quarantine .*ARCHIVE_ENTRY_UNREADABLE@2/invoice.zip/invoice.xls" "$out" \
    "an unreadable invoice.xls entry: quarantined by its name"
lie unreadable "$F/SimpleMacro.xls" statement.pdf "$d/unreadable-pdf.zip" || bail "unreadable"
out=$(scan "$d/unreadable-pdf.zip")
like "^accept .*ARCHIVE_CORRUPT@2/invoice.zip/statement.pdf" "$out" \
    "an unreadable statement.pdf entry: ARCHIVE_CORRUPT, accepted"
unlike "ARCHIVE_ENTRY_UNREADABLE" "$out" "a PDF name says nothing more"

rm -rf "$d"
done_testing
