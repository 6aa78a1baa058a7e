#!/bin/sh
# 6261-two-mx-postfix: two MX hosts as issue 17 has them: two
# lurewall-milter instances, each behind its own private Postfix (its
# own instance directory, ports and quarantine), sharing one real
# redis-server (state.backend: redis; 127.0.0.1, a port of its own, an
# ACL user limited to lurewall:*, every write in an append-only file).
# Both Postfixes relay to one smtp-sink, where deliveries are counted.
# Each Postfix has an inbound port and a submission port whose mail the
# milter sees as outbound ({daemon_name} ORIGINATING).
#
#  - Three lures from one sender, submitted through MX1, MX2, MX1, trip
#    the breaker; the sender's next mail is held on both hosts, another
#    sender's goes through.
#  - Redis is killed (SIGKILL, by PID) while 20 messages flow through
#    both hosts, and restarted: each message reaches the sink exactly
#    once; lurewall_state_up{backend="redis"} reads 0 during the
#    outage and 1 after; the state resumes: the tripped sender is still
#    held on both hosts, and a new sender's lures spread over both
#    trip the breaker in Redis again.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
. "$LW_TOP/t/lib-splitppap.sh"
BOUND=120

command -v swaks >/dev/null || bail "swaks not installed (contrib/install-deps)"
command -v curl >/dev/null || bail "curl not installed (contrib/install-deps)"
command -v zip >/dev/null || bail "zip not installed (contrib/install-deps)"
/usr/bin/python3 -c 'import prometheus_client.parser' ||
    bail "python3-prometheus-client not installed (contrib/install-deps)"

T=$(tmpdir 6261-two-mx-postfix)
PF1_DIR= PF2_DIR= SENDER_PID=
# At exit: the sender, both Postfixes and the sink, then (redis_trap)
# the milters and the server.
mta_cleanup() {
	[ -n "$SENDER_PID" ] && kill "$SENDER_PID" 2>/dev/null
	for d in $PF1_DIR $PF2_DIR; do
		PF_DIR=$d pf_stop
	done
	sink_stop
}
REDIS_CLEANUP_FIRST=mta_cleanup
redis_trap

RPORT=$(free_port) RPASS=two-mx-postfix-pw REDIS_AOF=1
mkdir -p "$T/redis"
redis_up "$T/redis" "$RPORT" "$RPASS"

POLICY='thresholds: {tag: 5, quarantine: 10, reject: 50}
quarantine: {then: discard}
split_password: {wait: 30m}
outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, action: quarantine}'
for h in mx1 mx2; do
	eval "${h}_MPORT=\$(free_port) ${h}_METRICS=\$(free_port)"
	eval "mp=\$${h}_METRICS"
	# A release goes back into this host's own Postfix.
	LW_CONF_EXTRA="outbound_daemon_names: [ORIGINATING]
submit_command: \"/usr/sbin/sendmail -C $T/$h/postfix/etc -G -i -f %f -- %r\"
metrics: {listen: 127.0.0.1:$mp}
state:
  backend: redis
  host_name: $h
  redis: {host: 127.0.0.1, port: $RPORT, username: lurewall, password: $RPASS, timeout: 1s}"
	lw_conf "$T/$h" "$POLICY"
done
milter_start "$T/mx1" "inet:$mx1_MPORT@127.0.0.1"
M1_PID=$MILTER_PID M1_LOG=$MILTER_LOG
milter_start "$T/mx2" "inet:$mx2_MPORT@127.0.0.1"
M2_PID=$MILTER_PID M2_LOG=$MILTER_LOG
MILTER_PID=
sink_start "$T"
# Each Postfix: smtpd on PF_PORT (inbound) and on a submission port
# whose mail the milter judges as outbound.
for h in mx1 mx2; do
	sub=$(free_port)
	eval "mport=\$${h}_MPORT"
	PF_MASTER_EXTRA="127.0.0.1:$sub inet n - n - - smtpd -o milter_macro_daemon_name=ORIGINATING" \
	    pf_start "$T/$h" "inet:$mport@127.0.0.1" "enable_long_queue_ids = yes"
	eval "${h}_PFDIR=\$PF_DIR ${h}_IN=\$PF_PORT ${h}_SUB=$sub"
	wait_for 30 port_open "$sub" || bail "$h: the submission port is closed"
done
PF1_DIR=$mx1_PFDIR PF2_DIR=$mx2_PFDIR

cli() { h=$1; shift; bounded "$LUREWALL" -c "$T/$h/conf/lurewall.yaml" "$@"; }

# msg FILE ID FROM [lure]: a message with Message-ID <ID@two-mx.test>;
# a lure carries a .vbs script (FILE_SCRIPT, quarantined).
msg() {
	{
		printf 'From: <%s>\nTo: <rcpt@partner.example>\n' "$3"
		printf 'Date: Tue, 22 Nov 2022 10:00:00 +0900\n'
		printf 'Message-ID: <%s@two-mx.test>\nSubject: note %s\n' "$2" "$2"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary="BB"\n\n'
		printf -- '--BB\nContent-Type: text/plain\n\nsee attached\n'
		if [ "${4:-}" = lure ]; then
			printf -- '--BB\nContent-Type: application/octet-stream; name="invoice.vbs"\n'
			printf 'Content-Disposition: attachment; filename="invoice.vbs"\n\n'
			printf 'Set s = CreateObject("WScript.Shell")\ns.Run "calc.exe"\n'
		fi
		printf -- '--BB--\n'
	} >"$1"
}

# send PORT FROM TO ID [lure]: one message over SMTP to a Postfix port,
# retried as an MTA would while it is refused for now (4xx), up to 2
# minutes; the transcript is in $T/swaks.ID.
send() {
	msg "$T/$4.eml" "$4" "$2" "${5:-}"
	_s_end=$(($(date +%s) + 120))
	while :; do
		PF_PORT=$1 pf_send "$2" "$3" "$T/$4.eml" >"$T/swaks.$4" 2>&1 &&
		    return 0
		grep -q '^<\** *5[0-9][0-9]' "$T/swaks.$4" && return 1
		[ "$(date +%s)" -lt "$_s_end" ] || return 1
		sleep 1
	done
}

# delivered ID: how many copies of message ID the sink holds
delivered() {
	sink_count "^Message-ID: <$1@two-mx\\.test>"
}

# idle: neither Postfix has anything left to deliver
idle() {
	pf_use "$mx1_PFDIR" "$mx1_IN"; pf_idle || return 1
	pf_use "$mx2_PFDIR" "$mx2_IN"; pf_idle
}

# up HOST VALUE: lurewall_state_up{backend="redis"} on HOST's /metrics
up() {
	eval "_u_port=\$${1}_METRICS"
	bounded curl -sS -o "$T/$1.metrics" "http://127.0.0.1:$_u_port/metrics" &&
	    /usr/bin/python3 "$LW_TOP/t/prom-check.py" "$T/$1.metrics" \
	    "lurewall_state_up{backend=redis} == $2" >/dev/null
}

# --- three lures over two hosts trip the breaker on both
ok $(up mx1 1; echo $?) "mx1 reads redis as up"
ok $(up mx2 1; echo $?) "mx2 reads redis as up"
send "$mx1_SUB" mallory@corp.example p1@partner.example L1 lure
ok $? "lure 1 of mallory submitted through mx1"
send "$mx2_SUB" mallory@corp.example p2@partner.example L2 lure
ok $? "lure 2 through mx2"
unlike 'tripped the breaker' "$(cat "$M1_LOG" "$M2_LOG")" \
    "two lures over two hosts: nobody tripped yet"
send "$mx1_SUB" mallory@corp.example p3@partner.example L3 lure
ok $? "lure 3 through mx1"
like 'outbreak: sender=<mallory@corp.example> tripped the breaker: reason=lures lures=3' \
    "$(cat "$M1_LOG")" "the third lure, counted over both hosts, trips it"
send "$mx2_SUB" mallory@corp.example p4@partner.example H1
ok $? "mallory's clean mail submitted through mx2"
send "$mx1_SUB" mallory@corp.example p5@partner.example H2
ok $? "and through mx1"
send "$mx2_SUB" alice@corp.example p4@partner.example C1
ok $? "alice's mail through mx2"
like 'outbreak=held sender=<mallory@corp.example> reason=lures' \
    "$(cat "$M2_LOG")" "mx2 holds the tripped sender's mail"
like 'outbreak=held sender=<mallory@corp.example> reason=lures' \
    "$(cat "$M1_LOG")" "so does mx1"
wait_for 120 sink_has '^Message-ID: <C1@two-mx\.test>'
ok $? "alice's mail reaches the sink"
wait_for 120 idle
ok $? "both queues drain"
is "0 0 0 0 0 1" "$(for i in L1 L2 L3 H1 H2 C1; do delivered $i; done | tr '\n' ' ' | sed 's/ $//')" \
    "none of mallory's five, alice's once"
like 'mallory@corp\.example' "$(cli mx2 outbreak list)" \
    "outbreak list on mx2 shows the sender"

# --- split PPAP across the hosts: the zip through mx1, its password
# mail through mx2 (both inbound).  A clean zip is released once (by
# mx2, into its own Postfix); a lure's zip stays held on mx1 with what
# is inside it, and its password mail is tagged.
printf 'Minutes of the meeting.\n' >"$T/note.txt"
(cd "$T" && zip -q -P Qw3rTy9z clean.zip note.txt) || bail "zip failed"
cp "$CORPUS/files/SimpleMacro.docm" "$T/report.docm"
(cd "$T" && zip -q -P Kx7pQ2mZ lure.zip report.docm) || bail "zip failed"
# spsend PORT FILE: as send, for a message file of lib-splitppap.sh
spsend() {
	_sp_end=$(($(date +%s) + 120))
	until PF_PORT=$1 pf_send billing@partner.example alice@example.com \
	    "$2" >"$2.swaks" 2>&1; do
		[ "$(date +%s)" -lt "$_sp_end" ] || return 1
		sleep 1
	done
}
# item HOST SUBJECT: the id of HOST's quarantine item with SUBJECT
item() {
	cli "$1" quarantine list --json | grep "\"subject\": *\"$2\"" |
	    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1
}
mk_zipmail "$T/sz1.eml" SZ1@two-mx.test "$T/clean.zip" "Documents SZ1"
mk_pwmail "$T/sp1.eml" SP1@two-mx.test SZ1@two-mx.test Qw3rTy9z
mk_zipmail "$T/sz2.eml" SZ2@two-mx.test "$T/lure.zip" "Documents SZ2"
mk_pwmail "$T/sp2.eml" SP2@two-mx.test SZ2@two-mx.test Kx7pQ2mZ
spsend "$mx1_IN" "$T/sz1.eml"
ok $? "a clean zip mail through mx1"
spsend "$mx1_IN" "$T/sz2.eml"
ok $? "a lure's zip mail through mx1"
like "state: +pending" "$(cli mx1 quarantine show "$(item mx1 'Documents SZ1')")" \
    "mx1 holds the clean one pending"
lid=$(item mx1 'Documents SZ2')
like "state: +pending" "$(cli mx1 quarantine show "$lid")" \
    "and the lure's too"
spsend "$mx2_IN" "$T/sp1.eml"
ok $? "its password mail through mx2"
like 'split PPAP: quarantine_id=.* released' "$(cat "$M2_LOG")" \
    "mx2 opened mx1's pending zip and released it"
spsend "$mx2_IN" "$T/sp2.eml"
ok $? "the lure's password mail through mx2"
wait_for 120 sink_has '^Message-ID: <SZ1@two-mx\.test>'
ok $? "the released zip mail reaches the sink"
wait_for 120 sink_has '^Message-ID: <SP2@two-mx\.test>'
ok $? "so does the lure's password mail"
wait_for 120 idle
ok $? "both queues drain"
is "1 1 0 1" "$(for i in SZ1 SP1 SZ2 SP2; do delivered $i; done | tr '\n' ' ' | sed 's/ $//')" \
    "the clean pair once each, the lure's zip never, its password mail once"
like 'X-Lurewall-Rules:.*SPLIT_PASSWORD_LURE' \
    "$(cat $(find "$SINK_DIR" -type f -exec grep -l '^Message-ID: <SP2@' {} +))" \
    "the lure's password mail is tagged SPLIT_PASSWORD_LURE"
held() { cli mx1 quarantine show "$lid" | grep -q 'state: *held'; }
wait_for 60 held
ok $? "the lure stays on mx1, held"
like "rules: .*OFFICE_VBA" "$(cli mx1 quarantine show "$lid")" \
    "with OFFICE_VBA from inside its zip, opened on mx2"

# --- redis killed while 20 messages flow through both hosts
# Odd messages: inbound through mx1, even: outbound through mx2, and
# every fourth the other way round.
flow() {
	i=1
	while [ $i -le 20 ]; do
		case $((i % 4)) in
		1) send "$mx1_IN" "ext$i@outside.example" "user$i@corp.example" "R$i" ;;
		2) send "$mx2_SUB" "user$i@corp.example" "p$i@partner.example" "R$i" ;;
		3) send "$mx2_IN" "ext$i@outside.example" "user$i@corp.example" "R$i" ;;
		0) send "$mx1_SUB" "user$i@corp.example" "p$i@partner.example" "R$i" ;;
		esac || echo "R$i" >>"$T/flow.failed"
		i=$((i + 1))
	done
}
count_r() {	# count_r N: at least N of R1..R20 at the sink
	[ "$(sink_count '^Message-ID: <R[0-9]+@two-mx\.test>')" -ge "$1" ]
}
flow &
SENDER_PID=$!
wait_for 120 count_r 5
ok $? "5 of 20 delivered with redis up"
redis_kill
closed() { ! port_open "$RPORT"; }
wait_for 30 closed
ok $? "redis killed (SIGKILL, by its pid)"
at_kill=$(sink_count '^Message-ID: <R[0-9]+@two-mx\.test>')
wait_for 60 up mx1 0
ok $? "mx1 reads redis as down"
wait_for 60 up mx2 0
ok $? "mx2 reads redis as down"
want=$((at_kill + 4))
[ $want -le 20 ] || want=20
wait_for 180 count_r $want
ok $? "$want delivered, $((want - at_kill)) of them while redis is down"
redis_up "$T/redis" "$RPORT" "$RPASS"
redis_ping
ok $? "redis restarted on its port, from its append-only file"
wait "$SENDER_PID"
SENDER_PID=
ok $([ ! -s "$T/flow.failed" ]; echo $?) "every message was taken (4xx retried)"
[ -s "$T/flow.failed" ] && diag "refused: $(cat "$T/flow.failed")"
wait_for 180 count_r 20
ok $? "all 20 at the sink"
wait_for 120 idle
ok $? "both queues drain"
bad=
i=1
while [ $i -le 20 ]; do
	n=$(delivered "R$i")
	[ "$n" -eq 1 ] || bad="$bad R$i:$n"
	i=$((i + 1))
done
is "" "$bad" "no message lost or doubled (each R1..R20 once)"
like 'state: redis unavailable' "$(cat "$M1_LOG" "$M2_LOG")" \
    "the outage is logged"

# --- the state resumes
wait_for 60 up mx1 1
ok $? "mx1 reads redis as up again"
wait_for 60 up mx2 1
ok $? "mx2 reads redis as up again"
like 'mallory@corp\.example' "$(cli mx1 outbreak list)" \
    "the sender tripped before the crash is still tripped (in redis)"
send "$mx2_SUB" mallory@corp.example p6@partner.example H3
ok $? "mallory's mail through mx2 after the restart"
send "$mx1_SUB" mallory@corp.example p7@partner.example H4
ok $? "and through mx1"
send "$mx2_SUB" carol@corp.example p1@partner.example K1 lure
send "$mx1_SUB" carol@corp.example p2@partner.example K2 lure
send "$mx2_SUB" carol@corp.example p3@partner.example K3 lure
ok $? "three lures of carol through mx2, mx1, mx2"
like 'outbreak: sender=<carol@corp.example> tripped the breaker: reason=lures lures=3' \
    "$(cat "$M2_LOG")" "counted in redis again over both hosts: carol trips"
ok $([ "$(redis_cli --scan --pattern 'lurewall:outbreak:*' | wc -l)" -ge 2 ]; echo $?) \
    "redis holds the breaker's keys"
wait_for 120 idle
ok $? "both queues drain"
is "0 0 0 0 0" "$(for i in H3 H4 K1 K2 K3; do delivered $i; done | tr '\n' ' ' | sed 's/ $//')" \
    "none of the tripped senders' mail went out"
# --- the quarantine index: mx2 lists mx1's item, releases it through mx1
send "$mx1_IN" billing@partner.example alice@corp.example Q1 lure
ok $? "an inbound lure taken by mx1 (quarantined there)"
q1_id() {
	cli mx2 quarantine list --json --host mx1 2>/dev/null |
	    grep '"subject": *"note Q1"' |
	    sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1
}
q1_listed() { [ -n "$(q1_id)" ]; }
wait_for 60 q1_listed
ok $? "quarantine list on mx2 shows mx1's item"
id=$(q1_id)
out=$(cli mx2 quarantine release "$id" --timeout 60 2>&1)
is 0 "$?" "release asked on mx2: carried out by mx1 and confirmed"
like "^mx1: released $id" "$out" "saying mx1 did it"
wait_for 120 sink_has '^Message-ID: <Q1@two-mx\.test>'
ok $? "the released message reaches the sink through mx1's Postfix"
wait_for 120 idle
ok $? "both queues drain"
is 1 "$(delivered Q1)" "exactly once"
like '"released": *true' "$(cli mx1 quarantine show --json "$id")" \
    "mx1's store records the release"
done_testing
