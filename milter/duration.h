/*
 * duration.h: the one parser for durations written by people, in the
 * configuration ("30s", "10m", "2h", "7d") and on the command line.
 *
 * A duration is digits and one unit: ms, s, m, h, d or w.  A bare
 * number is read in the unit the caller names (0: not allowed), which
 * keeps the keys that once took bare seconds or milliseconds working.
 */
#ifndef DURATION_H
#define DURATION_H

#include <stdbool.h>
#include <stdint.h>

#define DURATION_MS	1ULL
#define DURATION_SEC	1000ULL

/*
 * s -> milliseconds in *ms; false when malformed or above max_ms.  bare
 * is the unit of a number without one (DURATION_MS, DURATION_SEC) or 0
 * to refuse it.
 */
bool	duration_parse(const char *s, uint64_t bare, uint64_t max_ms,
	    uint64_t *ms);

#endif /* DURATION_H */
