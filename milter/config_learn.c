/*
 * config_learn.c: the learn: section of the configuration (issue 18):
 * whether lurewall learns from the organisation's outbound mail, how
 * long it keeps what it learned, how much of it, and when the store is
 * mature enough to call a sender a first contact (learn.h).  Split from
 * config.c by role; see config.h.
 *
 *   learn:
 *     enable: true
 *     thread_expiry: 180d           # since a thread was last seen
 *     correspondent_expiry: 730d    # accounts, correspondents, domains
 *     max_threads: 1000000          # per organisation
 *     max_correspondents: 100000    # per organisation, each kind
 *     mature_after: 14d             # since the first message learned
 *     mature_messages: 500          # or this many outbound messages
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "duration.h"
#include "yamlutil.h"

#define DAY_MS		(86400ULL * 1000)
#define EXPIRY_MAX_MS	(3650 * DAY_MS)		/* ten years */

static const char *const learn_keys[] = {
	"enable", "thread_expiry", "correspondent_expiry", "max_threads",
	"max_correspondents", "mature_after", "mature_messages", NULL
};

/* A duration in whole days, at least min_days. */
static enum lw_err
days(const struct ydoc *d, const struct ynode *n, const char *key,
    unsigned min_days, unsigned *out, char *err, size_t errlen)
{
	const struct ynode	*v = y_get(n, key);
	char			 path[64], *s = NULL;
	uint64_t		 ms;
	bool			 good;
	enum lw_err		 e;

	if (v == NULL)
		return LW_OK;
	snprintf(path, sizeof(path), "learn.%s", key);
	if ((e = y_string(d, v, path, &s, err, errlen)) != LW_OK)
		return e;
	good = duration_parse(s, 0, EXPIRY_MAX_MS, &ms) &&
	    ms % DAY_MS == 0 && ms / DAY_MS >= min_days;
	free(s);
	if (!good)
		return yerr(d, v, path, err, errlen, "expected whole days "
		    "like 180d or 26w (at least %ud, at most 3650d)",
		    min_days);
	*out = (unsigned)(ms / DAY_MS);
	return LW_OK;
}

static enum lw_err
count(const struct ydoc *d, const struct ynode *n, const char *key,
    long long max, uint64_t *out, char *err, size_t errlen)
{
	const struct ynode	*v = y_get(n, key);
	char			 path[64];
	long long		 x;
	enum lw_err		 e;

	if (v == NULL)
		return LW_OK;
	snprintf(path, sizeof(path), "learn.%s", key);
	if ((e = y_int(d, v, path, 1, max, &x, err, errlen)) == LW_OK)
		*out = (uint64_t)x;
	return e;
}

/* Out of memory wins over a bad value, a bad value over none. */
static void
worst(enum lw_err *r, enum lw_err e)
{
	if (e != LW_OK && *r != LW_ENOMEM)
		*r = e;
}

enum lw_err
config_learn_load(const struct ydoc *d, const struct ynode *n,
    struct learn_config *c, char *err, size_t errlen)
{
	const struct ynode	*v;
	enum lw_err		 e, r = LW_OK;

	if (n == NULL || y_isnull(n))
		return LW_OK;
	if ((e = y_map(d, n, "learn", learn_keys, err, errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "enable")) != NULL)
		r = y_bool(d, v, "learn.enable", &c->enable, err, errlen);
	/* Every key is checked: the admin sees all errors at once. */
	worst(&r, days(d, n, "thread_expiry", 1, &c->thread_days, err,
	    errlen));
	worst(&r, days(d, n, "correspondent_expiry", 1,
	    &c->correspondent_days, err, errlen));
	worst(&r, days(d, n, "mature_after", 0, &c->mature_days, err,
	    errlen));
	worst(&r, count(d, n, "max_threads", 100000000, &c->max_threads,
	    err, errlen));
	worst(&r, count(d, n, "max_correspondents", 10000000,
	    &c->max_correspondents, err, errlen));
	worst(&r, count(d, n, "mature_messages", 100000000,
	    &c->mature_messages, err, errlen));
	return r;
}

void
config_learn_print(const struct learn_config *c, FILE *f)
{
	fprintf(f, "learn:\n  enable: %s\n  thread_expiry: %ud\n"
	    "  correspondent_expiry: %ud\n  max_threads: %" PRIu64 "\n"
	    "  max_correspondents: %" PRIu64 "\n  mature_after: %ud\n"
	    "  mature_messages: %" PRIu64 "\n", c->enable ? "true" : "false",
	    c->thread_days, c->correspondent_days, c->max_threads,
	    c->max_correspondents, c->mature_days, c->mature_messages);
}
