/*
 * 3020-hijack-learned: the learned signs (hijack_learn.c) under a policy
 * with no lists at all, on a store that learned three outbound threads:
 * a reply from a participant is HDR_KNOWN_THREAD and loses its prefix
 * signs; the same thread answered from elsewhere is HDR_THREAD_HIJACK,
 * by reference or by subject + quoted author, but not when two threads
 * share subject and author; learned names make HDR_DISPLAY_NAME_SPOOF
 * and HDR_INTERNAL_NAME_EXTERNAL with their source in the detail;
 * HDR_FIRST_CONTACT only on a mature store, not beside a name sign, and
 * a sign for EMOTET_LURE only with a macro, a script or a closed archive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_t.h"
#include "tap.h"
#include "analyzer.h"
#include "hijack.h"
#include "learn.h"
#include "mime.h"
#include "policy.h"
#include "state.h"

#define NOW	((time_t)1780000000)

/* Keeps scan.o out of the link. */
bool
scan_expired(struct scan_ctx *ctx)
{
	return false;
}

static struct findings	 last;
static struct learn	*L;


static struct limits	 lim;

/* The rules hijack_scan finds in raw under p, comma-separated. */
static const char *
scan(const char *raw, const struct policy *p, const char *payload,
    struct learn *l)
{
	static char		 rules[1024];
	struct findings		 pay = { 0 }, own = { 0 };
	struct scan_ctx		 ctx = { .lim = &lim, .fs = &own, .learn = l,
				    .now = NOW + 3600 };
	size_t			 i;

	ctx.msg = learn_t_msg(raw);
	findings_free(&last);
	if (payload != NULL && findings_add(&pay, payload, "2", "payload") !=
	    LW_OK)
		bail("findings_add");
	if (hijack_scan(&ctx, ctx.msg, p, &pay, &last) != LW_OK)
		bail("hijack_scan");
	rules[0] = '\0';
	for (i = 0; i < last.n; i++)
		snprintf(rules + strlen(rules), sizeof(rules) - strlen(rules),
		    "%s%s", i > 0 ? "," : "", last.v[i].rule);
	findings_free(&pay);
	findings_free(&own);
	mime_free((struct message *)ctx.msg);
	return rules;
}

/* rule among the last scan's findings (rules: their list, for diag). */
static bool
has(const char *rules, const char *rule)
{
	return findings_get(&last, rule) != NULL;
}

static const char *
detail(const char *rule)
{
	const struct finding	*f = findings_get(&last, rule);

	return f != NULL ? f->detail : "";
}

static void
learn1(const char *from, const char *to, const char *mid,
    const char *subject, time_t t)
{
	char		 raw[1024];
	struct message	*m;

	snprintf(raw, sizeof(raw), "From: %s\r\nTo: %s\r\nMessage-ID: <%s>\r\n"
	    "Subject: %s\r\n\r\nbody\r\n", from, to, mid, subject);
	m = learn_t_msg(raw);
	if (learn_outbound(L, "example", m, NULL, t) != LW_OK)
		bail("learn_outbound");
	mime_free(m);
}

#define YAMADA	"=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@ours.example>"
#define QUOTE	"\r\n\r\n山田 太郎 <yamada@ours.example> wrote:\r\n> body\r\n"

int
main(void)
{
	struct policy		 p, fresh;
	struct state_config	 sc;
	struct state		*st;
	struct learn_config	 lc;
	const char		*r;

	limits_default(&lim);
	memset(&p, 0, sizeof(p));
	p.name = "example";
	memset(&fresh, 0, sizeof(fresh));
	fresh.name = "fresh";
	state_config_init(&sc);
	if ((sc.path = strdup(tap_tmpdir("3020-hijack-learned"))) == NULL ||
	    state_open(&sc, false, &st) != LW_OK)
		bail("state");
	learn_config_init(&lc);
	lc.mature_messages = 3;
	if (learn_open(st, &lc, &L) != LW_OK)
		bail("learn_open");
	learn1(YAMADA, "Hanako Sato <hanako@partner.example>", "t1@ours.example",
	    "見積書の件", NOW);
	learn1(YAMADA, "x@third.example", "t2@ours.example", "見積書の件",
	    NOW + 60);
	learn1(YAMADA, "Klaus Weber <k.weber@lieferant.example.de>",
	    "t3@ours.example", "Lieferplan Q2", NOW + 120);

	r = scan("From: Klaus Weber <k.weber@lieferant.example.de>\r\n"
	    "Subject: AW: Lieferplan Q2\r\nIn-Reply-To: <t3@ours.example>\r\n"
	    "\r\nDanke." QUOTE, &p, NULL, L);
	ok(has(r, "HDR_KNOWN_THREAD") && !has(r, "HDR_FOREIGN_REPLY_PREFIX"),
	    "a participant's AW: reply: known thread, no prefix sign (%s)", r);
	r = scan("From: Klaus Weber <k.weber@lieferant.example.de>\r\n"
	    "Subject: AW: Lieferplan Q2\r\n\r\nDanke.\r\n", &p, NULL, L);
	ok(has(r, "HDR_FOREIGN_REPLY_PREFIX") && has(r, "HDR_FAKE_REPLY") &&
	    !has(r, "HDR_KNOWN_THREAD"), "without thread: the prefix signs "
	    "stay (%s)", r);
	r = scan("From: Billing <billing@evil.example>\r\n"
	    "Subject: Re: Lieferplan Q2\r\nReferences: <x@y> <t3@ours.example>"
	    "\r\n\r\nSee attached." QUOTE, &p, "OFFICE_VBA", L);
	ok(has(r, "HDR_THREAD_HIJACK") && has(r, "EMOTET_LURE") &&
	    strstr(detail("HDR_THREAD_HIJACK"), "evil.example never took "
	    "part") != NULL, "a stranger answering our thread: hijack, "
	    "with a macro a lure (%s)", r);
	r = scan("From: Billing <billing@evil.example>\r\n"
	    "Subject: RE: Lieferplan Q2\r\n\r\nSee attached." QUOTE, &p,
	    NULL, L);
	ok(has(r, "HDR_THREAD_HIJACK") && strstr(detail("HDR_THREAD_HIJACK"),
	    "subject and quoted author") != NULL, "by subject and quoted "
	    "author (%s)", r);
	r = scan("From: Billing <billing@evil.example>\r\n"
	    "Subject: Re: 見積書の件\r\n\r\nSee attached." QUOTE, &p, NULL, L);
	ok(!has(r, "HDR_THREAD_HIJACK") && !has(r, "HDR_KNOWN_THREAD"),
	    "two threads share subject and author: no match (%s)", r);
	r = scan("From: Billing <billing@evil.example>\r\n"
	    "Subject: Re: Lieferplan Q2\r\n\r\nSee attached.\r\n", &p, NULL, L);
	ok(!has(r, "HDR_THREAD_HIJACK"), "a subject alone names no thread");

	r = scan("From: Klaus Weber <kw@evil.example>\r\nSubject: Rechnung\r\n"
	    "\r\nx\r\n", &p, NULL, L);
	ok(has(r, "HDR_DISPLAY_NAME_SPOOF") && !has(r, "HDR_FIRST_CONTACT") &&
	    strstr(detail("HDR_DISPLAY_NAME_SPOOF"), "learned from 1 "
	    "messages to k.weber@lieferant.example.de") != NULL,
	    "a correspondent's name from a new domain, its source: %s",
	    detail("HDR_DISPLAY_NAME_SPOOF"));
	r = scan("From: \"Weber, Klaus\" <kw@mail.lieferant.example.de>\r\n"
	    "Subject: Rechnung\r\n\r\nx\r\n", &p, NULL, L);
	ok(!has(r, "HDR_DISPLAY_NAME_SPOOF"), "the name from below its domain "
	    "(%s)", r);
	r = scan("From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yt@free.example>\r\n"
	    "Subject: x\r\n\r\nx\r\n", &p, "FILE_SCRIPT", L);
	ok(has(r, "HDR_INTERNAL_NAME_EXTERNAL") && has(r, "EMOTET_LURE"),
	    "a colleague's name from outside (%s)", r);
	r = scan("From: Klaus Weber <kw@evil.example>\r\nSubject: Rechnung\r\n"
	    "\r\nx\r\n", &p, NULL, NULL);
	is_str("", r, "nothing learned: no learned sign");

	r = scan("From: Info <info@new.example>\r\nSubject: Frage\r\n\r\nx\r\n",
	    &p, NULL, L);
	is_str("HDR_FIRST_CONTACT", r, "a first contact on a mature store");
	r = scan("From: Info <info@new.example>\r\nSubject: Frage\r\n\r\nx\r\n",
	    &fresh, NULL, L);
	is_str("", r, "none for an organisation that learned nothing");
	r = scan("From: Info <info@mail.partner.example>\r\nSubject: x\r\n\r\n"
	    "x\r\n", &p, NULL, L);
	is_str("", r, "a subdomain of a known domain is no first contact");
	r = scan("From: Info <info@new.example>\r\nSubject: x\r\n\r\nx\r\n",
	    &p, "OFFICE_VBA_AUTOEXEC", L);
	ok(has(r, "EMOTET_LURE"), "first contact + macro: a lure");
	r = scan("From: Info <info@new.example>\r\nSubject: x\r\n\r\nx\r\n",
	    &p, "ARCHIVE_PASSWORD_UNKNOWN", L);
	ok(has(r, "EMOTET_LURE"), "first contact + closed archive: a lure");
	r = scan("From: Info <info@new.example>\r\nSubject: x\r\n\r\nx\r\n",
	    &p, "OFFICE_REMOTE_TEMPLATE", L);
	ok(!has(r, "EMOTET_LURE"), "first contact + remote template: no "
	    "lure sign (the template scores itself)");

	findings_free(&last);
	learn_close(L);
	state_close(st);
	state_config_free(&sc);
	return done_testing();
}
