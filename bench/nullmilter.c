/*
 * nullmilter: the milter floor of bench/mta.sh.  A libmilter filter
 * that asks Postfix for what lurewall-milter asks (the same actions
 * and protocol steps: every header, the body, no reply before end of
 * message) and then does nothing: each message is accepted unread.
 * What Postfix with it costs against Postfix alone is what any milter
 * costs there (smtpd's milter connection, cleanup streaming headers
 * and body, libmilter's thread per connection and its reads), the
 * floor under lurewall's own ratio.
 *
 * Usage: nullmilter [-f] [-c FILE] [-u USER] -p SOCKET
 * Takes lurewall-milter's arguments so that bench/mta.sh starts it the
 * same way; only -p is used.  A unix socket is made mode 0666 (the
 * bench runs it as root, Postfix connects as postfix).  SIGTERM stops
 * it (libmilter's own handling).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* What milter.c's mlfi_negotiate asks for. */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN |
	    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
	    SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH |
	    SMFIP_NR_BODY);
	*pf2 = 0;
	*pf3 = 0;
	(void)ctx;
	(void)f2;
	(void)f3;
	return SMFIS_CONTINUE;
}

static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_NOREPLY;
}

static sfsistat
null_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	(void)ctx;
	(void)p;
	(void)len;
	return SMFIS_NOREPLY;
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_header = null_header,
	.xxfi_body = null_body,
	.xxfi_eom = null_eom,
	.xxfi_negotiate = null_negotiate
};

int
main(int argc, char **argv)
{
	const char	*spec = NULL;
	int		 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			spec = argv[++i];
	if (spec == NULL) {
		fprintf(stderr, "usage: nullmilter -p SOCKET\n");
		return 2;
	}
	if (smfi_register(null_desc) == MI_FAILURE ||
	    smfi_setconn((char *)spec) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", spec);
		return 1;
	}
	if (strncmp(spec, "unix:", 5) == 0 && chmod(spec + 5, 0666) == -1) {
		perror(spec + 5);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
