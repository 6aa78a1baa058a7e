#!/bin/sh
# 6105-contrib: contrib/ as an admin uses it.  The systemd unit passes
# `systemd-analyze verify` and has the sandbox the issue asks for; its
# ExecStartPre/ExecStart lines, run as written (paths moved under the
# test directory, user nobody for lurewall), start a milter that a
# private Postfix with the main.cf snippet's lines and Debian's chroot
# (smtp and cleanup) reaches at unix:lurewall/lurewall.sock: clean mail
# is delivered, a corpus lure quarantined, mail submitted with
# sendmail(1) scanned too.  The snippets' submission and OpenDKIM order,
# the Sendmail F=T line (through m4) and contrib/MULTI-MX are checked.
. "${LW_TOP:-.}/t/lib.sh"
. "$LW_TOP/t/lib-postfix.sh"
BOUND=60

T=$(tmpdir 6105-contrib)
lw_trap
C=$LW_TOP/contrib
U=$C/lurewall-milter.service
SNIP=$C/postfix-main.cf.snippet

# one directive a line, continuations joined
unit() { sed -e ':a' -e '/\\$/{N;s/\\\n[[:space:]]*//;ba' -e '}' "$U"; }
key() { unit | sed -n "s/^$1=//p"; }

# --- the unit, statically
sed -e "s|/usr/sbin/lurewall-milter|$MILTER|g" \
    -e "s|/usr/sbin/lurewall |$LUREWALL |g" "$U" >"$T/lurewall-milter.service"
out=$(cd "$T" && bounded systemd-analyze verify --man=no \
    ./lurewall-milter.service 2>&1)
ok $? "systemd-analyze verify passes"
is "" "$out" "and warns about nothing"
is yes "$(key NoNewPrivileges)" "NoNewPrivileges=yes"
is strict "$(key ProtectSystem)" "ProtectSystem=strict"
rw=$(key ReadWritePaths)
like '(^| )-?/var/spool/postfix/lurewall( |$)' "$rw" \
    "ReadWritePaths has the socket directory"
like '(^| )-?/var/lib/lurewall( |$)' "$rw" "ReadWritePaths has /var/lib/lurewall"
start=$(key ExecStart)
like ' -u lurewall:postfix( |$)' "$start" \
    "drops to the dedicated user lurewall, socket group postfix"
like ' -p unix:/var/spool/postfix/lurewall/lurewall\.sock( |$)' "$start" \
    "socket under Postfix's chroot, /var/spool/postfix/lurewall"
qdir=$(sed -n 's/^quarantine_dir: *//p' "$LW_TOP/conf/lurewall.yaml")
like '^/var/lib/lurewall/' "$qdir" \
    "the sample quarantine_dir lies under a ReadWritePaths entry"
like " -P /run/$(key RuntimeDirectory)/" "$start" \
    "the pidfile lies in the RuntimeDirectory (/run is read-only)"
like '^\+/usr/sbin/lurewall reload .*-P /run/lurewall-milter/lurewall-milter\.pid' \
    "$(key ExecReload)" "ExecReload is lurewall reload, with the same pidfile"

# --- the unit's commands, run as written under $R
R=$T/root
bounded make -C "$LW_TOP" --no-print-directory install DESTDIR="$R" \
    PREFIX=/usr >"$T/install.out" 2>&1 || bail "make install failed"
sink_start "$T"
PF_DIR=$T/postfix	# pf_start makes it; the unit's commands go first
mkdir -p "$R/run/lurewall-milter"	# systemd's RuntimeDirectory=
sed -i "s|^quarantine_dir: /|quarantine_dir: $R/|" \
    "$R/etc/lurewall/lurewall.yaml"
moved() {
	sed -e "s|/var/spool/postfix|$PF_DIR/queue|g" \
	    -e "s|/var/lib/lurewall|$R/var/lib/lurewall|g" \
	    -e "s|/etc/lurewall|$R/etc/lurewall|g" \
	    -e "s|/usr/sbin/lurewall|$R/usr/sbin/lurewall|g" \
	    -e "s|/run/lurewall-milter|$R/run/lurewall-milter|g" \
	    -e 's/-o lurewall /-o nobody /g; s/-g lurewall /-g nogroup /g' \
	    -e 's/-u lurewall:postfix/-u nobody:postfix/g' -e 's/^[+-]*//'
}
mkdir -p "$PF_DIR/queue"
key ExecStartPre | moved >"$T/pre.sh"
sh -e "$T/pre.sh" >"$T/pre.out" 2>&1
ok $? "ExecStartPre lines run"
[ $? -eq 0 ] || diag "$(cat "$T/pre.out")"
export TMPDIR
TMPDIR=$(key Environment | sed -n 's/^TMPDIR=//p' | moved)
MILTER_LOG=$T/milter.log
set -- $(key ExecStart | moved)
"$@" >"$MILTER_LOG" 2>&1 &
MILTER_PID=$!
wait_for 10 unix_open "$PF_DIR/queue/lurewall/lurewall.sock"
ok $? "ExecStart's milter listens in the spool"
is "$MILTER_PID" "$(cat "$R/run/lurewall-milter/lurewall-milter.pid")" \
    "it wrote its pidfile in the RuntimeDirectory"
out=$(bounded sh -c "$(key ExecReload | moved)" 2>&1)
ok $? "ExecReload reloads the running milter"
like 'reloaded' "$out" "and reports it"

# --- Postfix with the snippet's lines, smtp and cleanup chrooted
grep -v '^#' "$SNIP" | grep . >"$T/snippet.cf"
# pf_start re-creates $PF_DIR: keep the socket directory across it,
# then restart Postfix with smtp and cleanup chrooted
mv "$PF_DIR/queue/lurewall" "$T/sockdir"
pf_start "$T" unix:lurewall/lurewall.sock "$(cat "$T/snippet.cf")"
postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
wait_for 10 sh -c "! postfix -c '$PF_DIR/etc' status"
mv "$T/sockdir" "$PF_DIR/queue/lurewall"
sed -i -e 's/^\(127\.0\.0\.1:[0-9]*[[:space:]]*inet[[:space:]]*n[[:space:]]*-[[:space:]]*\)n/\1y/' \
    -e 's/^\(cleanup[[:space:]]*unix[[:space:]]*n[[:space:]]*-[[:space:]]*\)n/\1y/' \
    "$PF_DIR/etc/master.cf"
postfix -c "$PF_DIR/etc" start >>"$T/postfix.out" 2>&1
wait_for 20 port_open "$PF_PORT" || bail "postfix did not restart"
is 2 "$(grep -cE '^(127\.0\.0\.1:[0-9]+|cleanup)[[:space:]]+(inet|unix)[[:space:]]+n[[:space:]]+-[[:space:]]+y' \
    "$PF_DIR/etc/master.cf")" "smtpd and cleanup run chrooted, as on Debian"
is "unix:lurewall/lurewall.sock" \
    "$(postconf -c "$PF_DIR/etc" -h smtpd_milters)" "smtpd_milters from the snippet"
is tempfail "$(postconf -c "$PF_DIR/etc" -h milter_default_action)" \
    "milter_default_action = tempfail from the snippet"
is "" "$(postconf -c "$PF_DIR/etc" -n 2>&1 >/dev/null)" \
    "postconf knows every snippet parameter"

s=$PF_DIR/queue/lurewall/lurewall.sock
is "srw-rw---- nobody postfix" "$(stat -c '%A %U %G' "$s")" \
    "socket 0660, owner the milter's user, group postfix"
is "drwxr-x--- nobody postfix" "$(stat -c '%A %U %G' "${s%/*}")" \
    "socket directory 0750 for the group postfix"
is 65534 "$(awk '/^Uid:/ { print $3 }' /proc/$MILTER_PID/status)" \
    "the milter runs as the unprivileged user"

printf 'From: a@client.lurewall.test\r\nTo: sato@example.co.jp\r\nMessage-ID: <c1@lurewall.test>\r\nSubject: lunch\r\n\r\nnoon\r\n' \
    >"$T/clean.eml"
pf_send a@client.lurewall.test sato@example.co.jp "@$T/clean.eml" \
    >"$T/swaks1" 2>&1
ok $? "clean mail accepted through the chrooted smtpd"
sink_wait 1
ok $? "and delivered"
pf_send a@client.lurewall.test sato@example.co.jp \
    "@$CORPUS/messages/lure-14-docm-enable-content.eml" >"$T/swaks2" 2>&1
ok $? "a corpus lure accepted (then discarded)"
wait_for 20 grep -q 'action=quarantine' "$MILTER_LOG"
ok $? "the milter quarantined it"
l=$(bounded "$R/usr/sbin/lurewall" -c "$R/etc/lurewall/lurewall.yaml" \
    quarantine list --json)
like '"subject"' "$l" "the installed CLI lists it"
is "nobody" "$(stat -c %U "$R/var/lib/lurewall/quarantine")" \
    "the quarantine belongs to the milter's user"
printf 'From: a@lurewall.test\nTo: sato@example.co.jp\nMessage-ID: <s1@lurewall.test>\nSubject: local tagme\n\nlocal\n' |
    bounded /usr/sbin/sendmail -C "$PF_DIR/etc" -i -f a@lurewall.test \
    sato@example.co.jp
ok $? "sendmail(1) submission"
wait_for 20 grep -q 'from=<a@lurewall.test>.*action=' "$MILTER_LOG"
ok $? "non_smtpd_milters: the chrooted cleanup reached the milter too"
sink_wait 2
ok $? "and it was delivered"
unlike 'warning: .*milter' "$(cat "$PF_DIR/maillog")" \
    "Postfix logged no milter warning"

# --- the snippets' text
inbound=$(sed -n 's/^#smtpd_milters = //p' "$SNIP")
like '^unix:opendkim/[^,]*, *unix:lurewall/' "$inbound" \
    "inbound with OpenDKIM: verify first, then lurewall"
sub=$(sed -n 's/^#  -o smtpd_milters=\(.*opendkim.*\)/\1/p' "$SNIP")
like '^unix:lurewall/[^,]*,unix:opendkim/' "$sub" \
    "submission: lurewall first, OpenDKIM signs after it"
mkdir -p "$T/sub"
: >"$T/sub/main.cf"
sed -n 's/^#\(submission\|  -o\)/\1/p' "$SNIP" >"$T/sub/master.cf"
is "$sub" "$(postconf -c "$T/sub" -P 'submission/inet/smtpd_milters' \
    2>&1 | sed 's/.*smtpd_milters = //')" \
    "the submission entry parses as master.cf"
m4out=$( { printf "define(\`INPUT_MAIL_FILTER', \`FILTER[\$1][\$2]')dnl\n"
    cat "$C/lurewall.m4"; } | bounded m4 2>&1)
like "FILTER\[lurewall\]\[S=inet:8894@127\.0\.0\.1, F=T, " "$m4out" \
    "lurewall.m4: INPUT_MAIL_FILTER with F=T, through m4"
like 'lurewall-milter -p inet:8894@127\.0\.0\.1' "$(cat "$C/lurewall.m4")" \
    "lurewall.m4: the milter is started on the same socket"
like 'Each MX runs its own lurewall' "$(tr '\n' ' ' <"$C/MULTI-MX" | tr -s ' ')" \
    "contrib/MULTI-MX: one lurewall per MX"
like 'stores are not shared and must not be' "$(tr '\n' ' ' <"$C/MULTI-MX" | tr -s ' ')" \
    "MULTI-MX: a quarantine store per host"
like 'lurewall quarantine release 7a41e3 +# done by mx1' "$(cat "$C/MULTI-MX")" \
    "MULTI-MX: how to release another host's item"
done_testing
