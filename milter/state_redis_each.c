/*
 * state_redis_each.c: walking the keys of the Redis backend (see
 * state_redis.c): state_each, and the index that spares the server a
 * walk of all its keys where the walk runs per message.
 *
 * A prefix under STATE_NS_PENDING (the split-PPAP pending items, looked
 * at for every message with a password in it) is walked through the
 * sorted set KEY_PREFIX "index:pending:" of the caller's keys, scored by
 * expiry (+inf: never).  state_redis.c writes the entry in the same
 * MULTI ... EXEC (or script) as the key, and removes it with the key.
 * A walk is one round trip (entries expired by the caller's now pruned,
 * the live ones read) and one MGET per EACH_BATCH keys; an entry whose
 * key the server dropped is removed on the way.  Keys written before
 * the index (an older lurewall) are indexed once per server, by the
 * first walk of a writing state (a SCAN, then the marker
 * "index:pending:built").  Other prefixes are walked with SCAN MATCH
 * and MGET, EACH_BATCH keys at a time.
 *
 * Bounds: an index walk reads at most STATE_LIST_MAX entries.  Ignores
 * values that are not ours (no expiry header) and lists.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "state.h"
#include "state_redis_int.h"

#define EACH_BATCH	500		/* keys of one SCAN or MGET */
#define EACH_BATCH_S	"500"
#define INDEX_NAME	"index:" STATE_NS_PENDING
#define INDEX_BUILT	INDEX_NAME "built"

bool
rd_indexed(const char *key)
{
	return strncmp(key, STATE_NS_PENDING, sizeof(STATE_NS_PENDING) - 1) ==
	    0;
}

char *
rd_index_key(const struct redis *r, const char *key, size_t *len)
{
	return rd_key(r, INDEX_NAME, len);
}

void
rd_index_score(time_t expires, char buf[32])
{
	if (expires == 0)
		snprintf(buf, 32, "+inf");
	else
		snprintf(buf, 32, "%lld", (long long)expires);
}

/* Append verb, the index ik, then the NULL-ended args to c's pipeline. */
static void
append_ik(redisContext *c, const char *verb, const char *ik, size_t iklen,
    const char *const *args)
{
	const char	*argv[8];
	size_t		 lens[8];
	int		 n = 2;

	argv[0] = verb;
	lens[0] = strlen(verb);
	argv[1] = ik;
	lens[1] = iklen;
	for (; *args != NULL && n < 8; args++, n++) {
		argv[n] = *args;
		lens[n] = strlen(*args);
	}
	redisAppendCommandArgv(c, n, argv, lens);
}

int
rd_index_append(struct redis *r, redisContext *c, const char *key,
    enum rd_idx idx, time_t expires)
{
	size_t	 iklen;
	char	*ik, score[32];

	if (idx == IDX_NONE || !rd_indexed(key))
		return 0;
	if ((ik = rd_index_key(r, key, &iklen)) == NULL)
		return -1;
	rd_index_score(expires, score);
	if (idx == IDX_ADD)
		append_ik(c, "ZADD", ik, iklen,
		    (const char *[]){ score, key, NULL });
	else
		append_ik(c, "ZREM", ik, iklen, (const char *[]){ key, NULL });
	free(ik);
	return 1;
}

/*
 * MGET the n server keys k (lengths kl) on rc and call fn with each
 * live value's key, the prefix taken off.  gone (may be NULL): set for
 * the keys with no string value (dropped, or not ours).
 */
static enum lw_err
mget_each(struct redis *r, redisContext *c, const char **k,
    const size_t *kl, size_t n, time_t now, state_each_fn fn, void *arg,
    bool *gone)
{
	struct state_val	 v;
	redisReply		*vals, *el;
	const char		**mv;
	size_t			*ml, i;
	char			 key[STATE_KEY_MAX + 1];
	enum lw_err		 e;

	mv = calloc(n + 1, sizeof(*mv));
	ml = calloc(n + 1, sizeof(*ml));
	if (mv == NULL || ml == NULL) {
		free(mv);
		free(ml);
		return LW_ENOMEM;
	}
	mv[0] = "MGET";
	ml[0] = 4;
	memcpy(mv + 1, k, n * sizeof(*mv));
	memcpy(ml + 1, kl, n * sizeof(*ml));
	vals = rd_cmd(c, (int)n + 1, mv, ml);
	free(mv);
	free(ml);
	if ((e = rd_reply_err(r, c, vals)) != LW_OK)
		return e;
	for (i = 0; e == LW_OK && vals->type == REDIS_REPLY_ARRAY &&
	    i < vals->elements && i < n; i++) {
		el = vals->element[i];
		if (el->type != REDIS_REPLY_STRING) {
			if (gone != NULL)
				gone[i] = true;
			continue;	/* dropped, or a list */
		}
		if (kl[i] - r->plen > STATE_KEY_MAX ||
		    rd_decode(el->str, el->len, now, &v) != LW_OK)
			continue;
		memcpy(key, k[i] + r->plen, kl[i] - r->plen);
		key[kl[i] - r->plen] = '\0';
		e = fn(arg, key, &v);
		state_val_free(&v);
	}
	freeReplyObject(vals);
	return e;
}

/* The glob for SCAN MATCH: the prefix with * ? [ ] \ escaped, then *. */
static char *
glob_of(const char *p, size_t len, size_t *outlen)
{
	char	*g, *q;
	size_t	 i;

	if ((g = malloc(2 * len + 2)) == NULL)
		return NULL;
	for (q = g, i = 0; i < len; i++) {
		if (strchr("*?[]\\", p[i]) != NULL)
			*q++ = '\\';
		*q++ = p[i];
	}
	*q++ = '*';
	*q = '\0';
	*outlen = (size_t)(q - g);
	return g;
}

/* Every key under prefix, SCAN MATCH and MGET a batch at a time. */
static enum lw_err
scan_each(struct redis *r, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct rconn		*rc;
	redisReply		*rep, *keys;
	const char		*argv[6], **kv = NULL;
	size_t			 lens[6], *kl = NULL, plen, glen, i;
	char			*full, *glob, cursor[32] = "0";
	enum lw_err		 e;

	if ((full = rd_key(r, prefix, &plen)) == NULL)
		return LW_ENOMEM;
	glob = glob_of(full, plen, &glen);
	free(full);
	kv = calloc(EACH_BATCH * 2, sizeof(*kv));
	kl = calloc(EACH_BATCH * 2, sizeof(*kl));
	if (glob == NULL || kv == NULL || kl == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	if ((rc = rd_conn_get(r)) == NULL) {
		e = LW_EIO;
		goto out;
	}
	do {
		argv[0] = "SCAN";
		argv[1] = cursor;
		argv[2] = "MATCH";
		argv[3] = glob;
		argv[4] = "COUNT";
		argv[5] = EACH_BATCH_S;
		for (i = 0; i < 6; i++)
			lens[i] = i == 3 ? glen : strlen(argv[i]);
		rep = rd_cmd(rc->c, 6, argv, lens);
		if ((e = rd_reply_err(r, rc->c, rep)) != LW_OK)
			break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rep);
			e = LW_EIO;
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		keys = rep->element[1];
		/* COUNT is a hint: a batch may hold a few more. */
		for (i = 0; i < keys->elements && i < EACH_BATCH * 2; i++) {
			kv[i] = keys->element[i]->str;
			kl[i] = keys->element[i]->len;
		}
		if (i > 0)
			e = mget_each(r, rc->c, kv, kl, i, now, fn, arg, NULL);
		freeReplyObject(rep);
	} while (e == LW_OK && strcmp(cursor, "0") != 0);
	rd_conn_put(r, rc);
out:
	free(kv);
	free(kl);
	free(glob);
	return e;
}

/* A state_each_fn: the index entry of one pending key. */
static enum lw_err
index_one(void *arg, const char *key, const struct state_val *v)
{
	struct redis	*r = arg;
	struct rconn	*rc;
	redisReply	*rep;
	enum lw_err	 e = LW_ENOMEM;

	if ((rc = rd_conn_get(r)) == NULL)
		return LW_EIO;
	if (rd_index_append(r, rc->c, key, IDX_ADD, v->expires) == 1 &&
	    (e = rd_exec_replies(r, rc->c, 1, &rep)) == LW_OK)
		freeReplyObject(rep);
	rd_conn_put(r, rc);
	return e;
}

/*
 * Once per server: index the pending keys an older lurewall wrote (the
 * first writer to set the marker does it; the others find it set).
 */
static void
index_build(struct redis *r, time_t now)
{
	struct rconn	*rc;
	redisReply	*rep;
	const char	*argv[4] = { "SET", NULL, "1", "NX" };
	size_t		 lens[4] = { 3, 0, 1, 2 };
	char		*mk;
	bool		 mine;

	pthread_mutex_lock(&r->mu);
	mine = !r->index_built;
	r->index_built = true;
	pthread_mutex_unlock(&r->mu);
	if (!mine)
		return;
	if ((mk = rd_key(r, INDEX_BUILT, &lens[1])) == NULL ||
	    (rc = rd_conn_get(r)) == NULL)
		goto out_again;
	argv[1] = mk;
	rep = rd_cmd(rc->c, 4, argv, lens);
	if (rd_reply_err(r, rc->c, rep) != LW_OK) {
		rd_conn_put(r, rc);
		goto out_again;
	}
	rd_conn_put(r, rc);
	mine = rep->type == REDIS_REPLY_STATUS;		/* else nil: set */
	freeReplyObject(rep);
	if (mine) {
		if (scan_each(r, STATE_NS_PENDING, now, index_one, r) != LW_OK)
			goto out_unmark;
		log_info("state: redis %s: the pending items' index is built",
		    rd_where(r));
	}
	free(mk);
	return;
out_unmark:
	if ((rc = rd_conn_get(r)) != NULL) {
		if ((rep = rd_cmd(rc->c, 2, (const char *[]){ "DEL", mk },
		    (const size_t[]){ 3, lens[1] })) != NULL)
			freeReplyObject(rep);
		rd_conn_put(r, rc);
	}
out_again:
	pthread_mutex_lock(&r->mu);
	r->index_built = false;		/* the next walk tries again */
	pthread_mutex_unlock(&r->mu);
	free(mk);
}

/* ZREM the entries whose keys are gone (best effort: a later walk). */
static void
index_prune(struct redis *r, redisContext *c, const char *ik, size_t iklen,
    redisReply *members, const size_t *pos, const bool *gone, size_t m)
{
	redisReply	*rep;
	const char	**argv;
	size_t		 *lens, i, n = 2;

	argv = calloc(m + 2, sizeof(*argv));
	lens = calloc(m + 2, sizeof(*lens));
	if (argv == NULL || lens == NULL)
		goto out;
	argv[0] = "ZREM";
	lens[0] = 4;
	argv[1] = ik;
	lens[1] = iklen;
	for (i = 0; i < m; i++)
		if (gone[i]) {
			argv[n] = members->element[pos[i]]->str;
			lens[n++] = members->element[pos[i]]->len;
		}
	if (n > 2 && (rep = rd_cmd(c, (int)n, argv, lens)) != NULL &&
	    rd_reply_err(r, c, rep) == LW_OK)
		freeReplyObject(rep);
out:
	free(argv);
	free(lens);
}

/*
 * The index's live entries (the expired pruned first, unless readonly)
 * in *members: one round trip.
 */
static enum lw_err
index_range(struct redis *r, redisContext *c, const char *ik,
    size_t iklen, time_t now, bool readonly, redisReply **members)
{
	char		 nowbuf[32], after[34], limit[32];
	enum lw_err	 e;

	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	snprintf(after, sizeof(after), "(%lld", (long long)now);
	snprintf(limit, sizeof(limit), "%d", STATE_LIST_MAX);
	if (!readonly)
		append_ik(c, "ZREMRANGEBYSCORE", ik, iklen,
		    (const char *[]){ "-inf", nowbuf, NULL });
	append_ik(c, "ZRANGEBYSCORE", ik, iklen,
	    (const char *[]){ after, "+inf", "LIMIT", "0", limit, NULL });
	e = rd_exec_replies(r, c, readonly ? 1 : 2, members);
	if (e == LW_OK && (*members)->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(*members);
		*members = NULL;
		e = LW_EIO;
	}
	return e;
}

/* Every key under prefix (indexed) through the index. */
static enum lw_err
index_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*members = NULL, *el;
	const char	**kv = NULL;
	size_t		*kl = NULL, *pos = NULL, iklen, plen = strlen(prefix);
	size_t		 i, n, m = 0, done;
	char		*ik;
	bool		*gone = NULL, stale = false;
	enum lw_err	 e;

	if (!st->readonly)
		index_build(r, now);
	if ((e = rd_conn_key(r, INDEX_NAME, &ik, &iklen, &rc)) != LW_OK)
		return e;
	if ((e = index_range(r, rc->c, ik, iklen, now, st->readonly,
	    &members)) != LW_OK)
		goto out;
	n = members->elements;
	kv = calloc(n + 1, sizeof(*kv));
	kl = calloc(n + 1, sizeof(*kl));
	pos = calloc(n + 1, sizeof(*pos));
	gone = calloc(n + 1, sizeof(*gone));
	if (kv == NULL || kl == NULL || pos == NULL || gone == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	/* The entries under prefix, as the server's keys. */
	for (i = 0; i < n; i++) {
		el = members->element[i];
		if (el->type != REDIS_REPLY_STRING || el->len > STATE_KEY_MAX ||
		    strncmp(el->str, prefix, plen) != 0)
			continue;
		if ((kv[m] = rd_key(r, el->str, &kl[m])) == NULL) {
			e = LW_ENOMEM;
			goto out;
		}
		pos[m++] = i;
	}
	for (done = 0; e == LW_OK && done < m; done += EACH_BATCH)
		e = mget_each(r, rc->c, kv + done, kl + done, m - done <
		    EACH_BATCH ? m - done : EACH_BATCH, now, fn, arg,
		    gone + done);
	for (i = 0; i < m; i++)
		stale |= gone[i];
	if (stale && !st->readonly)
		index_prune(r, rc->c, ik, iklen, members, pos, gone, m);
out:
	if (kv != NULL)
		for (i = 0; i < m; i++)
			free((char *)kv[i]);
	if (members != NULL)
		freeReplyObject(members);
	free(kv);
	free(kl);
	free(pos);
	free(gone);
	rd_conn_put(r, rc);
	free(ik);
	return e;
}

/*
 * state_each: through the index under STATE_NS_PENDING, else SCAN
 * (a prefix shorter than the index's namespace holds other keys too).
 */
enum lw_err
rd_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	if (rd_indexed(prefix))
		return index_each(st, prefix, now, fn, arg);
	return scan_each(st->priv, prefix, now, fn, arg);
}
