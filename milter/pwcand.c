/*
 * pwcand.c: password candidates from the message's own text.
 *
 * Takes the decoded subject and the UTF-8 text of every text part (the
 * MIME stage has already reduced HTML to text and decoded entities; an
 * HTML part's visible text, hidden elements dropped, is read too).
 * Full-width forms U+FF01..U+FF5E are folded to ASCII and U+3000 to a
 * space, so "ＰＷ：１２３４" reads "PW:1234".  Returns up to max
 * unique candidates in four tiers, best first:
 *   1. values after a password keyword in text the sender wrote,
 *   2. values after a keyword in quoted text,
 *   3. other tokens of 4..32 characters the sender wrote (those with a
 *      digit first),
 *   4. such tokens in quoted text,
 * so that a long quoted thread cannot use up the budget.  Quoted text
 * is a line starting with '>' and everything after a reply or forward
 * separator ("-----Original Message-----", "On ... wrote:", "Am ...
 * schrieb", "差出人:", "From:", ...).
 *
 * After a keyword the value is taken from quotes or brackets (「」 『』
 * "" '' “” 【】 ...), after a separator (':' '=' '→' 'は' "is" "lautet"
 * ...), right after the keyword, or, when the rest of the line holds no
 * ASCII token, from the next non-empty line.  Candidates are ASCII
 * tokens (zip passwords typed in other scripts are not looked for) of
 * at most PW_MAXLEN bytes.
 *
 * Bounds: max candidates; PW_TEXT_MAX bytes of each text are read.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "bytes.h"
#include "mime.h"
#include "pwcand.h"
#include "util.h"

#define PW_MAXLEN	64
#define PW_TEXT_MAX	(1U << 20)
#define PW_TOK_MIN	4
#define PW_TOK_MAX	32
#define PW_NEXTLINES	3
#define PW_TREE_DEPTH	64

enum { T_KW_OWN, T_KW_QUOTED, T_TOK_OWN, T_TOK_QUOTED, T_N };

struct collector {
	struct pwcands	 tier[T_N];
	unsigned	 max;
};

/* Keywords, lowercase after folding; a longer one before its prefix. */
static const char *const keywords[] = {
	"解凍パスワード", "パスワード", "ﾊﾟｽﾜｰﾄﾞ", "暗証番号", "暗号", "パス",
	"password", "passwort", "passwd", "passcode", "kennwort", "pass",
	"pwd", "pw", "mot de passe", "contraseña", "contrasena", "senha",
	"wachtwoord", "hasło", "haslo", "пароль", "Пароль", "密码", "密碼",
	"口令", "비밀번호", "암호", "parola d'ordine", "clave",
};

#define NKW	(sizeof(keywords) / sizeof(keywords[0]))

/*
 * Keywords chained by their first byte, lowered (kw_head[] and
 * kw_next[], in table order, so the first keyword that matches is the
 * same as in a walk of the whole table), and kw_pair[], a bit for each
 * pair of bytes that starts a keyword, both ASCII cases entered: the
 * text is read through kw_pair alone until a pair matches.  Japanese
 * text is nearly all lead byte 0xE3 and kanji leads, which start
 * keywords too, and used to cost a walk of every keyword at every
 * character, later a lowering and two table reads per byte (make
 * bench).
 */
static unsigned char	kw_head[256], kw_next[NKW], kw_pair[65536];
static size_t		kw_len[NKW];
static pthread_once_t	kw_once = PTHREAD_ONCE_INIT;

/* The index of the bytes c0 c1 in kw_pair, as pair16 reads them. */
static uint16_t
pair_at(unsigned char c0, unsigned char c1)
{
	unsigned char	b[2] = { c0, c1 };

	return pair16(b);
}

static void
kw_init(void)
{
	unsigned char	a[2], b[2];
	size_t		k, x, y;

	memset(kw_head, 0xff, sizeof(kw_head));
	for (k = NKW; k-- > 0; ) {
		a[0] = (unsigned char)keywords[k][0];
		b[0] = (unsigned char)keywords[k][1];
		a[1] = ascii_upper(a[0]);
		b[1] = ascii_upper(b[0]);
		kw_len[k] = strlen(keywords[k]);
		kw_next[k] = kw_head[a[0]];
		kw_head[a[0]] = (unsigned char)k;
		for (x = 0; x < 2; x++)
			for (y = 0; y < 2; y++)
				kw_pair[pair_at(a[x], b[y])] = 1;
	}
}

/* Separators between a keyword and its value. */
static const char *const separators[] = {
	":", "=", "→", "->", "は", " is ", " lautet ", " ist ", " est ",
	" es ", " é ", "是", "为", "為", "는", "은",
};

/* Opening and closing quotes and brackets. */
static const char *const brackets[][2] = {
	{ "「", "」" }, { "『", "』" }, { "【", "】" }, { "“", "”" },
	{ "‘", "’" }, { "\"", "\"" }, { "'", "'" }, { "[", "]" },
	{ "<", ">" }, { "(", ")" }, { "《", "》" }, { "〈", "〉" },
	{ "«", "»" }, { "„", "“" },
};

static bool
cand_has(const struct pwcands *pc, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < pc->n; i++)
		if (strlen(pc->v[i]) == n && memcmp(pc->v[i], s, n) == 0)
			return true;
	return false;
}

enum lw_err
pwcand_add(struct pwcands *pc, const char *s, size_t n, bool kw,
    unsigned max)
{
	char	**nv;
	bool	 *nk;
	size_t	  cap;

	if (n == 0 || n > PW_MAXLEN || pc->n >= max || cand_has(pc, s, n))
		return LW_OK;
	if (pc->n == pc->cap) {
		cap = pc->cap ? pc->cap * 2 : 16;
		if ((nv = reallocarray(pc->v, cap, sizeof(*nv))) == NULL)
			return LW_ENOMEM;
		pc->v = nv;
		if ((nk = reallocarray(pc->keyword, cap, sizeof(*nk))) == NULL)
			return LW_ENOMEM;
		pc->keyword = nk;
		pc->cap = cap;
	}
	if ((pc->v[pc->n] = lw_strndup(s, n)) == NULL)
		return LW_ENOMEM;
	pc->keyword[pc->n] = kw;
	pc->n++;
	return LW_OK;
}

void
pwcand_free(struct pwcands *pc)
{
	lw_strv_free(pc->v, pc->n);
	free(pc->keyword);
	memset(pc, 0, sizeof(*pc));
}

/* Offset of the next byte c in p[i..len), or len. */
static size_t
next_byte(const unsigned char *p, size_t i, size_t len, int c)
{
	const unsigned char	*q = memchr(p + i, c, len - i);

	return q != NULL ? (size_t)(q - p) : len;
}

/*
 * Offset of the next U+3000 (E3 80 80) in p[i..len), or len.  Eight
 * positions at a time, for the pair 80 80 at j+1: a word whose bytes
 * are all non-zero after XOR with 0x80 (at j+1 or at j+2) cannot hold
 * one.  memmem stumbled over every "、" and "。" (E3 80 81, E3 80 82).
 */
static size_t
next_ideo_space(const unsigned char *p, size_t i, size_t len)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	highs = 0x8080808080808080ULL;
	uint64_t	a, b, x;
	size_t		j, k;

	for (j = i; len - j >= 10; j += 8) {
		memcpy(&a, p + j + 1, sizeof(a));
		memcpy(&b, p + j + 2, sizeof(b));
		x = (a ^ highs) | (b ^ highs);
		if (((x - ones) & ~x & highs) == 0)
			continue;
		for (k = j; k < j + 8; k++)
			if (p[k] == 0xe3 && p[k + 1] == 0x80 &&
			    p[k + 2] == 0x80)
				return k;
	}
	for (; len - j >= 3; j++)
		if (p[j] == 0xe3 && p[j + 1] == 0x80 && p[j + 2] == 0x80)
			return j;
	return len;
}

/*
 * Fold U+FF01..U+FF5E to ASCII and U+3000 to a space, NUL to a space,
 * lowercase nothing.  The result is never longer than the input.  The
 * stretches between the places where something may be folded (a 0xEF
 * byte, E3 80 80, NUL; none overlaps another) are found with memchr
 * and memmem and copied whole: a walk over every byte was a sixth of
 * a 1 MiB text's scan (make bench, callgrind).
 */
static char *
fold(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, ef, sp, nul, nx;
	unsigned		 cp;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	ef = next_byte(p, 0, len, 0xef);
	sp = next_ideo_space(p, 0, len);
	nul = next_byte(p, 0, len, '\0');
	for (;;) {
		nx = ef < sp ? ef : sp;
		if (nul < nx)
			nx = nul;
		memcpy(out + o, p + i, nx - i);
		o += nx - i;
		i = nx;
		if (i >= len)
			break;
		if (i == nul) {
			out[o++] = ' ';
			i++;
		} else if (i == sp) {
			out[o++] = ' ';
			i += 3;
		} else if (len - i >= 3 && (p[i + 1] == 0xbc ||
		    p[i + 1] == 0xbd) && (p[i + 2] & 0xc0) == 0x80 &&
		    (cp = 0xf000 | (p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f),
		    cp >= 0xff01 && cp <= 0xff5e)) {
			out[o++] = (char)(cp - 0xfee0);
			i += 3;
		} else
			out[o++] = (char)p[i++];
		if (ef < i)
			ef = next_byte(p, i, len, 0xef);
		if (sp < i)
			sp = next_ideo_space(p, i, len);
		if (nul < i)
			nul = next_byte(p, i, len, '\0');
	}
	out[o] = '\0';
	return out;
}

static bool
is_tokch(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
is_trim(unsigned char c)
{
	switch (c) {
	case '.': case ',': case ';': case ':': case '!': case '?':
	case '(': case ')': case '[': case ']': case '<': case '>':
	case '"': case '\'': case '`': case '{': case '}':
		return true;
	default:
		return false;
	}
}

/* Add the token [s, s+n) and its variant without surrounding marks. */
static enum lw_err
add_token(struct pwcands *pc, const char *s, size_t n, bool kw,
    unsigned max)
{
	enum lw_err	e;

	if ((e = pwcand_add(pc, s, n, kw, max)) != LW_OK)
		return e;
	while (n > 0 && is_trim((unsigned char)s[n - 1]))
		n--;
	while (n > 0 && is_trim((unsigned char)*s))
		s++, n--;
	return pwcand_add(pc, s, n, kw, max);
}

/*
 * The ASCII token at the start of [p, end), spaces skipped: its start
 * and length, or false.  Other text first means the value is not here
 * ("パスワードは次の通りです": look at the next line).
 */
static bool
first_token(const char *p, const char *end, const char **tok, size_t *n)
{
	const unsigned char *q = (const unsigned char *)p;
	const unsigned char *e = (const unsigned char *)end;

	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	if (q >= e || !is_tokch(*q))
		return false;
	*tok = (const char *)q;
	while (q < e && is_tokch(*q))
		q++;
	*n = (size_t)((const char *)q - *tok);
	return true;
}

/*
 * Case-insensitive (ASCII) match of a keyword at p.  collect_text tries
 * every keyword at every byte, so the first byte is tested before
 * strlen: that alone was most of a text-heavy scan (make bench).
 */
static size_t
match_at(const char *p, const char *end, const char *kw)
{
	size_t		n, i;
	unsigned char	c0;

	if (p >= end)
		return 0;
	c0 = (unsigned char)*p;
	if (c0 >= 'A' && c0 <= 'Z')
		c0 += 'a' - 'A';
	if (c0 != (unsigned char)kw[0])
		return 0;
	n = strlen(kw);
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)kw[i])
			return 0;
	}
	return n;
}

static const char *
find_str(const char *p, const char *end, const char *needle)
{
	size_t	n = strlen(needle);

	for (; (size_t)(end - p) >= n; p++)
		if (match_at(p, end, needle) == n)
			return p;
	return NULL;
}

struct line {
	const char	*s, *e;
	bool		 quoted;
};

/* Value(s) after the keyword ending at p on line ln of lines. */
static enum lw_err
after_keyword(struct pwcands *pc, const struct line *lines, size_t nl,
    size_t ln, const char *p, unsigned max)
{
	const char	*end = lines[ln].e, *lim, *o, *c, *best = NULL, *tok;
	const char	*sep = NULL, *sepend = NULL;
	size_t		 i, n, k, bi = 0;
	enum lw_err	 e;

	/* Quoted or bracketed value. */
	lim = end - p > 48 ? p + 48 : end;
	for (i = 0; i < sizeof(brackets) / sizeof(brackets[0]); i++)
		if ((o = find_str(p, lim, brackets[i][0])) != NULL &&
		    (best == NULL || o < best)) {
			best = o;
			bi = i;
		}
	/* Only a bracket that opens the value, not a later remark. */
	for (c = p; best != NULL && c < best; c++)
		if ((unsigned char)*c < 0x80 && *c != ' ' && *c != '\t' &&
		    *c != ':' && *c != '=')
			best = NULL;
	if (best != NULL) {
		o = best + strlen(brackets[bi][0]);
		if ((c = find_str(o, end, brackets[bi][1])) != NULL &&
		    c > o && (size_t)(c - o) <= PW_MAXLEN) {
			if ((e = add_token(pc, o, (size_t)(c - o), true, max)) !=
			    LW_OK)
				return e;
		}
	}
	/* After the first separator. */
	for (i = 0; i < sizeof(separators) / sizeof(separators[0]); i++)
		if ((o = find_str(p, lim, separators[i])) != NULL &&
		    (sep == NULL || o < sep)) {
			sep = o;
			sepend = o + strlen(separators[i]);
		}
	if (sepend != NULL && first_token(sepend, end, &tok, &n)) {
		if ((e = add_token(pc, tok, n, true, max)) != LW_OK)
			return e;
	}
	/* Right after the keyword ("pass 2022", "PW:abc"). */
	if (sepend == NULL && first_token(p, end, &tok, &n)) {
		if ((e = add_token(pc, tok, n, true, max)) != LW_OK)
			return e;
	}
	/*
	 * A value alone on one of the next non-empty lines ("...is
	 * below:", "解凍パスワードは次の通りです").
	 */
	for (k = ln + 1, i = 0; k < nl && i < PW_NEXTLINES; k++) {
		const char *s = lines[k].s, *le = lines[k].e;

		while (le > s && (le[-1] == ' ' || le[-1] == '\t'))
			le--;
		if (le == s)
			continue;
		i++;
		if (!first_token(s, le, &tok, &n) || tok + n != le)
			continue;
		for (c = tok; c < le && !is_alnum((unsigned char)*c); c++)
			;
		if (c < le)
			return add_token(pc, tok, n, true, max);
	}
	return LW_OK;
}

/* Lines that start quoted text for the rest of this text. */
static bool
is_separator(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if (match_at(s, e, "-----") && (find_str(s, e, "original") != NULL ||
	    find_str(s, e, "ursprüngliche") != NULL ||
	    find_str(s, e, "forward") != NULL ||
	    find_str(s, e, "転送") != NULL || find_str(s, e, "元の") != NULL))
		return true;
	if (match_at(s, e, "on ") && e - s > 6 && match_at(e - 6, e, "wrote:"))
		return true;
	if (match_at(s, e, "am ") && find_str(s, e, "schrieb") != NULL)
		return true;
	if (match_at(s, e, "le ") && find_str(s, e, "a écrit") != NULL)
		return true;
	/*
	 * No ASCII letter in "のメッセージ:": memmem finds what find_str
	 * would, without a call per byte of every line of text the
	 * sender wrote (a third of a 1 MiB HTML message's scan).
	 */
	return match_at(s, e, "差出人:") || match_at(s, e, "送信者:") ||
	    match_at(s, e, "from:") || match_at(s, e, "von:") ||
	    match_at(s, e, "de :") ||
	    memmem(s, (size_t)(e - s), "のメッセージ:",
	    sizeof("のメッセージ:") - 1) != NULL;
}

static bool
has_digit(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (s[i] >= '0' && s[i] <= '9')
			return true;
	return false;
}

static enum lw_err
collect_text(struct collector *col, const char *text, size_t len)
{
	struct line	*lines = NULL, *nv;
	char		*t;
	const char	*p, *end, *q, *tok;
	size_t		 nl = 0, cap = 0, i, k, n, m;
	bool		 quoted = false, pass;
	unsigned char	 c0;
	enum lw_err	 e = LW_OK;

	if (text == NULL || len == 0)
		return LW_OK;
	if (len > PW_TEXT_MAX)
		len = PW_TEXT_MAX;
	if ((t = fold(text, len)) == NULL)
		return LW_ENOMEM;
	end = t + strlen(t);
	for (p = t; p < end; p = q + 1) {
		if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL)
			q = end;
		if (nl == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(lines, cap, sizeof(*nv))) ==
			    NULL) {
				e = LW_ENOMEM;
				goto out_lines;
			}
			lines = nv;
		}
		lines[nl].s = p;
		lines[nl].e = q > p && q[-1] == '\r' ? q - 1 : q;
		if (!quoted && is_separator(lines[nl].s, lines[nl].e))
			quoted = true;
		for (tok = p; tok < lines[nl].e && (*tok == ' ' ||
		    *tok == '\t'); tok++)
			;
		lines[nl].quoted = quoted || (tok < lines[nl].e &&
		    *tok == '>');
		nl++;
		if (q == end)
			break;
	}
	/*
	 * Keyword values, at the byte pairs kw_pair lets through (see
	 * kw_init).  At a line's last byte p[1] is its CR, LF or NUL,
	 * which no keyword has second.
	 */
	(void)pthread_once(&kw_once, kw_init);
	for (i = 0; i < nl; i++) {
		struct pwcands *pc = &col->tier[lines[i].quoted ? T_KW_QUOTED :
		    T_KW_OWN];
		const unsigned char *u = (const unsigned char *)lines[i].s;
		const unsigned char *ue = (const unsigned char *)lines[i].e;

		/* A full tier takes nothing more (pwcand_add). */
		if (pc->n >= col->max)
			continue;
		for (;;) {
			while (u < ue && kw_pair[pair16(u)] == 0)
				u++;
			if (u >= ue)
				break;
			p = (const char *)u;
			c0 = u[0];
			if (c0 >= 'A' && c0 <= 'Z')
				c0 += 'a' - 'A';
			m = 0;
			for (k = kw_head[c0]; k != 0xff; k = kw_next[k]) {
				if ((size_t)(lines[i].e - p) < kw_len[k] ||
				    (m = match_at(p, lines[i].e, keywords[k])) ==
				    0) {
					m = 0;
					continue;
				}
				/* ASCII keywords stand alone as words. */
				if (c0 < 0x80 &&
				    ((p > lines[i].s &&
				    is_alnum((unsigned char)p[-1])) ||
				    (p + m < lines[i].e &&
				    is_alnum((unsigned char)p[m]) &&
				    !(p[m] >= '0' && p[m] <= '9')))) {
					m = 0;
					continue;
				}
				break;
			}
			if (m == 0) {
				u++;
				continue;
			}
			u += m;
			if ((e = after_keyword(pc, lines, nl, i, p + m,
			    col->max)) != LW_OK)
				goto out_lines;
		}
	}
	/* Fallback tokens: those with a digit first, then the others. */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nl; i++) {
			struct pwcands *pc = &col->tier[lines[i].quoted ?
			    T_TOK_QUOTED : T_TOK_OWN];

			/*
			 * A full tier takes nothing more: a long quoted
			 * thread fills its tier in its first lines.
			 */
			if (pc->n >= col->max)
				continue;
			for (p = lines[i].s; p < lines[i].e; p += n) {
				if (!is_tokch((unsigned char)*p)) {
					n = 1;
					continue;
				}
				for (n = 0; p + n < lines[i].e &&
				    is_tokch((unsigned char)p[n]); n++)
					;
				tok = p;
				m = n;
				while (m > 0 && is_trim((unsigned char)tok[m - 1]))
					m--;
				while (m > 0 && is_trim((unsigned char)*tok))
					tok++, m--;
				if (m < PW_TOK_MIN || m > PW_TOK_MAX)
					continue;
				/* This pass's tokens only, cheapest test first. */
				pass = has_digit(tok, m);
				if ((k == 0) != pass)
					continue;
				if (memchr(tok, '@', m) != NULL ||
				    (memchr(tok, ':', m) != NULL &&
				    memmem(tok, m, "://", 3) != NULL) ||
				    match_at(tok, tok + m, "www.") != 0)
					continue;
				if ((e = pwcand_add(pc, tok, m, false,
				    col->max)) != LW_OK)
					goto out_lines;
			}
		}
	}
 out_lines:
	free(lines);
	free(t);
	return e;
}

static enum lw_err
merge(struct collector *col, struct pwcands *out)
{
	size_t		i, k;
	enum lw_err	e = LW_OK;

	for (k = 0; k < T_N && e == LW_OK; k++)
		for (i = 0; i < col->tier[k].n && e == LW_OK; i++)
			e = pwcand_add(out, col->tier[k].v[i],
			    strlen(col->tier[k].v[i]), col->tier[k].keyword[i],
			    col->max);
	for (k = 0; k < T_N; k++)
		pwcand_free(&col->tier[k]);
	return e;
}

enum lw_err
pwcand_from_text(struct pwcands *out, const char *utf8, size_t len,
    unsigned max)
{
	struct collector	col;
	enum lw_err		e;

	memset(&col, 0, sizeof(col));
	col.max = max;
	if ((e = collect_text(&col, utf8, len)) != LW_OK) {
		(void)merge(&col, out);
		return e;
	}
	return merge(&col, out);
}

/* The tree, depth-first in document order, inner messages included. */
static enum lw_err
collect_part(struct collector *col, const struct mime_part *mp,
    unsigned depth)
{
	enum lw_err	e;
	size_t		i;

	if (mp == NULL || depth > PW_TREE_DEPTH)
		return LW_OK;
	if (mp->text != NULL &&
	    (e = collect_text(col, mp->text, mp->text_len)) != LW_OK)
		return e;
	/* What the reader sees: a password split by a hidden span. */
	if (mp->vtext != NULL &&
	    (e = collect_text(col, mp->vtext, mp->vtext_len)) != LW_OK)
		return e;
	for (i = 0; i < mp->nchild; i++)
		if ((e = collect_part(col, mp->child[i], depth + 1)) != LW_OK)
			return e;
	if (mp->inner != NULL) {
		if (mp->inner->subject != NULL && (e = collect_text(col,
		    mp->inner->subject, strlen(mp->inner->subject))) != LW_OK)
			return e;
		return collect_part(col, mp->inner->root, depth + 1);
	}
	return LW_OK;
}

enum lw_err
pwcand_collect(struct pwcands *out, const struct message *msg,
    unsigned max)
{
	struct collector	col;
	enum lw_err		e = LW_OK;

	memset(&col, 0, sizeof(col));
	col.max = max;
	if (msg->subject != NULL)
		e = collect_text(&col, msg->subject, strlen(msg->subject));
	if (e == LW_OK)
		e = collect_part(&col, msg->root, 0);
	if (e != LW_OK) {
		(void)merge(&col, out);
		return e;
	}
	return merge(&col, out);
}

size_t
pwcand_utf16le(const char *pw, unsigned char *out, size_t max)
{
	size_t	 n = 0;

	for (; *pw != '\0' && max - n >= 2; pw++) {
		out[n++] = (unsigned char)*pw;
		out[n++] = 0;
	}
	return n;
}

char *
pwcand_mask(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, nch = 0, ch = 0;
	char			*out;

	for (i = 0; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			nch++;
	if ((out = malloc(nch + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((p[i] & 0xc0) == 0x80)
			continue;
		/* First and last kept when ASCII and the rest is longer. */
		if (nch > 2 && p[i] < 0x80 && (ch == 0 || ch == nch - 1))
			out[ch] = (char)p[i];
		else
			out[ch] = '*';
		ch++;
	}
	out[ch] = '\0';
	return out;
}
