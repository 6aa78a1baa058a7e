/*
 * 3000-hijack-names: the name keys (NFKC, case folding, spaces,
 * honorifics), whole-name matching with swapped Latin names and
 * bracketed components, and the subject prefix parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "hijack.h"
#include "names.h"
#include "policy.h"
#include "analyzer.h"

/*
 * hijack.o refers to scan_expired; defining it here keeps scan.o (and
 * every stage it calls) out of this test's link.
 */
bool
scan_expired(struct scan_ctx *ctx)
{
	return false;
}

static void
key_is(const char *name, const char *want, const char *what)
{
	char	*k = names_key(name);

	is_str(want, k, "key: %s", what);
	free(k);
}

/* Does display name d match the person with these aliases? */
static bool
matches(const char *d, const char *const *aliases, size_t n, bool keyed)
{
	struct name_cands	 c;
	struct person		 who;
	size_t			 i;
	bool			 all = true, nomem = false;

	who.names = (char **)aliases;
	who.n = n;
	who.keys = NULL;
	who.skels = NULL;
	if (keyed) {
		if ((who.keys = calloc(n, sizeof(char *))) == NULL)
			bail("calloc");
		for (i = 0; i < n; i++)
			who.keys[i] = names_key(aliases[i]);
	}
	if (names_cands(d, &c) != LW_OK)
		bail("names_cands");
	if (c.n == 0)
		all = false;
	for (i = 0; i < c.n; i++)
		if (!names_person_is(&who, &c, i, &nomem))
			all = false;
	names_cands_free(&c);
	if (keyed) {
		for (i = 0; i < n; i++)
			free(who.keys[i]);
		free(who.keys);
	}
	return all && !nomem;
}

/* The prefix stack as "tok,tok" with '>' marking forwards. */
static void
prefixes_are(const char *subject, const char *want)
{
	struct hijack_prefix	 pre[HIJACK_MAX_PREFIXES];
	char			 got[512] = "";
	size_t			 n, i;

	n = hijack_prefixes(subject, pre, HIJACK_MAX_PREFIXES);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(got, ",");
		if (pre[i].forward)
			strcat(got, ">");
		strcat(got, pre[i].tok);
	}
	is_str(want, got, "prefixes of \"%s\"", subject ? subject : "(null)");
}

int
main(void)
{
	static const char *const hanako[] = { "佐藤 花子", "Hanako Sato" };
	static const char *const keiri[] = { "経理部" };
	static const char *const yamada[] = { "山田 太郎", "Taro Yamada" };
	struct name_cands	 c;
	char			*k, *big;
	struct hijack_prefix	 pre[4];

	/* Keys. */
	key_is("佐藤 花子", "佐藤花子", "plain");
	key_is("佐藤\xe3\x80\x80花子", "佐藤花子", "ideographic space");
	key_is("佐藤 花子 様", "佐藤花子", "trailing 様");
	key_is("佐藤花子さん", "佐藤花子", "trailing さん");
	key_is("山田殿", "山田", "trailing 殿");
	key_is("経理部 御中", "経理部", "trailing 御中");
	key_is("様", "", "only an honorific");
	key_is("\xef\xbc\xa8\xef\xbd\x81\xef\xbd\x8e\xef\xbd\x81\xef\xbd\x8b"
	    "\xef\xbd\x8f\xe3\x80\x80\xef\xbc\xb3\xef\xbd\x81\xef\xbd\x94"
	    "\xef\xbd\x8f", "hanakosato", "full-width letters");
	key_is("HANAKO SATO", "hanakosato", "upper case");
	key_is("Hanako\xe2\x80\x8bSato", "hanakosato", "zero-width space");
	key_is("ｻﾄｳ ﾊﾅｺ", "サトウハナコ", "half-width katakana");
	key_is("サトウ・ハナコ", "サトウハナコ", "katakana middle dot");
	key_is("Klaus Weber", "klausweber", "Latin");
	key_is("'Hanako Sato'", "hanakosato", "single quotes around");
	key_is("\xe2\x80\x9c佐藤 花子様\xe2\x80\x9d", "佐藤花子",
	    "curly quotes and honorific");
	key_is("O'Neil", "o'neil", "an apostrophe inside stays");
	key_is("\"\"", "", "only quotes");
	key_is("", "", "empty");
	ok(names_key(NULL) == NULL, "key: NULL in, NULL out");
	k = names_key("Sato\xff\xfe");
	ok(k != NULL && strcmp(k, "sato\xef\xbf\xbd\xef\xbf\xbd") == 0,
	    "key: invalid UTF-8 becomes U+FFFD");
	free(k);
	k = names_nfkc("yamada\xef\xbc\xa0torihiki.example", 25);
	is_str("yamada@torihiki.example", k, "nfkc: full-width at sign");
	free(k);

	/* Whole-name matching. */
	ok(matches("佐藤 花子", hanako, 2, true), "match: as written");
	ok(matches("佐藤花子 様", hanako, 2, true), "match: honorific");
	ok(matches("佐藤\xe3\x80\x80花子", hanako, 2, true),
	    "match: ideographic space");
	ok(matches("Sato Hanako", hanako, 2, true), "match: swapped");
	ok(matches("SATO, Hanako", hanako, 2, true), "match: Last, First");
	ok(matches("Sato Hanako 様", hanako, 2, true),
	    "match: swapped with an honorific");
	ok(matches("'Sato Hanako'", hanako, 2, true),
	    "match: swapped in quotes");
	ok(matches("Hanako Sato", hanako, 2, false),
	    "match: keys computed when the policy has none");
	ok(matches("\xef\xbc\xb3\xef\xbd\x81\xef\xbd\x94\xef\xbd\x8f "
	    "\xef\xbc\xa8\xef\xbd\x81\xef\xbd\x8e\xef\xbd\x81\xef\xbd\x8b"
	    "\xef\xbd\x8f", hanako, 2, true), "match: full-width, swapped");
	ok(!matches("佐藤 花子 via DocuSign", hanako, 2, true),
	    "no match: \"佐藤 花子 via DocuSign\"");
	ok(!matches("Hanako Sato via DocuSign", hanako, 2, true),
	    "no match: Latin name plus words");
	ok(!matches("佐藤", hanako, 2, true), "no match: part of a name");
	ok(!matches("Sato", hanako, 2, true), "no match: surname only");
	ok(!matches("Hanako Sato Yamada", hanako, 2, true),
	    "no match: three words");
	ok(!matches("", hanako, 2, true), "no match: empty");
	ok(!matches("   ", hanako, 2, true), "no match: blank");
	ok(matches("経理部", keiri, 1, true), "match: department");
	ok(!matches("取引商事 経理部", keiri, 1, true),
	    "no match: a vendor's own 経理部");

	/* Components: every one must be known. */
	if (names_cands("佐藤 花子 (経理部)", &c) != LW_OK)
		bail("names_cands");
	is_int(2, (long long)c.n, "components of 佐藤 花子 (経理部)");
	is_str("佐藤花子", c.key[0], "component 1");
	is_str("経理部", c.key[1], "component 2");
	names_cands_free(&c);
	if (names_cands("佐藤 花子（経理部）", &c) != LW_OK)
		bail("names_cands");
	is_int(2, (long long)c.n, "full-width brackets split too");
	names_cands_free(&c);
	if (names_cands("a (b (c))", &c) != LW_OK)
		bail("names_cands");
	is_int(1, (long long)c.n, "nested brackets: one component");
	names_cands_free(&c);
	if (names_cands("a (b", &c) != LW_OK)
		bail("names_cands");
	is_int(1, (long long)c.n, "unbalanced bracket: one component");
	names_cands_free(&c);
	if (names_cands("a/b/c/d/e/f/g/h/i/j", &c) != LW_OK)
		bail("names_cands");
	is_int(0, (long long)c.n, "too many components: not a name");
	names_cands_free(&c);
	if ((big = malloc(NAMES_MAX_DISPLAY + 2)) == NULL)
		bail("malloc");
	memset(big, 'a', NAMES_MAX_DISPLAY + 1);
	big[NAMES_MAX_DISPLAY + 1] = '\0';
	if (names_cands(big, &c) != LW_OK)
		bail("names_cands");
	is_int(0, (long long)c.n, "over-long display name: not a name");
	names_cands_free(&c);
	free(big);
	ok(matches("Taro Yamada (Torihiki)", yamada, 2, true) == false,
	    "no match: an unknown bracketed component");
	ok(matches("山田 太郎／Taro Yamada", yamada, 2, true),
	    "match: aliases joined by a full-width slash");

	/* Subject prefixes. */
	prefixes_are("Re: AW: Lieferplan Q2", "Re,AW");
	prefixes_are("RE: RE: 見積書の件", "RE,RE");
	prefixes_are("Fwd: RE: monthly report", ">Fwd,RE");
	prefixes_are("WG: Auftrag 4471", ">WG");
	prefixes_are("[EXT] Re: [External] AW: x", "Re,AW");
	prefixes_are("【外部】Re: x", "Re");
	prefixes_are("【パスワード】売上集計表の送付", "");
	prefixes_are("Re[2]: Re^3: Re(4): x", "Re,Re,Re");
	prefixes_are("\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\x9a x", "RE");
	prefixes_are("返信: プレゼン資料", "返信");
	prefixes_are("転送\xef\xbc\x9a 資料", ">転送");
	prefixes_are("回复: x 答复：y", "回复");
	prefixes_are("转发: x", ">转发");
	prefixes_are("TR : x", ">TR");
	prefixes_are("RV: x", ">RV");
	prefixes_are("AW:WG:SV:VS:Antw:Odp:RIF:R:I:Doorst: x",
	    "AW,>WG,SV,VS,Antw,Odp,RIF,R,>I,>Doorst");
	prefixes_are("Reminder: meeting", "");
	prefixes_are("Invoice: 123", "");
	prefixes_are("Re x", "");
	prefixes_are("Re", "");
	prefixes_are("Re[: x", "");
	prefixes_are("[unterminated Re: x", "");
	prefixes_are("", "");
	prefixes_are(NULL, "");
	prefixes_are("議事録（2022年3月1日 定例会議）", "");
	is_int(4, (long long)hijack_prefixes("Re: Re: Re: Re: Re: Re: x",
	    pre, 4), "prefix stack capped at max");

	return done_testing();
}
