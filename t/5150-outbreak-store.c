/*
 * 5150-outbreak-store: the breaker's window logic and its file store,
 * with injected time: lure-like messages trip at max_lures inside the
 * window only; new recipients count once per retention, case-blind;
 * a tripped sender stays tripped across reopening until cleared; a
 * maximum of 0 is off; known recipients are bounded; damaged records
 * read as empty; quiet records expire; hostile sender keys round-trip;
 * many threads and a second process count without losing an update.
 */
#include <sys/wait.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "outbreak.h"
#include "policy.h"

#define T0	1700000000

static const char	*dir;

static struct outbreak_store *
store(void)
{
	struct outbreak_store	*st;

	if (outbreak_file_open(dir, &st) != LW_OK)
		bail("outbreak_file_open %s", dir);
	return st;
}

static struct outbreak_result
send1(const char *sender, const struct outbound_policy *pol, bool lure,
    const char *rcpt, time_t now)
{
	struct outbreak_store	*st = store();
	struct outbreak_result	 r;
	char			*rc[1] = { (char *)rcpt };

	if (outbreak_account(st, sender, pol, lure, rc, rcpt != NULL, now,
	    &r) != LW_OK)
		bail("outbreak_account");
	outbreak_close(st);
	return r;
}

/* The record of sender from outbreak_list (copied), or NULL. */
static bool
find(const char *sender, time_t now, struct outbreak_record *out)
{
	struct outbreak_store	*st = store();
	struct outbreak_record	*v;
	size_t			 n, i;
	bool			 found = false;

	if (outbreak_list(st, now, &v, &n) != LW_OK)
		bail("outbreak_list");
	for (i = 0; i < n; i++)
		if (strcmp(v[i].sender, sender) == 0) {
			*out = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			found = true;
		}
	outbreak_records_free(v, n);
	outbreak_close(st);
	return found;
}

struct worker {
	const struct outbound_policy *pol;
	int	 id;
	int	 n;
};

static void *
work(void *arg)
{
	struct worker	*w = arg;
	char		 rcpt[64];
	int		 i;

	for (i = 0; i < w->n; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d-%d@example.net", w->id, i);
		(void)send1("busy@corp.example", w->pol, false, rcpt, T0 + 1);
	}
	return NULL;
}

int
main(void)
{
	struct outbound_policy	 pol = { 600, 3, 200, OUTBOUND_QUARANTINE };
	struct outbound_policy	 np = { 600, 0, 5, OUTBOUND_QUARANTINE };
	struct outbound_policy	 off = { 600, 0, 0, OUTBOUND_QUARANTINE };
	struct outbound_policy	 big = { 600, 0, 100000, OUTBOUND_QUARANTINE };
	struct outbreak_result	 r;
	struct outbreak_record	 rec;
	struct outbreak_store	*st;
	struct worker		 w[4];
	pthread_t		 tid[4];
	char			 path[4096], **many;
	const char		*hostile = "ev il\"'$(rm -rf /);`x`%41\n@corp";
	bool			 found;
	pid_t			 pid;
	FILE			*f;
	int			 i, status;

	dir = tap_tmpdir("5150-outbreak-store");

	/* Lures in the window */
	r = send1("alice@corp.example", &pol, true, "a@x.example", T0);
	is_int(OB_FLOWING, r.state, "first lure: flowing");
	is_int(1, r.lures, "one lure counted");
	is_int(1, r.new_here, "first recipient is new");
	r = send1("alice@corp.example", &pol, true, "a@x.example", T0 + 10);
	is_int(2, r.lures, "second lure counted");
	is_int(0, r.new_here, "same recipient is not new again");
	r = send1("alice@corp.example", &pol, true, "a@x.example", T0 + 700);
	is_int(OB_FLOWING, r.state, "lures outside the window are forgotten");
	is_int(1, r.lures, "only the newest lure is in the window");
	r = send1("alice@corp.example", &pol, false, "A@X.EXAMPLE", T0 + 705);
	is_int(1, r.lures, "a clean message adds no lure");
	is_int(0, r.new_here, "recipients compare case-blind");
	r = send1("alice@corp.example", &pol, true, "b@x.example", T0 + 710);
	is_int(OB_FLOWING, r.state, "two lures in the window: flowing");
	r = send1("alice@corp.example", &pol, true, "c@x.example", T0 + 720);
	is_int(OB_TRIPPED_NOW, r.state, "third lure in the window trips");
	is_str("lures", r.reason, "reason lures");
	is_int(3, r.lures, "trip counts three lures");
	is_int(T0 + 720, (long long)r.tripped, "trip time");
	r = send1("alice@corp.example", &pol, false, "a@x.example", T0 + 800);
	is_int(OB_TRIPPED, r.state, "the next clean message is held");
	is_str("lures", r.reason, "and says why");
	r = send1("alice@corp.example", &pol, false, "a@x.example",
	    T0 + 86400);
	is_int(OB_TRIPPED, r.state, "a day later: still held (no timeout)");
	r = send1("bob@corp.example", &pol, false, "a@x.example", T0 + 800);
	is_int(OB_FLOWING, r.state, "another sender flows");

	/* Survives a reopen (a restart) and shows in the list */
	ok(find("alice@corp.example", T0 + 86400, &rec), "alice listed");
	is_int(T0 + 720, (long long)rec.tripped, "listed trip time");
	is_str("lures", rec.reason, "listed reason");
	is_int(3, rec.trip_lures, "listed lures");
	is_int(3, rec.held, "listed held: the tripping one and two more");
	outbreak_record_free(&rec);

	/* Clear */
	st = store();
	ok(outbreak_clear(st, "alice@corp.example", T0 + 86500, &found) ==
	    LW_OK && found, "clear finds the tripped sender");
	ok(outbreak_clear(st, "alice@corp.example", T0 + 86500, &found) ==
	    LW_OK && !found, "a second clear finds nothing to clear");
	ok(outbreak_clear(st, "nobody@corp.example", T0 + 86500, &found) ==
	    LW_OK && !found, "clearing an unknown sender finds nothing");
	outbreak_close(st);
	r = send1("alice@corp.example", &pol, true, "a@x.example", T0 + 86501);
	is_int(OB_FLOWING, r.state, "after clear: flowing again");
	is_int(1, r.lures, "after clear: the window starts afresh");
	is_int(0, r.new_here, "after clear: known recipients are kept");

	/* New recipients */
	r = send1("carol@corp.example", &np, false, "n1@y.example", T0);
	r = send1("carol@corp.example", &np, false, "n2@y.example", T0 + 1);
	is_int(2, r.new_rcpts, "two new recipients");
	r = send1("carol@corp.example", &np, false, "n1@y.example", T0 + 2);
	is_int(2, r.new_rcpts, "a known recipient is not new");
	r = send1("carol@corp.example", &np, false, "n3@y.example", T0 + 601);
	is_int(1, r.new_rcpts, "new recipients leave the window too");
	{
		char	*rc[] = { "n4@y.example", "n5@y.example",
			    "N5@Y.example", "n6@y.example", "n7@y.example" };

		st = store();
		ok(outbreak_account(st, "carol@corp.example", &np, false, rc,
		    5, T0 + 602, &r) == LW_OK, "account five recipients");
		outbreak_close(st);
		is_int(4, r.new_here, "a duplicate in one message counts once");
		is_int(OB_TRIPPED_NOW, r.state, "five new in the window trip");
		is_str("new_rcpts", r.reason, "reason new_rcpts");
		is_int(5, r.new_rcpts, "trip counts five new recipients");
	}
	r = send1("dave@corp.example", &np, false, "old@y.example", T0);
	r = send1("dave@corp.example", &np, false, "old@y.example",
	    T0 + OUTBREAK_RETENTION + 10);
	is_int(1, r.new_here, "a recipient not mailed for the retention is new");

	/* A maximum of 0 is off */
	for (i = 0; i < 10; i++)
		r = send1("erin@corp.example", &off, true, "z@y.example",
		    T0 + i);
	is_int(OB_FLOWING, r.state, "max_lures 0: ten lures flow");

	/* Known recipients are bounded */
	if ((many = calloc(OUTBREAK_KNOWN_MAX + 5, sizeof(*many))) == NULL)
		bail("calloc");
	for (i = 0; i < OUTBREAK_KNOWN_MAX + 5; i++)
		if (asprintf(&many[i], "m%d@z.example", i) == -1)
			bail("asprintf");
	st = store();
	ok(outbreak_account(st, "frank@corp.example", &off, false, many,
	    OUTBREAK_KNOWN_MAX + 5, T0, &r) == LW_OK, "account %d recipients",
	    OUTBREAK_KNOWN_MAX + 5);
	outbreak_close(st);
	is_int(OUTBREAK_KNOWN_MAX + 5, r.new_here, "all were new");
	ok(find("frank@corp.example", T0, &rec), "frank listed");
	is_int(OUTBREAK_KNOWN_MAX, rec.nknown, "known recipients capped at %d",
	    OUTBREAK_KNOWN_MAX);
	outbreak_record_free(&rec);
	for (i = 0; i < OUTBREAK_KNOWN_MAX + 5; i++)
		free(many[i]);
	free(many);

	/* Hostile keys round-trip exactly */
	r = send1(hostile, &pol, true, "a@x.example", T0);
	r = send1(hostile, &pol, true, "a@x.example", T0 + 1);
	r = send1(hostile, &pol, true, "a@x.example", T0 + 2);
	is_int(OB_TRIPPED_NOW, r.state, "hostile sender trips");
	ok(find(hostile, T0 + 3, &rec), "hostile sender listed verbatim");
	outbreak_record_free(&rec);

	/* Damaged records read as empty; no crash */
	r = send1("gina@corp.example", &pol, true, "a@x.example", T0);
	{
		char	cmd[4200];

		snprintf(cmd, sizeof(cmd), "f=$(grep -l 'sender gina@' "
		    "%s/*.rec) && printf 'lurewall-outbreak 1\\nsender "
		    "gina@corp.example\\nlast x\\n' > \"$f\"", dir);
		ok(system(cmd) == 0, "damage gina's record");
	}
	r = send1("gina@corp.example", &pol, true, "a@x.example", T0 + 1);
	is_int(OB_FLOWING, r.state, "damaged record: starts afresh");
	is_int(1, r.lures, "damaged record: one lure");

	/* Expiry: quiet untripped records go, tripped ones stay */
	ok(!find("bob@corp.example", T0 + 800 + OUTBREAK_RETENTION + 1, &rec),
	    "a quiet record expires");
	ok(find(hostile, T0 + OUTBREAK_RETENTION * 2, &rec),
	    "a tripped record never expires");
	outbreak_record_free(&rec);

	/* Threads and a second process: no update is lost */
	pid = fork();
	if (pid == -1)
		bail("fork");
	if (pid == 0) {
		struct worker	cw = { &big, 99, 50 };

		work(&cw);
		_exit(0);
	}
	for (i = 0; i < 4; i++) {
		w[i].pol = &big;
		w[i].id = i;
		w[i].n = 50;
		if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
			bail("pthread_create");
	}
	for (i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child finished");
	ok(find("busy@corp.example", T0 + 2, &rec), "busy listed");
	is_int(250, rec.nknown, "4 threads + 1 process x 50: 250 recipients");
	{
		unsigned	sum = 0;
		size_t		j;

		for (j = 0; j < rec.nnews; j++)
			sum += rec.news[j].n;
		is_int(250, sum, "and 250 new-recipient events");
	}
	outbreak_record_free(&rec);

	/* No temporary file is left behind */
	snprintf(path, sizeof(path), "ls %s | grep -c tmp", dir);
	f = popen(path, "r");
	ok(f != NULL && fgetc(f) == '0', "no .tmp file left");
	if (f != NULL)
		pclose(f);
	return done_testing();
}
