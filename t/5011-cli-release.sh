#!/bin/sh
# 5011-cli-release: `lurewall quarantine release` through a fake
# submission command (records argv and stdin): original envelope, the
# X-Lurewall-Released line first, the record of who and when, a second
# release refused (exit 1) unless --force, --to, failures reported.
# (The HMAC itself is checked in t/5004-release; delivery through a real
# Postfix comes with the milter's Postfix harness.)
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
FILL=$LW_TOP/t/5005-fill
[ -x "$LUREWALL" ] || bail "no $LUREWALL: run make"
[ -x "$FILL" ] || bail "no $FILL: run make t/5005-fill"

T=$(tmpdir 5011-cli-release)
Q=$T/q
mkdir -p "$T/policy.d"
cat > "$T/fake-sendmail" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$T/argv"
cat > "$T/stdin"
exit \${FAKE_EXIT:-0}
EOF
chmod 755 "$T/fake-sendmail"
cat > "$T/lurewall.yaml" <<EOF
quarantine_dir: $Q
policy_dir: $T/policy.d
submit_command: "$T/fake-sendmail -G -i -f %f -- %r"
EOF
LW_QDIR=$Q bounded "$FILL" > "$T/ids" || bail "cannot fill $Q"
recent=$(awk '$1 == "recent" { print $2 }' "$T/ids")
mid=$(awk '$1 == "mid" { print $2 }' "$T/ids")
QL() { bounded "$LUREWALL" -c "$T/lurewall.yaml" quarantine "$@"; }

out=$(QL release "$recent"); rc=$?
is 0 "$rc" "release exits 0"
like "released $recent to alice@example.com" "$out" "and says to whom"
is "-G
-i
-f
billing@partner.example
--
alice@example.com
bob@example.com" "$(cat "$T/argv")" "original sender and recipients, argv without a shell"
first=$(head -n 1 "$T/stdin")
like "^X-Lurewall-Released: $recent; [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z; [0-9a-f]{64}.\$" \
    "$first" "first line is X-Lurewall-Released: id; time; hmac"
want=$(QL show --raw "$recent" | sha256sum)
is "$want" "$(tail -n +2 "$T/stdin" | sha256sum)" "then the stored message, unchanged"

json=$(QL list --json --rcpt bob@example.com)
like '"released":true' "$json" "list --json shows it released"
like '"released_by":"[^"]+' "$json" "with who"
like "released: +[0-9-]+ [0-9:]+ by .* to alice@example.com, bob@example.com \(1 time\)" \
    "$(QL show "$recent")" "show records who, when and to whom"
like "items: 3 \(1 released\)" "$(QL stats)" "stats counts releases"

rm -f "$T/argv"
QL release "$recent" > /dev/null 2> "$T/err"
is 1 "$?" "a second release is refused (exit 1)"
like "already released \(use --force\)" "$(cat "$T/err")" "and says why"
ok $([ ! -e "$T/argv" ]; echo $?) "the submit command did not run"

QL release "$recent" --force --to carol@example.org > /dev/null
is 0 "$?" "--force --to releases again"
is "-G
-i
-f
billing@partner.example
--
carol@example.org" "$(cat "$T/argv")" "--to replaces the recipients"
like "\(2 times\)" "$(QL show "$recent")" "two releases recorded"

FAKE_EXIT=75 QL release "$mid" > /dev/null 2> "$T/err"
is 1 "$?" "a failing submit command: exit 1"
like "exited 75" "$(cat "$T/err")" "and the reason"
like '"released":false' "$(QL list --json --from hr@evil.example)" "not recorded"

QL release "$mid" --to "-oQ/tmp" > /dev/null 2>&1
is 2 "$?" "--to that looks like an option: usage"
QL release 20200101T000000-00000000 > /dev/null 2>&1
is 1 "$?" "unknown id: exit 1"
QL release "../../etc/passwd" > /dev/null 2>&1
is 2 "$?" "path id: exit 2"
QL release > /dev/null 2>&1
is 2 "$?" "no id: usage"
out=$(QL release "$mid" 20200101T000000-00000000 2>/dev/null); rc=$?
is 1 "$rc" "several ids: the worst result is the exit code"
like "released $mid" "$out" "the good one still goes out"

done_testing
