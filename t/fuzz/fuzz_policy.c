/*
 * fuzz_policy.c: libFuzzer target for the policy loader (yamlutil.c and
 * policy.c).  The input is up to three files separated by a line
 * "--8<--": default.yaml, a.yaml (a domain policy) and names.txt (for
 * staff_names_file or correspondents_file).  They are written to a
 * private temporary directory, loaded, looked up, printed and freed;
 * a load error is an ordinary outcome, a crash or leak is a bug.
 *
 * Build and run (60 s):
 *   make fuzz FUZZ_TARGETS=policy FUZZ_SECONDS=60
 * t/4003-fuzz-policy replays t/corpus/policy in make check.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fz_dir[PATH_MAX];

/* The replay test sets its own directory; the fuzzer makes one. */
static void
fz_setdir(const char *d)
{
	snprintf(fz_dir, sizeof(fz_dir), "%s", d);
}

static void
fz_write(const char *name, const uint8_t *p, size_t len)
{
	char	 path[PATH_MAX + 32];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", fz_dir, name);
	unlink(path);
	if (p == NULL)
		return;
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (len > 0 && fwrite(p, 1, len, f) != len)
		abort();
	if (fclose(f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 sep[] = "\n--8<--\n";
	static const char *const names[] = { "default.yaml", "a.yaml",
	    "names.txt" };
	FILE			*devnull;
	const char *const	 lookups[] = { "a.example", "x.a.example",
	    "b.example", "", NULL };
	struct policyset	*s;
	const uint8_t		*p = data, *end = data + size, *cut;
	char			 err[1024], tmpl[] = "/tmp/fuzz_policy.XXXXXX";
	size_t			 i;

	if (fz_dir[0] == '\0') {
		if (mkdtemp(tmpl) == NULL)
			abort();
		fz_setdir(tmpl);
	}
	for (i = 0; i < 3; i++) {
		if (p == NULL) {
			fz_write(names[i], NULL, 0);
			continue;
		}
		cut = memmem(p, end - p, sep, sizeof(sep) - 1);
		fz_write(names[i], p, (cut != NULL ? cut : end) - p);
		p = cut != NULL ? cut + sizeof(sep) - 1 : NULL;
	}
	if (policy_load_dir(fz_dir, NULL, &s, err, sizeof(err)) != LW_OK)
		return 0;
	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++)
		(void)policy_score(policyset_for_domain(s, lookups[i]),
		    "OFFICE_VBA");
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	policyset_print(s, devnull);
	fclose(devnull);
	policyset_unref(s);
	return 0;
}
