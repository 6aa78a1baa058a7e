/*
 * 5302-learn-redis: the learner's batch on a real redis-server
 * (state_redis_many.c through state_update_many).  A flushed batch
 * costs the same handful of commands whether it holds 10 messages or
 * 200 (INFO commandstats: WATCH, MGET, MULTI, EXEC once per write, no
 * GET per record; only the SETs, queued in one MULTI, grow with it);
 * what it learned reads back whole; and two hosts flushing batches
 * that share records at the same time lose none of each other's
 * counts (WATCH: the loser's batch runs again on the new values).
 */
#include <sys/wait.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "learn.h"
#include "mime.h"
#include "state.h"
#include "learn_t.h"
#include "redis_t.h"
#include "tap.h"

#define NOW	((time_t)1780000000)
#define NCMD	64

static int	port;

/* INFO commandstats as name -> calls. */
struct cmdstats {
	char		name[NCMD][32];
	long long	calls[NCMD];
	size_t		n;
};

static void
stats_take(struct cmdstats *s)
{
	redisContext	*c = redis_admin_conn(port);
	redisReply	*rep;
	const char	*p;
	char		 name[32];
	long long	 calls;
	int		 len;

	memset(s, 0, sizeof(*s));
	if ((rep = redisCommand(c, "INFO commandstats")) == NULL ||
	    rep->type != REDIS_REPLY_STRING)
		bail("redis: INFO commandstats");
	for (p = rep->str; (p = strstr(p, "cmdstat_")) != NULL; p += len) {
		if (sscanf(p, "cmdstat_%31[^:]:calls=%lld%n", name, &calls,
		    &len) != 2)
			bail("redis: commandstats line");
		if (s->n == NCMD)
			bail("redis: too many commands");
		memcpy(s->name[s->n], name, sizeof(name));
		s->calls[s->n++] = calls;
	}
	freeReplyObject(rep);
	redisFree(c);
}

static long long
stats_get(const struct cmdstats *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return s->calls[i];
	return 0;
}

/* after - before of cmd; the admin's own INFO calls are left out. */
static long long
delta(const struct cmdstats *a, const struct cmdstats *b, const char *cmd)
{
	return stats_get(b, cmd) - stats_get(a, cmd);
}

/*
 * A state on the test's server; daemon: as the daemon opens it, with
 * its local fallback in front (state_open_daemon), which must pass a
 * batch on whole.
 */
static struct state *
open_redis(const char *prefix, bool daemon)
{
	struct state_config	 c;
	struct state		*st, *probe;

	redis_config(&c, port, prefix);
	if ((probe = redis_state_open(&c)) == NULL)
		bail("redis state %s", prefix);
	if (!daemon) {
		state_config_free(&c);
		return probe;
	}
	state_close(probe);
	if ((c.path = strdup(tap_tmpdir("5302-local"))) == NULL ||
	    state_open_daemon(&c, &st) != LW_OK)
		bail("state_open_daemon");
	state_config_free(&c);
	return st;
}

static enum lw_err
send_mail(struct learn *l, const char *from, const char *to,
    const char *mid, const char *subject, time_t now)
{
	char		 raw[2048];
	struct message	*m;
	enum lw_err	 e;

	snprintf(raw, sizeof(raw), "From: %s\r\nTo: %s\r\n"
	    "Message-ID: <%s>\r\nSubject: %s\r\n\r\nbody\r\n", from, to, mid,
	    subject);
	m = learn_t_msg(raw);
	e = learn_outbound(l, "example", m, NULL, now);
	mime_free(m);
	return e;
}

static uint64_t
sent_to(struct learn *l, const char *addr, time_t now)
{
	struct learn_record	r;
	uint64_t		n;

	if (learn_get(l, "example", LEARN_CORRESPONDENT, addr, now, &r) !=
	    LW_OK)
		return 0;
	n = r.out;
	learn_record_free(&r);
	return n;
}

/*
 * A batch of nmsg messages, each to a new correspondent at a new
 * domain (a dozen new records a message), flushed: the commands the
 * flush cost in *d.
 */
static void
one_batch(const char *prefix, bool daemon, int nmsg, struct cmdstats *before,
    struct cmdstats *after)
{
	struct state		*st = open_redis(prefix, daemon);
	struct learn_config	 c;
	struct learn		*l;
	struct learn_stats	 s;
	char			 to[128], mid[64];
	int			 i;

	learn_config_init(&c);
	if (learn_open(st, &c, &l) != LW_OK ||
	    learn_batch_start(l, 1000, 3600 * 1000, false) != LW_OK)
		bail("learn_open");
	for (i = 0; i < nmsg; i++) {
		snprintf(to, sizeof(to), "Partner Number%d <p%d@d%d.example>",
		    i, i, i);
		snprintf(mid, sizeof(mid), "%s%d@ours.example", prefix, i);
		if (send_mail(l, "Boss <boss@ours.example>", to, mid,
		    "quarterly figures", NOW + i) != LW_OK)
			bail("send %d", i);
	}
	stats_take(before);
	if (learn_flush(l, NOW + nmsg) != LW_OK)
		bail("learn_flush");
	stats_take(after);
	if (learn_stats(l, "example", NOW + nmsg, &s) != LW_OK)
		bail("learn_stats");
	ok(s.messages == (uint64_t)nmsg &&
	    s.n[LEARN_CORRESPONDENT] == (size_t)nmsg &&
	    s.n[LEARN_DOMAIN] == (size_t)nmsg + 1 &&
	    s.n[LEARN_THREAD] == (size_t)nmsg,
	    "%d messages: all learned (%llu messages, %zu correspondents, "
	    "%zu threads)", nmsg, (unsigned long long)s.messages,
	    s.n[LEARN_CORRESPONDENT], s.n[LEARN_THREAD]);
	is_int(1, (int)sent_to(l, "p0@d0.example", NOW + nmsg),
	    "%d messages: the first correspondent reads back", nmsg);
	learn_close(l);
	state_close(st);
}

static void
show(const char *what, const struct cmdstats *a, const struct cmdstats *b)
{
	char	line[1024];
	size_t	i, used = 0;

	line[0] = '\0';
	for (i = 0; i < b->n && used < sizeof(line) - 64; i++)
		if (b->calls[i] != stats_get(a, b->name[i]))
			used += (size_t)snprintf(line + used,
			    sizeof(line) - used, " %s=%lld", b->name[i],
			    b->calls[i] - stats_get(a, b->name[i]));
	diag("%s:%s", what, line);
}

static void
batch_cost(void)
{
	struct cmdstats	a10, b10, a200, b200, ad, bd;
	const char	*cmds[] = { "watch", "mget", "multi", "exec", "get" };
	size_t		 i;

	one_batch("lurewall:t10:", false, 10, &a10, &b10);
	one_batch("lurewall:t200:", false, 200, &a200, &b200);
	one_batch("lurewall:d200:", true, 200, &ad, &bd);
	show("flush of 10 messages", &a10, &b10);
	show("flush of 200 messages", &a200, &b200);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		is_int((int)delta(&a10, &b10, cmds[i]),
		    (int)delta(&a200, &b200, cmds[i]),
		    "a flush of 200 messages costs as many %s as one of 10 "
		    "(%lld)", cmds[i], delta(&a10, &b10, cmds[i]));
	/*
	 * The records, the age index and (a new organisation) the list of
	 * organisations; the GETs are the counters' scripts' and the
	 * list's.
	 */
	ok(delta(&a200, &b200, "watch") <= 3 && delta(&a200, &b200, "exec")
	    <= 3, "a flush: at most three WATCH ... EXEC, not one per "
	    "record");
	ok(delta(&a200, &b200, "get") <= 16, "a flush: no GET per record "
	    "(%lld)", delta(&a200, &b200, "get"));
	ok(delta(&ad, &bd, "watch") == delta(&a200, &b200, "watch") &&
	    delta(&ad, &bd, "get") == delta(&a200, &b200, "get"),
	    "the daemon's state (Redis, local LMDB behind it) passes a batch "
	    "on whole (%lld WATCH)", delta(&ad, &bd, "watch"));
	ok(delta(&a200, &b200, "set") >= 200 * 5, "a flush of 200 messages "
	    "writes their records (%lld SETs, in the MULTI)",
	    delta(&a200, &b200, "set"));
}

/*
 * Two processes (hosts) learn batches of messages to one
 * correspondent at once: every message counts once.
 */
#define HOST_BATCHES	20
#define HOST_MSGS	5

static void
two_hosts(void)
{
	struct state		*st;
	struct learn_config	 c;
	struct learn		*l;
	struct learn_stats	 s;
	char			 mid[64];
	pid_t			 pid[2];
	int			 h, b, i, status, bad = 0;

	learn_config_init(&c);
	fflush(stdout);
	for (h = 0; h < 2; h++) {
		if ((pid[h] = fork()) == -1)
			bail("fork");
		if (pid[h] != 0)
			continue;
		st = open_redis("lurewall:two:", false);
		if (learn_open(st, &c, &l) != LW_OK ||
		    learn_batch_start(l, 1000, 3600 * 1000, false) != LW_OK)
			_exit(1);
		for (b = 0; b < HOST_BATCHES; b++) {
			for (i = 0; i < HOST_MSGS; i++) {
				snprintf(mid, sizeof(mid), "h%d-%d-%d@ours",
				    h, b, i);
				if (send_mail(l, "Boss <boss@ours.example>",
				    "Kim <kim@shared.example>", mid, "s",
				    NOW + b) != LW_OK)
					_exit(2);
			}
			if (learn_flush(l, NOW + b) != LW_OK)
				_exit(3);
		}
		learn_close(l);
		state_close(st);
		_exit(0);
	}
	for (h = 0; h < 2; h++)
		if (waitpid(pid[h], &status, 0) != pid[h] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	is_int(0, bad, "two hosts: both learned their batches");
	st = open_redis("lurewall:two:", false);
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	is_int(2 * HOST_BATCHES * HOST_MSGS, (int)sent_to(l,
	    "kim@shared.example", NOW + HOST_BATCHES),
	    "two hosts: the shared correspondent counts every message");
	if (learn_stats(l, "example", NOW + HOST_BATCHES, &s) != LW_OK)
		bail("learn_stats");
	ok(s.messages == 2 * HOST_BATCHES * HOST_MSGS &&
	    s.n[LEARN_CORRESPONDENT] == 1 && s.n[LEARN_DOMAIN] == 2,
	    "two hosts: the organisation counts every message (%llu), each "
	    "record once (%zu correspondents, %zu domains)",
	    (unsigned long long)s.messages, s.n[LEARN_CORRESPONDENT],
	    s.n[LEARN_DOMAIN]);
	learn_close(l);
	state_close(st);
}

/* Eviction's round is one state_update_many there too. */
static void
caps_redis(void)
{
	struct state	*st = open_redis("lurewall:caps:", false);

	learn_t_caps_batch(st, "redis");
	state_close(st);
}

static pid_t	redis_pid, main_pid;

/* A bail stops the server too (its output would hold prove's pipe). */
static void
stop_server(void)
{
	if (getpid() == main_pid)
		redis_stop(redis_pid);
	redis_pid = 0;
}

int
main(void)
{
	main_pid = getpid();
	port = free_port();
	redis_pid = redis_start(tap_tmpdir("5302-redis"), port, PASSWORD);
	atexit(stop_server);
	batch_cost();
	two_hosts();
	caps_redis();
	return done_testing();
}
