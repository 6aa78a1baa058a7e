/*
 * extref.c: external references that make an Office document fetch
 * something when it is opened: OFFICE_REMOTE_TEMPLATE.
 *
 * Since Office blocks macros in files from the internet, a lure carries
 * none: its settings.xml.rels names a template (or its document.xml.rels
 * an OLE object, a frame, a sub-document or an alternative chunk) on the
 * attacker's server, and Word fetches it on open.  The forms that fetch:
 * http(s), UNC paths (\\host\share, also WebDAV: \\host@SSL\DavWWWRoot
 * and \\host@80\...), file: URLs naming a host, mhtml:, and protocol
 * handlers (ms-msdt:, ms-word:, search-ms:, ...).  A local path
 * (C:\Users\...\Normal.dotm, file:///C:/...) is what an ordinary
 * document from a company PC names, and a relative target is a part of
 * the package: neither is a finding.
 *
 * Takes a .rels part, a WordprocessingML part (field codes) or an RTF
 * file; adds OFFICE_REMOTE_TEMPLATE with the relationship type or field,
 * the part and the target, and "(host H)" so that a policy's
 * trusted_template_hosts can drop it.
 *
 * Bounds: targets cut at TARGET_MAX bytes; field text of one part at
 * FIELD_TEXT_MAX bytes; at most EXTREF_MAX_HITS findings per part; RTF
 * groups read to RTF_GROUP_MAX bytes.  Ignores: hyperlinks, linked
 * images (TargetMode=External of those types: newsletters have them),
 * externalLinkPath (a workbook linked to another workbook), DDE.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "lurewall.h"
#include "extref.h"
#include "office_int.h"
#include "analyzer.h"

#define TARGET_MAX	1024
#define FIELD_TEXT_MAX	(256 * 1024)
#define EXTREF_MAX_HITS	16
#define RTF_GROUP_MAX	2048
#define UTF16_RUN_MIN	8

static bool
ends_with_ci(const char *s, const char *suf)
{
	size_t	 n = strlen(s), m = strlen(suf);

	return n >= m && strcasecmp(s + n - m, suf) == 0;
}

static bool
is_sep(char c)
{
	return c == '/' || c == '\\';
}

/* Copy the host at s (ended by a separator, ':', '@', '?' or '#'). */
static void
copy_host(const char *s, char *host, size_t hostsz)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && !is_sep(s[i]) && s[i] != ':' &&
	    s[i] != '@' && s[i] != '?' && s[i] != '#' && s[i] != '"' &&
	    i + 1 < hostsz; i++)
		host[i] = (char)tolower((unsigned char)s[i]);
	host[i] = '\0';
}

const char *
extref_remote(const char *t, char *host, size_t hostsz)
{
	const char	*form = NULL, *s;
	size_t		 n;

	host[0] = '\0';
	while (*t == ' ' || *t == '\t' || *t == '"' || *t == '\'')
		t++;
	if (strncasecmp(t, "mhtml:", 6) == 0) {
		t += 6;
		form = "mhtml";
	}
	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		s = strchr(t, ':') + 3;
		copy_host(s, host, hostsz);
		return form != NULL ? form : "http(s)";
	}
	if (form != NULL)
		return form;
	if (strncasecmp(t, "file:", 5) == 0) {
		s = t + 5;
		for (n = 0; is_sep(s[n]); n++)
			;
		s += n;
		/* file:///C:/x and file:C:\x are this PC's disk. */
		if (isalpha((unsigned char)s[0]) && (s[1] == ':' ||
		    s[1] == '|'))
			return NULL;
		/* file:///usr/x: a local path too; //host and ////host not. */
		if (n == 3 && strncmp(t + 5, "///", 3) == 0)
			return NULL;
		if (n == 0)
			return NULL;
		copy_host(s, host, hostsz);
		return "file";
	}
	if (is_sep(t[0]) && is_sep(t[1])) {
		for (s = t; is_sep(*s); s++)
			;
		/* \\?\C:\x and \\.\C:\x are local device paths. */
		if ((s[0] == '?' || s[0] == '.') && is_sep(s[1]))
			return NULL;
		copy_host(s, host, hostsz);
		if (strcasestr(s, "@ssl") != NULL ||
		    strcasestr(s, "davwwwroot") != NULL ||
		    strstr(s, "@") != NULL)
			return "WebDAV";
		return "UNC";
	}
	if (strncasecmp(t, "search-ms:", 10) == 0 ||
	    strncasecmp(t, "search:", 7) == 0)
		return "search-ms";
	if (strncasecmp(t, "ms-", 3) == 0) {
		for (s = t + 3; isalnum((unsigned char)*s) || *s == '-' ||
		    *s == '.'; s++)
			;
		if (*s == ':' && s > t + 3)
			return "ms-handler";
	}
	return NULL;
}

static enum lw_err
hit(struct scan_ctx *ctx, const char *path, const char *what,
    const char *where, const char *target, const char *form,
    const char *host)
{
	char	*t;
	enum lw_err e;

	if ((t = lw_sanitize(target, strlen(target), 200)) == NULL)
		return LW_ENOMEM;
	if (*host != '\0')
		e = findings_add(ctx->fs, "OFFICE_REMOTE_TEMPLATE", path,
		    "external %s in %s: %s [%s] (host %s)", what, where, t,
		    form, host);
	else
		e = findings_add(ctx->fs, "OFFICE_REMOTE_TEMPLATE", path,
		    "external %s in %s: %s [%s]", what, where, t, form);
	free(t);
	return e;
}

enum lw_err
extref_target(struct scan_ctx *ctx, const char *path, const char *what,
    const char *target)
{
	char		 host[EXTREF_HOST_MAX];
	const char	*form;

	if ((form = extref_remote(target, host, sizeof(host))) == NULL)
		return LW_OK;
	return hit(ctx, path, what, "the document", target, form, host);
}

/* Decode the five XML entities and numeric references below 0x80. */
static void
xml_unescape(char *s)
{
	static const struct { const char *e; char c; } ent[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	char		*r, *w, *end;
	unsigned long	 v;
	size_t		 i, n;

	/* Most values hold no entity: nothing to move. */
	if ((r = w = strchr(s, '&')) == NULL)
		return;
	while (*r != '\0') {
		if (*r != '&') {
			*w++ = *r++;
			continue;
		}
		for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
			n = strlen(ent[i].e);
			if (strncmp(r, ent[i].e, n) == 0)
				break;
		}
		if (i < sizeof(ent) / sizeof(ent[0])) {
			*w++ = ent[i].c;
			r += n;
			continue;
		}
		if (r[1] == '#') {
			v = r[2] == 'x' || r[2] == 'X' ?
			    strtoul(r + 3, &end, 16) : strtoul(r + 2, &end, 10);
			if (*end == ';' && v > 0 && v < 0x80 && end > r + 2) {
				*w++ = (char)v;
				r = end + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

bool
extref_xml_attr(const char *s, size_t n, const char *name, char *out,
    size_t outsz)
{
	size_t		 i, k, m = strlen(name), o;
	char		 q;
	unsigned char	 c0 = ascii_lower((unsigned char)name[0]);

	for (i = 1; i + m + 2 < n; i++) {
		/* After a space, the first letter before the call. */
		if (!isspace((unsigned char)s[i - 1]) ||
		    ascii_lower((unsigned char)s[i]) != c0 ||
		    strncasecmp(s + i, name, m) != 0)
			continue;
		k = i + m;
		while (k < n && isspace((unsigned char)s[k]))
			k++;
		if (k >= n || s[k] != '=')
			continue;
		k++;
		while (k < n && isspace((unsigned char)s[k]))
			k++;
		if (k >= n || (s[k] != '"' && s[k] != '\''))
			continue;
		q = s[k++];
		for (o = 0; k < n && s[k] != q; k++)
			if (o + 1 < outsz)
				out[o++] = s[k];
		out[o] = '\0';
		xml_unescape(out);
		return true;
	}
	return false;
}

/* The relationship types that fetch their external target on open. */
static const char *
fetching_type(const char *type)
{
	static const char *const types[] = {
		"attachedTemplate", "oleObject", "frame", "subDocument",
		"aFChunk", "package",
	};
	size_t	 i;
	char	 suf[32];

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		suf[0] = '/';
		strcpy(suf + 1, types[i]);
		if (ends_with_ci(type, suf))
			return types[i];
	}
	return NULL;
}

enum lw_err
extref_rels(struct scan_ctx *ctx, const char *path, const char *relsname,
    const char *xml)
{
	const char	*p, *end, *kind, *form;
	char		 type[256], target[TARGET_MAX], mode[32];
	char		 host[EXTREF_HOST_MAX];
	size_t		 n;
	unsigned	 hits = 0;
	enum lw_err	 e;

	for (p = xml; (p = strstr(p, "<Relationship")) != NULL; p = end) {
		if ((end = strchr(p, '>')) == NULL)
			break;
		n = (size_t)(end - p);
		if (!extref_xml_attr(p, n, "TargetMode", mode, sizeof(mode)) ||
		    strcasecmp(mode, "External") != 0)
			continue;
		if (!extref_xml_attr(p, n, "Type", type, sizeof(type)) ||
		    !extref_xml_attr(p, n, "Target", target, sizeof(target)))
			continue;
		if ((kind = fetching_type(type)) == NULL)
			continue;
		if ((form = extref_remote(target, host, sizeof(host))) == NULL)
			continue;
		if ((e = hit(ctx, path, kind, relsname, target, form,
		    host)) != LW_OK)
			return e;
		if (++hits == EXTREF_MAX_HITS)
			break;
	}
	return LW_OK;
}

/* Append [s, s + n) to the field text buffer, within its bound. */
static void
field_add(char *buf, size_t *len, const char *s, size_t n)
{
	if (n > FIELD_TEXT_MAX - 1 - *len)
		n = FIELD_TEXT_MAX - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/*
 * The argument after a field keyword at s: quoted (with the field's
 * doubled backslashes made single) or up to the next space.
 */
static void
field_arg(const char *s, char *out, size_t outsz)
{
	size_t	o = 0;
	char	q = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '"' || *s == '\'')
		q = *s++;
	for (; *s != '\0' && o + 1 < outsz; s++) {
		if (q != 0 ? *s == q : (*s == ' ' || *s == '\t'))
			break;
		if (s[0] == '\\' && s[1] == '\\')
			s++;
		out[o++] = *s;
	}
	out[o] = '\0';
}

/* Look for the field keywords in NUL-terminated field text. */
static enum lw_err
fields_in(struct scan_ctx *ctx, const char *path, const char *where,
    const char *text)
{
	static const struct { const char *kw; bool http; } kws[] = {
		{ "INCLUDETEXT", true }, { "INCLUDEPICTURE", false },
		{ "INCLUDE ", true },
	};
	char		 target[TARGET_MAX], host[EXTREF_HOST_MAX];
	const char	*p, *form;
	unsigned	 hits = 0;
	size_t		 i, m;
	enum lw_err	 e;

	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		m = strlen(kws[i].kw);
		for (p = text; (p = strcasestr(p, kws[i].kw)) != NULL;
		    p += m) {
			field_arg(p + m, target, sizeof(target));
			if ((form = extref_remote(target, host,
			    sizeof(host))) == NULL)
				continue;
			if (!kws[i].http && (strcmp(form, "http(s)") == 0 ||
			    strcmp(form, "mhtml") == 0))
				continue;
			if ((e = hit(ctx, path, kws[i].kw[7] == 'P' ?
			    "INCLUDEPICTURE field" : "INCLUDETEXT field",
			    where, target, form, host)) != LW_OK)
				return e;
			if (++hits == EXTREF_MAX_HITS)
				return LW_OK;
		}
	}
	return LW_OK;
}

enum lw_err
extref_fields(struct scan_ctx *ctx, const char *path, const char *partname,
    const char *xml)
{
	const char	*p, *gt, *close, *end;
	char		*buf, val[TARGET_MAX];
	size_t		 len = 0;
	enum lw_err	 e;

	if (strcasestr(xml, "INCLUDE") == NULL)
		return LW_OK;
	if ((buf = malloc(FIELD_TEXT_MAX)) == NULL)
		return LW_ENOMEM;
	buf[0] = '\0';
	/* A field's code may be split over many runs: join them. */
	for (p = xml; (p = strstr(p, "instrText")) != NULL; p = close) {
		close = p + 9;
		if (p == xml || (p[-1] != ':' && p[-1] != '<'))
			continue;
		if ((gt = strchr(p, '>')) == NULL)
			break;
		if (gt[-1] == '/')	/* <w:instrText/> */
			continue;
		if ((end = strstr(gt, "</")) == NULL)
			break;
		field_add(buf, &len, gt + 1, (size_t)(end - gt - 1));
		close = end;
	}
	for (p = xml; (p = strstr(p, "fldSimple")) != NULL; p += 9) {
		if ((end = strchr(p, '>')) == NULL)
			break;
		if (extref_xml_attr(p, (size_t)(end - p), "w:instr", val,
		    sizeof(val))) {
			field_add(buf, &len, " ", 1);
			field_add(buf, &len, val, strlen(val));
		}
	}
	xml_unescape(buf);
	e = fields_in(ctx, path, partname, buf);
	free(buf);
	return e;
}

/*
 * The plain text of the RTF group that goes on at p[i] (after a
 * control word), up to its closing brace: \'hh decoded, \\ \{ \}
 * unescaped, other control words dropped, nested groups' text kept.
 */
static void
rtf_group_text(const unsigned char *p, size_t len, size_t i, char *out,
    size_t outsz)
{
	size_t		 o = 0, scanned = 0;
	unsigned	 depth = 0;
	int		 hi, lo;

	while (i < len && o + 1 < outsz && scanned++ < RTF_GROUP_MAX * 4) {
		if (p[i] == '{' || p[i] == '}') {
			if (!rtf_brace(p[i], &depth))
				break;
			i++;
		} else if (p[i] == '\\' && i + 1 < len) {
			if (p[i + 1] == '\\' || p[i + 1] == '{' ||
			    p[i + 1] == '}') {
				out[o++] = (char)p[i + 1];
				i += 2;
			} else if (p[i + 1] == '\'' && i + 3 < len &&
			    (hi = hexval(p[i + 2])) >= 0 &&
			    (lo = hexval(p[i + 3])) >= 0) {
				out[o++] = (char)(hi << 4 | lo);
				i += 4;
			} else
				i = rtf_skip_word(p, len, i);
		} else if (p[i] == '\r' || p[i] == '\n') {
			i++;
		} else
			out[o++] = (char)p[i++];
	}
	out[o] = '\0';
}

static bool
rtf_word(const unsigned char *p, size_t len, size_t i, const char *w,
    size_t *after)
{
	size_t	 n = strlen(w);

	if (p[i] != '\\' || len - i - 1 < n || memcmp(p + i + 1, w, n) != 0 ||
	    (i + 1 + n < len && isalpha(p[i + 1 + n])))
		return false;
	*after = i + 1 + n;
	if (*after < len && p[*after] == ' ')
		(*after)++;
	return true;
}

enum lw_err
extref_rtf(struct scan_ctx *ctx, const char *path, const unsigned char *p,
    size_t len)
{
	char		 text[RTF_GROUP_MAX], host[EXTREF_HOST_MAX];
	const char	*form;
	size_t		 i, after;
	unsigned	 hits = 0;
	enum lw_err	 e;

	for (i = 0; i < len && hits < EXTREF_MAX_HITS; i++) {
		if (p[i] != '\\')
			continue;
		if (rtf_word(p, len, i, "template", &after)) {
			rtf_group_text(p, len, after, text, sizeof(text));
			if ((form = extref_remote(text, host,
			    sizeof(host))) == NULL)
				continue;
			if ((e = hit(ctx, path, "template", "\\template",
			    text, form, host)) != LW_OK)
				return e;
			hits++;
		} else if (rtf_word(p, len, i, "fldinst", &after)) {
			rtf_group_text(p, len, after, text, sizeof(text));
			if ((e = fields_in(ctx, path, "\\fldinst", text)) !=
			    LW_OK)
				return e;
		}
		if (scan_expired(ctx))
			break;
	}
	return LW_OK;
}

static bool
url_char(unsigned c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>';
}

enum lw_err
extref_binary(struct scan_ctx *ctx, const char *path, const char *what,
    const unsigned char *d, size_t len)
{
	char		 run[TARGET_MAX], host[EXTREF_HOST_MAX];
	const char	*form;
	size_t		 i, k, o;
	unsigned	 hits = 0;
	int		 step;
	enum lw_err	 e;

	/* Runs of printable ASCII, as UTF-16LE (step 2) and as bytes. */
	for (step = 2; step >= 1; step--)
		for (i = 0; i + (size_t)step <= len &&
		    hits < EXTREF_MAX_HITS; ) {
			for (k = i, o = 0; k + (size_t)step <= len &&
			    url_char(d[k]) && (step == 1 || d[k + 1] == 0);
			    k += (size_t)step)
				if (o + 1 < sizeof(run))
					run[o++] = (char)d[k];
			run[o] = '\0';
			if (o >= UTF16_RUN_MIN && (form = extref_remote(run,
			    host, sizeof(host))) != NULL) {
				if ((e = hit(ctx, path, what, "its data", run,
				    form, host)) != LW_OK)
					return e;
				hits++;
			}
			i = k > i ? k : i + 1;
		}
	return LW_OK;
}
