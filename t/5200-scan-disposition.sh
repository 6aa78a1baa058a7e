#!/bin/sh
# 5200-scan-disposition: `lurewall scan` prints the disposition the
# daemon would reach (disposition_decide, the daemon's own stage) and
# never writes the state it reads.  Outbound mail (--outbound, the
# sender account from --from, else From:; --auth-user; --client-addr in
# internal_networks): a lure is stored and discarded, clean mail flows;
# a sender whose breaker is tripped in the state is held (or 451 4.7.1
# under action tempfail), and --state none forgets it; a lure that
# reaches max_lures trips it now.  Split PPAP: a zip without its
# password is pending.  A copy released by `lurewall quarantine
# release` is accepted unscanned.  Exit codes 0/1/2 as before; stderr
# stays empty unless -v or an error; the state is not touched (no lock,
# no secret, no record, no quarantine directory).
. "${LW_TOP:-.}/t/lib.sh"
BOUND=60
FILL=$LW_TOP/t/5005-fill
C=$LW_TOP/../shared/corpus/messages
[ -x "$LUREWALL" ] || bail "no $LUREWALL: run make"
[ -x "$FILL" ] || bail "no $FILL: run make t/5005-fill"
[ -d "$C" ] || bail "no corpus at $C"

T=$(tmpdir 5200-scan-disposition)
Q=$T/q
mkdir -p "$T/policy.d"
cat > "$T/submit" <<EOF
#!/bin/sh
cat > "$T/released.eml"
EOF
chmod 755 "$T/submit"
cat > "$T/lurewall.yaml" <<EOF
quarantine_dir: $Q
policy_dir: $T/policy.d
submit_command: "$T/submit -f %f -- %r"
internal_networks: [10.9.0.0/16]
EOF
cat > "$T/policy.d/default.yaml" <<'EOF'
thresholds: {tag: 5, quarantine: 10, reject: 50}
split_password: {wait: 30m}
quarantine: {then: discard}
outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, action: quarantine}
EOF
cat > "$T/policy.d/slow.yaml" <<'EOF'
domains: [slow.example]
outbound: {action: tempfail}
EOF
cat > "$T/policy.d/one.yaml" <<'EOF'
domains: [one.example]
outbound: {max_lures: 1}
EOF
cat > "$T/clean.eml" <<'EOF'
From: Alice <alice@example.com>
To: bob@partner.example
Subject: lunch
Date: Thu, 03 Mar 2022 12:00:00 +0900
Message-ID: <clean-1@example.com>

See you at noon.
EOF
LURE=$C/lure-01-plain-doc-fake-reply.eml
PPAP=$C/benign-02a-ppap-aes-xlsx.eml
# every path in the state with its size, mode and mtime
snapshot() { (cd "$Q" && find . -printf '%p %s %m %T@\n' | sort); }
SCAN() { bounded "$LUREWALL" -c "$T/lurewall.yaml" scan "$@"; }
# field KEY JSON: the disposition object's value of KEY
field() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[2])["disposition"]
v = d[sys.argv[1]]
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}
top() {
	python3 -c 'import json, sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$2"
}

# --- no state at all: nothing is created
out=$(SCAN --json "$T/clean.eml" 2> "$T/err"); rc=$?
is 0 "$rc" "clean inbound mail exits 0"
is accept "$(field action "$out")" "clean inbound: accept"
is verdict "$(field why "$out")" "decided by the verdict"
is "" "$(cat "$T/err")" "nothing on stderr"
ok $([ ! -e "$Q" ]; echo $?) "scan did not create the quarantine directory"

# --- exit codes
SCAN "$LURE" > /dev/null 2>&1
is 1 "$?" "a lure exits 1"
SCAN "$T/missing.eml" > /dev/null 2> "$T/err"
is 2 "$?" "a missing file exits 2"
like 'missing.eml' "$(cat "$T/err")" "and says so on stderr"

# --- quiet unless -v
P=$C/lure-03-zipcrypto-docm-pw-ja.eml
SCAN "$P" > "$T/out" 2> "$T/err"
is 1 "$?" "a password zip lure exits 1"
is "" "$(cat "$T/err")" "no log lines on stderr without -v"
bounded "$LUREWALL" -v -c "$T/lurewall.yaml" scan "$P" > /dev/null \
    2> "$T/err"
like 'opened with password candidate' "$(cat "$T/err")" \
    "-v shows the engine's log lines"
like '^ disposition: quarantine-discard \(verdict\)' "$(cat "$T/out")" \
    "text output has a disposition line"

# --- inbound: verdict actions
out=$(SCAN --json "$LURE")
is quarantine "$(top action "$out")" "action stays the policy verdict"
is quarantine-discard "$(field action "$out")" \
    "inbound lure: stored, then discarded"
is true "$(field store "$out")" "the daemon would store it"
is false "$(field outbound "$out")" "inbound"

# --- split PPAP: pending
out=$(SCAN --json --from yamada@torihiki.example.ne.jp \
    --rcpt sato@example.co.jp "$PPAP")
is tag "$(top action "$out")" "the PPAP zip's verdict is tag"
is pending-discard "$(field action "$out")" "but the daemon holds it pending"
is pending "$(field why "$out")" "split PPAP decided"
like '^[0-9]+$' "$(field expires "$out")" "with its expiry"
out=$(SCAN --json --state none "$PPAP")
is pending-discard "$(field action "$out")" "pending with --state none too"

# --- outbound
out=$(SCAN --json --outbound --from alice@example.com "$T/clean.eml")
is accept "$(field action "$out")" "clean outbound mail flows"
is true "$(field outbound "$out")" "judged outbound"
is flowing "$(field breaker "$out")" "its sender's breaker flows"
out=$(SCAN --json --outbound --from alice@example.com "$LURE"); rc=$?
is 1 "$rc" "an outbound lure exits 1"
is quarantine-discard "$(field action "$out")" "an outbound lure is stored and discarded"
is outbound-lure "$(field why "$out")" "because it is an outbound lure"
out=$(SCAN --json --auth-user alice "$T/clean.eml")
is true "$(field outbound "$out")" "--auth-user makes it outbound"
out=$(SCAN --json --client-addr 10.9.1.2 --from alice@example.com \
    "$T/clean.eml")
is true "$(field outbound "$out")" "--client-addr in internal_networks too"
out=$(SCAN --json --client-addr 192.0.2.1 --from alice@example.com \
    "$T/clean.eml")
is false "$(field outbound "$out")" "another client address is inbound"
out=$(SCAN --json --outbound --from eve@one.example "$LURE")
is tripped "$(field breaker "$out")" "the lure that reaches max_lures trips the breaker"
is quarantine "$(field breaker_action "$out")" "the configured action is named"

# --- a tripped sender in the state (a record as the daemon writes it)
mkdir -p "$Q/outbreak"
tripped() {	# tripped KEY: the record of a sender tripped a minute ago
	now=$(date +%s)
	h=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)
	printf 'lurewall-outbreak 1\nsender %s\nlast %s\ntripped %s lures 3 0\nheld 1\n' \
	    "$1" "$now" "$((now - 60))" > "$Q/outbreak/$h.rec"
}
tripped mallory@example.com
tripped carol@slow.example
tripped from-header@example.com
before=$(snapshot)
out=$(SCAN --json --outbound --from mallory@example.com "$T/clean.eml")
is held "$(field breaker "$out")" "a tripped sender's clean mail is held"
is breaker "$(field why "$out")" "by the breaker"
is quarantine-discard "$(field action "$out")" "action quarantine: stored and discarded"
is accept "$(top action "$out")" "while the policy verdict stays accept"
out=$(SCAN --json --outbound --from carol@slow.example "$T/clean.eml")
is tempfail "$(field action "$out")" "action tempfail: 451"
like '^451 4\.7\.1 ' "$(field reply "$out")" "with 451 4.7.1"
sed 's/^From: .*/From: H <from-header@example.com>/' "$T/clean.eml" \
    > "$T/fromhdr.eml"
out=$(SCAN --json --outbound "$T/fromhdr.eml")
is held "$(field breaker "$out")" "without --from the From: address is the account"
out=$(SCAN --json --state none --outbound --from mallory@example.com \
    "$T/clean.eml")
is flowing "$(field breaker "$out")" "--state none: an empty state"
mkdir -p "$T/other/outbreak"
out=$(SCAN --json --state "$T/other" --outbound \
    --from mallory@example.com "$T/clean.eml")
is flowing "$(field breaker "$out")" "--state DIR: that state"
after=$(snapshot)
is "$before" "$after" "scan wrote nothing into the state (no lock file)"
ok $([ ! -e "$Q/secret" ]; echo $?) "no secret created"

# --- released: a copy `lurewall quarantine release` submitted
rm -rf "$Q"
LW_QDIR=$Q bounded "$FILL" > "$T/ids" || bail "cannot fill $Q"
recent=$(awk '$1 == "recent" { print $2 }' "$T/ids")
[ -n "$recent" ] || bail "fill gave no id"
bounded "$LUREWALL" -c "$T/lurewall.yaml" quarantine release "$recent" \
    > /dev/null || bail "release failed"
[ -s "$T/released.eml" ] || bail "the submit command got no message"
before=$(snapshot)
out=$(SCAN --json "$T/released.eml"); rc=$?
is 0 "$rc" "a released copy exits 0"
is accept "$(field action "$out")" "a released copy is accepted"
is released "$(field why "$out")" "because its release verifies"
out=$(SCAN --json --state none "$T/released.eml")
isnt_released=$(field why "$out")
ok $([ "$isnt_released" != released ]; echo $?) \
    "--state none: no key, so no release verifies"
python3 - "$T/released.eml" "$T/forged.eml" <<'PY' || bail "cannot forge"
import re, sys
m = open(sys.argv[1], "rb").read()
# flip the last hex digit of the MAC
def flip(x):
    c = x.group(2)
    return x.group(1) + (b"1" if c != b"1" else b"2")
f = re.sub(rb"^(X-Lurewall-Released: [^\r\n]*)([0-9a-f])", flip, m, count=1,
    flags=re.M)
assert f != m
open(sys.argv[2], "wb").write(f)
PY
ok $([ "$(field why "$(SCAN --json "$T/forged.eml")")" != released ]; \
    echo $?) "a forged release is not recognized"
after=$(snapshot)
is "$before" "$after" "the quarantine is unchanged"

done_testing
