/*
 * allow.h: a policy's allow: list, the exceptions an admin grants a
 * known-good source.  Each entry names one source and the rules it
 * skips:
 *   network: CIDR         the SMTP client's address ({client_addr})
 *   authenticated: USER   the SMTP AUTH login ({auth_authen}); "*" any
 *   sender: ADDR          the envelope sender (user@dom or @dom)
 *   sender_domain: DOM    the From: domain (or a subdomain of it), only
 *                         with verified: dkim (a DKIM pass whose d= is
 *                         that domain, aligned with From:) or dmarc (a
 *                         DMARC pass for it), read from the
 *                         Authentication-Results our own MTA added
 *                         (the config's authserv_id)
 *   skip: [all | hijack | RULE ...]
 * "hijack" is the thread-hijack signs: HDR_*, BODY_* and EMOTET_LURE.
 * A skipped rule is still found and logged; it only stops counting,
 * and the verdict log names the entry (allowed=NAME).
 *
 * Only Authentication-Results fields above the second Received: field
 * count (ours sit on top, next to our MTA's own Received:); a field an
 * outsider wrote further down, even with our authserv-id, is ignored.
 */
#ifndef ALLOW_H
#define ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "lurewall.h"

struct ydoc;
struct ynode;

enum allow_kind {
	ALLOW_NETWORK = 0,
	ALLOW_AUTHENTICATED,
	ALLOW_SENDER,
	ALLOW_SENDER_DOMAIN
};

enum allow_verified {
	AVER_NONE = 0,
	AVER_DKIM,
	AVER_DMARC
};

#define ALLOW_SKIP_ALL		0x01
#define ALLOW_SKIP_HIJACK	0x02
#define ALLOW_MAX		1000	/* entries per policy */

struct allow_entry {
	char			*name;
	enum allow_kind		 kind;
	char			*value;		/* as matched: lowercased */
	struct lw_cidr		 net;		/* ALLOW_NETWORK */
	enum allow_verified	 verified;
	unsigned		 skip;		/* ALLOW_SKIP_* */
	char			**rules;	/* named rules skipped */
	size_t			 nrules;
};

struct allow_list {
	struct allow_entry	*v;
	size_t			 n;
};

/* What a message offers to match against; NULL: unknown. */
struct allow_input {
	const char		*client_addr;
	const char		*auth_authen;
	const char		*mail_from;	/* envelope sender */
	const char		*from_addr;	/* From: address */
	const char		*authserv_id;	/* the config's, or NULL */
	const unsigned char	*raw;		/* the message (headers) */
	size_t			 len;
};

/* allow: of a policy file; replaces *out (freed by the caller). */
enum lw_err	 allow_parse(const struct ydoc *, const struct ynode *,
		    struct allow_list *out, char *err, size_t errlen);
enum lw_err	 allow_copy(const struct allow_list *, struct allow_list *);
void		 allow_free(struct allow_list *);
void		 allow_print(FILE *, const struct allow_list *);

/* The first entry the message matches, or NULL. */
const struct allow_entry *allow_match(const struct allow_list *,
		    const struct allow_input *);
/* True when entry e makes rule stop counting. */
bool		 allow_skips(const struct allow_entry *e, const char *rule);
/* True for the thread-hijack signs (HDR_*, BODY_*, EMOTET_LURE). */
bool		 allow_is_hijack(const char *rule);

/*
 * The verified result for domain in the Authentication-Results fields
 * of raw written by authserv_id (see above): AVER_DMARC when a
 * dmarc=pass names header.from=domain, else AVER_DKIM when a dkim=pass
 * names header.d=domain (or header.i=...@domain), else AVER_NONE.
 * Exposed for tests.
 */
enum allow_verified allow_authres(const unsigned char *raw, size_t len,
		    const char *authserv_id, const char *domain,
		    enum allow_verified want);

#endif /* ALLOW_H */
