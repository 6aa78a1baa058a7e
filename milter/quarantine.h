/*
 * quarantine.h: the durable store of held messages.  One item per
 * message: the message exactly as received plus its metadata.  Written
 * to tmp/, fsync'd, renamed into place, directory fsync'd, before the
 * MTA hears the verdict; a failed store means tempfail.  Many milter
 * threads store at once and the CLI reads meanwhile without torn items.
 *
 * (Owned by the quarantine stage; the milter uses quarantine_open,
 * quarantine_store and quarantine_release_verify.)
 */
#ifndef QUARANTINE_H
#define QUARANTINE_H

#include <stdio.h>
#include <time.h>

#include "lurewall.h"

struct envelope;
struct scan_result;
struct quarantine;

#define QUARANTINE_ID_MAX	64

/* Open (creating with mode 0700 and the HMAC secret if needed). */
enum lw_err	 quarantine_open(const char *dir, struct quarantine **);
void		 quarantine_close(struct quarantine *);

/* Store one message; id receives the new item's id. */
enum lw_err	 quarantine_store(struct quarantine *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, const struct scan_result *,
		    char id[QUARANTINE_ID_MAX]);

/*
 * True when an X-Lurewall-Released header value carries a valid HMAC
 * for this message's Message-ID and Date (released by `lurewall
 * quarantine release`).
 */
bool		 quarantine_release_verify(struct quarantine *,
		    const char *hdrval, const char *message_id,
		    const char *date);

/* True when id is a safe item id (no path characters). */
bool		 quarantine_id_valid(const char *id);

#endif /* QUARANTINE_H */
