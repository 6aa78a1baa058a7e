/*
 * cli_learn_import.c: `lurewall learn import [--account ADDR]
 * FILE|DIR...`: seed the learned store from exported Sent folders, each
 * message learned as if it had passed outbound (learn_outbound), under
 * the organisation of its sender's policy and at the time of its Date:
 * header, so that expiry and "mature" count from when it was sent.
 *
 * Takes mbox files, Maildirs, directories of .eml files and single
 * messages (mailbox.h: each message bounded by limits.max_message_bytes,
 * only its header block parsed: learning reads no body).  Skips, and
 * counts by name: what the reader skips (empty, not_mail, not_file,
 * unreadable); no_sender (no From: address and no --account);
 * other_sender (--account given and From: is someone else: an Inbox
 * exported by mistake must not teach its senders as correspondents);
 * too_old (sent before everything learned from it would have expired).
 *
 * Messages are learned in batches of IMPORT_BATCH (learn_batch_start:
 * one write each); the last is flushed before the summary.
 *
 * On a terminal (stderr) a one-line progress bar with counts and rate
 * is redrawn in place; the summary goes to stdout.  A store error
 * (full, unreachable) stops the import.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli_exit.h"
#include "cli_learn_int.h"
#include "cli_verb.h"
#include "config.h"
#include "envelope.h"
#include "learn.h"
#include "mailbox.h"
#include "mime.h"
#include "policy.h"

#define DAY		86400
#define DRAW_MS		200	/* progress redraw interval */
#define BAR		20	/* progress bar cells */
#define IMPORT_BATCH	1024	/* messages per write */
#define IMPORT_BATCH_MS	1000

enum skip {
	SKIP_NO_SENDER = MAILBOX_SKIP_COUNT,
	SKIP_OTHER_SENDER,
	SKIP_TOO_OLD,
	SKIP_COUNT
};

struct import {
	struct learn_cli	*c;
	char			*account;	/* --account, lowercased */
	struct learn_config	 lc;
	uint64_t		 read;		/* messages and skips */
	uint64_t		 learned;
	uint64_t		 truncated;
	uint64_t		 skip[SKIP_COUNT];
	uint64_t		 t0;		/* ms */
	uint64_t		 drawn;		/* ms of the last redraw */
	bool			 tty;
	int			 src;		/* source number, 1-based */
	int			 nsrc;
};

static const char *
skip_name(size_t s)
{
	switch (s) {
	case SKIP_NO_SENDER:
		return "no_sender";
	case SKIP_OTHER_SENDER:
		return "other_sender";
	case SKIP_TOO_OLD:
		return "too_old";
	}
	return mailbox_skip_name((enum mailbox_skip)s);
}

/* The terminal's width (stderr), 80 when it does not say. */
static unsigned
term_cols(void)
{
	struct winsize	ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/*
 * Redraw the progress line in place (at most every DRAW_MS): one line,
 * cut to the terminal's width so that \r always returns to its start.
 */
static void
progress(struct import *im, struct mailbox *mb, const char *path,
    bool force)
{
	uint64_t	 now = lw_now_ms(), done, total, ms;
	unsigned	 cells, pct, i;
	char		 bar[BAR + 1], line[512], *name;
	const char	*base = strrchr(path, '/');
	size_t		 n;

	if (!im->tty || (!force && now - im->drawn < DRAW_MS))
		return;
	im->drawn = now;
	mailbox_progress(mb, &done, &total);
	pct = total > 0 && done < total ? (unsigned)(done * 100 / total) : 100;
	cells = pct * BAR / 100;
	for (i = 0; i < BAR; i++)
		bar[i] = i < cells ? '#' : '-';
	bar[BAR] = '\0';
	ms = now - im->t0;
	base = base != NULL && base[1] != '\0' ? base + 1 : path;
	name = lw_sanitize(base, strlen(base), 60);
	snprintf(line, sizeof(line), "[%s] %3u%% %llu read, %llu learned, "
	    "%llu skipped, %llu/s  %d/%d %s", bar, pct,
	    (unsigned long long)im->read, (unsigned long long)im->learned,
	    (unsigned long long)(im->read - im->learned),
	    (unsigned long long)(ms > 0 ? im->read * 1000 / ms : 0),
	    im->src, im->nsrc, name != NULL ? name : "");
	free(name);
	n = strlen(line);
	if (n > term_cols() - 1)
		n = lw_utf8_cut(line, term_cols() - 1);
	fprintf(stderr, "\r%.*s\033[K", (int)n, line);
	fflush(stderr);
}

/*
 * Learn one message.  LW_OK also for a skip (counted); anything else
 * is a store error that stops the import.
 */
static enum lw_err
import_one(struct import *im, const struct mailbox_msg *mm)
{
	struct envelope		 env;
	struct findings		 fs = { 0 };
	struct message		*m = NULL;
	const struct policy	*p;
	const char		*from, *dom;
	time_t			 when, now = im->c->now;
	enum lw_err		 e;

	if (mm->skip != MAILBOX_SKIP_NONE) {
		im->skip[mm->skip]++;
		return LW_OK;
	}
	if (mm->truncated)
		im->truncated++;
	if ((e = mime_parse(mm->data, mailbox_header_len(mm->data, mm->len),
	    &im->c->cfg->limits, &fs, &m)) != LW_OK) {
		findings_free(&fs);
		return e;
	}
	findings_free(&fs);
	from = m->from.addr != NULL && strchr(m->from.addr, '@') != NULL ?
	    m->from.addr : NULL;
	if (from == NULL && im->account == NULL) {
		im->skip[SKIP_NO_SENDER]++;
		goto out;
	}
	if (from != NULL && im->account != NULL &&
	    strcasecmp(from, im->account) != 0) {
		im->skip[SKIP_OTHER_SENDER]++;
		goto out;
	}
	/* When it was sent; a future or missing date is now. */
	when = mailbox_date(mime_header(m, "Date"));
	if (when == 0 || when > now)
		when = now;
	if (when <= now - (time_t)im->lc.correspondent_days * DAY) {
		im->skip[SKIP_TOO_OLD]++;
		goto out;
	}
	memset(&env, 0, sizeof(env));
	env.mail_from = from != NULL ? (char *)from : im->account;
	dom = strrchr(env.mail_from, '@') + 1;
	p = policyset_for_domain(im->c->ps, dom);
	e = learn_outbound(im->c->l, learn_org(p), m, &env, when);
	if (e == LW_OK)
		im->learned++;
out:
	mime_free(m);
	return e;
}

/* One FILE or DIR; false when it could not be read to its end. */
static bool
import_path(struct import *im, const char *path, enum lw_err *store)
{
	struct mailbox_limits	 lim;
	struct mailbox_msg	 mm;
	struct mailbox		*mb;
	enum lw_err		 e;

	mailbox_limits_default(&lim);
	lim.message_bytes = im->c->cfg->limits.max_message_bytes;
	if ((e = mailbox_open(path, &lim, &mb)) != LW_OK) {
		if (im->tty)
			fputs("\r\033[K", stderr);
		fprintf(stderr, "lurewall: learn import: %s: %s\n", path,
		    e == LW_EMALFORMED ? "neither an mbox, a Maildir nor a "
		    "message" : e == LW_EINVAL ? "not a file or directory" :
		    e == LW_EIO || e == LW_ENOTFOUND ? strerror(errno) :
		    lw_strerror(e));
		return false;
	}
	while ((e = mailbox_next(mb, &mm)) == LW_OK) {
		im->read++;
		if ((*store = import_one(im, &mm)) != LW_OK)
			break;
		progress(im, mb, path, false);
	}
	progress(im, mb, path, true);
	mailbox_close(mb);
	/* A store error is the caller's to report. */
	if (*store != LW_OK || e == LW_ENOTFOUND)
		return true;
	if (im->tty)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "lurewall: learn import: %s: %s\n", path,
	    e == LW_ELIMIT ? "stopped at the message limit" :
	    e == LW_EIO ? strerror(errno) : lw_strerror(e));
	return false;
}

static void
summary(const struct import *im, const struct learn_stats *before,
    const struct learn_stats *after)
{
	static const char *const kinds[LEARN_KINDS] = { "accounts",
	    "correspondents", "domains", "threads" };
	uint64_t	 ms = lw_now_ms() - im->t0, skipped = 0;
	size_t		 i;
	int		 sep = ':';

	for (i = 0; i < SKIP_COUNT; i++)
		skipped += im->skip[i];
	printf("read %llu messages from %d source%s in %.1f s (%llu/s)\n",
	    (unsigned long long)(im->read - im->skip[MAILBOX_SKIP_EMPTY] -
	    im->skip[MAILBOX_SKIP_NOT_MAIL] - im->skip[MAILBOX_SKIP_NOT_FILE] -
	    im->skip[MAILBOX_SKIP_UNREADABLE]), im->nsrc,
	    im->nsrc == 1 ? "" : "s", ms / 1000.0,
	    (unsigned long long)(ms > 0 ? im->read * 1000 / ms : im->read));
	printf("learned %llu\n", (unsigned long long)im->learned);
	printf("skipped %llu", (unsigned long long)skipped);
	for (i = 1; i < SKIP_COUNT; i++) {
		if (im->skip[i] == 0)
			continue;
		printf("%c %s %llu", sep, skip_name(i),
		    (unsigned long long)im->skip[i]);
		sep = ',';
	}
	putchar('\n');
	if (im->truncated > 0)
		printf("truncated %llu (past limits.max_message_bytes; their "
		    "headers learned)\n", (unsigned long long)im->truncated);
	printf("added");
	for (i = 0; i < LEARN_KINDS; i++)
		printf("%s %lld %s", i == 0 ? "" : ",",
		    (long long)after->n[i] - (long long)before->n[i], kinds[i]);
	putchar('\n');
}

int
cli_learn_import(int argc, char **argv, void *ctx)
{
	struct learn_cli	*c = ctx;
	static const struct option longopts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	struct import		 im;
	struct learn_stats	 before, after;
	enum lw_err		 e, store = LW_OK;
	bool			 ok = true;
	int			 ch, i, rc;

	memset(&im, 0, sizeof(im));
	im.c = c;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'a' || strchr(optarg, '@') == NULL ||
		    im.account != NULL) {
			if (ch == 'a')
				fprintf(stderr, "lurewall: --account wants one "
				    "address\n");
			free(im.account);
			return cli_usage();
		}
		if ((im.account = strdup(optarg)) == NULL) {
			fprintf(stderr, "lurewall: out of memory\n");
			return CLI_TROUBLE;
		}
		lw_strlower(im.account);
	}
	if (optind == argc) {
		free(im.account);
		return cli_usage();
	}
	if ((rc = learn_cli_open(c, true, true)) != CLI_OK) {
		free(im.account);
		return rc;
	}
	if (!c->lc.enable) {
		fprintf(stderr, "lurewall: learn import: learn.enable is false "
		    "in %s: nothing would be learned\n", c->config_path);
		free(im.account);
		return CLI_TROUBLE;
	}
	im.lc = c->lc;
	if ((e = learn_stats(c->l, NULL, c->now, &before)) != LW_OK) {
		fprintf(stderr, "lurewall: learn import: the store: %s\n",
		    lw_strerror(e));
		free(im.account);
		return CLI_TROUBLE;
	}
	/* One write per IMPORT_BATCH messages, not one per message. */
	if ((e = learn_batch_start(c->l, IMPORT_BATCH, IMPORT_BATCH_MS,
	    false)) != LW_OK) {
		fprintf(stderr, "lurewall: learn import: %s\n",
		    lw_strerror(e));
		free(im.account);
		return CLI_TROUBLE;
	}
	im.tty = isatty(STDERR_FILENO) == 1;
	im.t0 = lw_now_ms();
	im.nsrc = argc - optind;
	for (i = optind; i < argc && store == LW_OK; i++) {
		im.src = i - optind + 1;
		if (!import_path(&im, argv[i], &store))
			ok = false;
	}
	if (im.tty)
		fputs("\r\033[K", stderr);
	if ((e = learn_flush(c->l, time(NULL))) != LW_OK && store == LW_OK)
		store = e;
	if (store != LW_OK)
		fprintf(stderr, "lurewall: learn import: the store failed: "
		    "%s; stopped after %llu messages\n", lw_strerror(store),
		    (unsigned long long)im.read);
	if ((e = learn_stats(c->l, NULL, c->now, &after)) != LW_OK) {
		fprintf(stderr, "lurewall: learn import: the store: %s\n",
		    lw_strerror(e));
		after = before;
		ok = false;
	}
	summary(&im, &before, &after);
	free(im.account);
	if (fflush(stdout) != 0 || !ok || store != LW_OK)
		return CLI_TROUBLE;
	return im.learned > 0 ? CLI_OK : CLI_NO;
}
