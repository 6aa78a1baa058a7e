/*
 * 1000-pwcand: password candidates from message text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "mime.h"
#include "pwcand.h"

/* Index of s among the candidates, or -1. */
static long
idx(const struct pwcands *pc, const char *s)
{
	size_t	i;

	for (i = 0; i < pc->n; i++)
		if (strcmp(pc->v[i], s) == 0)
			return (long)i;
	return -1;
}

static void
first_is(const char *text, const char *want, const char *what)
{
	struct pwcands	pc;

	memset(&pc, 0, sizeof(pc));
	is_int(LW_OK, pwcand_from_text(&pc, text, strlen(text), 64),
	    "%s: collects", what);
	ok(pc.n > 0 && strcmp(pc.v[0], want) == 0 && pc.keyword[0],
	    "%s: first candidate %s (got %s)", what, want,
	    pc.n > 0 ? pc.v[0] : "none");
	pwcand_free(&pc);
}

static void
kw_has(const char *text, const char *want, const char *what)
{
	struct pwcands	pc;
	long		i;

	memset(&pc, 0, sizeof(pc));
	pwcand_from_text(&pc, text, strlen(text), 64);
	i = idx(&pc, want);
	ok(i >= 0 && pc.keyword[i], "%s: %s is a keyword candidate (#%ld)",
	    what, want, i);
	pwcand_free(&pc);
}

static void
t_languages(void)
{
	first_is("お世話になっております。\r\n添付ファイルのパスワード：8462\r\n"
	    "よろしくお願いいたします。\r\n", "8462", "ja same line");
	first_is("資料を送付します。\n解凍パスワードは次の通りです。\n\n"
	    "   Xy7#kq\n\n以上です。\n", "Xy7#kq", "ja next line");
	first_is("パスワード：１２３４\n", "1234", "ja full-width digits");
	first_is("パスワードは「pa55word」です。", "pa55word", "ja brackets");
	first_is("ＰＷ：ｘｙｚ７８９", "xyz789", "full-width letters");
	first_is("資料を送付します。PW：Qz81 よろしくお願いします",
	    "Qz81", "PW with full-width colon mid-line");
	first_is("Hi John,\nPassword: abc123\nBest regards\n", "abc123",
	    "en same line");
	kw_has("The password for the attachment is hunter2.\n", "hunter2",
	    "en 'is'");
	first_is("Please find the file attached.\nPassword:\n\n  Tr0ub4dor\n",
	    "Tr0ub4dor", "en next line");
	first_is("Anbei die Rechnung.\nKennwort: Sommer2024\nMfG\n",
	    "Sommer2024", "de Kennwort");
	kw_has("Das Passwort lautet Winter99!\n", "Winter99!", "de lautet");
	first_is("pass: 2022\n", "2022", "en pass:");
	first_is("mot de passe : Ete2023\n", "Ete2023", "fr");
	first_is("contraseña: Hola1234\n", "Hola1234", "es");
	first_is("密码：mm8899\n", "mm8899", "zh");
	first_is("비밀번호: kr5566\n", "kr5566", "ko");
	first_is("パスワード　\"q w\"", "q w", "quoted value with a space");
}

static void
t_order(void)
{
	struct pwcands	 pc;
	char		*big;
	const char	*txt;
	size_t		 i, n;


	memset(&pc, 0, sizeof(pc));
	txt = "Bitte prüfen.\nPassword: newpw2\n\n"
	    "-----Original Message-----\nFrom: someone\nPassword: oldpw3\n"
	    "> Password: oldpw1\n";
	pwcand_from_text(&pc, txt, strlen(txt), 64);
	ok(idx(&pc, "newpw2") == 0, "own keyword value first");
	ok(idx(&pc, "oldpw3") > 0 && idx(&pc, "oldpw3") <
	    idx(&pc, "Bitte"), "quoted keyword values before fallback tokens");
	ok(idx(&pc, "ab") < 0, "short tokens are not candidates");
	pwcand_free(&pc);

	/* A long quoted thread must not crowd out the sender's text. */
	n = 20000;
	if ((big = malloc(n * 16 + 200)) == NULL)
		bail("ENOMEM");
	strcpy(big, "Datei anbei, Kennwort folgt: Sep7ember\n"
	    "Other words here: token42x\n");
	for (i = 0; i < n; i++)
		sprintf(big + strlen(big), "> quoted%05zu\n", i);
	memset(&pc, 0, sizeof(pc));
	pwcand_from_text(&pc, big, strlen(big), 64);
	is_int(64, (long long)pc.n, "bounded by max");
	ok(idx(&pc, "Sep7ember") == 0, "keyword value first");
	ok(idx(&pc, "token42x") >= 0 && idx(&pc, "token42x") <
	    idx(&pc, "quoted00000"), "own tokens before quoted tokens");
	ok(idx(&pc, "http://x.example") < 0, "no URLs");
	pwcand_free(&pc);

	/*
	 * Once the quoted tokens fill their tier, later lines still give
	 * a quoted keyword value and the sender's own tokens, in tier
	 * order (the full tier's lines are skipped, nothing else).
	 */
	strcpy(big, "see below\n");
	for (i = 0; i < 200; i++)
		sprintf(big + strlen(big), "> ref %zu9\n", 1000 + i);
	strcat(big, "> PW: Zq81x\nreply 2024ab\nand words\n");
	memset(&pc, 0, sizeof(pc));
	pwcand_from_text(&pc, big, strlen(big), 64);
	is_int(64, (long long)pc.n, "full quoted tier: bounded by max");
	ok(idx(&pc, "Zq81x") == 0 && pc.keyword[0],
	    "full quoted tier: a later quoted keyword value first");
	ok(idx(&pc, "2024ab") == 1, "full quoted tier: a later own token "
	    "next (#%ld)", idx(&pc, "2024ab"));
	ok(idx(&pc, "below") == 2 && idx(&pc, "reply") == 3 &&
	    idx(&pc, "words") == 4, "full quoted tier: own tokens without "
	    "a digit after those with one (#%ld)", idx(&pc, "words"));
	ok(idx(&pc, "10009") == 5 && idx(&pc, "10589") == 63,
	    "full quoted tier: the first quoted tokens, in order");
	pwcand_free(&pc);
	free(big);

	memset(&pc, 0, sizeof(pc));
	txt = "see https://www.example.com/a or mail a@example.com, code "
	    "1234abcd and wordonly 0123456789012345678901234567890123";
	pwcand_from_text(&pc, txt, strlen(txt), 64);
	ok(idx(&pc, "1234abcd") == 0, "tokens with digits first");
	ok(idx(&pc, "wordonly") > 0, "then other tokens");
	ok(idx(&pc, "https://www.example.com/a") < 0 &&
	    idx(&pc, "a@example.com") < 0, "URLs and addresses skipped");
	ok(idx(&pc, "0123456789012345678901234567890123") < 0,
	    "no candidate over 32 chars");
	pwcand_free(&pc);
}

static void
t_collect(void)
{
	struct message		 msg, inner;
	struct mime_part	 root, p1, p2, fwd, iroot, *kids[3];
	struct pwcands		 pc;

	memset(&msg, 0, sizeof(msg));
	memset(&inner, 0, sizeof(inner));
	memset(&root, 0, sizeof(root));
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	memset(&fwd, 0, sizeof(fwd));
	memset(&iroot, 0, sizeof(iroot));
	msg.subject = "【パスワード】 Re: 見積書 PW=Sub789";
	msg.root = &root;
	root.ctype = "multipart/mixed";
	kids[0] = &p1;
	kids[1] = &p2;
	kids[2] = &fwd;
	root.child = kids;
	root.nchild = 3;
	p1.ctype = "text/plain";
	p1.text = "いつもお世話になっております。\n";
	p1.text_len = strlen(p1.text);
	p2.ctype = "text/html";
	p2.is_html = true;
	p2.text = "解凍パスワード\u00a0： Ab12Cd\n";	/* from &nbsp; */
	p2.text_len = strlen(p2.text);
	fwd.ctype = "message/rfc822";
	fwd.inner = &inner;
	inner.subject = "old";
	inner.root = &iroot;
	iroot.ctype = "text/plain";
	iroot.text = "Passwort: Alt2020\n";
	iroot.text_len = strlen(iroot.text);

	memset(&pc, 0, sizeof(pc));
	is_int(LW_OK, pwcand_collect(&pc, &msg, 64), "collect from a tree");
	ok(idx(&pc, "Sub789") == 0, "subject first (PW=)");
	ok(idx(&pc, "Ab12Cd") > 0 && pc.keyword[idx(&pc, "Ab12Cd")],
	    "HTML part's keyword value");
	ok(idx(&pc, "Alt2020") > 0, "forwarded message's text too");
	pwcand_free(&pc);

	memset(&pc, 0, sizeof(pc));
	pwcand_collect(&pc, &msg, 2);
	is_int(2, (long long)pc.n, "collect is bounded by max");
	pwcand_free(&pc);
}

/*
 * A reply separator makes the rest of the text quoted: a keyword value
 * after it ranks below the one the sender wrote before it, and after
 * an earlier "> " line's (a tier keeps text order).
 */
static void
sep_order(const char *sep, const char *what)
{
	struct pwcands	pc;
	char		text[512];

	snprintf(text, sizeof(text), "> PW: Quo1ed\nPW: 0wnPass\n%s\n"
	    "PW: Late1x\n", sep);
	memset(&pc, 0, sizeof(pc));
	pwcand_from_text(&pc, text, strlen(text), 64);
	ok(idx(&pc, "0wnPass") == 0 && idx(&pc, "Quo1ed") == 1 &&
	    idx(&pc, "Late1x") == 2, "%s: text after it is quoted "
	    "(%ld %ld %ld)", what, idx(&pc, "0wnPass"), idx(&pc, "Quo1ed"),
	    idx(&pc, "Late1x"));
	pwcand_free(&pc);
}

static void
t_separators(void)
{
	sep_order("2022年2月21日(月) 16:02 山田 <y@example.jp> のメッセージ:",
	    "Japanese reply line");
	sep_order("On Mon, 21 Feb 2022, Taro <t@example.jp> wrote:",
	    "English reply line");
	sep_order("-----Original Message-----", "Outlook separator");
	sep_order("Von: Taro <t@example.jp>", "German header line");
	sep_order("Am 21.02.2022 schrieb Taro:", "German reply line");
}

/* U+FF01..U+FF5E to ASCII, U+3000 and NUL to a space, byte by byte. */
static size_t
ref_fold(const unsigned char *p, size_t len, char *out)
{
	size_t		i = 0, o = 0;
	unsigned	cp;

	while (i < len) {
		if (len - i >= 3 && p[i] == 0xef && (p[i + 1] == 0xbc ||
		    p[i + 1] == 0xbd) && (p[i + 2] & 0xc0) == 0x80) {
			cp = 0xf000 | (p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f);
			if (cp >= 0xff01 && cp <= 0xff5e) {
				out[o++] = (char)(cp - 0xfee0);
				i += 3;
				continue;
			}
		}
		if (len - i >= 3 && p[i] == 0xe3 && p[i + 1] == 0x80 &&
		    p[i + 2] == 0x80) {
			out[o++] = ' ';
			i += 3;
			continue;
		}
		out[o++] = p[i] == 0 ? ' ' : (char)p[i];
		i++;
	}
	return o;
}

/*
 * The full-width folding finds its places with memchr and a word-wise
 * search for E3 80 80: a text gives the candidates its byte-by-byte
 * folded form gives, whatever the alignment of the forms and of the
 * near misses ("、" E3 80 81, U+FF61, a cut sequence).
 */
static void
t_fold(void)
{
	static const char *const pieces[] = {
		"\xe3\x80\x80", "\xe3\x80\x81", "\xe3\x80", "\xe3", "\x80\x80",
		"\xef\xbc\xb0\xef\xbc\xb7", "\xef\xbc\x9a", "\xef\xbd\x98",
		"\xef\xbd\xa1", "\xef\xbc", "\xef", "\xef\xbc\x80",
		"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94", "PW", "pass",
		"\xe3\x83\x91\xe3\x82\xb9", "Qz81", "7", "a", " ", "\n", "\r\n",
		"> ", "\xe3\x81\x84",
	};
	struct pwcands	a, b;
	unsigned char	text[512];
	char		folded[512];
	unsigned	seed = 12345;
	size_t		it, n, fl, k, l, bad = 0;

	for (it = 0; it < 20000; it++) {
		n = 0;
		do {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 13 == 0) {
				text[n++] = (seed >> 24) % 4 == 0 ? 0 : 'x';
				continue;
			}
			k = (seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]));
			l = strlen(pieces[k]);
			memcpy(text + n, pieces[k], l);
			n += l;
		} while (n < sizeof(text) - 32 && (seed >> 20) % 40 != 0);
		fl = ref_fold(text, n, folded);
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		pwcand_from_text(&a, (const char *)text, n, 64);
		pwcand_from_text(&b, folded, fl, 64);
		if (a.n != b.n)
			bad++;
		for (k = 0; k < a.n && k < b.n; k++)
			if (strcmp(a.v[k], b.v[k]) != 0 ||
			    a.keyword[k] != b.keyword[k]) {
				bad++;
				break;
			}
		pwcand_free(&a);
		pwcand_free(&b);
	}
	is_int(0, (long long)bad, "full-width forms fold as byte by byte");
}

static void
t_mask(void)
{
	char	*m;

	m = pwcand_mask("8462");
	is_str("8**2", m, "mask 8462");
	free(m);
	m = pwcand_mask("ab");
	is_str("**", m, "mask short");
	free(m);
	m = pwcand_mask("pässwort");
	is_str("p******t", m, "mask counts characters");
	free(m);
}

int
main(void)
{
	t_languages();
	t_order();
	t_collect();
	t_fold();
	t_separators();
	t_mask();
	return done_testing();
}
