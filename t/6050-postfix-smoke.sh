#!/bin/sh
# 6050-postfix-smoke: lurewall-milter behind a private Postfix on
# 127.0.0.1 that relays to smtp-sink: a clean mail arrives unchanged, a
# tag mail arrives with the X-Lurewall headers and the subject prefix,
# a quarantine mail (policy then: hold) is stored and sits in the hold
# queue, and the milter's log lines carry Postfix's queue ids.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6050-postfix-smoke)
lw_trap
lw_conf "$T"
MPORT=$(free_port)
milter_start "$T" "inet:$MPORT@127.0.0.1"
sink_start "$T"
pf_start "$T" "inet:$MPORT@127.0.0.1"

mail() {	# mail FILE SUBJECT MESSAGE-ID BODY
	printf 'From: Sender <sender@example.org>\r\nTo: user@example.com\r\nDate: Tue, 22 Nov 2022 10:00:00 +0900\r\nMessage-ID: <%s@example.org>\r\nSubject: %s\r\n\r\n%s\r\n' \
	    "$3" "$2" "$4" >"$1"
}

mail "$T/clean.eml" "Lunch on Friday" clean1 "See you at noon, clean1."
pf_send sender@example.org user@example.com "$T/clean.eml" >"$T/swaks1" 2>&1
ok $? "clean mail accepted by Postfix"
sink_wait 1
clean=$(sink_grep 'clean1@example.org')
ok $([ -n "$clean" ]; echo $?) "clean mail reached the sink"
if [ -n "$clean" ]; then
	unlike 'X-Lurewall' "$(cat $clean)" "no X-Lurewall header on clean mail"
	like 'Subject: Lunch on Friday' "$(cat $clean)" "subject untouched"
	like 'See you at noon, clean1\.' "$(cat $clean)" "body intact"
else
	ok 1 "no X-Lurewall header on clean mail"; ok 1 "subject"; ok 1 "body"
fi

mail "$T/tag.eml" "please tagme now" tag1 "tag body"
pf_send sender@example.org user@example.com "$T/tag.eml" >"$T/swaks2" 2>&1
ok $? "tag mail accepted by Postfix"
sink_wait 2
tag=$(sink_grep 'tag1@example.org')
enc="=?UTF-8?B?$(printf '[要注意]' | base64)?="
if [ -n "$tag" ]; then
	t=$(cat $tag)
	like 'X-Lurewall-Result: tag score=[0-9]+' "$t" "tag: X-Lurewall-Result"
	like 'X-Lurewall-Rules: .*TEST_TAG' "$t" "tag: X-Lurewall-Rules"
	like "Subject: $(printf '%s' "$enc" | sed 's/[?=+]/[&]/g') please tagme now" \
	    "$t" "tag: subject prefix [要注意] as RFC 2047"
else
	ok 1 "tag mail reached the sink"; ok 1 "rules"; ok 1 "subject"
fi

mail "$T/hold.eml" "quarme invoice" hold1 "hold body"
pf_send sender@example.org user@example.com "$T/hold.eml" >"$T/swaks3" 2>&1
ok $? "quarantine mail accepted by Postfix (held)"
wait_for 20 sh -c "postqueue -c '$PF_DIR/etc' -j | grep -q '\"queue_name\": *\"hold\"'"
q=$(pf_queue_json)
like '"queue_name": *"hold"' "$q" "quarantine mail sits in the hold queue"
ok $([ -z "$(sink_grep 'hold1@example.org')" ]; echo $?) \
    "held mail did not reach the sink"

# Postfix's queue id is the milter's qid
pfid=$(sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<tag1@example.org>.*/\1/p' \
    "$PF_DIR/maillog" | head -1)
ok $([ -n "$pfid" ]; echo $?) "Postfix logged the tag mail's queue id"
like "qid=$pfid: from=<sender@example.org> rcpts=user@example.com .*action=tag" \
    "$(cat "$MILTER_LOG")" "verdict line carries Postfix's queue id"
holdid=$(sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<hold1@example.org>.*/\1/p' \
    "$PF_DIR/maillog" | head -1)
like "$holdid: milter-hold: END-OF-MESSAGE" "$(cat "$PF_DIR/maillog")" \
    "Postfix logged the milter hold"
like "qid=$holdid: .*action=quarantine .*then=hold" "$(cat "$MILTER_LOG")" \
    "milter logged the hold with Postfix's queue id"
done_testing
