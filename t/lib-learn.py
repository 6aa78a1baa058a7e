#!/usr/bin/env python3
"""lib-learn.py OUTDIR ZIPFILE: an organisation's mail history for the
learned signs (issue 18), generated, never taken from real mail.

corp.example has 50 accounts; 150 partner companies have 500 people
(every tenth company also writes from a second domain, under the same
names); accounts write about 2,000 messages over six simulated months:
new threads and replies in them, To: one or two people of a company, Cc:
a colleague or a second person now and then, many threads sharing
"見積書の件".  Then the inbound mail the test judges: every hijack variant
(a stolen thread answered from a new domain, by reference and by subject
and quoted author; a correspondent's name from a new domain; a
colleague's name from outside; a first contact with an archive left
closed), each with the password zip ZIPFILE (made by the test), and the
mail that must pass: genuine replies (AW: from a German partner too),
a partner writing from its second known domain, a first-contact inquiry
and a stranger sharing a common name, both without payload.

Writes OUTDIR/out/NNNN.eml (the history), OUTDIR/in/CASE.eml (the
inbound mail), OUTDIR/history.lua and OUTDIR/inbound.lua (the same
messages as Lua tables for miltertest: qid, auth, from, rcpts, hdrs,
body), OUTDIR/outlure.lua (an outbound lure, which must not teach its
recipient's name) and OUTDIR/cases (CASE OUTCOME MUST-RULES MUSTNOT-RULES, a line
each; rules comma-separated, "-" for none).
"""
import base64
import os
import random
import sys
import time

R = random.Random(18)
ORG = "corp.example"
NOW = int(time.time())
DAY = 86400

SEI = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林",
       "加藤", "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林",
       "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川", "前田"]
MEI = ["太郎", "花子", "一郎", "次郎", "美咲", "陽子", "健", "誠", "直樹",
       "由美", "恵", "翔", "大輔", "真一", "裕子", "明美", "和也", "聡"]
FIRST = ["Anna", "Lukas", "Marie", "Jonas", "Laura", "Felix", "Emma", "Paul",
         "Sofia", "David", "Nina", "Jan", "Clara", "Tim", "Lena"]
LAST = ["Muller", "Schmidt", "Weber", "Fischer", "Wagner", "Becker",
        "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Braun"]
TOPICS = ["見積書の件", "納期のご相談", "打ち合わせ日程", "請求書送付のお願い",
          "契約書ドラフト", "Order confirmation", "Meeting next week",
          "仕様変更について", "サンプル送付", "Price list 2026"]


def fresh_name(used, latin=False):
    """A name nobody has yet: Japanese (family first) or Latin."""
    a, b = (FIRST, LAST) if latin else (SEI, MEI)
    while True:
        n = R.choice(a) + " " + R.choice(b)
        if n not in used:
            used.add(n)
            return n


def enc(name):
    """RFC 2047 for non-ASCII display names, as mail clients send them."""
    if all(ord(c) < 128 for c in name):
        return '"%s"' % name
    return "=?UTF-8?B?%s?=" % base64.b64encode(name.encode()).decode()


def mbox(name, addr):
    return "%s <%s>" % (enc(name), addr) if name else "<%s>" % addr


def date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


class Org:
    def __init__(self):
        used = {"佐藤 太郎"}
        self.accounts = []
        for i in range(50):
            name = fresh_name(used, i >= 40)
            self.accounts.append((name, "u%02d@%s" % (i, ORG)))
        self.companies = []     # [(domains, [(name, local)])]
        for c in range(150):
            doms = ["p%03d.example" % c]
            if c % 10 == 3:
                doms.append("p%03d-group.example" % c)
            n = 3 if c < 100 else 4         # 500 people in all
            staff = []
            for k in range(n):
                latin = c % 7 == 5
                name = fresh_name(used, latin)
                staff.append((name, "s%d" % k))
            if c == 11:
                staff[0] = ("佐藤 太郎", "s0")   # a common name
            self.companies.append((doms, staff))
        # Each account works with a dozen companies.
        self.book = {a[1]: R.sample(range(150), 12) for a in self.accounts}
        self.book[self.accounts[0][1]][0] = 11


def header_lines(hdrs):
    return "".join("%s: %s\r\n" % h for h in hdrs)


def lua(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace(
        "\r", "\\r").replace("\n", "\\n") + '"'


def lua_msg(m):
    hdrs = ", ".join("{%s, %s}" % (lua(k), lua(" " + v))
                     for k, v in m["hdrs"])
    rcpts = ", ".join(lua(r) for r in m["rcpts"])
    return ("{qid=%s, auth=%s, from=%s, rcpts={%s}, hdrs={%s}, body=%s}" %
            (lua(m["qid"]), lua(m["auth"]) if m["auth"] else "nil",
             lua(m["from"]), rcpts, hdrs, lua(m["body"])))


def write(path, m):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header_lines(m["hdrs"]) + "\r\n" + m["body"])


def history(o, n=2000):
    msgs, threads = [], []      # threads: (mid, subject, account, doms, to)
    o.mailed = set()
    t = NOW - 180 * DAY
    step = (178 * DAY) // n
    for i in range(n):
        t += step
        acct = R.choice(o.accounts)
        comp = o.companies[R.choice(o.book[acct[1]])]
        doms, staff = comp
        reply = threads and R.random() < 0.4
        if reply:
            parent = R.choice(threads[-300:])
            subject = "Re: " + parent[1].replace("Re: ", "")
            to = parent[4]
        else:
            dom = doms[-1] if len(doms) > 1 and R.random() < 0.3 else doms[0]
            people = R.sample(staff, min(len(staff), R.choice([1, 1, 2])))
            to = [(p[0], "%s@%s" % (p[1], dom)) for p in people]
            topic = R.choice(TOPICS)
            subject = topic if R.random() < 0.5 else "%s (No.%d)" % (topic, i)
        mid = "h%d.%d@%s" % (i, t, ORG)
        hdrs = [("From", mbox(acct[0], acct[1])),
                ("To", ", ".join(mbox(p[0], p[1]) for p in to))]
        cc = []
        if R.random() < 0.2:
            col = R.choice(o.accounts)
            if col != acct:
                cc.append(col)
        if cc:
            hdrs.append(("Cc", ", ".join(mbox(c[0], c[1]) for c in cc)))
        hdrs += [("Date", date(t)), ("Message-ID", "<%s>" % mid),
                 ("Subject", subject)]
        if reply:
            hdrs.append(("In-Reply-To", "<%s>" % parent[0]))
            hdrs.append(("References", "<%s>" % parent[0]))
        hdrs += [("MIME-Version", "1.0"),
                 ("Content-Type", "text/plain; charset=UTF-8")]
        body = "%s 様\r\n\r\nいつもお世話になっております。\r\n%s\r\n" % (
            to[0][0], acct[0])
        msgs.append({"qid": "H%d" % i, "auth": acct[1].split("@")[0],
                     "from": acct[1], "hdrs": hdrs, "body": body,
                     "rcpts": [p[1] for p in to] + [c[1] for c in cc]})
        threads.append((mid, subject, acct, doms, to))
        o.mailed.update(p[1] for p in to)
    return msgs, threads


def inbound(o, threads, zipfile):
    with open(zipfile, "rb") as f:
        z = base64.encodebytes(f.read()).decode().replace("\n", "\r\n")
    cases = []

    def add(case, outcome, must, mustnot, frm, to, subject, extra=(),
            text="ご確認ください。\r\n", payload=False):
        hdrs = [("From", mbox(frm[0], frm[1])), ("To", mbox(to[0], to[1])),
                ("Date", date(NOW - 3600)),
                ("Message-ID", "<%s.%d@%s>" % (case, NOW,
                                               frm[1].split("@")[1])),
                ("Subject", subject)] + list(extra) + [("MIME-Version", "1.0")]
        if payload:
            hdrs.append(("Content-Type", 'multipart/mixed; boundary="BB"'))
            body = ("--BB\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                    "\r\n" + text + "\r\n--BB\r\nContent-Type: "
                    "application/zip; name=\"doc.zip\"\r\n"
                    "Content-Disposition: attachment; filename=\"doc.zip\""
                    "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + z +
                    "--BB--\r\n")
        else:
            hdrs.append(("Content-Type", "text/plain; charset=UTF-8"))
            body = text
        cases.append(({"qid": case, "auth": None, "from": frm[1],
                       "hdrs": hdrs, "body": body, "rcpts": [to[1]]},
                      outcome, must, mustnot))

    # A thread with one partner and a unique subject; its account.
    th = [t for t in threads if "No." in t[1] and "Re:" not in t[1]][-1]
    acct, to = th[2], th[4][0]
    quote = ("\r\n\r\n%s <%s> wrote:\r\n> いつもお世話になっております。\r\n" %
             (acct[0], acct[1]))
    stranger = ("Accounting", "billing@stranger-%d.example" % R.randrange(1000000))
    pay = "HDR_THREAD_HIJACK,EMOTET_LURE"
    add("hij-ref", "quarantine", pay, "-", stranger, acct,
        "Re: " + th[1], [("In-Reply-To", "<%s>" % th[0]),
                         ("References", "<%s>" % th[0])],
        "添付をご確認ください。" + quote, True)
    add("hij-subject", "quarantine", pay, "-", stranger, acct,
        "RE: " + th[1], text="添付をご確認ください。" + quote, payload=True)
    add("hij-ref-nopay", "tag", "HDR_THREAD_HIJACK", "EMOTET_LURE", stranger,
        acct, "Re: " + th[1], [("In-Reply-To", "<%s>" % th[0])],
        "ご確認ください。" + quote)
    # A correspondent's name and a colleague's name from new domains.
    add("hij-corrname", "quarantine", "HDR_DISPLAY_NAME_SPOOF,EMOTET_LURE",
        "-", (to[0], "office@new-%d.example" % R.randrange(1000000)), acct,
        "請求書", payload=True)
    col = o.accounts[7]
    add("hij-staff", "quarantine", "HDR_INTERNAL_NAME_EXTERNAL,EMOTET_LURE",
        "-", (col[0], "%s@freemail.example" % col[1].split("@")[0]), acct,
        "至急: 振込先変更", payload=True)
    add("hij-first", "quarantine", "HDR_FIRST_CONTACT,EMOTET_LURE", "-",
        ("Sales", "info@unknown-%d.example" % R.randrange(1000000)), acct,
        "ご請求書", payload=True)
    # Mail that must pass.
    add("ok-reply", "accept", "HDR_KNOWN_THREAD",
        "HDR_THREAD_HIJACK,HDR_FOREIGN_REPLY_PREFIX,HDR_FAKE_REPLY", to,
        acct, "AW: " + th[1], [("In-Reply-To", "<%s>" % th[0])],
        "承知しました。" + quote)
    add("ok-reply-zip", "accept", "HDR_KNOWN_THREAD",
        "HDR_THREAD_HIJACK,EMOTET_LURE", to, acct, "Re: " + th[1],
        [("In-Reply-To", "<%s>" % th[0])], "資料をお送りします。" + quote,
        True)
    # A partner with a second domain, answering from it.
    for t in reversed(threads):
        doms = t[3]
        p = t[4][0]
        other = "%s@%s" % (p[1].split("@")[0], doms[-1])
        if len(doms) > 1 and p[1].endswith("@" + doms[0]) and \
                other in o.mailed:
            add("ok-second", "accept", "HDR_KNOWN_THREAD",
                "HDR_THREAD_HIJACK,HDR_DISPLAY_NAME_SPOOF", (p[0], other),
                t[2], "Re: " + t[1], [("In-Reply-To", "<%s>" % t[0])],
                "承知しました。")
            break
    add("ok-first", "accept", "HDR_FIRST_CONTACT", "EMOTET_LURE",
        ("Yamamoto Kenji", "kenji@newcustomer-%d.example" %
         R.randrange(1000000)), acct, "製品についてのお問い合わせ")
    add("ok-common", "accept", "HDR_DISPLAY_NAME_SPOOF",
        "EMOTET_LURE,HDR_FIRST_CONTACT",
        ("佐藤 太郎", "sato@other-%d.example" % R.randrange(1000000)), acct,
        "ご挨拶")
    add("ok-notlearned", "accept", "-", "HDR_DISPLAY_NAME_SPOOF",
        ("Zed Lurename", "zed@elsewhere.example"), acct, "Hello")
    add("ok-known", "accept", "-",
        "HDR_DISPLAY_NAME_SPOOF,HDR_FIRST_CONTACT,HDR_THREAD_HIJACK", to,
        acct, "来週のご相談")
    return cases


def outbound_lure(o):
    """An outbound lure (a script): stopped in the disposition stage,
    never learned; its recipient's name must stay unknown."""
    acct = o.accounts[1]
    hdrs = [("From", mbox(acct[0], acct[1])),
            ("To", mbox("Zed Lurename", "zed@lure-target.example")),
            ("Date", date(NOW - 7200)),
            ("Message-ID", "<outlure.%d@%s>" % (NOW, ORG)),
            ("Subject", "Invoice"), ("MIME-Version", "1.0"),
            ("Content-Type", 'multipart/mixed; boundary="BB"')]
    body = ("--BB\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            "--BB\r\nContent-Type: application/octet-stream; "
            "name=\"invoice.vbs\"\r\nContent-Disposition: attachment; "
            "filename=\"invoice.vbs\"\r\n\r\nSet s = CreateObject("
            "\"WScript.Shell\")\r\ns.Run \"calc.exe\"\r\n--BB--\r\n")
    return {"qid": "OL1", "auth": acct[1].split("@")[0], "from": acct[1],
            "hdrs": hdrs, "body": body, "rcpts": ["zed@lure-target.example"]}


def main():
    out, zipfile = sys.argv[1], sys.argv[2]
    start = time.time()
    o = Org()
    msgs, threads = history(o)
    os.makedirs(out + "/out", exist_ok=True)
    os.makedirs(out + "/in", exist_ok=True)
    with open(out + "/history.lua", "w", encoding="utf-8") as f:
        f.write("H = {\n")
        for i, m in enumerate(msgs):
            write("%s/out/%04d.eml" % (out, i), m)
            f.write(lua_msg(m) + ",\n")
        f.write("}\n")
    with open(out + "/outlure.lua", "w", encoding="utf-8") as f:
        f.write("O = {\n" + lua_msg(outbound_lure(o)) + ",\n}\n")
    cases = inbound(o, threads, zipfile)
    with open(out + "/inbound.lua", "w", encoding="utf-8") as f, \
            open(out + "/cases", "w", encoding="utf-8") as c:
        f.write("I = {\n")
        for m, outcome, must, mustnot in cases:
            write("%s/in/%s.eml" % (out, m["qid"]), m)
            f.write(lua_msg(m) + ",\n")
            c.write("%s %s %s %s\n" % (m["qid"], outcome, must, mustnot))
        f.write("}\n")
    sys.stderr.write("lib-learn.py: %d messages, %d cases in %.1f s\n" %
                     (len(msgs), len(cases), time.time() - start))


if __name__ == "__main__":
    main()
