/*
 * 3010-lookalike: look-alike domains and confusable letters (issue 16):
 * the UTS #39 skeleton (ICU uspoof) maps Cyrillic letters, "1" and "rn"
 * to their Latin look-alikes; IDNA labels are decoded; one edit in a
 * name of five letters or more with the same suffix is a look-alike;
 * the domain itself, its subdomains, other suffixes and short names are
 * not.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lookalike.h"

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
	return done_testing();
}
