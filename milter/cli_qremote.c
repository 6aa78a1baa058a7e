/*
 * cli_qremote.c: other hosts' items for `lurewall quarantine list`,
 * `show`, `release` and `delete`, through the shared index
 * (quarantine_index.h) when the state is on Redis.
 *
 * Takes the config and the local store; lists every host's indexed
 * items beside this host's own, finds an item by id (or short id) on
 * another host, and asks that host's daemon to release or delete it,
 * waiting for its answer.  Nothing here touches another host's files:
 * the host holding an item is the only one that acts on it.  Without
 * Redis, or when the server is away, the verbs see this host alone
 * (said on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_exit.h"
#include "cli_qview.h"
#include "cli_quarantine_int.h"
#include "config.h"
#include "quarantine.h"
#include "quarantine_index.h"
#include "state.h"

struct qindex *
qremote_open(const struct config *cfg, struct quarantine *q)
{
	struct state	*st;
	struct qindex	*qx;
	enum lw_err	 e;

	if (cfg == NULL || cfg->state.backend != STATE_REDIS)
		return NULL;
	if ((e = state_open(&cfg->state, false, &st)) != LW_OK) {
		fprintf(stderr, "lurewall: state.redis: %s; showing this "
		    "host's items only\n", lw_strerror(e));
		return NULL;
	}
	if ((e = qindex_open(st, q, cfg->state.host_name, &qx)) != LW_OK) {
		state_close(st);
		fprintf(stderr, "lurewall: the shared quarantine index: %s\n",
		    lw_strerror(e));
		return NULL;
	}
	quarantine_set_notify(q, qindex_touch, qx);
	return qx;
}

static void
away(const struct qindex *qx, enum lw_err e)
{
	fprintf(stderr, "lurewall: the shared quarantine index is "
	    "unreachable (%s): this host's (%s) items only\n",
	    e == LW_EIO ? "redis away" : lw_strerror(e), qindex_host(qx));
}

int
qremote_list(struct qindex *qx, const char *host,
    struct quarantine_item ***v, size_t *n)
{
	struct quarantine_item	**r = NULL, **nv;
	size_t			  nr = 0, i;
	enum lw_err		  e;

	/* Ours carry our name; --host of another host: none of ours. */
	if (host != NULL && strcmp(host, qindex_host(qx)) != 0) {
		quarantine_items_free(*v, *n);
		*v = NULL;
		*n = 0;
	}
	for (i = 0; i < *n; i++)
		if (((*v)[i]->host = strdup(qindex_host(qx))) == NULL)
			return CLI_TROUBLE;
	if (host != NULL && strcmp(host, qindex_host(qx)) == 0)
		return CLI_OK;
	if ((e = qindex_list(qx, host, &r, &nr)) != LW_OK) {
		qindex_sort(*v, *n);
		away(qx, e);
		return CLI_OK;
	}
	if (nr == 0) {
		free(r);
		return CLI_OK;
	}
	if ((nv = reallocarray(*v, *n + nr, sizeof(*nv))) == NULL) {
		quarantine_items_free(r, nr);
		return CLI_TROUBLE;
	}
	memcpy(nv + *n, r, nr * sizeof(*r));
	free(r);
	*v = nv;
	*n += nr;
	qindex_sort(*v, *n);
	return CLI_OK;
}

int
qremote_find(struct qindex *qx, const char *verb, const char *arg,
    const char *host, struct quarantine_item **out)
{
	struct quarantine_item	**v;
	size_t			  n, i, len = strlen(arg), found = 0, at = 0;
	enum lw_err		  e;
	char			 *sid;

	*out = NULL;
	sid = qview_safe(arg);
	if ((e = qindex_list(qx, host, &v, &n)) != LW_OK) {
		away(qx, e);
		fprintf(stderr, "lurewall: %s %s: not found on this host\n",
		    verb, sid);
		free(sid);
		return CLI_NO;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->id, arg) == 0) {
			found = 1;
			at = i;
			break;
		}
		if (len < 4 || (strncmp(v[i]->id, arg, len) != 0 &&
		    strncmp(qview_short(v[i]->id), arg, len) != 0))
			continue;
		if (found++ == 0)
			at = i;
	}
	if (found == 1) {
		*out = v[at];
		v[at] = NULL;
	} else if (found > 1)
		fprintf(stderr, "lurewall: %s %s: ambiguous: %zu items on "
		    "other hosts start so; give more of the id\n", verb, sid,
		    found);
	else
		fprintf(stderr, "lurewall: %s %s: not found on any host\n",
		    verb, sid);
	for (i = 0; i < n; i++)
		quarantine_item_free(v[i]);
	free(v);
	free(sid);
	return found == 1 ? CLI_OK : found > 1 ? CLI_TROUBLE : CLI_NO;
}

/* What the other host's CLI said, each line under its name. */
static void
relay(const char *host, const char *answer, FILE *f)
{
	const char	*p, *nl;
	char		*line, *safe;

	for (p = answer; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if ((line = lw_strndup(p, (size_t)(nl - p))) != NULL) {
			safe = qview_safe(line);
			fprintf(f, "%s: %s\n", host, safe);
			free(safe);
			free(line);
		}
		if (*nl == '\0')
			break;
	}
}

int
qremote_ask(struct qindex *qx, const char *verb,
    const struct quarantine_item *it, const char *to, bool force,
    const char *who, unsigned timeout_secs)
{
	struct qindex_cmd	 c;
	enum qindex_status	 st;
	enum lw_err		 e;
	char			*answer = NULL, by[QINDEX_WHO_MAX + 64];
	bool			 taken;
	int			 rc;

	memset(&c, 0, sizeof(c));
	snprintf(c.verb, sizeof(c.verb), "%s", verb);
	snprintf(c.id, sizeof(c.id), "%s", it->id);
	snprintf(by, sizeof(by), "%s on %s", who, qindex_host(qx));
	c.to = (char *)to;
	c.force = force;
	c.who = by;
	e = qindex_ask(qx, it->host, &c, timeout_secs * 1000, &st, &answer);
	if (e != LW_OK) {
		fprintf(stderr, "lurewall: %s %s: cannot ask %s: %s; nothing "
		    "done\n", verb, it->id, it->host, e == LW_EIO ?
		    "the shared state (redis) is unreachable" :
		    lw_strerror(e));
		return CLI_NO;
	}
	switch (st) {
	case QINDEX_DONE:
		relay(it->host, answer, stdout);
		rc = CLI_OK;
		break;
	case QINDEX_FAILED:
		relay(it->host, answer, stderr);
		fprintf(stderr, "lurewall: %s %s: %s tried and failed\n",
		    verb, it->id, it->host);
		rc = CLI_NO;
		break;
	default:
		/* Taken: it may yet happen; else withdrawn: it never will. */
		taken = st == QINDEX_TAKEN;
		fprintf(stderr, "lurewall: %s %s: %s %s, not confirmed within "
		    "%us%s\n", verb, it->id, taken ? "taken by" : "queued for",
		    it->host, timeout_secs, taken ? "; it may still complete "
		    "(see `lurewall quarantine list --host` there)" : " (is "
		    "lurewall-milter running there?); withdrawn, nothing done");
		rc = taken ? CLI_PENDING : CLI_NO;
		break;
	}
	free(answer);
	return rc;
}
