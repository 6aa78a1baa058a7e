/*
 * fuzz-replay.c: the plain main() that replays a fuzz target's corpus in
 * make check.  t/fuzz/fuzz.mak links it with t/fuzz/fuzz_NAME.c as
 * t/7000-fuzz-NAME (-DFUZZ_NAME="NAME"), built with the tree's flags, so
 * the sanitizer run of make check replays under ASan and UBSan too.
 *
 * Every file of t/corpus/NAME/ (the seeds, and each input that once
 * crashed the fuzzer) goes through LLVMFuzzerTestOneInput once, in name
 * order; a crash fails the test program, a non-zero return fails that
 * file.  Bounded by an alarm: a hang is a failure too.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME='\"name\"' (see t/fuzz/fuzz.mak)"
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Targets may define it; libFuzzer calls it once before any input. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int
visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	char		 dir[PATH_MAX], path[PATH_MAX * 2];
	unsigned char	*buf;
	struct dirent	**de;
	size_t		 len;
	int		 i, n;

	/* Whole corpus under ASan in CI: minutes, never an hour. */
	alarm(600);
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	snprintf(dir, sizeof(dir), "%s/t/corpus/%s", tap_top(), FUZZ_NAME);
	if ((n = scandir(dir, &de, visible, alphasort)) < 0)
		bail("cannot read %s (every fuzz target needs seeds)", dir);
	ok(n > 0, "t/corpus/%s has seeds (%d files)", FUZZ_NAME, n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, de[i]->d_name);
		buf = tap_slurp(path, &len);
		ok(LLVMFuzzerTestOneInput(buf, len) == 0, "%s/%s", FUZZ_NAME,
		    de[i]->d_name);
		free(buf);
		free(de[i]);
	}
	free(de);
	return done_testing();
}
