/*
 * 5400-metrics: the daemon's counters (metrics.c) without the daemon:
 * Prometheus text with the right names and values, label escaping, the
 * minute buckets behind --since, finished minutes kept in the state
 * (files backend) across a restart, the series bound, concurrent
 * increments, and the text parser `lurewall stats` uses.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "state.h"
#include "tap.h"

/* The value of series key in the rendered text, or -1. */
static double
value_of(const char *text, const char *key)
{
	char	*copy, *line, *save = NULL, *name, *labels, full[512];
	double	 v, found = -1;

	if ((copy = strdup(text)) == NULL)
		bail("strdup");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (!metrics_parse_line(line, &name, &labels, &v))
			continue;
		if (*labels != '\0')
			snprintf(full, sizeof(full), "%s{%s}", name, labels);
		else
			snprintf(full, sizeof(full), "%s", name);
		if (strcmp(full, key) == 0)
			found = v;
	}
	free(copy);
	return found;
}

static char *
render_st(time_t now, time_t since, struct state *st)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		bail("open_memstream");
	if (metrics_render(f, now, since, st) != LW_OK)
		bail("metrics_render");
	fclose(f);
	return buf;
}

static char *
render(time_t now, time_t since)
{
	return render_st(now, since, NULL);
}

static void *
hammer(void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < 10000; i++) {
		metrics_message("inbound", "accept", 3, 10);
		metrics_finding("HAMMER");
	}
	return NULL;
}

int
main(void)
{
	struct state_config	 sc;
	struct state		*st = NULL;
	pthread_t		 th[4];
	char			*t, *name, *labels, buf[64];
	char			 line[] = "a_total{x=\"q\\\"}\",y=\"2\"} 3.5";
	char			 bare[] = "up 1";
	char			 junk[] = "# HELP up x";
	time_t			 now = time(NULL);
	double			 v;
	int			 i;
	bool			 all;

	metrics_init(now);
	t = render(now, 0);
	ok(value_of(t, "lurewall_messages_total{direction=\"inbound\","
	    "action=\"quarantine\"}") == 0, "seeded series show 0");
	ok(strstr(t, "# TYPE lurewall_scan_seconds histogram\n") != NULL,
	    "histogram TYPE line");
	free(t);

	metrics_message("inbound", "quarantine", 40, 1000);
	metrics_message("inbound", "accept", 3000, 500);
	metrics_message("outbound", "accept", METRICS_NO_SCAN, 70);
	metrics_finding("OFFICE_VBA");
	metrics_finding("OFFICE_VBA");
	metrics_finding("we\"ird\\rule\n");
	metrics_error("scan");
	metrics_add(MC_PASSWORD_TRIES, 12);
	t = render(now, 0);
	is_int(1, (long long)value_of(t, "lurewall_messages_total{direction="
	    "\"inbound\",action=\"quarantine\"}"), "quarantine counted");
	is_int(1, (long long)value_of(t, "lurewall_messages_total{direction="
	    "\"outbound\",action=\"accept\"}"), "outbound counted");
	is_int(2, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"OFFICE_VBA\"}"), "a rule twice");
	ok(strstr(t, "rule=\"we\\\"ird\\\\rule\\n\"") != NULL,
	    "label value escaped (\\\" \\\\ \\n)");
	is_int(2, (long long)value_of(t, "lurewall_scan_seconds_count"),
	    "a message without a scan is not timed");
	ok(value_of(t, "lurewall_scan_seconds_sum") == 3.04,
	    "sum in seconds: 3.04");
	is_int(1, (long long)value_of(t, "lurewall_scan_seconds_bucket{le="
	    "\"0.05\"}"), "40 ms in the 0.05 bucket");
	is_int(1, (long long)value_of(t, "lurewall_scan_seconds_bucket{le="
	    "\"2.5\"}"), "not 3 s");
	is_int(2, (long long)value_of(t, "lurewall_scan_seconds_bucket{le="
	    "\"5\"}"), "3 s in the 5 bucket");
	is_int(2, (long long)value_of(t, "lurewall_scan_seconds_bucket{le="
	    "\"+Inf\"}"), "+Inf holds all");
	is_int(1570, (long long)value_of(t, "lurewall_scanned_bytes_total"),
	    "bytes");
	is_int(12, (long long)value_of(t, "lurewall_password_tries_total"),
	    "password tries");
	is_int(1, (long long)value_of(t, "lurewall_errors_total{kind="
	    "\"scan\"}"), "errors by kind");
	free(t);

	/* The window: what the minute buckets hold. */
	t = render(now, 3600);
	is_int(2, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"OFFICE_VBA\"}"), "the last hour holds the findings");
	ok(value_of(t, "lurewall_window_seconds") <= 3600 &&
	    value_of(t, "lurewall_window_seconds") >= 0,
	    "the window is no longer than the daemon ran");
	free(t);
	/* A day later the same buckets are outside a one-hour window. */
	t = render(now + 86400, 3600);
	is_int(0, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"OFFICE_VBA\"}"), "a day later: not in the last hour");
	ok(value_of(t, "lurewall_window_seconds") >= 3600 &&
	    value_of(t, "lurewall_window_seconds") < 3660,
	    "the window then covers the full hour (whole minutes)");
	free(t);
	t = render(now + 86400, 2 * 86400);
	is_int(2, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"OFFICE_VBA\"}"), "but in the last two days");
	free(t);

	/* Concurrent increments are not lost. */
	for (i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, hammer, NULL) != 0)
			bail("pthread_create");
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	t = render(now, 0);
	is_int(40000, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"HAMMER\"}"), "4 threads x 10000 increments");
	is_int(40001, (long long)value_of(t, "lurewall_messages_total{"
	    "direction=\"inbound\",action=\"accept\"}"), "and messages");
	free(t);

	/* Finished minutes go to the state and come back after a restart. */
	metrics_reset();
	state_config_init(&sc);
	sc.backend = STATE_FILES;
	if ((sc.path = strdup(tap_tmpdir("5400-metrics"))) == NULL)
		bail("strdup");
	if (state_open(&sc, false, &st) != LW_OK)
		bail("state_open %s", sc.path);
	metrics_finding("STORED");
	metrics_finding("STORED");
	is_int(LW_OK, metrics_flush(st, now + 120), "flush the minutes");
	t = render_st(now, 3600, st);
	is_int(2, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"STORED\"}"), "stored and in memory: counted once");
	free(t);
	metrics_reset();	/* the daemon restarts */
	t = render_st(now, 3600, NULL);
	ok(value_of(t, "lurewall_findings_total{rule=\"STORED\"}") <= 0,
	    "after a restart the memory is empty");
	free(t);
	t = render_st(now, 3600, st);
	is_int(2, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"STORED\"}"), "but the state still has the last hour");
	free(t);
	metrics_finding("STORED");
	t = render_st(now, 3600, st);
	is_int(3, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"STORED\"}"), "stored plus the new, unstored minute");
	free(t);
	is_int(LW_OK, metrics_flush(st, now + 120), "flush again");
	metrics_finding("STORED");	/* late, in a stored minute */
	is_int(LW_OK, metrics_flush(st, now + 120), "and once more");
	t = render_st(now, 3600, st);
	is_int(4, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"STORED\"}"), "a minute is stored once, a late one whole");
	free(t);
	t = render_st(now + 3 * 86400, 3600, st);
	is_int(0, (long long)value_of(t, "lurewall_findings_total{rule="
	    "\"STORED\"}"), "three days later: not in the last hour");
	free(t);
	state_close(st);
	state_config_free(&sc);

	/* The bound: past METRICS_MAX_SERIES, increments are dropped. */
	metrics_reset();
	for (i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(buf, sizeof(buf), "R%d", i);
		metrics_finding(buf);
	}
	t = render(now, 0);
	ok(value_of(t, "lurewall_metrics_dropped_total") > 0,
	    "series past the bound are counted as dropped");
	ok(value_of(t, "lurewall_findings_total{rule=\"R0\"}") == 1,
	    "earlier series kept");
	free(t);

	/* Gauges: set, reset, one HELP per family, none in a window. */
	metrics_reset();
	metrics_gauge_set("lurewall_state_up", "Up.", "backend=\"redis\"", 1);
	metrics_gauge_set("lurewall_state_up", "Up.", "backend=\"lmdb\"", 1);
	metrics_gauge_set("lurewall_quarantine_items", "Items.", "", 7);
	metrics_gauge_set("lurewall_state_up", "Up.", "backend=\"redis\"", 0);
	metrics_state_error("redis", "io");
	metrics_state_error("redis", "io");
	t = render(now, 0);
	ok(value_of(t, "lurewall_state_up{backend=\"redis\"}") == 0 &&
	    value_of(t, "lurewall_state_up{backend=\"lmdb\"}") == 1,
	    "a labelled gauge holds its last value");
	is_int(7, (long long)value_of(t, "lurewall_quarantine_items"),
	    "an unlabelled gauge");
	ok(strstr(t, "# TYPE lurewall_state_up gauge\n") != NULL &&
	    strstr(strstr(t, "# TYPE lurewall_state_up gauge\n") + 1,
	    "# TYPE lurewall_state_up") == NULL, "one TYPE line per family");
	is_int(2, (long long)value_of(t, "lurewall_state_errors_total{"
	    "backend=\"redis\",kind=\"io\"}"), "state errors counted");
	free(t);
	t = render(now, 3600);
	ok(value_of(t, "lurewall_quarantine_items") < 0,
	    "a window has no gauges");
	is_int(2, (long long)value_of(t, "lurewall_state_errors_total{"
	    "backend=\"redis\",kind=\"io\"}"), "but the errors of its minutes");
	free(t);
	for (i = 0; i < METRICS_MAX_GAUGES + 4; i++) {
		snprintf(buf, sizeof(buf), "n=\"%d\"", i);
		metrics_gauge_set("lurewall_many", "Many.", buf, i);
	}
	t = render(now, 0);
	ok(value_of(t, "lurewall_many{n=\"0\"}") == 0 &&
	    value_of(t, "lurewall_many{n=\"15\"}") < 0,
	    "gauges past the bound are dropped");
	free(t);

	/* The parser `lurewall stats` reads the text with. */
	all = metrics_parse_line(line, &name, &labels, &v);
	ok(all && strcmp(name, "a_total") == 0 && v == 3.5,
	    "name and value with a } inside a quoted label");
	ok(metrics_label(labels, "x", buf, sizeof(buf)) &&
	    strcmp(buf, "q\"}") == 0, "label x unescaped: %s", buf);
	ok(metrics_label(labels, "y", buf, sizeof(buf)) &&
	    strcmp(buf, "2") == 0, "label y");
	ok(!metrics_label(labels, "z", buf, sizeof(buf)), "no label z");
	ok(metrics_parse_line(bare, &name, &labels, &v) && *labels == '\0' &&
	    v == 1, "no labels");
	ok(!metrics_parse_line(junk, &name, &labels, &v), "comment skipped");
	metrics_reset();
	return done_testing();
}
