/*
 * lwbench: the engine benchmark.  Takes a config, recipients and a set
 * of message files; scans the set over and over with scan_message() --
 * the daemon's end-of-message code path, with the loaded config and
 * policies -- in 1, 2, ... worker threads, and reports messages and MB
 * per second, p50/p99/max per-message latency and the process's peak
 * RSS as a table row on stdout and, with -o, a CSV line.
 *
 * Each run lasts at least -d seconds and at least one pass over the
 * set, and stops after -N scans whatever the time (bounded).  One
 * untimed warm-up pass comes first; it also counts the files whose
 * verdict is not accept (a check that the set is judged as expected).
 * Files are read into memory before timing starts; peak RSS
 * (getrusage ru_maxrss) is the whole process's, message copies
 * included, and never goes down: run one set per process.
 *
 * MB means 2^20 bytes.  Nothing here asserts a figure; bench/bench.sh
 * compares them with the targets.
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "filetype.h"
#include "log.h"
#include "lurewall.h"
#include "policy.h"
#include "runtime.h"
#include "scan.h"
#include "verdict.h"

#include "load.h"

#define MAX_THREADS	64
#define MAX_FILES	4096

/* What every worker shares during one run. */
struct run {
	struct bench_msg	*files;
	size_t			 nfiles;
	const struct envelope	*env;
	const struct limits	*lim;
	const struct policyset	*ps;
	uint64_t		 min_scans, max_scans;
	uint64_t		 deadline_ns;
	atomic_uint_fast64_t	 next;
	atomic_int		 failed;
};

/* One worker's own tally: no sharing while timing. */
struct worker {
	pthread_t	 tid;
	struct run	*run;
	uint64_t	*lat_ns;
	size_t		 n, cap;
	uint64_t	 bytes;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: lwbench [-c CONFIG] [-r RCPT]... [-t N[,N...]] [-d SECONDS]\n"
"               [-N MAXSCANS] [-s SETNAME] [-o CSV] FILE...\n"
"       lwbench -H\n"
"  -c  lurewall.yaml to load (default conf/lurewall.yaml)\n"
"  -r  envelope recipient (repeatable; picks the policies)\n"
"  -t  worker thread counts, one run each (default 1,2)\n"
"  -d  minimum seconds per run (default 2); at least one pass\n"
"  -N  at most this many scans per run (default 200000)\n"
"  -s  set name for the table and CSV (default \"set\")\n"
"  -o  append one CSV line per run (header when the file is empty)\n"
"  -H  print the table header and exit\n");
}

static void
print_header(void)
{
	printf("%-14s %3s %5s %9s %7s %9s %8s %8s %8s %8s %7s %7s\n",
	    "set", "thr", "files", "avg_KB", "scans", "msg/s", "MB/s",
	    "p50_ms", "p99_ms", "max_ms", "rss_MB", "flagged");
}

/* The daemon's envelope for this file: recipients given, cut flagged. */
static struct envelope
file_env(const struct envelope *base, const struct bench_msg *mf)
{
	struct envelope	e = *base;

	e.truncated = mf->total > mf->len;
	e.orig_len = mf->total;
	return e;
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct run		*r = w->run;
	struct scan_result	 res;
	struct runtime		 view;
	struct envelope		 env;
	struct bench_msg	*mf;
	uint64_t		 i, t0, t1, *nl;
	size_t			 ncap;

	for (;;) {
		i = atomic_fetch_add(&r->next, 1);
		if (i >= r->max_scans)
			break;
		if (i >= r->min_scans && bench_now_ns() >= r->deadline_ns)
			break;
		mf = &r->files[i % r->nfiles];
		env = file_env(r->env, mf);
		t0 = bench_now_ns();
		if (scan_message(runtime_view(&view, r->lim, r->ps), mf->raw,
		    mf->len, &env, &res) != LW_OK) {
			atomic_store(&r->failed, 1);
			break;
		}
		scan_result_free(&res);
		t1 = bench_now_ns();
		if (w->n == w->cap) {
			ncap = w->cap ? w->cap * 2 : 1024;
			nl = reallocarray(w->lat_ns, ncap, sizeof(*nl));
			if (nl == NULL) {
				atomic_store(&r->failed, 1);
				break;
			}
			w->lat_ns = nl;
			w->cap = ncap;
		}
		w->lat_ns[w->n++] = t1 - t0;
		w->bytes += mf->len;
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
pct_ms(const uint64_t *v, size_t n, double p)
{
	size_t	k;

	if (n == 0)
		return 0;
	k = (size_t)(p * (double)n + 0.999999);
	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1e6;
}

/* One untimed pass: warms caches and counts non-accept verdicts. */
static int
warm_up(struct run *r, unsigned *flagged)
{
	struct scan_result	res;
	struct runtime		view;
	struct envelope		env;
	size_t			i;

	*flagged = 0;
	for (i = 0; i < r->nfiles; i++) {
		env = file_env(r->env, &r->files[i]);
		if (scan_message(runtime_view(&view, r->lim, r->ps),
		    r->files[i].raw, r->files[i].len, &env, &res) != LW_OK) {
			fprintf(stderr, "lwbench: %s: scan failed\n",
			    r->files[i].path);
			return -1;
		}
		if (res.verdict->action != ACT_ACCEPT)
			(*flagged)++;
		scan_result_free(&res);
	}
	return 0;
}

static int
run_once(struct run *r, unsigned nthreads, double seconds, const char *set,
    uint64_t set_bytes, FILE *csv)
{
	struct worker	 w[MAX_THREADS];
	struct rusage	 ru;
	uint64_t	*all = NULL, bytes = 0, t0, t1;
	size_t		 n = 0, k;
	unsigned	 i, flagged, started = 0;
	double		 secs, p50, p99, pmax, msgs, mbs, avg_kb, rss_mb;
	int		 rc = -1;

	/* A libmagic cookie per thread, as the daemon sizes its pool. */
	filetype_fini();
	if (filetype_init(nthreads) != LW_OK) {
		fprintf(stderr, "lwbench: cannot load libmagic\n");
		return -1;
	}
	if (warm_up(r, &flagged) != 0)
		return -1;
	memset(w, 0, sizeof(w));
	atomic_store(&r->next, 0);
	atomic_store(&r->failed, 0);
	t0 = bench_now_ns();
	r->deadline_ns = t0 + (uint64_t)(seconds * 1e9);
	for (i = 0; i < nthreads; i++) {
		w[i].run = r;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "lwbench: pthread_create failed\n");
			atomic_store(&r->failed, 1);
			r->max_scans = 0;	/* the started ones stop */
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	t1 = bench_now_ns();
	if (atomic_load(&r->failed)) {
		fprintf(stderr, "lwbench: %s: a scan failed\n", set);
		goto out;
	}
	for (i = 0; i < nthreads; i++)
		n += w[i].n;
	if (n == 0 || (all = calloc(n, sizeof(*all))) == NULL)
		goto out;
	for (i = 0, k = 0; i < nthreads; i++) {
		memcpy(all + k, w[i].lat_ns, w[i].n * sizeof(*all));
		k += w[i].n;
		bytes += w[i].bytes;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	secs = (double)(t1 - t0) / 1e9;
	msgs = (double)n / secs;
	mbs = (double)bytes / 1048576.0 / secs;
	p50 = pct_ms(all, n, 0.50);
	p99 = pct_ms(all, n, 0.99);
	pmax = (double)all[n - 1] / 1e6;
	avg_kb = (double)set_bytes / (double)r->nfiles / 1024.0;
	getrusage(RUSAGE_SELF, &ru);
	rss_mb = (double)ru.ru_maxrss / 1024.0;
	printf("%-14s %3u %5zu %9.1f %7zu %9.1f %8.1f %8.3f %8.3f %8.3f "
	    "%7.1f %3u/%-3zu\n", set, nthreads, r->nfiles, avg_kb, n, msgs,
	    mbs, p50, p99, pmax, rss_mb, flagged, r->nfiles);
	fflush(stdout);
	if (csv != NULL)
		fprintf(csv, "%s,%u,%zu,%llu,%zu,%.3f,%.1f,%.2f,%.3f,%.3f,"
		    "%.3f,%ld,%u\n", set, nthreads, r->nfiles,
		    (unsigned long long)set_bytes, n, secs, msgs, mbs, p50,
		    p99, pmax, ru.ru_maxrss, flagged);
	rc = 0;
out:
	free(all);
	for (i = 0; i < nthreads; i++)
		free(w[i].lat_ns);
	return rc;
}

static int
parse_threads(const char *s, unsigned *v, size_t *n)
{
	char		*end;
	unsigned long	 x;

	*n = 0;
	for (;;) {
		errno = 0;
		x = strtoul(s, &end, 10);
		if (end == s || errno != 0 || x == 0 || x > MAX_THREADS ||
		    *n == 16)
			return -1;
		v[(*n)++] = (unsigned)x;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*cpath = "conf/lurewall.yaml", *set = "set";
	const char	*csvpath = NULL;
	struct config	*cfg = NULL;
	struct policyset *ps = NULL;
	struct envelope	 env;
	struct bench_msg	*files = NULL;
	struct run	 r;
	FILE		*csv = NULL;
	unsigned	 threads[16] = { 1, 2 };
	size_t		 nthreads = 2, nfiles = 0, i;
	uint64_t	 set_bytes = 0, max_scans = 200000;
	double		 seconds = 2.0;
	char		 err[1024], *end;
	int		 ch, rc = 2;

	memset(&env, 0, sizeof(env));
	while ((ch = getopt_long(argc, argv, "c:d:hHN:o:r:s:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'd':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || !(seconds >= 0 && seconds <= 3600)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'H':
			print_header();
			return 0;
		case 'N':
			errno = 0;
			max_scans = strtoull(optarg, &end, 10);
			if (*end != '\0' || errno != 0 || max_scans == 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'o':
			csvpath = optarg;
			break;
		case 'r':
			if (envelope_add_rcpt(&env, optarg) != LW_OK)
				goto nomem;
			break;
		case 's':
			set = optarg;
			break;
		case 't':
			if (parse_threads(optarg, threads, &nthreads) != 0) {
				usage(stderr);
				goto out;
			}
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > MAX_FILES) {
		usage(stderr);
		goto out;
	}
	log_init("lwbench", LOG_MAIL, true);
	/* As lurewall-milter and lurewall do at start-up (daemon.c). */
	if (setenv("TZ", ":/etc/localtime", 0) == -1) {
		fprintf(stderr, "lwbench: setenv TZ: %s\n", strerror(errno));
		goto out;
	}
	tzset();
	if (config_load(cpath, &cfg, err, sizeof(err)) != LW_OK) {
		fprintf(stderr, "lwbench: %s\n", err);
		goto out;
	}
	if (policy_load_dir(cfg->policy_dir, &cfg->limits, &ps, err,
	    sizeof(err)) != LW_OK) {
		fprintf(stderr, "lwbench: %s\n", err);
		goto out;
	}
	/* Cut as the daemon cuts them (message_bytes). */
	if ((files = bench_load("lwbench", argv, (size_t)argc,
	    cfg->limits.max_message_bytes)) == NULL)
		goto out;
	for (nfiles = (size_t)argc, i = 0; i < nfiles; i++)
		set_bytes += files[i].len;
	if (csvpath != NULL) {
		if ((csv = fopen(csvpath, "a")) == NULL) {
			fprintf(stderr, "lwbench: %s: %s\n", csvpath,
			    strerror(errno));
			goto out;
		}
		if (fseek(csv, 0, SEEK_END) == 0 && ftell(csv) == 0)
			fprintf(csv, "set,threads,files,set_bytes,scans,seconds,"
			    "msgs_per_s,mb_per_s,p50_ms,p99_ms,max_ms,"
			    "peak_rss_kb,flagged\n");
	}
	memset(&r, 0, sizeof(r));
	r.files = files;
	r.nfiles = nfiles;
	r.env = &env;
	r.lim = &cfg->limits;
	r.ps = ps;
	for (i = 0; i < nthreads; i++) {
		r.min_scans = nfiles;
		r.max_scans = max_scans > nfiles ? max_scans : nfiles;
		if (run_once(&r, threads[i], seconds, set, set_bytes,
		    csv) != 0)
			goto out;
	}
	rc = 0;
out:
	filetype_fini();
	if (csv != NULL && fclose(csv) != 0)
		rc = 2;
	bench_free(files, nfiles);
	policyset_unref(ps);
	config_free(cfg);
	envelope_free(&env);
	return rc;
nomem:
	fprintf(stderr, "lwbench: out of memory\n");
	rc = 2;
	goto out;
}
