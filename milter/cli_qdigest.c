/*
 * cli_qdigest.c: `lurewall quarantine digest`, each recipient's held
 * items in one mail (notice.c composes and sends it).  Split from
 * cli_quarantine.c by role; the verb table and the shared option and
 * error helpers stay there (cli_quarantine_int.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_quarantine.h"
#include "cli_quarantine_int.h"
#include "cli_verb.h"
#include "config.h"
#include "lurewall.h"
#include "notice.h"
#include "policy.h"
#include "quarantine.h"

/* One recipient's held items, for the digest. */
struct digest_rcpt {
	char			 *rcpt;		/* lowercased */
	struct notice_item	 *items;
	size_t			  n;
};

static struct digest_rcpt *
digest_find(struct digest_rcpt **v, size_t *n, const char *rcpt)
{
	struct digest_rcpt	*nv;
	size_t			 i;

	for (i = 0; i < *n; i++)
		if (strcasecmp((*v)[i].rcpt, rcpt) == 0)
			return &(*v)[i];
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	if ((nv[*n].rcpt = strdup(rcpt)) == NULL)
		return NULL;
	return &nv[(*n)++];
}

/*
 * One mail per recipient listing what is held for them (not released,
 * not pending split PPAP) since --since (default 1d), for every
 * recipient whose policy has notify.digest on, in the policy's
 * language, from its notify.from.  --rcpt: only that recipient (its
 * policy need not have digest on).  --dry-run prints the mails.
 */
int
cmd_digest(int argc, char **argv, void *ctx)
{
	struct quarantine	 *q = ctx;
	struct quarantine_item	**v = NULL;
	struct policyset	 *ps = NULL;
	struct digest_rcpt	 *dr = NULL, *d;
	const struct policy	 *p;
	const char		 *only = NULL, *dom;
	char			  err[1024], *msg;
	struct qargs		  a;
	time_t			  since, now = time(NULL);
	size_t			  n = 0, ndr = 0, i, j, len, sent = 0;
	bool			  dry;
	const struct config	 *cfg = qcli_config();
	enum lw_err		  e;
	int			  rc;

	if ((rc = qcli_args(argc, argv, "", "since rcpt dry-run", 0, &a)) !=
	    CLI_OK)
		return rc;
	if ((since = a.since) == 0)
		since = now - 86400;
	only = a.rcpt;
	dry = a.dry_run;
	if (cfg == NULL) {
		fprintf(stderr, "lurewall: digest: no configuration\n");
		return CLI_TROUBLE;
	}
	if (policy_load_dir(cfg->policy_dir, &cfg->limits, &ps, err,
	    sizeof(err)) != LW_OK) {
		fprintf(stderr, "lurewall: %s\n", err);
		return CLI_TROUBLE;
	}
	if ((e = quarantine_list(q, &v, &n)) != LW_OK) {
		policyset_unref(ps);
		return qcli_open_error(quarantine_dir(q), e);
	}
	for (i = 0; i < n; i++) {
		const struct quarantine_item	*it = v[i];

		if (it->released || it->time < since || (it->state != NULL &&
		    strcmp(it->state, "pending") == 0))
			continue;
		for (j = 0; j < it->nrcpts; j++) {
			if (only != NULL && strcasecmp(only, it->rcpts[j]) != 0)
				continue;
			if ((d = digest_find(&dr, &ndr, it->rcpts[j])) == NULL)
				goto nomem;
			if (d->n >= NOTICE_MAX_ITEMS)
				continue;
			if (d->n % 16 == 0) {
				struct notice_item	*ni;

				if ((ni = reallocarray(d->items, d->n + 16,
				    sizeof(*ni))) == NULL)
					goto nomem;
				d->items = ni;
			}
			memset(&d->items[d->n], 0, sizeof(d->items[d->n]));
			d->items[d->n].id = it->id;
			d->items[d->n].when = it->time;
			d->items[d->n].sender = it->mail_from;
			d->items[d->n].from = it->from;
			d->items[d->n].subject = it->subject;
			d->items[d->n].rules = it->rules;
			d->items[d->n].score = it->score;
			d->n++;
		}
	}
	for (i = 0; i < ndr; i++) {
		d = &dr[i];
		dom = strrchr(d->rcpt, '@');
		p = policyset_for_domain(ps, dom != NULL ? dom + 1 : "");
		if (p == NULL)
			p = policyset_default(ps);
		if (only == NULL && !p->notify.digest)
			continue;
		if (p->notify.from == NULL) {
			fprintf(stderr, "lurewall: digest for %s: policy %s has "
			    "no notify.from\n", d->rcpt, p->name);
			rc = CLI_TROUBLE;
			continue;
		}
		e = notice_compose(cfg, NOTICE_DIGEST,
		    policy_lang_names[p->language], p->notify.from, d->rcpt,
		    d->items, d->n, now, &msg, &len);
		if (e != LW_OK) {
			fprintf(stderr, "lurewall: digest for %s: %s\n",
			    d->rcpt, lw_strerror(e));
			rc = qcli_worse(rc, CLI_NO);
			continue;
		}
		if (dry) {
			printf("%s\n", msg);
		} else if (notice_send(cfg, d->rcpt, msg, len, false) !=
		    LW_OK) {
			fprintf(stderr, "lurewall: digest for %s: the submit "
			    "command failed\n", d->rcpt);
			rc = qcli_worse(rc, CLI_NO);
		} else {
			printf("digest to %s: %zu item%s\n", d->rcpt, d->n,
			    d->n == 1 ? "" : "s");
			sent++;
		}
		free(msg);
	}
	goto out;
 nomem:
	fprintf(stderr, "lurewall: out of memory\n");
	rc = CLI_TROUBLE;
 out:
	for (i = 0; i < ndr; i++) {
		free(dr[i].rcpt);
		free(dr[i].items);
	}
	free(dr);
	quarantine_items_free(v, n);
	policyset_unref(ps);
	(void)sent;
	return fflush(stdout) == 0 ? rc : CLI_TROUBLE;
}
