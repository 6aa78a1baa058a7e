/*
 * outbreak_int.h: what the breaker (outbreak.c) and its file store
 * (outbreak_fs.c) share.  No other stage includes it.
 */
#ifndef OUTBREAK_INT_H
#define OUTBREAK_INT_H

#include <stddef.h>
#include <time.h>

#include "lurewall.h"

struct outbreak_event;

/* SHA-256 of the string s. */
enum lw_err	 outbreak_sha256(const char *s, unsigned char md[32]);
/*
 * Append an event (time t, count) to a window list; past
 * OUTBREAK_EVENTS_MAX the oldest is forgotten.
 */
enum lw_err	 outbreak_event_add(struct outbreak_event **v, size_t *n,
		    time_t t, unsigned count);

#endif /* OUTBREAK_INT_H */
