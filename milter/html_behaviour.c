/*
 * html_behaviour.c: HTML, SVG and JavaScript attachments judged by what
 * they do when opened, for FILE_HTML_SMUGGLING and FILE_HTML_SCRIPT.
 *
 * Takes the file's bytes.  Returns HTMLB_LURE when the page uses a lure
 * technique:
 *  - HTML smuggling: the page carries the payload itself, a base64
 *    string or byte array of HB_BLOB_MIN characters or more (inline
 *    images and fonts do not count, a literal cut into joined pieces
 *    does), and a script turns it into a file (Blob, atob,
 *    createObjectURL, msSaveOrOpenBlob), or a data:application/ link
 *    with a download attribute saves it;
 *  - a redirect or link to a Windows handler (search-ms:, search:,
 *    ms-msdt:, ms-officecmd:, ms-appinstaller:, ms-word:ofe, ...) that
 *    opens a remote folder or runs a tool;
 *  - an SVG image with a <script> element or a javascript: link (an
 *    image needs no script).
 * HTMLB_SCRIPT when a page has a script and none of those (a report
 * that sorts its own table), HTMLB_NONE otherwise.  Text (HB_TEXT: a
 * bare script, or text libmagic did not call HTML) is only judged for
 * smuggling: a handler named in a text is no redirect.
 *
 * Bounds: looks at the first HB_SCAN_BYTES only; every search is
 * linear.  Ignores: what the script computes (no interpreter), CSS
 * vendor prefixes (-ms-filter: is not a handler).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lurewall.h"
#include "html_behaviour.h"

#define HB_SCAN_BYTES	(8U << 20)
#define HB_BLOB_MIN	4096	/* base64 characters or array bytes */

/* Case-insensitive search of a lower-case ASCII needle; offset or -1. */
static long
find_ci(const unsigned char *d, size_t len, size_t from, const char *needle)
{
	const unsigned char	*p;

	if (from > len ||
	    (p = lw_memmem_ci(d + from, len - from, needle)) == NULL)
		return -1;
	return (long)(p - d);
}

static int
has(const unsigned char *d, size_t len, const char *needle)
{
	return find_ci(d, len, 0, needle) >= 0;
}

static int
b64(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '=' || c == '-' ||
	    c == '_';
}

/* The run starting at d[i] is the body of an image or font data: URL. */
static int
inline_media(const unsigned char *d, size_t i)
{
	static const char *const kinds[] = { "data:image/", "data:font/",
	    "data:application/font", "data:application/x-font",
	    "data:text/css" };
	size_t	 k, back = i < 64 ? i : 64;
	long	 at;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((at = find_ci(d, i, i - back, kinds[k])) >= 0 &&
		    find_ci(d, i, (size_t)at, ";base64,") >= 0)
			return 1;
	return 0;
}

/* "'+'", "\" + \"": a string literal cut and joined again. */
static size_t
joint_len(const unsigned char *d, size_t len, size_t i)
{
	size_t	 k = i;
	unsigned char q = d[i];

	if (q != '"' && q != '\'')
		return 0;
	for (k++; k < len && (d[k] == ' ' || d[k] == '\n' || d[k] == '\r' ||
	    d[k] == '\t'); k++)
		;
	if (k >= len || d[k] != '+')
		return 0;
	for (k++; k < len && (d[k] == ' ' || d[k] == '\n' || d[k] == '\r' ||
	    d[k] == '\t'); k++)
		;
	if (k >= len || d[k] != q)
		return 0;
	return k - i + 1;
}

/*
 * The longest base64 run that is not an inline image or font (line
 * breaks and literal joints do not end it) and the longest run of a
 * numeric array ("77,90,144,...").
 */
static void
longest_runs(const unsigned char *d, size_t len, size_t *b64run,
    size_t *arrrun)
{
	uint64_t seen[2] = { 0, 0 };
	size_t	 i, j, run = 0, arr = 0, distinct = 0;
	int	 media = 0;
	unsigned char c, prev = 0;

	*b64run = *arrrun = 0;
	for (i = 0; i < len; prev = d[i], i++) {
		c = d[i];
		if (b64(c) && !(c == '+' && run == 0)) {
			if (run++ == 0) {
				media = inline_media(d, i);
				seen[0] = seen[1] = 0;
				distinct = 0;
			}
			if ((seen[c >> 6 & 1] & (1ULL << (c & 63))) == 0) {
				seen[c >> 6 & 1] |= 1ULL << (c & 63);
				distinct++;
			}
		} else if (run > 0 && (c == '\n' || c == '\r' || c == '\\'))
			;	/* a wrapped literal */
		else if (run > 0 && (j = joint_len(d, len, i)) > 0)
			i += j - 1;
		else {
			/* "=====" is a rule line, not data: want variety. */
			if (!media && distinct >= 16 && run > *b64run)
				*b64run = run;
			run = 0;
		}
		if (isdigit(c) || (c == ',' && arr > 0) ||
		    (c == ' ' && prev == ',') ||
		    (arr > 0 && (c == 'x' || c == 'X') && prev == '0') ||
		    (arr > 0 && isxdigit(c) && (isxdigit(prev) ||
		    prev == 'x' || prev == 'X')))
			arr++;
		else {
			if (arr > *arrrun)
				*arrrun = arr;
			arr = 0;
		}
	}
	if (!media && distinct >= 16 && run > *b64run)
		*b64run = run;
	if (arr > *arrrun)
		*arrrun = arr;
}

/* A handler scheme at p, not a CSS "-ms-" prefix or part of a word. */
static const char *
handler_at(const unsigned char *d, size_t len)
{
	static const char *const schemes[] = {
		"search-ms:", "search:query=", "ms-msdt:", "ms-officecmd:",
		"ms-appinstaller:", "ms-word:", "ms-excel:", "ms-powerpoint:",
		"ms-settings:", "ms-cxh:", "ms-search:", "ms-its:",
		"mk:@msitstore:",
	};
	size_t	 i;
	long	 at;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		for (at = find_ci(d, len, 0, schemes[i]); at >= 0;
		    at = find_ci(d, len, (size_t)at + 1, schemes[i])) {
			if (at > 0 && (isalnum(d[at - 1]) || d[at - 1] == '-'))
				continue;
			return schemes[i];
		}
	}
	return NULL;
}

enum htmlb
html_behaviour(const unsigned char *d, size_t len, enum hb_mode mode,
    char *why, size_t whysz)
{
	const char	*h;
	size_t		 b64run, arrrun;
	int		 script, blob, save, big;

	if (len > HB_SCAN_BYTES)
		len = HB_SCAN_BYTES;
	why[0] = '\0';
	script = mode == HB_TEXT || has(d, len, "<script") || has(d, len, "javascript:") ||
	    has(d, len, "function(") || has(d, len, "function (") ||
	    has(d, len, "=>");
	if (mode != HB_TEXT && (h = handler_at(d, len)) != NULL) {
		snprintf(why, whysz, "opens the Windows handler %s", h);
		return HTMLB_LURE;
	}
	if (mode == HB_SVG && (has(d, len, "<script") || has(d, len, "javascript:"))) {
		snprintf(why, whysz, "an SVG image with script");
		return HTMLB_LURE;
	}
	/*
	 * Every download keyword holds "download" and four of the Blob
	 * ones "blob": one search each settles most texts, which have
	 * neither.
	 */
	save = has(d, len, "download") && (has(d, len, ".download") ||
	    has(d, len, "download=") || has(d, len, "\"download\"") ||
	    has(d, len, "'download'") || has(d, len, "download ="));
	blob = (has(d, len, "blob") && (has(d, len, "mssaveoropenblob") ||
	    has(d, len, "mssaveblob") || has(d, len, "new blob") ||
	    has(d, len, "blob("))) || has(d, len, "createobjecturl") ||
	    has(d, len, "atob(");
	if (!blob && !save)
		goto plain;
	/* Every technique carries the payload in the page itself. */
	longest_runs(d, len, &b64run, &arrrun);
	big = b64run >= HB_BLOB_MIN || arrrun >= HB_BLOB_MIN;
	if (big && ((blob && script) || (save &&
	    has(d, len, "data:application/")))) {
		snprintf(why, whysz, "builds a file in the browser from a "
		    "%zu-character %s (%s)", b64run >= arrrun ? b64run :
		    arrrun, b64run >= arrrun ? "base64 string" : "byte array",
		    has(d, len, "mssaveoropenblob") ? "msSaveOrOpenBlob" :
		    has(d, len, "createobjecturl") ? "createObjectURL" :
		    blob ? "Blob/atob" : "data: URL download");
		return HTMLB_LURE;
	}
plain:
	if (script && mode != HB_TEXT) {
		snprintf(why, whysz, "a script without download or "
		    "redirect techniques");
		return HTMLB_SCRIPT;
	}
	return HTMLB_NONE;
}
