/*
 * outbreak.c: the per-sender outbreak breaker (see outbreak.h): which
 * account a message counts against, whether it is lure-like, and the
 * sliding-window counts that trip a sender.
 *
 * Takes a sender key, the policy's outbound settings, whether the
 * message is lure-like and its recipients; returns the sender's state
 * after counting it.  The counts live in a store (struct
 * outbreak_store_ops): the file store is outbreak_fs.c, the trip's
 * alert outbreak_alert.c, the direction of a message outbound.c.
 *
 * Bounds are outbreak.h's.  Ignores: recipients' display names and
 * case (addresses are lowercased before hashing).
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "envelope.h"
#include "log.h"
#include "outbreak.h"
#include "outbreak_int.h"
#include "policy.h"
#include "util.h"
#include "verdict.h"

char *
outbreak_sender_key(const struct envelope *env)
{
	const char	*s = NULL;
	char		*k;

	if (env->auth_authen != NULL && *env->auth_authen != '\0')
		s = env->auth_authen;
	else if (env->mail_from != NULL && *env->mail_from != '\0')
		s = env->mail_from;
	if (s == NULL)
		return NULL;
	if ((k = lw_strndup(s, strnlen(s, OUTBREAK_SENDER_MAX))) == NULL)
		return NULL;
	lw_strlower(k);
	return k;
}

bool
outbreak_lure_like(const struct verdict *v, const char **rule)
{
	static const char *const exact[] = { "EMOTET_LURE",
	    "FILE_EXECUTABLE", "FILE_SCRIPT", "FILE_SHORTCUT",
	    "FILE_HTML_SMUGGLING", "OFFICE_REMOTE_TEMPLATE" };
	static const char *const prefix[] = { "OFFICE_VBA", "OFFICE_XLM" };
	const struct finding	*f;
	size_t			 i, j;

	if (v == NULL)
		return false;
	for (i = 0; i < v->findings.n; i++) {
		f = &v->findings.v[i];
		if (f->score <= 0)
			continue;
		for (j = 0; j < sizeof(exact) / sizeof(exact[0]); j++)
			if (strcmp(f->rule, exact[j]) == 0)
				goto found;
		for (j = 0; j < sizeof(prefix) / sizeof(prefix[0]); j++)
			if (strncmp(f->rule, prefix[j], strlen(prefix[j])) == 0)
				goto found;
	}
	return false;
found:
	if (rule != NULL)
		*rule = f->rule;
	return true;
}

/* Records */

void
outbreak_record_free(struct outbreak_record *r)
{
	if (r == NULL)
		return;
	FREE_ALL(r->sender, r->lures, r->news, r->known);
	memset(r, 0, sizeof(*r));
}

void
outbreak_records_free(struct outbreak_record *v, size_t n)
{
	FREE_EACH(v, n, outbreak_record_free);
}

static enum lw_err
outbreak_sha256(const char *s, unsigned char md[32])
{
	unsigned int	len = 32;

	return EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) == 1 ?
	    LW_OK : LW_EINTERNAL;
}

static uint64_t
rcpt_hash(const char *addr)
{
	unsigned char	 md[32];
	char		*low;
	uint64_t	 h = 0;
	size_t		 i;

	if ((low = strdup(addr)) == NULL)
		return 0;
	lw_strlower(low);
	if (outbreak_sha256(low, md) == LW_OK)
		for (i = 0; i < 8; i++)
			h = h << 8 | md[i];
	free(low);
	return h;
}

enum lw_err
outbreak_event_add(struct outbreak_event **v, size_t *n, time_t t,
    unsigned count)
{
	struct outbreak_event	*nv;

	if (*n >= OUTBREAK_EVENTS_MAX) {	/* forget the oldest */
		memmove(*v, *v + 1, (*n - 1) * sizeof(**v));
		(*n)--;
	}
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	*v = nv;
	nv[*n].t = t;
	nv[*n].n = count;
	(*n)++;
	return LW_OK;
}

/* Keep the events after since; returns their sum. */
static unsigned
events_prune(struct outbreak_event *v, size_t *n, time_t since)
{
	size_t		i, k = 0;
	unsigned	sum = 0;

	for (i = 0; i < *n; i++)
		if (v[i].t > since) {
			v[k++] = v[i];
			sum = v[i].n > UINT_MAX - sum ? UINT_MAX : sum + v[i].n;
		}
	*n = k;
	return sum;
}

static void
known_prune(struct outbreak_record *r, time_t since)
{
	size_t	i, k = 0;

	for (i = 0; i < r->nknown; i++)
		if (r->known[i].seen > since)
			r->known[k++] = r->known[i];
	r->nknown = k;
}

/* Note a recipient; true when the sender had not mailed it before. */
static enum lw_err
known_note(struct outbreak_record *r, uint64_t h, time_t now, bool *isnew)
{
	size_t	i, old = 0;

	*isnew = false;
	for (i = 0; i < r->nknown; i++)
		if (r->known[i].hash == h) {
			r->known[i].seen = now;
			return LW_OK;
		}
	*isnew = true;
	if (r->nknown >= OUTBREAK_KNOWN_MAX) {
		for (i = 1; i < r->nknown; i++)
			if (r->known[i].seen < r->known[old].seen)
				old = i;
		r->known[old].hash = h;
		r->known[old].seen = now;
		return LW_OK;
	}
	return outbreak_known_append(r, h, now);
}

enum lw_err
outbreak_known_append(struct outbreak_record *r, uint64_t h, time_t t)
{
	struct outbreak_known	*nv;

	if (r->nknown >= OUTBREAK_KNOWN_MAX)
		return LW_OK;
	if ((nv = reallocarray(r->known, r->nknown + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	r->known = nv;
	nv[r->nknown].hash = h;
	nv[r->nknown].seen = t;
	r->nknown++;
	return LW_OK;
}

void
outbreak_close(struct outbreak_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

enum lw_err
outbreak_store_new(const struct outbreak_store_ops *ops, size_t privsize,
    struct outbreak_store **out)
{
	/* One block: the handle, then (aligned) the store's own part. */
	size_t			 hsize = (sizeof(struct outbreak_store) +
	    _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	unsigned char		*p;

	if ((p = calloc(1, hsize + privsize)) == NULL)
		return LW_ENOMEM;
	*out = (struct outbreak_store *)p;
	(*out)->ops = ops;
	(*out)->priv = p + hsize;
	return LW_OK;
}

void
outbreak_store_free(struct outbreak_store *st)
{
	free(st);
}

enum lw_err
outbreak_record_begin(struct outbreak_record *r, const char *sender,
    time_t now, enum lw_err e, const char *store, const char *name)
{
	if (e == LW_EMALFORMED) {
		log_warnx("outbreak store %s: %s is damaged: starting afresh",
		    store, name);
		e = LW_ENOTFOUND;
	}
	if (e == LW_OK && strcmp(r->sender, sender) != 0) {
		outbreak_record_free(r);
		e = LW_ENOTFOUND;	/* a hash collision */
	}
	if (e == LW_ENOTFOUND) {
		memset(r, 0, sizeof(*r));
		e = (r->sender = strdup(sender)) == NULL ? LW_ENOMEM : LW_OK;
		r->last = now;
	}
	if (e != LW_OK)
		outbreak_record_free(r);
	return e;
}

/* The breaker */

static void
trip(struct outbreak_record *r, const char *reason, unsigned lures,
    unsigned news, time_t now)
{
	r->tripped = now;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	r->trip_lures = lures;
	r->trip_new_rcpts = news;
	r->held = 1;			/* the message that tripped it */
}

static void
result_from(struct outbreak_result *res, const struct outbreak_record *r,
    enum outbreak_state state)
{
	res->state = state;
	res->tripped = r->tripped;
	res->lures = r->trip_lures;
	res->new_rcpts = r->trip_new_rcpts;
	snprintf(res->reason, sizeof(res->reason), "%s", r->reason);
}

enum lw_err
outbreak_account(struct outbreak_store *st, const char *sender,
    const struct outbound_policy *pol, bool lure, char *const *rcpts,
    size_t nrcpts, time_t now, struct outbreak_result *res)
{
	struct outbreak_record	 r;
	unsigned		 lures, news, here = 0;
	bool			 isnew;
	size_t			 i;
	enum lw_err		 e;

	memset(res, 0, sizeof(*res));
	if ((e = st->ops->begin(st, sender, now, &r)) != LW_OK)
		return e;
	if (r.tripped != 0) {
		r.held = r.held < UINT_MAX ? r.held + 1 : r.held;
		r.last = now;
		result_from(res, &r, OB_TRIPPED);
		goto commit;
	}
	lures = events_prune(r.lures, &r.nlures, now - (time_t)pol->window);
	news = events_prune(r.news, &r.nnews, now - (time_t)pol->window);
	known_prune(&r, now - OUTBREAK_RETENTION);
	for (i = 0; i < nrcpts; i++) {
		if ((e = known_note(&r, rcpt_hash(rcpts[i]), now, &isnew)) !=
		    LW_OK)
			goto abort;
		here += isnew;
	}
	if (here > 0 && pol->max_new_rcpts > 0) {
		if ((e = outbreak_event_add(&r.news, &r.nnews, now, here)) != LW_OK)
			goto abort;
		news = here > UINT_MAX - news ? UINT_MAX : news + here;
	}
	if (lure && pol->max_lures > 0) {
		if ((e = outbreak_event_add(&r.lures, &r.nlures, now, 1)) != LW_OK)
			goto abort;
		lures++;
	}
	r.last = now;
	res->state = OB_FLOWING;
	res->lures = lures;
	res->new_rcpts = news;
	if (pol->max_lures > 0 && lures >= pol->max_lures)
		trip(&r, "lures", lures, news, now);
	else if (pol->max_new_rcpts > 0 && news >= pol->max_new_rcpts)
		trip(&r, "new_rcpts", lures, news, now);
	if (r.tripped != 0)
		result_from(res, &r, OB_TRIPPED_NOW);
commit:
	res->new_here = here;
	e = st->ops->commit(st, &r, res->state == OB_TRIPPED_NOW);
	outbreak_record_free(&r);
	return e;
abort:
	st->ops->abort(st);
	outbreak_record_free(&r);
	return e;
}

enum lw_err
outbreak_clear(struct outbreak_store *st, const char *sender, time_t now,
    bool *found)
{
	struct outbreak_record	 r;
	enum lw_err		 e;

	if ((e = st->ops->begin(st, sender, now, &r)) != LW_OK)
		return e;
	if (found != NULL)
		*found = r.tripped != 0;
	if (r.tripped == 0) {
		st->ops->abort(st);
		outbreak_record_free(&r);
		return LW_OK;
	}
	r.tripped = 0;
	r.reason[0] = '\0';
	r.trip_lures = r.trip_new_rcpts = 0;
	r.held = 0;
	r.nlures = r.nnews = 0;
	e = st->ops->commit(st, &r, true);
	outbreak_record_free(&r);
	return e;
}

/* Most recently active first, then by sender: one order for every store. */
static int
rec_cmp(const void *a, const void *b)
{
	const struct outbreak_record	*x = a, *y = b;

	if (x->last != y->last)
		return x->last < y->last ? 1 : -1;
	return strcmp(x->sender, y->sender);
}

enum lw_err
outbreak_list(struct outbreak_store *st, time_t now,
    struct outbreak_record **v, size_t *n)
{
	enum lw_err	e;

	*v = NULL;
	*n = 0;
	if ((e = st->ops->list(st, now, v, n)) == LW_OK && *n > 1)
		qsort(*v, *n, sizeof(**v), rec_cmp);
	return e;
}
