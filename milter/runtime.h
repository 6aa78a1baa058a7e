/*
 * runtime.h: the snapshot one message is judged with: the config, the
 * policies, the quarantine (and with it the pending split-PPAP items)
 * and the outbreak counters' directory, passed as one argument to the
 * engine's calls instead of four to six unpacked ones.
 *
 * The daemon builds one per (re)load and swaps it whole: every message
 * takes a reference at MAIL FROM and keeps that snapshot to its end.
 * `lurewall scan` builds a read-only one (RT_READONLY): the stages then
 * look at the state and say what they would write, and write nothing.
 */
#ifndef RUNTIME_H
#define RUNTIME_H

#include "lurewall.h"

struct config;
struct limits;
struct policyset;
struct quarantine;
struct state;

/* Look at the state, never change it (lurewall scan). */
#define RT_READONLY	0x01
/* runtime_unref closes state (the CLI's); else it is borrowed (the
 * daemon's, opened once and kept over reloads: LMDB must not be
 * opened twice in one process). */
#define RT_OWN_STATE	0x02
/* Observe every policy (lurewall-milter -O): decide, deliver unchanged. */
#define RT_OBSERVE	0x04

struct runtime {
	struct config		*cfg;		/* NULL in a runtime_view */
	const struct limits	*lim;		/* &cfg->limits */
	struct policyset	*ps;
	struct quarantine	*q;		/* NULL: no store */
	char			*outbreak_dir;	/* NULL: empty counters */
	struct state		*state;		/* state.h; NULL: none yet */
	unsigned		 flags;		/* RT_* */
	unsigned		 refs;		/* runtime_ref/unref only */
};

/*
 * A snapshot of cfg, ps and q (q may be NULL), taking ownership of all
 * three; outbreak_dir is copied (NULL: the counters start empty and
 * are not kept).  One reference; NULL when out of memory (nothing
 * freed then).
 */
struct runtime	*runtime_new(struct config *cfg, struct policyset *ps,
		    struct quarantine *q, const char *outbreak_dir,
		    unsigned flags);
/* Another reference (thread-safe); rt may be NULL. */
struct runtime	*runtime_ref(struct runtime *rt);
/* Drop one; the last frees the config, policies and quarantine. */
void		 runtime_unref(struct runtime *rt);

/* The limits of its config. */
const struct limits *runtime_limits(const struct runtime *rt);

/*
 * Fill *rt as a view of lim and ps that owns nothing (no config, no
 * store, never ref'd or freed): the engine's calls for tests, the
 * bench and the fuzz targets.  Returns rt.
 */
const struct runtime *runtime_view(struct runtime *rt,
		    const struct limits *lim, const struct policyset *ps);

/*
 * Set the gauges a scrape shows (metrics.h): the quarantine's items and
 * bytes, and whether each state backend answers.  Called by the
 * metrics endpoint before each render; rt may be NULL (no gauges).
 */
void		 runtime_gauges(struct runtime *rt, time_t now);

#endif /* RUNTIME_H */
