divert(-1)
dnl contrib/lurewall.m4: lurewall-milter for Sendmail, as an m4 file to
dnl include from sendmail.mc (as Debian's clamav-milter ships its own):
dnl
dnl	cp contrib/lurewall.m4 /etc/mail/m4/lurewall.m4
dnl	add to /etc/mail/sendmail.mc, before the MAILER() lines:
dnl	    include(`/etc/mail/m4/lurewall.m4')dnl
dnl	make -C /etc/mail && systemctl restart sendmail
dnl
dnl Start the milter on the same socket:
dnl	lurewall-milter -p inet:8894@127.0.0.1 -u lurewall
dnl
dnl F=T: tempfail when the milter is unreachable (451 4.3.2), never pass
dnl mail unscanned.  T=: connect, send, read and overall end-of-message
dnl timeouts; lurewall unpacks archives and Office files, give it time.
dnl
dnl quarantine.then: hold puts the message in Sendmail's quarantine
dnl queue (mailq -qQ lists it).  lurewall quarantine release runs the
dnl default submit_command, /usr/sbin/sendmail -G -i -f %f -- %r, which is
dnl Sendmail's submission program (submit.cf): it hands the message to
dnl this MTA over SMTP, so the milter sees it, recognises the release
dnl and lets it through once.
divert(0)dnl
INPUT_MAIL_FILTER(`lurewall', `S=inet:8894@127.0.0.1, F=T, T=C:30s;S:30s;R:5m;E:10m')dnl
dnl lurewall reads the queue id (i) from MAIL FROM on; Sendmail's default
dnl macro lists carry it, plus {auth_authen} and {daemon_name}:
define(`confMILTER_MACROS_CONNECT', `j, _, {daemon_name}, {if_name}, {if_addr}, {client_addr}, {client_name}')dnl
define(`confMILTER_MACROS_ENVFROM', `i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}')dnl
