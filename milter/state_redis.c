/*
 * state_redis.c: the state on a Redis server (state.backend: redis),
 * shared by every host that names the same server and key prefix.
 *
 * Connections (state_redis_conn.c): a hiredis 0.14 context is not
 * thread-safe, so the state keeps a locked pool of at most POOL_MAX
 * contexts; a thread takes one for one operation (several commands
 * for a WATCH/MULTI) and gives it back.  A context that failed is
 * freed; the next connect waits for the backoff (0.5 s doubling to
 * 5 s), and until then every operation fails at once with LW_EIO, so a
 * dead server costs no message a timeout each.  The failure is logged once a minute, not per message.  Each
 * connection sends AUTH (with the username when one is set: Redis 6
 * ACLs) and SELECT.  A refused AUTH names state.redis.password (or
 * username); a refused command (an ACL) names the key prefix.
 *
 * Keys are key_prefix + the caller's key.  A value is 16 hex digits of
 * expiry (0 = never) and the caller's bytes; the server also gets a TTL
 * (the expiry minus the caller's now), so it removes what expired and
 * the expiry test agrees with the other backends when time is injected.
 * Claims (state_add) and counters (state_incr) are one Lua script each,
 * atomic on the server: of two hosts adding one key, exactly one wins;
 * state_take is GETDEL (Redis 6.2); state_update is WATCH, GET, MULTI,
 * SET or DEL, EXEC, retried when another client changed the key;
 * state_update_many the same for many keys at once, in two round
 * trips (state_redis_many.c).
 * Lists (state_push, state_pop) are Redis lists (RPUSH+LTRIM, LPOP);
 * their expiry is the key's TTL only; state_pop_wait is BLPOP on a
 * connection of its own.
 *
 * Not here: TLS (hiredis 0.14 has none: tunnel it, see contrib/MULTI-MX).
 */
#include <sys/time.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "state.h"
#include "state_redis_int.h"

#define HDR			16

/*
 * KEYS[1] the key; ARGV[1] the value with its header, ARGV[2] now,
 * ARGV[3] the TTL in ms (0: none).  1 when stored, 0 when present.
 * An indexed key: KEYS[2] its index, ARGV[4] the score, ARGV[5] the
 * key; KEYS[3] its namespace's set of buckets, ARGV[6] its bucket.
 */
static const char add_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  local e = tonumber(string.sub(v, 1, 16), 16)\n"
    "  if e == nil or e == 0 or e > tonumber(ARGV[2]) then\n"
    "    return 0\n"
    "  end\n"
    "end\n"
    "if tonumber(ARGV[3]) > 0 then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])\n"
    "else\n"
    "  redis.call('SET', KEYS[1], ARGV[1])\n"
    "end\n"
    "if KEYS[2] then\n"
    "  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])\n"
    "end\n"
    "if KEYS[3] then\n"
    "  redis.call('SADD', KEYS[3], ARGV[6])\n"
    "end\n"
    "return 1\n";

/*
 * KEYS[1] the counter; ARGV[1] delta, ARGV[2] now, ARGV[3] the expiry
 * of a new counter (0: never).  Returns the new value.  An indexed
 * key as add_lua's: KEYS[2], ARGV[5] the key; KEYS[3], ARGV[6].
 */
static const char incr_lua[] =
    "local now = tonumber(ARGV[2])\n"
    "local e = tonumber(ARGV[3])\n"
    "local n = 0\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  local oe = tonumber(string.sub(v, 1, 16), 16)\n"
    "  if oe ~= nil and (oe == 0 or oe > now) then\n"
    "    e = oe\n"
    "    n = tonumber(string.sub(v, 17)) or 0\n"
    "  end\n"
    "end\n"
    "n = n + tonumber(ARGV[1])\n"
    "local s = string.format('%016x', e) .. string.format('%d', n)\n"
    "if e > 0 then\n"
    "  redis.call('SET', KEYS[1], s, 'PX', math.max(1, (e - now) * 1000))\n"
    "else\n"
    "  redis.call('SET', KEYS[1], s)\n"
    "end\n"
    "if KEYS[2] then\n"
    "  redis.call('ZADD', KEYS[2], e > 0 and e or '+inf', ARGV[5])\n"
    "end\n"
    "if KEYS[3] then\n"
    "  redis.call('SADD', KEYS[3], ARGV[6])\n"
    "end\n"
    "return n\n";

static void
sha1_hex(const char *s, char out[41])
{
	unsigned char	md[20];
	unsigned	mdlen = 0;
	size_t		i;

	if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20) {
		out[0] = '\0';
		return;
	}
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

unsigned char *
rd_encode(const void *val, size_t len, time_t expires, size_t *outlen)
{
	unsigned char	*p;
	char		 hdr[HDR + 1];

	if ((p = malloc(HDR + len + 1)) == NULL)
		return NULL;
	snprintf(hdr, sizeof(hdr), "%016" PRIx64,
	    (uint64_t)(expires < 0 ? 0 : expires));
	memcpy(p, hdr, HDR);
	if (len > 0)
		memcpy(p + HDR, val, len);
	*outlen = HDR + len;
	return p;
}

/* A stored value to a state_val; LW_ENOTFOUND when expired or damaged. */
enum lw_err
rd_decode(const char *s, size_t len, time_t now, struct state_val *v)
{
	char		hdr[HDR + 1], *end;
	uint64_t	t;

	memset(v, 0, sizeof(*v));
	if (len < HDR)
		return LW_ENOTFOUND;
	memcpy(hdr, s, HDR);
	hdr[HDR] = '\0';
	t = strtoull(hdr, &end, 16);
	if (*end != '\0' || t > INT64_MAX)
		return LW_ENOTFOUND;
	if (state_expired((time_t)t, now))
		return LW_ENOTFOUND;
	if ((v->data = malloc(len - HDR + 1)) == NULL)
		return LW_ENOMEM;
	memcpy(v->data, s + HDR, len - HDR);
	v->data[len - HDR] = '\0';
	v->len = len - HDR;
	v->expires = (time_t)t;
	return LW_OK;
}

void
rd_ttl_ms(time_t expires, time_t now, char buf[32])
{
	long long	ms = 0;

	if (expires != 0)
		ms = expires > now ? ((long long)expires - now) * 1000 : 1;
	snprintf(buf, 32, "%lld", ms);
}

/* argv[i] is the string s. */
static void
setarg(const char **argv, size_t *lens, int i, const char *s)
{
	argv[i] = s;
	lens[i] = strlen(s);
}

int
rd_set_args(const void *val, size_t len, time_t expires, time_t now,
    const char **argv, size_t *lens, char ttl[32], unsigned char **enc)
{
	if ((*enc = rd_encode(val, len, expires, &lens[2])) == NULL)
		return 0;
	setarg(argv, lens, 0, "SET");
	argv[2] = (const char *)*enc;
	if (expires == 0)
		return 3;
	rd_ttl_ms(expires, now, ttl);
	setarg(argv, lens, 3, "PX");
	setarg(argv, lens, 4, ttl);
	return 5;
}

/*
 * Append MULTI, the command and the change of key's index entry to c's
 * pipeline: the number of index commands, or -1 (out of memory; the
 * transaction discarded, nothing left queued).
 */
static int
multi_append(struct redis *r, redisContext *c, const char *key, int argc,
    const char **argv, const size_t *lens, enum rd_idx idx, time_t expires)
{
	redisReply	*rep;
	int		 n;

	redisAppendCommand(c, "MULTI");
	redisAppendCommandArgv(c, argc, argv, lens);
	if ((n = rd_index_append(r, c, key, idx, expires)) >= 0)
		return n;
	/* Nothing sent yet: MULTI and the command stay queued. */
	redisAppendCommand(c, "DISCARD");
	(void)rd_exec_replies(r, c, 3, &rep);
	if (rep != NULL)
		freeReplyObject(rep);
	return -1;
}

/*
 * One command on key (argv[0] the verb, argv[1] set here to the
 * server's key).  When key is indexed (state_redis_each.c) and idx is
 * not IDX_NONE, the change of its index entry goes with it in one
 * MULTI ... EXEC (one round trip): both or neither.  *out: the
 * command's reply, checked, the caller's to free.
 */
static enum lw_err
request(struct redis *r, const char *key, int argc, const char **argv,
    size_t *lens, enum rd_idx idx, time_t expires, redisReply **out)
{
	struct rconn	*rc;
	redisReply	*rep;
	enum lw_err	 e;
	char		*k;
	int		 n;

	*out = NULL;
	if ((e = rd_conn_key(r, key, &k, &lens[1], &rc)) != LW_OK)
		return e;
	argv[1] = k;
	if (idx == IDX_NONE || !rd_indexed(key)) {
		rep = rd_cmd(rc->c, argc, argv, lens);
		if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK)
			*out = rep;
		goto out;
	}
	if ((n = multi_append(r, rc->c, key, argc, argv, lens, idx,
	    expires)) < 0) {
		e = LW_ENOMEM;
		goto out;
	}
	redisAppendCommand(rc->c, "EXEC");
	if ((e = rd_exec_replies(r, rc->c, 3 + n, &rep)) != LW_OK)
		goto out;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != (size_t)n + 1)
		e = LW_EIO;
	else if ((e = rd_reply_err(r, rc->c, rep->element[0])) == LW_OK) {
		*out = rep->element[0];		/* ours now */
		rep->element[0] = NULL;
	} else
		rep->element[0] = NULL;		/* rd_reply_err freed it */
	freeReplyObject(rep);
out:
	rd_conn_put(r, rc);
	free(k);
	return e;
}

/* A list's item as it is (no expiry header) into v. */
static enum lw_err
copy_raw(const redisReply *rep, struct state_val *v)
{
	if ((v->data = malloc(rep->len + 1)) == NULL)
		return LW_ENOMEM;
	memcpy(v->data, rep->str, rep->len);
	v->data[rep->len] = '\0';
	v->len = rep->len;
	return LW_OK;
}

/*
 * VERB key answered by a value: GET, GETDEL a stored one (with its
 * expiry), LPOP a list's item (raw) into v; LW_ENOTFOUND when none.
 */
static enum lw_err
fetch(struct redis *r, const char *verb, const char *key, time_t now,
    enum rd_idx idx, bool raw, struct state_val *v)
{
	const char	*argv[2] = { verb };
	size_t		 lens[2] = { strlen(verb) };
	redisReply	*rep;
	enum lw_err	 e;

	if ((e = request(r, key, 2, argv, lens, idx, 0, &rep)) != LW_OK)
		return e;
	if (rep->type != REDIS_REPLY_STRING)
		e = LW_ENOTFOUND;
	else if (!raw)
		e = rd_decode(rep->str, rep->len, now, v);
	else
		e = copy_raw(rep, v);
	freeReplyObject(rep);
	return e;
}

static enum lw_err
rd_get(struct state *st, const char *key, time_t now, struct state_val *v)
{
	return fetch(st->priv, "GET", key, now, IDX_NONE, false, v);
}

static enum lw_err
rd_take(struct state *st, const char *key, time_t now, struct state_val *v)
{
	return fetch(st->priv, "GETDEL", key, now, IDX_DEL, false, v);
}

static enum lw_err
rd_pop(struct state *st, const char *key, time_t now, struct state_val *v)
{
	return fetch(st->priv, "LPOP", key, now, IDX_NONE, true, v);
}

/*
 * LPOP, waiting up to wait_ms for an item: BLPOP on the state's own
 * connection, so a long wait holds none of the pool's; its read
 * timeout is the wait plus the usual one.  Waiters take turns.  A
 * lost connection is closed (the next call dials, after the backoff).
 */
static enum lw_err
rd_pop_wait(struct state *st, const char *key, unsigned wait_ms,
    struct state_val *v)
{
	struct redis	*r = st->priv;
	struct timeval	 tv;
	redisReply	*rep;
	const char	*argv[3];
	size_t		 lens[3];
	char		*k, secs[32];
	unsigned	 ms = wait_ms + r->cfg.timeout_ms;
	enum lw_err	 e;

	if ((k = rd_key(r, key, &lens[1])) == NULL)
		return LW_ENOMEM;
	pthread_mutex_lock(&r->blk_mu);
	if (r->blk == NULL && (r->blk = rd_redial(r)) == NULL) {
		pthread_mutex_unlock(&r->blk_mu);
		free(k);
		return LW_EIO;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)redisSetTimeout(r->blk, tv);
	/* In seconds; state_pop_wait never asks for 0 (for ever). */
	snprintf(secs, sizeof(secs), "%u.%03u", wait_ms / 1000,
	    wait_ms % 1000);
	setarg(argv, lens, 0, "BLPOP");
	argv[1] = k;
	setarg(argv, lens, 2, secs);
	rep = rd_cmd(r->blk, 3, argv, lens);
	if ((e = rd_reply_err(r, r->blk, rep)) == LW_OK) {
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
		    rep->element[1]->type == REDIS_REPLY_STRING)
			e = copy_raw(rep->element[1], v);
		else
			e = LW_ENOTFOUND;	/* nil: the wait ended */
		freeReplyObject(rep);
	}
	if (r->blk->err != 0) {
		redisFree(r->blk);
		r->blk = NULL;
	}
	pthread_mutex_unlock(&r->blk_mu);
	free(k);
	return e;
}

static enum lw_err
rd_put(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	redisReply	*rep;
	const char	*argv[5];
	size_t		 lens[5];
	char		 ttl[32];
	unsigned char	*enc;
	enum lw_err	 e;
	int		 argc;

	if ((argc = rd_set_args(val, len, expires, now, argv, lens, ttl,
	    &enc)) == 0)
		return LW_ENOMEM;
	if ((e = request(st->priv, key, argc, argv, lens, IDX_ADD, expires,
	    &rep)) == LW_OK)
		freeReplyObject(rep);
	free(enc);
	return e;
}

static enum lw_err
rd_del(struct state *st, const char *key)
{
	const char	*argv[2] = { "DEL" };
	size_t		 lens[2] = { 3 };
	redisReply	*rep;
	enum lw_err	 e;

	if ((e = request(st->priv, key, 2, argv, lens, IDX_DEL, 0, &rep)) !=
	    LW_OK)
		return e;
	e = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 ? LW_OK :
	    LW_ENOTFOUND;
	freeReplyObject(rep);
	return e;
}

/*
 * EVALSHA sha with keys and args, and EVAL text once when the server
 * does not know the script.  At most 3 keys and 6 args.
 */
static redisReply *
script(redisContext *c, const char *sha, const char *text, int nkeys,
    const char **keys, const size_t *klens, int nargs, const char **args,
    const size_t *alens)
{
	const char	*argv[12];
	size_t		 lens[12];
	char		 nk[4];
	redisReply	*rep;
	int		 i, n = 3;

	snprintf(nk, sizeof(nk), "%d", nkeys);
	setarg(argv, lens, 0, "EVALSHA");
	setarg(argv, lens, 1, sha);
	setarg(argv, lens, 2, nk);
	for (i = 0; i < nkeys; i++, n++) {
		argv[n] = keys[i];
		lens[n] = klens[i];
	}
	for (i = 0; i < nargs; i++, n++) {
		argv[n] = args[i];
		lens[n] = alens[i];
	}
	rep = rd_cmd(c, n, argv, lens);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		setarg(argv, lens, 0, "EVAL");
		setarg(argv, lens, 1, text);
		rep = rd_cmd(c, n, argv, lens);
	}
	return rep;
}

/*
 * A script on key (KEYS[1]) and, when with_index and key is indexed,
 * its index (KEYS[2]) and its namespace's set of buckets (KEYS[3], its
 * bucket then ARGV[6]: args has 5 then, the key the 5th); *out: the
 * checked reply, the caller's to free.
 */
static enum lw_err
run_script(struct redis *r, const char *key, const char *sha,
    const char *text, bool with_index, int nargs, const char **args,
    const size_t *alens, redisReply **out)
{
	struct rconn	*rc;
	redisReply	*rep;
	const char	*keys[3], *av[6], *bucket;
	size_t		 klens[3], al[6], blen;
	char		*k, *ik = NULL, *bk = NULL;
	enum lw_err	 e = LW_ENOMEM;
	int		 i, nkeys = 1;

	*out = NULL;
	if ((k = rd_key(r, key, &klens[0])) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < nargs && i < 5; i++) {
		av[i] = args[i];
		al[i] = alens[i];
	}
	if (with_index && rd_indexed(key)) {
		if ((ik = rd_index_key(r, key, &klens[1])) == NULL)
			goto out;
		nkeys = 2;
		if ((bk = rd_buckets_key(r, key, &klens[2], &bucket,
		    &blen)) != NULL) {
			nkeys = 3;
			av[5] = bucket;
			al[5] = blen;
			nargs = 6;
		}
	}
	if ((rc = rd_conn_get(r)) == NULL) {
		e = LW_EIO;
		goto out;
	}
	keys[0] = k;
	keys[1] = ik;
	keys[2] = bk;
	rep = script(rc->c, sha, text, nkeys, keys, klens, nargs, av, al);
	if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK)
		*out = rep;
	rd_conn_put(r, rc);
out:
	free(bk);
	free(ik);
	free(k);
	return e;
}

static enum lw_err
rd_add(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	struct redis	*r = st->priv;
	redisReply	*rep;
	const char	*args[5];
	size_t		 alens[5];
	char		 nowbuf[32], ttl[32], score[32];
	unsigned char	*enc;
	enum lw_err	 e;

	if ((enc = rd_encode(val, len, expires, &alens[0])) == NULL)
		return LW_ENOMEM;
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	rd_ttl_ms(expires, now, ttl);
	rd_index_score(expires, score);
	args[0] = (const char *)enc;
	setarg(args, alens, 1, nowbuf);
	setarg(args, alens, 2, ttl);
	setarg(args, alens, 3, score);
	setarg(args, alens, 4, key);
	if ((e = run_script(r, key, r->add_sha, add_lua, true, 5, args,
	    alens, &rep)) == LW_OK) {
		if (rep->type != REDIS_REPLY_INTEGER)
			e = LW_EIO;
		else if (rep->integer == 0)
			e = LW_EEXIST;
		freeReplyObject(rep);
	}
	free(enc);
	return e;
}

static enum lw_err
rd_incr(struct state *st, const char *key, int64_t delta, time_t expires,
    time_t now, int64_t *out)
{
	struct redis	*r = st->priv;
	redisReply	*rep;
	const char	*args[5];
	size_t		 alens[5];
	char		 d[32], nowbuf[32], exp[32];
	enum lw_err	 e;

	snprintf(d, sizeof(d), "%lld", (long long)delta);
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	snprintf(exp, sizeof(exp), "%lld", (long long)expires);
	setarg(args, alens, 0, d);
	setarg(args, alens, 1, nowbuf);
	setarg(args, alens, 2, exp);
	setarg(args, alens, 3, "");		/* unused: add_lua's score */
	setarg(args, alens, 4, key);
	if ((e = run_script(r, key, r->incr_sha, incr_lua, true, 5, args,
	    alens, &rep)) == LW_OK) {
		if (rep->type == REDIS_REPLY_INTEGER)
			*out = rep->integer;
		else
			e = LW_EIO;
		freeReplyObject(rep);
	}
	return e;
}

/* Send verb key and read its reply; NULL when the connection failed. */
static redisReply *
rcmd2(redisContext *c, const char *a, const char *k, size_t klen)
{
	const char	*argv[2] = { a, k };
	size_t		 lens[2] = { strlen(a), klen };

	return rd_cmd(c, 2, argv, lens);
}

/*
 * One optimistic try of rd_update on a watched key k: GET, the
 * callback, and MULTI, SET or DEL (and the index entry), EXEC.  LW_OK
 * with *done false: another client changed the key, try again.
 */
static enum lw_err
update_once(struct redis *r, struct rconn *rc, const char *key,
    const char *k, size_t klen, time_t now, state_update_fn fn, void *arg,
    bool *done)
{
	struct state_val	 old, nv;
	enum state_verdict	 what = STATE_KEEP;
	redisReply		*rep;
	const char		*argv[5];
	size_t			 lens[5];
	char			 ttl[32];
	unsigned char		*enc = NULL;
	bool			 have = false;
	enum lw_err		 e;
	int			 argc = 2, n;

	*done = true;
	memset(&nv, 0, sizeof(nv));
	rep = rcmd2(rc->c, "WATCH", k, klen);
	if ((e = rd_reply_err(r, rc->c, rep)) != LW_OK)
		return e;
	freeReplyObject(rep);
	rep = rcmd2(rc->c, "GET", k, klen);
	if ((e = rd_reply_err(r, rc->c, rep)) != LW_OK) {
		/* The connection goes back to the pool: not still watching. */
		if ((rep = redisCommand(rc->c, "UNWATCH")) != NULL)
			freeReplyObject(rep);
		return e;
	}
	if (rep->type == REDIS_REPLY_STRING) {
		e = rd_decode(rep->str, rep->len, now, &old);
		have = e == LW_OK;
	}
	freeReplyObject(rep);
	if (e == LW_OK || e == LW_ENOTFOUND)
		e = fn(arg, have ? &old : NULL, &nv, &what);
	if (have)
		state_val_free(&old);
	if (e == LW_OK && what == STATE_WRITE && nv.len > STATE_VALUE_MAX)
		e = LW_ELIMIT;
	if (e == LW_OK && what == STATE_WRITE && (argc = rd_set_args(nv.data,
	    nv.len, nv.expires, now, argv, lens, ttl, &enc)) == 0)
		e = LW_ENOMEM;
	if (e != LW_OK || what == STATE_KEEP) {
		state_val_free(&nv);
		if ((rep = redisCommand(rc->c, "UNWATCH")) != NULL)
			freeReplyObject(rep);
		return e;
	}
	if (what == STATE_DELETE)
		setarg(argv, lens, 0, "DEL");
	argv[1] = k;
	lens[1] = klen;
	/* MULTI, the change, its index entry, EXEC: one round trip. */
	redisAppendCommand(rc->c, "MULTI");
	redisAppendCommandArgv(rc->c, argc, argv, lens);
	n = rd_index_append(r, rc->c, key, what == STATE_DELETE ? IDX_DEL :
	    IDX_ADD, nv.expires);
	redisAppendCommand(rc->c, n < 0 ? "DISCARD" : "EXEC");
	state_val_free(&nv);
	free(enc);
	if ((e = rd_exec_replies(r, rc->c, n < 0 ? 3 : 3 + n, &rep)) != LW_OK)
		return e;
	if (n < 0)
		e = LW_ENOMEM;
	else	/* EXEC: nil when another client changed the key. */
		*done = rep->type == REDIS_REPLY_ARRAY;
	freeReplyObject(rep);
	return e;
}

/* Which of UPDATE_STRIPES locks serialises key in this process. */
static unsigned
stripe(const char *key)
{
	unsigned	h = 2166136261u;	/* FNV-1a */

	while (*key != '\0')
		h = (h ^ (unsigned char)*key++) * 16777619u;
	return h % UPDATE_STRIPES;
}

void
rd_retry_nap(int tries)
{
	long		us = random() % (200 * (tries < 25 ? tries : 25));
	struct timespec	ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * WATCH, GET, the callback, MULTI, the write, EXEC; again when another
 * process changed the key (after a nap of up to 5 ms, growing, so that
 * writers on several hosts fall out of step).
 */
static enum lw_err
rd_update(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	struct redis	*r = st->priv;
	pthread_mutex_t	*mu;
	struct rconn	*rc;
	size_t		 klen;
	char		*k;
	bool		 done = false;
	enum lw_err	 e = LW_OK;
	int		 tries;

	/* The turn first: a waiter holds none of the pool. */
	mu = &r->upd_mu[stripe(key)];
	pthread_mutex_lock(mu);
	if ((e = rd_conn_key(r, key, &k, &klen, &rc)) != LW_OK) {
		pthread_mutex_unlock(mu);
		return e;
	}
	for (tries = 0; e == LW_OK && !done && tries < RD_UPDATE_RETRIES;
	    tries++) {
		if (tries > 0)
			rd_retry_nap(tries);
		e = update_once(r, rc, key, k, klen, now, fn, arg, &done);
	}
	rd_conn_put(r, rc);
	pthread_mutex_unlock(mu);
	if (e == LW_OK && !done) {
		log_warnx("state: redis %s: %s changed %d times under us",
		    rd_where(r), key, RD_UPDATE_RETRIES);
		e = LW_EIO;
	}
	free(k);
	return e;
}

static enum lw_err
rd_push(struct state *st, const char *key, const void *val, size_t len,
    size_t max_items, time_t expires, time_t now)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*rep;
	const char	*argv[4];
	size_t		 lens[4];
	char		*k, lim[32], ttl[32];
	enum lw_err	 e;

	if ((e = rd_conn_key(r, key, &k, &lens[1], &rc)) != LW_OK)
		return e;
	/* MULTI RPUSH LTRIM PEXPIRE|PERSIST EXEC: one round trip. */
	redisAppendCommand(rc->c, "MULTI");
	setarg(argv, lens, 0, "RPUSH");
	argv[1] = k;
	argv[2] = val;
	lens[2] = len;
	redisAppendCommandArgv(rc->c, 3, argv, lens);
	snprintf(lim, sizeof(lim), "-%zu", max_items);
	setarg(argv, lens, 0, "LTRIM");
	setarg(argv, lens, 2, lim);
	setarg(argv, lens, 3, "-1");
	redisAppendCommandArgv(rc->c, 4, argv, lens);
	rd_ttl_ms(expires, now, ttl);
	setarg(argv, lens, 0, expires != 0 ? "PEXPIRE" : "PERSIST");
	setarg(argv, lens, 2, ttl);
	redisAppendCommandArgv(rc->c, expires != 0 ? 3 : 2, argv, lens);
	redisAppendCommand(rc->c, "EXEC");
	if ((e = rd_exec_replies(r, rc->c, 5, &rep)) == LW_OK) {
		if (rep->type != REDIS_REPLY_ARRAY)
			e = LW_EIO;
		freeReplyObject(rep);
	}
	rd_conn_put(r, rc);
	free(k);
	return e;
}

static enum lw_err
rd_sweep(struct state *st, time_t now, size_t *removed)
{
	*removed = 0;		/* the server expires keys itself */
	return LW_OK;
}

static void
rd_close(struct state *st)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	int		 i;

	while ((rc = r->idle) != NULL) {
		r->idle = rc->next;
		redisFree(rc->c);
		free(rc);
	}
	if (r->blk != NULL)
		redisFree(r->blk);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->blk_mu);
	for (i = 0; i < UPDATE_STRIPES; i++)
		pthread_mutex_destroy(&r->upd_mu[i]);
	state_redis_config_free(&r->cfg);
	free(r->prefix);
	free(r);
	free(st);
}

/*
 * state_lock_get in one round trip: SET lk NX PX and GET key,
 * pipelined.  The claim is SET NX: a claim's TTL (PX) drops it on the
 * server when it expires, so no header check is needed as in add_lua.
 */
static enum lw_err
rd_lock_get(struct state *st, const char *key, const char *lk,
    time_t lock_exp, time_t lock_now, time_t now, struct state_val *v,
    enum lw_err *got)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*set = NULL, *rep = NULL;
	const char	*argv[6];
	size_t		 lens[6];
	char		 ttl[32], *k, *l;
	unsigned char	*enc;
	size_t		 klen;
	enum lw_err	 e;
	int		 argc;

	if ((argc = rd_set_args("1", 1, lock_exp, lock_now, argv, lens, ttl,
	    &enc)) == 0)
		return LW_ENOMEM;
	if ((l = rd_key(r, lk, &lens[1])) == NULL) {
		free(enc);
		return LW_ENOMEM;
	}
	if ((e = rd_conn_key(r, key, &k, &klen, &rc)) != LW_OK) {
		free(l);
		free(enc);
		return e;
	}
	argv[1] = l;
	setarg(argv, lens, argc++, "NX");
	redisAppendCommandArgv(rc->c, argc, argv, lens);
	redisAppendCommand(rc->c, "GET %b", k, klen);
	free(k);		/* hiredis holds copies */
	free(l);
	free(enc);
	if (redisGetReply(rc->c, (void **)&set) != REDIS_OK)
		set = NULL;
	if ((e = rd_reply_err(r, rc->c, set)) == LW_OK) {
		/* OK when claimed, nil when held. */
		e = set->type == REDIS_REPLY_STATUS ? LW_OK :
		    set->type == REDIS_REPLY_NIL ? LW_EEXIST : LW_EIO;
		freeReplyObject(set);
	}
	if (rc->c->err == 0 && redisGetReply(rc->c, (void **)&rep) !=
	    REDIS_OK)
		rep = NULL;
	if (e == LW_OK) {
		if ((*got = rd_reply_err(r, rc->c, rep)) == LW_OK)
			*got = rep->type != REDIS_REPLY_STRING ? LW_ENOTFOUND :
			    rd_decode(rep->str, rep->len, now, v);
		else
			rep = NULL;	/* freed */
	}
	if (rep != NULL)
		freeReplyObject(rep);
	rd_conn_put(r, rc);
	return e;
}

/*
 * state_put_unlock in one round trip: MULTI, SET key (or DEL key),
 * its index entry, DEL lk, EXEC.  A command that fails inside the
 * transaction does not stop the others: the claim goes in any case.
 */
static enum lw_err
rd_put_unlock(struct state *st, const char *key, const char *lk,
    const void *val, size_t len, time_t expires, time_t now, bool lazy)
{
	struct redis	*r = st->priv;
	const char	*argv[5] = { "DEL" };
	size_t		 lens[5] = { 3 }, llen;
	char		 ttl[32], *k, *l;
	unsigned char	*enc = NULL;
	struct rconn	*rc;
	redisReply	*rep;
	int		 argc = 2, n;
	enum lw_err	 e;

	(void)lazy;			/* the server writes at once */
	if (val != NULL && (argc = rd_set_args(val, len, expires, now, argv,
	    lens, ttl, &enc)) == 0)
		return LW_ENOMEM;
	if ((l = rd_key(r, lk, &llen)) == NULL) {
		free(enc);
		return LW_ENOMEM;
	}
	if ((e = rd_conn_key(r, key, &k, &lens[1], &rc)) != LW_OK) {
		free(l);
		free(enc);
		return e;
	}
	argv[1] = k;
	if ((n = multi_append(r, rc->c, key, argc, argv, lens, val != NULL ?
	    IDX_ADD : IDX_DEL, expires)) < 0) {
		e = LW_ENOMEM;
		goto out;
	}
	redisAppendCommand(rc->c, "DEL %b", l, llen);
	redisAppendCommand(rc->c, "EXEC");
	if ((e = rd_exec_replies(r, rc->c, 4 + n, &rep)) != LW_OK)
		goto out;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != (size_t)n + 2)
		e = LW_EIO;
	else if (rep->element[0]->type == REDIS_REPLY_ERROR) {
		e = rd_reply_err(r, rc->c, rep->element[0]);
		rep->element[0] = NULL;		/* rd_reply_err freed it */
	}
	freeReplyObject(rep);
out:
	rd_conn_put(r, rc);
	free(k);
	free(l);
	free(enc);
	return e;
}

static const struct state_ops redis_ops = {
	.name = "redis",
	.get = rd_get,
	.put = rd_put,
	.add = rd_add,
	.del = rd_del,
	.take = rd_take,
	.incr = rd_incr,
	.update = rd_update,
	.update_many = rd_update_many,
	.each = rd_each,
	.push = rd_push,
	.pop = rd_pop,
	.pop_wait = rd_pop_wait,
	.sweep = rd_sweep,
	.close = rd_close,
	.lock_get = rd_lock_get,
	.put_unlock = rd_put_unlock,
};

/*
 * Open the pool and try one connection: a refused AUTH or SELECT fails
 * the open (LW_EINVAL, logged naming the key); an unreachable server
 * does not (the daemon works without it and retries).
 */
enum lw_err
state_redis_open(const struct state_config *c, bool readonly,
    struct state **out)
{
	const struct state_redis_config *rc = &c->redis;
	struct state	*st;
	struct redis	*r;
	struct rconn	*conn;
	redisContext	*ctx;
	enum lw_err	 e = LW_ENOMEM;
	int		 i;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		free(st);
		return LW_ENOMEM;
	}
	r->cfg.host = rd_dup_or(rc->host, "127.0.0.1");
	r->cfg.socket = rd_dup_or(rc->socket, NULL);
	r->cfg.username = rd_dup_or(rc->username, NULL);
	r->cfg.key_prefix = rd_dup_or(rc->key_prefix, STATE_REDIS_PREFIX);
	r->cfg.port = rc->port != 0 ? rc->port : 6379;
	r->cfg.db = rc->db;
	r->cfg.timeout_ms = rc->timeout_ms != 0 ? rc->timeout_ms :
	    STATE_REDIS_TIMEOUT_MS;
	if (rc->password != NULL)
		r->cfg.password = strdup(rc->password);
	else if (rc->password_file != NULL &&
	    (r->cfg.password = rd_read_password(rc->password_file)) == NULL) {
		e = LW_EINVAL;
		goto out_free;
	}
	if (r->cfg.host == NULL || r->cfg.key_prefix == NULL ||
	    (rc->socket != NULL && r->cfg.socket == NULL) ||
	    (rc->username != NULL && r->cfg.username == NULL) ||
	    (rc->password != NULL && r->cfg.password == NULL))
		goto out_free;
	if ((r->prefix = strdup(r->cfg.key_prefix)) == NULL)
		goto out_free;
	r->plen = strlen(r->prefix);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	pthread_mutex_init(&r->blk_mu, NULL);
	for (i = 0; i < UPDATE_STRIPES; i++)
		pthread_mutex_init(&r->upd_mu[i], NULL);
	r->backoff_ms = BACKOFF_MIN_MS;
	clock_gettime(CLOCK_MONOTONIC, &r->retry_at);
	sha1_hex(add_lua, r->add_sha);
	sha1_hex(incr_lua, r->incr_sha);
	st->ops = &redis_ops;
	st->priv = r;
	st->readonly = readonly;
	st->shared = true;

	/* One connection now: a wrong password is a start-up error. */
	if ((ctx = rd_dial(r)) != NULL) {
		if ((conn = calloc(1, sizeof(*conn))) == NULL) {
			redisFree(ctx);
			rd_close(st);
			return LW_ENOMEM;
		}
		conn->c = ctx;
		r->idle = conn;
		r->nconn = 1;
		/* Once per server: what an older lurewall wrote, indexed. */
		if (!readonly)
			rd_index_build_all(r, time(NULL));
	} else if (r->logged == 0) {
		/* Not unreachable (that was logged): refused. */
		rd_close(st);
		return LW_EINVAL;
	} else {
		rd_ms_after(&r->retry_at, r->backoff_ms);
	}
	*out = st;
	return LW_OK;
out_free:
	state_redis_config_free(&r->cfg);
	free(r);
	free(st);
	return e;
}
