/*
 * splitppap_int.h: what the split-PPAP files share (private to
 * splitppap*.c): the state's keys and the item as the state lists it.
 * splitppap.c holds and opens items, splitppap_remote.c carries out
 * what other hosts did with ours, splitppap_sweep.c times them out and
 * keeps the sweep thread's alarm clock.
 */
#ifndef SPLITPPAP_INT_H
#define SPLITPPAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "envelope.h"
#include "pwcand.h"
#include "quarantine.h"
#include "scan.h"
#include "splitppap.h"
#include "state.h"

#define APU_RULE	"ARCHIVE_PASSWORD_UNKNOWN"
#define PENDING_DIR	"pending"	/* before the state: markers */
#define RELEASED_BY	"split-ppap"
#define FIELD_MAX	200		/* attacker text in a log line */
#define K_PENDING	STATE_NS_PENDING
#define K_MSG		"pendingmsg:"
#define K_CLAIM		"claim:"
#define K_DONE		"spdone:"
#define GRACE_SECS	(7 * 86400)	/* keys outlive the wait by this */
#define DONE_MAX	1000		/* queued records one sweep takes */
#define DONE_POLL_SECS	5		/* shared: look at the queue */
#define RESTORE_SECS	900		/* put back what the state lost */
#define KEY_MAX		(sizeof(K_MSG) + 64 + QUARANTINE_ID_MAX + 2)

/* One pending (or re-openable) item as the state lists it. */
struct found {
	char			 host[STATE_HOST_MAX + 1];
	char			 id[QUARANTINE_ID_MAX];
	time_t			 until;		/* it waits till then */
	bool			 reopen;	/* quarantined outright */
	struct quarantine_item	*it;		/* its metadata */
};

struct collect {
	struct found	*v;
	size_t		 n;
	const char	*only;		/* one host's, or NULL: all */
	/* Matching a password mail: */
	const struct envelope	*env;
	const struct message	*msg;
	time_t			 now;
};

extern const char *const sp_timeout_names[];	/* by split_on_timeout */

/* splitppap.c: the keys of "pending:HOST:ID" and the like. */
void		 sp_key_of(char key[KEY_MAX], const char *prefix,
		    const char *host, const char *id);
enum lw_err	 sp_publish(struct quarantine *, const char *id,
		    const unsigned char *raw, size_t len, time_t until,
		    time_t now);
void		 sp_unpublish(struct quarantine *, const char *host,
		    const char *id);
enum lw_err	 sp_claim(struct quarantine *, const char *host,
		    const char *id, time_t until, time_t now);
void		 sp_unclaim(struct quarantine *, const char *host,
		    const char *id);
bool		 sp_is_pending(const struct quarantine_item *);
/* splitppap.c: what opening an item does to it. */
enum lw_err	 sp_item_env(const struct quarantine_item *,
		    struct envelope *);
enum lw_err	 sp_release_item(struct quarantine *,
		    const struct quarantine_item *, const char *submit,
		    const struct scan_result *, const char *result,
		    const char *reason, char *err, size_t errlen);
char		*sp_result_value(const char *action, int score,
		    const char *rules, const char *what);
enum lw_err	 sp_keep_lure(struct quarantine *,
		    const struct quarantine_item *, struct scan_result *r2,
		    bool reopen, const char *where, const char *pwqid);
/* splitppap.c: the items the state lists (a state_each_fn). */
void		 sp_founds_free(struct found *, size_t);
enum lw_err	 sp_collect_one(void *arg, const char *key,
		    const struct state_val *);
/* splitppap_remote.c: tell the owner what we did with its item. */
void		 sp_queue_done(struct quarantine *, const char *owner,
		    const char *kind, const char *id, const char *pwqid,
		    const struct pwcands *, time_t now);
/* splitppap_sweep.c: wake the sweep thread (for an expiry). */
void		 sp_notify(time_t when);
void		 sp_notify_expiry(time_t when);

#endif /* SPLITPPAP_INT_H */
