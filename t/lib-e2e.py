#!/usr/bin/python3
# t/lib-e2e.py: the sending and accounting half of the end-to-end tests
# (t/61NN-*.sh, through t/lib-e2e.sh).  Not a test itself.
#
#   lib-e2e.py jobs DIR CORPUS COUNT
#	COUNT copies of the corpus messages, each with its own Message-ID
#	<e2e-NNNNN@lurewall.test>, alternately to sato@example.co.jp and
#	sato@strict.example.co.jp, in DIR/msgs/; DIR/jobs.tsv says which
#	(id, corpus file, recipient, sending tool, path).
#   lib-e2e.py send DIR PORT [IDFILE]
#	Send every job (or those listed in IDFILE) to 127.0.0.1:PORT over
#	20 concurrent sessions, one message each, with smtp-source or
#	swaks; append "id<TAB>outcome<TAB>reply" to DIR/outcomes.tsv,
#	outcome ok (2xx), reject (5xx) or tempfail (4xx or no answer).
#	smtp-source and swaks never retry a 4xx: the test does, with an
#	IDFILE of the tempfailed ids.
#   lib-e2e.py account DIR EXPECT-JSON... -- SINKDIR QLIST QDIR MAILLOG
#	MILTERLOG
#	Every Message-ID accounted for exactly once, as TAP-ish lines
#	"STATUS<TAB>description" (0 = pass) and "# diagnostics".
#
# Bounded: every tool call has a timeout; the caller bounds the whole.
import json
import os
import re
import subprocess
import sys
import threading

WORKERS = 20
DOMAINS = ("example.co.jp", "strict.example.co.jp")
MSGID_RE = re.compile(rb"^Message-ID:[ \t]*<[^>]*>", re.I | re.M)


def jobs(d, corpus, count):
    files = sorted(f for f in os.listdir(os.path.join(corpus, "messages"))
                   if f.endswith(".eml"))
    raw = {}
    for f in files:
        with open(os.path.join(corpus, "messages", f), "rb") as fp:
            raw[f] = fp.read()
    os.makedirs(os.path.join(d, "msgs"), exist_ok=True)
    with open(os.path.join(d, "jobs.tsv"), "w") as out:
        for i in range(count):
            f = files[i % len(files)]
            rcpt = "sato@" + DOMAINS[(i // len(files)) % 2]
            # a quarter with swaks (slow to start), the rest smtp-source
            tool = "swaks" if i % 4 == 3 else "smtp-source"
            mid = "e2e-%05d@lurewall.test" % i
            head, sep, body = raw[f].partition(b"\r\n\r\n")
            head, n = MSGID_RE.subn(
                b"Message-ID: <" + mid.encode() + b">", head, count=1)
            if n != 1:
                sys.exit("lib-e2e: %s has no Message-ID" % f)
            msg = head + sep + body
            if tool == "smtp-source":
                # smtp-source -F appends CRLF to every line it reads
                msg = msg.replace(b"\r\n", b"\n")
            path = os.path.join(d, "msgs", "%05d.eml" % i)
            with open(path, "wb") as fp:
                fp.write(msg)
            out.write("\t".join((mid, f, rcpt, tool, path)) + "\n")


def read_jobs(d):
    res = []
    with open(os.path.join(d, "jobs.tsv")) as fp:
        for line in fp:
            mid, f, rcpt, tool, path = line.rstrip("\n").split("\t")
            res.append({"id": mid, "file": f, "rcpt": rcpt, "tool": tool,
                        "path": path})
    return res


def send_one(job, port):
    if job["tool"] == "swaks":
        cmd = ["swaks", "--silent", "1", "--server", "127.0.0.1",
               "--port", str(port), "--helo", "client.lurewall.test",
               "--from", "sender@client.lurewall.test",
               "--to", job["rcpt"], "--data", "@" + job["path"],
               "--timeout", "60"]
    else:
        cmd = ["smtp-source", "-4", "-M", "client.lurewall.test",
               "-f", "sender@client.lurewall.test", "-t", job["rcpt"],
               "-F", job["path"], "127.0.0.1:%d" % port]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "tempfail", "timeout"
    text = (p.stdout + p.stderr).decode("utf-8", "replace")
    if job["tool"] == "swaks":
        m = re.search(r"^<\*\*\s+([245]\d\d)[ -](.*)$", text, re.M)
    else:
        m = re.search(r"rejected: ([245]\d\d)[ -](.*)$", text, re.M)
    if p.returncode == 0 and m is None:
        return "ok", "250"
    if m is None:
        # no SMTP answer at all (refused, reset): as a 4xx, retry
        return "tempfail", " ".join(text.split())[:200]
    reply = m.group(1) + " " + m.group(2).strip()
    if m.group(1)[0] == "5":
        return "reject", reply
    if m.group(1)[0] == "4":
        return "tempfail", reply
    return "ok", reply


def send(d, port, idfile=None):
    todo = read_jobs(d)
    if idfile is not None:
        with open(idfile) as fp:
            want = set(line.strip() for line in fp if line.strip())
        todo = [j for j in todo if j["id"] in want]
    lock = threading.Lock()
    out = open(os.path.join(d, "outcomes.tsv"), "a")
    it = iter(todo)

    def worker():
        while True:
            with lock:
                job = next(it, None)
            if job is None:
                return
            outcome, reply = send_one(job, port)
            with lock:
                out.write("%s\t%s\t%s\n" % (job["id"], outcome, reply))
                out.flush()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()


def last_outcomes(d):
    """The final outcome of each id (the last attempt), and all attempts."""
    last, tries = {}, {}
    p = os.path.join(d, "outcomes.tsv")
    if os.path.exists(p):
        with open(p) as fp:
            for line in fp:
                mid, outcome, reply = line.rstrip("\n").split("\t", 2)
                last[mid] = (outcome, reply)
                tries.setdefault(mid, []).append(outcome)
    return last, tries


def header_block(data):
    return re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]


def account(d, expects, sinkdir, qlist, qdir, maillog, milterlog):
    checks = []

    def check(cond, desc, bad=()):
        checks.append((0 if cond else 1, desc))
        if not cond:
            for b in list(bad)[:10]:
                checks.append((None, "  " + str(b)))
            if len(bad) > 10:
                checks.append((None, "  ... %d in all" % len(bad)))

    js = read_jobs(d)
    # expected action per (corpus file, recipient domain), from
    # `lurewall scan --json` with the same configuration
    expect = {}
    for dom, path in expects:
        with open(path, encoding="utf-8") as fp:
            for line in fp:
                o = json.loads(line)
                expect[(os.path.basename(o["file"]), dom)] = o["action"]
    want = {}
    for j in js:
        want[j["id"]] = expect[(j["file"], j["rcpt"].split("@")[1])]
    n = {}
    for a in want.values():
        n[a] = n.get(a, 0) + 1
    checks.append((None, "expected: " + ", ".join(
        "%s %d" % (k, v) for k, v in sorted(n.items()))))

    last, tries = last_outcomes(d)
    retried = sum(1 for t in tries.values() if len(t) > 1)
    checks.append((None, "sender: %d messages, %d retried after a 4xx, "
                   "%d attempts" % (len(js), retried,
                                    sum(len(t) for t in tries.values()))))
    unanswered = [m for m in want if m not in last]
    check(not unanswered, "every message was sent", unanswered)
    pending = [m for m in want if m in last and last[m][0] == "tempfail"]
    check(not pending, "no message left tempfailed", pending)

    # delivered: Message-IDs at the sink, with Postfix's queue id
    sink = {}
    stray = []
    unscanned = []
    verdicts = {}
    qid_re = re.compile(r"^(?:\S+Z )?qid=([0-9A-Za-z]+): from=.* action=(\w+)")
    with open(milterlog, encoding="utf-8", errors="replace") as fp:
        for line in fp:
            m = qid_re.match(line)
            if m:
                verdicts.setdefault(m.group(1), []).append(m.group(2))
    for root, _, files in os.walk(sinkdir):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fp:
                data = fp.read()
            h = header_block(data)
            m = re.search(rb"^Message-ID:\s*<([^>]*)>", h, re.I | re.M)
            mid = m.group(1).decode() if m else None
            if mid not in want:
                stray.append(p)
                continue
            sink.setdefault(mid, []).append(h)
            q = re.search(rb"by mx\.lurewall\.test \(Postfix\) with E?SMTP "
                          rb"id ([0-9A-Za-z]+)", h)
            qid = q.group(1).decode() if q else "?"
            if verdicts.get(qid, []) not in (["accept"], ["tag"]):
                unscanned.append("%s qid %s verdicts %s" %
                                 (mid, qid, verdicts.get(qid)))
    check(not stray, "nothing at the sink but our messages", stray)
    check(not unscanned, "every delivered message has one accept or tag "
          "verdict for its Postfix queue id", unscanned)

    # quarantined: the CLI's list, the message text from the store
    quar = {}
    qitems = []
    with open(qlist, encoding="utf-8") as fp:
        for line in fp:
            if line.strip():
                qitems.append(json.loads(line))
    for it in qitems:
        p = os.path.join(qdir, "new", it["id"], "message")
        with open(p, "rb") as fp:
            h = header_block(fp.read())
        m = re.search(rb"^Message-ID:\s*<([^>]*)>", h, re.I | re.M)
        mid = m.group(1).decode() if m else None
        quar.setdefault(mid, []).append(it)
    stray = [m for m in quar if m not in want]
    check(not stray, "nothing in the quarantine but our messages", stray)

    # A daemon killed between storing an item and answering leaves a
    # stored copy whose SMTP transaction was tempfailed; the sender's
    # retry stores it again.  Such a copy is the only double allowed:
    # its queue id must belong to an attempt Postfix tempfailed.
    tempfailed_qids = set()
    with open(maillog, encoding="utf-8", errors="replace") as fp:
        for line in fp:
            m = re.search(r": ([0-9A-Za-z]+): (?:milter-reject: |"
                          r"reject: ).*: 4\.\d+\.\d+ ", line)
            if m:
                tempfailed_qids.add(m.group(1))
    orphans = []
    for mid, items in quar.items():
        if len(items) > 1:
            keep = [it for it in items
                    if it.get("qid") not in tempfailed_qids]
            orphans += [(mid, it["id"]) for it in items if it not in keep]
            quar[mid] = keep
    if orphans:
        checks.append((None, "%d quarantine copies of attempts that were "
                       "tempfailed (killed after store, before reply): %s"
                       % (len(orphans), orphans[:5])))

    rejected = {m for m, (o, _) in last.items() if o == "reject"}
    badtext = [(m, last[m][1]) for m in rejected
               if not re.match(r"550 5\.7\.1 .*lurewall", last[m][1])]
    check(not badtext, "every 5xx is lurewall's 550 5.7.1", badtext)

    wrong = []
    doubled = []
    lost = []
    untagged = []
    tagged = []
    for mid, a in sorted(want.items()):
        where = []
        where += ["sink"] * len(sink.get(mid, []))
        where += ["quarantine"] * len(quar.get(mid, []))
        if mid in rejected:
            where.append("rejected")
        if not where:
            lost.append(mid)
            continue
        if len(where) > 1:
            doubled.append((mid, where))
            continue
        exp = {"accept": "sink", "tag": "sink", "quarantine": "quarantine",
               "reject": "rejected"}[a]
        if where[0] != exp:
            wrong.append((mid, a, where[0]))
            continue
        if where[0] == "sink":
            h = sink[mid][0]
            has = re.search(rb"^X-Lurewall-Result: tag score=\d+", h,
                            re.M) is not None and \
                re.search(rb"^X-Lurewall-Rules: \S", h, re.M) is not None
            if a == "tag" and not has:
                untagged.append(mid)
            if a == "accept" and re.search(rb"^X-Lurewall-", h, re.M):
                tagged.append(mid)
    check(not lost, "nothing lost: every Message-ID delivered, "
          "quarantined or rejected", lost)
    check(not doubled, "nothing doubled: each Message-ID in one place, "
          "once", doubled)
    check(not wrong, "each outcome is the verdict `lurewall scan` gives",
          wrong)
    check(not untagged, "tagged messages carry X-Lurewall-Result and "
          "X-Lurewall-Rules", untagged)
    check(not tagged, "accepted messages carry no X-Lurewall field", tagged)
    got = {"sink": sum(len(v) for v in sink.values()),
           "quarantine": sum(len(v) for v in quar.values()),
           "rejected": len(rejected)}
    checks.append((None, "found: delivered %(sink)d, quarantined "
                   "%(quarantine)d, rejected %(rejected)d" % got))
    check(all(got.values()), "all three outcomes occurred")
    for st, desc in checks:
        if st is None:
            print("#\t" + desc)
        else:
            print("%d\t%s" % (st, desc))


def main():
    a = sys.argv[1:]
    if a[0] == "jobs":
        jobs(a[1], a[2], int(a[3]))
    elif a[0] == "send":
        send(a[1], int(a[2]), a[3] if len(a) > 3 else None)
    elif a[0] == "account":
        i = a.index("--")
        ex = [tuple(x.split("=", 1)) for x in a[2:i]]
        account(a[1], ex, *a[i + 1:i + 6])
    else:
        sys.exit("lib-e2e: unknown verb " + a[0])


if __name__ == "__main__":
    main()
