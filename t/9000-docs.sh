#!/bin/sh
# 9000-docs: the four man pages are mandoc -Tlint clean and say what the
# code does.  Every name is taken from the code itself, so a new rule,
# policy key, config key, limit, daemon option or CLI verb without docs
# fails here:
#   rules        the rules_builtin[] table of milter/rules.c: each
#                { "NAME", SCORE, ... } line; lurewall-policy(5) must have
#                ".It Sy NAME Pq score SCORE".
#   policy keys  every string of the key tables in milter/policy*.c (the
#                NULL-terminated arrays policy_keys[] and the static
#                keys[] of each nested map, which y_map() enforces: no
#                other key loads), plus the custom rules' where values
#                (wheres[]) and quarantine.then values; top-level keys as
#                ".It Ic KEY" items, nested ones as "Ic KEY" anywhere.
#   config keys  top_keys[] of milter/config.c, as ".It Ic KEY" in
#                lurewall.yaml(5).
#   limits       the fields of struct limits in milter/lurewall.h, each
#                with the same name in config.c's limit_keys[] and a
#                default in limits_default() (milter/lurewall.c);
#                lurewall.yaml(5) must have ".It Ic FIELD : Ar type Pq
#                default N" with N (k/M/G suffixes allowed) equal to the
#                code's default.
#   options      the getopt string of milter/daemon.c, each letter an
#                ".It Fl X" of lurewall-milter(8).
#   verbs        the verb tables (struct cli_verb) of milter/cli.c,
#                milter/cli_outbreak.c, milter/cli_quarantine.c and
#                milter/cli_learn.c ({ "verb", cmd_...), each an
#                ".It Cm VERB" of lurewall(8), and every long option of
#                their struct option tables as "Fl -NAME".
# The EXAMPLES of lurewall-policy(5) and lurewall.yaml(5) must load with
# `lurewall check-config`, and the shipped-file example of lurewall.yaml(5)
# must be conf/lurewall.yaml without its comments.
# (default.yaml's scores against rules.c: t/4001-policy.)
. "${LW_TOP:-.}/t/lib.sh"
BOUND=30
M=$LW_TOP/man
SRC=$LW_TOP/milter
PAGES="lurewall-milter.8 lurewall.8 lurewall.yaml.5 lurewall-policy.5"
command -v mandoc >/dev/null || bail "mandoc not installed (contrib/install-deps)"
[ -x "$LUREWALL" ] || bail "no $LUREWALL: run make"
T=$(tmpdir 9000-docs)

# Quoted strings of the C array that starts on the line matching $2 in
# file $1, up to the line that ends it ("};" or a NULL entry).
array_strings() {
	awk -v start="$2" '
		index($0, start) { on = 1 }
		on {
			s = $0
			while (match(s, /"[^"]*"/)) {
				print substr(s, RSTART + 1, RLENGTH - 2)
				s = substr(s, RSTART + RLENGTH)
			}
			if ($0 ~ /NULL[ \t]*}?;?[ \t]*$/ || $0 ~ /};/) on = 0
		}' "$1"
}

# "64M" -> 67108864
size_value() {
	case $1 in
	*[kK]) echo $(( ${1%?} << 10 )) ;;
	*[mM]) echo $(( ${1%?} << 20 )) ;;
	*[gG]) echo $(( ${1%?} << 30 )) ;;
	*) echo "$1" ;;
	esac
}

# --- mandoc
for p in $PAGES; do
	[ -f "$M/$p" ] || { ok 1 "$p exists"; continue; }
	out=$(bounded mandoc -Tlint -W warning "$M/$p" 2>&1); rc=$?
	is "0:" "$rc:$out" "$p: mandoc -Tlint -W warning is clean"
	# Style too, but for cross references to pages not installed here.
	out=$(bounded mandoc -Tlint -W style "$M/$p" 2>&1 |
	    grep -v 'referenced manual not found' |
	    grep -v 'mandoc.db lacks')
	is "" "$out" "$p: mandoc -Tlint -W style is clean"
done

# --- rules
POL=$M/lurewall-policy.5
awk '/rules_builtin\[\] = \{/ { on = 1; next }
    on && /^};/ { exit }
    on && /\{ "/ {
	s = $0; sub(/^[^"]*"/, "", s)
	name = s; sub(/".*/, "", name)
	sc = s; sub(/^[^,]*,[ \t]*/, "", sc); sub(/,.*/, "", sc)
	print name, sc
    }' "$SRC/rules.c" > "$T/rules"
nrules=$(wc -l < "$T/rules" | tr -d ' ')
nlines=$(awk '/rules_builtin\[\] = \{/ { on = 1; next }
    on && /^};/ { exit } on && /\{ "/ { n++ } END { print n + 0 }' \
    "$SRC/rules.c")
ok $([ "$nrules" -ge 30 ] && [ "$nrules" -eq "$nlines" ]; echo $?) \
    "read $nrules rules from rules.c"
while read -r name score; do
	grep -qx "\.It Sy $name Pq score $score" "$POL"
	ok $? "lurewall-policy(5): $name with its default score $score"
done < "$T/rules"
# and nothing documented that the code does not have
sed -n 's/^\.It Sy \([A-Z0-9_]*\) Pq score \(-\{0,1\}[0-9]*\)$/\1 \2/p' \
    "$POL" | sort > "$T/rules.doc"
sort "$T/rules" > "$T/rules.code"
is "" "$(comm -13 "$T/rules.code" "$T/rules.doc" | tr '\n' ' ')" \
    "lurewall-policy(5) lists no rule or score that rules.c lacks"

# --- policy keys (the loader first: its wheres[] table is the one read)
PSRC=$T/policy-all.c
cat "$SRC/policy_apply.c" "$SRC/policy_yaml.c" "$SRC/policy_people.c" \
    "$SRC/policy.c" "$SRC/policy_print.c" > "$PSRC"
array_strings "$PSRC" 'policy_keys[] = {' > "$T/pkeys"
ok $([ "$(wc -l < "$T/pkeys")" -ge 10 ]; echo $?) \
    "read $(wc -l < "$T/pkeys" | tr -d ' ') top-level keys from policy*.c"
while read -r k; do
	grep -q "^\.It Ic $k\( \|$\)" "$POL"
	ok $? "lurewall-policy(5): key $k"
done < "$T/pkeys"
# The nested maps: every "static const char *const keys[] = {" table.
awk '/static const char \*const keys\[\] = \{/ { on = 1 }
    on {
	s = $0
	while (match(s, /"[^"]*"/)) {
		print substr(s, RSTART + 1, RLENGTH - 2)
		s = substr(s, RSTART + RLENGTH)
	}
	if ($0 ~ /NULL/) on = 0
    }' "$PSRC" | sort -u > "$T/nkeys"
ok $([ "$(wc -l < "$T/nkeys")" -ge 8 ]; echo $?) \
    "read $(wc -l < "$T/nkeys" | tr -d ' ') nested keys from policy*.c"
while read -r k; do
	grep -q "Ic $k\( \|$\)" "$POL"
	ok $? "lurewall-policy(5): nested key $k"
done < "$T/nkeys"
# where: values of custom rules, quarantine.then values
{ awk '/wheres\[\] = \{/ { on = 1 } on && /\{ "/ {
	s = $0; sub(/^[^"]*"/, "", s); sub(/".*/, "", s); print s }
    on && /};/ { exit }' "$PSRC"
  echo header; echo discard; echo reject; echo hold; } > "$T/pvals"
ok $([ "$(wc -l < "$T/pvals")" -ge 8 ]; echo $?) "read the where: values"
while read -r v; do
	grep -q "Cm $v\( \|$\)" "$POL"
	ok $? "lurewall-policy(5): value $v"
	grep -q "\"$v\"" "$PSRC"
	ok $? "the policy loader still accepts $v"
done < "$T/pvals"
# the built-in policy (policy.c): thresholds, reply prefixes, reject text
th=$(sed -n 's/^[ \t]*\.th_\(tag\|quarantine\|reject\) = \([0-9]*\),$/\2/p' \
    "$PSRC" | tr '\n' ' ')
set -- $th
grep -q "^Defaults $1, $2 and $3\.$" "$POL"
ok $? "lurewall-policy(5): default thresholds $1, $2, $3"
rp=$(array_strings "$PSRC" 'default_reply_prefixes[] = {' |
    paste -sd, - | sed 's/,/, /g')
grep -qF ".Li [$rp] ;" "$POL"
ok $? "lurewall-policy(5): default reply_prefixes [$rp]"
rt=$(sed -n '/define DEFAULT_REJECT_TEXT/{n;p;}' "$PSRC" |
    sed 's/^[ \t]*"\(.*\)"[ \t]*$/\1/')
grep -qxF ".Dl $rt" "$POL"
ok $? "lurewall-policy(5): default reject_text"

# --- config keys and limits
YML=$M/lurewall.yaml.5
array_strings "$SRC/config.c" 'top_keys[] = {' > "$T/ckeys"
ok $([ "$(wc -l < "$T/ckeys")" -ge 9 ]; echo $?) \
    "read $(wc -l < "$T/ckeys" | tr -d ' ') keys from config.c"
while read -r k; do
	grep -q "^\.It Ic $k : " "$YML"
	ok $? "lurewall.yaml(5): key $k"
done < "$T/ckeys"
mandoc -Tutf8 "$YML" 2>/dev/null | col -b > "$T/yaml.txt"
for d in SOCKET QDIR SUBMIT; do
	v=$(sed -n "s/^#define CONFIG_DEFAULT_$d[ \t]*\"\(.*\)\"$/\1/p" \
	    "$SRC/config.h")
	ok $([ -n "$v" ] && grep -qF "$v" "$T/yaml.txt"; echo $?) \
	    "lurewall.yaml(5): default \"$v\""
done
awk '/^struct limits \{/ { on = 1; next } on && /^};/ { exit }
    on && /;/ { s = $0; sub(/;.*/, "", s); n = split(s, w, /[ \t]+/)
	print w[n] }' "$SRC/lurewall.h" > "$T/limits"
ok $([ "$(wc -l < "$T/limits")" -ge 15 ]; echo $?) \
    "read $(wc -l < "$T/limits" | tr -d ' ') fields of struct limits"
# A field's key: L(key, old-name, field, ...) in config.c.  Sizes are
# documented as 64M, durations (scan_timeout) as 30s and kept in ms.
ms_value() {
	case $1 in
	*ms) echo "${1%ms}" ;;
	*s) echo $(( ${1%s} * 1000 )) ;;
	*m) echo $(( ${1%m} * 60000 )) ;;
	*h) echo $(( ${1%h} * 3600000 )) ;;
	*) echo x ;;
	esac
}
while read -r f; do
	k=$(sed -n "s/^[ \t]*L(\([a-z0-9_]*\), [^,]*, $f, .*/\1/p" \
	    "$SRC/config.c")
	[ -n "$k" ]
	ok $? "config.c reads limits.$f as limits.${k:-?}"
	code=$(sed -n "s/^[ \t]*l->$f = \([0-9]*\)U\{0,1\}L\{0,2\}\( << \([0-9]*\)\)\{0,1\};/\1 \3/p" \
	    "$SRC/lurewall.c")
	set -- $code
	want=$(( ${1:-0} << ${2:-0} ))
	doc=$(sed -n "s/^\.It Ic $k : Ar [a-z]* Pq default \([0-9]*[kMG]\{0,1\}\)$/\1/p" \
	    "$YML")
	got=$(size_value "$doc")
	if [ -z "$doc" ]; then
		doc=$(sed -n "s/^\.It Ic $k : Ar duration Pq default \([0-9]*m\{0,1\}[smh]\)$/\1/p" \
		    "$YML")
		got=$(ms_value "$doc")
	fi
	ok $([ -n "$code" ] && [ -n "$k" ] && [ -n "$doc" ] &&
	    [ "$got" = "$want" ]; echo $?) \
	    "lurewall.yaml(5): limits.$k, default $doc = $want"
done < "$T/limits"

# --- lurewall-milter options
MIL=$M/lurewall-milter.8
opts=$(sed -n 's/.*getopt(argc, argv, "\([^"]*\)").*/\1/p' \
    "$SRC/daemon.c" | tr -d ':')
ok $([ ${#opts} -ge 8 ]; echo $?) "daemon.c options: $opts"
for o in $(printf '%s' "$opts" | sed 's/./& /g'); do
	grep -q "^\.It Fl $o\( \|$\)" "$MIL"
	ok $? "lurewall-milter(8): option -$o"
done
is "" "$(sed -n 's/^\.It Fl \([A-Za-z]\)\( .*\)\{0,1\}$/\1/p' "$MIL" |
    while read -r o; do case $opts in *"$o"*) ;; *) printf '%s ' "$o" ;;
    esac; done)" "lurewall-milter(8) lists no option daemon.c lacks"

# --- lurewall verbs and options
CLI=$M/lurewall.8
for f in cli.c cli_quarantine.c cli_outbreak.c cli_learn.c; do
	sed -n 's/^[ \t]*{ "\([a-z-]*\)", cmd_[a-z_]*,.*/\1/p' "$SRC/$f"
done > "$T/verbs"
ok $([ "$(wc -l < "$T/verbs")" -ge 11 ]; echo $?) \
    "read $(wc -l < "$T/verbs" | tr -d ' ') verbs from cli.c, cli_quarantine.c, cli_outbreak.c and cli_learn.c"
while read -r v; do
	grep -q "^\.It Cm $v\( \|$\)" "$CLI"
	ok $? "lurewall(8): verb $v"
done < "$T/verbs"
sed -n 's/^[ \t]*{ "\([a-z-]*\)",[ \t]*\(no\|required\)_argument.*/\1/p' \
    "$SRC/cli.c" "$SRC/cli_quarantine.c" "$SRC/cli_outbreak.c" \
    "$SRC/cli_learn.c" "$SRC/cli_learn_import.c" \
    "$SRC/cli_stats.c" | sort -u > "$T/longopts"
ok $([ "$(wc -l < "$T/longopts")" -ge 10 ]; echo $?) "read the long options"
while read -r o; do
	grep -q "Fl -$o\( \|$\)" "$CLI"
	ok $? "lurewall(8): option --$o"
done < "$T/longopts"
gopts=$(sed -n 's/.*getopt\(_long\)\{0,1\}(argc, argv, "+\([^"]*\)".*/\2/p' \
    "$SRC/cli.c" | tr -d ':')
ok $([ -n "$gopts" ]; echo $?) "cli.c global options: $gopts"
for o in $(printf '%s' "$gopts" | sed 's/./& /g'); do
	grep -q "^\.It Fl $o\( \|$\)" "$CLI"
	ok $? "lurewall(8): global option -$o"
done

# --- the examples load
# Literal blocks of the EXAMPLES section of page $1, block $2 (1-based).
example() {
	awk -v want="$2" '/^\.Sh / { ex = ($0 == ".Sh EXAMPLES") }
	    ex && /^\.Bd -literal/ { n++; on = (n == want); next }
	    on && /^\.Ed/ { exit }
	    on { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); print }' "$1"
}
mkdir -p "$T/ex/policy.d" "$T/ex/q"
cp "$LW_TOP/conf/policy.d/default.yaml" "$T/ex/policy.d/"
example "$POL" 1 > "$T/ex/policy.d/example.co.jp.yaml"
printf '鈴木 一郎\tIchiro Suzuki\n' > "$T/ex/policy.d/example.co.jp.staff"
printf 'policy_dir: policy.d\nquarantine_dir: q\n' > "$T/ex/lurewall.yaml"
out=$(bounded "$LUREWALL" check-config -c "$T/ex/lurewall.yaml" 2>&1); rc=$?
is 0 "$rc" "lurewall-policy(5): the example policy loads"
like 'policy example\.co\.jp .*INVOICE_URGENT: 2' "$(printf '%s' "$out" |
    tr '\n' ' ')" "and scores: wins over the rule's own score"

example "$YML" 1 | sed 's|^quarantine_dir: .*|quarantine_dir: q|;
    s|^policy_dir: .*|policy_dir: policy.d|' > "$T/ex/lurewall.yaml"
bounded "$LUREWALL" check-config -c "$T/ex/lurewall.yaml" >/dev/null 2>&1
is 0 "$?" "lurewall.yaml(5): the first example loads"
example "$YML" 1 > "$T/shipped.doc"
sed 's/[ \t]*#.*//; s/[ \t]*$//; /^$/d' "$LW_TOP/conf/lurewall.yaml" \
    > "$T/shipped.conf"
diff "$T/shipped.conf" "$T/shipped.doc" > "$T/shipped.diff"
ok $? "lurewall.yaml(5): the first example is conf/lurewall.yaml"
[ -s "$T/shipped.diff" ] && sed 's/^/# /' "$T/shipped.diff"
example "$YML" 2 > "$T/ex/lurewall.yaml"
printf 'policy_dir: policy.d\nquarantine_dir: q\n' >> "$T/ex/lurewall.yaml"
bounded "$LUREWALL" check-config -c "$T/ex/lurewall.yaml" >/dev/null 2>&1
is 0 "$?" "lurewall.yaml(5): the second example loads"

done_testing
