/*
 * analyzer.h: what the engine hands every analyzer, and nothing callers
 * of the engine need.  scan.c builds one struct scan_ctx per message;
 * content.c, archive.c, container.c, office.c and the other analyzers
 * add findings to it, respect its limits and poll scan_expired().  The
 * milter and the CLI include scan.h only.
 */
#ifndef ANALYZER_H
#define ANALYZER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lurewall.h"
#include "scan.h"

struct learn;
struct message;
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
	uint64_t		 kdf_ms;	/* key derivation time spent
						   (7z, zip AES, encrypted
						   Office): LW_KDF_* */
	uint64_t		 deadline_ms;	/* lw_now_ms() value; 0 = none */
	bool			 timed_out;	/* SCAN_TIMEOUT recorded */
	struct learn		*learn;		/* what our mail taught (the
						   hijack signs); NULL: none */
	time_t			 now;		/* for the learned store */
};

/*
 * Password key derivation (7z AES, WinZip AES, encrypted Office) is
 * the one place a message can burn CPU on purpose: every candidate of
 * every archive and document is charged to one budget, at most
 * LW_KDF_FILE_MS for one archive or document and LW_KDF_MESSAGE_MS
 * for the whole message, counted in the scanning thread's CPU time
 * (lw_cpu_ms): a loaded machine slows the scan, not the answer.
 */
#define LW_KDF_FILE_MS		250
#define LW_KDF_MESSAGE_MS	500

/*
 * Milliseconds of key derivation one archive or document that has
 * already spent file_ms may still spend (0: stop, and log how many
 * candidates were left untried).
 */
uint64_t	 scan_kdf_left(const struct scan_ctx *, uint64_t file_ms);

/*
 * True once the per-message wall-clock budget is spent; the first call
 * that notices records SCAN_TIMEOUT and logs it.  Callers then stop
 * their loop and return LW_OK: a timeout is a finding.
 */
bool		 scan_expired(struct scan_ctx *);

/* Log a line about this message: "qid=Q: ..." (Q "-" when unknown). */
void		 scan_log(const struct scan_ctx *, int prio, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

#endif /* ANALYZER_H */
