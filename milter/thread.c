/*
 * thread.c: the thread a message belongs to, from its headers and its
 * quote.
 *
 * Takes the parsed message.  List traffic: List-Id and List-Post both
 * present (RFC 2919, RFC 2369), the List-Post mailto: address kept; or
 * ezmlm's "Mailing-List: list ADDR" (Yahoo Groups and others).
 * Outlook: a Thread-Index header (Outlook's replies carry it and often
 * no In-Reply-To).  Our own thread: a Message-ID in In-Reply-To or
 * References whose domain the caller calls ours.  A quote naming a
 * recipient: in the text parts (not attached messages), a line that
 * introduces a quote ("On ..., X <x@d> wrote:" in the usual languages)
 * or a quoted From: line names an address of this message's To or Cc.
 *
 * Bounds: THREAD_PARTS text parts, THREAD_TEXT_BYTES of each, lines cut
 * at THREAD_LINE_BYTES, THREAD_RCPTS To/Cc addresses, THREAD_IDS
 * Message-IDs.  Ignores: Sender:, the order of the References, quotes
 * inside attached messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "lurewall.h"
#include "mime.h"
#include "analyzer.h"
#include "hijack_int.h"
#include "thread.h"

#define THREAD_PARTS		32
#define THREAD_TEXT_BYTES	(256 * 1024)
#define THREAD_LINE_BYTES	1024
#define THREAD_RCPTS		64
#define THREAD_IDS		64

/* How a line that introduces a quote ends. */
static const char *const wrote[] = {
	"wrote:", "writes:", "schrieb:", "a écrit :", "a écrit:",
	"escribió:", "ha scritto:", "schreef:", "napisał(a):", "napisał:",
	"skrev:", "kirjoitti:", "yazdı:", "написал:", "написал(а):",
	"έγραψε:", "のメッセージ:", "書きました:", "写道:", "寫道:",
	"escreveu:",
};

/* Quoted header keys that name the quoted message's author. */
static const char *const from_keys[] = {
	"from:", "von:", "de:", "da:", "van:", "od:", "från:", "fra:",
	"lähettäjä:", "kimden:", "от:", "差出人:", "送信者:", "发件人:",
	"寄件者:", "差出人 :", "from :", "de :",
};

/*
 * The next address in s[*pos..len), lowercased: hijack_quote.c's
 * scanner (this file is part of the hijack stage).
 */
static bool
next_addr(const char *s, size_t len, size_t *pos, char *out)
{
	char	dom[DOMAIN_MAX + 1];

	if (!hijack_next_addr(s, len, pos, out, dom))
		return false;
	lw_strlower(out);
	return true;
}

struct rcpts {
	char	*v[THREAD_RCPTS];
	size_t	 n;
};

static void
rcpts_add(struct rcpts *r, const char *hdr)
{
	char	 a[THREAD_ADDR_MAX + 1];
	size_t	 pos = 0, len;

	if (hdr == NULL)
		return;
	len = strlen(hdr);
	while (r->n < THREAD_RCPTS && next_addr(hdr, len, &pos, a))
		if ((r->v[r->n] = strdup(a)) != NULL)
			r->n++;
}

static bool
rcpt_named(const struct rcpts *r, const char *line, size_t len)
{
	char	 a[THREAD_ADDR_MAX + 1];
	size_t	 pos = 0, i;

	while (next_addr(line, len, &pos, a))
		for (i = 0; i < r->n; i++)
			if (strcmp(a, r->v[i]) == 0)
				return true;
	return false;
}

/* Does the line (quote markers stripped) introduce a quoted message? */
static bool
attribution(const char *s, size_t n)
{
	size_t	 i, m;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return false;
	/* Every wrote[] ends with a colon: most lines end otherwise. */
	for (i = 0; s[n - 1] == ':' &&
	    i < sizeof(wrote) / sizeof(wrote[0]); i++) {
		m = strlen(wrote[i]);
		if (n >= m && strncasecmp(s + n - m, wrote[i], m) == 0)
			return true;
	}
	for (i = 0; i < sizeof(from_keys) / sizeof(from_keys[0]); i++) {
		m = strlen(from_keys[i]);
		if (n >= m && ascii_lower((unsigned char)s[0]) ==
		    (unsigned char)from_keys[i][0] &&
		    strncasecmp(s, from_keys[i], m) == 0)
			return true;
	}
	return false;
}

struct walk {
	struct scan_ctx		*ctx;
	const struct rcpts	*r;
	unsigned		 nparts;
	bool			 hit;
};

static void
scan_text(struct walk *w, const char *t, size_t len)
{
	const char	*p = t, *end, *nl, *s;
	size_t		 n, prev_n = 0;
	const char	*prev = NULL;

	if (len > THREAD_TEXT_BYTES)
		len = THREAD_TEXT_BYTES;
	end = t + len;
	for (; p < end && !w->hit; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > THREAD_LINE_BYTES)
			n = THREAD_LINE_BYTES;
		for (s = p; s < p + n && (*s == '>' || *s == ' ' ||
		    *s == '\t'); s++)
			;
		n -= (size_t)(s - p);
		/* "On ..., X <x@d>\n wrote:": the address on the line before. */
		if (attribution(s, n) && (rcpt_named(w->r, s, n) ||
		    (prev != NULL && rcpt_named(w->r, prev, prev_n))))
			w->hit = true;
		prev = s;
		prev_n = n;
	}
}

static void
walk_part(struct walk *w, const struct mime_part *mp)
{
	size_t	i;

	if (mp == NULL || w->hit || w->nparts >= THREAD_PARTS ||
	    (w->ctx != NULL && scan_expired(w->ctx)))
		return;
	if (mp->text != NULL) {
		w->nparts++;
		scan_text(w, mp->text, mp->text_len);
	}
	/* Not mp->inner: an attached message is no quote of this thread. */
	for (i = 0; i < mp->nchild; i++)
		walk_part(w, mp->child[i]);
}

/* Every <id@domain> of a Message-ID list: one of ours? */
static bool
ids_ours(const char *v, thread_ours_fn ours, const void *arg)
{
	const char	*p = v, *at, *gt;
	char		 dom[256];
	size_t		 n, k = 0;

	while (p != NULL && k++ < THREAD_IDS &&
	    (p = strchr(p, '<')) != NULL) {
		if ((gt = strchr(p, '>')) == NULL)
			break;
		at = memchr(p, '@', (size_t)(gt - p));
		if (at != NULL && (n = (size_t)(gt - at - 1)) > 0 &&
		    n < sizeof(dom)) {
			memcpy(dom, at + 1, n);
			dom[n] = '\0';
			for (size_t i = 0; i < n; i++)
				if (dom[i] >= 'A' && dom[i] <= 'Z')
					dom[i] += 32;
			if (ours(dom, arg))
				return true;
		}
		p = gt + 1;
	}
	return false;
}

enum lw_err
thread_info(struct scan_ctx *ctx, const struct message *msg,
    thread_ours_fn ours, const void *arg, struct thread_info *ti)
{
	struct rcpts	 r;
	struct walk	 w;
	const char	*lp, *v;
	size_t		 pos = 0, i;

	memset(ti, 0, sizeof(*ti));
	if (msg == NULL)
		return LW_OK;
	lp = mime_header(msg, "List-Post");
	ti->list = mime_header(msg, "List-Id") != NULL && lp != NULL;
	if (ti->list && (v = strcasestr(lp, "mailto:")) != NULL)
		(void)next_addr(v, strlen(v), &pos, ti->list_post);
	/* ezmlm and its kin: "Mailing-List: list dev@example.org; ...". */
	if (!ti->list && (v = mime_header(msg, "Mailing-List")) != NULL &&
	    strncasecmp(v + strspn(v, " \t"), "list ", 5) == 0) {
		v += strspn(v, " \t") + 5;
		ti->list = next_addr(v, strcspn(v, ";"), &pos, ti->list_post);
	}
	ti->outlook = mime_header(msg, "Thread-Index") != NULL;
	ti->refs_ours = (msg->in_reply_to != NULL &&
	    ids_ours(msg->in_reply_to, ours, arg)) ||
	    (msg->references != NULL && ids_ours(msg->references, ours, arg));

	memset(&r, 0, sizeof(r));
	rcpts_add(&r, mime_header(msg, "To"));
	rcpts_add(&r, mime_header(msg, "Cc"));
	if (r.n > 0) {
		memset(&w, 0, sizeof(w));
		w.ctx = ctx;
		w.r = &r;
		walk_part(&w, msg->root);
		ti->quotes_rcpt = w.hit;
	}
	for (i = 0; i < r.n; i++)
		free(r.v[i]);
	return LW_OK;
}

bool
thread_genuine(const struct thread_info *ti)
{
	return (ti->refs_ours || ti->outlook) && ti->quotes_rcpt;
}

bool
thread_list_address(const struct thread_info *ti, const char *addr)
{
	const char	*at, *lat;
	size_t		 dl, ll;

	if (!ti->list || ti->list_post[0] == '\0' || addr == NULL)
		return false;
	if (strcasecmp(addr, ti->list_post) == 0)
		return true;
	/* iiu@taint.org for a list posting to iiu@iiu.taint.org. */
	if ((at = strrchr(addr, '@')) == NULL ||
	    (lat = strrchr(ti->list_post, '@')) == NULL)
		return false;
	at++;
	lat++;
	dl = strlen(at);
	ll = strlen(lat);
	return strcasecmp(at, lat) == 0 ||
	    (ll > dl && lat[ll - dl - 1] == '.' &&
	    strcasecmp(lat + ll - dl, at) == 0) ||
	    (dl > ll && at[dl - ll - 1] == '.' &&
	    strcasecmp(at + dl - ll, lat) == 0);
}
