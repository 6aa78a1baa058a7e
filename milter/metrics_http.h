/*
 * metrics_http.h: the daemon's optional /metrics endpoint (config key
 * metrics.listen), served by libmicrohttpd in a thread of its own.
 * Only lurewall-milter links it; the engine library does not.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "lurewall.h"

struct metrics_http;

/* Writes the text for a request (metrics_render with the state). */
typedef enum lw_err (*metrics_render_fn)(FILE *, time_t now, time_t since);

/*
 * Listen on listen ("HOST:PORT", "[V6ADDR]:PORT") and serve GET
 * /metrics (render; ?since=SECONDS for a window).  Call after daemon()
 * and with the signals the daemon waits for blocked, so the server
 * thread never takes them.  err says why on failure.
 */
enum lw_err	 metrics_http_start(const char *listen, metrics_render_fn,
		    struct metrics_http **, char *err, size_t errlen);
void		 metrics_http_stop(struct metrics_http *);

#endif /* METRICS_HTTP_H */
