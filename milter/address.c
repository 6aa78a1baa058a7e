/*
 * address.c: From / Sender / Reply-To values -> display name, address
 * and domain.
 *
 * Takes an unfolded header value (RFC 5322 address-list, obsolete forms
 * included: routes, comments anywhere, unquoted dots in phrases).
 * Returns up to max mailboxes; group names are skipped, their members
 * kept.  The display name keeps what the reader sees: quoted strings
 * unquoted, runs of whitespace as one space, RFC 2047 words decoded
 * (also inside quotes, as every client does), raw 8-bit text guessed
 * (UTF-8, CP932, Latin-1).  A display name that looks like an address
 * ("yamada@torihiki.example.ne.jp" <x@evil.example>) is left as text:
 * only what is inside <> is the address.  Without <>, the address is
 * the text outside comments and the first comment is the display name.
 * The domain is the address after its last '@', lowercased; NULL when
 * there is no '@'.  Linear in the value; never fails except on ENOMEM
 * (then fewer addresses are returned).
 */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "mime.h"
#include "sbuf.h"
#include "util.h"

enum tok_kind {
	T_ATOM,			/* run of atom text, dots included */
	T_QUOTED,		/* quoted string, value unescaped */
	T_COMMENT,		/* comment, value without the parentheses */
	T_LITERAL,		/* domain literal "[...]" as written */
	T_SPECIAL		/* one of < > @ , ; : */
};

struct tok {
	enum tok_kind	 kind;
	char		 c;		/* T_SPECIAL */
	const char	*s;		/* into the value / unescaped copy */
	size_t		 len;
	bool		 space_before;
};

struct toks {
	struct tok	*v;
	size_t		 n;
	struct sbuf	 text;		/* unescaped quoted strings, comments */
	bool		 oom;
};

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_special(char c)
{
	return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' ||
	    c == ':' || c == '"' || c == '(' || c == ')' || c == '[' ||
	    c == ']' || c == '\\';
}

/*
 * Split value into tokens.  Quoted strings and comments are unescaped
 * into t->text; their offsets are fixed up once the text stops moving.
 */
static void
tokenize(const char *value, struct toks *t)
{
	size_t		 i = 0, len = strlen(value), start, depth, cap;
	struct tok	*tk;
	size_t		*off;
	bool		 sp = false;

	/* One token per byte at most: allocate once. */
	cap = len + 1;
	t->v = calloc(cap, sizeof(*t->v));
	off = calloc(cap, sizeof(*off));
	if (t->v == NULL || off == NULL) {
		t->oom = true;
		free(off);
		return;
	}
	while (i < len) {
		char c = value[i];

		if (is_wsp(c)) {
			sp = true;
			i++;
			continue;
		}
		tk = &t->v[t->n];
		tk->space_before = sp;
		sp = false;
		if (c == '"' || c == '(') {
			tk->kind = c == '"' ? T_QUOTED : T_COMMENT;
			start = t->text.len;
			depth = 1;
			for (i++; i < len; i++) {
				if (value[i] == '\\' && i + 1 < len) {
					sbuf_addc(&t->text, value[++i]);
					continue;
				}
				if (c == '"' && value[i] == '"')
					break;
				if (c == '(' && value[i] == '(')
					depth++;
				if (c == '(' && value[i] == ')' &&
				    --depth == 0)
					break;
				sbuf_addc(&t->text, value[i]);
			}
			i++;	/* closing quote; an unclosed one ends it */
			off[t->n] = start;
			tk->len = t->text.len - start;
			t->n++;
			continue;
		}
		if (c == '[') {
			start = i;
			while (i < len && value[i] != ']')
				i++;
			if (i < len)
				i++;
			tk->kind = T_LITERAL;
			tk->s = value + start;
			tk->len = i - start;
			t->n++;
			continue;
		}
		if (is_special(c)) {
			tk->kind = T_SPECIAL;
			tk->c = c;
			tk->s = value + i;
			tk->len = 1;
			t->n++;
			i++;
			continue;
		}
		start = i;
		while (i < len && !is_wsp(value[i]) && !is_special(value[i]))
			i++;
		tk->kind = T_ATOM;
		tk->s = value + start;
		tk->len = i - start;
		t->n++;
	}
	if (!sbuf_finish(&t->text))
		t->oom = true;
	for (i = 0; i < t->n && !t->oom; i++)
		if (t->v[i].kind == T_QUOTED || t->v[i].kind == T_COMMENT)
			t->v[i].s = t->text.p + off[i];
	free(off);
}

static bool
is_sp(const struct tok *tk, char c)
{
	return tk->kind == T_SPECIAL && tk->c == c;
}

/* Join tokens [a, b) of the given kinds, as the reader sees them. */
static void
join(const struct toks *t, size_t a, size_t b, bool phrase,
    struct sbuf *out)
{
	size_t	i;

	for (i = a; i < b; i++) {
		const struct tok *tk = &t->v[i];

		if (tk->kind == T_COMMENT)
			continue;
		if (phrase && tk->space_before && out->len > 0)
			sbuf_addc(out, ' ');
		if (!phrase && tk->kind == T_QUOTED) {
			sbuf_addc(out, '"');
			sbuf_add(out, tk->s, tk->len);
			sbuf_addc(out, '"');
		} else
			sbuf_add(out, tk->s, tk->len);
	}
}

static char *
trimmed_dup(struct sbuf *b)
{
	size_t	s = 0, e = b->len;

	if (b->oom || b->p == NULL)
		return NULL;
	while (s < e && is_wsp(b->p[s]))
		s++;
	while (e > s && is_wsp(b->p[e - 1]))
		e--;
	if (s == e)
		return NULL;
	return strndup(b->p + s, e - s);
}

/* Fill a from the tokens of one mailbox, [a, b).  False on ENOMEM. */
static bool
mailbox(const struct toks *t, size_t a, size_t b, struct address *ad)
{
	struct sbuf	 disp = { 0 }, addr = { 0 };
	size_t		 lt, gt, i, route;
	char		*raw, *at;
	bool		 ok = true;

	memset(ad, 0, sizeof(*ad));
	for (lt = a; lt < b && !is_sp(&t->v[lt], '<'); lt++)
		;
	if (lt < b) {
		for (gt = lt + 1; gt < b && !is_sp(&t->v[gt], '>'); gt++)
			;
		/* obsolete route "<@a,@b:user@host>": after the last ':' */
		route = lt + 1;
		for (i = lt + 1; i < gt; i++)
			if (is_sp(&t->v[i], ':'))
				route = i + 1;
		join(t, a, lt, true, &disp);
		join(t, route, gt, false, &addr);
	} else {
		join(t, a, b, false, &addr);
		for (i = a; i < b; i++)
			if (t->v[i].kind == T_COMMENT) {
				sbuf_add(&disp, t->v[i].s, t->v[i].len);
				break;
			}
	}
	if (disp.oom || addr.oom)
		ok = false;
	if (ok && (raw = trimmed_dup(&disp)) != NULL) {
		if (charset_decode_header(raw, &ad->display) != LW_OK)
			ok = false;
		free(raw);
		if (ad->display != NULL && *ad->display == '\0') {
			free(ad->display);
			ad->display = NULL;
		}
	}
	if (ok && (ad->addr = trimmed_dup(&addr)) != NULL &&
	    (at = strrchr(ad->addr, '@')) != NULL && at[1] != '\0') {
		if ((ad->domain = strdup(at + 1)) == NULL)
			ok = false;
		lw_strlower(ad->domain);
	}
	sbuf_free(&disp);
	sbuf_free(&addr);
	if (!ok)
		address_free(ad);
	return ok;
}

/* True when tokens [a, b) hold the special character c. */
static bool
seg_has(const struct toks *t, size_t a, size_t b, char c)
{
	size_t	i;

	for (i = a; i < b; i++)
		if (is_sp(&t->v[i], c))
			return true;
	return false;
}

static bool
seg_empty(const struct toks *t, size_t a, size_t b)
{
	size_t	i;

	for (i = a; i < b; i++)
		if (t->v[i].kind != T_COMMENT)
			return false;
	return true;
}

size_t
address_parse(const char *value, struct address *out, size_t max)
{
	struct toks	 t = { 0 };
	size_t		 i, seg, next, n = 0;
	bool		 angle = false;

	if (value == NULL || max == 0)
		return 0;
	tokenize(value, &t);
	if (t.oom)
		goto out;
	/*
	 * Cut at top-level ',' and ';'; a ':' outside <> ends a group
	 * name.  "Yamada, Taro <t@x>" is one mailbox to every client
	 * people use, so a piece with neither '@' nor '<' is glued to
	 * the next one that has '<'.
	 */
	seg = 0;
	for (i = 0; i <= t.n && n < max; i++) {
		if (i < t.n) {
			if (is_sp(&t.v[i], '<'))
				angle = true;
			else if (is_sp(&t.v[i], '>'))
				angle = false;
			if (angle || !(is_sp(&t.v[i], ',') ||
			    is_sp(&t.v[i], ';') || is_sp(&t.v[i], ':')))
				continue;
			if (is_sp(&t.v[i], ':')) {
				seg = i + 1;	/* group name: drop it */
				continue;
			}
			if (is_sp(&t.v[i], ',') && !seg_has(&t, seg, i, '@') &&
			    !seg_has(&t, seg, i, '<') &&
			    !seg_empty(&t, seg, i)) {
				for (next = i + 1; next < t.n &&
				    !is_sp(&t.v[next], ',') &&
				    !is_sp(&t.v[next], ';') &&
				    !is_sp(&t.v[next], '<'); next++)
					;
				if (next < t.n && is_sp(&t.v[next], '<')) {
					t.v[i].kind = T_ATOM;
					continue;
				}
			}
		}
		if (!seg_empty(&t, seg, i)) {
			if (!mailbox(&t, seg, i, &out[n]))
				goto out;
			if (out[n].addr != NULL || out[n].display != NULL)
				n++;
		}
		seg = i + 1;
	}
out:
	free(t.v);
	sbuf_free(&t.text);
	return n;
}

void
address_free(struct address *a)
{
	if (a == NULL)
		return;
	FREE_ALL(a->display, a->addr, a->domain);
	memset(a, 0, sizeof(*a));
}
