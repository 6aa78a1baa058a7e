/*
 * state_redis_conn.c: the Redis backend's connections (see
 * state_redis.c): a locked pool of at most POOL_MAX hiredis contexts,
 * each dialled with AUTH and SELECT; the backoff while the server is
 * away (0.5 s doubling to 5 s, no dial before it passes); the check of
 * every reply, logging a lost server once a minute and a refused
 * command naming the key prefix; and the copies of the configuration.
 */
#include <sys/time.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "state.h"
#include "state_redis_int.h"

void
rd_ms_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static bool
passed(const struct timespec *ts)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec &&
	    now.tv_nsec >= ts->tv_nsec);
}

const char *
rd_where(const struct redis *r)
{
	return r->cfg.socket != NULL ? r->cfg.socket : r->cfg.host;
}

/* Log the server's trouble at most once a minute.  Called with r->mu. */
void
rd_degraded(struct redis *r, const char *what, const char *detail)
{
	time_t	now = time(NULL);

	if (now - r->logged < 60)
		return;
	r->logged = now;
	if (r->cfg.socket != NULL)
		log_warnx("state: redis %s %s: %s (working without it until "
		    "it is back)", r->cfg.socket, what, detail);
	else
		log_warnx("state: redis %s:%u %s: %s (working without it "
		    "until it is back)", r->cfg.host, r->cfg.port, what, detail);
}

redisReply *
rd_cmd(redisContext *c, int argc, const char **argv, const size_t *lens)
{
	return redisCommandArgv(c, argc, argv, lens);
}

/* AUTH and SELECT on a fresh context; false (logged) when refused. */
static bool
hello(struct redis *r, redisContext *c)
{
	const char	*argv[3];
	size_t		 lens[3];
	char		 db[16];
	redisReply	*rep;
	int		 n = 0;
	bool		 ok;

	if (r->cfg.password != NULL) {
		argv[n] = "AUTH";
		lens[n++] = 4;
		if (r->cfg.username != NULL) {
			argv[n] = r->cfg.username;
			lens[n] = strlen(r->cfg.username);
			n++;
		}
		argv[n] = r->cfg.password;
		lens[n] = strlen(r->cfg.password);
		n++;
		if ((rep = rd_cmd(c, n, argv, lens)) == NULL)
			return false;
		ok = rep->type != REDIS_REPLY_ERROR;
		if (!ok)
			log_warnx("state: redis %s: AUTH refused (check state."
			    "redis.password%s): %s", rd_where(r),
			    r->cfg.username != NULL ? " and state.redis."
			    "username" : "", rep->str);
		freeReplyObject(rep);
		if (!ok)
			return false;
	}
	if (r->cfg.db != 0) {
		snprintf(db, sizeof(db), "%u", r->cfg.db);
		argv[0] = "SELECT";
		lens[0] = 6;
		argv[1] = db;
		lens[1] = strlen(db);
		if ((rep = rd_cmd(c, 2, argv, lens)) == NULL)
			return false;
		ok = rep->type != REDIS_REPLY_ERROR;
		if (!ok)
			log_warnx("state: redis %s: SELECT %s refused (state."
			    "redis.db): %s", rd_where(r), db, rep->str);
		freeReplyObject(rep);
		if (!ok)
			return false;
	}
	return true;
}

redisContext *
rd_dial(struct redis *r)
{
	struct timeval	 tv;
	redisContext	*c;

	tv.tv_sec = r->cfg.timeout_ms / 1000;
	tv.tv_usec = (r->cfg.timeout_ms % 1000) * 1000;
	if (r->cfg.socket != NULL)
		c = redisConnectUnixWithTimeout(r->cfg.socket, tv);
	else
		c = redisConnectWithTimeout(r->cfg.host, (int)r->cfg.port, tv);
	if (c == NULL)
		return NULL;
	if (c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
		pthread_mutex_lock(&r->mu);
		rd_degraded(r, "unreachable", c->errstr);
		pthread_mutex_unlock(&r->mu);
		redisFree(c);
		return NULL;
	}
	if (!hello(r, c)) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * A new context once the backoff passed, or NULL (errno set) while the
 * server is away; a failed dial doubles the backoff (up to 5 s).
 */
redisContext *
rd_redial(struct redis *r)
{
	redisContext	*c;

	pthread_mutex_lock(&r->mu);
	if (!passed(&r->retry_at)) {
		pthread_mutex_unlock(&r->mu);
		errno = ECONNREFUSED;
		return NULL;
	}
	pthread_mutex_unlock(&r->mu);
	c = rd_dial(r);
	pthread_mutex_lock(&r->mu);
	if (c != NULL) {
		if (r->backoff_ms > BACKOFF_MIN_MS && r->logged != 0)
			log_info("state: redis %s: connected again",
			    rd_where(r));
		r->backoff_ms = BACKOFF_MIN_MS;
		r->logged = 0;
	} else {
		rd_ms_after(&r->retry_at, r->backoff_ms);
		r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : r->backoff_ms * 2;
	}
	pthread_mutex_unlock(&r->mu);
	if (c == NULL)
		errno = ECONNREFUSED;
	return c;
}

/* A connection for one operation, or NULL (LW_EIO) while unreachable. */
struct rconn *
rd_conn_get(struct redis *r)
{
	struct rconn	*rc;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		if ((rc = r->idle) != NULL) {
			r->idle = rc->next;
			pthread_mutex_unlock(&r->mu);
			return rc;
		}
		if (r->nconn < POOL_MAX)
			break;
		pthread_cond_wait(&r->cv, &r->mu);
	}
	r->nconn++;
	pthread_mutex_unlock(&r->mu);
	if ((rc = calloc(1, sizeof(*rc))) != NULL &&
	    (rc->c = rd_redial(r)) != NULL)
		return rc;
	free(rc);
	pthread_mutex_lock(&r->mu);
	r->nconn--;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	errno = ECONNREFUSED;
	return NULL;
}

/* Give a connection back; a broken one is closed. */
void
rd_conn_put(struct redis *r, struct rconn *rc)
{
	bool	broken = rc->c->err != 0;

	if (broken) {
		redisFree(rc->c);
		free(rc);
	}
	pthread_mutex_lock(&r->mu);
	if (broken) {
		r->nconn--;
		rd_degraded(r, "connection lost", "reconnecting");
	} else {
		rc->next = r->idle;
		r->idle = rc;
	}
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* The server's key: prefix + key, malloc'd. */
char *
rd_key(const struct redis *r, const char *key, size_t *len)
{
	size_t	 kl = strlen(key);
	char	*p;

	if ((p = malloc(r->plen + kl + 1)) == NULL)
		return NULL;
	memcpy(p, r->prefix, r->plen);
	memcpy(p + r->plen, key, kl + 1);
	*len = r->plen + kl;
	return p;
}

/* The server's key (malloc'd) and a pooled connection for key. */
enum lw_err
rd_conn_key(struct redis *r, const char *key, char **k, size_t *klen,
    struct rconn **rc)
{
	if ((*k = rd_key(r, key, klen)) == NULL)
		return LW_ENOMEM;
	if ((*rc = rd_conn_get(r)) == NULL) {
		free(*k);
		*k = NULL;
		return LW_EIO;
	}
	return LW_OK;
}

/* A reply's error: a refused command names the prefix and the ACL. */
enum lw_err
rd_reply_err(struct redis *r, redisContext *c, redisReply *rep)
{
	if (rep == NULL) {
		pthread_mutex_lock(&r->mu);
		rd_degraded(r, "failed", c->errstr);
		pthread_mutex_unlock(&r->mu);
		errno = EIO;
		return LW_EIO;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		if (strncmp(rep->str, "NOPERM", 6) == 0 ||
		    strncmp(rep->str, "NOAUTH", 6) == 0)
			log_warnx("state: redis %s: refused (state.redis."
			    "username's ACL must allow key_prefix %s*): %s",
			    rd_where(r), r->prefix, rep->str);
		else if (strncmp(rep->str, "OOM", 3) == 0)
			log_warnx("state: redis %s: server is full: %s",
			    rd_where(r), rep->str);
		else
			log_warnx("state: redis %s: %s", rd_where(r), rep->str);
		freeReplyObject(rep);
		errno = EIO;
		return LW_EIO;
	}
	return LW_OK;
}

/* The first line of password_file, malloc'd; NULL (logged) on failure. */
char *
rd_read_password(const char *path)
{
	FILE	*f;
	char	 buf[1024], *nl;

	if ((f = fopen(path, "re")) == NULL) {
		log_warn("state.redis.password_file %s", path);
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		log_warnx("state.redis.password_file %s: empty", path);
		return NULL;
	}
	fclose(f);
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	nl = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return nl;
}

char *
rd_dup_or(const char *s, const char *dflt)
{
	return s != NULL ? strdup(s) : dflt != NULL ? strdup(dflt) : NULL;
}

/*
 * The n replies of a pipeline that ends in EXEC, each checked; after an
 * error the rest are read and dropped (none after a lost connection).
 * *exec: EXEC's reply, the caller's to free; NULL on an error.
 */
enum lw_err
rd_exec_replies(struct redis *r, redisContext *c, int n, redisReply **exec)
{
	redisReply	*rep;
	enum lw_err	 e = LW_OK;
	int		 i;

	*exec = NULL;
	for (i = 0; i < n; i++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK)
			rep = NULL;
		if (e != LW_OK) {
			if (rep == NULL)
				break;
			freeReplyObject(rep);
		} else if ((e = rd_reply_err(r, c, rep)) != LW_OK) {
			if (rep == NULL)
				break;
		} else if (i == n - 1)
			*exec = rep;
		else
			freeReplyObject(rep);
	}
	return e;
}
