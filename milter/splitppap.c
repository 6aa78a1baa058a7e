/*
 * splitppap.c: split PPAP (see splitppap.h).
 *
 * Takes a scanned message at end of message: holds it as a pending
 * quarantine item when its only obstacle is an archive nobody could
 * open, or else offers its password candidates to the pending items it
 * matches (same envelope sender or same From address, an overlapping
 * envelope recipient, before the item's expiry; items its In-Reply-To
 * or References name first).  A held message whose archive opens is
 * scanned again with the candidates first in line: below quarantine it
 * is released through quarantine_release with an X-Lurewall-Result
 * noting the delayed scan, else it stays held with the findings of its
 * contents.  The sweep applies each item's on_timeout once it expires.
 *
 * Bounds: a message reads the pending/ markers and the metadata of
 * pending items only; candidates are bounded by
 * limits.password_candidates, and each rescan by the scan's own limits
 * and time budget.  Ignores items that are not pending, released,
 * expired (the sweep's) or damaged.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "policy.h"
#include "pwcand.h"
#include "quarantine.h"
#include "runtime.h"
#include "scan.h"
#include "splitppap.h"
#include "verdict.h"

#define APU_RULE	"ARCHIVE_PASSWORD_UNKNOWN"
#define PENDING_DIR	"pending"
#define RELEASED_BY	"split-ppap"
#define FIELD_MAX	200		/* attacker text in a log line */

static pthread_mutex_t	 wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake_cond = PTHREAD_COND_INITIALIZER;
static time_t		 wake_at;	/* earliest known expiry; 0 none */

static const char *const timeout_names[] = { "release-tagged", "keep",
    "release" };

/* ---- the sweep thread's alarm clock ---- */

static void
notify(time_t when)
{
	pthread_mutex_lock(&wake_lock);
	if (when != 0 && (wake_at == 0 || when < wake_at)) {
		wake_at = when;
		pthread_cond_signal(&wake_cond);
	}
	pthread_mutex_unlock(&wake_lock);
}

void
splitppap_sleep(unsigned max_secs)
{
	struct timespec	ts;
	time_t		deadline;
	int		rc = 0;

	pthread_mutex_lock(&wake_lock);
	deadline = time(NULL) + (time_t)max_secs;
	while (rc != ETIMEDOUT) {
		if (wake_at != 0 && wake_at < deadline)
			deadline = wake_at;
		if (time(NULL) >= deadline)
			break;
		ts.tv_sec = deadline;
		ts.tv_nsec = 0;
		rc = pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
	}
	wake_at = 0;		/* the sweep that follows notes the next one */
	pthread_mutex_unlock(&wake_lock);
}

/* ---- pending/ markers ---- */

/* The pending/ directory; created (owned like the store) when asked. */
static int
pending_dir(struct quarantine *q, bool create)
{
	struct stat	 st;
	char		*path;
	int		 fd;

	if (lw_asprintf(&path, "%s/" PENDING_DIR, quarantine_dir(q)) != LW_OK)
		return -1;
	if (create && mkdir(path, 0700) == 0 && geteuid() == 0 &&
	    stat(quarantine_dir(q), &st) == 0 &&
	    chown(path, st.st_uid, st.st_gid) == -1)
		(void)0;	/* best effort, as quarantine.c's give() */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	return fd;
}

static enum lw_err
marker_add(struct quarantine *q, const char *id)
{
	struct stat	st;
	int		dfd, fd;
	enum lw_err	e = LW_OK;

	if ((dfd = pending_dir(q, true)) == -1)
		return LW_EIO;
	fd = openat(dfd, id, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		e = LW_EIO;
	else {
		if (geteuid() == 0 && fstat(dfd, &st) == 0 &&
		    fchown(fd, st.st_uid, st.st_gid) == -1)
			(void)0;
		close(fd);
		if (fsync(dfd) == -1)
			e = LW_EIO;
	}
	close(dfd);
	return e;
}

static void
marker_del(struct quarantine *q, const char *id)
{
	int	dfd;

	if ((dfd = pending_dir(q, false)) == -1)
		return;
	if (unlinkat(dfd, id, 0) == 0)
		(void)fsync(dfd);
	close(dfd);
}

static void
ids_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The ids under pending/ (none when it does not exist). */
static enum lw_err
marker_ids(struct quarantine *q, char ***out, size_t *nout)
{
	struct dirent	 *de;
	char		**v = NULL, **nv;
	size_t		  n = 0;
	DIR		 *d;
	int		  dfd;

	*out = NULL;
	*nout = 0;
	if ((dfd = pending_dir(q, false)) == -1)
		return errno == ENOENT ? LW_OK : LW_EIO;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return LW_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (!quarantine_id_valid(de->d_name))
			continue;
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL ||
		    (nv[n] = strdup(de->d_name)) == NULL) {
			if (nv != NULL)
				v = nv;
			ids_free(v, n);
			closedir(d);
			return LW_ENOMEM;
		}
		v = nv;
		n++;
	}
	closedir(d);
	*out = v;
	*nout = n;
	return LW_OK;
}

/* ---- small helpers ---- */

static bool
is_pending(const struct quarantine_item *it)
{
	return it->state != NULL && strcmp(it->state, "pending") == 0 &&
	    !it->released;
}

static bool
addr_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && *a != '\0' && *b != '\0' &&
	    strcasecmp(a, b) == 0;
}

/* "<x@y>" out of a Message-ID value (the whole trimmed value if none). */
static char *
msgid_token(const char *v)
{
	const char	*lt, *gt, *e;

	if (v == NULL)
		return NULL;
	if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL)
		return lw_strndup(lt, (size_t)(gt - lt + 1));
	v += strspn(v, " \t\r\n");
	for (e = v + strlen(v); e > v && strchr(" \t\r\n", e[-1]) != NULL;)
		e--;
	return e > v ? lw_strndup(v, (size_t)(e - v)) : NULL;
}

static int
rule_score(const struct verdict *v, const char *rule, bool *found)
{
	int	best = 0;
	size_t	i;

	*found = false;
	for (i = 0; i < v->findings.n; i++)
		if (strcmp(v->findings.v[i].rule, rule) == 0) {
			if (!*found || v->findings.v[i].score > best)
				best = v->findings.v[i].score;
			*found = true;
		}
	return best;
}

bool
splitppap_eligible(const struct scan_result *res)
{
	const struct verdict	*v = res != NULL ? res->verdict : NULL;
	bool			 have;
	int			 apu;
	size_t			 i;

	if (v == NULL || v->policy == NULL || v->policy->split_wait == 0)
		return false;
	if (v->action != ACT_TAG && v->action != ACT_QUARANTINE)
		return false;
	apu = rule_score(v, APU_RULE, &have);
	if (!have || apu <= 0)
		return false;
	for (i = 0; i < v->findings.n; i++)
		if (strcmp(v->findings.v[i].rule, APU_RULE) != 0 &&
		    v->findings.v[i].score > apu)
			return false;
	return true;
}

/* ---- holding ---- */

static enum lw_err
store_pending(const struct splitppap_env *se, const unsigned char *raw,
    size_t len, const struct envelope *env, const struct scan_result *res,
    time_t now, struct splitppap_result *out)
{
	const struct verdict	*v = res->verdict;
	const struct policy	*p = v->policy;
	struct quarantine_extra	 x;
	const char		*part = "";
	char			*reason = NULL, *mid;
	enum lw_err		 e;
	size_t			 i;

	for (i = 0; i < v->findings.n; i++)
		if (strcmp(v->findings.v[i].rule, APU_RULE) == 0) {
			part = v->findings.v[i].part;
			break;
		}
	if (lw_asprintf(&reason, "waiting for the password of %s",
	    *part != '\0' ? part : "an encrypted archive") != LW_OK)
		return LW_ENOMEM;
	if (se->dry) {
		/* Only say what the daemon would do. */
		free(reason);
		out->pending = true;
		out->expires = now + (time_t)p->split_wait;
		return LW_OK;
	}
	mid = msgid_token(res->msg != NULL ? res->msg->message_id : NULL);
	memset(&x, 0, sizeof(x));
	x.state = "pending";
	x.expires = now + (time_t)p->split_wait;
	x.on_timeout = timeout_names[p->split_on_timeout];
	x.reason = reason;
	x.message_id = mid;
	e = quarantine_store_extra(se->q, raw, len, env, res, &x, now,
	    out->id);
	if (e == LW_OK && marker_add(se->q, out->id) != LW_OK) {
		/* Unfindable by its password mail: rather let it retry. */
		(void)quarantine_delete(se->q, out->id);
		out->id[0] = '\0';
		e = LW_EIO;
	}
	if (e == LW_OK) {
		out->pending = true;
		out->expires = x.expires;
		notify(x.expires);
	}
	free(reason);
	free(mid);
	return e;
}

/* ---- opening ---- */

static enum lw_err
item_env(const struct quarantine_item *it, struct envelope *env)
{
	size_t	i;

	memset(env, 0, sizeof(*env));
	if ((it->qid != NULL && (env->qid = strdup(it->qid)) == NULL) ||
	    (it->mail_from != NULL &&
	    (env->mail_from = strdup(it->mail_from)) == NULL) ||
	    (it->client_addr != NULL &&
	    (env->client_addr = strdup(it->client_addr)) == NULL) ||
	    (it->helo != NULL && (env->helo = strdup(it->helo)) == NULL))
		goto out_env;
	for (i = 0; i < it->nrcpts; i++)
		if (envelope_add_rcpt(env, it->rcpts[i]) != LW_OK)
			goto out_env;
	return LW_OK;
out_env:
	envelope_free(env);
	return LW_ENOMEM;
}

/*
 * The password mail helped open a lure: judge it again with
 * SPLIT_PASSWORD_LURE, so the policy's score for that rule counts, and
 * tag it at least, whatever that score.
 */
static enum lw_err
mark_lure(struct scan_result *res, const char *id)
{
	struct verdict	*v = res->verdict, nv;
	struct findings	 fs = { 0 };
	enum lw_err	 e;

	if (v == NULL || findings_has(&v->findings, SPLITPPAP_LURE_RULE))
		return LW_OK;
	e = findings_append(&fs, &v->findings);
	if (e == LW_OK)
		e = findings_add(&fs, SPLITPPAP_LURE_RULE, "",
		    "gave the password of held item %s, a lure", id);
	if (e == LW_OK)
		e = verdict_judge(&fs, v->policy, 0, &nv);
	findings_free(&fs);
	if (e != LW_OK)
		return e;
	if (verdict_severity(nv.action) < verdict_severity(ACT_TAG))
		nv.action = ACT_TAG;
	verdict_free(v);
	*v = nv;
	return LW_OK;
}

/*
 * Release a locked pending item: record result first (the release path
 * adds it as X-Lurewall-Result), submit, then mark it released.  A
 * failed submission leaves it pending for the next try.
 */
static enum lw_err
release_item(struct quarantine *q, const struct quarantine_item *it,
    const char *submit, const struct scan_result *res, const char *result,
    const char *reason, char *err, size_t errlen)
{
	struct quarantine_extra	x;
	enum lw_err		e;

	memset(&x, 0, sizeof(x));
	x.state = "pending";
	x.expires = it->expires;
	x.on_timeout = it->on_timeout;
	x.reason = it->reason;
	x.result = result;
	if ((e = quarantine_update(q, it->id, res, &x)) != LW_OK) {
		snprintf(err, errlen, "updating metadata: %s",
		    lw_strerror(e));
		return e;
	}
	if ((e = quarantine_release(q, it->id, NULL, submit, false,
	    RELEASED_BY, err, errlen)) != LW_OK)
		return e;
	marker_del(q, it->id);
	x.state = "released";
	x.expires = 0;
	x.reason = reason;
	if ((e = quarantine_update(q, it->id, NULL, &x)) != LW_OK)
		snprintf(err, errlen, "released, but recording the state "
		    "failed: %s", lw_strerror(e));
	return e;
}

/* "accept score=1 rules=A,B delayed-scan=WHAT" for X-Lurewall-Result. */
static char *
result_value(const char *action, int score, const char *rules,
    const char *what)
{
	char	*r, *s;

	if ((s = lw_sanitize(rules != NULL && *rules != '\0' ? rules : "-",
	    rules != NULL && *rules != '\0' ? strlen(rules) : 1, 600)) == NULL)
		return NULL;
	if (lw_asprintf(&r, "%s score=%d rules=%s delayed-scan=%s", action,
	    score, s, what) != LW_OK)
		r = NULL;
	free(s);
	return r;
}

/* Try the password mail's candidates on one pending item. */
static void
try_item(const struct splitppap_env *se, const char *id,
    const struct pwcands *pw, const char *pwqid, time_t now,
    struct scan_result *pwres, struct splitppap_result *out)
{
	struct quarantine_item	*it = NULL;
	struct quarantine_extra	 x;
	struct scan_opts	 opts;
	struct scan_result	 r2;
	struct envelope		 ienv;
	unsigned char		*raw = NULL;
	char			*result = NULL, *reason = NULL, err[512];
	const struct verdict	*v;
	size_t			 len;
	bool			 locked;
	enum lw_err		 e;
	int			 fd;

	memset(&r2, 0, sizeof(r2));
	memset(&ienv, 0, sizeof(ienv));
	fd = -1;
	if (!se->dry && quarantine_lock(se->q, id, &fd) != LW_OK)
		return;
	/* Under the lock, again: another mail or a sweep may have won. */
	if (quarantine_read(se->q, id, &it) != LW_OK || !is_pending(it) ||
	    it->expires <= now)
		goto out;
	if (quarantine_message(se->q, id, &raw, &len) != LW_OK ||
	    item_env(it, &ienv) != LW_OK)
		goto out;
	memset(&opts, 0, sizeof(opts));
	opts.extra_pw = pw;
	if ((e = scan_message_opts(se->rt, raw, len, &ienv, &opts,
	    &r2)) != LW_OK || r2.verdict == NULL) {
		log_msg(LOG_WARNING, pwqid, "split PPAP: rescanning "
		    "quarantine_id=%s failed: %s", id, lw_strerror(e));
		goto out;
	}
	v = r2.verdict;
	(void)rule_score(v, APU_RULE, &locked);
	if (locked) {
		log_msg(LOG_DEBUG, pwqid, "split PPAP: quarantine_id=%s "
		    "still locked after %zu candidate(s)", id, pw->n);
		goto out;
	}
	if (se->dry) {
		/* What the daemon would do; the store stays as it is. */
		if (verdict_severity(v->action) <
		    verdict_severity(ACT_QUARANTINE))
			out->released++;
		else {
			out->lures++;
			(void)mark_lure(pwres, id);
		}
		goto out;
	}
	if (verdict_severity(v->action) < verdict_severity(ACT_QUARANTINE)) {
		result = result_value(verdict_action_name(v->action),
		    v->score, v->rules, "password-mail");
		if (result == NULL || lw_asprintf(&reason, "archive opened "
		    "with the password from a later mail (qid %s)",
		    pwqid != NULL ? pwqid : "-") != LW_OK)
			goto out;
		err[0] = '\0';
		e = release_item(se->q, it, se->submit, &r2, result, reason,
		    err, sizeof(err));
		if (e != LW_OK && strncmp(err, "released,", 9) != 0)
			log_msg(LOG_ERR, pwqid, "split PPAP: quarantine_id=%s "
			    "opened (%s score=%d) but release failed: %s", id,
			    verdict_action_name(v->action), v->score, err);
		else {
			out->released++;
			metrics_add(MC_SPLIT_RELEASED, 1);
			log_msg(LOG_INFO, pwqid, "split PPAP: quarantine_id=%s "
			    "opened with this mail's password: %s score=%d "
			    "rules=%s: released", id,
			    verdict_action_name(v->action), v->score,
			    v->rules != NULL && *v->rules != '\0' ?
			    v->rules : "-");
		}
		goto out;
	}
	/* A lure: it stays, now with the findings of its contents. */
	if (lw_asprintf(&reason, "archive opened with the password from a "
	    "later mail (qid %s): %s", pwqid != NULL ? pwqid : "-",
	    verdict_action_name(v->action)) != LW_OK)
		goto out;
	memset(&x, 0, sizeof(x));
	x.state = "held";
	x.on_timeout = it->on_timeout;
	x.reason = reason;
	if ((e = quarantine_update(se->q, id, &r2, &x)) != LW_OK) {
		log_msg(LOG_ERR, pwqid, "split PPAP: quarantine_id=%s is a "
		    "lure but updating it failed: %s", id, lw_strerror(e));
		goto out;
	}
	marker_del(se->q, id);
	out->lures++;
	(void)mark_lure(pwres, id);
	log_msg(LOG_NOTICE, pwqid, "split PPAP: quarantine_id=%s opened "
	    "with this mail's password: %s score=%d rules=%s: held; this "
	    "mail is tagged", id, verdict_action_name(v->action), v->score,
	    v->rules != NULL && *v->rules != '\0' ? v->rules : "-");
out:
	if (fd != -1)
		quarantine_unlock(fd);
	scan_result_free(&r2);
	envelope_free(&ienv);
	quarantine_item_free(it);
	free(raw);
	free(result);
	free(reason);
}

/* This mail could carry the password of it: same sender, a rcpt shared. */
static bool
item_matches(const struct quarantine_item *it, const struct envelope *env,
    const struct message *msg, time_t now)
{
	size_t	i, j;

	if (!is_pending(it) || it->expires <= now)
		return false;
	if (!addr_eq(it->mail_from, env->mail_from) &&
	    !addr_eq(it->from, msg != NULL ? msg->from.addr : NULL))
		return false;
	for (i = 0; i < it->nrcpts; i++)
		for (j = 0; j < env->nrcpts; j++)
			if (addr_eq(it->rcpts[i], env->rcpts[j]))
				return true;
	return false;
}

static bool
references_item(const struct quarantine_item *it, const struct message *msg)
{
	char	*tok;
	bool	 r;

	if (msg == NULL || (tok = msgid_token(it->message_id)) == NULL)
		return false;
	r = (msg->in_reply_to != NULL && strstr(msg->in_reply_to, tok)) ||
	    (msg->references != NULL && strstr(msg->references, tok));
	free(tok);
	return r;
}

static enum lw_err
unlock_pending(const struct splitppap_env *se, const struct envelope *env,
    struct scan_result *res, time_t now, struct splitppap_result *out)
{
	struct quarantine_item	**match = NULL, *it;
	struct pwcands		  pw = { 0 };
	char			**ids;
	size_t			  nids, nmatch = 0, i;
	enum lw_err		  e;
	int			  pass;

	if ((e = marker_ids(se->q, &ids, &nids)) != LW_OK || nids == 0)
		return e == LW_ENOMEM ? e : LW_OK;
	if ((match = calloc(nids, sizeof(*match))) == NULL) {
		ids_free(ids, nids);
		return LW_ENOMEM;
	}
	for (i = 0; i < nids; i++) {
		if (quarantine_read(se->q, ids[i], &it) != LW_OK)
			continue;
		if (item_matches(it, env, res->msg, now))
			match[nmatch++] = it;
		else
			quarantine_item_free(it);
	}
	ids_free(ids, nids);
	if (nmatch > 0 && res->msg != NULL)
		e = pwcand_collect(&pw, res->msg, se->rt->lim->password_candidates);
	/* The mail that names the held one in its thread first. */
	for (pass = 0; e == LW_OK && pw.n > 0 && pass < 2; pass++)
		for (i = 0; i < nmatch; i++)
			if (references_item(match[i], res->msg) == (pass == 0))
				try_item(se, match[i]->id, &pw, env->qid, now,
				    res, out);
	for (i = 0; i < nmatch; i++)
		quarantine_item_free(match[i]);
	free(match);
	pwcand_free(&pw);
	return e;
}

enum lw_err
splitppap_eom(const struct splitppap_env *se, const unsigned char *raw,
    size_t len, const struct envelope *env, struct scan_result *res,
    struct splitppap_result *out)
{
	time_t	now = se->now != 0 ? se->now : time(NULL);

	memset(out, 0, sizeof(*out));
	if ((se->q == NULL && !se->dry) || res->verdict == NULL)
		return LW_OK;
	if (splitppap_eligible(res))
		return store_pending(se, raw, len, env, res, now, out);
	if (se->q == NULL)
		return LW_OK;	/* dry, no store: nothing pending */
	return unlock_pending(se, env, res, now, out);
}

/* ---- timeout ---- */

static void
say(FILE *report, const char *qid, int prio, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
say(FILE *report, const char *qid, int prio, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	if (report != NULL)
		fprintf(report, "%s\n", s);
	else
		log_msg(prio, qid, "split PPAP: %s", s);
	free(s);
}

/* on_timeout for one expired item; true when it acted. */
static bool
timeout_item(struct quarantine *q, const char *id, const char *submit,
    time_t now, FILE *report)
{
	struct quarantine_item	*it = NULL;
	struct quarantine_extra	 x;
	char			*result = NULL, err[512];
	const char		*ot;
	bool			 acted = false;
	enum lw_err		 e;
	int			 fd;

	if (quarantine_lock(q, id, &fd) != LW_OK)
		return false;
	if (quarantine_read(q, id, &it) != LW_OK || !is_pending(it) ||
	    it->expires > now)
		goto out;
	ot = it->on_timeout != NULL ? it->on_timeout : timeout_names[0];
	memset(&x, 0, sizeof(x));
	x.on_timeout = ot;
	x.reason = "no password mail opened the archive in time";
	err[0] = '\0';
	if (strcmp(ot, "keep") == 0) {
		x.state = "held";
		if ((e = quarantine_update(q, id, NULL, &x)) == LW_OK) {
			marker_del(q, id);
			acted = true;
			metrics_add(MC_SPLIT_EXPIRED, 1);
			say(report, it->qid, LOG_INFO, "quarantine_id=%s "
			    "timed out: kept (on_timeout keep)", id);
		} else
			say(report, it->qid, LOG_ERR, "quarantine_id=%s "
			    "timed out, keeping it failed: %s", id,
			    lw_strerror(e));
		goto out;
	}
	if (strcmp(ot, "release") != 0 && (result = result_value("tag",
	    it->score, it->rules, "timeout (encrypted archive not opened: "
	    "no password mail in time)")) == NULL)
		goto out;
	if ((e = release_item(q, it, submit, NULL, result, x.reason, err,
	    sizeof(err))) == LW_OK || strncmp(err, "released,", 9) == 0) {
		acted = true;
		metrics_add(MC_SPLIT_EXPIRED, 1);
		say(report, it->qid, LOG_INFO, "quarantine_id=%s timed out: "
		    "released (on_timeout %s)", id, ot);
	} else
		say(report, it->qid, LOG_ERR, "quarantine_id=%s timed out, "
		    "release failed: %s", id, err[0] != '\0' ? err :
		    lw_strerror(e));
out:
	quarantine_unlock(fd);
	quarantine_item_free(it);
	free(result);
	return acted;
}

/* After a crash between store and marker: every pending item marked. */
static void
restore_markers(struct quarantine *q)
{
	struct quarantine_item	**v;
	size_t			  n, i;

	if (quarantine_list(q, &v, &n) != LW_OK)
		return;
	for (i = 0; i < n; i++)
		if (is_pending(v[i]))
			(void)marker_add(q, v[i]->id);
	quarantine_items_free(v, n);
}

enum lw_err
splitppap_sweep(struct quarantine *q, const char *submit, time_t now,
    bool full, FILE *report, size_t *acted)
{
	struct quarantine_item	 *it;
	char			**ids;
	size_t			  nids, i, n = 0;
	time_t			  next = 0;
	enum lw_err		  e;

	if (acted != NULL)
		*acted = 0;
	if (full)
		restore_markers(q);
	if ((e = marker_ids(q, &ids, &nids)) != LW_OK)
		return e;
	for (i = 0; i < nids; i++) {
		e = quarantine_read(q, ids[i], &it);
		if (e == LW_ENOTFOUND || (e == LW_OK && !is_pending(it))) {
			marker_del(q, ids[i]);	/* deleted or done */
			quarantine_item_free(it);
			continue;
		}
		if (e != LW_OK)
			continue;
		if (it->expires > now) {
			if (next == 0 || it->expires < next)
				next = it->expires;
		} else if (timeout_item(q, ids[i], submit, now, report))
			n++;
		quarantine_item_free(it);
	}
	ids_free(ids, nids);
	notify(next);
	if (acted != NULL)
		*acted = n;
	return LW_OK;
}
