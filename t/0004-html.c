/*
 * 0004-html: HTML bodies reduced to the text a reader sees.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "html.h"
#include "tap.h"

static void
html(const char *in, const char *want, const char *what)
{
	char	*out = NULL;
	size_t	 len = 0;

	is_int(LW_OK, html_to_text(in, strlen(in), &out, &len), "%s: ok",
	    what);
	is_str(want, out, "%s", what);
	is_int((long long)strlen(want), (long long)len, "%s: length", what);
	free(out);
}

int
main(void)
{
	alarm(60);
	html("<html><head><title>T</title><style>p { color: red }</style>"
	    "<script>var pw = '0000';</script></head><body>"
	    "<p>Hello&nbsp;<b>Hanako</b>,</p><div>Password:&#32;"
	    "<span>Tk9#m2Lp</span></div></body></html>",
	    "T\nHello Hanako,\nPassword: Tk9#m2Lp\n",
	    "tags, script and style dropped; blocks break lines");
	html("a<br>b<br/>c<BR><br>d", "a\nb\nc\n\nd\n", "<br> breaks");
	html("&amp; &lt; &gt; &quot; &#39; &apos; &#x41;&#66; &yen;&copy;",
	    "& < > \" ' ' AB ¥©\n", "common, decimal and hex entities");
	html("&#x2460; &#12354; &#0; &#x110000; &bogus; & alone",
	    "① あ \xef\xbf\xbd \xef\xbf\xbd &bogus; & alone\n",
	    "numeric references; invalid ones are U+FFFD");
	html("&nbspx &amp &ltp &notanentity;", " x & <p &notanentity;\n",
	    "entities without ';'");
	html("<table><tr><td>PW</td><td>1234</td></tr>"
	    "<tr><td>ID</td><td>x</td></tr></table>",
	    "PW 1234\nID x\n", "table rows are lines, cells spaced");
	html("one\n   two\r\n\tthree", "one two three\n",
	    "source whitespace collapses");
	html("<pre>a\n  b</pre>c", "a\n  b\nc\n", "<pre> keeps lines");
	html("x<!-- hidden <p>comment --> y<!-- unclosed",
	    "x y\n", "comments dropped, unclosed too");
	html("<a href=\"x>y\" title='a>b'>link</a> after",
	    "link after\n", "'>' inside quoted attributes");
	html("3 < 4 and 5 > 2", "3 < 4 and 5 > 2\n",
	    "a '<' that starts no tag is text");
	html("<script>never closed", "", "unclosed script drops the rest");
	html("", "", "empty");
	return done_testing();
}
