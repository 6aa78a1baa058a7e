/*
 * 5300-learn: the learner's store (learn.c, learn_find.c, learn_rec.c)
 * on LMDB and on the files backend: what one outbound message teaches
 * (account names, correspondents, domains, threads), name lookups in
 * either order and with confusables, threads by reference and by
 * subject + author (and no match when several threads share both),
 * participants (a partner's second known domain counts), maturity,
 * inbound replies, expiry, caps with the least recently seen evicted,
 * forget, each, stats and a read-only look; on Redis the same, key by
 * key.  Batches (learn_batch.c): nothing written before the flush
 * (but seen by the batch's own lookups), everything after it (counts of a batch add up), a flush when full,
 * the writer thread's flush by time, learn_close's and the daemon's
 * shared learner's at shutdown, and a crash that loses the unflushed
 * batch and nothing else.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "learn.h"
#include "mime.h"
#include "state.h"
#include "verdict.h"
#include "learn_t.h"
#include "redis_t.h"
#include "tap.h"

#define NOW	((time_t)1780000000)
#define DAY	86400


static enum lw_err
send_mail(struct learn *l, const char *from, const char *to,
    const char *cc, const char *mid, const char *irt, const char *subject,
    time_t now)
{
	char		 raw[4096];
	struct message	*m;
	enum lw_err	 e;

	snprintf(raw, sizeof(raw), "From: %s\r\nTo: %s\r\n%s%s%s"
	    "Message-ID: <%s>\r\n%s%s%sSubject: %s\r\n\r\nbody\r\n",
	    from, to, cc != NULL ? "Cc: " : "", cc != NULL ? cc : "",
	    cc != NULL ? "\r\n" : "", mid, irt != NULL ? "In-Reply-To: <" :
	    "", irt != NULL ? irt : "", irt != NULL ? ">\r\n" : "", subject);
	m = learn_t_msg(raw);
	e = learn_outbound(l, "example", m, NULL, now);
	mime_free(m);
	return e;
}

/* Who the display name is: "addr[~]" joined by commas. */
static const char *
who(struct learn *l, const char *display, time_t now)
{
	static char		 buf[1024];
	struct learn_match	*v;
	size_t			 n, i;

	if (learn_names(l, "example", display, now, &v, &n) != LW_OK)
		bail("learn_names");
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, v[i].addr);
		if (v[i].confusable)
			strcat(buf, "~");
	}
	learn_matches_free(v, n);
	return buf;
}

static enum learn_how
thread_of(struct learn *l, const char *irt, const char *subject,
    const char *author, time_t now, struct learn_record *t)
{
	char		 raw[1024];
	struct message	*m;
	enum learn_how	 how;

	snprintf(raw, sizeof(raw), "From: x@y.example\r\n%s%s%s"
	    "Subject: %s\r\n\r\nb\r\n", irt != NULL ? "In-Reply-To: <" : "",
	    irt != NULL ? irt : "", irt != NULL ? ">\r\n" : "", subject);
	m = learn_t_msg(raw);
	if (learn_thread_find(l, "example", m, author, now, t, &how) != LW_OK)
		bail("learn_thread_find");
	mime_free(m);
	return how;
}

static bool
participant(struct learn *l, const struct learn_record *t,
    const char *addr, const char *display, time_t now)
{
	bool	yes;

	if (learn_participant(l, "example", t, addr, display, now, &yes) !=
	    LW_OK)
		bail("learn_participant");
	return yes;
}

static bool
has_item(const struct learn_record *r, const char *text)
{
	size_t	i;

	for (i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].text, text) == 0)
			return true;
	return false;
}

static size_t	each_n[LEARN_KINDS + 1];

static enum lw_err
count_each(void *arg, const struct learn_record *r)
{
	each_n[r->kind]++;
	return LW_OK;
}

static int	redis_port;

/* A state of backend b in dir name (redis: the test's server). */
static struct state *
open_state(enum state_backend b, const char *name, bool ro)
{
	struct state_config	 c;
	struct state		*st = NULL;
	struct state_val	 v;
	int			 i;

	state_config_init(&c);
	c.backend = b;
	if ((c.path = strdup(name)) == NULL)
		bail("oom");
	if (b == STATE_REDIS) {
		c.redis.port = (unsigned)redis_port;
		c.redis.username = strdup(REDIS_USER);
		c.redis.password = strdup(PASSWORD);
	}
	/* A server just started may take a moment to listen. */
	for (i = 0; i < 100; i++, usleep(100 * 1000)) {
		if (state_open(&c, ro, &st) != LW_OK)
			continue;
		if (state_get(st, "probe", NOW, &v) == LW_ENOTFOUND)
			break;
		state_close(st);
		st = NULL;
	}
	if (st == NULL)
		bail("state_open %s", name);
	state_config_free(&c);
	return st;
}

/* How many live keys start with prefix. */
static enum lw_err
count_key(void *arg, const char *key, const struct state_val *v)
{
	(void)key;
	(void)v;
	(*(size_t *)arg)++;
	return LW_OK;
}

static size_t
keys_under(struct state *st, const char *prefix, time_t now)
{
	size_t	n = 0;

	if (state_each(st, prefix, now, count_key, &n) != LW_OK)
		bail("state_each %s", prefix);
	return n;
}

static void
basics(enum state_backend b, const char *dir)
{
	const char		*bn = state_backend_name(b);
	struct state		*st = open_state(b, dir, false), *ro;
	struct learn_config	 c;
	struct learn		*l, *rl;
	struct learn_record	 r, t;
	struct learn_stats	 s;
	struct message		*m;
	char			(*orgs)[LEARN_ORG_MAX + 1];
	size_t			 norgs;
	bool			 yes;
	size_t			 removed;
	enum lw_err		 e;

	learn_config_init(&c);
	c.mature_messages = 5;
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	ok(learn_mature(l, "example", NOW, &yes) == LW_OK && !yes,
	    "%s: an empty store is not mature", bn);
	is_int(LW_OK, send_mail(l, "=?UTF-8?B?5bGx55SwIOWkqumDjg==?= "
	    "<Yamada@ours.example>", "Sato Hanako <hanako@partner.example>",
	    "Suzuki Ichiro <suzuki@ours.example>", "m1@ours.example", NULL,
	    "=?UTF-8?B?6KaL56mN5pu444Gu5Lu2?=", NOW), "%s: learn one", bn);

	ok(learn_get(l, "example", LEARN_ACCOUNT, "yamada@ours.example",
	    NOW, &r) == LW_OK && has_item(&r, "山田 太郎") && r.out == 1,
	    "%s: the account and its display name", bn);
	learn_record_free(&r);
	ok(learn_get(l, "example", LEARN_CORRESPONDENT,
	    "Hanako@Partner.example", NOW, &r) == LW_OK &&
	    has_item(&r, "Sato Hanako"), "%s: the correspondent, its name",
	    bn);
	learn_record_free(&r);
	is_int(LW_ENOTFOUND, learn_get(l, "example", LEARN_CORRESPONDENT,
	    "suzuki@ours.example", NOW, &r), "%s: a colleague is no "
	    "correspondent", bn);
	is_str("hanako@partner.example", who(l, "Hanako Sato", NOW),
	    "%s: a name in the other order", bn);
	is_str("hanako@partner.example", who(l, "\"ＳＡＴＯ  Hanako様\"", NOW),
	    "%s: full width, case, quotes, honorific", bn);
	is_str("hanako@partner.example~", who(l, "Ѕato Hanako", NOW),
	    "%s: a Cyrillic S is a confusable match", bn);
	/*
	 * 山田 太郎 and Sato Hanako are their own skeletons: no skeleton
	 * record, the name index serves both (the match above).
	 */
	is_int(0, (int)keys_under(st, "learn:example:x:", NOW),
	    "%s: no skeleton record for names that are their own", bn);
	is_str("", who(l, "Sato Hanako (via DocuSign)", NOW),
	    "%s: a name plus a note that is no name is nobody", bn);
	is_str("yamada@ours.example", who(l, "山田太郎", NOW),
	    "%s: a staff name", bn);
	is_str("", who(l, "Sato", NOW), "%s: part of a name is nobody", bn);
	is_str("", who(l, "suzuki@ours.example", NOW),
	    "%s: an address is no name", bn);

	ok(thread_of(l, "m1@ours.example", "x", NULL, NOW, &t) ==
	    LEARN_BY_REF && has_item(&t, "partner.example") &&
	    has_item(&t, "ours.example"), "%s: a thread by In-Reply-To", bn);
	ok(participant(l, &t, "hanako@partner.example", NULL, NOW) &&
	    participant(l, &t, "other@mail.partner.example", NULL, NOW),
	    "%s: the partner's domain (and below it) takes part", bn);
	ok(!participant(l, &t, "hanako@evil.example", "Sato Hanako", NOW),
	    "%s: a stranger with the partner's name does not", bn);
	/* The partner's second domain. */
	is_int(LW_OK, send_mail(l, "Yamada <yamada@ours.example>",
	    "Hanako Sato <hanako@partner-group.example>", NULL,
	    "m2@ours.example", NULL, "Other", NOW + 60), "%s: learn two", bn);
	ok(participant(l, &t, "hanako@partner-group.example", "Sato Hanako",
	    NOW) && participant(l, &t, "hanako@partner-group.example", NULL,
	    NOW), "%s: the partner from her second known domain takes part",
	    bn);
	learn_record_free(&t);
	is_int(LEARN_NO_THREAD, thread_of(l, "nope@x", "x", NULL, NOW, &t),
	    "%s: an unknown id is no thread", bn);

	/* Subject and quoted author. */
	ok(thread_of(l, NULL, "RE: AW: 見積書の件", "YAMADA@ours.example",
	    NOW, &t) == LEARN_BY_SUBJECT && has_item(&t, "partner.example"),
	    "%s: subject + author name one thread", bn);
	learn_record_free(&t);
	is_int(LEARN_NO_THREAD, thread_of(l, NULL, "Re: 見積書の件",
	    "suzuki@ours.example", NOW, &t), "%s: not by another author", bn);
	send_mail(l, "Yamada <yamada@ours.example>", "hanako@partner.example",
	    NULL, "m1b@ours.example", "m1@ours.example", "Re: 見積書の件",
	    NOW + 100);
	ok(thread_of(l, NULL, "Re: 見積書の件", "yamada@ours.example", NOW,
	    &t) == LEARN_BY_SUBJECT, "%s: a reply in the thread is no second "
	    "thread", bn);
	learn_record_free(&t);
	send_mail(l, "Yamada <yamada@ours.example>", "x@third.example", NULL,
	    "m3@ours.example", NULL, "見積書の件", NOW + 120);
	is_int(LEARN_AMBIGUOUS, thread_of(l, NULL, "Re: 見積書の件",
	    "yamada@ours.example", NOW, &t), "%s: two threads share it: "
	    "ambiguous", bn);
	is_int(LEARN_BY_REF, thread_of(l, "m1@ours.example", "Re: 見積書の件",
	    "yamada@ours.example", NOW, &t), "%s: a reference still names "
	    "the thread", bn);
	learn_record_free(&t);

	ok(learn_domain_known(l, "example", "mail.partner.example", NOW,
	    &yes) == LW_OK && yes, "%s: a subdomain of a known domain", bn);
	ok(learn_domain_known(l, "example", "evil.example", NOW, &yes) ==
	    LW_OK && !yes, "%s: an unknown domain", bn);
	ok(learn_mature(l, "example", NOW, &yes) == LW_OK && !yes,
	    "%s: four messages are not mature (min 5)", bn);
	ok(learn_mature(l, "example", NOW + 15 * DAY, &yes) == LW_OK && yes,
	    "%s: fifteen days are", bn);

	/* An inbound reply: its Cc's domain joins the thread. */
	m = learn_t_msg("From: Sato Hanako <hanako@partner.example>\r\n"
	    "To: yamada@ours.example\r\nCc: newguy@fourth.example\r\n"
	    "In-Reply-To: <m1@ours.example>\r\nSubject: Re: x\r\n\r\nb\r\n");
	is_int(LW_OK, learn_inbound_reply(l, "example", m, NOW + 200),
	    "%s: learn a reply", bn);
	mime_free(m);
	ok(thread_of(l, "m1@ours.example", "x", NULL, NOW + 300, &t) ==
	    LEARN_BY_REF && has_item(&t, "fourth.example") && t.in == 1,
	    "%s: the reply's Cc takes part now", bn);
	learn_record_free(&t);
	m = learn_t_msg("From: a@b.example\r\nIn-Reply-To: <zz@b.example>\r\n"
	    "Subject: x\r\n\r\nb\r\n");
	is_int(LW_ENOTFOUND, learn_inbound_reply(l, "example", m, NOW),
	    "%s: a reply to no thread of ours teaches nothing", bn);
	mime_free(m);

	e = learn_stats(l, "example", NOW + 300, &s);
	ok(e == LW_OK &&
	    s.messages == 4 && s.replies == 1 && s.n[LEARN_ACCOUNT] == 1 &&
	    s.n[LEARN_CORRESPONDENT] == 3 && s.n[LEARN_THREAD] == 4,
	    "%s: stats (%llu messages, %zu correspondents, %zu threads)", bn,
	    (unsigned long long)s.messages, s.n[LEARN_CORRESPONDENT],
	    s.n[LEARN_THREAD]);
	ok(learn_orgs(l, NOW + 300, &orgs, &norgs) == LW_OK && norgs == 1 &&
	    strcmp(orgs[0], "example") == 0, "%s: the organisation is listed",
	    bn);
	free(orgs);
	/* A store from before the list: its organisations are walked. */
	if (state_del(st, "learn:orgs") != LW_OK)
		bail("state_del");
	ok(learn_orgs(l, NOW + 300, &orgs, &norgs) == LW_OK && norgs == 1 &&
	    strcmp(orgs[0], "example") == 0, "%s: listed without the list "
	    "too", bn);
	free(orgs);
	memset(each_n, 0, sizeof(each_n));
	ok(learn_each(l, NULL, LEARN_KINDS, NOW + 300, count_each, NULL) ==
	    LW_OK && each_n[LEARN_CORRESPONDENT] == 3 &&
	    each_n[LEARN_DOMAIN] == s.n[LEARN_DOMAIN],
	    "%s: each walks the same records", bn);

	/* Expiry. */
	is_int(LEARN_NO_THREAD, thread_of(l, "m1@ours.example", "x", NULL,
	    NOW + 400 + 180 * DAY, &t), "%s: a thread expires after 180 "
	    "days", bn);
	ok(learn_get(l, "example", LEARN_CORRESPONDENT,
	    "hanako@partner.example", NOW + 400 + 180 * DAY, &r) == LW_OK,
	    "%s: a correspondent does not", bn);
	learn_record_free(&r);

	/* Forget. */
	e = learn_forget(l, "example", "Hanako@partner.example", NOW,
	    &removed);
	ok(e == LW_OK && removed >= 2, "%s: forget an address (%zu "
	    "records)", bn, removed);
	is_str("hanako@partner-group.example", who(l, "Hanako Sato", NOW),
	    "%s: its names are gone, the other address's stay", bn);
	ok(learn_forget(l, NULL, "partner-group.example", NOW, &removed) ==
	    LW_OK && learn_get(l, "example", LEARN_DOMAIN,
	    "partner-group.example", NOW, &r) == LW_ENOTFOUND,
	    "%s: forget a domain", bn);
	is_str("", who(l, "Hanako Sato", NOW), "%s: nobody of that name "
	    "left", bn);
	ok(thread_of(l, "m2@ours.example", "x", NULL, NOW, &t) ==
	    LEARN_BY_REF && !has_item(&t, "partner-group.example") &&
	    has_item(&t, "ours.example"), "%s: and no thread names it", bn);
	learn_record_free(&t);

	learn_close(l);
	state_close(st);

	/* A read-only look (LMDB: after the writer closed). */
	if (b == STATE_LMDB) {
		ro = open_state(b, dir, true);
		if (learn_open(ro, &c, &rl) != LW_OK)
			bail("learn_open ro");
		is_int(LW_EINVAL, send_mail(rl, "a@ours.example",
		    "b@x.example", NULL, "m9@ours.example", NULL, "s", NOW),
		    "%s: read-only: no learning", bn);
		is_str("yamada@ours.example", who(rl, "山田 太郎", NOW),
		    "%s: read-only: lookups work", bn);
		learn_close(rl);
		state_close(ro);
	}

}

/* learn_decided: what the disposition stage lets the learner see. */
static void
decided(const char *dir)
{
	struct state		*st = open_state(STATE_LMDB, dir, false);
	struct learn_config	 c;
	struct verdict		 v;
	struct message		*out, *in;
	const char		*r;

	learn_config_init(&c);
	memset(&v, 0, sizeof(v));
	out = learn_t_msg("From: a@ours.example\r\nTo: B <b@x.example>\r\n"
	    "Message-ID: <d1@ours.example>\r\nSubject: s\r\n\r\nb\r\n");
	in = learn_t_msg("From: B <b@x.example>\r\nTo: a@ours.example\r\n"
	    "Cc: c@y.example\r\nIn-Reply-To: <d1@ours.example>\r\n"
	    "Subject: Re: s\r\n\r\nb\r\n");
	v.action = ACT_QUARANTINE;
	ok(learn_decided(st, &c, true, true, &v, out, NULL, NOW) == NULL,
	    "decided: a quarantined verdict teaches nothing (observe mode)");
	v.action = ACT_TAG;
	ok(learn_decided(st, &c, true, false, &v, out, NULL, NOW) == NULL,
	    "decided: mail not delivered teaches nothing");
	c.enable = false;
	ok(learn_decided(st, &c, true, true, &v, out, NULL, NOW) == NULL,
	    "decided: learn.enable false");
	c.enable = true;
	r = learn_decided(st, &c, true, true, &v, out, NULL, NOW);
	is_str("learned=outbound", r, "decided: tagged outbound mail");
	ok(learn_decided(st, &c, false, true, &v, in, NULL, NOW) == NULL,
	    "decided: inbound without HDR_KNOWN_THREAD teaches nothing");
	if (findings_add(&v.findings, "HDR_KNOWN_THREAD", "", "x") != LW_OK)
		bail("findings_add");
	r = learn_decided(st, &c, false, true, &v, in, NULL, NOW + 1);
	is_str("learned=reply", r, "decided: a known thread's reply");
	findings_free(&v.findings);
	mime_free(out);
	mime_free(in);
	state_close(st);
}

static void
caps(const char *dir)
{
	struct state		*st = open_state(STATE_LMDB, dir, false);
	struct learn_config	 c;
	struct learn		*l;
	struct learn_stats	 s;
	struct learn_record	 r;
	char			 to[128], mid[64];
	int			 i;
	enum lw_err		 e;

	learn_config_init(&c);
	c.max_correspondents = 10;
	c.max_threads = 20;
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	for (i = 0; i < 30; i++) {
		snprintf(to, sizeof(to), "Person Number%d <p%d@d%d.example>",
		    i, i, i);
		snprintf(mid, sizeof(mid), "c%d@ours.example", i);
		if (send_mail(l, "boss@ours.example", to, NULL, mid, NULL,
		    "cap", NOW + i * DAY) != LW_OK)
			bail("send %d", i);
	}
	e = learn_stats(l, "example", NOW + 30 * DAY, &s);
	ok(e == LW_OK && s.n[LEARN_CORRESPONDENT] == 10 &&
	    s.n[LEARN_DOMAIN] == 10 && s.n[LEARN_THREAD] == 20,
	    "caps: %zu correspondents, %zu domains, %zu threads",
	    s.n[LEARN_CORRESPONDENT], s.n[LEARN_DOMAIN], s.n[LEARN_THREAD]);
	memset(each_n, 0, sizeof(each_n));
	ok(learn_each(l, "example", LEARN_KINDS, NOW + 30 * DAY, count_each,
	    NULL) == LW_OK && each_n[LEARN_CORRESPONDENT] == 10 &&
	    each_n[LEARN_DOMAIN] == 10 && each_n[LEARN_THREAD] == 20,
	    "caps: the counts are the records there are");
	ok(learn_get(l, "example", LEARN_CORRESPONDENT, "p20@d20.example",
	    NOW + 30 * DAY, &r) == LW_OK, "caps: the 10th newest stays");
	learn_record_free(&r);
	is_int(LW_ENOTFOUND, learn_get(l, "example", LEARN_CORRESPONDENT,
	    "p19@d19.example", NOW + 30 * DAY, &r), "caps: the 11th went");
	ok(learn_get(l, "example", LEARN_CORRESPONDENT, "p29@d29.example",
	    NOW + 30 * DAY, &r) == LW_OK, "caps: the newest stays");
	learn_record_free(&r);
	is_int(LW_ENOTFOUND, learn_get(l, "example", LEARN_CORRESPONDENT,
	    "p0@d0.example", NOW + 30 * DAY, &r), "caps: the oldest went");
	is_str("", who(l, "Person Number0", NOW + 30 * DAY),
	    "caps: and its name with it");
	is_str("p29@d29.example", who(l, "Person Number29", NOW + 30 * DAY),
	    "caps: the newest's name stays");
	ok(learn_stats(l, "other", NOW, &s) == LW_OK && s.messages == 0 &&
	    s.n[LEARN_CORRESPONDENT] == 0, "caps: another organisation "
	    "learned nothing");
	learn_close(l);

	/* Expired records leave the count at the next write, unwalked. */
	c.correspondent_days = 60;
	c.thread_days = 60;
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	if (send_mail(l, "boss@ours.example", "late@late.example", NULL,
	    "late@ours.example", NULL, "late", NOW + 200 * DAY) != LW_OK)
		bail("send late");
	e = learn_stats(l, "example", NOW + 200 * DAY, &s);
	ok(e == LW_OK && s.n[LEARN_CORRESPONDENT] == 1 &&
	    s.n[LEARN_THREAD] == 1 && s.n[LEARN_ACCOUNT] == 1 &&
	    s.n[LEARN_DOMAIN] == 2,
	    "expiry: the expired left the counts (%zu correspondents, %zu "
	    "domains, %zu threads)", s.n[LEARN_CORRESPONDENT],
	    s.n[LEARN_DOMAIN], s.n[LEARN_THREAD]);
	learn_close(l);
	state_close(st);
}

/*
 * Skeleton records only for names that are not their own skeleton;
 * lookalikes of both kinds are found, as confusable.
 */
static void
skeletons(enum state_backend b, const char *dir)
{
	struct state		*st = open_state(b, dir, false);
	const char		*bn = state_backend_name(b);
	struct learn_config	 c;
	struct learn		*l;

	learn_config_init(&c);
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	if (send_mail(l, "boss@ours.example", "Tom Miller <tom@vendor.example>, "
	    "Olivier Dupont <od@fournisseur.example>", NULL,
	    "sk1@ours.example", NULL, "skeletons", NOW) != LW_OK)
		bail("send");
	is_int(1, (int)keys_under(st, "learn:example:x:", NOW),
	    "%s: skeletons: one record, Tom Miller's (m looks like rn)", bn);
	is_str("tom@vendor.example", who(l, "Miller, Tom", NOW),
	    "%s: skeletons: the exact name stays exact", bn);
	is_str("tom@vendor.example~", who(l, "Tom Mi11er", NOW),
	    "%s: skeletons: ones for l, by the skeleton record", bn);
	is_str("tom@vendor.example~", who(l, "Torn Miller", NOW),
	    "%s: skeletons: rn for m, by the skeleton record", bn);
	is_str("od@fournisseur.example~", who(l, "Olivіer Dupont", NOW),
	    "%s: skeletons: a Cyrillic i, by the name index under the "
	    "skeleton", bn);
	is_str("od@fournisseur.example", who(l, "Dupont Olivier", NOW),
	    "%s: skeletons: the other order, exact", bn);
	is_str("", who(l, "Olivier Dupond", NOW),
	    "%s: skeletons: another name is nobody", bn);
	learn_close(l);
	state_close(st);
}

/* The value of the one key under prefix, copied into buf ("" if none). */
struct one_val {
	char	*buf;
	size_t	 size, n;
};

static enum lw_err
one_val_get(void *arg, const char *key, const struct state_val *v)
{
	struct one_val	*o = arg;
	size_t		 len = v->len < o->size - 1 ? v->len : o->size - 1;

	(void)key;
	memcpy(o->buf, v->data, len);
	o->buf[len] = '\0';
	o->n++;
	return LW_OK;
}

static size_t
value_under(struct state *st, const char *prefix, time_t now, char *buf,
    size_t size)
{
	struct one_val	o = { buf, size, 0 };

	buf[0] = '\0';
	if (state_each(st, prefix, now, one_val_get, &o) != LW_OK)
		bail("state_each %s", prefix);
	return o.n;
}

/* The count learn_names gives the first match of display. */
static unsigned long long
name_count(struct learn *l, const char *display, time_t now)
{
	struct learn_match	*v;
	size_t			 n;
	unsigned long long	 c;

	if (learn_names(l, "example", display, now, &v, &n) != LW_OK)
		bail("learn_names");
	c = n > 0 ? (unsigned long long)v[0].count : 0;
	learn_matches_free(v, n);
	return c;
}

/*
 * A name index record is rewritten only for a new association or
 * once an eighth of its expiry old; the count a match shows is the
 * person's; an association in use never expires.
 */
static void
name_fresh(const char *dir)
{
	struct state		*st = open_state(STATE_LMDB, dir, false);
	const char		*nidx = "learn:example:n:";
	struct learn_config	 c;
	struct learn		*l;
	char			 v0[4096], v1[4096];

	learn_config_init(&c);
	c.correspondent_days = 80;		/* refresh after 10 days */
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	if (send_mail(l, "boss@ours.example", "Sato Hanako "
	    "<hanako@partner.example>", NULL, "nf1@ours.example", NULL, "nf",
	    NOW) != LW_OK)
		bail("send 1");
	is_int(1, (int)value_under(st, nidx, NOW, v0, sizeof(v0)),
	    "fresh: one name record");
	if (send_mail(l, "boss@ours.example", "Sato Hanako "
	    "<hanako@partner.example>", NULL, "nf2@ours.example", NULL, "nf",
	    NOW + 5 * DAY) != LW_OK)
		bail("send 2");
	(void)value_under(st, nidx, NOW + 5 * DAY, v1, sizeof(v1));
	is_str(v0, v1, "fresh: five days later the name record is not "
	    "rewritten");
	is_int(2, (int)name_count(l, "Sato Hanako", NOW + 5 * DAY),
	    "fresh: the match counts the person's two messages");
	if (send_mail(l, "boss@ours.example", "Sato Hanako "
	    "<hanako@partner.example>", NULL, "nf3@ours.example", NULL, "nf",
	    NOW + 15 * DAY) != LW_OK)
		bail("send 3");
	(void)value_under(st, nidx, NOW + 15 * DAY, v1, sizeof(v1));
	ok(strcmp(v0, v1) != 0, "fresh: fifteen days later (past an eighth "
	    "of 80) it is");
	is_str("hanako@partner.example", who(l, "Sato Hanako", NOW + 90 * DAY),
	    "fresh: in use, the name outlives its first expiry (day 80)");
	if (send_mail(l, "boss@ours.example", "Hanako <hanako@partner.example>",
	    NULL, "nf4@ours.example", NULL, "nf", NOW + 16 * DAY) != LW_OK)
		bail("send 4");
	is_str("hanako@partner.example", who(l, "Hanako", NOW + 16 * DAY),
	    "fresh: a new name for her is written at once");
	/* Hanako stays (her record is seen on day 100): the name goes. */
	if (send_mail(l, "boss@ours.example", "Hanako <hanako@partner.example>",
	    NULL, "nf5@ours.example", NULL, "nf", NOW + 100 * DAY) != LW_OK)
		bail("send 5");
	is_str("hanako@partner.example", who(l, "Sato Hanako", NOW + 104 * DAY),
	    "fresh: unused, the name lasts an eighth past its expiry (day 105)");
	is_str("", who(l, "Sato Hanako", NOW + 106 * DAY),
	    "fresh: then it goes, though its person stays");
	is_str("hanako@partner.example", who(l, "Hanako", NOW + 106 * DAY),
	    "fresh: her other name, seen since, stays");
	learn_close(l);
	state_close(st);
}

/*
 * The age index moves lazily: a record seen again keeps its entry on
 * the day it was created, eviction moves the entry to the record's
 * last day instead of evicting it, and each live record keeps exactly
 * one entry (so counts, caps and forget stay right).
 */
static void
age_lazy(enum state_backend b, const char *dir)
{
	struct state		*st = open_state(b, dir, false);
	const char		*bn = state_backend_name(b);
	const char		*idx = "learn:example:z:c:";
	struct learn_config	 c;
	struct learn		*l;
	struct learn_stats	 s;
	struct learn_record	 r;
	char			 to[128], mid[64], addr[64], day0[64];
	int			 i, kept = 0;
	size_t			 removed;

	learn_config_init(&c);
	c.max_correspondents = 10;
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	for (i = 0; i < 10; i++) {
		snprintf(to, sizeof(to), "Lazy Person%d <p%d@lazy%d.example>",
		    i, i, i);
		snprintf(mid, sizeof(mid), "lz%d@ours.example", i);
		if (send_mail(l, "boss@ours.example", to, NULL, mid, NULL,
		    "lazy", NOW + i * DAY) != LW_OK)
			bail("send %d", i);
	}
	/* p0 again on day 15: its entry stays on day 0. */
	if (send_mail(l, "boss@ours.example", "p0@lazy0.example", NULL,
	    "lz-again@ours.example", NULL, "lazy", NOW + 15 * DAY) != LW_OK)
		bail("send again");
	is_int(10, (int)keys_under(st, idx, NOW + 15 * DAY),
	    "%s: lazy: ten correspondents, ten entries", bn);
	snprintf(day0, sizeof(day0), "%s%06lld:", idx, (long long)(NOW / DAY));
	is_int(1, (int)keys_under(st, day0, NOW + 15 * DAY),
	    "%s: lazy: p0's entry is still on day 0 (a touch moves none)",
	    bn);
	/* Three new ones on day 20: three over the cap. */
	for (i = 0; i < 3; i++) {
		snprintf(to, sizeof(to), "q%d@lazy-new.example", i);
		snprintf(mid, sizeof(mid), "lzq%d@ours.example", i);
		if (send_mail(l, "boss@ours.example", to, NULL, mid, NULL,
		    "lazy", NOW + 20 * DAY) != LW_OK)
			bail("send new %d", i);
	}
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "p%d@lazy%d.example", i, i);
		if (learn_get(l, "example", LEARN_CORRESPONDENT, addr,
		    NOW + 20 * DAY, &r) == LW_OK) {
			learn_record_free(&r);
			kept |= 1 << i;
		}
	}
	is_int(0x3f1, kept, "%s: lazy: p0, seen on day 15, stays; p1-p3, "
	    "the least recently seen, went (kept %#x)", bn, kept);
	if (learn_stats(l, "example", NOW + 20 * DAY, &s) != LW_OK)
		bail("learn_stats");
	is_int(10, (int)s.n[LEARN_CORRESPONDENT], "%s: lazy: 10 "
	    "correspondents counted", bn);
	is_int(10, (int)keys_under(st, idx, NOW + 20 * DAY),
	    "%s: lazy: one entry a correspondent after the round", bn);
	/* Forget finds p0's entry wherever it is, and one that never moved. */
	/* The second as `lurewall learn forget` does: in every policy. */
	ok(learn_forget(l, "example", "p0@lazy0.example", NOW + 21 * DAY,
	    &removed) == LW_OK && learn_forget(l, NULL,
	    "p9@lazy9.example", NOW + 21 * DAY, &removed) == LW_OK,
	    "%s: lazy: forget two", bn);
	if (learn_stats(l, "example", NOW + 21 * DAY, &s) != LW_OK)
		bail("learn_stats");
	is_int(8, (int)s.n[LEARN_CORRESPONDENT], "%s: lazy: forget took "
	    "both off the count", bn);
	is_int(8, (int)keys_under(st, idx, NOW + 21 * DAY), "%s: lazy: and "
	    "their entries out of the index", bn);
	/*
	 * Expired records leave the count once, their entries with them:
	 * on LMDB, whose walk of the index is oldest first (the files
	 * backend hands its entries in no order, a sample).
	 */
	learn_close(l);
	if (b != STATE_LMDB) {
		state_close(st);
		return;
	}
	c.correspondent_days = 60;
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	if (send_mail(l, "boss@ours.example", "late@lazy-late.example", NULL,
	    "lz-late@ours.example", NULL, "lazy", NOW + 200 * DAY) != LW_OK)
		bail("send late");
	if (learn_stats(l, "example", NOW + 200 * DAY, &s) != LW_OK)
		bail("learn_stats");
	is_int(1, (int)s.n[LEARN_CORRESPONDENT], "%s: lazy: after expiry "
	    "one correspondent counted", bn);
	is_int(1, (int)keys_under(st, idx, NOW + 200 * DAY), "%s: lazy: "
	    "and one entry", bn);
	/* It expires (day 260) and comes back: its old entry is a life's. */
	if (send_mail(l, "boss@ours.example", "late@lazy-late.example", NULL,
	    "lz-late2@ours.example", NULL, "lazy", NOW + 270 * DAY) != LW_OK)
		bail("send late again");
	if (learn_stats(l, "example", NOW + 270 * DAY, &s) != LW_OK)
		bail("learn_stats");
	is_int(1, (int)s.n[LEARN_CORRESPONDENT], "%s: lazy: back after "
	    "expiry, counted once", bn);
	is_int(1, (int)keys_under(st, idx, NOW + 270 * DAY), "%s: lazy: "
	    "with one entry", bn);
	learn_close(l);
	state_close(st);
}


/* The correspondent's outbound count, 0 when not (yet) learned. */
static uint64_t
org_sent_to(struct learn *l, const char *org, const char *addr, time_t now)
{
	struct learn_record	r;
	uint64_t		n;

	if (learn_get(l, org, LEARN_CORRESPONDENT, addr, now, &r) !=
	    LW_OK)
		return 0;
	n = r.out;
	learn_record_free(&r);
	return n;
}

static uint64_t
sent_to(struct learn *l, const char *addr, time_t now)
{
	return org_sent_to(l, "example", addr, now);
}

/* A batch: invisible until flushed, then all of it, counts added up. */
static void
batched(enum state_backend b, const char *dir)
{
	const char		*bn = state_backend_name(b);
	struct state		*st = open_state(b, dir, false);
	struct learn_config	 c;
	struct learn		*l, *bare;
	struct learn_stats	 s, s0;
	char			 mid[64];
	int			 i;

	learn_config_init(&c);
	if (learn_open(st, &c, &l) != LW_OK ||
	    learn_batch_start(l, 100, 3600 * 1000, false) != LW_OK ||
	    learn_stats(l, "example", NOW, &s0) != LW_OK)
		bail("learn_open");
	for (i = 0; i < 5; i++) {
		snprintf(mid, sizeof(mid), "b%d@ours.example", i);
		if (send_mail(l, "Boss <boss@ours.example>", "Kim <kim@x.example>",
		    i % 2 ? "Lee <lee@y.example>" : NULL, mid, NULL, "batch",
		    NOW + i) != LW_OK)
			bail("send %d", i);
	}
	is_int(5, (int)learn_pending(l), "%s batch: 5 messages queued", bn);
	if (learn_open(st, &c, &bare) != LW_OK)
		bail("learn_open");
	is_int(0, (int)sent_to(bare, "kim@x.example", NOW + 10),
	    "%s batch: nothing written before the flush", bn);
	learn_close(bare);
	is_int(5, (int)sent_to(l, "kim@x.example", NOW + 10),
	    "%s batch: the batch's own lookups see it queued", bn);
	is_int(LW_OK, learn_flush(l, NOW + 10), "%s batch: flushed", bn);
	is_int(0, (int)learn_pending(l), "%s batch: nothing queued", bn);
	is_int(5, (int)sent_to(l, "kim@x.example", NOW + 10),
	    "%s batch: the next scan sees all 5 messages to kim", bn);
	is_int(2, (int)sent_to(l, "lee@y.example", NOW + 10),
	    "%s batch: and the 2 to lee", bn);
	ok(learn_stats(l, "example", NOW + 10, &s) == LW_OK &&
	    s.messages == s0.messages + 5 && s.last >= NOW + 4,
	    "%s batch: 5 more messages, the last one's time kept", bn);
	is_str("kim@x.example", who(l, "Kim", NOW + 10),
	    "%s batch: the name learned", bn);
	learn_close(l);
	state_close(st);
}

/* Full, the batch flushes itself; a writer flushes by time; close. */
static void
batch_flushes(const char *dir)
{
	struct state		*st = open_state(STATE_LMDB, dir, false);
	struct learn_config	 c;
	struct learn		*l;
	time_t			 deadline;
	int			 i;

	learn_config_init(&c);
	if (learn_open(st, &c, &l) != LW_OK ||
	    learn_batch_start(l, 3, 3600 * 1000, false) != LW_OK)
		bail("learn_open");
	for (i = 0; i < 3; i++)
		if (send_mail(l, "boss@ours.example", "full@x.example", NULL,
		    "f@ours.example", NULL, "full", NOW + i) != LW_OK)
			bail("send");
	ok(learn_pending(l) == 0 && sent_to(l, "full@x.example", NOW) == 3,
	    "batch: the third of 3 messages flushes the batch");
	learn_close(l);

	if (learn_open(st, &c, &l) != LW_OK ||
	    learn_batch_start(l, 1000, 50, true) != LW_OK)
		bail("learn_open");
	if (send_mail(l, "boss@ours.example", "timed@x.example", NULL,
	    "t@ours.example", NULL, "timed", NOW) != LW_OK)
		bail("send");
	/* Polled, with a generous deadline: the machine may be loaded. */
	deadline = time(NULL) + 60;
	while (sent_to(l, "timed@x.example", NOW) == 0 &&
	    time(NULL) < deadline)
		usleep(20 * 1000);
	is_int(1, (int)sent_to(l, "timed@x.example", NOW),
	    "batch: the writer flushes a lone message after its interval");
	if (send_mail(l, "boss@ours.example", "closed@x.example", NULL,
	    "c@ours.example", NULL, "closed", NOW) != LW_OK)
		bail("send");
	learn_close(l);
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	is_int(1, (int)sent_to(l, "closed@x.example", NOW),
	    "batch: learn_close flushes what the writer held");
	learn_close(l);
	state_close(st);
}

/*
 * A crash (the process ends without closing): the flushed batch
 * stays, the unflushed one is lost, the store stays good.
 */
static void
batch_crash(const char *dir)
{
	struct state		*st;
	struct learn_config	 c;
	struct learn		*l;
	struct learn_stats	 s;
	pid_t			 pid;
	int			 status;

	learn_config_init(&c);
	fflush(stdout);
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		st = open_state(STATE_LMDB, dir, false);
		if (learn_open(st, &c, &l) != LW_OK ||
		    learn_batch_start(l, 100, 3600 * 1000, true) != LW_OK ||
		    send_mail(l, "boss@ours.example", "kept@x.example", NULL,
		    "k@ours.example", NULL, "kept", NOW) != LW_OK ||
		    learn_flush(l, NOW) != LW_OK ||
		    send_mail(l, "boss@ours.example", "lost@x.example", NULL,
		    "l@ours.example", NULL, "lost", NOW + 1) != LW_OK)
			_exit(1);
		_exit(learn_pending(l) == 1 ? 0 : 2);	/* no close: a crash */
	}
	if (waitpid(pid, &status, 0) != pid)
		bail("waitpid");
	is_int(0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	    "crash: both messages were taken, one flushed, then the crash");
	st = open_state(STATE_LMDB, dir, false);
	if (learn_open(st, &c, &l) != LW_OK)
		bail("learn_open");
	is_int(1, (int)sent_to(l, "kept@x.example", NOW + 5),
	    "crash: the flushed batch stays");
	is_int(0, (int)sent_to(l, "lost@x.example", NOW + 5),
	    "crash: the unflushed batch is lost, and only it");
	ok(learn_stats(l, "example", NOW + 5, &s) == LW_OK && s.messages == 1,
	    "crash: the store is whole (1 message counted)");
	is_int(LW_OK, send_mail(l, "boss@ours.example", "after@x.example",
	    NULL, "a@ours.example", NULL, "after", NOW + 6),
	    "crash: and learns on");
	learn_close(l);
	state_close(st);
}

/* The daemon's learner: learn_decided queues, shutdown flushes. */
static void
batch_shared(const char *dir)
{
	struct state		*st = open_state(STATE_LMDB, dir, false);
	struct learn_config	 c;
	struct learn		*l;
	struct verdict		 v;
	struct message		*out;

	learn_config_init(&c);
	memset(&v, 0, sizeof(v));
	v.action = ACT_ACCEPT;
	out = learn_t_msg("From: a@ours.example\r\nTo: S <s@x.example>\r\n"
	    "Message-ID: <sh@ours.example>\r\nSubject: s\r\n\r\nb\r\n");
	if (learn_shared_open(st, &c) != LW_OK || learn_open(st, &c, &l) !=
	    LW_OK)
		bail("learn_shared_open");
	is_str("learned=outbound", learn_decided(st, &c, true, true, &v, out,
	    NULL, NOW), "shared: an accepted outbound message is taken");
	learn_shared_close();
	is_int(1, (int)org_sent_to(l, "default", "s@x.example", NOW),
	    "shared: the daemon's shutdown flushed it");
	learn_close(l);
	mime_free(out);
	state_close(st);
}

static const struct {
	const char	*subject, *norm, *what;
} subjects[] = {
	{ "RE: AW:  [EXT]  Hello \t  World ", "hello world",
	    "prefixes, tags, case, space" },
	{ "【外部】Ｒｅ：見積書の件", "見積書の件", "a full-width prefix after a tag" },
	{ "Reminder: x", "reminder: x", "no prefix" },
};

static void
caps_batch(const char *dir)
{
	struct state	*st = open_state(STATE_LMDB, dir, false);

	learn_t_caps_batch(st, "lmdb");
	state_close(st);
}

int
main(void)
{
	char	*norm;
	size_t	 i;
	pid_t	 rpid;

	for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		norm = learn_subject_norm(subjects[i].subject);
		is_str(subjects[i].norm, norm, "subject: %s",
		    subjects[i].what);
		free(norm);
	}
	basics(STATE_LMDB, tap_tmpdir("5300-lmdb"));
	basics(STATE_FILES, tap_tmpdir("5300-files"));
	/* Redis: key by key, with the server's own expiry. */
	redis_port = free_port();
	rpid = redis_start(tap_tmpdir("5300-redis"), redis_port, PASSWORD);
	basics(STATE_REDIS, tap_tmpdir("5300-redis-local"));
	batched(STATE_REDIS, tap_tmpdir("5300-redis-batch"));
	redis_stop(rpid);
	batched(STATE_LMDB, tap_tmpdir("5300-lmdb-batch"));
	batched(STATE_FILES, tap_tmpdir("5300-files-batch"));
	batch_flushes(tap_tmpdir("5300-flushes"));
	batch_crash(tap_tmpdir("5300-crash"));
	batch_shared(tap_tmpdir("5300-shared"));
	caps(tap_tmpdir("5300-caps"));
	caps_batch(tap_tmpdir("5300-capsb"));
	skeletons(STATE_LMDB, tap_tmpdir("5300-skel-lmdb"));
	skeletons(STATE_FILES, tap_tmpdir("5300-skel-files"));
	name_fresh(tap_tmpdir("5300-fresh"));
	age_lazy(STATE_LMDB, tap_tmpdir("5300-lazy-lmdb"));
	age_lazy(STATE_FILES, tap_tmpdir("5300-lazy-files"));
	decided(tap_tmpdir("5300-decided"));
	return done_testing();
}
