/*
 * disposition.h: one place decides what happens to a message.
 *
 * Takes the buffered message, its envelope and what the milter noted
 * of its header (Subject, Message-ID, Date, X-Lurewall-Released), and
 * the runtime snapshot (config, policies, quarantine with its pending
 * split-PPAP items, outbreak counters).  disposition_decide() runs the
 * whole way a message takes after buffering: release recognition, the
 * scan (once; outbound mail under its sender's policy), the outbound
 * breaker, split PPAP, the policy verdict's action; it stores what
 * must be stored before the MTA hears the reply.  It returns one
 * struct disposition: the final action, the SMTP reply from one table,
 * the header fields to add, the new Subject, the MTA hold reason and
 * the log fields.  milter.c maps that to smfi_* calls and nothing
 * else; `lurewall scan` prints it.
 *
 * With a read-only runtime (RT_READONLY, `lurewall scan`) nothing is
 * written: no store, no counter, no release; the disposition says what
 * the daemon would do (store.would).  Knows nothing of libmilter.
 */
#ifndef DISPOSITION_H
#define DISPOSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"
#include "lurewall.h"
#include "scan.h"

struct runtime;

/* The final action: what the MTA is told.  Owned by this stage. */
enum disp_action {
	DISP_ACCEPT = 0,	/* deliver (a release may add a header) */
	DISP_TAG,		/* deliver with headers and subject prefix */
	DISP_QUARANTINE_DISCARD, /* stored in the quarantine, discarded */
	DISP_QUARANTINE_REJECT,	/* stored, then 550 */
	DISP_QUARANTINE_HOLD,	/* stored, then the MTA's hold queue */
	DISP_HOLD,		/* the MTA's hold queue alone (no store) */
	DISP_PENDING_DISCARD,	/* split PPAP: stored pending, discarded */
	DISP_PENDING_HOLD,	/* split PPAP: stored pending, MTA hold */
	DISP_REJECT,		/* 550 */
	DISP_TEMPFAIL		/* 451: try again later */
};

/* Why: what turned the verdict into the action (JSON, tests). */
enum disp_why {
	DWHY_VERDICT = 0,	/* the policy verdict's action */
	DWHY_RELEASED,		/* X-Lurewall-Released verified: not scanned */
	DWHY_PENDING,		/* split PPAP holds it for its password */
	DWHY_OUTBOUND_LURE,	/* outbound and lure-like: never sent */
	DWHY_BREAKER,		/* the sender's breaker is tripped */
	DWHY_ERROR,		/* internal error: on_error */
	DWHY_NOTICE		/* our own notice (X-Lurewall-Notice) */
};

/* The SMTP replies, one table (disposition.c): reply_of(). */
enum disp_reply {
	DREPLY_NONE = 0,
	DREPLY_TEMPFAIL,	/* 451 4.3.0 temporary failure */
	DREPLY_SENDER_HELD,	/* 451 4.7.1 this sender's mail is held */
	DREPLY_REJECT		/* 550 5.7.1 (or the policy text's code) */
};

struct disp_reply_text {
	const char	*code;		/* "451", "550"; NULL: none */
	char		 dsn[16];	/* "4.3.0" */
	const char	*text;		/* borrowed: table or policy */
};

#define DISP_HDRS_MAX	2

/* A header field to add; value without the leading space. */
struct disp_header {
	const char	*name;
	char		*value;
};

/* What the milter noted of the message's header, as received. */
struct disp_input {
	const struct envelope	*env;
	const unsigned char	*raw;
	size_t			 len;
	const char		*subject;	/* first Subject value */
	const char		*message_id;
	const char		*date;
	char *const		*released;	/* X-Lurewall-Released values */
	size_t			 nreleased;
	const char		*notice;	/* first X-Lurewall-Notice */
	time_t			 now;		/* 0: time(NULL) */
	bool			 outbound;	/* outbound whatever the
						   envelope says (lurewall
						   scan --outbound) */
};

struct disposition {
	enum disp_action	 action;
	enum disp_why		 why;
	struct scan_result	 res;		/* the scan (empty: none) */
	const char		*verdict;	/* the policy verdict's action
						   name; NULL when no scan */
	const char		*policy;	/* its policy's name */
	bool			 outbound;	/* judged as outbound mail */
	bool			 observe;	/* observe mode: delivered as
						   is, X-Lurewall-Result says
						   what would have happened */
	const char		*allowed;	/* the allow: entry that
						   matched (its name) */

	/* The reply, for reject and tempfail. */
	struct disp_reply_text	 reply;

	/* Header changes: a release keeps its X-Lurewall-Released. */
	size_t			 keep_released;	/* 1-based; 0: strip all */
	struct disp_header	 hdrs[DISP_HDRS_MAX];
	size_t			 nhdrs;
	char			*subject;	/* new Subject value or NULL */
	bool			 subject_add;	/* there was none: add it */
	char			*hold_reason;	/* for the MTA's hold queue */

	/* The store: an item written (or, read-only, one it would). */
	struct {
		bool		 would;		/* the daemon would store */
		char		 id[64];	/* "" when not stored */
		time_t		 expires;	/* pending: the password wait */
	} store;

	/* Split PPAP: held items this mail's passwords opened. */
	unsigned		 released_items;
	unsigned		 lure_items;

	/* Outbound breaker. */
	const char		*breaker;	/* NULL, "flowing", "tripped",
						   "held" */
	const char		*breaker_action;	/* as configured */

	/* The log line: "action=LOG_ACTION ... EXTRA". */
	int			 log_prio;
	const char		*log_action;
	int			 log_score;
	const char		*log_rules;	/* borrowed from res */
	uint64_t		 log_ms;
	char			*log_extra;
	const char		*error;		/* internal error, or NULL */
};

/*
 * Decide for one message (see above).  Returns LW_OK with d filled;
 * an internal error (scan, store, counters) comes back as LW_OK too,
 * with d the config's on_error (why DWHY_ERROR, error set): the caller
 * only maps d.  LW_ENOMEM when not even that could be built.
 */
enum lw_err	 disposition_decide(const struct runtime *,
		    const struct disp_input *, struct disposition *d);

/*
 * The config's on_error for an internal error found outside the stage
 * (buffering, an smfi_* call failed): accept or tempfail, logged with
 * error="why".  rt may be NULL (no configuration): tempfail.
 */
void		 disposition_error(const struct runtime *, const char *why,
		    struct disposition *d);

void		 disposition_free(struct disposition *);

/*
 * Split PPAP's timeout sweep (splitppap_sweep) on the runtime's
 * quarantine: pending items whose wait is over get their on_timeout;
 * full also restores lost pending markers.  Also, at start (full) and
 * hourly, the state's expired keys (quiet outbreak senders, stale
 * claims).  The daemon's sweep thread.
 */
void		 disposition_sweep(const struct runtime *, bool full);

/* "accept", "tag", "quarantine-discard", ..., "tempfail". */
const char	*disposition_action_name(enum disp_action);
const char	*disposition_why_name(enum disp_why);

/* The reply table's row for r (code NULL for DREPLY_NONE). */
void		 disposition_reply(enum disp_reply r,
		    struct disp_reply_text *out);

/*
 * The Subject value after putting prefix in front of subject (the
 * first Subject value as received, NULL when none): a non-ASCII prefix
 * as RFC 2047 encoded words; NULL when the subject already starts with
 * it (a reply).  Malloc'd; *err set on ENOMEM.
 */
char		*disposition_subject(const char *prefix, const char *subject,
		    enum lw_err *err);

#endif /* DISPOSITION_H */
