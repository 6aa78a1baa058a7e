/*
 * charset.c: declared charsets -> UTF-8, RFC 2047 encoded words, and
 * the base64 decoder that mime.c shares.
 *
 * Takes bytes and a charset name as the message declares it (any case,
 * aliases such as shift_jis, x-sjis, windows-31j, euc-jp).  Returns
 * malloc'd UTF-8 with invalid sequences as U+FFFD and NUL bytes as
 * spaces (so C-string readers cannot be cut short).  Shift_JIS is read
 * as CP932 and EUC-JP as EUC-JP-MS (the vendor supersets every Japanese
 * mailer writes); ISO-2022-JP goes through iso2022jp.c; ISO-8859-1 is
 * read as windows-1252, as browsers and mail clients do.  Unknown or
 * missing charsets are guessed: ISO-2022-JP escapes, valid UTF-8, CP932,
 * then ISO-8859-1.  Output is at most about three times the input.
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "charset.h"
#include "iso2022jp.h"
#include "sbuf.h"

enum cs_kind {
	CS_GUESS,		/* none, us-ascii or unknown: guess */
	CS_UTF8,
	CS_ISO2022JP,
	CS_ICONV		/* iconv by (canonical) name */
};

static const struct {
	const char	*alias;
	enum cs_kind	 kind;
	const char	*name;
} cs_aliases[] = {
	{ "utf-8",		CS_UTF8,	NULL },
	{ "utf8",		CS_UTF8,	NULL },
	{ "us-ascii",		CS_GUESS,	NULL },
	{ "ascii",		CS_GUESS,	NULL },
	{ "ansi_x3.4-1968",	CS_GUESS,	NULL },
	{ "iso646-us",		CS_GUESS,	NULL },
	{ "unknown-8bit",	CS_GUESS,	NULL },
	{ "x-unknown",		CS_GUESS,	NULL },
	{ "iso-2022-jp",	CS_ISO2022JP,	NULL },
	{ "iso-2022-jp-1",	CS_ISO2022JP,	NULL },
	{ "iso-2022-jp-2",	CS_ISO2022JP,	NULL },
	{ "iso-2022-jp-3",	CS_ISO2022JP,	NULL },
	{ "iso-2022-jp-2004",	CS_ISO2022JP,	NULL },
	{ "iso-2022-jp-ms",	CS_ISO2022JP,	NULL },
	{ "csiso2022jp",	CS_ISO2022JP,	NULL },
	{ "x-iso-2022-jp",	CS_ISO2022JP,	NULL },
	{ "shift_jis",		CS_ICONV,	"CP932" },
	{ "shift-jis",		CS_ICONV,	"CP932" },
	{ "sjis",		CS_ICONV,	"CP932" },
	{ "x-sjis",		CS_ICONV,	"CP932" },
	{ "ms_kanji",		CS_ICONV,	"CP932" },
	{ "csshiftjis",		CS_ICONV,	"CP932" },
	{ "windows-31j",	CS_ICONV,	"CP932" },
	{ "cp932",		CS_ICONV,	"CP932" },
	{ "ms932",		CS_ICONV,	"CP932" },
	{ "x-ms-cp932",		CS_ICONV,	"CP932" },
	{ "shift_jisx0213",	CS_ICONV,	"CP932" },
	{ "euc-jp",		CS_ICONV,	"EUC-JP-MS" },
	{ "x-euc-jp",		CS_ICONV,	"EUC-JP-MS" },
	{ "eucjp",		CS_ICONV,	"EUC-JP-MS" },
	{ "euc-jp-ms",		CS_ICONV,	"EUC-JP-MS" },
	{ "cseucpkdfmtjapanese", CS_ICONV,	"EUC-JP-MS" },
	{ "iso-8859-1",		CS_ICONV,	"WINDOWS-1252" },
	{ "iso8859-1",		CS_ICONV,	"WINDOWS-1252" },
	{ "latin1",		CS_ICONV,	"WINDOWS-1252" },
	{ "ks_c_5601-1987",	CS_ICONV,	"CP949" },
	{ "gb2312",		CS_ICONV,	"GBK" },
};

/*
 * Length of the longest valid UTF-8 prefix of p[0..len): the offset of
 * the first byte that does not start a valid sequence (shortest form,
 * no surrogates, at most U+10FFFF).  ASCII is skipped 8 bytes at a time:
 * a byte-at-a-time decoder here, then again in utf8_repair, was a fifth
 * of a 1 MiB text message's scan (make bench, callgrind).
 */
size_t
charset_utf8_prefix(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0;
	uint64_t		 w;
	unsigned char		 c;

	while (i < len) {
		c = p[i];
		if (c < 0x80) {
			while (len - i >= 8) {
				memcpy(&w, p + i, sizeof(w));
				if ((w & 0x8080808080808080ULL) != 0)
					break;
				i += 8;
			}
			while (i < len && p[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (len - i < 2 || (p[i + 1] & 0xc0) != 0x80)
				return i;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			/*
			 * E0: shorter than 3 bytes would do; ED: surrogates.
			 * CJK text is runs of these: stay in the run.
			 */
			do {
				if (len - i < 3 || (p[i + 1] & 0xc0) != 0x80 ||
				    (p[i + 2] & 0xc0) != 0x80 ||
				    (c == 0xe0 && p[i + 1] < 0xa0) ||
				    (c == 0xed && p[i + 1] >= 0xa0))
					return i;
				i += 3;
			} while (i < len && (c = p[i]) >= 0xe0 && c <= 0xef);
		} else if (c >= 0xf0 && c <= 0xf4) {
			/* F0: overlong; F4: above U+10FFFF. */
			if (len - i < 4 || (p[i + 1] & 0xc0) != 0x80 ||
			    (p[i + 2] & 0xc0) != 0x80 ||
			    (p[i + 3] & 0xc0) != 0x80 ||
			    (c == 0xf0 && p[i + 1] < 0x90) ||
			    (c == 0xf4 && p[i + 1] >= 0x90))
				return i;
			i += 4;
		} else
			return i;
	}
	return len;
}

bool
charset_valid_utf8(const char *s, size_t len)
{
	return charset_utf8_prefix(s, len) == len;
}

/*
 * Map a declared charset to how we convert it.  Names iconv would read
 * as options ("//"), or that are absurd, count as unknown.
 */
static enum cs_kind
cs_lookup(const char *charset, char *name, size_t namesz, bool *known)
{
	size_t	i, n;

	*known = true;
	if (charset == NULL || *charset == '\0')
		return CS_GUESS;
	n = strcspn(charset, "*");	/* RFC 2231 language suffix */
	if (n == 0 || n >= namesz)
		goto unknown;
	for (i = 0; i < n; i++) {
		char c = charset[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == ':' || c == '+'))
			goto unknown;
		name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	name[n] = '\0';
	for (i = 0; i < sizeof(cs_aliases) / sizeof(cs_aliases[0]); i++) {
		if (strcmp(cs_aliases[i].alias, name) != 0)
			continue;
		if (cs_aliases[i].name != NULL)
			strcpy(name, cs_aliases[i].name);
		return cs_aliases[i].kind;
	}
	return CS_ICONV;
unknown:
	*known = false;
	return CS_GUESS;
}

/* NUL bytes in decoded text would cut C strings short. */
static void
nul_to_space(char *s, size_t len)
{
	char	*p, *end = s + len;

	for (p = s; p < end && (p = memchr(p, '\0', (size_t)(end - p))) !=
	    NULL; p++)
		*p = ' ';
}

/*
 * iconv from name to UTF-8.  Lenient: invalid input becomes U+FFFD.
 * Strict: any invalid input fails with LW_EMALFORMED.  LW_EINVAL when
 * iconv does not know name.
 */
static enum lw_err
conv_iconv(const char *name, const char *in, size_t len, bool strict,
    struct sbuf *ob)
{
	iconv_t		 cd;
	char		*ip = (char *)(uintptr_t)in, *op;
	size_t		 il = len, ol, r, start = ob->len;
	enum lw_err	 e = LW_OK;
	bool		 flushed = false;
	int		 err;

	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return errno == ENOMEM ? LW_ENOMEM : LW_EINVAL;
	if (!sbuf_reserve(ob, len / 2 * 3 + 16)) {
		e = LW_ENOMEM;
		goto out_cd;
	}
	for (;;) {
		op = ob->p + ob->len;
		ol = ob->cap - ob->len - 1;
		if (!flushed)
			r = iconv(cd, &ip, &il, &op, &ol);
		else
			r = iconv(cd, NULL, NULL, &op, &ol);
		err = errno;
		ob->len = (size_t)(op - ob->p);
		ob->p[ob->len] = '\0';
		if (r != (size_t)-1) {
			if (flushed)
				break;
			flushed = true;
			continue;
		}
		if (err == E2BIG) {
			if (!sbuf_reserve(ob, ob->cap)) {
				e = LW_ENOMEM;
				goto out_cd;
			}
			continue;
		}
		if (strict) {
			e = LW_EMALFORMED;
			goto out_cd;
		}
		if (flushed)
			break;
		/* EILSEQ: skip one byte; EINVAL: cut short at the end. */
		sbuf_adds(ob, "\xef\xbf\xbd");
		if (err == EINVAL || il <= 1) {
			il = 0;
		} else {
			ip++;
			il--;
		}
		/* iconv's shift state after an error is unspecified. */
		iconv(cd, NULL, NULL, NULL, NULL);
		if (ob->oom) {
			e = LW_ENOMEM;
			goto out_cd;
		}
	}
out_cd:
	iconv_close(cd);
	if (e != LW_OK && e != LW_ENOMEM) {
		ob->len = start;
		if (ob->p != NULL)
			ob->p[start] = '\0';
	}
	return e;
}

/*
 * Copy UTF-8, replacing each invalid byte with U+FFFD: valid stretches
 * are copied whole.
 */
static void
utf8_repair(const char *in, size_t len, struct sbuf *ob)
{
	size_t	i = 0, run;

	while (i < len) {
		run = charset_utf8_prefix(in + i, len - i);
		sbuf_add(ob, in + i, run);
		i += run;
		if (i < len) {
			sbuf_adds(ob, "\xef\xbf\xbd");
			i++;
		}
	}
}

static bool
has_8bit(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static enum lw_err
conv_iso2022jp(const char *in, size_t len, struct sbuf *ob)
{
	char		*sj;
	size_t		 sjlen;
	enum lw_err	 e;

	if ((e = iso2022jp_to_cp932(in, len, &sj, &sjlen)) != LW_OK)
		return e;
	e = conv_iconv("CP932", sj, sjlen, false, ob);
	free(sj);
	return e;
}

/* No usable charset: ISO-2022-JP, UTF-8, CP932, then ISO-8859-1. */
static enum lw_err
conv_guess(const char *in, size_t len, struct sbuf *ob)
{
	enum lw_err	e;

	if (!has_8bit(in, len)) {
		if (memmem(in, len, "\x1b$", 2) != NULL ||
		    memmem(in, len, "\x1b(", 2) != NULL)
			return conv_iso2022jp(in, len, ob);
		sbuf_add(ob, in, len);
		return ob->oom ? LW_ENOMEM : LW_OK;
	}
	if (charset_valid_utf8(in, len)) {
		sbuf_add(ob, in, len);
		return ob->oom ? LW_ENOMEM : LW_OK;
	}
	e = conv_iconv("CP932", in, len, true, ob);
	if (e == LW_OK || e == LW_ENOMEM)
		return e;
	e = conv_iconv("ISO-8859-1", in, len, false, ob);
	if (e == LW_EINVAL)	/* no gconv modules at all: keep going */
		utf8_repair(in, len, ob);
	return ob->oom ? LW_ENOMEM : LW_OK;
}

static enum lw_err
conv_append(const char *charset, const char *in, size_t len,
    struct sbuf *ob, bool *unknown)
{
	char		 name[48], *copy;
	enum cs_kind	 kind;
	enum lw_err	 e;
	size_t		 start, n;
	bool		 known, valid = false;

	start = ob->len;
	kind = cs_lookup(charset, name, sizeof(name), &known);
	switch (kind) {
	case CS_UTF8:
		utf8_repair(in, len, ob);
		e = ob->oom ? LW_ENOMEM : LW_OK;
		valid = true;		/* utf8_repair's output is */
		break;
	case CS_ISO2022JP:
		e = conv_iso2022jp(in, len, ob);
		break;
	case CS_ICONV:
		e = conv_iconv(name, in, len, false, ob);
		if (e != LW_EINVAL)
			break;
		known = false;
		/* FALLTHROUGH */
	case CS_GUESS:
	default:
		e = conv_guess(in, len, ob);
		break;
	}
	if (unknown != NULL && !known)
		*unknown = true;
	/*
	 * Whatever a converter made of it, the text is valid UTF-8 from
	 * here on: glibc reads odd names such as "utf-+8" as UTF-8 and
	 * passes sequences above U+10FFFF through (found by fuzz_charset).
	 */
	n = ob->len - start;
	if (e == LW_OK && n > 0 && !valid &&
	    !charset_valid_utf8(ob->p + start, n)) {
		if ((copy = malloc(n)) == NULL)
			return LW_ENOMEM;
		memcpy(copy, ob->p + start, n);
		ob->len = start;
		utf8_repair(copy, n, ob);
		free(copy);
		e = ob->oom ? LW_ENOMEM : LW_OK;
	}
	return e;
}

enum lw_err
charset_to_utf8(const char *charset, const char *in, size_t len,
    char **out, size_t *outlen, bool *unknown)
{
	struct sbuf	ob = { 0 };
	enum lw_err	e;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (unknown != NULL)
		*unknown = false;
	e = conv_append(charset, in, len, &ob, unknown);
	if (e != LW_OK || !sbuf_finish(&ob)) {
		sbuf_free(&ob);
		return LW_ENOMEM;
	}
	nul_to_space(ob.p, ob.len);
	*out = ob.p;
	if (outlen != NULL)
		*outlen = ob.len;
	return LW_OK;
}

/*
 * Each byte's value + 1, 0 for bytes outside the alphabet (RFC 4648
 * section 4, where a character's value is its index).  A table, filled
 * once: the chain of range tests was 12% of make bench's corpus scan.
 * b64_pair: the 12 bits of two characters (indexed by pair16 of them),
 * B64_NOT for a pair with a byte outside the alphabet: a quantum is two
 * loads, and one test of the OR of four pairs tells whether eight
 * characters were all data.  128 KiB, filled once.
 */
#define B64_NOT	0xf000U		/* above any 12-bit pair */
static unsigned char	b64_tab[256];
static uint16_t		b64_pair[65536];
static pthread_once_t	b64_once = PTHREAD_ONCE_INIT;

static void
b64_init(void)
{
	static const char	alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		two[2];
	size_t			i, x, y;

	for (i = 0; alphabet[i] != '\0'; i++)
		b64_tab[(unsigned char)alphabet[i]] = (unsigned char)(i + 1);
	for (i = 0; i < sizeof(b64_pair) / sizeof(b64_pair[0]); i++)
		b64_pair[i] = B64_NOT;
	for (x = 0; x < 64; x++)
		for (y = 0; y < 64; y++) {
			two[0] = (unsigned char)alphabet[x];
			two[1] = (unsigned char)alphabet[y];
			b64_pair[pair16(two)] = (uint16_t)(x << 6 | y);
		}
}

size_t
charset_base64_decode(const char *in, size_t len, unsigned char *out,
    bool *bad)
{
	const unsigned char	*p = (const unsigned char *)in;
	uint32_t		 acc = 0, a, b, c, d, hi;
	size_t			 i, o = 0;
	int			 v, nq = 0;

	(void)pthread_once(&b64_once, b64_init);
	for (i = 0; i < len; i++) {
		/*
		 * Whole quanta of four alphabet characters, nearly all of
		 * a body, two and then one at a time: what the
		 * per-character steps below would write for them.  A line
		 * of 76 characters is nine pairs and one quantum.
		 */
		while (nq == 0 && len - i >= 8 &&
		    ((a = b64_pair[pair16(p + i)]) |
		    (b = b64_pair[pair16(p + i + 2)]) |
		    (c = b64_pair[pair16(p + i + 4)]) |
		    (d = b64_pair[pair16(p + i + 6)])) < B64_NOT) {
			/* 48 bits: a b c d, 12 each; out big-endian. */
			hi = a << 20 | b << 8 | c >> 4;
			out[o] = (unsigned char)(hi >> 24);
			out[o + 1] = (unsigned char)(hi >> 16);
			out[o + 2] = (unsigned char)(hi >> 8);
			out[o + 3] = (unsigned char)hi;
			out[o + 4] = (unsigned char)((c & 0xf) << 4 | d >> 8);
			out[o + 5] = (unsigned char)d;
			o += 6;
			i += 8;
		}
		while (nq == 0 && len - i >= 4 &&
		    ((a = b64_pair[pair16(p + i)]) |
		    (b = b64_pair[pair16(p + i + 2)])) < B64_NOT) {
			out[o] = (unsigned char)(a >> 4);
			out[o + 1] = (unsigned char)((a & 0xf) << 4 | b >> 8);
			out[o + 2] = (unsigned char)b;
			o += 3;
			i += 4;
		}
		if (i == len)
			break;
		/* A line end: CR and LF as one step (both are skipped). */
		if (p[i] == '\r' && len - i >= 2 && p[i + 1] == '\n')
			i++;
		if ((v = (int)b64_tab[p[i]] - 1) < 0) {
			if (p[i] == '=') {
				/* Padding ends a quantum; what follows
				   may be another encoded block, as
				   concatenating encoders write it. */
				if (nq == 1)
					*bad = true;
				nq = 0;
				acc = 0;
			} else if (p[i] != ' ' && p[i] != '\t' &&
			    p[i] != '\r' && p[i] != '\n')
				*bad = true;
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++nq == 4) {
			o -= 2;		/* the partial bytes, now whole */
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			nq = 0;
			acc = 0;
		} else if (nq == 2) {
			out[o++] = (unsigned char)(acc >> 4);
		} else if (nq == 3) {
			out[o - 1] = (unsigned char)(acc >> 10);
			out[o++] = (unsigned char)(acc >> 2);
		}
	}
	/*
	 * Bytes of a partial quantum were written as they became whole
	 * (two characters give one byte, three give two), so a missing
	 * '=' costs nothing; a lone sixth of a byte is broken input.
	 */
	if (nq == 1)
		*bad = true;
	return o;
}

/* RFC 2047 "Q": '_' is a space, =XX a byte; a stray '=' stays. */
static void
q_decode(const char *s, size_t len, struct sbuf *ob)
{
	size_t	i;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '_')
			sbuf_addc(ob, ' ');
		else if (s[i] == '=' && i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			sbuf_addc(ob, hi << 4 | lo);
			i += 2;
		} else
			sbuf_addc(ob, s[i]);
	}
}

/*
 * Recognise an encoded word "=?charset?X?text?=" at s.  Fills the
 * charset and text spans; returns its length or 0.  Clients accept
 * words that are not whitespace-delimited, so we do too; the text may
 * not hold whitespace or '?'.
 */
static size_t
encoded_word(const char *s, const char **cs, size_t *cslen, char *enc,
    const char **text, size_t *textlen)
{
	size_t	i, n;

	if (s[0] != '=' || s[1] != '?')
		return 0;
	for (n = 0; s[2 + n] != '\0' && s[2 + n] != '?'; n++)
		if (s[2 + n] == ' ' || s[2 + n] == '\t' || n > 64)
			return 0;
	if (n == 0 || s[2 + n] != '?')
		return 0;
	*cs = s + 2;
	*cslen = n;
	i = 2 + n + 1;
	if ((s[i] != 'B' && s[i] != 'b' && s[i] != 'Q' && s[i] != 'q') ||
	    s[i + 1] != '?')
		return 0;
	*enc = (char)(s[i] | 0x20);
	i += 2;
	*text = s + i;
	for (n = 0; s[i + n] != '\0' && s[i + n] != '?'; n++)
		if (s[i + n] == ' ' || s[i + n] == '\t' ||
		    s[i + n] == '\r' || s[i + n] == '\n')
			return 0;
	if (s[i + n] != '?' || s[i + n + 1] != '=')
		return 0;
	*textlen = n;
	return i + n + 2;
}

/*
 * Decoded bytes waiting for conversion: adjacent words in one charset
 * are joined before converting, because encoders split multibyte
 * characters across words.
 */
struct pending {
	struct sbuf	 raw;
	char		 cs[72];	/* "" for undecoded header text */
};

static enum lw_err
pending_flush(struct pending *pd, struct sbuf *ob)
{
	enum lw_err	e = LW_OK;

	if (pd->raw.len > 0)
		e = conv_append(pd->cs[0] != '\0' ? pd->cs : NULL, pd->raw.p,
		    pd->raw.len, ob, NULL);
	pd->raw.len = 0;
	return e;
}

/* Start collecting bytes for charset cs (NULL: raw header text). */
static enum lw_err
pending_switch(struct pending *pd, const char *cs, size_t cslen,
    struct sbuf *ob)
{
	enum lw_err	e;

	if (cslen >= sizeof(pd->cs))
		cslen = sizeof(pd->cs) - 1;
	if (pd->raw.len > 0 && strlen(pd->cs) == cslen &&
	    strncasecmp(pd->cs, cs != NULL ? cs : "", cslen) == 0)
		return LW_OK;
	if ((e = pending_flush(pd, ob)) != LW_OK)
		return e;
	if (cslen > 0)
		memcpy(pd->cs, cs, cslen);
	pd->cs[cslen] = '\0';
	return LW_OK;
}

enum lw_err
charset_decode_header(const char *value, char **out)
{
	struct pending	 pd = { { 0 }, "" };
	struct sbuf	 ob = { 0 };
	const char	*s = value, *cs, *text, *lit;
	size_t		 n, cslen, textlen, litlen, skip, i, b64max;
	bool		 prev_word = false, ws, bad;
	char		 enc;
	enum lw_err	 e = LW_OK;

	*out = NULL;
	if (value == NULL)
		value = s = "";
	while (*s != '\0') {
		/* literal text up to the next encoded word */
		lit = s;
		for (;;) {
			skip = strcspn(s, "=");
			s += skip;
			if (*s == '\0' || encoded_word(s, &cs, &cslen, &enc,
			    &text, &textlen) != 0)
				break;
			s++;
		}
		litlen = (size_t)(s - lit);
		for (ws = true, i = 0; i < litlen; i++)
			if (lit[i] != ' ' && lit[i] != '\t' &&
			    lit[i] != '\r' && lit[i] != '\n')
				ws = false;
		/* whitespace between two encoded words is dropped */
		if (litlen > 0 && !(ws && prev_word && *s != '\0')) {
			if ((e = pending_switch(&pd, NULL, 0, &ob)) != LW_OK)
				goto out;
			sbuf_add(&pd.raw, lit, litlen);
		}
		if (*s == '\0')
			break;
		n = encoded_word(s, &cs, &cslen, &enc, &text, &textlen);
		if ((e = pending_switch(&pd, cs, cslen, &ob)) != LW_OK)
			goto out;
		if (enc == 'b') {
			b64max = textlen / 4 * 3 + 3;
			if (sbuf_reserve(&pd.raw, b64max)) {
				bad = false;
				pd.raw.len += charset_base64_decode(text,
				    textlen, (unsigned char *)pd.raw.p +
				    pd.raw.len, &bad);
				pd.raw.p[pd.raw.len] = '\0';
			}
		} else
			q_decode(text, textlen, &pd.raw);
		if (pd.raw.oom) {
			e = LW_ENOMEM;
			goto out;
		}
		prev_word = true;
		s += n;
	}
	if ((e = pending_flush(&pd, &ob)) != LW_OK || !sbuf_finish(&ob)) {
		e = LW_ENOMEM;
		goto out;
	}
	nul_to_space(ob.p, ob.len);
	*out = ob.p;
	ob.p = NULL;
out:
	sbuf_free(&pd.raw);
	sbuf_free(&ob);
	return e == LW_OK ? LW_OK : LW_ENOMEM;
}
