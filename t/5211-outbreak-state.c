/*
 * 5211-outbreak-state: the outbreak breaker's store on the state
 * (outbreak_state.c).  On LMDB: counting, tripping, clearing and
 * listing as with the file store, and concurrent threads lose no
 * count.  On Redis, two "hosts" (two state handles with their own
 * connections, as two daemons have) sharing one redis-server: three
 * lures of one sender spread over both trip the breaker, and both then
 * hold the sender.  The first start copies the old file store.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "outbreak.h"
#include "policy.h"
#include "redis_t.h"
#include "state.h"
#include "tap.h"

#define NOW	((time_t)1700000000)

static struct outbreak_result
send1(struct state *st, const char *sender,
    const struct outbound_policy *pol, bool lure, const char *rcpt,
    time_t now)
{
	struct outbreak_store	*os;
	struct outbreak_result	 r;
	char			*rc[1] = { (char *)rcpt };

	if (outbreak_state_open(st, &os) != LW_OK)
		bail("outbreak_state_open");
	if (outbreak_account(os, sender, pol, lure, rc, rcpt != NULL, now,
	    &r) != LW_OK)
		bail("outbreak_account");
	outbreak_close(os);
	return r;
}

static bool
listed(struct state *st, const char *sender, time_t now,
    struct outbreak_record *out)
{
	struct outbreak_store	*os;
	struct outbreak_record	*v;
	size_t			 n, i;
	bool			 found = false;

	if (outbreak_state_open(st, &os) != LW_OK ||
	    outbreak_list(os, now, &v, &n) != LW_OK)
		bail("outbreak_list");
	for (i = 0; i < n; i++)
		if (strcmp(v[i].sender, sender) == 0) {
			*out = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			found = true;
		}
	outbreak_records_free(v, n);
	outbreak_close(os);
	return found;
}

static bool
clear(struct state *st, const char *sender, time_t now)
{
	struct outbreak_store	*os;
	bool			 found = false;

	if (outbreak_state_open(st, &os) != LW_OK ||
	    outbreak_clear(os, sender, now, &found) != LW_OK)
		bail("outbreak_clear");
	outbreak_close(os);
	return found;
}

struct worker {
	struct state			*st;
	const struct outbound_policy	*pol;
};

static void *
work(void *arg)
{
	struct worker	*w = arg;
	char		 rcpt[64];
	int		 i;

	for (i = 0; i < 25; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d-%p@x.example", i, arg);
		(void)send1(w->st, "busy@corp.example", w->pol, false, rcpt,
		    NOW);
	}
	return NULL;
}

static void
one_host(struct state *st, const char *b)
{
	struct outbound_policy	 pol = { 600, 3, 0, OUTBOUND_QUARANTINE };
	struct outbound_policy	 wide = { 600, 0, 1000000, OUTBOUND_QUARANTINE };
	struct outbreak_result	 r;
	struct outbreak_record	 rec;
	struct worker		 w[4];
	pthread_t		 t[4];
	int			 i;

	r = send1(st, "alice@corp.example", &pol, true, "a@x.example", NOW);
	ok(r.state == OB_FLOWING && r.lures == 1, "%s: one lure flows", b);
	r = send1(st, "alice@corp.example", &pol, true, "b@x.example",
	    NOW + 10);
	ok(r.state == OB_FLOWING && r.lures == 2, "%s: two lures flow", b);
	r = send1(st, "alice@corp.example", &pol, true, "c@x.example",
	    NOW + 20);
	ok(r.state == OB_TRIPPED_NOW && strcmp(r.reason, "lures") == 0,
	    "%s: the third lure trips", b);
	r = send1(st, "alice@corp.example", &pol, false, "d@x.example",
	    NOW + 30);
	ok(r.state == OB_TRIPPED, "%s: then every message is held", b);
	ok(listed(st, "alice@corp.example", NOW + 30, &rec) &&
	    rec.tripped == NOW + 20 && rec.held == 2,
	    "%s: list shows the trip and both held messages", b);
	outbreak_record_free(&rec);
	ok(clear(st, "alice@corp.example", NOW + 40),
	    "%s: clear finds the tripped sender", b);
	r = send1(st, "alice@corp.example", &pol, true, "e@x.example",
	    NOW + 50);
	ok(r.state == OB_FLOWING && r.lures == 1,
	    "%s: cleared: mail flows and counts afresh", b);
	r = send1(st, "bob@corp.example", &pol, true, "a@x.example", NOW);
	r = send1(st, "bob@corp.example", &pol, true, "a@x.example",
	    NOW + 700);
	ok(r.state == OB_FLOWING && r.lures == 1,
	    "%s: lures outside the window are forgotten", b);
	ok(!listed(st, "bob@corp.example", NOW + 700 + OUTBREAK_RETENTION,
	    &rec), "%s: a quiet sender expires after the retention", b);

	for (i = 0; i < 4; i++) {
		w[i].st = st;
		w[i].pol = &wide;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ok(listed(st, "busy@corp.example", NOW, &rec) && rec.nknown == 100,
	    "%s: 4 threads x 25 new recipients: none lost (%zu)", b,
	    rec.nknown);
	outbreak_record_free(&rec);
}

static void
migrate(const char *tmp)
{
	struct outbound_policy	 pol = { 600, 2, 0, OUTBOUND_QUARANTINE };
	struct outbreak_store	*fs;
	struct outbreak_result	 r;
	struct outbreak_record	 rec;
	struct state_config	 c;
	struct state		*st;
	char			 dir[4096], *rc[1] = { "z@x.example" };
	size_t			 moved = 9;
	time_t			 now = time(NULL);

	snprintf(dir, sizeof(dir), "%s/outbreak", tmp);
	if (outbreak_file_open(dir, &fs) != LW_OK)
		bail("outbreak_file_open");
	(void)outbreak_account(fs, "old@corp.example", &pol, true, rc, 1,
	    now - 20, &r);
	(void)outbreak_account(fs, "old@corp.example", &pol, true, rc, 1,
	    now - 10, &r);
	outbreak_close(fs);
	ok(r.state == OB_TRIPPED_NOW, "file store: the old sender tripped");

	state_config_init(&c);
	snprintf(dir, sizeof(dir), "%s/migrated-state", tmp);
	c.path = strdup(dir);
	if (state_open(&c, false, &st) != LW_OK)
		bail("state_open");
	snprintf(dir, sizeof(dir), "%s/outbreak", tmp);
	ok(outbreak_migrate(dir, st, &moved) == LW_OK && moved == 1,
	    "first start: the file store's record copied (%zu)", moved);
	ok(listed(st, "old@corp.example", now, &rec) && rec.tripped != 0,
	    "the state holds the trip");
	outbreak_record_free(&rec);
	r = send1(st, "old@corp.example", &pol, false, "y@x.example", now);
	ok(r.state == OB_TRIPPED, "and the sender is still held");
	ok(clear(st, "old@corp.example", now), "cleared in the state");
	ok(outbreak_migrate(dir, st, &moved) == LW_OK && moved == 0,
	    "the second start copies nothing (the clear stands)");
	r = send1(st, "old@corp.example", &pol, false, "y@x.example", now);
	ok(r.state == OB_FLOWING, "the cleared sender flows");
	state_close(st);
	state_config_free(&c);
}

int
main(void)
{
	struct outbound_policy	 pol = { 600, 3, 0, OUTBOUND_QUARANTINE };
	struct state_config	 c;
	struct state		*mx1, *mx2;
	struct outbreak_result	 r;
	struct state_val	 v;
	const char		*tmp;
	char			 dir[4096];
	pid_t			 rpid;
	int			 port, i;

	log_init("5211-outbreak-state", LOG_MAIL, true);
	tmp = tap_tmpdir("5211-outbreak-state");

	state_config_init(&c);
	snprintf(dir, sizeof(dir), "%s/lmdb", tmp);
	c.path = strdup(dir);
	if (state_open(&c, false, &mx1) != LW_OK)
		bail("lmdb open");
	one_host(mx1, "lmdb");
	state_close(mx1);
	state_config_free(&c);

	migrate(tmp);

	port = free_port();
	rpid = redis_start(tmp, port, PASSWORD);
	redis_config(&c, port, NULL);
	for (i = 0; i < 100; i++, usleep(100 * 1000))
		if (state_open(&c, false, &mx1) == LW_OK) {
			if (state_get(mx1, "probe", NOW, &v) == LW_ENOTFOUND)
				break;
			state_close(mx1);
		}
	if (i == 100) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}
	one_host(mx1, "redis");
	if (state_open(&c, false, &mx2) != LW_OK)
		bail("redis open (mx2)");
	r = send1(mx1, "carol@corp.example", &pol, true, "a@x.example", NOW);
	ok(r.state == OB_FLOWING && r.lures == 1, "two hosts: lure 1 on mx1");
	r = send1(mx2, "carol@corp.example", &pol, true, "b@x.example",
	    NOW + 1);
	ok(r.state == OB_FLOWING && r.lures == 2,
	    "two hosts: lure 2 on mx2 counts with mx1's");
	r = send1(mx1, "carol@corp.example", &pol, true, "c@x.example",
	    NOW + 2);
	ok(r.state == OB_TRIPPED_NOW, "two hosts: lure 3 on mx1 trips");
	r = send1(mx2, "carol@corp.example", &pol, false, "d@x.example",
	    NOW + 3);
	ok(r.state == OB_TRIPPED, "two hosts: mx2 holds the sender too");
	ok(clear(mx2, "carol@corp.example", NOW + 4),
	    "two hosts: cleared from mx2");
	r = send1(mx1, "carol@corp.example", &pol, false, "e@x.example",
	    NOW + 5);
	ok(r.state == OB_FLOWING, "two hosts: and mx1 lets it flow");
	state_close(mx2);
	state_close(mx1);
	redis_stop(rpid);
	state_config_free(&c);
	return done_testing();
}
