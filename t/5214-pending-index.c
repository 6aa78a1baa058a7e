/*
 * 5214-pending-index: the Redis backend's index of the split-PPAP
 * pending items (STATE_NS_PENDING), against a real redis-server on a
 * free 127.0.0.1 port, stopped by PID.  A walk of the pending items is
 * what every message with a password in it costs, so:
 *   - state_each under "pending:" visits exactly the live keys (put,
 *     add, update), one host's prefix only its own, and none of the
 *     thousand other keys on the server;
 *   - del, take and an update to DELETE take the index entry with the
 *     key; expired entries are pruned by the walk; an entry whose key
 *     the server lost is skipped and removed;
 *   - no SCAN runs for it (INFO commandstats), and 600 items cost one
 *     prune script (EVAL), one ZRANGEBYSCORE and two MGET (500 a batch);
 *   - keys written before the index (an older lurewall) are indexed
 *     once per server, by the first writing state to open; a
 *     read-only state walks without writing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lurewall.h"
#include "log.h"
#include "state.h"
#include "redis_t.h"
#include "tap.h"

#define NOW	1700000000
#define PFX	"lurewall:t5214:"
#define INDEX	PFX "index:pending:"
#define MANY	600

struct seen {
	char	keys[16][64];
	int	n;
	int	count;
};

static enum lw_err
note(void *arg, const char *key, const struct state_val *v)
{
	struct seen	*s = arg;

	if (s->n < 16)
		snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%s", key);
	s->count++;
	return LW_OK;
}

/* The keys state_each visits under prefix at now, sorted, in one line. */
static const char *
walk(struct state *st, const char *prefix, time_t now)
{
	static char	 line[1024];
	struct seen	 s;
	int		 i, j;
	char		 tmp[64];

	memset(&s, 0, sizeof(s));
	if (state_each(st, prefix, now, note, &s) != LW_OK)
		return "(failed)";
	for (i = 0; i < s.n; i++)
		for (j = i + 1; j < s.n; j++)
			if (strcmp(s.keys[i], s.keys[j]) > 0) {
				memcpy(tmp, s.keys[i], sizeof(tmp));
				memcpy(s.keys[i], s.keys[j], sizeof(tmp));
				memcpy(s.keys[j], tmp, sizeof(tmp));
			}
	line[0] = '\0';
	for (i = 0; i < s.n; i++) {
		strcat(line, i > 0 ? " " : "");
		strcat(line, s.keys[i]);
	}
	return line;
}

static enum lw_err
create(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	if ((out->data = (unsigned char *)strdup("e")) == NULL)
		return LW_ENOMEM;
	out->len = 1;
	out->expires = NOW + 100;
	*what = STATE_WRITE;
	return LW_OK;
}

static enum lw_err
drop(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	*what = STATE_DELETE;
	return LW_OK;
}

static enum lw_err
count_only(void *arg, const char *key, const struct state_val *v)
{
	(*(int *)arg)++;
	return LW_OK;
}

int
main(void)
{
	struct state_config	 c;
	struct state		*st, *ro;
	struct state_val	 v;
	const char		*cmds[] = { "scan", "eval",
				    "zrangebyscore", "mget" };
	long long		 before[4];
	const char		*work;
	char			 key[64];
	pid_t			 rpid;
	int			 port, i, n;

	plan(0);
	log_init("5214", 0, true);
	work = tap_tmpdir("5214-pending-index");
	port = free_port();
	rpid = redis_start(work, port, PASSWORD);
	redis_config(&c, port, PFX);
	if ((st = redis_state_open(&c)) == NULL) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}

	/* Other keys: a SCAN would have to wade through them. */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "other:%d", i);
		if (state_put(st, key, "x", 1, 0, NOW) != LW_OK)
			bail("put %s", key);
	}
	ok(state_put(st, "pending:mx1:a", "a", 1, 0, NOW) == LW_OK &&
	    state_put(st, "pending:mx1:b", "b", 1, NOW + 100, NOW) == LW_OK &&
	    state_put(st, "pending:mx2:c", "c", 1, NOW + 5, NOW) == LW_OK &&
	    state_add(st, "pending:mx2:d", "d", 1, NOW + 100, NOW) == LW_OK &&
	    state_update(st, "pending:mx1:e", NOW, create, NULL) == LW_OK,
	    "put, add and update five pending keys");
	is_int(LW_EEXIST, state_add(st, "pending:mx2:d", "d", 1, NOW + 100,
	    NOW), "a second add of one loses");
	is_int(5, redis_admin_int(port, "ZCARD %s", INDEX),
	    "five entries in the index");
	/* The index was built at the open (no older keys here). */
	is_str("pending:mx1:a pending:mx1:b pending:mx1:e pending:mx2:c "
	    "pending:mx2:d", walk(st, "pending:", NOW),
	    "the walk visits the live pending keys");
	for (i = 0; i < 4; i++)
		before[i] = redis_calls(port, cmds[i]);
	is_str("pending:mx1:a pending:mx1:b pending:mx1:e",
	    walk(st, "pending:mx1:", NOW), "one host's prefix: its keys");
	is_str("pending:mx1:a pending:mx1:b pending:mx1:e pending:mx2:d",
	    walk(st, "pending:", NOW + 10), "an expired key is not visited");
	is_int(4, redis_admin_int(port, "ZCARD %s", INDEX),
	    "and its entry is pruned");
	is_int(0, redis_calls(port, "scan") - before[0],
	    "three walks, no SCAN");

	ok(state_del(st, "pending:mx1:a") == LW_OK &&
	    state_take(st, "pending:mx1:b", NOW, &v) == LW_OK &&
	    state_update(st, "pending:mx1:e", NOW, drop, NULL) == LW_OK,
	    "del, take and an update to DELETE");
	state_val_free(&v);
	is_str("pending:mx2:d", walk(st, "pending:", NOW),
	    "their keys are not visited");
	is_int(1, redis_admin_int(port, "ZCARD %s", INDEX),
	    "their entries went with them");

	/* A key the server lost (evicted, or removed by hand). */
	is_int(1, redis_admin_int(port, "DEL %s", PFX "pending:mx2:d"),
	    "the server loses pending:mx2:d behind the index's back");
	is_str("", walk(st, "pending:", NOW), "the walk skips it");
	is_int(0, redis_admin_int(port, "ZCARD %s", INDEX),
	    "and removes its entry");

	/* Many items: a few round trips, whatever their number. */
	for (i = 0; i < MANY; i++) {
		snprintf(key, sizeof(key), "pending:mx%d:%d", i % 2, i);
		if (state_put(st, key, "m", 1, NOW + 1000, NOW) != LW_OK)
			bail("put %s", key);
	}
	for (i = 0; i < 4; i++)
		before[i] = redis_calls(port, cmds[i]);
	n = 0;
	is_int(LW_OK, state_each(st, "pending:", NOW, count_only, &n),
	    "a walk of %d pending items", MANY);
	is_int(MANY, n, "visits each once");
	is_int(0, redis_calls(port, "scan") - before[0], "no SCAN");
	is_int(1, redis_calls(port, "eval") - before[1],
	    "one bounded prune of the expired (EVAL)");
	is_int(1, redis_calls(port, "zrangebyscore") - before[2],
	    "one ZRANGEBYSCORE");
	is_int(2, redis_calls(port, "mget") - before[3],
	    "two MGET (%d a batch)", 500);

	/* Keys an older lurewall wrote: indexed once per server. */
	is_int(2, redis_admin_int(port, "SET %s %s", PFX "pending:old:x",
	    "0000000000000000x"), "an older lurewall's pending key");
	is_int(1, redis_admin_int(port, "DEL %s", INDEX "built"),
	    "on a server never indexed");
	state_close(st);
	if (state_open(&c, true, &ro) != LW_OK)
		bail("open readonly");
	n = 0;
	ok(state_each(ro, "pending:old:", NOW, count_only, &n) == LW_OK &&
	    n == 0, "a read-only state does not build the index");
	state_close(ro);
	before[0] = redis_calls(port, "scan");
	if (state_open(&c, false, &st) != LW_OK)
		bail("open");
	is_str("pending:old:x", walk(st, "pending:old:", NOW),
	    "a writing state indexes it at its open");
	ok(redis_calls(port, "scan") - before[0] >= 1, "with a SCAN, once");
	state_close(st);
	before[0] = redis_calls(port, "scan");
	if (state_open(&c, false, &st) != LW_OK)
		bail("open");
	is_str("pending:old:x", walk(st, "pending:old:", NOW),
	    "another process finds it indexed");
	is_int(0, redis_calls(port, "scan") - before[0], "without a SCAN");
	if (state_open(&c, true, &ro) != LW_OK)
		bail("open readonly");
	n = (int)redis_admin_int(port, "ZCARD %s", INDEX);
	is_str("pending:old:x", walk(ro, "pending:", NOW + 2000),
	    "a read-only walk after every expiry");
	state_close(ro);
	is_int(n, redis_admin_int(port, "ZCARD %s", INDEX),
	    "prunes nothing (%d entries)", n);

	state_close(st);
	redis_stop(rpid);
	state_config_free(&c);
	return done_testing();
}
