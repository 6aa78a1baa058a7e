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

#include "envelope.h"
#include "lurewall.h"

struct message;
struct policy;
struct policyset;
struct config;
struct pwcands;

/*
 * Per-message analysis state handed to every analyzer.  Analyzers add
 * findings, respect the limits and poll scan_expired() in any loop that
 * can run long.
 */
struct scan_ctx {
	const struct limits	*lim;
	struct findings		*fs;		/* policy-independent findings */
	const struct pwcands	*pw;		/* password candidates */
	const struct message	*msg;
	const char		*qid;		/* for log lines; may be NULL */
	uint64_t		 inflated;	/* archive bytes inflated so far */
	uint64_t		 deadline_ms;	/* lw_now_ms() value; 0 = none */
	bool			 timed_out;	/* SCAN_TIMEOUT recorded */
};

/*
 * True once the per-message wall-clock budget is spent; the first call
 * that notices records SCAN_TIMEOUT and logs it.  Callers then stop
 * their loop and return LW_OK: a timeout is a finding.
 */
bool		 scan_expired(struct scan_ctx *);

/* Log a line about this message: "qid=Q: ..." (Q "-" when unknown). */
void		 scan_log(const struct scan_ctx *, int prio, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

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
enum lw_err	 scan_message(const unsigned char *raw, size_t len,
		    const struct envelope *, const struct limits *,
		    const struct policyset *, struct scan_result *res);

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
};

/*
 * At most n scans run at once in this process (0: no limit, the
 * default).  The daemon sets it to the CPU count: more parallel scans
 * only add decoded copies of messages to memory, not throughput.
 */
void		 scan_set_concurrency(unsigned n);

enum lw_err	 scan_message_opts(const unsigned char *raw, size_t len,
		    const struct envelope *, const struct limits *,
		    const struct policyset *, const struct scan_opts *,
		    struct scan_result *res);
void		 scan_result_free(struct scan_result *);

#endif /* SCAN_H */
