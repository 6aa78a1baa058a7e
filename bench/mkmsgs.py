#!/usr/bin/env python3
"""mkmsgs.py OUTDIR CORPUS: write the generated benchmark messages.

Takes the corpus's files/ directory (real Office files) and writes, with
CRLF line endings, into OUTDIR:

  plain-5k.eml       a 5 KB plain-text business mail
  pdf-200k.eml       a 200 KB mail carrying one PDF
  multi-2m.eml       a 2 MB mail with ten attachments (PDFs, Office
                     files without macros, an image, a CSV)
  lure-pwzip.eml     a thread-hijack lure: spoofed partner name, fake
                     "Re: AW:" reply, a zip encrypted with `zip -P`
                     holding a macro workbook, the password in the body
  lure-scale-1k.eml, -64k, -1m, -16m
                     one lure (a password zip with a small script in it)
                     padded with a quoted thread to 1 KiB, 64 KiB, 1 MiB
                     and 16 MiB: the scaling series

Everything is deterministic (fixed seeds and dates), so two runs write
the same bytes.  Nothing here is malware: the macro file is one of the
corpus's Apache POI test documents, the script only echoes a string.
"""

import base64
import os
import random
import subprocess
import sys
import tempfile

CRLF = "\r\n"
RCPT = "sato@example.co.jp"
DATE = "Tue, 22 Nov 2022 10:00:00 +0900"

TEXT_LINES = [
    "いつもお世話になっております。",
    "先日のお打ち合わせの件、資料を送付いたします。",
    "ご確認のほど、よろしくお願いいたします。",
    "Thank you for your time at the meeting last week.",
    "Please find the updated figures for the third quarter below.",
    "The delivery schedule for order 4471 is unchanged.",
    "見積書の有効期限は発行日より30日間となっております。",
    "If you have any questions, do not hesitate to contact me.",
    "納品予定日：2022年12月5日（月）",
    "Best regards, and have a good week.",
]


def lines_to_size(prefix, size, seed):
    """Text lines (each starting with prefix) until about size bytes."""
    rnd = random.Random(seed)
    out, n, i = [], 0, 0
    while n < size:
        line = "%s%s (%d)" % (prefix, rnd.choice(TEXT_LINES), i)
        i += 1
        out.append(line)
        n += len(line.encode("utf-8")) + 2
    return out


def b64_lines(data):
    s = base64.b64encode(data).decode("ascii")
    return [s[i:i + 76] for i in range(0, len(s), 76)]


def headers(frm, subject, msgid, extra=()):
    h = [
        "From: " + frm,
        "To: =?UTF-8?B?%s?= <%s>" % (
            base64.b64encode("佐藤 花子".encode()).decode(), RCPT),
        "Date: " + DATE,
        "Message-ID: <%s@bench.lurewall.test>" % msgid,
        "Subject: " + subject,
        "MIME-Version: 1.0",
    ]
    h.extend(extra)
    return h


def enc_subject(s):
    return "=?UTF-8?B?%s?=" % base64.b64encode(s.encode()).decode()


def text_part(lines):
    return ["Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: 8bit", ""] + lines


def attach_part(name, ctype, data):
    return ["Content-Type: %s; name=\"%s\"" % (ctype, name),
            "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment; filename=\"%s\"" % name,
            ""] + b64_lines(data)


def multipart(hdrs, parts, boundary):
    out = list(hdrs)
    out.append("Content-Type: multipart/mixed; boundary=\"%s\"" % boundary)
    out.append("")
    out.append("This is a multi-part message in MIME format.")
    for p in parts:
        out.append("--" + boundary)
        out.extend(p)
    out.append("--" + boundary + "--")
    out.append("")
    return out


def write(path, lines):
    with open(path, "wb") as f:
        f.write(CRLF.join(lines).encode("utf-8"))


def make_pdf(size, seed):
    """A well-formed PDF of about size bytes (one uncompressed page
    content stream of text drawing operators)."""
    rnd = random.Random(seed)
    ops = []
    n = 0
    while n < size - 700:
        op = "BT /F1 10 Tf %d %d Td (Line %d of the quarterly report) Tj ET\n" % (
            rnd.randrange(40, 500), rnd.randrange(40, 780), len(ops))
        ops.append(op)
        n += len(op)
    content = "".join(ops).encode("ascii")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content +
        b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return bytes(out)


def make_jpeg(size, seed):
    """JFIF header and random bytes: a file type for libmagic, no more."""
    rnd = random.Random(seed)
    head = bytes.fromhex("ffd8ffe000104a46494600010101004800480000")
    return head + bytes(rnd.getrandbits(8) for _ in range(size - 22)) + \
        b"\xff\xd9"


def pw_zip(tmp, member_name, data, password):
    """A ZipCrypto zip made by `zip -P` holding one member."""
    d = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(d, member_name), "wb") as f:
        f.write(data)
    z = os.path.join(d, "out.zip")
    subprocess.run(["zip", "-q", "-X", "-P", password, z, member_name],
                   cwd=d, check=True)
    with open(z, "rb") as f:
        return f.read()


def lure(frm_name, subject, zipname, zipdata, password, pad_lines,
         msgid):
    frm = "%s <t.yamada@invoice-center.example>" % enc_subject(frm_name)
    body = [
        "山田です。いつもお世話になっております。",
        "ご依頼の請求書を送付いたします。",
        "",
        "パスワード：%s" % password,
        "",
        "よろしくお願いいたします。",
        "",
        "-----Original Message-----",
        "From: 佐藤 花子 <sato@example.co.jp>",
        "Subject: 請求書の件",
        "",
    ] + pad_lines
    return multipart(headers(frm, subject, msgid), [
        text_part(body),
        attach_part(zipname, "application/zip", zipdata),
    ], "=_lure_" + msgid)


def main():
    out, corpus = sys.argv[1], sys.argv[2]
    files = os.path.join(corpus, "files")
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=out)

    # 5 KB plain mail
    hdrs = headers("=?UTF-8?B?%s?= <john.smith@partner.example.com>" %
                   base64.b64encode(b"John Smith").decode(),
                   "Quarterly figures", "plain5k",
                   ["Content-Type: text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding: 8bit"])
    skel = len(CRLF.join(hdrs + [""]).encode())
    write(os.path.join(out, "plain-5k.eml"),
          hdrs + [""] + lines_to_size("", 5 * 1024 - skel, 1))

    # 200 KB with one PDF (base64 grows 4/3)
    pdf = make_pdf(148 * 1024, 2)
    write(os.path.join(out, "pdf-200k.eml"), multipart(
        headers("John Smith <john.smith@partner.example.com>",
                "Report attached", "pdf200k"),
        [text_part(lines_to_size("", 2048, 3)),
         attach_part("report.pdf", "application/pdf", pdf)],
        "=_pdf200k"))

    # 2 MB with ten attachments
    def rd(name):
        with open(os.path.join(files, name), "rb") as f:
            return f.read()
    atts = [
        ("report-q1.pdf", "application/pdf", make_pdf(420 * 1024, 4)),
        ("report-q2.pdf", "application/pdf", make_pdf(380 * 1024, 5)),
        ("photo.jpg", "image/jpeg", make_jpeg(300 * 1024, 6)),
        ("summary.pdf", "application/pdf", make_pdf(200 * 1024, 7)),
        ("figures.csv", "text/csv",
         "\n".join("%d,%d,%d" % (i, i * 7 % 1000, i * 13 % 977)
                   for i in range(9000)).encode()),
        ("capitalized.docx", "application/vnd.openxmlformats-officedocument"
         ".wordprocessingml.document", rd("capitalized.docx")),
        ("table-sample.xlsx", "application/vnd.openxmlformats-officedocument"
         ".spreadsheetml.sheet", rd("table-sample.xlsx")),
        ("testPPT.pptx", "application/vnd.openxmlformats-officedocument"
         ".presentationml.presentation", rd("testPPT.pptx")),
        ("simple.doc", "application/msword", rd("simple.doc")),
        ("numbers.ppt", "application/vnd.ms-powerpoint", rd("numbers.ppt")),
    ]
    write(os.path.join(out, "multi-2m.eml"), multipart(
        headers("Klaus Weber <k.weber@lieferant.example.de>",
                "Unterlagen / documents", "multi2m"),
        [text_part(lines_to_size("", 1024, 8))] +
        [attach_part(n, t, d) for n, t, d in atts], "=_multi2m"))

    # the password-zip lure with a macro workbook (Workbook_Open)
    z = pw_zip(tmp, "請求書_1122.xls", rd("39234.xls"), "8462")
    write(os.path.join(out, "lure-pwzip.eml"), lure(
        "山田 太郎", "Re: AW: " + enc_subject("請求書の件"), "請求書_1122.zip",
        z, "8462", ["> " + s for s in TEXT_LINES], "lurepwzip"))

    # the scaling series: one small lure, padded with a quoted thread
    z = pw_zip(tmp, "invoice.js",
               b'WScript.Echo("lurewall benchmark fixture");\r\n', "5519")
    for name, size in (("1k", 1024), ("64k", 64 * 1024),
                       ("1m", 1024 * 1024), ("16m", 16 * 1024 * 1024)):
        base = lure("山田 太郎", "Re: invoice", "invoice.zip", z, "5519", [],
                    "scale" + name)
        need = size - len(CRLF.join(base).encode())
        pad = lines_to_size("> ", need, 9) if need > 0 else []
        msg = lure("山田 太郎", "Re: invoice", "invoice.zip", z, "5519", pad,
                   "scale" + name)
        write(os.path.join(out, "lure-scale-%s.eml" % name), msg)

    for root, dirs, fs in os.walk(tmp, topdown=False):
        for f in fs:
            os.unlink(os.path.join(root, f))
        for d in dirs:
            os.rmdir(os.path.join(root, d))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
