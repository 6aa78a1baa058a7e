/*
 * redis_t.h: a real redis-server for the C tests: on a free 127.0.0.1
 * port, in the test's directory, no persistence, stopped by PID; the
 * only user is REDIS_USER, limited to keys lurewall:* without admin or
 * dangerous commands.  A
 * missing redis-server is a failure (contrib/install-deps installs it).
 */
#ifndef REDIS_T_H
#define REDIS_T_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

#define PASSWORD	"s3cret-for-tests"
#define REDIS_USER	"lurewall"

static inline int
free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd, port;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		bail("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		bail("bind: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static inline pid_t
redis_start(const char *dir, int port, const char *password)
{
	char	portbuf[16], pwarg[128];
	pid_t	pid;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	snprintf(pwarg, sizeof(pwarg), ">%s", password);
	if ((pid = fork()) == -1)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (chdir(dir) == -1)
			_exit(126);
		execlp("redis-server", "redis-server", "--port", portbuf,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--daemonize", "no",
		    /* The ACL user contrib/MULTI-MX documents, nothing more. */
		    "--user", "default", "off",
		    "--user", REDIS_USER, "on", pwarg, "~lurewall:*", "+@all",
		    "-@admin", "-@dangerous",
		    "--loglevel", "warning", "--logfile", "redis.log",
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

static inline void
redis_stop(pid_t pid)
{
	int	status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

/* A state on the server just started: wait until it answers. */
static inline struct state *
redis_state_open(const struct state_config *c)
{
	struct state_val	 v;
	struct state		*st = NULL;
	int			 i;

	for (i = 0; i < 100 && st == NULL; i++) {
		if (state_open(c, false, &st) == LW_OK &&
		    state_get(st, "probe", time(NULL), &v) != LW_ENOTFOUND) {
			state_close(st);
			st = NULL;
		}
		if (st == NULL)
			usleep(100 * 1000);
	}
	return st;
}

/* A state config for the test server on port (prefix NULL: default). */
static inline void
redis_config(struct state_config *c, int port, const char *prefix)
{
	state_config_init(c);
	c->backend = STATE_REDIS;
	c->redis.port = (unsigned)port;
	if ((c->redis.username = strdup(REDIS_USER)) == NULL ||
	    (c->redis.password = strdup(PASSWORD)) == NULL ||
	    (prefix != NULL && (c->redis.key_prefix = strdup(prefix)) ==
	    NULL))
		bail("out of memory");
}

#endif /* REDIS_T_H */
