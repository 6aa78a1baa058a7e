#!/bin/sh
# 6111-postfix-hold-once: quarantine.then: hold keeps one message, not
# two.  Through a private Postfix: a lure is stored by lurewall (marked
# mta_hold, with Postfix's queue id) and put on Postfix's hold queue.
# `lurewall quarantine release` releases the held copy (postsuper -H with
# the recorded queue id) and records the release; the sink gets it once
# and nothing stays in either store to deliver it again.  `lurewall
# quarantine delete` deletes the held copy too (postsuper -d).  When a
# colleague released the held copy already, release refuses (exit 1)
# instead of delivering a second copy; --force re-injects lurewall's.
# A recipient notice goes out through the real sendmail(1) and is
# delivered unscanned.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6111-postfix-hold-once)
lw_trap
P=$T/postfix/etc
LW_CONF_EXTRA="submit_command: /usr/sbin/sendmail -C $P -G -i -f %f -- %r
hold_release_command: /usr/sbin/postsuper -c $P -H %q
hold_delete_command: /usr/sbin/postsuper -c $P -d %q
hold_flush_command: /usr/sbin/postqueue -c $P -i %q" lw_conf "$T"
cat >>"$T/conf/policy.d/default.yaml" <<'EOF'
notify: {recipients: true, from: postmaster@example.com}
EOF
grep -q 'then: hold' "$T/conf/policy.d/default.yaml" ||
    bail "the test policy holds"
MPORT=$(free_port)
milter_start "$T" "inet:$MPORT@127.0.0.1"
sink_start "$T"
pf_start "$T" "inet:$MPORT@127.0.0.1" "enable_long_queue_ids = yes"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }
held() { pf_queue_json | grep -c '"queue_name": *"hold"'; }
held_at_least() { [ "$(held)" -ge "$1" ]; }
# Every wait polls for its condition with a generous deadline (the
# suite runs on a loaded machine): a message is there once its line is
# at the sink, and no second copy came once Postfix's queue is empty.
lure() {	# lure N: send lure N, wait until Postfix holds it
	printf 'From: Billing <billing@partner.example>\r\nTo: alice@example.com\r\nDate: Tue, 22 Nov 2022 10:00:00 +0900\r\nMessage-ID: <hold%s@partner.example>\r\nSubject: quarme invoice %s\r\n\r\nPlease see the invoice.\r\n' \
	    "$1" "$1" >"$T/lure$1.eml"
	pf_send billing@partner.example alice@example.com "$T/lure$1.eml" \
	    >"$T/swaks$1" 2>&1
	wait_for 60 held_at_least "$2"
}
item() {	# item N: the quarantine id of lure N
	QL list --json | grep "quarme invoice $1\"" |
	    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1
}

lure 1 1
ok $? "lure 1: Postfix holds it"
id1=$(item 1)
ok $([ -n "$id1" ]; echo $?) "lurewall stored it too ($id1)"
like '"mta_hold":true' "$(QL list --json | grep "$id1")" \
    "the item records that the MTA holds the other copy"
qid1=$(QL show "$id1" --json | sed -n 's/.*"qid": *"\([^"]*\)".*/\1/p')
like "$qid1" "$(pf_queue_json)" "under Postfix's queue id ($qid1)"

# a notice to the recipient: through sendmail(1), not held
wait_for 120 sink_has '^Subject: \[lurewall\] A message to you is held: quarme invoice 1'
ok $? "lurewall's notice of lure 1 reached the sink"
like "action=accept.*notice=yes" "$(cat "$MILTER_LOG")" \
    "passed through the milter unscanned"

out=$(QL release "$id1" 2>&1); rc=$?
is 0 "$rc" "release exits 0"
like "from the MTA's hold queue \\(queue id $qid1\\)" "$out" \
    "it released Postfix's held copy"
wait_for 120 sink_has 'hold1@partner\.example'
ok $? "the message reached the sink"
wait_for 120 pf_idle
ok $? "Postfix's queue drains"
is 1 "$(sink_count 'hold1@partner\.example')" "exactly one copy delivered"
is 0 "$(held)" "Postfix holds nothing any more"
like '"released":true' "$(QL show "$id1" --json)" "lurewall's item is released"
QL release "$id1" >/dev/null 2>&1
is 1 $? "a second release is refused"
wait_for 120 pf_idle
is 1 "$(sink_count 'hold1@partner\.example')" "still one copy"

lure 2 1
ok $? "lure 2: Postfix holds it"
id2=$(item 2)
out=$(QL delete "$id2" 2>&1); rc=$?
is 0 "$rc" "delete exits 0"
is 0 "$(held)" "Postfix's held copy is gone too"
QL show "$id2" >/dev/null 2>&1
is 1 $? "and lurewall's"

lure 3 1
ok $? "lure 3: Postfix holds it"
id3=$(item 3)
postsuper -c "$P" -H ALL >/dev/null 2>&1	# a colleague
postqueue -c "$P" -f
wait_for 120 sink_has 'hold3@partner\.example'
ok $? "the colleague's release reached the sink"
out=$(QL release "$id3" 2>&1); rc=$?
is 1 "$rc" "the held copy was released behind lurewall's back: exit 1"
like 'holds no message .*--force' "$out" "saying why and what --force does"
wait_for 120 pf_idle
is 1 "$(sink_count 'hold3@partner\.example')" "no second copy"
done_testing
