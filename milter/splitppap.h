/*
 * splitppap.h: split PPAP.  A zip whose password comes in the next mail
 * is held in the quarantine as *pending*; a later mail from the same
 * sender to an overlapping recipient gives its password candidates,
 * which are tried on the held message; once the zip opens, the held
 * message is scanned again and released (clean) or kept (lure).  On
 * timeout the item's stored on_timeout decides.  See
 * lurewall-policy(5) split_password and lurewall-milter(8).
 *
 * The held message stays in the local quarantine (an item with state
 * "pending"); the state (state.h) lists it for every host that shares
 * it, and a claim there (state_add) lets exactly one thread, process or
 * host act on an item: a password mail that opened it, or the sweep at
 * its timeout.  On a shared state (Redis) the message's bytes are there
 * too, so another host can open and release it (splitppap.c says how).
 * A lure quarantined outright whose archive nobody could open is listed
 * the same way for its policy's wait (splitppap_watch), so that its
 * password mail re-opens it.
 */
#ifndef SPLITPPAP_H
#define SPLITPPAP_H

#include <stdio.h>
#include <time.h>

#include "lurewall.h"
#include "quarantine.h"

struct envelope;
struct policyset;
struct runtime;
struct scan_result;

/* The periodic sweep's longest sleep (seconds); earlier expiries wake it. */
#define SPLITPPAP_SWEEP_SECS	60

/* The rule marking a password mail that opened a held lure. */
#define SPLITPPAP_LURE_RULE	"SPLIT_PASSWORD_LURE"

/*
 * What one end of message needs; q may be NULL (then nothing happens,
 * except that dry still says whether the message would be pending).
 */
struct splitppap_env {
	struct quarantine	*q;
	const struct runtime	*rt;		/* limits and policies */
	const char		*submit;	/* submit_command, NULL default */
	time_t			 now;		/* 0: time(NULL) */
	bool			 dry;		/* write nothing: say what
						   would happen (lurewall
						   scan) */
};

struct splitppap_result {
	bool		 pending;	/* stored pending: discard or hold */
	char		 id[QUARANTINE_ID_MAX];
	time_t		 expires;
	unsigned	 released;	/* held items this mail released */
	unsigned	 lures;		/* held items it opened: lures */
};

/*
 * True when res is a message split PPAP holds: its verdict's policy
 * has split_password on, the action is tag or quarantine, it has an
 * ARCHIVE_PASSWORD_UNKNOWN finding with a score above 0, and no other
 * finding scores more than that.
 */
bool		 splitppap_eligible(const struct scan_result *res);

/*
 * At end of message, after the scan: store an eligible message as
 * pending (out->pending; the caller discards or holds it), or else try
 * this message's password candidates on the pending items it matches.
 * A held item that turns out to be a lure marks res's verdict: at least
 * tag, with a SPLIT_PASSWORD_LURE finding.  Returns LW_EIO when storing
 * failed (the caller tempfails), LW_ENOMEM; trouble with other items is
 * logged, never fails this message.  With se->dry nothing is stored,
 * locked or released: out says what would be (no id), and a held lure
 * this mail would open still marks res.
 */
enum lw_err	 splitppap_eom(const struct splitppap_env *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, struct scan_result *res,
		    struct splitppap_result *out);

/*
 * A message the verdict quarantined that its password mail should
 * re-open: its policy has split_password on and an archive could not
 * be opened (ARCHIVE_PASSWORD_UNKNOWN).
 */
bool		 splitppap_reopenable(const struct scan_result *res);
/*
 * After storing such a message as item id: list it in the state for
 * its policy's wait (nothing happens otherwise; trouble is logged).
 */
void		 splitppap_watch(struct quarantine *, const char *id,
		    const unsigned char *raw, size_t len,
		    const struct scan_result *res, const char *qid,
		    time_t now);

/*
 * An admin released or deleted item id by hand: no password mail, on
 * any host, acts on it any more.
 */
void		 splitppap_forget(struct quarantine *, const char *id);

/*
 * What other hosts did with this host's items (a shared state): a
 * released one's local copy is removed; an opened lure is scanned
 * again with the candidates they sent and keeps the new findings.
 * The daemon's sweep thread calls it (se->rt for the scans).
 */
void		 splitppap_drain(const struct splitppap_env *se);

/*
 * Apply on_timeout to every pending item of this host whose expiry is
 * <= now (claiming it first: a password mail on another host may be
 * opening it).  full: first move pending/ markers of the store before
 * the state into it, and put back pending items the state lost (a
 * crash between store and record, an outage).  report: one line per item acted on
 * (the CLI); NULL logs instead.  *acted counts them (may be NULL).
 */
enum lw_err	 splitppap_sweep(struct quarantine *, const char *submit,
		    time_t now, bool full, FILE *report, size_t *acted);

/*
 * The daemon's sweep thread sleeps here: until max_secs have passed or
 * the earliest expiry that splitppap_eom and splitppap_sweep noted.
 * false once splitppap_stop_sleep was called: the thread must end.
 */
bool		 splitppap_sleep(unsigned max_secs);
/* Wake every sleeper for good (the daemon is stopping). */
void		 splitppap_stop_sleep(void);

#endif /* SPLITPPAP_H */
