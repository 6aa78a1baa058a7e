#!/bin/sh
# 5311-learn-cli: `lurewall learn import|stats|show|forget|export`
# through the real binary, on an mbox and a Maildir of sent mail
# generated here (3 accounts of corp.example writing to 12 partners at
# 4 domains over three months).  Asserts what was learned, that forget
# really removes (show finds nothing, export lacks it), the named skips
# of the summary, -c before and after the verb, the progress bar on a
# terminal only, and the exit codes.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
[ -x "$LUREWALL" ] || bail "no $LUREWALL: run make"
command -v python3 >/dev/null || bail "python3 not installed"
command -v script >/dev/null || bail "script(1) not installed (bsdutils)"

T=$(tmpdir 5311-learn-cli)
mkdir -p "$T/policy.d" "$T/q"
cp "$LW_TOP/conf/policy.d/default.yaml" "$T/policy.d/"
cat > "$T/lurewall.yaml" <<EOF
quarantine_dir: $T/q
policy_dir: $T/policy.d
EOF
C=$T/lurewall.yaml
L() { bounded "$LUREWALL" learn "$@" -c "$C"; }

# The history: message i from account i%3 to partner i%12 (partner p
# at domain p%4), a thread every 3 messages, dated over 90 days back.
python3 - "$T" <<'EOF' || bail "cannot generate the mailboxes"
import os, sys, time, email.utils
t = sys.argv[1]
accounts = [("佐藤 一郎", "sato@corp.example"), ("Ken Suzuki", "suzuki@corp.example"),
            ("田中 花子", "tanaka@corp.example")]
domains = ["torihiki.example.ne.jp", "partner.example.com", "kanazawa-print.example",
           "supplier.example.de"]
partners = [("山田 太郎" if p == 0 else "Partner %d" % p, "p%d@%s" % (p, domains[p % 4]))
            for p in range(12)]
now = time.time()
def msg(i, quoted=False, nofrom=False):
    a = accounts[i % 3]
    p = partners[i % 12]
    date = email.utils.formatdate(now - 90 * 86400 + i * 3600, localtime=False)
    subj = "=?UTF-8?B?6KaL56mN5pu444Gu5Lu2?= %d" % (i // 3)
    h = []
    if not nofrom:
        h.append("From: %s" % email.utils.formataddr(a))
    h += ["To: %s" % email.utils.formataddr(p), "Subject: %s" % subj,
          "Date: %s" % date, "Message-ID: <m%d@corp.example>" % i]
    if i % 3:
        h.append("In-Reply-To: <m%d@corp.example>" % (i - i % 3))
    body = "Hello,\n\nFrom the desk of %s\n" % a[0] if quoted else "Hello.\n"
    return "\n".join(h) + "\n\n" + body
os.makedirs(t + "/Maildir/cur"); os.makedirs(t + "/Maildir/new"); os.makedirs(t + "/Maildir/tmp")
with open(t + "/sent.mbox", "w") as f:
    for i in range(60):
        m = msg(i, quoted=(i == 5), nofrom=(i == 59))
        m = "\n".join(">" + l if l.startswith("From ") else l for l in m.split("\n"))
        f.write("From %s %s\n%s\n" % (accounts[i % 3][1],
                time.asctime(time.gmtime(now - 90 * 86400 + i * 3600)), m))
for i in range(60, 80):
    sub = "cur" if i % 2 else "new"
    with open("%s/Maildir/%s/%d.M%d.host%s" % (t, sub, 1700000000 + i, i,
              ":2,S" if sub == "cur" else ""), "w") as f:
        f.write(msg(i))
with open(t + "/inbox.eml", "w") as f:
    f.write("From: Stranger <x@elsewhere.example>\nTo: sato@corp.example\n"
            "Subject: hi\nMessage-ID: <s1@elsewhere.example>\n\nhi\n")
with open(t + "/junk.txt", "w") as f:
    f.write("no mail here\n")
EOF

# --- nothing learned yet: the read-only verbs create nothing
out=$(L stats); rc=$?
is 0 "$rc" "stats on a fresh store exits 0"
like '^nothing learned yet' "$out" "and says nothing is learned"
ok $([ ! -e "$T/q/state" ]; echo $?) "a read-only verb does not create the store"
L show p1@partner.example.com >/dev/null; is 1 "$?" "show on a fresh store: 1"
is "" "$(L export --json)" "export on a fresh store: nothing"

# --- import the mbox (stderr is no terminal: no progress bar)
out=$(L import "$T/sent.mbox" 2>"$T/err"); rc=$?
is 0 "$rc" "import sent.mbox exits 0"
like '^read 60 messages from 1 source in ' "$out" "60 messages read"
like '^learned 59$' "$out" "59 learned"
like '^skipped 1: no_sender 1$' "$out" "the one without From: skipped by name"
like '^added 3 accounts, 12 correspondents, 5 domains, 59 threads' \
    "$out" "3 accounts, 12 correspondents, 5 domains (ours too), 59 threads added"
unlike "$(printf '\r')" "$(cat "$T/err")" "no progress bar when stderr is no terminal"

# --- stats, -c before and after the verb
out=$(L stats)
like 'correspondents +12' "$out" "stats: 12 correspondents"
like 'accounts +3' "$out" "stats: 3 accounts"
like 'messages +59 outbound' "$out" "stats: 59 messages"
is "$out" "$(bounded "$LUREWALL" -c "$C" learn stats)" "-c before learn"
is "$out" "$(bounded "$LUREWALL" learn -c "$C" stats)" "-c between learn and its verb"
is "$out" "$(bounded "$LUREWALL" learn stats --config="$C")" "--config= after the verb"
js=$(L stats --json)
like '^\{"organisation":"default","messages":59,.*"accounts":3,"correspondents":12,"domains":5,"threads":59,' \
    "$js" "stats --json"

# --- show: an address, a domain, a name
out=$(L show P0@Torihiki.example.ne.jp); rc=$?
is 0 "$rc" "show ADDR exits 0"
like '^correspondent +p0@torihiki\.example\.ne\.jp \(organisation default\): 5 out' \
    "$out" "show ADDR: the correspondent, 5 messages to it"
like 'name +山田 太郎 \(5, last ' "$out" "show ADDR: the name it is written to with"
out=$(L show sato@corp.example)
like '^account +sato@corp\.example .*: 20 out' "$out" "show an account: 20 sent"
like 'name +佐藤 一郎' "$out" "show an account: its display name"
out=$(L show torihiki.example.ne.jp); rc=$?
is 0 "$rc" "show DOMAIN exits 0"
like '^domain +torihiki\.example\.ne\.jp' "$out" "show DOMAIN: the domain record"
is 3 "$(printf '%s\n' "$out" | grep -c '^correspondent ')" \
    "show DOMAIN: its 3 correspondents"
like 'threads with torihiki\.example\.ne\.jp as a participant: [1-9]' "$out" \
    "show DOMAIN: its threads"
out=$(L show "山田 太郎"); rc=$?
is 0 "$rc" "show NAME exits 0"
like 'name of correspondent p0@torihiki\.example\.ne\.jp' "$out" \
    "show NAME: whose name it is"
like 'name of correspondent p0@torihiki\.example\.ne\.jp' \
    "$(L show "太郎 山田")" "show NAME: either order, as the rules match"
out=$(L show nobody@nowhere.example); rc=$?
is 1 "$rc" "show of an unknown address exits 1"
like '^nothing learned about nobody@nowhere\.example' "$out" "and says so"

# --- export: one JSON object a line, as many as stats counts
L export --json > "$T/export.json"; rc=$?
is 0 "$rc" "export --json exits 0"
got=$(python3 - "$T/export.json" <<'EOF'
import json, sys, time, collections
c = collections.Counter()
now = time.time()
for l in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(l)
    assert r["organisation"] == "default"
    assert "body" not in l
    assert 0 < r["first"] <= r["last"] <= now, l
    for i in r.get("names", []) + r.get("domains", []):
        assert r["first"] <= i["last"] <= r["last"], l
    c[r["kind"]] += 1
print(c["account"], c["correspondent"], c["domain"], c["thread"])
EOF
)
is "3 12 5 59" "$got" "export: 3 accounts, 12 correspondents, 5 domains, 59 threads"
grep -q '"key":"p0@torihiki.example.ne.jp"' "$T/export.json"
ok $? "export: the correspondent is there before forget"
unlike '見積書' "$(cat "$T/export.json")" "export: no subject in clear"

# --- forget an address: show finds nothing, export lacks it
out=$(L forget p0@torihiki.example.ne.jp); rc=$?
is 0 "$rc" "forget ADDR exits 0"
like '^forgot p0@torihiki\.example\.ne\.jp: [1-9][0-9]* records' "$out" "and says how much"
L show p0@torihiki.example.ne.jp >/dev/null; is 1 "$?" "show ADDR after forget: nothing"
L show "山田 太郎" >/dev/null; is 1 "$?" "show of its name after forget: nothing"
L export --json > "$T/export2.json"
grep -q 'p0@torihiki' "$T/export2.json"
is 1 "$?" "export after forget lacks the address (and its name index)"
L forget p0@torihiki.example.ne.jp >/dev/null; is 1 "$?" "forget it again: 1"

# --- forget a domain: its addresses, the domain and its thread part
L forget supplier.example.de >/dev/null; is 0 "$?" "forget DOMAIN exits 0"
L show supplier.example.de >/dev/null; is 1 "$?" "show DOMAIN after forget: nothing"
L export --json > "$T/export3.json"
grep -q 'supplier\.example\.de' "$T/export3.json"
is 1 "$?" "export after forget lacks the domain everywhere (threads too)"
like 'correspondents +8' "$(L stats)" "12 - 1 - 3 correspondents left"

# --- the Maildir, --account
out=$(L import "$T/Maildir"); rc=$?
is 0 "$rc" "import a Maildir exits 0"
like '^read 20 messages from 1 source' "$out" "20 messages of cur/ and new/"
like '^learned 20$' "$out" "all learned"
out=$(L import --account sato@corp.example "$T/sent.mbox" "$T/inbox.eml"); rc=$?
is 0 "$rc" "import --account exits 0"
like '^learned 21$' "$out" "--account: sato's 20 and the one without From:"
like '^skipped 40: other_sender 40$' "$out" "the others' mail, and the stray inbound one, skipped as other_sender"
L show x@elsewhere.example >/dev/null; is 1 "$?" "the inbound sender was not learned"

# --- the progress bar on a terminal
SHELL=/bin/sh bounded script -qec "'$LUREWALL' learn import -c '$C' '$T/Maildir' >/dev/null" \
    "$T/typescript" >/dev/null 2>&1
like "$(printf '\r')\\[#+-*\\] +[0-9]+% [0-9]+ read, [0-9]+ learned, 0 skipped, [0-9]+/s  1/1 Maildir" \
    "$(cat "$T/typescript")" "on a terminal: a progress bar redrawn with \\r"
SHELL=/bin/sh bounded script -qec "stty cols 50; '$LUREWALL' learn import -c '$C' '$T/Maildir' >/dev/null" \
    "$T/typescript50" >/dev/null 2>&1
widest=$(grep -v '^Script ' "$T/typescript50" | tr '\r' '\n' |
    sed 's/\x1b\[K//g' | awk '{ if (length > w) w = length } END { print w + 0 }')
ok $([ "$widest" -ge 40 ] && [ "$widest" -le 49 ]; echo $?) \
    "a 50-column terminal: the line is cut to 49 ($widest)"

# --- usage and errors
L import "$T/nonesuch" >/dev/null 2>&1; is 2 "$?" "import of a missing file: 2"
err=$(L import "$T/junk.txt" 2>&1 >/dev/null); rc=$?
is 2 "$rc" "import of a file that is no mail: 2"
like 'neither an mbox, a Maildir nor a message' "$err" "and says why"
L import --account nobody "$T/sent.mbox" >/dev/null 2>&1; is 2 "$?" "--account without @: 2"
L forget "Some Name" >/dev/null 2>&1; is 2 "$?" "forget takes no name: 2"
{ cat "$C"; printf 'learn:\n  enable: false\n'; } > "$T/off.yaml"
err=$(bounded "$LUREWALL" learn import -c "$T/off.yaml" "$T/sent.mbox" 2>&1 >/dev/null)
is 2 "$?" "import with learn.enable false: 2"
like 'learn\.enable is false' "$err" "and says why"
L export >/dev/null 2>&1; is 2 "$?" "export without --json: 2"
L bogus >/dev/null 2>&1; is 2 "$?" "an unknown learn verb: 2"
like 'usage: lurewall learn \[-c FILE\] import' "$(bounded "$LUREWALL" learn 2>&1)" \
    "learn alone prints the verbs"
top=$(bounded "$LUREWALL" help learn)
for v in 'import \[--account ADDR\] FILE\|DIR' 'stats \[--json\]' \
    'show ADDR\|DOMAIN\|NAME' 'forget ADDR\|DOMAIN' 'export --json'; do
	like "$v" "$top" "help learn: $v"
done

done_testing
