/*
 * runtime.c: the refcounted snapshot of config, policies and state
 * (see runtime.h).  One mutex guards every count: references change
 * twice per message, never in a loop.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "metrics.h"
#include "policy.h"
#include "quarantine.h"
#include "runtime.h"
#include "state.h"

static pthread_mutex_t	refs_lock = PTHREAD_MUTEX_INITIALIZER;

struct runtime *
runtime_new(struct config *cfg, struct policyset *ps, struct quarantine *q,
    const char *outbreak_dir, unsigned flags)
{
	struct runtime	*rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		return NULL;
	if (outbreak_dir != NULL &&
	    (rt->outbreak_dir = strdup(outbreak_dir)) == NULL) {
		free(rt);
		return NULL;
	}
	rt->cfg = cfg;
	rt->lim = &cfg->limits;
	rt->ps = ps;
	rt->q = q;
	rt->flags = flags;
	rt->refs = 1;
	return rt;
}

struct runtime *
runtime_ref(struct runtime *rt)
{
	if (rt == NULL)
		return NULL;
	pthread_mutex_lock(&refs_lock);
	rt->refs++;
	pthread_mutex_unlock(&refs_lock);
	return rt;
}

void
runtime_unref(struct runtime *rt)
{
	bool	last;

	if (rt == NULL)
		return;
	pthread_mutex_lock(&refs_lock);
	last = --rt->refs == 0;
	pthread_mutex_unlock(&refs_lock);
	if (!last)
		return;
	if (rt->q != NULL)
		quarantine_close(rt->q);
	if (rt->ps != NULL)
		policyset_unref(rt->ps);
	if (rt->flags & RT_OWN_STATE)
		state_close(rt->state);
	config_free(rt->cfg);
	free(rt->outbreak_dir);
	free(rt);
}

const struct limits *
runtime_limits(const struct runtime *rt)
{
	return rt->lim;
}

const struct runtime *
runtime_view(struct runtime *rt, const struct limits *lim,
    const struct policyset *ps)
{
	memset(rt, 0, sizeof(*rt));
	rt->lim = lim;
	/* The view never changes or frees the set: no reference taken. */
	rt->ps = (struct policyset *)(uintptr_t)ps;
	return rt;
}

static void
state_up(void *arg, const char *backend, bool up)
{
	char	labels[METRICS_LABEL_MAX + 16];

	(void)arg;
	snprintf(labels, sizeof(labels), "backend=\"%s\"", backend);
	metrics_gauge_set("lurewall_state_up", "Whether a state backend "
	    "answers (1) or not (0).", labels, up ? 1 : 0);
}

void
runtime_gauges(struct runtime *rt, time_t now)
{
	uint64_t	items, bytes;

	if (rt == NULL)
		return;
	if (rt->q != NULL && quarantine_size(rt->q, &items, &bytes) == LW_OK) {
		metrics_gauge_set("lurewall_quarantine_items", "Items in the "
		    "quarantine store.", "", (double)items);
		metrics_gauge_set("lurewall_quarantine_bytes", "Bytes of the "
		    "messages in the quarantine store.", "", (double)bytes);
	}
	if (rt->state != NULL)
		state_health(rt->state, now, state_up, NULL);
}
