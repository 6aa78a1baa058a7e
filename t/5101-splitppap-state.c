/*
 * 5101-splitppap-state: split PPAP's pending items and claims on the
 * state, on every backend (files, lmdb, redis: a real redis-server on
 * a free 127.0.0.1 port, stopped by PID).  Two stores with two host
 * names (mx1, mx2) share one state, as two MX hosts would.  The
 * corpus pair benign-02a (zip) and 02b (its password mail):
 *   - held on mx1, its record is in the state (and on Redis its
 *     message); the password mail through mx2 releases it, once, and
 *     mx1 then removes its copy; without a shared state only mx1 can
 *     open it (and does);
 *   - a lure (the policy of lure.example scores what the zip holds at
 *     quarantine) opened by mx2's password mail stays held on mx1 with
 *     its contents' findings, and the password mail is tagged;
 *   - a lure quarantined outright (reopen.example scores the encrypted
 *     archive at quarantine) is re-opened by its password mail: it
 *     gains its contents' findings and stays quarantined;
 *   - four password mails at once on both hosts release one item once;
 *   - the sweep leaves an item another host claimed, and times out an
 *     unclaimed one once;
 *   - the pending/ markers of a store before the state move into it
 *     on the first (full) sweep, and the item opens as before;
 *   - an item an admin released or deleted by hand is forgotten: no
 *     password mail on any host opens it;
 *   - on Redis, no password mail walks the server with SCAN (the
 *     pending items' index, INFO commandstats).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lurewall.h"
#include "log.h"
#include "policy.h"
#include "quarantine.h"
#include "runtime.h"
#include "scan.h"
#include "splitppap.h"
#include "state.h"
#include "verdict.h"
#include "redis_t.h"
#include "tap.h"
#include "splitppap_t.h"

#define T0	1700000000
#define SND	"yamada@torihiki.example.ne.jp"

static char			 work[1024], submit[1400];
static struct policyset		*ps;
static struct limits		 lim;
static unsigned char		*rawa, *rawb;
static size_t			 lena, lenb;

/* Scan raw and hand it to splitppap_eom on q at time now. */
static enum lw_err
eom(struct quarantine *q, const unsigned char *raw, size_t len,
    const char *rcpt, const char *qid, time_t now,
    struct splitppap_result *out, char **rules)
{
	return sp_eom(q, &lim, ps, submit, raw, len, SND, rcpt, qid, now,
	    out, rules);
}

/* What the daemon does with a quarantined message: store, then watch. */
static void
quarantine_outright(struct quarantine *q, const char *rcpt, time_t now,
    char id[QUARANTINE_ID_MAX])
{
	struct runtime		rt;
	struct scan_result	res;
	struct envelope		env;

	sp_env_init(&env, SND, rcpt, "QOUT");
	if (scan_message(runtime_view(&rt, &lim, ps), rawa, lena, &env,
	    &res) != LW_OK)
		bail("scan failed");
	ok(!splitppap_eligible(&res) && splitppap_reopenable(&res),
	    "reopen.example: quarantined outright (%s), re-openable",
	    verdict_action_name(res.verdict->action));
	if (quarantine_store(q, rawa, lena, &env, &res, id) != LW_OK)
		bail("store");
	splitppap_watch(q, id, rawa, lena, &res, "QOUT", now);
	scan_result_free(&res);
	envelope_free(&env);
}

static void
drain(struct quarantine *q, time_t now)
{
	struct splitppap_env	se;
	struct runtime		rt;

	memset(&se, 0, sizeof(se));
	se.q = q;
	se.rt = runtime_view(&rt, &lim, ps);
	se.submit = submit;
	se.now = now;
	splitppap_drain(&se);
}

static bool
has_key(struct state *st, const char *prefix, const char *host,
    const char *id)
{
	struct state_val	v;
	char			key[256];

	snprintf(key, sizeof(key), "%s%s:%s", prefix, host, id);
	if (state_get(st, key, T0 + 1, &v) != LW_OK)
		return false;
	state_val_free(&v);
	return true;
}

static bool
has_finding(struct quarantine *q, const char *id, const char *rule)
{
	struct quarantine_item	*it;
	bool			 r = false;
	size_t			 i;

	if (quarantine_read(q, id, &it) != LW_OK)
		return false;
	for (i = 0; i < it->nfindings; i++)
		r |= strcmp(it->findings[i].rule, rule) == 0;
	quarantine_item_free(it);
	return r;
}

struct job {
	struct quarantine	*q;
	struct splitppap_result	 out;
	enum lw_err		 e;
};

static void *
password_mail(void *arg)
{
	struct job	*j = arg;

	j->e = eom(j->q, rawb, lenb, "sato@example.co.jp", "PWRACE", T0 + 60,
	    &j->out, NULL);
	return NULL;
}

static struct quarantine *
open_store(const char *b, const char *host, struct state *st)
{
	struct quarantine	*q;
	char			 dir[1200];

	snprintf(dir, sizeof(dir), "%s/%s-%s", work, b, host);
	if (quarantine_open(dir, &q) != LW_OK)
		bail("open %s", dir);
	quarantine_set_state(q, st, host, 10 << 20);
	return q;
}

static void
checks(struct state *st, const char *b)
{
	struct quarantine	*q1, *q2;
	struct quarantine_item	*it;
	struct quarantine_extra	 x;
	struct splitppap_result	 out;
	struct job		 jobs[4];
	pthread_t		 tid[4];
	struct envelope		 env;
	FILE			*devnull;
	char			 id[QUARANTINE_ID_MAX], path[1300], *rules;
	size_t			 n0, i, released, acted;
	bool			 shared = state_shared(st);

	q1 = open_store(b, "mx1", st);
	q2 = open_store(b, "mx2", st);
	devnull = fopen("/dev/null", "w");

	/* 1. A benign pair: the zip on mx1, its password on mx2. */
	n0 = sp_count_outputs(work);
	is_int(LW_OK, eom(q1, rawa, lena, "sato@example.co.jp", "A1", T0,
	    &out, NULL), "%s: 02a on mx1", b);
	ok(out.pending, "%s: held pending", b);
	snprintf(id, sizeof(id), "%s", out.id);
	ok(has_key(st, "pending:", "mx1", id), "%s: its record is in the "
	    "state", b);
	is_int(shared, has_key(st, "pendingmsg:", "mx1", id),
	    "%s: its message too, on a shared state only", b);
	is_int(LW_OK, eom(q2, rawb, lenb, "sato@example.co.jp", "B1",
	    T0 + 60, &out, NULL), "%s: 02b on mx2", b);
	if (shared) {
		is_int(1, out.released, "%s: mx2 opened and released it", b);
		is_int(n0 + 1, sp_count_outputs(work), "%s: submitted once", b);
		ok(!has_key(st, "pending:", "mx1", id) &&
		    !has_key(st, "pendingmsg:", "mx1", id),
		    "%s: nobody looks for it any more", b);
		ok(has_key(st, "claim:", "mx1", id), "%s: claimed", b);
		ok(quarantine_read(q1, id, &it) == LW_OK && it->state != NULL &&
		    strcmp(it->state, "pending") == 0, "%s: mx1 still has "
		    "its copy", b);
		quarantine_item_free(it);
		drain(q1, T0 + 61);
		is_int(LW_ENOTFOUND, quarantine_read(q1, id, &it),
		    "%s: mx1 removed its copy once told", b);
	} else {
		is_int(0, out.released, "%s: mx2 cannot open mx1's item", b);
		is_int(n0, sp_count_outputs(work), "%s: nothing submitted", b);
		is_int(LW_OK, eom(q1, rawb, lenb, "sato@example.co.jp", "B1",
		    T0 + 60, &out, NULL), "%s: 02b on mx1", b);
		is_int(1, out.released, "%s: mx1 released it", b);
		is_int(n0 + 1, sp_count_outputs(work), "%s: submitted once", b);
		ok(quarantine_read(q1, id, &it) == LW_OK && it->released,
		    "%s: recorded released", b);
		quarantine_item_free(it);
	}
	is_int(LW_OK, eom(q1, rawb, lenb, "sato@example.co.jp", "B2",
	    T0 + 70, &out, NULL), "%s: 02b again", b);
	is_int(0, out.released + out.lures, "%s: nothing left to open", b);
	is_int(n0 + 1, sp_count_outputs(work), "%s: never twice", b);

	/* 2. A lure held pending on mx1, opened by a password mail. */
	is_int(LW_OK, eom(q1, rawa, lena, "sato@lure.example", "L1", T0,
	    &out, NULL), "%s: lure zip on mx1", b);
	ok(out.pending, "%s: held pending", b);
	snprintf(id, sizeof(id), "%s", out.id);
	rules = NULL;
	is_int(LW_OK, eom(shared ? q2 : q1, rawb, lenb, "sato@lure.example",
	    "L2", T0 + 60, &out, &rules), "%s: its password mail on %s", b,
	    shared ? "mx2" : "mx1");
	is_int(1, out.lures, "%s: opened: a lure", b);
	ok(rules != NULL && strstr(rules, SPLITPPAP_LURE_RULE) != NULL,
	    "%s: the password mail is tagged: %s", b, rules);
	free(rules);
	if (shared)
		drain(q1, T0 + 61);
	if (quarantine_read(q1, id, &it) != LW_OK)
		bail("%s: read %s", b, id);
	ok(!it->released && it->state != NULL &&
	    strcmp(it->state, "held") == 0 && it->reason != NULL &&
	    strstr(it->reason, "opened") != NULL, "%s: held on mx1: %s", b,
	    it->reason != NULL ? it->reason : "?");
	quarantine_item_free(it);
	ok(has_finding(q1, id, "ARCHIVE_PASSWORD_IN_MESSAGE"),
	    "%s: with its contents' findings", b);
	is_int(n0 + 1, sp_count_outputs(work), "%s: a lure is never sent", b);

	/* 3. Quarantined outright, re-opened by its password mail. */
	quarantine_outright(q1, "sato@reopen.example", T0, id);
	ok(has_key(st, "pending:", "mx1", id), "%s: listed for its password "
	    "mail", b);
	rules = NULL;
	is_int(LW_OK, eom(shared ? q2 : q1, rawb, lenb, "sato@reopen.example",
	    "R2", T0 + 60, &out, &rules), "%s: its password mail", b);
	is_int(1, out.lures, "%s: re-opened", b);
	ok(rules != NULL && strstr(rules, SPLITPPAP_LURE_RULE) != NULL,
	    "%s: the password mail is tagged", b);
	free(rules);
	if (shared)
		drain(q1, T0 + 61);
	ok(has_finding(q1, id, "ARCHIVE_PASSWORD_IN_MESSAGE") &&
	    !has_finding(q1, id, "ARCHIVE_PASSWORD_UNKNOWN"),
	    "%s: the item gained its contents' findings", b);
	if (quarantine_read(q1, id, &it) != LW_OK)
		bail("%s: read %s", b, id);
	ok(!it->released && it->state == NULL &&
	    strcmp(it->action, "quarantine") == 0 && it->reason != NULL &&
	    strstr(it->reason, "re-opened") != NULL,
	    "%s: and stays quarantined: %s", b, it->reason != NULL ?
	    it->reason : "?");
	quarantine_item_free(it);
	ok(!has_key(st, "pending:", "mx1", id), "%s: re-opened once", b);

	/* 4. Four password mails at once, on both hosts: one release. */
	is_int(LW_OK, eom(q1, rawa, lena, "sato@example.co.jp", "A3", T0,
	    &out, NULL), "%s: 02a again", b);
	snprintf(id, sizeof(id), "%s", out.id);
	for (i = 0; i < 4; i++) {
		jobs[i].q = shared && i % 2 ? q2 : q1;
		if (pthread_create(&tid[i], NULL, password_mail, &jobs[i]))
			bail("pthread_create");
	}
	for (released = 0, i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		is_int(LW_OK, jobs[i].e, "%s: thread %zu", b, i);
		released += jobs[i].out.released;
	}
	is_int(1, released, "%s: four at once: released once", b);
	is_int(n0 + 2, sp_count_outputs(work), "%s: four at once: submitted once",
	    b);
	drain(q1, T0 + 61);

	/* 5. Timeouts: claimed elsewhere, left; else once. */
	is_int(LW_OK, eom(q1, rawa, lena, "sato@example.co.jp", "A4", T0,
	    &out, NULL), "%s: 02a again", b);
	snprintf(id, sizeof(id), "%s", out.id);
	snprintf(path, sizeof(path), "claim:mx1:%s", id);
	is_int(LW_OK, state_add(st, path, "mx2", 3, T0 + 86400, T0 + 10),
	    "%s: mx2 claims it", b);
	is_int(LW_OK, splitppap_sweep(q1, submit, T0 + 3600, false, devnull,
	    &acted), "%s: sweep after expiry", b);
	is_int(0, acted, "%s: another host's claim: left alone", b);
	state_del(st, path);
	is_int(LW_OK, splitppap_sweep(q1, submit, T0 + 3600, false, devnull,
	    &acted), "%s: sweep again", b);
	is_int(1, acted, "%s: unclaimed: timed out", b);
	is_int(n0 + 3, sp_count_outputs(work), "%s: released tagged", b);
	is_int(LW_OK, splitppap_sweep(q1, submit, T0 + 7200, true, devnull,
	    &acted), "%s: and again", b);
	is_int(0, acted, "%s: never twice", b);

	/* 6. A store from before the state: pending/ markers move in. */
	memset(&x, 0, sizeof(x));
	x.state = "pending";
	x.expires = T0 + 1800;
	x.on_timeout = "release-tagged";
	x.reason = "waiting for the password of an encrypted archive";
	x.message_id = "<30bd5e5e29e028c0cfc5@torihiki.example.ne.jp>";
	sp_env_init(&env, SND, "sato@example.co.jp", "OLD");
	if (quarantine_store_extra(q1, rawa, lena, &env, NULL, &x, T0,
	    id) != LW_OK)
		bail("store");
	envelope_free(&env);
	snprintf(path, sizeof(path), "%s/%s-mx1/pending", work, b);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s-mx1/pending/%s", work, b, id);
	sp_write_text(path, "");
	ok(!has_key(st, "pending:", "mx1", id), "%s: an old marker", b);
	is_int(LW_OK, splitppap_sweep(q1, submit, T0 + 5, true, devnull,
	    &acted), "%s: the first sweep of a start", b);
	ok(has_key(st, "pending:", "mx1", id), "%s: moved into the state", b);
	snprintf(path, sizeof(path), "%s/%s-mx1/pending", work, b);
	ok(access(path, F_OK) == -1, "%s: pending/ is gone", b);
	is_int(LW_OK, eom(q1, rawb, lenb, "sato@example.co.jp", "B6",
	    T0 + 60, &out, NULL), "%s: its password mail", b);
	is_int(1, out.released, "%s: opens it as before", b);

	/* 7. Released by hand (lurewall quarantine release): forgotten. */
	is_int(LW_OK, eom(q1, rawa, lena, "sato@example.co.jp", "A7", T0,
	    &out, NULL), "%s: 02a again", b);
	snprintf(id, sizeof(id), "%s", out.id);
	n0 = sp_count_outputs(work);
	splitppap_forget(q1, id);
	ok(!has_key(st, "pending:", "mx1", id) &&
	    has_key(st, "claim:", "mx1", id), "%s: forgotten: claimed, "
	    "listed no more", b);
	is_int(LW_OK, eom(q2, rawb, lenb, "sato@example.co.jp", "B7",
	    T0 + 60, &out, NULL), "%s: its password mail on mx2", b);
	is_int(0, out.released + out.lures, "%s: opens nothing", b);
	is_int(n0, sp_count_outputs(work), "%s: submits nothing", b);

	fclose(devnull);
	quarantine_close(q1);
	quarantine_close(q2);
}

int
main(void)
{
	struct state_config	 c;
	struct state		*st;
	char			 path[1300], pdir[1200], err[512];
	pid_t			 rpid;
	int			 port, i;

	plan(0);
	log_init("5101", 0, true);
	snprintf(work, sizeof(work), "%s", tap_tmpdir("5101-splitppap-state"));
	limits_default(&lim);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", work);
	mkdir(pdir, 0700);
	snprintf(path, sizeof(path), "%s/default.yaml", pdir);
	sp_write_text(path, "thresholds: {tag: 5, quarantine: 100, "
	    "reject: 1000}\nsplit_password: {wait: 30m}\n");
	/* What the zip holds is a lure here. */
	snprintf(path, sizeof(path), "%s/lure.yaml", pdir);
	sp_write_text(path, "domains: [lure.example]\nthresholds: {tag: 5, "
	    "quarantine: 100, reject: 1000}\nsplit_password: {wait: 30m}\n"
	    "scores: {ARCHIVE_PASSWORD_IN_MESSAGE: 200}\n");
	/* Other signs are enough here: quarantined outright. */
	snprintf(path, sizeof(path), "%s/reopen.yaml", pdir);
	sp_write_text(path, "domains: [reopen.example]\nthresholds: {tag: 5, "
	    "quarantine: 100, reject: 1000}\nsplit_password: {wait: 30m}\n"
	    "scores: {ARCHIVE_ENCRYPTED: 200}\n");
	if (policy_load_dir(pdir, NULL, &ps, err, sizeof(err)) != LW_OK)
		bail("policies: %s", err);

	sp_submit_setup(work, submit, sizeof(submit));
	sp_load_pair(&rawa, &lena, &rawb, &lenb);

	state_config_init(&c);
	for (i = 0; i < 2; i++) {
		c.backend = i == 0 ? STATE_FILES : STATE_LMDB;
		free(c.path);
		snprintf(path, sizeof(path), "%s/state-%s", work,
		    state_backend_name(c.backend));
		c.path = strdup(path);
		if (state_open(&c, false, &st) != LW_OK)
			bail("%s: open", state_backend_name(c.backend));
		checks(st, state_backend_name(c.backend));
		state_close(st);
	}

	port = free_port();
	rpid = redis_start(work, port, PASSWORD);
	c.backend = STATE_REDIS;
	c.redis.port = (unsigned)port;
	c.redis.username = strdup(REDIS_USER);
	c.redis.password = strdup(PASSWORD);
	c.redis.key_prefix = strdup("lurewall:t5101:");
	if ((st = redis_state_open(&c)) == NULL) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}
	checks(st, "redis");
	/* The pending items' walk of each password mail is the index's. */
	ok(redis_calls(port, "scan") <= 1, "redis: %lld SCAN in all for "
	    "the messages above (the index's one-time build at most)",
	    redis_calls(port, "scan"));
	state_close(st);
	redis_stop(rpid);
	state_config_free(&c);
	policyset_unref(ps);
	free(rawa);
	free(rawb);
	return done_testing();
}
