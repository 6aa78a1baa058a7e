#!/bin/sh
# 6300-sendmail-e2e: lurewall-milter behind a real Sendmail (8.17, from
# Debian's .debs unpacked privately beside Postfix: t/lib-sendmail.sh) on
# 127.0.0.1, relaying to smtp-sink, with the milter configured by
# contrib/lurewall.m4 (the README's INPUT_MAIL_FILTER line, only the
# port changed).  Clean mail is delivered; a tag mail arrives with the
# X-Lurewall headers and the subject prefix; a lure is stored and
# discarded (default policy) or stored and held in Sendmail's
# quarantine queue (`mailq -qQ`, policy of hold.example); a reject
# answers 550 5.7.1 with the policy's text; `lurewall quarantine
# release` of a discarded lure goes through Sendmail's submission
# program (submit.cf) and the MTA's milter recognises it once; a forged
# X-Lurewall-Released is stripped and buys nothing.  One copy of held
# mail (mta: sendmail, lurewall's default commands): release releases
# Sendmail's held copy (-Q -qQ -qI<qid>, then -qI<qid>) and records it,
# delivered once; delete removes its queue files; a copy a colleague
# released first is refused, not sent twice.  With the milter stopped,
# F=T answers 451.
# Runs in its own UTS namespace as mx.lurewall.test (see sm_uts).
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-sendmail.sh"
BOUND=60
sm_uts "$0" "$@"

T=$(tmpdir 6300-sendmail-e2e)
lw_trap
trap 'sm_stop; lw_cleanup' EXIT
sm_unpack "$T"
sink_start "$T"
MPORT=$(free_port)
# SM_SUBMIT is only known after sm_start; the milter's config needs it
# for nothing, the CLI's release does: it is added after sm_start.
lw_conf "$T"
sed -i 's/then: hold/then: discard/' "$T/conf/policy.d/default.yaml"
cat >"$T/conf/policy.d/hold.example.yaml" <<'EOF'
domains: [hold.example]
quarantine:
  then: hold
EOF
milter_start "$T" "inet:$MPORT@127.0.0.1"
sm_start "$T" "$MPORT"
# the shipped submit_command, with our Sendmail for /usr/sbin/sendmail
sub=$(sed -n 's|^submit_command: /usr/sbin/sendmail |submit_command: SM |p' \
    "$LW_TOP/conf/lurewall.yaml")
like '^submit_command: SM ' "$sub" \
    "the sample submit_command is /usr/sbin/sendmail (Sendmail's submit.cf)"
printf '%s\n' "$sub" | sed "s|SM|$SM_SUBMIT|" >>"$T/conf/lurewall.yaml"
# mta: sendmail and its hold commands as lurewall defaults them, with
# our Sendmail and its configuration for /usr/sbin/sendmail, our queue
# directory for /var/spool/mqueue
echo "mta: sendmail" >>"$T/conf/lurewall.yaml"
SMC="$SM_BIN -C $SM_DIR/etc/sendmail.cf"
eff=$(bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" check-config 2>&1)
like '^hold_release_command: "/usr/sbin/sendmail -Q -qQ -qI%q"$' \
    "$(printf '%s\n' "$eff" | grep '^hold_release_command:')" \
    "mta: sendmail releases with sendmail -Q -qQ -qI<queue id>"
like '^hold_delete_command: ~$' \
    "$(printf '%s\n' "$eff" | grep '^hold_delete_command:')" \
    "and has no delete command (the queue files go)"
printf '%s\n' "$eff" | sed -n \
    -e 's|^\(hold_[a-z]*_command\): "/usr/sbin/sendmail \(.*\)"$|\1: '"$SMC"' \2|p' \
    -e 's|^mta_queue_dir: "/var/spool/mqueue"$|mta_queue_dir: '"$SM_DIR/mqueue"'|p' \
    >>"$T/conf/lurewall.yaml"
is 3 "$(grep -c "^hold_.*$SMC\|^mta_queue_dir: $SM_DIR" "$T/conf/lurewall.yaml")" \
    "release, flush and queue directory set for our Sendmail"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }
LOG() { cat "$MILTER_LOG"; }

# --- the configuration is the README's
readme=$(grep '^ *INPUT_MAIL_FILTER(' "$LW_TOP/README" | sed 's/^ *//')
m4line=$(grep '^INPUT_MAIL_FILTER(' "$LW_TOP/contrib/lurewall.m4" |
    sed 's/)dnl$/)/')
ok $([ -n "$readme" ] && [ "$readme" = "$m4line" ]; echo $?) \
    "README's INPUT_MAIL_FILTER line is contrib/lurewall.m4's"
like "Xlurewall, S=inet:$MPORT@127\.0\.0\.1, F=T, T=C:30s;S:30s;R:5m;E:10m" \
    "$(cat "$SM_DIR/etc/sendmail.cf")" \
    "sendmail.cf has the milter with F=T, on our port"

# mail FILE SUBJECT MESSAGE-ID [EXTRA-HEADER]
mail() {
	{
		[ $# -ge 4 ] && printf '%s\r\n' "$4"
		printf 'From: Billing <billing@partner.example>\r\nTo: alice@example.com\r\nDate: Tue, 22 Nov 2022 10:00:00 +0900\r\nMessage-ID: <%s@partner.example>\r\nSubject: %s\r\n\r\nBody of %s.\r\n' \
		    "$3" "$2" "$3"
	} >"$1"
}
# The queue id in Sendmail's 250 reply to DATA.
qid_of() { sed -n 's/^<- *250 2\.0\.0 \([^ ]*\) Message accepted.*/\1/p' "$1"; }
# sink_msg MESSAGE-ID-LOCAL: the sink file with that Message-ID.
sink_msg() { sink_grep "^Message-ID: <$1@partner.example>"; }
# sink_await MESSAGE-ID-LOCAL: wait until the sink holds that message
# whole (its last line, the body, is written), bounded; print its file.
sink_await() {
	wait_for 20 sink_grep "^Body of $1\\.[[:space:]]*$" || return 1
	sink_msg "$1"
}

# --- clean: delivered unchanged; the verdict carries Sendmail's qid
mail "$T/clean.eml" "Lunch on Friday" clean1
sm_send billing@partner.example alice@example.com "$T/clean.eml" \
    >"$T/swaks-clean" 2>&1
ok $? "clean mail accepted by Sendmail"
qid=$(qid_of "$T/swaks-clean")
f=$(sink_await clean1)
ok $([ -n "$f" ]; echo $?) "clean mail reached the sink"
unlike 'X-Lurewall' "$(cat $f 2>/dev/null)" "no X-Lurewall header on it"
like 'Subject: Lunch on Friday' "$(cat $f 2>/dev/null)" "subject untouched"
ok $([ -n "$qid" ]; echo $?) "Sendmail answered with a queue id"
like "qid=$qid: from=<billing@partner.example> rcpts=alice@example.com .*action=accept" \
    "$(LOG)" "the verdict line carries Sendmail's queue id ({i} macro)"

# --- tag: X-Lurewall headers, subject prefix (RFC 2047)
mail "$T/tag.eml" "please tagme now" tag1
sm_send billing@partner.example alice@example.com "$T/tag.eml" \
    >"$T/swaks-tag" 2>&1
ok $? "tag mail accepted"
f=$(sink_await tag1)
t=$(cat $f 2>/dev/null)
enc="=?UTF-8?B?$(printf '[要注意]' | base64)?="
like 'X-Lurewall-Result: tag score=[0-9]+' "$t" "tag: X-Lurewall-Result"
like 'X-Lurewall-Rules: .*TEST_TAG' "$t" "tag: X-Lurewall-Rules"
like "Subject: $(printf '%s' "$enc" | sed 's/[?=+]/[&]/g') please tagme now" \
    "$t" "tag: subject prefix [要注意] as RFC 2047"

# --- quarantine, then discard: stored, 250, never delivered
mail "$T/disc.eml" "quarme invoice" disc1
sm_send billing@partner.example alice@example.com "$T/disc.eml" \
    >"$T/swaks-disc" 2>&1
ok $? "lure accepted (then discarded)"
dqid=$(qid_of "$T/swaks-disc")
like "qid=$dqid: .*action=quarantine .*then=discard quarantine_id=" "$(LOG)" \
    "milter stored it and discarded it"
did=$(LOG | sed -n "s/.*qid=$dqid: .*quarantine_id=\([^ ]*\).*/\1/p" | head -1)
like 'Message-ID: <disc1@partner.example>' "$(QL show --raw "$did" 2>&1)" \
    "the stored item is that message"

# --- quarantine, then hold: stored and in Sendmail's quarantine queue
mail "$T/hold.eml" "quarme statement" hold1
sm_send billing@partner.example bob@hold.example "$T/hold.eml" \
    >"$T/swaks-hold" 2>&1
ok $? "lure for hold.example accepted (then held)"
hqid=$(qid_of "$T/swaks-hold")
like "qid=$hqid: .*action=quarantine .*then=hold quarantine_id=" "$(LOG)" \
    "milter stored it and asked Sendmail to hold it"
hq=$(sm_mailq -qQ 2>&1)
like "^$hqid[ *]" "$hq" "mailq -qQ lists it"
like "QUARANTINE: lurewall score=[0-9]+ rules=.*TEST_QUAR" "$hq" \
    "with lurewall's reason"
unlike "^$hqid" "$(sm_mailq 2>&1)" "the normal queue does not"
ok $(ls "$SM_DIR/mqueue/hf$hqid" >/dev/null 2>&1; echo $?) \
    "Sendmail keeps it as a quarantined queue file (hf)"

# --- reject: 550 5.7.1 with the policy's text
mail "$T/rej.eml" "rejectme now" rej1
sm_send billing@partner.example alice@example.com "$T/rej.eml" \
    >"$T/swaks-rej" 2>&1
ok $([ $? -ne 0 ]; echo $?) "reject mail refused"
like '<\*\* *550 5\.7\.1 Rejected by lurewall test policy' "$(cat "$T/swaks-rej")" \
    "550 5.7.1 with the policy's reject_text"

# --- a forged X-Lurewall-Released: stripped, and buys nothing
fake="X-Lurewall-Released: $did; 2022-11-22T01:00:00Z; $(printf '0%.0s' $(seq 64))"
mail "$T/forged.eml" "quarme again" forged1 "$fake"
sm_send billing@partner.example alice@example.com "$T/forged.eml" \
    >"$T/swaks-forged" 2>&1
fqid=$(qid_of "$T/swaks-forged")
like "qid=$fqid: removed 1 incoming X-Lurewall-Released" "$(LOG)" \
    "forged release field removed"
like "qid=$fqid: .*action=quarantine " "$(LOG)" \
    "and the lure quarantined all the same"
mail "$T/forged2.eml" "Minutes" forged2 "$fake"
sm_send billing@partner.example alice@example.com "$T/forged2.eml" \
    >"$T/swaks-forged2" 2>&1
f=$(sink_await forged2)
ok $([ -n "$f" ]; echo $?) "a clean mail with a forged release field is delivered"
unlike 'X-Lurewall-Released' "$(cat $f 2>/dev/null)" \
    "without the forged field (Sendmail applied the milter's delete)"

# --- release through Sendmail's submission program, recognised once
out=$(QL release "$did" 2>&1); rc=$?
ok $rc "lurewall quarantine release exits 0"; [ $rc -eq 0 ] || diag "$out"
f=$(sink_await disc1)
m=$(cat $f 2>/dev/null)
ok $([ -n "$f" ]; echo $?) "the released message reached the sink"
like "X-Lurewall-Released: $did; " "$m" "it carries X-Lurewall-Released"
like 'Subject: quarme invoice' "$m" "unchanged otherwise"
unlike 'X-Lurewall-Result' "$m" "not tagged"
rqid=$(LOG | sed -n 's/.*qid=\([^:]*\): .* released=yes.*/\1/p')
is 1 "$(printf '%s\n' "$rqid" | grep -c .)" \
    "the MTA's milter recognised the release, once"
like "Received: from mx\.lurewall\.test \(localhost \[127\.0\.0\.1\]\)	by mx\.lurewall\.test \([^)]*/MTA\) with ESMTP id $rqid	" \
    "$(tr -d '\r' <"$f" | sed -e ':a' -e 'N;$!ba' -e 's/\n\t/\t/g')" \
    "it came to the MTA over SMTP, as the qid the milter saw"
like "Received: \(from [^)]*\)	by mx\.lurewall\.test \([^)]*/Submit\) id " \
    "$(tr -d '\r' <"$f" | sed -e ':a' -e 'N;$!ba' -e 's/\n\t/\t/g')" \
    "from Sendmail's submission program (submit.cf)"
is 1 "$(grep -c 'Message-ID: <disc1@partner.example>' "$SINK_DIR"/*/* 2>/dev/null |
    awk -F: '{ n += $NF } END { print n + 0 }')" "delivered once"
is 0 "$(ls "$SM_DIR/clientmqueue" | grep -c '^[dq]f')" \
    "nothing left in the submission queue"
QL release "$did" >/dev/null 2>&1
is 1 $? "a second release is refused"

# --- then: hold keeps one copy: lurewall's release and delete act on
# Sendmail's held copy (by the queue id it recorded)
hid=$(LOG | sed -n "s/.*qid=$hqid: .*quarantine_id=\([^ ]*\).*/\1/p" | head -1)
like '"mta_hold": *true' "$(QL show --json "$hid" 2>&1)" \
    "the held item records that Sendmail holds the other copy"
like "\"qid\": *\"$hqid\"" "$(QL show --json "$hid" 2>&1)" \
    "under Sendmail's queue id"
out=$(QL release "$hid" 2>&1); rc=$?
is 0 "$rc" "release of the held lure exits 0"
like "from the MTA's hold queue \\(queue id $hqid\\)" "$out" \
    "it released Sendmail's held copy"
f=$(sink_await hold1)
ok $([ -n "$f" ]; echo $?) "the held lure reached the sink"
unlike 'X-Lurewall-Released' "$(cat $f 2>/dev/null)" \
    "as Sendmail's copy, not re-injected"
is "" "$(ls "$SM_DIR/mqueue" | grep "$hqid")" "Sendmail holds it no more"
unlike "^$hqid" "$(sm_mailq -qQ 2>&1)" "mailq -qQ no longer lists it"
like '"released": *true' "$(QL show --json "$hid" 2>&1)" \
    "lurewall's item is released"
QL release "$hid" >/dev/null 2>&1
is 1 $? "a second release is refused"
sleep 1
is 1 "$(grep -l 'Message-ID: <hold1@partner.example>' $(sink_files) | wc -l)" \
    "one copy delivered, no more"

hold_lure() {	# hold_lure N: send hold lure N; print its quarantine id
	mail "$T/hold$1.eml" "quarme statement $1" "hold$1"
	sm_send billing@partner.example bob@hold.example "$T/hold$1.eml" \
	    >"$T/swaks-hold$1" 2>&1
	_q=$(qid_of "$T/swaks-hold$1")
	[ -n "$_q" ] && [ -f "$SM_DIR/mqueue/hf$_q" ] || return 1
	LOG | sed -n "s/.*qid=$_q: .*quarantine_id=\([^ ]*\).*/\1/p" | head -1
}
hid2=$(hold_lure 2)
ok $? "a second held lure ($hid2)"
hqid2=$(qid_of "$T/swaks-hold2")
out=$(QL delete "$hid2" 2>&1); rc=$?
is 0 "$rc" "delete exits 0"; [ "$rc" -eq 0 ] || diag "$out"
is "" "$(ls "$SM_DIR/mqueue" | grep "$hqid2")" \
    "Sendmail's held copy is gone too (its hf and df files)"
QL show "$hid2" >/dev/null 2>&1
is 1 $? "and lurewall's"

hid3=$(hold_lure 3)
hqid3=$(qid_of "$T/swaks-hold3")
bounded "$SM_BIN" -C "$SM_DIR/etc/sendmail.cf" -qQ -qI"$hqid3" -Q	# a colleague
bounded "$SM_BIN" -C "$SM_DIR/etc/sendmail.cf" -qI"$hqid3"
ok $([ -n "$(sink_await hold3)" ]; echo $?) \
    "a colleague released lure 3 in Sendmail behind lurewall's back"
out=$(QL release "$hid3" 2>&1); rc=$?
is 1 "$rc" "then lurewall's release exits 1"
like 'holds no message' "$out" "saying that Sendmail holds it no more"
sleep 1
is 1 "$(grep -l 'Message-ID: <hold3@partner.example>' $(sink_files) | wc -l)" \
    "no second copy"

unlike 'ERROR: AddressSanitizer|runtime error' "$(LOG)" \
    "no sanitizer report in the milter log"

# --- milter stopped: F=T tempfails, nothing passes unscanned
milter_stop
ok $? "the milter stops cleanly"
mail "$T/down.eml" "While it is down" down1
sm_send billing@partner.example alice@example.com "$T/down.eml" \
    >"$T/swaks-down" 2>&1
ok $([ $? -ne 0 ]; echo $?) "with the milter down the mail is refused"
like '<\*\* *451 4\.3\.2 ' "$(cat "$T/swaks-down")" "451 4.3.2 (F=T)"
ok $([ -z "$(sink_msg down1)" ]; echo $?) "and not delivered unscanned"
is "" "$(ls "$SM_DIR/mqueue" | grep '^qf')" "nor queued by Sendmail"
done_testing
