/*
 * 4003-fuzz-policy: replay t/corpus/policy (the fuzzer's seeds and any
 * input that once crashed it) through the fuzz target, so that make
 * check (and its ASan run) keeps every fixed crash fixed.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "fuzz/fuzz_policy.c"

int
main(void)
{
	char		 cdir[PATH_MAX], path[PATH_MAX * 2];
	unsigned char	*buf;
	struct dirent	*de;
	DIR		*dp;
	size_t		 len, n = 0;

	fz_setdir(tap_tmpdir("4003-fuzz-policy"));
	snprintf(cdir, sizeof(cdir), "%s/t/corpus/policy", tap_top());
	if ((dp = opendir(cdir)) == NULL)
		bail("cannot open %s", cdir);
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", cdir, de->d_name);
		buf = tap_slurp(path, &len);
		ok(LLVMFuzzerTestOneInput(buf, len) == 0, "replay %s",
		    de->d_name);
		free(buf);
		n++;
		/* The seeds named for good policies must really load. */
		if (strcmp(de->d_name, "sample") == 0 ||
		    strcmp(de->d_name, "corr") == 0) {
			struct policyset	*s;
			char			 err[1024];

			if (!ok(policy_load_dir(fz_dir, NULL, &s, err,
			    sizeof(err)) == LW_OK, "seed %s loads",
			    de->d_name))
				diag("%s", err);
			else
				policyset_unref(s);
		}
	}
	closedir(dp);
	ok(n >= 4, "corpus has the seeds (%zu files)", n);
	return done_testing();
}
