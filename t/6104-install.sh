#!/bin/sh
# 6104-install: `make install DESTDIR=... PREFIX=/usr` puts both programs
# in sbin (admin tools, section 8), the man pages in man5/man8 with
# matching .Dt sections, the sample configuration in etc/lurewall; a
# second install keeps a configuration the admin changed; nothing is
# written outside DESTDIR; the installed programs read the installed
# configuration.  (INIT=none here: the service files are t/6107's.)
. "${LW_TOP:-.}/t/lib.sh"
BOUND=120

T=$(tmpdir 6104-install)
D=$T/dest
# make check runs us from make: its flags (DEVELOPER, SANITIZE) pass on
# in MAKEFLAGS, so `all` is up to date and nothing is rebuilt
inst() {
	bounded make -C "$LW_TOP" --no-print-directory install DESTDIR="$D" \
	    PREFIX=/usr INIT=none >>"$T/install.out" 2>&1
}
# Where an install without DESTDIR would write, and the rest of the
# system but what other tests and the system itself touch meanwhile.
outside() {
	find /usr /etc /opt /var /root /srv /home -xdev -newer "$T/stamp" \
	    ! -path '/etc/postfix*' ! -path '/var/spool/*' \
	    ! -path '/var/lib/postfix*' ! -path '/var/log/*' \
	    ! -path '/var/cache/*' ! -path '/var/tmp*' ! -path '/root/.*' \
	    ! -path '/var/lib/systemd/*' ! -path '/var/mail*' 2>/dev/null
}
touch "$T/stamp"
sleep 1

inst
ok $? "make install DESTDIR PREFIX=/usr"
[ $? -eq 0 ] || diag "$(tail -20 "$T/install.out")"
want="etc/lurewall/lurewall.yaml
etc/lurewall/notice/admin.en.txt
etc/lurewall/notice/admin.ja.txt
etc/lurewall/notice/digest.en.txt
etc/lurewall/notice/digest.ja.txt
etc/lurewall/notice/notice.en.txt
etc/lurewall/notice/notice.ja.txt
etc/lurewall/policy.d/default.yaml
etc/lurewall/policy.d/example.co.jp.yaml.sample
usr/sbin/lurewall
usr/sbin/lurewall-milter
usr/share/man/man5/lurewall-policy.5
usr/share/man/man5/lurewall.yaml.5
usr/share/man/man8/lurewall-milter.8
usr/share/man/man8/lurewall.8"
is "$want" "$(cd "$D" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)" \
    "exactly the programs, man pages and sample configuration"
for p in lurewall lurewall-milter; do
	is "-rwxr-xr-x" "$(stat -c %A "$D/usr/sbin/$p")" "sbin/$p mode 0755"
done
for m in "$D"/usr/share/man/man?/*; do
	sec=${m%/*}; sec=${sec##*/man}
	name=$(basename "$m"); base=${name%.*}
	dt=$(sed -n 's/^\.Dt //p' "$m")
	is "$(printf '%s' "$base" | tr a-z A-Z) $sec" "$dt" \
	    "$name: .Dt matches man$sec"
done
is "" "$(cmp "$LW_TOP/conf/lurewall.yaml" "$D/etc/lurewall/lurewall.yaml" 2>&1)" \
    "lurewall.yaml is the sample"
is "" "$(cmp "$LW_TOP/conf/policy.d/default.yaml" \
    "$D/etc/lurewall/policy.d/default.yaml" 2>&1)" "default.yaml is the sample"
like 'lurewall\(8\)' "$(sed -n '/^\.Sh SEE ALSO/,/^\.Sh/p' \
    "$D/usr/share/man/man8/lurewall-milter.8" | tr -d '\n' |
    sed 's/\.Xr \([^ ]*\) \([0-9]\)/\1(\2)/g')" \
    "lurewall-milter(8) refers to lurewall(8)"

# the admin edits the config; a second install keeps the edit
printf '# local change\n' >>"$D/etc/lurewall/lurewall.yaml"
printf '# local policy\n' >>"$D/etc/lurewall/policy.d/default.yaml"
printf 'local text\n' >>"$D/etc/lurewall/notice/notice.ja.txt"
printf '# stale sample\n' >>"$D/etc/lurewall/policy.d/example.co.jp.yaml.sample"
rm "$D/usr/sbin/lurewall"
inst
ok $? "second make install"
like '# local change' "$(tail -1 "$D/etc/lurewall/lurewall.yaml")" \
    "the edited lurewall.yaml stays"
like '# local policy' "$(tail -1 "$D/etc/lurewall/policy.d/default.yaml")" \
    "the edited default.yaml stays"
like 'local text' "$(tail -1 "$D/etc/lurewall/notice/notice.ja.txt")" \
    "an edited notice template stays"
like 'keeping existing .*/etc/lurewall/lurewall.yaml' "$(cat "$T/install.out")" \
    "make install says it keeps it"
is "" "$(cmp "$LW_TOP/conf/policy.d/example.co.jp.yaml.sample" \
    "$D/etc/lurewall/policy.d/example.co.jp.yaml.sample" 2>&1)" \
    "a .sample file is documentation: make install updates it"
ok $([ -x "$D/usr/sbin/lurewall" ]; echo $?) "the programs are installed again"

is "" "$(outside)" "nothing written outside DESTDIR"

out=$(bounded "$D/usr/sbin/lurewall" check-config \
    -c "$D/etc/lurewall/lurewall.yaml" 2>&1)
ok $? "installed lurewall check-config reads the installed configuration"
[ $? -eq 0 ] || diag "$out"
out=$(bounded "$D/usr/sbin/lurewall-milter" -n \
    -c "$D/etc/lurewall/lurewall.yaml" 2>&1)
ok $? "installed lurewall-milter -n accepts it"
[ $? -eq 0 ] || diag "$out"
done_testing
