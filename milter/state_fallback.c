/*
 * state_fallback.c: a shared state (Redis) with a local one (LMDB)
 * behind it, so a host keeps working when the server is away (issue
 * 17 "Faults").
 *
 * Every call goes to the primary; when it fails with LW_EIO (the
 * server is unreachable or the connection broke: state_redis.c fails
 * fast during its backoff), the same call goes to the local state, and
 * the switch is logged at most once a minute.  So counters and claims
 * carry on on this host alone meanwhile: a sender's lures still trip the
 * breaker, counted by this host only.  What the local state learnt is
 * not copied back when the server returns; the shared counts resume
 * from what the server holds.  Other errors (a refused key, a full
 * database) are answers, not outages, and pass through unchanged.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "state.h"

struct fallback {
	struct state	*primary;
	struct state	*local;
	pthread_mutex_t	 mu;
	time_t		 logged;
};

static void
degraded(struct fallback *f, const char *what)
{
	if (state_log_due(&f->mu, &f->logged))
		log_warnx("state: %s unavailable: %s on the local %s state "
		    "until it is back", state_name(f->primary), what,
		    state_name(f->local));
}

#define FORWARD(what, call)						\
	do {								\
		struct fallback	*f = st->priv;				\
		enum lw_err	 e;					\
									\
		st = f->primary;					\
		if ((e = (call)) != LW_EIO)				\
			return e;					\
		degraded(f, what);					\
		st = f->local;						\
		return (call);						\
	} while (0)

static enum lw_err
fb_get(struct state *st, const char *key, time_t now, struct state_val *v)
{
	FORWARD("reading", state_get(st, key, now, v));
}

static enum lw_err
fb_put(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	FORWARD("writing", state_put(st, key, val, len, expires, now));
}

static enum lw_err
fb_add(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	FORWARD("claiming", state_add(st, key, val, len, expires, now));
}

static enum lw_err
fb_del(struct state *st, const char *key)
{
	FORWARD("deleting", state_del(st, key));
}

static enum lw_err
fb_take(struct state *st, const char *key, time_t now, struct state_val *v)
{
	FORWARD("taking", state_take(st, key, now, v));
}

static enum lw_err
fb_incr(struct state *st, const char *key, int64_t delta, time_t expires,
    time_t now, int64_t *out)
{
	FORWARD("counting", state_incr(st, key, delta, expires, now, out));
}

static enum lw_err
fb_update(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	FORWARD("writing", state_update(st, key, now, fn, arg));
}

static enum lw_err
fb_update_many(struct state *st, const char *const *keys, size_t n,
    time_t now, state_update_many_fn fn, void *arg)
{
	FORWARD("writing", state_update_many(st, keys, n, now, fn, arg));
}

static enum lw_err
fb_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	FORWARD("listing", state_each(st, prefix, now, fn, arg));
}

static enum lw_err
fb_push(struct state *st, const char *key, const void *val, size_t len,
    size_t max_items, time_t expires, time_t now)
{
	FORWARD("queueing", state_push(st, key, val, len, max_items, expires,
	    now));
}

static enum lw_err
fb_pop(struct state *st, const char *key, time_t now, struct state_val *v)
{
	FORWARD("dequeueing", state_pop(st, key, now, v));
}

static enum lw_err
fb_pop_wait(struct state *st, const char *key, unsigned wait_ms,
    struct state_val *v)
{
	FORWARD("dequeueing", state_pop_wait(st, key, wait_ms, v));
}

/* Sweep both: the local state only holds what an outage left. */
static enum lw_err
fb_sweep(struct state *st, time_t now, size_t *removed)
{
	struct fallback	*f = st->priv;
	size_t		 n = 0;
	enum lw_err	 e;

	e = state_sweep(f->primary, now, removed);
	if (state_sweep(f->local, now, &n) == LW_OK)
		*removed += n;
	return e;
}

static void
fb_health(struct state *st, time_t now, state_health_fn fn, void *arg)
{
	struct fallback	*f = st->priv;

	state_health(f->primary, now, fn, arg);
	state_health(f->local, now, fn, arg);
}

static void
fb_close(struct state *st)
{
	struct fallback	*f = st->priv;

	state_close(f->primary);
	state_close(f->local);
	pthread_mutex_destroy(&f->mu);
	state_free(st);
}

static enum lw_err
fb_lock_get(struct state *st, const char *key, const char *lk,
    time_t lock_exp, time_t lock_now, time_t now, struct state_val *v,
    enum lw_err *got)
{
	FORWARD("locking", state_part_lock_get(st, key, lk, lock_exp,
	    lock_now, now, v, got));
}

static enum lw_err
fb_put_unlock(struct state *st, const char *key, const char *lk,
    const void *val, size_t len, time_t expires, time_t now, bool lazy)
{
	FORWARD("writing", state_part_put_unlock(st, key, lk, val, len,
	    expires, now, lazy));
}

static const struct state_ops fallback_ops = {
	.name = "redis+local",
	.get = fb_get,
	.put = fb_put,
	.add = fb_add,
	.del = fb_del,
	.take = fb_take,
	.incr = fb_incr,
	.update = fb_update,
	.update_many = fb_update_many,
	.each = fb_each,
	.push = fb_push,
	.pop = fb_pop,
	.pop_wait = fb_pop_wait,
	.sweep = fb_sweep,
	.close = fb_close,
	.health = fb_health,
	.lock_get = fb_lock_get,
	.put_unlock = fb_put_unlock,
};

enum lw_err
state_fallback_open(struct state *primary, struct state *local,
    struct state **out)
{
	struct state	*st;
	struct fallback	*f;

	if (state_new(&fallback_ops, sizeof(*f), primary->readonly ||
	    local->readonly, &st) != LW_OK)
		return LW_ENOMEM;
	f = st->priv;
	f->primary = primary;
	f->local = local;
	pthread_mutex_init(&f->mu, NULL);
	st->shared = primary->shared;
	*out = st;
	return LW_OK;
}
