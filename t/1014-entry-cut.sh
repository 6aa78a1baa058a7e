#!/bin/sh
# 1014-entry-cut: size limits protect the scanner, findings say what
# was seen.  A 70 MiB CSV export in a zip is cut at archive_entry_bytes
# and accepted (ARCHIVE_ENTRY_CUT alone); a 26 MB BMP scan in a zip is
# accepted untouched; a macro .xls padded with 100 MiB of zeros (the
# inflated documents of March 2023) is analysed on its start:
# OFFICE_VBA and ARCHIVE_PADDED, quarantined.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=120
d=$(tmpdir 1014-entry-cut)
F=$CORPUS/files
for tool in zip python3; do
	command -v $tool > /dev/null || bail "$tool missing: run contrib/install-deps"
done
[ -f "$F/SimpleMacro.xls" ] || bail "no corpus at $CORPUS"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# Memory bound: memlimited (t/lib.sh) at LIMIT_MB.
LIMIT_MB=900

mail() {
	python3 - "$@" <<'PY'
import sys, base64
b = base64.encodebytes(open(sys.argv[1], "rb").read()).decode()
sys.stdout.write("From: a@example.com\r\nTo: b@example.net\r\n"
    "Subject: files\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    "--XX\r\nContent-Type: application/zip; name=\"files.zip\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" + b + "--XX--\r\n")
PY
}
scan() {
	mail "$1" > "$d/m.eml" || bail "mail"
	memlimited "$LUREWALL" scan -c "$d/lurewall.yaml" --json "$d/m.eml" \
	    2> "$d/err" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}

cd "$d" || bail "no $d"
python3 -c '
import random
r = random.Random(7)
with open("export.csv", "w") as f:
    f.write("date,customer,item,qty,price\n")
    n = 0
    while n < 70 << 20:
        line = "2023-%02d-%02d,C%06d,ITEM-%05d,%d,%d.%02d\n" % (r.randint(1, 12),
            r.randint(1, 28), r.randint(0, 999999), r.randint(0, 99999),
            r.randint(1, 500), r.randint(1, 9999), r.randint(0, 99))
        f.write(line)
        n += len(line)
' || bail "csv"
zip -q -1 csv.zip export.csv || bail "zip csv"
rm -f export.csv
out=$(scan csv.zip)
like "^accept 1 ARCHIVE_ENTRY_CUT@2/files.zip/export.csv$" "$out" \
    "70 MiB CSV export: cut, analysed, accepted"

python3 -c '
import struct, random
w, h = 3000, 2900
row = (w * 3 + 3) & ~3
r = random.Random(3)
px = bytes(r.getrandbits(8) & 0xf0 for _ in range(row * 16))
with open("scan.bmp", "wb") as f:
    f.write(b"BM" + struct.pack("<IHHI", 54 + row * h, 0, 0, 54))
    f.write(struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, row * h, 2835, 2835, 0, 0))
    for y in range(h // 16 + 1):
        f.write(px[: row * min(16, h - y * 16)])
' || bail "bmp"
zip -q scan.zip scan.bmp || bail "zip bmp"
rm -f scan.bmp
out=$(scan scan.zip)
like "^accept 0" "$out" "26 MB BMP scan in a zip: accepted"

cp "$F/SimpleMacro.xls" invoice.xls
head -c 104857600 /dev/zero >> invoice.xls
zip -q -9 padded.zip invoice.xls || bail "zip padded"
rm -f invoice.xls
out=$(scan padded.zip)
like "^quarantine .*OFFICE_VBA@2/files.zip/invoice.xls" "$out" \
    "macro .xls padded with 100 MiB of zeros: its start is analysed, quarantined"
like "ARCHIVE_PADDED@2/files.zip/invoice.xls" "$out" "ARCHIVE_PADDED names the padding"

cd "$LW_TOP" && rm -rf "$d"
done_testing
