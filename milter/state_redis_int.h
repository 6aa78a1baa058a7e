/*
 * state_redis_int.h: what the Redis backend's files share (private to
 * state_redis*.c): the state's private part, the connection pool and
 * the reply checks (state_redis_conn.c).
 */
#ifndef STATE_REDIS_INT_H
#define STATE_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "state.h"

#define POOL_MAX		16
#define BACKOFF_MIN_MS		500
#define BACKOFF_MAX_MS		5000
#define UPDATE_STRIPES		16
#define RD_NS_MAX		5		/* indexed namespaces */

struct rconn {
	redisContext	*c;
	struct rconn	*next;
};

struct redis {
	struct state_redis_config cfg;	/* our copies */
	char		*prefix;
	size_t		 plen;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct rconn	*idle;
	unsigned	 nconn;
	unsigned	 backoff_ms;
	struct timespec	 retry_at;	/* no connect before */
	time_t		 logged;	/* last "unreachable" line */
	char		 add_sha[41];
	char		 incr_sha[41];
	/* index_build ran (or runs), per namespace. */
	bool		 index_built[RD_NS_MAX];
	/*
	 * rd_update: the threads of this process take turns by key (a
	 * stripe of keys each), so only other processes' writes make a
	 * WATCH fail: eight threads on one key once retried one of them
	 * a hundred times in vain on a loaded machine.
	 */
	pthread_mutex_t	 upd_mu[UPDATE_STRIPES];
	/* rd_pop_wait's own connection (BLPOP), one waiter at a time. */
	pthread_mutex_t	 blk_mu;
	redisContext	*blk;
};

/* What a write does to its key's index entry (state_redis_each.c). */
enum rd_idx {
	IDX_NONE = 0,
	IDX_ADD,		/* ZADD, scored by expiry */
	IDX_DEL			/* ZREM */
};

void		 rd_ms_after(struct timespec *, unsigned ms);
const char	*rd_where(const struct redis *);
void		 rd_degraded(struct redis *, const char *what,
		    const char *detail);
redisReply	*rd_cmd(redisContext *, int argc, const char **argv,
		    const size_t *lens);
redisContext	*rd_dial(struct redis *);
redisContext	*rd_redial(struct redis *);
struct rconn	*rd_conn_get(struct redis *);
void		 rd_conn_put(struct redis *, struct rconn *);
char		*rd_key(const struct redis *, const char *key, size_t *len);
enum lw_err	 rd_conn_key(struct redis *, const char *key, char **k,
		    size_t *klen, struct rconn **);
enum lw_err	 rd_reply_err(struct redis *, redisContext *, redisReply *);
/*
 * The n replies of a pipeline, each checked; after an error the rest
 * are read and dropped (none after a lost connection).  *last: the
 * last one (EXEC's), the caller's to free; NULL on an error.
 */
enum lw_err	 rd_exec_replies(struct redis *, redisContext *, int n,
		    redisReply **last);
char		*rd_read_password(const char *path);
char		*rd_dup_or(const char *s, const char *dflt);

/* state_redis.c: a value on the server is 16 hex digits of expiry + it. */
unsigned char	*rd_encode(const void *val, size_t len, time_t expires,
		    size_t *outlen);
enum lw_err	 rd_decode(const char *s, size_t len, time_t now,
		    struct state_val *);
void		 rd_ttl_ms(time_t expires, time_t now, char buf[32]);
/*
 * SET KEY VALUE [PX ms] from argv[0] on (the caller sets argv[1], the
 * key): the argc, or 0 when out of memory.  *enc is the caller's.
 */
int		 rd_set_args(const void *val, size_t len, time_t expires,
		    time_t now, const char **argv, size_t *lens, char ttl[32],
		    unsigned char **enc);
/*
 * An optimistic update (WATCH ... EXEC) runs at most RD_UPDATE_RETRIES
 * times; before try number tries, a nap of up to 5 ms, growing, so that
 * writers on several hosts fall out of step.
 */
#define RD_UPDATE_RETRIES	100
void		 rd_retry_nap(int tries);
/* state_redis_many.c: state_update_many in a few round trips. */
enum lw_err	 rd_update_many(struct state *, const char *const *keys,
		    size_t n, time_t now, state_update_many_fn, void *arg);

/*
 * state_redis_each.c: whether key has index entries (it is under a
 * namespace of state.h), its bucket's index on the server, the set of
 * its namespace's buckets (NULL for a namespace of one bucket; *bucket,
 * *blen: the bucket, a prefix of key), a ZADD score; append the
 * entries' change to a pipeline (the number of commands appended, 0
 * none, -1 out of memory and nothing appended); state_each.
 */
bool		 rd_indexed(const char *key);
char		*rd_index_key(const struct redis *, const char *key,
		    size_t *len);
char		*rd_buckets_key(const struct redis *, const char *key,
		    size_t *len, const char **bucket, size_t *blen);
void		 rd_index_score(time_t expires, char buf[32]);
int		 rd_index_append(struct redis *, redisContext *,
		    const char *key, enum rd_idx, time_t expires);
/* Index what an older lurewall wrote, once per server (a writer's open). */
void		 rd_index_build_all(struct redis *, time_t now);
enum lw_err	 rd_each(struct state *, const char *prefix, time_t now,
		    state_each_fn, void *arg);

#endif /* STATE_REDIS_INT_H */
