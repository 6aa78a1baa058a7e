/*
 * t/4100-verdict: findings -> score -> action, and scan_message's choice
 * among several recipient policies.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "mime.h"
#include "policy.h"
#include "runtime.h"
#include "pwcand.h"
#include "scan.h"
#include "verdict.h"

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail("write %s", path);
}

static const char default_yaml[] =
    "thresholds: {tag: 5, quarantine: 10, reject: 50}\n"
    "rules:\n"
    "  - {name: SUBJ_TAGME, where: subject, pattern: tagme, score: 6}\n"
    "  - {name: SUBJ_HOLDME, where: subject, pattern: holdme, score: 12}\n";

static const char strict_yaml[] =
    "domains: [strict.example]\n"
    "thresholds: {tag: 1, quarantine: 5, reject: 11}\n";

static const char partner_yaml[] =
    "domains: [partner.example]\n"
    "macro_senders: ['@macros.example']\n";

static void
test_judge(const struct policyset *ps)
{
	struct findings	 fs = { 0 };
	struct verdict	 v;
	const struct policy *def = policyset_default(ps);

	/* Three macro documents are one OFFICE_VBA. */
	findings_add(&fs, "OFFICE_VBA", "2/a.doc", "one");
	findings_add(&fs, "OFFICE_VBA", "3/b.doc", "two");
	findings_add(&fs, "OFFICE_VBA", "4/c.doc", "three");
	findings_add(&fs, "ARCHIVE_ENCRYPTED", "5/d.zip", "x");
	if (verdict_judge(&fs, def, 0, &v) != LW_OK)
		bail("verdict_judge");
	is_int(policy_score(def, "OFFICE_VBA") +
	    policy_score(def, "ARCHIVE_ENCRYPTED"), v.score,
	    "each rule counts once per message");
	is_int(4, (long long)v.findings.n, "every occurrence is kept");
	is_int(policy_score(def, "OFFICE_VBA"), v.findings.v[1].score,
	    "each occurrence carries its score");
	is_str("OFFICE_VBA,ARCHIVE_ENCRYPTED", v.rules,
	    "rules listed once, highest score first");
	is_int(ACT_QUARANTINE, v.action, "macro document is quarantined");
	verdict_free(&v);

	/* The macro_senders flag zeroes macro rules but still tags. */
	if (verdict_judge(&fs, def, VERDICT_MACRO_SENDER, &v) != LW_OK)
		bail("verdict_judge");
	is_int(policy_score(def, "ARCHIVE_ENCRYPTED"), v.score,
	    "macro sender: macro rules count 0");
	is_int(ACT_TAG, v.action, "macro sender: macro document is tagged");
	verdict_free(&v);
	findings_free(&fs);

	/* Thresholds, and a threshold <= 0 is off. */
	is_int(ACT_ACCEPT, verdict_action_for(def, 4), "4 < tag");
	is_int(ACT_TAG, verdict_action_for(def, 5), "5 = tag");
	is_int(ACT_QUARANTINE, verdict_action_for(def, 10), "10 = quarantine");
	is_int(ACT_QUARANTINE, verdict_action_for(def, 49), "49 < reject");
	is_int(ACT_REJECT, verdict_action_for(def, 50), "50 = reject");
	{
		struct policy	p = *def;

		p.th_reject = 0;
		is_int(ACT_QUARANTINE, verdict_action_for(&p, 1000),
		    "reject threshold 0 is off");
	}

	/* No findings: accept with score 0 and an empty rule list. */
	if (verdict_judge(&fs, def, 0, &v) != LW_OK)
		bail("verdict_judge");
	is_int(ACT_ACCEPT, v.action, "no findings: accept");
	is_str("", v.rules, "no findings: no rules");
	verdict_free(&v);

	is_str("quarantine", verdict_action_name(ACT_QUARANTINE), "name");
	ok(verdict_severity(ACT_REJECT) > verdict_severity(ACT_QUARANTINE) &&
	    verdict_severity(ACT_QUARANTINE) > verdict_severity(ACT_TAG) &&
	    verdict_severity(ACT_TAG) > verdict_severity(ACT_ACCEPT),
	    "severity: reject > quarantine > tag > accept");
}

static void
scan_one(const struct policyset *ps, const char *msg, const char **rcpts,
    size_t n, const char *from, struct scan_result *res)
{
	struct envelope	 env;
	struct limits	 lim;
	struct runtime	 rt;
	size_t		 i;

	memset(&env, 0, sizeof(env));
	limits_default(&lim);
	for (i = 0; i < n; i++)
		envelope_add_rcpt(&env, rcpts[i]);
	env.mail_from = from != NULL ? strdup(from) : NULL;
	env.qid = strdup("TESTQID");
	if (scan_message(runtime_view(&rt, &lim, ps),
	    (const unsigned char *)msg, strlen(msg), &env, res) != LW_OK)
		bail("scan_message");
	envelope_free(&env);
}

static void
test_scan(const struct policyset *ps)
{
	struct scan_result	 res;
	const char		*one[] = { "a@other.example" };
	const char		*two[] = { "a@other.example", "b@strict.example" };
	const char		*msg =
	    "From: Someone <someone@sender.example>\r\n"
	    "To: a@other.example\r\n"
	    "Subject: please tagme\r\n"
	    "\r\n"
	    "hello\r\n";

	scan_one(ps, msg, one, 1, NULL, &res);
	is_int(ACT_TAG, res.verdict->action, "default policy tags");
	is_str("default", res.verdict->policy->name, "default policy judged");
	ok(res.msg != NULL && res.msg->subject != NULL &&
	    strcmp(res.msg->subject, "please tagme") == 0,
	    "parsed message is returned");
	scan_result_free(&res);

	scan_one(ps, msg, two, 2, NULL, &res);
	is_int(ACT_QUARANTINE, res.verdict->action,
	    "two domains: the stricter policy's action wins");
	is_str("strict", res.verdict->policy->name,
	    "two domains: the verdict names the stricter policy");
	scan_result_free(&res);

	scan_one(ps, msg, NULL, 0, NULL, &res);
	is_str("default", res.verdict->policy->name,
	    "no recipients: default policy");
	scan_result_free(&res);
}

static void
test_macro_sender(const struct policyset *ps)
{
	struct scan_result	 res;
	const char		*rcpt[] = { "x@partner.example" };
	char			 path[1024], *msg, *b64;
	FILE			*p;
	size_t			 cap;

	snprintf(path, sizeof(path), "base64 -w 76 %s/files/SimpleMacro.doc",
	    tap_corpus());
	if ((p = popen(path, "r")) == NULL)
		bail("base64");
	b64 = NULL;
	cap = 0;
	if (getdelim(&b64, &cap, '\0', p) < 0)
		bail("read base64");
	pclose(p);
	if (asprintf(&msg,
	    "From: Partner <p@macros.example>\r\n"
	    "To: x@partner.example\r\n"
	    "Subject: the model\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=BB\r\n"
	    "\r\n"
	    "--BB\r\n"
	    "Content-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--BB\r\n"
	    "Content-Type: application/msword; name=model.doc\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
	    "--BB--\r\n", b64) < 0)
		bail("asprintf");
	free(b64);

	scan_one(ps, msg, rcpt, 1, "p@macros.example", &res);
	ok(findings_has(&res.verdict->findings, "OFFICE_VBA"),
	    "macro sender's document still shows OFFICE_VBA");
	is_int(ACT_TAG, res.verdict->action,
	    "macro_senders: partner's macro document is only tagged");
	scan_result_free(&res);

	scan_one(ps, msg, rcpt, 1, "bounce@elsewhere.example", &res);
	is_int(ACT_QUARANTINE, res.verdict->action,
	    "macro_senders needs the envelope sender listed too");
	scan_result_free(&res);
	free(msg);
}

/*
 * scan_message_opts: the split-PPAP pair of the corpus.  02a's zip stays
 * shut on its own; with 02b's candidates first it opens.  A forced
 * policy judges alone, whatever the recipients.
 */
static void
test_opts(const struct policyset *ps)
{
	struct scan_result	 res;
	struct scan_opts	 opts = { 0 };
	struct pwcands		 pw = { 0 };
	struct scan_result	 r2;
	struct envelope		 env;
	struct limits		 lim;
	struct runtime		 rt;
	char			 path[1024];
	unsigned char		*a, *b;
	size_t			 alen, blen;
	const char		*rcpt[] = { "a@strict.example" };
	struct scan_result	 r3;

	snprintf(path, sizeof(path), "%s/messages/"
	    "benign-02a-ppap-aes-xlsx.eml", tap_corpus());
	a = tap_slurp(path, &alen);
	snprintf(path, sizeof(path), "%s/messages/"
	    "benign-02b-ppap-password-mail.eml", tap_corpus());
	b = tap_slurp(path, &blen);
	memset(&env, 0, sizeof(env));
	limits_default(&lim);

	if (scan_message(runtime_view(&rt, &lim, ps), a, alen, &env,
	    &res) != LW_OK)
		bail("scan 02a");
	ok(findings_has(&res.verdict->findings, "ARCHIVE_PASSWORD_UNKNOWN"),
	    "02a alone: password unknown");
	scan_result_free(&res);

	/* The password mail's own text gives the candidates. */
	if (scan_message(&rt, b, blen, &env, &r2) != LW_OK)
		bail("scan 02b");
	if (pwcand_collect(&pw, r2.msg, lim.password_candidates) != LW_OK)
		bail("pwcand_collect");
	scan_result_free(&r2);
	ok(pw.n > 0, "02b gives password candidates");

	opts.extra_pw = &pw;
	if (scan_message_opts(&rt, a, alen, &env, &opts, &res) != LW_OK)
		bail("scan 02a with 02b's candidates");
	ok(!findings_has(&res.verdict->findings, "ARCHIVE_PASSWORD_UNKNOWN"),
	    "02a with 02b's candidates: no longer unknown");
	ok(findings_has(&res.verdict->findings, "ARCHIVE_PASSWORD_IN_MESSAGE"),
	    "02a with 02b's candidates: opened");
	is_int(ACT_ACCEPT, res.verdict->action,
	    "02a with 02b's candidates: clean xlsx is accepted");
	scan_result_free(&res);
	pwcand_free(&pw);

	/* A forced policy overrides the recipients' policy. */
	env.rcpts = (char **)rcpt;
	env.nrcpts = 1;
	opts.extra_pw = NULL;
	opts.policy = policyset_default(ps);
	if (scan_message_opts(&rt, a, alen, &env, &opts, &r3) != LW_OK)
		bail("scan with a forced policy");
	is_str("default", r3.verdict->policy->name,
	    "forced policy judges instead of the recipient's");
	scan_result_free(&r3);
	free(a);
	free(b);
}

struct gate_job {
	const struct policyset	*ps;
	const unsigned char	*raw;
	size_t			 len;
	int			 action;
	int			 score;
};

static void *
gate_worker(void *arg)
{
	struct gate_job		*j = arg;
	struct scan_result	 res;
	struct limits		 lim;
	struct runtime		 rt;
	int			 i;

	limits_default(&lim);
	j->action = -1;
	for (i = 0; i < 5; i++) {
		if (scan_message(runtime_view(&rt, &lim, j->ps), j->raw,
		    j->len, NULL, &res) != LW_OK)
			return NULL;
		j->action = res.verdict->action;
		j->score = res.verdict->score;
		scan_result_free(&res);
	}
	return NULL;
}

/* Four threads through a gate of one: each finishes, same verdict. */
static void
test_gate(const struct policyset *ps)
{
	struct gate_job	 job[4];
	pthread_t	 t[4];
	char		 path[1024];
	unsigned char	*raw;
	size_t		 len, i;

	snprintf(path, sizeof(path), "%s/messages/"
	    "lure-04-zipcrypto-xlsm-pw-en.eml", tap_corpus());
	raw = tap_slurp(path, &len);
	scan_set_concurrency(1);
	for (i = 0; i < 4; i++) {
		job[i].ps = ps;
		job[i].raw = raw;
		job[i].len = len;
		if (pthread_create(&t[i], NULL, gate_worker, &job[i]) != 0)
			bail("pthread_create");
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	scan_set_concurrency(0);
	for (i = 0; i < 4; i++)
		ok(job[i].action == ACT_QUARANTINE &&
		    job[i].score == job[0].score,
		    "gated scan %zu: quarantine, score %d", i, job[i].score);
	free(raw);
}

int
main(void)
{
	struct policyset	*ps = NULL;
	struct limits		 lim;
	const char		*dir = tap_tmpdir("4100-verdict");
	char			 err[1024];

	write_file(dir, "default.yaml", default_yaml);
	write_file(dir, "strict.yaml", strict_yaml);
	write_file(dir, "partner.yaml", partner_yaml);
	limits_default(&lim);
	if (policy_load_dir(dir, &lim, &ps, err, sizeof(err)) != LW_OK)
		bail("policy_load_dir: %s", err);

	test_judge(ps);
	test_scan(ps);
	test_macro_sender(ps);
	test_opts(ps);
	test_gate(ps);

	policyset_unref(ps);
	return done_testing();
}
