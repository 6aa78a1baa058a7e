/*
 * load.c: message files into memory for the benchmarks (load.h).  A
 * file is read in 64 KiB steps; past the cap its bytes are only
 * counted, so a huge file costs its cap in memory, not its size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

#define STEP	65536

static int
load_one(const char *prog, const char *path, uint64_t max,
    struct bench_msg *m)
{
	FILE		*f;
	unsigned char	*b = NULL, *nb;
	size_t		 cap = 0, n = 0, r;
	uint64_t	 total = 0;
	unsigned char	 junk[STEP];

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n < max) {
			if (cap - n < STEP) {
				cap = cap ? cap * 2 : STEP;
				if ((nb = realloc(b, cap)) == NULL) {
					fprintf(stderr, "%s: out of memory\n",
					    prog);
					goto fail;
				}
				b = nb;
			}
			r = cap - n;
			if (r > max - n)
				r = (size_t)(max - n);
			r = fread(b + n, 1, r, f);
			n += r;
		} else
			r = fread(junk, 1, sizeof(junk), f);
		total += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		goto fail;
	}
	fclose(f);
	m->path = path;
	m->raw = b;
	m->len = n;
	m->total = total;
	return 0;
fail:
	free(b);
	fclose(f);
	return -1;
}

struct bench_msg *
bench_load(const char *prog, char *const *paths, size_t n, uint64_t max)
{
	struct bench_msg	*msgs;
	size_t			 i;

	if ((msgs = calloc(n, sizeof(*msgs))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (load_one(prog, paths[i], max, &msgs[i]) != 0) {
			bench_free(msgs, i);
			return NULL;
		}
	return msgs;
}

void
bench_free(struct bench_msg *msgs, size_t n)
{
	size_t	i;

	if (msgs == NULL)
		return;
	for (i = 0; i < n; i++)
		free(msgs[i].raw);
	free(msgs);
}

uint64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
