/*
 * fuzz_scan.c: libFuzzer target for the whole engine: any bytes as a
 * message through scan_message(), as `lurewall scan` and the milter
 * call it, under the shipped default policy (conf/policy.d, loaded
 * once; $LW_TOP names the source tree, else the current directory) for
 * one recipient.  Checks what every caller relies on: LW_OK comes with
 * a verdict, and every finding's rule, part and detail is printable
 * UTF-8 (details and parts end up in log lines and SMTP replies).
 *
 * The budget is smaller than the default so one input stays fast:
 * 16 MiB inflated, 5 s wall clock (anything past that is a hang).
 *   make fuzz FUZZ_TARGETS=scan FUZZ_SECONDS=60
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "policy.h"
#include "runtime.h"
#include "scan.h"
#include "verdict.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct policyset	*fz_ps;

static void
fz_load(void)
{
	const char	*top = getenv("LW_TOP");
	char		 dir[PATH_MAX], err[1024];

	snprintf(dir, sizeof(dir), "%s/conf/policy.d",
	    top != NULL ? top : ".");
	if (policy_load_dir(dir, NULL, &fz_ps, err, sizeof(err)) != LW_OK) {
		fprintf(stderr, "fuzz_scan: %s\n", err);
		abort();
	}
}

/* Printable UTF-8: no control characters, no invalid sequences. */
static void
fz_clean(const char *s)
{
	const unsigned char	*p;

	if (s == NULL || !charset_valid_utf8(s, strlen(s)))
		abort();
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		*rcpts[] = { "sato@example.co.jp" };
	struct envelope		 env;
	struct limits		 lim;
	struct runtime		 rt;
	struct scan_result	 res;
	const struct verdict	*v;
	size_t			 i;

	if (fz_ps == NULL)
		fz_load();
	limits_default(&lim);
	lim.archive_total_bytes = 16U << 20;
	lim.scan_timeout_ms = 5000;
	memset(&env, 0, sizeof(env));
	env.qid = "FUZZ";
	env.mail_from = "sender@example.com";
	env.rcpts = rcpts;
	env.nrcpts = 1;
	if (scan_message(runtime_view(&rt, &lim, fz_ps), data, size, &env,
	    &res) != LW_OK)
		return 0;
	if ((v = res.verdict) == NULL || v->rules == NULL ||
	    res.msg == NULL)
		abort();
	for (i = 0; i < v->findings.n; i++) {
		fz_clean(v->findings.v[i].rule);
		fz_clean(v->findings.v[i].part);
		fz_clean(v->findings.v[i].detail);
	}
	scan_result_free(&res);
	return 0;
}
