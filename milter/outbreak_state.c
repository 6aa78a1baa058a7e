/*
 * outbreak_state.c: the outbreak breaker's store on the state
 * (state.h), so the counts live in the embedded database by default and
 * on a shared Redis when several hosts send through lurewall: an
 * infected PC that spreads its lures over two submission hosts trips
 * the breaker as fast as over one.
 *
 * One key per sender, "outbreak:HEX" (HEX: the SHA-256 of the sender
 * key, so attacker text never names a key), holding the record in the
 * file store's text form (outbreak_record_write).  A transaction
 * (begin ... commit or abort) holds state_lock on that key (every
 * thread, process and host that shares the state waits for it), so two
 * messages of one sender never lose a count: LMDB and files lock a
 * file (nothing written, no fsync), Redis adds the claim
 * "lock:outbreak:HEX", which expires after STATE_LOCK_TTL seconds so
 * a crashed holder blocks nobody for long.  The lock and the read go
 * together (state_lock_get), and so do the write and the release
 * (state_put_unlock): on Redis two round trips per message.  A waiter
 * gives up after LOCK_WAIT_SECS (LW_EIO: the caller's on_error).  A record expires
 * OUTBREAK_RETENTION after its sender's last message unless tripped:
 * the state drops quiet senders itself.  Counting is a lazy write
 * (state_put_lazy: on LMDB no fsync per message, on disk within a
 * second); a trip and a clear are durable before the call returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "outbreak.h"
#include "state.h"
#include "util.h"

#define LOCK_WAIT_SECS	5
#define KEY_PREFIX	STATE_NS_COUNTS		/* "outbreak:" */
#define MIGRATED_KEY	"migrated:outbreak:"	/* + host name */

struct sstore {
	struct state	*st;
	char		 key[sizeof(KEY_PREFIX) + 64];
	bool		 locked;
	bool		 readonly;	/* no claim, commit writes nothing */
};

static enum lw_err
keys_for(struct sstore *ss, const char *sender)
{
	char	hex[65];

	if (lw_sha256_hex(sender, strlen(sender), hex) != LW_OK)
		return LW_EINTERNAL;
	snprintf(ss->key, sizeof(ss->key), KEY_PREFIX "%s", hex);
	return LW_OK;
}

/* Parse a stored value into r; false when damaged. */
static bool
val_record(const struct state_val *v, struct outbreak_record *r)
{
	return outbreak_record_parse((char *)v->data, v->len, r);
}

/*
 * Take the sender's lock and read its record into v (the read's result
 * in *got): on Redis one round trip.
 */
static enum lw_err
lock_get(struct sstore *ss, time_t now, struct state_val *v,
    enum lw_err *got)
{
	enum lw_err	e;

	if ((e = state_lock_get(ss->st, ss->key, LOCK_WAIT_SECS, now, v,
	    got)) == LW_OK)
		ss->locked = true;
	return e;
}

static void
lock_drop(struct sstore *ss)
{
	if (!ss->locked)
		return;
	state_unlock(ss->st, ss->key);
	ss->locked = false;
}

static enum lw_err
ss_begin(struct outbreak_store *os, const char *sender, time_t now,
    struct outbreak_record *r)
{
	struct sstore		*ss = os->priv;
	struct state_val	 v;
	enum lw_err		 e, got;

	memset(r, 0, sizeof(*r));
	if ((e = keys_for(ss, sender)) != LW_OK)
		return e;
	if (ss->readonly)
		got = state_get(ss->st, ss->key, now, &v);
	else if ((e = lock_get(ss, now, &v, &got)) != LW_OK)
		return e;
	if ((e = got) == LW_OK) {
		if (!val_record(&v, r))
			e = LW_EMALFORMED;
		state_val_free(&v);
	}
	if ((e = outbreak_record_begin(r, sender, now, e,
	    state_name(ss->st), ss->key)) != LW_OK)
		lock_drop(ss);
	return e;
}

static void
ss_abort(struct outbreak_store *os)
{
	lock_drop(os->priv);
}

/*
 * Write the record (an empty one: remove it) and drop the lock in one
 * step: on Redis one MULTI ... EXEC.
 */
static enum lw_err
put_unlock(struct sstore *ss, const void *buf, size_t len, time_t exp,
    time_t now, bool durable)
{
	enum lw_err	e;

	if (!ss->locked && buf == NULL) {
		e = state_del(ss->st, ss->key);
		return e == LW_ENOTFOUND ? LW_OK : e;
	}
	if (!ss->locked)
		return durable ? state_put(ss->st, ss->key, buf, len, exp,
		    now) : state_put_lazy(ss->st, ss->key, buf, len, exp, now);
	ss->locked = false;
	return state_put_unlock(ss->st, ss->key, buf, len, exp, now,
	    !durable);
}

static enum lw_err
ss_commit(struct outbreak_store *os, const struct outbreak_record *r,
    bool durable)
{
	struct sstore	*ss = os->priv;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f;
	time_t		 exp;
	enum lw_err	 e;

	if (ss->readonly)
		return LW_OK;
	if (outbreak_record_empty(r))
		return put_unlock(ss, NULL, 0, 0, r->last, true);
	if ((f = open_memstream(&buf, &len)) == NULL) {
		lock_drop(ss);
		return LW_ENOMEM;
	}
	outbreak_record_write(f, r);
	if (fclose(f) != 0) {
		free(buf);
		lock_drop(ss);
		return LW_ENOMEM;
	}
	/*
	 * A trip or a clear (durable) is on disk when this returns; a
	 * count may reach it up to STATE_LAZY_MS later (state_put_lazy:
	 * only a system crash loses it).  A tripped sender never expires.
	 */
	exp = r->tripped != 0 ? 0 : r->last + OUTBREAK_RETENTION;
	e = put_unlock(ss, buf, len, exp, r->last, durable);
	free(buf);
	return e;
}

struct collect {
	struct outbreak_record	*v;
	size_t			 n;
};

static enum lw_err
collect_one(void *arg, const char *key, const struct state_val *v)
{
	struct collect		*c = arg;
	struct outbreak_record	 r, *nv;

	if (!val_record(v, &r))
		return LW_OK;		/* damaged: skip */
	if ((nv = reallocarray(c->v, c->n + 1, sizeof(*nv))) == NULL) {
		outbreak_record_free(&r);
		return LW_ENOMEM;
	}
	c->v = nv;
	c->v[c->n++] = r;
	return LW_OK;
}

static enum lw_err
ss_list(struct outbreak_store *os, time_t now, struct outbreak_record **vp,
    size_t *np)
{
	struct sstore	*ss = os->priv;
	struct collect	 c = { NULL, 0 };
	enum lw_err	 e;

	if ((e = state_each(ss->st, KEY_PREFIX, now, collect_one, &c)) !=
	    LW_OK) {
		outbreak_records_free(c.v, c.n);
		return e;
	}
	*vp = c.v;
	*np = c.n;
	return LW_OK;
}

static void
ss_close(struct outbreak_store *os)
{
	lock_drop(os->priv);
	outbreak_store_free(os);
}

static const struct outbreak_store_ops sstore_ops = {
	"state", ss_begin, ss_commit, ss_abort, ss_list, ss_close
};

enum lw_err
outbreak_state_open_ro(struct state *st, struct outbreak_store **out)
{
	enum lw_err	e;

	if ((e = outbreak_state_open(st, out)) == LW_OK)
		((struct sstore *)(*out)->priv)->readonly = true;
	return e;
}

enum lw_err
outbreak_state_open(struct state *st, struct outbreak_store **out)
{
	struct outbreak_store	*os;

	if (outbreak_store_new(&sstore_ops, sizeof(struct sstore), &os) !=
	    LW_OK)
		return LW_ENOMEM;
	((struct sstore *)os->priv)->st = st;
	*out = os;
	return LW_OK;
}

enum lw_err
outbreak_migrate(const char *dir, struct state *st, size_t *moved)
{
	struct outbreak_store	*fs, *ss;
	struct outbreak_record	*v = NULL, r;
	struct state_val	 mark;
	char			 host[256], key[sizeof(MIGRATED_KEY) + 256];
	time_t			 now = time(NULL);
	size_t			 n = 0, i, dummy;
	enum lw_err		 e;

	if (moved == NULL)
		moved = &dummy;
	*moved = 0;
	/* Per host: every host sharing a Redis brings its own records. */
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(key, sizeof(key), MIGRATED_KEY "%s", host);
	if ((e = state_get(st, key, now, &mark)) == LW_OK) {
		state_val_free(&mark);
		return LW_OK;
	}
	if (e != LW_ENOTFOUND)
		return e;
	if (access(dir, F_OK) == 0) {
		if ((e = outbreak_file_open(dir, &fs)) != LW_OK)
			return e;
		e = outbreak_list(fs, now, &v, &n);
		outbreak_close(fs);
		if (e != LW_OK)
			return e;
		if ((e = outbreak_state_open(st, &ss)) != LW_OK) {
			outbreak_records_free(v, n);
			return e;
		}
		for (i = 0; i < n && e == LW_OK; i++) {
			/* Keep whatever the state learnt since. */
			if ((e = ss->ops->begin(ss, v[i].sender, now, &r)) !=
			    LW_OK)
				break;
			if (!outbreak_record_empty(&r)) {
				ss->ops->abort(ss);
				outbreak_record_free(&r);
				continue;
			}
			outbreak_record_free(&r);
			if ((e = ss->ops->commit(ss, &v[i], true)) == LW_OK)
				(*moved)++;
		}
		outbreak_close(ss);
		outbreak_records_free(v, n);
		if (e != LW_OK)
			return e;
	}
	return state_put(st, key, dir, strlen(dir), 0, now);
}
