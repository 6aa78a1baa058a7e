/*
 * 5215-outbreak-lazy: the breaker's counts on LMDB are written lazily
 * (state_put_lazy: the counts environment, no fsync per message, on
 * the main one within STATE_LAZY_MS), trips and clears durably.
 *   - a process killed (kill -9) while counting loses no count it had
 *     answered, and the next process counts on from there;
 *   - counts of two processes add up: the breaker trips exactly at
 *     max_lures within the window, not before, and not for lures out of
 *     the window;
 *   - another process (the CLI's `outbreak list`, a read-only look)
 *     reads the current counts at once, unsynced;
 *   - a "reboot" (another boot id) discards the counts environment and
 *     seeds it from the main copy: every synced count and every trip is
 *     still there;
 *   - without a boot id every write is durable (no counts directory).
 * Every LMDB handle is a child's own (one environment per process).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "outbreak.h"
#include "policy.h"
#include "state.h"
#include "tap.h"

#define NOW	((time_t)1700000000)

static const struct outbound_policy pol3 = { 600, 3, 0,
    OUTBOUND_QUARANTINE };
static const struct outbound_policy big = { 600, 1000000, 0,
    OUTBOUND_QUARANTINE };

static struct state *
open_at(const char *dir, bool readonly)
{
	struct state_config	 c;
	struct state		*st;

	state_config_init(&c);
	c.backend = STATE_LMDB;
	c.path = strdup(dir);
	if (state_open(&c, readonly, &st) != LW_OK)
		bail("state_open %s", dir);
	state_config_free(&c);
	return st;
}

static enum outbreak_state
lure(struct state *st, const char *sender,
    const struct outbound_policy *pol, time_t now, unsigned *lures)
{
	struct outbreak_store	*os;
	struct outbreak_result	 r;
	char			*rc[1] = { "p@partner.example" };

	if (outbreak_state_open(st, &os) != LW_OK ||
	    outbreak_account(os, sender, pol, true, rc, 1, now, &r) != LW_OK)
		bail("outbreak_account");
	outbreak_close(os);
	if (lures != NULL)
		*lures = r.lures;
	return r.state;
}

/* The sender's lures in the window as listed (-1: not listed). */
static int
listed_lures(struct state *st, const char *sender, time_t now,
    bool *tripped)
{
	struct outbreak_store	*os;
	struct outbreak_record	*v;
	size_t			 n, i;
	int			 found = -1;

	if (outbreak_state_open(st, &os) != LW_OK ||
	    outbreak_list(os, now, &v, &n) != LW_OK)
		bail("outbreak_list");
	for (i = 0; i < n; i++)
		if (strcmp(v[i].sender, sender) == 0) {
			found = (int)v[i].nlures;
			if (tripped != NULL)
				*tripped = v[i].tripped != 0;
		}
	outbreak_records_free(v, n);
	outbreak_close(os);
	return found;
}

static int
wait_child(pid_t pid)
{
	int	status;

	if (waitpid(pid, &status, 0) != pid)
		bail("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status);
}

/* A child lists sender as a separate process would: its lure count. */
static int
child_lists(const char *dir, const char *sender, bool readonly)
{
	struct state	*st;
	pid_t		 pid;
	int		 n;

	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		st = open_at(dir, readonly);
		n = listed_lures(st, sender, NOW + 5, NULL);
		state_close(st);
		_exit(n < 0 ? 99 : n);
	}
	return wait_child(pid);
}

/*
 * kill -9 while counting: every answered count is there afterwards.
 * The child reports each answered message on a pipe.
 */
static void
killed(const char *dir)
{
	struct state	*st;
	pid_t		 pid;
	int		 p[2], i, answered = 0, n;
	char		 c;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		bail("pipe, fork");
	if (pid == 0) {
		close(p[0]);
		st = open_at(dir, false);
		for (i = 0; ; i++) {
			(void)lure(st, "kill@corp.example", &big, NOW, NULL);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
		}
	}
	close(p[1]);
	while (answered < 40 && read(p[0], &c, 1) == 1)
		answered++;
	kill(pid, SIGKILL);
	(void)wait_child(pid);
	while (read(p[0], &c, 1) == 1)	/* answered before it died */
		answered++;
	close(p[0]);
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		st = open_at(dir, false);
		n = listed_lures(st, "kill@corp.example", NOW, NULL);
		state_close(st);
		_exit(n == answered || n == answered + 1 ? 0 : 1);
	}
	ok(wait_child(pid) == 0, "kill -9: the %d answered counts (and at "
	    "most the one being written) are all there", answered);
}

/*
 * Two processes' counts add up to an exact trip; a lister sees them
 * unsynced; a crashed writer (_exit, no close) loses nothing.
 */
static void
exact(const char *dir)
{
	struct state	*st;
	pid_t		 pid;
	unsigned	 l1, l2;
	int		 rc;

	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		st = open_at(dir, false);
		/* Out of the window: forgotten by the time it counts. */
		if (lure(st, "eve@corp.example", &pol3, NOW - 700, NULL) !=
		    OB_FLOWING ||
		    lure(st, "eve@corp.example", &pol3, NOW, &l1) !=
		    OB_FLOWING ||
		    lure(st, "eve@corp.example", &pol3, NOW + 1, &l2) !=
		    OB_FLOWING)
			_exit(1);
		_exit(l1 == 1 && l2 == 2 ? 0 : 2);	/* no close */
	}
	is_int(0, wait_child(pid), "one process: an old lure and two in "
	    "the window flow (1, then 2)");
	is_int(2, child_lists(dir, "eve@corp.example", false),
	    "another process lists the two lures at once");
	is_int(2, child_lists(dir, "eve@corp.example", true),
	    "a read-only look lists them too");
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		st = open_at(dir, false);
		rc = lure(st, "eve@corp.example", &pol3, NOW + 2, &l1) ==
		    OB_TRIPPED_NOW && l1 == 3 ? 0 : 1;
		_exit(rc);			/* no close: durable */
	}
	is_int(0, wait_child(pid), "the third lure, in a second process, "
	    "trips the sender exactly at max_lures");
}

/*
 * Another boot: the counts environment is discarded, the main copy
 * has every synced count and every trip.
 */
static void
reboot(const char *dir, const char *tmp)
{
	char		 bootf[4096], path[4200];
	struct state	*st;
	bool		 tripped = false;
	char		*got;
	size_t		 len;
	pid_t		 pid;
	int		 n;

	snprintf(bootf, sizeof(bootf), "%s/boot_id", tmp);
	tap_spew(bootf, "boot-one\n", 9);
	state_boot_id_path = bootf;
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		st = open_at(dir, false);
		(void)lure(st, "sam@corp.example", &big, NOW, NULL);
		(void)lure(st, "sam@corp.example", &big, NOW, NULL);
		if (state_sync(st) != LW_OK)
			_exit(1);
		(void)lure(st, "sam@corp.example", &big, NOW, NULL);
		(void)lure(st, "tom@corp.example", &pol3, NOW, NULL);
		(void)lure(st, "tom@corp.example", &pol3, NOW, NULL);
		if (lure(st, "tom@corp.example", &pol3, NOW, NULL) !=
		    OB_TRIPPED_NOW)
			_exit(2);
		_exit(0);			/* no close, no sync */
	}
	is_int(0, wait_child(pid), "boot one: counts, a sync, more counts, "
	    "a trip; then a crash");
	tap_spew(bootf, "boot-two\n", 9);
	st = open_at(dir, false);
	n = listed_lures(st, "sam@corp.example", NOW, NULL);
	ok(n == 2 || n == 3, "boot two: the synced counts survive (%d "
	    "lures; the unsynced one may be lost)", n);
	ok(listed_lures(st, "tom@corp.example", NOW, &tripped) >= 0 &&
	    tripped, "boot two: the trip survives");
	ok(lure(st, "tom@corp.example", &pol3, NOW + 1, NULL) == OB_TRIPPED,
	    "boot two: the tripped sender is still held");
	state_close(st);
	snprintf(path, sizeof(path), "%s/counts/boot", dir);
	got = (char *)tap_slurp(path, &len);
	is_str("boot-two\n", got,
	    "the counts environment was made anew in boot two");
	free(got);

	/* No boot id: no counts environment, every write durable. */
	snprintf(path, sizeof(path), "%s/nocounts", tmp);
	state_boot_id_path = "/nonexistent/boot_id";
	st = open_at(path, false);
	(void)lure(st, "ann@corp.example", &pol3, NOW, NULL);
	is_int(1, listed_lures(st, "ann@corp.example", NOW, NULL),
	    "no boot id: counts are written durably and read back");
	state_close(st);
	snprintf(path, sizeof(path), "%s/nocounts/counts", tmp);
	ok(access(path, F_OK) == -1, "no boot id: no counts directory");
}

int
main(void)
{
	const char	*tmp = tap_tmpdir("5215-outbreak-lazy");
	char		 dir[3000];

	log_init("5215", LOG_MAIL, true);
	snprintf(dir, sizeof(dir), "%s/killed", tmp);
	killed(dir);
	snprintf(dir, sizeof(dir), "%s/exact", tmp);
	exact(dir);
	snprintf(dir, sizeof(dir), "%s/reboot", tmp);
	reboot(dir, tmp);
	return done_testing();
}
