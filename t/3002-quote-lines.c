/*
 * 3002-quote-lines: the lines that introduce a quoted thread, as
 * hijack_quote.c reads them one line at a time without copying or
 * lowering the whole line: reply and forward separators anywhere in a
 * line of at most 120 bytes, in any ASCII case; "wrote:" endings in any
 * ASCII case and with a full-width colon; an "On ... <x@d>" line whose
 * "wrote:" wrapped onto the next line, at both parities of the line
 * count (the previous line lives in one of two buffers in turns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "hijack_int.h"
#include "mime.h"
#include "analyzer.h"

/* Keeps scan.o out of the link. */
bool
scan_expired(struct scan_ctx *ctx)
{
	return false;
}

static void
check(const char *text, bool want_quoted, const char *want_author,
    const char *what)
{
	struct mime_part	mp;
	struct quote		q;

	memset(&mp, 0, sizeof(mp));
	memset(&q, 0, sizeof(q));
	mp.text = (char *)(uintptr_t)text;
	mp.text_len = strlen(text);
	if (hijack_quote_scan(NULL, &mp, &q) != LW_OK)
		bail("hijack_quote_scan failed");
	ok(q.quoted == want_quoted, "%s: quoted is %d", what, want_quoted);
	if (want_author != NULL)
		is_str(want_author, q.author, "%s: author", what);
	hijack_quote_free(&q);
}

int
main(void)
{
	char	line[512];

	check("Hello\n----- ORIGINAL MESSAGE -----\nold text\n", true, NULL,
	    "separator in capitals");
	check("-----Ursprüngliche NACHRICHT-----\n", true, NULL,
	    "German separator, mixed case");
	check("Begin Forwarded Message:\n", true, NULL,
	    "forward separator");
	check("-------- 元のメッセージ --------\n", true, NULL,
	    "Japanese separator");
	check("-------- 转发的邮件 --------\n", true, NULL,
	    "Chinese separator");
	check("The original messages are kept for a year.\n", true, NULL,
	    "a separator inside a sentence (as strstr found it)");
	check("The origin of the message is unclear.\n", false, NULL,
	    "separator words apart");
	check("MESSAGE ORIGINAL\n", false, NULL, "separator words swapped");
	check("O\n", false, NULL, "one-byte line");

	/* Lines over 120 bytes are prose, not separators. */
	memset(line, 'x', sizeof(line));
	memcpy(line + 120 - 16, "original message", 16);
	line[120] = '\0';
	check(line, true, NULL, "separator ending a 120-byte line");
	memset(line, 'x', sizeof(line));
	memcpy(line + 121 - 16, "original message", 16);
	line[121] = '\0';
	check(line, false, NULL, "separator in a 121-byte line");

	check("On Mon, 1 Jan 2024, Taro <taro@example.jp> WROTE:\n> hi\n",
	    true, "taro@example.jp", "wrote: in capitals");
	check("Le 3 mars, Jean <jean@example.fr> A écrit :\n", true,
	    "jean@example.fr", "French ending, mixed case");
	check("2022/02/21 山田 <yamada@example.co.jp> 書きました：\n", true,
	    "yamada@example.co.jp", "Japanese ending, full-width colon");
	check("2022年2月21日(月) 16:02 X <x@example.com>:\n", true,
	    "x@example.com", "Gmail's Japanese line");
	check("2022年2月21日(月) 16:02 X <x@example.com>：\n", true,
	    "x@example.com", "Gmail's Japanese line, full-width colon");
	check("Meeting at 10 <room 4>:\n", false, NULL,
	    "\">:\" without an address");
	check("He wrote: nothing at all\n", false, NULL,
	    "wrote: inside a line");
	check("I wrote\n", false, NULL, "no colon");
	check("：\n", false, NULL, "a full-width colon alone");
	check(":\n", false, NULL, "a colon alone");
	check("On Mon, Taro Yamada <taro@example.jp>\nwrote:\n> hi\n", true,
	    "taro@example.jp", "wrapped wrote:, even line");
	check("Hi\n\nOn Mon, Taro Yamada <taro@example.jp>\nwrote:\n> hi\n",
	    true, "taro@example.jp", "wrapped wrote:, odd line");
	check("Hi\nOn Mon, Taro Yamada <taro@example.jp>\n  wrote:  \r\n",
	    true, "taro@example.jp", "wrapped wrote: with white space");
	return done_testing();
}
