/*
 * quarantine_index.h: every host's quarantine in one list (issue 17).
 *
 * Messages stay in each host's own store (quarantine.h), written
 * before the MTA hears the verdict.  With a shared state (Redis), each
 * item's metadata is also indexed there under this host's name, so
 * `lurewall quarantine list` on any host shows every host's items, and
 * a release or delete asked for on one host is carried out by the
 * daemon of the host that holds the item, through a queue of commands
 * it consumes, each taken once (an atomic claim) and answered.
 *
 * Keys in the state (the backend adds its key_prefix):
 *	quarantine:HOST:ID	the item's record (quarantine_export)
 *	quarantine-host:HOST	when HOST last published its whole index;
 *				gone (a restarted server) means publish again
 *	quarantine-cmd:HOST	HOST's queue of commands (a list)
 *	quarantine-claim:TOKEN	a command taken ("HOST") or withdrawn by
 *				its asker ("withdrawn"): whoever adds it
 *				first decides, so a command runs at most once
 *	quarantine-reply:TOKEN	the owner's answer (a list of one item, kept
 *				QINDEX_REPLY_SECS): "ok" or "failed", a line
 *				break, what its CLI said; the asker waits on
 *				it (state_pop_wait: BLPOP), never polls
 *
 * The index follows the store through quarantine_set_notify: the CLI
 * writes each change at once; the daemon hands it to its worker thread,
 * so a message never waits for the server.  When the server is away
 * nothing is lost (the store is the truth): the worker publishes the
 * whole index again once it is back, and says so once a minute meanwhile.
 */
#ifndef QUARANTINE_INDEX_H
#define QUARANTINE_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "lurewall.h"
#include "quarantine.h"

struct state;
struct qindex;

#define QINDEX_TOKEN_LEN	32		/* hex digits */
#define QINDEX_KEEP_SECS	86400		/* commands, claims */
#define QINDEX_REPLY_SECS	60		/* an answer nobody took */
#define QINDEX_WHO_MAX		256

/* A release or delete asked of the host holding the item. */
struct qindex_cmd {
	char		 token[QINDEX_TOKEN_LEN + 1];
	char		 verb[8];		/* "release" or "delete" */
	char		 id[QUARANTINE_ID_MAX];
	char		*to;			/* release --to, or NULL */
	bool		 force;
	char		*who;			/* who asked, where */
};

/* Where a command stands (qindex_wait). */
enum qindex_status {
	QINDEX_DONE = 0,	/* carried out: the answer says how */
	QINDEX_FAILED,		/* tried and failed: the answer says why */
	QINDEX_TAKEN,		/* taken by its host, not yet answered */
	QINDEX_WITHDRAWN	/* never taken; withdrawn, nothing done */
};

/*
 * The index of store q (borrowed: it must outlive the index) as host
 * on state st (taken: closed with the index).
 */
enum lw_err	 qindex_open(struct state *st, struct quarantine *q,
		    const char *host, struct qindex **);
void		 qindex_close(struct qindex *);
const char	*qindex_host(const struct qindex *);

/*
 * A quarantine_notify_fn (arg: the index): with the worker running,
 * queue id for it; else publish id's record now (or remove it, when
 * the item is gone), a failure said on stderr.
 */
void		 qindex_touch(void *qx, const char *id);
/* Publish (or remove) one item's record now. */
enum lw_err	 qindex_sync(struct qindex *, const char *id);
/*
 * Publish every item of the store again, remove this host's records
 * of items it no longer holds, and mark the index published.
 */
enum lw_err	 qindex_republish(struct qindex *, size_t *published);

/*
 * The indexed items of every host but this one (host NULL) or of host,
 * each with its host set.  Free with quarantine_items_free.
 */
enum lw_err	 qindex_list(struct qindex *, const char *host,
		    struct quarantine_item ***, size_t *);

/* Sort items newest first (then by host and id). */
void		 qindex_sort(struct quarantine_item **, size_t);

/*
 * Queue cmd (its token filled in here) for host's daemon, then wait at
 * most timeout_ms for its answer (malloc'd into *answer, may be NULL).
 * At the deadline an untaken command is withdrawn (QINDEX_WITHDRAWN),
 * so it can never run later.  LW_EIO: the server is unreachable.
 */
enum lw_err	 qindex_ask(struct qindex *, const char *host,
		    struct qindex_cmd *cmd, unsigned timeout_ms,
		    enum qindex_status *, char **answer);

/*
 * The daemon's side: carry out cmd for this host, answering (malloc'd)
 * what happened; LW_OK when done.
 */
typedef enum lw_err (*qindex_exec_fn)(void *arg, const struct qindex_cmd *,
    char **answer);
/*
 * Start the worker thread: it publishes the store at start, again after
 * the server was away or lost its data, follows qindex_touch, and takes
 * this host's commands (one at a time, claimed once, answered).
 */
enum lw_err	 qindex_start(struct qindex *, qindex_exec_fn, void *arg);
/* Stop and join the worker (before qindex_close). */
void		 qindex_stop(struct qindex *);

/* A command's wire form and back (exposed for the tests). */
char		*qindex_cmd_encode(const struct qindex_cmd *);
enum lw_err	 qindex_cmd_decode(const char *buf, size_t len,
		    struct qindex_cmd *);
void		 qindex_cmd_free(struct qindex_cmd *);

#endif /* QUARANTINE_INDEX_H */
