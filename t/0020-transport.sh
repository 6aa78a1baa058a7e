#!/bin/sh
# 0020-transport: files carried in text bodies.  A macro .xls uuencoded
# in a plain-text body, or yEnc-encoded, or uuencoded inside a .txt
# attachment, is decoded and analysed as if attached (part path
# "1/invoice.xls") and quarantined; a uuencoded clean PDF is accepted;
# a body that merely says "begin" is untouched.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
d=$(tmpdir 0020-transport)
F=$CORPUS/files
[ -f "$F/SimpleMacro.xls" ] || bail "no corpus at $CORPUS"
command -v python3 > /dev/null || bail "python3 missing"
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
printf 'policy_dir: policy.d\nquarantine_dir: quarantine\n' > "$d/lurewall.yaml"

# build KIND FILE NAME > eml   (KIND: uu, yenc, uu-attached, plain)
build() {
	python3 - "$@" <<'PY'
import sys, binascii, base64
kind, path, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read() if path != "-" else b""
def uu(b):
    out = "begin 644 %s\r\n" % name
    for i in range(0, len(b), 45):
        out += binascii.b2a_uu(b[i:i + 45]).decode().rstrip("\n") + "\r\n"
    return out + "`\r\nend\r\n"
def yenc(b):
    out, line = "=ybegin line=128 size=%d name=%s\r\n" % (len(b), name), ""
    for c in b:
        e = (c + 42) & 255
        if e in (0, 10, 13, 61):
            line += "=" + chr((e + 64) & 255)
        else:
            line += chr(e)
        if len(line) >= 128:
            out += line + "\r\n"; line = ""
    if line:
        out += line + "\r\n"
    return out + "=yend size=%d\r\n" % len(b)
hdr = ("From: a@example.com\r\nTo: b@example.net\r\nSubject: files\r\n"
       "MIME-Version: 1.0\r\n")
if kind == "uu":
    body = hdr + "Content-Type: text/plain\r\n\r\nHere it is:\r\n\r\n" + uu(data)
    sys.stdout.buffer.write(body.encode())
elif kind == "yenc":
    body = (hdr + "Content-Type: text/plain; charset=iso-8859-1\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\nHere it is:\r\n")
    sys.stdout.buffer.write(body.encode() + yenc(data).encode("latin-1"))
elif kind == "uu-attached":
    att = base64.encodebytes(("notes\r\n" + uu(data)).encode()).decode()
    sys.stdout.write(hdr + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nsee notes\r\n"
        '--B\r\nContent-Type: text/plain; name="notes.txt"\r\n'
        "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + att + "--B--\r\n")
else:
    sys.stdout.write(hdr + "Content-Type: text/plain\r\n\r\n"
        "We begin 644 tests tomorrow; begin at nine.\r\nend\r\n")
PY
}

# scan EML: "action score rule@part ..."
scan() {
	bounded "$LUREWALL" scan -c "$d/lurewall.yaml" --json "$1" 2> "$d/err" |
	    python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["action"], r["score"], " ".join(f["rule"] + "@" + f["part"]
    for f in r["findings"]))'
}

build uu "$F/SimpleMacro.xls" invoice.xls > "$d/uu.eml" || bail "build"
out=$(scan "$d/uu.eml")
like "^quarantine .*OFFICE_VBA@1/invoice.xls" "$out" \
    "uuencoded macro .xls in the body: OFFICE_VBA at 1/invoice.xls"

build yenc "$F/SimpleMacro.xls" invoice.xls > "$d/y.eml" || bail "build"
out=$(scan "$d/y.eml")
like "^quarantine .*OFFICE_VBA@1/invoice.xls" "$out" \
    "yEnc macro .xls in the body: OFFICE_VBA at 1/invoice.xls"

build uu-attached "$F/SimpleMacro.xls" invoice.xls > "$d/ua.eml" || bail "build"
out=$(scan "$d/ua.eml")
like "^quarantine .*OFFICE_VBA@2/notes.txt/invoice.xls" "$out" \
    "uuencoded in a .txt attachment: found under its path"

printf 'WScript.Echo("x")\r\n' > "$d/run.js"
build yenc "$d/run.js" "run.js" > "$d/yj.eml" || bail "build"
out=$(scan "$d/yj.eml")
like "^quarantine .*FILE_SCRIPT@1/run.js" "$out" "yEnc .js: FILE_SCRIPT"

printf '%%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' > "$d/doc.pdf"
build uu "$d/doc.pdf" drawing.pdf > "$d/pdf.eml" || bail "build"
out=$(scan "$d/pdf.eml")
like "^accept 0" "$out" "uuencoded clean PDF: accepted"

build plain - x > "$d/plain.eml" || bail "build"
out=$(scan "$d/plain.eml")
like "^accept 0" "$out" "text that only says begin: accepted"

rm -rf "$d"
done_testing
