/*
 * 1003-pwcand-html: password candidates from the visible text of HTML
 * bodies (issue 16).  A password split by a hidden span (display:none,
 * visibility:hidden, a zero font size, the hidden attribute) is found
 * as the reader sees it, and the full text's reading stays a candidate
 * too.  html_to_visible_text keeps what is shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "html.h"
#include "mime.h"
#include "pwcand.h"

static bool
has(const struct pwcands *pc, const char *s)
{
	size_t	i;

	for (i = 0; i < pc->n; i++)
		if (strcmp(pc->v[i], s) == 0)
			return true;
	return false;
}

static void
cands(const char *html, struct pwcands *pc)
{
	struct limits	 lim;
	struct findings	 fs = { 0 };
	struct message	*msg = NULL;
	char		*raw;

	limits_default(&lim);
	if (lw_asprintf(&raw, "From: a@b.example\r\nTo: c@d.example\r\n"
	    "Subject: files\r\nMIME-Version: 1.0\r\nContent-Type: text/html;"
	    " charset=utf-8\r\n\r\n%s\r\n", html) != LW_OK)
		bail("asprintf");
	if (mime_parse((const unsigned char *)raw, strlen(raw), &lim, &fs,
	    &msg) != LW_OK)
		bail("mime_parse");
	memset(pc, 0, sizeof(*pc));
	if (pwcand_collect(pc, msg, 64) != LW_OK)
		bail("pwcand_collect");
	mime_free(msg);
	findings_free(&fs);
	free(raw);
}

static void
visible(const char *html, const char *want, const char *what)
{
	char	*out;
	size_t	 n;

	if (html_to_visible_text(html, strlen(html), &out, &n) != LW_OK)
		bail("html_to_visible_text");
	is_str(want, out, "%s", what);
	free(out);
}

int
main(void)
{
	struct pwcands	pc;

	visible("<p>Pass: Ab3<span style=\"display: none\">XQ</span>9kZ</p>",
	    "Pass: Ab39kZ\n", "display:none span dropped");
	visible("<p>a<span style='VISIBILITY:hidden'>b</span>c</p>", "ac\n",
	    "visibility:hidden, any case");
	visible("<p>a<font style=\"font-size:0px\">b</font>c"
	    "<span style=\"font-size: 0.0em\">d</span>e</p>", "ace\n",
	    "zero font sizes");
	visible("<p>a<span style=\"font-size:10px\">b</span>c</p>", "abc\n",
	    "a 10px font is shown");
	visible("<div hidden>x<div>y</div>z</div><p>shown</p>", "shown\n",
	    "hidden attribute, nested elements of the same name");
	visible("<p>a<img style=\"display:none\" src=x>b</p>", "ab\n",
	    "a hidden void element hides nothing after it");
	visible("<p>a<span data-hidden=\"1\">b</span>c</p>", "abc\n",
	    "data-hidden is no hidden attribute");

	cands("<p>Password: Ab3<span style=\"display:none\">XQ</span>9kZ"
	    "</p>", &pc);
	ok(has(&pc, "Ab39kZ"), "the password as the reader sees it");
	ok(has(&pc, "Ab3XQ9kZ"), "the full text's reading is kept");
	pwcand_free(&pc);

	{
		struct limits	 lim;
		struct findings	 fs = { 0 };
		struct message	*msg = NULL;
		static const char raw[] = "Content-Type: text/html\r\n\r\n"
		    "<p>Password: Ab39kZ</p>\r\n";

		limits_default(&lim);
		if (mime_parse((const unsigned char *)raw, sizeof(raw) - 1,
		    &lim, &fs, &msg) != LW_OK)
			bail("mime_parse");
		ok(msg->root->text != NULL && msg->root->vtext == NULL,
		    "nothing hidden: no second reading kept");
		mime_free(msg);
		findings_free(&fs);
	}
	return done_testing();
}
