#!/bin/sh
# 4070-config-all-errors: one check-config shows every error of every
# file, each on a line of its own starting "lurewall: FILE:LINE:COL: KEY",
# in the order of the files: the main config's errors, and for the
# policies, default.yaml's and then each domain file's; a good file is
# not named.  lurewall-milter -n says the same, and both exit non-zero.
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
T=$(tmpdir 4070-config-all-errors)
mkdir -p "$T/policy.d" "$T/q" || bail "mkdir"
C=$T/lurewall.yaml
P=$T/policy.d

printf 'policy_dir: policy.d\nquarantine_dir: q\n' >"$C"
printf 'thresholds:\n  tag: five\ntag: {headers: maybe}\n' >"$P/default.yaml"
printf 'domains: [a.example]\nscores: {OFICE_VBA: 2, OFFICE_VBA: x}\n' \
    >"$P/a.example.yaml"
printf 'domains: [b.example]\n' >"$P/b.example.yaml"
printf 'domains: [c.example]\nbogus: 1\n' >"$P/c.example.yaml"

out=$(bounded "$LUREWALL" check-config -c "$C" 2>&1)
is 2 $? "check-config exits 2"
printf '%s\n' "$out" | sed 's/^/#   /'
is 5 "$(printf '%s\n' "$out" | grep -c "^lurewall: $P/")" \
    "five errors, each on its own line naming its file"
# the lines in order, without the directory
got=$(printf '%s\n' "$out" | sed -n "s|^lurewall: $P/||p" | cut -d: -f1-4)
want="default.yaml:2:8: thresholds.tag
default.yaml:3:16: tag.headers
a.example.yaml:2:10: scores.OFICE_VBA
a.example.yaml:2:36: scores.OFFICE_VBA
c.example.yaml:2:1: unknown key \"bogus\" (known"
is "$want" "$got" "every file's errors, file by file, with line, column and key"
unlike 'b\.example' "$out" "the good file is not named"

out=$(bounded "$MILTER" -n -c "$C" 2>&1)
ok $([ $? -ne 0 ]; echo $?) "lurewall-milter -n fails"
is 5 "$(printf '%s\n' "$out" | grep -c "^lurewall-milter: $P/")" \
    "and names the same five errors, one a line"

# The main config: every bad key, not only the first.
printf 'policy_dir: policy.d\nquarantine_dir: q\non_error: maybe\nbogus_key: 1\nlimits: {mime_depth: -3}\n' >"$C"
out=$(bounded "$LUREWALL" check-config -c "$C" 2>&1)
is 2 $? "a broken lurewall.yaml: exit 2"
printf '%s\n' "$out" | sed 's/^/#   /'
is 3 "$(printf '%s\n' "$out" | grep -c "^lurewall: $C:[345]:")" \
    "its three errors, one a line"
done_testing
