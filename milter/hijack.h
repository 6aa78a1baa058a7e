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
 * Normalize a person's name for whole-name comparison: NFKC, case
 * folded, all white space (ideographic too) removed, trailing 様/さん/殿
 * dropped.  Malloc'd UTF-8 or NULL on ENOMEM.
 */
char		*hijack_name_key(const char *name);

#endif /* HIJACK_H */
