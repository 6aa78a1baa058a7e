/*
 * quarantine.h: the durable store of held messages.  One item per
 * message: the message exactly as received plus its metadata.  Written
 * to tmp/, fsync'd, renamed into place, directory fsync'd, before the
 * MTA hears the verdict; a failed store means tempfail.  Many milter
 * threads store at once and the CLI reads meanwhile without torn items.
 *
 * Layout under the quarantine directory (all 0700 / 0600):
 *	secret		32 random bytes, the release HMAC key
 *	tmp/		items being written or deleted (verify cleans
 *			entries older than a minute)
 *	new/ID/message	the message as received
 *	new/ID/meta	metadata, one "key value" line each
 *	new/ID/released	release record (written tmp + rename)
 * An item becomes visible by one rename(2) of its directory from tmp/
 * into new/, so a reader sees it whole or not at all.
 *
 * (Owned by the quarantine stage; the milter uses quarantine_open,
 * quarantine_store and quarantine_release_verify; cli_quarantine.c the
 * rest.)
 */
#ifndef QUARANTINE_H
#define QUARANTINE_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lurewall.h"

struct envelope;
struct scan_result;
struct quarantine;
struct state;

#define QUARANTINE_ID_MAX	64

/* Open (creating with mode 0700 and the HMAC secret if needed). */
enum lw_err	 quarantine_open(const char *dir, struct quarantine **);
/*
 * Open an existing store to read it (lurewall scan): nothing is created
 * (no directory, no secret); LW_EIO when it or its secret is missing
 * or unreadable.  Only the reading calls and quarantine_release_verify
 * may be used on it.
 */
enum lw_err	 quarantine_open_ro(const char *dir, struct quarantine **);
void		 quarantine_close(struct quarantine *);

/*
 * The state (state.h) the store keeps what outlives a message in:
 * release-once markers and split PPAP's pending items and claims.  st
 * is borrowed (NULL: none; releases are then recognised by their HMAC
 * alone, and split PPAP holds nothing); host names this host in shared
 * keys; share_bytes bounds a pending message put on a shared state for
 * other hosts to open (0: none).
 */
void		 quarantine_set_state(struct quarantine *, struct state *,
		    const char *host, size_t share_bytes);
struct state	*quarantine_state(const struct quarantine *);
const char	*quarantine_host(const struct quarantine *);
size_t		 quarantine_share_bytes(const struct quarantine *);

/*
 * Store one message; id receives the new item's id.  Returns LW_OK only
 * once the item is durable (files and directories fsync'd); LW_EIO (errno
 * set) or LW_ENOMEM otherwise, and the caller tempfails.  env and res may
 * be NULL (fields then missing); from res it reads res->msg->subject,
 * res->msg->from and res->verdict (action, score, rules, findings).
 * Thread-safe: threads may share one struct quarantine.
 */
enum lw_err	 quarantine_store(struct quarantine *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, const struct scan_result *,
		    char id[QUARANTINE_ID_MAX]);
/* The same with an explicit receive time (tests, imports). */
enum lw_err	 quarantine_store_at(struct quarantine *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, const struct scan_result *,
		    time_t when, char id[QUARANTINE_ID_MAX]);

/*
 * True when an X-Lurewall-Released header value carries a valid HMAC
 * for this message's Message-ID and Date (released by `lurewall
 * quarantine release`).  Values may be passed as the MTA gives them:
 * leading and trailing blanks and folding line breaks are ignored.
 */
bool		 quarantine_release_verify(struct quarantine *,
		    const char *hdrval, const char *message_id,
		    const char *date);

/*
 * Recognise a copy we released, once.  Every release counts one
 * release-once marker up on the state (key "released:" + the SHA-256
 * of the item id, the MAC, Message-ID and Date; RELEASE_MARK_TTL), so
 * any host sharing the state knows the copy: QSEEN_RELEASED, and with
 * consume the marker counts down.  A marker counted down to 0 means
 * the copy passed before: QSEEN_REPLAY (scan it).  Without a marker
 * (no state, a state that fails, a release older than markers) the
 * HMAC decides as quarantine_release_verify.  *result (may be NULL)
 * receives the X-Lurewall-Result value the release stored (malloc'd)
 * or NULL.
 */
#define RELEASE_MARK_TTL	(30 * 86400)
enum quarantine_seen {
	QSEEN_NO = 0,
	QSEEN_RELEASED,
	QSEEN_REPLAY
};
enum quarantine_seen quarantine_release_seen(struct quarantine *,
		    const char *hdrval, const char *message_id,
		    const char *date, time_t now, bool consume,
		    char **result);

/* True when id is a safe item id (no path characters). */
bool		 quarantine_id_valid(const char *id);

/* One finding as stored. */
struct quarantine_finding {
	char		*rule;
	int		 score;
	char		*part;
	char		*detail;
};

/*
 * An item's metadata as read back.  Every string is as stored (may be
 * attacker text: sanitize before printing) or NULL when unknown.
 */
struct quarantine_item {
	char		 id[QUARANTINE_ID_MAX];
	time_t		 time;		/* when it was stored */
	char		*qid;		/* MTA queue id */
	char		*client_addr;
	char		*client_name;
	char		*helo;
	char		*mail_from;	/* envelope sender ("" = null) */
	char	       **rcpts;
	size_t		 nrcpts;
	char		*from;		/* From: address */
	char		*from_display;	/* From: display name, decoded */
	char		*subject;	/* decoded Subject */
	int		 score;
	char		*action;	/* "quarantine", ... */
	char		*rules;		/* "RULE1,RULE2" */
	struct quarantine_finding *findings;
	size_t		 nfindings;
	uint64_t	 size;		/* message bytes */
	char		 sha256[65];	/* hex */

	/* The release record, when released is true. */
	bool		 released;
	time_t		 released_time;
	char		*released_by;
	char	       **released_to;
	size_t		 nreleased_to;
	unsigned	 release_count;

	/*
	 * Split PPAP (splitppap.h): state "pending" (waiting for a
	 * password mail until expires), "held" or "released"; NULL for an
	 * ordinary item.  result: the X-Lurewall-Result value a release
	 * adds.  All NULL / 0 when not stored.
	 */
	char		*state;
	time_t		 expires;
	char		*on_timeout;
	char		*reason;
	char		*message_id;
	char		*result;

	/*
	 * mode: "observed" when kept by observe mode (the message was
	 * delivered); mta_hold: true when the MTA holds the other copy
	 * under qid (quarantine.then: hold), which release and delete
	 * must release or delete too.
	 */
	char		*mode;
	bool		 mta_hold;

	/*
	 * The host holding it (quarantine_index.h): NULL for an item read
	 * from this host's store, its host name for one read from the
	 * shared index.
	 */
	char		*host;
};

/*
 * Extra metadata for quarantine_store_extra and quarantine_update; a
 * NULL string (or expires 0) is not written.
 */
struct quarantine_extra {
	const char	*state;
	time_t		 expires;
	const char	*on_timeout;
	const char	*reason;
	const char	*message_id;
	const char	*result;
	const char	*mode;		/* "observed" or NULL */
	bool		 mta_hold;	/* the MTA holds a copy (qid) */
};

enum lw_err	 quarantine_store_extra(struct quarantine *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, const struct scan_result *,
		    const struct quarantine_extra *, time_t when,
		    char id[QUARANTINE_ID_MAX]);

/*
 * Rewrite an item's metadata in place (tmp file, fsync, rename over
 * meta, fsync): with res, its score, action, rules and findings replace
 * the stored ones; with x, its fields replace state, expires,
 * on_timeout, reason and result.  Readers see the old or the new file.
 * Callers serialize with quarantine_lock.
 */
enum lw_err	 quarantine_update(struct quarantine *, const char *id,
		    const struct scan_result *res,
		    const struct quarantine_extra *x);

/*
 * An exclusive flock(2) on the item's directory, across threads and
 * processes (each call opens its own descriptor); *fd receives it for
 * quarantine_unlock.  Blocks until free.  LW_ENOTFOUND when the item is
 * gone.
 */
enum lw_err	 quarantine_lock(struct quarantine *, const char *id,
		    int *fd);
void		 quarantine_unlock(int fd);

/* Read one item's metadata (and release record).  LW_ENOTFOUND, LW_EINVAL
 * (bad id), LW_EMALFORMED (damaged metadata), LW_EIO. */
enum lw_err	 quarantine_read(struct quarantine *, const char *id,
		    struct quarantine_item **);
void		 quarantine_item_free(struct quarantine_item *);

/* The item's metadata file as stored (quarantine_meta_parse reads it). */
enum lw_err	 quarantine_meta_text(struct quarantine *, const char *id,
		    char **buf, size_t *len);

/* The stored message bytes (malloc'd; NUL-terminated beyond len). */
enum lw_err	 quarantine_message(struct quarantine *, const char *id,
		    unsigned char **raw, size_t *len);

/*
 * Every readable item, newest first (ties by id).  Items that vanish or
 * fail to parse meanwhile are skipped (verify reports damaged ones).
 * Free with quarantine_items_free.
 */
enum lw_err	 quarantine_list(struct quarantine *,
		    struct quarantine_item ***items, size_t *n);
void		 quarantine_items_free(struct quarantine_item **, size_t);

/*
 * How much the store holds: its items and the bytes of their messages
 * (for the metrics; one stat per item, no metadata read).
 */
enum lw_err	 quarantine_size(struct quarantine *, uint64_t *items,
		    uint64_t *bytes);

/* Remove an item (atomically invisible first, then its files). */
enum lw_err	 quarantine_delete(struct quarantine *, const char *id);

/*
 * Re-inject an item with its original envelope sender to its original
 * recipients (or to, when not NULL) through submit, the config's
 * submit_command template (config_submit_argv: split on blanks, no
 * shell; %f the envelope sender, "" when null; the word %r one word per
 * recipient; %%); the program must be an absolute path.  NULL means
 * CONFIG_DEFAULT_SUBMIT.  The message gets a first header
 * "X-Lurewall-Released: ID; TIME; HMAC" (and a Message-ID or Date when
 * it had none, so the HMAC covers what the MTA will see), then
 * "X-Lurewall-Result: RESULT" when the item stores a result.  who is
 * recorded with the time.  A released item refuses (LW_EEXIST) unless
 * force.  On failure err says why.
 */
enum lw_err	 quarantine_release(struct quarantine *, const char *id,
		    const char *to, const char *submit, bool force,
		    const char *who, char *err, size_t errlen);

/*
 * Submit raw as the release of item id, as quarantine_release does
 * (X-Lurewall-Released, a missing Message-ID or Date, X-Lurewall-Result
 * when result is set; the release-once marker counted up first), with
 * envelope sender mail_from and recipients rcpts, and nothing recorded
 * in the store: split PPAP releases another host's item with it.
 */
enum lw_err	 quarantine_submit(struct quarantine *, const char *id,
		    const unsigned char *raw, size_t len,
		    const char *mail_from, char *const *rcpts, size_t nrcpts,
		    const char *result, const char *submit, char *err,
		    size_t errlen);

/*
 * Record a release that happened elsewhere (the MTA delivered its held
 * copy): the release record as quarantine_release writes it, nothing
 * submitted.
 */
enum lw_err	 quarantine_record_release(struct quarantine *, const char *id,
		    const char *who, char *const *to, size_t nto);

/* The X-Lurewall-Released value for id and this Message-ID and Date. */
enum lw_err	 quarantine_release_header(struct quarantine *,
		    const char *id, const char *message_id, const char *date,
		    time_t now, char **hdrval);

/*
 * Check the store: remove (and print to report) temporary entries older
 * than a minute; read every item and compare its size and SHA-256.
 * Counts go to the out-parameters (any may be NULL).  Damaged items are
 * printed and left for the admin.
 */
enum lw_err	 quarantine_verify(struct quarantine *, FILE *report,
		    size_t *items, size_t *damaged, size_t *cleaned);

/*
 * An item's metadata as one record (malloc'd, NUL-terminated beyond
 * len): its meta file, then its release record when it has one.  This
 * is what the shared index (quarantine_index.h) carries for it;
 * quarantine_import parses it back as quarantine_read would.
 */
enum lw_err	 quarantine_export(struct quarantine *, const char *id,
		    char **buf, size_t *len);
enum lw_err	 quarantine_import(const char *buf, size_t len,
		    struct quarantine_item **);

/*
 * Called (in the thread that made the change) after an item was
 * stored, updated, released or deleted through this struct quarantine,
 * with its id: the shared index follows the store this way.  Must not
 * block for long; NULL turns it off.
 */
typedef void	(*quarantine_notify_fn)(void *arg, const char *id);
void		 quarantine_set_notify(struct quarantine *,
		    quarantine_notify_fn, void *arg);

/* Parse a metadata file (exposed for the fuzzer and the tests). */
enum lw_err	 quarantine_meta_parse(const char *buf, size_t len,
		    struct quarantine_item **);

/* The directory the store was opened on. */
const char	*quarantine_dir(const struct quarantine *);

#endif /* QUARANTINE_H */
