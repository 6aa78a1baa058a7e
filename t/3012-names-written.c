/*
 * 3012-names-written: display names as people write them (issue 16):
 * titles, honorifics, company and domain annotations, reversed CJK
 * order, missing spaces and confusable letters match the person; other
 * annotations, other people and initials do not; a confusable match is
 * told from an exact one.  Every match is made twice, with the keys
 * computed per message and with the keys and skeletons the policy
 * loader stores: the answers must agree.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "lookalike.h"
#include "names.h"
#include "policy.h"

static unsigned	ndisagree;

/* How display d matches the person with these aliases (every part). */
static enum names_match
match_how(const char *d, const char *a0, const char *a1, bool loaded)
{
	const char		*al[2] = { a0, a1 };
	char			*keys[2], *skels[2];
	struct name_cands	 c;
	struct person		 who;
	enum names_match	 m, worst = NAMES_EXACT;
	size_t			 i;
	bool			 nomem = false;

	who.names = (char **)al;
	who.n = a1 != NULL ? 2 : 1;
	who.keys = NULL;
	who.skels = NULL;
	if (loaded) {
		for (i = 0; i < who.n; i++)
			if ((keys[i] = names_key(al[i])) == NULL ||
			    (skels[i] = lookalike_skeleton(keys[i])) == NULL)
				bail("names_key or lookalike_skeleton");
		who.keys = keys;
		who.skels = skels;
	}
	if (names_cands(d, &c) != LW_OK)
		bail("names_cands");
	if (c.n == 0)
		worst = NAMES_NO;
	for (i = 0; i < c.n; i++) {
		m = names_person_match(&who, &c, i, &nomem);
		if (m == NAMES_NO || (m == NAMES_CONFUSABLE &&
		    worst == NAMES_EXACT))
			worst = m;
	}
	names_cands_free(&c);
	for (i = 0; loaded && i < who.n; i++) {
		free(keys[i]);
		free(skels[i]);
	}
	return nomem ? NAMES_NO : worst;
}

static enum names_match
match(const char *d, const char *a0, const char *a1)
{
	enum names_match	m;

	if ((m = match_how(d, a0, a1, false)) != match_how(d, a0, a1, true)) {
		diag("%s: precomputed keys and skeletons answer otherwise", d);
		ndisagree++;
	}
	return m;
}

int
main(void)
{
	const char	*js = "John Smith", *ty = "山田 太郎";
	const char	*yt = "田中 裕子";

	is_int(NAMES_EXACT, match("Mr. John Smith", js, NULL), "Mr.");
	is_int(NAMES_EXACT, match("Dr John Smith", js, NULL), "Dr");
	is_int(NAMES_EXACT, match("Herr John Smith", js, NULL), "Herr");
	is_int(NAMES_EXACT, match("John Smith (Partner Example Inc.)", js,
	    NULL), "company in brackets");
	is_int(NAMES_EXACT, match("John Smith | Example GmbH", js, NULL),
	    "company after |");
	is_int(NAMES_EXACT, match("John Smith - partner.example.com", js,
	    NULL), "domain after -");
	is_int(NAMES_EXACT, match("田中 裕子 | example.co.jp", yt, NULL),
	    "domain after |");
	is_int(NAMES_EXACT, match("田中裕子 via example.co.jp", yt, NULL),
	    "via a domain, no space in the name");
	is_int(NAMES_EXACT, match("田中 裕子 (example.co.jp)", yt, NULL),
	    "domain in brackets");
	is_int(NAMES_EXACT, match("田中 裕子 / 株式会社エグザンプル", yt, NULL),
	    "a kabushiki kaisha after /");
	is_int(NAMES_EXACT, match("田中裕子様", yt, NULL), "様");
	is_int(NAMES_EXACT, match("太郎 山田", ty, NULL), "reversed CJK order");
	is_int(NAMES_EXACT, match("山田太郎", ty, NULL), "no space");
	is_int(NAMES_CONFUSABLE, match("\xd0\x88ohn Smith", js, NULL),
	    "Cyrillic Je: confusable");
	is_int(NAMES_CONFUSABLE, match("J\xd0\xbehn Sm\xd1\x96th", js, NULL),
	    "Cyrillic o and i: confusable");

	is_int(NAMES_NO, match("John Smith (via Google Docs)", js, NULL),
	    "via Google Docs: not John Smith");
	is_int(NAMES_NO, match("John Smith via DocuSign", js, NULL),
	    "via DocuSign: not John Smith");
	is_int(NAMES_NO, match("田中 裕子 (経理部)", yt, NULL),
	    "a department is no annotation we drop");
	is_int(NAMES_NO, match("Joan Smith", js, NULL), "another person");
	is_int(NAMES_NO, match("J. Smith", js, NULL), "initials");
	is_int(NAMES_NO, match("太郎 田中", yt, NULL), "another CJK name");
	ok(ndisagree == 0, "keys and skeletons from the policy loader "
	    "answer as those computed per message");
	return done_testing();
}
