/*
 * 5213-quarantine-index: the shared quarantine index (quarantine_index.h)
 * on a real redis-server: an item's record carries its release record
 * through export and import; two hosts' stores are listed from either
 * with their host names; a republish drops records of items gone from
 * the store; commands round-trip their wire form and malformed ones are
 * refused; a request is carried out exactly once even with two workers
 * (twin daemons) on one queue, answered and confirmed, the workers
 * waiting on the server (BLPOP), not polling it, and so does the asker
 * for its answer (no GET while it waits); a request nobody
 * takes in time is withdrawn and never runs later; one taken but not
 * answered in time says so.  The index's threads take none of the
 * daemon's signals (TERM, HUP, INT, USR1 belong to libmilter's and the
 * reloader's threads: one taken by the index's killed the daemon).
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "quarantine.h"
#include "quarantine_index.h"
#include "state.h"
#include "tap.h"
#include "qfill.h"
#include "redis_t.h"

#define NASK	12

static const char msg[] =
    "From: Accounting <acct@partner.example>\r\n"
    "To: alice@example.com\r\n"
    "Subject: invoice\r\n"
    "Message-ID: <m1@partner.example>\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "\r\n"
    "see attached\r\n";

/* What the "daemons" carried out: id -> times, under a lock. */
static pthread_mutex_t	 done_mu = PTHREAD_MUTEX_INITIALIZER;
static char		 done_id[64][QUARANTINE_ID_MAX];
static int		 done_n[64];
static int		 ndone;
static unsigned		 slow_ms;	/* the exec takes this long */

static enum lw_err
fake_exec(void *arg, const struct qindex_cmd *c, char **answer)
{
	int	i;

	if (slow_ms > 0)
		usleep(slow_ms * 1000);
	pthread_mutex_lock(&done_mu);
	for (i = 0; i < ndone && strcmp(done_id[i], c->id) != 0; i++)
		;
	if (i == ndone && ndone < 64)
		snprintf(done_id[ndone++], QUARANTINE_ID_MAX, "%s", c->id);
	if (i < 64)
		done_n[i]++;
	pthread_mutex_unlock(&done_mu);
	if (asprintf(answer, "%s %s by %s (%s)\n", c->verb, c->id,
	    (const char *)arg, c->who != NULL ? c->who : "?") < 0)
		*answer = NULL;
	return LW_OK;
}

static int
times_done(const char *id)
{
	int	i, n = 0;

	pthread_mutex_lock(&done_mu);
	for (i = 0; i < ndone; i++)
		if (strcmp(done_id[i], id) == 0)
			n = done_n[i];
	pthread_mutex_unlock(&done_mu);
	return n;
}

/*
 * Every thread but the main one (which blocks nothing here) blocks
 * TERM, HUP, INT and USR1, as /proc says; *n: the threads looked at.
 */
static int
threads_unblocking(int *n)
{
	const unsigned long long want = 1ULL << (SIGTERM - 1) |
	    1ULL << (SIGHUP - 1) | 1ULL << (SIGINT - 1) |
	    1ULL << (SIGUSR1 - 1);
	unsigned long long	 blk;
	struct dirent		*de;
	DIR			*d;
	FILE			*f;
	char			 path[300], line[256];
	int			 bad = 0;

	*n = 0;
	if ((d = opendir("/proc/self/task")) == NULL)
		bail("/proc/self/task");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* it ended meanwhile */
		blk = 0;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "SigBlk: %llx", &blk) == 1)
				break;
		fclose(f);
		(*n)++;
		bad += (blk & want) != want;
	}
	closedir(d);
	return bad;
}

/*
 * A stand-in for a slow daemon of host "mxz" that answers by hand: it
 * waits for one command, naps 1.2 s (an asker that polled would look
 * a dozen times meanwhile), then pushes the answer on the reply list.
 */
struct by_hand {
	struct state_config	*c;
	int			 ok;
};

static void *
answer_by_hand(void *arg)
{
	struct by_hand		*h = arg;
	struct state		*st;
	struct state_val	 v;
	struct qindex_cmd	 cmd;
	struct timespec		 nap = { 1, 200000000 };
	char			 key[STATE_KEY_MAX + 1];
	time_t			 now;

	if (state_open(h->c, false, &st) != LW_OK)
		return NULL;
	if (state_pop_wait(st, "quarantine-cmd:mxz", 10000, &v) == LW_OK) {
		if (qindex_cmd_decode((const char *)v.data, v.len + 1,
		    &cmd) == LW_OK) {
			nanosleep(&nap, NULL);
			snprintf(key, sizeof(key), "quarantine-reply:%s",
			    cmd.token);
			now = time(NULL);
			h->ok = state_push(st, key, "ok\nby hand", 10, 1,
			    now + 60, now) == LW_OK;
			qindex_cmd_free(&cmd);
		}
		state_val_free(&v);
	}
	state_close(st);
	return NULL;
}

static struct qindex *
index_of(const struct state_config *c, struct quarantine *q,
    const char *host)
{
	struct state	*st;
	struct qindex	*qx;

	if (state_open(c, false, &st) != LW_OK ||
	    qindex_open(st, q, host, &qx) != LW_OK)
		bail("qindex_open %s", host);
	return qx;
}

static void
store(struct quarantine *q, const char *subject, time_t when,
    char id[QUARANTINE_ID_MAX])
{
	struct qfill	f;

	qfill_init(&f, "Q1", "acct@partner.example", "alice@example.com",
	    NULL, subject, 12, "OFFICE_MACRO", NULL);
	if (quarantine_store_at(q, (const unsigned char *)msg,
	    sizeof(msg) - 1, &f.env, &f.res, when, id) != LW_OK)
		bail("store");
	qfill_free(&f);
}

static void
wire_checks(void)
{
	struct qindex_cmd	 c, d;
	char			*w;
	static const char *const bad[] = {
		"lurewall-qcmd 1\ntoken t\nverb release\n",
		"lurewall-qcmd 1\ntoken t\nverb format\nid 20250101T000000-ab\n",
		"lurewall-qcmd 1\ntoken t\nverb delete\nid ../etc\n",
		"lurewall-qcmd 1\ntoken t\nverb release\nid a1b2\nto a b\n",
		"lurewall-qcmd 2\ntoken t\nverb delete\nid a1b2\n",
		"lurewall-qcmd 1\ntoken t\nverb delete\nid a1b2\nnospace\n",
	};
	size_t			 i;

	memset(&c, 0, sizeof(c));
	snprintf(c.token, sizeof(c.token), "00ff");
	snprintf(c.verb, sizeof(c.verb), "release");
	snprintf(c.id, sizeof(c.id), "20250101T000000-89abcdef");
	c.to = (char *)"bob@example.com";
	c.force = true;
	c.who = (char *)"root (uid 0) on mx2";
	if ((w = qindex_cmd_encode(&c)) == NULL)
		bail("encode");
	ok(qindex_cmd_decode(w, strlen(w) + 1, &d) == LW_OK &&
	    strcmp(d.token, "00ff") == 0 && strcmp(d.verb, "release") == 0 &&
	    strcmp(d.id, c.id) == 0 && d.force && d.to != NULL &&
	    strcmp(d.to, c.to) == 0 && d.who != NULL &&
	    strcmp(d.who, c.who) == 0, "a command round-trips its wire form");
	qindex_cmd_free(&d);
	free(w);
	c.who = (char *)"root\nverb delete";
	ok(qindex_cmd_encode(&c) == NULL, "a line break in a field: refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(LW_EMALFORMED, qindex_cmd_decode(bad[i],
		    strlen(bad[i]) + 1, &d), "malformed command %zu refused", i);
}

static void
record_checks(struct quarantine *q)
{
	struct quarantine_item	*a, *b;
	char			 id[QUARANTINE_ID_MAX], *rec;
	char			*to[] = { (char *)"alice@example.com" };
	size_t			 len;

	store(q, "record", time(NULL) - 60, id);
	if (quarantine_record_release(q, id, "tester", to, 1) != LW_OK ||
	    quarantine_read(q, id, &a) != LW_OK ||
	    quarantine_export(q, id, &rec, &len) != LW_OK)
		bail("record");
	ok(quarantine_import(rec, len, &b) == LW_OK, "a record imports");
	ok(b != NULL && strcmp(a->id, b->id) == 0 && b->released &&
	    b->release_count == 1 && strcmp(b->released_by, "tester") == 0 &&
	    strcmp(a->subject, b->subject) == 0 && b->size == a->size,
	    "with its metadata and release record, as quarantine_read");
	quarantine_item_free(a);
	quarantine_item_free(b);
	free(rec);
	quarantine_delete(q, id);
}

int
main(void)
{
	struct state_config	 c;
	struct quarantine	*qa, *qb;
	struct qindex		*xa, *xa2, *xb;
	struct quarantine_item	**v;
	struct qindex_cmd	 cmd;
	enum qindex_status	 st;
	const char		*tmp;
	char			 dir[4096], a1[QUARANTINE_ID_MAX];
	char			 a2[QUARANTINE_ID_MAX], b1[QUARANTINE_ID_MAX];
	char			*answer, ids[NASK][QUARANTINE_ID_MAX];
	size_t			 n, i, published;
	pid_t			 rpid;
	int			 port, bad, nthr;
	long long		 lpops, ttl;
	enum lw_err		 e;

	log_init("5213-quarantine-index", LOG_MAIL, true);
	tmp = tap_tmpdir("5213-quarantine-index");
	wire_checks();
	snprintf(dir, sizeof(dir), "%s/mxa", tmp);
	if (quarantine_open(dir, &qa) != LW_OK)
		bail("open %s", dir);
	snprintf(dir, sizeof(dir), "%s/mxb", tmp);
	if (quarantine_open(dir, &qb) != LW_OK)
		bail("open %s", dir);
	record_checks(qa);

	port = free_port();
	rpid = redis_start(tmp, port, PASSWORD);
	redis_config(&c, port, "lurewall:t5213:");
	xa = index_of(&c, qa, "mxa");
	xb = index_of(&c, qb, "mxb");
	for (i = 0, e = LW_EIO; i < 100 && e != LW_OK; i++) {
		if ((e = qindex_republish(xa, &published)) != LW_OK)
			usleep(100 * 1000);
	}
	if (e != LW_OK) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}

	store(qa, "first", time(NULL) - 30, a1);
	store(qa, "second", time(NULL) - 20, a2);
	store(qb, "third", time(NULL) - 10, b1);
	ok(qindex_republish(xa, &published) == LW_OK && published == 2,
	    "mxa publishes its two items");
	ok(qindex_republish(xb, &published) == LW_OK && published == 1,
	    "mxb publishes its one");
	ok(qindex_list(xb, NULL, &v, &n) == LW_OK && n == 2 &&
	    strcmp(v[0]->host, "mxa") == 0 && strcmp(v[0]->id, a2) == 0 &&
	    strcmp(v[1]->id, a1) == 0 && strcmp(v[0]->subject, "second") == 0,
	    "mxb lists mxa's items, newest first, with their host");
	quarantine_items_free(v, n);
	ok(qindex_list(xa, "mxb", &v, &n) == LW_OK && n == 1 &&
	    strcmp(v[0]->id, b1) == 0 && strcmp(v[0]->host, "mxb") == 0,
	    "mxa lists mxb's item by host");
	quarantine_items_free(v, n);

	/* Gone behind the index's back: the next republish drops it. */
	quarantine_delete(qa, a1);
	ok(qindex_republish(xa, &published) == LW_OK && published == 1 &&
	    qindex_list(xb, "mxa", &v, &n) == LW_OK && n == 1 &&
	    strcmp(v[0]->id, a2) == 0, "a republish drops a vanished item");
	quarantine_items_free(v, n);
	/* Changes through a store with the hook follow at once. */
	quarantine_set_notify(qa, qindex_touch, xa);
	quarantine_delete(qa, a2);
	ok(qindex_list(xb, "mxa", &v, &n) == LW_OK && n == 0,
	    "a delete through the hook leaves the index");
	quarantine_items_free(v, n);
	store(qa, "fourth", time(NULL) - 5, a1);
	ok(qindex_list(xb, "mxa", &v, &n) == LW_OK && n == 1 &&
	    strcmp(v[0]->id, a1) == 0, "a store through the hook enters it");
	quarantine_items_free(v, n);

	/* Twin workers on mxa's queue: each request runs exactly once. */
	lpops = redis_calls(port, "lpop");
	xa2 = index_of(&c, qa, "mxa");
	if (qindex_start(xa, fake_exec, (void *)"worker1") != LW_OK ||
	    qindex_start(xa2, fake_exec, (void *)"worker2") != LW_OK)
		bail("qindex_start");
	for (i = 0, bad = 0; i < NASK; i++) {
		memset(&cmd, 0, sizeof(cmd));
		snprintf(cmd.verb, sizeof(cmd.verb), "release");
		snprintf(ids[i], sizeof(ids[i]), "20250101T000000-%08zx", i);
		snprintf(cmd.id, sizeof(cmd.id), "%s", ids[i]);
		cmd.who = (char *)"tester on mxb";
		e = qindex_ask(xb, "mxa", &cmd, 10000, &st, &answer);
		if (e != LW_OK || st != QINDEX_DONE || answer == NULL ||
		    strstr(answer, ids[i]) == NULL)
			bad++;
		free(answer);
	}
	is_int(0, bad, "%d requests to mxa confirmed, with its answer", NASK);
	/* Asked after they ran: a thread not yet started blocks all. */
	bad = threads_unblocking(&nthr);
	ok(nthr >= 4 && bad == 0, "the index's threads (%d) block the "
	    "daemon's signals (%d do not)", nthr, bad);
	for (i = 0, bad = 0; i < NASK; i++)
		bad += times_done(ids[i]) != 1;
	is_int(0, bad, "each carried out exactly once by the two workers");
	is_int(0, redis_calls(port, "lpop") - lpops, "the workers do not "
	    "poll the queue (no LPOP)");
	ok(redis_calls(port, "blpop") >= NASK, "they wait on it (BLPOP)");

	/* Nobody takes it in time: withdrawn, and never runs later. */
	qindex_stop(xa);
	qindex_stop(xa2);
	memset(&cmd, 0, sizeof(cmd));
	snprintf(cmd.verb, sizeof(cmd.verb), "delete");
	snprintf(cmd.id, sizeof(cmd.id), "20250101T000000-late");
	e = qindex_ask(xb, "mxa", &cmd, 300, &st, &answer);
	ok(e == LW_OK && st == QINDEX_WITHDRAWN && answer == NULL,
	    "no worker: the request is withdrawn at the deadline");
	free(answer);
	if (qindex_start(xa, fake_exec, (void *)"worker1") != LW_OK)
		bail("qindex_start");
	snprintf(cmd.id, sizeof(cmd.id), "20250101T000000-next");
	e = qindex_ask(xb, "mxa", &cmd, 10000, &st, &answer);
	ok(e == LW_OK && st == QINDEX_DONE, "the worker back: the next "
	    "request is done");
	free(answer);
	is_int(0, times_done("20250101T000000-late"),
	    "the withdrawn one was skipped, not run late");

	/* Taken but slow: the asker says it is taken, not done. */
	slow_ms = 1500;
	snprintf(cmd.id, sizeof(cmd.id), "20250101T000000-slow");
	e = qindex_ask(xb, "mxa", &cmd, 400, &st, &answer);
	ok(e == LW_OK && st == QINDEX_TAKEN, "taken but unanswered in time: "
	    "QINDEX_TAKEN");
	free(answer);
	qindex_stop(xa);
	is_int(1, times_done("20250101T000000-slow"),
	    "and it completes once");
	ttl = redis_admin_int(port, "PTTL lurewall:t5213:quarantine-reply:%s",
	    cmd.token);
	ok(ttl > 0 && ttl <= QINDEX_REPLY_SECS * 1000, "its answer nobody "
	    "took expires on its own (%lld ms left)", ttl);
	slow_ms = 0;

	/* The asker waits on the server for the answer: no polling. */
	{
		struct by_hand	 h = { &c, 0 };
		pthread_t	 tid;
		long long	 gets, blpops;

		gets = redis_calls(port, "get");
		blpops = redis_calls(port, "blpop");
		if (pthread_create(&tid, NULL, answer_by_hand, &h) != 0)
			bail("pthread_create");
		memset(&cmd, 0, sizeof(cmd));
		snprintf(cmd.verb, sizeof(cmd.verb), "release");
		snprintf(cmd.id, sizeof(cmd.id), "20250101T000000-hand");
		e = qindex_ask(xb, "mxz", &cmd, 10000, &st, &answer);
		pthread_join(tid, NULL);
		ok(h.ok && e == LW_OK && st == QINDEX_DONE && answer != NULL &&
		    strcmp(answer, "by hand") == 0, "an answer given 1.2 s "
		    "late is heard, with its text");
		free(answer);
		is_int(0, redis_calls(port, "get") - gets, "the asker asked "
		    "nothing meanwhile (no GET)");
		ok(redis_calls(port, "blpop") - blpops >= 2, "it waited on "
		    "its reply list (BLPOP)");
		is_int(0, redis_admin_int(port, "EXISTS lurewall:t5213:"
		    "quarantine-reply:%s", cmd.token), "the reply list is gone "
		    "once read");
	}

	/* The server away: asking fails at once, nothing queued. */
	redis_stop(rpid);
	snprintf(cmd.id, sizeof(cmd.id), "20250101T000000-away");
	is_int(LW_EIO, qindex_ask(xb, "mxa", &cmd, 2000, &st, &answer),
	    "redis away: a request fails with LW_EIO");
	is_int(LW_EIO, qindex_list(xb, NULL, &v, &n),
	    "redis away: the list says so");

	qindex_close(xa);
	qindex_close(xa2);
	qindex_close(xb);
	quarantine_close(qa);
	quarantine_close(qb);
	state_config_free(&c);
	return done_testing();
}
