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

#define APU_RULE	"ARCHIVE_PASSWORD_UNKNOWN"
#define PENDING_DIR	"pending"	/* before the state: markers */
#define RELEASED_BY	"split-ppap"
#define FIELD_MAX	200		/* attacker text in a log line */
#define K_PENDING	STATE_NS_PENDING
#define K_MSG		"pendingmsg:"
#define K_CLAIM		"claim:"
#define K_DONE		"spdone:"
#define GRACE_SECS	(7 * 86400)	/* keys outlive the wait by this */
#define DONE_MAX	1000		/* queued records one sweep takes */
#define DONE_POLL_SECS	5		/* shared: look at the queue */
#define RESTORE_SECS	900		/* put back what the state lost */
#define KEY_MAX		(sizeof(K_MSG) + 64 + QUARANTINE_ID_MAX + 2)

static pthread_mutex_t	 wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wake_cond = PTHREAD_COND_INITIALIZER;
static time_t		 wake_at;	/* earliest wake-up asked; 0 none */
static bool		 sleep_stopped;	/* the daemon is stopping */
static time_t		 due_at;	/* earliest known expiry; 0 none */
static time_t		 scanned_at;	/* the last look at every item */

static const char *const timeout_names[] = { "release-tagged", "keep",
    "release" };

/* ---- the sweep thread's alarm clock ---- */

/* Wake the sweep thread by when (0: nothing new). */
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

/* An item expires at when: the sweep must look then. */
static void
notify_expiry(time_t when)
{
	pthread_mutex_lock(&wake_lock);
	if (when != 0 && (due_at == 0 || when < due_at))
		due_at = when;
	pthread_mutex_unlock(&wake_lock);
	notify(when);
}

/*
 * Whether a periodic sweep must look at every item now: something is
 * due, or SPLITPPAP_SWEEP_SECS passed (another process may have added
 * items).  Wake-ups for the queue alone (a shared state, every few
 * seconds) skip it, so Redis is not scanned that often.
 */
static bool
scan_due(time_t now)
{
	bool	due;

	pthread_mutex_lock(&wake_lock);
	due = (due_at != 0 && due_at <= now) ||
	    now - scanned_at >= SPLITPPAP_SWEEP_SECS;
	if (due) {
		scanned_at = now;
		due_at = 0;
	} else if (due_at != 0 && (wake_at == 0 || due_at < wake_at))
		wake_at = due_at;	/* woken early (time(3) is coarse) */
	pthread_mutex_unlock(&wake_lock);
	return due;
}

static bool
restore_due(time_t now)
{
	static time_t	 restored_at;
	bool		 due;

	pthread_mutex_lock(&wake_lock);
	if ((due = restored_at == 0 || now - restored_at >= RESTORE_SECS))
		restored_at = now;
	pthread_mutex_unlock(&wake_lock);
	return due;
}

bool
splitppap_sleep(unsigned max_secs)
{
	struct timespec	ts;
	time_t		deadline;
	int		rc = 0;
	bool		go_on;

	pthread_mutex_lock(&wake_lock);
	deadline = time(NULL) + (time_t)max_secs;
	while (rc != ETIMEDOUT && !sleep_stopped) {
		if (wake_at != 0 && wake_at < deadline)
			deadline = wake_at;
		if (time(NULL) >= deadline)
			break;
		ts.tv_sec = deadline;
		ts.tv_nsec = 0;
		rc = pthread_cond_timedwait(&wake_cond, &wake_lock, &ts);
	}
	wake_at = 0;		/* the sweep that follows notes the next one */
	go_on = !sleep_stopped;
	pthread_mutex_unlock(&wake_lock);
	return go_on;
}

void
splitppap_stop_sleep(void)
{
	pthread_mutex_lock(&wake_lock);
	sleep_stopped = true;
	pthread_cond_broadcast(&wake_cond);
	pthread_mutex_unlock(&wake_lock);
}

/* ---- the state's keys ---- */

static void
key_of(char key[KEY_MAX], const char *prefix, const char *host,
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
static enum lw_err
publish(struct quarantine *q, const char *id, const unsigned char *raw,
    size_t len, time_t until, time_t now)
{
	struct state	*st = quarantine_state(q);
	unsigned char	*own = NULL;
	char		 key[KEY_MAX], *meta;
	size_t		 mlen;
	enum lw_err	 e;

	if ((e = quarantine_meta_text(q, id, &meta, &mlen)) != LW_OK)
		return e;
	key_of(key, K_PENDING, quarantine_host(q), id);
	e = state_put(st, key, meta, mlen, until + GRACE_SECS, now);
	free(meta);
	if (e != LW_OK || !state_shared(st) || until <= now)
		return e;
	if (raw == NULL && quarantine_message(q, id, &own, &len) == LW_OK)
		raw = own;
	if (raw != NULL && len <= quarantine_share_bytes(q)) {
		key_of(key, K_MSG, quarantine_host(q), id);
		if (state_put(st, key, raw, len, until, now) != LW_OK)
			log_warnx("split PPAP: quarantine_id=%s: its message "
			    "is not shared (only this host can open it)", id);
	}
	free(own);
	return LW_OK;
}

/* Done with an item: nobody needs to look for it any more. */
static void
unpublish(struct quarantine *q, const char *host, const char *id)
{
	char	key[KEY_MAX];

	key_of(key, K_PENDING, host, id);
	(void)state_del(quarantine_state(q), key);
	key_of(key, K_MSG, host, id);
	(void)state_del(quarantine_state(q), key);
}

/* The claim: of every thread, process and host, one acts on an item. */
static enum lw_err
claim(struct quarantine *q, const char *host, const char *id,
    time_t until, time_t now)
{
	char	key[KEY_MAX];

	key_of(key, K_CLAIM, host, id);
	return state_add(quarantine_state(q), key, quarantine_host(q),
	    strlen(quarantine_host(q)), until + GRACE_SECS, now);
}

static void
unclaim(struct quarantine *q, const char *host, const char *id)
{
	char	key[KEY_MAX];

	key_of(key, K_CLAIM, host, id);
	(void)state_del(quarantine_state(q), key);
}

static void
ids_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
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
	if (e == LW_OK && publish(se->q, out->id, raw, len, x.expires,
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
		notify_expiry(x.expires);
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
	if (publish(q, id, raw, len,
	    now + (time_t)res->verdict->policy->split_wait, now) != LW_OK)
		log_msg(LOG_WARNING, qid, "split PPAP: quarantine_id=%s: the "
		    "state refused it: a password mail will not re-open it",
		    id);
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

/*
 * Keep an opened lure with the findings of its contents: a pending one
 * becomes held, a quarantined one (re-opened) stays what it was, at
 * least quarantine.
 */
static enum lw_err
keep_lure(struct quarantine *q, const struct quarantine_item *it,
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

/* ---- another host's items: the owner's queue ---- */

static void
hex_line(struct sbuf *sb, const char *s)
{
	static const char	hx[] = "0123456789abcdef";
	const unsigned char	*p;

	for (p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
		sbuf_add(sb, &hx[*p >> 4], 1);
		sbuf_add(sb, &hx[*p & 15], 1);
	}
	sbuf_add(sb, "\n", 1);
}

/* Decode one hex line in place; false when it is not hex. */
static bool
unhex(char *s)
{
	size_t	i, n = strlen(s);
	int	h, l;

	if (n % 2 != 0)
		return false;
	for (i = 0; i < n / 2; i++) {
		if ((h = hexval((unsigned char)s[2 * i])) < 0 ||
		    (l = hexval((unsigned char)s[2 * i + 1])) < 0 ||
		    (h == 0 && l == 0))
			return false;
		s[i] = (char)(h << 4 | l);
	}
	s[n / 2] = '\0';
	return true;
}

/*
 * Tell the owner what we did with its item: "KIND\nID\n" and hex lines:
 * our host, the password mail's qid, then (lure, reopen) the
 * candidates, so the owner scans its own copy again with them.
 */
static void
queue_done(struct quarantine *q, const char *owner, const char *kind,
    const char *id, const char *pwqid, const struct pwcands *pw, time_t now)
{
	struct sbuf	sb = { 0 };
	char		key[KEY_MAX];
	size_t		i;

	sbuf_adds(&sb, kind);
	sbuf_adds(&sb, "\n");
	sbuf_adds(&sb, id);
	sbuf_adds(&sb, "\n");
	hex_line(&sb, quarantine_host(q));
	hex_line(&sb, pwqid != NULL ? pwqid : "-");
	for (i = 0; pw != NULL && i < pw->n; i++)
		hex_line(&sb, pw->v[i]);
	snprintf(key, sizeof(key), K_DONE "%s", owner);
	if (sb.oom || state_push(quarantine_state(q), key, sb.p, sb.len, 0,
	    now + GRACE_SECS, now) != LW_OK)
		log_warnx("split PPAP: quarantine_id=%s of %s: telling it "
		    "failed: it keeps its copy", id, owner);
	free(sb.p);
}

/* ---- one item, one password mail ---- */

/* One pending (or re-openable) item as the state lists it. */
struct found {
	char			 host[STATE_HOST_MAX + 1];
	char			 id[QUARANTINE_ID_MAX];
	time_t			 until;		/* it waits till then */
	bool			 reopen;	/* quarantined outright */
	struct quarantine_item	*it;		/* its metadata */
};

/* The item is still what its record says (re-read under the lock). */
static bool
still_open(const struct quarantine_item *it, const struct found *f,
    time_t now)
{
	if (f->reopen)
		return !it->released && !is_pending(it) && f->until > now;
	return is_pending(it) && it->expires > now;
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
		key_of(key, K_MSG, f->host, f->id);
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
	if (item_env(it, &ienv) != LW_OK)
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
	if ((e = claim(se->q, f->host, f->id, f->until, now)) != LW_OK) {
		if (e != LW_EEXIST)
			log_msg(LOG_WARNING, pwqid, "split PPAP: claiming "
			    "quarantine_id=%s failed: %s", f->id,
			    lw_strerror(e));
		goto out;
	}
	if (!f->reopen && verdict_severity(v->action) <
	    verdict_severity(ACT_QUARANTINE)) {
		result = result_value(verdict_action_name(v->action),
		    v->score, v->rules, "password-mail");
		if (result == NULL || lw_asprintf(&reason, "archive opened "
		    "with the password from a later mail (qid %s)",
		    pwqid != NULL ? pwqid : "-") != LW_OK) {
			unclaim(se->q, f->host, f->id);
			goto out;
		}
		err[0] = '\0';
		if (mine)
			e = release_item(se->q, it, se->submit, &r2, result,
			    reason, err, sizeof(err));
		else
			e = quarantine_submit(se->q, f->id, raw, len,
			    it->mail_from, it->rcpts, it->nrcpts, result,
			    se->submit, err, sizeof(err));
		if (e != LW_OK && strncmp(err, "released,", 9) != 0) {
			unclaim(se->q, f->host, f->id);
			log_msg(LOG_ERR, pwqid, "split PPAP: quarantine_id=%s "
			    "opened (%s score=%d) but release failed: %s",
			    f->id, verdict_action_name(v->action), v->score,
			    err);
			goto out;
		}
		unpublish(se->q, f->host, f->id);
		if (!mine)
			queue_done(se->q, f->host, "released", f->id, pwqid,
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
		e = keep_lure(se->q, it, &r2, f->reopen, NULL, pwqid);
	else {
		queue_done(se->q, f->host, f->reopen ? "reopen" : "lure",
		    f->id, pwqid, pw, now);
		e = LW_OK;
	}
	if (e != LW_OK) {
		unclaim(se->q, f->host, f->id);
		log_msg(LOG_ERR, pwqid, "split PPAP: quarantine_id=%s is a "
		    "lure but updating it failed: %s", f->id, lw_strerror(e));
		goto out;
	}
	unpublish(se->q, f->host, f->id);
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

struct collect {
	struct found	*v;
	size_t		 n;
	const char	*only;		/* one host's, or NULL: all */
	/* Matching a password mail: */
	const struct envelope	*env;
	const struct message	*msg;
	time_t			 now;
};

static void
founds_free(struct found *v, size_t n)
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

static enum lw_err
collect_one(void *arg, const char *key, const struct state_val *sv)
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
	f.reopen = !is_pending(f.it);
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
	    collect_one, &c)) != LW_OK) {
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
	founds_free(c.v, c.n);
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
	(void)claim(q, quarantine_host(q), id, now, now);
	unpublish(q, quarantine_host(q), id);
}

/* ---- what other hosts did with ours ---- */

/* One record of our queue (see queue_done). */
static void
apply_done(const struct splitppap_env *se, char *rec)
{
	struct quarantine_item	*it = NULL;
	struct pwcands		 pw = { 0 };
	struct scan_opts	 opts;
	struct scan_result	 r2;
	struct envelope		 ienv;
	unsigned char		*raw = NULL;
	char			*kind, *id, *by, *pwqid, *line, *save;
	size_t			 len;
	bool			 reopen;
	enum lw_err		 e;
	int			 fd;

	memset(&r2, 0, sizeof(r2));
	memset(&ienv, 0, sizeof(ienv));
	if ((kind = strtok_r(rec, "\n", &save)) == NULL ||
	    (id = strtok_r(NULL, "\n", &save)) == NULL ||
	    (by = strtok_r(NULL, "\n", &save)) == NULL ||
	    (pwqid = strtok_r(NULL, "\n", &save)) == NULL ||
	    !unhex(by) || !unhex(pwqid) || !quarantine_id_valid(id) ||
	    !state_host_ok(by) || (strcmp(pwqid, "-") != 0 &&
	    !quarantine_id_valid(pwqid)))
		return;
	if (quarantine_lock(se->q, id, &fd) != LW_OK)
		return;
	if (quarantine_read(se->q, id, &it) != LW_OK)
		goto out;
	if (strcmp(kind, "released") == 0) {
		/* It went out from there: one copy, none here. */
		if (is_pending(it) && quarantine_delete(se->q, id) == LW_OK)
			log_msg(LOG_INFO, it->qid, "split PPAP: quarantine_id="
			    "%s released by %s (password mail qid %s): local "
			    "copy removed", id, by, pwqid);
		goto out;
	}
	reopen = strcmp(kind, "reopen") == 0;
	if (!reopen && strcmp(kind, "lure") != 0)
		goto out;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		if (unhex(line) && pwcand_add(&pw, line, strlen(line), false,
		    se->rt->lim->password_candidates) == LW_ENOMEM)
			goto out;
	if (quarantine_message(se->q, id, &raw, &len) != LW_OK ||
	    item_env(it, &ienv) != LW_OK)
		goto out;
	memset(&opts, 0, sizeof(opts));
	opts.extra_pw = &pw;
	if ((e = scan_message_opts(se->rt, raw, len, &ienv, &opts, &r2)) !=
	    LW_OK || r2.verdict == NULL) {
		log_msg(LOG_WARNING, it->qid, "split PPAP: rescanning "
		    "quarantine_id=%s failed: %s", id, lw_strerror(e));
		goto out;
	}
	if ((e = keep_lure(se->q, it, &r2, reopen, by, pwqid)) != LW_OK)
		log_msg(LOG_ERR, it->qid, "split PPAP: quarantine_id=%s: "
		    "updating it failed: %s", id, lw_strerror(e));
	else
		log_msg(LOG_NOTICE, it->qid, "split PPAP: quarantine_id=%s "
		    "%s on %s with the password of mail qid %s: %s score=%d "
		    "rules=%s: %s", id, reopen ? "re-opened" : "opened", by,
		    pwqid, verdict_action_name(r2.verdict->action),
		    r2.verdict->score, r2.verdict->rules != NULL &&
		    *r2.verdict->rules != '\0' ? r2.verdict->rules : "-",
		    reopen ? "stays quarantined with its contents' findings" :
		    "held");
out:
	quarantine_unlock(fd);
	quarantine_item_free(it);
	scan_result_free(&r2);
	envelope_free(&ienv);
	pwcand_free(&pw);
	free(raw);
}

void
splitppap_drain(const struct splitppap_env *se)
{
	struct state_val	 v;
	struct state		*st;
	char			 key[KEY_MAX], *rec;
	time_t			 now = se->now != 0 ? se->now : time(NULL);
	size_t			 i;

	if (se->q == NULL || se->dry || (st = quarantine_state(se->q)) ==
	    NULL)
		return;
	snprintf(key, sizeof(key), K_DONE "%s", quarantine_host(se->q));
	for (i = 0; i < DONE_MAX && state_pop(st, key, now, &v) == LW_OK;
	    i++) {
		rec = lw_strndup((const char *)v.data, v.len);
		state_val_free(&v);
		if (rec != NULL)
			apply_done(se, rec);
		free(rec);
	}
	/* A shared state: others may queue for us any time. */
	if (state_shared(st))
		notify(now + DONE_POLL_SECS);
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

/* on_timeout for one expired item (claimed); true when it acted. */
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

/*
 * The pending/ markers of the store before the state (one empty file
 * per pending item): each becomes the item's record in the state, then
 * goes; the directory goes when empty.  A record the state refuses
 * keeps its marker for the next start.
 */
static size_t
migrate_markers(struct quarantine *q, time_t now)
{
	struct quarantine_item	*it;
	struct dirent		*de;
	char			*path, **ids = NULL, **nv;
	size_t			 n = 0, i, moved = 0;
	DIR			*d;
	int			 dfd;

	if (lw_asprintf(&path, "%s/" PENDING_DIR, quarantine_dir(q)) != LW_OK)
		return 0;
	if ((d = opendir(path)) == NULL) {
		free(path);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!quarantine_id_valid(de->d_name))
			continue;
		if ((nv = reallocarray(ids, n + 1, sizeof(*ids))) == NULL ||
		    (nv[n] = strdup(de->d_name)) == NULL) {
			if (nv != NULL)
				ids = nv;
			break;
		}
		ids = nv;
		n++;
	}
	dfd = dirfd(d);
	for (i = 0; i < n; i++) {
		if (quarantine_read(q, ids[i], &it) == LW_OK) {
			if (is_pending(it) && publish(q, ids[i], NULL, 0,
			    it->expires, now) != LW_OK) {
				quarantine_item_free(it);
				continue;
			}
			if (is_pending(it))
				moved++;
			quarantine_item_free(it);
		}
		(void)unlinkat(dfd, ids[i], 0);
	}
	closedir(d);
	if (rmdir(path) == 0 || moved > 0)
		log_info("split PPAP: %zu pending item(s) moved from %s into "
		    "the state", moved, path);
	ids_free(ids, n);
	free(path);
	return moved;
}

/*
 * After a crash between store and record, or an outage of a shared
 * state: every pending item not in the state, and not claimed, goes
 * back in.
 */
static void
restore(struct quarantine *q, time_t now)
{
	struct quarantine_item	**v;
	struct state_val	  sv;
	char			  key[KEY_MAX];
	size_t			  n, i;

	if (quarantine_list(q, &v, &n) != LW_OK)
		return;
	for (i = 0; i < n; i++) {
		if (!is_pending(v[i]))
			continue;
		key_of(key, K_PENDING, quarantine_host(q), v[i]->id);
		if (state_get(quarantine_state(q), key, now, &sv) == LW_OK) {
			state_val_free(&sv);
			continue;
		}
		key_of(key, K_CLAIM, quarantine_host(q), v[i]->id);
		if (state_get(quarantine_state(q), key, now, &sv) == LW_OK) {
			state_val_free(&sv);
			continue;
		}
		if (publish(q, v[i]->id, NULL, 0, v[i]->expires, now) ==
		    LW_OK)
			log_info("split PPAP: quarantine_id=%s back in the "
			    "state", v[i]->id);
	}
	quarantine_items_free(v, n);
}

enum lw_err
splitppap_sweep(struct quarantine *q, const char *submit, time_t now,
    bool full, FILE *report, size_t *acted)
{
	struct quarantine_item	*it;
	struct collect		 c;
	char			 only[STATE_HOST_MAX + 2];
	size_t			 i, n = 0;
	time_t			 next = 0;
	enum lw_err		 e;

	if (acted != NULL)
		*acted = 0;
	if (quarantine_state(q) == NULL)
		return LW_OK;
	/* The daemon's periodic sweep (no report): only when due. */
	if (!scan_due(now) && !full && report == NULL)
		return LW_OK;
	if (full)
		(void)migrate_markers(q, now);
	/*
	 * What a shared state lost, or never got (stored during an
	 * outage, in the local fallback): at start, by hand, and every
	 * RESTORE_SECS, so that no item waits for a restart.
	 */
	if (restore_due(now) || full)
		restore(q, now);
	memset(&c, 0, sizeof(c));
	c.only = quarantine_host(q);
	snprintf(only, sizeof(only), "%s:", c.only);
	{
		char	prefix[sizeof(K_PENDING) + sizeof(only)];

		snprintf(prefix, sizeof(prefix), K_PENDING "%s", only);
		if ((e = state_each(quarantine_state(q), prefix, now,
		    collect_one, &c)) != LW_OK) {
			founds_free(c.v, c.n);
			return e;
		}
	}
	for (i = 0; i < c.n; i++) {
		e = quarantine_read(q, c.v[i].id, &it);
		if (c.v[i].reopen) {
			/* Re-openable until the state drops it, if kept. */
			if (e == LW_ENOTFOUND || (e == LW_OK && it->released))
				unpublish(q, c.v[i].host, c.v[i].id);
		} else if (e == LW_ENOTFOUND ||
		    (e == LW_OK && !is_pending(it))) {
			unpublish(q, c.v[i].host, c.v[i].id);	/* done */
		} else if (e == LW_OK && it->expires > now) {
			if (next == 0 || it->expires < next)
				next = it->expires;
		} else if (e == LW_OK && claim(q, c.v[i].host, c.v[i].id,
		    it->expires, now) == LW_OK) {
			if (timeout_item(q, c.v[i].id, submit, now, report)) {
				unpublish(q, c.v[i].host, c.v[i].id);
				n++;
			} else
				unclaim(q, c.v[i].host, c.v[i].id);
		}
		quarantine_item_free(it);
	}
	founds_free(c.v, c.n);
	notify_expiry(next);
	if (acted != NULL)
		*acted = n;
	return LW_OK;
}
