/*
 * hijack_quote.c: the thread this message quotes, for the hijack signs.
 *
 * Takes the text parts of the message (not of attached messages: they
 * are the forwarded message, not this one's thread); returns a struct
 * quote: whether an earlier message is quoted ("> " markers, separator
 * lines such as "----- Original Message -----", "On ..., X <x@d>
 * wrote:" lines, a quoted From:/To:/Cc: header block, an attached
 * message), whether a quoted To:/Cc: named recipients, and the domains
 * of the participants the quote names.
 *
 * Bounds: BODY_PARTS_MAX text parts of BODY_TEXT_BYTES each, lines cut
 * at LINE_BYTES, QUOTE_MAX_DOMAINS participants (RUN_MAX_DOMAINS per
 * header block); stops when scan_expired().
 *
 * Ignores: HTML structure (mime.c reduced it to text) and addresses
 * outside ASCII.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "bytes.h"
#include "hijack_int.h"
#include "mime.h"
#include "analyzer.h"
#include "util.h"

#define BODY_PARTS_MAX		32
#define BODY_TEXT_BYTES		(1024 * 1024)
#define LINE_BYTES		1024
#define RUN_MAX_DOMAINS		16

/* Header lines of a quoted message, by what they name. */
enum hkey {
	HK_NONE = 0,
	HK_FROM,
	HK_TO,
	HK_CC,
	HK_OTHER
};

static const struct {
	const char	*key;		/* lowercase ASCII or as written */
	enum hkey	 what;
} hkeys[] = {
	{ "from", HK_FROM }, { "von", HK_FROM }, { "de", HK_FROM },
	{ "da", HK_FROM }, { "van", HK_FROM }, { "od", HK_FROM },
	{ "差出人", HK_FROM }, { "送信者", HK_FROM }, { "发件人", HK_FROM },
	{ "寄件者", HK_FROM },
	{ "to", HK_TO }, { "an", HK_TO }, { "à", HK_TO }, { "a", HK_TO },
	{ "para", HK_TO }, { "aan", HK_TO }, { "do", HK_TO },
	{ "宛先", HK_TO }, { "收件人", HK_TO }, { "收件者", HK_TO },
	{ "cc", HK_CC }, { "kopie", HK_CC }, { "抄送", HK_CC },
	{ "副本", HK_CC },
	{ "sent", HK_OTHER }, { "date", HK_OTHER }, { "subject", HK_OTHER },
	{ "gesendet", HK_OTHER }, { "datum", HK_OTHER },
	{ "betreff", HK_OTHER }, { "envoyé", HK_OTHER },
	{ "objet", HK_OTHER }, { "enviado", HK_OTHER },
	{ "fecha", HK_OTHER }, { "asunto", HK_OTHER },
	{ "inviato", HK_OTHER }, { "data", HK_OTHER },
	{ "oggetto", HK_OTHER }, { "verzonden", HK_OTHER },
	{ "onderwerp", HK_OTHER }, { "wysłano", HK_OTHER },
	{ "temat", HK_OTHER }, { "送信日時", HK_OTHER },
	{ "件名", HK_OTHER }, { "日付", HK_OTHER }, { "日時", HK_OTHER },
	{ "发送时间", HK_OTHER }, { "主题", HK_OTHER }, { "日期", HK_OTHER },
	{ "主旨", HK_OTHER }, { "寄件日期", HK_OTHER },
};

/* Lines that introduce a quoted or forwarded message. */
static const char *const separators[] = {
	"original message", "ursprüngliche nachricht", "forwarded message",
	"begin forwarded message", "message d'origine", "message transféré",
	"mensaje original", "mensaje reenviado", "messaggio originale",
	"messaggio inoltrato", "oorspronkelijk bericht",
	"doorgestuurd bericht", "weitergeleitete nachricht",
	"元のメッセージ", "転送メッセージ", "転送されたメッセージ",
	"オリジナルメッセージ", "原始邮件", "转发的邮件", "原始郵件",
};

/* How a line that introduces a quote ends ("On ..., X <x@d> wrote:"). */
static const char *const wrote_endings[] = {
	"wrote:", "writes:", "schrieb:", "a écrit :", "a écrit:",
	"escribió:", "ha scritto:", "schreef:", "napisał(a):", "napisał:",
	"skrev:", "kirjoitti:", "のメッセージ:", "書きました:", "写道:",
	"寫道:",
};

/* Consecutive header-like lines: a quoted message's header block? */
struct run {
	unsigned	 nlines;
	bool		 from, to, other, recip;
	enum hkey	 last;
	char		 dom[RUN_MAX_DOMAINS][DOMAIN_MAX + 1];
	size_t		 ndom;
	char		 author[ADDR_MAX + 1];	/* the From line's */
};

static bool
expired(struct scan_ctx *ctx)
{
	return ctx != NULL && scan_expired(ctx);
}

static bool
ascii_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
atext(unsigned char c)
{
	return ascii_alpha(c) || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

static bool
dtext(unsigned char c)
{
	return ascii_alpha(c) || (c >= '0' && c <= '9') || c == '.' ||
	    c == '-';
}

/*
 * The next address in s[*pos..len): local@domain.tld, ASCII.  Fills
 * addr and dom (lowercased) and advances *pos past it.
 */
bool
hijack_next_addr(const char *s, size_t len, size_t *pos, char *addr, char *dom)
{
	const char	*at;
	size_t		 a, l, d, e, i;

	while (*pos < len &&
	    (at = memchr(s + *pos, '@', len - *pos)) != NULL) {
		a = (size_t)(at - s);
		*pos = a + 1;
		for (l = a; l > 0 && a - l < 64 && atext(s[l - 1]); l--)
			;
		while (l < a && s[l] == '.')
			l++;
		for (e = a + 1; e < len && e - a - 1 < DOMAIN_MAX &&
		    dtext(s[e]); e++)
			;
		d = a + 1;
		while (e > d && (s[e - 1] == '.' || s[e - 1] == '-'))
			e--;
		if (l == a || e == d || s[d] == '.' || s[d] == '-' ||
		    memchr(s + d, '.', e - d) == NULL)
			continue;
		for (i = d; i + 1 < e; i++)
			if (s[i] == '.' && s[i + 1] == '.')
				break;
		if (i + 1 < e)
			continue;
		memcpy(dom, s + d, e - d);
		dom[e - d] = '\0';
		lw_strlower(dom);
		if (e - l > ADDR_MAX)
			e = l + ADDR_MAX;
		memcpy(addr, s + l, e - l);
		addr[e - l] = '\0';
		*pos = e;
		return true;
	}
	return false;
}

void
hijack_quote_free(struct quote *q)
{
	lw_strv_clear(q->dom, q->ndom);
	memset(q, 0, sizeof(*q));
}

/* Addresses of s into the quote's participants; how many. */
static enum lw_err
quote_add_addrs(struct quote *q, const char *s, size_t *found)
{
	char		 addr[ADDR_MAX + 1], dom[DOMAIN_MAX + 1];
	size_t		 pos = 0, len = strlen(s);
	enum lw_err	 e;

	*found = 0;
	while (hijack_next_addr(s, len, &pos, addr, dom)) {
		if ((e = lw_strset_add(q->dom, &q->ndom, QUOTE_MAX_DOMAINS,
		    dom)) != LW_OK)
			return e;
		if (q->author[0] == '\0')
			memcpy(q->author, addr, strlen(addr) + 1);
		(*found)++;
	}
	return LW_OK;
}

static void
run_add_addrs(struct run *r, const char *s, enum hkey what)
{
	char	 addr[ADDR_MAX + 1], dom[DOMAIN_MAX + 1];
	size_t	 pos = 0, len = strlen(s);

	if (what != HK_FROM && what != HK_TO && what != HK_CC)
		return;
	while (hijack_next_addr(s, len, &pos, addr, dom)) {
		if (what != HK_FROM)
			r->recip = true;
		else if (r->author[0] == '\0')
			memcpy(r->author, addr, strlen(addr) + 1);
		if (r->ndom < RUN_MAX_DOMAINS)
			memcpy(r->dom[r->ndom++], dom, strlen(dom) + 1);
	}
}

/*
 * End of a run of header-like lines.  It was a quoted message's header
 * block when it has a From line and a To, date or subject line: "From:
 * Tokyo" alone in a travel plan is not.
 */
static enum lw_err
run_end(struct run *r, struct quote *q)
{
	enum lw_err	e = LW_OK;
	size_t		i;

	if (r->from && r->nlines >= 2 && (r->to || r->other)) {
		q->quoted = true;
		if (r->recip)
			q->recipients = true;
		if (q->author[0] == '\0')
			memcpy(q->author, r->author, sizeof(r->author));
		for (i = 0; i < r->ndom && e == LW_OK; i++)
			e = lw_strset_add(q->dom, &q->ndom,
			    QUOTE_MAX_DOMAINS, r->dom[i]);
	}
	r->nlines = 0;
	r->from = r->to = r->other = r->recip = false;
	r->last = HK_NONE;
	r->ndom = 0;
	r->author[0] = '\0';
	return e;
}

/* Length of white space at s: ASCII, NBSP, ideographic space. */
static size_t
space_at(const char *s)
{
	if (*s == ' ' || *s == '\t')
		return 1;
	if (strncmp(s, "\xc2\xa0", 2) == 0)
		return 2;
	if (strncmp(s, "\xe3\x80\x80", 3) == 0)
		return 3;
	return 0;
}

/* A full-width colon at s (a NUL-terminated string). */
static bool
fw_colon(const char *s)
{
	return s[0] == '\xef' && s[1] == '\xbc' && s[2] == '\x9a';
}

/*
 * "Key: value" with a key we know as a quoted header line's; *value is
 * set past the colon.
 */
static enum hkey
header_key(const char *s, const char **value)
{
	char		 key[48];
	const char	*c, *f;
	size_t		 n, k, ks, ke, lim = strlen(s);

	/*
	 * The first ':' or full-width colon that starts at most 47 bytes
	 * in, found with memchr: a test per byte on every line of the
	 * text was a tenth of a 1 MiB text message's scan.
	 */
	if (lim > sizeof(key))
		lim = sizeof(key);
	n = (c = memchr(s, ':', lim)) != NULL ? (size_t)(c - s) : lim;
	for (f = s; (f = memchr(f, '\xef', (size_t)(s + n - f))) != NULL;
	    f++)
		if (fw_colon(f)) {
			n = (size_t)(f - s);
			break;
		}
	if (n == lim)
		return HK_NONE;
	*value = s + n + (s[n] == ':' ? 1 : 3);
	/* Outlook's plain text of bold keys: "*From:*". */
	for (ks = 0; ks < n && (s[ks] == '*' || s[ks] == ' '); ks++)
		;
	for (ke = n; ke > ks && (s[ke - 1] == '*' || s[ke - 1] == ' ');
	    ke--)
		;
	if (ke == ks)
		return HK_NONE;
	memcpy(key, s + ks, ke - ks);
	key[ke - ks] = '\0';
	lw_strlower(key);
	for (k = 0; k < sizeof(hkeys) / sizeof(hkeys[0]); k++)
		if (strcmp(key, hkeys[k].key) == 0)
			return hkeys[k].what;
	return HK_NONE;
}

/*
 * Which separators start with each pair of bytes (a bit per separator,
 * both ASCII cases entered), and how far the last pair of a window of
 * sep_min bytes lets the window move (Wu-Manber with pairs): a line is
 * read once, a few bytes at a step, instead of once per separator.
 * Lowering the line and calling strstr for each of the 20 separators
 * was a third of a 1 MiB text message's scan (make bench, callgrind).
 */
#define NSEP	(sizeof(separators) / sizeof(separators[0]))
static uint32_t		sep_pair[256][256];
static unsigned char	sep_shift[65536];	/* by the pair as read */
static size_t		sep_len[NSEP], sep_min;
static pthread_once_t	sep_once = PTHREAD_ONCE_INIT;

_Static_assert(NSEP <= 32, "a separator's bit in sep_pair");

static void
sep_init(void)
{
	const unsigned char	*p;
	unsigned char		 b[2];
	size_t			 k, j, x, y;

	sep_min = SIZE_MAX;
	for (k = 0; k < NSEP; k++) {
		sep_len[k] = strlen(separators[k]);
		if (sep_len[k] < sep_min)
			sep_min = sep_len[k];
	}
	memset(sep_shift, (int)(sep_min - 1), sizeof(sep_shift));
	for (k = 0; k < NSEP; k++) {
		p = (const unsigned char *)separators[k];
		for (j = 0; j + 1 < sep_min; j++)
			for (x = 0; x < 2; x++)
				for (y = 0; y < 2; y++) {
					b[0] = x ? ascii_upper(p[j]) : p[j];
					b[1] = y ? ascii_upper(p[j + 1]) :
					    p[j + 1];
					if (j == 0)
						sep_pair[b[0]][b[1]] |=
						    (uint32_t)1 << k;
					if (sep_shift[pair16(b)] >
					    sep_min - 2 - j)
						sep_shift[pair16(b)] =
						    (unsigned char)(sep_min -
						    2 - j);
				}
	}
}

/*
 * A line like "----- Original Message -----": a separator (lower case
 * already) anywhere in the line, ASCII letters of the line in any case.
 */
static bool
separator_line(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, j, k, sh, n = strlen(s);
	uint32_t		 m;

	if (n > 120)
		return false;
	(void)pthread_once(&sep_once, sep_init);
	for (i = 0; n >= sep_min && i <= n - sep_min; i++) {
		/* The window p[i..i+sep_min) cannot hold a separator's start. */
		if ((sh = sep_shift[pair16(p + i + sep_min - 2)]) != 0) {
			i += sh - 1;
			continue;
		}
		for (k = 0, m = sep_pair[p[i]][p[i + 1]]; m != 0; k++,
		    m >>= 1) {
			if (!(m & 1) || sep_len[k] > n - i)
				continue;
			for (j = 2; j < sep_len[k] && ascii_lower(p[i + j]) ==
			    (unsigned char)separators[k][j]; j++)
				;
			if (j == sep_len[k])
				return true;
		}
	}
	return false;
}

/*
 * Does s (trimmed, full-width colon made ASCII) end like "wrote:"?
 * Every ending ends with a colon, which is tested first; then only the
 * last WROTE_TAIL bytes are lowered and compared: every ending is
 * shorter.
 */
#define WROTE_TAIL	48

static bool
wrote_line(const char *s)
{
	char	 tail[WROTE_TAIL + 1];
	size_t	 n = strlen(s), t, k, e;
	bool	 fw;

	/* "...書きました：" reads as "...書きました:". */
	fw = n >= 3 && memcmp(s + n - 3, "\xef\xbc\x9a", 3) == 0;
	if (fw)
		n -= 2;
	else if (n == 0 || s[n - 1] != ':')
		return false;
	t = n < WROTE_TAIL ? n : WROTE_TAIL;
	for (k = 0; k < t; k++)
		tail[k] = (char)ascii_lower((unsigned char)s[n - t + k]);
	if (fw)
		tail[t - 1] = ':';
	tail[t] = '\0';
	for (k = 0; k < sizeof(wrote_endings) / sizeof(wrote_endings[0]);
	    k++) {
		e = strlen(wrote_endings[k]);
		if (t >= e && memcmp(tail + t - e, wrote_endings[k], e) == 0)
			return true;
	}
	/* Gmail in Japanese: "2022年2月21日(月) 16:02 X <x@d>:" */
	return t >= 2 && memcmp(tail + t - 2, ">:", 2) == 0 &&
	    strchr(s, '@') != NULL;
}

/* One line of body text (quote markers and white space stripped). */
static enum lw_err
quote_line(const char *c, const char *prev, struct run *r,
    struct quote *q)
{
	const char	*value;
	enum hkey	 what;
	size_t		 found;
	enum lw_err	 e;

	if (*c == '\0')
		return run_end(r, q);
	if (separator_line(c)) {
		q->quoted = true;
		return run_end(r, q);
	}
	if ((what = header_key(c, &value)) != HK_NONE) {
		r->nlines++;
		r->from |= what == HK_FROM;
		r->to |= what == HK_TO || what == HK_CC;
		r->other |= what == HK_OTHER;
		r->last = what;
		run_add_addrs(r, value, what);
		return LW_OK;
	}
	if (wrote_line(c)) {
		if ((e = run_end(r, q)) != LW_OK)
			return e;
		q->quoted = true;
		if ((e = quote_add_addrs(q, c, &found)) != LW_OK)
			return e;
		/* "On ..., X <x@d>" / "wrote:" wrapped over two lines. */
		if (found == 0)
			e = quote_add_addrs(q, prev, &found);
		return e;
	}
	/* A long To: line wrapped onto the next line. */
	if (r->nlines > 0 && r->last != HK_OTHER && strchr(c, '@') != NULL &&
	    strlen(c) < 200) {
		run_add_addrs(r, c, r->last);
		return LW_OK;
	}
	return run_end(r, q);
}

static enum lw_err
quote_text(struct scan_ctx *ctx, const char *text, size_t len,
    struct quote *q)
{
	/* This line and the one before, in turns: no copy per line. */
	char		 buf[2][LINE_BYTES + 1], *line;
	struct run	 r;
	const char	*nl, *c, *prev = "";
	size_t		 i = 0, ll, n, sp, lines = 0;
	bool		 marked;
	enum lw_err	 e = LW_OK;

	memset(&r, 0, sizeof(r));
	if (len > BODY_TEXT_BYTES)
		len = BODY_TEXT_BYTES;
	while (i < len && e == LW_OK) {
		nl = memchr(text + i, '\n', len - i);
		ll = nl != NULL ? (size_t)(nl - (text + i)) : len - i;
		n = ll > LINE_BYTES ? lw_utf8_cut(text + i, LINE_BYTES) : ll;
		line = buf[lines % 2];
		memcpy(line, text + i, n);
		line[n] = '\0';
		i += ll + 1;
		if (++lines % 4096 == 0 && expired(ctx))
			break;
		/* Quote markers: "> > text". */
		c = line;
		marked = false;
		for (;;) {
			while ((sp = space_at(c)) > 0)
				c += sp;
			if (*c != '>')
				break;
			marked = true;
			c++;
		}
		if (marked)
			q->quoted = true;
		/* Trailing white space and CR. */
		n = strlen(c);
		while (n > 0 && (c[n - 1] == ' ' || c[n - 1] == '\t' ||
		    c[n - 1] == '\r'))
			n--;
		while (n >= 3 && memcmp(c + n - 3, "\xe3\x80\x80", 3) == 0)
			n -= 3;
		line[(size_t)(c - line) + n] = '\0';
		e = quote_line(c, prev, &r, q);
		prev = c;
	}
	if (e == LW_OK)
		e = run_end(&r, q);
	return e;
}

/* Text parts of this message (not of attached messages). */
static enum lw_err
quote_part(struct scan_ctx *ctx, const struct mime_part *mp,
    struct quote *q, unsigned *nparts)
{
	size_t		i;
	enum lw_err	e;

	if (mp == NULL)
		return LW_OK;
	if (mp->inner != NULL)
		q->inner = true;
	if (mp->text != NULL && !mp->is_attachment &&
	    *nparts < BODY_PARTS_MAX) {
		(*nparts)++;
		if (expired(ctx))
			return LW_OK;
		if ((e = quote_text(ctx, mp->text, mp->text_len, q)) != LW_OK)
			return e;
	}
	for (i = 0; i < mp->nchild; i++)
		if ((e = quote_part(ctx, mp->child[i], q, nparts)) != LW_OK)
			return e;
	return LW_OK;
}

enum lw_err
hijack_quote_scan(struct scan_ctx *ctx, const struct mime_part *root,
    struct quote *q)
{
	unsigned	nparts = 0;

	return quote_part(ctx, root, q, &nparts);
}
