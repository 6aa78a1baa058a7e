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

struct mime_part;
struct scan_ctx;

/* What the body's quote says about the thread. */
struct quote {
	bool		 quoted;	/* an earlier message is quoted */
	bool		 inner;		/* an attached message/rfc822 */
	bool		 recipients;	/* a quoted To:/Cc: named an address */
	char		*dom[QUOTE_MAX_DOMAINS];	/* participants */
	size_t		 ndom;
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

#endif /* HIJACK_INT_H */
