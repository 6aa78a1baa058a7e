/*
 * redis_t.h: a real redis-server for the C tests: on a free 127.0.0.1
 * port, in the test's directory, no persistence, stopped by PID; the
 * user lurewall-milter gets is REDIS_USER, limited to keys lurewall:*
 * without admin or dangerous commands; the test itself looks at the
 * server as REDIS_ADMIN (redis_admin_int, redis_calls).  A missing
 * redis-server is a failure (contrib/install-deps installs it).
 */
#ifndef REDIS_T_H
#define REDIS_T_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

#define PASSWORD	"s3cret-for-tests"
#define REDIS_USER	"lurewall"
#define REDIS_ADMIN	"t-admin"	/* the test's own look */

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
		    "--user", REDIS_ADMIN, "on", pwarg, "~*", "+@all",
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

/* A connection as REDIS_ADMIN (the server started with PASSWORD). */
static inline redisContext *
redis_admin_conn(int port)
{
	redisContext	*c;
	redisReply	*rep;

	if ((c = redisConnect("127.0.0.1", port)) == NULL || c->err != 0)
		bail("redis: connect to port %d as the admin", port);
	if ((rep = redisCommand(c, "AUTH %s %s", REDIS_ADMIN, PASSWORD)) ==
	    NULL || rep->type == REDIS_REPLY_ERROR)
		bail("redis: AUTH as the admin");
	freeReplyObject(rep);
	return c;
}

/*
 * One command as REDIS_ADMIN on the server on port: its integer reply
 * (a nil, a string or an array: its length or number; -1 on error).
 * For INFO and a look at keys behind the state's back.
 */
static inline long long
redis_admin_int(int port, const char *fmt, ...)
{
	redisContext	*c;
	redisReply	*rep;
	va_list		 ap;
	long long	 n = -1;

	c = redis_admin_conn(port);
	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (rep != NULL) {
		if (rep->type == REDIS_REPLY_INTEGER)
			n = rep->integer;
		else if (rep->type == REDIS_REPLY_NIL)
			n = 0;
		else if (rep->type == REDIS_REPLY_ARRAY)
			n = (long long)rep->elements;
		else if (rep->type == REDIS_REPLY_STRING ||
		    rep->type == REDIS_REPLY_STATUS)
			n = (long long)rep->len;
		freeReplyObject(rep);
	}
	redisFree(c);
	return n;
}

/* How often the server ran cmd (lower case) so far: INFO commandstats. */
static inline long long
redis_calls(int port, const char *cmd)
{
	redisContext	*c;
	redisReply	*rep;
	char		 pat[64], *p;
	long long	 n = 0;

	c = redis_admin_conn(port);
	if ((rep = redisCommand(c, "INFO commandstats")) == NULL ||
	    rep->type != REDIS_REPLY_STRING)
		bail("redis: INFO commandstats");
	snprintf(pat, sizeof(pat), "\ncmdstat_%s:calls=", cmd);
	if ((p = strstr(rep->str, pat)) != NULL)
		n = strtoll(p + strlen(pat), NULL, 10);
	freeReplyObject(rep);
	redisFree(c);
	return n;
}

#endif /* REDIS_T_H */
