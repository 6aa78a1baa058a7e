/*
 * learnbench: what learning from outbound mail costs per message, and
 * what its lookups cost, on the embedded (LMDB) store holding 100,000
 * correspondents and 1,000,000 threads (`make bench-learn`, run by
 * `make bench`; figures in README "Performance").
 *
 *   learnbench DIR [CORRESPONDENTS THREADS]
 *
 * 1. fill: a store in /dev/shm (no disk: fsync costs nothing there)
 *    gets CORRESPONDENTS addresses at CORRESPONDENTS/50 domains, in
 *    messages of 100 recipients from 50 accounts, then THREADS
 *    threads, five a message (its Message-ID and four References),
 *    learned in batches as the daemon learns;
 * 2. add: typical outbound messages (one to three known
 *    correspondents, half of them replies) through learn_outbound:
 *    300 with one durable write each (what the daemon did before it
 *    batched), then ADD_MSGS (four flushes, at least 1,700) batched
 *    as the daemon does (LEARN_BATCH_MSGS a write, the last flush
 *    timed too): ms per message, in memory (the CPU cost) and, on a
 *    copy of the store in DIR, on disk; a copy is read once, untimed,
 *    before (warm_map);
 * 3. at the caps: ADD_MSGS more with the caps at the store's size, so
 *    that each write evicts (bounded, by the age index), in memory
 *    and, after 2. there, on disk;
 * 4. look up: 2,000 inbound replies as the rules judge them: the
 *    thread they answer (learn_thread_find), whether the sender takes
 *    part (learn_participant), the sender's name (learn_names) and
 *    domain (learn_domain_known): ms per message;
 * 5. learn stats (counts kept as records) and the store's size
 *    (data.mdb: bytes allocated).
 *
 * LEARNBENCH_REDIS=PORT runs 1. and 2. (batched) on the redis-server
 * at 127.0.0.1:PORT instead, an empty one bench/learn-redis.sh starts
 * (`make bench-learn-redis`), DIR unused: ms and server commands per
 * message.
 *
 * LEARNBENCH_FROM=DIR starts from a copy of DIR, a store an earlier
 * run filled with the same numbers, instead of filling (for profiling);
 * LEARNBENCH_SAVE=DIR keeps a copy of the store as filled there.
 * LEARNBENCH_ONLY=add runs only the batched add in memory (2.) and
 * stops: what to run under callgrind; =caps only the add at the caps
 * (3.), in memory; =disk only the batched add on disk (2., in DIR):
 * what to run under strace; =capsdisk the add at the caps on disk.
 *
 * For 1., 2. and 4. the caps are raised over the fill (2,000,000
 * threads, 200,000 correspondents).  Nothing is asserted; the store in
 * /dev/shm is removed.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "learn.h"
#include "mime.h"
#include "state.h"

#define ACCOUNTS	50
#define PER_DOMAIN	50
#define FILL_RCPTS	100
#define MEASURE		2000	/* lookups */
#define MEASURE_DISK	300	/* added with one write each */
/* Added batched (and at the caps): four flushes' worth at least. */
#define ADD_MSGS	(LEARN_BATCH_MSGS * 4 > 1700 ? LEARN_BATCH_MSGS * 4 : 1700)
#define NADD		(MEASURE_DISK + ADD_MSGS)

static unsigned long long	rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static double
now_s(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "learnbench: %s\n", what);
	exit(1);
}

/* Append printf output to the header text being built. */
static void
add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("vsnprintf");
		if ((size_t)n < *cap - *len)
			break;
		*cap = (*cap + (size_t)n) * 2;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			die("out of memory");
	}
	*len += (size_t)n;
}

/*
 * Message id of account a's message: "<sN@corp.example>".  The
 * recipients rcpt[0..nr), refs ids answered (0: none).
 */
static struct message *
make(unsigned a, const unsigned *rcpt, size_t nr, unsigned long id,
    const unsigned long *refs, size_t nrefs)
{
	static char		*buf;
	static size_t		 cap;
	struct limits		 lim;
	struct findings		 fs = { 0 };
	struct message		*m;
	size_t			 len = 0, i;

	if (buf == NULL && (buf = malloc(cap = 65536)) == NULL)
		die("out of memory");
	add(&buf, &len, &cap, "From: User %u <u%02u@corp.example>\n"
	    "Subject: Re: estimate %lu\nMessage-ID: <s%lu@corp.example>\nTo: ",
	    a, a, id / 5, id);
	for (i = 0; i < nr; i++)
		add(&buf, &len, &cap, "%sCorr %u <c%06u@d%04u.example>",
		    i ? ",\n " : "", rcpt[i], rcpt[i], rcpt[i] / PER_DOMAIN);
	if (nrefs > 0) {
		add(&buf, &len, &cap, "\nIn-Reply-To: <s%lu@corp.example>"
		    "\nReferences:", refs[0]);
		for (i = 0; i < nrefs; i++)
			add(&buf, &len, &cap, " <s%lu@corp.example>", refs[i]);
	}
	add(&buf, &len, &cap, "\n\n");
	limits_default(&lim);
	if (mime_parse((unsigned char *)buf, len, &lim, &fs, &m) != LW_OK)
		die("mime_parse");
	findings_free(&fs);
	return m;
}

static struct learn *
open_store(const char *dir, struct state **st)
{
	struct state_config	 sc;
	struct learn_config	 lc;
	struct learn		*l;

	state_config_init(&sc);
	sc.path = (char *)dir;
	sc.map_size = (uint64_t)16 << 30;
	if (state_open(&sc, false, st) != LW_OK)
		die("cannot open the state");
	learn_config_init(&lc);
	lc.max_threads = 2000000;
	lc.max_correspondents = 200000;
	if (learn_open(*st, &lc, &l) != LW_OK)
		die("cannot open the learner");
	return l;
}

/* Another learner on st with the bench's caps. */
static struct learn *
relearn(struct state *st)
{
	struct learn_config	 lc;
	struct learn		*l;

	learn_config_init(&lc);
	lc.max_threads = 2000000;
	lc.max_correspondents = 200000;
	if (learn_open(st, &lc, &l) != LW_OK)
		die("cannot open the learner");
	return l;
}

/* Fill: ncorr correspondents, then nthreads threads. */
static unsigned long
fill(struct learn *l, unsigned ncorr, unsigned long nthreads, time_t t0)
{
	unsigned	 rc[FILL_RCPTS];
	unsigned long	 id = 0, refs[4], msgs = 0;
	struct message	*m;
	double		 s = now_s();
	size_t		 i;

	while (id < nthreads) {
		size_t	nr = 1;

		if (msgs * FILL_RCPTS < ncorr) {
			for (i = 0; i < FILL_RCPTS; i++)
				rc[i] = (unsigned)(msgs * FILL_RCPTS + i) %
				    ncorr;
			nr = FILL_RCPTS;
		} else
			rc[0] = rnd(ncorr);
		/* Four answered ids of our own, each a new thread. */
		for (i = 0; i < 4; i++)
			refs[i] = id + 1 + i;
		m = make(msgs % ACCOUNTS, rc, nr, id + 5, refs, 4);
		if (learn_outbound(l, "default", m, NULL, t0 + (time_t)msgs) !=
		    LW_OK)
			die("learn_outbound failed in the fill");
		mime_free(m);
		id += 5;
		if (++msgs % 20000 == 0)
			fprintf(stderr, "learnbench: fill: %lu messages, "
			    "%lu threads, %.0f s\n", msgs, id, now_s() - s);
	}
	fprintf(stderr, "learnbench: fill: %lu messages in %.1f s\n", msgs,
	    now_s() - s);
	return id;
}

/* The typical messages of the measure, parsed beforehand. */
static struct message **
typical(unsigned n, unsigned ncorr, unsigned long ids, unsigned long next)
{
	struct message	**v;
	unsigned	  rc[3], i;
	unsigned long	  ref;

	if ((v = calloc(n, sizeof(*v))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		rc[0] = rnd(ncorr);
		rc[1] = rnd(ncorr);
		rc[2] = rnd(ncorr);
		ref = 1 + rnd((unsigned)ids);
		v[i] = make(rnd(ACCOUNTS), rc, 1 + rnd(3), next + i, &ref,
		    i % 2);
	}
	return v;
}

/*
 * ms per message of learn_outbound over v; batched, as the daemon
 * learns (LEARN_BATCH_MSGS messages per write), the last flush
 * included.
 */
static double
measure_add(struct learn *l, struct message **v, unsigned n, time_t t,
    bool batched)
{
	double		s;
	unsigned	i;

	if (batched && learn_batch_start(l, LEARN_BATCH_MSGS, LEARN_BATCH_MS,
	    false) != LW_OK)
		die("learn_batch_start failed");
	s = now_s();
	for (i = 0; i < n; i++)
		if (learn_outbound(l, "default", v[i], NULL, t + i) != LW_OK)
			die("learn_outbound failed");
	if (learn_flush(l, t + n) != LW_OK)
		die("learn_flush failed");
	return (now_s() - s) * 1000 / n;
}

/* An inbound reply from correspondent c to thread ref, judged. */
static double
measure_lookup(struct learn *l, unsigned n, unsigned ncorr,
    unsigned long ids, time_t t)
{
	struct learn_record	 rec;
	struct learn_match	*mv;
	struct message		*m;
	enum learn_how		 how;
	unsigned		 i, c, hits = 0;
	unsigned long		 ref;
	double			 total = 0, s;
	size_t			 nm;
	bool			 yes, known;
	char			 from[80], name[40];

	for (i = 0; i < n; i++) {
		c = rnd(ncorr);
		ref = 1 + rnd((unsigned)ids);
		m = make(0, &c, 1, 90000000 + i, &ref, 1);
		/* The reply comes from c: its From is c, not us. */
		snprintf(from, sizeof(from), "c%06u@d%04u.example", c,
		    c / PER_DOMAIN);
		snprintf(name, sizeof(name), "Corr %u", c);
		s = now_s();
		if (learn_thread_find(l, "default", m, NULL, t, &rec, &how) !=
		    LW_OK)
			die("learn_thread_find failed");
		if (how == LEARN_BY_REF || how == LEARN_BY_SUBJECT) {
			hits++;
			if (learn_participant(l, "default", &rec, from, name,
			    t, &yes) != LW_OK)
				die("learn_participant failed");
			learn_record_free(&rec);
		}
		if (learn_names(l, "default", name, t, &mv, &nm) != LW_OK)
			die("learn_names failed");
		learn_matches_free(mv, nm);
		if (learn_domain_known(l, "default", strchr(from, '@') + 1, t,
		    &known) != LW_OK)
			die("learn_domain_known failed");
		total += now_s() - s;
		mime_free(m);
	}
	fprintf(stderr, "learnbench: lookup: %u of %u replies found their "
	    "thread\n", hits, n);
	return total * 1000 / n;
}

static unsigned long long
allocated(const char *dir)
{
	struct stat	sb;
	char		path[4096];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &sb) == 0 ? (unsigned long long)sb.st_blocks * 512 :
	    0;
}

/* cp -r src dst, by the system's cp, and sync the copy. */
static void
copy_store(const char *src, const char *dst)
{
	pid_t	pid;
	int	status;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		/*
		 * Synced: else the first flush on disk writes back the
		 * whole copy, and the figure measures cp.
		 */
		execlp("sh", "sh", "-c", "rm -rf \"$2\" && cp -r \"$1\" \"$2\" "
		    "&& sync \"$2\"/data.mdb", "sh", src, dst, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("cannot copy the store to disk");
}

/* The server's count of commands run (INFO stats), -1 on error. */
static long long
redis_commands(unsigned port, const char *stat)
{
	redisContext	*c;
	redisReply	*rep;
	char		 pat[64], *p;
	long long	 n = -1;

	if ((c = redisConnect("127.0.0.1", (int)port)) == NULL || c->err)
		die("cannot reach the redis-server");
	snprintf(pat, sizeof(pat), "%s", stat);
	if ((rep = redisCommand(c, "INFO all")) != NULL &&
	    rep->type == REDIS_REPLY_STRING && (p = strstr(rep->str, pat)) !=
	    NULL)
		n = strtoll(p + strlen(pat), NULL, 10);
	if (rep != NULL)
		freeReplyObject(rep);
	redisFree(c);
	return n;
}

/*
 * LEARNBENCH_REDIS=PORT: the batched add (2.) on a Redis server on
 * 127.0.0.1:PORT that the caller started empty (bench/learn-redis.sh),
 * filled first like the embedded store: ms per message and the
 * server's commands and WATCH ... EXEC per message.
 */
static int
redis_bench(unsigned port, unsigned ncorr, unsigned long nthreads)
{
	struct state_config	 sc;
	struct message		**v;
	struct learn		*l;
	struct state		*st;
	unsigned long		 ids;
	long long		 c0, w0, c1, w1;
	double			 ms;
	unsigned		 i;

	state_config_init(&sc);
	sc.backend = STATE_REDIS;
	sc.redis.port = port;
	if (state_open(&sc, false, &st) != LW_OK)
		die("cannot open the redis state");
	l = relearn(st);
	if (learn_batch_start(l, LEARN_BATCH_MSGS, LEARN_BATCH_MS, false) !=
	    LW_OK)
		die("learn_batch_start failed");
	ids = fill(l, ncorr, nthreads, time(NULL) - 30 * 86400);
	learn_close(l);
	l = relearn(st);
	v = typical(MEASURE, ncorr, ids, ids + 1000);
	c0 = redis_commands(port, "total_commands_processed:");
	w0 = redis_commands(port, "cmdstat_watch:calls=");
	ms = measure_add(l, v, MEASURE, time(NULL), true);
	c1 = redis_commands(port, "total_commands_processed:");
	w1 = redis_commands(port, "cmdstat_watch:calls=");
	printf("redis add: %.3f ms per message, batched as the daemon "
	    "learns; %.1f commands and %.2f WATCH ... EXEC per message "
	    "(%u correspondents, %lu threads)\n", ms,
	    (double)(c1 - c0) / MEASURE, (double)(w1 - w0) / MEASURE,
	    ncorr, ids);
	for (i = 0; i < MEASURE; i++)
		mime_free(v[i]);
	free(v);
	learn_close(l);
	state_close(st);
	return 0;
}

static enum lw_err
warm_one(void *arg, const char *key, const struct state_val *v)
{
	(void)key;
	*(unsigned long long *)arg += v->len;
	return LW_OK;
}

/*
 * Read every key of a copy once, untimed: a daemon that has run a
 * while has the pages of its map faulted in, where a copy opened just
 * now would pay a page fault on each first touch (a fifth of the first
 * flush's time here).  A store the fill wrote is warm already: the
 * fill went through the same map.
 */
static void
warm_map(struct state *st)
{
	unsigned long long	 bytes = 0;
	double			 s = now_s();

	if (state_each(st, "learn:", time(NULL), warm_one, &bytes) != LW_OK)
		die("cannot read the store");
	fprintf(stderr, "learnbench: the copy read once, untimed (%.0f MiB "
	    "of values, %.2f s)\n", bytes / 1048576.0,
	    now_s() - s);
}

/*
 * LEARNBENCH_ONLY: one part alone, for a profiler.  "add": the batched
 * add in memory (2.); "caps": the add at the caps in memory (3.);
 * "disk": the batched add on a copy of the store in dir (2. on disk);
 * "capsdisk": 3. on such a copy.
 */
static int
run_only(const char *only, struct learn *l, struct state *st,
    struct message **v, unsigned ncorr, unsigned long ids, const char *dir,
    const char *shm, const char *cmd)
{
	struct learn_config	 lc;
	double			 ms;
	const char		*where = "in memory";

	learn_close(l);
	learn_config_init(&lc);
	lc.max_threads = 2000000;
	lc.max_correspondents = 200000;
	if (strncmp(only, "caps", 4) == 0) {
		lc.max_threads = ids;
		lc.max_correspondents = ncorr;
	}
	if (strcmp(only, "disk") == 0 || strcmp(only, "capsdisk") == 0) {
		state_close(st);
		copy_store(shm, dir);
		if (system(cmd) != 0)
			die("cannot remove the store in /dev/shm");
		l = open_store(dir, &st);
		learn_close(l);
		warm_map(st);
		where = "on disk";
	} else if (strcmp(only, "add") != 0 && strcmp(only, "caps") != 0)
		die("LEARNBENCH_ONLY: add, caps, disk or capsdisk");
	if (learn_open(st, &lc, &l) != LW_OK)
		die("cannot open the learner");
	ms = measure_add(l, v + MEASURE_DISK, ADD_MSGS, time(NULL), true);
	printf("%s: %.3f ms per message %s, batched\n", only, ms, where);
	learn_close(l);
	state_close(st);
	if (strcmp(where, "in memory") == 0 && system(cmd) != 0)
		die("cannot remove the store in /dev/shm");
	return 0;
}

int
main(int argc, char **argv)
{
	struct learn_stats	 ls, lsc;
	struct learn_config	 lc;
	struct message		**v;
	struct learn		*l;
	struct state		*st;
	unsigned		 ncorr = 100000, i;
	unsigned long		 nthreads = 1000000, ids;
	char			 shm[128], cmd[256];
	double			 mem1, memb, memc, disk1, diskb, diskc, look;
	double			 st0;
	double			 stats_ms;
	time_t			 t0 = time(NULL) - 30 * 86400;
	const char		*only = getenv("LEARNBENCH_ONLY");

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: learnbench DIR [CORRESPONDENTS "
		    "THREADS]\n");
		return 2;
	}
	if (argc > 2)
		ncorr = (unsigned)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		nthreads = strtoul(argv[3], NULL, 10);
	if (ncorr < FILL_RCPTS || nthreads < 1000)
		die("at least 100 correspondents and 1000 threads");
	if (getenv("LEARNBENCH_REDIS") != NULL)
		return redis_bench((unsigned)strtoul(getenv("LEARNBENCH_REDIS"),
		    NULL, 10), ncorr, nthreads);
	snprintf(shm, sizeof(shm), "/dev/shm/learnbench.%ld", (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", shm);

	/* LEARNBENCH_FROM=DIR: start from a copy of a store filled before. */
	if (getenv("LEARNBENCH_FROM") != NULL) {
		copy_store(getenv("LEARNBENCH_FROM"), shm);
		l = open_store(shm, &st);
		warm_map(st);
		ids = nthreads;
	} else {
		/* The fill learns as the daemon does: in batches. */
		l = open_store(shm, &st);
		if (learn_batch_start(l, LEARN_BATCH_MSGS, LEARN_BATCH_MS,
		    false) != LW_OK)
			die("learn_batch_start failed");
		ids = fill(l, ncorr, nthreads, t0);
		learn_close(l);
		l = relearn(st);
		if (getenv("LEARNBENCH_SAVE") != NULL)
			copy_store(shm, getenv("LEARNBENCH_SAVE"));
	}
	st0 = now_s();
	if (learn_stats(l, "default", time(NULL), &ls) != LW_OK)
		die("learn_stats failed");
	stats_ms = (now_s() - st0) * 1000;
	printf("store: %zu accounts, %zu correspondents, %zu domains, "
	    "%zu threads, %.0f MiB allocated\n", ls.n[LEARN_ACCOUNT],
	    ls.n[LEARN_CORRESPONDENT], ls.n[LEARN_DOMAIN],
	    ls.n[LEARN_THREAD], allocated(shm) / 1048576.0);
	v = typical(NADD, ncorr, ids, ids + 1000);
	if (only != NULL)
		return run_only(only, l, st, v, ncorr, ids, argv[1], shm, cmd);
	mem1 = measure_add(l, v, MEASURE_DISK, time(NULL), false);
	learn_close(l);
	l = relearn(st);
	memb = measure_add(l, v + MEASURE_DISK, ADD_MSGS, time(NULL), true);
	look = measure_lookup(l, MEASURE, ncorr, ids, time(NULL));
	for (i = 0; i < NADD; i++)
		mime_free(v[i]);
	free(v);
	learn_close(l);

	/*
	 * Caps at the store's size (the defaults at 100,000 and
	 * 1,000,000): the store is full, each write evicts.
	 */
	learn_config_init(&lc);
	lc.max_threads = nthreads;
	lc.max_correspondents = ncorr;
	if (learn_open(st, &lc, &l) != LW_OK)
		die("cannot open the learner");
	v = typical(ADD_MSGS, ncorr, ids, ids + 50000);
	memc = measure_add(l, v, ADD_MSGS, time(NULL), true);
	for (i = 0; i < ADD_MSGS; i++)
		mime_free(v[i]);
	free(v);
	if (learn_stats(l, "default", time(NULL), &lsc) != LW_OK)
		die("learn_stats failed");
	learn_close(l);
	state_close(st);

	/* The same, durable, on a copy on disk (the daemon's case). */
	copy_store(shm, argv[1]);
	if (system(cmd) != 0)
		die("cannot remove the store in /dev/shm");
	l = open_store(argv[1], &st);
	warm_map(st);
	v = typical(NADD, ncorr, ids, ids + 100000);
	disk1 = measure_add(l, v, MEASURE_DISK, time(NULL), false);
	learn_close(l);
	l = relearn(st);
	diskb = measure_add(l, v + MEASURE_DISK, ADD_MSGS, time(NULL), true);
	for (i = 0; i < NADD; i++)
		mime_free(v[i]);
	free(v);
	learn_close(l);
	/* And at the caps there (the daemon's steady state). */
	if (learn_open(st, &lc, &l) != LW_OK)
		die("cannot open the learner");
	v = typical(ADD_MSGS, ncorr, ids, ids + 150000);
	diskc = measure_add(l, v, ADD_MSGS, time(NULL), true);
	for (i = 0; i < ADD_MSGS; i++)
		mime_free(v[i]);
	free(v);
	learn_close(l);
	state_close(st);

	printf("add: %.3f ms per message in memory, %.3f ms on disk, "
	    "batched as the daemon learns (%d messages or %d ms a write)\n",
	    memb, diskb, LEARN_BATCH_MSGS, LEARN_BATCH_MS);
	printf("add: %.3f ms per message in memory, %.3f ms on disk, "
	    "one durable write each\n", mem1, disk1);
	printf("add at the caps (%llu threads, %llu correspondents: the "
	    "store is full, each write evicts): %.3f ms per message in "
	    "memory, %.3f ms on disk, batched; then %zu threads, %zu "
	    "correspondents in memory\n",
	    (unsigned long long)lc.max_threads,
	    (unsigned long long)lc.max_correspondents, memc, diskc,
	    lsc.n[LEARN_THREAD], lsc.n[LEARN_CORRESPONDENT]);
	printf("lookup: %.3f ms per inbound reply (thread, participant, "
	    "name, domain)\n", look);
	printf("learn stats: %.1f ms\n", stats_ms);
	printf("store on disk: %.0f MiB allocated (%s/data.mdb)\n",
	    allocated(argv[1]) / 1048576.0, argv[1]);
	return 0;
}
