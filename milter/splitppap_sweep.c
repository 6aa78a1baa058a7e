/*
 * splitppap_sweep.c: split PPAP's timeouts (see splitppap.c): the
 * sweep applies each expired item's on_timeout once (claimed first, so
 * a password mail and a timeout never both act), moves the pending/
 * markers of a store from before the state into it, and puts back what
 * a shared state lost; and the sweep thread's alarm clock, which the
 * holding and the queue wake.
 *
 * Bounds: a sweep walks this host's items in the state only; the
 * periodic one runs when something is due or SPLITPPAP_SWEEP_SECS
 * passed, a restore every RESTORE_SECS.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "policy.h"
#include "pwcand.h"
#include "quarantine.h"
#include "runtime.h"
#include "sbuf.h"
#include "scan.h"
#include "splitppap.h"
#include "state.h"
#include "verdict.h"

#include "splitppap_int.h"
#include "util.h"

static pthread_mutex_t	 wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake_cond = PTHREAD_COND_INITIALIZER;
static time_t		 wake_at;	/* earliest wake-up asked; 0 none */
static bool		 sleep_stopped;	/* the daemon is stopping */
static time_t		 due_at;	/* earliest known expiry; 0 none */
static time_t		 scanned_at;	/* the last look at every item */

/* ---- the sweep thread's alarm clock ---- */

/* Wake the sweep thread by when (0: nothing new). */
void
sp_notify(time_t when)
{
	pthread_mutex_lock(&wake_lock);
	if (when != 0 && (wake_at == 0 || when < wake_at)) {
		wake_at = when;
		pthread_cond_signal(&wake_cond);
	}
	pthread_mutex_unlock(&wake_lock);
}

/* An item expires at when: the sweep must look then. */
void
sp_notify_expiry(time_t when)
{
	pthread_mutex_lock(&wake_lock);
	if (when != 0 && (due_at == 0 || when < due_at))
		due_at = when;
	pthread_mutex_unlock(&wake_lock);
	sp_notify(when);
}

/*
 * Whether a periodic sweep must look at every item now: something is
 * due, or SPLITPPAP_SWEEP_SECS passed (another process may have added
 * items).  Wake-ups for the queue alone (a shared state, every few
 * seconds) skip it, so Redis is not scanned that often.
 */
static bool
scan_due(time_t now)
{
	bool	due;

	pthread_mutex_lock(&wake_lock);
	due = (due_at != 0 && due_at <= now) ||
	    now - scanned_at >= SPLITPPAP_SWEEP_SECS;
	if (due) {
		scanned_at = now;
		due_at = 0;
	} else if (due_at != 0 && (wake_at == 0 || due_at < wake_at))
		wake_at = due_at;	/* woken early (time(3) is coarse) */
	pthread_mutex_unlock(&wake_lock);
	return due;
}

static bool
restore_due(time_t now)
{
	static time_t	 restored_at;
	bool		 due;

	pthread_mutex_lock(&wake_lock);
	if ((due = restored_at == 0 || now - restored_at >= RESTORE_SECS))
		restored_at = now;
	pthread_mutex_unlock(&wake_lock);
	return due;
}

bool
splitppap_sleep(unsigned max_secs)
{
	struct timespec	ts;
	time_t		deadline;
	int		rc = 0;
	bool		go_on;

	pthread_mutex_lock(&wake_lock);
	deadline = time(NULL) + (time_t)max_secs;
	while (rc != ETIMEDOUT && !sleep_stopped) {
		if (wake_at != 0 && wake_at < deadline)
			deadline = wake_at;
		if (time(NULL) >= deadline)
			break;
		ts.tv_sec = deadline;
		ts.tv_nsec = 0;
		rc = pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
	}
	wake_at = 0;		/* the sweep that follows notes the next one */
	go_on = !sleep_stopped;
	pthread_mutex_unlock(&wake_lock);
	return go_on;
}

void
splitppap_stop_sleep(void)
{
	pthread_mutex_lock(&wake_lock);
	sleep_stopped = true;
	pthread_cond_broadcast(&wake_cond);
	pthread_mutex_unlock(&wake_lock);
}

/* ---- timeout ---- */

static void
say(FILE *report, const char *qid, int prio, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
say(FILE *report, const char *qid, int prio, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	if (report != NULL)
		fprintf(report, "%s\n", s);
	else
		log_msg(prio, qid, "split PPAP: %s", s);
	free(s);
}

/* on_timeout for one expired item (claimed); true when it acted. */
static bool
timeout_item(struct quarantine *q, const char *id, const char *submit,
    time_t now, FILE *report)
{
	struct quarantine_item	*it = NULL;
	struct quarantine_extra	 x;
	char			*result = NULL, err[512];
	const char		*ot;
	bool			 acted = false;
	enum lw_err		 e;
	int			 fd;

	if (quarantine_lock(q, id, &fd) != LW_OK)
		return false;
	if (quarantine_read(q, id, &it) != LW_OK || !sp_is_pending(it) ||
	    it->expires > now)
		goto out;
	ot = it->on_timeout != NULL ? it->on_timeout : sp_timeout_names[0];
	memset(&x, 0, sizeof(x));
	x.on_timeout = ot;
	x.reason = "no password mail opened the archive in time";
	err[0] = '\0';
	if (strcmp(ot, "keep") == 0) {
		x.state = "held";
		if ((e = quarantine_update(q, id, NULL, &x)) == LW_OK) {
			acted = true;
			metrics_add(MC_SPLIT_EXPIRED, 1);
			say(report, it->qid, LOG_INFO, "quarantine_id=%s "
			    "timed out: kept (on_timeout keep)", id);
		} else
			say(report, it->qid, LOG_ERR, "quarantine_id=%s "
			    "timed out, keeping it failed: %s", id,
			    lw_strerror(e));
		goto out;
	}
	if (strcmp(ot, "release") != 0 && (result = sp_result_value("tag",
	    it->score, it->rules, "timeout (encrypted archive not opened: "
	    "no password mail in time)")) == NULL)
		goto out;
	if ((e = sp_release_item(q, it, submit, NULL, result, x.reason, err,
	    sizeof(err))) == LW_OK || strncmp(err, "released,", 9) == 0) {
		acted = true;
		metrics_add(MC_SPLIT_EXPIRED, 1);
		say(report, it->qid, LOG_INFO, "quarantine_id=%s timed out: "
		    "released (on_timeout %s)", id, ot);
	} else
		say(report, it->qid, LOG_ERR, "quarantine_id=%s timed out, "
		    "release failed: %s", id, err[0] != '\0' ? err :
		    lw_strerror(e));
out:
	quarantine_unlock(fd);
	quarantine_item_free(it);
	free(result);
	return acted;
}

/*
 * The pending/ markers of the store before the state (one empty file
 * per pending item): each becomes the item's record in the state, then
 * goes; the directory goes when empty.  A record the state refuses
 * keeps its marker for the next start.
 */
static size_t
migrate_markers(struct quarantine *q, time_t now)
{
	struct quarantine_item	*it;
	struct dirent		*de;
	char			*path, **ids = NULL, **nv;
	size_t			 n = 0, i, moved = 0;
	DIR			*d;
	int			 dfd;

	if (lw_asprintf(&path, "%s/" PENDING_DIR, quarantine_dir(q)) != LW_OK)
		return 0;
	if ((d = opendir(path)) == NULL) {
		free(path);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!quarantine_id_valid(de->d_name))
			continue;
		if ((nv = reallocarray(ids, n + 1, sizeof(*ids))) == NULL ||
		    (nv[n] = strdup(de->d_name)) == NULL) {
			if (nv != NULL)
				ids = nv;
			break;
		}
		ids = nv;
		n++;
	}
	dfd = dirfd(d);
	for (i = 0; i < n; i++) {
		if (quarantine_read(q, ids[i], &it) == LW_OK) {
			if (sp_is_pending(it) && sp_publish(q, ids[i], NULL, 0,
			    it->expires, now) != LW_OK) {
				quarantine_item_free(it);
				continue;
			}
			if (sp_is_pending(it))
				moved++;
			quarantine_item_free(it);
		}
		(void)unlinkat(dfd, ids[i], 0);
	}
	closedir(d);
	if (rmdir(path) == 0 || moved > 0)
		log_info("split PPAP: %zu pending item(s) moved from %s into "
		    "the state", moved, path);
	lw_strv_free(ids, n);
	free(path);
	return moved;
}

/*
 * After a crash between store and record, or an outage of a shared
 * state: every pending item not in the state, and not claimed, goes
 * back in.
 */
static void
restore(struct quarantine *q, time_t now)
{
	struct quarantine_item	**v;
	struct state_val	  sv;
	char			  key[KEY_MAX];
	size_t			  n, i;

	if (quarantine_list(q, &v, &n) != LW_OK)
		return;
	for (i = 0; i < n; i++) {
		if (!sp_is_pending(v[i]))
			continue;
		sp_key_of(key, K_PENDING, quarantine_host(q), v[i]->id);
		if (state_get(quarantine_state(q), key, now, &sv) == LW_OK) {
			state_val_free(&sv);
			continue;
		}
		sp_key_of(key, K_CLAIM, quarantine_host(q), v[i]->id);
		if (state_get(quarantine_state(q), key, now, &sv) == LW_OK) {
			state_val_free(&sv);
			continue;
		}
		if (sp_publish(q, v[i]->id, NULL, 0, v[i]->expires, now) ==
		    LW_OK)
			log_info("split PPAP: quarantine_id=%s back in the "
			    "state", v[i]->id);
	}
	quarantine_items_free(v, n);
}

enum lw_err
splitppap_sweep(struct quarantine *q, const char *submit, time_t now,
    bool full, FILE *report, size_t *acted)
{
	struct quarantine_item	*it;
	struct collect		 c;
	char			 only[STATE_HOST_MAX + 2];
	size_t			 i, n = 0;
	time_t			 next = 0;
	enum lw_err		 e;

	if (acted != NULL)
		*acted = 0;
	if (quarantine_state(q) == NULL)
		return LW_OK;
	/* The daemon's periodic sweep (no report): only when due. */
	if (!scan_due(now) && !full && report == NULL)
		return LW_OK;
	if (full)
		(void)migrate_markers(q, now);
	/*
	 * What a shared state lost, or never got (stored during an
	 * outage, in the local fallback): at start, by hand, and every
	 * RESTORE_SECS, so that no item waits for a restart.
	 */
	if (restore_due(now) || full)
		restore(q, now);
	memset(&c, 0, sizeof(c));
	c.only = quarantine_host(q);
	snprintf(only, sizeof(only), "%s:", c.only);
	{
		char	prefix[sizeof(K_PENDING) + sizeof(only)];

		snprintf(prefix, sizeof(prefix), K_PENDING "%s", only);
		if ((e = state_each(quarantine_state(q), prefix, now,
		    sp_collect_one, &c)) != LW_OK) {
			sp_founds_free(c.v, c.n);
			return e;
		}
	}
	for (i = 0; i < c.n; i++) {
		e = quarantine_read(q, c.v[i].id, &it);
		if (c.v[i].reopen) {
			/* Re-openable until the state drops it, if kept. */
			if (e == LW_ENOTFOUND || (e == LW_OK && it->released))
				sp_unpublish(q, c.v[i].host, c.v[i].id);
		} else if (e == LW_ENOTFOUND ||
		    (e == LW_OK && !sp_is_pending(it))) {
			/* done */
			sp_unpublish(q, c.v[i].host, c.v[i].id);
		} else if (e == LW_OK && it->expires > now) {
			if (next == 0 || it->expires < next)
				next = it->expires;
		} else if (e == LW_OK && sp_claim(q, c.v[i].host, c.v[i].id,
		    it->expires, now) == LW_OK) {
			if (timeout_item(q, c.v[i].id, submit, now, report)) {
				sp_unpublish(q, c.v[i].host, c.v[i].id);
				n++;
			} else
				sp_unclaim(q, c.v[i].host, c.v[i].id);
		}
		quarantine_item_free(it);
	}
	sp_founds_free(c.v, c.n);
	sp_notify_expiry(next);
	if (acted != NULL)
		*acted = n;
	return LW_OK;
}
