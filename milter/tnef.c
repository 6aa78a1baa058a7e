/*
 * tnef.c: Outlook's TNEF wrapper (winmail.dat, application/ms-tnef).
 * A TNEF stream is a signature (0x223E9F78), a key, then attributes:
 * level (1 message, 2 attachment), a 32-bit id, a 32-bit length, the
 * data and a 16-bit checksum.  Every attachment starts with
 * attAttachRendData; attAttachTitle names it and attAttachData holds
 * its bytes.  Each attachment goes back through content_analyze() one
 * level deeper under "<path>/<title>" ("2/winmail.dat/invoice.xls").
 *
 * Our own parser, linear and bounded (Debian's libytnef was not taken:
 * it writes files and trusts lengths): every length is checked against
 * the bytes that are there; at most limits.archive_entries attachments;
 * limits.archive_depth as for archives.  A stream cut short or an
 * attribute running past the end is ARCHIVE_CORRUPT, and what was read
 * until then is still analysed.  Ignores: the message's own attributes
 * and body, MAPI property blocks (attAttachment: long file names come
 * from attAttachTitle only), embedded messages, checksums.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "lurewall.h"
#include "analyzer.h"
#include "archive.h"
#include "content.h"
#include "filetype.h"
#include "tnef.h"

#define TNEF_SIGNATURE		0x223e9f78
#define ATT_ATTACH_RENDDATA	0x00069002
#define ATT_ATTACH_TITLE	0x00018010
#define ATT_ATTACH_DATA		0x0006800f
#define TNEF_NAME_MAX		255

bool
tnef_sniff(const unsigned char *d, size_t len)
{
	return len >= 6 && le32(d) == TNEF_SIGNATURE;
}

struct att {
	const unsigned char	*data;
	size_t			 len;
	char			*title;
	bool			 open;
};

static enum lw_err
flush(struct scan_ctx *ctx, const char *path, struct att *a, unsigned *n,
    unsigned depth)
{
	char		*epath, leaf[32];
	const char	*name;
	enum lw_err	 e = LW_OK;

	if (!a->open)
		return LW_OK;
	a->open = false;
	if (a->data != NULL) {
		(*n)++;
		snprintf(leaf, sizeof(leaf), "attachment-%u", *n);
		name = a->title != NULL && *a->title != '\0' ? a->title : leaf;
		if ((epath = archive_join(path, name)) == NULL)
			e = LW_ENOMEM;
		else
			e = content_analyze(ctx, epath, name == leaf ? NULL :
			    name, NULL, a->data, a->len, depth + 1);
		free(epath);
	} else if (a->title != NULL) {
		/* A name without data (a link, an embedded message). */
		if ((epath = archive_join(path, a->title)) == NULL)
			e = LW_ENOMEM;
		else
			filetype_check_name(ctx, epath, a->title);
		free(epath);
	}
	free(a->title);
	memset(a, 0, sizeof(*a));
	return e;
}

enum lw_err
tnef_scan(struct scan_ctx *ctx, const char *path, const unsigned char *d,
    size_t len, unsigned depth)
{
	struct att	 a;
	size_t		 p = 6, alen;
	uint32_t	 id;
	unsigned	 n = 0;
	enum lw_err	 e = LW_OK;

	if (path == NULL)
		path = "";
	if (archive_too_deep(ctx, path, depth))
		return LW_OK;
	memset(&a, 0, sizeof(a));
	while (p < len && e == LW_OK) {
		if (len - p < 9) {
			(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", path,
			    "TNEF: attribute header cut");
			break;
		}
		id = le32(d + p + 1);
		alen = le32(d + p + 5);
		p += 9;
		if (alen > len - p) {
			(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", path,
			    "TNEF: attribute of %zu bytes runs past the end",
			    alen);
			alen = len - p;
		}
		switch (id) {
		case ATT_ATTACH_RENDDATA:
			if ((e = flush(ctx, path, &a, &n, depth)) != LW_OK)
				break;
			if (n >= ctx->lim->archive_entries) {
				archive_limit(ctx, path, "archive_entries",
				    ctx->lim->archive_entries);
				p = len;
				break;
			}
			a.open = true;
			break;
		case ATT_ATTACH_TITLE:
			free(a.title);
			a.title = lw_strndup((const char *)d + p,
			    strnlen((const char *)d + p, alen >
			    TNEF_NAME_MAX ? TNEF_NAME_MAX : alen));
			if (a.title == NULL)
				e = LW_ENOMEM;
			a.open = true;
			break;
		case ATT_ATTACH_DATA:
			a.data = d + p;
			a.len = alen;
			a.open = true;
			break;
		default:
			break;
		}
		if (p >= len)
			break;
		p += alen;
		p = len - p < 2 ? len : p + 2;		/* checksum */
		if (scan_expired(ctx))
			break;
	}
	if (e == LW_OK)
		e = flush(ctx, path, &a, &n, depth);
	free(a.title);
	return e;
}
