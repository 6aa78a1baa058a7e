/*
 * drain.c: the callbacks still using the shared stores when the daemon
 * stops.
 *
 * libmilter's smfi_main returns at SIGTERM (SIGHUP, SIGINT) without
 * waiting for the callbacks in progress: its listener and its worker
 * pool stop taking commands, but a callback already running goes on in
 * its worker thread and then sends its reply.  The daemon would close
 * the learned store, the state and the quarantine under it.  So the
 * callbacks that use them (end of message: scan, quarantine, state,
 * learning) enter and leave here, and the daemon, once smfi_main has
 * returned, closes the door (a callback that starts later answers
 * tempfail, touching nothing: the MTA retries) and waits, bounded, for
 * the count to reach zero before it closes the stores.
 *
 * Idle sessions are not counted: libmilter never calls them again after
 * the stop (not even their close callback), so a count of sessions would
 * never drain.
 *
 * One mutex and one condition variable (on CLOCK_MONOTONIC); the count
 * is bounded by libmilter's worker threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "log.h"

static pthread_mutex_t	 drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 drain_cv = PTHREAD_COND_INITIALIZER;
static unsigned		 busy;		/* callbacks inside */
static bool		 closing;	/* drain_close was called */
static bool		 cut;		/* drain_cut was called */
static const char	*gate;		/* LUREWALL_TEST_EOM_GATE */

bool
drain_enter(void)
{
	bool	in;

	pthread_mutex_lock(&drain_lock);
	if ((in = !closing))
		busy++;
	pthread_mutex_unlock(&drain_lock);
	return in;
}

void
drain_leave(void)
{
	pthread_mutex_lock(&drain_lock);
	/* Only a drain_wait cares, and only for the last one out. */
	if (--busy == 0 && closing)
		pthread_cond_broadcast(&drain_cv);
	pthread_mutex_unlock(&drain_lock);
}

/* Raise closing or cut (a waiter looks again); how many are inside. */
static unsigned
drain_raise(bool *flag)
{
	unsigned	n;

	pthread_mutex_lock(&drain_lock);
	*flag = true;
	n = busy;
	pthread_cond_broadcast(&drain_cv);
	pthread_mutex_unlock(&drain_lock);
	return n;
}

unsigned
drain_close(void)
{
	return drain_raise(&closing);
}

void
drain_cut(void)
{
	(void)drain_raise(&cut);
}

enum drain_end
drain_wait(unsigned secs, unsigned *left)
{
	struct timespec	 until;
	enum drain_end	 end = DRAIN_DONE;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&drain_lock);
	while (busy > 0) {
		if (cut) {
			end = DRAIN_CUT;
			break;
		}
		if (pthread_cond_clockwait(&drain_cv, &drain_lock,
		    CLOCK_MONOTONIC, &until) == ETIMEDOUT && busy > 0 &&
		    !cut) {
			end = DRAIN_TIMEOUT;
			break;
		}
	}
	*left = busy;
	pthread_mutex_unlock(&drain_lock);
	return end;
}

void
drain_init(void)
{
	const char	*v = getenv("LUREWALL_TEST_EOM_GATE");

	gate = v != NULL && *v != '\0' ? v : NULL;
}

void
drain_gate(const char *qid)
{
	char	c;
	int	fd;

	if (gate == NULL)
		return;
	log_info("qid=%s: test gate: waiting on %s", qid != NULL ? qid : "-",
	    gate);
	/* A FIFO: open blocks until a writer comes, read until it writes. */
	if ((fd = open(gate, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("test gate %s", gate);
		return;
	}
	while (read(fd, &c, 1) == -1 && errno == EINTR)
		;
	close(fd);
	log_info("qid=%s: test gate: released", qid != NULL ? qid : "-");
}
