/*
 * outbreak.h: outbound mail and the outbreak breaker (issue 11).
 *
 * When Emotet owns a PC it mails lures to every past correspondent
 * through the company's own submission service.  lurewall sees that
 * mail first; outbound.h decides whether a message is outbound, this
 * stage whether it is lure-like, and keeps, per sender account, a
 * sliding-window count of lure-like messages and of messages to
 * recipients the sender never mailed before.  A sender whose count reaches the policy's maximum is
 * "tripped": every further message of it is held (or tempfailed) until
 * an admin clears it with `lurewall outbreak clear`.
 *
 * The counters live in a store behind struct outbreak_store_ops.  The
 * daemon's is outbreak_state_open() (outbreak_state.c): the records on
 * the state (state.h: LMDB, or a Redis several hosts share).  The old
 * one, outbreak_file_open(), stays for migration and as the fallback
 * when the state cannot be opened: a directory of small per-sender
 * files, safe with many milter threads
 * (a process mutex) and with several processes (flock(2) on a lock
 * file), written tmp + rename.  The daemon reads the store for every
 * outbound message, so a clear by the CLI takes effect at once.
 *
 * Bounds: per sender at most OUTBREAK_KNOWN_MAX known recipients (the
 * least recently mailed are forgotten first), kept OUTBREAK_RETENTION
 * seconds; window events at most the policy's maximum (a sender trips
 * before more accumulate) and never more than OUTBREAK_EVENTS_MAX; a
 * record file at most OUTBREAK_RECORD_MAX bytes.  Records of senders
 * that were quiet for OUTBREAK_RETENTION and are not tripped are
 * removed (at most once an hour by the daemon, and by `outbreak list`).
 * An alert command runs at most OUTBREAK_ALERT_TIMEOUT seconds.
 *
 * Nothing here knows libmilter; time is passed in, so tests inject it.
 */
#ifndef OUTBREAK_H
#define OUTBREAK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lurewall.h"

struct config;
struct envelope;
struct state;
struct outbound_policy;
struct verdict;

#define OUTBREAK_KNOWN_MAX	10000		/* recipients per sender */
#define OUTBREAK_RETENTION	(30 * 86400)	/* seconds */
#define OUTBREAK_EVENTS_MAX	100001		/* window events per kind */
#define OUTBREAK_RECORD_MAX	(4 << 20)	/* bytes of one record file */
#define OUTBREAK_SENDER_MAX	512		/* bytes of a sender key */
#define OUTBREAK_ALERT_TIMEOUT	30		/* seconds */
#define OUTBREAK_REASON_MAX	16

/*
 * The account a message is counted against: the SASL login when there
 * is one, else the envelope sender; lowercased and at most
 * OUTBREAK_SENDER_MAX bytes.  NULL (nothing counted) for the null
 * sender without a login: a bounce names no account.  Malloc'd.
 */
char		*outbreak_sender_key(const struct envelope *);

/*
 * True when the verdict holds a lure-like finding: EMOTET_LURE, a macro
 * document (OFFICE_VBA*, OFFICE_XLM*; also inside a password zip), an
 * executable, script or shortcut (FILE_EXECUTABLE, FILE_SCRIPT,
 * FILE_SHORTCUT), with a score above 0 under the judging policy (so a
 * sender on macro_senders, or a score set to 0, does not count).  rule
 * (may be NULL) receives the first such rule name (borrowed).
 */
bool		 outbreak_lure_like(const struct verdict *, const char **rule);

/* The store */

/* One recipient the sender mailed: a 64-bit hash of the address. */
struct outbreak_known {
	uint64_t	 hash;
	time_t		 seen;
};

struct outbreak_event {
	time_t		 t;
	unsigned	 n;		/* lures: 1; new recipients: how many */
};

/* One sender's state as stored. */
struct outbreak_record {
	char		*sender;	/* the key (may be attacker text) */
	time_t		 last;		/* last message counted */
	time_t		 tripped;	/* 0: flowing */
	char		 reason[OUTBREAK_REASON_MAX];	/* "lures", "new_rcpts" */
	unsigned	 trip_lures;	/* counts in the window at the trip */
	unsigned	 trip_new_rcpts;
	unsigned	 held;		/* messages stopped since the trip */
	struct outbreak_event *lures;	/* oldest first */
	size_t		 nlures;
	struct outbreak_event *news;
	size_t		 nnews;
	struct outbreak_known *known;
	size_t		 nknown;
};

void		 outbreak_record_free(struct outbreak_record *);

struct outbreak_store;

/*
 * A store backend.  begin locks the sender's record against every other
 * thread and process using the same store, and reads it into *rec (an
 * empty record with rec->sender set when there is none).  Exactly one
 * of commit (write rec, which is durable when rec->tripped changed, and
 * unlock) or abort (unlock, write nothing) follows.  list returns every
 * record (in any order: outbreak_list sorts), dropping expired ones, without taking
 * the lock for long.  close frees the handle.  Every call returns LW_OK
 * or an internal error (LW_EIO with errno, LW_ENOMEM); a damaged record
 * reads as an empty one (logged), so one bad file cannot stop mail.
 */
struct outbreak_store_ops {
	const char	*name;
	enum lw_err	(*begin)(struct outbreak_store *, const char *sender,
			    time_t now, struct outbreak_record *rec);
	enum lw_err	(*commit)(struct outbreak_store *,
			    const struct outbreak_record *rec, bool durable);
	void		(*abort)(struct outbreak_store *);
	enum lw_err	(*list)(struct outbreak_store *, time_t now,
			    struct outbreak_record **v, size_t *n);
	void		(*close)(struct outbreak_store *);
};

struct outbreak_store {
	const struct outbreak_store_ops *ops;
	void		*priv;
};

/*
 * The file store in dir (created 0700 when missing).  Layout: dir/lock
 * (flock'd for every transaction), dir/HEX.rec (one sender; HEX is the
 * SHA-256 of the key, so attacker text never names a file), dir/HEX.tmp
 * (being written).  Record files are text: a "lurewall-outbreak 1" line,
 * then "sender", "last", "tripped", "held", "lure", "new" and "rcpt"
 * lines (see outbreak_fs.c).
 */
enum lw_err	 outbreak_file_open(const char *dir, struct outbreak_store **);
/*
 * The same store read-only (lurewall scan): nothing is created, locked
 * or written; commit keeps nothing, list lists nothing; a missing or
 * unreadable record (or dir NULL) reads as empty.
 */
enum lw_err	 outbreak_file_open_ro(const char *dir,
		    struct outbreak_store **);
void		 outbreak_close(struct outbreak_store *);

/*
 * A record's text form (both stores): len bytes at buf, NUL-terminated
 * beyond them, changed.  False (r freed) when they are not a record.
 */
bool		 outbreak_record_parse(char *buf, size_t len,
		    struct outbreak_record *);
void		 outbreak_record_write(FILE *, const struct outbreak_record *);
bool		 outbreak_record_empty(const struct outbreak_record *);
/*
 * For a store's begin: e is how reading sender's record into r went.
 * None (LW_ENOTFOUND), a damaged one (LW_EMALFORMED: logged, naming
 * store and name) or another sender's (a hash collision) gives an empty
 * record for sender, last active now; on an error r is freed.
 */
enum lw_err	 outbreak_record_begin(struct outbreak_record *,
		    const char *sender, time_t now, enum lw_err e,
		    const char *store, const char *name);
/* A store handle on ops with a zeroed private part; and its undoing. */
enum lw_err	 outbreak_store_new(const struct outbreak_store_ops *,
		    size_t privsize, struct outbreak_store **);
void		 outbreak_store_free(struct outbreak_store *);

/*
 * The store on the state (state.h; the default since issue 17):
 * "outbreak:HEX" holds one sender's record (HEX: SHA-256 of the key),
 * expiring OUTBREAK_RETENTION after its last activity unless tripped;
 * a transaction holds state_lock on that key.  With Redis every host
 * counts into the same records.  st stays the caller's.
 */
enum lw_err	 outbreak_state_open(struct state *, struct outbreak_store **);
/* The same for a look only (lurewall scan): no claim, nothing written. */
enum lw_err	 outbreak_state_open_ro(struct state *,
		    struct outbreak_store **);

/*
 * Copy the file store in dir into the state once per host (the marker
 * "migrated:outbreak:HOSTNAME" says it was done); the files stay.  *moved (may be
 * NULL) counts the records copied.  A missing dir is nothing to do.
 */
enum lw_err	 outbreak_migrate(const char *dir, struct state *,
		    size_t *moved);

/* The breaker */

enum outbreak_state {
	OB_FLOWING = 0,		/* counted, under every maximum */
	OB_TRIPPED_NOW,		/* this message tripped the sender */
	OB_TRIPPED		/* tripped before: hold this message */
};

struct outbreak_result {
	enum outbreak_state state;
	unsigned	 lures;		/* in the window, after this message */
	unsigned	 new_rcpts;
	unsigned	 new_here;	/* new recipients of this message */
	time_t		 tripped;
	char		 reason[OUTBREAK_REASON_MAX];
};

/*
 * Count one outbound message of sender at time now under the policy's
 * outbound settings: lure tells whether it is lure-like; its recipients
 * not mailed by this sender within OUTBREAK_RETENTION count as new.  A
 * sender trips when the lure-like messages in the window reach
 * max_lures, or the new recipients reach max_new_rcpts (a maximum of 0
 * is off).  A tripped sender's message is not counted, only held.
 */
enum lw_err	 outbreak_account(struct outbreak_store *, const char *sender,
		    const struct outbound_policy *, bool lure,
		    char *const *rcpts, size_t nrcpts, time_t now,
		    struct outbreak_result *);

/*
 * Let a tripped sender's mail flow again: the trip and the window's
 * counts are forgotten, the known recipients kept.  *found (may be
 * NULL) tells whether the sender was tripped.
 */
enum lw_err	 outbreak_clear(struct outbreak_store *, const char *sender,
		    time_t now, bool *found);

/* Every record, newest activity first; free with outbreak_records_free. */
enum lw_err	 outbreak_list(struct outbreak_store *, time_t now,
		    struct outbreak_record **v, size_t *n);
void		 outbreak_records_free(struct outbreak_record *, size_t);

/* The alert */

/*
 * Check an alert_command template: split on blanks (no shell, no
 * quoting), the first word is the program; placeholders %s (sender),
 * %r (reason), %l (lure-like messages), %n (new recipients), %w (window
 * seconds), %a (action), %t (trip time, Unix seconds) and %% may stand
 * anywhere in a word and are replaced by their value inside that one
 * argument.  Returns NULL when good, else why not.
 */
const char	*outbreak_alert_check(const char *tmpl);

/* What an alert reports. */
struct outbreak_alert {
	const char	*sender;
	const char	*reason;
	const char	*action;	/* "quarantine" or "tempfail" */
	unsigned	 lures;
	unsigned	 new_rcpts;
	unsigned	 window;
	time_t		 tripped;
};

/* The template expanded to a NULL-terminated argv (config_argv_free). */
enum lw_err	 outbreak_alert_argv(const char *tmpl,
		    const struct outbreak_alert *, char ***argv);

/*
 * Log the trip at LOG_CRIT (qid may be NULL) and, when cfg has an
 * alert_command, start it detached: fork twice, the middle process
 * waits at most OUTBREAK_ALERT_TIMEOUT seconds for the command and then
 * kills its process group; the caller only waits for the first fork,
 * which exits at once.  Errors starting it are logged, not returned.
 */
void		 outbreak_alert(const struct config *, const char *qid,
		    const struct outbreak_alert *);

#endif /* OUTBREAK_H */
