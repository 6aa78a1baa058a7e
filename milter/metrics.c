/*
 * metrics.c: the daemon's counters, histogram and minute buckets, and
 * the Prometheus text format they are written in (metrics.h).
 *
 * Takes increments from the milter threads and render calls from the
 * HTTP thread; returns text.  Bounds: METRICS_MAX_SERIES series (a
 * hash of twice as many slots finds them), label values cut at
 * METRICS_LABEL_MAX bytes, METRICS_MINUTES minute buckets in memory.
 * Ignores time going backwards (the bucket of the current minute is
 * simply reused).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "state.h"
#include "util.h"

#define NSLOTS		(2 * METRICS_MAX_SERIES)	/* hash slots */
#define METRICS_STATE_PREFIX	"metrics:"	/* state keys */

/* A family: the HELP and TYPE lines its series are grouped under. */
enum family {
	F_MESSAGES,
	F_FINDINGS,
	F_SCAN,
	F_BYTES,
	F_PWTRIES,
	F_PWHITS,
	F_SPLIT,
	F_TRIPS,
	F_ERRORS,
	F_STATE_ERRORS,
	F_RELOADS,
	F_DROPPED,
	F__COUNT
};

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} families[F__COUNT] = {
	[F_MESSAGES] = { "lurewall_messages_total", "counter",
	    "Messages judged, by direction and action." },
	[F_FINDINGS] = { "lurewall_findings_total", "counter",
	    "Rules that fired, counted once per message." },
	[F_SCAN] = { "lurewall_scan_seconds", "histogram",
	    "Time to scan one message." },
	[F_BYTES] = { "lurewall_scanned_bytes_total", "counter",
	    "Message bytes the MTA handed over for scanning." },
	[F_PWTRIES] = { "lurewall_password_tries_total", "counter",
	    "Password candidates tried on encrypted archives." },
	[F_PWHITS] = { "lurewall_password_successes_total", "counter",
	    "Encrypted archives a candidate password opened." },
	[F_SPLIT] = { "lurewall_split_ppap_total", "counter",
	    "Split PPAP messages: pending, released, expired." },
	[F_TRIPS] = { "lurewall_outbreak_trips_total", "counter",
	    "Senders the outbound breaker tripped for." },
	[F_ERRORS] = { "lurewall_errors_total", "counter",
	    "Messages left without a verdict (on_error), by kind." },
	[F_STATE_ERRORS] = { "lurewall_state_errors_total", "counter",
	    "Failed calls of a state backend, by backend and kind." },
	[F_RELOADS] = { "lurewall_reloads_total", "counter",
	    "Configuration reloads, by result." },
	[F_DROPPED] = { "lurewall_metrics_dropped_total", "counter",
	    "Increments lost because the series table was full." },
};

/* The histogram's upper bounds in ms, and as the le label says them. */
static const struct {
	uint64_t	 ms;
	const char	*le;
} buckets[] = {
	{ 5, "0.005" }, { 10, "0.01" }, { 25, "0.025" }, { 50, "0.05" },
	{ 100, "0.1" }, { 250, "0.25" }, { 500, "0.5" }, { 1000, "1" },
	{ 2500, "2.5" }, { 5000, "5" }, { 10000, "10" }, { 30000, "30" },
	{ UINT64_MAX, "+Inf" },
};
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

static const struct {
	enum family	 fam;
	const char	*key;
} counters[MC__COUNT] = {
	[MC_BYTES_SCANNED] = { F_BYTES, "lurewall_scanned_bytes_total" },
	[MC_PASSWORD_TRIES] = { F_PWTRIES, "lurewall_password_tries_total" },
	[MC_PASSWORD_HITS] = { F_PWHITS,
	    "lurewall_password_successes_total" },
	[MC_SPLIT_PENDING] = { F_SPLIT,
	    "lurewall_split_ppap_total{event=\"pending\"}" },
	[MC_SPLIT_RELEASED] = { F_SPLIT,
	    "lurewall_split_ppap_total{event=\"released\"}" },
	[MC_SPLIT_EXPIRED] = { F_SPLIT,
	    "lurewall_split_ppap_total{event=\"expired\"}" },
	[MC_BREAKER_TRIPS] = { F_TRIPS, "lurewall_outbreak_trips_total" },
	[MC_RELOADS] = { F_RELOADS, "lurewall_reloads_total{result=\"ok\"}" },
	[MC_RELOAD_FAILURES] = { F_RELOADS,
	    "lurewall_reloads_total{result=\"failed\"}" },
};

struct series {
	enum family	 fam;
	char		*key;		/* "name{labels}" or "name" */
	uint64_t	 v;
	bool		 ms;		/* value is ms, written as seconds */
};

/* One minute's deltas: series keys (pointers into struct series). */
struct minute {
	int64_t		 m;		/* Unix time / 60; 0: unused */
	bool		 stored;	/* metrics_flush wrote it */
	size_t		 n;
	size_t		 cap;
	struct {
		const char	*key;
		uint64_t	 v;
	}		*d;
};

struct gauge {
	const char	*name;		/* the family; static strings */
	const char	*help;
	char		 labels[2 * METRICS_LABEL_MAX];
	double		 v;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct series	 series[METRICS_MAX_SERIES];
static size_t		 nseries;
static int32_t		 slots[NSLOTS];	/* series index + 1; 0 empty */
static struct minute	*ring;		/* METRICS_MINUTES, lazily */
static int64_t		 start_minute;
static time_t		 start_time;
static struct gauge	 gauges[METRICS_MAX_GAUGES];
static size_t		 ngauges;
static uint64_t		 dropped;
static unsigned		 generation;	/* metrics_reset calls */

static uint32_t
hash(const char *s)
{
	uint32_t	h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The series of key, created (at 0) if new; NULL when full. */
static struct series *
series_get(enum family fam, const char *key, bool create)
{
	uint32_t	 i = hash(key) % NSLOTS;
	struct series	*s;

	/* NSLOTS > METRICS_MAX_SERIES: there is always an empty slot. */
	while (slots[i] != 0) {
		s = &series[slots[i] - 1];
		if (strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) % NSLOTS;
	}
	if (!create || nseries == METRICS_MAX_SERIES)
		return NULL;
	s = &series[nseries];
	if ((s->key = strdup(key)) == NULL)
		return NULL;
	s->fam = fam;
	s->v = 0;
	s->ms = strcmp(key, "lurewall_scan_seconds_sum") == 0;
	slots[i] = (int32_t)++nseries;
	return s;
}

/* The in-memory minute store. */
static void
ring_add(void *arg, int64_t m, const char *key, uint64_t delta)
{
	struct minute	*b;
	size_t		 i;
	void		*nd;

	if (ring == NULL &&
	    (ring = calloc(METRICS_MINUTES, sizeof(*ring))) == NULL)
		return;
	b = &ring[m % METRICS_MINUTES];
	if (b->m != m) {
		b->m = m;
		b->n = 0;
		b->stored = false;
	}
	/* Stored already (a late message): stored again, whole. */
	b->stored = false;
	for (i = 0; i < b->n; i++)
		if (b->d[i].key == key) {
			b->d[i].v += delta;
			return;
		}
	if ((nd = lw_grow(b->d, b->n, &b->cap, 16, sizeof(*b->d))) == NULL)
		return;
	b->d = nd;
	b->d[b->n].key = key;
	b->d[b->n++].v = delta;
}

/* The ring's minutes >= from; with a state, only those not stored. */
static void
ring_sum(int64_t from, bool skip_stored, void (*out)(void *, const char *,
    uint64_t), void *outarg)
{
	size_t	i, j;

	if (ring == NULL)
		return;
	for (i = 0; i < METRICS_MINUTES; i++) {
		if (ring[i].m == 0 || ring[i].m < from ||
		    (skip_stored && ring[i].stored))
			continue;
		for (j = 0; j < ring[i].n; j++)
			out(outarg, ring[i].d[j].key, ring[i].d[j].v);
	}
}

static int64_t
minute_now(void)
{
	time_t	t = time(NULL);

	return t > 0 ? (int64_t)t / 60 : 1;
}

/* Add n to key (held lock). */
static void
bump(enum family fam, const char *key, uint64_t n, int64_t m)
{
	struct series	*s;

	if ((s = series_get(fam, key, true)) == NULL) {
		dropped += n;
		return;
	}
	s->v += n;
	ring_add(NULL, m, s->key, n);
}

/* Prometheus label value escaping: \ " and newline; bounded. */
static void
label_escape(char *out, size_t outlen, const char *v)
{
	size_t	o = 0;

	for (; *v != '\0' && o + 3 < outlen; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *v;
	}
	out[o] = '\0';
}

/* Series that exist from the start, so a scrape shows them at 0. */
static void
seed(void)
{
	static const char *const dirs[] = { "inbound", "outbound" };
	static const char *const acts[] = { "accept", "tag", "quarantine",
	    "reject", "tempfail" };
	char		 key[256];
	size_t		 i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < sizeof(acts) / sizeof(acts[0]); j++) {
			snprintf(key, sizeof(key), "lurewall_messages_total{"
			    "direction=\"%s\",action=\"%s\"}", dirs[i],
			    acts[j]);
			(void)series_get(F_MESSAGES, key, true);
		}
	for (i = 0; i < NBUCKETS; i++) {
		snprintf(key, sizeof(key), "lurewall_scan_seconds_bucket{"
		    "le=\"%s\"}", buckets[i].le);
		(void)series_get(F_SCAN, key, true);
	}
	(void)series_get(F_SCAN, "lurewall_scan_seconds_sum", true);
	(void)series_get(F_SCAN, "lurewall_scan_seconds_count", true);
	for (i = 0; i < MC__COUNT; i++)
		(void)series_get(counters[i].fam, counters[i].key, true);
}

void
metrics_init(time_t now)
{
	pthread_mutex_lock(&lock);
	start_time = now;
	start_minute = now / 60;
	if (nseries == 0)
		seed();
	pthread_mutex_unlock(&lock);
}

void
metrics_message(const char *direction, const char *action,
    uint64_t scan_ms, uint64_t bytes)
{
	char		 key[2 * METRICS_LABEL_MAX + 64];
	char		 d[METRICS_LABEL_MAX], a[METRICS_LABEL_MAX];
	int64_t		 m = minute_now();
	size_t		 i;

	label_escape(d, sizeof(d), direction);
	label_escape(a, sizeof(a), action);
	snprintf(key, sizeof(key), "lurewall_messages_total{direction=\"%s\","
	    "action=\"%s\"}", d, a);
	pthread_mutex_lock(&lock);
	bump(F_MESSAGES, key, 1, m);
	bump(F_BYTES, counters[MC_BYTES_SCANNED].key, bytes, m);
	for (i = 0; i < NBUCKETS && scan_ms != METRICS_NO_SCAN; i++) {
		if (scan_ms > buckets[i].ms)
			continue;
		snprintf(key, sizeof(key), "lurewall_scan_seconds_bucket{"
		    "le=\"%s\"}", buckets[i].le);
		bump(F_SCAN, key, 1, m);
	}
	if (scan_ms != METRICS_NO_SCAN) {
		bump(F_SCAN, "lurewall_scan_seconds_sum", scan_ms, m);
		bump(F_SCAN, "lurewall_scan_seconds_count", 1, m);
	}
	pthread_mutex_unlock(&lock);
}

/* Count one in family f's series of one label: f{label="value"}. */
static void
bump_labelled(enum family f, const char *label, const char *value)
{
	char	key[METRICS_LABEL_MAX + 64], v[METRICS_LABEL_MAX];

	label_escape(v, sizeof(v), value);
	snprintf(key, sizeof(key), "%s{%s=\"%s\"}", families[f].name, label,
	    v);
	pthread_mutex_lock(&lock);
	bump(f, key, 1, minute_now());
	pthread_mutex_unlock(&lock);
}

void
metrics_finding(const char *rule)
{
	bump_labelled(F_FINDINGS, "rule", rule);
}

void
metrics_error(const char *kind)
{
	bump_labelled(F_ERRORS, "kind", kind);
}

void
metrics_add(enum metrics_counter c, uint64_t n)
{
	if ((unsigned)c >= MC__COUNT)
		return;
	pthread_mutex_lock(&lock);
	bump(counters[c].fam, counters[c].key, n, minute_now());
	pthread_mutex_unlock(&lock);
}

void
metrics_state_error(const char *backend, const char *kind)
{
	char	key[2 * METRICS_LABEL_MAX + 64];
	char	b[METRICS_LABEL_MAX], k[METRICS_LABEL_MAX];

	label_escape(b, sizeof(b), backend);
	label_escape(k, sizeof(k), kind);
	snprintf(key, sizeof(key), "lurewall_state_errors_total{"
	    "backend=\"%s\",kind=\"%s\"}", b, k);
	pthread_mutex_lock(&lock);
	bump(F_STATE_ERRORS, key, 1, minute_now());
	pthread_mutex_unlock(&lock);
}

void
metrics_gauge_set(const char *name, const char *help, const char *labels,
    double v)
{
	size_t	i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < ngauges; i++)
		if (strcmp(gauges[i].name, name) == 0 &&
		    strcmp(gauges[i].labels, labels) == 0)
			break;
	if (i < METRICS_MAX_GAUGES) {
		if (i == ngauges) {
			gauges[i].name = name;
			gauges[i].help = help;
			snprintf(gauges[i].labels, sizeof(gauges[i].labels),
			    "%s", labels);
			ngauges++;
		}
		gauges[i].v = v;
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_reset(void)
{
	size_t	i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nseries; i++)
		free(series[i].key);
	nseries = 0;
	memset(slots, 0, sizeof(slots));
	if (ring != NULL)
		for (i = 0; i < METRICS_MINUTES; i++)
			free(ring[i].d);
	free(ring);
	ring = NULL;
	ngauges = 0;
	dropped = 0;
	generation++;
	seed();
	pthread_mutex_unlock(&lock);
}

/* A window's sums: one slot per series, filled by the minute store. */
struct window {
	uint64_t	*v;
};

static void
window_add(void *arg, const char *key, uint64_t n)
{
	struct window	*w = arg;
	struct series	*s;
	enum family	 f;
	size_t		 i;

	if ((s = series_get(F_DROPPED, key, false)) == NULL) {
		/* A series of an earlier run (persistent store): adopt it. */
		for (f = 0; f < F__COUNT; f++) {
			i = strlen(families[f].name);
			if (f == F_SCAN && strncmp(key, families[f].name, i) ==
			    0)
				break;
			if (strncmp(key, families[f].name, i) == 0 &&
			    (key[i] == '\0' || key[i] == '{'))
				break;
		}
		if (f == F__COUNT ||
		    (s = series_get(f, key, true)) == NULL)
			return;
	}
	w->v[s - series] += n;
}

static void
write_value(FILE *f, const struct series *s, uint64_t v)
{
	if (s->ms)
		fprintf(f, "%" PRIu64 ".%03u\n", v / 1000,
		    (unsigned)(v % 1000));
	else
		fprintf(f, "%" PRIu64 "\n", v);
}

/* "metrics:MINUTE:HOST:PID" values: "SERIES VALUE" lines. */
struct stored_walk {
	struct window	*w;
	int64_t		 from;
	int64_t		 first;		/* earliest minute >= from seen */
};

static enum lw_err
stored_minute(void *arg, const char *key, const struct state_val *v)
{
	struct stored_walk	*sw = arg;
	const char		*p, *end, *sp;
	char			*e, name[METRICS_LABEL_MAX * 3];
	long long		 m;
	unsigned long long	 n;

	errno = 0;
	m = strtoll(key + strlen(METRICS_STATE_PREFIX), &e, 10);
	if (errno != 0 || *e != ':' || m < sw->from)
		return LW_OK;
	if (m < sw->first)
		sw->first = m;
	for (p = (const char *)v->data; p < (const char *)v->data + v->len;
	    p = end + 1) {
		if ((end = memchr(p, '\n', (const char *)v->data + v->len -
		    p)) == NULL)
			break;
		if ((sp = memrchr(p, ' ', end - p)) == NULL ||
		    (size_t)(sp - p) >= sizeof(name))
			continue;
		memcpy(name, p, sp - p);
		name[sp - p] = '\0';
		errno = 0;
		n = strtoull(sp + 1, &e, 10);
		if (errno == 0 && e == end)
			window_add(sw->w, name, n);
	}
	return LW_OK;
}

enum lw_err
metrics_flush(struct state *st, time_t now)
{
	struct minute	*b;
	char		 key[128], host[64];
	char		*text = NULL;
	size_t		 i, j, len = 0;
	int64_t		 cur = (int64_t)now / 60;
	enum lw_err	 e, r = LW_OK;
	FILE		*f;

	if (st == NULL)
		return LW_OK;
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ": \t\n")] = '\0';
	pthread_mutex_lock(&lock);
	for (i = 0; ring != NULL && i < METRICS_MINUTES; i++) {
		b = &ring[i];
		if (b->m == 0 || b->m >= cur || b->stored || b->n == 0)
			continue;
		if ((f = open_memstream(&text, &len)) == NULL) {
			r = LW_ENOMEM;
			break;
		}
		for (j = 0; j < b->n; j++)
			fprintf(f, "%s %" PRIu64 "\n", b->d[j].key, b->d[j].v);
		if (fclose(f) != 0) {
			free(text);
			r = LW_ENOMEM;
			break;
		}
		/* One key per process and minute: hosts, restarts add up. */
		snprintf(key, sizeof(key), METRICS_STATE_PREFIX
		    "%lld:%s:%ld.%u", (long long)b->m, host, (long)getpid(),
		    generation);
		e = state_put(st, key, text, len,
		    (time_t)(b->m + METRICS_MINUTES + 1) * 60, now);
		free(text);
		if (e != LW_OK)
			r = e;		/* tried again at the next flush */
		else
			b->stored = true;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

enum lw_err
metrics_render(FILE *f, time_t now, time_t since, struct state *st)
{
	struct window		 w = { NULL };
	struct stored_walk	 sw;
	int64_t			 first, from;
	size_t			 i, j;
	enum family		 fam;

	pthread_mutex_lock(&lock);
	if (since > 0) {
		/* Series may be adopted while summing: room for all. */
		if ((w.v = calloc(METRICS_MAX_SERIES, sizeof(*w.v))) == NULL) {
			pthread_mutex_unlock(&lock);
			return LW_ENOMEM;
		}
		from = (int64_t)(now - since) / 60;
		first = start_minute;
		ring_sum(from, st != NULL, window_add, &w);
		if (st != NULL) {
			sw.w = &w;
			sw.from = from;
			sw.first = first;
			/* A state that cannot be read: the ring alone. */
			if (state_each(st, METRICS_STATE_PREFIX, now,
			    stored_minute, &sw) != LW_OK)
				ring_sum(from, false, window_add, &w);
			else
				first = sw.first;
		}
		if (first < from)
			first = from;
		fprintf(f, "# HELP lurewall_window_seconds Seconds the "
		    "counters below cover.\n# TYPE lurewall_window_seconds "
		    "gauge\nlurewall_window_seconds %lld\n",
		    (long long)(now - first * 60));
	}
	for (fam = 0; fam < F__COUNT; fam++) {
		if (fam == F_DROPPED)
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", families[fam].name,
		    families[fam].help, families[fam].name,
		    families[fam].type);
		for (i = 0; i < nseries; i++) {
			if (series[i].fam != fam)
				continue;
			fprintf(f, "%s ", series[i].key);
			write_value(f, &series[i], since > 0 ? w.v[i] :
			    series[i].v);
		}
	}
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n",
	    families[F_DROPPED].name, families[F_DROPPED].help,
	    families[F_DROPPED].name, families[F_DROPPED].type,
	    families[F_DROPPED].name, dropped);
	if (since == 0) {
		fprintf(f, "# HELP lurewall_start_time_seconds Unix time the "
		    "daemon started.\n# TYPE lurewall_start_time_seconds "
		    "gauge\nlurewall_start_time_seconds %lld\n",
		    (long long)start_time);
		/* A family's HELP and TYPE once, before its first series. */
		for (i = 0; i < ngauges; i++) {
			for (j = 0; j < i; j++)
				if (strcmp(gauges[j].name, gauges[i].name) == 0)
					break;
			if (j < i)
				continue;
			fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n",
			    gauges[i].name, gauges[i].help, gauges[i].name);
			for (j = i; j < ngauges; j++)
				if (strcmp(gauges[j].name, gauges[i].name) == 0)
					fprintf(f, "%s%s%s%s %.17g\n",
					    gauges[j].name,
					    *gauges[j].labels ? "{" : "",
					    gauges[j].labels,
					    *gauges[j].labels ? "}" : "",
					    gauges[j].v);
		}
	}
	pthread_mutex_unlock(&lock);
	free(w.v);
	return ferror(f) ? LW_EIO : LW_OK;
}

bool
metrics_parse_line(char *line, char **name, char **labels, double *value)
{
	char	*p = line, *end;
	bool	 q = false;

	line[strcspn(line, "\r\n")] = '\0';
	p += strspn(p, " \t");
	if (*p == '\0' || *p == '#')
		return false;
	*name = p;
	p += strcspn(p, "{ \t");
	*labels = p;	/* "" unless braces follow */
	if (*p == '{') {
		*p++ = '\0';
		*labels = p;
		for (; *p != '\0'; p++) {
			if (q && *p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				q = !q;
			else if (!q && *p == '}')
				break;
		}
		if (*p != '}')
			return false;
		*p++ = '\0';
	} else if (*p != '\0')
		*p++ = '\0';
	else
		return false;
	p += strspn(p, " \t");
	if (*p == '\0')
		return false;
	errno = 0;
	*value = strtod(p, &end);
	if (end == p || (*end != '\0' && *end != ' ' && *end != '\t'))
		return false;
	return **name != '\0';
}

bool
metrics_label(const char *labels, const char *key, char *out,
    size_t outlen)
{
	const char	*p = labels;
	size_t		 klen = strlen(key), o = 0;
	char		 c;

	while (*p != '\0') {
		p += strspn(p, " \t,");
		if (strncmp(p, key, klen) == 0 && p[klen] == '=' &&
		    p[klen + 1] == '"') {
			for (p += klen + 2; *p != '\0' && *p != '"'; p++) {
				c = *p;
				if (c == '\\' && p[1] != '\0')
					c = *++p == 'n' ? '\n' : *p;
				if (o + 1 < outlen)
					out[o++] = c;
			}
			if (outlen > 0)
				out[o] = '\0';
			return *p == '"';
		}
		/* Skip this pair: name="value" with escapes. */
		p += strcspn(p, "\"");
		if (*p != '"')
			return false;
		for (p++; *p != '\0' && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p == '"')
			p++;
	}
	return false;
}
