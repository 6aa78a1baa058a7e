/*
 * 5100-splitppap: split PPAP without the daemon.  The policy key loads
 * (durations, on_timeout, inheritance, errors); benign-02a is eligible
 * and stored pending with its metadata and its record in the state
 * (LMDB here; t/5101 runs the state's part on every backend and
 * across hosts); a password mail from
 * another sender, or after the wait, does not unlock it; four threads
 * with the right password mail at once release it exactly once; the
 * sweep leaves unexpired items and releases an expired one tagged,
 * once; the release result is found again from the released header.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "lurewall.h"
#include "policy.h"
#include "quarantine.h"
#include "runtime.h"
#include "scan.h"
#include "splitppap.h"
#include "state.h"
#include "verdict.h"
#include "tap.h"
#include "splitppap_t.h"

#define T0	1700000000

static const char		*dir;
static struct policyset		*ps;
static struct quarantine	*q;
static struct limits		 lim;
static char			 submit[1300];
static unsigned char		*rawb;
static size_t			 lenb;

/* Scan raw and hand it to splitppap_eom at time now. */
static enum lw_err
eom(const unsigned char *raw, size_t len, const char *from,
    const char *rcpt, const char *qid, time_t now,
    struct splitppap_result *out, char **rules)
{
	return sp_eom(q, &lim, ps, submit, raw, len, from, rcpt, qid, now,
	    out, rules);
}

static const char *
state_of(const char *id)
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

struct job {
	struct splitppap_result	out;
	enum lw_err		e;
};

static void *
password_mail(void *arg)
{
	struct job	*j = arg;

	j->e = eom(rawb, lenb, "yamada@torihiki.example.ne.jp",
	    "sato@example.co.jp", "PW", T0 + 60, &j->out, NULL);
	return NULL;
}

static void
policy_errors(void)
{
	static const char *const bad[] = {
		"split_password: {wait: 31d}\n",
		"split_password: {wait: 10x}\n",
		"split_password: {on_timeout: never}\n",
		"split_password: {wait: 1m, later: 2}\n",
		"split_password: 5\n",
	};
	struct policyset	*p;
	char			 pdir[1100], path[1200], err[512];
	size_t			 i;

	snprintf(pdir, sizeof(pdir), "%s/bad", dir);
	mkdir(pdir, 0700);
	snprintf(path, sizeof(path), "%s/default.yaml", pdir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sp_write_text(path, bad[i]);
		err[0] = '\0';
		is_int(LW_EINVAL, policy_load_dir(pdir, NULL, &p, err,
		    sizeof(err)), "refused: %.*s", (int)strlen(bad[i]) - 1,
		    bad[i]);
		ok(strstr(err, "split_password") != NULL, "error names the "
		    "key: %s", err);
	}
}

int
main(void)
{
	struct splitppap_result	 out;
	struct quarantine_item	*it;
	const struct policy	*p;
	struct job		 jobs[4];
	pthread_t		 tid[4];
	unsigned char		*rawa, *rawe;
	size_t			 lena, i, acted, released;
	char			 pdir[1100], path[1200], err[512], qdir[1100];
	char			 key[200];
	struct state_config	 sc;
	struct state		*st;
	struct state_val	 sv;
	char			 id[QUARANTINE_ID_MAX], id2[QUARANTINE_ID_MAX];
	char			*rules, *hv, *r, *s;
	FILE			*devnull;

	dir = tap_tmpdir("5100-splitppap");
	limits_default(&lim);

	/* Policies: default on (30m), short.example 2s keep, off.example 0. */
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	mkdir(pdir, 0700);
	snprintf(path, sizeof(path), "%s/default.yaml", pdir);
	sp_write_text(path, "split_password:\n  wait: 30m\n");
	snprintf(path, sizeof(path), "%s/short.yaml", pdir);
	sp_write_text(path, "domains: [short.example]\n"
	    "split_password: {wait: 2s, on_timeout: keep}\n");
	snprintf(path, sizeof(path), "%s/off.yaml", pdir);
	sp_write_text(path, "domains: [off.example]\n"
	    "split_password: {wait: 0}\n");
	snprintf(path, sizeof(path), "%s/inherit.yaml", pdir);
	sp_write_text(path, "domains: [inherit.example]\n"
	    "split_password: {on_timeout: release}\n");
	if (policy_load_dir(pdir, &lim, &ps, err, sizeof(err)) != LW_OK)
		bail("policies: %s", err);
	is_int(1800, policyset_default(ps)->split_wait, "default: wait 30m");
	is_int(SPLIT_RELEASE_TAGGED, policyset_default(ps)->split_on_timeout,
	    "default: on_timeout release-tagged");
	p = policyset_for_domain(ps, "short.example");
	is_int(2, p->split_wait, "short: wait 2s");
	is_int(SPLIT_KEEP, p->split_on_timeout, "short: on_timeout keep");
	is_int(0, policyset_for_domain(ps, "off.example")->split_wait,
	    "wait 0: off");
	p = policyset_for_domain(ps, "inherit.example");
	ok(p->split_wait == 1800 && p->split_on_timeout == SPLIT_RELEASE,
	    "a domain inherits wait and sets on_timeout");
	policy_errors();

	snprintf(qdir, sizeof(qdir), "%s/q", dir);
	if (quarantine_open(qdir, &q) != LW_OK)
		bail("quarantine_open");
	state_config_init(&sc);
	snprintf(path, sizeof(path), "%s/state", dir);
	sc.path = strdup(path);
	if (state_open(&sc, false, &st) != LW_OK)
		bail("state_open");
	quarantine_set_state(q, st, "mx1", 0);
	sp_submit_setup(dir, submit, sizeof(submit));
	sp_load_pair(&rawa, &lena, &rawb, &lenb);

	/* Off for off.example: tagged as before. */
	is_int(LW_OK, eom(rawa, lena, "yamada@torihiki.example.ne.jp",
	    "sato@off.example", "OFF", T0, &out, NULL), "off: eom");
	ok(!out.pending, "off: not pending");

	/* 02a is held. */
	is_int(LW_OK, eom(rawa, lena, "yamada@torihiki.example.ne.jp",
	    "sato@example.co.jp", "A1", T0, &out, NULL), "02a: eom");
	ok(out.pending, "02a: pending");
	is_int(T0 + 1800, (long long)out.expires, "02a: expires after 30m");
	snprintf(id, sizeof(id), "%s", out.id);
	if (quarantine_read(q, id, &it) != LW_OK)
		bail("read %s", id);
	is_str("pending", it->state, "meta: state");
	is_int(T0 + 1800, (long long)it->expires, "meta: expires");
	is_str("release-tagged", it->on_timeout, "meta: on_timeout");
	is_str("<30bd5e5e29e028c0cfc5@torihiki.example.ne.jp>", it->message_id,
	    "meta: message_id");
	ok(it->reason != NULL && strstr(it->reason, ".zip") != NULL,
	    "meta: reason names the zip: %s", it->reason);
	quarantine_item_free(it);
	snprintf(key, sizeof(key), "pending:mx1:%s", id);
	ok(state_get(st, key, T0, &sv) == LW_OK, "its record in the state");
	state_val_free(&sv);

	/* Another sender (envelope and From:), or too late: nothing. */
	if ((rawe = malloc(lenb + 1)) == NULL)
		bail("out of memory");
	memcpy(rawe, rawb, lenb + 1);
	for (s = (char *)rawe; (s = strstr(s, "<yamada@")) != NULL; s++)
		memcpy(s + 1, "mallor", 6);
	is_int(LW_OK, eom(rawe, lenb, "mallory@evil.example", "sato@example.co.jp",
	    "EVIL", T0 + 60, &out, NULL), "other sender: eom");
	is_int(0, out.released + out.lures, "other sender: nothing opened");
	is_int(LW_OK, eom(rawb, lenb, "yamada@torihiki.example.ne.jp",
	    "someone@example.co.jp", "RCPT", T0 + 60, &out, NULL),
	    "no common recipient: eom");
	is_int(0, out.released, "no common recipient: nothing opened");
	is_int(LW_OK, eom(rawb, lenb, "yamada@torihiki.example.ne.jp",
	    "sato@example.co.jp", "LATE", T0 + 1801, &out, NULL),
	    "after the wait: eom");
	is_int(0, out.released, "after the wait: nothing opened");
	is_str("pending", state_of(id), "still pending");
	is_int(0, sp_count_outputs(dir), "nothing submitted");

	/* Four password mails at once: one release. */
	for (i = 0; i < 4; i++)
		if (pthread_create(&tid[i], NULL, password_mail, &jobs[i]) != 0)
			bail("pthread_create");
	released = 0;
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		is_int(LW_OK, jobs[i].e, "thread %zu: eom", i);
		released += jobs[i].out.released;
	}
	is_int(1, released, "four at once: released once");
	is_int(1, sp_count_outputs(dir), "four at once: submitted once");
	is_str("released", state_of(id), "state released");
	is_int(LW_ENOTFOUND, state_get(st, key, T0 + 60, &sv),
	    "its record gone from the state");

	/* The release header names the item: its result comes back. */
	if (quarantine_release_header(q, id, "<x@y>", "Mon, 1 Jan 2024",
	    T0, &hv) != LW_OK)
		bail("release header");
	r = NULL;
	(void)quarantine_release_seen(q, hv, "<x@y>", "Mon, 1 Jan 2024", T0,
	    false, &r);
	ok(r != NULL && strstr(r, "delayed-scan=password-mail") != NULL,
	    "release result: %s", r != NULL ? r : "(null)");
	free(r);
	free(hv);

	/* Sweep: not yet, then release-tagged once. */
	is_int(LW_OK, eom(rawa, lena, "yamada@torihiki.example.ne.jp",
	    "sato@example.co.jp", "A2", T0, &out, NULL), "02a again");
	ok(out.pending, "pending again");
	snprintf(id2, sizeof(id2), "%s", out.id);
	devnull = fopen("/dev/null", "w");
	is_int(LW_OK, splitppap_sweep(q, submit, T0 + 60, false, devnull,
	    &acted), "sweep before expiry");
	is_int(0, acted, "nothing expired");
	is_int(LW_OK, splitppap_sweep(q, submit, T0 + 3600, true, devnull,
	    &acted), "sweep after expiry");
	is_int(1, acted, "one timed out");
	is_str("released", state_of(id2), "released by the sweep");
	if (quarantine_read(q, id2, &it) != LW_OK)
		bail("read %s", id2);
	ok(it->result != NULL && strncmp(it->result, "tag score=", 10) == 0 &&
	    strstr(it->result, "delayed-scan=timeout") != NULL,
	    "tagged result: %s", it->result != NULL ? it->result : "(null)");
	quarantine_item_free(it);
	is_int(2, sp_count_outputs(dir), "submitted");
	is_int(LW_OK, splitppap_sweep(q, submit, T0 + 7200, true, devnull,
	    &acted), "sweep again");
	is_int(0, acted, "never twice");

	/* The password mail of a released item opens nothing. */
	is_int(LW_OK, eom(rawb, lenb, "yamada@torihiki.example.ne.jp",
	    "sato@example.co.jp", "PW2", T0 + 60, &out, &rules),
	    "password mail again");
	is_int(0, out.released + out.lures, "nothing left to open");
	ok(rules == NULL || strstr(rules, SPLITPPAP_LURE_RULE) == NULL,
	    "not tagged");
	free(rules);

	fclose(devnull);
	free(rawa);
	free(rawb);
	free(rawe);
	quarantine_close(q);
	state_close(st);
	state_config_free(&sc);
	policyset_unref(ps);
	return done_testing();
}
