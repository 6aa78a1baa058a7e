/*
 * lookalike.h: domains that look like one of ours or a correspondent's
 * (HDR_LOOKALIKE_DOMAIN), and the confusable-letter skeleton of UTS #39
 * for names (ICU's uspoof), with IDNA decoding (ICU's uidna).
 */
#ifndef LOOKALIKE_H
#define LOOKALIKE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The UTS #39 skeleton of UTF-8 text (Cyrillic "Јоhn" and Latin "John"
 * share one; so do "examp1e" and "example", "rn" and "m"), malloc'd;
 * NULL on error.  Thread-safe: one shared checker, opened once.
 */
char		*lookalike_skeleton(const char *utf8);

/*
 * A domain in Unicode, lowercase: "xn--" labels decoded.  Malloc'd;
 * NULL on error (then compare the raw form).
 */
char		*lookalike_idna_decode(const char *domain);

/*
 * Does sender look like known without being it (or a subdomain of it)?
 * Same skeleton after IDNA decoding, or one edit (insert, delete,
 * substitute, swap of neighbours) in the labels that make the name
 * when the rest is equal and the name has 5 characters or more.  why
 * gets how (whysz > 0).
 */
bool		 lookalike_domain(const char *sender, const char *known,
		    char *why, size_t whysz);

#endif /* LOOKALIKE_H */
