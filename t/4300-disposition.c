/*
 * 4300-disposition: disposition_decide, the one place that decides,
 * without libmilter.  Every final action: accept, tag (headers, subject
 * prefix), quarantine then discard / reject / hold (the item stored),
 * the MTA hold without a store, reject (the policy's own DSN), tempfail
 * (a store that fails), on_error, split PPAP pending (discard, hold),
 * a password mail that opens a held item (read-only: says so and
 * changes nothing; writable: releases it), a verified release (with the
 * stored X-Lurewall-Result) and a forged one, outbound lures and the
 * breaker (tripped now, held, action tempfail with 451 4.7.1).  The
 * reply table and the Subject encoding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "disposition.h"
#include "envelope.h"
#include "lurewall.h"
#include "policy.h"
#include "quarantine.h"
#include "runtime.h"
#include "state.h"
#include "tap.h"

static const char	*dir;
static struct config	*cfg;
static struct policyset	*ps;

static void
write_text(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		bail("%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static char *
msg(const char *subject, const char *mid)
{
	char	*m;

	if (lw_asprintf(&m, "From: Alice <alice@example.com>\r\n"
	    "To: bob@example.co.jp\r\nSubject: %s\r\n"
	    "Date: Thu, 03 Mar 2022 12:00:00 +0900\r\n"
	    "Message-ID: <%s@example.com>\r\n\r\nHello.\r\n", subject,
	    mid) != LW_OK)
		bail("out of memory");
	return m;
}

struct one {
	struct envelope		 env;
	struct disp_input	 in;
	unsigned char		*raw;
	char			 subject[200];
	char			 mid[200];
	char			 date[64];
};

static void
one_init(struct one *o, const char *from, const char *rcpt,
    const char *auth)
{
	memset(o, 0, sizeof(*o));
	o->env.qid = strdup("Q1");
	o->env.mail_from = strdup(from);
	if (auth != NULL)
		o->env.auth_authen = strdup(auth);
	if (o->env.qid == NULL || o->env.mail_from == NULL ||
	    envelope_add_rcpt(&o->env, rcpt) != LW_OK)
		bail("out of memory");
	o->in.env = &o->env;
}

/* Decide for an inline message with this subject. */
static void
decide_text(const struct runtime *rt, const char *subject, const char *rcpt,
    const char *auth, const char *from, struct disposition *d)
{
	struct one	o;
	char		*m = msg(subject, subject);

	one_init(&o, from, rcpt, auth);
	snprintf(o.subject, sizeof(o.subject), " %s", subject);
	o.in.raw = (const unsigned char *)m;
	o.in.len = strlen(m);
	o.in.subject = o.subject;
	if (disposition_decide(rt, &o.in, d) != LW_OK)
		bail("disposition_decide failed");
	envelope_free(&o.env);
	free(m);
}

static void
decide_file(const struct runtime *rt, const char *file, const char *from,
    const char *rcpt, const char *auth, struct disposition *d)
{
	struct one	 o;
	char		 path[1200];
	unsigned char	*raw;
	size_t		 len;

	snprintf(path, sizeof(path), "%s/messages/%s", tap_corpus(), file);
	raw = tap_slurp(path, &len);
	one_init(&o, from, rcpt, auth);
	o.in.raw = raw;
	o.in.len = len;
	if (disposition_decide(rt, &o.in, d) != LW_OK)
		bail("disposition_decide failed");
	envelope_free(&o.env);
	free(raw);
}

static const char *
state_of(struct quarantine *q, const char *id)
{
	static char		 buf[32];
	struct quarantine_item	*it;

	if (quarantine_read(q, id, &it) != LW_OK)
		return "unreadable";
	snprintf(buf, sizeof(buf), "%s", it->released ? "released" :
	    it->state != NULL ? it->state : "held");
	quarantine_item_free(it);
	return buf;
}

static struct runtime *
runtime(struct quarantine *q, unsigned flags)
{
	struct runtime	*rt;

	/* The runtime owns what it holds: give it references of its own. */
	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		bail("out of memory");
	rt->cfg = cfg;
	rt->lim = &cfg->limits;
	rt->ps = ps;
	rt->q = q;
	rt->outbreak_dir = cfg->outbreak_dir;
	rt->flags = flags;
	return rt;
}

static void
test_reply_table(void)
{
	struct disp_reply_text	r;
	enum disp_action	a;
	enum lw_err		e;
	char			*s;

	disposition_reply(DREPLY_TEMPFAIL, &r);
	is_str("451", r.code, "tempfail: 451");
	is_str("4.3.0", r.dsn, "tempfail: 4.3.0");
	is_str("lurewall: temporary failure, please try again later",
	    r.text, "tempfail: its text");
	disposition_reply(DREPLY_SENDER_HELD, &r);
	is_str("451", r.code, "sender held: 451");
	is_str("4.7.1", r.dsn, "sender held: 4.7.1");
	ok(strstr(r.text, "held") != NULL, "sender held: says held");
	disposition_reply(DREPLY_REJECT, &r);
	is_str("550", r.code, "reject: 550");
	is_str("5.7.1", r.dsn, "reject: 5.7.1");
	disposition_reply(DREPLY_NONE, &r);
	ok(r.code == NULL, "no reply: no code");
	for (a = DISP_ACCEPT; a <= DISP_TEMPFAIL; a++)
		ok(strcmp(disposition_action_name(a), "?") != 0,
		    "action %d has a name (%s)", (int)a,
		    disposition_action_name(a));
	s = disposition_subject("[要注意]", " hello", &e);
	is_str("=?UTF-8?B?W+imgeazqOaEj10=?= hello", s,
	    "non-ASCII prefix as an encoded word");
	free(s);
	s = disposition_subject("[X]", " [X] hello", &e);
	ok(s == NULL && e == LW_OK, "a subject that has the prefix keeps it");
	s = disposition_subject("[X]", NULL, &e);
	is_str("[X]", s, "no subject: the prefix alone");
	free(s);
}

int
main(void)
{
	struct quarantine	*q, *qro;
	struct state		*st;
	struct runtime		*rt, *ro, *noq;
	struct disposition	 d;
	char			 path[1200], conf[4000], err[512];
	char			 pending_id[QUARANTINE_ID_MAX], *hdr;
	struct one		 o;
	unsigned char		*raw;
	size_t			 len;

	dir = tap_tmpdir("4300-disposition");
	snprintf(path, sizeof(path), "%s/policy.d", dir);
	if (mkdir(path, 0700) == -1)
		bail("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/submit", dir);
	write_text(path, "#!/bin/sh\ncat > /dev/null\n");
	chmod(path, 0755);
	snprintf(conf, sizeof(conf), "quarantine_dir: %s/q\n"
	    "policy_dir: %s/policy.d\nsubmit_command: %s/submit -f %%f -- %%r\n"
	    "on_error: tempfail\n", dir, dir, dir);
	snprintf(path, sizeof(path), "%s/lurewall.yaml", dir);
	write_text(path, conf);
	snprintf(path, sizeof(path), "%s/policy.d/default.yaml", dir);
	write_text(path,
	    "thresholds: {tag: 5, quarantine: 10, reject: 50}\n"
	    "tag: {subject_prefix: \"[SUSPICIOUS]\", headers: true}\n"
	    "quarantine: {then: discard}\n"
	    "split_password: {wait: 30m}\n"
	    "outbound: {window: 10m, max_lures: 3, max_new_rcpts: 200, "
	    "action: quarantine}\n"
	    "rules:\n"
	    "  - {name: TEST_TAG, where: subject, pattern: tagme, score: 6}\n"
	    "  - {name: TEST_Q, where: subject, pattern: quarme, score: 12}\n"
	    "  - {name: TEST_R, where: subject, pattern: rejme, score: 60}\n");
	snprintf(path, sizeof(path), "%s/policy.d/hold.yaml", dir);
	write_text(path, "domains: [hold.example]\nquarantine: {then: hold}\n");
	snprintf(path, sizeof(path), "%s/policy.d/rej.yaml", dir);
	write_text(path, "domains: [rej.example]\nquarantine: {then: reject}\n"
	    "reject_text: \"5.7.0 Go away\"\n");
	snprintf(path, sizeof(path), "%s/policy.d/one.yaml", dir);
	write_text(path, "domains: [one.example]\noutbound: {max_lures: 1}\n");
	snprintf(path, sizeof(path), "%s/policy.d/slow.yaml", dir);
	write_text(path, "domains: [slow.example]\n"
	    "outbound: {max_lures: 1, action: tempfail}\n");
	snprintf(path, sizeof(path), "%s/lurewall.yaml", dir);
	if (config_load(path, &cfg, err, sizeof(err)) != LW_OK)
		bail("config: %s", err);
	if (policy_load_dir(cfg->policy_dir, &cfg->limits, &ps, err,
	    sizeof(err)) != LW_OK)
		bail("policies: %s", err);
	if (quarantine_open(cfg->quarantine_dir, &q) != LW_OK)
		bail("quarantine: %s", strerror(errno));
	if (quarantine_open_ro(cfg->quarantine_dir, &qro) != LW_OK)
		bail("quarantine read-only: %s", strerror(errno));
	/* Split PPAP keeps its pending items in the state. */
	if (state_open(&cfg->state, false, &st) != LW_OK)
		bail("state %s", cfg->state.path);
	quarantine_set_state(q, st, "mx1", 0);
	quarantine_set_state(qro, st, "mx1", 0);
	rt = runtime(q, 0);
	ro = runtime(qro, RT_READONLY);
	noq = runtime(NULL, 0);

	test_reply_table();

	/* accept */
	decide_text(rt, "lunch", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("accept", disposition_action_name(d.action), "clean: accept");
	is_str("verdict", disposition_why_name(d.why), "by the verdict");
	ok(d.reply.code == NULL && d.nhdrs == 0 && d.subject == NULL,
	    "no reply, headers or subject");
	is_str("accept", d.log_action, "logged as accept");
	disposition_free(&d);

	/* tag */
	decide_text(rt, "tagme", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("tag", disposition_action_name(d.action), "tag");
	is_int(2, (long long)d.nhdrs, "two header fields");
	is_str("X-Lurewall-Result", d.hdrs[0].name, "X-Lurewall-Result");
	is_str("tag score=6", d.hdrs[0].value, "with the score");
	is_str("TEST_TAG", d.hdrs[1].value, "X-Lurewall-Rules: the rules");
	is_str("[SUSPICIOUS] tagme", d.subject, "the subject prefix");
	ok(!d.subject_add, "the Subject is changed, not added");
	disposition_free(&d);

	/* quarantine then discard: stored */
	decide_text(rt, "quarme", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("quarantine-discard", disposition_action_name(d.action),
	    "quarantine then discard");
	ok(d.store.would && d.store.id[0] != '\0', "stored (%s)", d.store.id);
	is_str("held", state_of(q, d.store.id), "the item is in the store");
	ok(d.log_extra != NULL && strstr(d.log_extra, "then=discard "
	    "quarantine_id=") != NULL, "log: then=discard quarantine_id=");
	disposition_free(&d);

	/* quarantine then reject: the policy's own DSN */
	decide_text(rt, "quarme", "bob@rej.example", NULL,
	    "alice@example.com", &d);
	is_str("quarantine-reject", disposition_action_name(d.action),
	    "quarantine then reject");
	is_str("550", d.reply.code, "550");
	is_str("5.7.0", d.reply.dsn, "the reject text's DSN");
	is_str("Go away", d.reply.text, "and its text after the DSN");
	disposition_free(&d);

	/* quarantine then hold */
	decide_text(rt, "quarme", "bob@hold.example", NULL,
	    "alice@example.com", &d);
	is_str("quarantine-hold", disposition_action_name(d.action),
	    "quarantine then hold");
	is_str("lurewall score=12 rules=TEST_Q", d.hold_reason,
	    "the MTA hold reason");
	ok(d.store.id[0] != '\0', "stored too");
	disposition_free(&d);

	/* no store: the MTA's hold queue */
	decide_text(noq, "quarme", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("hold", disposition_action_name(d.action),
	    "no store: the MTA hold");
	ok(d.hold_reason != NULL && d.store.id[0] == '\0', "nothing stored");
	disposition_free(&d);

	/* reject */
	decide_text(rt, "rejme", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("reject", disposition_action_name(d.action), "reject");
	is_str("550", d.reply.code, "550");
	is_str("5.7.1", d.reply.dsn, "5.7.1");
	is_str("Message rejected by lurewall: suspected malware lure",
	    d.reply.text, "the default reject_text, its DSN taken off");
	disposition_free(&d);

	/* read-only: would store, stores nothing */
	decide_text(ro, "quarme", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("quarantine-discard", disposition_action_name(d.action),
	    "read-only: the same action");
	ok(d.store.would && d.store.id[0] == '\0', "would store, did not");
	disposition_free(&d);

	/* on_error */
	disposition_error(rt, "test", &d);
	is_str("tempfail", disposition_action_name(d.action),
	    "on_error tempfail");
	is_str("451", d.reply.code, "451");
	is_str("4.3.0", d.reply.dsn, "4.3.0");
	is_str("error=\"test\"", d.log_extra, "logged with the error");
	disposition_free(&d);
	cfg->on_error = ONERR_ACCEPT;
	disposition_error(rt, "test", &d);
	is_str("accept", disposition_action_name(d.action),
	    "on_error accept");
	ok(d.reply.code == NULL, "no reply");
	disposition_free(&d);
	cfg->on_error = ONERR_TEMPFAIL;

	/* split PPAP: pending, discard and hold */
	decide_file(rt, "benign-02a-ppap-aes-xlsx.eml",
	    "yamada@torihiki.example.ne.jp", "sato@example.co.jp", NULL, &d);
	is_str("pending-discard", disposition_action_name(d.action),
	    "split PPAP: pending, discarded");
	is_str("pending", d.log_action, "logged as pending");
	is_str("tag", d.verdict, "the policy verdict stays tag");
	ok(d.store.expires > 0 && d.store.id[0] != '\0', "stored with expiry");
	snprintf(pending_id, sizeof(pending_id), "%s", d.store.id);
	is_str("pending", state_of(q, pending_id), "the item is pending");
	disposition_free(&d);
	decide_file(rt, "benign-02a-ppap-aes-xlsx.eml",
	    "other@torihiki.example.ne.jp", "sato@hold.example", NULL, &d);
	is_str("pending-discard", disposition_action_name(d.action),
	    "then hold: still one copy, lurewall's (issue 19)");
	ok(d.hold_reason == NULL, "not in the MTA's hold queue too");
	disposition_free(&d);

	/* the password mail: read-only says so, changes nothing */
	decide_file(ro, "benign-02b-ppap-password-mail.eml",
	    "yamada@torihiki.example.ne.jp", "sato@example.co.jp", NULL, &d);
	is_int(1, d.released_items, "read-only: the password would open it");
	is_str("pending", state_of(q, pending_id), "and it stays pending");
	disposition_free(&d);
	decide_file(rt, "benign-02b-ppap-password-mail.eml",
	    "yamada@torihiki.example.ne.jp", "sato@example.co.jp", NULL, &d);
	is_int(1, d.released_items, "the password mail opens it");
	is_str("released", state_of(q, pending_id), "and it is released");
	is_str("accept", disposition_action_name(d.action),
	    "the password mail itself is accepted");
	disposition_free(&d);

	/* a verified release: accepted unscanned, its result again */
	one_init(&o, "a@example.com", "b@example.co.jp", NULL);
	raw = (unsigned char *)msg("quarme", "rel");
	len = strlen((char *)raw);
	snprintf(o.mid, sizeof(o.mid), " <rel@example.com>");
	snprintf(o.date, sizeof(o.date), " Thu, 03 Mar 2022 12:00:00 +0900");
	if (quarantine_release_header(q, pending_id, o.mid, o.date,
	    1700000000, &hdr) != LW_OK)
		bail("release header");
	o.in.raw = raw;
	o.in.len = len;
	o.in.message_id = o.mid;
	o.in.date = o.date;
	o.in.released = &hdr;
	o.in.nreleased = 1;
	if (disposition_decide(rt, &o.in, &d) != LW_OK)
		bail("decide");
	is_str("released", disposition_why_name(d.why), "a verified release");
	is_str("accept", disposition_action_name(d.action), "is accepted");
	is_int(1, (long long)d.keep_released, "its field is kept");
	ok(d.res.verdict == NULL, "not scanned again");
	ok(d.nhdrs == 1 && strcmp(d.hdrs[0].name, "X-Lurewall-Result") == 0 &&
	    strstr(d.hdrs[0].value, "delayed-scan=") != NULL,
	    "the stored X-Lurewall-Result comes back");
	disposition_free(&d);
	hdr[strlen(hdr) - 1] = hdr[strlen(hdr) - 1] == '0' ? '1' : '0';
	if (disposition_decide(rt, &o.in, &d) != LW_OK)
		bail("decide");
	ok(d.why != DWHY_RELEASED && d.keep_released == 0,
	    "a forged release is not recognized");
	is_str("quarantine-discard", disposition_action_name(d.action),
	    "and the message is judged");
	disposition_free(&d);
	free(hdr);
	free(raw);
	envelope_free(&o.env);

	/* outbound: a lure is stored and discarded, never sent */
	decide_file(rt, "lure-01-plain-doc-fake-reply.eml", "alice@example.com",
	    "x@partner.example", "alice", &d);
	ok(d.outbound, "auth_authen: outbound");
	is_str("outbound-lure", disposition_why_name(d.why), "an outbound lure");
	is_str("quarantine-discard", disposition_action_name(d.action),
	    "stored and discarded");
	is_str("flowing", d.breaker, "the breaker still flows");
	is_str("quarantine", d.breaker_action, "the configured action");
	disposition_free(&d);

	/* the breaker: tripped now, then held */
	decide_file(rt, "lure-01-plain-doc-fake-reply.eml", "eve@one.example",
	    "x@partner.example", "eve", &d);
	is_str("tripped", d.breaker, "max_lures 1: this lure trips it");
	is_str("breaker", disposition_why_name(d.why), "the breaker decides");
	ok(d.log_extra != NULL && strstr(d.log_extra,
	    "outbound_action=quarantine") != NULL, "its log line names the action");
	disposition_free(&d);
	decide_text(rt, "lunch", "x@partner.example", "eve", "eve@one.example",
	    &d);
	is_str("held", d.breaker, "the next clean message is held");
	is_str("quarantine-discard", disposition_action_name(d.action),
	    "action hold: stored and discarded");
	is_str("accept", d.verdict, "its verdict stays accept");
	disposition_free(&d);

	/* action tempfail: 451 4.7.1 */
	decide_file(rt, "lure-01-plain-doc-fake-reply.eml", "carl@slow.example",
	    "x@partner.example", "carl", &d);
	is_str("tripped", d.breaker, "slow.example: tripped");
	is_str("quarantine-discard", disposition_action_name(d.action),
	    "a lure is stored even under action tempfail");
	disposition_free(&d);
	decide_text(rt, "lunch", "x@partner.example", "carl",
	    "carl@slow.example", &d);
	is_str("tempfail", disposition_action_name(d.action),
	    "a tripped sender's mail under action tempfail: tempfail");
	is_str("451", d.reply.code, "451");
	is_str("4.7.1", d.reply.dsn, "4.7.1");
	disposition_free(&d);

	/* read-only: a new sender's lure would trip, and stays untripped */
	decide_file(ro, "lure-01-plain-doc-fake-reply.eml", "dan@one.example",
	    "x@partner.example", "dan", &d);
	is_str("tripped", d.breaker, "read-only: would trip");
	disposition_free(&d);
	decide_file(ro, "lure-01-plain-doc-fake-reply.eml", "dan@one.example",
	    "x@partner.example", "dan", &d);
	is_str("tripped", d.breaker, "and again: nothing was counted");
	disposition_free(&d);

	/* a store that fails: tempfail */
	snprintf(path, sizeof(path), "rm -rf '%s/new'", cfg->quarantine_dir);
	if (system(path) != 0)
		bail("cannot remove the store's new/");
	decide_text(rt, "quarme", "bob@example.co.jp", NULL,
	    "alice@example.com", &d);
	is_str("tempfail", disposition_action_name(d.action),
	    "a failed store: tempfail");
	is_str("4.3.0", d.reply.dsn, "451 4.3.0");
	ok(d.log_extra != NULL && strstr(d.log_extra, "then=tempfail") !=
	    NULL, "logged then=tempfail");
	disposition_free(&d);

	free(rt);
	free(ro);
	free(noq);
	quarantine_close(q);
	quarantine_close(qro);
	state_close(st);
	policyset_unref(ps);
	config_free(cfg);
	return done_testing();
}
