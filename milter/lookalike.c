/*
 * lookalike.c: look-alike domains and confusable letters.
 *
 * Takes domains (ASCII or IDNA "xn--" form) and display names (UTF-8).
 * Confusables are judged by the skeleton of Unicode's UTS #39 as ICU's
 * uspoof_getSkeletonUTF8 computes it from Unicode's confusables data
 * (no table of ours): Cyrillic "а" and Latin "a", "1" and "l", "rn" and
 * "m" share one.  Punycode is decoded by uidna_nameToUnicodeUTF8.
 *
 * A sender domain is a look-alike of a known one when it is not the
 * known domain nor a subdomain of it, and its last labels (as many as
 * the known domain has) either have the same skeleton, or differ by one
 * edit in the first of those labels (the name: "exampel.co.jp") while
 * the rest (the suffix) is equal and the name has LOOK_MIN_NAME
 * characters or more (short names are too often someone else's).
 *
 * Bounds: domains over LOOK_DOMAIN_MAX bytes and names over
 * LOOK_TEXT_MAX are not compared.  One USpoofChecker is opened once
 * (pthread_once) and shared: uspoof_getSkeleton is const on it.
 * Ignores: public-suffix rules (the known domain's own label count
 * decides what its suffix is), homoglyphs ICU does not list.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/uidna.h>
#include <unicode/uspoof.h>

#include "lurewall.h"
#include "lookalike.h"

#define LOOK_DOMAIN_MAX	253
#define LOOK_TEXT_MAX	1024
#define LOOK_MIN_NAME	5

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static USpoofChecker	*checker;
static UIDNA		*idna;

static void
open_icu(void)
{
	UErrorCode	 ec = U_ZERO_ERROR;

	checker = uspoof_open(&ec);
	if (U_FAILURE(ec))
		checker = NULL;
	ec = U_ZERO_ERROR;
	idna = uidna_openUTS46(UIDNA_DEFAULT, &ec);
	if (U_FAILURE(ec))
		idna = NULL;
}

static void
lower_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/* ICU opened (once), the length of s; -1 when over max bytes. */
static int32_t
icu_len(const char *s, size_t max)
{
	size_t	len;

	pthread_once(&once, open_icu);
	len = strnlen(s, max + 1);
	return len > max ? -1 : (int32_t)len;
}

char *
lookalike_skeleton(const char *s)
{
	UErrorCode	 ec = U_ZERO_ERROR;
	char		*out;
	int32_t		 n, len, cap;

	if ((len = icu_len(s, LOOK_TEXT_MAX)) < 0 || checker == NULL)
		return NULL;
	/*
	 * Most skeletons are about as long as their text: one call into a
	 * buffer of twice that, and a second only when it was too small
	 * (a skeleton costs some 5,000 instructions a call).
	 */
	cap = 2 * len + 16;
	if ((out = malloc((size_t)cap + 1)) == NULL)
		return NULL;
	/* Room for cap bytes and the NUL written below. */
	n = uspoof_getSkeletonUTF8(checker, 0, s, len, out, cap, &ec);
	if (ec == U_BUFFER_OVERFLOW_ERROR) {
		free(out);
		if ((out = malloc((size_t)n + 1)) == NULL)
			return NULL;
		ec = U_ZERO_ERROR;
		n = uspoof_getSkeletonUTF8(checker, 0, s, len, out, n + 1,
		    &ec);
	}
	if (U_FAILURE(ec)) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

/* No byte over 0x7f and no "xn--" (any case) among d[0..len). */
static bool
plain_ascii(const char *d, size_t len)
{
	size_t	i;

	/* d[len] is its NUL: a mismatch there stops the test. */
	for (i = 0; i < len; i++)
		if ((unsigned char)d[i] >= 0x80 || ((d[i] | 0x20) == 'x' &&
		    (d[i + 1] | 0x20) == 'n' && d[i + 2] == '-' &&
		    d[i + 3] == '-'))
			return false;
	return true;
}

char *
lookalike_idna_decode(const char *d)
{
	UErrorCode	 ec = U_ZERO_ERROR;
	UIDNAInfo	 info = UIDNA_INFO_INITIALIZER;
	char		*out;
	int32_t		 n, len;

	if ((len = icu_len(d, LOOK_DOMAIN_MAX)) < 0 || idna == NULL)
		return NULL;
	/*
	 * ASCII without an "xn--" label: UTS #46 only lowers its case
	 * (our flags keep every other ASCII byte), as ICU's call would
	 * (t/3010-lookalike compares them), for 5% of its cost.
	 */
	if (plain_ascii(d, (size_t)len)) {
		if ((out = lw_strndup(d, (size_t)len)) != NULL)
			lower_ascii(out);
		return out;
	}
	/* UTF-8 out is at most 4 bytes per code point of the input. */
	if ((out = malloc((size_t)len * 4 + 1)) == NULL)
		return NULL;
	n = uidna_nameToUnicodeUTF8(idna, d, len, out, len * 4, &info, &ec);
	if (U_FAILURE(ec) || n < 0 || n > len * 4) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	lower_ascii(out);
	return out;
}

static size_t
nlabels(const char *d)
{
	size_t	n = 1;

	for (; *d != '\0'; d++)
		if (*d == '.')
			n++;
	return n;
}

/* The last n labels of d (d itself when it has no more). */
static const char *
last_labels(const char *d, size_t n)
{
	const char	*p = d + strlen(d);
	size_t		 k = 0;

	while (p > d) {
		p--;
		if (*p == '.' && ++k == n)
			return p + 1;
	}
	return d;
}

bool
lookalike_domain(const char *sender, const char *known, char *why,
    size_t whysz)
{
	char		*s = NULL, *k = NULL, *ss = NULL, *ks = NULL;
	const char	*tail, *sdot, *kdot;
	size_t		 n, sl, kl;
	bool		 hit = false;

	why[0] = '\0';
	if (strlen(sender) > LOOK_DOMAIN_MAX || strlen(known) > LOOK_DOMAIN_MAX)
		return false;
	if ((s = lookalike_idna_decode(sender)) == NULL)
		s = strdup(sender);
	if ((k = lookalike_idna_decode(known)) == NULL)
		k = strdup(known);
	if (s == NULL || k == NULL)
		goto out;
	lower_ascii(s);
	lower_ascii(k);
	n = nlabels(k);
	tail = last_labels(s, n);
	/* The domain itself or a subdomain of it: no look-alike. */
	if (strcmp(tail, k) == 0 && (tail == s || tail[-1] == '.'))
		goto out;
	if (nlabels(tail) != n)
		goto out;
	if ((ss = lookalike_skeleton(tail)) != NULL &&
	    (ks = lookalike_skeleton(k)) != NULL && strcmp(ss, ks) == 0) {
		snprintf(why, whysz, "%s%s looks like %s (same skeleton)",
		    tail, strcmp(sender, s) != 0 ? " (IDNA)" : "", k);
		hit = true;
		goto out;
	}
	/* One edit in the name (both are lower case), the suffix equal. */
	sdot = strchr(tail, '.');
	kdot = strchr(k, '.');
	sl = sdot != NULL ? (size_t)(sdot - tail) : strlen(tail);
	kl = kdot != NULL ? (size_t)(kdot - k) : strlen(k);
	if (kl >= LOOK_MIN_NAME && strcmp(tail + sl, k + kl) == 0 &&
	    (sl > kl ? sl - kl : kl - sl) <= 1 &&
	    lw_osa_distance(tail, sl, k, kl) == 1) {
		snprintf(why, whysz, "%s is one letter from %s", tail, k);
		hit = true;
	}
out:
	free(s);
	free(k);
	free(ss);
	free(ks);
	return hit;
}
