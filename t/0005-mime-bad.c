/*
 * 0005-mime-bad: hostile and broken input: empty and truncated
 * messages, 10,000 parts, deep nesting, a 1 MB header line, too many
 * headers, NUL bytes, an unknown charset.  Each must parse (LW_OK),
 * stay within the limits and leave the right finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"
#include "tap.h"

static struct limits	lim;

static struct message *
parse_len(const char *raw, size_t len, struct findings *fs)
{
	struct message	*m = NULL;

	memset(fs, 0, sizeof(*fs));
	if (mime_parse((const unsigned char *)raw, len, &lim, fs, &m) !=
	    LW_OK || m == NULL)
		bail("mime_parse failed");
	return m;
}

static struct message *
parse(const char *raw, struct findings *fs)
{
	return parse_len(raw, strlen(raw), fs);
}

static bool
has(const struct findings *fs, const char *rule, const char *detail)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0 &&
		    strstr(fs->v[i].detail, detail) != NULL)
			return true;
	for (i = 0; i < fs->n; i++)
		diag("finding %s [%s] %s", fs->v[i].rule, fs->v[i].part,
		    fs->v[i].detail);
	return false;
}

static void
done(struct message *m, struct findings *fs)
{
	mime_free(m);
	findings_free(fs);
}

/* Append s to a growing buffer; bail on ENOMEM. */
static void
cat(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	while (*len + n + 1 > *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			bail("out of memory");
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
test_empty_truncated(void)
{
	struct findings	 fs;
	struct message	*m;

	m = parse_len("", 0, &fs);
	is_str("text/plain", m->root->ctype, "empty message: text/plain");
	is_str("", m->root->text, "empty message: empty text");
	is_int(0, (long long)m->nhdrs, "empty message: no headers");
	is_int(1, m->nparts, "empty message: one part");
	done(m, &fs);

	m = parse("Subject: only headers\r\n\r\n", &fs);
	is_str("only headers", m->subject, "empty body: subject");
	is_int(0, (long long)m->root->body_len, "empty body: no bytes");
	is_str("", m->root->text, "empty body: empty text");
	is_int(0, (long long)fs.n, "empty body: no finding");
	done(m, &fs);

	m = parse("Subject: cut\r\nFrom: Taro <t@x.exa", &fs);
	is_str("cut", m->subject, "cut in the headers: subject kept");
	is_str("Taro", m->from.display, "cut in the headers: From display");
	done(m, &fs);

	m = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
	    "--b\r\nContent-Type: application/zip; name=x.zip\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAA", &fs);
	is_int(2, (long long)m->root->nchild,
	    "cut in base64: both parts kept");
	is_int(7, (long long)m->root->child[1]->body_len,
	    "cut in base64: what arrived is decoded");
	ok(has(&fs, "MIME_MALFORMED", "missing final boundary"),
	    "cut in a multipart: missing final boundary");
	done(m, &fs);

	m = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: appl", &fs);
	is_int(1, (long long)m->root->nchild, "cut in part headers: a part");
	done(m, &fs);
}

static void
test_many_parts(void)
{
	struct findings	 fs;
	struct message	*m;
	char		*buf = NULL, line[128];
	size_t		 len = 0, cap = 0;
	int		 i, n;
	uint64_t	 t0;

	cat(&buf, &len, &cap, "Content-Type: multipart/mixed; boundary=x\r\n"
	    "\r\n", 45);
	for (i = 0; i < 10000; i++) {
		n = snprintf(line, sizeof(line), "--x\r\nContent-Type: "
		    "application/octet-stream; name=f%d.bin\r\n\r\nA\r\n", i);
		cat(&buf, &len, &cap, line, (size_t)n);
	}
	cat(&buf, &len, &cap, "--x--\r\n", 7);
	t0 = lw_now_ms();
	m = parse_len(buf, len, &fs);
	ok(lw_now_ms() - t0 < 10000, "10,000 parts parse quickly");
	is_int(lim.mime_parts, m->nparts, "parts capped at mime_parts");
	is_int(lim.mime_parts - 1, (long long)m->root->nchild,
	    "root plus children fill the budget");
	ok(has(&fs, "MIME_LIMIT", "more than 1000 MIME parts"),
	    "10,000 parts: MIME_LIMIT");
	is_int(1, (long long)fs.n, "one finding for the whole flood");
	done(m, &fs);
	free(buf);
}

static void
test_deep(void)
{
	struct findings		 fs;
	struct message		*m;
	const struct mime_part	*p;
	char			*buf = NULL, line[128];
	size_t			 len = 0, cap = 0;
	unsigned		 d;
	int			 i, n;

	for (i = 0; i < 200; i++) {
		n = snprintf(line, sizeof(line), "Content-Type: multipart/"
		    "mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
		cat(&buf, &len, &cap, line, (size_t)n);
	}
	cat(&buf, &len, &cap, "\r\ndeepest\r\n", 11);
	m = parse_len(buf, len, &fs);
	for (p = m->root, d = 0; p->nchild > 0; p = p->child[0])
		d++;
	is_int(lim.mime_depth, d, "multipart nesting stops at mime_depth");
	ok(p->is_attachment && p->body != NULL,
	    "the too-deep container is kept as an opaque leaf");
	ok(has(&fs, "MIME_LIMIT", "nesting deeper than 20"),
	    "deep multipart: MIME_LIMIT");
	done(m, &fs);

	len = 0;
	for (i = 0; i < 200; i++)
		cat(&buf, &len, &cap, "Content-Type: message/rfc822\r\n\r\n",
		    32);
	cat(&buf, &len, &cap, "Subject: inner\r\n\r\ntext\r\n", 25);
	m = parse_len(buf, len, &fs);
	for (p = m->root, d = 0; p->inner != NULL; p = p->inner->root)
		d++;
	is_int(lim.mime_depth, d, "message/rfc822 nesting stops too");
	ok(has(&fs, "MIME_LIMIT", "nesting deeper"),
	    "deep message/rfc822: MIME_LIMIT");
	done(m, &fs);
	free(buf);
}

static void
test_big_headers(void)
{
	struct findings	 fs;
	struct message	*m;
	char		*buf, line[64];
	size_t		 big = 1 << 20, len = 0, cap = 0, i;
	int		 n;

	if ((buf = malloc(big + 64)) == NULL)
		bail("out of memory");
	memcpy(buf, "Subject: ", 9);
	memset(buf + 9, 'A', big);
	memcpy(buf + 9 + big, "\r\nFrom: a@b.example\r\n\r\nbody", 27);
	m = parse_len(buf, 9 + big + 27, &fs);
	ok(strlen(m->subject) <= lim.max_header_bytes &&
	    strlen(m->subject) + 1 >= lim.max_header_bytes,
	    "1 MB Subject cut to max_header_bytes");
	is_str("a@b.example", m->from.addr, "headers after it still read");
	is_str("body", m->root->text, "body after it still read");
	ok(has(&fs, "MIME_LIMIT", "header field over"),
	    "1 MB header line: MIME_LIMIT");
	done(m, &fs);

	/* the same megabyte as folded continuation lines */
	len = 0;
	cap = 0;
	free(buf);
	buf = NULL;
	cat(&buf, &len, &cap, "X-Long: start", 13);
	for (i = 0; i < big / 64; i++)
		cat(&buf, &len, &cap, "\r\n BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
		    "BBBBBBBBBBBBBBBBBBBBBBBBB", 66);
	cat(&buf, &len, &cap, "\r\n\r\nbody", 8);
	m = parse_len(buf, len, &fs);
	ok(strlen(mime_header(m, "x-long")) <= lim.max_header_bytes,
	    "folded 1 MB header cut");
	ok(has(&fs, "MIME_LIMIT", "header field over"),
	    "folded 1 MB header: MIME_LIMIT");
	is_str("body", m->root->text, "body after the folded header");
	done(m, &fs);

	len = 0;
	for (i = 0; i < 3000; i++) {
		n = snprintf(line, sizeof(line), "X-H%zu: v\r\n", i);
		cat(&buf, &len, &cap, line, (size_t)n);
	}
	cat(&buf, &len, &cap, "Subject: late\r\n\r\nbody", 21);
	m = parse_len(buf, len, &fs);
	is_int(lim.max_headers, (long long)m->nhdrs,
	    "header count capped at max_headers");
	ok(m->subject == NULL, "headers past the cap are ignored");
	is_str("body", m->root->text, "body still found");
	ok(has(&fs, "MIME_LIMIT", "more than 2000 header fields"),
	    "3000 headers: MIME_LIMIT");
	done(m, &fs);
	free(buf);
}

static void
test_nul_charset(void)
{
	static const char raw[] = "Subject: a\0b\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "pass\0word: 1234\r\n";
	struct findings	 fs;
	struct message	*m;

	m = parse_len(raw, sizeof(raw) - 1, &fs);
	is_str("a b", m->subject, "NUL in a header becomes a space");
	is_int(17, (long long)m->root->body_len, "NUL kept in the raw body");
	is_str("pass word: 1234\n", m->root->text,
	    "NUL in text becomes a space");
	ok(has(&fs, "MIME_MALFORMED", "NUL byte in header"),
	    "NUL in header: MIME_MALFORMED");
	done(m, &fs);

	m = parse("Content-Type: text/plain; charset=\"x-klingon-42\"\r\n\r\n"
	    "caf\xc3\xa9\r\n", &fs);
	is_str("café\n", m->root->text, "unknown charset: guessed UTF-8");
	ok(has(&fs, "MIME_MALFORMED", "unknown charset x-klingon-42"),
	    "unknown charset: MIME_MALFORMED names it");
	done(m, &fs);

	m = parse("Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "\x8c\xa9\x90\xcf\x8f\x91\r\n", &fs);
	is_str("見積書\n", m->root->text,
	    "8-bit text labelled us-ascii: CP932 guessed");
	is_int(0, (long long)fs.n, "us-ascii is a known charset");
	done(m, &fs);
}

static void
test_small_limits(void)
{
	struct findings	 fs;
	struct message	*m;
	struct limits	 saved = lim;

	lim.mime_parts = 3;
	lim.max_headers = 1;
	m = parse("Subject: s\r\nFrom: f@x.example\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b\r\n\r\nthree\r\n--b--\r\n",
	    &fs);
	is_int(1, (long long)m->nhdrs, "configured max_headers");
	ok(has(&fs, "MIME_LIMIT", "more than 1 header fields"),
	    "configured max_headers: MIME_LIMIT");
	done(m, &fs);
	lim.max_headers = saved.max_headers;
	m = parse("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b\r\n\r\nthree\r\n--b--\r\n",
	    &fs);
	is_int(3, m->nparts, "configured mime_parts");
	ok(has(&fs, "MIME_LIMIT", "more than 3 MIME parts"),
	    "configured mime_parts: MIME_LIMIT");
	done(m, &fs);
	lim = saved;
}

int
main(void)
{
	alarm(120);
	limits_default(&lim);
	test_empty_truncated();
	test_many_parts();
	test_deep();
	test_big_headers();
	test_nul_charset();
	test_small_limits();
	return done_testing();
}
