/*
 * 0001-charset: declared charsets to UTF-8, ISO-2022-JP with the NEC
 * extension characters glibc rejects, RFC 2047 header decoding.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "charset.h"
#include "tap.h"

static void
conv(const char *cs, const char *in, size_t len, const char *want,
    bool want_unknown, const char *what)
{
	char	*out = NULL;
	size_t	 outlen = 0;
	bool	 unknown = !want_unknown;

	is_int(LW_OK, charset_to_utf8(cs, in, len, &out, &outlen, &unknown),
	    "%s: converts", what);
	is_str(want, out, "%s: text", what);
	is_int((long long)strlen(want), (long long)outlen, "%s: length", what);
	ok(unknown == want_unknown, "%s: unknown is %d", what, want_unknown);
	free(out);
}

static void
hdr(const char *in, const char *want, const char *what)
{
	char	*out = NULL;

	is_int(LW_OK, charset_decode_header(in, &out), "%s: decodes", what);
	is_str(want, out, "%s", what);
	free(out);
}

int
main(void)
{
	/* ISO-2022-JP as Japanese mailers write it: NEC row 13 (①, ㈱)
	   and NEC-selected IBM extensions (髙, 纊) in JIS mode. */
	static const char jis[] =
	    "\x1b$B-!@A5a=q\x1b(B \x1b$B-j<h0z>&;v\x1b(B\r\n"
	    "\x1b$B|b66\x1b(B \x1b$By!\x1b(B";
	static const char kana[] = "\x1b(I\x43\x3d\x44\x1b(B "
	    "\x0e\x43\x3d\x44\x0f!";
	static const char sjis[] = "\x87\x40\x90\xbf\x8b\x81\x8f\x91";
	static const char eucms[] = "\xad\xa1\xc0\xc1\xb5\xe1";
	char	*out;

	alarm(60);
	conv("ISO-2022-JP", jis, sizeof(jis) - 1,
	    "①請求書 ㈱取引商事\r\n髙橋 纊", false, "iso-2022-jp NEC/IBM");
	conv("iso-2022-jp", kana, sizeof(kana) - 1, "ﾃｽﾄ ﾃｽﾄ!", false,
	    "iso-2022-jp half-width katakana (ESC ( I and SO/SI)");
	/* No ESC ( B at the end of the line: the line end resets. */
	conv("iso-2022-jp", "\x1b$B8+@Q=q\nabc", 13, "見積書\nabc", false,
	    "iso-2022-jp unterminated kanji run");
	conv("shift_jis", sjis, sizeof(sjis) - 1, "①請求書", false,
	    "shift_jis read as CP932");
	conv("x-sjis", sjis, sizeof(sjis) - 1, "①請求書", false,
	    "x-sjis alias");
	conv("EUC-JP", eucms, sizeof(eucms) - 1, "①請求", false,
	    "euc-jp with NEC row 13");
	conv("iso-8859-1", "Gr\xfc\xdf", 4, "Grüß", false, "latin-1");
	conv("windows-1252", "\x80 5", 3, "€ 5", false, "windows-1252");
	conv("iso-8859-15", "\xa4", 1, "€", false, "iso-8859-15");
	conv("utf-8", "ok \xff end", 8, "ok \xef\xbf\xbd end", false,
	    "utf-8 with a bad byte gets U+FFFD");
	conv("us-ascii", sjis, sizeof(sjis) - 1, "①請求書", false,
	    "us-ascii with 8-bit bytes: CP932 guessed");
	conv(NULL, "caf\xc3\xa9", 5, "café", false, "no charset, UTF-8");
	conv(NULL, "caf\xe9!", 5, "café!", false,
	    "no charset, not UTF-8 nor CP932: Latin-1");
	conv("x-klingon", "hello", 5, "hello", true, "unknown charset");
	conv("utf-8//TRANSLIT", "hello", 5, "hello", true,
	    "iconv option syntax is no charset");
	conv("utf-8", "a\0b", 3, "a b", false, "NUL becomes a space");
	conv("shift_jis", "\x87", 1, "\xef\xbf\xbd", false,
	    "truncated CP932 character");

	ok(charset_valid_utf8("①", 3), "valid utf-8");
	ok(!charset_valid_utf8("\xe2\x91", 2), "truncated utf-8");
	ok(!charset_valid_utf8("\xc0\xaf", 2), "overlong utf-8");
	ok(!charset_valid_utf8("\xed\xa0\x80", 3), "surrogate");

	hdr("=?ISO-2022-JP?B?GyRCLSFAQTVhPXEbKEI=?=", "①請求書",
	    "ISO-2022-JP B word with ①");
	hdr("=?utf-8?b?6K2w5A==?= =?utf-8?b?uovpjLI=?=", "議事録",
	    "a UTF-8 character split over two words");
	hdr("=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait", "Q word");
	hdr("Re: =?utf-8?B?6K2w5LqL6Yyy?= (2)", "Re: 議事録 (2)",
	    "text around a word keeps its spaces");
	hdr("=?iso-8859-1?q?a?=\r\n =?utf-8?q?b?=", "ab",
	    "whitespace between words of different charsets dropped");
	hdr("=?utf-8*ja?b?6K2w5LqL6Yyy?=", "議事録",
	    "RFC 2231 language in a word");
	hdr("=?utf-8?x?abc?= =?bogus", "=?utf-8?x?abc?= =?bogus",
	    "not encoded words: literal");
	hdr("\x8c\xa9\x90\xcf\x8f\x91", "見積書", "raw CP932 header");
	hdr("\x1b$B8+@Q=q\x1b(B", "見積書", "raw ISO-2022-JP header");
	hdr("raw \xc3\xa9", "raw é", "raw UTF-8 header");
	hdr("=?x-unknown-cs?q?abc?=", "abc", "unknown charset word guessed");
	is_int(LW_OK, charset_decode_header(NULL, &out), "NULL header");
	is_str("", out, "NULL header gives empty string");
	free(out);
	return done_testing();
}
