/*
 * state.c: the state interface's front: argument checks, the choice of
 * backend, and what the backends share (key checks, the list encoding).
 * The backends live in state_lmdb.c, state_redis.c and state_files.c;
 * see state.h for what every call promises.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "state.h"
#include "util.h"

void
state_config_init(struct state_config *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = STATE_LMDB;
	c->map_size = STATE_MAP_SIZE_DEFAULT;
	c->redis.port = 6379;
	c->redis.timeout_ms = STATE_REDIS_TIMEOUT_MS;
	c->redis.pending_bytes = STATE_SHARE_DEFAULT;
}

void
state_config_free(struct state_config *c)
{
	FREE_ALL(c->path, c->owner_of, c->host_name);
	state_redis_config_free(&c->redis);
	state_config_init(c);
}

void
state_redis_config_free(struct state_redis_config *c)
{
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	FREE_ALL(c->host, c->socket, c->username, c->password,
	    c->password_file, c->key_prefix);
}

static const char *const backend_names[] = {
	[STATE_LMDB] = "lmdb",
	[STATE_REDIS] = "redis",
	[STATE_FILES] = "files",
};

bool
state_backend_parse(const char *s, enum state_backend *out)
{
	size_t	i;

	for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (strcmp(s, backend_names[i]) == 0) {
			*out = (enum state_backend)i;
			return true;
		}
	return false;
}

const char *
state_backend_name(enum state_backend b)
{
	if ((size_t)b >= sizeof(backend_names) / sizeof(backend_names[0]))
		return "?";
	return backend_names[b];
}

enum lw_err
state_open(const struct state_config *c, bool readonly, struct state **out)
{
	*out = NULL;
	switch (c->backend) {
	case STATE_LMDB:
		return state_lmdb_open(c, readonly, out);
	case STATE_REDIS:
		return state_redis_open(c, readonly, out);
	case STATE_FILES:
		return state_files_open(c, readonly, out);
	}
	return LW_EINVAL;
}

enum lw_err
state_open_daemon(const struct state_config *c, struct state **out)
{
	struct state_config	 lc;
	struct state		*shared, *local;
	enum lw_err		 e;

	if (c->backend != STATE_REDIS)
		return state_open(c, false, out);
	if ((e = state_redis_open(c, false, &shared)) != LW_OK)
		return e;
	/* The local one: LMDB in path, whatever the redis block says. */
	state_config_init(&lc);
	lc.path = c->path;
	lc.owner_of = c->owner_of;
	lc.map_size = c->map_size;
	if ((e = state_lmdb_open(&lc, false, &local)) != LW_OK) {
		log_warnx("state %s: no local state for when redis is away "
		    "(%s): such decisions take on_error", c->path,
		    lw_strerror(e));
		*out = shared;
		return LW_OK;
	}
	if ((e = state_fallback_open(shared, local, out)) != LW_OK) {
		state_close(local);
		state_close(shared);
	}
	return e;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	if (st->dirlock != NULL) {
		state_dirlock_drop(st->dirlock);
		state_dirlock_free(st->dirlock);
	}
	st->ops->close(st);
}

enum lw_err
state_new(const struct state_ops *ops, size_t privsize, bool readonly,
    struct state **out)
{
	struct state	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->priv = calloc(1, privsize)) == NULL) {
		free(st);
		return LW_ENOMEM;
	}
	st->ops = ops;
	st->readonly = readonly;
	*out = st;
	return LW_OK;
}

void
state_free(struct state *st)
{
	free(st->priv);
	free(st);
}

/*
 * Made by root (the CLI): give path to the owner of owner_of (the
 * quarantine directory, the daemon's user's), else of its parent.
 */
void
state_give_dir_away(const char *path, const char *owner_of)
{
	struct stat	 sb;
	char		*parent, *slash;

	if (geteuid() != 0)
		return;
	if (owner_of != NULL && stat(owner_of, &sb) == 0) {
		if (sb.st_uid != 0)
			(void)chown(path, sb.st_uid, sb.st_gid);
		return;
	}
	if ((parent = strdup(path)) == NULL)
		return;
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
		*slash = '\0';
	else if (slash == NULL)
		strcpy(parent, ".");
	if (stat(parent, &sb) == 0 && sb.st_uid != 0)
		(void)chown(path, sb.st_uid, sb.st_gid);
	free(parent);
}

enum lw_err
state_dir_prepare(const char *path, const char *owner_of, bool readonly,
    struct stat *sb)
{
	if (path == NULL || *path == '\0')
		return LW_EINVAL;
	if (!readonly && mkdir(path, 0700) == 0)
		state_give_dir_away(path, owner_of);
	if (stat(path, sb) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	if (!S_ISDIR(sb->st_mode)) {
		errno = ENOTDIR;
		return LW_EIO;
	}
	return LW_OK;
}

const char *
state_name(const struct state *st)
{
	return st->ops->name;
}

void
state_val_free(struct state_val *v)
{
	if (v == NULL)
		return;
	free(v->data);
	memset(v, 0, sizeof(*v));
}

bool
state_key_ok(const char *key)
{
	size_t	len;

	if (key == NULL)
		return false;
	len = strlen(key);
	return len > 0 && len <= STATE_KEY_MAX;
}

bool
state_host_ok(const char *s)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 || n > STATE_HOST_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") == n;
}

bool
state_shared(const struct state *st)
{
	return st != NULL && st->shared;
}

bool
state_log_due(pthread_mutex_t *mu, time_t *last)
{
	time_t	now = time(NULL);
	bool	due;

	pthread_mutex_lock(mu);
	if ((due = now - *last >= 60))
		*last = now;
	pthread_mutex_unlock(mu);
	return due;
}

bool
state_expired(time_t expires, time_t now)
{
	return expires != 0 && expires <= now;
}

/* Writes refused on a read-only state, bad keys refused everywhere. */
static enum lw_err
check(const struct state *st, const char *key, bool write)
{
	if (!state_key_ok(key))
		return LW_EINVAL;
	if (write && st->readonly) {
		errno = EROFS;
		return LW_EINVAL;
	}
	return LW_OK;
}


/*
 * What a backend answered, for the metrics: a failure that is not an
 * answer (unreachable, full, out of memory, damaged) is counted as
 * lurewall_state_errors_total{backend, kind}.  A state made of others
 * (ops->health set: the fallback) is not tallied; its parts are.
 */
static enum lw_err
tally(struct state *st, enum lw_err e)
{
	const char	*kind;

	switch (e) {
	case LW_EIO:
		kind = "io";
		break;
	case LW_ELIMIT:
		kind = "limit";
		break;
	case LW_ENOMEM:
		kind = "nomem";
		break;
	case LW_EMALFORMED:
		kind = "malformed";
		break;
	case LW_ETIMEOUT:
		kind = "timeout";
		break;
	case LW_EINTERNAL:
		kind = "internal";
		break;
	default:
		return e;
	}
	if (st->ops->health == NULL)
		metrics_state_error(st->ops->name, kind);
	return e;
}

void
state_health(struct state *st, time_t now, state_health_fn fn, void *arg)
{
	struct state_val	v;
	enum lw_err		e;

	if (st->ops->health != NULL) {
		st->ops->health(st, now, fn, arg);
		return;
	}
	/*
	 * Any answer but "unreachable" (LW_EIO) means it is up.  Not
	 * tallied: a scrape of a server that is away is not an error more.
	 */
	memset(&v, 0, sizeof(v));
	e = st->ops->get(st, STATE_HEALTH_KEY, now, &v);
	state_val_free(&v);
	fn(arg, st->ops->name, e != LW_EIO);
}

/*
 * ---- the simple operations on top of update ----
 *
 * A backend that can lock one key for a read-modify-write (lmdb: a
 * write transaction; files: flock) leaves put, add, del, take, incr,
 * push and pop NULL in its ops, and gets them from here.
 */

struct gen {
	const void	*val;
	size_t		 len;
	size_t		 max_items;
	time_t		 expires;
	int64_t		 delta;
	int64_t		 result;
	bool		 must_be_absent;
	bool		 found;
	struct state_val *taken;
};

static enum lw_err
copy_val(const void *p, size_t len, time_t expires, struct state_val *out)
{
	if ((out->data = malloc(len + 1)) == NULL)
		return LW_ENOMEM;
	if (len > 0)
		memcpy(out->data, p, len);
	out->data[len] = '\0';
	out->len = len;
	out->expires = expires;
	return LW_OK;
}

static enum lw_err
gen_put(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct gen	*g = arg;

	if (g->must_be_absent && old != NULL)
		return LW_EEXIST;
	*what = STATE_WRITE;
	return copy_val(g->val, g->len, g->expires, out);
}

static enum lw_err
gen_del(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct gen	*g = arg;

	if (old == NULL)
		return LW_ENOTFOUND;
	g->found = true;
	if (g->taken != NULL) {
		state_val_free(g->taken);
		if (copy_val(old->data, old->len, old->expires, g->taken) !=
		    LW_OK)
			return LW_ENOMEM;
	}
	*what = STATE_DELETE;
	return LW_OK;
}

/* A counter is its decimal value; anything else counts as 0. */
static int64_t
counter_value(const struct state_val *v)
{
	char		*end;
	long long	 n;

	if (v == NULL || v->len == 0 || v->len > 20)
		return 0;
	errno = 0;
	n = strtoll((const char *)v->data, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return n;
}

static enum lw_err
gen_incr(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct gen	*g = arg;
	char		 buf[32];
	int64_t		 n = counter_value(old);

	if ((g->delta > 0 && n > INT64_MAX - g->delta) ||
	    (g->delta < 0 && n < INT64_MIN - g->delta))
		return LW_ELIMIT;
	g->result = n + g->delta;
	snprintf(buf, sizeof(buf), "%lld", (long long)g->result);
	*what = STATE_WRITE;
	return copy_val(buf, strlen(buf), old != NULL ? old->expires :
	    g->expires, out);
}

static enum lw_err
gen_push(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct gen	*g = arg;
	enum lw_err	 e;

	if ((e = state_list_push(old, g->val, g->len, g->max_items, out)) !=
	    LW_OK)
		return e;
	out->expires = g->expires;
	*what = STATE_WRITE;
	return LW_OK;
}

static enum lw_err
gen_pop(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct gen	*g = arg;
	struct state_val item;
	enum lw_err	 e;

	if (old == NULL)
		return LW_ENOTFOUND;
	if ((e = state_list_pop(old, &item, out)) != LW_OK)
		return e;
	state_val_free(g->taken);
	*g->taken = item;
	*what = out->len == 0 ? STATE_DELETE : STATE_WRITE;
	return LW_OK;
}

static enum lw_err
gen_run(struct state *st, const char *key, time_t now, state_update_fn fn,
    struct gen *g)
{
	return tally(st, st->ops->update(st, key, now, fn, g));
}

static enum lw_err
do_del(struct state *st, const char *key)
{
	struct gen	g = { .taken = NULL };

	if (st->ops->del != NULL)
		return tally(st, st->ops->del(st, key));
	/* now = 0: an expired key is still there to remove. */
	return gen_run(st, key, 0, gen_del, &g);
}

enum lw_err
state_get(struct state *st, const char *key, time_t now,
    struct state_val *v)
{
	enum lw_err	e;

	memset(v, 0, sizeof(*v));
	if ((e = check(st, key, false)) != LW_OK)
		return e;
	return tally(st, st->ops->get(st, key, now, v));
}

/* What every write checks: key, read-only, value size, a live expiry. */
static enum lw_err
check_write(const struct state *st, const char *key, size_t len,
    time_t expires, time_t now)
{
	enum lw_err	e;

	if ((e = check(st, key, true)) != LW_OK)
		return e;
	if (len > STATE_VALUE_MAX)
		return LW_ELIMIT;
	if (state_expired(expires, now))
		return LW_EINVAL;
	return LW_OK;
}

/* put, or add (the claim: only when absent). */
static enum lw_err
do_store(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now, bool add)
{
	enum lw_err	(*op)(struct state *, const char *, const void *,
			    size_t, time_t, time_t);
	struct gen	g = { .val = val, .len = len, .expires = expires,
			    .must_be_absent = add };

	op = add ? st->ops->add : st->ops->put;
	if (op == NULL)
		return gen_run(st, key, now, gen_put, &g);
	return tally(st, op(st, key, val, len, expires, now));
}

/* take (the whole value), or pop (a list's oldest item). */
static enum lw_err
do_take(struct state *st, const char *key, time_t now, struct state_val *v,
    bool pop)
{
	enum lw_err	(*op)(struct state *, const char *, time_t,
			    struct state_val *);
	struct gen	g = { .taken = v };
	enum lw_err	e;

	memset(v, 0, sizeof(*v));
	if ((e = check(st, key, true)) != LW_OK)
		return e;
	op = pop ? st->ops->pop : st->ops->take;
	if (op != NULL)
		return tally(st, op(st, key, now, v));
	if ((e = gen_run(st, key, now, pop ? gen_pop : gen_del, &g)) != LW_OK)
		state_val_free(v);
	return e;
}

enum lw_err
state_put(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	enum lw_err	e;

	if ((e = check_write(st, key, len, 0, now)) != LW_OK)
		return e;
	if (state_expired(expires, now)) {
		e = do_del(st, key);
		return e == LW_ENOTFOUND ? LW_OK : e;
	}
	return do_store(st, key, val, len, expires, now, false);
}

enum lw_err
state_put_lazy(struct state *st, const char *key, const void *val,
    size_t len, time_t expires, time_t now)
{
	struct gen	g = { .val = val, .len = len, .expires = expires };
	enum lw_err	e;

	if (st->ops->update_lazy == NULL || state_expired(expires, now))
		return state_put(st, key, val, len, expires, now);
	if ((e = check_write(st, key, len, 0, now)) != LW_OK)
		return e;
	return tally(st, st->ops->update_lazy(st, key, now, gen_put, &g));
}

enum lw_err
state_sync(struct state *st)
{
	if (st->readonly || st->ops->sync == NULL)
		return LW_OK;
	return tally(st, st->ops->sync(st));
}

enum lw_err
state_add(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	enum lw_err	e;

	if ((e = check_write(st, key, len, expires, now)) != LW_OK)
		return e;
	return do_store(st, key, val, len, expires, now, true);
}

enum lw_err
state_del(struct state *st, const char *key)
{
	enum lw_err	e;

	if ((e = check(st, key, true)) != LW_OK)
		return e;
	return do_del(st, key);
}

enum lw_err
state_take(struct state *st, const char *key, time_t now,
    struct state_val *v)
{
	return do_take(st, key, now, v, false);
}

enum lw_err
state_incr(struct state *st, const char *key, int64_t delta,
    time_t expires, time_t now, int64_t *out)
{
	struct gen	g = { .delta = delta, .expires = expires };
	int64_t		dummy;
	enum lw_err	e;

	if ((e = check_write(st, key, 0, expires, now)) != LW_OK)
		return e;
	if (st->ops->incr != NULL)
		return tally(st, st->ops->incr(st, key, delta, expires,
		    now, out != NULL ? out : &dummy));
	if ((e = gen_run(st, key, now, gen_incr, &g)) == LW_OK && out != NULL)
		*out = g.result;
	return e;
}

enum lw_err
state_update(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	enum lw_err	e;

	if ((e = check(st, key, true)) != LW_OK)
		return e;
	return tally(st, st->ops->update(st, key, now, fn, arg));
}

enum lw_err
state_many_step(void *arg, const struct state_val *old,
    struct state_val *out, enum state_verdict *what)
{
	struct state_many	*m = arg;

	return m->fn(m->arg, m->i, old, out, what);
}

enum lw_err
state_update_many(struct state *st, const char *const *keys, size_t n,
    time_t now, state_update_many_fn fn, void *arg)
{
	struct state_many	 m = { fn, arg, 0 };
	enum lw_err		 e;

	for (m.i = 0; m.i < n; m.i++)
		if ((e = check(st, keys[m.i], true)) != LW_OK)
			return e;
	if (st->ops->update_many != NULL)
		return tally(st, st->ops->update_many(st, keys, n, now, fn,
		    arg));
	for (m.i = 0; m.i < n; m.i++)
		if ((e = st->ops->update(st, keys[m.i], now, state_many_step,
		    &m)) != LW_OK)
			return tally(st, e);
	return LW_OK;
}

enum lw_err
state_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	if (prefix == NULL || strlen(prefix) > STATE_KEY_MAX)
		return LW_EINVAL;
	return tally(st, st->ops->each(st, prefix, now, fn, arg));
}

enum lw_err
state_push(struct state *st, const char *key, const void *val, size_t len,
    size_t max_items, time_t expires, time_t now)
{
	struct gen	g = { .val = val, .len = len, .expires = expires };
	enum lw_err	e;

	if ((e = check_write(st, key, len, expires, now)) != LW_OK)
		return e;
	if (max_items == 0 || max_items > STATE_LIST_MAX)
		max_items = STATE_LIST_MAX;
	if (st->ops->push != NULL)
		return tally(st, st->ops->push(st, key, val, len,
		    max_items, expires, now));
	g.max_items = max_items;
	return gen_run(st, key, now, gen_push, &g);
}

enum lw_err
state_pop_wait(struct state *st, const char *key, unsigned wait_ms,
    struct state_val *v)
{
	struct timespec	nap;
	unsigned	waited = 0, step;
	enum lw_err	e;

	if (wait_ms > STATE_POP_WAIT_MAX)
		wait_ms = STATE_POP_WAIT_MAX;
	if (st->ops->pop_wait != NULL && wait_ms > 0) {
		memset(v, 0, sizeof(*v));
		if ((e = check(st, key, true)) != LW_OK)
			return e;
		return tally(st, st->ops->pop_wait(st, key, wait_ms, v));
	}
	for (;;) {
		e = state_pop(st, key, time(NULL), v);
		if (e != LW_ENOTFOUND || waited >= wait_ms)
			return e;
		step = wait_ms - waited < STATE_POP_POLL_MS ? wait_ms - waited :
		    STATE_POP_POLL_MS;
		nap.tv_sec = 0;
		nap.tv_nsec = (long)step * 1000000;
		while (nanosleep(&nap, &nap) == -1 && errno == EINTR)
			;
		waited += step;
	}
}

enum lw_err
state_pop(struct state *st, const char *key, time_t now,
    struct state_val *v)
{
	return do_take(st, key, now, v, true);
}

enum lw_err
state_sweep(struct state *st, time_t now, size_t *removed)
{
	size_t	dummy;

	if (st->readonly)
		return LW_EINVAL;
	return tally(st, st->ops->sweep(st, now, removed != NULL ? removed :
	    &dummy));
}

/* ---- locks ---- */

#define LOCK_KEY_PREFIX	"lock:"

/* key's claim key "lock:KEY" into lk; false when too long. */
static bool
lock_key(const char *key, char lk[STATE_KEY_MAX + 8])
{
	return snprintf(lk, STATE_KEY_MAX + 8, LOCK_KEY_PREFIX "%s", key) <=
	    STATE_KEY_MAX;
}

/*
 * One try at claiming lk (real time lock_now), and when v is not NULL
 * at reading key too (its result in *got): LW_EEXIST while lk is held.
 */
static enum lw_err
claim_once(struct state *st, const char *key, const char *lk,
    time_t lock_now, time_t now, struct state_val *v, enum lw_err *got)
{
	time_t		exp = lock_now + STATE_LOCK_TTL;
	enum lw_err	e;

	if (v == NULL || st->ops->lock_get == NULL) {
		if ((e = state_add(st, lk, "1", 1, exp, lock_now)) == LW_OK &&
		    v != NULL)
			*got = state_get(st, key, now, v);
		return e;
	}
	if ((e = check(st, lk, true)) != LW_OK ||
	    (e = check(st, key, false)) != LW_OK)
		return e;
	memset(v, 0, sizeof(*v));
	e = tally(st, st->ops->lock_get(st, key, lk, exp, lock_now, now, v,
	    got));
	if (e == LW_OK && *got != LW_ENOTFOUND)
		*got = tally(st, *got);
	return e;
}

/* state_lock, and state_lock_get when v is not NULL. */
static enum lw_err
lock_wait(struct state *st, const char *key, unsigned wait_secs,
    time_t now, struct state_val *v, enum lw_err *got)
{
	char		 lk[STATE_KEY_MAX + 8];
	time_t		 start = time(NULL), rnow;
	useconds_t	 pause = 1000;
	enum lw_err	 e;

	if (!state_key_ok(key))
		return LW_EINVAL;
	if (st->dirlock != NULL) {
		if ((e = state_dirlock_take(st->dirlock, wait_secs)) == LW_OK &&
		    v != NULL)
			*got = state_get(st, key, now, v);
		return e;
	}
	if (!lock_key(key, lk))
		return LW_EINVAL;
	/* Real time: a lock's expiry has nothing to do with injected now. */
	for (;;) {
		rnow = time(NULL);
		e = claim_once(st, key, lk, rnow, now, v, got);
		if (e != LW_EEXIST)
			return e;
		if (rnow - start >= (time_t)wait_secs) {
			log_warnx("state: %s still held after %u s", lk,
			    wait_secs);
			errno = EAGAIN;
			return LW_EIO;
		}
		usleep(pause);
		if (pause < 50000)
			pause *= 2;
	}
}

enum lw_err
state_lock(struct state *st, const char *key, unsigned wait_secs)
{
	return lock_wait(st, key, wait_secs, 0, NULL, NULL);
}

enum lw_err
state_lock_get(struct state *st, const char *key, unsigned wait_secs,
    time_t now, struct state_val *v, enum lw_err *got)
{
	memset(v, 0, sizeof(*v));
	*got = LW_ENOTFOUND;
	return lock_wait(st, key, wait_secs, now, v, got);
}

void
state_unlock(struct state *st, const char *key)
{
	char	lk[STATE_KEY_MAX + 8];

	if (st->dirlock != NULL) {
		state_dirlock_drop(st->dirlock);
		return;
	}
	if (lock_key(key, lk))
		(void)state_del(st, lk);
}

/* The write of state_put_unlock, as the separate calls do it. */
static enum lw_err
put_plain(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now, bool lazy)
{
	enum lw_err	e;

	if (val == NULL) {
		e = state_del(st, key);
		return e == LW_ENOTFOUND ? LW_OK : e;
	}
	return lazy ? state_put_lazy(st, key, val, len, expires, now) :
	    state_put(st, key, val, len, expires, now);
}

enum lw_err
state_put_unlock(struct state *st, const char *key, const void *val,
    size_t len, time_t expires, time_t now, bool lazy)
{
	char		lk[STATE_KEY_MAX + 8];
	enum lw_err	e;

	if (st->dirlock != NULL || st->ops->put_unlock == NULL ||
	    !lock_key(key, lk)) {
		e = put_plain(st, key, val, len, expires, now, lazy);
		state_unlock(st, key);
		return e;
	}
	if ((e = check_write(st, key, len, 0, now)) != LW_OK ||
	    (e = check(st, lk, true)) != LW_OK) {
		state_unlock(st, key);
		return e;
	}
	if (val != NULL && state_expired(expires, now))
		val = NULL;
	return tally(st, st->ops->put_unlock(st, key, lk, val, len, expires,
	    now, lazy));
}

/*
 * For a state made of others (the fallback): one try of each step on
 * a part, through its claim key whatever its own locks are (the whole
 * holds the claim, not the part).
 */
enum lw_err
state_part_lock_get(struct state *st, const char *key, const char *lk,
    time_t lock_exp, time_t lock_now, time_t now, struct state_val *v,
    enum lw_err *got)
{
	(void)lock_exp;
	return claim_once(st, key, lk, lock_now, now, v, got);
}

enum lw_err
state_part_put_unlock(struct state *st, const char *key, const char *lk,
    const void *val, size_t len, time_t expires, time_t now, bool lazy)
{
	enum lw_err	e;

	if (st->ops->put_unlock != NULL)
		return tally(st, st->ops->put_unlock(st, key, lk, val, len,
		    expires, now, lazy));
	e = put_plain(st, key, val, len, expires, now, lazy);
	(void)state_del(st, lk);
	return e;
}

enum lw_err
state_dirlock_init(struct state_dirlock *l, const char *dir, uid_t uid,
    gid_t gid)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->uid = uid;
	l->gid = gid;
	if (lw_asprintf(&l->path, "%s/lock", dir) != LW_OK)
		return LW_ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	return LW_OK;
}

void
state_dirlock_free(struct state_dirlock *l)
{
	if (l->path == NULL)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l->path);
	l->path = NULL;
}

/* Threads of one process exclude each other by the mutex, processes by flock. */
enum lw_err
state_dirlock_take(struct state_dirlock *l, unsigned wait_secs)
{
	pthread_mutex_lock(&l->mu);
	if (lw_lock_file(l->path, l->uid, l->gid, wait_secs, &l->fd) !=
	    LW_OK) {
		log_warn("state: %s", l->path);
		pthread_mutex_unlock(&l->mu);
		return LW_EIO;
	}
	return LW_OK;
}

void
state_dirlock_drop(struct state_dirlock *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);			/* drops the flock */
	l->fd = -1;
	pthread_mutex_unlock(&l->mu);
}

/* ---- the list encoding (lmdb and files) ---- */

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Count the items of a list value; false when it does not parse. */
static bool
list_scan(const struct state_val *v, size_t *n)
{
	size_t		off = 0;
	uint32_t	l;

	*n = 0;
	while (off < v->len) {
		if (v->len - off < 4)
			return false;
		l = get32(v->data + off);
		off += 4;
		if (l > v->len - off)
			return false;
		off += l;
		(*n)++;
	}
	return true;
}

enum lw_err
state_list_push(const struct state_val *old, const void *val, size_t len,
    size_t max_items, struct state_val *out)
{
	size_t		 n = 0, off = 0, keep;
	unsigned char	*p;

	memset(out, 0, sizeof(*out));
	if (len > UINT32_MAX)
		return LW_ELIMIT;
	if (old != NULL && !list_scan(old, &n))
		n = 0, old = NULL;	/* damaged: start afresh */
	/* Drop the oldest so that n + 1 <= max_items. */
	while (n + 1 > max_items && n > 0) {
		off += 4 + get32(old->data + off);
		n--;
	}
	keep = old != NULL ? old->len - off : 0;
	if (len + 4 > STATE_VALUE_MAX || keep > STATE_VALUE_MAX - len - 4)
		return LW_ELIMIT;
	if ((p = malloc(keep + 4 + len + 1)) == NULL)
		return LW_ENOMEM;
	if (keep > 0)
		memcpy(p, old->data + off, keep);
	p[keep] = (unsigned char)(len >> 24);
	p[keep + 1] = (unsigned char)(len >> 16);
	p[keep + 2] = (unsigned char)(len >> 8);
	p[keep + 3] = (unsigned char)len;
	if (len > 0)
		memcpy(p + keep + 4, val, len);
	p[keep + 4 + len] = '\0';
	out->data = p;
	out->len = keep + 4 + len;
	return LW_OK;
}

enum lw_err
state_list_pop(const struct state_val *old, struct state_val *item,
    struct state_val *rest)
{
	size_t		n;
	uint32_t	l;

	memset(item, 0, sizeof(*item));
	memset(rest, 0, sizeof(*rest));
	if (old->len == 0 || !list_scan(old, &n) || n == 0)
		return LW_ENOTFOUND;
	l = get32(old->data);
	if ((item->data = malloc((size_t)l + 1)) == NULL)
		return LW_ENOMEM;
	memcpy(item->data, old->data + 4, l);
	item->data[l] = '\0';
	item->len = l;
	rest->len = old->len - 4 - l;
	if ((rest->data = malloc(rest->len + 1)) == NULL) {
		state_val_free(item);
		return LW_ENOMEM;
	}
	memcpy(rest->data, old->data + 4 + l, rest->len);
	rest->data[rest->len] = '\0';
	rest->expires = old->expires;
	return LW_OK;
}
