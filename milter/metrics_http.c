/*
 * metrics_http.c: GET /metrics over HTTP, for Prometheus and for
 * `lurewall stats`, with libmicrohttpd (no HTTP parsing of our own).
 *
 * Takes the metrics.listen address; serves the text of metrics_render
 * (through the daemon's callback, which knows the state).
 * Only GET and HEAD of /metrics, optionally ?since=SECONDS (a window of
 * the minute buckets, at most METRICS_MINUTES minutes); anything else
 * is 404 or 405.  Bounds: MHTTP_CONNS connections, MHTTP_TIMEOUT
 * seconds each; a request body is never read.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

#define MHTTP_CONNS	16
#define MHTTP_TIMEOUT	10
#define CTYPE_TEXT	"text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
	struct MHD_Daemon	*d;
	metrics_render_fn	 render;
};

static void
mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warnx("metrics endpoint: %s", buf);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, char *body,
    size_t len)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	if ((r = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    CTYPE_TEXT);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char	*b;

	if ((b = strdup(text)) == NULL)
		return MHD_NO;
	return reply(conn, status, b, strlen(b));
}

static enum MHD_Result
serve(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	metrics_render_fn	 render = *(metrics_render_fn *)cls;
	const char		*arg;
	char			*buf = NULL, *end;
	size_t			 len = 0;
	long long		 since = 0;
	FILE			*f;

	(void)version;
	(void)upload;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET\n");
	if (*upload_len != 0)
		return MHD_NO;
	if (*con_cls == NULL) {
		/* First call: headers only; answer on the next. */
		*con_cls = conn;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
		    "lurewall serves /metrics\n");
	arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "since");
	if (arg != NULL) {
		errno = 0;
		since = strtoll(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || since <= 0 ||
		    since > (long long)METRICS_MINUTES * 60)
			return reply_text(conn, MHD_HTTP_BAD_REQUEST, "since: "
			    "seconds, at most a week\n");
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		return MHD_NO;
	if (render(f, time(NULL), (time_t)since) != LW_OK) {
		fclose(f);
		free(buf);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	}
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, buf, len);
}

enum lw_err
metrics_http_start(const char *listen, metrics_render_fn render,
    struct metrics_http **out, char *err, size_t errlen)
{
	struct addrinfo		 hints, *ai;
	struct metrics_http	*h;
	char			 host[256], *colon;
	const char		*port;
	size_t			 hl;
	int			 r;

	*out = NULL;
	/* HOST:PORT or [V6]:PORT; the config checked the form. */
	if (listen[0] == '[') {
		hl = strcspn(listen + 1, "]");
		port = listen + 1 + hl + (listen[1 + hl] == ']' ? 2 : 1);
		if (hl >= sizeof(host))
			hl = sizeof(host) - 1;
		memcpy(host, listen + 1, hl);
		host[hl] = '\0';
	} else {
		snprintf(host, sizeof(host), "%s", listen);
		if ((colon = strrchr(host, ':')) == NULL) {
			snprintf(err, errlen, "metrics.listen %s: expected "
			    "HOST:PORT", listen);
			return LW_EINVAL;
		}
		*colon = '\0';
		port = listen + (colon - host) + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "metrics.listen %s: %s", listen,
		    gai_strerror(r));
		return LW_EINVAL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		freeaddrinfo(ai);
		return LW_ENOMEM;
	}
	h->render = render;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, serve, &h->render,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MHTTP_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MHTTP_TIMEOUT,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->d == NULL) {
		snprintf(err, errlen, "metrics.listen %s: cannot listen "
		    "(address in use?)", listen);
		free(h);
		return LW_EIO;
	}
	*out = h;
	return LW_OK;
}

void
metrics_http_stop(struct metrics_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
