/*
 * 5020-notice: notices and digests.  A recipient notice in English and
 * in Japanese from the shipped templates: From/To, an RFC 2047 subject
 * that decodes to the template's, a base64 UTF-8 body with the held
 * message's date, sender, subject, rules and id, the lure's link and
 * domains defanged, no control characters from the attacker's text;
 * the X-Lurewall-Notice MAC verifies for its Message-ID only and only
 * for a week; a digest lists every item; a missing template falls back
 * to the built-in text.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "config.h"
#include "notice.h"
#include "quarantine.h"
#include "tap.h"

/* The value of header name in msg (first line only), malloc'd. */
static char *
header(const char *msg, const char *name)
{
	const char	*p = msg, *e;
	size_t		 n = strlen(name);

	for (; p != NULL && *p != '\n'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			e = strchr(p, '\n');
			/* with continuation lines */
			while (e != NULL && (e[1] == ' ' || e[1] == '\t'))
				e = strchr(e + 1, '\n');
			return strndup(p, e ? (size_t)(e - p) : strlen(p));
		}
	return NULL;
}

/* Decode =?UTF-8?B?...?= words (what we write), else the text itself. */
static char *
decode_subject(const char *s)
{
	unsigned char	 out[4096];
	char		*r = calloc(1, 8192), *q;
	const char	*p = s, *e;
	int		 n;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		p += 10;
		e = strstr(p, "?=");
		q = strndup(p, (size_t)(e - p));
		n = EVP_DecodeBlock(out, (unsigned char *)q, (int)strlen(q));
		while (n > 0 && strlen(q) > 0 && q[strlen(q) - 1] == '=') {
			q[strlen(q) - 1] = '\0';
			n--;
		}
		strncat(r, (char *)out, (size_t)n);
		free(q);
		p = e + 2;
	}
	if (*r == '\0')
		strcpy(r, s);
	return r;
}

static char *
decode_body(const char *msg)
{
	const char	*b = strstr(msg, "\n\n");
	char		*in = calloc(1, strlen(msg) + 1), *w = in;
	unsigned char	*out;
	int		 n;
	size_t		 len;

	for (b += 2; *b != '\0'; b++)
		if (*b != '\n')
			*w++ = *b;
	len = strlen(in);
	out = calloc(1, len + 4);
	n = EVP_DecodeBlock(out, (unsigned char *)in, (int)len);
	while (n > 0 && len > 0 && in[len - 1] == '=') {
		len--;
		n--;
	}
	out[n > 0 ? n : 0] = '\0';
	free(in);
	return (char *)out;
}

int
main(void)
{
	struct config		 cfg;
	struct quarantine	*q;
	struct notice_item	 it[2];
	char			 qdir[PATH_MAX], ndir[PATH_MAX], *m, *s, *b;
	char			*mid, *hv;
	size_t			 len;
	time_t			 now = time(NULL);

	snprintf(qdir, sizeof(qdir), "%s/q", tap_tmpdir("5020-notice"));
	if (quarantine_open(qdir, &q) != LW_OK)
		bail("quarantine_open %s", qdir);
	quarantine_close(q);
	snprintf(ndir, sizeof(ndir), "%s/conf/notice", tap_top());
	memset(&cfg, 0, sizeof(cfg));
	cfg.quarantine_dir = qdir;
	cfg.notice_dir = ndir;

	memset(it, 0, sizeof(it));
	it[0].id = "20261203T061000-abcdef01";
	it[0].when = now;
	it[0].sender = "bounce@evil.example";
	it[0].from = "taro@partner.example.com";
	it[0].subject = "Re: 請求書 http://evil.example/x\x1b[31m";
	it[0].rules = "EMOTET_LURE,OFFICE_VBA";
	it[0].score = 27;
	it[0].rcpts = "sato@example.co.jp";

	ok(notice_compose(&cfg, NOTICE_RCPT, "en", "postmaster@example.co.jp",
	    "sato@example.co.jp", it, 1, now, &m, &len) == LW_OK,
	    "an English recipient notice");
	s = header(m, "From");
	is_str("postmaster@example.co.jp", s, "From: the policy's notify.from");
	free(s);
	s = header(m, "To");
	is_str("sato@example.co.jp", s, "To: the recipient");
	free(s);
	s = header(m, "Subject");
	b = decode_subject(s);
	ok(strncmp(b, "[lurewall] A message to you is held: Re: 請求書 hxxp[:]//evil[.]example/x",
	    strlen("[lurewall] A message to you is held: Re: 請求書 hxxp[:]//evil[.]example/x")) == 0,
	    "Subject: RFC 2047, the template's text with the defanged subject");
	ok(strstr(s, "=?UTF-8?B?") != NULL && strchr(s, 0x1b) == NULL,
	    "non-ASCII subject as encoded words, no raw bytes");
	free(b);
	free(s);
	ok(strstr(m, "Content-Transfer-Encoding: base64\n") != NULL &&
	    strstr(m, "charset=UTF-8") != NULL, "body: UTF-8, base64");
	ok(strstr(m, "Auto-Submitted: auto-generated\n") != NULL,
	    "Auto-Submitted: auto-generated");
	b = decode_body(m);
	ok(strstr(b, "taro@partner[.]example[.]com") != NULL, "body: sender");
	ok(strstr(b, "EMOTET_LURE,OFFICE_VBA (score 27)") != NULL,
	    "body: rules and score");
	ok(strstr(b, "ID:       20261203T061000-abcdef01") != NULL, "body: id");
	ok(strstr(b, "ask postmaster@example.co.jp to release") != NULL,
	    "body: whom to ask");
	ok(strstr(b, "http") == NULL && strstr(b, "evil.example") == NULL &&
	    strchr(b, 0x1b) == NULL, "no link, no live domain, no escape");
	free(b);
	mid = header(m, "Message-ID");
	hv = header(m, NOTICE_HEADER);
	ok(mid != NULL && hv != NULL, "Message-ID and " NOTICE_HEADER);
	ok(notice_verify(&cfg, hv, mid, now), "its MAC verifies");
	ok(!notice_verify(&cfg, hv, "<other@example.co.jp>", now),
	    "not for another Message-ID");
	ok(!notice_verify(&cfg, hv, mid, now + NOTICE_MAX_AGE + 60),
	    "not when older than a week");
	ok(!notice_verify(&cfg, "1; 00", mid, now), "not a made-up value");
	free(mid);
	free(hv);
	free(m);

	ok(notice_compose(&cfg, NOTICE_RCPT, "ja", "postmaster@example.co.jp",
	    "sato@example.co.jp", it, 1, now, &m, &len) == LW_OK,
	    "a Japanese recipient notice");
	s = header(m, "Subject");
	b = decode_subject(s);
	ok(strncmp(b, "[lurewall] あなた宛てのメールを保留しました: ",
	    strlen("[lurewall] あなた宛てのメールを保留しました: ")) == 0,
	    "Japanese subject from notice.ja.txt");
	free(b);
	free(s);
	b = decode_body(m);
	ok(strstr(b, "差出人:   taro@partner[.]example[.]com") != NULL,
	    "Japanese body");
	free(b);
	free(m);

	it[1] = it[0];
	it[1].id = "20261203T061500-01234567";
	it[1].subject = "Invoice";
	ok(notice_compose(&cfg, NOTICE_DIGEST, "en", "postmaster@example.co.jp",
	    "sato@example.co.jp", it, 2, now, &m, &len) == LW_OK, "a digest");
	s = header(m, "Subject");
	is_str("[lurewall] 2 message(s) to you are held", s, "digest subject");
	free(s);
	b = decode_body(m);
	ok(strstr(b, "ID: 20261203T061000-abcdef01") != NULL &&
	    strstr(b, "ID: 20261203T061500-01234567") != NULL &&
	    strstr(b, "subject: Invoice") != NULL, "digest lists both items");
	free(b);
	free(m);

	cfg.notice_dir = qdir;		/* no templates there */
	ok(notice_compose(&cfg, NOTICE_ADMIN, "en", "postmaster@example.co.jp",
	    "sec@example.co.jp", it, 1, now, &m, &len) == LW_OK,
	    "no template: the built-in text");
	b = decode_body(m);
	ok(strstr(b, "lurewall quarantine show 20261203T061000-abcdef01") !=
	    NULL, "built-in admin notice names the id");
	free(b);
	free(m);
	return done_testing();
}
