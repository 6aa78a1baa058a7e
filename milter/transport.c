/*
 * transport.c: files carried inside text the old ways: uuencode
 * ("begin 644 name" ... "end") and yEnc ("=ybegin ... name=" ...
 * "=yend").  Outlook, Thunderbird and many webmails still show such a
 * block as an attachment, so each decoded file goes through
 * content_analyze() exactly as a MIME attachment would, with the part
 * path "<text part>/<name>" ("1/invoice.xls").
 *
 * Takes one text part's transfer-decoded bytes.  Bounds: at most
 * TR_MAX_FILES files per part; each decoded file is at most
 * limits.archive_entry_bytes (a longer one is analysed on the part
 * that fits); decoding is linear in the input and polls the scan's
 * time budget per file.  A block without its end line ends at the end
 * of the text, as decoders do.  Ignores: BinHex, xxencode, yEnc CRCs
 * and multi-part yEnc reassembly (each part is analysed alone).
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "content.h"
#include "analyzer.h"
#include "transport.h"

#define TR_MAX_FILES	64
#define TR_NAME_MAX	255

struct line {
	const unsigned char	*p;
	size_t			 len;	/* without CR LF */
	size_t			 next;	/* offset of the next line */
};

static bool
next_line(const unsigned char *d, size_t len, size_t pos, struct line *l)
{
	const unsigned char	*nl;

	if (pos >= len)
		return false;
	l->p = d + pos;
	nl = memchr(d + pos, '\n', len - pos);
	l->len = (nl != NULL ? (size_t)(nl - d) : len) - pos;
	l->next = nl != NULL ? (size_t)(nl - d) + 1 : len;
	if (l->len > 0 && l->p[l->len - 1] == '\r')
		l->len--;
	return true;
}

static bool
starts(const struct line *l, const char *s)
{
	size_t	n = strlen(s);

	return l->len >= n && memcmp(l->p, s, n) == 0;
}

/* "begin 644 name": mode of 3 or 4 octal digits, then the name. */
static bool
uu_begin(const struct line *l, char **name)
{
	size_t	i = 6, k;

	if (!starts(l, "begin "))
		return false;
	for (k = 0; i < l->len && l->p[i] >= '0' && l->p[i] <= '7'; i++)
		k++;
	if (k < 3 || k > 4 || i >= l->len || l->p[i] != ' ')
		return false;
	i++;
	if (i >= l->len)
		return false;
	*name = lw_strndup((const char *)l->p + i,
	    l->len - i > TR_NAME_MAX ? TR_NAME_MAX : l->len - i);
	return true;
}

#define UU(c)	(((c) - 0x20) & 0x3f)

/* Decode one uuencoded line onto out (room checked by the caller). */
static void
uu_line(const struct line *l, unsigned char *out, size_t *olen, size_t max)
{
	size_t	n, i;
	unsigned char c[4];

	if (l->len == 0)
		return;
	n = UU(l->p[0]);
	for (i = 1; n > 0 && i < l->len; i += 4) {
		size_t k;

		for (k = 0; k < 4; k++)
			c[k] = i + k < l->len ? UU(l->p[i + k]) : 0;
		if (*olen < max) {
			out[(*olen)++] = (unsigned char)(c[0] << 2 | c[1] >> 4);
			n--;
		}
		if (n > 0 && *olen < max) {
			out[(*olen)++] = (unsigned char)(c[1] << 4 | c[2] >> 2);
			n--;
		}
		if (n > 0 && *olen < max) {
			out[(*olen)++] = (unsigned char)(c[2] << 6 | c[3]);
			n--;
		}
	}
}

/* name=... runs to the end of the =ybegin line (names may hold spaces). */
static char *
y_name(const struct line *l)
{
	size_t	i;

	for (i = 0; i + 5 <= l->len; i++)
		if (memcmp(l->p + i, "name=", 5) == 0 &&
		    (i == 0 || l->p[i - 1] == ' '))
			return lw_strndup((const char *)l->p + i + 5,
			    l->len - i - 5 > TR_NAME_MAX ? TR_NAME_MAX :
			    l->len - i - 5);
	return NULL;
}

static void
y_line(const struct line *l, unsigned char *out, size_t *olen, size_t max)
{
	size_t	i;

	for (i = 0; i < l->len && *olen < max; i++) {
		if (l->p[i] == '=' && i + 1 < l->len) {
			i++;
			out[(*olen)++] = (unsigned char)(l->p[i] - 64 - 42);
		} else
			out[(*olen)++] = (unsigned char)(l->p[i] - 42);
	}
}

static enum lw_err
analyse(struct scan_ctx *ctx, const char *path, const char *name,
    const unsigned char *data, size_t len)
{
	char		*s, *fpath;
	enum lw_err	 e;

	if ((s = lw_sanitize(name, strlen(name), 200)) == NULL)
		return LW_ENOMEM;
	if (lw_asprintf(&fpath, "%s%s%s", *path != '\0' ? path : "1", "/",
	    s) != LW_OK) {
		free(s);
		return LW_ENOMEM;
	}
	e = content_analyze(ctx, fpath, name, NULL, data, len, 0);
	free(fpath);
	free(s);
	return e;
}

enum lw_err
transport_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *d, size_t len)
{
	struct line	 l;
	size_t		 pos = 0, olen, max;
	unsigned char	*out;
	unsigned	 nfiles = 0;
	char		*name;
	enum lw_err	 e;
	bool		 yenc;

	/* "=ybegin " holds "begin ": one search over the text rules both out. */
	if (d == NULL || len < 8 || memmem(d, len, "begin ", 6) == NULL)
		return LW_OK;
	if (path == NULL)
		path = "";
	while (next_line(d, len, pos, &l)) {
		pos = l.next;
		name = NULL;
		yenc = starts(&l, "=ybegin ");
		if (yenc)
			name = y_name(&l);
		else if (!uu_begin(&l, &name))
			continue;
		if (name == NULL && yenc)
			name = lw_strdup("noname");
		if (name == NULL)
			return LW_ENOMEM;
		if (nfiles++ >= TR_MAX_FILES || scan_expired(ctx)) {
			free(name);
			break;
		}
		/* Decoded bytes never outgrow the encoded text. */
		max = len - pos;
		if (max > ctx->lim->archive_entry_bytes)
			max = ctx->lim->archive_entry_bytes;
		if ((out = malloc(max > 0 ? max : 1)) == NULL) {
			free(name);
			return LW_ENOMEM;
		}
		olen = 0;
		while (next_line(d, len, pos, &l)) {
			pos = l.next;
			if (yenc && starts(&l, "=ypart "))
				continue;
			if (yenc ? starts(&l, "=yend") : (l.len == 3 &&
			    memcmp(l.p, "end", 3) == 0))
				break;
			if (yenc)
				y_line(&l, out, &olen, max);
			else
				uu_line(&l, out, &olen, max);
		}
		e = analyse(ctx, path, name, out, olen);
		free(out);
		free(name);
		if (e != LW_OK)
			return e;
	}
	return LW_OK;
}
