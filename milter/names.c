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
 * Names as people write them (issue 16): titles before a name (Mr.,
 * Mrs., Ms., Dr., Prof., Herr, Frau, ...) and a trailing 様/さん/殿/御中
 * are dropped; so is an annotation that names a company or a domain,
 * in brackets or after " via ", "|", " / ", " - ", " @ " ("John Smith
 * (Partner Example Inc.)", "田中裕子 via example.co.jp"); two CJK words
 * are tried in both orders ("太郎 山田") and spaces never count
 * ("田中裕子"); letters of other scripts that look like Latin ones
 * match by the UTS #39 skeleton (lookalike.c, ICU), reported as
 * NAMES_CONFUSABLE.
 *
 * Ignores: annotations that name neither ("John Smith (via Google
 * Docs)" stays two components), initials ("H. Sato" is not Hanako
 * Sato), names of three or more words in other orders.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "lurewall.h"
#include "lookalike.h"
#include "names.h"
#include "policy.h"
#include "util.h"

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

/* 1 .. 127 only: NFKC and case folding change nothing but A-Z there. */
static bool
plain_ascii(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || (unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

char *
names_nfkc(const char *s, size_t len)
{
	uint8_t	*v, *r;
	size_t	 vlen, rlen;

	/* NFKC leaves ASCII as it is: no libunistring call. */
	if (plain_ascii(s, len))
		return lw_strndup(s, len);
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
	/*
	 * ASCII: case folding is A-Z to a-z and the only ignorable
	 * characters are white space (HT, LF, VT, FF, CR, space), as the
	 * general path below finds them.
	 */
	if (plain_ascii(name, strlen(name))) {
		if ((out = malloc(strlen(name) + 1)) == NULL)
			return NULL;
		for (i = 0, o = 0; name[i] != '\0'; i++) {
			if (name[i] == ' ' || (name[i] >= '\t' &&
			    name[i] <= '\r'))
				continue;
			out[o++] = name[i] >= 'A' && name[i] <= 'Z' ?
			    (char)(name[i] | 0x20) : name[i];
		}
		return trim_key(out, &o);
	}
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

/* Han, kana, the iteration marks and Hangul: the letters of CJK names. */
static bool
cjk_char(ucs4_t uc)
{
	return (uc >= 0x3040 && uc <= 0x30ff) ||	/* kana */
	    (uc >= 0x3400 && uc <= 0x9fff) ||		/* Han */
	    (uc >= 0xf900 && uc <= 0xfaff) ||
	    uc == 0x3005 || uc == 0x30fc ||		/* 々 ー */
	    (uc >= 0xac00 && uc <= 0xd7af);		/* Hangul */
}

/*
 * A word of one script: Latin letters and name punctuation ("Müller",
 * "O'Neil"), or CJK letters only ("山田", "さくら").
 */
static bool
script_word(const char *w, size_t len, bool cjk)
{
	const uint8_t	*p = (const uint8_t *)w;
	ucs4_t		 uc;
	size_t		 i;
	int		 n;
	bool		 letter = false;

	for (i = 0; i < len; i += (size_t)n) {
		if ((n = u8_mbtoucr(&uc, p + i, len - i)) <= 0)
			return false;
		if (cjk ? cjk_char(uc) : uc < 0x250 && uc_is_alpha(uc))
			letter = true;
		else if (cjk || (uc != '-' && uc != '\'' && uc != '.'))
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
 * For a component of exactly two Latin words, or two CJK words
 * (separated by spaces or a comma), the keys of both orders.
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
	/* "太郎 山田" for 山田 太郎: CJK names are swapped too. */
	if (nw != 2 || !((script_word(w[0], wl[0], false) &&
	    script_word(w[1], wl[1], false)) || (script_word(w[0], wl[0],
	    true) && script_word(w[1], wl[1], true))))
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

	/* Every bracket starts with one of these bytes (0xe3: 【】〔〕). */
	if (*s != '(' && *s != ')' && *s != '[' && *s != ']' &&
	    (unsigned char)*s != 0xe3)
		return 0;
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

/* Titles before a name, lowercase ASCII, without the dot. */
static const char *const titles[] = {
	"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "frau",
	"mme", "mlle", "sr", "sra", "sig", "dott",
};

/* Words that make an annotation a company's name. */
static const char *const company_words[] = {
	"inc", "ltd", "llc", "llp", "corp", "co", "gmbh", "ag", "sa", "sas",
	"sarl", "srl", "spa", "bv", "nv", "oy", "plc", "kk",
	"k.k", "pte", "pty", "company", "corporation", "limited", "group",
	"株式会社", "(株)", "有限会社", "合同会社", "会社",
};

/* Drop "Mr. ", "Dr " ... at the start of s (in place), as often as met. */
static void
strip_titles(char *s)
{
	size_t	 i, n;
	bool	 again = true;

	while (again) {
		again = false;
		for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
			n = strlen(titles[i]);
			if (strncasecmp(s, titles[i], n) != 0)
				continue;
			if (s[n] == '.')
				n++;
			if (s[n] != ' ' && s[n] != '\t')
				continue;
			while (s[n] == ' ' || s[n] == '\t')
				n++;
			memmove(s, s + n, strlen(s + n) + 1);
			again = true;
			break;
		}
	}
}

/* A domain name in t: two labels or more, the last alphabetic. */
static bool
has_domain(const char *t, size_t len)
{
	size_t	 i, dots, alpha_tail;

	for (i = 0; i < len; i++) {
		size_t	j = i;

		dots = 0;
		alpha_tail = 0;
		while (j < len && ((t[j] >= 'a' && t[j] <= 'z') ||
		    (t[j] >= 'A' && t[j] <= 'Z') || (t[j] >= '0' &&
		    t[j] <= '9') || t[j] == '-' || t[j] == '.')) {
			if (t[j] == '.') {
				dots++;
				alpha_tail = 0;
			} else if ((t[j] | 0x20) >= 'a' && (t[j] | 0x20) <= 'z')
				alpha_tail++;
			else
				alpha_tail = 100;	/* digits: no TLD */
			j++;
		}
		if (dots > 0 && alpha_tail >= 2 && alpha_tail < 100 &&
		    t[j - 1] != '.')
			return true;
		if (j > i)
			i = j;
	}
	return false;
}

/* An annotation that names a company or a domain, not a person. */
static bool
annotation(const char *t, size_t len)
{
	size_t	 i, k, n;
	char	 w[32];

	if (has_domain(t, len))
		return true;
	for (i = 0; i < len; ) {
		while (i < len && (t[i] == ' ' || t[i] == ',' || t[i] == '\t'))
			i++;
		for (k = i, n = 0; k < len && t[k] != ' ' && t[k] != ',' &&
		    t[k] != '\t'; k++)
			if (n + 1 < sizeof(w))
				w[n++] = (char)((t[k] >= 'A' && t[k] <= 'Z') ?
				    t[k] + 32 : t[k]);
		w[n] = '\0';
		while (n > 0 && w[n - 1] == '.')
			w[--n] = '\0';
		for (size_t j = 0; n > 0 &&
		    j < sizeof(company_words) / sizeof(company_words[0]); j++)
			if (strcmp(w, company_words[j]) == 0 ||
			    (!lw_is_ascii(company_words[j]) &&
			    strstr(w, company_words[j]) != NULL))
				return true;
		i = k;
	}
	return false;
}

/*
 * Drop the company or domain annotations of a display name (in place):
 * a bracketed one ("John Smith (Partner Example Inc.)", "田中 裕子
 * (example.co.jp)") and one after " via ", "|", " / ", " - " or " @ "
 * ("田中 裕子 | example.co.jp").  Other annotations stay: "John Smith
 * (via Google Docs)" is not John Smith.
 */
static void
strip_annotations(char *s)
{
	static const char *const seps[] = { " via ", "|", " / ", " - ",
	    " @ ", " – ", " — " };
	static const char *const br[][2] = { { "(", ")" }, { "[", "]" },
	    { "【", "】" }, { "〔", "〕" } };
	char	*o, *cl, *p;
	size_t	 i, n;

	for (i = 0; i < sizeof(br) / sizeof(br[0]); i++) {
		for (p = s; (o = strstr(p, br[i][0])) != NULL; ) {
			n = strlen(br[i][0]);
			if ((cl = strstr(o + n, br[i][1])) == NULL)
				break;
			if (!annotation(o + n, (size_t)(cl - o - n))) {
				p = cl;
				continue;
			}
			cl += strlen(br[i][1]);
			memmove(o, cl, strlen(cl) + 1);
			p = o;
		}
	}
	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		if ((o = strstr(s, seps[i])) == NULL || o == s)
			continue;
		n = strlen(seps[i]);
		if (annotation(o + n, strlen(o + n)))
			*o = '\0';
	}
}

enum lw_err
names_cands(const char *display, struct name_cands *c)
{
	char		*s;
	size_t		 len, i;
	enum lw_err	 e;

	memset(c, 0, sizeof(*c));
	if (display == NULL || (len = strlen(display)) == 0 ||
	    len > NAMES_MAX_DISPLAY)
		return LW_OK;
	if ((s = names_nfkc(display, len)) == NULL)
		return LW_ENOMEM;
	strip_titles(s);
	strip_annotations(s);
	if (blank(s, strlen(s))) {
		free(s);
		return LW_OK;
	}
	e = split(s, c);
	free(s);
	/* UTS #39 skeletons: "Јohn" (Cyrillic Je) is John to a reader. */
	for (i = 0; e == LW_OK && i < c->n; i++) {
		if (c->key[i] != NULL)
			c->skel[i][0] = lookalike_skeleton(c->key[i]);
		if (c->swap[i][0] != NULL)
			c->skel[i][1] = lookalike_skeleton(c->swap[i][0]);
		if (c->swap[i][1] != NULL)
			c->skel[i][2] = lookalike_skeleton(c->swap[i][1]);
	}
	if (e != LW_OK)
		names_cands_free(c);
	return e;
}

void
names_cands_free(struct name_cands *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		FREE_ALL(c->key[i], c->swap[i][0], c->swap[i][1],
		    c->skel[i][0], c->skel[i][1], c->skel[i][2]);
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

/*
 * The person's key k has component i's skeleton; known is k's skeleton
 * when the policy computed it at load (else NULL: computed here).
 */
static bool
skel_is(const char *k, const char *known, const struct name_cands *c,
    size_t i)
{
	char	*sk = NULL;
	bool	 hit = false;
	size_t	 j;

	if (k == NULL || *k == '\0')
		return false;
	if (known == NULL && (known = sk = lookalike_skeleton(k)) == NULL)
		return false;
	for (j = 0; j < 3 && !hit; j++)
		hit = c->skel[i][j] != NULL &&
		    strcmp(known, c->skel[i][j]) == 0;
	free(sk);
	return hit;
}

enum names_match
names_person_match(const struct person *who, const struct name_cands *c,
    size_t i, bool *nomem)
{
	size_t			 j;
	char			*k;
	enum names_match	 m = NAMES_NO;

	if (i >= c->n)
		return NAMES_NO;
	for (j = 0; j < who->n && m != NAMES_EXACT; j++) {
		if (who->keys != NULL && who->keys[j] != NULL)
			k = who->keys[j];
		else if (who->names == NULL || who->names[j] == NULL)
			continue;
		else if ((k = names_key(who->names[j])) == NULL) {
			*nomem = true;
			return NAMES_NO;
		}
		if (key_is(k, c, i))
			m = NAMES_EXACT;
		else if (m == NAMES_NO && skel_is(k, who->keys != NULL &&
		    who->keys[j] != NULL && who->skels != NULL ?
		    who->skels[j] : NULL, c, i))
			m = NAMES_CONFUSABLE;
		/* A key computed here (no precomputed one) is ours. */
		if (who->keys == NULL || who->keys[j] == NULL)
			free(k);
	}
	return m;
}

bool
names_person_is(const struct person *who, const struct name_cands *c,
    size_t i, bool *nomem)
{
	return names_person_match(who, c, i, nomem) != NAMES_NO;
}
