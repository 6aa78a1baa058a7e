# t/lib-e2e.sh: the corpus scenario through lurewall-milter and a private
# Postfix, for the end-to-end and fault tests t/61NN-*.sh.  Source it
# after t/lib.sh and t/lib-postfix.sh:
#
#	T=$(tmpdir 61NN-x); lw_trap
#	e2e_conf "$T"            # default + example.co.jp + strict policy
#	e2e_start "$T"           # milter, sink, Postfix
#	e2e_jobs "$T" 2000       # the copies to send ($E2E_COUNT)
#	e2e_send "$T"            # 20 sessions; outcomes in $T/outcomes.tsv
#	e2e_drain; e2e_account "$T"
#
# Policies: conf/policy.d/default.yaml as shipped, the corpus scenario
# policy for example.co.jp, and the same for strict.example.co.jp with
# reject at 20, so that lures for strict.example.co.jp are rejected at
# SMTP time (those scoring under 20 quarantined), lures for
# example.co.jp quarantined (then: discard) and benign messages
# delivered, one of them (benign-02a) tagged.

E2E_PY=$LW_TOP/t/lib-e2e.py

# e2e_count WANT: N=WANT, or a quarter of it when built with sanitizers
# (LW_SANITIZE=1): each message costs several times the CPU there.
e2e_count() {
	N=$1
	if [ -n "${LW_SANITIZE:-}" ]; then
		N=$(($1 / 4))
		diag "LW_SANITIZE set: $N messages instead of $1"
	fi
}

e2e_conf() {
	lw_conf "$1" "$(cat "$LW_TOP/conf/policy.d/default.yaml")"
	cp "$CORPUS/scenario-policy.yaml" \
	    "$1/conf/policy.d/example.co.jp.yaml"
	sed -e 's/^domains: .*/domains: [strict.example.co.jp]/' \
	    "$CORPUS/scenario-policy.yaml" \
	    >"$1/conf/policy.d/strict.example.co.jp.yaml"
	printf 'thresholds:\n  reject: 20\n' \
	    >>"$1/conf/policy.d/strict.example.co.jp.yaml"
}

# e2e_start DIR: milter on a free port, the sink, Postfix (long
# queue ids: they never repeat, so the milter log maps to the sink).
e2e_start() {
	MPORT=$(free_port)
	milter_start "$1" "inet:$MPORT@127.0.0.1"
	sink_start "$1"
	pf_start "$1" "inet:$MPORT@127.0.0.1" "enable_long_queue_ids = yes
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 50"
}

# e2e_expect DIR: what `lurewall scan` says of each corpus message for
# each domain, with the same configuration.
e2e_expect() {
	for _d in example.co.jp strict.example.co.jp; do
		BOUND=120 bounded "$LUREWALL" scan -c "$1/conf/lurewall.yaml" \
		    --rcpt "sato@$_d" --json "$CORPUS"/messages/*.eml \
		    >"$1/expect-$_d.json" 2>/dev/null
		[ $? -le 1 ] || bail "lurewall scan failed"
	done
}

e2e_jobs() {
	python3 "$E2E_PY" jobs "$1" "$CORPUS" "$2" ||
	    bail "cannot make the messages"
	e2e_expect "$1"
}

# e2e_send DIR [IDFILE]: send (all, or the ids in IDFILE), bounded.
e2e_send() {
	BOUND=${E2E_SEND_BOUND:-400} bounded python3 "$E2E_PY" send "$1" \
	    "$PF_PORT" ${2:+"$2"}
}

# e2e_tempfailed DIR: the ids whose last attempt was tempfailed.
e2e_tempfailed() {
	awk -F '\t' '{ last[$1] = $2 } END { for (i in last)
	    if (last[i] == "tempfail") print i }' "$1/outcomes.tsv" | sort
}

# e2e_drain [SECONDS]: until Postfix's queue is empty (everything
# delivered to the sink or discarded).
e2e_drain() {
	pf_flush
	wait_for "${1:-120}" sh -c "[ -z \"\$(postqueue -c '$PF_DIR/etc' -j)\" ]"
}

# e2e_account DIR: the accounting, as TAP.
e2e_account() {
	bounded "$LUREWALL" -c "$1/conf/lurewall.yaml" quarantine list --json \
	    >"$1/qlist.json" 2>"$1/qlist.err"
	ok $? "lurewall quarantine list --json"
	python3 "$E2E_PY" account "$1" \
	    "example.co.jp=$1/expect-example.co.jp.json" \
	    "strict.example.co.jp=$1/expect-strict.example.co.jp.json" \
	    -- "$SINK_DIR" "$1/qlist.json" "$1/conf/quarantine" \
	    "$PF_DIR/maillog" "$MILTER_LOG" >"$1/account.txt" 2>&1
	ok $? "accounting ran"
	while IFS='	' read -r _st _desc; do
		case $_st in
		'#')	diag "$_desc" ;;
		*)	ok "$_st" "$_desc" ;;
		esac
	done <"$1/account.txt"
}

# e2e_queue_empty: Postfix holds nothing (nothing deferred or held).
e2e_queue_empty() {
	_q=$(pf_queue_json)
	is "" "$_q" "Postfix's queue is empty"
}

# e2e_tidy DIR: drop the bulky copies after a passing run.
e2e_tidy() {
	[ "$_tap_fail" -eq 0 ] && rm -rf "$1/msgs" "$SINK_DIR" \
	    "$1/conf/quarantine"
	return 0
}

# e2e_mail FILE SUBJECT MESSAGE-ID BODY: a small message to
# sato@example.co.jp.
e2e_mail() {
	printf 'From: Sender <sender@client.lurewall.test>\r\nTo: sato@example.co.jp\r\nDate: Tue, 22 Nov 2022 10:00:00 +0900\r\nMessage-ID: <%s@lurewall.test>\r\nSubject: %s\r\n\r\n%s\r\n' \
	    "$3" "$2" "$4" >"$1"
}

# e2e_smtp TO FILE: send FILE with swaks; print the final reply's code
# ("250" when accepted, else the failing reply, e.g. "451 4.3.0 ...").
e2e_smtp() {
	_out=$(bounded swaks --silent 1 --server 127.0.0.1 --port "$PF_PORT" \
	    --helo client.lurewall.test --from sender@client.lurewall.test \
	    --to "$1" --data "@$2" --timeout 30 2>&1)
	if [ $? -eq 0 ]; then
		echo 250
	else
		printf '%s\n' "$_out" | sed -n 's/^<\*\* *//p' | tail -1
	fi
}

# e2e_sink_msg MESSAGE-ID: the sink file(s) holding that Message-ID.
e2e_sink_msg() {
	grep -rlF -- "Message-ID: <$1@lurewall.test>" "$SINK_DIR" 2>/dev/null
}
