/*
 * cli_learn.c: `lurewall learn import|stats|show|forget|export`, the
 * admin's view of what lurewall learned from the organisation's own
 * mail (learn.h), in the config's state: the one the daemon writes and
 * `lurewall scan` reads.
 *
 * stats   per organisation: messages and replies learned, the time
 *         span, records per kind, whether first contacts are judged;
 * show    what is kept about an address, a domain (and the addresses
 *         at it) or a display name, as the rules would match it;
 * forget  an address or a domain, on request of the person (GDPR,
 *         APPI): every record of it, its names, and the domain from
 *         every thread;
 * export  every record as one JSON object a line;
 * import  seeds the store from Sent folders (cli_learn_import.c).
 *
 * Names, addresses and domains are attacker text: printed sanitized
 * (JSON strings are made valid UTF-8 by json.h).  stats, show and
 * export open the state read-only and never create it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_exit.h"
#include "cli_learn.h"
#include "cli_learn_int.h"
#include "cli_verb.h"
#include "config.h"
#include "json.h"
#include "learn.h"
#include "policy.h"
#include "state.h"
#include "util.h"

#define SHOWN_MAX	200	/* addresses listed under a domain */

int
learn_cli_open(struct learn_cli *c, bool write, bool policies)
{
	char		err[1024];
	enum lw_err	e;

	if (config_load(c->config_path, &c->cfg, err, sizeof(err)) != LW_OK) {
		fprintf(stderr, "lurewall: %s\n", err);
		return CLI_TROUBLE;
	}
	if (policies && policy_load_dir(c->cfg->policy_dir, &c->cfg->limits,
	    &c->ps, err, sizeof(err)) != LW_OK) {
		fprintf(stderr, "lurewall: %s\n", err);
		return CLI_TROUBLE;
	}
	c->lc = c->cfg->learn;
	c->now = time(NULL);
	e = state_open(&c->cfg->state, !write, &c->st);
	if (e == LW_ENOTFOUND && !write)
		return CLI_OK;		/* never written: nothing learned */
	if (e != LW_OK) {
		fprintf(stderr, "lurewall: state %s: %s\n",
		    c->cfg->state.backend == STATE_REDIS ? "(redis)" :
		    c->cfg->state.path, lw_strerror(e));
		return CLI_TROUBLE;
	}
	if ((e = learn_open(c->st, &c->lc, &c->l)) != LW_OK) {
		fprintf(stderr, "lurewall: learn: %s\n", lw_strerror(e));
		return CLI_TROUBLE;
	}
	return CLI_OK;
}

static void *
learn_cli_new(const char *config_path)
{
	struct learn_cli	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fprintf(stderr, "lurewall: out of memory\n");
		return NULL;
	}
	c->config_path = config_path;
	return c;
}

static void
learn_cli_close(void *ctx)
{
	struct learn_cli	*c = ctx;

	if (c->l != NULL)
		learn_close(c->l);
	state_close(c->st);
	if (c->ps != NULL)
		policyset_unref(c->ps);
	config_free(c->cfg);
	free(c);
}

/* Attacker text for the terminal: sanitized, or "?" on ENOMEM. */
static void
put_text(const char *before, const char *s, const char *after)
{
	char	*t = lw_sanitize(s, strlen(s), 200);

	printf("%s%s%s", before, t != NULL ? t : "?", after);
	free(t);
}

static const char *
when(time_t t, char *buf, size_t len)
{
	if (t == 0)
		return "-";
	lw_time_fmt(buf, len, LW_TIME_MINUTE_ZONE, t);
	return buf;
}

/* The organisations that learned anything (learn_orgs). */
struct orgs {
	char	(*v)[LEARN_ORG_MAX + 1];
	size_t	 n;
};

static enum lw_err
orgs_get(struct learn_cli *c, struct orgs *o)
{
	o->v = NULL;
	o->n = 0;
	if (c->l == NULL)
		return LW_OK;
	return learn_orgs(c->l, c->now, &o->v, &o->n);
}

static void
stats_json(const char *org, const struct learn_stats *s)
{
	size_t	i;

	fputc('{', stdout);
	json_key(stdout, "organisation", 1);
	json_string(stdout, org);
	json_key(stdout, "messages", 0);
	printf("%llu", (unsigned long long)s->messages);
	json_key(stdout, "replies", 0);
	printf("%llu", (unsigned long long)s->replies);
	json_key(stdout, "first", 0);
	printf("%lld", (long long)s->first);
	json_key(stdout, "last", 0);
	printf("%lld", (long long)s->last);
	for (i = 0; i < LEARN_KINDS; i++) {
		json_key(stdout, i == LEARN_ACCOUNT ? "accounts" :
		    i == LEARN_CORRESPONDENT ? "correspondents" :
		    i == LEARN_DOMAIN ? "domains" : "threads", 0);
		printf("%zu", s->n[i]);
	}
	json_key(stdout, "mature", 0);
	printf("%s}\n", s->mature ? "true" : "false");
}

static void
stats_text(const char *org, const struct learn_stats *s,
    const struct learn_config *lc)
{
	char	a[64], b[64];

	put_text("organisation    ", org, "\n");
	printf("messages        %llu outbound, %llu replies\n",
	    (unsigned long long)s->messages, (unsigned long long)s->replies);
	printf("learned         %s to %s\n", when(s->first, a, sizeof(a)),
	    when(s->last, b, sizeof(b)));
	printf("accounts        %zu\n", s->n[LEARN_ACCOUNT]);
	printf("correspondents  %zu\n", s->n[LEARN_CORRESPONDENT]);
	printf("domains         %zu\n", s->n[LEARN_DOMAIN]);
	printf("threads         %zu\n", s->n[LEARN_THREAD]);
	if (s->mature)
		printf("first contact   judged (HDR_FIRST_CONTACT)\n");
	else
		printf("first contact   not judged yet (%llu messages or "
		    "%u days learned first)\n",
		    (unsigned long long)lc->mature_messages, lc->mature_days);
}

static int
cmd_stats(int argc, char **argv, void *ctx)
{
	struct learn_cli	*c = ctx;
	struct learn_stats	 s;
	struct orgs		 o;
	bool			 json = argc == 2 &&
				    strcmp(argv[1], "--json") == 0;
	enum lw_err		 e;
	size_t			 i;
	int			 rc;

	if (argc > 2 || (argc == 2 && !json))
		return cli_usage();
	if ((rc = learn_cli_open(c, false, false)) != CLI_OK)
		return rc;
	if ((e = orgs_get(c, &o)) != LW_OK)
		goto fail;
	if (o.n == 0 && !json)
		printf("nothing learned yet: outbound mail through "
		    "lurewall-milter, or lurewall learn import\n");
	for (i = 0; i < o.n; i++) {
		if ((e = learn_stats(c->l, o.v[i], c->now, &s)) != LW_OK)
			goto fail;
		if (json)
			stats_json(o.v[i], &s);
		else {
			if (i > 0)
				putchar('\n');
			stats_text(o.v[i], &s, &c->lc);
		}
	}
	free(o.v);
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
fail:
	free(o.v);
	fprintf(stderr, "lurewall: learn stats: %s\n", lw_strerror(e));
	return CLI_TROUBLE;
}

static const char *
items_label(enum learn_kind k)
{
	return k == LEARN_THREAD ? "domain" : "name";
}

static void
record_text(const struct learn_record *r, bool brief)
{
	char	a[64], b[64];
	size_t	i;

	printf("%-13s ", learn_kind_name(r->kind));
	put_text("", r->key, "");
	put_text(" (organisation ", r->org, ")");
	printf(": %llu out, %llu in, last %s\n", (unsigned long long)r->out,
	    (unsigned long long)r->in, when(r->last, a, sizeof(a)));
	if (brief)
		return;
	printf("  first seen    %s\n", when(r->first, b, sizeof(b)));
	for (i = 0; i < r->nitems; i++) {
		printf("  %-13s ", items_label(r->kind));
		put_text("", r->items[i].text, "");
		printf(" (%llu, last %s)\n",
		    (unsigned long long)r->items[i].count,
		    when(r->items[i].last, a, sizeof(a)));
	}
	if (r->kind == LEARN_THREAD)
		printf("  subject hash  %s\n  account hash  %s\n", r->subject,
		    r->account);
}

/* show DOMAIN: the addresses at it, the threads it takes part in. */
struct at_domain {
	const char	*domain;
	size_t		 shown;
	size_t		 more;
	size_t		 threads;
};

static bool
below(const char *d, const char *parent)
{
	size_t	n = strlen(d), m = strlen(parent);

	return n >= m && strcmp(d + n - m, parent) == 0 &&
	    (n == m || d[n - m - 1] == '.' || d[n - m - 1] == '@');
}

static enum lw_err
at_domain_one(void *arg, const struct learn_record *r)
{
	struct at_domain	*a = arg;
	size_t			 i;

	if (r->kind == LEARN_THREAD) {
		for (i = 0; i < r->nitems; i++)
			if (below(r->items[i].text, a->domain)) {
				a->threads++;
				break;
			}
		return LW_OK;
	}
	if (r->kind == LEARN_DOMAIN || !below(r->key, a->domain))
		return LW_OK;
	if (a->shown++ < SHOWN_MAX)
		record_text(r, true);
	else
		a->more++;
	return LW_OK;
}

static enum lw_err
show_domain(struct learn_cli *c, const struct orgs *o, const char *dom,
    bool *found)
{
	struct learn_record	 r;
	struct at_domain	 a = { dom, 0, 0, 0 };
	enum lw_err		 e;
	size_t			 i;

	for (i = 0; i < o->n; i++) {
		e = learn_get(c->l, o->v[i], LEARN_DOMAIN, dom, c->now, &r);
		if (e == LW_ENOTFOUND)
			continue;
		if (e != LW_OK)
			return e;
		record_text(&r, false);
		learn_record_free(&r);
		*found = true;
	}
	if ((e = learn_each(c->l, NULL, LEARN_KINDS, c->now, at_domain_one,
	    &a)) != LW_OK)
		return e;
	if (a.more > 0)
		printf("(and %zu more addresses)\n", a.more);
	if (a.threads > 0)
		put_text("threads with ", dom, "");
	if (a.threads > 0)
		printf(" as a participant: %zu\n", a.threads);
	if (a.shown > 0 || a.threads > 0)
		*found = true;
	return LW_OK;
}

static enum lw_err
show_name(struct learn_cli *c, const struct orgs *o, const char *name,
    bool *found)
{
	struct learn_match	*v;
	size_t			 i, j, n;
	enum lw_err		 e;

	for (i = 0; i < o->n; i++) {
		if ((e = learn_names(c->l, o->v[i], name, c->now, &v, &n)) !=
		    LW_OK)
			return e;
		for (j = 0; j < n; j++) {
			put_text("name of ", learn_kind_name(v[j].kind), "");
			put_text(" ", v[j].addr, "");
			put_text(" (organisation ", o->v[i], ")");
			printf(": %llu messages%s\n",
			    (unsigned long long)v[j].count, v[j].confusable ?
			    ", by confusable characters only" : "");
		}
		if (n > 0)
			*found = true;
		learn_matches_free(v, n);
	}
	return LW_OK;
}

static int
cmd_show(int argc, char **argv, void *ctx)
{
	struct learn_cli	*c = ctx;
	static const enum learn_kind people[] = { LEARN_ACCOUNT,
	    LEARN_CORRESPONDENT };
	struct learn_record	 r;
	struct orgs		 o = { NULL, 0 };
	char			*what = NULL;
	bool			 found = false;
	enum lw_err		 e = LW_OK;
	size_t			 i, k;
	int			 rc;

	if (argc != 2 || *argv[1] == '\0')
		return cli_usage();
	if ((rc = learn_cli_open(c, false, false)) != CLI_OK)
		return rc;
	if ((e = orgs_get(c, &o)) != LW_OK)
		goto out;
	if ((what = strdup(argv[1])) == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	if (strchr(what, '@') != NULL) {
		lw_strlower(what);
		for (i = 0; i < o.n && e == LW_OK; i++)
			for (k = 0; k < 2 && e == LW_OK; k++) {
				e = learn_get(c->l, o.v[i], people[k], what,
				    c->now, &r);
				if (e == LW_ENOTFOUND) {
					e = LW_OK;
					continue;
				}
				if (e == LW_OK) {
					record_text(&r, false);
					learn_record_free(&r);
					found = true;
				}
			}
		goto out;
	}
	/* A word with a dot and no blank is a domain; else a name. */
	if (strchr(what, '.') != NULL && strpbrk(what, " \t") == NULL &&
	    lw_is_ascii(what)) {
		lw_strlower(what);
		e = show_domain(c, &o, what, &found);
	}
	if (e == LW_OK && !found)
		e = show_name(c, &o, argv[1], &found);
out:
	free(what);
	free(o.v);
	if (e != LW_OK) {
		fprintf(stderr, "lurewall: learn show: %s\n", lw_strerror(e));
		return CLI_TROUBLE;
	}
	if (!found) {
		put_text("nothing learned about ", argv[1], "\n");
		return CLI_NO;
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

static int
cmd_forget(int argc, char **argv, void *ctx)
{
	struct learn_cli	*c = ctx;
	size_t		 removed = 0;
	enum lw_err	 e;
	int		 rc;

	if (argc != 2 || *argv[1] == '\0' || strpbrk(argv[1], " \t") !=
	    NULL || (strchr(argv[1], '@') == NULL &&
	    strchr(argv[1], '.') == NULL))
		return cli_usage();
	if ((rc = learn_cli_open(c, true, false)) != CLI_OK)
		return rc;
	if ((e = learn_forget(c->l, NULL, argv[1], c->now, &removed)) !=
	    LW_OK) {
		fprintf(stderr, "lurewall: learn forget: %s\n",
		    lw_strerror(e));
		return CLI_TROUBLE;
	}
	if (removed == 0) {
		put_text("nothing learned about ", argv[1], "\n");
		return CLI_NO;
	}
	put_text("forgot ", argv[1], "");
	printf(": %zu records removed or changed\n", removed);
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

static enum lw_err
export_one(void *arg, const struct learn_record *r)
{
	size_t	i;

	fputc('{', stdout);
	json_key(stdout, "organisation", 1);
	json_string(stdout, r->org);
	json_key(stdout, "kind", 0);
	json_string(stdout, learn_kind_name(r->kind));
	json_key(stdout, "key", 0);
	json_string(stdout, r->key);
	json_key(stdout, "first", 0);
	printf("%lld", (long long)r->first);
	json_key(stdout, "last", 0);
	printf("%lld", (long long)r->last);
	json_key(stdout, "out", 0);
	printf("%llu", (unsigned long long)r->out);
	json_key(stdout, "in", 0);
	printf("%llu", (unsigned long long)r->in);
	if (r->kind == LEARN_THREAD) {
		json_key(stdout, "subject_hash", 0);
		json_string(stdout, r->subject);
		json_key(stdout, "account_hash", 0);
		json_string(stdout, r->account);
	}
	json_key(stdout, r->kind == LEARN_THREAD ? "domains" : "names", 0);
	fputc('[', stdout);
	for (i = 0; i < r->nitems; i++) {
		fputc('{', stdout);
		json_key(stdout, items_label(r->kind), 1);
		json_string(stdout, r->items[i].text);
		json_key(stdout, "count", 0);
		printf("%llu", (unsigned long long)r->items[i].count);
		json_key(stdout, "last", 0);
		printf("%lld}%s", (long long)r->items[i].last,
		    i + 1 < r->nitems ? "," : "");
	}
	fputs("]}\n", stdout);
	return ferror(stdout) ? LW_EIO : LW_OK;
}

static int
cmd_export(int argc, char **argv, void *ctx)
{
	struct learn_cli	*c = ctx;
	enum lw_err	e;
	int		rc;

	/* JSON is the one format; the flag keeps room for another. */
	if (argc != 2 || strcmp(argv[1], "--json") != 0)
		return cli_usage();
	if ((rc = learn_cli_open(c, false, false)) != CLI_OK)
		return rc;
	if (c->l != NULL && (e = learn_each(c->l, NULL, LEARN_KINDS, c->now,
	    export_one, NULL)) != LW_OK) {
		fprintf(stderr, "lurewall: learn export: %s\n",
		    lw_strerror(e));
		return CLI_TROUBLE;
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

static int
cmd_import(int argc, char **argv, void *ctx)
{
	return cli_learn_import(argc, argv, ctx);
}

const struct cli_verb	cli_learn_verbs[] = {
	{ "import", cmd_import, "import [--account ADDR] FILE|DIR...", NULL },
	{ "stats", cmd_stats, "stats [--json]", NULL },
	{ "show", cmd_show, "show ADDR|DOMAIN|NAME", NULL },
	{ "forget", cmd_forget, "forget ADDR|DOMAIN", NULL },
	{ "export", cmd_export, "export --json", NULL },
	{ NULL, NULL, NULL, NULL }
};

const struct cli_group_ops	cli_learn_ops = { learn_cli_new,
	learn_cli_close };
