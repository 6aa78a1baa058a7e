# 7010-limits.py OUTDIR CORPUS: writes the messages t/7010-limits.sh scans,
# one per limit, each well past the (lowered) limit it is named for.
import base64, io, os, random, struct, sys, zipfile, zlib

out, corpus = sys.argv[1], sys.argv[2]
rnd = random.Random(7010)

def msg(name, body="hello\r\n", attach=None, headers=(), subject="limits"):
    h = ["From: Alice <alice@example.com>", "To: bob@example.co.jp",
         "Subject: " + subject, "Message-ID: <%s@example.com>" % name,
         "Date: Mon, 1 Jan 2024 00:00:00 +0000", "MIME-Version: 1.0"]
    h += list(headers)
    if attach is None:
        h.append("Content-Type: text/plain; charset=us-ascii")
        s = "\r\n".join(h) + "\r\n\r\n" + body
    else:
        fn, data = attach
        b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
        h.append('Content-Type: multipart/mixed; boundary="b"')
        s = ("\r\n".join(h) + "\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
             + body + "\r\n--b\r\nContent-Type: application/octet-stream\r\n"
             'Content-Disposition: attachment; filename="%s"\r\n'
             "Content-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n"
             % (fn, b64))
    with open(os.path.join(out, name + ".eml"), "wb") as f:
        f.write(s.encode())

def zipof(entries, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in entries:
            z.writestr(zipfile.ZipInfo(n, (2024, 1, 1, 0, 0, 0)), d,
                       compress_type=method)
    return b.getvalue()

def zeros_zip(size):
    # One deflated entry of size zero bytes, streamed (no big buffer).
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    parts, crc, left = [], 0, size
    while left:
        n = min(left, len(chunk))
        parts.append(c.compress(chunk[:n]))
        crc = zlib.crc32(chunk[:n], crc)
        left -= n
    parts.append(c.flush())
    data = b"".join(parts)
    name = b"zeros.bin"
    lh = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, crc,
                     len(data), size & 0xffffffff, len(name), 0) + name
    cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0,
                     crc, len(data), size & 0xffffffff, len(name), 0, 0, 0,
                     0, 0, 0) + name
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(cd),
                       len(lh) + len(data), 0)
    return lh + data + cd + eocd

# message_bytes: 1024; the message is ~40 KiB.
msg("message_bytes", body="x" * 70 + "\r\n" * 1 + ("y" * 76 + "\r\n") * 500)
# header_bytes: 998; one 64 KiB header field.
msg("header_bytes", headers=["X-Long: " + "z" * 65536])
# headers: 10; 5000 header fields.
msg("headers", headers=["X-H%d: v" % i for i in range(5000)])
# mime_depth: 3; 200 nested multiparts.
depth = 200
s = ("From: a@example.com\r\nTo: b@example.co.jp\r\nSubject: deep\r\n"
     "MIME-Version: 1.0\r\n")
s += 'Content-Type: multipart/mixed; boundary="d0"\r\n\r\n'
for i in range(1, depth):
    s += '--d%d\r\nContent-Type: multipart/mixed; boundary="d%d"\r\n\r\n' % (i - 1, i)
s += "--d%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % (depth - 1)
for i in range(depth - 1, -1, -1):
    s += "--d%d--\r\n" % i
open(os.path.join(out, "mime_depth.eml"), "wb").write(s.encode())
# mime_parts: 5; 5000 parts.
s = ("From: a@example.com\r\nTo: b@example.co.jp\r\nSubject: parts\r\n"
     'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n')
s += "".join("--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i
             for i in range(5000)) + "--p--\r\n"
open(os.path.join(out, "mime_parts.eml"), "wb").write(s.encode())
# archive_depth: 1; zip in zip in zip.
z = zipof([("a.txt", b"inner")])
for i in range(3):
    z = zipof([("level%d.zip" % i, z)])
msg("archive_depth", attach=("nested.zip", z))
# archive_entries: 5; 3000 entries.
msg("archive_entries", attach=("many.zip",
    zipof([("f%04d.txt" % i, b"x") for i in range(3000)])))
# archive_total_bytes: 1M; four stored entries of 1 MiB of random bytes.
msg("archive_total_bytes", attach=("total.zip",
    zipof([("r%d.bin" % i, rnd.randbytes(1 << 20)) for i in range(4)],
          zipfile.ZIP_STORED)))
# archive_entry_bytes: 1M; one entry of 512 MiB of zeros (ratio lifted).
msg("archive_entry_bytes", attach=("entry.zip", zeros_zip(512 << 20)))
# archive_ratio: 10; 64 MiB of zeros.
msg("archive_ratio", attach=("ratio.zip", zeros_zip(64 << 20)))
# password_candidates: 0; a ZipCrypto zip whose password is in the body
# (built by the shell test with zip -P: here only the body).
# ole_sectors: 8; office_stream_bytes: 1k; vba_modules: 1: a real macro
# workbook from the corpus.
xls = open(os.path.join(corpus, "files", "SimpleMacro.xls"), "rb").read()
for n in ("ole_sectors", "office_stream_bytes", "vba_modules"):
    msg(n, attach=("book.xls", xls))
# pcre2_match_limit: 1000 / pcre2_depth_limit: 50: the custom rule
# ^(?:a|b)*$ on a subject of 3000 a's and a "!".
for n in ("pcre2_match_limit", "pcre2_depth_limit"):
    msg(n, subject="a" * 3000 + "!")
# scan_timeout: 1; 20000 entries (archive_entries lifted): a long scan.
msg("scan_timeout", attach=("slow.zip",
    zipof([("s%05d.txt" % i, b"abc") for i in range(20000)])))
