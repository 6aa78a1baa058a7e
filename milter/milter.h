/*
 * milter.h: the libmilter side of lurewall-milter.  milter.c is the only
 * file that includes libmilter/mfapi.h; daemon.c drives it through
 * these calls.
 *
 * The running configuration (config, policies, quarantine handle) is one
 * refcounted snapshot: every message takes a reference when its MAIL
 * FROM arrives and keeps that snapshot to its end, so a SIGUSR1 reload
 * swaps in a new one without disturbing messages in flight.
 */
#ifndef MILTER_H
#define MILTER_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "lurewall.h"

struct config;
struct runtime;
struct policyset;
struct quarantine;
struct state;

/*
 * Make (cfg, ps, q) the snapshot new messages use; milter takes
 * ownership of all three (q may be NULL) and frees the old snapshot
 * once its last message is done.
 */
enum lw_err	 milter_install(struct config *cfg, struct policyset *ps,
		    struct quarantine *q);
/*
 * The state (state.h) every message uses, opened once after dropping
 * privileges; it outlives reloads.  NULL: the outbreak breaker keeps
 * its file store in outbreak_dir.  The caller keeps ownership.
 */
void		 milter_set_state(struct state *);
/* Observe mode for every policy (-O): call before milter_install. */
void		 milter_observe(void);
/* Drop the current snapshot (at exit, after milter_run returned). */
void		 milter_uninstall(void);

/*
 * Register the filter and open its socket ("unix:/path", "local:/path"
 * or "inet:PORT@HOST"; a stale unix socket is removed).  Call as root
 * before dropping privileges.  err receives a message on failure.
 */
enum lw_err	 milter_open(const char *socket, int debug, char *err,
		    size_t errlen);
/*
 * Split PPAP's timeout sweep (splitppap_sweep) on the current snapshot's
 * quarantine; full also restores pending markers.  For the daemon's
 * sweep thread.
 */
void		 milter_sweep(bool full);
/* The current snapshot, one reference (runtime_unref); NULL: none. */
struct runtime	*milter_runtime(void);

/*
 * The metrics (metrics.h) with the current snapshot's state: the text
 * for the /metrics endpoint, and the flush of finished minutes (the
 * sweep thread, about once a minute; at exit, final).
 */
enum lw_err	 milter_metrics_render(FILE *, time_t now, time_t since);
void		 milter_metrics_flush(bool final);
/* Run libmilter's main loop until SIGTERM/SIGINT/SIGHUP; 0 on success. */
int		 milter_run(void);

#endif /* MILTER_H */
