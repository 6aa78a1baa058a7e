/*
 * scan.h: the engine's entry point.  Raw message + envelope + policies
 * -> findings and a verdict.  The milter's end-of-message callback and
 * `lurewall scan` both call scan_message(); nothing here knows libmilter.
 *
 * Order of work: mime_parse; password candidates from the text; every
 * attachment through content_analyze (file type, archives, Office);
 * then, once per distinct recipient policy, the policy-dependent
 * analyzers (hijack signs, custom rules, EMOTET_LURE) and
 * verdict_judge; the most severe action wins.
 */
#ifndef SCAN_H
#define SCAN_H

#include <time.h>

#include "envelope.h"
#include "lurewall.h"

struct message;
struct policy;
struct policyset;
struct config;
struct pwcands;
struct runtime;

struct verdict;

struct scan_result {
	struct message	*msg;		/* parsed message (owned) */
	struct verdict	*verdict;	/* the most severe policy's (owned) */
	uint64_t	 elapsed_ms;
};

/*
 * Scan one message.  Each recipient's domain picks a policy
 * (policyset_for_domain); without recipients the default policy judges
 * (`lurewall scan` without --rcpt).  Returns LW_OK with res filled, or
 * an internal error (res empty; the caller applies on_error).
 */
enum lw_err	 scan_message(const struct runtime *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, struct scan_result *res);

/*
 * What a caller may add to a scan.  extra_pw: password candidates tried
 * before the message's own (a split-PPAP password mail's candidates
 * against the held zip).  policy: judge under this policy alone instead
 * of the recipients'.  sender_policy: judge under the policy of the
 * sender's domain alone (outbound mail): the envelope sender's domain,
 * else the From: address's from the header this scan parses anyway.
 */
struct scan_opts {
	const struct pwcands	*extra_pw;
	const struct policy	*policy;
	bool			 sender_policy;
	time_t			 now;		/* 0: time(NULL) */
};

/*
 * At most n scans run at once in this process (0: no limit, the
 * default).  The daemon sets it to the CPU count: more parallel scans
 * only add decoded copies of messages to memory, not throughput.
 */
void		 scan_set_concurrency(unsigned n);

enum lw_err	 scan_message_opts(const struct runtime *,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, const struct scan_opts *,
		    struct scan_result *res);
/* Free what res owns; res itself is the caller's (never NULL). */
void		 scan_result_free(struct scan_result *res);

#endif /* SCAN_H */
