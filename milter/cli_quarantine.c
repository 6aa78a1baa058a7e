/*
 * cli_quarantine.c: `lurewall quarantine list|show|release|delete|purge|
 * stats|verify|sweep`, the admin's view of the quarantine store.
 *
 * Takes the verb and its arguments (main took -c FILE out of them),
 * reads quarantine_dir and submit_command from the config and
 * works on the store through quarantine.h.  Everything an attacker
 * wrote (subjects, addresses, details, headers) is sanitized before it
 * reaches the terminal and escaped in --json output; only `show --raw`
 * prints the message bytes as stored.  The list and show views are
 * cli_qview.c's.  Exit codes: see cli_quarantine.h.
 */
#include <sys/wait.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <unistr.h>
#include <uniwidth.h>

#include "cli_count.h"
#include "cli_quarantine.h"
#include "cli_quarantine_int.h"
#include "cli_qview.h"
#include "cli_verb.h"
#include "config.h"
#include "duration.h"
#include "json.h"
#include "lurewall.h"
#include "mime.h"
#include "notice.h"
#include "policy.h"
#include "quarantine.h"
#include "quarantine_index.h"
#include "splitppap.h"
#include "spawn.h"
#include "state.h"

/* The config cli_quarantine read (digest needs the policies). */
#define QCLI_TIMEOUT_DEFAULT	30	/* seconds: --timeout */

static const struct config	*cur_cfg;
/* The shared index of every host's items (state: redis), or NULL. */
static struct qindex		*cur_qx;

const struct config *
qcli_config(void)
{
	return cur_cfg;
}

/* Does the item carry this rule (in its rules or any finding)? */
static bool
has_rule(const struct quarantine_item *it, const char *rule)
{
	const char	*p, *c;
	size_t		 n = strlen(rule), i;

	for (p = it->rules; p != NULL && *p != '\0'; p = c + 1) {
		c = strchrnul(p, ',');
		if ((size_t)(c - p) == n && strncasecmp(p, rule, n) == 0)
			return true;
		if (*c == '\0')
			break;
	}
	for (i = 0; i < it->nfindings; i++)
		if (strcasecmp(it->findings[i].rule, rule) == 0)
			return true;
	return false;
}

/* ADDR matches exactly (case-insensitive); "@dom" matches a domain. */
static bool
addr_match(const char *addr, const char *want)
{
	size_t	la, lw;

	if (addr == NULL)
		return false;
	if (want[0] == '@') {
		la = strlen(addr);
		lw = strlen(want);
		return la >= lw && strcasecmp(addr + la - lw, want) == 0;
	}
	return strcasecmp(addr, want) == 0;
}

/* Who runs the command, for the release record. */
static void
whoami(char *buf, size_t len)
{
	struct passwd	*pw;
	const char	*sudo = getenv("SUDO_USER");
	uid_t		 uid = getuid();

	pw = getpwuid(uid);
	if (pw != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	if (sudo != NULL && *sudo != '\0' && strlen(buf) + 16 < len) {
		/* Only a hint: the environment is the caller's to set. */
		strncat(buf, " sudo ", len - strlen(buf) - 1);
		strncat(buf, sudo, len - strlen(buf) - 1);
	}
	/* The daemon carrying out another host's request says whose. */
	if ((sudo = getenv("LUREWALL_REQUESTED_BY")) != NULL &&
	    *sudo != '\0' && strlen(buf) + 16 < len) {
		strncat(buf, " for ", len - strlen(buf) - 1);
		strncat(buf, sudo, len - strlen(buf) - 1);
	}
}

int
qcli_open_error(const char *what, enum lw_err e)
{
	fprintf(stderr, "lurewall: %s: %s\n", what,
	    e == LW_EIO ? strerror(errno) : lw_strerror(e));
	return e == LW_ENOTFOUND ? CLI_NO : e == LW_EMALFORMED ?
	    CLI_DAMAGED : CLI_TROUBLE;
}

/* Map an lw_err about one id to an exit code and a message. */
static int
item_error(const char *verb, const char *id, enum lw_err e,
    const char *detail)
{
	char	*sid = qview_safe(id);

	if (detail != NULL && *detail != '\0')
		fprintf(stderr, "lurewall: %s %s: %s\n", verb, sid, detail);
	else
		fprintf(stderr, "lurewall: %s %s: %s\n", verb, sid,
		    e == LW_EINVAL ? "invalid id" : e == LW_EIO ?
		    strerror(errno) : lw_strerror(e));
	free(sid);
	switch (e) {
	case LW_ENOTFOUND:
	case LW_EEXIST:
		return CLI_NO;
	case LW_EINVAL:
		return CLI_TROUBLE;
	case LW_EMALFORMED:
		return CLI_DAMAGED;
	default:
		return CLI_NO;
	}
}

/*
 * The id arg stands for: an item's whole id, else the one item whose
 * id, or whose random part (the short id `list` shows), starts with
 * arg (at least 4 characters), as git takes a commit's prefix.
 * LW_ENOTFOUND when none, LW_EEXIST when several (the message says
 * which); out holds the id.
 */
/*
 * How many of this host's items arg names (1 for a whole id or a
 * string that is no id: the verb judges it); the first into out.
 * -1 when the store cannot be listed.
 */
static ssize_t
count_matches(struct quarantine *q, const char *arg, char *out,
    size_t outlen)
{
	struct quarantine_item	**v, *it;
	size_t			  n, i, len = strlen(arg), found = 0;
	enum lw_err		  e;

	snprintf(out, outlen, "%s", arg);
	if (!quarantine_id_valid(arg) || len < 4)
		return 1;
	if ((e = quarantine_read(q, arg, &it)) != LW_ENOTFOUND) {
		if (e == LW_OK)
			quarantine_item_free(it);
		return 1;
	}
	if (quarantine_list(q, &v, &n) != LW_OK)
		return -1;
	for (i = 0; i < n; i++) {
		if (strncmp(v[i]->id, arg, len) != 0 &&
		    strncmp(qview_short(v[i]->id), arg, len) != 0)
			continue;
		if (found++ == 0)
			snprintf(out, outlen, "%s", v[i]->id);
	}
	quarantine_items_free(v, n);
	return (ssize_t)found;
}

static enum lw_err
resolve_id(struct quarantine *q, const char *verb, const char *arg,
    char *out, size_t outlen)
{
	ssize_t	 found;
	char	*sid;

	if ((found = count_matches(q, arg, out, outlen)) < 0)
		return LW_EIO;
	if (found == 1)
		return LW_OK;
	sid = qview_safe(arg);
	if (found > 1)
		fprintf(stderr, "lurewall: %s %s: ambiguous: %zd items start "
		    "so; give more of the id\n", verb, sid, found);
	else
		fprintf(stderr, "lurewall: %s %s: not found\n", verb, sid);
	free(sid);
	return found > 1 ? LW_EEXIST : LW_ENOTFOUND;
}

int
qcli_worse(int a, int b)
{
	/* usage, damage, unconfirmed, not-found, ok */
	static const int rank[] = { 0, 1, 4, 3, 2 };

	return rank[b] > rank[a] ? b : a;
}

/* ---- list ---- */

/* Does it pass list's filters (--since, --rule, --observed, ...)? */
static bool
matches(const struct quarantine_item *it, const struct qargs *fl)
{
	size_t	i;

	if (fl->since != 0 && it->time < fl->since)
		return false;
	if (fl->rule != NULL && !has_rule(it, fl->rule))
		return false;
	if (fl->observed && (it->mode == NULL ||
	    strcmp(it->mode, "observed") != 0))
		return false;
	if (fl->from != NULL && !addr_match(it->from, fl->from) &&
	    !addr_match(it->mail_from, fl->from))
		return false;
	if (fl->rcpt != NULL) {
		for (i = 0; i < it->nrcpts; i++)
			if (addr_match(it->rcpts[i], fl->rcpt))
				break;
		if (i == it->nrcpts)
			return false;
	}
	return true;
}

/* ---- options ---- */

enum qkind {
	QK_STR,		/* a string field of struct qargs */
	QK_FLAG,	/* a bool field */
	QK_VIEW,	/* one of the views: qargs.view */
	QK_SINCE,	/* a duration back from now: qargs.since */
	QK_TIMEOUT,
	QK_NOW
};

#define QA(f)		offsetof(struct qargs, f)
#define QO_AGO		"e.g. 2d, 12h, 30m, 1w"

/*
 * Every option of the quarantine verbs; each verb names those it takes.
 * arg: for a string or a flag its field, for a view its letter; hint:
 * what a bad value should have looked like.
 */
static const struct qopt {
	const char	*name;
	enum qkind	 kind;
	size_t		 arg;
	int		 letter;	/* its short option, where allowed */
	const char	*hint;
} qopts[] = {
	{ "since",	QK_SINCE,	0, 0,		QO_AGO },
	{ "older-than",	QK_SINCE,	0, 0,		QO_AGO },
	{ "timeout",	QK_TIMEOUT,	0, 0,	"1s to 1h, e.g. 30 or 30s" },
	{ "now",	QK_NOW,		0, 0,	"seconds since 1970, or +30m" },
	{ "rcpt",	QK_STR,		QA(rcpt), 0,	NULL },
	{ "from",	QK_STR,		QA(from), 0,	NULL },
	{ "rule",	QK_STR,		QA(rule), 0,	NULL },
	{ "host",	QK_STR,		QA(host), 0,	NULL },
	{ "to",		QK_STR,		QA(to), 0,	NULL },
	{ "observed",	QK_FLAG,	QA(observed), 0, NULL },
	{ "force",	QK_FLAG,	QA(force), 0,	NULL },
	{ "dry-run",	QK_FLAG,	QA(dry_run), 'n', NULL },
	{ "json",	QK_VIEW,	'j', 0,		NULL },
	{ "wide",	QK_VIEW,	'w', 0,		NULL },
	{ "raw",	QK_VIEW,	'r', 0,		NULL },
	{ "headers",	QK_VIEW,	'H', 0,		NULL },
	{ "findings",	QK_VIEW,	'f', 0,		NULL },
};
#define NQOPTS		(sizeof(qopts) / sizeof(qopts[0]))

/* What getopt_long returns for o. */
static int
qopt_val(const struct qopt *o)
{
	return o->letter != 0 ? o->letter : 256 + (int)(o - qopts);
}

/*
 * A time option's value into a: --since 2d (and --older-than) as now
 * less that, --timeout 30s, --now as seconds since 1970 or +DURATION
 * from now (tests).  False (said) when bad.
 */
static bool
take_time(const struct qopt *o, const char *arg, struct qargs *a)
{
	const uint64_t	 ago_max = (uint64_t)LLONG_MAX / 2;
	uint64_t	 ms;
	long long	 t;
	char		*end;
	bool		 ok;

	if (o->kind == QK_TIMEOUT) {
		ok = duration_parse(arg, DURATION_SEC, 3600 * 1000ULL, &ms) &&
		    ms >= 1000;
		if (ok)
			a->timeout = (unsigned)(ms / 1000);
	} else if (o->kind == QK_NOW && *arg != '+') {
		errno = 0;
		t = strtoll(arg, &end, 10);
		ok = *arg >= '0' && *arg <= '9' && errno == 0 && *end == '\0';
		if (ok)
			a->now = (time_t)t;
	} else if (o->kind == QK_NOW) {
		ok = duration_parse(arg + 1, 0, ago_max, &ms);
		if (ok)
			a->now = time(NULL) + (time_t)(ms / 1000);
	} else {
		ok = duration_parse(arg, 0, ago_max, &ms);
		if (ok)
			a->since = time(NULL) - (time_t)(ms / 1000);
	}
	if (!ok)
		fprintf(stderr, "lurewall: bad --%s '%s' (%s)\n", o->name, arg,
		    o->hint);
	return ok;
}

/* Take option o (its argument arg) into a: CLI_OK, or an exit code. */
static int
take_opt(const struct qopt *o, const char *arg, struct qargs *a)
{
	switch (o->kind) {
	case QK_STR:
		*(const char **)(void *)((char *)a + o->arg) = arg;
		break;
	case QK_FLAG:
		*(bool *)(void *)((char *)a + o->arg) = true;
		break;
	case QK_VIEW:
		a->mixed |= a->view != 0 && a->view != (int)o->arg;
		a->view = (int)o->arg;
		break;
	default:
		return take_time(o, arg, a) ? CLI_OK : CLI_TROUBLE;
	}
	return CLI_OK;
}

int
qcli_args(int argc, char **argv, const char *shortopts, const char *names,
    int operands, struct qargs *a)
{
	struct option		 lo[NQOPTS + 1];
	const struct qopt	*o;
	size_t			 k = 0, len;
	int			 ch, rc, left;

	memset(a, 0, sizeof(*a));
	memset(lo, 0, sizeof(lo));
	a->now = time(NULL);
	a->timeout = QCLI_TIMEOUT_DEFAULT;
	for (; *names != '\0'; names += len + (names[len] == ' ')) {
		len = strcspn(names, " ");
		for (o = qopts; o < qopts + NQOPTS; o++)
			if (strncmp(o->name, names, len) == 0 &&
			    o->name[len] == '\0')
				break;
		assert(o < qopts + NQOPTS && k < NQOPTS);
		lo[k].name = o->name;
		lo[k].has_arg = o->kind == QK_FLAG || o->kind == QK_VIEW ?
		    no_argument : required_argument;
		lo[k++].val = qopt_val(o);
	}
	while ((ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		for (o = qopts; o < qopts + NQOPTS && qopt_val(o) != ch; o++)
			;
		if (o == qopts + NQOPTS)
			return cli_usage();	/* getopt said which */
		if ((rc = take_opt(o, optarg, a)) != CLI_OK)
			return rc;
	}
	left = argc - optind;
	if (operands >= 0 ? left != operands : left == 0)
		return cli_usage();
	return CLI_OK;
}

/* Without a shared index, --host names this host or none. */
static bool
this_host(const char *host)
{
	return cur_cfg != NULL && cur_cfg->state.host_name != NULL &&
	    strcmp(cur_cfg->state.host_name, host) == 0;
}

/*
 * Another host's item that arg names: when --host names another host,
 * or when this host has no such item and the shared index has.  CLI_OK
 * with *it NULL: this host's store answers (and says if it has none);
 * CLI_OK with *it: that host's; else an exit code (said).
 */
static int
find_remote(struct quarantine *q, const char *verb, const char *arg,
    const char *host, struct quarantine_item **it)
{
	char	id[QUARANTINE_ID_MAX];

	*it = NULL;
	if (cur_qx == NULL) {
		if (host == NULL || this_host(host))
			return CLI_OK;
		fprintf(stderr, "lurewall: %s: --host %s: no shared state "
		    "(state.backend: redis) to reach it\n", verb, host);
		return CLI_TROUBLE;
	}
	if (host != NULL && strcmp(host, qindex_host(cur_qx)) == 0)
		return CLI_OK;
	if (host == NULL && count_matches(q, arg, id, sizeof(id)) > 0)
		return CLI_OK;
	return qremote_find(cur_qx, verb, arg, host, it);
}

/*
 * The items that pass a's filters into *v, *n (every host's with remote
 * and a shared index): CLI_OK, or an exit code (said).
 */
static int
list_matching(struct quarantine *q, const struct qargs *a, bool remote,
    struct quarantine_item ***v, size_t *n)
{
	size_t		 i, k;
	enum lw_err	 e;

	if ((e = quarantine_list(q, v, n)) != LW_OK)
		return qcli_open_error(quarantine_dir(q), e);
	if (remote && cur_qx != NULL && qremote_list(cur_qx, a->host, v,
	    n) != CLI_OK) {
		quarantine_items_free(*v, *n);
		fprintf(stderr, "lurewall: out of memory\n");
		return CLI_TROUBLE;
	}
	for (i = k = 0; i < *n; i++) {
		if (matches((*v)[i], a) && (cur_qx != NULL || a->host ==
		    NULL || this_host(a->host)))
			(*v)[k++] = (*v)[i];
		else
			quarantine_item_free((*v)[i]);
	}
	*n = k;
	return CLI_OK;
}

static int
cmd_list(int argc, char **argv, void *ctx)
{
	struct quarantine_item	**v;
	struct qargs		  a;
	size_t			  n;
	int			  rc;

	if ((rc = qcli_args(argc, argv, "", "since rcpt from rule json "
	    "observed wide host", 0, &a)) != CLI_OK ||
	    (rc = list_matching(ctx, &a, true, &v, &n)) != CLI_OK)
		return rc;
	qview_list(v, n, a.view == 'j' ? QVIEW_JSON : a.view == 'w' ?
	    QVIEW_WIDE : QVIEW_TABLE);
	quarantine_items_free(v, n);
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

static int
cmd_show(int argc, char **argv, void *ctx)
{
	struct quarantine	*q = ctx;
	struct quarantine_item	*it;
	struct qargs		 a;
	unsigned char		*raw = NULL;
	size_t			 len = 0;
	enum lw_err		 e;
	char			 id[QUARANTINE_ID_MAX];
	int			 mode, rc;

	if ((rc = qcli_args(argc, argv, "", "raw headers findings json host",
	    1, &a)) != CLI_OK)
		return rc;
	if (a.mixed)		/* one view at a time */
		return cli_usage();
	mode = a.view;
	if ((rc = find_remote(q, "show", argv[optind], a.host, &it)) !=
	    CLI_OK)
		return rc;
	if (it != NULL) {
		/* Its metadata from the index; the message stays there. */
		if (mode == 'r' || mode == 'H') {
			fprintf(stderr, "lurewall: show %s: the message is "
			    "kept on %s: run this there\n", it->id, it->host);
			quarantine_item_free(it);
			return CLI_NO;
		}
		qview_show(it, NULL, 0, mode);
		quarantine_item_free(it);
		return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
	}
	if ((e = resolve_id(q, "show", argv[optind], id, sizeof(id))) !=
	    LW_OK)
		return e == LW_EEXIST ? CLI_TROUBLE : CLI_NO;
	if ((e = quarantine_read(q, id, &it)) != LW_OK)
		return item_error("show", id, e, NULL);
	if (mode != 'f' && mode != 'j' &&
	    (e = quarantine_message(q, it->id, &raw, &len)) != LW_OK) {
		quarantine_item_free(it);
		return item_error("show", id, e, NULL);
	}
	qview_show(it, raw, len, mode);
	free(raw);
	quarantine_item_free(it);
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

/* ---- release, delete ---- */

/*
 * When arg names another host's item (or cannot be found, said), ask
 * that host to carry out verb and fold its exit code into *rc: true.
 * False: this host's store has it.
 */
static bool
asked_remote(struct quarantine *q, const char *verb, const char *arg,
    const struct qargs *a, const char *who, int *rc)
{
	struct quarantine_item	*it;
	int			 r;

	if ((r = find_remote(q, verb, arg, a->host, &it)) == CLI_OK &&
	    it == NULL)
		return false;
	if (it != NULL)
		r = qremote_ask(cur_qx, verb, it, a->to, a->force, who,
		    a->timeout);
	quarantine_item_free(it);
	*rc = qcli_worse(*rc, r);
	return true;
}

static int
cmd_release(int argc, char **argv, void *ctx)
{
	const char		*submit = qcli_config()->submit_command;
	struct quarantine	*q = ctx;
	struct quarantine_item	*it;
	struct qargs		 a;
	const char		*to;
	char			 who[256], err[512], id[QUARANTINE_ID_MAX];
	bool			 force;
	enum lw_err		 e;
	int			 rc, i, r;

	if ((rc = qcli_args(argc, argv, "", "to force host timeout", -1,
	    &a)) != CLI_OK)
		return rc;
	to = a.to;
	force = a.force;
	if (to != NULL && (*to == '\0' || *to == '-' ||
	    strpbrk(to, " \t\r\n<>") != NULL)) {
		fprintf(stderr, "lurewall: release: bad --to address\n");
		return CLI_TROUBLE;
	}
	whoami(who, sizeof(who));
	for (i = optind; i < argc; i++) {
		if (asked_remote(q, "release", argv[i], &a, who, &rc))
			continue;
		if ((e = resolve_id(q, "release", argv[i], id,
		    sizeof(id))) != LW_OK) {
			rc = qcli_worse(rc, e == LW_EEXIST ? CLI_TROUBLE :
			    CLI_NO);
			continue;
		}
		if (quarantine_id_valid(id) &&
		    quarantine_read(q, id, &it) == LW_OK) {
			bool	 done = false;

			r = CLI_OK;
			if (it->mta_hold && it->qid != NULL && !it->released &&
			    to == NULL)
				r = qhold_release(q, it, who, force, &done);
			else if (it->mta_hold && it->qid != NULL &&
			    !it->released && qhold_delete(it, err,
			    sizeof(err)) == -1) {
				/* --to: ours goes, the MTA's must not. */
				fprintf(stderr, "lurewall: release %s: the "
				    "MTA's held copy (queue id %s) could not "
				    "be deleted: %s\n", it->id, it->qid, err);
				r = CLI_NO;
			}
			quarantine_item_free(it);
			if (done || r != CLI_OK) {
				rc = qcli_worse(rc, r);
				continue;
			}
		}
		e = quarantine_release(q, id, to, submit, force, who,
		    err, sizeof(err));
		if (e != LW_OK) {
			rc = qcli_worse(rc, item_error("release", id, e, err));
			continue;
		}
		splitppap_forget(q, id);	/* released: not pending */
		if (quarantine_read(q, id, &it) == LW_OK) {
			char *s = qview_safe(it->nreleased_to ? it->released_to[0] :
			    NULL);
			printf("released %s to %s%s\n", it->id, s,
			    it->nreleased_to > 1 ? " and others" : "");
			free(s);
			quarantine_item_free(it);
		} else
			printf("released %s\n", id);
		if (*err != '\0')	/* sent, but not recorded */
			rc = qcli_worse(rc, item_error("release", id, LW_EIO,
			    err));
	}
	return rc;
}

static int
cmd_delete(int argc, char **argv, void *ctx)
{
	struct quarantine		*q = ctx;
	struct qargs			 a;
	char				 id[QUARANTINE_ID_MAX], who[256];
	enum lw_err			 e;
	int				 rc, i;

	if ((rc = qcli_args(argc, argv, "", "host timeout", -1, &a)) !=
	    CLI_OK)
		return rc;
	whoami(who, sizeof(who));
	for (i = optind; i < argc; i++) {
		struct quarantine_item	*it;
		char			 err[512];

		if (asked_remote(q, "delete", argv[i], &a, who, &rc))
			continue;
		if ((e = resolve_id(q, "delete", argv[i], id, sizeof(id))) !=
		    LW_OK) {
			rc = qcli_worse(rc, e == LW_EEXIST ? CLI_TROUBLE :
			    CLI_NO);
			continue;
		}
		/* then: hold: the MTA's copy first, so none stays behind. */
		if (quarantine_id_valid(id) &&
		    quarantine_read(q, id, &it) == LW_OK) {
			bool bad = it->mta_hold && it->qid != NULL &&
			    !it->released && qhold_delete(it, err,
			    sizeof(err)) == -1;

			if (bad)
				fprintf(stderr, "lurewall: delete %s: the "
				    "MTA's held copy (queue id %s) could not "
				    "be deleted: %s; kept\n", it->id, it->qid,
				    err);
			quarantine_item_free(it);
			if (bad) {
				rc = qcli_worse(rc, CLI_NO);
				continue;
			}
		}
		splitppap_forget(q, id);	/* nobody opens it now */
		if ((e = quarantine_delete(q, id)) != LW_OK)
			rc = qcli_worse(rc, item_error("delete", id, e, NULL));
		else
			printf("deleted %s\n", id);
	}
	return rc;
}

static int
cmd_purge(int argc, char **argv, void *ctx)
{
	struct quarantine	 *q = ctx;
	struct quarantine_item	**v;
	struct qargs		  a;
	time_t			  before;
	size_t			  n, i, done = 0;
	bool			  dry;
	enum lw_err		  e;
	int			  rc;

	if ((rc = qcli_args(argc, argv, "n", "older-than dry-run", 0,
	    &a)) != CLI_OK)
		return rc;
	if ((before = a.since) == 0)	/* --older-than is a must */
		return cli_usage();
	dry = a.dry_run;
	if ((e = quarantine_list(q, &v, &n)) != LW_OK)
		return qcli_open_error(quarantine_dir(q), e);
	for (i = 0; i < n; i++) {
		if (v[i]->time >= before)
			continue;
		if (dry) {
			printf("would delete %s\n", v[i]->id);
			done++;
		} else if ((e = quarantine_delete(q, v[i]->id)) == LW_OK)
			done++;
		else if (e != LW_ENOTFOUND)	/* gone meanwhile: fine */
			rc = qcli_worse(rc, item_error("purge", v[i]->id, e, NULL));
	}
	printf("%s %zu item%s\n", dry ? "would purge" : "purged", done,
	    done == 1 ? "" : "s");
	quarantine_items_free(v, n);
	return rc;
}

/* ---- stats ---- */

/* Every distinct rule of it (its rules and its findings'), once. */
static int
count_rules(struct cli_count **v, size_t *n,
    const struct quarantine_item *it)
{
	struct cli_count	*seen = NULL;
	const char		*p, *c;
	char			*r;
	size_t			 ns = 0, i;
	int			 rc = 0;

	for (p = it->rules; rc == 0 && p != NULL && *p != '\0'; p = c + 1) {
		c = strchrnul(p, ',');
		if ((r = lw_strndup(p, (size_t)(c - p))) == NULL)
			rc = -1;
		else if (*r != '\0')
			rc = cli_count_add(&seen, &ns, r, 1);
		free(r);
		if (*c == '\0')
			break;
	}
	for (i = 0; rc == 0 && i < it->nfindings; i++)
		rc = cli_count_add(&seen, &ns, it->findings[i].rule, 1);
	for (i = 0; rc == 0 && i < ns; i++)
		rc = cli_count_add(v, n, seen[i].key, 1);
	cli_count_free(seen, ns);
	return rc;
}

static void
print_counts(const char *title, struct cli_count *v, size_t n, bool json,
    bool *first)
{
	char	*s;
	size_t	 i;

	if (json) {
		json_key(stdout, title, *first);
		*first = false;
		fputc('{', stdout);
		for (i = 0; i < n; i++) {
			json_key(stdout, v[i].key, i == 0);
			printf("%.0f", v[i].n);
		}
		fputc('}', stdout);
		return;
	}
	printf("%s:\n", title);
	for (i = 0; i < n; i++) {
		s = qview_safe(v[i].key);
		printf("  %6.0f  %s\n", v[i].n, s);
		free(s);
	}
}

static int
cmd_stats(int argc, char **argv, void *ctx)
{
	struct quarantine_item	**v;
	struct cli_count	 *rules = NULL, *days = NULL;
	struct qargs		  a;
	size_t			  n, i, nr = 0, nd = 0, total = 0, rel = 0;
	char			  day[16];
	struct tm		  tm;
	bool			  json, first = true;
	int			  rc;

	if ((rc = qcli_args(argc, argv, "", "since json", 0, &a)) != CLI_OK ||
	    (rc = list_matching(ctx, &a, false, &v, &n)) != CLI_OK)
		return rc;
	json = a.view == 'j';
	for (i = 0; i < n; i++) {
		total++;
		rel += v[i]->released;
		if (localtime_r(&v[i]->time, &tm) == NULL ||
		    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
			snprintf(day, sizeof(day), "?");
		if (cli_count_add(&days, &nd, day, 1) == -1 ||
		    count_rules(&rules, &nr, v[i]) == -1) {
			fprintf(stderr, "lurewall: out of memory\n");
			exit(CLI_TROUBLE);
		}
	}
	quarantine_items_free(v, n);
	cli_count_sort(rules, nr, false);
	cli_count_sort(days, nd, true);
	if (json) {
		fputc('{', stdout);
		json_key(stdout, "items", 1);
		printf("%zu", total);
		json_key(stdout, "released", 0);
		printf("%zu", rel);
		first = false;
		print_counts("rules", rules, nr, true, &first);
		print_counts("days", days, nd, true, &first);
		fputs("}\n", stdout);
	} else {
		printf("items: %zu (%zu released)\n", total, rel);
		print_counts("by rule", rules, nr, false, &first);
		print_counts("by day", days, nd, false, &first);
	}
	cli_count_free(rules, nr);
	cli_count_free(days, nd);
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

/* ---- verify ---- */

static int
cmd_verify(int argc, char **argv, void *ctx)
{
	struct quarantine		*q = ctx;
	struct qargs			 a;
	size_t				 items, damaged, cleaned;
	enum lw_err			 e;
	int				 rc;

	if ((rc = qcli_args(argc, argv, "", "", 0, &a)) != CLI_OK)
		return rc;
	if ((e = quarantine_verify(q, stdout, &items, &damaged,
	    &cleaned)) != LW_OK)
		return qcli_open_error(quarantine_dir(q), e);
	printf("%zu item%s, %zu damaged, %zu stale temporary entr%s removed\n",
	    items, items == 1 ? "" : "s", damaged, cleaned,
	    cleaned == 1 ? "y" : "ies");
	if (fflush(stdout) != 0)
		return CLI_TROUBLE;
	return damaged > 0 ? CLI_DAMAGED : CLI_OK;
}

/* ---- sweep ---- */

static int
cmd_sweep(int argc, char **argv, void *ctx)
{
	const char			*submit = qcli_config()->submit_command;
	struct quarantine		*q = ctx;
	struct qargs			 a;
	size_t				 acted;
	enum lw_err			 e;
	int				 rc;

	if ((rc = qcli_args(argc, argv, "", "now", 0, &a)) != CLI_OK)
		return rc;
	if ((e = splitppap_sweep(q, submit, a.now, true, stdout,
	    &acted)) != LW_OK)
		return qcli_open_error(quarantine_dir(q), e);
	printf("%zu pending item%s timed out\n", acted, acted == 1 ? "" : "s");
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

const struct cli_verb	cli_quarantine_verbs[] = {
	{ "list", cmd_list, "list [--since 2d] [--rcpt ADDR] [--from ADDR] "
	    "[--rule RULE] [--observed] [--host HOST] [--wide | --json]", NULL },
	{ "show", cmd_show, "show ID [--host HOST] [--raw | --headers | "
	    "--findings | --json]", NULL },
	{ "release", cmd_release, "release ID... [--to ADDR] [--force] "
	    "[--host HOST] [--timeout 30s]", NULL },
	{ "delete", cmd_delete, "delete ID... [--host HOST] "
	    "[--timeout 30s]", NULL },
	{ "purge", cmd_purge, "purge --older-than 30d [--dry-run]", NULL },
	{ "stats", cmd_stats, "stats [--since 7d] [--json]", NULL },
	{ "verify", cmd_verify, "verify", NULL },
	{ "sweep", cmd_sweep, "sweep [--now TIME]", NULL },
	{ "digest", cmd_digest, "digest [--since 1d] [--rcpt ADDR] "
	    "[--dry-run]", NULL },
	{ NULL, NULL, NULL, NULL }
};

/* Open the store of qdir and run verb v of `lurewall quarantine`. */
static int
run_verb(const struct cli_verb *v, const struct cli_verb *group, int argc,
    char **argv, const char *qdir)
{
	struct quarantine	*q;
	struct state		*state = NULL;
	struct stat		 st;
	enum lw_err		 e;
	int			 rc;

	if (qdir == NULL || *qdir == '\0') {
		fprintf(stderr, "lurewall: no quarantine_dir configured\n");
		return CLI_TROUBLE;
	}
	/* The milter creates the store; a typo here must not make one. */
	if (stat(qdir, &st) == -1) {
		fprintf(stderr, "lurewall: quarantine directory %s: %s\n",
		    qdir, strerror(errno));
		return CLI_TROUBLE;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "lurewall: quarantine directory %s: not a "
		    "directory\n", qdir);
		return CLI_TROUBLE;
	}
	if ((e = quarantine_open(qdir, &q)) != LW_OK)
		return qcli_open_error(qdir, e);
	/*
	 * The daemon's state: a release counts its release-once marker
	 * there, the sweep finds pending split-PPAP items there.
	 */
	if (cur_cfg != NULL) {
		if ((e = state_open(&cur_cfg->state, false, &state)) == LW_OK)
			quarantine_set_state(q, state,
			    cur_cfg->state.host_name,
			    cur_cfg->state.redis.pending_bytes);
		else if (strcmp(v->name, "release") == 0 ||
		    strcmp(v->name, "sweep") == 0)
			fprintf(stderr, "lurewall: state %s: %s; going on "
			    "without it\n", cur_cfg->state.backend ==
			    STATE_REDIS ? "(redis)" : cur_cfg->state.path,
			    lw_strerror(e));
	}
	cur_qx = qremote_open(cur_cfg, q);
	optind = 0;	/* GNU: fully reset for this argv */
	opterr = 1;
	rc = cli_verb_run(v, group, argc, argv, q);
	qindex_close(cur_qx);
	cur_qx = NULL;
	quarantine_close(q);
	state_close(state);
	return rc;
}

int
cli_quarantine(int argc, char **argv, const char *config_path)
{
	const struct cli_verb	*group = cli_verb_current(), *v;
	struct config		*cfg;
	int			 rc;

	if ((v = cli_verb_find(group->group, group, argc, argv)) == NULL ||
	    (cfg = cli_config(config_path)) == NULL)
		return CLI_TROUBLE;
	cur_cfg = cfg;
	rc = run_verb(v, group, argc, argv, cfg->quarantine_dir);
	cur_cfg = NULL;
	config_free(cfg);
	return rc;
}
