/*
 * cli_stats.c: `lurewall stats [--json] [--since DURATION|today]`,
 * what the running daemon did: messages by action and direction, the
 * rules that fire most, scan times, bytes, errors.
 *
 * Takes the config (for metrics.listen); reads the daemon's /metrics
 * over HTTP/1.0 on that address (the same text Prometheus scrapes,
 * ?since=SECONDS for a window) and sums it up.  Bounds: STATS_MAX_BYTES
 * of answer, STATS_TIMEOUT seconds; only the status line and the blank
 * line after the headers are looked at.  Exit 0, or 2 when the endpoint
 * is off, unreachable or answers something else.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netdb.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>

#include "cli_count.h"
#include "cli_exit.h"
#include "cli_stats.h"
#include "cli_verb.h"
#include "config.h"
#include "json.h"
#include "metrics.h"
#include "util.h"

#define STATS_MAX_BYTES	(8 << 20)
#define STATS_TIMEOUT	10
#define STATS_TOP	10	/* rules in the text report */
#define STATS_MAX_RULES	1024

static const char *const actions[] = { "accept", "tag", "quarantine",
    "pending", "reject", "tempfail" };
#define NACTIONS	(sizeof(actions) / sizeof(actions[0]))

struct stats {
	double		 window;	/* seconds covered; 0: since start */
	double		 start;		/* daemon start, Unix time */
	double		 in[NACTIONS], out[NACTIONS];
	double		 other;		/* messages with another action */
	double		 bytes;
	double		 errors;
	double		 scan_count, scan_sum;
	double		 le[32], cum[32];	/* histogram buckets */
	size_t		 nle;
	double		 pwtries, pwhits;
	double		 split_pending, split_released, split_expired;
	double		 trips;
	double		 reloads, reload_failures;
	double		 qitems, qbytes;	/* gauges; -1: not given */
	struct {
		char	 name[METRICS_LABEL_MAX];
		bool	 up;
	}		 backends[4];		/* lurewall_state_up */
	size_t		 nbackends;
	double		 state_errors;
	struct cli_count *rules;	/* fired, by rule */
	size_t		 nrules;
};

/* Connect to HOST:PORT or [V6]:PORT within the timeout; -1 and a message. */
static int
dial(const char *listen)
{
	struct addrinfo	 hints, *ai, *a;
	struct timeval	 tv = { STATS_TIMEOUT, 0 };
	char		 host[256], *colon;
	const char	*port;
	size_t		 hl;
	int		 fd = -1, r;

	if (listen[0] == '[') {
		hl = strcspn(listen + 1, "]");
		if (hl >= sizeof(host))
			hl = sizeof(host) - 1;
		memcpy(host, listen + 1, hl);
		host[hl] = '\0';
		port = listen + 1 + hl + (listen[1 + hl] == ']' ? 2 : 1);
	} else {
		snprintf(host, sizeof(host), "%s", listen);
		if ((colon = strrchr(host, ':')) == NULL)
			return -1;
		*colon = '\0';
		port = listen + (colon - host) + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "lurewall: metrics.listen %s: %s\n", listen,
		    gai_strerror(r));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
		    a->ai_protocol)) == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd == -1)
		fprintf(stderr, "lurewall: cannot reach the daemon's metrics "
		    "endpoint %s: %s (is lurewall-milter running?)\n", listen,
		    strerror(errno));
	return fd;
}

/* GET /metrics[?since=N]; the body as a malloc'd string, or NULL. */
static char *
fetch(const char *listen, long long since)
{
	char	 req[256], *buf = NULL, *nb, *body;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;
	int	 fd, n;

	if ((fd = dial(listen)) == -1)
		return NULL;
	if (since > 0)
		n = snprintf(req, sizeof(req), "GET /metrics?since=%lld "
		    "HTTP/1.0\r\nHost: %s\r\n\r\n", since, listen);
	else
		n = snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\n"
		    "Host: %s\r\n\r\n", listen);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    write(fd, req, (size_t)n) != n) {
		fprintf(stderr, "lurewall: %s: cannot send the request\n",
		    listen);
		goto fail;
	}
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= STATS_MAX_BYTES) {
				fprintf(stderr, "lurewall: %s: answer larger "
				    "than %d bytes\n", listen,
				    STATS_MAX_BYTES);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nb;
		}
		if ((r = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "lurewall: %s: %s\n", listen,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (buf == NULL)
		goto bad;
	buf[len] = '\0';
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strlen(buf) < 12 ||
	    strncmp(buf + 8, " 200", 4) != 0)
		goto bad;
	if ((body = strstr(buf, "\r\n\r\n")) == NULL)
		goto bad;
	body += 4;
	memmove(buf, body, strlen(body) + 1);
	return buf;
bad:
	fprintf(stderr, "lurewall: %s: not a lurewall metrics answer: %.*s\n",
	    listen, buf != NULL ? (int)strcspn(buf, "\r\n") : 0,
	    buf != NULL ? buf : "");
	free(buf);
	return NULL;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static void
sample(struct stats *st, const char *name, const char *labels, double v)
{
	char	a[METRICS_LABEL_MAX], d[METRICS_LABEL_MAX];
	size_t	i;

	if (strcmp(name, "lurewall_messages_total") == 0) {
		if (!metrics_label(labels, "action", a, sizeof(a)) ||
		    !metrics_label(labels, "direction", d, sizeof(d)))
			return;
		for (i = 0; i < NACTIONS; i++)
			if (strcmp(a, actions[i]) == 0)
				break;
		if (i == NACTIONS)
			st->other += v;
		else if (strcmp(d, "outbound") == 0)
			st->out[i] += v;
		else
			st->in[i] += v;
	} else if (strcmp(name, "lurewall_findings_total") == 0) {
		/* Out of memory: the report lacks the rule. */
		if (v > 0 && st->nrules < STATS_MAX_RULES &&
		    metrics_label(labels, "rule", a, sizeof(a)))
			(void)cli_count_add(&st->rules, &st->nrules, a, v);
	} else if (strcmp(name, "lurewall_scan_seconds_bucket") == 0) {
		if (st->nle < 32 && metrics_label(labels, "le", a, sizeof(a))) {
			st->le[st->nle] = strtod(a, NULL);
			st->cum[st->nle++] = v;
		}
	} else if (strcmp(name, "lurewall_scan_seconds_sum") == 0)
		st->scan_sum = v;
	else if (strcmp(name, "lurewall_scan_seconds_count") == 0)
		st->scan_count = v;
	else if (strcmp(name, "lurewall_scanned_bytes_total") == 0)
		st->bytes = v;
	else if (strcmp(name, "lurewall_errors_total") == 0)
		st->errors += v;
	else if (strcmp(name, "lurewall_password_tries_total") == 0)
		st->pwtries = v;
	else if (strcmp(name, "lurewall_password_successes_total") == 0)
		st->pwhits = v;
	else if (strcmp(name, "lurewall_outbreak_trips_total") == 0)
		st->trips = v;
	else if (strcmp(name, "lurewall_split_ppap_total") == 0 &&
	    metrics_label(labels, "event", a, sizeof(a))) {
		if (strcmp(a, "pending") == 0)
			st->split_pending = v;
		else if (strcmp(a, "released") == 0)
			st->split_released = v;
		else if (strcmp(a, "expired") == 0)
			st->split_expired = v;
	} else if (strcmp(name, "lurewall_reloads_total") == 0 &&
	    metrics_label(labels, "result", a, sizeof(a))) {
		if (strcmp(a, "ok") == 0)
			st->reloads = v;
		else
			st->reload_failures = v;
	} else if (strcmp(name, "lurewall_quarantine_items") == 0)
		st->qitems = v;
	else if (strcmp(name, "lurewall_quarantine_bytes") == 0)
		st->qbytes = v;
	else if (strcmp(name, "lurewall_state_up") == 0) {
		if (st->nbackends < sizeof(st->backends) /
		    sizeof(st->backends[0]) &&
		    metrics_label(labels, "backend", a, sizeof(a))) {
			snprintf(st->backends[st->nbackends].name,
			    sizeof(st->backends[0].name), "%s", a);
			st->backends[st->nbackends++].up = v > 0;
		}
	} else if (strcmp(name, "lurewall_state_errors_total") == 0)
		st->state_errors += v;
	else if (strcmp(name, "lurewall_window_seconds") == 0)
		st->window = v;
	else if (strcmp(name, "lurewall_start_time_seconds") == 0)
		st->start = v;
}

/* The upper bound of the bucket holding quantile q; -1 without data. */
static double
quantile(const struct stats *st, double q)
{
	size_t	i;

	if (st->nle == 0 || st->cum[st->nle - 1] <= 0)
		return -1;
	for (i = 0; i < st->nle; i++)
		if (st->cum[i] >= q * st->cum[st->nle - 1])
			return st->le[i];
	return st->le[st->nle - 1];
}

static double
sum(const double *v)
{
	double	t = 0;
	size_t	i;

	for (i = 0; i < NACTIONS; i++)
		t += v[i];
	return t;
}

/*
 * A value that may be missing (< 0: no data) or past the last bucket
 * (+Inf), as text (seconds) or as JSON.
 */
static void
print_value(FILE *f, double v, bool json)
{
	if (v < 0 || isnan(v))
		fputs(json ? "null" : "-", f);
	else if (isinf(v))
		fputs(json ? "\"+Inf\"" : "more than 30 s", f);
	else if (json)
		fprintf(f, "%.15g", v);
	else
		fprintf(f, "%g s", v);
}

static void
print_window(FILE *f, const struct stats *st, long long asked, time_t now)
{
	char		buf[64];
	time_t		t;

	t = asked > 0 ? now - (time_t)st->window : (time_t)st->start;
	lw_time_fmt(buf, sizeof(buf), LW_TIME_MINUTE_ZONE, t);
	if (asked == 0)
		fprintf(f, "since the daemon started, %s\n", buf);
	else if (st->window + 60 < (double)asked)
		fprintf(f, "since %s (the daemon's counters start there; "
		    "%lld s were asked for)\n", buf, asked);
	else
		fprintf(f, "since %s\n", buf);
}

static void
print_text(FILE *f, struct stats *st, long long asked)
{
	double	 in = sum(st->in), out = sum(st->out);
	size_t	 i;

	print_window(f, st, asked, time(NULL));
	fprintf(f, "messages        %10.0f  (inbound %.0f, outbound %.0f)\n",
	    in + out + st->other, in, out);
	for (i = 0; i < NACTIONS; i++)
		fprintf(f, "  %-13s %10.0f%s\n", actions[i],
		    st->in[i] + st->out[i], i == 2 ? "  held" : "");
	if (st->other > 0)
		fprintf(f, "  %-13s %10.0f\n", "other", st->other);
	fprintf(f, "errors          %10.0f  (no verdict: on_error)\n",
	    st->errors);
	fprintf(f, "top rules%s\n", st->nrules == 0 ? "       none fired" :
	    "");
	for (i = 0; i < st->nrules && i < STATS_TOP; i++)
		fprintf(f, "  %-28s %8.0f\n", st->rules[i].key,
		    st->rules[i].n);
	fprintf(f, "scan time       %10.0f scans", st->scan_count);
	if (st->scan_count > 0) {
		fprintf(f, ", mean %.3f s, 50%% <= ", st->scan_sum /
		    st->scan_count);
		print_value(f, quantile(st, 0.5), false);
		fputs(", 95% <= ", f);
		print_value(f, quantile(st, 0.95), false);
		fputs(", 99% <= ", f);
		print_value(f, quantile(st, 0.99), false);
	}
	fputc('\n', f);
	fprintf(f, "bytes scanned   %10.0f  (%.1f MiB)\n", st->bytes,
	    st->bytes / 1048576.0);
	fprintf(f, "passwords       %10.0f tried, %.0f opened an archive\n",
	    st->pwtries, st->pwhits);
	fprintf(f, "split PPAP      %10.0f pending, %.0f released, "
	    "%.0f expired\n", st->split_pending, st->split_released,
	    st->split_expired);
	fprintf(f, "outbreak trips  %10.0f\n", st->trips);
	/* Gauges: values of now, only in a report since the start. */
	if (st->qitems >= 0)
		fprintf(f, "quarantine now  %10.0f items, %.1f MiB\n",
		    st->qitems, (st->qbytes > 0 ? st->qbytes : 0) / 1048576.0);
	if (st->nbackends > 0 || st->state_errors > 0) {
		fputs("state          ", f);
		for (i = 0; i < st->nbackends; i++)
			fprintf(f, "%s %s %s", i ? "," : "",
			    st->backends[i].name, st->backends[i].up ? "up" :
			    "DOWN");
		fprintf(f, "; %.0f error(s)\n", st->state_errors);
	}
}

static void
json_num(FILE *f, const char *key, double v, int first)
{
	json_key(f, key, first);
	print_value(f, v, true);
}

static void
print_json(FILE *f, struct stats *st, long long asked)
{
	char		 buf[64];
	time_t		 t, now = time(NULL);
	size_t		 i;

	t = asked > 0 ? now - (time_t)st->window : (time_t)st->start;
	if (!lw_time_fmt(buf, sizeof(buf), LW_TIME_UTC, t))
		buf[0] = '\0';
	fputc('{', f);
	json_key(f, "since", 1);
	json_string(f, buf);
	json_num(f, "window_seconds", (double)(now - t), 0);
	json_key(f, "messages", 0);
	fputc('{', f);
	json_num(f, "total", sum(st->in) + sum(st->out) + st->other, 1);
	json_num(f, "inbound", sum(st->in), 0);
	json_num(f, "outbound", sum(st->out), 0);
	json_key(f, "by_action", 0);
	fputc('{', f);
	for (i = 0; i < NACTIONS; i++)
		json_num(f, actions[i], st->in[i] + st->out[i], i == 0);
	fputs("}}", f);
	json_num(f, "errors", st->errors, 0);
	json_key(f, "rules", 0);
	fputc('[', f);
	for (i = 0; i < st->nrules; i++) {
		fputs(i ? ",{" : "{", f);
		json_key(f, "rule", 1);
		json_string(f, st->rules[i].key);
		json_num(f, "count", st->rules[i].n, 0);
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, "scan_seconds", 0);
	fputc('{', f);
	json_num(f, "count", st->scan_count, 1);
	json_num(f, "sum", st->scan_sum, 0);
	json_num(f, "p50", quantile(st, 0.5), 0);
	json_num(f, "p95", quantile(st, 0.95), 0);
	json_num(f, "p99", quantile(st, 0.99), 0);
	fputc('}', f);
	json_num(f, "bytes_scanned", st->bytes, 0);
	json_num(f, "password_tries", st->pwtries, 0);
	json_num(f, "password_successes", st->pwhits, 0);
	json_key(f, "split_ppap", 0);
	fputc('{', f);
	json_num(f, "pending", st->split_pending, 1);
	json_num(f, "released", st->split_released, 0);
	json_num(f, "expired", st->split_expired, 0);
	fputc('}', f);
	json_num(f, "outbreak_trips", st->trips, 0);
	if (st->qitems >= 0) {
		json_key(f, "quarantine", 0);
		fputc('{', f);
		json_num(f, "items", st->qitems, 1);
		json_num(f, "bytes", st->qbytes, 0);
		fputc('}', f);
	}
	json_key(f, "state", 0);
	fputc('{', f);
	json_key(f, "up", 1);
	fputc('{', f);
	for (i = 0; i < st->nbackends; i++) {
		json_key(f, st->backends[i].name, i == 0);
		fputs(st->backends[i].up ? "true" : "false", f);
	}
	fputc('}', f);
	json_num(f, "errors", st->state_errors, 0);
	fputs("}}\n", f);
}

/* "1h", "30m", "2d", "1w", "90s" or "today" (since local midnight). */
static long long
since_seconds(const char *s)
{
	struct tm	 tm;
	time_t		 now = time(NULL), mid;
	char		*end;
	long long	 v, mul;

	if (strcmp(s, "today") == 0) {
		if (localtime_r(&now, &tm) == NULL)
			return -1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		if ((mid = mktime(&tm)) == (time_t)-1)
			return -1;
		return now - mid > 0 ? now - mid : 1;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's':	mul = 1; break;
	case 'm':	mul = 60; break;
	case 'h':	mul = 3600; break;
	case 'd':	mul = 86400; break;
	case 'w':	mul = 7 * 86400; break;
	default:	return -1;
	}
	if (v <= 0 || v > (long long)METRICS_MINUTES * 60 / mul)
		return -1;
	return v * mul;
}

int
cli_stats(int argc, char **argv, const char *config_path)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*cfg = NULL;
	struct stats	 st;
	char		 *body, *line, *next, *name, *labels;
	double		 v;
	long long	 since = 0;
	bool		 json = false;
	int		 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			if ((since = since_seconds(optarg)) < 0) {
				fprintf(stderr, "lurewall: --since %s: expected "
				    "today or a duration up to 7d (90s, 30m, "
				    "1h, 2d, 1w)\n", optarg);
				return CLI_TROUBLE;
			}
			break;
		default:
			return cli_usage();
		}
	}
	if (optind != argc)
		return cli_usage();
	if ((cfg = cli_config(config_path)) == NULL)
		return CLI_TROUBLE;
	if (cfg->metrics_listen == NULL) {
		fprintf(stderr, "lurewall: %s: metrics.listen is not set: "
		    "the daemon keeps no endpoint to ask (see "
		    "lurewall.yaml(5))\n", cfg->file);
		config_free(cfg);
		return CLI_TROUBLE;
	}
	body = fetch(cfg->metrics_listen, since);
	config_free(cfg);
	if (body == NULL)
		return CLI_TROUBLE;
	memset(&st, 0, sizeof(st));
	st.qitems = st.qbytes = -1;
	for (line = body; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (metrics_parse_line(line, &name, &labels, &v))
			sample(&st, name, labels, v);
	}
	free(body);
	cli_count_sort(st.rules, st.nrules, false);
	if (json)
		print_json(stdout, &st, since);
	else
		print_text(stdout, &st, since);
	cli_count_free(st.rules, st.nrules);
	return fflush(stdout) == 0 ? 0 : CLI_TROUBLE;
}
