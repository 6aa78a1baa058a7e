/*
 * 0010-mime-rfc2231: RFC 2231 parameters where a multipart needs them.
 * A boundary given as boundary*=charset''value, in boundary*0= and *1=
 * sections or with %XX escapes splits the body as a plain boundary
 * does; a Content-Type with two boundary parameters is MIME_MALFORMED
 * and every part found with either boundary is there; the charset
 * parameter in RFC 2231 form is read too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"
#include "tap.h"

static struct message *
parse(const char *raw, struct findings *fs)
{
	struct message	*m = NULL;
	struct limits	 lim;

	limits_default(&lim);
	if (mime_parse((const unsigned char *)raw, strlen(raw), &lim, fs,
	    &m) != LW_OK || m == NULL)
		bail("mime_parse failed");
	return m;
}

struct find {
	const char		*path;
	const struct mime_part	*found;
	unsigned		 nattach;
	char			 names[256];
};

static bool
find_cb(const struct mime_part *mp, void *arg)
{
	struct find	*f = arg;
	size_t		 n = strlen(f->names);

	if (f->found == NULL && strcmp(mp->path, f->path) == 0)
		f->found = mp;
	if (mp->is_attachment && mp->filename != NULL) {
		f->nattach++;
		snprintf(f->names + n, sizeof(f->names) - n, "%s%s",
		    n ? " " : "", mp->filename);
	}
	return true;
}

static struct find
walk(const struct message *m, const char *path)
{
	struct find	f;

	memset(&f, 0, sizeof(f));
	f.path = path;
	mime_visit(m, find_cb, &f);
	return f;
}

static bool
has_rule(const struct findings *fs, const char *rule, const char *detail)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0 &&
		    strstr(fs->v[i].detail, detail) != NULL)
			return true;
	return false;
}

static void
dump(const struct findings *fs)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		diag("finding %s [%s] %s", fs->v[i].rule, fs->v[i].part,
		    fs->v[i].detail);
}

#define HDRS \
	"From: a@example.com\r\nTo: b@example.net\r\nSubject: invoice\r\n" \
	"MIME-Version: 1.0\r\n"

#define BODY(bd) \
	"--" bd "\r\n" \
	"Content-Type: text/plain\r\n\r\nsee attached\r\n" \
	"--" bd "\r\n" \
	"Content-Type: application/vnd.ms-excel; name=\"invoice.xls\"\r\n" \
	"Content-Transfer-Encoding: base64\r\n\r\n0M8R4KGxGuE=\r\n" \
	"--" bd "--\r\n"

/* One boundary in some RFC 2231 form: two parts, no MIME_MALFORMED. */
static void
split_ok(const char *ct, const char *body, const char *what)
{
	struct findings		 fs = { 0 };
	struct message		*m;
	struct find		 f;
	char			*raw;

	if (lw_asprintf(&raw, HDRS "Content-Type: %s\r\n\r\n%s", ct,
	    body) != LW_OK)
		bail("oom");
	m = parse(raw, &fs);
	f = walk(m, "2");
	is_int(3, (long long)m->nparts, "%s: three parts", what);
	ok(f.found != NULL && f.found->filename != NULL &&
	    strcmp(f.found->filename, "invoice.xls") == 0,
	    "%s: part 2 is the attachment invoice.xls", what);
	ok(f.found != NULL && f.found->body_len == 8 &&
	    memcmp(f.found->body, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0,
	    "%s: attachment bytes decoded", what);
	ok(!has_rule(&fs, "MIME_MALFORMED", ""), "%s: no MIME_MALFORMED",
	    what);
	dump(&fs);
	mime_free(m);
	findings_free(&fs);
	free(raw);
}

static void
test_boundary_forms(void)
{
	split_ok("multipart/mixed; boundary*=us-ascii''XYZ", BODY("XYZ"),
	    "boundary*=us-ascii''XYZ");
	split_ok("multipart/mixed; boundary*=''XYZ", BODY("XYZ"),
	    "boundary*='' without charset");
	split_ok("multipart/mixed;\r\n boundary*0=\"=_abc\";\r\n"
	    " boundary*1=\"def_=\"", BODY("=_abcdef_="),
	    "boundary*0= / boundary*1= sections");
	split_ok("multipart/mixed; boundary*0*=us-ascii'en'%3D_a%20b;"
	    " boundary*1=\"cd\"", BODY("=_a bcd"),
	    "boundary*0*= with %XX escapes and a plain section");
	split_ok("multipart/mixed; boundary=\"plain-1\"", BODY("plain-1"),
	    "plain boundary still works");
}

/* Two boundary parameters: MIME_MALFORMED, parts found with either. */
static void
test_two_boundaries(void)
{
	struct findings		 fs = { 0 };
	struct message		*m;
	struct find		 f;

	m = parse(HDRS "Content-Type: multipart/mixed; boundary=\"AAA\";"
	    " boundary=\"BBB\"\r\n\r\n" BODY("BBB"), &fs);
	f = walk(m, "");
	ok(has_rule(&fs, "MIME_MALFORMED", "2 boundary parameters"),
	    "two plain boundaries: MIME_MALFORMED");
	is_int(1, f.nattach, "the attachment under the second boundary");
	is_str("invoice.xls", f.names, "its name");
	mime_free(m);
	findings_free(&fs);

	fs = (struct findings){ 0 };
	m = parse(HDRS "Content-Type: multipart/mixed; boundary=\"AAA\";"
	    " boundary*=us-ascii''BBB\r\n\r\n"
	    "--AAA\r\nContent-Type: application/octet-stream;"
	    " name=\"one.js\"\r\n\r\nWScript.Echo(1)\r\n--AAA--\r\n"
	    "--BBB\r\nContent-Type: application/octet-stream;"
	    " name=\"two.js\"\r\n\r\nWScript.Echo(2)\r\n--BBB--\r\n", &fs);
	f = walk(m, "");
	ok(has_rule(&fs, "MIME_MALFORMED", "2 boundary parameters"),
	    "plain and RFC 2231 boundary differ: MIME_MALFORMED");
	is_int(2, f.nattach, "both boundaries' attachments are parts");
	is_str("one.js two.js", f.names, "one.js and two.js");
	dump(&fs);
	mime_free(m);
	findings_free(&fs);

	fs = (struct findings){ 0 };
	m = parse(HDRS "Content-Type: multipart/mixed; boundary=\"XYZ\";"
	    " boundary*=us-ascii''XYZ\r\n\r\n" BODY("XYZ"), &fs);
	ok(!has_rule(&fs, "MIME_MALFORMED", ""),
	    "plain and RFC 2231 boundary agree: no finding");
	is_int(3, (long long)m->nparts, "split once");
	mime_free(m);
	findings_free(&fs);

	fs = (struct findings){ 0 };
	m = parse(HDRS "Content-Type: multipart/mixed\r\n\r\n" BODY("XYZ"),
	    &fs);
	ok(has_rule(&fs, "MIME_MALFORMED", "multipart without boundary"),
	    "no boundary at all: still MIME_MALFORMED");
	mime_free(m);
	findings_free(&fs);
}

static void
test_charset(void)
{
	struct findings		 fs = { 0 };
	struct message		*m;

	m = parse(HDRS "Content-Type: text/plain; charset*0=\"iso-8859\";"
	    " charset*1=\"-1\"\r\n\r\ncaf\xe9\r\n", &fs);
	is_str("iso-8859-1", m->root->charset, "charset*0/*1 joined");
	is_str("café\n", m->root->text, "text decoded with it");
	mime_free(m);
	findings_free(&fs);

	fs = (struct findings){ 0 };
	m = parse(HDRS "Content-Type: text/plain; charset*=''ISO-8859-1"
	    "\r\n\r\ncaf\xe9\r\n", &fs);
	is_str("iso-8859-1", m->root->charset, "charset*='' value");
	mime_free(m);
	findings_free(&fs);

	fs = (struct findings){ 0 };
	m = parse(HDRS "Content-Type: multipart/mixed; boundary=XYZ\r\n\r\n"
	    "--XYZ\r\nContent-Type: application/octet-stream;\r\n"
	    " name*=UTF-8''%E8%AB%8B%E6%B1%82.xls\r\n\r\nx\r\n--XYZ--\r\n",
	    &fs);
	is_str("請求.xls", walk(m, "1").found != NULL ?
	    walk(m, "1").found->filename : NULL, "name*=UTF-8'' file name");
	mime_free(m);
	findings_free(&fs);
}

int
main(void)
{
	alarm(60);
	test_boundary_forms();
	test_two_boundaries();
	test_charset();
	return done_testing();
}
