/*
 * learn_rec.c: the learner's keys and the text form of its records.
 *
 * A key is "learn:ORG:L:HEX": ORG the organisation (a policy name,
 * [A-Za-z0-9._-] kept, anything else '_', at most LEARN_ORG_MAX
 * bytes), L the record's letter (learn_int.h), HEX 128 bits of the
 * SHA-256 of the address, domain, name key or Message-ID, so attacker
 * text never names a key.  A value is lines, each a letter, a space and
 * its field:
 *
 *   k TEXT          what the key hashes (address, domain, name key;
 *                   a thread: the hex id itself)
 *   f T / l T       first and last seen (Unix seconds)
 *   o N / i N       outbound messages, inbound replies
 *   s HEX / a HEX   thread: subject hash, sending account hash
 *   m               subject index: entries were dropped
 *   e N T TEXT      an item: count, last seen, text to the line's end
 *
 * Unknown lines are skipped (a newer lurewall may add some); a value
 * without a k line, or over LEARN_RECORD_MAX, is damaged and reads as
 * absent.  Item text never holds a newline (stored as a space).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/evp.h>

#include "learn_int.h"
#include "util.h"

static const char kind_letters[LEARN_KINDS] = {
	L_ACCOUNT, L_CORR, L_DOMAIN, L_THREAD
};

void
learn_org_key(const char *org, char out[LEARN_ORG_MAX + 1])
{
	size_t	i;

	if (org == NULL || *org == '\0')
		org = "default";
	for (i = 0; org[i] != '\0' && i < LEARN_ORG_MAX; i++)
		out[i] = isalnum((unsigned char)org[i]) || org[i] == '.' ||
		    org[i] == '-' || org[i] == '_' ? org[i] : '_';
	out[i] = '\0';
}

/*
 * SHA-256 fetched once: SHA256() and EVP_sha256() look the algorithm
 * up in the provider tables at each call (some 2,500 of the 6,300
 * instructions a short key cost), and a message hashes some 16 keys.
 * Kept for the process's life.
 */
static EVP_MD		*sha256_md;
static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;

/*
 * The digests of recent short texts.  Most of a message's keys were
 * hashed moments ago: its account, the account's domain and names,
 * the domains of its correspondents; a digest is some 3,900
 * instructions, a hit a hundred or so.  Direct-mapped by FNV-1a, each
 * slot under one of HASH_LOCKS mutexes (the daemon's message threads
 * and its learner hash at once); bounded: HASH_SLOTS texts of fewer
 * than HASH_TEXT bytes, about 550 KiB, longer ones are not kept.
 */
#define HASH_SLOTS	4096
#define HASH_TEXT	96
#define HASH_LOCKS	64

struct hash_slot {
	uint32_t	 len;		/* 0: empty */
	char		 text[HASH_TEXT];
	char		 hex[LEARN_HASH_HEX + 1];
};

static struct hash_slot	 hash_cache[HASH_SLOTS];
static pthread_mutex_t	 hash_mu[HASH_LOCKS];

static void
sha256_fetch(void)
{
	size_t	i;

	for (i = 0; i < HASH_LOCKS; i++)
		pthread_mutex_init(&hash_mu[i], NULL);
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static size_t
hash_slot_of(const unsigned char *p, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32)) & (HASH_SLOTS - 1);
}

/* Every learned key hashes its text: one digest, no printf per byte. */
enum lw_err
learn_hash(const void *p, size_t len, char hex[LEARN_HASH_HEX + 1])
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	struct hash_slot	*hs = NULL;
	pthread_mutex_t		*mu = NULL;
	size_t			 i, slot;
	bool			 hit = false;

	(void)pthread_once(&sha256_once, sha256_fetch);
	if (len > 0 && len < HASH_TEXT) {
		slot = hash_slot_of(p, len);
		hs = &hash_cache[slot];
		mu = &hash_mu[slot % HASH_LOCKS];
		pthread_mutex_lock(mu);
		if (hs->len == len && memcmp(hs->text, p, len) == 0) {
			memcpy(hex, hs->hex, LEARN_HASH_HEX + 1);
			hit = true;
		}
		pthread_mutex_unlock(mu);
		if (hit)
			return LW_OK;
	}
	if (sha256_md == NULL || EVP_Digest(p, len, md, NULL, sha256_md,
	    NULL) != 1)
		return LW_EINTERNAL;
	for (i = 0; i < LEARN_HASH_HEX / 2; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[LEARN_HASH_HEX] = '\0';
	if (hs != NULL) {
		pthread_mutex_lock(mu);
		hs->len = (uint32_t)len;
		memcpy(hs->text, p, len);
		memcpy(hs->hex, hex, LEARN_HASH_HEX + 1);
		pthread_mutex_unlock(mu);
	}
	return LW_OK;
}

size_t
learn_key_head(const char *org, char out[LEARN_KEY_BYTES])
{
	size_t	n = strlen(LEARN_PREFIX), i;

	if (org == NULL || *org == '\0')
		org = "default";
	memcpy(out, LEARN_PREFIX, n);
	/* As learn_org_key, written in place. */
	for (i = 0; org[i] != '\0' && i < LEARN_ORG_MAX; i++)
		out[n++] = isalnum((unsigned char)org[i]) || org[i] == '.' ||
		    org[i] == '-' || org[i] == '_' ? org[i] : '_';
	out[n++] = ':';
	out[n] = '\0';
	return n;
}

/*
 * Built by hand: a message computes some 18 keys and snprintf cost
 * each about 1,000 instructions, a quarter of its digest.
 */
enum lw_err
learn_key(const char *org, char letter, const char *text,
    char key[LEARN_KEY_BYTES])
{
	size_t		n;
	enum lw_err	e;

	n = learn_key_head(org, key);
	key[n++] = letter;
	if (letter == L_META) {
		key[n] = '\0';
		return LW_OK;
	}
	key[n++] = ':';
	/* A thread's text is a hash already. */
	if (letter == L_THREAD && strlen(text) == LEARN_HASH_HEX)
		memcpy(key + n, text, LEARN_HASH_HEX + 1);
	else if ((e = learn_hash(text, strlen(text), key + n)) != LW_OK)
		return e;
	return LW_OK;
}

void
learn_prefix(const char *org, char letter, char out[LEARN_KEY_BYTES])
{
	char	o[LEARN_ORG_MAX + 1];

	if (org == NULL) {
		snprintf(out, LEARN_KEY_BYTES, LEARN_PREFIX);
		return;
	}
	learn_org_key(org, o);
	if (letter == '\0')
		snprintf(out, LEARN_KEY_BYTES, LEARN_PREFIX "%s:", o);
	else
		snprintf(out, LEARN_KEY_BYTES, LEARN_PREFIX "%s:%c:", o,
		    letter);
}

void
learn_count_key(const char *org, char letter, char out[LEARN_KEY_BYTES])
{
	char	o[LEARN_ORG_MAX + 1];

	learn_org_key(org, o);
	snprintf(out, LEARN_KEY_BYTES, LEARN_PREFIX "%s:#%c", o, letter);
}

bool
learn_key_parse(const char *key, char org[LEARN_ORG_MAX + 1], char *letter)
{
	const char	*p, *colon;
	size_t		 n;

	if (strncmp(key, LEARN_PREFIX, strlen(LEARN_PREFIX)) != 0)
		return false;
	p = key + strlen(LEARN_PREFIX);
	if ((colon = strchr(p, ':')) == NULL ||
	    (n = (size_t)(colon - p)) == 0 || n > LEARN_ORG_MAX)
		return false;
	memcpy(org, p, n);
	org[n] = '\0';
	*letter = colon[1];
	return *letter != '\0' && (colon[2] == ':' || (colon[2] == '\0' &&
	    *letter == L_META));
}

enum learn_kind
learn_letter_kind(char letter)
{
	size_t	i;

	for (i = 0; i < LEARN_KINDS; i++)
		if (kind_letters[i] == letter)
			return (enum learn_kind)i;
	return LEARN_KINDS;
}

char
learn_kind_letter(enum learn_kind k)
{
	return k < LEARN_KINDS ? kind_letters[k] : '\0';
}

const char *
learn_kind_name(enum learn_kind k)
{
	switch (k) {
	case LEARN_ACCOUNT:		return "account";
	case LEARN_CORRESPONDENT:	return "correspondent";
	case LEARN_DOMAIN:		return "domain";
	case LEARN_THREAD:		return "thread";
	case LEARN_KINDS:		break;
	}
	return "?";
}

static void
item_clear(struct learn_item *it)
{
	free(it->text);
}

void
learn_items_free(struct learn_item *v, size_t n)
{
	FREE_EACH(v, n, item_clear);
}

void
learn_record_free(struct learn_record *r)
{
	if (r == NULL)
		return;
	learn_items_free(r->items, r->nitems);
	free(r->key);
	r->items = NULL;
	r->nitems = 0;
	r->key = NULL;
}

void
learn_rec_free(struct lrec *lr)
{
	learn_record_free(&lr->r);
}

/*
 * The parser reads the value in place, line by line (s, n: one line
 * without its newline): no copy of the value, numbers by hand.
 */

/* Digits at s[0..n): a count or a time, at most INT64_MAX. */
static bool
parse_u64(const char *s, size_t n, uint64_t *out, size_t *used)
{
	uint64_t	v = 0;
	size_t		i;

	if (n == 0 || s[0] < '0' || s[0] > '9')
		return false;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		/* Counts and times both fit a time_t: a bigger one is damage. */
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	if (used != NULL)
		*used = i;
	return true;
}

/* Room for one more item: the array doubles (at 1, 2, 4, ...). */
static bool
item_room(struct lrec *lr)
{
	struct learn_item	*nv;
	size_t			 n = lr->r.nitems;

	if (n != 0 && (n & (n - 1)) != 0)
		return true;		/* not a power of two: room left */
	if ((nv = reallocarray(lr->r.items, n ? 2 * n : 1, sizeof(*nv))) ==
	    NULL)
		return false;
	lr->r.items = nv;
	return true;
}

/* "COUNT LAST TEXT" */
static bool
parse_item(struct lrec *lr, const char *s, size_t n)
{
	struct learn_item	*it;
	uint64_t		 count, last;
	size_t			 u, i;

	if (!parse_u64(s, n, &count, &u) || (i = u) == n || s[i++] != ' ' ||
	    !parse_u64(s + i, n - i, &last, &u) || (i += u) == n ||
	    s[i++] != ' ')
		return false;
	if (!item_room(lr))
		return false;
	it = &lr->r.items[lr->r.nitems];
	if ((it->text = strndup(s + i, n - i)) == NULL)
		return false;
	it->count = count;
	it->last = (time_t)last;
	lr->r.nitems++;
	return true;
}

static bool
parse_line(struct lrec *lr, const char *s, size_t n)
{
	uint64_t	 v;
	size_t		 len;
	char		*to;

	if (n == 1 && s[0] == 'm') {
		lr->many = true;
		return true;
	}
	if (n < 2 || s[1] != ' ')
		return true;
	switch (s[0]) {
	case 'k':
		free(lr->r.key);
		return (lr->r.key = strndup(s + 2, n - 2)) != NULL;
	case 'f':
	case 'l':
	case 'o':
	case 'i':
		if (!parse_u64(s + 2, n - 2, &v, NULL))
			return false;
		if (s[0] == 'f')
			lr->r.first = (time_t)v;
		else if (s[0] == 'l')
			lr->r.last = (time_t)v;
		else if (s[0] == 'o')
			lr->r.out = v;
		else
			lr->r.in = v;
		return true;
	case 's':
	case 'a':
		/* A hash: what is longer is cut. */
		to = s[0] == 's' ? lr->r.subject : lr->r.account;
		len = n - 2 < LEARN_HASH_HEX ? n - 2 : LEARN_HASH_HEX;
		memcpy(to, s + 2, len);
		to[len] = '\0';
		return true;
	case 'e':
		return parse_item(lr, s + 2, n - 2);
	}
	return true;
}

bool
learn_rec_parse(const struct state_val *v, struct lrec *lr)
{
	const char	*p = (const char *)v->data, *end, *nl;
	bool		 good = true;

	memset(lr, 0, sizeof(*lr));
	if (v->len > LEARN_RECORD_MAX || memchr(v->data, '\0', v->len) !=
	    NULL)
		return false;
	end = p + v->len;
	while (good && p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		good = parse_line(lr, p, (size_t)(nl - p));
		p = nl < end ? nl + 1 : end;
	}
	if (!good || lr->r.key == NULL) {
		learn_rec_free(lr);
		return false;
	}
	return true;
}

/*
 * The record's text, built in one buffer: open_memstream and fprintf
 * cost more than the rest of a write (glibc's stream zeroes a BUFSIZ
 * buffer per record).
 */
struct wbuf {
	char		*p;
	size_t		 len, cap;
	bool		 failed;
};

static void
wb_need(struct wbuf *w, size_t n)
{
	size_t	 cap;
	char	*np;

	if (w->failed || n <= w->cap - w->len)	/* invariant: len <= cap */
		return;
	cap = w->cap ? w->cap : 256;
	while (n > cap - w->len)
		cap *= 2;
	if ((np = realloc(w->p, cap)) == NULL) {
		w->failed = true;
		return;
	}
	w->p = np;
	w->cap = cap;
}

static void
wb_put(struct wbuf *w, const char *s, size_t n)
{
	wb_need(w, n);
	if (w->failed)
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* "C " and v in decimal (a time_t as %lld, a count as PRIu64). */
static void
wb_num(struct wbuf *w, char c, bool neg, uint64_t v)
{
	char	d[24], *q = d + sizeof(d);

	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--q = '-';
	if (c != '\0') {
		*--q = ' ';
		*--q = c;
	}
	wb_put(w, q, (size_t)(d + sizeof(d) - q));
}

static void
wb_time(struct wbuf *w, char c, time_t t)
{
	long long	v = (long long)t;

	wb_num(w, c, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

static void
wb_line(struct wbuf *w, char c, const char *s)
{
	char	h[2] = { c, ' ' };

	wb_put(w, h, 2);
	wb_put(w, s, strlen(s));
	wb_put(w, "\n", 1);
}

enum lw_err
learn_rec_write(const struct lrec *lr, struct state_val *out)
{
	struct wbuf	 w = { NULL, 0, 0, false };
	const char	*t;
	size_t		 i, n;

	memset(out, 0, sizeof(*out));
	wb_line(&w, 'k', lr->r.key != NULL ? lr->r.key : "");
	wb_time(&w, 'f', lr->r.first);
	wb_put(&w, "\n", 1);
	wb_time(&w, 'l', lr->r.last);
	wb_put(&w, "\n", 1);
	wb_num(&w, 'o', false, lr->r.out);
	wb_put(&w, "\n", 1);
	wb_num(&w, 'i', false, lr->r.in);
	wb_put(&w, "\n", 1);
	if (lr->r.subject[0] != '\0')
		wb_line(&w, 's', lr->r.subject);
	if (lr->r.account[0] != '\0')
		wb_line(&w, 'a', lr->r.account);
	if (lr->many)
		wb_put(&w, "m\n", 2);
	for (i = 0; i < lr->r.nitems; i++) {
		wb_num(&w, 'e', false, lr->r.items[i].count);
		wb_put(&w, " ", 1);
		wb_time(&w, '\0', lr->r.items[i].last);
		wb_put(&w, " ", 1);
		/* A newline in the text would start a line: a space. */
		t = lr->r.items[i].text;
		n = strlen(t);
		wb_need(&w, n + 1);
		if (w.failed)
			break;
		for (; *t != '\0'; t++)
			w.p[w.len++] = *t == '\n' || *t == '\r' ? ' ' : *t;
		w.p[w.len++] = '\n';
	}
	/* state_val's data is NUL-terminated beyond len. */
	wb_need(&w, 1);
	if (w.failed) {
		free(w.p);
		return LW_ENOMEM;
	}
	w.p[w.len] = '\0';
	out->data = (unsigned char *)w.p;
	out->len = w.len;
	return LW_OK;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct learn_item	*x = a, *y = b;
	int			 c;

	if ((c = learn_cmp_desc((uint64_t)x->last, (uint64_t)y->last)) == 0)
		c = learn_cmp_desc(x->count, y->count);
	return c != 0 ? c : strcmp(x->text, y->text);
}

enum lw_err
learn_items_merge(struct lrec *lr, const struct learn_item *v, size_t n,
    size_t max)
{
	struct learn_item	*nv;
	size_t			 i, k;

	for (k = 0; k < n; k++) {
		for (i = 0; i < lr->r.nitems; i++)
			if (strcmp(lr->r.items[i].text, v[k].text) == 0)
				break;
		if (i == lr->r.nitems) {
			if ((nv = reallocarray(lr->r.items, lr->r.nitems + 1,
			    sizeof(*nv))) == NULL)
				return LW_ENOMEM;
			lr->r.items = nv;
			if ((nv[i].text = strdup(v[k].text)) == NULL)
				return LW_ENOMEM;
			nv[i].count = 0;
			nv[i].last = 0;
			lr->r.nitems++;
		}
		lr->r.items[i].count += v[k].count;
		if (v[k].last > lr->r.items[i].last)
			lr->r.items[i].last = v[k].last;
	}
	if (lr->r.nitems > 1)
		qsort(lr->r.items, lr->r.nitems, sizeof(*lr->r.items),
		    item_cmp);
	while (lr->r.nitems > max) {
		free(lr->r.items[--lr->r.nitems].text);
		lr->many = true;
	}
	return LW_OK;
}

size_t
learn_item_drop(struct lrec *lr, bool (*pred)(const char *, const void *),
    const void *arg)
{
	size_t	i, j, gone = 0;

	for (i = j = 0; i < lr->r.nitems; i++) {
		if (pred(lr->r.items[i].text, arg)) {
			free(lr->r.items[i].text);
			gone++;
		} else
			lr->r.items[j++] = lr->r.items[i];
	}
	lr->r.nitems = j;
	return gone;
}

bool
learn_subdomain(const char *d, const char *parent)
{
	return lw_domain_below(d, parent);
}

bool
learn_related(const char *a, const char *b)
{
	return learn_subdomain(a, b) || learn_subdomain(b, a);
}

char *
learn_addr_norm(const char *addr)
{
	const char	*at;
	char		*s, *p;
	size_t		 len;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL ||
	    at == addr || at[1] == '\0' || (len = strlen(addr)) > 320)
		return NULL;
	if ((s = strdup(addr)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>') {
			free(s);
			return NULL;
		}
		*p = (char)tolower((unsigned char)*p);
	}
	return s;
}

const char *
learn_addr_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL ? at + 1 : addr;
}

size_t
learn_ids(const char *value, char (*hex)[LEARN_HASH_HEX + 1], size_t max)
{
	const char	*lt[64], *gt[64], *p;
	size_t		 n = 0, i, out = 0;

	if (value == NULL)
		return 0;
	/* Keep the last 64 ids: the newest are at the end. */
	for (p = value; (p = strchr(p, '<')) != NULL; ) {
		const char *close = strchr(p, '>');

		if (close == NULL)
			break;
		if (close - p > 1 && close - p < 1000) {
			if (n == 64) {
				memmove(lt, lt + 1, sizeof(lt[0]) * 63);
				memmove(gt, gt + 1, sizeof(gt[0]) * 63);
				n--;
			}
			lt[n] = p + 1;
			gt[n] = close;
			n++;
		}
		p = close + 1;
	}
	for (i = n; i > 0 && out < max; i--)
		if (learn_hash(lt[i - 1], (size_t)(gt[i - 1] - lt[i - 1]),
		    hex[out]) == LW_OK)
			out++;
	return out;
}

enum lw_err
learn_read(struct learn *l, const char *key, time_t now, struct lrec *out)
{
	struct state_val	v;
	enum lw_err		e;
	bool			good;

	memset(out, 0, sizeof(*out));
	if ((e = state_get(l->st, key, now, &v)) != LW_OK)
		return e;
	good = learn_rec_parse(&v, out);
	state_val_free(&v);
	return good ? LW_OK : LW_ENOTFOUND;
}
