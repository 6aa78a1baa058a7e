/*
 * names.c: person names as the hijack signs compare them.
 *
 * Takes a display name (UTF-8, already RFC 2047 decoded by mime.c) or a
 * policy alias; returns comparison keys (names_key) and whether a
 * display name is one of a list of people.  Uses libunistring for NFKC
 * and case folding, so full-width letters, half-width katakana,
 * ideographic spaces and zero-width characters do not hide a name.
 *
 * Bounds: display names longer than NAMES_MAX_DISPLAY bytes are not
 * compared (no real name is that long; it caps NFKC's expansion), at
 * most NAMES_MAX_COMPONENTS components.  Invalid UTF-8 is replaced by
 * U+FFFD, so it can never equal a configured name.
 *
 * Ignores: honorifics other than a trailing 様/さん/殿/御中, titles
 * (Mr., Dr.), initials ("H. Sato" is not Hanako Sato), names of three
 * or more Latin words in other orders, and look-alike letters of other
 * scripts (Cyrillic "а" for Latin "a"; NFKC does not map them).
 */
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "lurewall.h"
#include "names.h"
#include "policy.h"

/*
 * Copy of s with every invalid UTF-8 sequence replaced by U+FFFD, so
 * the libunistring calls never fail on attacker bytes.  Malloc'd,
 * NUL-terminated; *olen gets the length.
 */
static uint8_t *
valid_utf8(const char *s, size_t len, size_t *olen)
{
	const uint8_t	*p = (const uint8_t *)s;
	uint8_t		*out, *o;
	ucs4_t		 uc;
	size_t		 i = 0;
	int		 n;

	/* Each bad byte becomes 3 bytes at most. */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	if ((out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	o = out;
	while (i < len) {
		n = u8_mbtoucr(&uc, p + i, len - i);
		if (n <= 0 || uc == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(o, p + i, (size_t)n);
			o += n;
			i += (size_t)n;
		}
	}
	*o = '\0';
	*olen = (size_t)(o - out);
	return out;
}

/* Turn a libunistring result (not terminated) into a C string. */
static char *
terminate(uint8_t *r, size_t rlen)
{
	uint8_t	*t;

	if (r == NULL)
		return NULL;
	if ((t = realloc(r, rlen + 1)) == NULL) {
		free(r);
		return NULL;
	}
	t[rlen] = '\0';
	return (char *)t;
}

char *
names_nfkc(const char *s, size_t len)
{
	uint8_t	*v, *r;
	size_t	 vlen, rlen;

	if ((v = valid_utf8(s, len, &vlen)) == NULL)
		return NULL;
	if (vlen == 0)
		return (char *)v;
	r = u8_normalize(UNINORM_NFKC, v, vlen, NULL, &rlen);
	free(v);
	return terminate(r, rlen);
}

/* Separators inside a name that carry no meaning for the comparison. */
static bool
name_ignorable(ucs4_t uc)
{
	return uc_is_property_white_space(uc) ||
	    uc_is_property_default_ignorable_code_point(uc) ||
	    uc == 0x30fb ||		/* katakana middle dot */
	    uc == 0x00b7;		/* middle dot */
}

static bool
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t	n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static const char *const honorifics[] = {
	"様", "さん", "殿", "御中"
};

/* Quotes around a name ('Hanako Sato', “佐藤 花子”) are no part of it. */
static const char *const quotes[] = {
	"\"", "'", "`", "\xe2\x80\x98", "\xe2\x80\x99", "\xe2\x80\x9c",
	"\xe2\x80\x9d", "「", "」"
};

/* Drop quotes at both ends of out[0..*len), then one honorific. */
static char *
trim_key(char *out, size_t *len)
{
	size_t	i, n, start = 0;
	bool	again = true;

	while (again) {
		again = false;
		for (i = 0; i < sizeof(quotes) / sizeof(quotes[0]); i++) {
			n = strlen(quotes[i]);
			if (*len - start >= n &&
			    memcmp(out + start, quotes[i], n) == 0) {
				start += n;
				again = true;
			}
			if (*len - start >= n &&
			    memcmp(out + *len - n, quotes[i], n) == 0) {
				*len -= n;
				again = true;
			}
		}
	}
	for (i = 0; i < sizeof(honorifics) / sizeof(honorifics[0]); i++) {
		n = strlen(honorifics[i]);
		if (*len - start >= n &&
		    memcmp(out + *len - n, honorifics[i], n) == 0) {
			*len -= n;
			break;
		}
	}
	memmove(out, out + start, *len - start);
	*len -= start;
	out[*len] = '\0';
	return out;
}

char *
names_key(const char *name)
{
	uint8_t		*v, *f;
	char		*out;
	size_t		 vlen, flen, i, o;
	ucs4_t		 uc;
	int		 n;

	if (name == NULL)
		return NULL;
	if ((v = valid_utf8(name, strlen(name), &vlen)) == NULL)
		return NULL;
	if (vlen == 0)
		return (char *)v;
	/* Case folding with NFKC applied to the result: one pass. */
	f = u8_casefold(v, vlen, NULL, UNINORM_NFKC, NULL, &flen);
	free(v);
	if (f == NULL)
		return NULL;
	if ((out = malloc(flen + 1)) == NULL) {
		free(f);
		return NULL;
	}
	for (i = 0, o = 0; i < flen; i += (size_t)n) {
		n = u8_mbtoucr(&uc, f + i, flen - i);
		if (n <= 0)		/* cannot happen after valid_utf8 */
			break;
		if (name_ignorable(uc))
			continue;
		memcpy(out + o, f + i, (size_t)n);
		o += (size_t)n;
	}
	free(f);
	return trim_key(out, &o);
}

/* Only Latin-script letters and name punctuation: "Müller", "O'Neil". */
static bool
latin_word(const char *w, size_t len)
{
	const uint8_t	*p = (const uint8_t *)w;
	ucs4_t		 uc;
	size_t		 i;
	int		 n;
	bool		 letter = false;

	for (i = 0; i < len; i += (size_t)n) {
		if ((n = u8_mbtoucr(&uc, p + i, len - i)) <= 0)
			return false;
		if (uc < 0x250 && uc_is_alpha(uc))
			letter = true;
		else if (uc != '-' && uc != '\'' && uc != '.')
			return false;
	}
	return letter;
}

/* Is s[0..len) only white space (after NFKC: ASCII space and tab)? */
static bool
blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/*
 * For a component of exactly two Latin words (separated by spaces or a
 * comma), the keys of both orders.
 */
static enum lw_err
two_words(const char *s, size_t len, char **a, char **b)
{
	const char	*w[3];
	size_t		 wl[3], nw = 0, i = 0, start;
	char		*t;

	*a = *b = NULL;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != ',')
			i++;
		if (nw == 2)
			return LW_OK;		/* three words or more */
		w[nw] = s + start;
		wl[nw++] = i - start;
	}
	if (nw != 2 || !latin_word(w[0], wl[0]) || !latin_word(w[1], wl[1]))
		return LW_OK;
	if (lw_asprintf(&t, "%.*s %.*s", (int)wl[0], w[0], (int)wl[1],
	    w[1]) != LW_OK)
		return LW_ENOMEM;
	*a = names_key(t);
	free(t);
	if (*a == NULL)
		return LW_ENOMEM;
	if (lw_asprintf(&t, "%.*s %.*s", (int)wl[1], w[1], (int)wl[0],
	    w[0]) != LW_OK)
		return LW_ENOMEM;
	*b = names_key(t);
	free(t);
	return *b == NULL ? LW_ENOMEM : LW_OK;
}

static enum lw_err
add_component(struct name_cands *c, const char *s, size_t len, bool *over)
{
	char		*t;
	size_t		 k;
	enum lw_err	 e;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return LW_OK;
	if (c->n == NAMES_MAX_COMPONENTS) {
		*over = true;
		return LW_OK;
	}
	if ((t = lw_strndup(s, len)) == NULL)
		return LW_ENOMEM;
	c->key[c->n] = names_key(t);
	free(t);
	if (c->key[c->n] == NULL)
		return LW_ENOMEM;
	/*
	 * "'Sato Hanako' 様": neither quotes nor the honorific are words.
	 * The swap is only tried for ASCII-quoted Latin names.
	 */
	for (k = 0; k < sizeof(honorifics) / sizeof(honorifics[0]); k++)
		if (ends_with(s, len, honorifics[k])) {
			len -= strlen(honorifics[k]);
			break;
		}
	while (len > 0 && strchr(" \t\"'`", s[len - 1]) != NULL)
		len--;
	while (len > 0 && strchr(" \t\"'`", *s) != NULL) {
		s++;
		len--;
	}
	e = two_words(s, len, &c->swap[c->n][0], &c->swap[c->n][1]);
	c->n++;		/* so that names_cands_free frees a partial swap */
	return e;
}

/*
 * Is there a bracket at s?  Returns its length (0: none); *kind is the
 * pair it belongs to, *open whether it opens.
 */
static size_t
bracket_at(const char *s, size_t *kind, bool *open)
{
	static const char *const pairs[][2] = {
		{ "(", ")" }, { "[", "]" }, { "【", "】" }, { "〔", "〕" }
	};
	size_t	k, n;

	for (k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
		n = strlen(pairs[k][0]);
		if (strncmp(s, pairs[k][0], n) == 0) {
			*kind = k;
			*open = true;
			return n;
		}
		n = strlen(pairs[k][1]);
		if (strncmp(s, pairs[k][1], n) == 0) {
			*kind = k;
			*open = false;
			return n;
		}
	}
	return 0;
}

/*
 * Components of an NFKC'd display name: the text outside brackets and
 * each bracketed text, further split at '/' and '|'.  Nested or
 * unbalanced brackets: the whole name is one component.
 */
static enum lw_err
split(const char *s, struct name_cands *c)
{
	size_t		 len = strlen(s), i, n, kind, inkind = 0, seg;
	bool		 open, in = false, over = false;
	enum lw_err	 e;

	for (i = 0; i < len; i += n ? n : 1) {
		if ((n = bracket_at(s + i, &kind, &open)) == 0)
			continue;
		if (open == in || (!open && kind != inkind))
			return add_component(c, s, len, &over);
		in = open;
		inkind = kind;
	}
	if (in)
		return add_component(c, s, len, &over);

	for (i = 0, seg = 0; i < len; ) {
		n = bracket_at(s + i, &kind, &open);
		if (n == 0 && s[i] != '/' && s[i] != '|') {
			i++;
			continue;
		}
		if ((e = add_component(c, s + seg, i - seg, &over)) != LW_OK)
			return e;
		i += n ? n : 1;
		seg = i;
	}
	if ((e = add_component(c, s + seg, len - seg, &over)) != LW_OK)
		return e;
	if (over)		/* too many pieces to be one person's name */
		names_cands_free(c);
	return LW_OK;
}

enum lw_err
names_cands(const char *display, struct name_cands *c)
{
	char		*s;
	size_t		 len;
	enum lw_err	 e;

	memset(c, 0, sizeof(*c));
	if (display == NULL || (len = strlen(display)) == 0 ||
	    len > NAMES_MAX_DISPLAY)
		return LW_OK;
	if ((s = names_nfkc(display, len)) == NULL)
		return LW_ENOMEM;
	if (blank(s, strlen(s))) {
		free(s);
		return LW_OK;
	}
	e = split(s, c);
	free(s);
	if (e != LW_OK)
		names_cands_free(c);
	return e;
}

void
names_cands_free(struct name_cands *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++) {
		free(c->key[i]);
		free(c->swap[i][0]);
		free(c->swap[i][1]);
	}
	memset(c, 0, sizeof(*c));
}

static bool
key_is(const char *k, const struct name_cands *c, size_t i)
{
	if (k == NULL || *k == '\0')
		return false;
	return (c->key[i] != NULL && strcmp(k, c->key[i]) == 0) ||
	    (c->swap[i][0] != NULL && strcmp(k, c->swap[i][0]) == 0) ||
	    (c->swap[i][1] != NULL && strcmp(k, c->swap[i][1]) == 0);
}

bool
names_person_is(const struct person *who, const struct name_cands *c,
    size_t i, bool *nomem)
{
	size_t	 j;
	char	*k;
	bool	 hit;

	if (i >= c->n)
		return false;
	for (j = 0; j < who->n; j++) {
		if (who->keys != NULL && who->keys[j] != NULL) {
			if (key_is(who->keys[j], c, i))
				return true;
			continue;
		}
		if (who->names == NULL || who->names[j] == NULL)
			continue;
		if ((k = names_key(who->names[j])) == NULL) {
			*nomem = true;
			return false;
		}
		hit = key_is(k, c, i);
		free(k);
		if (hit)
			return true;
	}
	return false;
}
