#!/bin/sh
# 1015-fat-images: FAT12, FAT16 and FAT32 disk images (the .img lure),
# built in the test with mtools.  A shortcut with a long name in a
# subdirectory and a script at the root are found under their part
# paths and quarantined, and FILE_DISK_IMAGE stays; a clean twin
# (photos and a PDF) adds no finding of its own, so a site that scores
# FILE_DISK_IMAGE 0 accepts it and still quarantines the lure.  An image
# inside a partition table, a FAT loop under a 4 GB file size, a
# directory that contains itself, a truncated image and too many
# entries give ARCHIVE_CORRUPT / ARCHIVE_LIMIT, under `ulimit -v`
# (memlimited, t/lib.sh).
. "${LW_TOP:-.}/t/lib.sh"
BOUND=120
d=$(tmpdir 1015-fat-images)
for tool in mformat mcopy mmd minfo xorriso python3; do
	command -v $tool > /dev/null || bail "$tool missing: run contrib/install-deps"
done
mkdir -p "$d/policy.d" "$d/open.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"
# A site that takes disk images: FILE_DISK_IMAGE scores nothing there.
sed 's/^\(  FILE_DISK_IMAGE: *\)10/\1 0/' "$LW_TOP/conf/policy.d/default.yaml" \
    > "$d/open.d/default.yaml"
grep -q '^  FILE_DISK_IMAGE: *0 ' "$d/open.d/default.yaml" || bail "policy edit"
printf 'policy_dir: open.d\nquarantine_dir: quarantine\n' > "$d/open.yaml"

LIMIT_MB=900

# scan CONFIG FILE NAME: "action score rule@part[detail] ..." of a
# message carrying FILE as NAME, scanned under memlimited (t/lib.sh)
scan() {
	{
		printf 'From: a@example.com\r\nTo: b@example.net\r\n'
		printf 'Subject: scans\r\nMIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
		printf -- '--XX\r\nContent-Type: text/plain\r\n\r\n'
		printf 'The scans, as promised.\r\n--XX\r\n'
		printf 'Content-Type: application/octet-stream; name="%s"\r\n' "$3"
		printf 'Content-Transfer-Encoding: base64\r\n\r\n'
		base64 -w 76 "$2" | sed 's/$/\r/'
		printf -- '--XX--\r\n'
	} > "$d/m.eml" || bail "cannot build a message for $3"
	memlimited "$LUREWALL" scan -c "$1" --json "$d/m.eml" 2> "$d/err" |
	    python3 -c '
import json, sys
r = json.load(sys.stdin)
out = [r["action"], str(r["score"])]
for f in r["findings"]:
    out.append("%s@%s[%s]" % (f["rule"], f["part"], f["detail"]))
print(" ".join(out))'
}

cd "$d" || bail "no $d"
# A real shell-link header, then padding; a script; photos and a PDF.
python3 -c '
import struct
open("lnk", "wb").write(bytes.fromhex("4c0000000114020000000000c000000000000046") +
    b"\0" * 200)
open("run.js", "w").write("var s = new ActiveXObject(\"WScript.Shell\");\r\n")
def bmp(w, h):
    row = (w * 3 + 3) // 4 * 4
    px = b"".join(bytes(v for x in range(w) for v in ((x * 7 + y) & 255, y & 255, x & 255)) +
        b"\0" * (row - w * 3) for y in range(h))
    return (struct.pack("<2sIHHI", b"BM", 54 + len(px), 0, 0, 54) +
        struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(px), 2835, 2835, 0, 0) + px)
for i in range(3):
    open("IMG_%04d.bmp" % (100 + i), "wb").write(bmp(80 + i, 60))
open("report.pdf", "wb").write(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
' || bail "files"
cp lnk "Invoice Scan 2024.lnk"

# mkimg BITS OUT: an empty FAT volume of that type
mkimg() {
	rm -f "$2"
	case $1 in
	12) mformat -C -f 1440 -i "$2" :: ;;
	16) mformat -C -T 8192 -c 1 -i "$2" :: ;;
	32) mformat -C -T 68000 -c 1 -F -i "$2" :: ;;
	esac || bail "mformat FAT$1"
	minfo -i "$2" :: | grep -q "disk type=\"FAT$1" || bail "$2 is not FAT$1"
}

for bits in 12 16 32; do
	mkimg $bits lure$bits.img
	mmd -i lure$bits.img ::/Documents &&
	    mcopy -i lure$bits.img "Invoice Scan 2024.lnk" ::/Documents/ &&
	    mcopy -i lure$bits.img run.js :: || bail "mcopy FAT$bits"
	out=$(scan lurewall.yaml lure$bits.img invoice.img)
	like "^quarantine .*FILE_DISK_IMAGE@2/invoice.img\[" "$out" \
	    "FAT$bits: FILE_DISK_IMAGE stays"
	like "FILE_SHORTCUT@2/invoice.img/Documents/Invoice Scan 2024.lnk\[" \
	    "$out" "FAT$bits: the .lnk in a subdirectory, by its long name"
	like "FILE_SCRIPT@2/invoice.img/run.js\[" "$out" \
	    "FAT$bits: the .js at the root"
	unlike "ARCHIVE_CORRUPT|ARCHIVE_UNSUPPORTED" "$out" "FAT$bits: read whole"

	mkimg $bits clean$bits.img
	mmd -i clean$bits.img ::/DCIM &&
	    mcopy -i clean$bits.img IMG_0100.bmp IMG_0101.bmp IMG_0102.bmp ::/DCIM/ &&
	    mcopy -i clean$bits.img report.pdf :: || bail "mcopy FAT$bits"
	out=$(scan lurewall.yaml clean$bits.img photos.img)
	like "^quarantine 10 FILE_DISK_IMAGE@2/photos.img\[[^]]*\]$" "$out" \
	    "FAT$bits of photos and a PDF: FILE_DISK_IMAGE alone"
	rm -f clean$bits.img
done
rm -f lure32.img
mkimg 12 clean.img
mcopy -i clean.img IMG_0100.bmp IMG_0101.bmp report.pdf :: || bail "mcopy"
out=$(scan open.yaml clean.img photos.img)
like "^accept 0 " "$out" "photos and a PDF where images are welcome: accepted"
out=$(scan open.yaml lure12.img invoice.img)
like "^quarantine .*FILE_SHORTCUT@2/invoice.img/Documents/" "$out" \
    "the lure where images are welcome: still quarantined"

# 8.3 names (no long name), with the NT lower-case flags mtools sets.
mkimg 12 short.img
cp run.js RUN.JS && mcopy -i short.img RUN.JS :: || bail "mcopy"
out=$(scan lurewall.yaml short.img disk.img)
like "FILE_SCRIPT@2/disk.img/RUN.JS\[" "$out" "an 8.3 name: RUN.JS"

# A hybrid ISO with a FAT partition appended: Windows mounts the ISO,
# so the ISO is what is read (its run.js, not the partition's RUN.JS).
mkdir iso && cp run.js iso/ && xorriso -as mkisofs -quiet -o hybrid.iso -J -R \
    -append_partition 2 0x0c short.img iso 2> /dev/null || bail "xorriso"
out=$(scan lurewall.yaml hybrid.iso hybrid.iso)
like "FILE_SCRIPT@2/hybrid.iso/run.js" "$out" "a hybrid ISO: read as ISO 9660"
unlike "RUN.JS" "$out" "... not through its FAT partition"

# The lure without its .img name, still found by its boot sector.
out=$(scan lurewall.yaml lure12.img scan.dat)
like "^quarantine .*FILE_DISK_IMAGE@2/scan.dat\[content is disk-image" "$out" \
    "a FAT image named .dat: a disk image by its content"
like "FILE_SHORTCUT@2/scan.dat/Documents/" "$out" "and opened"

# A FAT16 volume in the first partition of a master boot record.
python3 -c '
import struct
v = open("lure16.img", "rb").read()
mbr = bytearray(2048 * 512)
mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\0\2\0", 0x06, b"\0\0\0",
    2048, len(v) // 512)
mbr[510:512] = b"\x55\xaa"
open("disk.img", "wb").write(bytes(mbr) + v)
' || bail "mbr"
out=$(scan lurewall.yaml disk.img usb.img)
like "^quarantine .*FILE_SHORTCUT@2/usb.img/Documents/Invoice Scan 2024.lnk\[" \
    "$out" "a FAT16 partition behind a master boot record: opened"

# Damage, each bounded.  fat.py IMG ACTION patches a FAT12 image.
cat > fat.py <<'PY'
import struct, sys
img, act = sys.argv[1], sys.argv[2]
d = bytearray(open(img, "rb").read())
bps, spc, rsvd, nf, rootent = struct.unpack_from("<HBHBH", d, 11)
fatsz = struct.unpack_from("<H", d, 22)[0]
fat = rsvd * bps
root = (rsvd + nf * fatsz) * bps
data = root + (rootent * 32 + bps - 1) // bps * bps
def entry(at, name):
    for i in range(at, at + 16 * 32 * 16, 32):
        if d[i:i + 11] == name:
            return i
    sys.exit("no entry " + repr(name))
def set12(c, v):
    for f in range(nf):
        o = fat + f * fatsz * bps + c + c // 2
        w = struct.unpack_from("<H", d, o)[0]
        w = (w & 0x000f) | (v << 4) if c & 1 else (w & 0xf000) | v
        struct.pack_into("<H", d, o, w)
if act == "loop":          # the file's first cluster points to itself
    e = entry(root, b"BIG     BIN")
    c = struct.unpack_from("<H", d, e + 26)[0]
    set12(c, c)
    struct.pack_into("<I", d, e + 28, 0xffffffff)
elif act == "dirloop":     # a subdirectory holding itself
    e = entry(root, b"DOCUME~1   ")
    c = struct.unpack_from("<H", d, e + 26)[0]
    sub = data + (c - 2) * bps * spc
    s = entry(sub, b"INVOIC~1LNK")
    d[s + 32:s + 64] = b"AGAIN      " + b"\x10" + b"\0" * 14 + \
        struct.pack("<H", c) + b"\0" * 4
elif act == "truncate":    # the image's second half is missing
    d = d[:len(d) // 2]
open(img, "wb").write(bytes(d))
PY
# damaged IMG ACTION CORRUPT FOUND WHAT: IMG patched by ACTION gives
# ARCHIVE_CORRUPT saying CORRUPT, and FOUND is still analysed
damaged() {
	cp "$1" "$2.img" && python3 fat.py "$2.img" "$2" || bail "$2"
	out=$(scan lurewall.yaml "$2.img" "$2.img")
	like "ARCHIVE_CORRUPT@2/$2.img\[FAT12 image: $3" "$out" \
	    "$5: ARCHIVE_CORRUPT, bounded"
	like "^quarantine .*$4@2/$2.img/" "$out" \
	    "$5: what it holds is still analysed"
}
mkimg 12 big.img
head -c 20000 /dev/zero > BIG.BIN
mcopy -i big.img BIG.BIN run.js :: || bail "mcopy"
damaged big.img loop "cluster read twice" FILE_SCRIPT \
    "a FAT loop under a 4 GB file size"
damaged lure12.img dirloop "cluster read twice" \
    "FILE_SHORTCUT@2/dirloop.img/Documents/Invoice Scan 2024.lnk.*" \
    "a directory that contains itself"
damaged lure12.img truncate "image shorter than its volume" FILE_SCRIPT \
    "a truncated image"

mkimg 12 many.img
for i in 1 2 3 4 5 6 7 8; do cp report.pdf "r$i.pdf"; done
mcopy -i many.img r1.pdf r2.pdf r3.pdf r4.pdf r5.pdf r6.pdf r7.pdf r8.pdf :: ||
    bail "mcopy"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\nlimits:\n  archive_entries: 5\n' \
    > few.yaml
out=$(scan few.yaml many.img many.img)
like "ARCHIVE_LIMIT@2/many.img\[archive_entries 5 reached" "$out" \
    "eight files under archive_entries 5: ARCHIVE_LIMIT"

rm -rf "$d"
done_testing
