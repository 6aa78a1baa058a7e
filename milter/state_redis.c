/*
 * state_redis.c: the state on a Redis server (state.backend: redis),
 * shared by every host that names the same server and key prefix.
 *
 * Connections (state_redis_conn.c): a hiredis 0.14 context is not
 * thread-safe, so the state keeps a locked pool of at most POOL_MAX
 * contexts; a thread takes one for one operation (several commands
 * for a WATCH/MULTI) and gives it back.  A context that failed is freed; the next connect waits for the
 * backoff (0.5 s doubling to 5 s), and until then every operation fails
 * at once with LW_EIO, so a dead server costs no message a timeout
 * each.  The failure is logged once a minute, not per message.  Each
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
 * SET or DEL, EXEC, retried when another client changed the key.
 * Lists (state_push, state_pop) are Redis lists (RPUSH+LTRIM, LPOP);
 * their expiry is the key's TTL only.
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

#define UPDATE_RETRIES		100
#define SCAN_COUNT		"500"
#define HDR			16

/*
 * KEYS[1] the key; ARGV[1] the value with its header, ARGV[2] now,
 * ARGV[3] the TTL in ms (0: none).  1 when stored, 0 when present.
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
    "return 1\n";

/*
 * KEYS[1] the counter; ARGV[1] delta, ARGV[2] now, ARGV[3] the expiry
 * of a new counter (0: never).  Returns the new value.
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

static unsigned char *
encode(const void *val, size_t len, time_t expires, size_t *outlen)
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
static enum lw_err
decode(const char *s, size_t len, time_t now, struct state_val *v)
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

static void
ttl_ms(time_t expires, time_t now, char buf[32])
{
	long long	ms = 0;

	if (expires != 0)
		ms = expires > now ? ((long long)expires - now) * 1000 : 1;
	snprintf(buf, 32, "%lld", ms);
}

static enum lw_err
rd_get(struct state *st, const char *key, time_t now, struct state_val *v)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*rep;
	const char	*argv[2];
	size_t		 lens[2];
	char		*k;
	enum lw_err	 e;

	if ((k = rd_key(r, key, &lens[1])) == NULL)
		return LW_ENOMEM;
	if ((rc = rd_conn_get(r)) == NULL) {
		free(k);
		return LW_EIO;
	}
	argv[0] = "GET";
	lens[0] = 3;
	argv[1] = k;
	rep = rd_cmd(rc->c, 2, argv, lens);
	if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK) {
		if (rep->type == REDIS_REPLY_STRING)
			e = decode(rep->str, rep->len, now, v);
		else
			e = LW_ENOTFOUND;
		freeReplyObject(rep);
	}
	rd_conn_put(r, rc);
	free(k);
	return e;
}

static enum lw_err
rd_put(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*rep;
	const char	*argv[5];
	size_t		 lens[5];
	char		*k, ttl[32];
	unsigned char	*enc;
	enum lw_err	 e;
	int		 argc = 3;

	if ((k = rd_key(r, key, &lens[1])) == NULL)
		return LW_ENOMEM;
	if ((enc = encode(val, len, expires, &lens[2])) == NULL) {
		free(k);
		return LW_ENOMEM;
	}
	if ((rc = rd_conn_get(r)) == NULL) {
		free(enc);
		free(k);
		return LW_EIO;
	}
	argv[0] = "SET";
	lens[0] = 3;
	argv[1] = k;
	argv[2] = (const char *)enc;
	if (expires != 0) {
		ttl_ms(expires, now, ttl);
		argv[3] = "PX";
		lens[3] = 2;
		argv[4] = ttl;
		lens[4] = strlen(ttl);
		argc = 5;
	}
	rep = rd_cmd(rc->c, argc, argv, lens);
	if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK)
		freeReplyObject(rep);
	rd_conn_put(r, rc);
	free(enc);
	free(k);
	return e;
}

/* EVALSHA, and EVAL once when the server does not know the script. */
static redisReply *
script(redisContext *c, const char *sha, const char *text, const char *k,
    size_t klen, const char **args, const size_t *alens, int nargs)
{
	const char	*argv[8];
	size_t		 lens[8];
	redisReply	*rep;
	int		 i;

	argv[0] = "EVALSHA";
	lens[0] = 7;
	argv[1] = sha;
	lens[1] = strlen(sha);
	argv[2] = "1";
	lens[2] = 1;
	argv[3] = k;
	lens[3] = klen;
	for (i = 0; i < nargs; i++) {
		argv[4 + i] = args[i];
		lens[4 + i] = alens[i];
	}
	rep = rd_cmd(c, 4 + nargs, argv, lens);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = text;
		lens[1] = strlen(text);
		rep = rd_cmd(c, 4 + nargs, argv, lens);
	}
	return rep;
}

static enum lw_err
rd_add(struct state *st, const char *key, const void *val, size_t len,
    time_t expires, time_t now)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*rep;
	const char	*args[3];
	size_t		 alens[3], klen;
	char		*k, nowbuf[32], ttl[32];
	unsigned char	*enc;
	enum lw_err	 e;

	if ((k = rd_key(r, key, &klen)) == NULL)
		return LW_ENOMEM;
	if ((enc = encode(val, len, expires, &alens[0])) == NULL) {
		free(k);
		return LW_ENOMEM;
	}
	if ((rc = rd_conn_get(r)) == NULL) {
		free(enc);
		free(k);
		return LW_EIO;
	}
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	ttl_ms(expires, now, ttl);
	args[0] = (const char *)enc;
	args[1] = nowbuf;
	alens[1] = strlen(nowbuf);
	args[2] = ttl;
	alens[2] = strlen(ttl);
	rep = script(rc->c, r->add_sha, add_lua, k, klen, args, alens, 3);
	if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK) {
		if (rep->type != REDIS_REPLY_INTEGER)
			e = LW_EIO;
		else if (rep->integer == 0)
			e = LW_EEXIST;
		freeReplyObject(rep);
	}
	rd_conn_put(r, rc);
	free(enc);
	free(k);
	return e;
}

/* One command on one key with an integer or string answer. */
static enum lw_err
simple(struct redis *r, const char *verb, const char *key, redisReply **out)
{
	struct rconn	*rc;
	redisReply	*rep;
	const char	*argv[2];
	size_t		 lens[2];
	char		*k;
	enum lw_err	 e;

	*out = NULL;
	if ((k = rd_key(r, key, &lens[1])) == NULL)
		return LW_ENOMEM;
	if ((rc = rd_conn_get(r)) == NULL) {
		free(k);
		return LW_EIO;
	}
	argv[0] = verb;
	lens[0] = strlen(verb);
	argv[1] = k;
	rep = rd_cmd(rc->c, 2, argv, lens);
	if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK)
		*out = rep;
	rd_conn_put(r, rc);
	free(k);
	return e;
}

static enum lw_err
rd_del(struct state *st, const char *key)
{
	redisReply	*rep;
	enum lw_err	 e;

	if ((e = simple(st->priv, "DEL", key, &rep)) != LW_OK)
		return e;
	e = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 ? LW_OK :
	    LW_ENOTFOUND;
	freeReplyObject(rep);
	return e;
}

static enum lw_err
rd_take(struct state *st, const char *key, time_t now, struct state_val *v)
{
	redisReply	*rep;
	enum lw_err	 e;

	if ((e = simple(st->priv, "GETDEL", key, &rep)) != LW_OK)
		return e;
	e = rep->type == REDIS_REPLY_STRING ? decode(rep->str, rep->len, now,
	    v) : LW_ENOTFOUND;
	freeReplyObject(rep);
	return e;
}

static enum lw_err
rd_incr(struct state *st, const char *key, int64_t delta, time_t expires,
    time_t now, int64_t *out)
{
	struct redis	*r = st->priv;
	struct rconn	*rc;
	redisReply	*rep;
	const char	*args[3];
	size_t		 alens[3], klen;
	char		*k, d[32], nowbuf[32], exp[32];
	enum lw_err	 e;

	if ((k = rd_key(r, key, &klen)) == NULL)
		return LW_ENOMEM;
	if ((rc = rd_conn_get(r)) == NULL) {
		free(k);
		return LW_EIO;
	}
	snprintf(d, sizeof(d), "%lld", (long long)delta);
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	snprintf(exp, sizeof(exp), "%lld", (long long)expires);
	args[0] = d;
	args[1] = nowbuf;
	args[2] = exp;
	alens[0] = strlen(d);
	alens[1] = strlen(nowbuf);
	alens[2] = strlen(exp);
	rep = script(rc->c, r->incr_sha, incr_lua, k, klen, args, alens, 3);
	if ((e = rd_reply_err(r, rc->c, rep)) == LW_OK) {
		if (rep->type == REDIS_REPLY_INTEGER)
			*out = rep->integer;
		else
			e = LW_EIO;
		freeReplyObject(rep);
	}
	rd_conn_put(r, rc);
	free(k);
	return e;
}

/* Send argv and read its reply; NULL when the connection failed. */
static redisReply *
rcmd2(redisContext *c, const char *a, const char *k, size_t klen)
{
	const char	*argv[2] = { a, k };
	size_t		 lens[2] = { strlen(a), klen };

	return rd_cmd(c, 2, argv, lens);
}

static enum lw_err
rd_update(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	struct redis		*r = st->priv;
	struct rconn		*rc;
	struct state_val	 old, nv;
	enum state_verdict	 what;
	redisReply		*rep;
	const char		*argv[5];
	size_t			 lens[5], klen;
	char			*k, ttl[32];
	unsigned char		*enc = NULL;
	bool			 have;
	enum lw_err		 e = LW_EIO;
	int			 tries, argc;

	if ((k = rd_key(r, key, &klen)) == NULL)
		return LW_ENOMEM;
	if ((rc = rd_conn_get(r)) == NULL) {
		free(k);
		return LW_EIO;
	}
	for (tries = 0; tries < UPDATE_RETRIES; tries++) {
		memset(&nv, 0, sizeof(nv));
		what = STATE_KEEP;
		rep = rcmd2(rc->c, "WATCH", k, klen);
		if ((e = rd_reply_err(r, rc->c, rep)) != LW_OK)
			goto out;
		freeReplyObject(rep);
		rep = rcmd2(rc->c, "GET", k, klen);
		if ((e = rd_reply_err(r, rc->c, rep)) != LW_OK)
			goto out;
		have = false;
		if (rep->type == REDIS_REPLY_STRING) {
			e = decode(rep->str, rep->len, now, &old);
			if (e == LW_OK)
				have = true;
			else if (e != LW_ENOTFOUND) {
				freeReplyObject(rep);
				goto out_unwatch;
			}
		}
		freeReplyObject(rep);
		e = fn(arg, have ? &old : NULL, &nv, &what);
		if (have)
			state_val_free(&old);
		if (e != LW_OK || what == STATE_KEEP) {
			state_val_free(&nv);
			goto out_unwatch;
		}
		if (what == STATE_WRITE && nv.len > STATE_VALUE_MAX) {
			state_val_free(&nv);
			e = LW_ELIMIT;
			goto out_unwatch;
		}
		/* MULTI, the change, EXEC: one round trip. */
		argv[0] = "MULTI";
		lens[0] = 5;
		redisAppendCommandArgv(rc->c, 1, argv, lens);
		argv[1] = k;
		lens[1] = klen;
		if (what == STATE_DELETE) {
			argv[0] = "DEL";
			lens[0] = 3;
			argc = 2;
		} else {
			if ((enc = encode(nv.data, nv.len, nv.expires,
			    &lens[2])) == NULL) {
				state_val_free(&nv);
				e = LW_ENOMEM;
				goto out_unwatch;
			}
			argv[0] = "SET";
			lens[0] = 3;
			argv[2] = (const char *)enc;
			argc = 3;
			if (nv.expires != 0) {
				ttl_ms(nv.expires, now, ttl);
				argv[3] = "PX";
				lens[3] = 2;
				argv[4] = ttl;
				lens[4] = strlen(ttl);
				argc = 5;
			}
		}
		redisAppendCommandArgv(rc->c, argc, argv, lens);
		argv[0] = "EXEC";
		lens[0] = 4;
		redisAppendCommandArgv(rc->c, 1, argv, lens);
		state_val_free(&nv);
		free(enc);
		enc = NULL;
		e = LW_OK;
		for (argc = 0; argc < 3; argc++) {
			rep = NULL;
			if (redisGetReply(rc->c, (void **)&rep) != REDIS_OK)
				rep = NULL;
			if (e == LW_OK)
				e = rd_reply_err(r, rc->c, rep);
			else if (rep != NULL)
				freeReplyObject(rep);
			if (e != LW_OK) {
				if (rep == NULL)
					goto out;
				continue;
			}
			if (argc < 2) {
				freeReplyObject(rep);
				continue;
			}
			/* EXEC: nil when another client changed the key. */
			have = rep->type == REDIS_REPLY_ARRAY;
			freeReplyObject(rep);
			if (have)
				goto out;
		}
		if (e != LW_OK)
			goto out;
	}
	log_warnx("state: redis %s: %s changed %d times under us", rd_where(r),
	    key, UPDATE_RETRIES);
	e = LW_EIO;
	goto out;
out_unwatch:
	if ((rep = rd_cmd(rc->c, 1, (const char *[]){ "UNWATCH" },
	    (const size_t[]){ 7 })) != NULL)
		freeReplyObject(rep);
out:
	rd_conn_put(r, rc);
	free(k);
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

static enum lw_err
rd_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct redis		*r = st->priv;
	struct rconn		*rc;
	struct state_val	 v;
	redisReply		*rep, *vals, *keys;
	const char		*argv[6], **mv = NULL;
	size_t			 lens[6], *ml = NULL, plen, glen, i;
	char			*full, *glob, cursor[32] = "0", key[STATE_KEY_MAX + 1];
	enum lw_err		 e;

	if ((full = rd_key(r, prefix, &plen)) == NULL)
		return LW_ENOMEM;
	glob = glob_of(full, plen, &glen);
	free(full);
	if (glob == NULL)
		return LW_ENOMEM;
	if ((rc = rd_conn_get(r)) == NULL) {
		free(glob);
		return LW_EIO;
	}
	do {
		argv[0] = "SCAN";
		argv[1] = cursor;
		argv[2] = "MATCH";
		argv[3] = glob;
		argv[4] = "COUNT";
		argv[5] = SCAN_COUNT;
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
		if (keys->elements == 0) {
			freeReplyObject(rep);
			continue;
		}
		free(mv);
		free(ml);
		mv = calloc(keys->elements + 1, sizeof(*mv));
		ml = calloc(keys->elements + 1, sizeof(*ml));
		if (mv == NULL || ml == NULL) {
			freeReplyObject(rep);
			e = LW_ENOMEM;
			break;
		}
		mv[0] = "MGET";
		ml[0] = 4;
		for (i = 0; i < keys->elements; i++) {
			mv[i + 1] = keys->element[i]->str;
			ml[i + 1] = keys->element[i]->len;
		}
		vals = rd_cmd(rc->c, (int)keys->elements + 1, mv, ml);
		if ((e = rd_reply_err(r, rc->c, vals)) != LW_OK) {
			freeReplyObject(rep);
			break;
		}
		for (i = 0; e == LW_OK && vals->type == REDIS_REPLY_ARRAY &&
		    i < vals->elements && i < keys->elements; i++) {
			if (vals->element[i]->type != REDIS_REPLY_STRING ||
			    keys->element[i]->len - r->plen > STATE_KEY_MAX)
				continue;	/* gone, or a list */
			if (decode(vals->element[i]->str,
			    vals->element[i]->len, now, &v) != LW_OK)
				continue;
			memcpy(key, keys->element[i]->str + r->plen,
			    keys->element[i]->len - r->plen);
			key[keys->element[i]->len - r->plen] = '\0';
			e = fn(arg, key, &v);
			state_val_free(&v);
		}
		freeReplyObject(vals);
		freeReplyObject(rep);
	} while (e == LW_OK && strcmp(cursor, "0") != 0);
	free(mv);
	free(ml);
	rd_conn_put(r, rc);
	free(glob);
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
	size_t		 lens[4], klen;
	char		*k, lim[32], ttl[32];
	enum lw_err	 e = LW_OK;
	int		 i;

	if ((k = rd_key(r, key, &klen)) == NULL)
		return LW_ENOMEM;
	if ((rc = rd_conn_get(r)) == NULL) {
		free(k);
		return LW_EIO;
	}
	/* MULTI RPUSH LTRIM PEXPIRE|PERSIST EXEC: one round trip. */
	argv[0] = "MULTI";
	lens[0] = 5;
	redisAppendCommandArgv(rc->c, 1, argv, lens);
	argv[0] = "RPUSH";
	lens[0] = 5;
	argv[1] = k;
	lens[1] = klen;
	argv[2] = val;
	lens[2] = len;
	redisAppendCommandArgv(rc->c, 3, argv, lens);
	snprintf(lim, sizeof(lim), "-%zu", max_items);
	argv[0] = "LTRIM";
	lens[0] = 5;
	argv[2] = lim;
	lens[2] = strlen(lim);
	argv[3] = "-1";
	lens[3] = 2;
	redisAppendCommandArgv(rc->c, 4, argv, lens);
	if (expires != 0) {
		ttl_ms(expires, now, ttl);
		argv[0] = "PEXPIRE";
		lens[0] = 7;
		argv[2] = ttl;
		lens[2] = strlen(ttl);
		redisAppendCommandArgv(rc->c, 3, argv, lens);
	} else {
		argv[0] = "PERSIST";
		lens[0] = 7;
		redisAppendCommandArgv(rc->c, 2, argv, lens);
	}
	argv[0] = "EXEC";
	lens[0] = 4;
	redisAppendCommandArgv(rc->c, 1, argv, lens);
	for (i = 0; i < 5; i++) {
		if (redisGetReply(rc->c, (void **)&rep) != REDIS_OK) {
			e = rd_reply_err(r, rc->c, NULL);
			break;
		}
		if (e == LW_OK)
			e = rd_reply_err(r, rc->c, rep);
		else
			freeReplyObject(rep);
		if (e == LW_OK) {
			if (i == 4 && rep->type != REDIS_REPLY_ARRAY)
				e = LW_EIO;
			freeReplyObject(rep);
		}
	}
	rd_conn_put(r, rc);
	free(k);
	return e;
}

static enum lw_err
rd_pop(struct state *st, const char *key, time_t now, struct state_val *v)
{
	redisReply	*rep;
	enum lw_err	 e;

	if ((e = simple(st->priv, "LPOP", key, &rep)) != LW_OK)
		return e;
	if (rep->type != REDIS_REPLY_STRING) {
		freeReplyObject(rep);
		return LW_ENOTFOUND;
	}
	if ((v->data = malloc(rep->len + 1)) == NULL) {
		freeReplyObject(rep);
		return LW_ENOMEM;
	}
	memcpy(v->data, rep->str, rep->len);
	v->data[rep->len] = '\0';
	v->len = rep->len;
	freeReplyObject(rep);
	return LW_OK;
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

	while ((rc = r->idle) != NULL) {
		r->idle = rc->next;
		redisFree(rc->c);
		free(rc);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	rd_cfg_free(&r->cfg);
	free(r->prefix);
	free(r);
	free(st);
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
	.each = rd_each,
	.push = rd_push,
	.pop = rd_pop,
	.sweep = rd_sweep,
	.close = rd_close,
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
	rd_cfg_free(&r->cfg);
	free(r);
	free(st);
	return e;
}
