/*
 * cli.c: `lurewall`, the admin's command-line tool.  The top of the one
 * verb table (cli_verb.h): scan (the daemon's engine, offline),
 * check-config, the groups quarantine ... and outbreak list|clear
 * (their verbs in cli_quarantine.c and cli_outbreak.c), reload, stats,
 * version, help.  Exit codes (cli_exit.h): scan 0 accept, 1
 * tag/quarantine/reject, 2 error; other verbs 0 ok, 2 usage or config
 * error (quarantine verbs document their own in lurewall(8)).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli_exit.h"
#include "cli_learn.h"
#include "cli_outbreak.h"
#include "cli_quarantine.h"
#include "cli_stats.h"
#include "cli_verb.h"
#include "config.h"
#include "disposition.h"
#include "state.h"
#include "util.h"
#include "filetype.h"
#include "json.h"
#include "log.h"
#include "mime.h"
#include "pidfile.h"
#include "policy.h"
#include "quarantine.h"
#include "runtime.h"
#include "scan.h"
#include "verdict.h"

#define NOTED_RELEASED_MAX	8	/* as many as the milter verifies */

static const char	*config_arg;	/* -c before the verb */

/*
 * The config to use: -c (before or after the command: main takes it
 * out of argv, so no verb sees it), else the installed one, else conf/
 * beside the binary, so that a build in the source tree works out of
 * the box.
 */
static const char *
config_path(void)
{
	static char	 buf[PATH_MAX];
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;

	if (config_arg != NULL)
		return config_arg;
	if (access(LW_DEFAULT_CONFIG, F_OK) == 0)
		return LW_DEFAULT_CONFIG;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if (snprintf(buf, sizeof(buf), "%.*s/conf/lurewall.yaml",
			    (int)(sizeof(buf) - 32), exe) < (int)sizeof(buf) &&
			    access(buf, F_OK) == 0)
				return buf;
		}
	}
	return LW_DEFAULT_CONFIG;
}

/* Replace *dst with a copy of s; false when out of memory. */
static bool
set_copy(char **dst, const char *s)
{
	free(*dst);
	return (*dst = strdup(s)) != NULL;
}

static int
load_all(const char *path, struct config **cfg, struct policyset **ps)
{
	char	err[LW_CONFIG_ERR_MAX];

	if (config_load(path, cfg, err, sizeof(err)) != LW_OK) {
		lw_print_lines(stderr, "lurewall", err);
		return -1;
	}
	if (policy_load_dir((*cfg)->policy_dir, &(*cfg)->limits, ps, err,
	    sizeof(err)) != LW_OK) {
		/* Every error of every policy file, one a line. */
		lw_print_lines(stderr, "lurewall", err);
		config_free(*cfg);
		*cfg = NULL;
		return -1;
	}
	return 0;
}

/* Read a file or stdin, keeping at most max bytes (the rest counted). */
static int
read_message(const char *file, uint64_t max, unsigned char **buf,
    size_t *len, uint64_t *total)
{
	FILE		*f;
	unsigned char	*b = NULL, *nb, junk[65536];
	size_t		 cap = 0, n = 0, r;

	*total = 0;
	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "lurewall: %s: %s\n", file, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n < max) {
			if (cap - n < 65536) {
				cap = cap ? cap * 2 : 65536;
				if ((nb = realloc(b, cap + 1)) == NULL)
					goto nomem;
				b = nb;
			}
			r = fread(b + n, 1, (size_t)(max - n) < cap - n ?
			    (size_t)(max - n) : cap - n, f);
			n += r;
		} else
			r = fread(junk, 1, sizeof(junk), f);
		*total += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "lurewall: %s: read error\n", file);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	if (b == NULL && (b = malloc(1)) == NULL)
		goto nomem;
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
nomem:
	fprintf(stderr, "lurewall: %s: out of memory\n", file);
fail:
	if (f != stdin)
		fclose(f);
	free(b);
	return -1;
}

struct parts_out {
	FILE	*f;
	bool	 json;
	bool	 first;
};

static bool
print_part(const struct mime_part *p, void *arg)
{
	struct parts_out	*o = arg;
	char			*name;

	if (o->json) {
		if (!o->first)
			fputc(',', o->f);
		o->first = false;
		fputc('{', o->f);
		json_key(o->f, "path", 1);
		json_string(o->f, p->path);
		json_key(o->f, "type", 0);
		json_string(o->f, p->ctype);
		json_key(o->f, "size", 0);
		fprintf(o->f, "%zu", p->body_len);
		json_key(o->f, "name", 0);
		json_string(o->f, p->filename);
		fputc('}', o->f);
		return true;
	}
	name = p->filename != NULL ?
	    lw_sanitize(p->filename, strlen(p->filename), 120) : NULL;
	fprintf(o->f, "  %-8s %-40s %10zu  %s\n",
	    *p->path != '\0' ? p->path : "-", p->ctype, p->body_len,
	    name != NULL ? name : "");
	free(name);
	return true;
}

/* The disposition object: what the daemon would do with the message. */
static void
print_disposition_json(FILE *f, const struct disposition *d)
{
	char	reply[512];

	fputc('{', f);
	json_key(f, "action", 1);
	json_string(f, disposition_action_name(d->action));
	json_key(f, "why", 0);
	json_string(f, disposition_why_name(d->why));
	json_key(f, "outbound", 0);
	fputs(d->outbound ? "true" : "false", f);
	json_key(f, "observe", 0);
	fputs(d->observe ? "true" : "false", f);
	json_key(f, "allowed", 0);
	json_string(f, d->allowed);
	json_key(f, "reply", 0);
	if (d->reply.code != NULL) {
		snprintf(reply, sizeof(reply), "%s %s %s", d->reply.code,
		    d->reply.dsn, d->reply.text);
		json_string(f, reply);
	} else
		fputs("null", f);
	json_key(f, "mta_hold", 0);
	fputs(d->hold_reason != NULL ? "true" : "false", f);
	json_key(f, "store", 0);
	fputs(d->store.would ? "true" : "false", f);
	json_key(f, "expires", 0);
	if (d->store.expires != 0)
		fprintf(f, "%lld", (long long)d->store.expires);
	else
		fputs("null", f);
	json_key(f, "breaker", 0);
	json_string(f, d->breaker);
	json_key(f, "breaker_action", 0);
	json_string(f, d->breaker != NULL ? d->breaker_action : NULL);
	json_key(f, "released_items", 0);
	fprintf(f, "%u", d->released_items);
	json_key(f, "lure_items", 0);
	fprintf(f, "%u", d->lure_items);
	json_key(f, "headers", 0);
	fputc('[', f);
	for (size_t i = 0; i < d->nhdrs; i++) {
		char	*h = NULL;

		if (i > 0)
			fputc(',', f);
		if (lw_asprintf(&h, "%s: %s", d->hdrs[i].name,
		    d->hdrs[i].value) != LW_OK)
			h = NULL;
		json_string(f, h);
		free(h);
	}
	fputc(']', f);
	json_key(f, "subject", 0);
	json_string(f, d->subject);
	fputc('}', f);
}

static void
print_disposition_text(FILE *f, const struct disposition *d)
{
	fprintf(f, " disposition: %s (%s)", disposition_action_name(d->action),
	    disposition_why_name(d->why));
	if (d->outbound)
		fputs(" outbound", f);
	if (d->observe)
		fputs(" observe", f);
	if (d->allowed != NULL)
		fprintf(f, " allowed=%s", d->allowed);
	if (d->breaker != NULL)
		fprintf(f, " breaker=%s outbound_action=%s", d->breaker,
		    d->breaker_action);
	if (d->reply.code != NULL)
		fprintf(f, " reply=\"%s %s %s\"", d->reply.code, d->reply.dsn,
		    d->reply.text);
	if (d->hold_reason != NULL)
		fputs(" mta_hold", f);
	if (d->released_items > 0 || d->lure_items > 0)
		fprintf(f, " opens_held=%u released=%u lures=%u",
		    d->released_items + d->lure_items, d->released_items,
		    d->lure_items);
	fputc('\n', f);
}

static void
print_result(FILE *f, const char *file, const struct disposition *d,
    bool json)
{
	const struct verdict	*v = d->res.verdict;
	const struct message	*m = d->res.msg;
	struct parts_out	 o = { f, json, true };
	size_t			 i, nf = v != NULL ? v->findings.n : 0;

	if (json) {
		fputc('{', f);
		json_key(f, "file", 1);
		json_string(f, file);
		json_key(f, "action", 0);
		json_string(f, d->verdict != NULL ? d->verdict : "accept");
		json_key(f, "score", 0);
		fprintf(f, "%d", v != NULL ? v->score : 0);
		json_key(f, "policy", 0);
		json_string(f, d->policy);
		json_key(f, "rules", 0);
		json_string(f, v != NULL ? v->rules : NULL);
		json_key(f, "disposition", 0);
		print_disposition_json(f, d);
		json_key(f, "from", 0);
		json_string(f, m != NULL ? m->from.addr : NULL);
		json_key(f, "from_name", 0);
		json_string(f, m != NULL ? m->from.display : NULL);
		json_key(f, "subject", 0);
		json_string(f, m != NULL ? m->subject : NULL);
		json_key(f, "elapsed_ms", 0);
		fprintf(f, "%llu", (unsigned long long)d->res.elapsed_ms);
		json_key(f, "findings", 0);
		fputc('[', f);
		for (i = 0; i < nf; i++) {
			const struct finding	*fd = &v->findings.v[i];

			json_finding(f, i == 0, fd->rule, fd->score, fd->part,
			    fd->detail);
		}
		fputc(']', f);
		json_key(f, "parts", 0);
		fputc('[', f);
		if (m != NULL)
			mime_visit(m, print_part, &o);
		fputs("]}\n", f);
		return;
	}
	fprintf(f, "%s: %s score=%d policy=%s (%llu ms)\n", file,
	    d->verdict != NULL ? d->verdict : "accept",
	    v != NULL ? v->score : 0, d->policy != NULL ? d->policy : "-",
	    (unsigned long long)d->res.elapsed_ms);
	for (i = 0; i < nf; i++) {
		const struct finding	*fd = &v->findings.v[i];

		fprintf(f, "  %-28s %4d  %s%s%s\n", fd->rule, fd->score,
		    *fd->part != '\0' ? fd->part : "-",
		    *fd->detail != '\0' ? ": " : "", fd->detail);
	}
	print_disposition_text(f, d);
	fprintf(f, " parts:\n");
	if (m != NULL)
		mime_visit(m, print_part, &o);
}

/* The header fields the daemon notes for the disposition, as received. */
struct noted {
	char	*subject;
	char	*message_id;
	char	*date;
	char	*released[NOTED_RELEASED_MAX];
	size_t	 nreleased;
};

static void
noted_free(struct noted *h)
{
	FREE_ALL(h->subject, h->message_id, h->date);
	lw_strv_clear(h->released, h->nreleased);
	memset(h, 0, sizeof(*h));
}

/*
 * Walk the header block (up to the first empty line, at most len
 * bytes) and keep the first Subject, Message-ID and Date values and the
 * X-Lurewall-Released ones, each value with its folding, as the MTA
 * hands them to the milter.
 */
static enum lw_err
note_headers(const unsigned char *raw, size_t len, struct noted *h)
{
	const char	*p = (const char *)raw, *end = p + len, *f, *colon, *e;
	char		**slot, *v;
	size_t		 nlen;

	memset(h, 0, sizeof(*h));
	while (p < end && *p != '\r' && *p != '\n') {
		f = p;
		/* The field ends at a line end not followed by a blank. */
		for (e = p; e < end; e++)
			if (*e == '\n' && (e + 1 >= end ||
			    (e[1] != ' ' && e[1] != '\t')))
				break;
		p = e < end ? e + 1 : end;
		if ((colon = memchr(f, ':', (size_t)(e - f))) == NULL)
			continue;
		nlen = (size_t)(colon - f);
		while (e > colon + 1 && (e[-1] == '\r' || e[-1] == '\n'))
			e--;
		slot = NULL;
		if (nlen == 7 && strncasecmp(f, "Subject", 7) == 0)
			slot = &h->subject;
		else if (nlen == 10 && strncasecmp(f, "Message-ID", 10) == 0)
			slot = &h->message_id;
		else if (nlen == 4 && strncasecmp(f, "Date", 4) == 0)
			slot = &h->date;
		else if (nlen == 19 &&
		    strncasecmp(f, "X-Lurewall-Released", 19) == 0 &&
		    h->nreleased < NOTED_RELEASED_MAX)
			slot = &h->released[h->nreleased++];
		if (slot == NULL || *slot != NULL)
			continue;
		if ((v = lw_strndup(colon + 1, (size_t)(e - colon - 1))) ==
		    NULL) {
			noted_free(h);
			return LW_ENOMEM;
		}
		*slot = v;
	}
	return LW_OK;
}

/*
 * The state scan looks at, read-only: the configured quarantine and
 * outbreak counters, --state DIR (its quarantine, DIR/outbreak), or
 * none.  Missing or unreadable counts as empty, silently.
 */
static struct runtime *
scan_runtime(struct config *cfg, struct policyset *ps, const char *state)
{
	struct quarantine	*q = NULL;
	struct state		*st = NULL;
	struct runtime		*rt;
	char			*odir = NULL;
	const char		*qdir = cfg->quarantine_dir;

	if (state != NULL && strcmp(state, "none") == 0)
		qdir = NULL;
	else if (state != NULL) {
		qdir = state;
		if (lw_asprintf(&odir, "%s/" CONFIG_OUTBREAK_SUBDIR, state) !=
		    LW_OK)
			return NULL;
	} else if (cfg->outbreak_dir != NULL &&
	    (odir = strdup(cfg->outbreak_dir)) == NULL)
		return NULL;
	if (qdir != NULL && quarantine_open_ro(qdir, &q) != LW_OK)
		q = NULL;
	/* The configured state, read-only; missing or unreadable: empty. */
	if (state == NULL && state_open(&cfg->state, true, &st) != LW_OK)
		st = NULL;
	if (q != NULL && st != NULL)
		quarantine_set_state(q, st, cfg->state.host_name, 0);
	rt = runtime_new(cfg, ps, q, odir, RT_READONLY | RT_OWN_STATE);
	if (rt == NULL) {
		if (q != NULL)
			quarantine_close(q);
		state_close(st);
	} else
		rt->state = st;
	free(odir);
	return rt;
}

static int
cmd_scan(int argc, char **argv, void *ctx)
{
	static const struct option longopts[] = {
		{ "rcpt", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "outbound", no_argument, NULL, 'o' },
		{ "auth-user", required_argument, NULL, 'a' },
		{ "client-addr", required_argument, NULL, 'A' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct envelope		 env;
	struct config		*cfg = NULL;
	struct policyset	*ps = NULL;
	struct runtime		*rt = NULL;
	const char		*state = NULL;
	bool			 json = false, outbound = false;
	int			 ch, rc = 0, i;

	memset(&env, 0, sizeof(env));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (envelope_add_rcpt(&env, optarg) != LW_OK)
				goto nomem;
			break;
		case 'F':
		case 'a':
		case 'A':
			/* --from, --auth-user, --client-addr: the last one */
			if (!set_copy(ch == 'F' ? &env.mail_from : ch == 'a' ?
			    &env.auth_authen : &env.client_addr, optarg))
				goto nomem;
			break;
		case 'o':
			outbound = true;
			break;
		case 's':
			state = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			envelope_free(&env);
			return cli_usage();
		}
	}
	if (optind >= argc) {
		envelope_free(&env);
		return cli_usage();
	}
	/* Quiet unless -v: the daemon's log lines are not our output. */
	if (log_getverbose() == 0)
		log_setmaxprio(LOG_ERR);
	if (load_all(config_path(), &cfg, &ps) != 0) {
		envelope_free(&env);
		return CLI_TROUBLE;
	}
	if ((rt = scan_runtime(cfg, ps, state)) == NULL) {
		policyset_unref(ps);
		config_free(cfg);
		goto nomem;
	}
	if (filetype_init(1) != LW_OK) {
		fprintf(stderr, "lurewall: cannot load libmagic\n");
		rc = CLI_TROUBLE;
		goto out;
	}
	for (i = optind; i < argc; i++) {
		struct disposition	 d;
		struct disp_input	 in;
		struct noted		 h;
		unsigned char		*raw;
		size_t			 len;
		uint64_t		 total;

		if (read_message(argv[i], cfg->limits.max_message_bytes, &raw,
		    &len, &total) != 0) {
			rc = CLI_TROUBLE;
			continue;
		}
		env.truncated = total > len;
		env.orig_len = total;
		if (note_headers(raw, len, &h) != LW_OK) {
			free(raw);
			fprintf(stderr, "lurewall: out of memory\n");
			rc = CLI_TROUBLE;
			continue;
		}
		memset(&in, 0, sizeof(in));
		in.env = &env;
		in.raw = raw;
		in.len = len;
		in.subject = h.subject;
		in.message_id = h.message_id;
		in.date = h.date;
		in.released = h.released;
		in.nreleased = h.nreleased;
		in.outbound = outbound;
		if (disposition_decide(rt, &in, &d) != LW_OK)
			disposition_error(rt, "out of memory", &d);
		free(raw);
		noted_free(&h);
		if (d.why == DWHY_ERROR) {
			fprintf(stderr, "lurewall: %s: scan failed: %s\n",
			    argv[i], d.error);
			rc = CLI_TROUBLE;
		} else {
			print_result(stdout, argv[i], &d, json);
			if (d.verdict != NULL &&
			    strcmp(d.verdict, "accept") != 0 && rc == 0)
				rc = CLI_NO;
		}
		disposition_free(&d);
	}
	filetype_fini();
out:
	runtime_unref(rt);
	envelope_free(&env);
	if (fflush(stdout) != 0)
		rc = CLI_TROUBLE;
	return rc;
nomem:
	envelope_free(&env);
	fprintf(stderr, "lurewall: out of memory\n");
	return CLI_TROUBLE;
}

static int
cmd_check_config(int argc, char **argv, void *ctx)
{
	struct config		*cfg = NULL;
	struct policyset	*ps = NULL;
	struct state		*st = NULL;
	const char		*path = config_path();

	optind = 1;
	if (getopt(argc, argv, "") != -1)
		return cli_usage();
	if (load_all(path, &cfg, &ps) != 0)
		return CLI_TROUBLE;
	/*
	 * A Redis that refuses our password or database is a config error
	 * (logged naming the key); one that is down is not: the daemon
	 * works without it.
	 */
	if (cfg->state.backend == STATE_REDIS &&
	    state_open(&cfg->state, true, &st) != LW_OK) {
		fprintf(stderr, "lurewall: %s: state.redis refused (see the "
		    "line above)\n", path);
		policyset_unref(ps);
		config_free(cfg);
		return CLI_TROUBLE;
	}
	state_close(st);
	printf("# %s: ok\n", path);
	config_print(cfg, stdout);
	printf("---\n");
	policyset_print(ps, stdout);
	policyset_unref(ps);
	config_free(cfg);
	return fflush(stdout) == 0 ? 0 : CLI_TROUBLE;
}

static int
cmd_quarantine(int argc, char **argv, void *ctx)
{
	return cli_quarantine(argc - 1, argv + 1, config_path());
}

static int
cmd_outbreak(int argc, char **argv, void *ctx)
{
	return cli_group_run(argc - 1, argv + 1, config_path(),
	    &cli_outbreak_ops);
}

/* Without a verb, cli_learn prints its verbs. */
static int
cmd_learn(int argc, char **argv, void *ctx)
{
	return cli_group_run(argc - 1, argv + 1, config_path(),
	    &cli_learn_ops);
}

/*
 * Ask the running lurewall-milter to reread its configuration and wait
 * for its answer: 0 reloaded, 1 the reload failed (the daemon kept its
 * running configuration, or gave no answer in time), 2 nobody to
 * signal (no pidfile, a stale one, a PID that is not lurewall-milter,
 * or kill failed).  The pidfile is -P, else the config's pidfile:,
 * else the default one.
 */
static int
cmd_reload(int argc, char **argv, void *ctx)
{
	struct reload_status	 before, now;
	struct config		*cfg = NULL;
	const char		*pidfile = NULL;
	char			 spath[PATH_MAX], *pf = NULL, *end;
	long			 secs = 10, waited;
	pid_t			 pid;
	enum lw_err		 e;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt(argc, argv, "P:t:")) != -1) {
		switch (ch) {
		case 'P':
			pidfile = optarg;
			break;
		case 't':
			errno = 0;
			secs = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || secs < 1 ||
			    secs > 3600)
				return cli_usage();
			break;
		default:
			return cli_usage();
		}
	}
	if (optind != argc)
		return cli_usage();
	if (pidfile == NULL) {
		/* Only the pidfile: the daemon judges the rest itself. */
		if ((cfg = cli_config(config_path())) == NULL) {
			fprintf(stderr, "lurewall: not reloading: the "
			    "configuration does not load\n");
			return CLI_NO;
		}
		if (cfg->pidfile != NULL && (pf = strdup(cfg->pidfile)) ==
		    NULL) {
			config_free(cfg);
			fprintf(stderr, "lurewall: out of memory\n");
			return CLI_TROUBLE;
		}
		config_free(cfg);
		pidfile = pf != NULL ? pf : LW_DEFAULT_PIDFILE;
	}
	rc = CLI_TROUBLE;
	if ((e = pidfile_read(pidfile, &pid)) != LW_OK) {
		fprintf(stderr, "lurewall: pidfile %s: %s\n", pidfile,
		    e == LW_ENOTFOUND ? "not found (is lurewall-milter "
		    "running?)" : e == LW_EIO ? strerror(errno) :
		    "not a PID");
		goto out;
	}
	if (!pidfile_is_daemon(pid)) {
		fprintf(stderr, "lurewall: pidfile %s: PID %ld is not "
		    LW_DAEMON_NAME " (stale pidfile?)\n", pidfile, (long)pid);
		goto out;
	}
	if (!pidfile_status_path(pidfile, spath, sizeof(spath))) {
		fprintf(stderr, "lurewall: %s: path too long\n", pidfile);
		goto out;
	}
	if (pidfile_status_read(spath, &before) != LW_OK ||
	    before.pid != (long)pid)
		before.gen = 0;
	if (kill(pid, SIGUSR1) == -1) {
		fprintf(stderr, "lurewall: kill -USR1 %ld: %s\n", (long)pid,
		    strerror(errno));
		goto out;
	}
	rc = 1;
	for (waited = 0; waited < secs * 10; waited++) {
		struct timespec	ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if (pidfile_status_read(spath, &now) != LW_OK ||
		    now.pid != (long)pid || now.gen <= before.gen)
			continue;
		if (now.result == RELOAD_OK) {
			printf("lurewall-milter %ld reloaded %s\n", (long)pid,
			    now.msg);
			rc = 0;
		} else
			fprintf(stderr, "lurewall: reload failed, "
			    "lurewall-milter %ld keeps its running "
			    "configuration: %s\n", (long)pid, now.msg);
		goto out;
	}
	fprintf(stderr, "lurewall: lurewall-milter %ld was signalled but "
	    "reported no result within %ld s (%s)\n", (long)pid, secs, spath);
out:
	free(pf);
	return rc;
}

static int
cmd_stats(int argc, char **argv, void *ctx)
{
	return cli_stats(argc, argv, config_path());
}

static int
cmd_version(int argc, char **argv, void *ctx)
{
	printf("lurewall %s\n", LW_VERSION);
	return 0;
}

static int	cmd_help(int, char **, void *);

static const struct cli_verb verbs[] = {
	{ "scan", cmd_scan,
	    "scan [-c FILE] [--rcpt ADDR]... [--from ADDR] [--outbound]\n"
	    "\t\t[--auth-user USER] [--client-addr ADDR] [--state DIR|none]\n"
	    "\t\t[--json] FILE...", NULL },
	{ "check-config", cmd_check_config, "check-config [-c FILE]", NULL },
	{ "quarantine", cmd_quarantine, "quarantine [-c FILE]",
	    cli_quarantine_verbs },
	{ "outbreak", cmd_outbreak, "outbreak", cli_outbreak_verbs },
	{ "learn", cmd_learn, "learn [-c FILE]", cli_learn_verbs },
	{ "reload", cmd_reload, "reload [-c FILE] [-P PIDFILE] [-t SECONDS]",
	    NULL },
	{ "stats", cmd_stats, "stats [--json] [--since DURATION|today]",
	    NULL },
	{ "version", cmd_version, "version", NULL },
	{ "help", cmd_help, "help [COMMAND [VERB]]", NULL },
	{ NULL, NULL, NULL, NULL }
};

static void
usage(void)
{
	cli_usage_print(stderr, verbs, NULL);
	exit(CLI_TROUBLE);
}

/* `lurewall help [COMMAND [VERB]]`, --help, -h: usage on stdout, 0. */
static int
cmd_help(int argc, char **argv, void *ctx)
{
	if (argc < 2) {
		cli_usage_print(stdout, verbs, NULL);
		return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
	}
	return cli_help(verbs, argc - 1, argv + 1);
}

/*
 * -c FILE (-cFILE, --config FILE, --config=FILE) anywhere after the
 * command, up to a "--", means what it means before it: every verb
 * reads the same config.  Taken out of argv so the verb never sees it;
 * the new argc, or -1 (said) when the last -c lacks its file.
 */
static int
take_config(int argc, char **argv)
{
	int	i, o;

	for (i = o = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[o++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, "lurewall: -c needs a file\n");
				return -1;
			}
			config_arg = argv[++i];
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0')
			config_arg = argv[i] + 2;
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_arg = argv[i] + 9;
		else
			argv[o++] = argv[i];
	}
	argv[o] = NULL;
	return o;
}

int
main(int argc, char **argv)
{
	const struct cli_verb	*v;
	int			 ch;

	log_init("lurewall", LOG_MAIL, true);
	/*
	 * Without TZ, glibc's mktime (libzip: every zip entry's DOS
	 * time) checks /etc/localtime on each call; the same zone, once.
	 */
	if (setenv("TZ", ":/etc/localtime", 0) == -1) {
		fprintf(stderr, "lurewall: setenv TZ: %s\n", strerror(errno));
		return CLI_TROUBLE;
	}
	tzset();
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "+c:hvV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			config_arg = optarg;
			break;
		case 'h':
			return cmd_help(0, NULL, NULL);
		case 'v':
			log_setverbose(log_getverbose() + 1);
			break;
		case 'V':
			return cmd_version(0, NULL, NULL);
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if ((v = cli_verb_find(verbs, NULL, argc, argv)) == NULL)
		return CLI_TROUBLE;
	if ((argc = take_config(argc, argv)) == -1)
		return CLI_TROUBLE;
	return cli_verb_run(v, NULL, argc, argv, NULL);
}
