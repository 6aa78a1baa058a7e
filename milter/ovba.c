/*
 * ovba.c: VBA projects in a compound file (MS-OVBA), bounded.
 *
 * Takes an opened struct cfb.  A project is any storage "VBA" holding a
 * "dir" stream (Word: Macros/VBA, Excel: _VBA_PROJECT_CUR/VBA,
 * PowerPoint and vbaProject.bin: VBA at the top or in a storage).  The
 * dir stream is decompressed (MS-OVBA 2.4.1) and its records name the
 * modules, their streams and where the compressed source starts
 * (MODULEOFFSET); what comes before is the p-code performance cache.
 *
 * Returns findings: OFFICE_VBA for a project with code (module names),
 * OFFICE_VBA_AUTOEXEC for a Sub/Function named like an auto-run entry
 * point (per module), OFFICE_VBA_SUSPICIOUS for calls a dropper needs,
 * heavy Chr()/StrReverse use, or compiled p-code lines in a module whose
 * source holds no code (VBA stomping), OFFICE_MALFORMED when a stream
 * does not decode.  Comments (' and Rem) never count as code.
 *
 * Bounds: decompressed sizes by limits.office_stream_bytes, modules by
 * limits.vba_modules, projects by OVBA_MAX_PROJECTS, chunks by their
 * 4096-byte size; scan_expired is polled per project and module.
 * Ignores: references, project properties, the PROJECT stream, forms;
 * the p-code itself is not disassembled, only its line table is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "lurewall.h"
#include "cfb.h"
#include "ovba.h"
#include "util.h"
#include "analyzer.h"

#define OVBA_CHUNK	4096
#define OVBA_CHR_HEAVY	20	/* Chr() calls that mean obfuscation */
#define OVBA_REV_HEAVY	3	/* StrReverse calls, likewise */
#define OVBA_MAX_PROJECTS 16	/* a document has one; more is abuse */

static enum lw_err
grow_realloc(unsigned char **buf, size_t *cap, size_t len, size_t n,
    size_t max)
{
	unsigned char	*nb;
	size_t		 nc;

	nc = *cap ? *cap : 8192;
	while (nc < len + n)
		nc = nc > max / 2 ? max : nc * 2;
	if ((nb = realloc(*buf, nc + 1)) == NULL)
		return LW_ENOMEM;
	*buf = nb;
	*cap = nc;
	return LW_OK;
}

/*
 * Make room for n more bytes in a growing buffer capped at max: inline,
 * since the decompressor asks for every literal byte.
 */
static inline enum lw_err
grow(unsigned char **buf, size_t *cap, size_t len, size_t n, size_t max)
{
	if (n > max - len)
		return LW_ELIMIT;
	if (len + n <= *cap)
		return LW_OK;
	return grow_realloc(buf, cap, len, n, max);
}

enum lw_err
ovba_decompress(const unsigned char *in, size_t len, size_t max,
    unsigned char **out, size_t *outlen, char *why, size_t whylen)
{
	unsigned char	*o = NULL;
	size_t		 olen = 0, cap = 0, pos, p, end, dstart, diff, i;
	unsigned	 hdr, csize, flags, bit, bc, tok, clen, off;
	enum lw_err	 e;

	*out = NULL;
	*outlen = 0;
	if (len < 1 || in[0] != 0x01) {
		(void)snprintf(why, whylen, "no compressed container");
		return LW_EMALFORMED;
	}
#define BAD(...) do {							\
	(void)snprintf(why, whylen, __VA_ARGS__);			\
	e = LW_EMALFORMED;						\
	goto fail;							\
} while (0)
	if ((e = grow(&o, &cap, 0, 1, max)) != LW_OK)
		goto fail;
	pos = 1;
	while (pos < len) {
		if (len - pos < 2)
			BAD("truncated chunk header at %zu", pos);
		hdr = le16(in + pos);
		csize = (hdr & 0x0fff) + 3;
		if ((hdr >> 12 & 7) != 3)
			BAD("chunk signature %u at %zu", hdr >> 12 & 7, pos);
		if (csize > len - pos)
			BAD("chunk at %zu claims %u bytes, %zu left", pos,
			    csize, len - pos);
		dstart = olen;
		if ((hdr & 0x8000) == 0) {
			/* Stored chunk: exactly 4096 raw bytes. */
			if (csize != OVBA_CHUNK + 2)
				BAD("raw chunk at %zu of %u bytes", pos, csize);
			if ((e = grow(&o, &cap, olen, OVBA_CHUNK, max)) != LW_OK)
				goto fail;
			memcpy(o + olen, in + pos + 2, OVBA_CHUNK);
			olen += OVBA_CHUNK;
			pos += csize;
			continue;
		}
		p = pos + 2;
		end = pos + csize;
		while (p < end) {
			flags = in[p++];
			for (bit = 0; bit < 8 && p < end; bit++) {
				diff = olen - dstart;
				if ((flags & 1u << bit) == 0) {
					if (diff >= OVBA_CHUNK)
						BAD("chunk at %zu inflates past "
						    "4096 bytes", pos);
					if ((e = grow(&o, &cap, olen, 1, max)) !=
					    LW_OK)
						goto fail;
					o[olen++] = in[p++];
					continue;
				}
				if (end - p < 2)
					BAD("truncated copy token at %zu", p);
				tok = le16(in + p);
				p += 2;
				for (bc = 4; (1u << bc) < diff; bc++)
					;
				clen = (tok & (0xffffu >> bc)) + 3;
				off = (tok >> (16 - bc)) + 1;
				if (off > diff)
					BAD("copy token at %zu reaches %u back "
					    "in %zu bytes", p - 2, off, diff);
				if (clen > OVBA_CHUNK - diff)
					BAD("chunk at %zu inflates past 4096 "
					    "bytes", pos);
				if ((e = grow(&o, &cap, olen, clen, max)) !=
				    LW_OK)
					goto fail;
				/* Overlapping copies repeat: byte by byte. */
				for (i = 0; i < clen; i++, olen++)
					o[olen] = o[olen - off];
			}
		}
		pos = end;
	}
#undef BAD
	o[olen] = '\0';
	*out = o;
	*outlen = olen;
	return LW_OK;
fail:
	if (e == LW_ELIMIT)
		(void)snprintf(why, whylen, "inflates past %zu bytes", max);
	free(o);
	return e;
}

/* Free a module's strings: it reads as empty again. */
static void
module_clear(struct ovba_module *m)
{
	FREE_ALL(m->name, m->stream);
	memset(m, 0, sizeof(*m));
}

void
ovba_dir_free(struct ovba_dir *d)
{
	FREE_EACH(d->mod, d->n, module_clear);
	memset(d, 0, sizeof(*d));
}

static void
set_str(char **dst, char *s)
{
	free(*dst);
	*dst = s;
}

/*
 * The dir stream is a flat list of records: u16 id, u32 size, data,
 * except PROJECTVERSION (0x0009) whose size field says 4 and 6 follow.
 * Modules parsed before an error stay in d so the caller can still
 * look at them.
 */
enum lw_err
ovba_parse_dir(const unsigned char *in, size_t len, unsigned maxmods,
    struct ovba_dir *d, char *why, size_t whylen)
{
	struct ovba_module	 cur, *nv;
	const unsigned char	*body;
	size_t			 pos, cap = 0;
	unsigned		 id;
	uint32_t		 size;
	enum lw_err		 e = LW_OK;

	memset(d, 0, sizeof(*d));
	memset(&cur, 0, sizeof(cur));
	for (pos = 0; pos < len; pos += 6 + (size_t)size) {
		if (len - pos < 6) {
			(void)snprintf(why, whylen, "dir: truncated record "
			    "at %zu", pos);
			e = LW_EMALFORMED;
			break;
		}
		id = le16(in + pos);
		size = id == 0x0009 ? 6 : le32(in + pos + 2);
		if (size > len - pos - 6) {
			(void)snprintf(why, whylen, "dir: record %#x at %zu "
			    "claims %u bytes, %zu left", id, pos, size,
			    len - pos - 6);
			e = LW_EMALFORMED;
			break;
		}
		body = in + pos + 6;
		if (id == 0x0010)		/* end of the dir stream */
			break;
		switch (id) {
		case 0x0019:			/* MODULENAME: a new module */
			module_clear(&cur);
			cur.name = lw_strndup((const char *)body, size);
			break;
		case 0x0047:			/* MODULENAMEUNICODE */
			if (size > 0)
				set_str(&cur.name, cfb_utf16(body, size));
			break;
		case 0x001a:			/* MODULESTREAMNAME */
			set_str(&cur.stream,
			    lw_strndup((const char *)body, size));
			break;
		case 0x0032:			/* its Unicode form */
			if (size > 0)
				set_str(&cur.stream, cfb_utf16(body, size));
			break;
		case 0x0031:			/* MODULEOFFSET */
			if (size != 4) {
				(void)snprintf(why, whylen, "dir: MODULEOFFSET "
				    "of %u bytes", size);
				e = LW_EMALFORMED;
				goto out;
			}
			cur.offset = le32(body);
			break;
		case 0x0021:			/* MODULETYPE procedural */
			cur.procedural = true;
			break;
		case 0x002b:			/* module terminator */
			if (cur.name == NULL || *cur.name == '\0') {
				(void)snprintf(why, whylen, "dir: module "
				    "without a name");
				e = LW_EMALFORMED;
				goto out;
			}
			if (cur.stream == NULL &&
			    (cur.stream = strdup(cur.name)) == NULL) {
				e = LW_ENOMEM;
				goto out;
			}
			if (d->n >= maxmods) {
				(void)snprintf(why, whylen, "more than %u "
				    "modules", maxmods);
				e = LW_ELIMIT;
				goto out;
			}
			if (d->n == cap) {
				cap = cap ? cap * 2 : 8;
				nv = reallocarray(d->mod, cap, sizeof(*nv));
				if (nv == NULL) {
					e = LW_ENOMEM;
					goto out;
				}
				d->mod = nv;
			}
			d->mod[d->n++] = cur;
			memset(&cur, 0, sizeof(cur));
			break;
		default:
			break;
		}
	}
out:
	module_clear(&cur);
	return e;
}

/* What one module's source says. */
struct srcinfo {
	bool		 code;		/* a line that is not Attribute/comment */
	uint32_t	 autoexec;	/* bits of autoexec_names */
	uint32_t	 kw;		/* bits of keywords */
	unsigned	 nchr;
	unsigned	 nrev;
};

static const char *const autoexec_names[] = {
	"AutoOpen", "Auto_Open", "AutoClose", "Auto_Close", "AutoExec",
	"AutoExit", "AutoNew", "Document_Open", "Document_Close",
	"Document_BeforeClose", "Document_New",
	"Document_ContentControlOnEnter", "Workbook_Open",
	"Workbook_Activate", "Workbook_BeforeClose", "Workbook_Deactivate",
	"Workbook_WindowActivate", "Auto_Activate", "Auto_Deactivate",
};
#define NAUTOEXEC (sizeof(autoexec_names) / sizeof(autoexec_names[0]))
/* ActiveX events that fire on open (InkPicture1_Painted, Frame1_Layout). */
static const char *const autoexec_suffixes[] = { "_Painted", "_Layout" };
#define NSUFFIX (sizeof(autoexec_suffixes) / sizeof(autoexec_suffixes[0]))

#define KW_WORD		0x1	/* identifier boundaries on both sides */
#define KW_NODOT	0x2	/* not part of a dotted name */
static const struct keyword {
	const char	*show;
	const char	*pat;		/* lower case */
	unsigned	 flags;
} keywords[] = {
	{ "Shell", "shell", KW_WORD | KW_NODOT },
	{ "WScript.Shell", "wscript.shell", 0 },
	{ "Shell.Application", "shell.application", 0 },
	{ "ShellExecute", "shellexecute", 0 },
	{ "CreateObject", "createobject", KW_WORD },
	{ "GetObject", "getobject", KW_WORD },
	{ "URLDownloadToFile", "urldownloadtofile", 0 },
	{ "XMLHTTP", "xmlhttp", 0 },
	{ "WinHttp", "winhttp", 0 },
	{ "ADODB.Stream", "adodb.stream", 0 },
	{ "powershell", "powershell", 0 },
	{ "Environ", "environ", KW_WORD },
	{ "CallByName", "callbyname", KW_WORD },
	{ "ExecuteExcel4Macro", "executeexcel4macro", KW_WORD },
	{ "WinExec", "winexec", KW_WORD },
	/* set by hand: */
	{ "cmd /c", NULL, 0 },
	{ "Declare CreateProcess", NULL, 0 },
};
#define NKEYWORDS	(sizeof(keywords) / sizeof(keywords[0]))
#define KW_CMD		(NKEYWORDS - 2)
#define KW_DECLARE	(NKEYWORDS - 1)

static bool
is_ident(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive: does pat (lower case) start at l[i]? */
static bool
match_at(const char *l, size_t n, size_t i, const char *pat)
{
	size_t	 k;

	for (k = 0; pat[k] != '\0'; k++)
		if (i + k >= n || lower((unsigned char)l[i + k]) != pat[k])
			return false;
	return true;
}

/* Count matches of pat in the line, honouring the KW_* flags. */
static unsigned
count_kw(const char *l, size_t n, const char *pat, unsigned flags)
{
	size_t	 i, plen = strlen(pat);
	unsigned c = 0;
	int	 before, after;

	for (i = 0; i + plen <= n; i++) {
		if (lower((unsigned char)l[i]) != pat[0] ||
		    !match_at(l, n, i, pat))
			continue;
		before = i > 0 ? (unsigned char)l[i - 1] : ' ';
		after = i + plen < n ? (unsigned char)l[i + plen] : ' ';
		if ((flags & KW_WORD) && (is_ident(before) || is_ident(after)))
			continue;
		if ((flags & KW_NODOT) && (before == '.' || after == '.'))
			continue;
		c++;
	}
	return c;
}

/* Next identifier token from *i; its length (0: none). */
static size_t
token(const char *l, size_t n, size_t *i, size_t *start)
{
	while (*i < n && (l[*i] == ' ' || l[*i] == '\t'))
		(*i)++;
	*start = *i;
	while (*i < n && is_ident((unsigned char)l[*i]))
		(*i)++;
	return *i - *start;
}

static bool
tok_is(const char *l, size_t s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(l + s, w, len) == 0;
}

/* "[Private|Public|Friend|Static ]... Sub|Function NAME": NAME. */
static void
check_decl(const char *l, size_t n, struct srcinfo *si)
{
	size_t	 i = 0, s, len, k, sl;
	bool	 declare = false;

	for (;;) {
		if ((len = token(l, n, &i, &s)) == 0)
			return;
		if (tok_is(l, s, len, "private") || tok_is(l, s, len, "public") ||
		    tok_is(l, s, len, "friend") || tok_is(l, s, len, "static"))
			continue;
		if (tok_is(l, s, len, "declare")) {
			declare = true;
			break;
		}
		if (tok_is(l, s, len, "sub") || tok_is(l, s, len, "function"))
			break;
		return;
	}
	if (declare) {
		if (count_kw(l, n, "createprocess", 0) > 0)
			si->kw |= 1u << KW_DECLARE;
		return;
	}
	if ((len = token(l, n, &i, &s)) == 0)
		return;
	for (k = 0; k < NAUTOEXEC; k++)
		if (tok_is(l, s, len, autoexec_names[k]))
			si->autoexec |= 1u << k;
	for (k = 0; k < NSUFFIX; k++) {
		sl = strlen(autoexec_suffixes[k]);
		if (len > sl && strncasecmp(l + s + len - sl,
		    autoexec_suffixes[k], sl) == 0)
			si->autoexec |= 1u << (NAUTOEXEC + k);
	}
}

/* "Chr(", "ChrW(", "ChrB$(", ... as calls. */
static unsigned
count_chr(const char *l, size_t n)
{
	size_t	 i, j;
	unsigned c = 0;

	for (i = 0; i + 4 <= n; i++) {
		if (!match_at(l, n, i, "chr") ||
		    (i > 0 && is_ident((unsigned char)l[i - 1])))
			continue;
		j = i + 3;
		if (j < n && (lower((unsigned char)l[j]) == 'w' ||
		    lower((unsigned char)l[j]) == 'b'))
			j++;
		if (j < n && l[j] == '$')
			j++;
		while (j < n && l[j] == ' ')
			j++;
		if (j < n && l[j] == '(')
			c++;
	}
	return c;
}

static void
check_line(const char *l, size_t n, struct srcinfo *si)
{
	size_t	 i, k;
	bool	 inq = false;

	while (n > 0 && (*l == ' ' || *l == '\t')) {
		l++;
		n--;
	}
	if (n == 0 || *l == '\'')
		return;
	if (n >= 3 && strncasecmp(l, "rem", 3) == 0 &&
	    (n == 3 || l[3] == ' ' || l[3] == '\t'))
		return;
	if (n >= 10 && strncasecmp(l, "attribute ", 10) == 0)
		return;
	/* Cut a trailing comment: a quote outside a string literal. */
	for (i = 0; i < n; i++) {
		if (l[i] == '"')
			inq = !inq;
		else if (l[i] == '\'' && !inq)
			break;
	}
	n = i;
	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	si->code = true;
	check_decl(l, n, si);
	for (k = 0; k < NKEYWORDS; k++)
		if (keywords[k].pat != NULL &&
		    count_kw(l, n, keywords[k].pat, keywords[k].flags) > 0)
			si->kw |= 1u << k;
	for (i = 0; i + 3 <= n; i++) {
		if (!match_at(l, n, i, "cmd") ||
		    (i > 0 && is_ident((unsigned char)l[i - 1])))
			continue;
		k = i + 3;
		if (match_at(l, n, k, ".exe"))
			k += 4;
		while (k < n && l[k] == ' ')
			k++;
		if (k + 1 < n && l[k] == '/' &&
		    (lower((unsigned char)l[k + 1]) == 'c' ||
		    lower((unsigned char)l[k + 1]) == 'k'))
			si->kw |= 1u << KW_CMD;
	}
	si->nchr += count_chr(l, n);
	si->nrev += count_kw(l, n, "strreverse", KW_WORD);
}

static void
analyze_source(const char *src, size_t len, struct srcinfo *si)
{
	size_t	 i, s;

	for (i = 0, s = 0; i <= len; i++) {
		if (i == len || src[i] == '\r' || src[i] == '\n') {
			check_line(src + s, i - s, si);
			s = i + 1;
		}
	}
}

/*
 * Compiled lines in the performance cache.  Its line table starts with
 * the magic 0xCAFE, a version word and the number of lines, then 12
 * bytes per line whose third word is the p-code length; an empty
 * module has no lines.  The table sits at le32(cache + 0x19) + 0x3C in
 * the 32-bit layout; elsewhere we look for the magic.  Returns the
 * lines with p-code, or 0 when there is no table.
 */
static unsigned
pcode_lines(const unsigned char *pc, size_t len)
{
	size_t		 pos, i, e;
	unsigned	 nl, k, n = 0;

	pos = SIZE_MAX;
	if (len >= 0x1d) {
		i = (size_t)le32(pc + 0x19) + 0x3c;
		if (i < len && len - i >= 6 && pc[i] == 0xfe &&
		    pc[i + 1] == 0xca)
			pos = i;
	}
	for (i = 0; pos == SIZE_MAX && i + 6 <= len; i++)
		if (pc[i] == 0xfe && pc[i + 1] == 0xca && pc[i + 2] == 0x01 &&
		    pc[i + 3] == 0x00)
			pos = i;
	if (pos == SIZE_MAX)
		return 0;
	nl = le16(pc + pos + 4);
	for (k = 0; k < nl; k++) {
		e = pos + 6 + (size_t)k * 12;
		if (e + 12 > len)
			return n > 0 ? n : nl;	/* truncated table */
		if (le16(pc + e + 4) != 0)
			n++;
	}
	return n;
}

/* A bounded, always-terminated detail text. */
struct sbuf {
	char	 s[768];
	size_t	 len;
};

static void
sb_add(struct sbuf *b, const char *sep, const char *s)
{
	int	 r;

	if (b->len >= sizeof(b->s) - 1)
		return;
	r = snprintf(b->s + b->len, sizeof(b->s) - b->len, "%s%.80s",
	    b->len ? sep : "", s);
	if (r < 0 || (size_t)r >= sizeof(b->s) - b->len) {
		b->len = sizeof(b->s) - 1;
		memcpy(b->s + sizeof(b->s) - 4, "...", 4);
	} else
		b->len += (size_t)r;
}

static enum lw_err
malformed(struct scan_ctx *ctx, const char *part, const char *what,
    const char *why)
{
	return findings_add(ctx->fs, "OFFICE_MALFORMED", part, "%s: %s",
	    what, why);
}

/* One module: returns whether it has code or p-code. */
static enum lw_err
scan_module(struct scan_ctx *ctx, const char *part, struct cfb *c,
    const char *vbapath, const struct ovba_module *m, bool *has_code)
{
	char		*spath = NULL, why[160];
	unsigned char	*data = NULL, *src = NULL;
	size_t		 len, slen = 0;
	unsigned	 plines, k;
	struct srcinfo	 si;
	struct sbuf	 b;
	enum lw_err	 e;
	int		 idx;

	memset(&si, 0, sizeof(si));
	*has_code = false;
	if (lw_asprintf(&spath, "%s/%s", vbapath, m->stream) != LW_OK)
		return LW_ENOMEM;
	if ((idx = cfb_find(c, spath)) < 0) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "module %.64s: no stream %.64s", m->name, spath);
		goto out;
	}
	if ((e = cfb_read(c, idx, &data, &len)) != LW_OK) {
		if (e == LW_ENOMEM)
			goto out;
		e = malformed(ctx, part, spath, c->why);
		goto out;
	}
	if (m->offset > len) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "module %.64s: source offset %u past its %zu bytes",
		    m->name, m->offset, len);
		goto out;
	}
	plines = pcode_lines(data, m->offset);
	if (m->offset < len) {
		e = ovba_decompress(data + m->offset, len - m->offset,
		    ctx->lim->office_stream_bytes, &src, &slen, why,
		    sizeof(why));
		if (e == LW_ENOMEM)
			goto out;
		if (e != LW_OK) {
			if ((e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
			    "module %.64s: source: %s", m->name, why)) !=
			    LW_OK)
				goto out;
		} else
			analyze_source((const char *)src, slen, &si);
	}
	*has_code = si.code || plines > 0;
	e = LW_OK;
	if (plines > 0 && !si.code)
		e = findings_add(ctx->fs, "OFFICE_VBA_SUSPICIOUS", part,
		    "module %.64s: %u compiled p-code lines but no source "
		    "code (VBA stomping)", m->name, plines);
	if (e == LW_OK && si.autoexec != 0) {
		memset(&b, 0, sizeof(b));
		for (k = 0; k < NAUTOEXEC; k++)
			if (si.autoexec & 1u << k)
				sb_add(&b, ", ", autoexec_names[k]);
		for (k = 0; k < NSUFFIX; k++)
			if (si.autoexec & 1u << (NAUTOEXEC + k))
				sb_add(&b, ", ", autoexec_suffixes[k] + 1);
		e = findings_add(ctx->fs, "OFFICE_VBA_AUTOEXEC", part,
		    "module %.64s: %s", m->name, b.s);
	}
	if (e == LW_OK && (si.kw != 0 || si.nchr >= OVBA_CHR_HEAVY ||
	    si.nrev >= OVBA_REV_HEAVY)) {
		memset(&b, 0, sizeof(b));
		for (k = 0; k < NKEYWORDS; k++)
			if (si.kw & 1u << k)
				sb_add(&b, ", ", keywords[k].show);
		if (si.nchr >= OVBA_CHR_HEAVY) {
			char	 t[32];

			(void)snprintf(t, sizeof(t), "Chr() x%u", si.nchr);
			sb_add(&b, ", ", t);
		}
		if (si.nrev >= OVBA_REV_HEAVY) {
			char	 t[32];

			(void)snprintf(t, sizeof(t), "StrReverse x%u",
			    si.nrev);
			sb_add(&b, ", ", t);
		}
		e = findings_add(ctx->fs, "OFFICE_VBA_SUSPICIOUS", part,
		    "module %.64s: %s", m->name, b.s);
	}
out:
	free(src);
	free(data);
	free(spath);
	return e;
}

static enum lw_err
scan_project(struct scan_ctx *ctx, const char *part, struct cfb *c,
    int dirent)
{
	const char	*vbapath;
	unsigned char	*raw = NULL, *dir = NULL;
	size_t		 rawlen, dirlen, i, ncode = 0;
	struct ovba_dir	 d;
	struct sbuf	 names;
	char		 why[160];
	bool		 has;
	enum lw_err	 e;

	memset(&d, 0, sizeof(d));
	vbapath = c->ent[c->ent[dirent].parent].path;
	if ((e = cfb_read(c, dirent, &raw, &rawlen)) != LW_OK) {
		if (e != LW_ENOMEM)
			e = malformed(ctx, part, c->ent[dirent].path, c->why);
		goto out;
	}
	e = ovba_decompress(raw, rawlen, ctx->lim->office_stream_bytes, &dir,
	    &dirlen, why, sizeof(why));
	if (e != LW_OK) {
		if (e != LW_ENOMEM)
			e = malformed(ctx, part, c->ent[dirent].path, why);
		goto out;
	}
	e = ovba_parse_dir(dir, dirlen, ctx->lim->vba_modules, &d, why,
	    sizeof(why));
	if (e == LW_ENOMEM)
		goto out;
	if (e != LW_OK && (e = malformed(ctx, part, c->ent[dirent].path,
	    why)) != LW_OK)
		goto out;
	memset(&names, 0, sizeof(names));
	for (i = 0; i < d.n; i++) {
		if (scan_expired(ctx))
			break;
		if ((e = scan_module(ctx, part, c, vbapath, &d.mod[i],
		    &has)) != LW_OK)
			goto out;
		sb_add(&names, ", ", d.mod[i].name);
		if (has)
			ncode++;
	}
	if (ncode > 0)
		e = findings_add(ctx->fs, "OFFICE_VBA", part,
		    "VBA project %s (modules: %zu, with code: %zu): %s",
		    *vbapath ? vbapath : "VBA", d.n, ncode, names.s);
out:
	ovba_dir_free(&d);
	free(dir);
	free(raw);
	return e;
}

enum lw_err
ovba_scan(struct scan_ctx *ctx, const char *part, struct cfb *c)
{
	size_t		 i;
	int		 p;
	unsigned	 nproj = 0;
	enum lw_err	 e;

	for (i = 1; i < c->nent && i < INT32_MAX; i++) {
		if (c->ent[i].path == NULL ||
		    c->ent[i].type != CFB_TYPE_STREAM ||
		    strcasecmp(c->ent[i].name, "dir") != 0)
			continue;
		p = c->ent[i].parent;
		if (p <= 0 || strcasecmp(c->ent[p].name, "VBA") != 0)
			continue;
		if (scan_expired(ctx))
			return LW_OK;
		if (nproj++ == OVBA_MAX_PROJECTS)
			return findings_add(ctx->fs, "OFFICE_MALFORMED", part,
			    "limit: more than %d VBA projects",
			    OVBA_MAX_PROJECTS);
		if ((e = scan_project(ctx, part, c, (int)i)) != LW_OK)
			return e;
	}
	return LW_OK;
}
