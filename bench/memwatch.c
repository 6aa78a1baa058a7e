/*
 * memwatch: the milter's memory during bench/mta.sh's run, sampled
 * without forking.  The shell loop it replaces started awk and sleep
 * ten times a second and read all of /proc/PID/smaps each time: about
 * a tenth of a CPU-second per second of run on the 2-CPU bench VM,
 * taken from Postfix and the milter in the lurewall run only (perf
 * showed awk, sleep and sh together above the milter's own poll).
 *
 * Usage: memwatch PID OUT STOP
 * Every 0.1 s, until the file STOP exists or PID is gone: Anonymous
 * and Private_Dirty from /proc/PID/smaps_rollup (one summed record,
 * cheap); every second and once at the end, the resident pages of
 * PID's *.mdb mappings (LMDB's file pages, shared, reported apart)
 * from /proc/PID/smaps.  Writes the largest of each, in kB, to OUT as
 * "anon dirty lmdb".  Bounded: it stops by itself after an hour.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_NS	100000000L	/* 0.1 s */
#define MDB_EVERY	10		/* samples between smaps reads */
#define MAX_SAMPLES	36000		/* an hour */

/* Anonymous and Private_Dirty of pid, kB; 0 when unreadable. */
static int
rollup(const char *pid, unsigned long *anon, unsigned long *dirty)
{
	char		 path[64], line[256];
	unsigned long	 v;
	FILE		*f;

	snprintf(path, sizeof(path), "/proc/%s/smaps_rollup", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*anon = *dirty = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Anonymous: %lu", &v) == 1)
			*anon = v;
		else if (sscanf(line, "Private_Dirty: %lu", &v) == 1)
			*dirty = v;
	}
	fclose(f);
	return 0;
}

/* The summed Rss of pid's mappings of files named *.mdb, kB. */
static unsigned long
mdb_rss(const char *pid)
{
	char		 path[64], line[4096];
	unsigned long	 v, sum = 0;
	size_t		 n;
	int		 mdb = 0;
	FILE		*f;

	snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		/*
		 * A mapping's first line starts with its address in lower
		 * case hex; its fields ("Rss:", "VmFlags:") with a capital.
		 */
		if (line[0] != '\0' &&
		    strchr("0123456789abcdef", line[0]) != NULL) {
			mdb = n >= 4 && strcmp(line + n - 4, ".mdb") == 0;
			continue;
		}
		if (mdb && sscanf(line, "Rss: %lu", &v) == 1)
			sum += v;
	}
	fclose(f);
	return sum;
}

int
main(int argc, char **argv)
{
	const struct timespec	 tick = { 0, SAMPLE_NS };
	unsigned long		 a, d, l, ma = 0, md = 0, ml = 0;
	long			 pid;
	char			*end;
	FILE			*out;
	int			 i;

	if (argc != 4) {
		fprintf(stderr, "usage: memwatch PID OUT STOP\n");
		return 2;
	}
	errno = 0;
	pid = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0) {
		fprintf(stderr, "memwatch: bad pid %s\n", argv[1]);
		return 2;
	}
	for (i = 0; i < MAX_SAMPLES; i++) {
		if (access(argv[3], F_OK) == 0 || kill((pid_t)pid, 0) == -1)
			break;
		if (rollup(argv[1], &a, &d) == 0) {
			if (a > ma)
				ma = a;
			if (d > md)
				md = d;
		}
		if (i % MDB_EVERY == 0 && (l = mdb_rss(argv[1])) > ml)
			ml = l;
		nanosleep(&tick, NULL);
	}
	if ((l = mdb_rss(argv[1])) > ml)
		ml = l;
	if ((out = fopen(argv[2], "w")) == NULL) {
		fprintf(stderr, "memwatch: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	fprintf(out, "%lu %lu %lu\n", ma, md, ml);
	return fclose(out) == 0 ? 0 : 1;
}
