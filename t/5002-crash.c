/*
 * 5002-crash: a child stores in a loop and is killed with SIGKILL in the
 * middle of a burst; a half-written item is planted in tmp/ as well.
 * Afterwards verify finds no damaged item and removes the stale
 * temporary entries (only those older than a minute), and list shows
 * only whole items.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"
#include "qfill.h"

static void
burst(const char *dir)
{
	struct quarantine	*q;
	struct qfill		 f;
	char			 id[QUARANTINE_ID_MAX];
	static char		 msg[200000];

	memset(msg, 'x', sizeof(msg));
	if (quarantine_open(dir, &q) != LW_OK)
		_exit(2);
	qfill_init(&f, "QID", "s@example.net", "r@example.com", NULL,
	    "burst", 11, "EMOTET_LURE", NULL);
	for (;;)
		if (quarantine_store(q, (unsigned char *)msg, sizeof(msg),
		    &f.env, &f.res, id) != LW_OK)
			_exit(3);
}

static void
make_old(const char *path)
{
	struct timeval	tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= 600;
	tv[1] = tv[0];
	if (utimes(path, tv) == -1)
		bail("utimes %s: %s", path, strerror(errno));
}

static void
write_text(const char *path, const char *s)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL)
		bail("%s: %s", path, strerror(errno));
	fputs(s, f);
	fclose(f);
}

int
main(void)
{
	struct quarantine	 *q;
	struct quarantine_item	**v;
	struct stat		  st;
	char			  dir[1024], p[1200];
	size_t			  n, i, items, damaged, cleaned;
	pid_t			  pid;
	int			  status, round, whole;

	plan(0);
	snprintf(dir, sizeof(dir), "%s/q", tap_tmpdir("5002-crash"));
	if (quarantine_open(dir, &q) != LW_OK)
		bail("open");
	for (round = 0; round < 5; round++) {
		if ((pid = fork()) == 0)
			burst(dir);
		usleep(150000 + 30000 * round);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "round %d: storer killed by SIGKILL mid-burst", round);
	}
	/* A half-written item as a crash leaves it, and a fresh one. */
	snprintf(p, sizeof(p), "%s/tmp/20200101T000000-deadbeef", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/tmp/20200101T000000-deadbeef/message", dir);
	write_text(p, "From: half\r\nSubj");
	make_old(p);
	snprintf(p, sizeof(p), "%s/tmp/20200101T000000-deadbeef", dir);
	make_old(p);
	snprintf(p, sizeof(p), "%s/tmp/20200101T000000-cafebabe", dir);
	mkdir(p, 0700);

	is_int(LW_OK, quarantine_list(q, &v, &n), "list after the crashes");
	ok(n > 0, "%zu whole items stored before the kills", n);
	for (i = 0, whole = 1; i < n; i++) {
		unsigned char *raw;
		size_t len;

		if (quarantine_message(q, v[i]->id, &raw, &len) != LW_OK ||
		    len != 200000 || v[i]->size != 200000)
			whole = 0;
		free(raw);
	}
	ok(whole, "every listed item is whole");
	quarantine_items_free(v, n);

	is_int(LW_OK, quarantine_verify(q, NULL, &items, &damaged, &cleaned),
	    "verify");
	is_int(0, (long long)damaged, "no damaged item");
	is_int(n, (long long)items, "verify saw the listed items");
	ok(cleaned >= 1, "verify removed %zu stale temporary entries",
	    cleaned);
	snprintf(p, sizeof(p), "%s/tmp/20200101T000000-deadbeef", dir);
	ok(stat(p, &st) == -1 && errno == ENOENT,
	    "the half-written item is gone");
	snprintf(p, sizeof(p), "%s/tmp/20200101T000000-cafebabe", dir);
	ok(stat(p, &st) == 0, "a young temporary entry is left alone");
	quarantine_close(q);
	return done_testing();
}
