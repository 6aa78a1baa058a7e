/*
 * 2002-text-readers: the faster readers of the file-type path give what
 * the byte-at-a-time ones gave.
 *  - lw_memmem_ci (Horspool over ASCII-folded bytes, the keyword search
 *    of filetype.c and html_behaviour.c): the same first offset as a
 *    search that tries every offset, for the needles those files use,
 *    random needles (upper-case letters, which never match, and needles
 *    past 255 bytes, where the shift table is capped), over random
 *    text, needle-rich text and 8-bit bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "tap.h"

static uint64_t	rng = 0x2545f4914f6cdd1dULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16) % n;
}

/* Every offset tried, the haystack folded, the needle as it is. */
static long
ref_find(const unsigned char *d, size_t len, const char *needle)
{
	size_t	i, j, n = strlen(needle);

	for (i = 0; n <= len && i <= len - n; i++) {
		for (j = 0; j < n; j++) {
			unsigned char c = d[i + j];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (c != (unsigned char)needle[j])
				break;
		}
		if (j == n)
			return (long)i;
	}
	return -1;
}

static const char *const needles[] = {
	"#@~^", "<hta:application", "wscript.shell", "shell.application",
	"wscript.", "activexobject(", "createobject(", "<job", "<package>",
	"powershell", "invoke-expression", "frombase64string(", "<script",
	"@echo off", "[internetshortcut]", "<libraryDescription", "http://",
	"\\\\", "%pdf-", "javascript:", "function(", "=>", "search-ms:",
	"mk:@msitstore:", ".download", "download=", "\"download\"",
	"mssaveoropenblob", "createobjecturl", "new blob", "blob(", "atob(",
	"data:application/", "data:image/", ";base64,", "a", "aa", "aba",
};

static unsigned	nfind, nfound, nfdiff;

static void
find_one(const unsigned char *d, size_t len, const char *needle)
{
	const unsigned char	*p = lw_memmem_ci(d, len, needle);
	long			 got = p == NULL ? -1 : (long)(p - d);
	long			 want = ref_find(d, len, needle);

	nfind++;
	if (want >= 0)
		nfound++;
	if (got != want && nfdiff++ < 5)
		diag("a needle of %zu bytes in %zu: at %ld, reference %ld",
		    strlen(needle), len, got, want);
}

static void
t_find(void)
{
	static const char	mix[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ<>:;/.=(\"' \r\n@#^~\\-%[]";
	unsigned char		*d;
	char			 nd[400];
	size_t			 len, i, k, n;
	unsigned		 round;

	if ((d = malloc(70000)) == NULL)
		bail("out of memory");
	for (round = 0; round < 3000; round++) {
		len = round % 50 == 0 ? 60000 + rnd(9000) : rnd(2000);
		for (i = 0; i < len; i++)
			d[i] = round % 3 == 0 ? (unsigned char)rnd(256) :
			    (unsigned char)mix[rnd(sizeof(mix) - 1)];
		/* Plant needles, some in upper case, some cut short. */
		for (k = rnd(6); k > 0; k--) {
			const char *s = needles[rnd(sizeof(needles) /
			    sizeof(needles[0]))];

			n = strlen(s);
			if (len <= n)
				continue;
			i = rnd((uint32_t)(len - n));
			memcpy(d + i, s, rnd(4) == 0 ? n - 1 : n);
			if (rnd(2) == 0)
				for (; n > 0; n--, i++)
					if (d[i] >= 'a' && d[i] <= 'z')
						d[i] = (unsigned char)(d[i] -
						    'a' + 'A');
		}
		for (k = 0; k < sizeof(needles) / sizeof(needles[0]); k++)
			find_one(d, len, needles[k]);
		/* Random needles from a small alphabet, up to 300 bytes. */
		n = round % 20 == 0 ? 256 + rnd(44) : 1 + rnd(8);
		for (i = 0; i < n; i++)
			nd[i] = "abAB:"[rnd(5)];
		nd[n] = '\0';
		find_one(d, len, nd);
		/* A needle taken from the text itself, folded. */
		if (len > 300) {
			i = rnd((uint32_t)(len - 300));
			n = round % 20 == 1 ? 256 + rnd(44) : 1 + rnd(12);
			for (k = 0; k < n; k++)
				nd[k] = (char)(d[i + k] >= 'A' &&
				    d[i + k] <= 'Z' ? d[i + k] - 'A' + 'a' :
				    d[i + k] == 0 ? 'x' : d[i + k]);
			nd[n] = '\0';
			find_one(d, len, nd);
		}
	}
	ok(nfdiff == 0, "lw_memmem_ci: same offsets in %u searches", nfind);
	ok(nfound > nfind / 10 && nfound < nfind, "%u of them found",
	    nfound);
	free(d);
}

int
main(void)
{
	t_find();
	return done_testing();
}
