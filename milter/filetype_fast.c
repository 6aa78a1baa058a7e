/*
 * filetype_fast.c: the file types a few bytes settle, so that libmagic
 * (about a fifth of a corpus scan) is asked only about the rest.
 *
 * Takes the bytes libmagic would see; returns FT_IMAGE, FT_TEXT or
 * FT_UNKNOWN (ask libmagic).  The answer must be libmagic's kind:
 * t/2001-filetype-fast compares both on every corpus file and part and
 * on generated ones.
 *
 * Images: PNG's 8-byte signature, JPEG's SOI and marker, GIF87a/89a;
 * libmagic calls each image/<type> (FT_IMAGE).
 *
 * Text is the hard case: libmagic runs hundreds of rules over text and
 * some give a type that is not text/plain (HTML, SVG, XML, JavaScript,
 * mail and news, PostScript, PGP, INI, JSON, Netpbm, shell scripts).
 * Only prose that none of them can match is answered here: two bytes
 * or more (one is "very short" to libmagic) of valid UTF-8 of printable
 * characters, tabs and line ends (no BOM, no other control byte); the
 * first byte a letter, digit or non-ASCII character, not "MZ", "GIF8"
 * or Netpbm's "P<digit>"; a first line that is no header ("Word:") nor
 * a mailbox or news start ("From ", "Article", ...); none of
 * < > { } [ ] = ; \ ` # anywhere; no "use strict", "use asm",
 * "require(", "(function" or line starting "import " or "export "
 * (libmagic's JavaScript rules).  Anything else goes to libmagic, so a
 * miss here costs time, never a verdict.
 *
 * OLE2: the kind is ours (the header); libmagic only tells MSI packages
 * apart, and both of its ways to say so (readcdf's "MSI Installer" and
 * application/x-msi, the magic rule "Windows Installer Package") compare
 * a directory entry's 16-byte class id with the MSI one,
 * {000C1084-0000-0000-C000-000000000046}.  Directory entries lie whole
 * in one sector, so bytes without those 16 in a row are no MSI to
 * libmagic either, and it is not asked.
 */
#include <stdbool.h>
#include <string.h>

#include "filetype_int.h"

static bool
starts(const unsigned char *d, size_t len, const char *s)
{
	size_t	n = strlen(s);

	return len >= n && memcmp(d, s, n) == 0;
}

/* Length of the UTF-8 sequence at d (2-4 bytes), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *d, size_t left)
{
	size_t		n, i;
	unsigned	c;

	if (d[0] >= 0xc2 && d[0] <= 0xdf)
		n = 2, c = d[0] & 0x1f;
	else if (d[0] >= 0xe0 && d[0] <= 0xef)
		n = 3, c = d[0] & 0x0f;
	else if (d[0] >= 0xf0 && d[0] <= 0xf4)
		n = 4, c = d[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((d[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (d[i] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

/* "Word:" on the first line: a mail, news or MIME header. */
static bool
header_line(const unsigned char *d, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (d[i] == ':')
			return i > 0;
		if (!((d[i] >= 'A' && d[i] <= 'Z') ||
		    (d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' || d[i] == '_'))
			return false;
	}
	return false;
}

/*
 * What plain_text must look at for each byte: P nothing (printable
 * ASCII), X never in plain text (control bytes other than tab and line
 * ends, DEL, < > { } [ ] = ; \ ` #), N a line end (a line starting
 * "import " or "export " follows), J the first byte of a JavaScript
 * marker (u, r, "("), H the lead byte of a UTF-8 sequence.
 */
enum { P, X, N, J, H };
static const unsigned char pt_class[256] = {
	X, X, X, X, X, X, X, X, X, P, N, X, X, N, X, X,	/* 00 */
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,	/* 10 */
	P, P, P, X, P, P, P, P, J, P, P, P, P, P, P, P,	/* 20 */
	P, P, P, P, P, P, P, P, P, P, P, X, X, X, X, P,	/* 30 */
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,	/* 40 */
	P, P, P, P, P, P, P, P, P, P, P, X, X, X, P, P,	/* 50 */
	X, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,	/* 60 */
	P, P, J, P, P, J, P, P, P, P, P, X, P, X, P, X,	/* 70 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* 80 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* 90 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* a0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* b0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* c0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* d0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* e0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* f0 */
};

/* A line starting at d (the file's start, or after a line end). */
static bool
js_line(const unsigned char *d, size_t len)
{
	return starts(d, len, "import ") || starts(d, len, "export ");
}

static bool
plain_text(const unsigned char *d, size_t len)
{
	static const char *const js[] = { "use strict", "use asm",
	    "require(", "(function" };
	static const char *const mail[] = { "From ", "Forward to",
	    "Pipe to", "Article", "BABYL" };
	size_t	i, n, k;

	if (len < 2 || !((d[0] >= 'A' && d[0] <= 'Z') ||
	    (d[0] >= 'a' && d[0] <= 'z') || (d[0] >= '0' && d[0] <= '9') ||
	    d[0] >= 0xc2) || starts(d, len, "\xef\xbb\xbf") ||
	    starts(d, len, "MZ") || starts(d, len, "GIF8") ||
	    (d[0] == 'P' && len > 1 && d[1] >= '0' && d[1] <= '9') ||
	    header_line(d, len) || js_line(d, len))
		return false;
	for (k = 0; k < sizeof(mail) / sizeof(mail[0]); k++)
		if (starts(d, len, mail[k]))
			return false;
	/* Most bytes are P: a tight loop over them, a switch for the rest. */
	for (i = 0; i < len; i += n) {
		while (pt_class[d[i]] == P)
			if (++i == len)
				return true;
		n = 1;
		switch (pt_class[d[i]]) {
		case P:
			break;
		case X:
			return false;
		case N:
			if (js_line(d + i + 1, len - i - 1))
				return false;
			break;
		case J:
			for (k = 0; k < sizeof(js) / sizeof(js[0]); k++)
				if (d[i] == (unsigned char)js[k][0] &&
				    starts(d + i, len - i, js[k]))
					return false;
			break;
		default:	/* H */
			if ((n = utf8_seq(d + i, len - i)) == 0)
				return false;
			break;
		}
	}
	return true;
}

enum ft_kind
filetype_fast(const unsigned char *d, size_t len)
{
	if (starts(d, len, "\x89PNG\r\n\x1a\n") ||
	    starts(d, len, "\xff\xd8\xff") || starts(d, len, "GIF87a") ||
	    starts(d, len, "GIF89a"))
		return FT_IMAGE;
	if (plain_text(d, len))
		return FT_TEXT;
	return FT_UNKNOWN;
}

bool
filetype_ole2_may_be_msi(const unsigned char *d, size_t len)
{
	/* The class id as a directory entry stores it (little-endian). */
	static const unsigned char msi[16] = {
		0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46
	};
	const unsigned char	*p = d, *end = d + len;

	/* 0x84 is rare in OLE2 data: memchr, then the 16 bytes. */
	while ((size_t)(end - p) >= sizeof(msi) &&
	    (p = memchr(p, msi[0], (size_t)(end - p) - sizeof(msi) + 1)) !=
	    NULL) {
		if (memcmp(p, msi, sizeof(msi)) == 0)
			return true;
		p++;
	}
	return false;
}
