/*
 * state_redis_many.c: state_update_many on the Redis backend (see
 * state_redis.c): the read-modify-write of many keys in a few round
 * trips, not two per key.  The learner's batch (learn_batch.c) writes
 * its records this way: a thousand records a second cost four
 * commands' round trips, where key by key they cost two thousand.
 *
 * Per chunk of at most RD_MANY_CHUNK keys, optimistically: WATCH the
 * keys and MGET them (one round trip), run the caller's step on each
 * key with its value, then MULTI, the SETs and DELs (and index
 * entries), EXEC (one round trip).  When another client changed any
 * of the chunk's keys in between, EXEC answers nil and the whole
 * chunk runs again (its steps too, from the new values), after a nap
 * that grows, as state_update does; so two hosts updating one record
 * never lose one another's update.  A chunk is all or nothing; chunks
 * are not (the embedded store's one transaction has no Redis twin
 * short of a script that merges records, which would be the learner's
 * record form in Lua).
 *
 * Bounds: a chunk holds its values twice in memory (as read, as
 * written); RD_MANY_CHUNK keys a chunk.  The keys must be distinct
 * (state.h).  No stripe lock: the threads of this process writing the
 * same keys (the learner has one writer) only cost a retry.
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "state_redis_int.h"

#define RD_MANY_CHUNK	1024	/* keys WATCHed and written at once */

/* One chunk's keys on the server and what its steps decided. */
struct chunk {
	const char	*const *keys;	/* the caller's */
	size_t		  base;		/* index of keys[0] in the call */
	size_t		  n;
	const char	**argv;		/* verb + server keys */
	size_t		 *lens;
	struct state_val *nv;		/* the new values */
	enum state_verdict *what;
};

static void
chunk_clear(struct chunk *ch)
{
	size_t	i;

	for (i = 0; i < ch->n; i++)
		state_val_free(&ch->nv[i]);
	memset(ch->what, 0, ch->n * sizeof(*ch->what));
}

static void
unwatch(redisContext *c)
{
	redisReply	*rep;

	if ((rep = redisCommand(c, "UNWATCH")) != NULL)
		freeReplyObject(rep);
}

/* WATCH and MGET the chunk in one round trip; *vals: MGET's array. */
static enum lw_err
watch_read(struct redis *r, redisContext *c, struct chunk *ch,
    redisReply **vals)
{
	enum lw_err	e;

	ch->argv[0] = "WATCH";
	ch->lens[0] = 5;
	redisAppendCommandArgv(c, (int)ch->n + 1, ch->argv, ch->lens);
	ch->argv[0] = "MGET";
	ch->lens[0] = 4;
	redisAppendCommandArgv(c, (int)ch->n + 1, ch->argv, ch->lens);
	if ((e = rd_exec_replies(r, c, 2, vals)) != LW_OK) {
		unwatch(c);
		return e;
	}
	if ((*vals)->type != REDIS_REPLY_ARRAY ||
	    (*vals)->elements != ch->n) {
		freeReplyObject(*vals);
		*vals = NULL;
		unwatch(c);
		return LW_EIO;
	}
	return LW_OK;
}

/* The caller's step on each key of the chunk, with its value read. */
static enum lw_err
steps(struct chunk *ch, const redisReply *vals, time_t now,
    state_update_many_fn fn, void *arg, size_t *writes)
{
	struct state_val	 old;
	const redisReply	*el;
	size_t			 i;
	bool			 have;
	enum lw_err		 e = LW_OK;

	*writes = 0;
	for (i = 0; i < ch->n && e == LW_OK; i++) {
		el = vals->element[i];
		have = false;
		if (el->type == REDIS_REPLY_STRING) {
			e = rd_decode(el->str, el->len, now, &old);
			have = e == LW_OK;
			if (e == LW_ENOTFOUND)
				e = LW_OK;
		}
		if (e == LW_OK)
			e = fn(arg, ch->base + i, have ? &old : NULL,
			    &ch->nv[i], &ch->what[i]);
		if (have)
			state_val_free(&old);
		if (e == LW_OK && ch->what[i] == STATE_WRITE &&
		    ch->nv[i].len > STATE_VALUE_MAX)
			e = LW_ELIMIT;
		if (ch->what[i] != STATE_KEEP)
			(*writes)++;
	}
	return e;
}

/*
 * MULTI, each write (and its index entry), EXEC in one round trip;
 * *done false when another client changed a key (EXEC's nil).
 */
static enum lw_err
write_all(struct redis *r, redisContext *c, struct chunk *ch, time_t now,
    bool *done)
{
	const char	*argv[5];
	size_t		 lens[5], i;
	char		 ttl[32];
	unsigned char	*enc;
	redisReply	*rep;
	enum lw_err	 e = LW_OK;
	int		 argc, n = 1, k;

	redisAppendCommand(c, "MULTI");
	for (i = 0; i < ch->n && e == LW_OK; i++) {
		enc = NULL;
		if (ch->what[i] == STATE_KEEP)
			continue;
		if (ch->what[i] == STATE_DELETE) {
			argv[0] = "DEL";
			lens[0] = 3;
			argc = 2;
		} else if ((argc = rd_set_args(ch->nv[i].data, ch->nv[i].len,
		    ch->nv[i].expires, now, argv, lens, ttl, &enc)) == 0) {
			e = LW_ENOMEM;
			break;
		}
		argv[1] = ch->argv[i + 1];
		lens[1] = ch->lens[i + 1];
		redisAppendCommandArgv(c, argc, argv, lens);
		free(enc);
		n++;
		k = rd_index_append(r, c, ch->keys[i], ch->what[i] ==
		    STATE_DELETE ? IDX_DEL : IDX_ADD, ch->nv[i].expires);
		if (k < 0)
			e = LW_ENOMEM;
		else
			n += k;
	}
	if (e != LW_OK) {
		/* Out of memory half-way: what is queued is discarded. */
		redisAppendCommand(c, "DISCARD");
		(void)rd_exec_replies(r, c, n + 1, &rep);
		if (rep != NULL)
			freeReplyObject(rep);
		return e;
	}
	redisAppendCommand(c, "EXEC");
	if ((e = rd_exec_replies(r, c, n + 1, &rep)) != LW_OK)
		return e;
	/* EXEC: nil when another client changed a key. */
	*done = rep->type == REDIS_REPLY_ARRAY;
	freeReplyObject(rep);
	return LW_OK;
}

/* One optimistic try of a chunk; LW_OK with *done false: again. */
static enum lw_err
chunk_once(struct redis *r, redisContext *c, struct chunk *ch, time_t now,
    state_update_many_fn fn, void *arg, bool *done)
{
	redisReply	*vals;
	size_t		 writes;
	enum lw_err	 e;

	*done = true;
	if ((e = watch_read(r, c, ch, &vals)) != LW_OK)
		return e;
	e = steps(ch, vals, now, fn, arg, &writes);
	freeReplyObject(vals);
	if (e != LW_OK || writes == 0) {
		unwatch(c);
		return e;
	}
	e = write_all(r, c, ch, now, done);
	if (e != LW_OK)
		*done = true;
	return e;
}

static enum lw_err
chunk_run(struct redis *r, struct chunk *ch, time_t now,
    state_update_many_fn fn, void *arg)
{
	struct rconn	*rc;
	size_t		 i, klen;
	bool		 done = false;
	enum lw_err	 e = LW_OK;
	int		 tries;

	for (i = 0; i < ch->n; i++) {
		if ((ch->argv[i + 1] = rd_key(r, ch->keys[i], &klen)) == NULL)
			return LW_ENOMEM;
		ch->lens[i + 1] = klen;
	}
	if ((rc = rd_conn_get(r)) == NULL)
		return LW_EIO;
	for (tries = 0; e == LW_OK && !done && tries < RD_UPDATE_RETRIES;
	    tries++) {
		if (tries > 0)
			rd_retry_nap(tries);
		chunk_clear(ch);
		e = chunk_once(r, rc->c, ch, now, fn, arg, &done);
	}
	rd_conn_put(r, rc);
	if (e == LW_OK && !done) {
		log_warnx("state: redis %s: %zu keys from %s changed %d times "
		    "under us", rd_where(r), ch->n, ch->keys[0],
		    RD_UPDATE_RETRIES);
		e = LW_EIO;
	}
	return e;
}

enum lw_err
rd_update_many(struct state *st, const char *const *keys, size_t n,
    time_t now, state_update_many_fn fn, void *arg)
{
	struct redis	*r = st->priv;
	struct chunk	 ch;
	size_t		 max = n < RD_MANY_CHUNK ? n : RD_MANY_CHUNK, i, j;
	enum lw_err	 e = LW_OK;

	if (n == 0)
		return LW_OK;
	memset(&ch, 0, sizeof(ch));
	ch.argv = calloc(max + 1, sizeof(*ch.argv));
	ch.lens = calloc(max + 1, sizeof(*ch.lens));
	ch.nv = calloc(max, sizeof(*ch.nv));
	ch.what = calloc(max, sizeof(*ch.what));
	if (ch.argv == NULL || ch.lens == NULL || ch.nv == NULL ||
	    ch.what == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	for (i = 0; i < n && e == LW_OK; i += ch.n) {
		ch.keys = keys + i;
		ch.base = i;
		ch.n = n - i < max ? n - i : max;
		e = chunk_run(r, &ch, now, fn, arg);
		chunk_clear(&ch);
		for (j = 1; j <= ch.n; j++) {
			free((char *)ch.argv[j]);
			ch.argv[j] = NULL;
		}
	}
out:
	free(ch.argv);
	free(ch.lens);
	free(ch.nv);
	free(ch.what);
	return e;
}
