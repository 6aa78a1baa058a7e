/*
 * 4060-confdiff: what a reload changed (confdiff.c), as the daemon's
 * "reloaded" line says it: nothing, config keys, policies added,
 * removed and changed, domains added and removed.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confdiff.h"
#include "config.h"
#include "policy.h"
#include "tap.h"

static char	 dir[1024];

static void
put(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
}

static void
load(struct config **c, struct policyset **ps)
{
	char	path[PATH_MAX], err[1024];

	snprintf(path, sizeof(path), "%s/lurewall.yaml", dir);
	if (config_load(path, c, err, sizeof(err)) != LW_OK ||
	    policy_load_dir((*c)->policy_dir, &(*c)->limits, ps, err,
	    sizeof(err)) != LW_OK)
		bail("%s", err);
}

/* Load, change nothing or something, load again, compare. */
static void
step(struct config **c, struct policyset **ps, const char *want,
    const char *what)
{
	struct config		*nc;
	struct policyset	*nps;
	char			*d;

	load(&nc, &nps);
	d = confdiff(*c, *ps, nc, nps);
	if (!ok(d != NULL && strcmp(d, want) == 0, "%s", what))
		diag("got  \"%s\"\nwant \"%s\"", d != NULL ? d : "(null)",
		    want);
	free(d);
	config_free(*c);
	policyset_unref(*ps);
	*c = nc;
	*ps = nps;
}

int
main(void)
{
	struct config		*c;
	struct policyset	*ps;
	char			 pd[PATH_MAX], want[PATH_MAX + 256];

	snprintf(dir, sizeof(dir), "%s", tap_tmpdir("4060-confdiff"));
	snprintf(pd, sizeof(pd), "%s/policy.d", dir);
	if (mkdir(pd, 0700) != 0)
		bail("mkdir %s", pd);
	put("lurewall.yaml", "policy_dir: policy.d\non_error: tempfail\n");
	put("policy.d/default.yaml", "thresholds: {tag: 5}\n");
	load(&c, &ps);

	step(&c, &ps, "nothing changed", "the same files: nothing changed");
	put("lurewall.yaml", "policy_dir: policy.d\non_error: accept\n"
	    "limits: {mime_depth: 7}\n");
	step(&c, &ps, "config: on_error,limits.mime_depth changed",
	    "config keys that changed, nested ones with their parent");
	put("policy.d/example.jp.yaml", "domains: [example.jp, "
	    "example.co.jp]\nthresholds: {tag: 3}\n");
	snprintf(want, sizeof(want), "policies: +example.jp (%s/policy.d/"
	    "example.jp.yaml); domains: +example.jp +example.co.jp", dir);
	step(&c, &ps, want, "a new domain policy and its domains");
	put("policy.d/default.yaml", "thresholds: {tag: 6}\n");
	step(&c, &ps, "policies: ~default", "a changed policy");
	put("policy.d/example.jp.yaml", "domains: [example.jp]\n"
	    "thresholds: {tag: 3}\n");
	step(&c, &ps, "policies: ~example.jp; domains: -example.co.jp",
	    "a domain removed from a policy");
	snprintf(pd, sizeof(pd), "%s/policy.d/example.jp.yaml", dir);
	if (unlink(pd) != 0)
		bail("unlink %s", pd);
	step(&c, &ps, "policies: -example.jp; domains: -example.jp",
	    "a policy file removed");
	config_free(c);
	policyset_unref(ps);
	return done_testing();
}
