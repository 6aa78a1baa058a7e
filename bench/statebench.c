/*
 * statebench: what the state costs per message, on each backend (`make
 * bench-state`, part of `make bench`; figures in README "Performance").
 *
 * Two measures, each backend ROUNDS times in turn (so a burst of load
 * on the machine hits them alike), the median printed with its ratio
 * to the file-based figure:
 *   1. the outbound breaker: one thread accounts N outbound messages
 *      of one sender (one lure in ten, fifty recipients in rotation),
 *      opening the store per message as the daemon does (disposition.c:
 *      on the state a handle around the state opened once at start, one
 *      calloc; the old store a stat of its directory); the old file
 *      store (outbreak_dir) is "files (old)", today's file-based store.
 *      The time includes a state_sync at the end, so the counts LMDB
 *      writes lazily are on disk when the clock stops;
 *   2. split PPAP: what a message with a password in it costs, a walk
 *      of the pending items (PENDING items of two hosts, 1 KiB each)
 *      with state_each, N walks; on Redis through the pending index.
 * Backends: LMDB (the default), the files state, Redis over loopback (a
 * redis-server started here on a free 127.0.0.1 port, no persistence,
 * stopped by PID).  The machine's load average is printed with the
 * figures.  Directories go under bench/out/state.  Nothing asserted.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
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

#define ROUNDS		3
#define NSTATE		3		/* lmdb, state files, redis */
#define PENDING		200		/* pending items a walk visits */

static double
now_s(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

typedef struct outbreak_store *(*mk_fn)(void *);

static struct outbreak_store *
mk_file(void *dir)
{
	struct outbreak_store	*s;

	return outbreak_file_open(dir, &s) == LW_OK ? s : NULL;
}

static struct outbreak_store *
mk_state(void *st)
{
	struct outbreak_store	*s;

	return outbreak_state_open(st, &s) == LW_OK ? s : NULL;
}

/*
 * ms per message of n accounted with the store mk makes, then st (may
 * be NULL) synced; < 0: failed.
 */
static double
run(const char *name, mk_fn mk, void *arg, struct state *st, int n)
{
	struct outbound_policy	 pol = { 600, 1000000, 0,
	    OUTBOUND_QUARANTINE };
	struct outbreak_result	 r;
	struct outbreak_store	*os;
	char			 rcpt[64], *rc[1] = { rcpt };
	double			 t0;
	int			 i;

	t0 = now_s();
	for (i = 0; i < n; i++) {
		if ((os = mk(arg)) == NULL) {
			fprintf(stderr, "statebench: %s: open failed\n", name);
			return -1;
		}
		snprintf(rcpt, sizeof(rcpt), "r%d@partner.example", i % 50);
		if (outbreak_account(os, "alice@corp.example", &pol,
		    i % 10 == 0, rc, 1, time(NULL), &r) != LW_OK) {
			fprintf(stderr, "statebench: %s: account failed\n",
			    name);
			outbreak_close(os);
			return -1;
		}
		outbreak_close(os);
	}
	if (st != NULL && state_sync(st) != LW_OK) {
		fprintf(stderr, "statebench: %s: sync failed\n", name);
		return -1;
	}
	return (now_s() - t0) * 1000 / n;
}

static enum lw_err
count_one(void *arg, const char *key, const struct state_val *v)
{
	(*(size_t *)arg)++;
	return LW_OK;
}

/* PENDING items on st, once. */
static int
fill_pending(const char *name, struct state *st)
{
	char	key[64], val[1024];
	int	i;

	memset(val, 'm', sizeof(val));
	for (i = 0; i < PENDING; i++) {
		snprintf(key, sizeof(key), "pending:mx%d:20261203T000000-%06d",
		    i % 2 + 1, i);
		if (state_put(st, key, val, sizeof(val), time(NULL) + 86400,
		    time(NULL)) != LW_OK) {
			fprintf(stderr, "statebench: %s: put failed\n", name);
			return 1;
		}
	}
	return 0;
}

/* ms per walk of the pending items (n walks); < 0: failed. */
static double
walk(const char *name, struct state *st, int n)
{
	double	t0;
	size_t	seen;
	int	i;

	t0 = now_s();
	for (i = 0; i < n; i++) {
		seen = 0;
		if (state_each(st, "pending:", time(NULL), count_one,
		    &seen) != LW_OK || seen != PENDING) {
			fprintf(stderr, "statebench: %s: walk failed (%zu)\n",
			    name, seen);
			return -1;
		}
	}
	return (now_s() - t0) * 1000 / n;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void
loadavg(void)
{
	FILE	*f;
	char	 buf[128];

	if ((f = fopen("/proc/loadavg", "r")) != NULL &&
	    fgets(buf, sizeof(buf), f) != NULL)
		printf("load average: %s", buf);
	if (f != NULL)
		fclose(f);
}

static int
free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static pid_t
redis_up(struct state_config *c)
{
	struct state		*st;
	struct state_val	 v;
	char			 portbuf[16];
	pid_t			 pid;
	int			 port, i, fd;

	if ((port = free_port()) < 0)
		return -1;
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	if ((pid = fork()) == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", portbuf,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	c->backend = STATE_REDIS;
	c->redis.port = (unsigned)port;
	for (i = 0; i < 100; i++, usleep(100 * 1000))
		if (state_open(c, false, &st) == LW_OK) {
			if (state_get(st, "probe", 0, &v) == LW_ENOTFOUND) {
				state_close(st);
				return pid;
			}
			state_close(st);
		}
	fprintf(stderr, "statebench: redis-server did not start\n");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return -1;
}

int
main(int argc, char **argv)
{
	struct state_config	 c[NSTATE];
	struct state		*st[NSTATE] = { NULL };
	const char		*names[NSTATE] = { "lmdb", "state files",
				    "redis" };
	const char		*out = argc > 1 ? argv[1] : "bench/out/state";
	char			 dir[4096], cmd[4200];
	double			 acc[NSTATE + 1][ROUNDS], wk[NSTATE][ROUNDS];
	double			 ms, base;
	int			 n = argc > 2 ? atoi(argv[2]) : 1000;
	int			 rc = 0, r, i, status;
	pid_t			 pid;

	log_init("statebench", LOG_MAIL, true);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", out, out);
	if (n <= 0 || system(cmd) != 0)
		return 1;
	for (i = 0; i < NSTATE; i++) {
		state_config_init(&c[i]);
		c[i].backend = i == 0 ? STATE_LMDB : STATE_FILES;
		snprintf(dir, sizeof(dir), "%s/%s", out, i == 0 ? "lmdb" :
		    "files");
		c[i].path = strdup(dir);
	}
	if ((pid = redis_up(&c[2])) < 0)
		return 1;
	for (i = 0; i < NSTATE; i++)
		if (state_open(&c[i], false, &st[i]) != LW_OK ||
		    fill_pending(names[i], st[i]) != 0) {
			fprintf(stderr, "statebench: %s: cannot open the "
			    "state\n", names[i]);
			rc = 1;
			goto out;
		}
	snprintf(dir, sizeof(dir), "%s/outbreak", out);
	for (r = 0; r < ROUNDS; r++) {
		if ((acc[0][r] = run("files (old)", mk_file, dir, NULL, n)) < 0)
			rc = 1;
		for (i = 0; i < NSTATE; i++) {
			if ((acc[i + 1][r] = run(names[i], mk_state, st[i],
			    st[i], n)) < 0 ||
			    (wk[i][r] = walk(names[i], st[i], n)) < 0)
				rc = 1;
		}
	}
	if (rc != 0)
		goto out;
	loadavg();
	printf("== state: the outbound breaker's store, one sender, %d "
	    "messages, median of %d rounds\n", n, ROUNDS);
	base = median(acc[0], ROUNDS);
	printf("%-12s %9.0f msg/s %8.3f ms/msg\n", "files (old)",
	    1000 / base, base);
	for (i = 0; i < NSTATE; i++) {
		ms = median(acc[i + 1], ROUNDS);
		printf("%-12s %9.0f msg/s %8.3f ms/msg  %+5.0f%% vs files "
		    "(old)\n", names[i], 1000 / ms, ms, (ms / base - 1) * 100);
	}
	printf("== state: split PPAP, a password mail's walk of %d pending "
	    "items, median of %d rounds\n", PENDING, ROUNDS);
	base = median(wk[1], ROUNDS);
	for (i = 0; i < NSTATE; i++) {
		ms = median(wk[i], ROUNDS);
		printf("%-12s %9.0f msg/s %8.3f ms/msg  %+5.0f%% vs state "
		    "files\n", names[i], 1000 / ms, ms, (ms / base - 1) * 100);
	}
	loadavg();
out:
	for (i = 0; i < NSTATE; i++) {
		if (st[i] != NULL)
			state_close(st[i]);
		state_config_free(&c[i]);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return rc;
}
