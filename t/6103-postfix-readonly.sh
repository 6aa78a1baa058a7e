#!/bin/sh
# 6103-postfix-readonly: the quarantine directory becomes read-only
# under a running lurewall-milter behind Postfix.  A lure is tempfailed
# at SMTP time (451 4.3.0: not accepted, not lost, not delivered), clean
# and tagged mail still flows, and once the directory is writable again
# the same lure is accepted and stored.  The directory is remounted
# read-only (a bind mount; it is made the daemon's user's first, as the
# daemon never runs as root); where the sandbox forbids mounting, the
# daemon runs as nobody (-u) and the directory loses its write bits
# instead.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-e2e.sh"
BOUND=60

T=$(tmpdir 6103-postfix-readonly)
Q=$T/conf/quarantine
lw_conf "$T"
sed -i "s/then: hold/then: discard/" "$T/conf/policy.d/default.yaml"
mkdir -p "$Q"
how=
cleanup() {
	[ "$how" = mount ] && umount "$Q" 2>/dev/null
	lw_cleanup
}
lw_trap
trap cleanup EXIT
if mount --bind "$Q" "$Q" 2>/dev/null; then
	how=mount
	diag "read-only by a bind mount"
	chown "$LW_MILTER_USER" "$Q"
	ro() { mount -o remount,bind,ro "$Q"; }
	rw() { mount -o remount,bind,rw "$Q"; }
	MPORT=$(free_port)
	milter_start "$T" "inet:$MPORT@127.0.0.1"
else
	how=user
	diag "no mount here: the daemon runs as nobody, the mode stops it"
	rmdir "$Q"
	ro() { chmod 0500 "$Q" "$Q/tmp" "$Q/new"; }
	rw() { chmod 0700 "$Q" "$Q/tmp" "$Q/new"; }
	MPORT=$(free_port)
	milter_start "$T" "inet:$MPORT@127.0.0.1" -u nobody:nogroup
fi
sink_start "$T"
pf_start "$T" "inet:$MPORT@127.0.0.1"
QL() { bounded "$LUREWALL" -c "$T/conf/lurewall.yaml" quarantine "$@"; }
count() { QL list --json | grep -c '"id"'; }

e2e_mail "$T/lure1.eml" "quarme invoice" lure1 "pay now"
is 250 "$(e2e_smtp sato@example.co.jp "$T/lure1.eml")" \
    "writable: a lure is accepted (and discarded)"
is 1 "$(count)" "writable: it is in the quarantine"

ro
ok $? "quarantine made read-only ($how)"
e2e_mail "$T/lure2.eml" "quarme again" lure2 "pay now"
like '^451 4\.3\.0 ' "$(e2e_smtp sato@example.co.jp "$T/lure2.eml")" \
    "read-only: the lure is tempfailed at SMTP time"
like 'qid=[0-9A-Za-z]+: quarantine store failed: .*: tempfail' \
    "$(cat "$MILTER_LOG")" "the log says the store failed"
like 'action=quarantine .*then=tempfail error="quarantine store' \
    "$(cat "$MILTER_LOG")" "the verdict line says then=tempfail"
e2e_mail "$T/clean.eml" "lunch" clean1 "see you at noon"
is 250 "$(e2e_smtp sato@example.co.jp "$T/clean.eml")" \
    "read-only: clean mail is accepted"
e2e_mail "$T/tag.eml" "please tagme" tag1 "tag body"
is 250 "$(e2e_smtp sato@example.co.jp "$T/tag.eml")" \
    "read-only: tagged mail is accepted"
# smtp-sink creates its file when DATA starts: wait until both messages
# are in it whole (the tag header written, the clean one's Message-ID).
wait_for 30 sh -c "grep -rlF 'Message-ID: <clean1@lurewall.test>' '$SINK_DIR' >/dev/null &&
    f=\$(grep -rlF 'Message-ID: <tag1@lurewall.test>' '$SINK_DIR') &&
    grep -q '^X-Lurewall-Result: tag' \$f </dev/null"
ok $([ -n "$(e2e_sink_msg clean1)" ]; echo $?) "clean mail reached the sink"
like '^X-Lurewall-Result: tag' "$(cat $(e2e_sink_msg tag1) 2>/dev/null)" \
    "tagged mail reached the sink, tagged"
is "" "$(e2e_sink_msg lure2)" "the lure did not reach the sink"
e2e_drain 30
e2e_queue_empty
is 1 "$(count)" "nothing new in the quarantine"

rw
ok $? "quarantine writable again"
is 250 "$(e2e_smtp sato@example.co.jp "$T/lure2.eml")" \
    "the retried lure is accepted"
is 2 "$(count)" "and stored"
is 2 "$(find "$SINK_DIR" -type f | wc -l)" "the sink got the clean and the tagged mail only"
milter_stop
ok $? "the milter stops cleanly"
done_testing
