/*
 * embedded.c: files embedded in a compound-file Office document, sent
 * back through content_analyze() one level deeper as if attached:
 *
 *   - OLE Package objects: the "\1Ole10Native" stream (a .doc or .xls
 *     carrying an .lnk, .exe, .js ...): label, the file's original
 *     path (its name is the part name, "1/a.doc/invoice.lnk"), a temp
 *     path, then the data;
 *   - "Package" streams: an embedded OOXML document's bytes (a .docx
 *     inside a .doc);
 *   - PowerPoint 97-2003: ExOleObjStg records (type 0x1011) of the
 *     "PowerPoint Document" stream, zlib-compressed when their instance
 *     is 1.  They hold embedded objects and the VBA project storage, so
 *     a .ppt's macros come out here as a compound file with a VBA
 *     storage (OFFICE_VBA at "1/a.ppt/ExOleObjStg-1").
 *
 * Bounds: limits.archive_depth (as archives), at most
 * limits.archive_entries objects per document, every object at most
 * limits.office_stream_bytes (a compressed one is inflated in a
 * bounded buffer and charged to the message's archive_total_bytes);
 * PowerPoint records are walked linearly.  A broken Ole10Native header
 * or an ExOleObjStg that does not inflate is OFFICE_MALFORMED.
 * Ignores: linked (not embedded) objects, ObjectPool "CONTENTS" streams
 * of other servers, OLE2 "\1CompObj" metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"
#include "cfb.h"
#include "content.h"
#include "embedded.h"
#include "analyzer.h"

#define EM_NAME_MAX	260

struct em {
	struct scan_ctx	*ctx;
	const char	*part;
	unsigned	 depth;
	unsigned	 n;		/* objects analysed */
};

static enum lw_err
em_analyse(struct em *m, const char *name, const unsigned char *d,
    size_t len)
{
	char		*path, leaf[40];
	enum lw_err	 e;

	if (m->n >= m->ctx->lim->archive_entries) {
		archive_limit(m->ctx, m->part, "archive_entries",
		    m->ctx->lim->archive_entries);
		return LW_OK;
	}
	m->n++;
	if (name == NULL || *name == '\0') {
		snprintf(leaf, sizeof(leaf), "embedded-%u", m->n);
		name = leaf;
	}
	if ((path = archive_join(m->part, name)) == NULL)
		return LW_ENOMEM;
	e = content_analyze(m->ctx, path, name != leaf ? name : NULL, NULL,
	    d, len, m->depth + 1);
	free(path);
	return e;
}

/* A NUL-terminated string at *p, at most max bytes; false if none. */
static bool
cstr(const unsigned char *d, size_t len, size_t *p, const char **s,
    size_t *n)
{
	const unsigned char	*z;

	if (*p >= len || (z = memchr(d + *p, '\0', len - *p)) == NULL)
		return false;
	*s = (const char *)d + *p;
	*n = (size_t)(z - (d + *p));
	*p += *n + 1;
	return true;
}

static enum lw_err
ole10native(struct em *m, const char *spath, const unsigned char *d,
    size_t len)
{
	const char	*label, *file, *base;
	size_t		 p = 4, ln, fn, k;
	uint64_t	 tlen, dlen;
	char		*name;
	enum lw_err	 e;

	if (len < 6 || len - 4 < 2)
		goto bad;
	if (le32(d) < len - 4)
		len = 4 + le32(d);
	p += 2;					/* type */
	if (!cstr(d, len, &p, &label, &ln) || !cstr(d, len, &p, &file, &fn))
		goto bad;
	if (len - p < 8)
		goto bad;
	p += 4;					/* two unknown words */
	tlen = le32(d + p);
	p += 4;
	if (tlen > len - p || len - p - tlen < 4)
		goto bad;
	p += tlen;
	dlen = le32(d + p);
	p += 4;
	if (dlen > len - p)
		goto bad;
	/* The name Windows gives the dropped file: the path's last part. */
	base = file;
	for (k = 0; k < fn; k++)
		if (file[k] == '\\' || file[k] == '/')
			base = file + k + 1;
	fn -= (size_t)(base - file);
	if (fn == 0) {
		base = label;
		fn = ln;
	}
	if ((name = lw_strndup(base, fn > EM_NAME_MAX ? EM_NAME_MAX :
	    fn)) == NULL)
		return LW_ENOMEM;
	e = em_analyse(m, name, d + p, (size_t)dlen);
	free(name);
	return e;
bad:
	return findings_add(m->ctx->fs, "OFFICE_MALFORMED", m->part,
	    "%s: OLE package header does not parse", spath);
}

/* Inflate a zlib stream into at most max bytes (malloc'd). */
static enum lw_err
inflate_bounded(struct scan_ctx *ctx, const unsigned char *src, size_t n,
    uint64_t want, unsigned char **out, size_t *outlen, bool *cut)
{
	z_stream	 z;
	uint64_t	 max = ctx->lim->office_stream_bytes;
	unsigned char	*buf;
	int		 r;

	*out = NULL;
	*outlen = 0;
	*cut = false;
	if (want < max)
		max = want;
	if (max > ctx->lim->archive_total_bytes - ctx->inflated) {
		max = ctx->lim->archive_total_bytes - ctx->inflated;
		*cut = true;
	}
	if ((buf = malloc(max > 0 ? (size_t)max : 1)) == NULL)
		return LW_ENOMEM;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		free(buf);
		return LW_ENOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)src;
	z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)max;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (r != Z_STREAM_END && r != Z_BUF_ERROR && r != Z_OK) {
		free(buf);
		return LW_EMALFORMED;
	}
	*outlen = (size_t)z.total_out;
	ctx->inflated += z.total_out;
	*out = buf;
	return LW_OK;
}

static enum lw_err
ppt_records(struct em *m, const unsigned char *d, size_t len)
{
	size_t		 pos = 0, body;
	uint32_t	 rlen;
	unsigned	 vi, type, k = 0;
	unsigned char	*obj;
	size_t		 olen;
	char		 name[40];
	enum lw_err	 e;
	bool		 cut;

	while (len >= 8 && pos <= len - 8) {
		vi = le16(d + pos);
		type = le16(d + pos + 2);
		rlen = le32(d + pos + 4);
		body = pos + 8;
		if ((vi & 0x0f) == 0x0f) {	/* a container: step in */
			pos = body;
			continue;
		}
		if (rlen > len - body)
			break;
		pos = body + rlen;
		if (type != 0x1011)
			continue;
		if (scan_expired(m->ctx))
			break;
		snprintf(name, sizeof(name), "ExOleObjStg-%u", ++k);
		if ((vi >> 4) == 0) {
			if ((e = em_analyse(m, name, d + body, rlen)) != LW_OK)
				return e;
			continue;
		}
		if (rlen < 4)
			continue;
		e = inflate_bounded(m->ctx, d + body + 4, rlen - 4,
		    le32(d + body), &obj, &olen, &cut);
		if (e == LW_EMALFORMED) {
			(void)findings_add(m->ctx->fs, "OFFICE_MALFORMED",
			    m->part, "%s does not inflate", name);
			continue;
		}
		if (e != LW_OK)
			return e;
		if (cut)
			archive_limit(m->ctx, m->part, "archive_total_bytes",
			    m->ctx->lim->archive_total_bytes);
		e = em_analyse(m, name, obj, olen);
		free(obj);
		if (e != LW_OK)
			return e;
	}
	return LW_OK;
}

enum lw_err
embedded_scan_ppt(struct scan_ctx *ctx, const char *part,
    const unsigned char *d, size_t len, unsigned depth)
{
	struct em	 m;

	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	m.part = part;
	m.depth = depth;
	if (depth + 1 >= ctx->lim->archive_depth) {
		archive_limit(ctx, part, "archive_depth",
		    ctx->lim->archive_depth);
		return LW_OK;
	}
	return ppt_records(&m, d, len);
}

enum lw_err
embedded_scan_ole(struct scan_ctx *ctx, const char *part, struct cfb *c,
    unsigned depth)
{
	struct em	 m;
	unsigned char	*s;
	size_t		 i, n;
	enum lw_err	 e = LW_OK;
	const char	*name;

	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	m.part = part;
	m.depth = depth;
	for (i = 0; i < c->nent && e == LW_OK; i++) {
		if (c->ent[i].type != CFB_TYPE_STREAM ||
		    c->ent[i].path == NULL || (name = c->ent[i].name) == NULL)
			continue;
		if (strcmp(name, "\001Ole10Native") != 0 &&
		    strcasecmp(name, "Package") != 0 &&
		    strcmp(name, "PowerPoint Document") != 0)
			continue;
		if (scan_expired(ctx))
			break;
		if (depth + 1 >= ctx->lim->archive_depth) {
			archive_limit(ctx, part, "archive_depth",
			    ctx->lim->archive_depth);
			break;
		}
		if ((e = cfb_read(c, (int)i, &s, &n)) != LW_OK) {
			if (e == LW_ENOMEM)
				return e;
			e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
			    "%s: %s", c->ent[i].path, c->why);
			continue;
		}
		if (name[0] == '\001')
			e = ole10native(&m, c->ent[i].path, s, n);
		else if (strcmp(name, "PowerPoint Document") == 0)
			e = ppt_records(&m, s, n);
		else
			e = em_analyse(&m, NULL, s, n);
		free(s);
	}
	return e;
}
