/*
 * cli_quarantine_int.h: private to cli_quarantine.c and cli_qdigest.c:
 * the verbs' shared option parsing, error reporting and the config the
 * command was run with.
 */
#ifndef CLI_QUARANTINE_INT_H
#define CLI_QUARANTINE_INT_H

#include <getopt.h>
#include <time.h>

#include "lurewall.h"

struct config;
struct quarantine;

/* getopt_long for the current verb (-c and -h taken care of). */
int	qcli_next_opt(int argc, char **argv, const char *shortopts,
	    const struct option *longopts);
/* A store error on stderr; its exit code (CLI_NO, CLI_DAMAGED, ...). */
int	qcli_open_error(const char *what, enum lw_err e);
/* The more serious of two exit codes. */
int	qcli_worse(int a, int b);
/* --since 2d -> *since; -1 (said on stderr) when malformed. */
int	qcli_since_arg(const char *arg, time_t *since);
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
