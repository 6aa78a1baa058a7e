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
 * contents.  A lure quarantined outright whose archive nobody could
 * open is offered the same way (re-opened: it gains its contents'
 * findings, stays held).  The sweep applies each item's on_timeout once
 * it expires.
 *
 * State (state.h): the item stays in the local quarantine (durable on
 * the host that took it); the state holds
 *	pending:HOST:ID		its metadata (quarantine_meta_text), for
 *				the wait plus GRACE_SECS
 *	pendingmsg:HOST:ID	its message, on a shared state only, when
 *				at most share_bytes, for the wait
 *	claim:HOST:ID		who acts on it (state_add: one winner)
 *	spdone:HOST		what other hosts did with HOST's items
 * so whichever host gets the password mail opens the item; the one
 * that claims it releases it (through its own submit_command) or, for a
 * lure, queues the candidates to the owner, which scans its copy again
 * and keeps it with the new findings; a released item's owner removes
 * its local copy.  The owner's sweep claims an expired item before its
 * on_timeout, so a password mail and a timeout never both act.
 *
 * Other hosts' records of what they did with ours: splitppap_remote.c;
 * timeouts and the sweep thread's clock: splitppap_sweep.c.
 *
 * Bounds: a message looks at the state only when it has password
 * candidates; candidates are bounded by limits.password_candidates,
 * each rescan by the scan's own limits and time budget, a sweep by
 * DONE_MAX queued records.  Ignores items that are not pending,
 * released, expired (the sweep's) or damaged.
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

#include "bytes.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "policy.h"
#include "pwcand.h"
#include "quarantine.h"
#include "runtime.h"
#include "sbuf.h"
#include "scan.h"
#include "splitppap.h"
#include "state.h"
#include "verdict.h"

#include "splitppap_int.h"
#include "util.h"

const char *const sp_timeout_names[] = { "release-tagged", "keep",
    "release" };

/* ---- the state's keys ---- */

void
sp_key_of(char key[KEY_MAX], const char *prefix, const char *host,
    const char *id)
{
	snprintf(key, KEY_MAX, "%s%s:%s", prefix, host, id);
}

static bool
is_mine(const struct quarantine *q, const char *host)
{
	return strcmp(host, quarantine_host(q)) == 0;
}

/*
 * Put the item's metadata (and, on a shared state, its message) where
 * every host sharing the state looks.  raw may be NULL (read it back).
 */
enum lw_err
sp_publish(struct quarantine *q, const char *id, const unsigned char *raw,
    size_t len, time_t until, time_t now)
{
	struct state	*st = quarantine_state(q);
	unsigned char	*own = NULL;
	char		 key[KEY_MAX], *meta;
	size_t		 mlen;
	enum lw_err	 e;

	if ((e = quarantine_meta_text(q, id, &meta, &mlen)) != LW_OK)
		return e;
	sp_key_of(key, K_PENDING, quarantine_host(q), id);
	e = state_put(st, key, meta, mlen, until + GRACE_SECS, now);
	free(meta);
	if (e != LW_OK || !state_shared(st) || until <= now)
		return e;
	if (raw == NULL && quarantine_message(q, id, &own, &len) == LW_OK)
		raw = own;
	if (raw != NULL && len <= quarantine_share_bytes(q)) {
		sp_key_of(key, K_MSG, quarantine_host(q), id);
		if (state_put(st, key, raw, len, until, now) != LW_OK)
			log_warnx("split PPAP: quarantine_id=%s: its message "
			    "is not shared (only this host can open it)", id);
	}
	free(own);
	return LW_OK;
}

/* Done with an item: nobody needs to look for it any more. */
void
sp_unpublish(struct quarantine *q, const char *host, const char *id)
{
	char	key[KEY_MAX];

	sp_key_of(key, K_PENDING, host, id);
	(void)state_del(quarantine_state(q), key);
	sp_key_of(key, K_MSG, host, id);
	(void)state_del(quarantine_state(q), key);
}

/* The claim: of every thread, process and host, one acts on an item. */
enum lw_err
sp_claim(struct quarantine *q, const char *host, const char *id,
    time_t until, time_t now)
{
	char	key[KEY_MAX];

	sp_key_of(key, K_CLAIM, host, id);
	return state_add(quarantine_state(q), key, quarantine_host(q),
	    strlen(quarantine_host(q)), until + GRACE_SECS, now);
}

void
sp_unclaim(struct quarantine *q, const char *host, const char *id)
{
	char	key[KEY_MAX];

	sp_key_of(key, K_CLAIM, host, id);
	(void)state_del(quarantine_state(q), key);
}

/* ---- small helpers ---- */

bool
sp_is_pending(const struct quarantine_item *it)
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
	x.on_timeout = sp_timeout_names[p->split_on_timeout];
	x.reason = reason;
	x.message_id = mid;
	e = quarantine_store_extra(se->q, raw, len, env, res, &x, now,
	    out->id);
	if (e == LW_OK && sp_publish(se->q, out->id, raw, len, x.expires,
	    now) != LW_OK) {
		/* Unfindable by its password mail: rather let it retry. */
		log_msg(LOG_ERR, env->qid, "split PPAP: the state refused "
		    "pending item %s", out->id);
		(void)quarantine_delete(se->q, out->id);
		out->id[0] = '\0';
		e = LW_EIO;
	}
	if (e == LW_OK) {
		out->pending = true;
		out->expires = x.expires;
		sp_notify_expiry(x.expires);
	}
	free(reason);
	free(mid);
	return e;
}

bool
splitppap_reopenable(const struct scan_result *res)
{
	const struct verdict	*v = res != NULL ? res->verdict : NULL;

	return v != NULL && v->policy != NULL && v->policy->split_wait > 0 &&
	    verdict_severity(v->action) >= verdict_severity(ACT_QUARANTINE) &&
	    findings_has(&v->findings, APU_RULE);
}

void
splitppap_watch(struct quarantine *q, const char *id,
    const unsigned char *raw, size_t len, const struct scan_result *res,
    const char *qid, time_t now)
{
	if (q == NULL || quarantine_state(q) == NULL || id == NULL ||
	    *id == '\0' || !splitppap_reopenable(res))
		return;
	if (now == 0)
		now = time(NULL);
	if (sp_publish(q, id, raw, len,
	    now + (time_t)res->verdict->policy->split_wait, now) != LW_OK)
		log_msg(LOG_WARNING, qid, "split PPAP: quarantine_id=%s: the "
		    "state refused it: a password mail will not re-open it",
		    id);
}

/* ---- opening ---- */

enum lw_err
sp_item_env(const struct quarantine_item *it, struct envelope *env)
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
enum lw_err
sp_release_item(struct quarantine *q, const struct quarantine_item *it,
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
	x.state = "released";
	x.expires = 0;
	x.reason = reason;
	if ((e = quarantine_update(q, it->id, NULL, &x)) != LW_OK)
		snprintf(err, errlen, "released, but recording the state "
		    "failed: %s", lw_strerror(e));
	return e;
}

/* "accept score=1 rules=A,B delayed-scan=WHAT" for X-Lurewall-Result. */
char *
sp_result_value(const char *action, int score, const char *rules,
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

/*
 * Keep an opened lure with the findings of its contents: a pending one
 * becomes held, a quarantined one (re-opened) stays what it was, at
 * least quarantine.
 */
enum lw_err
sp_keep_lure(struct quarantine *q, const struct quarantine_item *it,
    struct scan_result *r2, bool reopen, const char *where,
    const char *pwqid)
{
	struct quarantine_extra	 x;
	struct verdict		*v = r2->verdict;
	char			*reason;
	enum lw_err		 e;

	if (reopen && verdict_severity(v->action) <
	    verdict_severity(ACT_QUARANTINE))
		v->action = ACT_QUARANTINE;
	if (lw_asprintf(&reason, "archive %s with the password from a later "
	    "mail (qid %s%s%s): %s", reopen ? "re-opened" : "opened",
	    pwqid != NULL ? pwqid : "-", where != NULL ? " on " : "",
	    where != NULL ? where : "", verdict_action_name(v->action)) !=
	    LW_OK)
		return LW_ENOMEM;
	memset(&x, 0, sizeof(x));
	x.state = reopen ? it->state : "held";
	x.on_timeout = it->on_timeout;
	x.reason = reason;
	x.result = it->result;
	e = quarantine_update(q, it->id, r2, &x);
	free(reason);
	return e;
}

/* ---- one item, one password mail ---- */


/* The item is still what its record says (re-read under the lock). */
static bool
still_open(const struct quarantine_item *it, const struct found *f,
    time_t now)
{
	if (f->reopen)
		return !it->released && !sp_is_pending(it) && f->until > now;
	return sp_is_pending(it) && it->expires > now;
}

/* Try the password mail's candidates on one item. */
static void
try_item(const struct splitppap_env *se, const struct found *f,
    const struct pwcands *pw, const char *pwqid, time_t now,
    struct scan_result *pwres, struct splitppap_result *out)
{
	struct quarantine_item	*own = NULL;
	const struct quarantine_item *it = f->it;
	struct state_val	 bytes = { 0 };
	struct scan_opts	 opts;
	struct scan_result	 r2;
	struct envelope		 ienv;
	unsigned char		*raw = NULL;
	char			*result = NULL, *reason = NULL, err[512];
	char			 key[KEY_MAX];
	const struct verdict	*v;
	const char		*rules;
	size_t			 len = 0;
	bool			 locked, mine = is_mine(se->q, f->host);
	enum lw_err		 e;
	int			 fd = -1;

	memset(&r2, 0, sizeof(r2));
	memset(&ienv, 0, sizeof(ienv));
	if (mine) {
		if (!se->dry && quarantine_lock(se->q, f->id, &fd) != LW_OK)
			return;
		/* Under the lock, again: the store is the truth here. */
		if (quarantine_read(se->q, f->id, &own) != LW_OK ||
		    !still_open(own, f, now) ||
		    quarantine_message(se->q, f->id, &raw, &len) != LW_OK)
			goto out;
		it = own;
	} else {
		sp_key_of(key, K_MSG, f->host, f->id);
		if (state_get(quarantine_state(se->q), key, now, &bytes) !=
		    LW_OK) {
			log_msg(LOG_INFO, pwqid, "split PPAP: quarantine_id=%s "
			    "is held on %s, which did not share its message: "
			    "only %s can open it", f->id, f->host, f->host);
			goto out;
		}
		raw = bytes.data;
		len = bytes.len;
		bytes.data = NULL;
	}
	if (sp_item_env(it, &ienv) != LW_OK)
		goto out;
	memset(&opts, 0, sizeof(opts));
	opts.extra_pw = pw;
	if ((e = scan_message_opts(se->rt, raw, len, &ienv, &opts,
	    &r2)) != LW_OK || r2.verdict == NULL) {
		log_msg(LOG_WARNING, pwqid, "split PPAP: rescanning "
		    "quarantine_id=%s failed: %s", f->id, lw_strerror(e));
		goto out;
	}
	v = r2.verdict;
	(void)rule_score(v, APU_RULE, &locked);
	if (locked) {
		log_msg(LOG_DEBUG, pwqid, "split PPAP: quarantine_id=%s "
		    "still locked after %zu candidate(s)", f->id, pw->n);
		goto out;
	}
	rules = v->rules != NULL && *v->rules != '\0' ? v->rules : "-";
	if (se->dry) {
		/* What the daemon would do; the store stays as it is. */
		if (!f->reopen && verdict_severity(v->action) <
		    verdict_severity(ACT_QUARANTINE))
			out->released++;
		else {
			out->lures++;
			(void)mark_lure(pwres, f->id);
		}
		goto out;
	}
	/* Of every thread, process and host, the one that claims acts. */
	if ((e = sp_claim(se->q, f->host, f->id, f->until, now)) != LW_OK) {
		if (e != LW_EEXIST)
			log_msg(LOG_WARNING, pwqid, "split PPAP: claiming "
			    "quarantine_id=%s failed: %s", f->id,
			    lw_strerror(e));
		goto out;
	}
	if (!f->reopen && verdict_severity(v->action) <
	    verdict_severity(ACT_QUARANTINE)) {
		result = sp_result_value(verdict_action_name(v->action),
		    v->score, v->rules, "password-mail");
		if (result == NULL || lw_asprintf(&reason, "archive opened "
		    "with the password from a later mail (qid %s)",
		    pwqid != NULL ? pwqid : "-") != LW_OK) {
			sp_unclaim(se->q, f->host, f->id);
			goto out;
		}
		err[0] = '\0';
		if (mine)
			e = sp_release_item(se->q, it, se->submit, &r2, result,
			    reason, err, sizeof(err));
		else
			e = quarantine_submit(se->q, f->id, raw, len,
			    it->mail_from, it->rcpts, it->nrcpts, result,
			    se->submit, err, sizeof(err));
		if (e != LW_OK && strncmp(err, "released,", 9) != 0) {
			sp_unclaim(se->q, f->host, f->id);
			log_msg(LOG_ERR, pwqid, "split PPAP: quarantine_id=%s "
			    "opened (%s score=%d) but release failed: %s",
			    f->id, verdict_action_name(v->action), v->score,
			    err);
			goto out;
		}
		sp_unpublish(se->q, f->host, f->id);
		if (!mine)
			sp_queue_done(se->q, f->host, "released", f->id, pwqid,
			    NULL, now);
		out->released++;
		metrics_add(MC_SPLIT_RELEASED, 1);
		log_msg(LOG_INFO, pwqid, "split PPAP: quarantine_id=%s%s%s "
		    "opened with this mail's password: %s score=%d rules=%s: "
		    "released", f->id, mine ? "" : " of ", mine ? "" : f->host,
		    verdict_action_name(v->action), v->score, rules);
		goto out;
	}
	/* A lure: it stays, now with the findings of its contents. */
	if (mine)
		e = sp_keep_lure(se->q, it, &r2, f->reopen, NULL, pwqid);
	else {
		sp_queue_done(se->q, f->host, f->reopen ? "reopen" : "lure",
		    f->id, pwqid, pw, now);
		e = LW_OK;
	}
	if (e != LW_OK) {
		sp_unclaim(se->q, f->host, f->id);
		log_msg(LOG_ERR, pwqid, "split PPAP: quarantine_id=%s is a "
		    "lure but updating it failed: %s", f->id, lw_strerror(e));
		goto out;
	}
	sp_unpublish(se->q, f->host, f->id);
	out->lures++;
	(void)mark_lure(pwres, f->id);
	log_msg(LOG_NOTICE, pwqid, "split PPAP: quarantine_id=%s%s%s %s with "
	    "this mail's password: %s score=%d rules=%s: %s; this mail is "
	    "tagged", f->id, mine ? "" : " of ", mine ? "" : f->host,
	    f->reopen ? "re-opened" : "opened",
	    verdict_action_name(v->action), v->score, rules,
	    f->reopen ? "stays quarantined with its contents' findings" :
	    "held");
out:
	if (fd != -1)
		quarantine_unlock(fd);
	scan_result_free(&r2);
	envelope_free(&ienv);
	quarantine_item_free(own);
	free(raw);
	free(result);
	free(reason);
}

/* This mail could carry the password of it: same sender, a rcpt shared. */
static bool
item_matches(const struct found *f, const struct envelope *env,
    const struct message *msg, time_t now)
{
	const struct quarantine_item	*it = f->it;
	size_t				 i, j;

	if (f->until <= now || it->released)
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


void
sp_founds_free(struct found *v, size_t n)
{
	while (n > 0)
		quarantine_item_free(v[--n].it);
	free(v);
}

/* "pending:HOST:ID" -> f; false when the key is not that shape. */
static bool
parse_key(const char *key, struct found *f)
{
	const char	*h = key + sizeof(K_PENDING) - 1, *c;

	if ((c = strchr(h, ':')) == NULL || c == h ||
	    (size_t)(c - h) > STATE_HOST_MAX ||
	    strlen(c + 1) >= sizeof(f->id))
		return false;
	memcpy(f->host, h, (size_t)(c - h));
	f->host[c - h] = '\0';
	snprintf(f->id, sizeof(f->id), "%s", c + 1);
	return state_host_ok(f->host) && quarantine_id_valid(f->id);
}

enum lw_err
sp_collect_one(void *arg, const char *key, const struct state_val *sv)
{
	struct collect		*c = arg;
	struct found		 f, *nv;

	memset(&f, 0, sizeof(f));
	if (!parse_key(key, &f) ||
	    (c->only != NULL && strcmp(f.host, c->only) != 0))
		return LW_OK;
	if (quarantine_meta_parse((const char *)sv->data, sv->len,
	    &f.it) != LW_OK)
		return LW_OK;		/* damaged: skip */
	f.reopen = !sp_is_pending(f.it);
	f.until = f.reopen ? (sv->expires > GRACE_SECS ?
	    sv->expires - GRACE_SECS : 0) : f.it->expires;
	if (c->env != NULL && !item_matches(&f, c->env, c->msg, c->now)) {
		quarantine_item_free(f.it);
		return LW_OK;
	}
	if ((nv = reallocarray(c->v, c->n + 1, sizeof(*nv))) == NULL) {
		quarantine_item_free(f.it);
		return LW_ENOMEM;
	}
	c->v = nv;
	c->v[c->n++] = f;
	return LW_OK;
}

static enum lw_err
unlock_pending(const struct splitppap_env *se, const struct envelope *env,
    struct scan_result *res, time_t now, struct splitppap_result *out)
{
	struct pwcands	 pw = { 0 };
	struct collect	 c;
	size_t		 i;
	enum lw_err	 e;
	int		 pass;

	/* No password in it: nothing to look up (Redis: no SCAN). */
	if (res->msg == NULL || quarantine_state(se->q) == NULL)
		return LW_OK;
	if ((e = pwcand_collect(&pw, res->msg,
	    se->rt->lim->password_candidates)) != LW_OK || pw.n == 0) {
		pwcand_free(&pw);
		return e == LW_ENOMEM ? e : LW_OK;
	}
	memset(&c, 0, sizeof(c));
	c.env = env;
	c.msg = res->msg;
	c.now = now;
	if ((e = state_each(quarantine_state(se->q), K_PENDING, now,
	    sp_collect_one, &c)) != LW_OK) {
		if (e != LW_ENOMEM)
			log_msg(LOG_WARNING, env->qid, "split PPAP: looking "
			    "for pending items failed: %s", lw_strerror(e));
		e = e == LW_ENOMEM ? e : LW_OK;
	}
	/* The mail that names the held one in its thread first. */
	for (pass = 0; e == LW_OK && pass < 2; pass++)
		for (i = 0; i < c.n; i++)
			if (references_item(c.v[i].it, res->msg) ==
			    (pass == 0))
				try_item(se, &c.v[i], &pw, env->qid, now, res,
				    out);
	sp_founds_free(c.v, c.n);
	pwcand_free(&pw);
	return e;
}

enum lw_err
splitppap_eom(const struct splitppap_env *se, const unsigned char *raw,
    size_t len, const struct envelope *env, struct scan_result *res,
    struct splitppap_result *out)
{
	static time_t	 said;
	time_t		 now = se->now != 0 ? se->now : time(NULL);

	memset(out, 0, sizeof(*out));
	if ((se->q == NULL && !se->dry) || res->verdict == NULL)
		return LW_OK;
	if (splitppap_eligible(res)) {
		if (se->dry || quarantine_state(se->q) != NULL)
			return store_pending(se, raw, len, env, res, now, out);
		/* No state, no password mail would find it: judge it. */
		if (now - said >= 60) {
			said = now;
			log_msg(LOG_WARNING, env->qid, "split PPAP: no state "
			    "(see the log at start): not holding it");
		}
		return LW_OK;
	}
	if (se->q == NULL)
		return LW_OK;	/* dry, no store: nothing pending */
	return unlock_pending(se, env, res, now, out);
}

void
splitppap_forget(struct quarantine *q, const char *id)
{
	time_t	now = time(NULL);

	if (q == NULL || quarantine_state(q) == NULL ||
	    !quarantine_id_valid(id))
		return;
	/* Claimed first: a password mail elsewhere now leaves it be. */
	(void)sp_claim(q, quarantine_host(q), id, now, now);
	sp_unpublish(q, quarantine_host(q), id);
}
