/*
 * 3010-lookalike: look-alike domains and confusable letters (issue 16):
 * the UTS #39 skeleton (ICU uspoof) maps Cyrillic letters, "1" and "rn"
 * to their Latin look-alikes; IDNA labels are decoded; one edit in a
 * name of five letters or more with the same suffix is a look-alike;
 * the domain itself, its subdomains, other suffixes and short names are
 * not.  IDNA decoding, which answers plain ASCII domains itself,
 * agrees with ICU's UTS #46 call on random domains.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uidna.h>

#include "tap.h"
#include "lookalike.h"

/* What lookalike_idna_decode gave before: ICU for every domain. */
static char *
icu_decode(UIDNA *idna, const char *d)
{
	UErrorCode	 ec = U_ZERO_ERROR;
	UIDNAInfo	 info = UIDNA_INFO_INITIALIZER;
	char		*out, *p;
	int32_t		 n, len = (int32_t)strlen(d);

	if (len > 253 || (out = malloc((size_t)len * 4 + 1)) == NULL)
		return NULL;
	n = uidna_nameToUnicodeUTF8(idna, d, len, out, len * 4, &info, &ec);
	if (U_FAILURE(ec) || n < 0 || n > len * 4) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	for (p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return out;
}

/* Random domains: letters, digits, dots, hyphens, any ASCII, xn--. */
static void
check_idna_random(void)
{
	static const char *const piece[] = {
		"a", "Z", "0", "-", ".", "..", "xn--", "XN--", "xn--xample-2of",
		"\xd0\xb5", "\xef\xbc\x8e", "co.jp", "--", "_",
	};
	UErrorCode	 ec = U_ZERO_ERROR;
	UIDNA		*idna = uidna_openUTS46(UIDNA_DEFAULT, &ec);
	char		 d[320], *got, *want;
	size_t		 i, n, l, bad = 0;

	if (U_FAILURE(ec))
		bail("uidna_openUTS46 failed");
	for (i = 0; i < 100000; i++) {
		/* Mostly short; one in eight up to past 253 bytes. */
		for (n = 0; n < 290 && tap_rnd(tap_rnd(8) == 0 ? 60 : 12) != 0;) {
			const char *pc = piece[tap_rnd(sizeof(piece) /
			    sizeof(piece[0]))];

			if (tap_rnd(3) == 0)	/* any ASCII byte */
				d[n++] = (char)(1 + tap_rnd(127));
			else if (tap_rnd(3) == 0 && n + (l = strlen(pc)) < 300) {
				memcpy(d + n, pc, l);
				n += l;
			} else
				d[n++] = "abcxyzABCXYZ0189-._"[tap_rnd(19)];
		}
		d[n] = '\0';
		got = lookalike_idna_decode(d);
		want = icu_decode(idna, d);
		if ((got == NULL) != (want == NULL) ||
		    (got != NULL && strcmp(got, want) != 0))
			bad++;
		free(got);
		free(want);
	}
	uidna_close(idna);
	is_int(0, (long long)bad, "random domains: IDNA decoding agrees "
	    "with ICU's UTS #46 call");
}

static void
same_skeleton(const char *a, const char *b, bool want, const char *what)
{
	char	*sa = lookalike_skeleton(a), *sb = lookalike_skeleton(b);

	ok(sa != NULL && sb != NULL && (strcmp(sa, sb) == 0) == want,
	    "%s", what);
	free(sa);
	free(sb);
}

static void
look(const char *sender, const char *known, bool want)
{
	char	why[200];
	bool	got = lookalike_domain(sender, known, why, sizeof(why));

	ok(got == want, "%s %s %s%s%s", sender, want ? "looks like" :
	    "is no look-alike of", known, got ? ": " : "", got ? why : "");
}

int
main(void)
{
	char	*d;

	same_skeleton("\xd0\x88ohn Smith", "John Smith", true,
	    "Cyrillic Je: the same skeleton as John");
	same_skeleton("John Smith", "Joan Smith", false,
	    "another name: another skeleton");
	same_skeleton("examp1e", "example", true, "1 and l");
	same_skeleton("rnicrosoft", "microsoft", true, "rn and m");

	d = lookalike_idna_decode("xn--xample-2of.co.jp");
	is_str("\xd0\xb5xample.co.jp", d != NULL ? d : "(null)",
	    "punycode decoded");
	free(d);
	d = lookalike_idna_decode("Example.CO.JP");
	is_str("example.co.jp", d != NULL ? d : "(null)", "lowercased");
	free(d);

	look("examp1e.co.jp", "example.co.jp", true);
	look("xn--xample-2of.co.jp", "example.co.jp", true);
	look("mail.examp1e.co.jp", "example.co.jp", true);
	look("exampel.co.jp", "example.co.jp", true);
	look("exanple.co.jp", "example.co.jp", true);
	look("rnicrosoft.com", "microsoft.com", true);
	look("example.co.jp", "example.co.jp", false);
	look("mail.example.co.jp", "example.co.jp", false);
	look("EXAMPLE.co.jp", "example.co.jp", false);
	look("example.com", "example.co.jp", false);
	look("example.co.uk", "example.co.jp", false);
	look("other.co.jp", "example.co.jp", false);
	look("abd.com", "abc.com", false);
	look("examples-group.co.jp", "example.co.jp", false);
	check_idna_random();
	return done_testing();
}
