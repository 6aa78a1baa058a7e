/*
 * state_lmdb.c: the embedded state (the default): one LMDB environment
 * in a directory (data.mdb, lock.mdb).
 *
 * LMDB is memory-mapped and crash-safe (copy-on-write pages, one
 * fsync'd meta page per commit); readers never block the writer, and
 * several processes share one environment through lock.mdb (the daemon
 * writes while `lurewall` reads).  One write transaction at a time:
 * every read-modify-write (state_update, and through it put, add, take,
 * incr, push, pop) runs inside one, so it is atomic across threads and
 * processes.
 *
 * The environment is opened with MDB_NOTLS: libmilter runs callbacks on
 * a thread pool, and a read transaction must not be tied to a thread's
 * slot.  The daemon opens it after daemonising and dropping privileges
 * (LMDB's lock file and map must not be inherited over fork).  The
 * directory is created 0700 for whoever opens it first; created by root
 * (the CLI), it and its files go to the owner of the parent directory,
 * so the daemon's user can always write them; files that exist are never
 * chowned.  Even a read-only open needs write access to lock.mdb.
 *
 * A value is stored as 8 bytes of expiry (host order, 0 = never) and
 * the caller's bytes.  The map size comes from config (state.map_size);
 * a full map is a logged limit (LW_ELIMIT, at most one line a minute),
 * never a crash.  Expired keys read as absent and go in state_sweep.
 *
 * Counts (STATE_NS_COUNTS, the breaker's records) live in a second
 * environment, DIR/counts, opened MDB_NOSYNC: a commit there is a write
 * into the page cache, no fsync, so a process crash loses nothing, and
 * every process reads it as the only current copy of those keys.  A
 * lazy write (state_put_lazy) notes its key in the counts' "dirty"
 * table; at most STATE_LAZY_MS later a flusher thread (started by the
 * first lazy write) copies the dirty keys into the main environment in
 * one fsync'd transaction, so the main environment always holds the
 * counts as of a second ago.  A durable write of a count (a trip, a
 * clear) goes to both in one step, the main one committed (fsync'd)
 * while the counts' write transaction is still held.  A system crash
 * may leave the unsynced counts environment torn (LMDB without sync
 * promises nothing then), so it is trusted only in the boot that
 * wrote it: DIR/counts/boot names that boot (state_boot_id_path) and
 * a key inside names it too; the first writer of another boot deletes
 * the environment and seeds a new one from the main copy, losing at
 * most the last STATE_LAZY_MS of counts, never a trip.  A read-only
 * look before that reads the main copy.  Without a boot id every
 * write is durable, as before.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "util.h"

#define HDR	8

#define COUNTS_DIR	"counts"
#define BOOT_KEY	"boot"		/* in the counts' main table */
#define BOOT_MAX	64

const char *state_boot_id_path = "/proc/sys/kernel/random/boot_id";

struct lmdb {
	struct state_dirlock lock;
	MDB_env		*env;
	MDB_dbi		 dbi;
	char		*path;
	pthread_mutex_t	 mu;		/* full_logged, flusher */
	time_t		 full_logged;
	/* The counts (NULL: none, every write durable). */
	MDB_env		*venv;
	MDB_dbi		 vdbi;		/* "keys" */
	MDB_dbi		 vdirty;	/* "dirty": keys to copy */
	pthread_cond_t	 cv;		/* the flusher: stop */
	pthread_t	 tid;
	bool		 flusher;
	bool		 stop;
};

/* One key's step: where it is read and written. */
struct where {
	MDB_txn		*txn;		/* its current copy */
	MDB_dbi		 dbi;
	MDB_cursor	*cur;		/* on txn's dbi */
	MDB_txn		*dtxn;		/* a count written durably: main too */
	MDB_txn		*vtxn;		/* a count: its dirty mark */
	bool		 lazy;
};

static enum lw_err
lmdb_fail(struct lmdb *l, const char *what, int rc)
{
	time_t	now;

	if (rc == MDB_MAP_FULL) {
		now = time(NULL);
		pthread_mutex_lock(&l->mu);
		if (now - l->full_logged >= 60) {
			l->full_logged = now;
			log_warnx("state %s: the database is full (state."
			    "map_size): %s refused", l->path, what);
		}
		pthread_mutex_unlock(&l->mu);
		return LW_ELIMIT;
	}
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc == ENOMEM)
		return LW_ENOMEM;
	log_warnx("state %s: %s: %s", l->path, what, mdb_strerror(rc));
	errno = rc > 0 ? rc : EIO;
	return LW_EIO;
}

/* Begin a transaction; another process grown the map: adopt its size. */
static int
txn_begin(struct lmdb *l, MDB_env *env, unsigned flags, MDB_txn **txn)
{
	int	rc;

	(void)l;
	rc = mdb_txn_begin(env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		(void)mdb_env_set_mapsize(env, 0);
		rc = mdb_txn_begin(env, NULL, flags, txn);
	}
	return rc;
}

static bool
is_count_len(const struct lmdb *l, const char *key, size_t len)
{
	return l->venv != NULL && len >= sizeof(STATE_NS_COUNTS) - 1 &&
	    memcmp(key, STATE_NS_COUNTS, sizeof(STATE_NS_COUNTS) - 1) == 0;
}

/* True when key is a count kept in the counts environment. */
static bool
is_count(const struct lmdb *l, const char *key)
{
	return is_count_len(l, key, strlen(key));
}

/* A count changed: lazily (copy it later) or durably (nothing to copy). */
static enum lw_err
mark(struct lmdb *l, MDB_txn *vtxn, MDB_val *k, bool dirty)
{
	MDB_val	none = { 0, NULL };
	int	rc;

	rc = dirty ? mdb_put(vtxn, l->vdirty, k, &none, 0) :
	    mdb_del(vtxn, l->vdirty, k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_fail(l, "write", rc);
	return LW_OK;
}

static time_t
val_expires(const MDB_val *v)
{
	int64_t	t;

	memcpy(&t, v->mv_data, HDR);
	return (time_t)t;
}

/* Copy a stored value out; false when it is damaged (too short). */
static enum lw_err
val_decode(const MDB_val *v, time_t now, struct state_val *out)
{
	memset(out, 0, sizeof(*out));
	if (v->mv_size < HDR)
		return LW_ENOTFOUND;
	if (state_expired(val_expires(v), now))
		return LW_ENOTFOUND;
	if ((out->data = malloc(v->mv_size - HDR + 1)) == NULL)
		return LW_ENOMEM;
	memcpy(out->data, (const char *)v->mv_data + HDR, v->mv_size - HDR);
	out->data[v->mv_size - HDR] = '\0';
	out->len = v->mv_size - HDR;
	out->expires = val_expires(v);
	return LW_OK;
}

static enum lw_err
lmdb_get(struct state *st, const char *key, time_t now, struct state_val *v)
{
	struct lmdb	*l = st->priv;
	MDB_txn		*txn;
	MDB_val		 k, d;
	enum lw_err	 e;
	int		 rc;

	bool		 count = is_count(l, key);

	if ((rc = txn_begin(l, count ? l->venv : l->env, MDB_RDONLY,
	    &txn)) != 0)
		return lmdb_fail(l, "read", rc);
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	if ((rc = mdb_get(txn, count ? l->vdbi : l->dbi, &k, &d)) != 0)
		e = lmdb_fail(l, "read", rc);
	else
		e = val_decode(&d, now, v);
	mdb_txn_abort(txn);
	return e;
}

/*
 * Write (or delete) the key the cursor stands on (found: it is there;
 * else absent), without a second walk down the tree when found.
 */
static enum lw_err
apply_at(struct lmdb *l, MDB_cursor *cur, bool found, MDB_val *k,
    enum state_verdict what, const struct state_val *nv)
{
	MDB_val	d;
	int64_t	t;
	int	rc;

	if (what == STATE_DELETE) {
		if (found && (rc = mdb_cursor_del(cur, 0)) != 0)
			return lmdb_fail(l, "delete", rc);
		return LW_OK;
	}
	/* Reserve the room (in place when found), then fill it. */
	d.mv_size = HDR + nv->len;
	if ((rc = mdb_cursor_put(cur, k, &d, MDB_RESERVE |
	    (found ? MDB_CURRENT : 0))) != 0)
		return lmdb_fail(l, "write", rc);
	t = (int64_t)nv->expires;
	memcpy(d.mv_data, &t, HDR);
	if (nv->len > 0)
		memcpy((char *)d.mv_data + HDR, nv->data, nv->len);
	return LW_OK;
}

/* Write (or delete) one key's new value in txn's dbi. */
static enum lw_err
apply(struct lmdb *l, MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
    enum state_verdict what, const struct state_val *nv)
{
	MDB_cursor	*cur;
	MDB_val		 d;
	enum lw_err	 e;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return lmdb_fail(l, "write", rc);
	rc = mdb_cursor_get(cur, k, &d, MDB_SET);
	if (rc == 0 || rc == MDB_NOTFOUND)
		e = apply_at(l, cur, rc == 0, k, what, nv);
	else
		e = lmdb_fail(l, "read", rc);
	mdb_cursor_close(cur);
	return e;
}

/*
 * One read-modify-write step inside the write transaction(s) of w; on
 * an error the caller aborts them.  The key is found once, by w's
 * cursor, and written where it was found.
 */
static enum lw_err
txn_update_one(struct lmdb *l, const struct where *w, const char *key,
    time_t now, state_update_fn fn, void *arg)
{
	struct state_val	 old, nv;
	enum state_verdict	 what = STATE_KEEP;
	MDB_val			 k, d;
	enum lw_err		 e;
	bool			 have = false, found = false;
	int			 rc;

	memset(&nv, 0, sizeof(nv));
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	rc = mdb_cursor_get(w->cur, &k, &d, MDB_SET_KEY);
	if (rc == 0) {
		found = true;
		e = val_decode(&d, now, &old);
		if (e == LW_OK)
			have = true;
		else if (e != LW_ENOTFOUND)
			return e;
	} else if (rc != MDB_NOTFOUND)
		return lmdb_fail(l, "read", rc);
	/* MDB_SET_KEY pointed k at the stored key: ours again. */
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	e = fn(arg, have ? &old : NULL, &nv, &what);
	if (have)
		state_val_free(&old);
	if (e != LW_OK || what == STATE_KEEP)
		goto out;
	if (what == STATE_WRITE && nv.len > STATE_VALUE_MAX) {
		e = LW_ELIMIT;
		goto out;
	}
	if ((e = apply_at(l, w->cur, found, &k, what, &nv)) != LW_OK)
		goto out;
	if (w->dtxn != NULL &&
	    (e = apply(l, w->dtxn, l->dbi, &k, what, &nv)) != LW_OK)
		goto out;
	if (w->vtxn != NULL)
		e = mark(l, w->vtxn, &k, w->lazy);
out:
	state_val_free(&nv);
	return e;
}

/*
 * Every key's step in one write transaction: one commit (one fsync)
 * for them all, and all or none of them written.  With counts among
 * the keys, the counts' transaction too, committed after the main one
 * (lazy and only counts: the counts' alone, no fsync).
 */
static enum lw_err
update_keys(struct state *st, const char *const *keys, size_t n,
    time_t now, state_update_many_fn fn, void *arg, bool lazy)
{
	struct lmdb		*l = st->priv;
	struct state_many	 m = { fn, arg, 0 };
	struct where		 w;
	MDB_txn			*dtxn = NULL, *vtxn = NULL;
	MDB_cursor		*dcur = NULL, *vcur = NULL;
	enum lw_err		 e = LW_OK;
	size_t			 counts = 0, i;
	int			 rc;

	for (i = 0; i < n; i++)
		counts += is_count(l, keys[i]);
	if (counts < n)
		lazy = false;
	if (counts > 0 && (rc = txn_begin(l, l->venv, 0, &vtxn)) != 0)
		return lmdb_fail(l, "write", rc);
	if (!lazy && (rc = txn_begin(l, l->env, 0, &dtxn)) != 0) {
		e = lmdb_fail(l, "write", rc);
		goto out_abort;
	}
	/* One cursor per table: each key is found once (txn_update_one). */
	if ((vtxn != NULL && (rc = mdb_cursor_open(vtxn, l->vdbi,
	    &vcur)) != 0) || (counts < n && (rc = mdb_cursor_open(dtxn,
	    l->dbi, &dcur)) != 0)) {
		e = lmdb_fail(l, "write", rc);
		goto out_abort;
	}
	for (m.i = 0; m.i < n && e == LW_OK; m.i++) {
		memset(&w, 0, sizeof(w));
		if (is_count(l, keys[m.i])) {
			w.txn = vtxn;
			w.dbi = l->vdbi;
			w.cur = vcur;
			w.dtxn = dtxn;
			w.vtxn = vtxn;
			w.lazy = lazy;
		} else {
			w.txn = dtxn;
			w.dbi = l->dbi;
			w.cur = dcur;
		}
		e = txn_update_one(l, &w, keys[m.i], now, state_many_step,
		    &m);
	}
	if (dcur != NULL)
		mdb_cursor_close(dcur);
	if (vcur != NULL)
		mdb_cursor_close(vcur);
	dcur = vcur = NULL;
	if (e != LW_OK)
		goto out_abort;
	/* The durable copy first: until then no one reads the new counts. */
	rc = dtxn != NULL ? mdb_txn_commit(dtxn) : 0;
	dtxn = NULL;
	if (rc != 0) {
		e = lmdb_fail(l, "commit", rc);
		goto out_abort;
	}
	rc = vtxn != NULL ? mdb_txn_commit(vtxn) : 0;
	vtxn = NULL;
	if (rc != 0)
		return lmdb_fail(l, "commit", rc);
	return LW_OK;
out_abort:
	if (dcur != NULL)
		mdb_cursor_close(dcur);
	if (vcur != NULL)
		mdb_cursor_close(vcur);
	if (dtxn != NULL)
		mdb_txn_abort(dtxn);
	if (vtxn != NULL)
		mdb_txn_abort(vtxn);
	return e;
}

static enum lw_err
lmdb_update_many(struct state *st, const char *const *keys, size_t n,
    time_t now, state_update_many_fn fn, void *arg)
{
	return update_keys(st, keys, n, now, fn, arg, false);
}

/* state_update as a batch of one. */
struct single {
	state_update_fn	 fn;
	void		*arg;
};

static enum lw_err
single_step(void *arg, size_t i, const struct state_val *old,
    struct state_val *out, enum state_verdict *what)
{
	struct single	*one = arg;

	return one->fn(one->arg, old, out, what);
}

static enum lw_err
lmdb_update(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	struct single	one = { fn, arg };

	return update_keys(st, &key, 1, now, single_step, &one, false);
}

static void	flusher_start(struct lmdb *);

static enum lw_err
lmdb_update_lazy(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	struct single	one = { fn, arg };
	enum lw_err	e;

	e = update_keys(st, &key, 1, now, single_step, &one, true);
	if (e == LW_OK && is_count(st->priv, key))
		flusher_start(st->priv);
	return e;
}

/* Walk the keys under prefix in env's dbi; skip_counts: not the counts. */
static enum lw_err
walk(struct lmdb *l, MDB_env *env, MDB_dbi dbi, const char *prefix,
    bool skip_counts, time_t now, state_each_fn fn, void *arg)
{
	struct state_val	 v;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, d;
	char			 key[STATE_KEY_MAX + 1];
	size_t			 plen = strlen(prefix);
	enum lw_err		 e = LW_OK;
	int			 rc;

	if ((rc = txn_begin(l, env, MDB_RDONLY, &txn)) != 0)
		return lmdb_fail(l, "read", rc);
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return lmdb_fail(l, "read", rc);
	}
	k.mv_data = (void *)(uintptr_t)prefix;
	k.mv_size = plen;
	rc = plen > 0 ? mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &d, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;		/* sorted: past the prefix */
		if (k.mv_size > STATE_KEY_MAX ||
		    (skip_counts && is_count_len(l, k.mv_data, k.mv_size)))
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if ((e = val_decode(&d, now, &v)) == LW_ENOTFOUND) {
			e = LW_OK;
			continue;
		}
		if (e != LW_OK)
			break;
		e = fn(arg, key, &v);
		state_val_free(&v);
		if (e != LW_OK)
			break;
	}
	if (e == LW_OK && rc != 0 && rc != MDB_NOTFOUND)
		e = lmdb_fail(l, "read", rc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return e;
}

/*
 * The main environment's keys under prefix, then the counts' (their
 * copies in the main one are a second old).
 */
static enum lw_err
lmdb_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct lmdb	*l = st->priv;
	size_t		 plen = strlen(prefix), nlen;
	enum lw_err	 e;

	nlen = sizeof(STATE_NS_COUNTS) - 1;
	if (l->venv == NULL)
		return walk(l, l->env, l->dbi, prefix, false, now, fn, arg);
	if (!is_count(l, prefix) &&
	    (e = walk(l, l->env, l->dbi, prefix, true, now, fn, arg)) !=
	    LW_OK)
		return e;
	if (plen >= nlen ? !is_count(l, prefix) :
	    memcmp(prefix, STATE_NS_COUNTS, plen) != 0)
		return LW_OK;
	return walk(l, l->venv, l->vdbi, prefix, false, now, fn, arg);
}

/* Remove expired keys of txn's dbi; dirty: note them for the copy. */
static int
sweep_txn(struct lmdb *l, MDB_txn *txn, MDB_dbi dbi, bool dirty,
    time_t now, size_t *removed)
{
	MDB_cursor	*cur;
	MDB_val		 k, d, none = { 0, NULL };
	int		 rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (d.mv_size >= HDR && !state_expired(val_expires(&d), now))
			continue;
		if (dirty && (rc = mdb_put(txn, l->vdirty, &k, &none, 0)) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*removed)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static enum lw_err
sweep_env(struct lmdb *l, MDB_env *env, MDB_dbi dbi, bool dirty,
    time_t now, size_t *removed)
{
	MDB_txn		*txn;
	int		 rc;

	if ((rc = txn_begin(l, env, 0, &txn)) != 0)
		return lmdb_fail(l, "sweep", rc);
	if ((rc = sweep_txn(l, txn, dbi, dirty, now, removed)) != 0) {
		mdb_txn_abort(txn);
		return lmdb_fail(l, "sweep", rc);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return lmdb_fail(l, "sweep", rc);
	return LW_OK;
}

static enum lw_err
lmdb_sweep(struct state *st, time_t now, size_t *removed)
{
	struct lmdb	*l = st->priv;
	size_t		 vn = 0;
	enum lw_err	 e;

	*removed = 0;
	if ((e = sweep_env(l, l->env, l->dbi, false, now, removed)) !=
	    LW_OK || l->venv == NULL)
		return e;
	/* The main copy of an expired count went above: counted once. */
	return sweep_env(l, l->venv, l->vdbi, true, now, &vn);
}

/* Begin a copy: the counts' write transaction, the main one's (dflags). */
static int
txns_begin(struct lmdb *l, unsigned dflags, MDB_txn **vtxn, MDB_txn **dtxn)
{
	int	rc;

	if ((rc = txn_begin(l, l->venv, 0, vtxn)) != 0)
		return rc;
	if ((rc = txn_begin(l, l->env, dflags, dtxn)) != 0)
		mdb_txn_abort(*vtxn);
	return rc;
}

/*
 * End a copy between the environments: when rc is 0, commit the main
 * one's dtxn (a read when !dwrite: ended) and then the counts' vtxn;
 * else abort both.
 */
static enum lw_err
copy_end(struct lmdb *l, MDB_txn *vtxn, MDB_txn *dtxn, bool dwrite,
    int rc, const char *what)
{
	if (rc == 0 && dwrite)
		rc = mdb_txn_commit(dtxn);
	else
		mdb_txn_abort(dtxn);
	if (rc != 0) {
		mdb_txn_abort(vtxn);
		return lmdb_fail(l, what, rc);
	}
	if ((rc = mdb_txn_commit(vtxn)) != 0)	/* it freed vtxn */
		return lmdb_fail(l, what, rc);
	return LW_OK;
}

/*
 * Copy the dirty counts into the main environment: one fsync'd commit
 * for all, made while the counts' write transaction is held, so no
 * count changes between the copy and the marks' removal.
 */
static enum lw_err
flush(struct lmdb *l)
{
	MDB_txn		*vtxn, *dtxn;
	MDB_cursor	*cur;
	MDB_stat	 ms;
	MDB_val		 k, d, v;
	int		 rc;

	if (l->venv == NULL)
		return LW_OK;
	/* Nothing dirty (most seconds): a read, no writer's lock. */
	if ((rc = txn_begin(l, l->venv, MDB_RDONLY, &vtxn)) != 0)
		return lmdb_fail(l, "flush", rc);
	rc = mdb_stat(vtxn, l->vdirty, &ms);
	mdb_txn_abort(vtxn);
	if (rc != 0)
		return lmdb_fail(l, "flush", rc);
	if (ms.ms_entries == 0)
		return LW_OK;
	if ((rc = txns_begin(l, 0, &vtxn, &dtxn)) != 0)
		return lmdb_fail(l, "flush", rc);
	if ((rc = mdb_cursor_open(vtxn, l->vdirty, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		rc = mdb_get(vtxn, l->vdbi, &k, &v);
		if (rc == 0)
			rc = mdb_put(dtxn, l->dbi, &k, &v, 0);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_del(dtxn, l->dbi, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = mdb_drop(vtxn, l->vdirty, 0);
out:
	return copy_end(l, vtxn, dtxn, true, rc, "flush");
}

static enum lw_err
lmdb_sync(struct state *st)
{
	return flush(st->priv);
}

/* Every STATE_LAZY_MS: flush, until told to stop. */
static void *
flusher(void *arg)
{
	struct lmdb	*l = arg;
	struct timespec	 ts;

	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += STATE_LAZY_MS / 1000;
		ts.tv_nsec += (long)(STATE_LAZY_MS % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!l->stop &&
		    pthread_cond_timedwait(&l->cv, &l->mu, &ts) == 0)
			;
		if (l->stop)
			break;
		pthread_mutex_unlock(&l->mu);
		(void)flush(l);		/* logged; the next second retries */
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* The flusher, once: started by the first lazy write. */
static void
flusher_start(struct lmdb *l)
{
	sigset_t	all, old;
	int		rc;

	pthread_mutex_lock(&l->mu);
	if (!l->flusher && !l->stop) {
		/* It takes no signal: the daemon's threads own them. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&l->tid, NULL, flusher, l);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0)
			l->flusher = true;
		else
			log_warnx("state %s: no flusher thread (%s): counts "
			    "reach the disk at close", l->path,
			    strerror(rc));
	}
	pthread_mutex_unlock(&l->mu);
}

static void
lmdb_close(struct state *st)
{
	struct lmdb	*l = st->priv;
	bool		 joined;

	pthread_mutex_lock(&l->mu);
	l->stop = true;
	joined = l->flusher;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (joined)
		pthread_join(l->tid, NULL);
	if (l->venv != NULL) {
		if (!st->readonly)
			(void)flush(l);
		mdb_env_close(l->venv);
	}
	mdb_env_close(l->env);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->path);
	state_free(st);
}

static const struct state_ops lmdb_ops = {
	.name = "lmdb",
	.get = lmdb_get,
	.update = lmdb_update,
	.update_lazy = lmdb_update_lazy,
	.sync = lmdb_sync,
	.update_many = lmdb_update_many,
	.each = lmdb_each,
	.sweep = lmdb_sweep,
	.close = lmdb_close,
};

/* Files root just made in a directory it does not own go to the owner. */
static void
give_files_away(const char *dir, const struct stat *dsb)
{
	static const char *const names[] = { "data.mdb", "lock.mdb",
	    "boot" };
	char		 p[PATH_MAX];
	struct stat	 sb;
	size_t		 i;

	if (geteuid() != 0 || dsb->st_uid == 0)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, names[i]) >=
		    (int)sizeof(p))
			continue;
		if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_uid == 0)
			(void)chown(p, dsb->st_uid, dsb->st_gid);
	}
}

/* This boot's identity into buf; false when there is none. */
static bool
boot_id(char *buf, size_t size)
{
	FILE	*f;
	bool	 ok;

	if (state_boot_id_path == NULL ||
	    (f = fopen(state_boot_id_path, "r")) == NULL)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return *buf != '\0';
}

/* True when the file path holds exactly boot. */
static bool
boot_file_is(const char *path, const char *boot)
{
	char	buf[BOOT_MAX];

	FILE	*f;
	bool	 ok;

	if ((f = fopen(path, "r")) == NULL)
		return false;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return strcmp(buf, boot) == 0;
}

/*
 * Open the counts environment in vdir; with boot (the seeded one of
 * this boot expected): LW_ENOTFOUND unless its boot key says so.
 */
static enum lw_err
venv_open(struct lmdb *l, const char *vdir, uint64_t map_size,
    bool readonly, const char *boot)
{
	MDB_txn	*txn;
	MDB_dbi	 main;
	MDB_val	 k, d;
	unsigned flags = MDB_NOTLS | MDB_NOSYNC | MDB_NOMETASYNC;
	int	 rc, dead;

	if ((rc = mdb_env_create(&l->venv)) != 0)
		return lmdb_fail(l, "counts", rc);
	if ((map_size > 0 && (rc = mdb_env_set_mapsize(l->venv,
	    (size_t)map_size)) != 0) ||
	    (rc = mdb_env_set_maxdbs(l->venv, 2)) != 0 ||
	    (rc = mdb_env_open(l->venv, vdir, flags | (readonly ?
	    MDB_RDONLY : 0), 0600)) != 0)
		goto out_env;
	(void)mdb_reader_check(l->venv, &dead);
	if ((rc = mdb_txn_begin(l->venv, NULL, readonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		goto out_env;
	k.mv_data = (void *)(uintptr_t)BOOT_KEY;
	k.mv_size = strlen(BOOT_KEY);
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0) {
		mdb_txn_abort(txn);
		goto out_env;
	}
	if (boot != NULL && ((rc = mdb_get(txn, main, &k, &d)) != 0 ||
	    d.mv_size != strlen(boot) ||
	    memcmp(d.mv_data, boot, d.mv_size) != 0)) {
		mdb_txn_abort(txn);
		mdb_env_close(l->venv);
		l->venv = NULL;
		return LW_ENOTFOUND;
	}
	if ((rc = mdb_dbi_open(txn, "keys", readonly ? 0 : MDB_CREATE,
	    &l->vdbi)) != 0 ||
	    (rc = mdb_dbi_open(txn, "dirty", readonly ? 0 : MDB_CREATE,
	    &l->vdirty)) != 0) {
		mdb_txn_abort(txn);
		goto out_env;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto out_env;
	return LW_OK;
out_env:
	mdb_env_close(l->venv);
	l->venv = NULL;
	return lmdb_fail(l, "counts", rc);
}

/* A new counts environment: the main copy's counts, and boot's name. */
static enum lw_err
venv_seed(struct lmdb *l, const char *boot)
{
	MDB_txn		*dtxn, *vtxn;
	MDB_cursor	*cur;
	MDB_dbi		 main;
	MDB_val		 k, d;
	size_t		 nlen = sizeof(STATE_NS_COUNTS) - 1;
	int		 rc;

	if ((rc = txns_begin(l, MDB_RDONLY, &vtxn, &dtxn)) != 0)
		return lmdb_fail(l, "counts", rc);
	if ((rc = mdb_cursor_open(dtxn, l->dbi, &cur)) != 0)
		goto out;
	k.mv_data = (void *)(uintptr_t)STATE_NS_COUNTS;
	k.mv_size = nlen;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size < nlen ||
		    memcmp(k.mv_data, STATE_NS_COUNTS, nlen) != 0)
			break;
		if ((rc = mdb_put(vtxn, l->vdbi, &k, &d, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto out;
	k.mv_data = (void *)(uintptr_t)BOOT_KEY;
	k.mv_size = strlen(BOOT_KEY);
	d.mv_data = (void *)(uintptr_t)boot;
	d.mv_size = strlen(boot);
	if ((rc = mdb_dbi_open(vtxn, NULL, 0, &main)) == 0)
		rc = mdb_put(vtxn, main, &k, &d, 0);
out:
	return copy_end(l, vtxn, dtxn, false, rc, "counts");
}

/* Write the boot file (no fsync: lost, the next start seeds anew). */
static enum lw_err
boot_file_write(const char *vdir, const char *boot)
{
	char	tmp[PATH_MAX], path[PATH_MAX];
	FILE	*f;
	int	 fd;

	if (snprintf(tmp, sizeof(tmp), "%s/boot.tmp", vdir) >=
	    (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/boot", vdir) >=
	    (int)sizeof(path))
		return LW_EINVAL;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
	    0600)) == -1)
		return LW_EIO;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		(void)unlink(tmp);
		return LW_EIO;
	}
	fprintf(f, "%s\n", boot);
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return LW_EIO;
	}
	return LW_OK;
}

/* Delete another boot's counts environment (no process of ours has it). */
static void
venv_discard(const char *vdir)
{
	static const char *const names[] = { "boot", "data.mdb",
	    "lock.mdb" };
	char	p[PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (snprintf(p, sizeof(p), "%s/%s", vdir, names[i]) <
		    (int)sizeof(p))
			(void)unlink(p);
}

/*
 * The counts environment of this boot: a reader opens it when a writer
 * made it (else reads the main copy); a writer, under the directory's
 * lock, opens it, or replaces another boot's by a new one seeded from
 * the main copy, and copies what a crashed process left dirty.
 */
static enum lw_err
counts_open(struct lmdb *l, const struct state_config *c, bool readonly,
    const struct stat *sb)
{
	char		 boot[BOOT_MAX], vdir[PATH_MAX], bf[PATH_MAX];
	struct stat	 vsb;
	enum lw_err	 e;

	if (!boot_id(boot, sizeof(boot)))
		return LW_OK;
	if (snprintf(vdir, sizeof(vdir), "%s/" COUNTS_DIR, c->path) >=
	    (int)sizeof(vdir) ||
	    snprintf(bf, sizeof(bf), "%s/boot", vdir) >= (int)sizeof(bf))
		return LW_EINVAL;
	if (readonly) {
		if (!boot_file_is(bf, boot))
			return LW_OK;
		e = venv_open(l, vdir, c->map_size, true, boot);
		return e == LW_ENOTFOUND ? LW_OK : e;
	}
	if ((e = state_dirlock_take(&l->lock, LW_WAIT_FOREVER)) != LW_OK)
		return e;
	if ((e = state_dir_prepare(vdir, c->owner_of, false, &vsb)) !=
	    LW_OK)
		goto out;
	if (boot_file_is(bf, boot) &&
	    (e = venv_open(l, vdir, c->map_size, false, boot)) !=
	    LW_ENOTFOUND) {
		if (e == LW_OK)
			e = flush(l);	/* what a crashed process left */
		goto out;
	}
	venv_discard(vdir);
	if ((e = venv_open(l, vdir, c->map_size, false, NULL)) != LW_OK)
		goto out;
	if ((e = venv_seed(l, boot)) != LW_OK ||
	    (e = boot_file_write(vdir, boot)) != LW_OK) {
		log_warn("state %s: counts", l->path);
		goto out;
	}
	give_files_away(vdir, sb);
out:
	state_dirlock_drop(&l->lock);
	if (e != LW_OK && l->venv != NULL) {
		mdb_env_close(l->venv);
		l->venv = NULL;
	}
	return e;
}

enum lw_err
state_lmdb_open(const struct state_config *c, bool readonly,
    struct state **out)
{
	struct state		*st;
	struct lmdb		*l;
	struct stat		 sb;
	pthread_condattr_t	 ca;
	MDB_txn			*txn;
	/*
	 * NOMETASYNC: one fsync per commit, not two; a system crash may
	 * undo the last commit but never breaks the database.
	 */
	unsigned	 flags = MDB_NOTLS | MDB_NOMETASYNC;
	int		 rc, dead;
	enum lw_err	 e = LW_EIO;

	if ((e = state_dir_prepare(c->path, c->owner_of, readonly, &sb)) !=
	    LW_OK)
		return e;
	e = LW_EIO;
	if (state_new(&lmdb_ops, sizeof(*l), readonly, &st) != LW_OK)
		return LW_ENOMEM;
	l = st->priv;
	if ((l->path = strdup(c->path)) == NULL) {
		e = LW_ENOMEM;
		goto out_free;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = mdb_env_create(&l->env)) != 0)
		goto out_mutex;
	if (c->map_size > 0 &&
	    (rc = mdb_env_set_mapsize(l->env, (size_t)c->map_size)) != 0)
		goto out_env;
	if (readonly)
		flags |= MDB_RDONLY;
	if ((rc = mdb_env_open(l->env, c->path, flags, 0600)) != 0) {
		if (rc == ENOENT) {
			e = LW_ENOTFOUND;
			goto out_env;
		}
		goto out_env;
	}
	give_files_away(c->path, &sb);
	/* Reader slots of processes that died (a crashed CLI). */
	(void)mdb_reader_check(l->env, &dead);
	if ((rc = mdb_txn_begin(l->env, NULL, readonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		goto out_env;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &l->dbi)) != 0) {
		mdb_txn_abort(txn);
		goto out_env;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto out_env;
	if (state_dirlock_init(&l->lock, c->path, sb.st_uid, sb.st_gid) !=
	    LW_OK) {
		e = LW_ENOMEM;
		rc = ENOMEM;
		goto out_env;
	}
	if ((e = counts_open(l, c, readonly, &sb)) != LW_OK) {
		state_dirlock_free(&l->lock);
		mdb_env_close(l->env);
		goto out_mutex;
	}
	st->dirlock = &l->lock;
	*out = st;
	return LW_OK;
out_env:
	if (e == LW_EIO) {
		/* A read-only look (lurewall scan) treats it as empty. */
		if (!readonly)
			log_warnx("state %s: cannot open: %s", c->path,
			    mdb_strerror(rc));
		errno = rc > 0 ? rc : EIO;
	}
	mdb_env_close(l->env);
out_mutex:
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
out_free:
	free(l->path);
	state_free(st);
	return e;
}
