/*
 * splitppap.h: split PPAP.  A zip whose password comes in the next mail
 * is held in the quarantine as *pending*; a later mail from the same
 * sender to an overlapping recipient gives its password candidates,
 * which are tried on the held message; once the zip opens, the held
 * message is scanned again and released (clean) or kept (lure).  On
 * timeout the item's stored on_timeout decides.  See
 * lurewall-policy(5) split_password and lurewall-milter(8).
 *
 * Pending state lives in the quarantine directory: the item's metadata
 * (state, expires, on_timeout, reason, message_id, result) plus one
 * empty marker file pending/ID, so a mail in flight reads only the
 * pending items, never the whole store.  Every change to an item
 * happens under quarantine_lock and after re-reading its metadata, so
 * concurrent password mails and sweeps (threads or processes) act on an
 * item once.
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
 * Apply on_timeout to every pending item whose expiry is <= now.  full:
 * walk the whole store (restores missing pending/ markers after a
 * crash); else only the markers.  report: one line per item acted on
 * (the CLI); NULL logs instead.  *acted counts them (may be NULL).
 */
enum lw_err	 splitppap_sweep(struct quarantine *, const char *submit,
		    time_t now, bool full, FILE *report, size_t *acted);

/*
 * The daemon's sweep thread sleeps here: until max_secs have passed or
 * the earliest expiry that splitppap_eom and splitppap_sweep noted.
 */
void		 splitppap_sleep(unsigned max_secs);

#endif /* SPLITPPAP_H */
