#!/bin/sh
# trusted_template_hosts (issue 16): a .docx whose template lives on the
# organisation's own share (a listed host or a subdomain of it) is
# accepted under that policy, while the same document naming another
# host is quarantined as OFFICE_REMOTE_TEMPLATE; a policy without the
# key quarantines both; check-config prints the key.
. "${LW_TOP:-.}/t/lib.sh"

d=$(tmpdir trusted-template)
mkdir -p "$d/policy.d" "$d/mail"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
cat > "$d/policy.d/example.co.jp.yaml" <<'EOY'
domains: [example.co.jp]
trusted_template_hosts: [example.co.jp]
EOY
cat > "$d/lurewall.yaml" <<EOC
policy_dir: policy.d
quarantine_dir: quarantine
EOC

/usr/bin/python3 - "$d/mail" <<'EOP' || bail "fixtures"
import base64, io, os, sys, zipfile
out = sys.argv[1]
def docx(target):
    f = io.BytesIO()
    z = zipfile.ZipFile(f, "w")
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("word/document.xml", "<w:document/>")
    z.writestr("word/_rels/settings.xml.rels",
        '<Relationships><Relationship Id="r1" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/'
        'attachedTemplate" Target="%s" TargetMode="External"/>'
        '</Relationships>' % target)
    z.close()
    return f.getvalue()
for name, target in (("own", "\\\\fs01.example.co.jp\\templates\\l.dotx"),
                     ("other", "\\\\fs01.example.net\\templates\\l.dotx")):
    b = base64.encodebytes(docx(target)).decode()
    open(os.path.join(out, name + ".eml"), "w").write(
        "From: hr@example.co.jp\r\nTo: all@example.co.jp\r\n"
        "Subject: letter\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nHere.\r\n--b\r\n"
        "Content-Type: application/octet-stream; name=l.docx\r\n"
        "Content-Disposition: attachment; filename=l.docx\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n" % b)
EOP

scan() {	# scan RCPT FILE -> action
	BOUND=60 bounded "$LUREWALL" scan -c "$d/lurewall.yaml" --rcpt "$1" \
	    "$d/mail/$2" 2>/dev/null | head -1 | awk '{ print $2 }'
}
is accept "$(scan a@example.co.jp own.eml)" \
    "own template share (a subdomain of a trusted host): accepted"
is quarantine "$(scan a@example.co.jp other.eml)" \
    "another host: quarantined"
is quarantine "$(scan a@example.org own.eml)" \
    "the default policy trusts no host: quarantined"
out=$(BOUND=60 bounded "$LUREWALL" check-config -c "$d/lurewall.yaml" 2>&1)
like 'trusted_template_hosts:.*example\.co\.jp' "$out" \
    "check-config prints trusted_template_hosts"
done_testing
