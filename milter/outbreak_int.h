/*
 * outbreak_int.h: what the breaker (outbreak.c) and its file store
 * (outbreak_fs.c) share.  No other stage includes it.
 */
#ifndef OUTBREAK_INT_H
#define OUTBREAK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lurewall.h"

struct outbreak_event;
struct outbreak_record;

/* Add a known recipient (hash h, last mailed at t), up to the bound. */
enum lw_err	 outbreak_known_append(struct outbreak_record *, uint64_t h,
		    time_t t);
/*
 * Append an event (time t, count) to a window list; past
 * OUTBREAK_EVENTS_MAX the oldest is forgotten.
 */
enum lw_err	 outbreak_event_add(struct outbreak_event **v, size_t *n,
		    time_t t, unsigned count);

#endif /* OUTBREAK_INT_H */
