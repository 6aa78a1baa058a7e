/*
 * 0002-mime: the MIME parser on real-world shapes: ISO-2022-JP mail as
 * Japanese clients send it, RFC 2231 Shift_JIS file names, alternative
 * inside mixed, a forwarded message/rfc822, broken base64, a missing
 * final boundary, a boundary that never comes.
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
	unsigned		 skip;	/* take the (skip+1)-th match */
	const struct mime_part	*found;
	struct sbuf_paths {
		char	 s[512];
	}			 order;
};

static bool
find_cb(const struct mime_part *mp, void *arg)
{
	struct find	*f = arg;
	size_t		 n = strlen(f->order.s);

	snprintf(f->order.s + n, sizeof(f->order.s) - n, "%s[%s]",
	    n ? " " : "", mp->path);
	if (f->found == NULL && strcmp(mp->path, f->path) == 0) {
		if (f->skip == 0)
			f->found = mp;
		else
			f->skip--;
	}
	return true;
}

static const struct mime_part *
part(const struct message *m, const char *path, unsigned skip)
{
	struct find	f;

	memset(&f, 0, sizeof(f));
	f.path = path;
	f.skip = skip;
	mime_visit(m, find_cb, &f);
	if (f.found == NULL)
		diag("no part %s (skip %u)", path, skip);
	return f.found;
}

static const char *
order(const struct message *m)
{
	static struct find	f;

	memset(&f, 0, sizeof(f));
	f.path = "";
	mime_visit(m, find_cb, &f);
	return f.order.s;
}

static bool
has(const struct findings *fs, const char *rule, const char *path,
    const char *detail)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0 &&
		    strcmp(fs->v[i].part, path) == 0 &&
		    strstr(fs->v[i].detail, detail) != NULL)
			return true;
	for (i = 0; i < fs->n; i++)
		diag("finding %s [%s] %s", fs->v[i].rule, fs->v[i].part,
		    fs->v[i].detail);
	return false;
}

static void
test_iso2022jp(void)
{
	struct findings		 fs = { 0 };
	struct message		*m;
	const struct mime_part	*p;

	m = parse(
	    "From: =?ISO-2022-JP?B?GyRCM3Q8MDJxPFIbKEI=?= <Info@Kabu.Example>\r\n"
	    "To: sato@example.co.jp\r\n"
	    "Subject: =?ISO-2022-JP?B?GyRCLSFAQTVhPXEbKEI=?=\r\n"
	    " =?ISO-2022-JP?B?GyRCM3Q8MDJxPFIbKEI=?=\r\n"
	    "Message-ID: <abc@kabu.example>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "\x1b$B-j<h0z>&;v\x1b(B\r\n"
	    "\x1b$B%Q%9%o!<%I\x1b(B: 1234\r\n", &fs);
	is_str("①請求書株式会社", m->subject,
	    "ISO-2022-JP subject with ①, folded words joined");
	is_str("株式会社", m->from.display, "ISO-2022-JP From display name");
	is_str("Info@Kabu.Example", m->from.addr, "From address as written");
	is_str("kabu.example", m->from.domain, "From domain lowercased");
	is_str("<abc@kabu.example>", m->message_id, "Message-ID raw");
	is_int(1, m->nparts, "single part");
	p = m->root;
	is_str("", p->path, "single-part body path is empty");
	is_str("text/plain", p->ctype, "ctype");
	is_str("iso-2022-jp", p->charset, "charset lowercased");
	is_str("㈱取引商事\nパスワード: 1234\n", p->text,
	    "ISO-2022-JP body with ㈱ to UTF-8, LF line ends");
	ok(!p->is_attachment, "body text is no attachment");
	is_int(0, (long long)fs.n, "no findings");
	mime_free(m);
	findings_free(&fs);
}

static void
test_nested(void)
{
	struct findings		 fs = { 0 };
	struct message		*m;
	const struct mime_part	*p;

	m = parse(
	    "From: a@b.example\r\n"
	    "Subject: Re: test\r\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	    "\r\n"
	    "This is a preamble.\r\n"
	    "--outer\r\n"
	    "Content-Type: multipart/alternative;\r\n"
	    "\tboundary=\"inner\"\r\n"
	    "\r\n"
	    "--inner\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "Password: caf=C3=A9=\r\n"
	    " soft =3D end\r\n"
	    "--inner\r\n"
	    "Content-Type: text/html; charset=\"UTF-8\"\r\n"
	    "\r\n"
	    "<p>PW:&nbsp;1234</p>\r\n"
	    "--inner--\r\n"
	    "--outer\r\n"
	    "Content-Type: application/vnd.ms-excel;\r\n"
	    " name*=shift_jis''%8C%A9%90%CF%8F%91%87%40%2E%78%6C%73\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename*0*=shift_jis''%8C%A9%90%CF;\r\n"
	    " filename*1*=%8F%91%87%40;\r\n"
	    " filename*2=\".xls\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "SGVs\r\n"
	    "bG8=\r\n"
	    "--outer\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment;"
	    " filename=\"=?UTF-8?B?6K2w5LqL6YyyLmRvY3g=?=\"\r\n"
	    "\r\n"
	    "raw\r\n"
	    "--outer\r\n"
	    "Content-Type: application/pdf; name=\"=?utf-8?q?a=2Epdf?=\"\r\n"
	    "\r\n"
	    "%PDF\r\n"
	    "--outer--\r\n"
	    "epilogue\r\n", &fs);
	is_str("[] [1] [1.1] [1.2] [2] [3] [4]", order(m),
	    "paths in document order");
	is_int(7, m->nparts, "nparts counts containers");
	ok(m->root->body == NULL && !m->root->is_attachment,
	    "container has no body and is no attachment");
	if ((p = part(m, "1", 0)) != NULL) {
		is_str("multipart/alternative", p->ctype,
		    "alternative inside mixed");
		is_int(2, (long long)p->nchild, "two alternatives");
		is_int(1, p->depth, "depth 1");
	}
	if ((p = part(m, "1.1", 0)) != NULL) {
		is_str("Password: café soft = end", p->text,
		    "quoted-printable text with soft break");
		is_str("quoted-printable", p->cte, "cte lowercased");
		is_int(2, p->depth, "depth 2");
	}
	if ((p = part(m, "1.2", 0)) != NULL) {
		ok(p->is_html, "html part");
		is_str("PW: 1234\n", p->text, "html reduced, &nbsp; a space");
		is_str("utf-8", p->charset, "quoted charset unquoted");
	}
	if ((p = part(m, "2", 0)) != NULL) {
		is_str("見積書①.xls", p->filename,
		    "Shift_JIS RFC 2231 filename with continuations");
		is_str("attachment", p->disposition, "disposition");
		is_int(5, (long long)p->body_len, "base64 decoded length");
		is_str("Hello", (const char *)p->body, "base64 body");
		ok(p->is_attachment, "attachment");
		ok(p->text == NULL, "no text for an attachment");
	}
	if ((p = part(m, "3", 0)) != NULL) {
		is_str("議事録.docx", p->filename,
		    "RFC 2047 inside a quoted filename");
		is_str("raw", (const char *)p->body,
		    "the CRLF before a delimiter is not part of the body");
	}
	if ((p = part(m, "4", 0)) != NULL)
		is_str("a.pdf", p->filename, "Content-Type name fallback");
	is_int(0, (long long)fs.n, "no findings");
	mime_free(m);
	findings_free(&fs);
}

static void
test_rfc822(void)
{
	struct findings		 fs = { 0 };
	struct message		*m;
	const struct mime_part	*p;

	m = parse(
	    "From: fwd@example.co.jp\n"
	    "Subject: Fwd: inner\n"
	    "Content-Type: multipart/mixed; boundary=b1\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "see below\n"
	    "--b1\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Disposition: attachment; filename=fwd.eml\n"
	    "\n"
	    "From: \"Yamada\" <yamada@Torihiki.Example.ne.jp>\n"
	    "Subject: =?utf-8?q?inner_subject?=\n"
	    "Content-Type: multipart/mixed; boundary=b2\n"
	    "\n"
	    "--b2\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "inner text\n"
	    "--b2\n"
	    "Content-Type: application/zip; name=a.zip\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "UEsDBA==\n"
	    "--b2--\n"
	    "--b1\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    /* "Subject: x\n\nsingle\n" */
	    "U3ViamVjdDogeAoKc2luZ2xlCg==\n"
	    "--b1--\n", &fs);
	is_str("[] [1] [2] [2] [2.1] [2.2] [3] [3.1]", order(m),
	    "inner message parts numbered under the rfc822 part");
	is_int(8, m->nparts, "nparts includes inner messages");
	if ((p = part(m, "2", 0)) != NULL) {
		ok(p->inner != NULL, "message/rfc822 parsed as a message");
		ok(!p->is_attachment, "forwarded message itself is a container");
		if (p->inner != NULL) {
			is_str("inner subject", p->inner->subject,
			    "inner subject decoded");
			is_str("Yamada", p->inner->from.display,
			    "inner From display");
			is_str("torihiki.example.ne.jp",
			    p->inner->from.domain, "inner From domain");
			is_int(3, p->inner->nparts, "inner nparts");
			is_int(2, p->inner->root->depth,
			    "inner root one below the rfc822 part");
		}
	}
	if ((p = part(m, "2.1", 0)) != NULL)
		is_str("inner text", p->text, "inner text part");
	if ((p = part(m, "2.2", 0)) != NULL) {
		is_str("a.zip", p->filename, "inner attachment name");
		is_int(4, (long long)p->body_len, "inner attachment decoded");
		ok(p->is_attachment, "inner attachment is an attachment");
	}
	if ((p = part(m, "3.1", 0)) != NULL)
		is_str("single\n", p->text,
		    "base64 message/rfc822 with a single-part body");
	is_int(0, (long long)fs.n, "no findings");
	mime_free(m);
	findings_free(&fs);
}

static void
test_garbled(void)
{
	struct findings		 fs = { 0 };
	struct message		*m;
	const struct mime_part	*p;

	m = parse(
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: application/octet-stream; name=x.bin\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "\r\n"
	    "SGV*sbG8gd29y\r\n"
	    "bGQ!\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "last part, no final boundary\r\n", &fs);
	is_int(2, (long long)m->root->nchild, "two parts without close");
	if ((p = part(m, "1", 0)) != NULL)
		is_str("Hello world", (const char *)p->body,
		    "broken base64 decoded around the garbage");
	ok(has(&fs, "MIME_MALFORMED", "1", "broken base64"),
	    "broken base64 noted on its part");
	if ((p = part(m, "2", 0)) != NULL)
		is_str("last part, no final boundary\n", p->text,
		    "missing final boundary: the rest is the last part");
	ok(has(&fs, "MIME_MALFORMED", "", "missing final boundary"),
	    "missing final boundary noted");
	mime_free(m);
	findings_free(&fs);

	memset(&fs, 0, sizeof(fs));
	m = parse(
	    "Content-Type: multipart/mixed; boundary=\"nowhere\"\r\n"
	    "\r\n"
	    "--elsewhere\r\n"
	    "just text\r\n", &fs);
	is_str("text/plain", m->root->ctype,
	    "boundary never found: shown as text/plain");
	is_str("--elsewhere\njust text\n", m->root->text, "its text");
	ok(has(&fs, "MIME_MALFORMED", "", "boundary never found"),
	    "boundary never found noted");
	mime_free(m);
	findings_free(&fs);

	memset(&fs, 0, sizeof(fs));
	m = parse(
	    "Content-Type: multipart/mixed\r\n"
	    "\r\n"
	    "no boundary at all\r\n", &fs);
	is_str("no boundary at all\n", m->root->text,
	    "multipart without boundary: text");
	ok(has(&fs, "MIME_MALFORMED", "", "without boundary"),
	    "multipart without boundary noted");
	mime_free(m);
	findings_free(&fs);

	memset(&fs, 0, sizeof(fs));
	m = parse(
	    "Subject: folded\r\n"
	    "  across\r\n"
	    "\tlines\r\n"
	    "X-Empty:\r\n"
	    "Content-Type: text\r\n"
	    "Content-Transfer-Encoding: x-uuencode\r\n"
	    "\r\n"
	    "body", &fs);
	is_str("folded  across\tlines", mime_header(m, "SUBJECT"),
	    "header unfolded, looked up case-insensitively");
	is_str("", mime_header(m, "x-empty"), "empty header value");
	ok(mime_header(m, "x-missing") == NULL, "missing header is NULL");
	is_str("text/plain", m->root->ctype, "\"text\" read as text/plain");
	is_str("body", m->root->text, "unknown transfer encoding: as is");
	ok(has(&fs, "MIME_MALFORMED", "", "unknown transfer encoding"),
	    "unknown transfer encoding noted");
	mime_free(m);
	findings_free(&fs);

	memset(&fs, 0, sizeof(fs));
	m = parse(
	    "Content-Type: multipart/digest; boundary=d\r\n"
	    "\r\n"
	    "--d\r\n"
	    "\r\n"
	    "Subject: digest entry\r\n"
	    "\r\n"
	    "entry\r\n"
	    "--d--\r\n", &fs);
	if ((p = part(m, "1", 0)) != NULL && p->inner != NULL)
		is_str("digest entry", p->inner->subject,
		    "multipart/digest children default to message/rfc822");
	else
		ok(false, "multipart/digest child parsed as message");
	mime_free(m);
	findings_free(&fs);
}

int
main(void)
{
	alarm(60);
	test_iso2022jp();
	test_nested();
	test_rfc822();
	test_garbled();
	return done_testing();
}
