/*
 * cli_quarantine_int.h: private to cli_quarantine.c and cli_qdigest.c:
 * the verbs' shared option parsing, error reporting and the config the
 * command was run with.
 */
#ifndef CLI_QUARANTINE_INT_H
#define CLI_QUARANTINE_INT_H

#include <stdbool.h>
#include <time.h>

#include "lurewall.h"

struct config;
struct quarantine;

/* What the options of a verb said (qcli_args); unnamed ones stay 0. */
struct qargs {
	time_t		 since;		/* --since, --older-than: now - it */
	time_t		 now;		/* --now; else the time */
	const char	*rcpt, *from, *rule, *host, *to;
	unsigned	 timeout;	/* --timeout, seconds; else 30 */
	int		 view;		/* the last of --json ('j'), --wide
					   ('w'), --raw ('r'), --headers
					   ('H'), --findings ('f') */
	bool		 mixed;		/* two different views given */
	bool		 observed, force, dry_run;
};

/*
 * The current verb's options into a: names lists the long ones it
 * takes ("since rcpt json"), shortopts its short ones ("n": -n for
 * --dry-run); then operands arguments (-1: one or more).  CLI_OK, or
 * the exit code (usage or a bad value, said).
 */
int	qcli_args(int argc, char **argv, const char *shortopts,
	    const char *names, int operands, struct qargs *a);
/* A store error on stderr; its exit code (CLI_NO, CLI_DAMAGED, ...). */
int	qcli_open_error(const char *what, enum lw_err e);
/* The more serious of two exit codes. */
int	qcli_worse(int a, int b);
/* The config `lurewall quarantine` read. */
const struct config *qcli_config(void);

/* cli_qhold.c */
struct quarantine_item;
/* Delete the MTA's held copy of it: 0 gone (or never there), -1 failed. */
int	qhold_delete(const struct quarantine_item *, char *err,
	    size_t errlen);
/*
 * Release the MTA's held copy of it and record that here; the exit
 * code, *done false when the MTA no longer held it (see cli_qhold.c).
 */
int	qhold_release(struct quarantine *, const struct quarantine_item *,
	    const char *who, bool force, bool *done);

/* cli_qremote.c: other hosts' items, through the shared index */
struct qindex;
/* The shared index (state: redis), or NULL; q notifies it of changes. */
struct qindex	*qremote_open(const struct config *, struct quarantine *);
/*
 * v (this host's items) gets this host's name in each and the other
 * hosts' items added, newest first; host: --host.  An exit code.
 */
int	qremote_list(struct qindex *, const char *host,
	    struct quarantine_item ***v, size_t *n);
/*
 * The item arg (an id or short id) names on another host (on host
 * only, when not NULL); CLI_OK and *out, or an exit code (said).
 */
int	qremote_find(struct qindex *, const char *verb, const char *arg,
	    const char *host, struct quarantine_item **out);
/*
 * Ask it->host's daemon to carry out verb ("release", "delete") and
 * wait for it at most timeout_secs; says where it stands, an exit code.
 */
int	qremote_ask(struct qindex *, const char *verb,
	    const struct quarantine_item *it, const char *to, bool force,
	    const char *who, unsigned timeout_secs);

/* ctx: the struct quarantine. */
int	cmd_digest(int argc, char **argv, void *ctx);

#endif /* CLI_QUARANTINE_INT_H */
