/*
 * statebench: what the outbound breaker's store costs per message, on
 * each backend (`make bench-state`; figures in README "Performance").
 *
 * For each store -- the old file store (outbreak_dir), the state on
 * LMDB, on files, and on Redis over loopback (a redis-server started
 * here on a free 127.0.0.1 port, no persistence, stopped by PID) --
 * one thread accounts N outbound messages of one sender (one lure in
 * ten, fifty recipients in rotation), opening the store per message as
 * the daemon does, and prints messages/s and ms per message.  The
 * directories go under bench/out/state.  Nothing is asserted.
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

static int
run(const char *name, mk_fn mk, void *arg, int n)
{
	struct outbound_policy	 pol = { 600, 1000000, 0, OUTBOUND_HOLD };
	struct outbreak_result	 r;
	struct outbreak_store	*os;
	char			 rcpt[64], *rc[1] = { rcpt };
	double			 t0, dt;
	int			 i;

	t0 = now_s();
	for (i = 0; i < n; i++) {
		if ((os = mk(arg)) == NULL) {
			fprintf(stderr, "statebench: %s: open failed\n", name);
			return 1;
		}
		snprintf(rcpt, sizeof(rcpt), "r%d@partner.example", i % 50);
		if (outbreak_account(os, "alice@corp.example", &pol,
		    i % 10 == 0, rc, 1, time(NULL), &r) != LW_OK) {
			fprintf(stderr, "statebench: %s: account failed\n",
			    name);
			outbreak_close(os);
			return 1;
		}
		outbreak_close(os);
	}
	dt = now_s() - t0;
	printf("%-12s %6d msgs %9.0f msg/s %8.3f ms/msg\n", name, n, n / dt,
	    dt * 1000 / n);
	return 0;
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

static int
with_state(const char *name, struct state_config *c, int n)
{
	struct state	*st;
	int		 rc;

	if (state_open(c, false, &st) != LW_OK) {
		fprintf(stderr, "statebench: %s: cannot open the state\n",
		    name);
		return 1;
	}
	rc = run(name, mk_state, st, n);
	state_close(st);
	return rc;
}

int
main(int argc, char **argv)
{
	struct state_config	 c;
	struct state		*st;
	struct state_val	 v;
	const char		*out = argc > 1 ? argv[1] : "bench/out/state";
	char			 dir[4096], cmd[4200], portbuf[16];
	int			 n = argc > 2 ? atoi(argv[2]) : 1000;
	int			 rc = 0, port, i, status;
	pid_t			 pid;

	log_init("statebench", LOG_MAIL, true);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", out, out);
	if (system(cmd) != 0)
		return 1;
	printf("== state: the outbound breaker's store, one sender, "
	    "per message\n");

	snprintf(dir, sizeof(dir), "%s/outbreak", out);
	rc |= run("files (old)", mk_file, dir, n);

	state_config_init(&c);
	snprintf(dir, sizeof(dir), "%s/lmdb", out);
	c.path = strdup(dir);
	rc |= with_state("lmdb", &c, n);
	state_config_free(&c);

	state_config_init(&c);
	c.backend = STATE_FILES;
	snprintf(dir, sizeof(dir), "%s/files", out);
	c.path = strdup(dir);
	rc |= with_state("state files", &c, n);
	state_config_free(&c);

	if ((port = free_port()) < 0)
		return 1;
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	if ((pid = fork()) == 0) {
		if ((i = open("/dev/null", O_WRONLY)) != -1) {
			dup2(i, 1);
			dup2(i, 2);
		}
		execlp("redis-server", "redis-server", "--port", portbuf,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	state_config_init(&c);
	c.backend = STATE_REDIS;
	c.redis.port = (unsigned)port;
	for (i = 0; i < 100; i++, usleep(100 * 1000))
		if (state_open(&c, false, &st) == LW_OK) {
			if (state_get(st, "probe", 0, &v) == LW_ENOTFOUND) {
				state_close(st);
				break;
			}
			state_close(st);
		}
	if (i == 100) {
		fprintf(stderr, "statebench: redis-server did not start\n");
		rc = 1;
	} else
		rc |= with_state("redis", &c, n);
	state_config_free(&c);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return rc;
}
