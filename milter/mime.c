/*
 * mime.c: raw RFC 5322 message -> tree of decoded MIME parts.
 *
 * Takes the whole message (CRLF or LF, NUL bytes and 8-bit headers
 * allowed).  Returns a struct message (see mime.h) owning its headers
 * (unfolded, raw), decoded Subject and From/Sender/Reply-To, and the
 * part tree: multipart children split on their boundary, leaves
 * transfer-decoded (base64, quoted-printable, 7bit/8bit/binary),
 * message/rfc822 parsed again as an inner message, text/plain and
 * text/html bodies converted to UTF-8 text (HTML reduced by html.c).
 *
 * Bounds: limits.mime_depth (multipart and message/rfc822 nesting, at
 * most MAX_DEPTH; a container past it stays an undecoded leaf),
 * limits.mime_parts (parts in the whole tree, inner messages included;
 * later parts are dropped), limits.max_headers (fields per header
 * block; later ones ignored) and limits.max_header_bytes (one unfolded
 * field; the rest is cut).  Each bound hit is one MIME_LIMIT finding.
 * Containers (multipart, parsed message/rfc822) keep no body of their
 * own, so decoded bytes stay about the size of the message.
 *
 * Garbled input is read the way mail clients read it and noted as
 * MIME_MALFORMED (at most MAX_MALFORMED findings per message): broken
 * base64 is decoded around the garbage; a missing final boundary ends
 * the last part at the end of its parent; a multipart whose boundary
 * never appears (or that has none) is shown as text/plain; a multipart
 * with two different boundary parameters is split on each (clients
 * disagree on which one counts, so every part either way is analysed);
 * an unknown charset is guessed (UTF-8, CP932, Latin-1).  Parameters
 * are read in their RFC 2231 forms too (name*=charset'lang'%XX and
 * name*0=, name*1= sections): file names are converted to UTF-8,
 * boundary and charset kept as bytes.  A header block without
 * the blank line ends at the first line that is not a header.
 *
 * Part paths: "" for the body of a single-part message, "1", "2" for
 * the children of the top multipart, "2.1" below them.  An inner
 * message of part "3" numbers as IMAP does: its multipart root is "3"
 * and its children "3.1", "3.2"; a single-part inner body is "3.1".
 *
 * Ignores: uuencode, BinHex, TNEF (left to analyzers as plain bytes),
 * message/partial reassembly, Content-Length.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "charset.h"
#include "html.h"
#include "mime.h"
#include "sbuf.h"
#include "util.h"

#define MAX_MALFORMED	32	/* MIME_MALFORMED findings per message */
#define MAX_PARAMS	64	/* parameters read per header */
#define MAX_SECTIONS	64	/* RFC 2231 continuations per parameter */
#define MAX_BOUNDARIES	4	/* boundary parameters split on */
#define MAX_NAME	256	/* longest header field name */
#define MAX_DEPTH	100	/* nesting whatever the config says: each
				   level is a few stack frames, and milter
				   threads have small stacks */

struct parser {
	const struct limits	*lim;
	struct findings		*fs;
	unsigned		 nparts;
	unsigned		 nmalformed;
	bool			 parts_limited;
	bool			 oom;
};

struct param {
	char	*name;			/* lowercased */
	char	*value;			/* unquoted, raw bytes */
};

struct params {
	struct param	 v[MAX_PARAMS];
	size_t		 n;
};

static void	entity(struct parser *, struct mime_part *,
		    const unsigned char *, size_t, const struct params *);
static struct message *parse_message(struct parser *,
		    const unsigned char *, size_t, const char *, unsigned);
static void	part_free(struct mime_part *, const struct header *);

static void
note(struct parser *p, const char *rule, const char *path, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
note(struct parser *p, const char *rule, const char *path, const char *fmt,
    ...)
{
	va_list	ap;

	if (p->fs == NULL)
		return;
	if (strcmp(rule, "MIME_MALFORMED") == 0 &&
	    p->nmalformed++ >= MAX_MALFORMED)
		return;
	va_start(ap, fmt);
	if (findings_addv(p->fs, rule, path, fmt, ap) != LW_OK)
		p->oom = true;
	va_end(ap);
}

static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Trim ASCII whitespace at both ends, in place. */
static char *
trim(char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/*
 * Header block at raw -> unfolded fields.  Sets *body_off to where the
 * body starts (after the blank line, at the first non-header line, or
 * at len).
 */
static void
parse_headers(struct parser *p, const char *path, const unsigned char *raw,
    size_t len, struct header **hdrsp, size_t *nhdrsp, size_t *body_off)
{
	struct header	*hdrs = NULL, *nh;
	size_t		 nhdrs = 0, cap = 0, pos = 0, eol, next, ll, i, n;
	struct sbuf	 val = { 0 };
	char		*name = NULL, *v;
	bool		 have = false, too_many = false, too_long = false;
	bool		 nul = false;

	*body_off = len;
	for (;;) {
		/* One physical line: [pos, pos + ll), next line at next. */
		const unsigned char *line = raw + pos, *nlp;
		bool hdr_line;

		if (pos < len) {
			nlp = memchr(line, '\n', len - pos);
			eol = nlp != NULL ? (size_t)(nlp - raw) : len;
			next = nlp != NULL ? eol + 1 : len;
			ll = eol - pos;
			if (ll > 0 && line[ll - 1] == '\r')
				ll--;
		} else
			eol = next = pos, ll = 0;
		if (pos < len && ll > 0 && is_wsp(line[0])) {
			/* continuation: CRLF WSP -> WSP */
			if (have) {
				n = ll;
				if (n > p->lim->max_header_bytes - val.len ||
				    val.len > p->lim->max_header_bytes) {
					n = val.len < p->lim->max_header_bytes ?
					    p->lim->max_header_bytes - val.len :
					    0;
					too_long = true;
				}
				sbuf_add(&val, line, n);
			}
			pos = next;
			continue;
		}
		/* The field in progress is complete. */
		if (have) {
			if (!sbuf_finish(&val))
				goto oom;
			for (i = 0; i < val.len; i++)
				if (val.p[i] == '\0') {
					val.p[i] = ' ';
					nul = true;
				}
			v = trim(val.p);
			if (nhdrs == cap) {
				cap = cap ? cap * 2 : 16;
				nh = reallocarray(hdrs, cap, sizeof(*hdrs));
				if (nh == NULL)
					goto oom;
				hdrs = nh;
			}
			hdrs[nhdrs].name = name;
			if ((hdrs[nhdrs].value = strdup(v)) == NULL)
				goto oom;
			nhdrs++;
			name = NULL;
			have = false;
			val.len = 0;
		}
		if (pos >= len) {
			*body_off = len;
			break;
		}
		if (ll == 0) {
			*body_off = next;
			break;
		}
		/* "From " envelope line of an mbox file */
		if (pos == 0 && ll >= 5 && memcmp(line, "From ", 5) == 0) {
			pos = next;
			continue;
		}
		for (n = 0; n < ll && n <= MAX_NAME && line[n] != ':' &&
		    line[n] > 32 && line[n] < 127; n++)
			;
		i = n;
		while (i < ll && is_wsp(line[i]))	/* "Name :" */
			i++;
		hdr_line = n > 0 && n <= MAX_NAME && i < ll && line[i] == ':';
		if (!hdr_line) {
			/* the body starts without a blank line */
			*body_off = pos;
			break;
		}
		if (nhdrs >= p->lim->max_headers) {
			too_many = true;
			pos = next;
			continue;
		}
		if ((name = strndup((const char *)line, n)) == NULL)
			goto oom;
		have = true;
		n = ll - i - 1;
		if (n > p->lim->max_header_bytes) {
			n = p->lim->max_header_bytes;
			too_long = true;
		}
		sbuf_add(&val, line + i + 1, n);
		if (!sbuf_reserve(&val, 0))
			goto oom;
		pos = next;
	}
	if (too_many)
		note(p, "MIME_LIMIT", path, "more than %u header fields",
		    p->lim->max_headers);
	if (too_long)
		note(p, "MIME_LIMIT", path, "header field over %llu bytes cut",
		    (unsigned long long)p->lim->max_header_bytes);
	if (nul)
		note(p, "MIME_MALFORMED", path, "NUL byte in header");
	sbuf_free(&val);
	*hdrsp = hdrs;
	*nhdrsp = nhdrs;
	return;
oom:
	p->oom = true;
	free(name);
	sbuf_free(&val);
	for (i = 0; i < nhdrs; i++) {
		free(hdrs[i].name);
		free(hdrs[i].value);
	}
	free(hdrs);
	*hdrsp = NULL;
	*nhdrsp = 0;
}

static const char *
find_header(const struct header *h, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

const char *
mime_header(const struct message *m, const char *name)
{
	return m != NULL ? find_header(m->hdrs, m->nhdrs, name) : NULL;
}

const char *
mime_part_header(const struct mime_part *mp, const char *name)
{
	return mp != NULL ? find_header(mp->hdrs, mp->nhdrs, name) : NULL;
}

static void
params_free(struct params *ps)
{
	size_t	i;

	for (i = 0; i < ps->n; i++)
		FREE_ALL(ps->v[i].name, ps->v[i].value);
	ps->n = 0;
}

/*
 * "value; a=b; c="d;e"" -> *first (the value before the first ';',
 * comments removed, lowercased, trimmed) and the parameters.  Unquoted
 * values run to the next ';', spaces included, as clients read them.
 */
static void
parse_structured(struct parser *p, const char *s, char **first,
    struct params *ps)
{
	struct sbuf	 b = { 0 };
	const char	*q;
	size_t		 depth = 0;
	char		*name;

	ps->n = 0;
	*first = NULL;
	for (; *s != '\0' && *s != ';'; s++) {
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0)
			depth--;
		else if (depth == 0 && *s != '"')
			sbuf_addc(&b, *s);
	}
	if (!sbuf_finish(&b) || (*first = strdup(trim(b.p))) == NULL)
		goto oom;
	lw_strlower(*first);
	while (*s != '\0') {
		while (*s == ';' || *s == ' ' || *s == '\t')
			s++;
		for (q = s; *q != '\0' && *q != '=' && *q != ';'; q++)
			;
		if (*q != '=') {
			s = q;
			continue;
		}
		b.len = 0;
		sbuf_add(&b, s, (size_t)(q - s));
		if (!sbuf_finish(&b) || (name = strdup(trim(b.p))) == NULL)
			goto oom;
		lw_strlower(name);
		s = q + 1;
		while (*s == ' ' || *s == '\t')
			s++;
		b.len = 0;
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && s[1] != '\0')
					s++;
				sbuf_addc(&b, *s);
			}
			if (*s == '"')
				s++;
			while (*s != '\0' && *s != ';')
				s++;
			if (!sbuf_finish(&b))
				goto oom_name;
		} else {
			for (; *s != '\0' && *s != ';'; s++)
				sbuf_addc(&b, *s);
			if (!sbuf_finish(&b))
				goto oom_name;
			trim(b.p);
			b.len = strlen(b.p);
		}
		if (ps->n == MAX_PARAMS || *name == '\0') {
			free(name);
			continue;
		}
		ps->v[ps->n].name = name;
		if ((ps->v[ps->n].value = strdup(b.p)) == NULL)
			goto oom_name;
		ps->n++;
	}
	sbuf_free(&b);
	return;
oom_name:
	free(name);
oom:
	p->oom = true;
	sbuf_free(&b);
	free(*first);
	*first = NULL;
	params_free(ps);
}

static const char *
param_raw(const struct params *ps, const char *name)
{
	size_t	i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0)
			return ps->v[i].value;
	return NULL;
}

/* Is there a parameter "name*..." (every RFC 2231 form starts so)? */
static bool
param_starred(const struct params *ps, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; i < ps->n; i++)
		if (strncmp(ps->v[i].name, name, n) == 0 &&
		    ps->v[i].name[n] == '*')
			return true;
	return false;
}

/* RFC 2231 %XX; a '%' that starts no escape is kept. */
static void
pct_decode(const char *s, struct sbuf *b)
{
	int	hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%' && (hi = hexval((unsigned char)s[1])) >= 0 &&
		    (lo = hexval((unsigned char)s[2])) >= 0) {
			sbuf_addc(b, hi << 4 | lo);
			s += 2;
		} else
			sbuf_addc(b, *s);
	}
}

/*
 * The RFC 2231 form of a parameter: name*= (charset'lang'%XX) or the
 * name*0*=, name*1= ... sections, joined and %XX-decoded into raw.
 * *cs gets the charset of the first extended section (malloc'd, may be
 * NULL).  False when the parameter has no RFC 2231 form (raw empty).
 */
static bool
param_sections(struct parser *p, const struct params *ps, const char *name,
    struct sbuf *raw, char **cs)
{
	char		 key[64];
	const char	*v, *q1, *q2;
	size_t		 i = 0;
	bool		 ext, single;

	*cs = NULL;
	if (strlen(name) > 40 || !param_starred(ps, name))
		return false;
	snprintf(key, sizeof(key), "%s*", name);
	single = ext = (v = param_raw(ps, key)) != NULL;
	if (!single) {
		snprintf(key, sizeof(key), "%s*0*", name);
		ext = (v = param_raw(ps, key)) != NULL;
		if (!ext) {
			snprintf(key, sizeof(key), "%s*0", name);
			v = param_raw(ps, key);
		}
	}
	if (v == NULL)
		return false;
	/* charset'language'text in the first extended section */
	if (ext && (q1 = strchr(v, '\'')) != NULL &&
	    (q2 = strchr(q1 + 1, '\'')) != NULL) {
		if ((*cs = strndup(v, (size_t)(q1 - v))) == NULL)
			p->oom = true;
		v = q2 + 1;
	}
	for (;;) {
		if (ext)
			pct_decode(v, raw);
		else
			sbuf_adds(raw, v);
		if (single || ++i >= MAX_SECTIONS)
			break;
		snprintf(key, sizeof(key), "%s*%zu*", name, i);
		ext = (v = param_raw(ps, key)) != NULL;
		if (!ext) {
			snprintf(key, sizeof(key), "%s*%zu", name, i);
			if ((v = param_raw(ps, key)) == NULL)
				break;
		}
	}
	if (!sbuf_finish(raw))
		p->oom = true;
	return true;
}

/*
 * Parameter name, NULL when absent: the RFC 2231 form (name*=
 * charset'lang'%XX, name*0*=, name*1= ... continuations) first, then
 * plain name=.  A text parameter (filename, name) comes out as UTF-8:
 * decoded from the RFC 2231 charset, else from RFC 2047 words (not
 * standard, but what Outlook and many webmails write) or raw 8-bit
 * bytes guessed.  A token (boundary, charset) comes out as its bytes,
 * charset'lang' dropped, never charset-converted.
 */
static char *
param_get(struct parser *p, const struct params *ps, const char *name,
    bool text)
{
	struct sbuf	 raw = { 0 };
	char		*cs, *out = NULL;
	const char	*v;

	if (!param_sections(p, ps, name, &raw, &cs)) {
		if ((v = param_raw(ps, name)) == NULL)
			return NULL;
		if (text ? charset_decode_header(v, &out) != LW_OK :
		    (out = strdup(v)) == NULL)
			p->oom = true;
		return out;
	}
	if (p->oom)
		goto out;
	if (!text) {
		if ((out = strdup(raw.p)) == NULL)
			p->oom = true;
	} else if (cs == NULL || *cs == '\0') {
		/* Without a charset the bytes may still be encoded words. */
		if (charset_decode_header(raw.p, &out) != LW_OK)
			p->oom = true;
	} else if (charset_to_utf8(cs, raw.p, raw.len, &out, NULL,
	    NULL) != LW_OK)
		p->oom = true;
out:
	free(cs);
	sbuf_free(&raw);
	return out;
}

static struct mime_part *
part_new(struct parser *p, unsigned depth)
{
	struct mime_part	*mp;

	if ((mp = calloc(1, sizeof(*mp))) == NULL) {
		p->oom = true;
		return NULL;
	}
	mp->depth = depth;
	p->nparts++;
	return mp;
}

/* Room for one more part?  Records MIME_LIMIT once when not. */
static bool
part_allowed(struct parser *p, const char *path)
{
	if (p->nparts < p->lim->mime_parts)
		return true;
	if (!p->parts_limited)
		note(p, "MIME_LIMIT", path, "more than %u MIME parts",
		    p->lim->mime_parts);
	p->parts_limited = true;
	return false;
}

/* Content-Type, Content-Disposition, Content-Transfer-Encoding. */
static void
part_fields(struct parser *p, struct mime_part *mp, const char *dflt,
    struct params *ctp)
{
	struct params	 dp;
	const char	*v;
	char		*t, *slash;

	ctp->n = 0;
	dp.n = 0;
	if ((v = find_header(mp->hdrs, mp->nhdrs, "content-type")) != NULL)
		parse_structured(p, v, &t, ctp);
	else
		t = NULL;
	if (p->oom)
		goto out;
	if (t == NULL || *t == '\0' || (slash = strchr(t, '/')) == NULL ||
	    slash == t || slash[1] == '\0') {
		/* RFC 2045 5.2: a type we cannot read is text/plain;
		   "application" alone says at least it is not text. */
		if (t != NULL && strncmp(t, "text", 4) != 0 && *t != '\0')
			dflt = "application/octet-stream";
		free(t);
		t = strdup(dflt);
	}
	if ((mp->ctype = t) == NULL)
		goto oom;
	if ((t = param_get(p, ctp, "charset", false)) != NULL) {
		mp->charset = *trim(t) != '\0' ? strdup(trim(t)) : NULL;
		free(t);
		lw_strlower(mp->charset);
	}
	if (p->oom)
		goto out;
	if ((v = find_header(mp->hdrs, mp->nhdrs,
	    "content-disposition")) != NULL) {
		parse_structured(p, v, &t, &dp);
		if (p->oom)
			goto out;
		if (*t != '\0')
			mp->disposition = t;
		else
			free(t);
		mp->filename = param_get(p, &dp, "filename", true);
		params_free(&dp);
	}
	if (mp->filename == NULL && !p->oom)
		mp->filename = param_get(p, ctp, "name", true);
	if (mp->filename != NULL && *mp->filename == '\0') {
		free(mp->filename);
		mp->filename = NULL;
	}
	if ((v = find_header(mp->hdrs, mp->nhdrs,
	    "content-transfer-encoding")) != NULL) {
		parse_structured(p, v, &t, &dp);
		params_free(&dp);
		if (t != NULL && *t != '\0')
			mp->cte = t;
		else
			free(t);
	}
out:
	params_free(&dp);
	return;
oom:
	p->oom = true;
	params_free(&dp);
}

static void
qp_decode(const unsigned char *s, size_t len, unsigned char *out,
    size_t *outlen)
{
	size_t	i, o = 0, k;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '=') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			out[o++] = (unsigned char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		/* soft line break, trailing blanks allowed before it */
		for (k = i + 1; k < len && is_wsp(s[k]); k++)
			;
		if (k < len && s[k] == '\r' && k + 1 < len && s[k + 1] == '\n')
			k++;
		if (k >= len || s[k] == '\n') {
			i = k;
			continue;
		}
		out[o++] = '=';
	}
	*outlen = o;
}

/* Transfer-decode a leaf's body into mp->body. */
static void
decode_body(struct parser *p, struct mime_part *mp, const unsigned char *b,
    size_t len)
{
	bool	bad = false;
	const char *cte = mp->cte != NULL ? mp->cte : "7bit";

	if ((mp->body = malloc(len + 1)) == NULL) {
		p->oom = true;
		return;
	}
	if (strcmp(cte, "base64") == 0) {
		mp->body_len = charset_base64_decode((const char *)b, len,
		    mp->body, &bad);
		if (bad)
			note(p, "MIME_MALFORMED", mp->path, "broken base64");
	} else if (strcmp(cte, "quoted-printable") == 0) {
		qp_decode(b, len, mp->body, &mp->body_len);
	} else {
		if (strcmp(cte, "7bit") != 0 && strcmp(cte, "8bit") != 0 &&
		    strcmp(cte, "binary") != 0)
			note(p, "MIME_MALFORMED", mp->path,
			    "unknown transfer encoding %s", cte);
		memcpy(mp->body, b, len);
		mp->body_len = len;
	}
	mp->body[mp->body_len] = '\0';
}

/*
 * CRLF and lone CR -> LF, in place.  Stretches between CRs move with one
 * memmove each: a loop over every byte was a tenth of a 1 MiB text
 * message's scan (make bench, callgrind).
 */
static size_t
crlf_to_lf(char *s, size_t len)
{
	char	*r, *w, *cr, *end = s + len;
	size_t	 n;

	if ((cr = memchr(s, '\r', len)) == NULL) {
		s[len] = '\0';
		return len;
	}
	for (r = w = cr; r < end; r += n, w += n) {
		/* r is at a CR: drop it before an LF, else make it one. */
		if (r + 1 < end && r[1] == '\n')
			r++;
		else {
			*w++ = '\n';
			r++;
		}
		cr = memchr(r, '\r', (size_t)(end - r));
		n = (size_t)((cr != NULL ? cr : end) - r);
		memmove(w, r, n);
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* A leaf: decode, make text of body text, decide is_attachment. */
static void
leaf(struct parser *p, struct mime_part *mp, const unsigned char *b,
    size_t len)
{
	char	*u, *h;
	size_t	 ulen, hlen;
	bool	 unknown = false;

	decode_body(p, mp, b, len);
	if (p->oom)
		return;
	mp->is_html = strcmp(mp->ctype, "text/html") == 0;
	if ((strcmp(mp->ctype, "text/plain") == 0 || mp->is_html) &&
	    mp->filename == NULL) {
		if (charset_to_utf8(mp->charset, (const char *)mp->body,
		    mp->body_len, &u, &ulen, &unknown) != LW_OK) {
			p->oom = true;
			return;
		}
		if (unknown)
			note(p, "MIME_MALFORMED", mp->path,
			    "unknown charset %s", mp->charset);
		if (mp->is_html) {
			if (html_to_text(u, ulen, &h, &hlen) != LW_OK ||
			    html_to_visible_text(u, ulen, &mp->vtext,
			    &mp->vtext_len) != LW_OK) {
				free(u);
				p->oom = true;
				return;
			}
			free(u);
			mp->vtext_len = crlf_to_lf(mp->vtext, mp->vtext_len);
			hlen = crlf_to_lf(h, hlen);
			if (mp->vtext_len == hlen &&
			    memcmp(mp->vtext, h, hlen) == 0) {
				free(mp->vtext);
				mp->vtext = NULL;
				mp->vtext_len = 0;
			}
			u = h;
			ulen = hlen;
		}
		mp->text = u;
		mp->text_len = crlf_to_lf(u, ulen);
	}
	mp->is_attachment = mp->filename != NULL ||
	    lw_strcaseeq(mp->disposition, "attachment") ||
	    strncmp(mp->ctype, "text/", 5) != 0;
}

/* "--boundary" or "--boundary--", then only whitespace. */
static bool
is_delim(const unsigned char *line, size_t ll, const char *bd, size_t bl,
    bool *close)
{
	size_t	i;

	if (ll < bl + 2 || line[0] != '-' || line[1] != '-' ||
	    memcmp(line + 2, bd, bl) != 0)
		return false;
	i = bl + 2;
	*close = ll - i >= 2 && line[i] == '-' && line[i + 1] == '-';
	if (*close)
		i += 2;
	for (; i < ll; i++)
		if (!is_wsp(line[i]))
			return false;
	return true;
}

static char *
child_path(struct parser *p, const char *parent, size_t idx)
{
	char	*s;

	if (lw_asprintf(&s, "%s%s%zu", parent, *parent ? "." : "",
	    idx) != LW_OK) {
		p->oom = true;
		return NULL;
	}
	return s;
}

/* Parse [b, b + len) as child number mp->nchild + 1 of mp. */
static void
add_child(struct parser *p, struct mime_part *mp, const unsigned char *b,
    size_t len, const char *dflt)
{
	struct mime_part	*c, **nv;
	struct params		 ctp;
	size_t			 off;

	if ((mp->nchild & (mp->nchild - 1)) == 0) {	/* 0, 1, 2, 4 ... */
		nv = reallocarray(mp->child, mp->nchild ? mp->nchild * 2 : 1,
		    sizeof(*nv));
		if (nv == NULL) {
			p->oom = true;
			return;
		}
		mp->child = nv;
	}
	if ((c = part_new(p, mp->depth + 1)) == NULL)
		return;
	mp->child[mp->nchild++] = c;
	if ((c->path = child_path(p, mp->path, mp->nchild)) == NULL)
		return;
	parse_headers(p, c->path, b, len, &c->hdrs, &c->nhdrs, &off);
	if (p->oom)
		return;
	part_fields(p, c, dflt, &ctp);
	if (!p->oom)
		entity(p, c, b + off, len - off, &ctp);
	params_free(&ctp);
}

/* The first line start after pos whose first byte is '-', else len. */
static size_t
dash_line(const unsigned char *b, size_t len, size_t pos)
{
	const unsigned char	*q;

	for (pos++; pos < len &&
	    (q = memchr(b + pos, '-', len - pos)) != NULL; pos++) {
		pos = (size_t)(q - b);
		if (b[pos - 1] == '\n')
			return pos;
	}
	return len;
}

/*
 * Split a multipart body on its boundary.  False when the boundary
 * never appears (the caller then shows the body as text).
 */
static bool
split(struct parser *p, struct mime_part *mp, const unsigned char *b,
    size_t len, const char *bd)
{
	const unsigned char	*nl;
	const char		*dflt;
	size_t			 bl = strlen(bd), pos = 0, next, ll, end;
	size_t			 start = 0;
	bool			 open = false, close = false, found = false;

	dflt = strcmp(mp->ctype, "multipart/digest") == 0 ?
	    "message/rfc822" : "text/plain";
	while (pos < len && !p->oom) {
		/*
		 * pos starts a line.  A delimiter starts with '-': skip to
		 * the next line that does, by memchr for '-' (base64 has
		 * none), not line by line.
		 */
		if (b[pos] != '-' && (pos = dash_line(b, len, pos)) == len)
			break;
		nl = memchr(b + pos, '\n', len - pos);
		next = nl != NULL ? (size_t)(nl - b) + 1 : len;
		ll = (nl != NULL ? (size_t)(nl - b) : len) - pos;
		if (ll > 0 && b[pos + ll - 1] == '\r')
			ll--;
		if (!is_delim(b + pos, ll, bd, bl, &close)) {
			pos = next;
			continue;
		}
		found = true;
		if (open) {
			/* the line break before a delimiter is its own */
			end = pos;
			if (end > start && b[end - 1] == '\n')
				end--;
			if (end > start && b[end - 1] == '\r')
				end--;
			if (!part_allowed(p, mp->path))
				return true;
			add_child(p, mp, b + start, end - start, dflt);
		}
		if (close)
			return true;
		open = true;
		start = next;
		pos = next;
	}
	if (!found)
		return false;
	if (open && !p->oom) {
		note(p, "MIME_MALFORMED", mp->path, "missing final boundary");
		if (part_allowed(p, mp->path))
			add_child(p, mp, b + start, len - start, dflt);
	}
	return true;
}

/*
 * Every distinct boundary a multipart names: each plain boundary= (a
 * header may carry two) and the RFC 2231 boundary*= or boundary*0=
 * form, raw bytes, never charset-decoded.  Clients disagree on which of
 * two they use, so the caller splits on each.  Empty values and values
 * over 200 bytes are dropped.  Returns how many were stored in out[].
 */
static size_t
boundaries(struct parser *p, const struct params *ps,
    char *out[MAX_BOUNDARIES])
{
	struct sbuf	 raw = { 0 };
	const char	*cand[MAX_BOUNDARIES];
	char		*cs, *ext = NULL;
	size_t		 i, k, nc = 0, n = 0;

	if (param_sections(p, ps, "boundary", &raw, &cs) && !p->oom &&
	    (ext = strdup(raw.p)) == NULL)
		p->oom = true;
	free(cs);
	sbuf_free(&raw);
	for (i = 0; i < ps->n && nc < MAX_BOUNDARIES - 1; i++)
		if (strcmp(ps->v[i].name, "boundary") == 0)
			cand[nc++] = ps->v[i].value;
	if (ext != NULL)
		cand[nc++] = ext;
	for (i = 0; i < nc && !p->oom; i++) {
		if (*cand[i] == '\0' || strlen(cand[i]) > 200)
			continue;
		for (k = 0; k < n && strcmp(out[k], cand[i]) != 0; k++)
			;
		if (k < n)
			continue;
		if ((out[n] = strdup(cand[i])) == NULL) {
			p->oom = true;
			break;
		}
		n++;
	}
	free(ext);
	return n;
}

/*
 * The content of a part whose fields are read (ctp: its Content-Type
 * parameters): children, an inner message or a leaf.
 */
static void
entity(struct parser *p, struct mime_part *mp, const unsigned char *b,
    size_t len, const struct params *ctp)
{
	char		*bds[MAX_BOUNDARIES], *inner_raw;
	size_t		 nbd, i;
	bool		 multi, rfc822, found = false;

	multi = strncmp(mp->ctype, "multipart/", 10) == 0;
	rfc822 = strcmp(mp->ctype, "message/rfc822") == 0 ||
	    strcmp(mp->ctype, "message/global") == 0;
	if ((multi || rfc822) && (mp->depth >= p->lim->mime_depth ||
	    mp->depth >= MAX_DEPTH)) {
		note(p, "MIME_LIMIT", mp->path, "MIME nesting deeper than %u",
		    mp->depth);
		leaf(p, mp, b, len);
		return;
	}
	if (multi) {
		nbd = boundaries(p, ctp, bds);
		if (nbd > 1)
			note(p, "MIME_MALFORMED", mp->path, "%zu boundary "
			    "parameters: the body is split on each", nbd);
		for (i = 0; i < nbd && !p->oom; i++)
			if (split(p, mp, b, len, bds[i]))
				found = true;
		for (i = 0; i < nbd; i++)
			free(bds[i]);
		if (found || p->oom)
			return;
		note(p, "MIME_MALFORMED", mp->path, "%s",
		    nbd == 0 ? "multipart without boundary" :
		    "multipart boundary never found");
		/* what clients show: the body as text */
		free(mp->ctype);
		if ((mp->ctype = strdup("text/plain")) == NULL) {
			p->oom = true;
			return;
		}
		leaf(p, mp, b, len);
		return;
	}
	if (rfc822) {
		if (!part_allowed(p, mp->path)) {
			leaf(p, mp, b, len);
			return;
		}
		decode_body(p, mp, b, len);
		if (p->oom)
			return;
		inner_raw = (char *)mp->body;
		mp->inner = parse_message(p, (unsigned char *)inner_raw,
		    mp->body_len, mp->path, mp->depth + 1);
		/* The inner parts hold the decoded bytes now. */
		free(inner_raw);
		mp->body = NULL;
		mp->body_len = 0;
		return;
	}
	leaf(p, mp, b, len);
}

static void
headers_free(struct header *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		FREE_ALL(v[i].name, v[i].value);
	free(v);
}

/* msg_hdrs, the message's own headers, are left to mime_free. */
static void
part_free(struct mime_part *mp, const struct header *msg_hdrs)
{
	size_t	i;

	if (mp == NULL)
		return;
	if (mp->hdrs != msg_hdrs)
		headers_free(mp->hdrs, mp->nhdrs);
	for (i = 0; i < mp->nchild; i++)
		part_free(mp->child[i], NULL);
	mime_free(mp->inner);
	FREE_ALL(mp->path, mp->ctype, mp->charset, mp->filename,
	    mp->disposition, mp->cte, mp->body, mp->text, mp->vtext,
	    mp->child);
	free(mp);
}

void
mime_free(struct message *m)
{
	if (m == NULL)
		return;
	part_free(m->root, m->hdrs);
	headers_free(m->hdrs, m->nhdrs);
	address_free(&m->from);
	address_free(&m->sender);
	address_free(&m->reply_to);
	FREE_ALL(m->subject, m->message_id, m->in_reply_to, m->references);
	free(m);
}

static void
message_fields(struct parser *p, struct message *m)
{
	const char	*v;

	if ((v = mime_header(m, "subject")) != NULL &&
	    charset_decode_header(v, &m->subject) != LW_OK)
		goto oom;
	if ((v = mime_header(m, "from")) != NULL)
		address_parse(v, &m->from, 1);
	if ((v = mime_header(m, "sender")) != NULL)
		address_parse(v, &m->sender, 1);
	if ((v = mime_header(m, "reply-to")) != NULL)
		address_parse(v, &m->reply_to, 1);
	if ((v = mime_header(m, "message-id")) != NULL &&
	    (m->message_id = strdup(v)) == NULL)
		goto oom;
	if ((v = mime_header(m, "in-reply-to")) != NULL &&
	    (m->in_reply_to = strdup(v)) == NULL)
		goto oom;
	if ((v = mime_header(m, "references")) != NULL &&
	    (m->references = strdup(v)) == NULL)
		goto oom;
	return;
oom:
	p->oom = true;
}

/*
 * A message (top level or inner, under the part path prefix): its
 * headers belong to the message and are shared with its root part.
 */
static struct message *
parse_message(struct parser *p, const unsigned char *raw, size_t len,
    const char *prefix, unsigned depth)
{
	struct message		*m;
	struct mime_part	*root;
	struct params		 ctp;
	size_t			 off;
	unsigned		 before = p->nparts;
	enum lw_err		 e;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		p->oom = true;
		return NULL;
	}
	parse_headers(p, prefix, raw, len, &m->hdrs, &m->nhdrs, &off);
	m->header_bytes = off;
	if (p->oom)
		goto out;
	message_fields(p, m);
	if (p->oom || (root = part_new(p, depth)) == NULL)
		goto out;
	m->root = root;
	root->hdrs = m->hdrs;
	root->nhdrs = m->nhdrs;
	part_fields(p, root, "text/plain", &ctp);
	if (p->oom)
		goto out_ctp;
	if (*prefix == '\0' || strncmp(root->ctype, "multipart/", 10) == 0)
		e = lw_asprintf(&root->path, "%s", prefix);
	else
		e = lw_asprintf(&root->path, "%s.1", prefix);
	if (e != LW_OK) {
		p->oom = true;
		goto out_ctp;
	}
	entity(p, root, raw + off, len - off, &ctp);
out_ctp:
	params_free(&ctp);
out:
	m->nparts = p->nparts - before;
	return m;
}

enum lw_err
mime_parse(const unsigned char *raw, size_t len, const struct limits *lim,
    struct findings *fs, struct message **out)
{
	struct parser	 p;
	struct limits	 dflt;
	struct message	*m;

	if (lim == NULL) {
		limits_default(&dflt);
		lim = &dflt;
	}
	memset(&p, 0, sizeof(p));
	p.lim = lim;
	p.fs = fs;
	*out = NULL;
	if (raw == NULL)
		raw = (const unsigned char *)"";
	m = parse_message(&p, raw, len, "", 0);
	if (p.oom) {
		mime_free(m);
		return LW_ENOMEM;
	}
	*out = m;
	return LW_OK;
}

static bool
visit_part(const struct mime_part *mp, mime_visit_fn cb, void *arg)
{
	size_t	i;

	if (mp == NULL)
		return true;
	if (!cb(mp, arg))
		return false;
	for (i = 0; i < mp->nchild; i++)
		if (!visit_part(mp->child[i], cb, arg))
			return false;
	if (mp->inner != NULL && !visit_part(mp->inner->root, cb, arg))
		return false;
	return true;
}

void
mime_visit(const struct message *m, mime_visit_fn cb, void *arg)
{
	if (m != NULL)
		visit_part(m->root, cb, arg);
}
