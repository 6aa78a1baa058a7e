/*
 * 5210-state: the state interface (state.h), the same checks against
 * every backend: files, lmdb, and redis (a real redis-server this test
 * starts on a free 127.0.0.1 port and stops by PID).  Round trips with
 * binary values, expiry with injected time, claims (add) and takes won
 * by exactly one of many threads (and processes), counters, atomic
 * read-modify-write, prefixes, lists, read-only handles; LMDB's full map
 * is a limit, not a crash; Redis: a wrong password refuses to open, a
 * dead server fails fast and the state comes back with the server.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "state.h"
#include "redis_t.h"
#include "tap.h"

#define NOW		((time_t)1700000000)
#define THREADS		8
#define ROUNDS		50

/* Wait until the server answers (open succeeds and a get round-trips). */
static bool
redis_wait(const struct state_config *c)
{
	struct state		*st;
	struct state_val	 v;
	enum lw_err		 e;
	int			 i;

	for (i = 0; i < 100; i++) {
		if (state_open(c, false, &st) == LW_OK) {
			e = state_get(st, "probe", NOW, &v);
			state_close(st);
			if (e == LW_ENOTFOUND || e == LW_OK)
				return true;
		}
		usleep(100 * 1000);
	}
	return false;
}

/* ---- checks every backend passes ---- */

static void
basic(struct state *st, const char *b)
{
	static const unsigned char bin[] = { 'a', 0, 'b', 0xff, '\n', 0 };
	struct state_val	v;
	char			long_key[STATE_KEY_MAX + 2];

	is_int(LW_ENOTFOUND, state_get(st, "k:absent", NOW, &v),
	    "%s: an absent key is not found", b);
	ok(state_put(st, "k:bin", bin, sizeof(bin), 0, NOW) == LW_OK,
	    "%s: put", b);
	ok(state_get(st, "k:bin", NOW, &v) == LW_OK && v.len == sizeof(bin) &&
	    memcmp(v.data, bin, sizeof(bin)) == 0 && v.expires == 0,
	    "%s: binary value read back whole", b);
	state_val_free(&v);
	ok(state_put(st, "k:bin", "x", 1, 0, NOW) == LW_OK &&
	    state_get(st, "k:bin", NOW, &v) == LW_OK && v.len == 1 &&
	    v.data[0] == 'x', "%s: put replaces", b);
	state_val_free(&v);
	ok(state_put(st, "k:empty", "", 0, 0, NOW) == LW_OK &&
	    state_get(st, "k:empty", NOW, &v) == LW_OK && v.len == 0,
	    "%s: an empty value is a value", b);
	state_val_free(&v);

	is_int(LW_EINVAL, state_put(st, "", "x", 1, 0, NOW),
	    "%s: empty key refused", b);
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	is_int(LW_EINVAL, state_put(st, long_key, "x", 1, 0, NOW),
	    "%s: key over STATE_KEY_MAX refused", b);

	/* Expiry follows the injected clock. */
	ok(state_put(st, "k:exp", "v", 1, NOW + 100, NOW) == LW_OK,
	    "%s: put with expiry", b);
	ok(state_get(st, "k:exp", NOW + 99, &v) == LW_OK &&
	    v.expires == NOW + 100, "%s: alive before its expiry", b);
	state_val_free(&v);
	is_int(LW_ENOTFOUND, state_get(st, "k:exp", NOW + 100, &v),
	    "%s: gone at its expiry", b);

	/* Claims. */
	is_int(LW_OK, state_add(st, "claim:1", "host1", 5, NOW + 60, NOW),
	    "%s: first claim wins", b);
	is_int(LW_EEXIST, state_add(st, "claim:1", "host2", 5, NOW + 60, NOW),
	    "%s: second claim loses", b);
	ok(state_get(st, "claim:1", NOW, &v) == LW_OK && v.len == 5 &&
	    memcmp(v.data, "host1", 5) == 0, "%s: the winner holds it", b);
	state_val_free(&v);
	is_int(LW_OK, state_add(st, "claim:1", "host2", 5, NOW + 120,
	    NOW + 60), "%s: an expired claim can be taken again", b);
	is_int(LW_OK, state_del(st, "claim:1"), "%s: unclaim", b);
	is_int(LW_ENOTFOUND, state_del(st, "claim:1"),
	    "%s: unclaim twice: not found", b);
	is_int(LW_OK, state_add(st, "claim:1", "host3", 5, NOW + 60, NOW),
	    "%s: claim after unclaim", b);

	/* Take. */
	ok(state_put(st, "k:take", "once", 4, 0, NOW) == LW_OK &&
	    state_take(st, "k:take", NOW, &v) == LW_OK && v.len == 4 &&
	    memcmp(v.data, "once", 4) == 0, "%s: take returns the value", b);
	state_val_free(&v);
	is_int(LW_ENOTFOUND, state_take(st, "k:take", NOW, &v),
	    "%s: taken once only", b);
	is_int(LW_ENOTFOUND, state_get(st, "k:take", NOW, &v),
	    "%s: take removed it", b);
}

static void
counters(struct state *st, const char *b)
{
	struct state_val	v;
	int64_t			n = -1;

	ok(state_incr(st, "c:1", 1, NOW + 300, NOW, &n) == LW_OK && n == 1,
	    "%s: a new counter starts at delta", b);
	ok(state_incr(st, "c:1", 3, NOW + 900, NOW + 10, &n) == LW_OK &&
	    n == 4, "%s: incr adds", b);
	ok(state_incr(st, "c:1", -5, 0, NOW + 20, &n) == LW_OK && n == -1,
	    "%s: negative delta", b);
	ok(state_get(st, "c:1", NOW, &v) == LW_OK && v.expires == NOW + 300,
	    "%s: the counter keeps its first expiry", b);
	state_val_free(&v);
	ok(state_incr(st, "c:1", 2, NOW + 900, NOW + 300, &n) == LW_OK &&
	    n == 2, "%s: an expired counter starts again", b);
}

struct add_one {
	const char	*tag;
};

static enum lw_err
append_x(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	size_t	len = old != NULL ? old->len : 0;

	if ((out->data = malloc(len + 2)) == NULL)
		return LW_ENOMEM;
	if (len > 0)
		memcpy(out->data, old->data, len);
	out->data[len] = 'x';
	out->data[len + 1] = '\0';
	out->len = len + 1;
	out->expires = old != NULL ? old->expires : 0;
	*what = STATE_WRITE;
	return LW_OK;
}

static enum lw_err
keep_it(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	*(bool *)arg = old != NULL;
	*what = STATE_KEEP;
	return LW_OK;
}

static enum lw_err
drop_it(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	*what = STATE_DELETE;
	return LW_OK;
}

static enum lw_err
refuse(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	return LW_EEXIST;
}

struct seen {
	int	a, b, other;
	size_t	bytes;
};

static enum lw_err
count_key(void *arg, const char *key, const struct state_val *v)
{
	struct seen	*s = arg;

	if (strcmp(key, "p:a:1") == 0 || strcmp(key, "p:a:2") == 0)
		s->a++;
	else if (strncmp(key, "p:b", 3) == 0)
		s->b++;
	else
		s->other++;
	s->bytes += v->len;
	return LW_OK;
}

static void
updates_and_lists(struct state *st, const char *b)
{
	struct state_val	v;
	struct seen		s;
	bool			found = true;

	ok(state_update(st, "u:1", NOW, append_x, NULL) == LW_OK &&
	    state_update(st, "u:1", NOW, append_x, NULL) == LW_OK &&
	    state_get(st, "u:1", NOW, &v) == LW_OK && v.len == 2,
	    "%s: update reads the old value and writes the new", b);
	state_val_free(&v);
	ok(state_update(st, "u:none", NOW, keep_it, &found) == LW_OK &&
	    !found && state_get(st, "u:none", NOW, &v) == LW_ENOTFOUND,
	    "%s: update KEEP on an absent key writes nothing", b);
	is_int(LW_EEXIST, state_update(st, "u:1", NOW, refuse, NULL),
	    "%s: the callback's error comes back", b);
	ok(state_update(st, "u:1", NOW, drop_it, NULL) == LW_OK &&
	    state_get(st, "u:1", NOW, &v) == LW_ENOTFOUND,
	    "%s: update DELETE removes", b);

	memset(&s, 0, sizeof(s));
	ok(state_put(st, "p:a:1", "1", 1, 0, NOW) == LW_OK &&
	    state_put(st, "p:a:2", "22", 2, 0, NOW) == LW_OK &&
	    state_put(st, "p:a:3", "333", 3, NOW + 5, NOW) == LW_OK &&
	    state_put(st, "p:b:1", "4444", 4, 0, NOW) == LW_OK &&
	    state_put(st, "p*[a]:1", "z", 1, 0, NOW) == LW_OK,
	    "%s: keys under prefixes", b);
	ok(state_each(st, "p:a:", NOW + 5, count_key, &s) == LW_OK &&
	    s.a == 2 && s.b == 0 && s.other == 0 && s.bytes == 3,
	    "%s: each visits the live keys of one prefix only", b);
	memset(&s, 0, sizeof(s));
	ok(state_each(st, "p*[", NOW, count_key, &s) == LW_OK &&
	    s.other == 1 && s.a == 0,
	    "%s: glob characters in a prefix are literal", b);

	ok(state_push(st, "q:1", "one", 3, 2, 0, NOW) == LW_OK &&
	    state_push(st, "q:1", "two", 3, 2, 0, NOW) == LW_OK &&
	    state_push(st, "q:1", "three", 5, 2, 0, NOW) == LW_OK,
	    "%s: push three onto a list of at most two", b);
	ok(state_pop(st, "q:1", NOW, &v) == LW_OK && v.len == 3 &&
	    memcmp(v.data, "two", 3) == 0, "%s: the oldest was dropped", b);
	state_val_free(&v);
	ok(state_pop(st, "q:1", NOW, &v) == LW_OK && v.len == 5 &&
	    memcmp(v.data, "three", 5) == 0, "%s: pop in order", b);
	state_val_free(&v);
	is_int(LW_ENOTFOUND, state_pop(st, "q:1", NOW, &v),
	    "%s: an empty list pops nothing", b);
	ok(state_push(st, "q:2", "four", 4, 0, 0, NOW) == LW_OK &&
	    state_pop_wait(st, "q:2", 10000, &v) == LW_OK && v.len == 4 &&
	    memcmp(v.data, "four", 4) == 0, "%s: pop_wait takes what is "
	    "there", b);
	state_val_free(&v);
	is_int(LW_ENOTFOUND, state_pop_wait(st, "q:2", 150, &v),
	    "%s: pop_wait on an empty list ends with nothing", b);
}

/* Many threads claim, take, count and update the same keys. */
struct race {
	struct state	*st;
	int		 wins;
	int		 takes;
};

static void *
racer(void *arg)
{
	struct race		*r = arg;
	struct state_val	 v;
	char			 key[32];
	int			 i;

	for (i = 0; i < ROUNDS; i++) {
		snprintf(key, sizeof(key), "race:claim:%d", i);
		if (state_add(r->st, key, "t", 1, NOW + 60, NOW) == LW_OK)
			r->wins++;
		snprintf(key, sizeof(key), "race:item:%d", i);
		if (state_take(r->st, key, NOW, &v) == LW_OK)
			r->takes++;
		state_val_free(&v);
		(void)state_incr(r->st, "race:count", 1, 0, NOW, NULL);
		(void)state_update(r->st, "race:rmw", NOW, append_x, NULL);
	}
	return NULL;
}

static void
races(struct state *st, const char *b)
{
	struct race		r[THREADS];
	pthread_t		t[THREADS];
	struct state_val	v;
	char			key[32];
	int			i, wins = 0, takes = 0;
	int64_t			n = 0;

	for (i = 0; i < ROUNDS; i++) {
		snprintf(key, sizeof(key), "race:item:%d", i);
		(void)state_put(st, key, "i", 1, 0, NOW);
	}
	for (i = 0; i < THREADS; i++) {
		r[i].st = st;
		r[i].wins = r[i].takes = 0;
		pthread_create(&t[i], NULL, racer, &r[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		wins += r[i].wins;
		takes += r[i].takes;
	}
	is_int(ROUNDS, wins, "%s: %d threads: each claim won exactly once", b,
	    THREADS);
	is_int(ROUNDS, takes, "%s: each item taken exactly once", b);
	ok(state_incr(st, "race:count", 0, 0, NOW, &n) == LW_OK &&
	    n == THREADS * ROUNDS, "%s: no increment lost (%lld)", b,
	    (long long)n);
	ok(state_get(st, "race:rmw", NOW, &v) == LW_OK &&
	    v.len == THREADS * ROUNDS, "%s: no update lost (%zu)", b, v.len);
	state_val_free(&v);
}

/* Two processes count on one state (lmdb, files: one directory). */
static void
processes(const struct state_config *c, const char *b)
{
	struct state	*st;
	pid_t		 pid;
	int		 i, status;
	int64_t		 n = 0;

	if ((pid = fork()) == 0) {
		if (state_open(c, false, &st) != LW_OK)
			_exit(1);
		for (i = 0; i < ROUNDS; i++)
			if (state_incr(st, "proc:count", 1, 0, NOW, NULL) !=
			    LW_OK)
				_exit(2);
		state_close(st);
		_exit(0);
	}
	if (state_open(c, false, &st) != LW_OK)
		bail("%s: open", b);
	for (i = 0; i < ROUNDS; i++)
		(void)state_incr(st, "proc:count", 1, 0, NOW, NULL);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: the other process counted", b);
	ok(state_incr(st, "proc:count", 0, 0, NOW, &n) == LW_OK &&
	    n == 2 * ROUNDS, "%s: two processes, no increment lost (%lld)",
	    b, (long long)n);
	state_close(st);
}

static void
readonly(const struct state_config *c, struct state *rw, const char *b)
{
	struct state		*ro;
	struct state_val	 v;

	if (state_open(c, true, &ro) != LW_OK) {
		ok(false, "%s: read-only open", b);
		return;
	}
	ok(state_put(rw, "ro:1", "seen", 4, 0, NOW) == LW_OK &&
	    state_get(ro, "ro:1", NOW, &v) == LW_OK && v.len == 4,
	    "%s: a read-only handle sees the writer's data", b);
	state_val_free(&v);
	is_int(LW_EINVAL, state_put(ro, "ro:2", "x", 1, 0, NOW),
	    "%s: a read-only handle refuses put", b);
	is_int(LW_EINVAL, state_add(ro, "ro:2", "x", 1, 0, NOW),
	    "%s: and add", b);
	is_int(LW_EINVAL, state_incr(ro, "ro:2", 1, 0, NOW, NULL),
	    "%s: and incr", b);
	state_close(ro);
}

static void
all_checks(const struct state_config *c, const char *b, bool local)
{
	struct state	*st;
	size_t		 removed = 0;

	if (state_open(c, false, &st) != LW_OK)
		bail("%s: cannot open", b);
	is_str(b, state_name(st), "%s: the backend asked for", b);
	basic(st, b);
	counters(st, b);
	updates_and_lists(st, b);
	races(st, b);
	readonly(c, st, b);
	ok(state_sweep(st, NOW + 1000, &removed) == LW_OK &&
	    (local ? removed >= 2 : removed == 0),
	    "%s: sweep removes what expired (%zu)", b, removed);
	state_close(st);
	processes(c, b);
}

/* What state_health said: "redis down, lmdb up". */
struct health {
	char	said[128];
};

static void
health_cb(void *arg, const char *backend, bool up)
{
	struct health	*h = arg;
	size_t		 n = strlen(h->said);

	snprintf(h->said + n, sizeof(h->said) - n, "%s%s %s", n ? ", " : "",
	    backend, up ? "up" : "down");
}

/* The metrics as text (metrics_render since the start). */
static char *
metrics_text(void)
{
	char	*t = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&t, &len)) == NULL)
		bail("open_memstream");
	if (metrics_render(f, time(NULL), 0, NULL) != LW_OK)
		bail("metrics_render");
	fclose(f);
	return t;
}

static void
lmdb_full(const char *dir)
{
	struct state_config	 c;
	struct state		*st;
	struct state_val	 v;
	char			 key[32], *big, *t;
	enum lw_err		 e = LW_OK;
	int			 i;
	struct health		 hs;

	state_config_init(&c);
	c.path = strdup(dir);
	c.map_size = 256 * 1024;
	if ((big = calloc(1, 16384)) == NULL || c.path == NULL)
		bail("oom");
	if (state_open(&c, false, &st) != LW_OK)
		bail("lmdb-small: open");
	metrics_reset();
	for (i = 0; i < 1000 && e == LW_OK; i++) {
		snprintf(key, sizeof(key), "fill:%d", i);
		e = state_put(st, key, big, 16384, 0, NOW);
	}
	is_int(LW_ELIMIT, e, "lmdb: a full map is a limit (after %d)", i);
	t = metrics_text();
	ok(strstr(t, "\nlurewall_state_errors_total{backend=\"lmdb\","
	    "kind=\"limit\"} 1\n") != NULL, "lmdb: the full map is counted");
	free(t);
	memset(&hs, 0, sizeof(hs));
	state_health(st, NOW, health_cb, &hs);
	is_str("lmdb up", hs.said, "health: a full lmdb still answers");
	ok(state_get(st, "fill:0", NOW, &v) == LW_OK && v.len == 16384,
	    "lmdb: a full map still reads");
	state_val_free(&v);
	ok(state_del(st, "fill:0") == LW_OK &&
	    state_put(st, "small", "x", 1, 0, NOW) == LW_OK,
	    "lmdb: room made, writes work again");
	state_close(st);
	free(big);
	state_config_free(&c);
}

int
main(void)
{
	struct state_config	 c, c2;
	struct state		*st;
	struct state_val	 v;
	const char		*tmp;
	char			 dir[4096];
	pid_t			 rpid;
	int			 port;
	time_t			 t0;
	enum lw_err		 e;
	struct health		 hs;
	char			*t;

	log_init("5210-state", LOG_MAIL, true);
	tmp = tap_tmpdir("5210-state");

	/* files */
	state_config_init(&c);
	snprintf(dir, sizeof(dir), "%s/files", tmp);
	c.backend = STATE_FILES;
	c.path = strdup(dir);
	all_checks(&c, "files", true);
	state_config_free(&c);

	/* lmdb */
	state_config_init(&c);
	snprintf(dir, sizeof(dir), "%s/lmdb", tmp);
	c.path = strdup(dir);
	all_checks(&c, "lmdb", true);
	state_config_free(&c);
	snprintf(dir, sizeof(dir), "%s/lmdb-ro-missing", tmp);
	state_config_init(&c);
	c.path = strdup(dir);
	is_int(LW_ENOTFOUND, state_open(&c, true, &st),
	    "lmdb: read-only open of a missing state: not found, not made");
	ok(access(dir, F_OK) == -1, "lmdb: and no directory created");
	state_config_free(&c);
	snprintf(dir, sizeof(dir), "%s/lmdb-small", tmp);
	lmdb_full(dir);

	/* redis */
	port = free_port();
	rpid = redis_start(tmp, port, PASSWORD);
	redis_config(&c, port, "lurewall:t5210:");
	if (!redis_wait(&c)) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d (is redis-server "
		    "installed? contrib/install-deps)", port);
	}
	all_checks(&c, "redis", false);

	free(c.redis.password);
	c.redis.password = strdup("wrong");
	is_int(LW_EINVAL, state_open(&c, false, &st),
	    "redis: a wrong password refuses to open");
	free(c.redis.password);
	c.redis.password = strdup(PASSWORD);

	/* Keys outside the ACL user's pattern: refused, never a crash. */
	free(c.redis.key_prefix);
	c.redis.key_prefix = strdup("other:");
	if (state_open(&c, false, &st) != LW_OK)
		bail("redis: open");
	is_int(LW_EIO, state_put(st, "k", "v", 1, 0, NOW),
	    "redis: a key the ACL refuses is LW_EIO (logged)");
	is_int(LW_EIO, state_add(st, "k", "v", 1, NOW + 5, NOW),
	    "redis: a claim the ACL refuses is no win");
	state_close(st);
	free(c.redis.key_prefix);
	c.redis.key_prefix = strdup("lurewall:t5210:");

	/* A failed update leaves no WATCH on the pooled connection: the
	 * next transaction on it must not fail because another client
	 * touched the key the failed update watched. */
	{
		struct state	*st2;

		if (state_open(&c, false, &st) != LW_OK ||
		    state_open(&c, false, &st2) != LW_OK)
			bail("redis: open");
		ok(state_push(st, "wlist", "a", 1, 4, 0, NOW) == LW_OK &&
		    state_update(st, "wlist", NOW, append_x, NULL) == LW_EIO,
		    "redis: an update of a list key fails (WRONGTYPE)");
		ok(state_push(st2, "wlist", "b", 1, 4, 0, NOW) == LW_OK,
		    "redis: another client changes that key");
		is_int(LW_OK, state_put(st, "pending:w", "1", 1, 0, NOW),
		    "redis: the next write on the same connection commits");
		state_close(st2);
		state_close(st);
	}

	/* The server dies: fail fast; it comes back: so does the state. */
	if (state_open(&c, false, &st) != LW_OK)
		bail("redis: open");
	ok(state_put(st, "life", "1", 1, 0, NOW) == LW_OK, "redis: alive");
	memset(&hs, 0, sizeof(hs));
	state_health(st, NOW, health_cb, &hs);
	is_str("redis up", hs.said, "health: redis answers");
	redis_stop(rpid);
	t0 = time(NULL);
	e = state_get(st, "life", NOW, &v);
	is_int(LW_EIO, e, "redis: a dead server is LW_EIO");
	is_int(LW_EIO, state_add(st, "claim:x", "1", 1, NOW + 5, NOW),
	    "redis: a claim without the server fails (never a false win)");
	ok(time(NULL) - t0 <= 5, "redis: failing costs no long timeout");
	rpid = redis_start(tmp, port, PASSWORD);
	for (e = LW_EIO, t0 = time(NULL); e == LW_EIO &&
	    time(NULL) - t0 < 20; usleep(200 * 1000))
		e = state_put(st, "life", "2", 1, 0, NOW);
	is_int(LW_OK, e, "redis: back within the backoff after a restart");
	state_close(st);

	/* Unreachable at start: opens (works locally), operations fail. */
	redis_stop(rpid);
	c.redis.port = (unsigned)free_port();
	ok(state_open(&c, false, &st) == LW_OK,
	    "redis: an unreachable server does not stop the open");
	is_int(LW_EIO, state_get(st, "life", NOW, &v),
	    "redis: and reads fail until it is there");
	state_close(st);

	/* The daemon's: the same, with a local LMDB behind it. */
	snprintf(dir, sizeof(dir), "%s/fallback", tmp);
	c.path = strdup(dir);
	ok(state_open_daemon(&c, &st) == LW_OK &&
	    strcmp(state_name(st), "redis+local") == 0,
	    "daemon: redis with a local state behind it");
	ok(state_add(st, "claim:f", "1", 1, NOW + 60, NOW) == LW_OK &&
	    state_add(st, "claim:f", "1", 1, NOW + 60, NOW) == LW_EEXIST,
	    "redis away: claims work on the local state, once");
	ok(state_incr(st, "c:f", 2, 0, NOW, NULL) == LW_OK &&
	    state_get(st, "c:f", NOW, &v) == LW_OK && v.len == 1 &&
	    v.data[0] == '2', "redis away: counters count locally");
	state_val_free(&v);
	memset(&hs, 0, sizeof(hs));
	state_health(st, NOW, health_cb, &hs);
	is_str("redis down, lmdb up", hs.said, "health: redis away, the "
	    "local state answers");
	metrics_reset();
	(void)state_get(st, "c:f", NOW, &v);
	state_val_free(&v);
	t = metrics_text();
	ok(strstr(t, "\nlurewall_state_errors_total{backend=\"redis\","
	    "kind=\"io\"} 1\n") != NULL, "the failed redis call is counted");
	ok(strstr(t, "backend=\"lmdb\"") == NULL &&
	    strstr(t, "backend=\"redis+local\"") == NULL, "the local state "
	    "that answered and the wrapper are not");
	free(t);
	state_close(st);
	state_config_init(&c2);
	c2.path = strdup(dir);
	ok(state_open(&c2, true, &st) == LW_OK &&
	    state_get(st, "c:f", NOW, &v) == LW_OK,
	    "the local state is the LMDB in state.path");
	state_val_free(&v);
	state_close(st);
	state_config_free(&c2);
	state_config_free(&c);
	return done_testing();
}
