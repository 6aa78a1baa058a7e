/*
 * 0008-casestr: ascii_casestr (bytes.h), the byte loop that replaced
 * strcasestr where short names are searched (ooxml.c), finds what
 * glibc's strcasestr finds in the C locale: random haystacks and
 * needles over letters of both cases, digits, punctuation and
 * UTF-8 bytes, needles taken from the haystack and the empty needle.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "tap.h"

static void
fill(char *s, size_t n)
{
	static const char alpha[] = "aAbBeEmM/._-0\xc3\xa9\xe5\xb7\xae";
	size_t	i;

	for (i = 0; i < n; i++)
		s[i] = tap_rnd(8) == 0 ? (char)(1 + tap_rnd(255)) :
		    alpha[tap_rnd(sizeof(alpha) - 1)];
	s[n] = '\0';
}

int
main(void)
{
	char	 hay[200], needle[16];
	size_t	 i, hn, nn, at, bad = 0, found = 0;

	for (i = 0; i < 200000; i++) {
		hn = tap_rnd(sizeof(hay) - 1);
		fill(hay, hn);
		nn = tap_rnd(6);
		if (tap_rnd(2) == 0 && hn > 0) {
			/* A piece of hay, its case flipped at random. */
			at = tap_rnd((unsigned)hn);
			if (nn > hn - at)
				nn = hn - at;
			memcpy(needle, hay + at, nn);
			needle[nn] = '\0';
			for (size_t k = 0; k < nn; k++)
				if (tap_rnd(2) == 0)
					needle[k] = (char)ascii_upper(
					    (unsigned char)needle[k]);
		} else
			fill(needle, nn);
		if (ascii_casestr(hay, needle) != strcasestr(hay, needle))
			bad++;
		else if (strcasestr(hay, needle) != NULL)
			found++;
	}
	is_int(0, (long long)bad, "200,000 random searches: ascii_casestr "
	    "agrees with strcasestr");
	ok(found > 50000, "%zu of them found something", found);
	is_str("Embeddings/x", ascii_casestr("word/Embeddings/x",
	    "embeddings/"), "a case-insensitive hit");
	ok(ascii_casestr("word/embed", "/embeddings/") == NULL,
	    "a needle longer than what is left: none");
	return done_testing();
}
