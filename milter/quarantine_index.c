/*
 * quarantine_index.c: the shared index of every host's quarantine and
 * the queue of commands between hosts (see quarantine_index.h), on the
 * state interface (state.h) only: records are state_put, commands a
 * state_push list per host, claims state_add.
 *
 * Takes a store, a state and this host's name.  Bounds: a command
 * queue keeps at most QINDEX_QUEUE_MAX commands, each of a bounded
 * size; a record is an item's metadata (QUARANTINE_META_MAX at most),
 * never its message.  Two threads: the worker publishes what changed
 * at once and looks at the server every QINDEX_TICK_MS (republishing
 * what a restarted server lost); the consumer waits for commands on
 * the server (state_pop_wait: BLPOP), QINDEX_WAIT_MS at a time so that
 * it stops promptly.  The state's own backoff (0.5 s doubling to 5 s)
 * spaces reconnects.  Ignores: items of
 * other hosts in the local store (there are none), and commands whose
 * claim it loses (withdrawn, or taken by a twin with our name).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "quarantine_index.h"
#include "sbuf.h"
#include "state.h"

#define QINDEX_QUEUE_MAX	1000		/* commands queued a host */
#define QINDEX_CMD_MAX		4096		/* bytes of one command */
#define QINDEX_TICK_MS		1000		/* worker's longest wait */
#define QINDEX_WAIT_MS		1000		/* consumer's longest wait */
#define QINDEX_TOUCH_MAX	10000		/* ids waiting for the worker */
#define CMD_MAGIC		"lurewall-qcmd 1"

struct qindex {
	struct state	*st;
	struct quarantine *q;
	char		*host;

	/* The worker. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 tid;
	pthread_t	 ctid;		/* the consumer of commands */
	pthread_cond_t	 ccv;		/* its nap after a failure */
	bool		 running;
	bool		 stop;
	char		**touched;	/* ids changed since its last look */
	size_t		 ntouched;
	bool		 overflow;	/* too many: publish all instead */
	qindex_exec_fn	 exec;
	void		*exec_arg;
	time_t		 logged;	/* last "unavailable" line */
};

static enum lw_err
key_of(char *buf, size_t len, const char *space, const char *host,
    const char *id)
{
	int	n;

	n = snprintf(buf, len, "%s:%s%s%s", space, host, id != NULL ? ":" :
	    "", id != NULL ? id : "");
	return n < 0 || (size_t)n >= len ? LW_ELIMIT : LW_OK;
}

enum lw_err
qindex_open(struct state *st, struct quarantine *q, const char *host,
    struct qindex **out)
{
	struct qindex	*qx;

	*out = NULL;
	if (host == NULL || !state_host_ok(host))
		return LW_EINVAL;
	if ((qx = calloc(1, sizeof(*qx))) == NULL)
		return LW_ENOMEM;
	if ((qx->host = strdup(host)) == NULL) {
		free(qx);
		return LW_ENOMEM;
	}
	qx->st = st;
	qx->q = q;
	pthread_mutex_init(&qx->mu, NULL);
	pthread_cond_init(&qx->cv, NULL);
	pthread_cond_init(&qx->ccv, NULL);
	*out = qx;
	return LW_OK;
}

void
qindex_close(struct qindex *qx)
{
	if (qx == NULL)
		return;
	qindex_stop(qx);
	while (qx->ntouched > 0)
		free(qx->touched[--qx->ntouched]);
	free(qx->touched);
	pthread_cond_destroy(&qx->cv);
	pthread_cond_destroy(&qx->ccv);
	pthread_mutex_destroy(&qx->mu);
	state_close(qx->st);
	free(qx->host);
	free(qx);
}

const char *
qindex_host(const struct qindex *qx)
{
	return qx->host;
}

/* The server is away: say so at most once a minute. */
static void
unavailable(struct qindex *qx, const char *what)
{
	if (state_log_due(&qx->mu, &qx->logged))
		log_warnx("quarantine index: %s %s failed (%s); items stay "
		    "in this host's store and are published again when it "
		    "is back", state_name(qx->st), what, strerror(errno));
}

enum lw_err
qindex_sync(struct qindex *qx, const char *id)
{
	char		 key[STATE_KEY_MAX + 1], *rec;
	size_t		 len;
	enum lw_err	 e;

	if ((e = key_of(key, sizeof(key), "quarantine", qx->host, id)) !=
	    LW_OK)
		return e;
	e = quarantine_export(qx->q, id, &rec, &len);
	if (e == LW_ENOTFOUND) {
		e = state_del(qx->st, key);
		return e == LW_ENOTFOUND ? LW_OK : e;
	}
	if (e != LW_OK)
		return e;
	e = state_put(qx->st, key, rec, len, 0, time(NULL));
	free(rec);
	return e;
}

void
qindex_touch(void *arg, const char *id)
{
	struct qindex	*qx = arg;
	char		*dup = NULL, **nv;
	enum lw_err	 e;

	pthread_mutex_lock(&qx->mu);
	if (qx->running) {
		if (qx->ntouched >= QINDEX_TOUCH_MAX || (dup = strdup(id)) ==
		    NULL || (nv = reallocarray(qx->touched, qx->ntouched + 1,
		    sizeof(*nv))) == NULL) {
			free(dup);
			qx->overflow = true;
		} else {
			qx->touched = nv;
			qx->touched[qx->ntouched++] = dup;
		}
		pthread_cond_signal(&qx->cv);
		pthread_mutex_unlock(&qx->mu);
		return;
	}
	pthread_mutex_unlock(&qx->mu);
	if ((e = qindex_sync(qx, id)) != LW_OK)
		fprintf(stderr, "lurewall: the shared quarantine index "
		    "(%s) missed %s: %s; the daemon publishes it again at "
		    "its next start\n", state_name(qx->st), id, e == LW_EIO ?
		    "unreachable" : lw_strerror(e));
}

/* ---- republishing ---- */

struct stale {
	struct quarantine_item	**local;
	size_t			  nlocal;
	char			**gone;
	size_t			  ngone;
	size_t			  skip;	/* "quarantine:HOST:" */
};

static int
id_cmp(const void *a, const void *b)
{
	return strcmp((*(struct quarantine_item *const *)a)->id,
	    (*(struct quarantine_item *const *)b)->id);
}

static enum lw_err
collect_stale(void *arg, const char *key, const struct state_val *v)
{
	struct stale		*s = arg;
	struct quarantine_item	 want, *wp = &want;
	char			**nv;

	(void)v;
	if (strlen(key) <= s->skip || strlen(key + s->skip) >=
	    sizeof(want.id))
		return LW_OK;
	memcpy(want.id, key + s->skip, strlen(key + s->skip) + 1);
	if (s->nlocal > 0 && bsearch(&wp, s->local, s->nlocal,
	    sizeof(*s->local), id_cmp) != NULL)
		return LW_OK;
	if ((nv = reallocarray(s->gone, s->ngone + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	s->gone = nv;
	if ((s->gone[s->ngone] = strdup(key)) == NULL)
		return LW_ENOMEM;
	s->ngone++;
	return LW_OK;
}

enum lw_err
qindex_republish(struct qindex *qx, size_t *published)
{
	struct stale	 s = { 0 };
	char		 key[STATE_KEY_MAX + 1], stamp[32];
	enum lw_err	 e;
	size_t		 i;
	time_t		 now = time(NULL);

	*published = 0;
	if ((e = quarantine_list(qx->q, &s.local, &s.nlocal)) != LW_OK)
		return e;
	for (i = 0; i < s.nlocal; i++) {
		e = qindex_sync(qx, s.local[i]->id);
		if (e == LW_EIO || e == LW_ENOMEM)
			goto out;
		if (e == LW_OK)
			(*published)++;
	}
	/* Records of items gone meanwhile (deleted while it was away). */
	if (s.nlocal > 1)
		qsort(s.local, s.nlocal, sizeof(*s.local), id_cmp);
	if ((e = key_of(key, sizeof(key), "quarantine", qx->host, "")) !=
	    LW_OK)
		goto out;
	s.skip = strlen(key);
	if ((e = state_each(qx->st, key, now, collect_stale, &s)) != LW_OK)
		goto out;
	for (i = 0; i < s.ngone; i++)
		if ((e = state_del(qx->st, s.gone[i])) == LW_EIO)
			goto out;
	snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	if ((e = key_of(key, sizeof(key), "quarantine-host", qx->host,
	    NULL)) == LW_OK)
		e = state_put(qx->st, key, stamp, strlen(stamp), 0, now);
out:
	for (i = 0; i < s.ngone; i++)
		free(s.gone[i]);
	free(s.gone);
	quarantine_items_free(s.local, s.nlocal);
	return e;
}

/* ---- listing ---- */

struct gather {
	struct quarantine_item	**v;
	size_t			  n;
	const char		 *self;
};

static enum lw_err
gather_one(void *arg, const char *key, const struct state_val *v)
{
	struct gather		 *g = arg;
	struct quarantine_item	 *it, **nv;
	const char		 *host = key + strlen("quarantine:"), *colon;

	if ((colon = strchr(host, ':')) == NULL)
		return LW_OK;
	if (g->self != NULL && strlen(g->self) == (size_t)(colon - host) &&
	    strncmp(host, g->self, (size_t)(colon - host)) == 0)
		return LW_OK;
	/* A damaged record hides one item, not the list. */
	if (quarantine_import((const char *)v->data, v->len, &it) != LW_OK)
		return LW_OK;
	if (strcmp(it->id, colon + 1) != 0 || (it->host =
	    lw_strndup(host, (size_t)(colon - host))) == NULL ||
	    (nv = reallocarray(g->v, g->n + 1, sizeof(*nv))) == NULL) {
		bool oom = strcmp(it->id, colon + 1) == 0;

		quarantine_item_free(it);
		return oom ? LW_ENOMEM : LW_OK;
	}
	g->v = nv;
	g->v[g->n++] = it;
	return LW_OK;
}

static int
newest_first(const void *a, const void *b)
{
	const struct quarantine_item	*x = *(struct quarantine_item *const *)a;
	const struct quarantine_item	*y = *(struct quarantine_item *const *)b;
	int				 c;

	if (x->time != y->time)
		return x->time < y->time ? 1 : -1;
	if ((c = strcmp(x->host != NULL ? x->host : "",
	    y->host != NULL ? y->host : "")) != 0)
		return c;
	return strcmp(x->id, y->id);
}

void
qindex_sort(struct quarantine_item **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), newest_first);
}

enum lw_err
qindex_list(struct qindex *qx, const char *host,
    struct quarantine_item ***out, size_t *n)
{
	struct gather	 g = { NULL, 0, NULL };
	char		 prefix[STATE_KEY_MAX + 1];
	enum lw_err	 e;

	*out = NULL;
	*n = 0;
	if (host != NULL)
		e = key_of(prefix, sizeof(prefix), "quarantine", host, "");
	else {
		g.self = qx->host;
		e = key_of(prefix, sizeof(prefix), "quarantine", "", NULL);
		prefix[strlen("quarantine:")] = '\0';
	}
	if (e != LW_OK)
		return e;
	if ((e = state_each(qx->st, prefix, time(NULL), gather_one, &g)) !=
	    LW_OK) {
		quarantine_items_free(g.v, g.n);
		return e;
	}
	qindex_sort(g.v, g.n);
	*out = g.v;
	*n = g.n;
	return LW_OK;
}

/* ---- commands ---- */

/* A value for one line: no line breaks, no other control bytes. */
static bool
line_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

char *
qindex_cmd_encode(const struct qindex_cmd *c)
{
	struct sbuf	sb = { 0 };

	if (!line_ok(c->token) || !line_ok(c->verb) ||
	    !quarantine_id_valid(c->id) || (c->to != NULL &&
	    !line_ok(c->to)) || (c->who != NULL && !line_ok(c->who)))
		return NULL;
	sbuf_adds(&sb, CMD_MAGIC "\ntoken ");
	sbuf_adds(&sb, c->token);
	sbuf_adds(&sb, "\nverb ");
	sbuf_adds(&sb, c->verb);
	sbuf_adds(&sb, "\nid ");
	sbuf_adds(&sb, c->id);
	sbuf_adds(&sb, c->force ? "\nforce 1\n" : "\nforce 0\n");
	if (c->to != NULL) {
		sbuf_adds(&sb, "to ");
		sbuf_adds(&sb, c->to);
		sbuf_adds(&sb, "\n");
	}
	if (c->who != NULL) {
		sbuf_adds(&sb, "by ");
		sbuf_adds(&sb, c->who);
		sbuf_adds(&sb, "\n");
	}
	sbuf_add(&sb, "", 1);
	if (sb.oom || sb.len > QINDEX_CMD_MAX) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}

void
qindex_cmd_free(struct qindex_cmd *c)
{
	free(c->to);
	free(c->who);
	c->to = c->who = NULL;
}

/* "key value" into a fixed field; false when it does not fit. */
static bool
copy_to(char *dst, size_t len, const char *v, size_t vlen)
{
	if (vlen >= len)
		return false;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return true;
}

enum lw_err
qindex_cmd_decode(const char *buf, size_t len, struct qindex_cmd *c)
{
	const char	*p, *end = buf + len, *nl, *sp;
	size_t		 n, vlen;
	bool		 good = true;
	unsigned	 seen = 0;

	memset(c, 0, sizeof(*c));
	if (len > QINDEX_CMD_MAX || len < sizeof(CMD_MAGIC) ||
	    memcmp(buf, CMD_MAGIC "\n", sizeof(CMD_MAGIC)) != 0)
		return LW_EMALFORMED;
	for (p = buf + sizeof(CMD_MAGIC); good && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;		/* the NUL we add ends it */
		n = (size_t)(nl - p);
		if ((sp = memchr(p, ' ', n)) == NULL) {
			good = false;
			break;
		}
		vlen = n - (size_t)(sp + 1 - p);
#define IS(k)	((size_t)(sp - p) == strlen(k) && memcmp(p, k, strlen(k)) == 0)
		if (IS("token"))
			good = copy_to(c->token, sizeof(c->token), sp + 1,
			    vlen) && (seen |= 1);
		else if (IS("verb"))
			good = copy_to(c->verb, sizeof(c->verb), sp + 1,
			    vlen) && (seen |= 2);
		else if (IS("id"))
			good = copy_to(c->id, sizeof(c->id), sp + 1, vlen) &&
			    (seen |= 4);
		else if (IS("force"))
			c->force = vlen == 1 && sp[1] == '1';
		else if (IS("to") && c->to == NULL)
			good = (c->to = lw_strndup(sp + 1, vlen)) != NULL;
		else if (IS("by") && c->who == NULL)
			good = (c->who = lw_strndup(sp + 1, vlen)) != NULL;
#undef IS
	}
	if (!good || seen != 7 || !quarantine_id_valid(c->id) ||
	    (strcmp(c->verb, "release") != 0 &&
	    strcmp(c->verb, "delete") != 0) ||
	    (c->to != NULL && (!line_ok(c->to) || *c->to == '\0' ||
	    *c->to == '-' || strpbrk(c->to, " <>") != NULL))) {
		qindex_cmd_free(c);
		return LW_EMALFORMED;
	}
	return LW_OK;
}

static enum lw_err
new_token(char token[QINDEX_TOKEN_LEN + 1])
{
	unsigned char	rnd[QINDEX_TOKEN_LEN / 2];
	size_t		i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return LW_EIO;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	return LW_OK;
}

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An answer record ("ok" or "failed", a line break, text) into *st. */
static enum lw_err
answer_parse(struct state_val *v, enum qindex_status *st, char **answer)
{
	char	*nl;

	*st = strncmp((char *)v->data, "ok\n", 3) == 0 ? QINDEX_DONE :
	    QINDEX_FAILED;
	nl = strchr((char *)v->data, '\n');
	*answer = strdup(nl != NULL ? nl + 1 : "");
	state_val_free(v);
	return *answer == NULL ? LW_ENOMEM : LW_OK;
}

/*
 * The answer to token pushed on its reply list, waiting for it up to
 * wait_ms (0: only a look): LW_ENOTFOUND while none.  With Redis the
 * wait is one BLPOP, so the asker hears the answer the moment the
 * owning daemon gives it, and asks nothing meanwhile.
 */
static enum lw_err
answer_wait(struct qindex *qx, const char *token, unsigned wait_ms,
    enum qindex_status *st, char **answer)
{
	struct state_val	 v;
	char			 key[STATE_KEY_MAX + 1];
	enum lw_err		 e;

	if ((e = key_of(key, sizeof(key), "quarantine-reply", token,
	    NULL)) != LW_OK)
		return e;
	e = wait_ms > 0 ? state_pop_wait(qx->st, key, wait_ms, &v) :
	    state_pop(qx->st, key, time(NULL), &v);
	if (e != LW_OK)
		return e;
	return answer_parse(&v, st, answer);
}

enum lw_err
qindex_ask(struct qindex *qx, const char *host, struct qindex_cmd *cmd,
    unsigned timeout_ms, enum qindex_status *st, char **answer)
{
	char		 key[STATE_KEY_MAX + 1], *wire;
	uint64_t	 deadline, left;
	time_t		 now = time(NULL);
	enum lw_err	 e;

	*answer = NULL;
	*st = QINDEX_WITHDRAWN;
	if ((e = new_token(cmd->token)) != LW_OK)
		return e;
	if ((wire = qindex_cmd_encode(cmd)) == NULL)
		return LW_EINVAL;
	if ((e = key_of(key, sizeof(key), "quarantine-cmd", host, NULL)) ==
	    LW_OK)
		e = state_push(qx->st, key, wire, strlen(wire),
		    QINDEX_QUEUE_MAX, now + QINDEX_KEEP_SECS, now);
	free(wire);
	if (e != LW_OK)
		return e;
	/* state_pop_wait waits STATE_POP_WAIT_MAX at most a call. */
	deadline = mono_ms() + timeout_ms;
	while ((left = mono_ms()) < deadline) {
		left = deadline - left;
		e = answer_wait(qx, cmd->token, left > STATE_POP_WAIT_MAX ?
		    STATE_POP_WAIT_MAX : (unsigned)left, st, answer);
		if (e != LW_ENOTFOUND)
			return e;
	}
	/* Too late: withdraw it, unless its host took it meanwhile. */
	if ((e = key_of(key, sizeof(key), "quarantine-claim", cmd->token,
	    NULL)) != LW_OK)
		return e;
	now = time(NULL);
	e = state_add(qx->st, key, "withdrawn", 9, now + QINDEX_KEEP_SECS,
	    now);
	if (e == LW_OK) {
		*st = QINDEX_WITHDRAWN;
		return LW_OK;
	}
	if (e != LW_EEXIST)
		return e;
	/* Taken: perhaps answered in the meantime. */
	if ((e = answer_wait(qx, cmd->token, 0, st, answer)) ==
	    LW_ENOTFOUND) {
		*st = QINDEX_TAKEN;
		return LW_OK;
	}
	return e;
}

/* ---- the daemon's worker ---- */

/*
 * Take (waiting up to QINDEX_WAIT_MS), claim, carry out and answer one
 * command; LW_ENOTFOUND: none came.
 */
static enum lw_err
serve_one(struct qindex *qx)
{
	struct qindex_cmd	 c;
	struct state_val	 v;
	char			 key[STATE_KEY_MAX + 1], *answer = NULL, *rec;
	enum lw_err		 e, done;
	time_t			 now = time(NULL);
	int			 len;

	if ((e = key_of(key, sizeof(key), "quarantine-cmd", qx->host,
	    NULL)) != LW_OK ||
	    (e = state_pop_wait(qx->st, key, QINDEX_WAIT_MS, &v)) != LW_OK)
		return e;
	now = time(NULL);
	e = qindex_cmd_decode((const char *)v.data, v.len + 1, &c);
	state_val_free(&v);
	if (e != LW_OK) {
		log_warnx("quarantine index: a malformed command in %s "
		    "ignored", key);
		return LW_OK;
	}
	/* The claim: a withdrawn (or already taken) command never runs. */
	if ((e = key_of(key, sizeof(key), "quarantine-claim", c.token,
	    NULL)) != LW_OK || (e = state_add(qx->st, key, qx->host,
	    strlen(qx->host), now + QINDEX_KEEP_SECS, now)) != LW_OK) {
		if (e == LW_EEXIST)
			log_info("quarantine index: %s %s (asked by %s) was "
			    "withdrawn before it was taken", c.verb, c.id,
			    c.who != NULL ? c.who : "?");
		qindex_cmd_free(&c);
		return e == LW_EEXIST ? LW_OK : e;
	}
	done = qx->exec(qx->exec_arg, &c, &answer);
	log_info("quarantine index: %s %s asked by %s: %s", c.verb, c.id,
	    c.who != NULL ? c.who : "?", done == LW_OK ? "done" : "failed");
	len = answer != NULL ? (int)strlen(answer) : 0;
	if (lw_asprintf(&rec, "%s\n%.*s", done == LW_OK ? "ok" : "failed",
	    len, answer != NULL ? answer : "") == LW_OK) {
		/* The asker waits on this list (BLPOP): it hears at once. */
		now = time(NULL);
		if (key_of(key, sizeof(key), "quarantine-reply", c.token,
		    NULL) == LW_OK && (e = state_push(qx->st, key, rec,
		    strlen(rec), 1, now + QINDEX_REPLY_SECS, now)) != LW_OK)
			log_warnx("quarantine index: cannot answer %s %s: %s",
			    c.verb, c.id, lw_strerror(e));
		free(rec);
	}
	free(answer);
	qindex_cmd_free(&c);
	return LW_OK;
}

/*
 * Is our index still on the server?  LW_ENOTFOUND: a restarted (or
 * flushed) server lost it; LW_EIO: the server is away.
 */
static enum lw_err
probe(struct qindex *qx)
{
	struct state_val	 v;
	char			 key[STATE_KEY_MAX + 1];
	enum lw_err		 e;

	if ((e = key_of(key, sizeof(key), "quarantine-host", qx->host,
	    NULL)) != LW_OK ||
	    (e = state_get(qx->st, key, time(NULL), &v)) != LW_OK)
		return e;
	state_val_free(&v);
	return LW_OK;
}

static void *
worker(void *arg)
{
	struct qindex	*qx = arg;
	struct timespec	 until;
	char		**ids;
	size_t		 n, i;
	bool		 fresh = false, overflow;
	enum lw_err	 e;

	for (;;) {
		/* Publish all at start, after an outage, on a lost index. */
		if ((e = probe(qx)) == LW_EIO) {
			unavailable(qx, "reaching it");
			fresh = false;
		} else if (!fresh || e != LW_OK) {
			if ((e = qindex_republish(qx, &n)) == LW_OK) {
				log_info("quarantine index: %zu item(s) of %s "
				    "published on %s", n, qx->host,
				    state_name(qx->st));
				fresh = true;
			} else {
				fresh = false;
				unavailable(qx, "publishing");
			}
		}
		pthread_mutex_lock(&qx->mu);
		ids = qx->touched;
		n = qx->ntouched;
		overflow = qx->overflow;
		qx->touched = NULL;
		qx->ntouched = 0;
		qx->overflow = false;
		pthread_mutex_unlock(&qx->mu);
		for (i = 0; i < n; i++) {
			if (fresh && !overflow &&
			    qindex_sync(qx, ids[i]) == LW_EIO) {
				unavailable(qx, "indexing");
				fresh = false;
			}
			free(ids[i]);
		}
		free(ids);
		if (overflow)
			fresh = false;
		pthread_mutex_lock(&qx->mu);
		if (qx->stop) {
			pthread_mutex_unlock(&qx->mu);
			break;
		}
		if (qx->ntouched == 0 && !qx->overflow) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += QINDEX_TICK_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&qx->cv, &qx->mu, &until);
		}
		pthread_mutex_unlock(&qx->mu);
	}
	return NULL;
}

/*
 * The consumer: commands as they come, one at a time.  Nothing to poll:
 * it waits on the server; after a failure it naps QINDEX_WAIT_MS.
 */
static void *
consumer(void *arg)
{
	struct qindex	*qx = arg;
	struct timespec	 until;
	enum lw_err	 e;
	bool		 stop;

	for (;;) {
		pthread_mutex_lock(&qx->mu);
		stop = qx->stop;
		pthread_mutex_unlock(&qx->mu);
		if (stop)
			break;
		if ((e = serve_one(qx)) == LW_OK || e == LW_ENOTFOUND)
			continue;
		unavailable(qx, "reading commands");
		pthread_mutex_lock(&qx->mu);
		if (!qx->stop) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += QINDEX_WAIT_MS / 1000;
			pthread_cond_timedwait(&qx->ccv, &qx->mu, &until);
		}
		pthread_mutex_unlock(&qx->mu);
	}
	return NULL;
}

enum lw_err
qindex_start(struct qindex *qx, qindex_exec_fn fn, void *arg)
{
	sigset_t	all, old;
	int		rc;

	qx->exec = fn;
	qx->exec_arg = arg;
	pthread_mutex_lock(&qx->mu);
	qx->running = true;
	qx->stop = false;
	pthread_mutex_unlock(&qx->mu);
	/*
	 * Our threads take no signal: the daemon starts us before it
	 * masks TERM, HUP, INT and USR1 for libmilter's and the
	 * reloader's threads, and one of those (default action: exit)
	 * taken here killed the daemon without its shutdown.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((rc = pthread_create(&qx->tid, NULL, worker, qx)) != 0)
		goto out_none;
	if ((rc = pthread_create(&qx->ctid, NULL, consumer, qx)) != 0) {
		pthread_mutex_lock(&qx->mu);
		qx->stop = true;
		pthread_cond_signal(&qx->cv);
		pthread_mutex_unlock(&qx->mu);
		pthread_join(qx->tid, NULL);
		goto out_none;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return LW_OK;
out_none:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&qx->mu);
	qx->running = false;
	pthread_mutex_unlock(&qx->mu);
	errno = rc;
	return LW_EIO;
}

void
qindex_stop(struct qindex *qx)
{
	bool	was;

	pthread_mutex_lock(&qx->mu);
	was = qx->running;
	qx->stop = true;
	pthread_cond_signal(&qx->cv);
	pthread_cond_signal(&qx->ccv);
	pthread_mutex_unlock(&qx->mu);
	if (was) {
		pthread_join(qx->tid, NULL);
		pthread_join(qx->ctid, NULL);	/* within QINDEX_WAIT_MS */
	}
	pthread_mutex_lock(&qx->mu);
	qx->running = false;
	pthread_mutex_unlock(&qx->mu);
}
