/*
 * hijack_int.h: what hijack.c and hijack_quote.c share: the quoted
 * thread and the address scanner.  No other stage includes it.
 */
#ifndef HIJACK_INT_H
#define HIJACK_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lurewall.h"

#define DOMAIN_MAX		253
#define ADDR_MAX		320
#define QUOTE_MAX_DOMAINS	32

struct message;
struct mime_part;
struct scan_ctx;

/* What the body's quote says about the thread. */
struct quote {
	bool		 quoted;	/* an earlier message is quoted */
	bool		 inner;		/* an attached message/rfc822 */
	bool		 recipients;	/* a quoted To:/Cc: named an address */
	char		*dom[QUOTE_MAX_DOMAINS];	/* participants */
	size_t		 ndom;
	char		 author[ADDR_MAX + 1];	/* the first quoted message's
						   author ("On ..., X <x@d>
						   wrote:", a quoted From:),
						   "" when none */
};

/*
 * Read the quoted thread from the text parts under root into q (which
 * the caller zeroed; free it with hijack_quote_free, on error too).
 * LW_OK or LW_ENOMEM.
 */
enum lw_err	 hijack_quote_scan(struct scan_ctx *,
		    const struct mime_part *root, struct quote *q);
void		 hijack_quote_free(struct quote *);

/*
 * The next address in s[*pos..len): local@domain.tld, ASCII.  Fills
 * addr (ADDR_MAX + 1 bytes) and dom (DOMAIN_MAX + 1 bytes, lowercased)
 * and advances *pos past it.
 */
bool		 hijack_next_addr(const char *s, size_t len, size_t *pos,
		    char *addr, char *dom);

/*
 * The signs from what the organisation's mail taught (hijack_learn.c)
 * under organisation org, after the policy's name signs and the quote
 * scan: *known is set for a reply from a participant of our thread
 * (HDR_KNOWN_THREAD), whose reply prefixes then prove nothing.
 */
enum lw_err	 hijack_learn_signs(struct scan_ctx *,
		    const struct message *, const char *org,
		    const struct quote *, struct findings *out, bool *known);

#endif /* HIJACK_INT_H */
