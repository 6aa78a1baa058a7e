/*
 * ooxml.c: OOXML packages (and .xlsb) opened with libzip from memory.
 *
 * Takes the zip's bytes and its part path (the last component is the
 * file name).  Looks at part names and a few small XML parts:
 * any .../vbaProject.bin is read and analysed as a compound file with
 * the VBA rules (its findings name "<path>/<entry>"); xl/macrosheets/
 * parts or a macrosheet content type give OFFICE_XLM; an
 * _xlnm.Auto_Open (or Auto_Open...) defined name in xl/workbook.xml
 * gives OFFICE_XLM_AUTOEXEC; a macro-enabled content type or a VBA
 * project under a macro-free extension (.docx, .xlsx, .pptx, ...) gives
 * OFFICE_MACRO_RENAMED; external references (extref.c: a relationship
 * with TargetMode="External" to a remote attachedTemplate, oleObject,
 * frame, subDocument or aFChunk; INCLUDETEXT fields) give
 * OFFICE_REMOTE_TEMPLATE.  Files inside the package (word/embeddings/,
 * the parts an internal aFChunk names) go through content_analyze() as
 * attachments, "<path>/<part>", while depth < limits.archive_depth.
 *
 * Bounds: at most limits.archive_entries entries are looked at; a part
 * is read only if both its declared and its actual size stay within
 * limits.office_stream_bytes; inflated bytes count against
 * limits.archive_total_bytes (ctx->inflated).  Ignores: the document
 * text, DDE fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zip.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"
#include "content.h"
#include "extref.h"
#include "office.h"
#include "xlm.h"
#include "office_int.h"
#include "analyzer.h"

#define PKG_MAX_CHUNKS	16

struct pkg {
	char		*chunk[PKG_MAX_CHUNKS];	/* internal aFChunk parts */
	size_t		 nchunk;
	bool		 vba;		/* a vbaProject.bin part */
	bool		 macro_ct;	/* macroEnabled content type */
	bool		 xlm_ct;	/* macrosheet content type */
	bool		 xlm_part;	/* an xl/macrosheets/ part */
	struct xlm_signs xlm;		/* what its formulas call */
	bool		 hidden_sheet;	/* a hidden sheet in workbook.xml */
};

static bool
ends_with_ci(const char *s, const char *suf)
{
	size_t	 n = strlen(s), m = strlen(suf);

	return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/*
 * [Content_Types].xml: a "macroEnabled" or "macrosheet" type (any
 * case).  Both start with "macro": one search for it, not one pass
 * over the part for each.
 */
static void
content_types(struct pkg *pk, const char *xml)
{
	const char	*p;

	/* The last such part decides, as for any repeated part name. */
	pk->macro_ct = pk->xlm_ct = false;
	for (p = xml; (!pk->macro_ct || !pk->xlm_ct) &&
	    (p = strcasestr(p, "macro")) != NULL; p++) {
		if (strncasecmp(p + 5, "Enabled", 7) == 0)
			pk->macro_ct = true;
		else if (strncasecmp(p + 5, "sheet", 5) == 0)
			pk->xlm_ct = true;
	}
}

/*
 * Read entry i into a NUL-terminated malloc'd buffer.  LW_ELIMIT (and a
 * finding) when it is larger than a part may be; LW_EMALFORMED (and a
 * finding) when it does not inflate.
 */
static enum lw_err
read_entry(struct scan_ctx *ctx, const char *path, zip_t *za, zip_uint64_t i,
    const char *name, unsigned char **out, size_t *outlen)
{
	zip_stat_t	 st;
	zip_file_t	*zf;
	unsigned char	*buf;
	uint64_t	 max = ctx->lim->office_stream_bytes;
	size_t		 n = 0;
	zip_int64_t	 r;
	enum lw_err	 e;

	*out = NULL;
	*outlen = 0;
	if (zip_stat_index(za, i, 0, &st) != 0 ||
	    (st.valid & ZIP_STAT_SIZE) == 0) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", path,
		    "package part %s: no size", name);
		return e != LW_OK ? e : LW_EMALFORMED;
	}
	if (st.size > max || st.size > ctx->lim->archive_total_bytes -
	    (ctx->inflated < ctx->lim->archive_total_bytes ?
	    ctx->inflated : ctx->lim->archive_total_bytes)) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", path,
		    "limit: package part %s of %llu bytes", name,
		    (unsigned long long)st.size);
		return e != LW_OK ? e : LW_ELIMIT;
	}
	if ((buf = malloc((size_t)st.size + 1)) == NULL)
		return LW_ENOMEM;
	if ((zf = zip_fopen_index(za, i, 0)) == NULL) {
		free(buf);
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", path,
		    "package part %s: %s", name, zip_strerror(za));
		return e != LW_OK ? e : LW_EMALFORMED;
	}
	/* Read one byte more than declared to catch a lying size. */
	for (;;) {
		r = zip_fread(zf, buf + n, (zip_uint64_t)(st.size + 1 - n));
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > st.size)
			break;
	}
	if (r < 0 || n != st.size) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", path,
		    "package part %s: %s", name, r < 0 ?
		    zip_file_strerror(zf) : "size differs from the directory");
		zip_fclose(zf);
		free(buf);
		return e != LW_OK ? e : LW_EMALFORMED;
	}
	zip_fclose(zf);
	ctx->inflated += n;
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return LW_OK;
}

/* The text of every <f> element of a macro sheet part. */
static void
macrosheet_formulas(struct xlm_signs *xs, const char *xml)
{
	const char	*p, *gt, *end;

	for (p = xml; (p = strstr(p, "<f")) != NULL; p = end) {
		end = p + 2;
		if (*end != '>' && *end != ' ')
			continue;
		if ((gt = strchr(p, '>')) == NULL || gt[-1] == '/')
			continue;
		if ((end = strstr(gt, "</f>")) == NULL)
			break;
		xlm_formula(xs, gt + 1, (size_t)(end - gt - 1));
	}
}

/* <definedName name="_xlnm.Auto_Open"> or a user Auto_Open... name. */
static enum lw_err
check_workbook(struct scan_ctx *ctx, const char *path, const char *xml)
{
	const char	*p, *end;
	char		 name[128];

	for (p = xml; (p = strstr(p, "<definedName")) != NULL; p = end) {
		if ((end = strchr(p, '>')) == NULL)
			break;
		if (!extref_xml_attr(p, (size_t)(end - p), "name", name,
		    sizeof(name)))
			continue;
		if (strncasecmp(name, "_xlnm.auto_open", 15) == 0 ||
		    strncasecmp(name, "_xlnm.auto_close", 16) == 0 ||
		    strncasecmp(name, "auto_open", 9) == 0)
			return findings_add(ctx->fs, "OFFICE_XLM_AUTOEXEC",
			    path, "defined name \"%s\" in xl/workbook.xml",
			    name);
	}
	return LW_OK;
}

/* Word parts whose field codes are looked at (INCLUDETEXT, ...). */
static bool
field_part(const char *name)
{
	static const char *const base[] = {
		"document", "header", "footer", "footnotes", "endnotes",
	};
	const char	*b;
	size_t		 i;

	if (strncasecmp(name, "word/", 5) != 0 || !ends_with_ci(name, ".xml"))
		return false;
	b = strrchr(name, '/') + 1;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (strncasecmp(b, base[i], strlen(base[i])) == 0)
			return true;
	return false;
}

/*
 * The part an internal relationship target names, from the .rels part
 * that holds it: "word/_rels/document.xml.rels" + "afchunk.rtf" is
 * "word/afchunk.rtf"; "/x" is from the root; ".." goes up.
 */
static char *
resolve_target(const char *relsname, const char *target)
{
	char		*out, *p;
	const char	*r;
	size_t		 n;

	if (target[0] == '/') {
		n = 0;
		target++;
	} else if ((r = strstr(relsname, "_rels/")) != NULL)
		n = (size_t)(r - relsname);
	else
		n = 0;
	if (lw_asprintf(&out, "%.*s%s", (int)n, relsname, target) != LW_OK)
		return NULL;
	/* "a/b/../c" -> "a/c", as often as it occurs. */
	while ((p = strstr(out, "/../")) != NULL) {
		char *q = p;

		while (q > out && q[-1] != '/')
			q--;
		memmove(q, p + 4, strlen(p + 4) + 1);
	}
	return out;
}

/* Remember the internal aFChunk parts of a .rels (analysed later). */
static enum lw_err
chunk_targets(struct pkg *pk, const char *relsname, const char *xml)
{
	const char	*p, *end;
	char		 type[256], target[512], mode[32], *part;
	size_t		 n;

	for (p = xml; (p = strstr(p, "<Relationship")) != NULL; p = end) {
		if ((end = strchr(p, '>')) == NULL)
			break;
		if (pk->nchunk == PKG_MAX_CHUNKS)
			break;
		n = (size_t)(end - p);
		/* The type first: few relationships are chunks. */
		if (!extref_xml_attr(p, n, "Type", type, sizeof(type)) ||
		    !ends_with_ci(type, "/aFChunk"))
			continue;
		if (extref_xml_attr(p, n, "TargetMode", mode, sizeof(mode)) &&
		    strcasecmp(mode, "External") == 0)
			continue;
		if (!extref_xml_attr(p, n, "Target", target, sizeof(target)))
			continue;
		if ((part = resolve_target(relsname, target)) == NULL)
			return LW_ENOMEM;
		pk->chunk[pk->nchunk++] = part;
	}
	return LW_OK;
}

/* An embedded file or an alternative chunk: analysed as an attachment. */
static bool
inner_file(const struct pkg *pk, const char *name)
{
	size_t	i;

	if (ascii_casestr(name, "/embeddings/") != NULL &&
	    !ends_with_ci(name, "/"))
		return true;
	for (i = 0; i < pk->nchunk; i++)
		if (strcasecmp(pk->chunk[i], name) == 0)
			return true;
	return false;
}

static enum lw_err
inner_entry(struct scan_ctx *ctx, const char *path, zip_t *za,
    zip_uint64_t i, const char *name, unsigned depth)
{
	unsigned char	*d = NULL;
	size_t		 n;
	char		*part = NULL;
	const char	*base;
	enum lw_err	 e;

	if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
		return e == LW_EMALFORMED || e == LW_ELIMIT ? LW_OK : e;
	if (lw_asprintf(&part, "%s/%s", path, name) != LW_OK) {
		free(d);
		return LW_ENOMEM;
	}
	base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	e = content_analyze(ctx, part, base, NULL, d, n, depth + 1);
	free(part);
	free(d);
	return e;
}

static bool
macro_free_name(const char *path)
{
	static const char *const ext[] = {
		".docx", ".dotx", ".xlsx", ".xltx", ".pptx", ".potx",
		".ppsx", ".sldx",
	};
	const char	*base;
	size_t		 i;

	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ends_with_ci(base, ext[i]))
			return true;
	return false;
}

static enum lw_err
entry(struct scan_ctx *ctx, const char *path, zip_t *za, zip_uint64_t i,
    const char *name, struct pkg *pk, unsigned depth)
{
	unsigned char	*d = NULL;
	size_t		 n;
	char		*part = NULL;
	enum lw_err	 e = LW_OK;

	if (ends_with_ci(name, "vbaProject.bin")) {
		pk->vba = true;
		if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
			goto out;
		if (lw_asprintf(&part, "%s/%s", path, name) != LW_OK) {
			e = LW_ENOMEM;
			goto out;
		}
		e = office_scan_ole(ctx, part, d, n, depth);
	} else if (strncasecmp(name, "xl/macrosheets/", 15) == 0 &&
	    name[15] != '\0' && !ends_with_ci(name, "/")) {
		pk->xlm_part = true;
		if ((e = findings_add(ctx->fs, "OFFICE_XLM", path,
		    "Excel 4.0 macro sheet part %s", name)) != LW_OK)
			goto out;
		if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
			goto out;
		macrosheet_formulas(&pk->xlm, (char *)d);
	} else if (strcmp(name, "[Content_Types].xml") == 0) {
		if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
			goto out;
		content_types(pk, (const char *)d);
	} else if (strcasecmp(name, "xl/workbook.xml") == 0) {
		if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
			goto out;
		e = check_workbook(ctx, path, (char *)d);
		if (strstr((char *)d, "state=\"veryHidden\"") != NULL ||
		    strstr((char *)d, "state=\"hidden\"") != NULL)
			pk->hidden_sheet = true;
	} else if (ends_with_ci(name, ".rels")) {
		if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
			goto out;
		if ((e = extref_rels(ctx, path, name, (char *)d)) == LW_OK)
			e = chunk_targets(pk, name, (char *)d);
	} else if (field_part(name)) {
		if ((e = read_entry(ctx, path, za, i, name, &d, &n)) != LW_OK)
			goto out;
		e = extref_fields(ctx, path, name, (char *)d);
	}
out:
	free(part);
	free(d);
	/* A part that could not be read is already a finding. */
	return e == LW_EMALFORMED || e == LW_ELIMIT ? LW_OK : e;
}

enum lw_err
ooxml_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *data, size_t len, unsigned depth)
{
	zip_error_t	 ze;
	zip_source_t	*src;
	zip_t		*za;
	zip_int64_t	 n;
	zip_uint64_t	 i;
	const char	*name;
	struct pkg	 pk;
	enum lw_err	 e = LW_OK;

	memset(&pk, 0, sizeof(pk));
	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(data, len, 0, &ze)) == NULL) {
		zip_error_fini(&ze);
		return LW_ENOMEM;
	}
	za = zip_open_from_source(src, ZIP_RDONLY, &ze);
	/* Its entry names, as for any package (a .exe part, ...). */
	if ((e = archive_scan_package_zip(ctx, path, data, len, depth,
	    za)) != LW_OK) {
		if (za == NULL)
			zip_source_free(src);
		else
			zip_discard(za);
		zip_error_fini(&ze);
		return e;
	}
	if (za == NULL) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", path,
		    "package: %s", zip_error_strerror(&ze));
		zip_source_free(src);
		zip_error_fini(&ze);
		return e;
	}
	zip_error_fini(&ze);
	n = zip_get_num_entries(za, 0);
	if (n > (zip_int64_t)ctx->lim->archive_entries) {
		if ((e = findings_add(ctx->fs, "OFFICE_MALFORMED", path,
		    "limit: package of %lld parts, looking at %u",
		    (long long)n, ctx->lim->archive_entries)) != LW_OK)
			goto out;
		n = ctx->lim->archive_entries;
	}
	for (i = 0; n > 0 && i < (zip_uint64_t)n; i++) {
		if (scan_expired(ctx))
			goto out;
		if ((name = zip_get_name(za, i, 0)) == NULL)
			continue;
		if ((e = entry(ctx, path, za, i, name, &pk, depth)) != LW_OK)
			goto out;
	}
	/* Files inside the document, once its own parts are judged. */
	for (i = 0; n > 0 && i < (zip_uint64_t)n &&
	    depth < ctx->lim->archive_depth; i++) {
		if (scan_expired(ctx))
			goto out;
		if ((name = zip_get_name(za, i, 0)) == NULL ||
		    !inner_file(&pk, name))
			continue;
		if ((e = inner_entry(ctx, path, za, i, name, depth)) != LW_OK)
			goto out;
	}
	if (pk.xlm_part) {
		if (pk.hidden_sheet)
			pk.xlm.flags |= XLM_HIDDEN;
		if ((e = xlm_report(ctx, path, "xl/macrosheets/",
		    &pk.xlm)) != LW_OK)
			goto out;
	}
	if (pk.xlm_ct && !pk.xlm_part &&
	    (e = findings_add(ctx->fs, "OFFICE_XLM", path,
	    "macrosheet content type in [Content_Types].xml")) != LW_OK)
		goto out;
	if ((pk.vba || pk.macro_ct) && macro_free_name(path))
		e = findings_add(ctx->fs, "OFFICE_MACRO_RENAMED", path,
		    "a macro-free name for a package with %s",
		    pk.vba ? "a VBA project (vbaProject.bin)" :
		    "a macro-enabled content type");
out:
	for (i = 0; i < pk.nchunk; i++)
		free(pk.chunk[i]);
	zip_discard(za);
	return e;
}
