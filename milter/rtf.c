/*
 * rtf.c: embedded objects in RTF documents.
 *
 * Takes the RTF text.  Any \object group or \objdata gives
 * OFFICE_RTF_OBJECT.  Each \objdata is hex-decoded (whitespace, nested
 * groups and unknown control words skipped, \binN raw bytes taken as
 * they are), its OLE1 ObjectHeader (OLEVersion, FormatID, ClassName,
 * TopicName, ItemName) is skipped and the NativeData goes back through
 * content_analyze() as "<path>/objectN": for the "Package" class the
 * packaged file itself, under its own name.  External references
 * (extref.c: {\*\template}, INCLUDETEXT fields, a linked object's
 * source, an OLE2Link's URL moniker) are OFFICE_REMOTE_TEMPLATE.
 *
 * Bounds: at most RTF_MAX_OBJECTS objects; decoded data is cut at
 * limits.office_stream_bytes; every length in the OLE1 and Packager
 * headers is checked against what is there.  Ignores: the document
 * text, \objupdate and other object properties, obfuscations that split the \objdata keyword itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "lurewall.h"
#include "content.h"
#include "extref.h"
#include "office_int.h"
#include "analyzer.h"

#define RTF_MAX_OBJECTS	32

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
rtf_brace(unsigned char c, unsigned *depth)
{
	if (c == '{') {
		(*depth)++;
		return true;
	}
	return (*depth)-- != 0;
}

size_t
rtf_skip_word(const unsigned char *p, size_t len, size_t i)
{
	i++;
	while (i < len && is_alpha(p[i]))
		i++;
	if (i < len && p[i] == '-')
		i++;
	while (i < len && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i < len && p[i] == ' ')
		i++;
	return i;
}

/* Is the control word w (without '\') at p[i], ended by a non-letter? */
static bool
word_at(const unsigned char *p, size_t len, size_t i, const char *w)
{
	size_t	 n = strlen(w);

	return i < len && p[i] == '\\' && len - i - 1 >= n &&
	    memcmp(p + i + 1, w, n) == 0 &&
	    (i + 1 + n == len || !is_alpha(p[i + 1 + n]));
}

/*
 * Decode the hex data of the \objdata that starts at p[i] (just after
 * the word), until its group closes.  Returns a malloc'd buffer.
 */
static enum lw_err
decode_objdata(const unsigned char *p, size_t len, size_t i, size_t max,
    unsigned char **out, size_t *outlen)
{
	unsigned char	*o;
	size_t		 n = 0, k, cap;
	unsigned	 depth = 0;
	int		 hi = -1, v;
	unsigned long	 bin;

	/* \bin data is 1:1, hex 2:1: the rest of the file bounds both. */
	cap = len - i + 1;
	if (cap > max)
		cap = max;
	if ((o = malloc(cap + 1)) == NULL)
		return LW_ENOMEM;
	while (i < len && n < cap) {
		if (p[i] == '{' || p[i] == '}') {
			if (!rtf_brace(p[i], &depth))
				break;
			i++;
		} else if (p[i] == '\\') {
			if (word_at(p, len, i, "bin")) {
				i += 4;
				for (bin = 0; i < len && p[i] >= '0' &&
				    p[i] <= '9' && bin < (1UL << 40); i++)
					bin = bin * 10 + (unsigned long)(p[i] -
					    '0');
				if (i < len && p[i] == ' ')
					i++;
				for (k = 0; k < bin && i < len && n < cap; k++)
					o[n++] = p[i++];
				continue;
			}
			/* Skip any other control word or symbol. */
			i = rtf_skip_word(p, len, i);
		} else {
			if (depth == 0 && (v = hexval(p[i])) >= 0) {
				if (hi < 0)
					hi = v;
				else {
					o[n++] = (unsigned char)(hi << 4 | v);
					hi = -1;
				}
			}
			i++;
		}
	}
	*out = o;
	*outlen = n;
	return LW_OK;
}

/* LengthPrefixedAnsiString at *pos: skip it, return its text (max 63). */
static bool
lpas(const unsigned char *d, size_t n, size_t *pos, char *s, size_t ssz)
{
	uint32_t	 l;
	size_t		 c;

	if (n - *pos < 4)
		return false;
	l = le32(d + *pos);
	*pos += 4;
	if (l > n - *pos)
		return false;
	c = l < ssz ? l : ssz - 1;
	memcpy(s, d + *pos, c);
	s[c] = '\0';
	*pos += l;
	return true;
}

/* A NUL-terminated string inside [*pos, n); false when unterminated. */
static const char *
cstr(const unsigned char *d, size_t n, size_t *pos)
{
	const unsigned char *z;
	const char	*s;

	if (*pos >= n || (z = memchr(d + *pos, '\0', n - *pos)) == NULL)
		return NULL;
	s = (const char *)d + *pos;
	*pos = (size_t)(z - d) + 1;
	return s;
}

/*
 * OLE Packager native data: u16 signature, label, source path, u16 u16,
 * u32 temp path length, temp path, u32 data size, data.
 */
static enum lw_err
packaged_file(struct scan_ctx *ctx, const char *part,
    const unsigned char *d, size_t n, unsigned depth, bool *done)
{
	size_t		 pos = 2;
	const char	*label, *base;
	uint32_t	 l;

	*done = false;
	if (n < 2 || (label = cstr(d, n, &pos)) == NULL ||
	    cstr(d, n, &pos) == NULL || n - pos < 8)
		return LW_OK;
	pos += 4;
	l = le32(d + pos);
	pos += 4;
	if (l > n - pos)
		return LW_OK;
	pos += l;
	if (n - pos < 4)
		return LW_OK;
	l = le32(d + pos);
	pos += 4;
	if (l > n - pos)
		return LW_OK;
	*done = true;
	base = strrchr(label, '\\');
	base = base != NULL ? base + 1 : label;
	return content_analyze(ctx, part, base, NULL, d + pos, l, depth + 1);
}

static enum lw_err
one_object(struct scan_ctx *ctx, const char *path, unsigned no,
    const unsigned char *d, size_t n, unsigned depth)
{
	char		 cls[64], topic[512], item[64], *part = NULL;
	size_t		 pos = 8;
	uint32_t	 fmt, nsize;
	enum lw_err	 e;
	bool		 done;

	if (n < 8) {
		return findings_add(ctx->fs, "OFFICE_RTF_OBJECT", path,
		    "object %u: %zu bytes of data", no, n);
	}
	fmt = le32(d + 4);
	if (!lpas(d, n, &pos, cls, sizeof(cls)) ||
	    !lpas(d, n, &pos, topic, sizeof(topic)) ||
	    !lpas(d, n, &pos, item, sizeof(item)))
		return findings_add(ctx->fs, "OFFICE_RTF_OBJECT", path,
		    "object %u: OLE1 header does not parse", no);
	/* A linked object's topic names its source: fetched on update. */
	if (fmt == 1 && (e = extref_target(ctx, path, "linked object",
	    topic)) != LW_OK)
		return e;
	if (fmt != 2 || n - pos < 4)
		return findings_add(ctx->fs, "OFFICE_RTF_OBJECT", path,
		    "object %u: class \"%s\", %s", no, cls,
		    fmt == 1 ? "linked" : "no native data");
	nsize = le32(d + pos);
	pos += 4;
	if (nsize > n - pos)
		nsize = (uint32_t)(n - pos);	/* cut, but look at it */
	if ((e = findings_add(ctx->fs, "OFFICE_RTF_OBJECT", path,
	    "object %u: embedded class \"%s\", %u bytes", no, cls,
	    nsize)) != LW_OK)
		return e;
	if (lw_asprintf(&part, "%s/object%u", path, no) != LW_OK)
		return LW_ENOMEM;
	e = LW_OK;
	done = false;
	/* An OLE2Link's moniker holds the URL it loads (CVE-2017-0199). */
	if (strcasecmp(cls, "OLE2Link") == 0)
		e = extref_binary(ctx, path, "OLE2Link object", d + pos,
		    nsize);
	if (e == LW_OK && strcmp(cls, "Package") == 0)
		e = packaged_file(ctx, part, d + pos, nsize, depth, &done);
	if (e == LW_OK && !done)
		e = content_analyze(ctx, part, NULL, NULL, d + pos, nsize,
		    depth + 1);
	free(part);
	return e;
}

enum lw_err
rtf_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *data, size_t len, unsigned depth)
{
	unsigned char	*obj;
	size_t		 i, olen;
	unsigned	 nobj = 0, ndata = 0;
	enum lw_err	 e;

	if ((e = extref_rtf(ctx, path, data, len)) != LW_OK)
		return e;
	for (i = 0; i < len; i++) {
		if (data[i] != '\\')
			continue;
		if (word_at(data, len, i, "object"))
			nobj++;
		if (!word_at(data, len, i, "objdata"))
			continue;
		if (ndata == RTF_MAX_OBJECTS) {
			return findings_add(ctx->fs, "OFFICE_RTF_OBJECT", path,
			    "more than %d objects, the rest not looked at",
			    RTF_MAX_OBJECTS);
		}
		if (scan_expired(ctx))
			return LW_OK;
		ndata++;
		if ((e = decode_objdata(data, len, i + 8,
		    ctx->lim->office_stream_bytes, &obj, &olen)) != LW_OK)
			return e;
		e = one_object(ctx, path, ndata, obj, olen, depth);
		free(obj);
		if (e != LW_OK)
			return e;
	}
	if (ndata == 0 && nobj > 0)
		return findings_add(ctx->fs, "OFFICE_RTF_OBJECT", path,
		    "%u object groups without data", nobj);
	return LW_OK;
}
