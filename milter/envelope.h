/*
 * envelope.h: what the MTA told us about one message (or what `lurewall
 * scan` was told on its command line): queue id, client, HELO, envelope
 * sender and recipients, SASL login, daemon name.  Filled by the milter
 * callbacks and the CLI; read by the engine (scan.c), the disposition
 * stage and the stores.  Knows nothing of libmilter.
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lurewall.h"

/* Every field may be NULL. */
struct envelope {
	char		*qid;		/* macro i */
	char		*client_addr;	/* {client_addr} */
	char		*client_name;	/* {client_name} */
	char		*helo;
	char		*mail_from;	/* without angle brackets */
	char	       **rcpts;		/* without angle brackets */
	size_t		 nrcpts;
	char		*auth_authen;	/* {auth_authen} */
	char		*daemon_name;	/* {daemon_name} */
	bool		 truncated;	/* the MTA's message was longer than
					   limits.max_message_bytes and cut:
					   scan_message records MIME_LIMIT */
	uint64_t	 orig_len;	/* its length when truncated: what
					   the MTA sent, which stops early
					   when the milter skips the rest */
};

/* Free every field and zero the envelope (the struct is the caller's). */
void		 envelope_free(struct envelope *);
/* Append a copy of rcpt; LW_ENOMEM. */
enum lw_err	 envelope_add_rcpt(struct envelope *, const char *rcpt);

#endif /* ENVELOPE_H */
