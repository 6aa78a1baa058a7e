/*
 * hijack.c: thread-hijack signs, the policy's custom rules and
 * EMOTET_LURE.
 *
 * Takes the parsed message (decoded subject and display names, raw
 * header values, body text of the text parts), one recipient policy
 * and the policy-independent content findings; appends this policy's
 * findings to out (part "" for all of them).
 *
 * Signs:
 *  HDR_DISPLAY_NAME_SPOOF      the display name holds an address (also
 *                              full-width, after NFKC) of a domain other
 *                              than the From domain, or is a known
 *                              correspondent's name sent from outside
 *                              that correspondent's domains.
 *  HDR_INTERNAL_NAME_EXTERNAL  the display name is a staff name and the
 *                              From domain is not internal.
 *  HDR_FOREIGN_REPLY_PREFIX    a subject prefix outside reply_prefixes.
 *  HDR_FAKE_REPLY              a reply prefix, neither In-Reply-To nor
 *                              References.
 *  BODY_QUOTED_THREAD_FOREIGN  the body quotes a thread whose named
 *                              participants do not include the From
 *                              domain.
 *  HDR_REPLYTO_MISMATCH        Reply-To and From domains differ.
 *
 * Decisions (documented in lurewall-policy(5) too):
 *  - A domain "matches" another when equal or a subdomain of it, in
 *    either direction: mail.partner.example is partner.example.  So an
 *    internal domain's subdomains are internal.  Without
 *    internal_domains the policy's own domains: are the internal ones.
 *  - trusted_senders (From address or @domain) skip every HDR_/BODY_
 *    sign and hence EMOTET_LURE; custom rules still run, because an
 *    admin who writes a rule means it for everyone.
 *  - A forward prefix never makes HDR_FAKE_REPLY; a reply prefix under
 *    a forward ("Fwd: RE: x") does when nothing was forwarded (no
 *    quote, no header block, no attached message): a forward of a reply
 *    that carries no reply is not one.
 *  - BODY_QUOTED_THREAD_FOREIGN needs addresses in the quote's header
 *    lines (From:/To:/Cc: blocks, "... wrote:" lines); a quote that
 *    names nobody proves nothing.  When the quote names only authors
 *    ("On ..., X <x@d> wrote:") the sender need not appear in it, so an
 *    honest reply is recognised by its In-Reply-To/References; a quoted
 *    To:/Cc: line names the thread's recipients, and then the sender
 *    must be among the participants.  Senders from an internal domain
 *    are exempt: colleagues forward other people's threads all day.
 *  - A pcre2 match or depth limit in a custom rule is SCAN_ERROR.
 *
 * Bounds: the first SUBJECT_PREFIX_BYTES of the subject,
 * DISPLAY_ADDR_BYTES of the display name, BODY_PARTS_MAX text parts of
 * BODY_TEXT_BYTES each for the quote (lines cut at LINE_BYTES),
 * QUOTE_MAX_DOMAINS participants; custom rules run under the pcre2
 * limits of struct limits and stop when scan_expired().
 *
 * Ignores: quotes inside attached messages (they are the forwarded
 * message, not this one's thread), HTML structure (mime.c reduced it to
 * text), and Sender:.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "hijack.h"
#include "mime.h"
#include "names.h"
#include "policy.h"
#include "scan.h"

#define SUBJECT_PREFIX_BYTES	512
#define DISPLAY_ADDR_BYTES	4096
#define BODY_PARTS_MAX		32
#define BODY_TEXT_BYTES		(1024 * 1024)
#define LINE_BYTES		1024
#define QUOTE_MAX_DOMAINS	32
#define RUN_MAX_DOMAINS		16
#define DOMAIN_MAX		253
#define ADDR_MAX		320
#define DETAIL_MATCH_BYTES	120
#define TAG_MAX_BYTES		64

/* Every reply and forward prefix we recognise (lowercase ASCII). */
static const struct {
	const char	*tok;
	bool		 forward;
} prefix_tab[] = {
	{ "re", false }, { "aw", false }, { "sv", false }, { "vs", false },
	{ "antw", false }, { "r", false }, { "rif", false }, { "odp", false },
	{ "返信", false }, { "回复", false }, { "答复", false },
	{ "回覆", false },
	{ "fw", true }, { "fwd", true }, { "wg", true }, { "tr", true },
	{ "rv", true }, { "i", true }, { "doorst", true }, { "pd", true },
	{ "enc", true }, { "vl", true },
	{ "転送", true }, { "转发", true }, { "轉寄", true },
};

/* Expected when the policy sets no reply_prefixes (case-insensitive). */
static const char *const default_prefixes[] = {
	"Re", "Fw", "Fwd", "返信", "転送"
};

static const char *const strong_signs[] = {
	"HDR_DISPLAY_NAME_SPOOF", "HDR_INTERNAL_NAME_EXTERNAL",
	"HDR_FOREIGN_REPLY_PREFIX", "BODY_QUOTED_THREAD_FOREIGN"
};

static const char *const payloads[] = {
	"FILE_EXECUTABLE", "FILE_SCRIPT", "FILE_SHORTCUT",
	"ARCHIVE_PASSWORD_UNKNOWN"
};
static const char *const payload_prefixes[] = {
	"OFFICE_VBA", "OFFICE_XLM"
};

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

/* What the body's quote says about the thread. */
struct quote {
	bool		 quoted;	/* an earlier message is quoted */
	bool		 inner;		/* an attached message/rfc822 */
	bool		 recipients;	/* a quoted To:/Cc: named an address */
	char		*dom[QUOTE_MAX_DOMAINS];	/* participants */
	size_t		 ndom;
};

/* Consecutive header-like lines: a quoted message's header block? */
struct run {
	unsigned	 nlines;
	bool		 from, to, other, recip;
	enum hkey	 last;
	char		 dom[RUN_MAX_DOMAINS][DOMAIN_MAX + 1];
	size_t		 ndom;
};

static bool
expired(struct scan_ctx *ctx)
{
	return ctx != NULL && scan_expired(ctx);
}

static bool
nonblank(const char *s)
{
	if (s == NULL)
		return false;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return true;
	return false;
}

/* Same organisation: equal, or one a subdomain of the other. */
static bool
subdomain_of(const char *d, const char *parent)
{
	size_t	dl = strlen(d), pl = strlen(parent);

	if (pl == 0)
		return false;
	if (dl == pl)
		return lw_strcaseeq(d, parent);
	return dl > pl && d[dl - pl - 1] == '.' &&
	    lw_strcaseeq(d + dl - pl, parent);
}

static bool
domain_related(const char *a, const char *b)
{
	return subdomain_of(a, b) || subdomain_of(b, a);
}

static bool
domain_listed(const char *d, char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && subdomain_of(d, list[i]))
			return true;
	return false;
}

static bool
internal_known(const struct policy *p)
{
	return p->ninternal_domains > 0 || p->ndomains > 0;
}

static bool
internal(const struct policy *p, const char *d)
{
	if (p->ninternal_domains > 0)
		return domain_listed(d, p->internal_domains,
		    p->ninternal_domains);
	return domain_listed(d, p->domains, p->ndomains);
}

/*
 * trusted_senders: "user@dom" or "@dom", case-insensitive (the same
 * test as policy_addr_listed, kept here so the stage stands alone).
 */
static bool
trusted(const struct policy *p, const char *addr)
{
	const char	*at;
	size_t		 i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return false;
	for (i = 0; i < p->ntrusted_senders; i++) {
		const char *t = p->trusted_senders[i];

		if (t == NULL)
			continue;
		if (t[0] == '@' ? lw_strcaseeq(t + 1, at + 1) :
		    lw_strcaseeq(t, addr))
			return true;
	}
	return false;
}

/* Cut len back so that s[0..len) ends on a UTF-8 character boundary. */
static size_t
utf8_cut(const char *s, size_t len)
{
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
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
static bool
next_addr(const char *s, size_t len, size_t *pos, char *addr, char *dom)
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

/*
 * Which prefix_tab entry starts s?  -1 when none; *tl gets its length.
 * A Latin prefix must be a whole word: "Reminder:" is no "Re".
 */
static int
prefix_lookup(const char *s, size_t *tl)
{
	char	low[8];
	size_t	k, n;

	if (ascii_alpha((unsigned char)s[0])) {
		for (n = 0; ascii_alpha((unsigned char)s[n]); n++) {
			if (n == sizeof(low) - 1)
				return -1;
			low[n] = (char)((unsigned char)s[n] | 0x20);
		}
		low[n] = '\0';
		for (k = 0; k < sizeof(prefix_tab) / sizeof(prefix_tab[0]);
		    k++)
			if (strcmp(low, prefix_tab[k].tok) == 0) {
				*tl = n;
				return (int)k;
			}
		return -1;
	}
	for (k = 0; k < sizeof(prefix_tab) / sizeof(prefix_tab[0]); k++) {
		n = strlen(prefix_tab[k].tok);
		if (!ascii_alpha((unsigned char)prefix_tab[k].tok[0]) &&
		    strncmp(s, prefix_tab[k].tok, n) == 0) {
			*tl = n;
			return (int)k;
		}
	}
	return -1;
}

size_t
hijack_prefixes(const char *subject, struct hijack_prefix *out,
    size_t max)
{
	const char	*c, *close;
	char		*s, cl;
	size_t		 n = 0, len, i = 0, j, d, k, tl = 0, tags = 0;
	int		 idx;

	if (subject == NULL)
		return 0;
	len = strlen(subject);
	if (len > SUBJECT_PREFIX_BYTES)
		len = utf8_cut(subject, SUBJECT_PREFIX_BYTES);
	/* NFKC: full-width letters and colons are the same prefix. */
	if ((s = names_nfkc(subject, len)) == NULL)
		return 0;
	while (n < max) {
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		/* "[EXT]", "【外部】": a tag, not the subject. */
		close = s[i] == '[' ? "]" :
		    strncmp(s + i, "【", strlen("【")) == 0 ? "】" : NULL;
		if (close != NULL) {
			if (++tags > 8 || (c = strstr(s + i, close)) == NULL ||
			    (size_t)(c - (s + i)) > TAG_MAX_BYTES)
				break;
			i = (size_t)(c - s) + strlen(close);
			continue;
		}
		if ((idx = prefix_lookup(s + i, &tl)) < 0)
			break;
		/* Repeats: Re[2]:, Re(2):, Re^2: */
		j = i + tl;
		if (s[j] == '[' || s[j] == '(' || s[j] == '^') {
			cl = s[j] == '[' ? ']' : s[j] == '(' ? ')' : '\0';
			d = ++j;
			while (s[j] >= '0' && s[j] <= '9' && j - d < 4)
				j++;
			if (j == d || (cl != '\0' && s[j++] != cl))
				break;
		}
		/* French style "TR :" */
		for (k = 0; k < 2 && s[j] == ' '; k++)
			j++;
		if (s[j] != ':')
			break;
		if (tl >= sizeof(out[n].tok))
			tl = sizeof(out[n].tok) - 1;
		memcpy(out[n].tok, s + i, tl);
		out[n].tok[tl] = '\0';
		out[n].forward = prefix_tab[idx].forward;
		n++;
		i = j + 1;
	}
	free(s);
	return n;
}

static void
quote_free(struct quote *q)
{
	size_t	i;

	for (i = 0; i < q->ndom; i++)
		free(q->dom[i]);
	memset(q, 0, sizeof(*q));
}

static enum lw_err
quote_add(struct quote *q, const char *dom)
{
	size_t	i;

	for (i = 0; i < q->ndom; i++)
		if (strcmp(q->dom[i], dom) == 0)
			return LW_OK;
	if (q->ndom == QUOTE_MAX_DOMAINS)
		return LW_OK;
	if ((q->dom[q->ndom] = strdup(dom)) == NULL)
		return LW_ENOMEM;
	q->ndom++;
	return LW_OK;
}

/* Addresses of s into the quote's participants; how many. */
static enum lw_err
quote_add_addrs(struct quote *q, const char *s, size_t *found)
{
	char		 addr[ADDR_MAX + 1], dom[DOMAIN_MAX + 1];
	size_t		 pos = 0, len = strlen(s);
	enum lw_err	 e;

	*found = 0;
	while (next_addr(s, len, &pos, addr, dom)) {
		if ((e = quote_add(q, dom)) != LW_OK)
			return e;
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
	while (next_addr(s, len, &pos, addr, dom)) {
		if (what != HK_FROM)
			r->recip = true;
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
		for (i = 0; i < r->ndom && e == LW_OK; i++)
			e = quote_add(q, r->dom[i]);
	}
	r->nlines = 0;
	r->from = r->to = r->other = r->recip = false;
	r->last = HK_NONE;
	r->ndom = 0;
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

/*
 * "Key: value" with a key we know as a quoted header line's; *value is
 * set past the colon.
 */
static enum hkey
header_key(const char *s, const char **value)
{
	char	 key[48];
	size_t	 n, k, ks, ke;

	for (n = 0; s[n] != '\0' && n < sizeof(key) - 1; n++)
		if (s[n] == ':' || strncmp(s + n, "\xef\xbc\x9a", 3) == 0)
			break;
	if (s[n] != ':' && strncmp(s + n, "\xef\xbc\x9a", 3) != 0)
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
 * A line like "----- Original Message -----".  The line is lowered
 * (ASCII) once and searched with strstr: a hand-rolled case-insensitive
 * search per separator was a quarter of a text-heavy scan (make bench).
 * The separators are lower case already.
 */
static bool
separator_line(const char *s)
{
	char		low[121];
	size_t		k, n = strlen(s);
	unsigned char	c;

	if (n > 120)
		return false;
	for (k = 0; k <= n; k++) {
		c = (unsigned char)s[k];
		low[k] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	for (k = 0; k < sizeof(separators) / sizeof(separators[0]); k++)
		if (strstr(low, separators[k]) != NULL)
			return true;
	return false;
}

/* Does s (trimmed, full-width colon made ASCII) end like "wrote:"? */
static bool
wrote_line(const char *s)
{
	char	 low[LINE_BYTES + 1];
	size_t	 n = strlen(s), k, e;

	memcpy(low, s, n + 1);
	if (n >= 3 && strcmp(low + n - 3, "\xef\xbc\x9a") == 0) {
		n -= 2;
		low[n - 1] = ':';
		low[n] = '\0';
	}
	lw_strlower(low);
	for (k = 0; k < sizeof(wrote_endings) / sizeof(wrote_endings[0]);
	    k++) {
		e = strlen(wrote_endings[k]);
		if (n >= e && strcmp(low + n - e, wrote_endings[k]) == 0)
			return true;
	}
	/* Gmail in Japanese: "2022年2月21日(月) 16:02 X <x@d>:" */
	return n >= 2 && strcmp(low + n - 2, ">:") == 0 &&
	    strchr(low, '@') != NULL;
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
	char		 line[LINE_BYTES + 1], prev[LINE_BYTES + 1] = "";
	struct run	 r;
	const char	*nl, *c;
	size_t		 i = 0, ll, n, sp, lines = 0;
	bool		 marked;
	enum lw_err	 e = LW_OK;

	memset(&r, 0, sizeof(r));
	if (len > BODY_TEXT_BYTES)
		len = BODY_TEXT_BYTES;
	while (i < len && e == LW_OK) {
		nl = memchr(text + i, '\n', len - i);
		ll = nl != NULL ? (size_t)(nl - (text + i)) : len - i;
		n = ll > LINE_BYTES ? utf8_cut(text + i, LINE_BYTES) : ll;
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
		memmove(prev, c, n + 1);
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

/* The display name holds an address of another domain. */
static enum lw_err
display_address(const struct message *msg, struct findings *out,
    bool *hit)
{
	char		 addr[ADDR_MAX + 1], dom[DOMAIN_MAX + 1], *s;
	const char	*disp = msg->from.display;
	size_t		 len, pos = 0;
	enum lw_err	 e = LW_OK;

	len = strlen(disp);
	if (len > DISPLAY_ADDR_BYTES)
		len = utf8_cut(disp, DISPLAY_ADDR_BYTES);
	/* NFKC: "yamada＠torihiki.example" is an address too. */
	if ((s = names_nfkc(disp, len)) == NULL)
		return LW_ENOMEM;
	while (next_addr(s, strlen(s), &pos, addr, dom))
		if (!domain_related(dom, msg->from.domain)) {
			e = findings_add(out, "HDR_DISPLAY_NAME_SPOOF", "",
			    "display name shows %s, sent from %s", addr,
			    msg->from.addr);
			*hit = true;
			break;
		}
	free(s);
	return e;
}

/*
 * The display name is a correspondent's name (every component some
 * correspondent's) and some component's correspondents do not include
 * the From domain.
 */
static enum lw_err
display_correspondent(const struct message *msg, const struct policy *p,
    const struct name_cands *c, struct findings *out)
{
	const struct correspondent	*cr, *bad = NULL;
	size_t				 i, j;
	bool				 nomem = false, any, fits;

	for (i = 0; i < c->n; i++) {
		any = fits = false;
		cr = NULL;
		for (j = 0; j < p->ncorrespondents; j++) {
			if (!names_person_is(&p->correspondents[j].who, c, i,
			    &nomem))
				continue;
			any = true;
			cr = &p->correspondents[j];
			if (domain_listed(msg->from.domain, cr->domains,
			    cr->ndomains))
				fits = true;
		}
		if (nomem)
			return LW_ENOMEM;
		if (!any)
			return LW_OK;
		if (!fits && bad == NULL)
			bad = cr;
	}
	if (bad == NULL)
		return LW_OK;
	return findings_add(out, "HDR_DISPLAY_NAME_SPOOF", "",
	    "display name \"%s\" is correspondent %s of %s, sent from %s",
	    msg->from.display, bad->who.n > 0 ? bad->who.names[0] : "?",
	    bad->ndomains > 0 ? bad->domains[0] : "?", msg->from.addr);
}

/* Every component of the display name is a staff name. */
static enum lw_err
display_staff(const struct message *msg, const struct policy *p,
    const struct name_cands *c, struct findings *out)
{
	const struct person	*first = NULL;
	size_t			 i, j;
	bool			 nomem = false, any;

	if (!internal_known(p) || internal(p, msg->from.domain))
		return LW_OK;
	for (i = 0; i < c->n; i++) {
		any = false;
		for (j = 0; j < p->nstaff && !any; j++)
			if (names_person_is(&p->staff[j], c, i, &nomem)) {
				any = true;
				if (first == NULL)
					first = &p->staff[j];
			}
		if (nomem)
			return LW_ENOMEM;
		if (!any)
			return LW_OK;
	}
	if (first == NULL)
		return LW_OK;
	return findings_add(out, "HDR_INTERNAL_NAME_EXTERNAL", "",
	    "display name \"%s\" is staff %s, sent from %s",
	    msg->from.display, first->n > 0 ? first->names[0] : "?",
	    msg->from.addr);
}

static enum lw_err
display_signs(const struct message *msg, const struct policy *p,
    struct findings *out)
{
	struct name_cands	 c;
	bool			 spoof = false;
	enum lw_err		 e;

	if (msg->from.display == NULL || *msg->from.display == '\0' ||
	    msg->from.domain == NULL || msg->from.addr == NULL)
		return LW_OK;
	if ((e = display_address(msg, out, &spoof)) != LW_OK)
		return e;
	if ((e = names_cands(msg->from.display, &c)) != LW_OK)
		return e;
	if (c.n > 0) {
		if (!spoof)
			e = display_correspondent(msg, p, &c, out);
		if (e == LW_OK)
			e = display_staff(msg, p, &c, out);
	}
	names_cands_free(&c);
	return e;
}

/* Is this prefix one the policy expects (case-insensitive)? */
static enum lw_err
prefix_expected(const struct policy *p, const char *tok, bool *yes)
{
	const char	*want;
	char		*nf;
	size_t		 i, n, len;
	bool		 dflt = p->nreply_prefixes == 0;

	*yes = false;
	n = dflt ? sizeof(default_prefixes) / sizeof(default_prefixes[0]) :
	    p->nreply_prefixes;
	for (i = 0; i < n && !*yes; i++) {
		want = dflt ? default_prefixes[i] : p->reply_prefixes[i];
		if (want == NULL)
			continue;
		if ((nf = names_nfkc(want, strlen(want))) == NULL)
			return LW_ENOMEM;
		/* "AW:" and " AW" in the policy mean AW. */
		len = strlen(nf);
		while (len > 0 && (nf[len - 1] == ':' || nf[len - 1] == ' '))
			nf[--len] = '\0';
		*yes = lw_strcaseeq(nf + strspn(nf, " "), tok);
		free(nf);
	}
	return LW_OK;
}

static enum lw_err
subject_signs(const struct message *msg, const struct policy *p,
    const struct quote *q, struct findings *out)
{
	struct hijack_prefix	 pre[HIJACK_MAX_PREFIXES];
	char			 foreign[HIJACK_MAX_PREFIXES * 18] = "";
	const char		*reply = NULL;
	size_t			 n, i, j;
	bool			 yes, seen, threaded;
	enum lw_err		 e;

	n = hijack_prefixes(msg->subject, pre, HIJACK_MAX_PREFIXES);
	for (i = 0; i < n; i++) {
		if (!pre[i].forward && reply == NULL)
			reply = pre[i].tok;
		if ((e = prefix_expected(p, pre[i].tok, &yes)) != LW_OK)
			return e;
		for (j = 0, seen = false; j < i && !seen; j++)
			seen = lw_strcaseeq(pre[j].tok, pre[i].tok);
		if (yes || seen)
			continue;
		if (foreign[0] != '\0')
			strcat(foreign, ", ");
		strcat(foreign, pre[i].tok);
		strcat(foreign, ":");
	}
	if (foreign[0] != '\0' && (e = findings_add(out,
	    "HDR_FOREIGN_REPLY_PREFIX", "", "subject prefix %s not expected",
	    foreign)) != LW_OK)
		return e;

	threaded = nonblank(msg->in_reply_to) || nonblank(msg->references);
	if (reply == NULL || threaded)
		return LW_OK;
	if (!pre[0].forward)
		return findings_add(out, "HDR_FAKE_REPLY", "",
		    "reply prefix %s: without In-Reply-To or References",
		    reply);
	if (!q->quoted && !q->inner)
		return findings_add(out, "HDR_FAKE_REPLY", "",
		    "forward of a reply (%s: %s:) that forwards nothing, "
		    "without In-Reply-To or References", pre[0].tok, reply);
	return LW_OK;
}

static enum lw_err
quote_sign(const struct message *msg, const struct policy *p,
    const struct quote *q, struct findings *out)
{
	char		 list[4 * (DOMAIN_MAX + 2) + 8] = "";
	const char	*d = msg->from.domain;
	size_t		 i;
	bool		 threaded;

	if (d == NULL || q->ndom == 0 || internal(p, d))
		return LW_OK;
	for (i = 0; i < q->ndom; i++)
		if (domain_related(d, q->dom[i]))
			return LW_OK;
	threaded = nonblank(msg->in_reply_to) || nonblank(msg->references);
	if (!q->recipients && threaded)
		return LW_OK;
	for (i = 0; i < q->ndom && i < 4; i++) {
		if (i > 0)
			strcat(list, ", ");
		strcat(list, q->dom[i]);
	}
	if (q->ndom > 4)
		strcat(list, ", ...");
	return findings_add(out, "BODY_QUOTED_THREAD_FOREIGN", "",
	    "sender %s quotes a thread of %s", d, list);
}

static enum lw_err
replyto_sign(const struct message *msg, struct findings *out)
{
	if (msg->reply_to.domain == NULL || msg->from.domain == NULL ||
	    domain_related(msg->reply_to.domain, msg->from.domain))
		return LW_OK;
	return findings_add(out, "HDR_REPLYTO_MISMATCH", "",
	    "Reply-To %s, From %s", msg->reply_to.addr != NULL ?
	    msg->reply_to.addr : msg->reply_to.domain, msg->from.addr);
}

/* One custom rule's matching state. */
struct rmatch {
	struct scan_ctx			*ctx;
	const struct custom_rule	*r;
	pcre2_match_context		*mc;
	pcre2_match_data		*md;
	struct findings			*out;
	bool				 done;	/* matched or gave up */
	enum lw_err			 err;
};

static void
rule_try(struct rmatch *m, const char *where, const char *s, size_t len)
{
	PCRE2_SIZE	*ov;
	size_t		 ml;
	int		 rc;

	if (m->done || s == NULL)
		return;
	rc = pcre2_match(m->r->re, (PCRE2_SPTR)s, len, 0, 0, m->md, m->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return;
	m->done = true;
	if (rc < 0) {
		/* A limit or a bad subject: evidence, never a pass. */
		PCRE2_UCHAR	msgbuf[120];

		if (pcre2_get_error_message(rc, msgbuf, sizeof(msgbuf)) < 0)
			strcpy((char *)msgbuf, "error");
		m->err = findings_add(m->out, "SCAN_ERROR", "",
		    "custom rule %s on %s: pcre2: %s", m->r->name, where,
		    (char *)msgbuf);
		return;
	}
	ov = pcre2_get_ovector_pointer(m->md);
	ml = ov[1] > ov[0] ? ov[1] - ov[0] : 0;
	if (ml > DETAIL_MATCH_BYTES)
		ml = utf8_cut(s + ov[0], DETAIL_MATCH_BYTES);
	m->err = findings_add(m->out, m->r->name, "", "%s matches \"%.*s\"",
	    where, (int)ml, s + ov[0]);
}

/* Body text of every text part, attached messages' included. */
static void
rule_body(struct rmatch *m, const struct mime_part *mp)
{
	size_t	i;

	if (mp == NULL || m->done || expired(m->ctx))
		return;
	if (mp->text != NULL && !mp->is_attachment)
		rule_try(m, "body", mp->text, mp->text_len);
	for (i = 0; i < mp->nchild; i++)
		rule_body(m, mp->child[i]);
	if (mp->inner != NULL)
		rule_body(m, mp->inner->root);
}

static enum lw_err
custom_rules(struct scan_ctx *ctx, const struct message *msg,
    const struct policy *p, struct findings *out)
{
	struct rmatch	 m;
	size_t		 i, h;
	const char	*s;
	enum lw_err	 e = LW_OK;

	if (p->nrules == 0)
		return LW_OK;
	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	m.out = out;
	if ((m.mc = pcre2_match_context_create(NULL)) == NULL)
		return LW_ENOMEM;
	pcre2_set_match_limit(m.mc, ctx != NULL && ctx->lim != NULL ?
	    ctx->lim->pcre2_match_limit : 1000000);
	pcre2_set_depth_limit(m.mc, ctx != NULL && ctx->lim != NULL ?
	    ctx->lim->pcre2_depth_limit : 10000);
	for (i = 0; i < p->nrules && e == LW_OK; i++) {
		m.r = &p->rules[i];
		if (m.r->re == NULL || m.r->name == NULL)
			continue;
		if (expired(ctx))
			break;
		/* Per call: the compiled pattern is shared by threads. */
		if ((m.md = pcre2_match_data_create_from_pattern(m.r->re,
		    NULL)) == NULL) {
			e = LW_ENOMEM;
			break;
		}
		m.done = false;
		m.err = LW_OK;
		switch (m.r->where) {
		case WHERE_SUBJECT:
			s = msg->subject;
			rule_try(&m, "subject", s, s ? strlen(s) : 0);
			break;
		case WHERE_FROM_NAME:
			s = msg->from.display;
			rule_try(&m, "from_name", s, s ? strlen(s) : 0);
			break;
		case WHERE_FROM_ADDR:
			s = msg->from.addr;
			rule_try(&m, "from_addr", s, s ? strlen(s) : 0);
			break;
		case WHERE_BODY:
			rule_body(&m, msg->root);
			break;
		case WHERE_HEADER:
			for (h = 0; h < msg->nhdrs && !m.done; h++) {
				s = msg->hdrs[h].value;
				if (m.r->header != NULL && s != NULL &&
				    msg->hdrs[h].name != NULL &&
				    lw_strcaseeq(msg->hdrs[h].name,
				    m.r->header))
					rule_try(&m, m.r->header, s,
					    strlen(s));
			}
			break;
		}
		e = m.err;
		pcre2_match_data_free(m.md);
	}
	pcre2_match_context_free(m.mc);
	return e;
}

/* A strong hijack sign in out and a payload among the content findings. */
static enum lw_err
emotet(const struct findings *content, struct findings *out)
{
	const char	*sign = NULL, *payload = NULL;
	size_t		 i, j;

	if (content == NULL)
		return LW_OK;
	for (i = 0; i < sizeof(strong_signs) / sizeof(strong_signs[0]); i++)
		if (findings_has(out, strong_signs[i])) {
			sign = strong_signs[i];
			break;
		}
	if (sign == NULL)
		return LW_OK;
	for (j = 0; j < content->n && payload == NULL; j++) {
		for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
			if (strcmp(content->v[j].rule, payloads[i]) == 0)
				payload = content->v[j].rule;
		for (i = 0; i < sizeof(payload_prefixes) /
		    sizeof(payload_prefixes[0]); i++)
			if (strncmp(content->v[j].rule, payload_prefixes[i],
			    strlen(payload_prefixes[i])) == 0)
				payload = content->v[j].rule;
	}
	if (payload == NULL)
		return LW_OK;
	return findings_add(out, "EMOTET_LURE", "", "%s with %s", sign,
	    payload);
}

enum lw_err
hijack_scan(struct scan_ctx *ctx, const struct message *msg,
    const struct policy *p, const struct findings *content,
    struct findings *out)
{
	struct quote	 q;
	unsigned	 nparts = 0;
	bool		 trust;
	enum lw_err	 e;

	if (msg == NULL || p == NULL)
		return LW_OK;
	memset(&q, 0, sizeof(q));
	trust = trusted(p, msg->from.addr);
	if (!trust) {
		if ((e = display_signs(msg, p, out)) != LW_OK)
			goto out;
		if ((e = quote_part(ctx, msg->root, &q, &nparts)) != LW_OK)
			goto out;
		if ((e = subject_signs(msg, p, &q, out)) != LW_OK)
			goto out;
		if ((e = quote_sign(msg, p, &q, out)) != LW_OK)
			goto out;
		if ((e = replyto_sign(msg, out)) != LW_OK)
			goto out;
	}
	if ((e = custom_rules(ctx, msg, p, out)) != LW_OK)
		goto out;
	if (!trust)
		e = emotet(content, out);
out:
	quote_free(&q);
	return e;
}
