/*
 * pwcand.h: password candidates from the message's own text (subject,
 * text/plain and text/html parts): values after password keywords in
 * many languages first, then other tokens of 4..32 characters as a
 * fallback; text the sender wrote before quoted text first.  Full-width
 * forms folded to ASCII.  Bounded by limits.password_candidates.
 */
#ifndef PWCAND_H
#define PWCAND_H

#include "lurewall.h"

struct message;

struct pwcands {
	char		**v;		/* candidates, best first, unique */
	bool		 *keyword;	/* v[i] came after a keyword */
	size_t		  n;
	size_t		  cap;
};

enum lw_err	 pwcand_collect(struct pwcands *, const struct message *,
		    unsigned max);
/* From one UTF-8 text alone (split PPAP password mails, tests). */
enum lw_err	 pwcand_from_text(struct pwcands *, const char *utf8,
		    size_t len, unsigned max);
/*
 * Append one candidate of n bytes unless it is empty, too long, already
 * there, or the list holds max.
 */
enum lw_err	 pwcand_add(struct pwcands *, const char *s, size_t n,
		    bool keyword, unsigned max);
void		 pwcand_free(struct pwcands *);
/*
 * A candidate as the UTF-16LE bytes Office and 7-Zip hash (candidates
 * are ASCII: one code unit per byte), at most max bytes; returns the
 * number written.
 */
size_t		 pwcand_utf16le(const char *, unsigned char *out, size_t max);
/* "8462" -> "8**2" for logs: first and last char kept. */
char		*pwcand_mask(const char *);

#endif /* PWCAND_H */
