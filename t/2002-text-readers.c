/*
 * 2002-text-readers: the faster readers of the file-type path give what
 * the byte-at-a-time ones gave.
 *  - lw_memmem_ci (Horspool over ASCII-folded bytes, the keyword search
 *    of filetype.c and html_behaviour.c): the same first offset as a
 *    search that tries every offset, for the needles those files use,
 *    random needles (upper-case letters, which never match, and needles
 *    past 255 bytes, where the shift table is capped), over random
 *    text, needle-rich text and 8-bit bytes.
 *  - filetype_fast's plain-text reader (one class table lookup a byte):
 *    the same answer as a reader that tests every byte against the
 *    control, markup and JavaScript rules, on random texts of prose,
 *    markup characters, line ends, valid and broken UTF-8.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "filetype.h"
#include "filetype_int.h"
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
	"@echo off", "[internetshortcut]", "<librarydescription", "http://",
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

/* UTF-8 sequence length from the lead byte, 0 for no lead byte. */
static size_t
lead_len(unsigned char c)
{
	return c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
	    c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

static bool
ref_starts(const unsigned char *d, size_t len, const char *s)
{
	return strlen(s) <= len && memcmp(d, s, strlen(s)) == 0;
}

/*
 * The per-byte rules of plain prose, every byte tested: no control
 * byte but tab and line ends, no DEL or markup character, valid UTF-8,
 * no JavaScript marker, no line starting "import " or "export ".
 */
static bool
ref_prose(const unsigned char *d, size_t len)
{
	static const char *const js[] = { "use strict", "use asm",
	    "require(", "(function" };
	size_t	i, n, k;
	bool	bol = true;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (d[i] >= 0x80) {
			n = lead_len(d[i]);
			if (n == 0 || n > len - i ||
			    charset_utf8_prefix((const char *)d + i, n) != n)
				return false;
			bol = false;
			continue;
		}
		if ((d[i] < 0x20 && d[i] != '\t' && d[i] != '\n' &&
		    d[i] != '\r') || d[i] == 0x7f ||
		    memchr("<>{}[]=;\\`#", d[i], 11) != NULL)
			return false;
		if (bol && (ref_starts(d + i, len - i, "import ") ||
		    ref_starts(d + i, len - i, "export ")))
			return false;
		for (k = 0; k < 4; k++)
			if (ref_starts(d + i, len - i, js[k]))
				return false;
		bol = d[i] == '\n' || d[i] == '\r';
	}
	return true;
}

static void
t_prose(void)
{
	static const char *const bits[] = {
		"Dear team, ", "the figures ", "are attached.", "\r\n", "\n",
		"\r", "\t", "import ", "export ", "use strict", "use asm",
		"require(", "(function", "use ", "requires ", "(fun", "< ",
		"{", "]", "=", ";", "#", "`", "\\", "\x7f", "\x01", "\0",
		"\xe3\x81\x82", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xe3\x81",
		"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80",
		"\xff", "rur", "u", "r", "(", "Article ", "From ",
	};
	unsigned char	d[4096];
	size_t		len, n, k;
	unsigned	round, nsame = 0, ndiff = 0, ntext = 0;
	bool		want, got;

	for (round = 0; round < 50000; round++) {
		/* Prose first: the reader's own first-line rules pass. */
		len = 5;
		memcpy(d, "Dear ", 5);
		for (k = rnd(round % 10 == 0 ? 200 : 12); k > 0; k--) {
			const char *s = bits[rnd(sizeof(bits) /
			    sizeof(bits[0]))];

			n = s[0] == '\0' ? 1 : strlen(s);
			if (rnd(3) != 0)	/* mostly plain words */
				s = bits[rnd(3)], n = strlen(s);
			if (n > sizeof(d) - len)
				break;
			memcpy(d + len, s, n);
			len += n;
		}
		want = ref_prose(d, len);
		got = filetype_fast(d, len) == FT_TEXT;
		if (want)
			ntext++;
		if (want == got)
			nsame++;
		else if (ndiff++ < 5)
			diag("text %u (%zu bytes): fast %d, reference %d",
			    round, len, got, want);
	}
	ok(ndiff == 0, "plain text: same answer on %u of %u texts", nsame,
	    nsame + ndiff);
	ok(ntext > 1000 && ntext < nsame, "%u of them plain text", ntext);
	/* The rule at the very start, before the first line end. */
	ok(filetype_fast((const unsigned char *)"import x from y\n", 16) ==
	    FT_UNKNOWN, "\"import \" on the first line is not plain text");
	ok(filetype_fast((const unsigned char *)"Hello\nexport x\n", 15) ==
	    FT_UNKNOWN, "\"export \" after a line end is not plain text");
	ok(filetype_fast((const unsigned char *)"Hello export x\n", 15) ==
	    FT_TEXT, "\"export \" inside a line is");
}

int
main(void)
{
	t_find();
	t_prose();
	return done_testing();
}
