/*
 * 5216-redis-noscan: every walk lurewall makes of a Redis state goes
 * through the indexes (state_redis_each.c), never a SCAN of the
 * server, with thousands of unrelated keys on it (a real redis-server
 * on a free 127.0.0.1 port, stopped by PID; INFO commandstats):
 *   - the quarantine index: a republish (the daemon's, at start and on
 *     reconnect) and `quarantine list` of every host or of one;
 *   - `outbreak list`;
 *   - the learn walks (each, stats, orgs, forget, eviction's);
 *   - the metrics' walk of the stored minutes;
 * each visiting what it visited before (the items, records, counts).
 * The first writing state to open on a server never indexed looks for
 * an older lurewall's keys once per namespace (a SCAN): before all
 * this.  A walk
 * of more index entries than a page reads them in pages (two
 * ZRANGEBYSCORE for 10500 keys), each key once.  Removal, expiry and a
 * counter keep the index true; a read-only walk writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "learn.h"
#include "learn_t.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "outbreak.h"
#include "policy.h"
#include "quarantine.h"
#include "quarantine_index.h"
#include "state.h"
#include "qfill.h"
#include "redis_t.h"
#include "tap.h"

#define OTHERS	1000		/* unrelated keys of each of 3 kinds */
#define BIG	10500		/* index entries: more than a page */

static int	port;

/* The SCAN calls from here on (INFO commandstats). */
static long long	scans;

static void
mark(void)
{
	scans = redis_calls(port, "scan");
}

static long long
scans_since(void)
{
	return redis_calls(port, "scan") - scans;
}

static void
keep(struct quarantine *q, const char *subject, char id[QUARANTINE_ID_MAX])
{
	static const char raw[] = "From: a@partner.example\r\n"
	    "To: b@example.com\r\nSubject: hold\r\n\r\nbody\r\n";
	struct qfill	f;

	qfill_init(&f, "Q9", "a@partner.example", "b@example.com", NULL,
	    subject, 40, "HTML_FORM", NULL);
	if (quarantine_store(q, (const unsigned char *)raw, sizeof(raw) - 1,
	    &f.env, &f.res, id) != LW_OK)
		bail("quarantine_store");
	qfill_free(&f);
}

static size_t
listed(struct qindex *qx, const char *host)
{
	struct quarantine_item	**v;
	size_t			  n;

	if (qindex_list(qx, host, &v, &n) != LW_OK)
		return (size_t)-1;
	quarantine_items_free(v, n);
	return n;
}

static void
quarantines(const struct state_config *c, const char *tmp)
{
	struct quarantine	*q1, *q2;
	struct qindex		*x1, *x2;
	struct state		*s1, *s2;
	char			 dir[4096], id[QUARANTINE_ID_MAX];
	char			 gone[QUARANTINE_ID_MAX];
	size_t			 published;

	snprintf(dir, sizeof(dir), "%s/mx1", tmp);
	if (quarantine_open(dir, &q1) != LW_OK)
		bail("open %s", dir);
	snprintf(dir, sizeof(dir), "%s/mx2", tmp);
	if (quarantine_open(dir, &q2) != LW_OK)
		bail("open %s", dir);
	keep(q1, "one", id);
	keep(q1, "two", id);
	keep(q1, "three", gone);
	keep(q2, "four", id);
	if (state_open(c, false, &s1) != LW_OK ||
	    qindex_open(s1, q1, "mx1", &x1) != LW_OK ||
	    state_open(c, false, &s2) != LW_OK ||
	    qindex_open(s2, q2, "mx2", &x2) != LW_OK)
		bail("qindex_open");
	mark();
	ok(qindex_republish(x1, &published) == LW_OK && published == 3,
	    "mx1 republishes its three items");
	ok(qindex_republish(x2, &published) == LW_OK && published == 1,
	    "mx2 republishes its item");
	is_int(3, (long long)listed(x2, NULL), "mx2 lists mx1's three");
	is_int(3, (long long)listed(x2, "mx1"), "and with --host mx1");
	is_int(1, (long long)listed(x1, "mx2"), "mx1 lists mx2's one");
	is_int(3, redis_admin_int(port, "ZCARD lurewall:index:quarantine:"
	    "mx1:"), "mx1's items are its own index (a set per host)");
	if (quarantine_delete(q1, gone) != LW_OK)
		bail("quarantine_delete");
	ok(qindex_republish(x1, &published) == LW_OK && published == 2,
	    "mx1 republishes after a delete behind the index's back");
	is_int(2, (long long)listed(x2, "mx1"), "the deleted item is gone");
	is_int(2, redis_admin_int(port, "ZCARD lurewall:index:quarantine:"
	    "mx1:"), "and its entry with it");
	is_int(0, scans_since(), "republish and list: no SCAN");
	qindex_close(x1);
	qindex_close(x2);
	quarantine_close(q1);
	quarantine_close(q2);
}

static void
outbreaks(struct state *st, time_t now)
{
	struct outbound_policy	 pol = { 600, 3, 0, OUTBOUND_QUARANTINE };
	struct outbreak_store	*os;
	struct outbreak_record	*v;
	struct outbreak_result	 r;
	char			*rc[] = { (char *)"x@partner.example" };
	const char		*senders[] = { "a@example.com",
				    "b@example.com", "c@example.com" };
	size_t			 n, i;

	if (outbreak_state_open(st, &os) != LW_OK)
		bail("outbreak_state_open");
	for (i = 0; i < 3; i++)
		if (outbreak_account(os, senders[i], &pol, true, rc, 1, now,
		    &r) != LW_OK)
			bail("outbreak_account");
	mark();
	ok(outbreak_list(os, now, &v, &n) == LW_OK && n == 3,
	    "outbreak list: the three senders");
	outbreak_records_free(v, n);
	ok(outbreak_list(os, now + 86400 * 400, &v, &n) == LW_OK && n == 0,
	    "none once every record expired");
	outbreak_records_free(v, n);
	is_int(0, scans_since(), "outbreak list: no SCAN");
	outbreak_close(os);
}

static enum lw_err
count_rec(void *arg, const struct learn_record *r)
{
	(*(size_t *)arg)++;
	return LW_OK;
}

static void
learned(struct state *st, time_t now)
{
	struct learn		*l;
	struct learn_stats	 s;
	struct message		*m;
	char			 raw[512], (*orgs)[LEARN_ORG_MAX + 1];
	size_t			 n = 0, norgs, removed, before;
	int			 i;

	if (learn_open(st, NULL, &l) != LW_OK)
		bail("learn_open");
	for (i = 0; i < 4; i++) {
		snprintf(raw, sizeof(raw), "From: Sato <sato@ours.example>\r\n"
		    "To: P%d <p%d@partner%d.example>\r\nMessage-ID: "
		    "<m%d@ours.example>\r\nSubject: quote %d\r\n\r\nhi\r\n",
		    i, i, i % 2, i, i);
		m = learn_t_msg(raw);
		if (learn_outbound(l, "example", m, NULL, now + i) != LW_OK)
			bail("learn_outbound");
		mime_free(m);
	}
	mark();
	if (learn_each(l, NULL, LEARN_KINDS, now, count_rec, &n) != LW_OK)
		bail("first learn_each");
	before = n;
	n = 0;
	is_int(LW_OK, learn_each(l, NULL, LEARN_KINDS, now, count_rec, &n),
	    "learn export");
	ok(n == before && n >= 4 + 4 + 2, "every record (%zu)", n);
	n = 0;
	ok(learn_each(l, "example", LEARN_CORRESPONDENT, now, count_rec,
	    &n) == LW_OK && n == 4, "learn show of one kind: four partners");
	ok(learn_stats(l, NULL, now, &s) == LW_OK, "learn stats");
	ok(learn_orgs(l, now, &orgs, &norgs) == LW_OK && norgs == 1 &&
	    strcmp(orgs[0], "example") == 0, "learn orgs");
	free(orgs);
	removed = 0;
	is_int(LW_OK, learn_forget(l, NULL, "p1@partner1.example", now,
	    &removed), "learn forget an address");
	ok(removed >= 1, "%zu records removed", removed);
	n = 0;
	ok(learn_each(l, "example", LEARN_CORRESPONDENT, now, count_rec,
	    &n) == LW_OK && n == 3, "it is gone from the walk");
	is_int(0, scans_since(), "learn walks: no SCAN");
	learn_close(l);
}

static long long
stored(struct state *st, time_t now)
{
	char		*text = NULL, *p;
	size_t		 len = 0;
	FILE		*f;
	long long	 v = -1;

	if ((f = open_memstream(&text, &len)) == NULL)
		bail("open_memstream");
	if (metrics_render(f, now, 3600, st) != LW_OK)
		bail("metrics_render");
	fclose(f);
	if ((p = strstr(text, "lurewall_findings_total{rule=\"NOSCAN\"} ")) !=
	    NULL)
		v = atoll(strchr(p, ' ') + 1);
	free(text);
	return v;
}

static void
minutes(struct state *st)
{
	time_t	now = time(NULL);

	metrics_reset();
	metrics_finding("NOSCAN");
	metrics_finding("NOSCAN");
	if (metrics_flush(st, now + 120) != LW_OK)
		bail("metrics_flush");
	mark();
	is_int(2, stored(st, now), "the metrics walk: stored and in memory, "
	    "counted once");
	metrics_reset();	/* a restart: the state alone has them */
	is_int(2, stored(st, now), "the metrics walk finds the stored "
	    "minute");
	is_int(0, scans_since(), "metrics walk: no SCAN");
}

static enum lw_err
tick(void *arg, const char *key, const struct state_val *v)
{
	unsigned char	*seen = arg;
	long		 i = strtol(key + strlen("learn:big:a:"), NULL, 10);

	if (i >= 0 && i < BIG)
		seen[i]++;
	return LW_OK;
}

static void
pages(const struct state_config *c, struct state *st, time_t now)
{
	struct state	*ro;
	unsigned char	*seen;
	long long	 ranges, mgets, evals, srems;
	char		 key[64];
	int		 i, once = 0;

	if ((seen = calloc(BIG, 1)) == NULL)
		bail("calloc");
	for (i = 0; i < BIG; i++) {
		snprintf(key, sizeof(key), "learn:big:a:%05d", i);
		if (state_put(st, key, "v", 1, i % 2 ? 0 : now + 100, now) !=
		    LW_OK)
			bail("put %s", key);
	}
	mark();
	ranges = redis_calls(port, "zrangebyscore");
	mgets = redis_calls(port, "mget");
	is_int(LW_OK, state_each(st, "learn:big:", now, tick, seen),
	    "a walk of %d keys", BIG);
	for (i = 0; i < BIG; i++)
		once += seen[i] == 1;
	is_int(BIG, once, "visits each once");
	is_int(2, redis_calls(port, "zrangebyscore") - ranges,
	    "in two pages (two ZRANGEBYSCORE)");
	is_int((BIG + 499) / 500, redis_calls(port, "mget") - mgets,
	    "one MGET per 500 keys");
	memset(seen, 0, BIG);
	ok(state_each(st, "learn:big:a:", now + 200, tick, seen) == LW_OK,
	    "the walk after half of them expired");
	for (i = 0, once = 0; i < BIG; i++)
		once += seen[i] == 1 && i % 2 == 1;
	is_int(BIG / 2, once, "visits the live half");
	is_int(BIG - 1000, redis_admin_int(port, "ZCARD lurewall:index:"
	    "learn:big:a:"), "and prunes 1000 expired entries (a bound) a "
	    "walk");
	is_int(0, scans_since(), "no SCAN");

	/* A counter is indexed, scored by its expiry. */
	ok(state_incr(st, "learn:big:#a", 3, now + 50, now, NULL) == LW_OK,
	    "a counter");
	is_int(1, redis_admin_int(port, "ZCOUNT lurewall:index:learn:big: "
	    "%lld %lld", (long long)now + 50, (long long)now + 50),
	    "has its entry, scored by its expiry");
	ok(state_del(st, "learn:big:#a") == LW_OK &&
	    redis_admin_int(port, "ZCARD lurewall:index:learn:big:") == 0,
	    "a delete takes it");

	if (state_open(c, true, &ro) != LW_OK)
		bail("open readonly");
	evals = redis_calls(port, "eval");
	srems = redis_calls(port, "zrem");
	memset(seen, 0, BIG);
	ok(state_each(ro, "learn:", now + 200, tick, seen) == LW_OK,
	    "a read-only walk");
	is_int(0, redis_calls(port, "eval") - evals + redis_calls(port,
	    "zrem") - srems, "prunes nothing");
	state_close(ro);
	free(seen);
}

int
main(void)
{
	struct state_config	 c;
	struct state		*st;
	const char		*tmp;
	char			 key[64];
	pid_t			 rpid;
	time_t			 now = time(NULL);
	int			 i;

	plan(0);
	log_init("5216-redis-noscan", LOG_MAIL, true);
	tmp = tap_tmpdir("5216-redis-noscan");
	port = free_port();
	rpid = redis_start(tmp, port, PASSWORD);
	redis_config(&c, port, NULL);
	if ((st = redis_state_open(&c)) == NULL) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}
	/* What a SCAN would wade through, some a letter off ours. */
	for (i = 0; i < 3 * OTHERS; i++) {
		snprintf(key, sizeof(key), "%s:%d", i < OTHERS ? "other" :
		    i < 2 * OTHERS ? "quarantined" : "learned", i);
		if (state_put(st, key, "x", 1, 0, now) != LW_OK)
			bail("put %s", key);
	}
	quarantines(&c, tmp);
	outbreaks(st, now);
	learned(st, now);
	minutes(st);
	pages(&c, st, now);

	state_close(st);
	redis_stop(rpid);
	state_config_free(&c);
	return done_testing();
}
