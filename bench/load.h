/*
 * load.h: what the benchmarks (lwbench, floor) share: message files
 * read into memory before any timing starts, and the clock they time
 * with.
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct bench_msg {
	const char	*path;
	unsigned char	*raw;
	size_t		 len;		/* bytes kept: at most the cap */
	uint64_t	 total;		/* on disk; > len when cut */
};

/*
 * The n files of paths, each kept up to max bytes (the daemon's
 * message_bytes; UINT64_MAX keeps all) and counted to its end.  NULL
 * after saying why on stderr, prog first.  bench_free frees them.
 */
struct bench_msg *bench_load(const char *prog, char *const *paths, size_t n,
		    uint64_t max);
void		 bench_free(struct bench_msg *, size_t n);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t	 bench_now_ns(void);

#endif /* BENCH_LOAD_H */
