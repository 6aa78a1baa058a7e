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
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"

#define HDR	8

struct lmdb {
	struct state_dirlock lock;
	MDB_env		*env;
	MDB_dbi		 dbi;
	char		*path;
	pthread_mutex_t	 mu;		/* full_logged */
	time_t		 full_logged;
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
txn_begin(struct lmdb *l, unsigned flags, MDB_txn **txn)
{
	int	rc;

	rc = mdb_txn_begin(l->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		(void)mdb_env_set_mapsize(l->env, 0);
		rc = mdb_txn_begin(l->env, NULL, flags, txn);
	}
	return rc;
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

	if ((rc = txn_begin(l, MDB_RDONLY, &txn)) != 0)
		return lmdb_fail(l, "read", rc);
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	if ((rc = mdb_get(txn, l->dbi, &k, &d)) != 0)
		e = lmdb_fail(l, "read", rc);
	else
		e = val_decode(&d, now, v);
	mdb_txn_abort(txn);
	return e;
}

/*
 * One read-modify-write step inside the write transaction txn; on an
 * error the caller aborts txn.
 */
static enum lw_err
txn_update_one(struct lmdb *l, MDB_txn *txn, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	struct state_val	 old, nv;
	enum state_verdict	 what = STATE_KEEP;
	MDB_val			 k, d;
	enum lw_err		 e;
	bool			 have = false;
	int			 rc;
	int64_t			 t;

	memset(&nv, 0, sizeof(nv));
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = strlen(key);
	rc = mdb_get(txn, l->dbi, &k, &d);
	if (rc == 0) {
		e = val_decode(&d, now, &old);
		if (e == LW_OK)
			have = true;
		else if (e != LW_ENOTFOUND)
			return e;
	} else if (rc != MDB_NOTFOUND)
		return lmdb_fail(l, "read", rc);
	e = fn(arg, have ? &old : NULL, &nv, &what);
	if (have)
		state_val_free(&old);
	if (e != LW_OK)
		goto out;
	switch (what) {
	case STATE_KEEP:
		break;
	case STATE_DELETE:
		rc = mdb_del(txn, l->dbi, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			e = lmdb_fail(l, "delete", rc);
		break;
	case STATE_WRITE:
		if (nv.len > STATE_VALUE_MAX) {
			e = LW_ELIMIT;
			break;
		}
		/* Reserve the room, then fill it: one copy. */
		d.mv_size = HDR + nv.len;
		if ((rc = mdb_put(txn, l->dbi, &k, &d, MDB_RESERVE)) != 0) {
			e = lmdb_fail(l, "write", rc);
			break;
		}
		t = (int64_t)nv.expires;
		memcpy(d.mv_data, &t, HDR);
		if (nv.len > 0)
			memcpy((char *)d.mv_data + HDR, nv.data, nv.len);
		break;
	}
out:
	state_val_free(&nv);
	return e;
}

/*
 * Every key's step in one write transaction: one commit (one fsync)
 * for them all, and all or none of them written.
 */
static enum lw_err
lmdb_update_many(struct state *st, const char *const *keys, size_t n,
    time_t now, state_update_many_fn fn, void *arg)
{
	struct lmdb		*l = st->priv;
	struct state_many	 m = { fn, arg, 0 };
	MDB_txn			*txn;
	enum lw_err		 e = LW_OK;
	int			 rc;

	if ((rc = txn_begin(l, 0, &txn)) != 0)
		return lmdb_fail(l, "write", rc);
	for (m.i = 0; m.i < n && e == LW_OK; m.i++)
		e = txn_update_one(l, txn, keys[m.i], now, state_many_step,
		    &m);
	if (e != LW_OK) {
		mdb_txn_abort(txn);
		return e;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return lmdb_fail(l, "commit", rc);
	return LW_OK;
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

	return lmdb_update_many(st, &key, 1, now, single_step, &one);
}

static enum lw_err
lmdb_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct lmdb		*l = st->priv;
	struct state_val	 v;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, d;
	char			 key[STATE_KEY_MAX + 1];
	size_t			 plen = strlen(prefix);
	enum lw_err		 e = LW_OK;
	int			 rc;

	if ((rc = txn_begin(l, MDB_RDONLY, &txn)) != 0)
		return lmdb_fail(l, "read", rc);
	if ((rc = mdb_cursor_open(txn, l->dbi, &cur)) != 0) {
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
		if (k.mv_size > STATE_KEY_MAX)
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

static enum lw_err
lmdb_sweep(struct state *st, time_t now, size_t *removed)
{
	struct lmdb	*l = st->priv;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, d;
	int		 rc;

	*removed = 0;
	if ((rc = txn_begin(l, 0, &txn)) != 0)
		return lmdb_fail(l, "sweep", rc);
	if ((rc = mdb_cursor_open(txn, l->dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return lmdb_fail(l, "sweep", rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (d.mv_size >= HDR && !state_expired(val_expires(&d), now))
			continue;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		(*removed)++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return lmdb_fail(l, "sweep", rc);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return lmdb_fail(l, "sweep", rc);
	return LW_OK;
}

static void
lmdb_close(struct state *st)
{
	struct lmdb	*l = st->priv;

	mdb_env_close(l->env);
	pthread_mutex_destroy(&l->mu);
	free(l->path);
	state_free(st);
}

static const struct state_ops lmdb_ops = {
	.name = "lmdb",
	.get = lmdb_get,
	.update = lmdb_update,
	.update_many = lmdb_update_many,
	.each = lmdb_each,
	.sweep = lmdb_sweep,
	.close = lmdb_close,
};

/* Files root just made in a directory it does not own go to the owner. */
static void
give_files_away(const char *dir, const struct stat *dsb)
{
	static const char *const names[] = { "data.mdb", "lock.mdb" };
	char		 p[PATH_MAX];
	struct stat	 sb;
	size_t		 i;

	if (geteuid() != 0 || dsb->st_uid == 0)
		return;
	for (i = 0; i < 2; i++) {
		if (snprintf(p, sizeof(p), "%s/%s", dir, names[i]) >=
		    (int)sizeof(p))
			continue;
		if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_uid == 0)
			(void)chown(p, dsb->st_uid, dsb->st_gid);
	}
}

enum lw_err
state_lmdb_open(const struct state_config *c, bool readonly,
    struct state **out)
{
	struct state	*st;
	struct lmdb	*l;
	struct stat	 sb;
	MDB_txn		*txn;
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
	pthread_mutex_destroy(&l->mu);
out_free:
	free(l->path);
	state_free(st);
	return e;
}
