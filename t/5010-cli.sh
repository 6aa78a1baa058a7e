#!/bin/sh
# 5010-cli: `lurewall quarantine list|show|delete|purge|stats|verify`
# through the real binary, on a store filled by t/5005-fill (the store
# API, so this test does not depend on the scanner).  Exit codes: 0 ok,
# 1 not found/refused, 2 usage or config error, 3 damaged.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
FILL=$LW_TOP/t/5005-fill
[ -x "$LUREWALL" ] || bail "no $LUREWALL: run make"
[ -x "$FILL" ] || bail "no $FILL: run make t/5005-fill"

T=$(tmpdir 5010-cli)
Q=$T/q
mkdir -p "$T/policy.d"
cat > "$T/lurewall.yaml" <<EOF
quarantine_dir: $Q
policy_dir: $T/policy.d
submit_command: "/bin/true -f %f -- %r"
EOF
LW_QDIR=$Q bounded "$FILL" > "$T/ids" || bail "cannot fill $Q"
recent=$(awk '$1 == "recent" { print $2 }' "$T/ids")
mid=$(awk '$1 == "mid" { print $2 }' "$T/ids")
old=$(awk '$1 == "old" { print $2 }' "$T/ids")
[ -n "$recent" ] && [ -n "$mid" ] && [ -n "$old" ] || bail "fill gave no ids"

QL() { bounded "$LUREWALL" -c "$T/lurewall.yaml" quarantine "$@"; }
# display width of each line (East Asian wide = 2), the widest printed
maxwidth() {
	python3 -c 'import sys, unicodedata as u
print(max([sum(2 if u.east_asian_width(c) in "WF" else 1 for c in l.rstrip("\n")) for l in sys.stdin] or [0]))'
}

# --- list
out=$(QL list); rc=$?
is 0 "$rc" "list exits 0"
is 4 "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" "header and three items"
order=$(QL list --wide | awk 'NR > 1 { print $1 }' | tr '\n' ' ')
is "$recent $mid $old " "$order" "newest first (--wide: full ids)"
like '"Partner Billing" billing@partner\.example  alice@example\.com \+1  17  held  OFFICE_VBA_AUTOEXEC,ARCHIVE_ENCRYPTED  ' \
    "$(QL list --wide)" "--wide: from, first rcpt (+1 more), score, state, rules"
# The 80-column table: short id, date, From name and domain, score,
# state, top rules, subject.
short=$(printf '%s' "${recent##*-}" | cut -c1-6)
line=$(COLUMNS=80 QL list | grep "^$short ")
like "^$short [0-9:-]{5} Partner\\.\\.\\. @partner\\.example +17 held +OFFICE_V[^ ]*\\+1 +請求書" \
    "$line" "80 columns: short id, date, display name and domain, score, state, top rule"
like "^$short [0-9:-]{5} Partner Billing @partner\\.example +17 held +OFFICE_VBA_AUTOEXEC\\+1 " \
    "$(COLUMNS=120 QL list | grep "^$short ")" "120 columns: more of each"
like '^ID +[A-Z+0-9-]+ +FROM +SCORE STATE +RULES +SUBJECT$' \
    "$(COLUMNS=80 QL list | head -1)" "the header names the time zone"
esc=$(printf '\033')
unlike "$esc" "$out" "no escape byte from a hostile subject reaches the terminal"

# --- widths
for c in 80 100 140; do
	w=$(COLUMNS=$c QL list | maxwidth)
	ok $([ "$w" -le "$c" ]; echo $?) "COLUMNS=$c: lines fit ($w)"
done
line=$(COLUMNS=140 QL list | grep "^$short ")
like '請求書のご送付 請求書.*\.\.\.$' "$line" "long Japanese subject cut with ..."
w=$(printf '%s\n' "$line" | maxwidth)
ok $([ "$w" -ge 139 ] && [ "$w" -le 140 ]; echo $?) \
    "wide characters count as two columns ($w of 140)"

# --- json
QL list --json > "$T/list.json"; rc=$?
is 0 "$rc" "list --json exits 0"
is 3 "$(wc -l < "$T/list.json" | tr -d ' ')" "one object per item per line"
chk=$(python3 - "$T/list.json" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
o = objs[0]
need = ["id", "time", "from", "rcpts", "subject", "score", "action",
    "rules", "released"]
print("ok" if all(all(k in x for k in need) for x in objs) else "missing")
print(o["from"], ",".join(o["rcpts"]), o["score"], o["action"],
    ",".join(o["rules"]), o["released"], o["findings"][0]["part"])
print("\x1b" in objs[1]["subject"])
EOF
)
is "ok
billing@partner.example alice@example.com,bob@example.com 17 quarantine OFFICE_VBA_AUTOEXEC,ARCHIVE_ENCRYPTED False 2/invoice.zip/doc.xls
False" "$chk" "json objects carry the fields, escaped"

# --- filters
ids() { QL list --json "$@" | python3 -c 'import json, sys
print(" ".join(json.loads(l)["id"] for l in sys.stdin))'; }
is "$recent" "$(ids --rcpt bob@example.com)" "--rcpt ADDR"
is "$recent $old" "$(ids --rcpt @example.com)" "--rcpt @domain"
is "$mid" "$(ids --from HR@evil.example)" "--from (case-insensitive)"
is "$mid" "$(ids --rule emotet_lure)" "--rule"
is "$recent" "$(ids --rule ARCHIVE_ENCRYPTED)" "--rule matches any rule"
is "$recent" "$(ids --since 2d)" "--since 2d"
is "$recent $mid" "$(ids --since 5d)" "--since 5d"
is "$recent" "$(ids --since 4d --rcpt @example.com --from @partner.example)" \
    "filters combine"
is "" "$(ids --since 2d --from hr@evil.example)" "filters combine to nothing"
QL list --since yesterday > /dev/null 2>&1
is 2 "$?" "bad duration is a usage error"

# --- show
out=$(QL show "$recent"); rc=$?
is 0 "$rc" "show exits 0"
like "recipients: +alice@example.com, bob@example.com" "$out" "show lists recipients"
like 'from: +"Partner Billing" <billing@partner.example>' "$out" "show has From"
like "17 +OFFICE_VBA_AUTOEXEC +2/invoice.zip/doc.xls: macro AutoOpen" "$out" \
    "show has findings with part paths"
like "mime tree:" "$out" "show has the MIME tree"
like "text/plain" "$out" "MIME tree lists the part"
sha=$(QL show --raw "$recent" | sha256sum | cut -d' ' -f1)
want=$(QL show --json "$recent" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')
is "$want" "$sha" "show --raw gives the stored bytes"
out=$(QL show --headers "$mid")
like "^Subject: \?\[31mred" "$out" "show --headers sanitizes control bytes"
unlike "$esc" "$out" "no escape byte in --headers"
unlike "No Message-ID" "$out" "--headers stops at the body"
out=$(QL show --findings "$mid")
like "EMOTET_LURE" "$out" "show --findings"
QL show "../secret" > /dev/null 2> "$T/err"
is 2 "$?" "a path id is a usage error"
like "invalid id" "$(cat "$T/err")" "and says so"
QL show 20200101T000000-00000000 > /dev/null 2>&1
is 1 "$?" "unknown id: exit 1"
QL show --raw --headers "$recent" > /dev/null 2>&1
is 2 "$?" "two modes at once: usage"
QL show "$recent" -c "$T/lurewall.yaml" > /dev/null
is 0 "$?" "-c after the verb works"
like 'from: +"Partner Billing"' "$(QL show "$short")" \
    "show takes the short id from list"
like 'from: +"Partner Billing"' "$(QL show "${recent%%T*}T" 2>&1)" \
    "or a unique prefix of the full id"
QL show "${recent%%-*}" > /dev/null 2>&1
is 0 "$?" "a prefix up to the time is unique here"
QL show 2026 > "$T/out" 2> "$T/err"
rc=$?
if [ "$(QL list --wide | awk 'NR > 1 && /^2026/' | wc -l)" -gt 1 ]; then
	is 2 $rc "a prefix of several ids: usage error"
	like "ambiguous: [0-9]+ items" "$(cat "$T/err")" "and says so"
else
	is 1 $rc "a prefix of no id: not found"
	like "not found" "$(cat "$T/err")" "and says so"
fi
QL show ffffffff0 > /dev/null 2>&1
is 1 "$?" "a prefix nothing starts with: not found"

# --- stats
out=$(QL stats)
like "items: 3 \(0 released\)" "$out" "stats counts items"
like "1 +EMOTET_LURE" "$out" "stats by rule"
is 3 "$(printf '%s\n' "$out" | grep -Ec '^ +1 +[0-9]{4}-[0-9]{2}-[0-9]{2}$')" \
    "stats by day"
like "items: 1 " "$(QL stats --since 2d)" "stats --since"
like '"items":3' "$(QL stats --json)" "stats --json"

# --- delete, purge
QL delete "$mid" > /dev/null
is 0 "$?" "delete"
QL delete "$mid" > /dev/null 2>&1
is 1 "$?" "delete again: not found"
QL delete "a/b" > /dev/null 2>&1
is 2 "$?" "delete a path id: usage"
QL purge > /dev/null 2>&1
is 2 "$?" "purge needs --older-than"
like "would purge 1 item" "$(QL purge --older-than 30d --dry-run)" "purge --dry-run"
like "purged 1 item" "$(QL purge --older-than 30d)" "purge --older-than 30d"
is "$recent" "$(ids)" "only the recent item is left"

# --- verify
out=$(QL verify); rc=$?
is 0 "$rc" "verify of a sound store exits 0"
like "1 item, 0 damaged" "$out" "and reports it"
mkdir -p "$Q/tmp/20200101T000000-deadbeef"
printf 'From: half' > "$Q/tmp/20200101T000000-deadbeef/message"
touch -d '10 minutes ago' "$Q/tmp/20200101T000000-deadbeef/message" \
    "$Q/tmp/20200101T000000-deadbeef"
printf 'x' >> "$Q/new/$recent/message"
out=$(QL verify); rc=$?
is 3 "$rc" "verify with a damaged item exits 3"
like "damaged $recent: size" "$out" "names the damaged item"
like "removed stale temporary tmp/20200101T000000-deadbeef" "$out" \
    "cleans a half-written temporary"
ok $([ ! -e "$Q/tmp/20200101T000000-deadbeef" ]; echo $?) "it is gone"

# --- errors
QL frobnicate > /dev/null 2>&1
is 2 "$?" "unknown verb: usage"
bounded "$LUREWALL" -c "$T/nonexistent.yaml" quarantine list > /dev/null 2>&1
is 2 "$?" "missing config: exit 2"
sed "s|^quarantine_dir:.*|quarantine_dir: $T/nope|" "$T/lurewall.yaml" > "$T/nope.yaml"
bounded "$LUREWALL" -c "$T/nope.yaml" quarantine list > /dev/null 2> "$T/err"
is 2 "$?" "missing quarantine directory: exit 2"
ok $([ ! -e "$T/nope" ]; echo $?) "the CLI does not create a store"

done_testing
