/*
 * metrics.h: what the daemon did, counted.  Counters and the scan-time
 * histogram live in this process (not in the refcounted config
 * snapshot), so they run from daemon start and survive a reload.
 *
 * Every series is a 64-bit counter named and labelled after Prometheus'
 * conventions (lurewall_messages_total{direction="inbound",
 * action="quarantine"}); the histogram lurewall_scan_seconds is kept as
 * its _bucket, _sum and _count series.  Each increment also lands in a
 * per-minute bucket (METRICS_MINUTES of them in memory), so
 * `lurewall stats --since 1h` can add up a window.  metrics_flush
 * writes each finished minute to the state (state.h) as one key,
 * "metrics:MINUTE:HOST:PID", kept a week, and a window read with a
 * state adds up what is stored there: "today" survives a restart, and
 * hosts sharing a Redis state add up to the whole site.
 *
 * Thread-safe: one mutex; an increment is a short table walk.  Bounds:
 * at most METRICS_MAX_SERIES series (labels come from our own names,
 * rule names included); past that increments are counted in
 * lurewall_metrics_dropped_total instead.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lurewall.h"

#define METRICS_MAX_SERIES	4096
#define METRICS_MINUTES		(7 * 24 * 60)	/* minutes kept in memory */
#define METRICS_LABEL_MAX	128		/* bytes of one label value */
#define METRICS_NO_SCAN		UINT64_MAX	/* scan_ms: nothing scanned */

/* Unlabelled counters (one series each). */
enum metrics_counter {
	MC_BYTES_SCANNED,	/* lurewall_scanned_bytes_total */
	MC_PASSWORD_TRIES,	/* lurewall_password_tries_total */
	MC_PASSWORD_HITS,	/* lurewall_password_successes_total */
	MC_SPLIT_PENDING,	/* lurewall_split_ppap_total{event="pending"} */
	MC_SPLIT_RELEASED,	/* ... event="released" */
	MC_SPLIT_EXPIRED,	/* ... event="expired" */
	MC_BREAKER_TRIPS,	/* lurewall_outbreak_trips_total */
	MC_RELOADS,		/* lurewall_reloads_total{result="ok"} */
	MC_RELOAD_FAILURES,	/* lurewall_reloads_total{result="failed"} */
	MC__COUNT
};

/* Set once at start; counters before it still count. */
void		 metrics_init(time_t now);

/*
 * One judged message: direction "inbound" or "outbound", action as in
 * the verdict line (accept, tag, quarantine, reject, tempfail,
 * pending); scan time (METRICS_NO_SCAN: none, as for a released
 * message) and the bytes the MTA gave us.
 */
void		 metrics_message(const char *direction, const char *action,
		    uint64_t scan_ms, uint64_t bytes);
/* A rule that fired in a judged message (count each rule once). */
void		 metrics_finding(const char *rule);
/* A message left without a verdict: kind is a short word ("scan"). */
void		 metrics_error(const char *kind);
void		 metrics_add(enum metrics_counter, uint64_t n);

/*
 * A failed call of a state backend ("lmdb", "redis", "files"): kind is
 * "io" (unreachable or an I/O error), "limit" (full), "nomem",
 * "malformed"...  state.c calls it.
 */
void		 metrics_state_error(const char *backend, const char *kind);

/*
 * Set a gauge, a value of now rather than a count (quarantine size,
 * state backend health): name its family, labels "" or as in a series
 * key (backend="redis").  The daemon sets them before each render; at
 * most METRICS_MAX_GAUGES series, later ones are dropped.
 */
#define METRICS_MAX_GAUGES	16
void		 metrics_gauge_set(const char *name, const char *help,
		    const char *labels, double value);

struct state;

/*
 * Write the Prometheus text format (version 0.0.4).  since == 0: every
 * series since daemon start, and the gauges.  since > 0: the counters
 * of the last since seconds (whole minutes, from the minute buckets;
 * with st, what the state holds of finished minutes too), and
 * lurewall_window_seconds, the span the buckets really cover.
 */
enum lw_err	 metrics_render(FILE *, time_t now, time_t since,
		    struct state *st);

/*
 * Store every finished minute (before now's) not stored yet in st;
 * a minute that fails is tried again next time.  The daemon calls it
 * about once a minute, and at exit with now a minute ahead.
 */
enum lw_err	 metrics_flush(struct state *st, time_t now);

/* Forget everything (tests). */
void		 metrics_reset(void);

/*
 * Parse one sample line of the text format: "name{labels} value".
 * name and labels (without braces; "" when none) point into line,
 * which is modified.  False for comments, blank and malformed lines.
 */
bool		 metrics_parse_line(char *line, char **name, char **labels,
		    double *value);
/* The value of label key in labels ("a=\"x\",b=\"y\""), unescaped. */
bool		 metrics_label(const char *labels, const char *key, char *out,
		    size_t outlen);

#endif /* METRICS_H */
