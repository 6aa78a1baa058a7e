#!/bin/sh
# Sharper header signs and fewer false alarms (issue 16), end to end
# through `lurewall scan --json`: names as people write them (reversed
# CJK order, titles, company and domain annotations, a Cyrillic letter),
# look-alike domains and reply prefixes of more languages abuse a
# partner's or colleague's name with a payload and are quarantined
# (EMOTET_LURE); a genuine foreign-prefix reply that quotes our mail,
# mailing-list replies and an Outlook reply are not taken for lures,
# and each has a twin that still is.
. "${LW_TOP:-.}/t/lib.sh"

d=$(tmpdir names-threads)
mkdir -p "$d/policy.d" "$d/mail"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
cat > "$d/policy.d/example.co.jp.yaml" <<'EOY'
domains: [example.co.jp]
internal_domains: [example.co.jp]
staff_names:
  - [田中 裕子, Yuko Tanaka]
correspondents:
  - {names: [山田 太郎], domains: [torihiki.example.ne.jp]}
  - {names: [John Smith], domains: [partner.example.com]}
EOY
cat > "$d/lurewall.yaml" <<EOC
policy_dir: policy.d
quarantine_dir: quarantine
EOC

# A password zip whose password is not in the mail: the payload.
(cd "$d" && printf 'invoice\n' > invoice.txt &&
    zip -q -P Zq8-secret locked.zip invoice.txt) || bail "zip"

/usr/bin/python3 - "$d/mail" "$d/locked.zip" <<'EOP' || bail "fixtures"
import base64, os, sys
from email.header import Header
out, zpath = sys.argv[1], sys.argv[2]
zdata = open(zpath, "rb").read()

def hdr(s):
    return Header(s, "utf-8").encode()

def eml(name, frm, subject="Invoice", extra="", body="Please see.",
        to="sato@example.co.jp", payload=True):
    name_part, addr = frm
    h = "From: %s <%s>\r\n" % (hdr(name_part), addr) if name_part else \
        "From: %s\r\n" % addr
    h += "To: %s\r\nSubject: %s\r\nMessage-ID: <%s@sender.example>\r\n" % (
        to, hdr(subject), name)
    h += extra
    h += "MIME-Version: 1.0\r\n"
    if payload:
        h += "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        h += ("--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
              "--b\r\nContent-Type: application/zip; name=invoice.zip\r\n"
              "Content-Disposition: attachment; filename=invoice.zip\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n" %
              (base64.encodebytes(body.encode()).decode(),
               base64.encodebytes(zdata).decode()))
    else:
        h += ("Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n" %
              base64.encodebytes(body.encode()).decode())
    open(os.path.join(out, name + ".eml"), "w").write(h)

fm = ("", "x@freemail.example")
eml("name-reversed", ("太郎 山田", "yamada@freemail.example"))
eml("name-company", ("John Smith (Partner Example Inc.)",
                     "js@freemail.example"))
eml("name-title", ("Mr. John Smith", "js@freemail.example"))
eml("name-cyrillic", ("\u0408ohn Smith", "js@freemail.example"))
eml("name-pipe", ("田中 裕子 | example.co.jp", "tanaka@freemail.example"))
eml("name-via", ("田中裕子 via example.co.jp", "tanaka@freemail.example"))
eml("name-paren", ("田中 裕子 (example.co.jp)", "tanaka@freemail.example"))
eml("lookalike-digit", ("Info", "info@examp1e.co.jp"))
eml("lookalike-idna", ("Info", "info@xn--xample-2of.co.jp"))
eml("prefix-ynt", ("Ali", "ali@freemail.example"), subject="Ynt: order")
eml("prefix-otv", ("Ivan", "ivan@freemail.example"), subject="Отв: order")
eml("prefix-ap", ("Nikos", "n@freemail.example"), subject="ΑΠ: order")
# Twins that are no abuse.
eml("ok-name-docs", ("John Smith (via Google Docs)",
                     "drive-shares-noreply@google.com"), payload=False)
eml("ok-name-real", ("John Smith (Partner Example Inc.)",
                     "js@partner.example.com"), payload=False)
eml("ok-name-other", ("Joan Smith", "joan@freemail.example"),
    payload=False)
eml("ok-lookalike-sub", ("Info", "info@mail.example.co.jp"),
    payload=False)

# A Finnish supplier's genuine reply: VS:, In-Reply-To our Message-ID,
# a quote whose attribution names the recipient.
quote = ("Kiitos.\n\nOn 1.12.2026 9.00, Sato <sato@example.co.jp> "
         "kirjoitti:\n> Please send the offer.\n")
genuine = ("In-Reply-To: <20261201.1@example.co.jp>\r\n"
           "References: <20261201.1@example.co.jp>\r\n")
eml("genuine-vs", ("Matti Virtanen", "matti@toimittaja.example.fi"),
    subject="VS: offer", extra=genuine, body=quote, payload=False)
eml("genuine-vs-zip", ("Matti Virtanen", "matti@toimittaja.example.fi"),
    subject="VS: offer", extra=genuine, body=quote)
eml("stolen-vs-zip", ("Matti Virtanen", "matti@toimittaja.example.fi"),
    subject="VS: offer", extra="In-Reply-To: <x@elsewhere.example>\r\n",
    body=quote)

# A mailing-list reply: no In-Reply-To, Reply-To the list, a quote of
# another member.  Its twin lacks the list headers.
lq = ("I agree.\n\nOn Mon, Bob <bob@other.example> wrote:\n"
      "> From: Bob <bob@other.example>\n> To: dev@lists.example.org\n"
      "> the patch\n")
lh = ("Reply-To: dev@lists.example.org\r\n"
      "List-Id: Developers <dev.lists.example.org>\r\n"
      "List-Post: <mailto:dev@lists.example.org>\r\n")
eml("list-reply", ("Alice", "alice@member.example"), subject="Re: [dev] patch",
    extra=lh, body=lq, to="dev@lists.example.org", payload=False)
eml("list-twin", ("Alice", "alice@member.example"), subject="Re: [dev] patch",
    extra="Reply-To: dev@lists.example.org\r\n", body=lq,
    to="dev@lists.example.org", payload=False)
eml("outlook-reply", ("Alice", "alice@member.example"), subject="RE: patch",
    extra="Thread-Index: AdlXyZ0123456789abcdefABCDEF==\r\n",
    body="Thanks.\n\n-----Original Message-----\nFrom: Bob "
    "<bob@member.example>\nSent: Monday\nTo: Alice <alice@member.example>"
    "\nSubject: patch\n", payload=False)
EOP

BOUND=120 bounded "$LUREWALL" scan -c "$d/lurewall.yaml" \
    --rcpt sato@example.co.jp --json "$d"/mail/*.eml \
    > "$d/out.json" 2> "$d/err.txt"
is 1 "$?" "scan exits 1 (some flagged, no error)"

/usr/bin/python3 - "$d/out.json" > "$d/tap.txt" <<'EOP'
import json, os, sys
Q = "quarantine"
# name: (action, rules that must be there, rules that must not)
want = {
    "name-reversed": (Q, ["HDR_DISPLAY_NAME_SPOOF", "EMOTET_LURE"], []),
    "name-company": (Q, ["HDR_DISPLAY_NAME_SPOOF", "EMOTET_LURE"], []),
    "name-title": (Q, ["HDR_DISPLAY_NAME_SPOOF", "EMOTET_LURE"], []),
    "name-cyrillic": (Q, ["HDR_DISPLAY_NAME_SPOOF:confusable",
                          "EMOTET_LURE"], []),
    "name-pipe": (Q, ["HDR_INTERNAL_NAME_EXTERNAL", "EMOTET_LURE"], []),
    "name-via": (Q, ["HDR_INTERNAL_NAME_EXTERNAL", "EMOTET_LURE"], []),
    "name-paren": (Q, ["HDR_INTERNAL_NAME_EXTERNAL", "EMOTET_LURE"], []),
    "lookalike-digit": (Q, ["HDR_LOOKALIKE_DOMAIN", "EMOTET_LURE"], []),
    "lookalike-idna": (Q, ["HDR_LOOKALIKE_DOMAIN", "EMOTET_LURE"], []),
    "prefix-ynt": (Q, ["HDR_FOREIGN_REPLY_PREFIX:Ynt", "EMOTET_LURE"], []),
    "prefix-otv": (Q, ["HDR_FOREIGN_REPLY_PREFIX:Отв", "EMOTET_LURE"], []),
    "prefix-ap": (Q, ["HDR_FOREIGN_REPLY_PREFIX:ΑΠ", "EMOTET_LURE"], []),
    "ok-name-docs": ("accept", [], ["HDR_DISPLAY_NAME_SPOOF"]),
    "ok-name-real": ("accept", [], ["HDR_DISPLAY_NAME_SPOOF"]),
    "ok-name-other": ("accept", [], ["HDR_DISPLAY_NAME_SPOOF"]),
    "ok-lookalike-sub": ("accept", [], ["HDR_LOOKALIKE_DOMAIN"]),
    "genuine-vs": ("accept", ["HDR_FOREIGN_REPLY_PREFIX:genuine"], []),
    "genuine-vs-zip": ("tag", [], ["EMOTET_LURE"]),
    "stolen-vs-zip": (Q, ["EMOTET_LURE"], []),
    "list-reply": ("accept", [], ["HDR_FAKE_REPLY", "HDR_REPLYTO_MISMATCH",
                                  "BODY_QUOTED_THREAD_FOREIGN"]),
    "list-twin": (None, ["HDR_FAKE_REPLY", "HDR_REPLYTO_MISMATCH"], []),
    "outlook-reply": ("accept", [], ["HDR_FAKE_REPLY"]),
}
res = {}
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    res[os.path.basename(o["file"])[:-4]] = o
def has(o, spec):
    rule, _, sub = spec.partition(":")
    return any(f["rule"] == rule and sub in f["detail"]
               for f in o["findings"])
for name in sorted(want):
    action, must, mustnot = want[name]
    o = res.get(name)
    if o is None:
        print("not ok - %s scanned" % name)
        continue
    good = action is None or o["action"] == action
    good = good and all(has(o, r) for r in must)
    good = good and not any(has(o, r) for r in mustnot)
    print("%s - %s: %s %s, no %s" % ("ok" if good else "not ok", name,
          action, must, mustnot))
    if not good:
        print("# got %s score %s" % (o["action"], o["score"]))
        for f in o["findings"]:
            print("#   %s %s" % (f["rule"], f["detail"]))
EOP
is 0 "$?" "results read"
while IFS= read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok - }" ;;
	"not ok "*) ok 1 "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < "$d/tap.txt"
[ -s "$d/tap.txt" ] || ok 1 "results written"
done_testing
