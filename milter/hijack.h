/*
 * hijack.h: thread-hijack signs in headers and body (HDR_*, BODY_*),
 * the policy's custom rules, and EMOTET_LURE (a strong hijack sign plus
 * a payload).  Policy-dependent: scan_message() calls hijack_scan once
 * per distinct recipient policy into a findings list of its own, after
 * the content findings are known.
 */
#ifndef HIJACK_H
#define HIJACK_H

#include "lurewall.h"

struct message;
struct policy;
struct scan_ctx;

/*
 * content: the policy-independent findings (payload rules) used for
 * EMOTET_LURE; out: where this policy's findings go.
 */
enum lw_err	 hijack_scan(struct scan_ctx *, const struct message *,
		    const struct policy *, const struct findings *content,
		    struct findings *out);

/*
 * The subject's reply/forward prefix stack, outermost first: "[EXT] Re:
 * AW[2]： x" is {Re, AW}.  Bracket tags between prefixes are skipped;
 * repeats (Re[2]:, Re^2:, Re(2):) and full-width forms count.  Only
 * known prefixes are recognised ("Invoice: x" has none).
 */
#define HIJACK_MAX_PREFIXES	16

struct hijack_prefix {
	char		 tok[16];	/* NFKC'd, as written: "AW", "返信" */
	bool		 forward;	/* Fw, WG, 転送 ...; else a reply */
};

size_t		 hijack_prefixes(const char *subject,
		    struct hijack_prefix *out, size_t max);

#endif /* HIJACK_H */
