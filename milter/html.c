/*
 * html.c: HTML body -> the text a reader sees, for the password
 * extractor and the hijack analyzer.
 *
 * Takes UTF-8 HTML (already charset-decoded).  Returns UTF-8 text:
 * tags, comments, <script> and <style> contents are dropped; <br>, <p>,
 * <div>, <tr>, <li>, headings and the like become line breaks; other
 * runs of whitespace become one space (except inside <pre>); named
 * entities (the common ones), decimal and hex character references
 * are decoded.  &nbsp; becomes a plain space so that "PW:&nbsp;1234"
 * reads as the text it shows.  One pass, linear in the input; output is
 * never longer than the input plus a few bytes per entity.
 * html_to_visible_text also drops what a reader does not see: elements
 * with a hidden attribute or an inline style of display:none,
 * visibility:hidden or a zero font size.  Ignores style sheets (only
 * inline styles count) and unknown entities (kept as written).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "sbuf.h"

static const struct {
	const char	*name;
	uint32_t	 cp;
} entities[] = {
	{ "nbsp", ' ' }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' },
	{ "quot", '"' }, { "apos", '\'' }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "yen", 0xa5 },
	{ "euro", 0x20ac }, { "pound", 0xa3 }, { "cent", 0xa2 },
	{ "sect", 0xa7 }, { "deg", 0xb0 }, { "plusmn", 0xb1 },
	{ "times", 0xd7 }, { "divide", 0xf7 }, { "middot", 0xb7 },
	{ "bull", 0x2022 }, { "hellip", 0x2026 }, { "ndash", 0x2013 },
	{ "mdash", 0x2014 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "laquo", 0xab },
	{ "raquo", 0xbb }, { "shy", 0xad }, { "zwsp", 0x200b },
	{ "zwnj", 0x200c }, { "zwj", 0x200d }, { "ensp", ' ' },
	{ "emsp", ' ' }, { "thinsp", ' ' }, { "iexcl", 0xa1 },
	{ "iquest", 0xbf }, { "auml", 0xe4 }, { "ouml", 0xf6 },
	{ "uuml", 0xfc }, { "Auml", 0xc4 }, { "Ouml", 0xd6 },
	{ "Uuml", 0xdc }, { "szlig", 0xdf }, { "eacute", 0xe9 },
	{ "egrave", 0xe8 }, { "agrave", 0xe0 }, { "ccedil", 0xe7 },
};

/* Elements whose start or end is a line break ("br" first). */
static const char *const block_tags[] = {
	"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
	"table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "hr",
	"address", "section", "article", "header", "footer", "title",
	"center", "form", "fieldset", "body", "html", "head",
};

struct html {
	struct sbuf	 ob;
	bool		 space;		/* a space is pending */
	unsigned	 pre;		/* inside <pre> */
};

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Last output byte, or '\n' at the start (no leading blank). */
static char
last_out(const struct html *h)
{
	return h->ob.len > 0 ? h->ob.p[h->ob.len - 1] : '\n';
}

static void
emit_text(struct html *h, const char *s, size_t n)
{
	if (h->space && last_out(h) != '\n' && last_out(h) != ' ')
		sbuf_addc(&h->ob, ' ');
	h->space = false;
	sbuf_add(&h->ob, s, n);
}

/*
 * A line break.  <br> (force) always breaks, up to one blank line in a
 * row; a block element only makes sure the text starts a new line.
 */
static void
emit_break(struct html *h, bool force)
{
	size_t	len = h->ob.len;

	h->space = false;
	while (h->ob.len > 0 && h->ob.p[h->ob.len - 1] == ' ')
		h->ob.len--;
	if (len != h->ob.len && h->ob.p != NULL)
		h->ob.p[h->ob.len] = '\0';
	if (h->ob.len >= 2 && h->ob.p[h->ob.len - 1] == '\n' &&
	    h->ob.p[h->ob.len - 2] == '\n')
		return;
	if (h->ob.len == 0 || (!force && h->ob.p[h->ob.len - 1] == '\n'))
		return;
	sbuf_addc(&h->ob, '\n');
}

/*
 * Decode the character reference at s ('&'); append it and return the
 * bytes consumed, or 0 when it is not one (the '&' is then literal).
 */
static size_t
entity(struct html *h, const char *s, size_t left)
{
	uint32_t	cp = 0;
	size_t		i = 1, n, m, best;
	unsigned	k;
	bool		any = false;

	if (left > 2 && s[1] == '#') {
		i = 2;
		if (s[2] == 'x' || s[2] == 'X') {
			for (i = 3; i < left && i < 16; i++) {
				unsigned char c = (unsigned char)s[i];
				int v = c >= '0' && c <= '9' ? c - '0' :
				    (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ?
				    (c | 0x20) - 'a' + 10 : -1;

				if (v < 0)
					break;
				cp = cp * 16 + (uint32_t)v;
				any = true;
			}
		} else {
			for (; i < left && i < 12 && s[i] >= '0' &&
			    s[i] <= '9'; i++) {
				cp = cp * 10 + (uint32_t)(s[i] - '0');
				any = true;
			}
		}
		if (!any)
			return 0;
		if (i < left && s[i] == ';')
			i++;
		/* A numeric space (&#160;) reads as a space. */
		if (cp == 0xa0)
			cp = ' ';
		if (cp == ' ')
			emit_text(h, " ", 1);
		else {
			emit_text(h, "", 0);
			sbuf_addcp(&h->ob, cp);
		}
		return i;
	}
	for (n = 1; n < left && n < 12 && is_alnum((unsigned char)s[n]); n++)
		;
	if (n == 1)
		return 0;
	/* The exact name, else (as browsers do without ';') the longest
	   known name that starts the run: "&nbspx" is "&nbsp;x". */
	best = SIZE_MAX;
	for (k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
		m = strlen(entities[k].name);
		if (m > n - 1 || memcmp(entities[k].name, s + 1, m) != 0)
			continue;
		if (best == SIZE_MAX || m > strlen(entities[best].name))
			best = k;
	}
	if (best != SIZE_MAX) {
		k = (unsigned)best;
		m = strlen(entities[k].name);
		if (m < n - 1 || n >= left || s[n] != ';')
			n = m + 1;
		else
			n++;
		if (entities[k].cp == ' ')
			emit_text(h, " ", 1);
		else {
			emit_text(h, "", 0);
			sbuf_addcp(&h->ob, entities[k].cp);
		}
		return n;
	}
	return 0;
}

/* Index just past the '>' that closes the tag at s[0] == '<'. */
static size_t
tag_end(const char *s, size_t left)
{
	size_t	i;
	char	q = 0;

	for (i = 1; i < left; i++) {
		if (q != 0) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			/* quotes only open attribute values */
			if (i > 0 && s[i - 1] == '=')
				q = s[i];
		} else if (s[i] == '>')
			return i + 1;
	}
	return left;
}

/* Find "</name" (case-insensitive) from s; return its index or left. */
static size_t
find_close(const char *s, size_t left, const char *name)
{
	size_t	n = strlen(name), i;

	for (i = 0; i + 2 + n <= left; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, n) == 0)
			return i;
	return left;
}

/* Elements that have no end tag: hiding one hides nothing after it. */
static bool
void_tag(const char *name)
{
	static const char *const v[] = { "br", "img", "hr", "input", "meta",
	    "link", "wbr", "area", "base", "col", "embed", "source" };
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(name, v[i]) == 0)
			return true;
	return false;
}

/*
 * Does the start tag [s, s + n) hide its content: a hidden attribute,
 * or a style with display:none, visibility:hidden or a zero font size
 * (spaces and case ignored)?
 */
static bool
tag_hides(const char *s, size_t n)
{
	char	 st[512];
	size_t	 i, o = 0;
	const char *p, *v;

	for (i = 1; i + 6 <= n; i++)
		if ((s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n') &&
		    strncasecmp(s + i, "hidden", 6) == 0 && (i + 6 == n ||
		    s[i + 6] == ' ' || s[i + 6] == '>' || s[i + 6] == '/' ||
		    s[i + 6] == '='))
			return true;
	for (p = s; (p = memmem(p, n - (size_t)(p - s), "style", 5)) != NULL;
	    p += 5) {
		if (p == s || (p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n'))
			continue;
		for (i = (size_t)(p - s) + 5; i < n && o + 1 < sizeof(st) &&
		    s[i] != '>'; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
			    s[i] != '\r')
				st[o++] = (char)(s[i] | ((s[i] >= 'A' &&
				    s[i] <= 'Z') ? 0x20 : 0));
		st[o] = '\0';
		if (strstr(st, "display:none") != NULL ||
		    strstr(st, "visibility:hidden") != NULL)
			return true;
		if ((v = strstr(st, "font-size:")) != NULL) {
			v += 10;
			while (*v == '0' || *v == '.')
				v++;
			if (*v < '1' || *v > '9')
				return true;
		}
		break;
	}
	return false;
}

/*
 * Index of the end of the element that starts at s (its matching close
 * tag passed, same-name elements inside counted), or left.
 */
static size_t
skip_element(const char *s, size_t left, const char *name)
{
	size_t	 i = tag_end(s, left), n = strlen(name);
	unsigned depth = 1;

	while (i < left) {
		if (s[i] == '<' && i + 1 + n < left &&
		    strncasecmp(s + i + 1, name, n) == 0 &&
		    !is_alnum((unsigned char)s[i + 1 + n]))
			depth++;
		else if (s[i] == '<' && i + 2 + n <= left && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, n) == 0 && --depth == 0)
			return i + tag_end(s + i, left - i);
		i++;
	}
	return left;
}

static enum lw_err
to_text(const char *in, size_t len, bool visible, char **out,
    size_t *outlen)
{
	struct html	 h = { { 0 }, false, 0 };
	char		 name[16];
	size_t		 i = 0, n, k, end;
	bool		 closing;

	*out = NULL;
	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (c == '<' && i + 1 < len && (in[i + 1] == '!' ||
		    in[i + 1] == '?' || in[i + 1] == '/' ||
		    ((in[i + 1] | 0x20) >= 'a' && (in[i + 1] | 0x20) <= 'z'))) {
			if (i + 3 < len && memcmp(in + i, "<!--", 4) == 0) {
				const char *e = memmem(in + i + 4,
				    len - i - 4, "-->", 3);

				i = e != NULL ? (size_t)(e - in) + 3 : len;
				continue;
			}
			closing = in[i + 1] == '/';
			for (n = 0, k = i + 1 + closing; k < len &&
			    is_alnum((unsigned char)in[k]) &&
			    n < sizeof(name) - 1; k++)
				name[n++] = (char)(in[k] | 0x20);
			name[n] = '\0';
			end = i + tag_end(in + i, len - i);
			if (visible && !closing && n > 0 && !void_tag(name) &&
			    tag_hides(in + i, end - i)) {
				i += skip_element(in + i, len - i, name);
				continue;
			}
			i = end;
			if (!closing && (strcmp(name, "script") == 0 ||
			    strcmp(name, "style") == 0)) {
				k = find_close(in + i, len - i, name);
				i += k;
				if (i < len)
					i += tag_end(in + i, len - i);
				continue;
			}
			if (strcmp(name, "pre") == 0) {
				if (closing && h.pre > 0)
					h.pre--;
				else if (!closing && h.pre < 100)
					h.pre++;
			}
			if (strcmp(name, "td") == 0 ||
			    strcmp(name, "th") == 0) {
				h.space = true;
				continue;
			}
			/* Inline elements (<b>, <span>) join text as is. */
			for (k = 0; k < sizeof(block_tags) /
			    sizeof(block_tags[0]); k++)
				if (strcmp(name, block_tags[k]) == 0) {
					emit_break(&h, k == 0);
					break;
				}
			continue;
		}
		if (c == '&' && (n = entity(&h, in + i, len - i)) != 0) {
			i += n;
			continue;
		}
		if (is_space(c)) {
			if (h.pre > 0 && c == '\n')
				emit_break(&h, true);
			else if (h.pre > 0 && c != '\r')
				emit_text(&h, " ", 1);
			else if (h.pre == 0)
				h.space = true;
			i++;
			continue;
		}
		for (n = 1; i + n < len && !is_space((unsigned char)in[i +
		    n]) && in[i + n] != '<' && in[i + n] != '&'; n++)
			;
		emit_text(&h, in + i, n);
		i += n;
	}
	emit_break(&h, false);
	if (!sbuf_finish(&h.ob)) {
		sbuf_free(&h.ob);
		return LW_ENOMEM;
	}
	*out = h.ob.p;
	if (outlen != NULL)
		*outlen = h.ob.len;
	return LW_OK;
}

enum lw_err
html_to_text(const char *in, size_t len, char **out, size_t *outlen)
{
	return to_text(in, len, false, out, outlen);
}

enum lw_err
html_to_visible_text(const char *in, size_t len, char **out,
    size_t *outlen)
{
	return to_text(in, len, true, out, outlen);
}
