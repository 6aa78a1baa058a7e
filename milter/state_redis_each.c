/*
 * state_redis_each.c: walking the keys of the Redis backend (see
 * state_redis.c): state_each, and the indexes that spare the server a
 * walk of all its keys (SCAN), whatever else it holds.
 *
 * The namespaces of state.h (STATE_NS_*: pending items, the quarantine
 * index, outbreak records, learned relationships, metrics) are indexed:
 * a key's bucket is the key up to its namespace's depth-th ':' (fewer
 * if it has fewer), e.g. "quarantine:mx1:" (a set per host) or
 * "learn:ORG:L:", and the sorted set KEY_PREFIX "index:" BUCKET lists
 * the bucket's keys, scored by expiry (+inf: never).  A namespace of
 * depth 2 or more also keeps the set of its buckets, KEY_PREFIX
 * "indexes:" NAMESPACE (never pruned: a few hosts, orgs and letters).
 * state_redis.c writes the entries in the same MULTI ... EXEC (or
 * script) as the key, and removes the key's entry with it.
 *
 * A walk of a prefix reads its bucket (or, for a prefix shallower than
 * the buckets, the buckets the namespace's set names): per bucket, a
 * bounded prune of the expired entries (PRUNE_MAX at most, a script:
 * the lowest scores are the expired ones) and ZRANGEBYSCORE of the live
 * ones EACH_PAGE at a time, then one MGET per EACH_BATCH keys; an entry
 * whose key the server dropped is removed on the way.  A key written or
 * removed during a walk of more than EACH_PAGE entries may be missed or
 * seen twice (the pages are by rank).  Keys written before the indexes
 * (an older lurewall) are indexed once per server and namespace, by the
 * first writing state to open (or, if the server was away then, to
 * walk): a SCAN, then the marker KEY_PREFIX "index:" NAMESPACE "built".  Other prefixes are walked with SCAN
 * MATCH and MGET, EACH_BATCH keys at a time.
 *
 * Bounds: a page of EACH_PAGE entries in memory at a time.  Ignores
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
#define EACH_PAGE	10000		/* index entries read at a time */
#define PRUNE_MAX	"1000"		/* expired entries removed a walk */
#define INDEX_PFX	"index:"
#define INDEXES_PFX	"indexes:"

/* The indexed namespaces, and how many of a key's ':' its bucket has. */
static const struct rd_ns {
	const char	*name;
	int		 depth;
} namespaces[RD_NS_MAX] = {
	{ STATE_NS_PENDING, 1 },
	{ STATE_NS_QUARANTINE, 2 },	/* quarantine:HOST: */
	{ STATE_NS_OUTBREAK, 1 },
	{ STATE_NS_LEARN, 3 },		/* learn:ORG:LETTER: */
	{ STATE_NS_METRICS, 1 },
};

/*
 * KEYS[1] an index; ARGV[1] now, ARGV[2] the most to remove.  The
 * expired entries have the lowest scores: remove the first of them.
 */
static const char prune_lua[] =
    "local n = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])\n"
    "if n > tonumber(ARGV[2]) then n = tonumber(ARGV[2]) end\n"
    "if n > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - 1) end\n"
    "return n\n";

/* The namespace key is under, or -1. */
static int
ns_of(const char *key)
{
	int	i;

	for (i = 0; i < RD_NS_MAX; i++)
		if (strncmp(key, namespaces[i].name,
		    strlen(namespaces[i].name)) == 0)
			return i;
	return -1;
}

/* How long key's bucket is: up to its depth-th ':' (or its last). */
static size_t
bucket_len(const char *key, int depth)
{
	size_t	i, len = 0;
	int	seen = 0;

	for (i = 0; key[i] != '\0' && seen < depth; i++)
		if (key[i] == ':') {
			len = i + 1;
			seen++;
		}
	return len;
}

/* How many ':' s holds. */
static int
colons(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == ':';
	return n;
}

bool
rd_indexed(const char *key)
{
	return ns_of(key) >= 0;
}

/* The server's name of pfx + the first len bytes of s. */
static char *
key_of2(const struct redis *r, const char *pfx, const char *s, size_t len,
    size_t *outlen)
{
	char	buf[STATE_KEY_MAX + 32];
	size_t	plen = strlen(pfx);

	if (len > STATE_KEY_MAX)
		return NULL;
	memcpy(buf, pfx, plen);
	memcpy(buf + plen, s, len);
	buf[plen + len] = '\0';
	return rd_key(r, buf, outlen);
}

char *
rd_index_key(const struct redis *r, const char *key, size_t *len)
{
	int	i = ns_of(key);

	if (i < 0)
		return NULL;
	return key_of2(r, INDEX_PFX, key, bucket_len(key,
	    namespaces[i].depth), len);
}

char *
rd_buckets_key(const struct redis *r, const char *key, size_t *len,
    const char **bucket, size_t *blen)
{
	int	i = ns_of(key);

	if (i < 0 || namespaces[i].depth < 2)
		return NULL;
	*bucket = key;
	*blen = bucket_len(key, namespaces[i].depth);
	return key_of2(r, INDEXES_PFX, namespaces[i].name,
	    strlen(namespaces[i].name), len);
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
	const char	*bucket;
	size_t		 iklen, bklen, blen;
	char		*ik, *bk = NULL, score[32], b[STATE_KEY_MAX + 1];
	int		 n = 1;

	if (idx == IDX_NONE || !rd_indexed(key))
		return 0;
	if ((ik = rd_index_key(r, key, &iklen)) == NULL)
		return -1;
	if (idx == IDX_ADD && (bk = rd_buckets_key(r, key, &bklen, &bucket,
	    &blen)) != NULL) {
		memcpy(b, bucket, blen);
		b[blen] = '\0';
	}
	rd_index_score(expires, score);
	if (idx == IDX_ADD)
		append_ik(c, "ZADD", ik, iklen,
		    (const char *[]){ score, key, NULL });
	else
		append_ik(c, "ZREM", ik, iklen, (const char *[]){ key, NULL });
	if (bk != NULL) {
		append_ik(c, "SADD", bk, bklen, (const char *[]){ b, NULL });
		n++;
	}
	free(bk);
	free(ik);
	return n;
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

/* A state_each_fn: the index entries of one key an older one wrote. */
static enum lw_err
index_one(void *arg, const char *key, const struct state_val *v)
{
	struct redis	*r = arg;
	struct rconn	*rc;
	redisReply	*rep;
	enum lw_err	 e = LW_ENOMEM;
	int		 n;

	if ((rc = rd_conn_get(r)) == NULL)
		return LW_EIO;
	if ((n = rd_index_append(r, rc->c, key, IDX_ADD, v->expires)) > 0 &&
	    (e = rd_exec_replies(r, rc->c, n, &rep)) == LW_OK)
		freeReplyObject(rep);
	rd_conn_put(r, rc);
	return e;
}

/* The server's name of namespace ns's marker. */
static char *
marker_of(const struct redis *r, int ns, size_t *len)
{
	char	name[64];

	snprintf(name, sizeof(name), INDEX_PFX "%sbuilt",
	    namespaces[ns].name);
	return rd_key(r, name, len);
}

/* Forget ns's marker (the build failed): the next walk tries again. */
static void
build_undo(struct redis *r, int ns, bool set)
{
	struct rconn	*rc;
	redisReply	*rep;
	size_t		 len;
	char		*mk;

	if (set && (mk = marker_of(r, ns, &len)) != NULL) {
		if ((rc = rd_conn_get(r)) != NULL) {
			if ((rep = rd_cmd(rc->c, 2, (const char *[]){ "DEL",
			    mk }, (const size_t[]){ 3, len })) != NULL)
				freeReplyObject(rep);
			rd_conn_put(r, rc);
		}
		free(mk);
	}
	pthread_mutex_lock(&r->mu);
	r->index_built[ns] = false;
	pthread_mutex_unlock(&r->mu);
}

/*
 * Whether this state builds ns's index: not yet tried here, and the
 * first writer on the server to set its marker (the others find it
 * set).  Failed (unreachable): not now, the next walk tries again.
 */
static bool
build_claim(struct redis *r, int ns)
{
	struct rconn	*rc;
	redisReply	*rep;
	const char	*argv[4] = { "SET", NULL, "1", "NX" };
	size_t		 lens[4] = { 3, 0, 1, 2 };
	char		*mk;
	bool		 mine;

	pthread_mutex_lock(&r->mu);
	mine = !r->index_built[ns];
	r->index_built[ns] = true;
	pthread_mutex_unlock(&r->mu);
	if (!mine)
		return false;
	if ((mk = marker_of(r, ns, &lens[1])) == NULL ||
	    (rc = rd_conn_get(r)) == NULL) {
		free(mk);
		build_undo(r, ns, false);
		return false;
	}
	argv[1] = mk;
	rep = rd_cmd(rc->c, 4, argv, lens);
	free(mk);
	if (rd_reply_err(r, rc->c, rep) != LW_OK) {
		rd_conn_put(r, rc);
		build_undo(r, ns, false);
		return false;
	}
	rd_conn_put(r, rc);
	mine = rep->type == REDIS_REPLY_STATUS;		/* else nil: set */
	freeReplyObject(rep);
	return mine;
}

/* What build_some indexes: the keys of the namespaces it won. */
struct build {
	struct redis	*r;
	bool		 mine[RD_NS_MAX];
};

static enum lw_err
build_one(void *arg, const char *key, const struct state_val *v)
{
	struct build	*b = arg;
	int		 ns = ns_of(key);

	if (ns < 0 || !b->mine[ns])
		return LW_OK;
	return index_one(b->r, key, v);
}

/*
 * Index what an older lurewall wrote in the namespaces nsv whose
 * markers this state sets first: one SCAN for all of them.
 */
static void
build_some(struct redis *r, const int *nsv, int n, time_t now)
{
	struct build	 b;
	int		 i, won = 0;

	memset(&b, 0, sizeof(b));
	b.r = r;
	for (i = 0; i < n; i++)
		won += b.mine[nsv[i]] = build_claim(r, nsv[i]);
	if (won == 0)
		return;
	if (scan_each(r, n == 1 ? namespaces[nsv[0]].name : "", now,
	    build_one, &b) != LW_OK) {
		for (i = 0; i < RD_NS_MAX; i++)
			if (b.mine[i])
				build_undo(r, i, true);
		return;
	}
	for (i = 0; i < RD_NS_MAX; i++)
		if (b.mine[i])
			log_info("state: redis %s: the index of %s is built",
			    rd_where(r), namespaces[i].name);
}

/* Once per server and namespace ns (a walk's, if the open's failed). */
static void
index_build(struct redis *r, int ns, time_t now)
{
	build_some(r, &ns, 1, now);
}

void
rd_index_build_all(struct redis *r, time_t now)
{
	int	nsv[RD_NS_MAX], i;

	for (i = 0; i < RD_NS_MAX; i++)
		nsv[i] = i;
	build_some(r, nsv, RD_NS_MAX, now);
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
 * One page of the index's live entries, from rank off, in *members;
 * the first page of a writing state prunes the expired first (at most
 * PRUNE_MAX): one round trip.
 */
static enum lw_err
index_range(struct redis *r, redisContext *c, const char *ik,
    size_t iklen, time_t now, bool prune, size_t off, redisReply **members)
{
	char		 nowbuf[32], after[34], offbuf[32], limit[32];
	enum lw_err	 e;

	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	snprintf(after, sizeof(after), "(%lld", (long long)now);
	snprintf(offbuf, sizeof(offbuf), "%zu", off);
	snprintf(limit, sizeof(limit), "%d", EACH_PAGE);
	if (prune)
		redisAppendCommandArgv(c, 6, (const char *[]){ "EVAL",
		    prune_lua, "1", ik, nowbuf, PRUNE_MAX },
		    (const size_t[]){ 4, sizeof(prune_lua) - 1, 1, iklen,
		    strlen(nowbuf), sizeof(PRUNE_MAX) - 1 });
	append_ik(c, "ZRANGEBYSCORE", ik, iklen,
	    (const char *[]){ after, "+inf", "LIMIT", offbuf, limit, NULL });
	e = rd_exec_replies(r, c, prune ? 2 : 1, members);
	if (e == LW_OK && (*members)->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(*members);
		*members = NULL;
		e = LW_EIO;
	}
	return e;
}

/*
 * One page of bucket's index (ik): its entries under prefix, read with
 * MGET EACH_BATCH at a time.  *n: the entries on the page, *dropped:
 * those removed as gone (the next page starts that much earlier).
 */
static enum lw_err
page_each(struct state *st, redisContext *c, const char *ik, size_t iklen,
    const char *prefix, time_t now, size_t off, state_each_fn fn,
    void *arg, size_t *n, size_t *dropped)
{
	struct redis	*r = st->priv;
	redisReply	*members = NULL, *el;
	const char	**kv = NULL;
	size_t		*kl = NULL, *pos = NULL, plen = strlen(prefix);
	size_t		 i, m = 0, done;
	bool		*gone = NULL;
	enum lw_err	 e;

	*n = *dropped = 0;
	if ((e = index_range(r, c, ik, iklen, now, off == 0 && !st->readonly,
	    off, &members)) != LW_OK)
		return e;
	*n = members->elements;
	kv = calloc(*n + 1, sizeof(*kv));
	kl = calloc(*n + 1, sizeof(*kl));
	pos = calloc(*n + 1, sizeof(*pos));
	gone = calloc(*n + 1, sizeof(*gone));
	if (kv == NULL || kl == NULL || pos == NULL || gone == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	/* The entries under prefix, as the server's keys. */
	for (i = 0; i < *n; i++) {
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
		e = mget_each(r, c, kv + done, kl + done, m - done <
		    EACH_BATCH ? m - done : EACH_BATCH, now, fn, arg,
		    gone + done);
	for (i = 0; i < m; i++)
		*dropped += gone[i];
	if (*dropped > 0 && !st->readonly)
		index_prune(r, c, ik, iklen, members, pos, gone, m);
	else
		*dropped = 0;
out:
	for (i = 0; i < m; i++)
		free((char *)kv[i]);
	freeReplyObject(members);
	free(kv);
	free(kl);
	free(pos);
	free(gone);
	return e;
}

/* Every key under prefix in one bucket (its first blen bytes). */
static enum lw_err
bucket_each(struct state *st, redisContext *c, const char *bucket,
    size_t blen, const char *prefix, time_t now, state_each_fn fn,
    void *arg)
{
	struct redis	*r = st->priv;
	size_t		 iklen, off = 0, n, dropped;
	char		*ik;
	enum lw_err	 e;

	if ((ik = key_of2(r, INDEX_PFX, bucket, blen, &iklen)) == NULL)
		return LW_ENOMEM;
	do {
		e = page_each(st, c, ik, iklen, prefix, now, off, fn, arg, &n,
		    &dropped);
		off += n - dropped;
	} while (e == LW_OK && n == EACH_PAGE);
	free(ik);
	return e;
}

/*
 * Every key under a prefix shallower than its namespace's buckets:
 * through each bucket the namespace's set names that may hold some.
 */
static enum lw_err
buckets_each(struct state *st, redisContext *c, const char *prefix,
    time_t now, state_each_fn fn, void *arg)
{
	struct redis	*r = st->priv;
	redisReply	*rep, *el;
	const char	*bucket, *argv[2] = { "SMEMBERS" };
	size_t		 lens[2] = { 8 }, blen, plen = strlen(prefix), i, len;
	char		*bk, b[STATE_KEY_MAX + 1];
	int		 pc = colons(prefix);
	enum lw_err	 e;

	if ((bk = rd_buckets_key(r, prefix, &lens[1], &bucket, &blen)) ==
	    NULL)
		return LW_ENOMEM;
	argv[1] = bk;
	rep = rd_cmd(c, 2, argv, lens);
	free(bk);
	if ((e = rd_reply_err(r, c, rep)) != LW_OK)
		return e;
	for (i = 0; e == LW_OK && rep->type == REDIS_REPLY_ARRAY &&
	    i < rep->elements; i++) {
		el = rep->element[i];
		if (el->type != REDIS_REPLY_STRING || el->len > STATE_KEY_MAX)
			continue;
		/*
		 * Under prefix; or above it, holding keys of its own
		 * number of ':' only (it is shallower than the buckets'
		 * depth): then prefix must have as many.
		 */
		len = el->len < plen ? el->len : plen;
		if (memcmp(el->str, prefix, len) != 0)
			continue;
		if (el->len < plen) {
			memcpy(b, el->str, el->len);
			b[el->len] = '\0';
			if (colons(b) != pc)
				continue;
		}
		e = bucket_each(st, c, el->str, el->len, prefix, now, fn, arg);
	}
	freeReplyObject(rep);
	return e;
}

/* Every key under prefix (in namespace ns) through the indexes. */
static enum lw_err
index_each(struct state *st, int ns, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	enum lw_err	 e;

	if (!st->readonly)
		index_build(r, ns, now);
	if ((rc = rd_conn_get(r)) == NULL)
		return LW_EIO;
	if (colons(prefix) >= namespaces[ns].depth)
		e = bucket_each(st, rc->c, prefix, bucket_len(prefix,
		    namespaces[ns].depth), prefix, now, fn, arg);
	else
		e = buckets_each(st, rc->c, prefix, now, fn, arg);
	rd_conn_put(r, rc);
	return e;
}

/*
 * state_each: through the indexes under a namespace of state.h, else
 * SCAN (a prefix shorter than a namespace holds other keys too).
 */
enum lw_err
rd_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	int	ns;

	if ((ns = ns_of(prefix)) >= 0)
		return index_each(st, ns, prefix, now, fn, arg);
	return scan_each(st->priv, prefix, now, fn, arg);
}
