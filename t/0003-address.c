/*
 * 0003-address: From / Reply-To parsing: quoted strings, comments,
 * groups, RFC 2047 display names, display names that hold an address.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"
#include "tap.h"

static void
one(const char *value, const char *display, const char *addr,
    const char *domain, const char *what)
{
	struct address	a[1];

	memset(a, 0, sizeof(a));
	is_int(1, (long long)address_parse(value, a, 1), "%s: one", what);
	is_str(display, a[0].display, "%s: display", what);
	is_str(addr, a[0].addr, "%s: addr", what);
	is_str(domain, a[0].domain, "%s: domain", what);
	address_free(&a[0]);
}

int
main(void)
{
	struct address	a[4];
	size_t		n, i;

	alarm(60);
	one("\"Yamada, Taro\" <t.yamada@Torihiki.Example.NE.JP>",
	    "Yamada, Taro", "t.yamada@Torihiki.Example.NE.JP",
	    "torihiki.example.ne.jp", "quoted display with comma");
	one("\"yamada@torihiki.example.ne.jp\" <office@kanazawa-print.example>",
	    "yamada@torihiki.example.ne.jp", "office@kanazawa-print.example",
	    "kanazawa-print.example", "quoted display holding an address");
	one("yamada@torihiki.example.ne.jp <evil@x.example>",
	    "yamada@torihiki.example.ne.jp", "evil@x.example", "x.example",
	    "unquoted display holding an address");
	one("=?UTF-8?B?eWFtYWRhQHRvcmloaWtpLmV4YW1wbGUubmUuanA=?= "
	    "<evil@x.example>",
	    "yamada@torihiki.example.ne.jp", "evil@x.example", "x.example",
	    "encoded display name holding an address");
	one("\"=?iso-2022-jp?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?=\" <k@ns1.example>",
	    "山田 太郎", "k@ns1.example", "ns1.example",
	    "encoded word inside quotes (as Outlook writes it)");
	one("=?utf-8?b?5bGx55SwIOWkqumDjg==?= <yamada@torihiki.example.ne.jp>",
	    "山田 太郎", "yamada@torihiki.example.ne.jp",
	    "torihiki.example.ne.jp", "encoded display name");
	one("\"山田＠取引商事\" <yamada@x.example>", "山田＠取引商事",
	    "yamada@x.example", "x.example", "full-width ＠ in display");
	one("yamada＠torihiki.example.ne.jp <a@b.example>",
	    "yamada＠torihiki.example.ne.jp", "a@b.example", "b.example",
	    "full-width ＠ address-like display kept as text");
	one("yamada＠torihiki.example.ne.jp", NULL,
	    "yamada＠torihiki.example.ne.jp", NULL,
	    "bare full-width ＠ is no address: no domain");
	one("john.smith@partner.example.com (John Smith)", "John Smith",
	    "john.smith@partner.example.com", "partner.example.com",
	    "comment is the display name of a bare address");
	one("John (the boss) Smith <john@partner.example.com>", "John Smith",
	    "john@partner.example.com", "partner.example.com",
	    "comment inside a display name dropped");
	one("<bare@EXAMPLE.com>", NULL, "bare@EXAMPLE.com", "example.com",
	    "angle address without display");
	one("plain@example.org", NULL, "plain@example.org", "example.org",
	    "bare address");
	one("\"Sato \\\"Hanako\\\"\" <sato@example.co.jp>", "Sato \"Hanako\"",
	    "sato@example.co.jp", "example.co.jp", "escaped quotes");
	one("Taro <@relay.example:taro@origin.example>", "Taro",
	    "taro@origin.example", "origin.example", "obsolete route");
	one("Yamada, Taro <taro@x.example>", "Yamada, Taro",
	    "taro@x.example", "x.example",
	    "unquoted comma in display name, as clients read it");
	one("\xe5\xb1\xb1\xe7\x94\xb0 <raw@x.example>", "山田",
	    "raw@x.example", "x.example", "raw UTF-8 display");
	one("\x8e\x52\x93\x63 <raw@x.example>", "山田", "raw@x.example",
	    "x.example", "raw CP932 display");

	memset(a, 0, sizeof(a));
	n = address_parse("Team: a@x.example, \"B\" <b@y.example>;, "
	    "c@z.example", a, 4);
	is_int(3, (long long)n, "group members and a mailbox after it");
	is_str("a@x.example", a[0].addr, "first group member");
	is_str("B", a[1].display, "second member display");
	is_str("c@z.example", a[2].addr, "after the group");
	for (i = 0; i < n; i++)
		address_free(&a[i]);

	memset(a, 0, sizeof(a));
	is_int(0, (long long)address_parse("undisclosed-recipients:;", a, 4),
	    "empty group: no address");
	is_int(0, (long long)address_parse("", a, 4), "empty value");
	is_int(0, (long long)address_parse(NULL, a, 4), "NULL value");
	n = address_parse("a@x.example, b@y.example", a, 1);
	is_int(1, (long long)n, "max respected");
	is_str("a@x.example", a[0].addr, "first of several");
	address_free(&a[0]);
	n = address_parse("\"unclosed <x@y.example>", a, 1);
	is_int(1, (long long)n, "unclosed quote still gives a mailbox");
	address_free(&a[0]);
	return done_testing();
}
