/*
 * learn_batch.c: learning in batches (learn.h).  A batched learner
 * merges each message's plan into one in memory (learn.c's
 * learn_plan_merge) and one writer flushes it: at most
 * LEARN_BATCH_MSGS messages or LEARN_BATCH_MS after the first one
 * queued, in one state_update_many (on LMDB one transaction, one
 * fsync for the lot).  A record that many messages of a batch touch
 * (the organisation's counts, a busy account, a big partner's domain)
 * is read, rewritten and synced once instead of once per message.
 *
 * The daemon has one such learner for its life (learn_shared_open
 * after the state opens, learn_shared_close before it closes): a
 * writer thread flushes, the message threads only merge.  `lurewall
 * learn import` batches without a thread: the caller's call flushes
 * when due, learn_close flushes the rest.
 *
 * The trade-off, on purpose: learning is advisory.  A crash (kill -9,
 * power) loses what the batch held: a second of learning, or, when the
 * writer falls behind, the queue and the flush being written; never a
 * message (the learner is called after the message was decided, and
 * its failure is never the message's).  A clean stop flushes.  Bounds: the queue holds at most
 * LEARN_BATCH_HOLD times LEARN_BATCH_MSGS messages; past that (a
 * store that stopped answering) a message is not learned (LW_ELIMIT,
 * the caller logs it).
 *
 * Lookups see what is held (learn_batch_see): a reply that comes a
 * moment after the message it answers was sent finds its thread while
 * the outbound message still waits here, queued or being written.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn_int.h"
#include "log.h"

#define LEARN_BATCH_HOLD	2

struct learn_batch {
	pthread_mutex_t		 mu;	/* everything below but wmu */
	pthread_cond_t		 cv;	/* the writer: due, or stop */
	pthread_mutex_t		 wmu;	/* one flush at a time */
	struct plan		 pl;
	struct plan		*flushing;	/* being written, or NULL */
	_Atomic size_t		 held;	/* messages in pl and flushing */
	struct learn_config	 c;	/* the last submitted: the caps */
	size_t			 max_msgs;
	uint64_t		 interval_ms;
	uint64_t		 since;	/* ms (monotonic) of the first queued */
	bool			 writer;
	bool			 stop;
	pthread_t		 tid;
};

/* The daemon's learner; set at start and at stop, read per message. */
static _Atomic(struct learn *) shared;

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Under mu: how many messages lookups may find here. */
static void
held_set(struct learn_batch *b)
{
	atomic_store(&b->held, b->pl.msgs + (b->flushing != NULL ?
	    b->flushing->msgs : 0));
}

/* Due: full, or the first queued message waited its interval. */
static bool
due(const struct learn_batch *b, uint64_t now_ms)
{
	return b->pl.msgs >= b->max_msgs || (b->pl.msgs > 0 &&
	    now_ms - b->since >= b->interval_ms);
}

enum lw_err
learn_flush(struct learn *l, time_t now)
{
	struct learn_batch	*b = l->batch;
	struct learn_config	 c;
	struct plan		 pl;
	enum lw_err		 e;

	if (b == NULL)
		return LW_OK;
	pthread_mutex_lock(&b->wmu);
	pthread_mutex_lock(&b->mu);
	pl = b->pl;
	memset(&b->pl, 0, sizeof(b->pl));
	/* Lookups read it on (only read) until it is written. */
	b->flushing = &pl;
	c = b->c;
	pthread_mutex_unlock(&b->mu);
	e = learn_plan_write(l, &pl, now);
	pthread_mutex_lock(&b->mu);
	b->flushing = NULL;
	held_set(b);
	pthread_mutex_unlock(&b->mu);
	if (e == LW_OK)
		e = learn_plan_count(l, &c, &pl, now);
	if (e != LW_OK)
		log_warnx("learn: a batch of %zu message(s) not learned: %s",
		    pl.msgs, lw_strerror(e));
	learn_plan_free(&pl);
	pthread_mutex_unlock(&b->wmu);
	return e;
}

static void *
writer(void *arg)
{
	struct learn		*l = arg;
	struct learn_batch	*b = l->batch;
	struct timespec		 ts;
	uint64_t		 at;

	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->stop && !due(b, mono_ms())) {
			at = (b->pl.msgs > 0 ? b->since : mono_ms()) +
			    b->interval_ms;
			ts.tv_sec = (time_t)(at / 1000);
			ts.tv_nsec = (long)(at % 1000) * 1000000;
			(void)pthread_cond_timedwait(&b->cv, &b->mu, &ts);
		}
		if (b->stop && b->pl.msgs == 0)
			break;
		pthread_mutex_unlock(&b->mu);
		(void)learn_flush(l, time(NULL));
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

enum lw_err
learn_batch_start(struct learn *l, size_t max_msgs, unsigned interval_ms,
    bool thread)
{
	struct learn_batch	*b;
	pthread_condattr_t	 ca;
	sigset_t		 all, old;
	int			 rc;

	if (l->batch != NULL || l->readonly || max_msgs == 0)
		return LW_EINVAL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return LW_ENOMEM;
	b->max_msgs = max_msgs;
	b->interval_ms = interval_ms;
	b->c = l->c;
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_init(&b->wmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->batch = b;
	/* The writer takes no signal: the daemon's threads own them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = thread ? pthread_create(&b->tid, NULL, writer, l) : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("learn: cannot start the writer");
		l->batch = NULL;
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->wmu);
		pthread_mutex_destroy(&b->mu);
		free(b);
		return LW_EINTERNAL;
	}
	b->writer = thread;
	return LW_OK;
}

/* Stop the writer (it flushes), flush what is left, free the batch. */
void
learn_batch_free(struct learn *l)
{
	struct learn_batch	*b = l->batch;

	if (b == NULL)
		return;
	if (b->writer) {
		pthread_mutex_lock(&b->mu);
		b->stop = true;
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->tid, NULL);
	}
	(void)learn_flush(l, time(NULL));
	l->batch = NULL;
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->wmu);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

size_t
learn_pending(struct learn *l)
{
	size_t	n;

	if (l->batch == NULL)
		return 0;
	pthread_mutex_lock(&l->batch->mu);
	n = l->batch->pl.msgs;
	pthread_mutex_unlock(&l->batch->mu);
	return n;
}

enum lw_err
learn_submit(struct learn *l, const struct learn_config *c, struct plan *pl,
    time_t now)
{
	struct learn_batch	*b = l->batch;
	uint64_t		 t = mono_ms();
	bool			 flush;
	enum lw_err		 e;

	if (b == NULL)
		return learn_plan_run(l, c, pl, now);
	pthread_mutex_lock(&b->mu);
	/* invariant: the writer empties the queue; a full one is stuck */
	if (b->pl.msgs >= LEARN_BATCH_HOLD * b->max_msgs) {
		pthread_mutex_unlock(&b->mu);
		return LW_ELIMIT;
	}
	if (b->pl.msgs == 0)
		b->since = t;
	b->c = *c;
	e = learn_plan_merge(&b->pl, pl);
	held_set(b);
	flush = due(b, t);
	if (flush && b->writer)
		pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (e == LW_OK && flush && !b->writer)
		e = learn_flush(l, now);
	return e;
}

/* One plan's change to key over *lr. */
static enum lw_err
see_plan(const struct plan *pl, const char *key, struct lrec *lr,
    bool *have)
{
	const struct mut	*m;
	enum lw_err		 e;

	if (pl == NULL || (m = learn_plan_get(pl, key)) == NULL)
		return LW_OK;
	if (!*have && m->existing)
		return LW_OK;	/* it only touches a record there is */
	if (!*have)
		memset(lr, 0, sizeof(*lr));
	if ((e = learn_mut_apply(m, lr, !*have)) == LW_OK)
		*have = true;
	return e;
}

enum lw_err
learn_batch_see(struct learn *l, const char *key, struct lrec *lr,
    bool *have)
{
	struct learn_batch	*b;
	struct learn		*s;
	enum lw_err		 e;

	if (l->batch != NULL)
		b = l->batch;
	else if ((s = learn_shared(l->st)) != NULL)
		b = s->batch;
	else
		return LW_OK;
	if (b == NULL || atomic_load(&b->held) == 0)
		return LW_OK;
	pthread_mutex_lock(&b->mu);
	/* The older first, as they will be written. */
	e = see_plan(b->flushing, key, lr, have);
	if (e == LW_OK)
		e = see_plan(&b->pl, key, lr, have);
	pthread_mutex_unlock(&b->mu);
	return e;
}

enum lw_err
learn_shared_open(struct state *st, const struct learn_config *c)
{
	return learn_shared_open_batch(st, c, LEARN_BATCH_MSGS,
	    LEARN_BATCH_MS);
}

enum lw_err
learn_shared_open_batch(struct state *st, const struct learn_config *c,
    size_t max_msgs, unsigned interval_ms)
{
	struct learn	*l;
	enum lw_err	 e;

	if (st == NULL || st->readonly)
		return LW_OK;
	if ((e = learn_open(st, c, &l)) != LW_OK)
		return e;
	if ((e = learn_batch_start(l, max_msgs, interval_ms, true)) !=
	    LW_OK) {
		learn_close(l);
		return e;
	}
	if ((l = atomic_exchange(&shared, l)) != NULL)
		learn_close(l);
	return LW_OK;
}

void
learn_shared_close(void)
{
	struct learn	*l = atomic_exchange(&shared, NULL);

	if (l != NULL)
		learn_close(l);
}

struct learn *
learn_shared(const struct state *st)
{
	struct learn	*l = atomic_load(&shared);

	return l != NULL && l->st == st ? l : NULL;
}
