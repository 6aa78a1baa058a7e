/*
 * 5217-outbreak-roundtrips: one outbound message's accounting on Redis
 * (outbreak_state.c through state_lock_get and state_put_unlock) costs
 * two round trips and the commands it should, and still decides as
 * before (a real redis-server on a free 127.0.0.1 port, stopped by
 * PID):
 *   - round trips: the state talks to the server through a relay in
 *     this test that counts the client's requests (a burst of bytes
 *     from the client after the server's answer, or the first one);
 *   - commands (INFO commandstats): per message SET twice (the claim
 *     NX and the record), GET, MULTI, EXEC, ZADD, DEL (the claim) once,
 *     no EVALSHA, EVAL or WATCH;
 *   - the counts are exact, and the claim is gone after each message;
 *   - a claim held elsewhere still excludes: the accounting waits until
 *     it expires, then counts once; a tripped sender is held.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "outbreak.h"
#include "policy.h"
#include "redis_t.h"
#include "state.h"
#include "tap.h"
#include "util.h"

#define MSGS	20

static int		 port;		/* redis-server */
static int		 lfd;		/* the relay's listening socket */
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static long long	 trips;		/* client requests relayed */

/* Copy what fd has to to; false at its end or on an error. */
static bool
pass(int fd, int to)
{
	char	buf[16384];
	ssize_t	n, w, off;

	if ((n = read(fd, buf, sizeof(buf))) <= 0)
		return false;
	for (off = 0; off < n; off += w)
		if ((w = write(to, buf + off, (size_t)(n - off))) <= 0)
			return false;
	return true;
}

/* One client: relay both ways, counting the client's requests. */
static void *
conn_relay(void *arg)
{
	struct sockaddr_in	 sa;
	struct pollfd		 p[2];
	int			 cfd = (int)(intptr_t)arg, sfd;
	bool			 answered = true;

	if ((sfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		bail("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		/* Not up yet: the client sees a closed connection, retries. */
		close(sfd);
		close(cfd);
		return NULL;
	}
	p[0].fd = cfd;
	p[1].fd = sfd;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents != 0) {
			/* A request begins when the last one was answered. */
			pthread_mutex_lock(&mu);
			if (answered)
				trips++;
			pthread_mutex_unlock(&mu);
			answered = false;
			if (!pass(cfd, sfd))
				break;
		}
		if (p[1].revents != 0) {
			answered = true;
			if (!pass(sfd, cfd))
				break;
		}
	}
	close(cfd);
	close(sfd);
	return NULL;
}

static void *
relay(void *arg)
{
	pthread_t	t;
	int		cfd;

	(void)arg;
	for (;;) {
		if ((cfd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pthread_create(&t, NULL, conn_relay,
		    (void *)(intptr_t)cfd) != 0)
			bail("pthread_create");
		pthread_detach(t);
	}
}

static int
relay_start(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	pthread_t		t;

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		bail("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) == -1)
		bail("relay: %s", strerror(errno));
	if (pthread_create(&t, NULL, relay, NULL) != 0)
		bail("pthread_create");
	pthread_detach(t);
	return ntohs(sa.sin_port);
}

static long long
trips_now(void)
{
	long long	n;

	/* The last answer is read by the client before this runs. */
	pthread_mutex_lock(&mu);
	n = trips;
	pthread_mutex_unlock(&mu);
	return n;
}

static const char *const cmds[] = {
	"set", "get", "multi", "exec", "zadd", "del", "evalsha", "eval",
	"watch", "sadd"
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static void
calls(long long out[NCMDS])
{
	size_t	i;

	for (i = 0; i < NCMDS; i++)
		out[i] = redis_calls(port, cmds[i]);
}

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
	if (outbreak_account(os, sender, pol, lure, rc, 1, now, &r) != LW_OK)
		bail("outbreak_account");
	outbreak_close(os);
	return r;
}

/* Whether sender's claim is on the server. */
static long long
claim_exists(const char *sender)
{
	char	hex[65];

	if (lw_sha256_hex(sender, strlen(sender), hex) != LW_OK)
		bail("sha256");
	return redis_admin_int(port, "EXISTS lurewall:lock:outbreak:%s",
	    hex);
}

int
main(void)
{
	struct outbound_policy	 pol = { 600, 0, 1000000, OUTBOUND_QUARANTINE };
	struct outbound_policy	 trip = { 600, 3, 0, OUTBOUND_QUARANTINE };
	struct outbreak_result	 r;
	struct state_config	 c;
	struct state		*st;
	const char		*tmp;
	long long		 before[NCMDS], after[NCMDS], t0, t1;
	char			 rcpt[64], hex[65];
	time_t			 now = time(NULL), t;
	pid_t			 rpid;
	bool			 claims_gone = true;
	double			 waited;
	int			 i;

	plan(0);
	log_init("5217-outbreak-roundtrips", LOG_MAIL, true);
	tmp = tap_tmpdir("5217-outbreak-roundtrips");
	port = free_port();
	rpid = redis_start(tmp, port, PASSWORD);
	redis_config(&c, relay_start(), NULL);
	if ((st = redis_state_open(&c)) == NULL) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}

	/* The first message: the record is new. */
	r = send1(st, "alice@corp.example", &pol, false, "r0@x.example", now);
	is_int(1, r.new_rcpts, "the first message counts one new recipient");

	calls(before);
	t0 = trips_now();
	for (i = 1; i <= MSGS; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d@x.example", i);
		r = send1(st, "alice@corp.example", &pol, false, rcpt, now);
		if (claim_exists("alice@corp.example") != 0)
			claims_gone = false;
	}
	t1 = trips_now();
	calls(after);
	is_int(MSGS + 1, r.new_rcpts, "every message counted once (%u)",
	    r.new_rcpts);
	ok(r.state == OB_FLOWING, "under the maximum: flowing");
	ok(claims_gone, "the claim is gone after every message");
	is_int(2 * MSGS, t1 - t0, "two round trips per message (%lld for %d)",
	    t1 - t0, MSGS);
	for (i = 0; i < (int)NCMDS; i++) {
		long long	want;

		if (strcmp(cmds[i], "set") == 0)
			want = 2;
		else if (strcmp(cmds[i], "get") == 0 ||
		    strcmp(cmds[i], "multi") == 0 ||
		    strcmp(cmds[i], "exec") == 0 ||
		    strcmp(cmds[i], "zadd") == 0 ||
		    strcmp(cmds[i], "del") == 0)
			want = 1;
		else if (strcmp(cmds[i], "sadd") == 0)
			continue;	/* the namespace's bucket: not asserted */
		else
			want = 0;
		is_int(want * MSGS, after[i] - before[i], "%s per message: %lld",
		    cmds[i], want);
	}

	/*
	 * A claim held elsewhere (another host's, 2 s left): the message
	 * waits for it to expire, then counts once.
	 */
	if (lw_sha256_hex("bob@corp.example", strlen("bob@corp.example"), hex) != LW_OK)
		bail("sha256");
	r = send1(st, "bob@corp.example", &trip, true, "a@x.example", now);
	is_int(1, r.lures, "bob: one lure");
	is_int(2, redis_admin_int(port,
	    "SET lurewall:lock:outbreak:%s held PX 2000", hex),
	    "another host holds bob's claim (OK)");
	t = time(NULL);
	r = send1(st, "bob@corp.example", &trip, true, "b@x.example", now);
	waited = difftime(time(NULL), t);
	ok(waited >= 1, "the message waited for the claim (%.0f s)", waited);
	is_int(2, r.lures, "then counted once");
	is_int(0, claim_exists("bob@corp.example"), "and let the claim go");
	r = send1(st, "bob@corp.example", &trip, true, "c@x.example", now);
	ok(r.state == OB_TRIPPED_NOW, "the third lure trips bob");
	r = send1(st, "bob@corp.example", &trip, false, "d@x.example", now);
	ok(r.state == OB_TRIPPED, "and bob's next message is held");

	state_close(st);
	close(lfd);
	redis_stop(rpid);
	state_config_free(&c);
	return done_testing();
}
