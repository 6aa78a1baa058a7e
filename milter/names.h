/*
 * names.h: whole-name matching of display names against the policy's
 * people (staff_names, correspondents), and the Unicode helpers the
 * hijack stage shares (NFKC of attacker text).
 *
 * A display name matches a person when it is one of the person's
 * aliases as a whole after names_key() (NFKC, case folded, white
 * space and invisible characters removed, surrounding quotes and a
 * trailing 様/さん/殿/御中 dropped), or, for a two-word Latin name, in
 * either order ("Sato Hanako" = "Hanako Sato", also "Sato, Hanako").
 * Never a substring: "佐藤 花子 via DocuSign" is nobody.  One structured
 * form is split: in "佐藤 花子 (経理部)" or "佐藤 花子／経理部" each
 * bracketed or slashed piece is a component, and the display name is a
 * known person only when every component is a known name ("John Smith
 * (via Google Docs)" is not John Smith).
 */
#ifndef NAMES_H
#define NAMES_H

#include "lurewall.h"

struct person;

/* A display name is split into at most this many components. */
#define NAMES_MAX_COMPONENTS	8
/* Longer display names are not names (bounds NFKC's work). */
#define NAMES_MAX_DISPLAY	1024

/* The comparison keys of one display name's components. */
struct name_cands {
	size_t	 n;		/* components; 0: cannot be a name */
	char	*key[NAMES_MAX_COMPONENTS];	/* names_key */
	char	*swap[NAMES_MAX_COMPONENTS][2];	/* two Latin or CJK
						   words: both orders, or
						   NULL */
	char	*skel[NAMES_MAX_COMPONENTS][3];	/* UTS #39 skeletons of
						   key, swap[0], swap[1] */
};

enum names_match {
	NAMES_NO = 0,
	NAMES_EXACT,		/* the key (or a swap) equals an alias's */
	NAMES_CONFUSABLE	/* only the skeletons are equal: letters of
				   another script that look the same */
};

/*
 * Normalize a person's name for whole-name comparison: NFKC, case
 * folded, all white space (ideographic too) and invisible characters
 * removed, surrounding quotes and a trailing 様/さん/殿/御中 dropped.
 * Malloc'd UTF-8, or NULL on ENOMEM (or when name is NULL).
 */
char		*names_key(const char *name);

/*
 * NFKC of len bytes of s (invalid UTF-8 becomes U+FFFD first).
 * Malloc'd, NUL-terminated, or NULL on ENOMEM.
 */
char		*names_nfkc(const char *s, size_t len);

/* Split display into components and key them.  LW_OK or LW_ENOMEM. */
enum lw_err	 names_cands(const char *display, struct name_cands *);
void		 names_cands_free(struct name_cands *);

/*
 * Is component i of c one of this person's aliases?  A person's keys
 * may be NULL (then computed here, slower); *nomem is set when that
 * failed.
 */
bool		 names_person_is(const struct person *,
		    const struct name_cands *c, size_t i, bool *nomem);
/* The same, telling an exact match from a confusable one. */
enum names_match names_person_match(const struct person *,
		    const struct name_cands *c, size_t i, bool *nomem);

#endif /* NAMES_H */
