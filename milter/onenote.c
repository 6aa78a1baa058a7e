/*
 * onenote.c: the files embedded in a OneNote section (.one,
 * MS-ONESTORE).  Inserted files and pictures are stored as
 * FileDataStoreObject structures: the header GUID
 * {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, a 64-bit length, 12 bytes we
 * skip, the file's bytes, then the footer GUID
 * {71FBA722-0F79-4A0B-BB13-899256426B24}.  Each one goes back through
 * content_analyze() one level deeper, under the part path
 * "<section path>/embedded-N", so an .hta, .cmd, .js, .lnk or .exe on
 * the page gives its own FILE_* finding while a page of photos stays
 * clean (FILE_ONENOTE alone is scored low).
 *
 * Names: an embedded file's name is a property value stored as a
 * 32-bit byte count followed by UTF-16LE text; every such string that
 * looks like a file name (an extension, no path separator, no line
 * break) meets the FILE_* name rules under "<section path>/<name>".
 *
 * Bounds: the section is walked once, linearly; at most
 * limits.archive_entries objects; an object whose length runs past the
 * end of the file is OFFICE_MALFORMED and analysed on what is there;
 * limits.archive_depth as for archives.  Ignores: the revision store
 * itself (pages, text, ink), encrypted sections, .onetoc2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"
#include "content.h"
#include "filetype.h"
#include "onenote.h"
#include "analyzer.h"

#define ON_NAME_MAX	255

static const unsigned char fdso_header[16] = {
	0xe7, 0x16, 0xe3, 0xbd, 0x65, 0x26, 0x11, 0x45,
	0xa4, 0xc4, 0x8d, 0x4d, 0x0b, 0x7a, 0x9e, 0xac };

/* A UTF-16LE file name of n bytes at p, as ASCII-safe UTF-8, or NULL. */
static char *
utf16_name(const unsigned char *p, size_t n)
{
	char	 buf[ON_NAME_MAX * 3 + 1];
	size_t	 i, o = 0;
	bool	 dot = false;
	unsigned c;

	if (n < 6 || n > ON_NAME_MAX * 2 || n % 2 != 0)
		return NULL;
	/* A trailing NUL is allowed. */
	if (p[n - 2] == 0 && p[n - 1] == 0)
		n -= 2;
	for (i = 0; i < n; i += 2) {
		c = le16(p + i);
		if (c < 0x20 || c == '/' || c == '\\' || c == ':' ||
		    (c >= 0xd800 && c <= 0xdfff))
			return NULL;
		if (c == '.')
			dot = true;
		if (c < 0x80)
			buf[o++] = (char)c;
		else if (c < 0x800) {
			buf[o++] = (char)(0xc0 | c >> 6);
			buf[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			buf[o++] = (char)(0xe0 | c >> 12);
			buf[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			buf[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	buf[o] = '\0';
	if (!dot || buf[o - 1] == '.' || buf[0] == '.')
		return NULL;
	return lw_strdup(buf);
}

/*
 * Length-prefixed UTF-16LE strings that look like file names.  Linear:
 * each 4-byte-aligned offset is tried once.
 */
static enum lw_err
check_names(struct scan_ctx *ctx, const char *path,
    const unsigned char *d, size_t len)
{
	size_t		 p, n;
	unsigned	 found = 0;
	char		*name, *npath;

	for (p = 0; len >= 4 && p <= len - 4 &&
	    found < ctx->lim->archive_entries; p++) {
		if ((p & 0xffff) == 0 && scan_expired(ctx))
			break;
		n = le32(d + p);
		if (n < 6 || n > ON_NAME_MAX * 2 || n > len - p - 4 ||
		    d[p + 5] != 0 || d[p + 4] < 0x20)
			continue;
		if ((name = utf16_name(d + p + 4, n)) == NULL)
			continue;
		found++;
		if ((npath = archive_join(path, name)) == NULL) {
			free(name);
			return LW_ENOMEM;
		}
		filetype_check_name(ctx, npath, name);
		free(npath);
		free(name);
		p += 3 + n;
	}
	return LW_OK;
}

enum lw_err
onenote_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *d, size_t len, unsigned depth)
{
	const unsigned char	*h;
	size_t			 pos = 0, start;
	uint64_t		 cb;
	unsigned		 n = 0;
	char			*epath, leaf[32];
	enum lw_err		 e;

	if (path == NULL)
		path = "";
	if (archive_too_deep(ctx, path, depth))
		return LW_OK;
	if ((e = check_names(ctx, path, d, len)) != LW_OK)
		return e;
	while (pos < len && (h = memmem(d + pos, len - pos, fdso_header,
	    sizeof(fdso_header))) != NULL) {
		start = (size_t)(h - d);
		if (scan_expired(ctx))
			break;
		if (n >= ctx->lim->archive_entries) {
			archive_limit(ctx, path, "archive_entries",
			    ctx->lim->archive_entries);
			break;
		}
		if (len - start < 36) {
			(void)findings_add(ctx->fs, "OFFICE_MALFORMED", path,
			    "OneNote file data object cut");
			break;
		}
		cb = le64(h + 16);
		start += 36;
		if (cb > len - start) {
			(void)findings_add(ctx->fs, "OFFICE_MALFORMED", path,
			    "OneNote file data object of %llu bytes runs past"
			    " the end", (unsigned long long)cb);
			cb = len - start;
		}
		n++;
		snprintf(leaf, sizeof(leaf), "embedded-%u", n);
		if ((epath = archive_join(path, leaf)) == NULL)
			return LW_ENOMEM;
		e = content_analyze(ctx, epath, NULL, NULL, d + start,
		    (size_t)cb, depth + 1);
		free(epath);
		if (e != LW_OK)
			return e;
		pos = start + (size_t)cb;
	}
	return LW_OK;
}
