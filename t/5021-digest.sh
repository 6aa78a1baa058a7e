#!/bin/sh
# 5021-digest: `lurewall quarantine digest` on a store filled by
# t/5005-fill.  Recipients whose policy has notify.digest get one mail
# each listing what is held for them since --since (default 1d), in the
# policy's language, from notify.from, through submit_command with the
# null sender; --dry-run prints instead; --rcpt picks one recipient;
# a policy without digest mails nobody.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
FILL=$LW_TOP/t/5005-fill
[ -x "$FILL" ] || bail "no $FILL: run make t/5005-fill"

T=$(tmpdir 5021-digest)
Q=$T/q
mkdir -p "$T/policy.d" "$T/out"
cat >"$T/fake-sendmail" <<EOF
#!/bin/sh
n=\$(date +%s%N)
cat >"$T/out/\$n.eml"
echo "\$*" >"$T/out/\$n.args"
EOF
chmod 0755 "$T/fake-sendmail"
cat >"$T/lurewall.yaml" <<EOF
quarantine_dir: $Q
policy_dir: $T/policy.d
notice_dir: $LW_TOP/conf/notice
submit_command: $T/fake-sendmail -f %f -- %r
EOF
cat >"$T/policy.d/default.yaml" <<EOF
notify: {digest: true, from: postmaster@example.com}
EOF
cat >"$T/policy.d/example.org.yaml" <<EOF
domains: [example.org]
language: ja
notify: {digest: true, from: postmaster@example.org}
EOF
LW_QDIR=$Q bounded "$FILL" >"$T/ids" || bail "cannot fill $Q"
recent=$(awk '$1 == "recent" { print $2 }' "$T/ids")
mid=$(awk '$1 == "mid" { print $2 }' "$T/ids")
QL() { bounded "$LUREWALL" -c "$T/lurewall.yaml" quarantine "$@"; }
# the decoded bodies of mails in FILE (dry-run output or one mail)
bodies() {
	python3 - "$1" <<'EOF'
import sys, email, email.policy
text = "\n" + open(sys.argv[1], encoding="utf-8").read()
for part in text.split("\nX-Lurewall-Notice: ")[1:]:
    m = email.message_from_string("X-Lurewall-Notice: " + part,
                                  policy=email.policy.default)
    print("To:", m["To"])
    print("Subject:", m["Subject"])
    print(m.get_content())
EOF
}

out=$(QL digest --dry-run); rc=$?
is 0 "$rc" "digest --dry-run exits 0"
printf '%s\n' "$out" >"$T/dry"
b=$(bodies "$T/dry")
is 2 "$(printf '%s\n' "$b" | grep -c '^To: ')" \
    "two mails: the two recipients of the message held in the last day"
like 'To: alice@example.com' "$b" "alice"
like 'To: bob@example.com' "$b" "bob"
unlike 'carol' "$b" "carol's message is three days old"
like "Subject: \\[lurewall\\] 1 message\\(s\\) to you are held" "$b" \
    "the English subject"
like "ID: $recent" "$b" "the item is listed"
like 'ask postmaster@example.com' "$b" "with whom to ask"
is 0 "$(ls "$T/out" | wc -l)" "--dry-run sent nothing"

out=$(QL digest --since 7d --rcpt carol@example.org --dry-run)
printf '%s\n' "$out" >"$T/dry2"
b=$(bodies "$T/dry2")
is 1 "$(printf '%s\n' "$b" | grep -c '^To: ')" "--rcpt: one mail"
like 'Subject: \[lurewall\] あなた宛てのメール 1 通を保留しています' "$b" \
    "carol's policy is Japanese"
like "ID: $mid" "$b" "her item, from three days ago"

out=$(QL digest); rc=$?
is 0 "$rc" "digest exits 0"
like 'digest to alice@example.com: 1 item' "$out" "and says what it sent"
is 2 "$(ls "$T/out" | grep -c 'eml$')" "two mails submitted"
is "-f  -- alice@example.com" "$(cat $(grep -l 'alice' "$T"/out/*.args))" \
    "with the null sender, to the recipient"

printf 'notify: {digest: false}\n' >"$T/policy.d/default.yaml"
out=$(QL digest --dry-run); rc=$?
is 0 "$rc" "no digest in the policy: exit 0"
is "" "$out" "and no mail"
done_testing
