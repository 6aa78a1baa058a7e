#!/bin/sh
# The shared corpus end to end through `lurewall scan --json`: every
# manifest tag gives its rule (table in the corpus README), every lure
# is quarantined or rejected, every benign message is accepted, except
# benign-02a (password in a later mail) which is tagged.  The policy is
# the shipped default plus the corpus scenario's example.co.jp policy.
. "${LW_TOP:-.}/t/lib.sh"

d=$(tmpdir corpus)
mkdir -p "$d/policy.d"
cp "$LW_TOP/conf/policy.d/default.yaml" "$d/policy.d/"
cp "$CORPUS/scenario-policy.yaml" "$d/policy.d/example.co.jp.yaml"
cat > "$d/lurewall.yaml" <<EOC
policy_dir: policy.d
quarantine_dir: quarantine
EOC

BOUND=120 bounded "$LUREWALL" scan -c "$d/lurewall.yaml" \
    --rcpt sato@example.co.jp --json "$CORPUS"/messages/*.eml \
    > "$d/out.json" 2> "$d/err.txt"
rc=$?
# 1: some message was flagged (the lures); 2 would be an error.
is 1 "$rc" "scan of the whole corpus exits 1 (flagged, no error)"
is "" "$(grep -v '^qid=' "$d/err.txt")" "no error output"

/usr/bin/python3 - "$CORPUS/manifest.tsv" "$d/out.json" > "$d/tap.txt" <<'EOP'
import json, os, sys
manifest, out = sys.argv[1], sys.argv[2]
tagrules = {
    "zip_encrypted": ["ARCHIVE_ENCRYPTED"],
    "nested_archive": ["ARCHIVE_NESTED"],
    "exe_in_archive": ["FILE_EXECUTABLE"],
    "ext_type_mismatch": ["FILE_TYPE_MISMATCH"],
    "vba_macro": ["OFFICE_VBA"],
    "vba_autoexec": ["OFFICE_VBA_AUTOEXEC"],
    "xlm_macro": ["OFFICE_XLM"],
    "display_name_spoof": ["HDR_DISPLAY_NAME_SPOOF"],
    "internal_name_external_domain": ["HDR_INTERNAL_NAME_EXTERNAL"],
    "foreign_reply_prefix": ["HDR_FOREIGN_REPLY_PREFIX"],
    "fake_reply": ["HDR_FAKE_REPLY", "BODY_QUOTED_THREAD_FOREIGN"],
}
payload = ("OFFICE_VBA", "OFFICE_XLM", "FILE_EXECUTABLE", "FILE_SCRIPT",
           "FILE_SHORTCUT", "ARCHIVE_LIMIT")
res = {}
for line in open(out, encoding="utf-8"):
    o = json.loads(line)
    res[os.path.basename(o["file"])] = o
n = 0
def ok(cond, desc, extra=""):
    global n
    n += 1
    print(("ok" if cond else "not ok") + " - %s" % desc)
    if not cond and extra:
        print("# " + extra)
for line in open(manifest, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    f, label, tags = line.rstrip("\n").split("\t")[:3]
    o = res.get(f)
    ok(o is not None, "%s scanned" % f)
    if o is None:
        continue
    rules = {x["rule"] for x in o["findings"]}
    why = "rules=%s action=%s score=%s" % (sorted(rules), o["action"], o["score"])
    tags = [] if tags == "-" else tags.split(",")
    for t in tags:
        if t == "password_in_body":
            if "zip_encrypted" in tags:
                ok("ARCHIVE_PASSWORD_IN_MESSAGE" in rules,
                   "%s: password_in_body -> ARCHIVE_PASSWORD_IN_MESSAGE" % f, why)
            continue
        if t not in tagrules:
            continue
        ok(any(r in rules for r in tagrules[t]),
           "%s: %s -> %s" % (f, t, "|".join(tagrules[t])), why)
    if label == "lure":
        ok(o["action"] in ("quarantine", "reject"),
           "%s: lure is quarantined or rejected" % f, why)
    elif f.startswith("benign-02a"):
        ok(o["action"] == "tag", "%s: split-PPAP zip is tagged" % f, why)
        ok("ARCHIVE_PASSWORD_UNKNOWN" in rules,
           "%s: ARCHIVE_PASSWORD_UNKNOWN" % f, why)
    else:
        ok(o["action"] == "accept", "%s: benign is accepted" % f, why)
        ok(not any(r.startswith(payload) for r in rules),
           "%s: no payload rule on benign mail" % f, why)
EOP
ok $? "manifest checker ran"
# Fold the checker's results into this script's numbering.
while IFS= read -r l; do
	case $l in
	"ok - "*) ok 0 "${l#ok - }" ;;
	"not ok - "*) ok 1 "${l#not ok - }" ;;
	*) echo "$l" ;;
	esac
done < "$d/tap.txt"
is 26 "$(grep -c ' scanned$' "$d/tap.txt")" "all 26 corpus messages checked"
done_testing
