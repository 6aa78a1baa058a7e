/*
 * 4006-allow: the allow: list of a policy and the policy keys of issue
 * 19 (mode, tag.always_header, notify, language): each allow kind
 * parses and matches (network, authenticated, envelope sender, From:
 * domain only with a DKIM pass or DMARC pass in Authentication-Results
 * of our own authserv-id, above the second Received:); skip lists;
 * inheritance; the errors name file, line, column and key.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "policy.h"
#include "tap.h"

static char	dir[PATH_MAX];

static void
put(const char *name, const char *text)
{
	char	 path[PATH_MAX * 2];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
}

static struct policyset *
load(const char *text, char *err, size_t errlen)
{
	struct policyset	*s = NULL;

	put("default.yaml", text);
	if (policy_load_dir(dir, NULL, &s, err, errlen) != LW_OK)
		return NULL;
	return s;
}

#define AR_OURS	"Authentication-Results: mx.example.co.jp;\r\n" \
	"\tdkim=pass (2048-bit key) header.d=partner.example.com " \
	"header.s=s1;\r\n\tdmarc=none header.from=partner.example.com\r\n"
#define REST	"Received: from a by mx.example.co.jp\r\n" \
	"Received: from b by c\r\n" \
	"From: Taro <taro@partner.example.com>\r\nSubject: x\r\n\r\nbody\r\n"

static const struct allow_entry *
match(const struct policy *p, const char *client, const char *auth,
    const char *mfrom, const char *from, const char *msg)
{
	struct allow_input	in;

	memset(&in, 0, sizeof(in));
	in.client_addr = client;
	in.auth_authen = auth;
	in.mail_from = mfrom;
	in.from_addr = from;
	in.authserv_id = "mx.example.co.jp";
	in.raw = (const unsigned char *)msg;
	in.len = msg != NULL ? strlen(msg) : 0;
	return allow_match(&p->allow, &in);
}

int
main(void)
{
	struct policyset		*s;
	const struct policy		*p;
	const struct allow_entry	*e;
	char				 err[1024];

	snprintf(dir, sizeof(dir), "%s", tap_tmpdir("4006-allow"));

	s = load("mode: observe\n"
	    "tag: {always_header: true}\n"
	    "notify: {recipients: true, admin: sec@example.co.jp, "
	    "from: postmaster@example.co.jp}\n"
	    "allow:\n"
	    "  - {name: lan, network: 192.0.2.0/24, skip: all}\n"
	    "  - {name: staff, authenticated: '*', skip: [hijack]}\n"
	    "  - {name: scanner, sender: scan@example.co.jp, "
	    "skip: [HDR_FAKE_REPLY, FILE_SCRIPT]}\n"
	    "  - {name: partner, sender_domain: partner.example.com, "
	    "verified: dkim, skip: [hijack]}\n"
	    "  - {name: strict, sender_domain: dmarc.example.net, "
	    "verified: dmarc, skip: all}\n", err, sizeof(err));
	if (!ok(s != NULL, "a policy with mode, always_header, notify and "
	    "allow loads"))
		bail("%s", err);
	p = policyset_default(s);
	is_int(MODE_OBSERVE, p->mode, "mode: observe");
	ok(p->always_header, "tag.always_header");
	ok(p->notify.recipients && !p->notify.digest, "notify.recipients");
	is_str("sec@example.co.jp", p->notify.admin, "notify.admin");
	is_int(5, p->allow.n, "five allow entries");

	e = match(p, "192.0.2.77", NULL, "x@evil.example", "x@evil.example",
	    REST);
	is_str("lan", e != NULL ? e->name : "(none)", "network: in the CIDR");
	e = match(p, "IPv6:::ffff:192.0.2.1", NULL, NULL, NULL, REST);
	is_str("lan", e != NULL ? e->name : "(none)",
	    "network: an IPv4-mapped client");
	ok(match(p, "198.51.100.1", NULL, NULL, NULL, REST) == NULL,
	    "network: outside, no match");
	e = match(p, "198.51.100.1", "alice", NULL, NULL, REST);
	is_str("staff", e != NULL ? e->name : "(none)",
	    "authenticated: any login with *");
	ok(allow_skips(e, "HDR_DISPLAY_NAME_SPOOF") &&
	    allow_skips(e, "EMOTET_LURE") && allow_skips(e, "BODY_QUOTED_THREAD_FOREIGN"),
	    "skip hijack: the HDR_, BODY_ rules and EMOTET_LURE");
	ok(!allow_skips(e, "OFFICE_VBA") && !allow_skips(e, "FILE_EXECUTABLE"),
	    "skip hijack: attachment rules still count");
	e = match(p, "198.51.100.1", NULL, "SCAN@Example.co.jp", NULL, REST);
	is_str("scanner", e != NULL ? e->name : "(none)",
	    "sender: the envelope sender, any case");
	ok(e != NULL && allow_skips(e, "FILE_SCRIPT") &&
	    !allow_skips(e, "HDR_DISPLAY_NAME_SPOOF"), "named rules only");

	e = match(p, "198.51.100.1", NULL, "bounce@mailer.example",
	    "taro@partner.example.com", AR_OURS REST);
	is_str("partner", e != NULL ? e->name : "(none)",
	    "sender_domain: DKIM pass for the From: domain from our MTA");
	ok(match(p, "198.51.100.1", NULL, NULL, "taro@partner.example.com",
	    REST) == NULL, "no Authentication-Results: no match");
	ok(match(p, "198.51.100.1", NULL, NULL, "taro@partner.example.com",
	    "Authentication-Results: mx.evil.example; dkim=pass "
	    "header.d=partner.example.com\r\n" REST) == NULL,
	    "another authserv-id: no match");
	ok(match(p, "198.51.100.1", NULL, NULL, "taro@partner.example.com",
	    "Received: from a by mx.example.co.jp\r\n"
	    "Received: from b by c\r\n" AR_OURS
	    "From: x@partner.example.com\r\n\r\n") == NULL,
	    "our authserv-id below the second Received: (forged): no match");
	ok(match(p, "198.51.100.1", NULL, NULL, "taro@partner.example.com",
	    "Authentication-Results: mx.example.co.jp; dkim=fail "
	    "header.d=partner.example.com\r\n" REST) == NULL,
	    "dkim=fail: no match");
	ok(match(p, "198.51.100.1", NULL, NULL, "taro@partner.example.com",
	    "Authentication-Results: mx.example.co.jp; dkim=pass "
	    "header.d=evil.example\r\n" REST) == NULL,
	    "a DKIM pass for another domain: no match");
	e = match(p, "198.51.100.1", NULL, NULL, "eigyo@tokyo.partner.example.com",
	    "Authentication-Results: mx.example.co.jp; dkim=pass "
	    "header.i=@tokyo.partner.example.com\r\n" REST);
	is_str("partner", e != NULL ? e->name : "(none)",
	    "a subdomain's own DKIM pass (header.i)");
	ok(match(p, "198.51.100.1", NULL, NULL, "x@dmarc.example.net",
	    "Authentication-Results: mx.example.co.jp; dkim=pass "
	    "header.d=dmarc.example.net\r\n" REST) == NULL,
	    "verified: dmarc is not satisfied by a DKIM pass alone");
	e = match(p, "198.51.100.1", NULL, NULL, "x@dmarc.example.net",
	    "Authentication-Results: mx.example.co.jp (x); dmarc=pass "
	    "(p=reject dis=none) header.from=dmarc.example.net\r\n" REST);
	is_str("strict", e != NULL ? e->name : "(none)", "a DMARC pass");
	policyset_unref(s);

	/* inheritance: a domain file keeps default's allow unless it sets one */
	put("b.yaml", "domains: [b.example]\n");
	put("c.yaml", "domains: [c.example]\nallow: []\nmode: enforce\n");
	s = load("mode: observe\nallow:\n  - {name: lan, network: 10.0.0.0/8, "
	    "skip: all}\n", err, sizeof(err));
	if (!ok(s != NULL, "default with allow, two domain files"))
		bail("%s", err);
	p = policyset_for_domain(s, "b.example");
	ok(p != NULL && p->allow.n == 1 && p->mode == MODE_OBSERVE,
	    "a domain file inherits allow and mode");
	p = policyset_for_domain(s, "c.example");
	ok(p != NULL && p->allow.n == 0 && p->mode == MODE_ENFORCE,
	    "allow: [] and mode: enforce replace them");
	policyset_unref(s);
	{
		char	path[PATH_MAX * 2];

		snprintf(path, sizeof(path), "%s/b.yaml", dir);
		remove(path);
		snprintf(path, sizeof(path), "%s/c.yaml", dir);
		remove(path);
	}

	/* errors */
	static const struct {
		const char	*yaml, *want;
	} bad[] = {
		{ "allow:\n  - {name: x, sender_domain: p.example, skip: all}\n",
		  "default.yaml:2:30: allow[0].sender_domain: a From: domain is "
		  "forged at will: add verified: dkim or verified: dmarc" },
		{ "allow:\n  - {name: x, network: 10.0.0.0/33, skip: all}\n",
		  "default.yaml:2:24: allow[0].network: expected an address or "
		  "ADDRESS/BITS" },
		{ "allow:\n  - {name: x, network: 10.0.0.0/8}\n",
		  "default.yaml:2:5: allow[0].skip: missing" },
		{ "allow:\n  - {name: x, network: 10.0.0.0/8, skip: [NOPE]}\n",
		  "default.yaml:2:43: allow[0].skip: NOPE: not all, hijack or a "
		  "built-in rule" },
		{ "allow:\n  - {name: x, network: 10.0.0.0/8, sender: a@b.c, "
		  "skip: all}\n", "one of network, authenticated, sender or "
		  "sender_domain per entry" },
		{ "allow:\n  - {network: 10.0.0.0/8, skip: all}\n",
		  "allow[0].name: missing" },
		{ "mode: dry\n", "default.yaml:1:7: mode: expected enforce or "
		  "observe" },
		{ "notify: {recipients: true}\n", "notify.from: missing" },
		{ "notify: {admin: 'not an address', from: a@b.example}\n",
		  "notify.admin: expected user@domain" },
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = load(bad[i].yaml, err, sizeof(err));
		ok(s == NULL && strstr(err, bad[i].want) != NULL,
		    "error: %s", bad[i].want);
		if (s != NULL)
			policyset_unref(s);
		else if (strstr(err, bad[i].want) == NULL)
			diag("got: %s", err);
	}
	return done_testing();
}
