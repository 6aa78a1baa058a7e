/*
 * scan.c: the engine's entry point: raw message -> findings -> verdict.
 *
 * Takes the raw message, the envelope and the policies; returns the
 * parsed message and the verdict of the most severe recipient policy.
 * Content analysis (MIME, archives, Office, file types) runs once; the
 * policy-dependent signs (hijack, custom rules, EMOTET_LURE) run once
 * per distinct recipient policy.  Bounded by the limits and by a wall
 * clock budget (SCAN_TIMEOUT).  Only internal errors (ENOMEM) fail.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content.h"
#include "config.h"
#include "hijack.h"
#include "learn.h"
#include "log.h"
#include "mime.h"
#include "policy.h"
#include "pwcand.h"
#include "runtime.h"
#include "transport.h"
#include "analyzer.h"
#include "verdict.h"

static pthread_mutex_t	gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned		gate_max;	/* 0: no limit */
static unsigned		gate_busy;

void
scan_set_concurrency(unsigned n)
{
	pthread_mutex_lock(&gate_lock);
	gate_max = n;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void
gate_enter(void)
{
	pthread_mutex_lock(&gate_lock);
	while (gate_max != 0 && gate_busy >= gate_max)
		pthread_cond_wait(&gate_cond, &gate_lock);
	gate_busy++;
	pthread_mutex_unlock(&gate_lock);
}

static void
gate_leave(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_busy--;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

bool
scan_expired(struct scan_ctx *ctx)
{
	if (ctx->timed_out)
		return true;
	if (ctx->deadline_ms == 0 || lw_now_ms() < ctx->deadline_ms)
		return false;
	ctx->timed_out = true;
	(void)findings_add(ctx->fs, "SCAN_TIMEOUT", "",
	    "scan budget of %u ms spent; rest of the message not analyzed",
	    ctx->lim->scan_timeout_ms);
	scan_log(ctx, LOG_WARNING, "scan budget of %u ms spent",
	    ctx->lim->scan_timeout_ms);
	return true;
}

uint64_t
scan_kdf_left(const struct scan_ctx *ctx, uint64_t file_ms)
{
	uint64_t	 m, f;

	m = ctx->kdf_ms < LW_KDF_MESSAGE_MS ? LW_KDF_MESSAGE_MS - ctx->kdf_ms :
	    0;
	f = file_ms < LW_KDF_FILE_MS ? LW_KDF_FILE_MS - file_ms : 0;
	return m < f ? m : f;
}

void
scan_log(const struct scan_ctx *ctx, int prio, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		log_msg(prio, ctx != NULL ? ctx->qid : NULL, "%s", s);
		free(s);
	}
	va_end(ap);
}

/*
 * Findings that say the scan hit a bound or could not read something:
 * the admin must see them in the log to tune the limits.  archive.c
 * and scan_expired log their own where they happen (a locked archive
 * is logged here: password_candidates may be too low); the MIME parser
 * has no scan_ctx, the Office readers report a limit as a malformed
 * part and a custom rule's pcre2 limit is a SCAN_ERROR: log those here.
 */
static void
log_bounds(struct scan_ctx *ctx, const struct findings *fs)
{
	const struct finding	*f;
	size_t			 i;

	for (i = 0; i < fs->n; i++) {
		f = &fs->v[i];
		if (strcmp(f->rule, "MIME_LIMIT") == 0 ||
		    strcmp(f->rule, "OFFICE_MALFORMED") == 0 ||
		    strcmp(f->rule, "ARCHIVE_PASSWORD_UNKNOWN") == 0 ||
		    strcmp(f->rule, "SCAN_ERROR") == 0)
			scan_log(ctx, LOG_INFO, "%s %s: %s", f->rule,
			    *f->part != '\0' ? f->part : "-", f->detail);
	}
}

struct attach_walk {
	struct scan_ctx	*ctx;
	enum lw_err	 err;
};

/*
 * Every attachment goes through the content dispatcher.  Its path is
 * the MIME part path plus its file name ("2/invoice.zip"), so findings
 * inside it read "2/invoice.zip/doc.xls".
 */
static bool
visit_attachment(const struct mime_part *part, void *arg)
{
	struct attach_walk	*w = arg;
	char			*path = NULL, *name = NULL;
	enum lw_err		 e;

	if (part->nchild > 0 || part->inner != NULL)
		return true;
	if (scan_expired(w->ctx))
		return false;
	if (!part->is_attachment) {
		/* Body text may carry uuencoded or yEnc files. */
		if ((e = transport_scan(w->ctx, part->path, part->body,
		    part->body_len)) != LW_OK)
			w->err = e;
		return w->err == LW_OK;
	}
	if (part->filename != NULL) {
		if ((name = lw_sanitize(part->filename,
		    strlen(part->filename), 200)) == NULL) {
			w->err = LW_ENOMEM;
			return false;
		}
		e = lw_asprintf(&path, "%s%s%s", part->path,
		    *part->path != '\0' ? "/" : "", name);
	} else
		e = lw_asprintf(&path, "%s", *part->path != '\0' ?
		    part->path : "1");
	if (e != LW_OK) {
		free(name);
		w->err = e;
		return false;
	}
	e = content_analyze(w->ctx, path, part->filename, part->ctype,
	    part->body, part->body_len, 0);
	if (e == LW_ENOMEM)
		w->err = e;
	else if (e != LW_OK)
		/* An analyzer's own failure is evidence, not a verdict. */
		(void)findings_add(w->ctx->fs, "SCAN_ERROR", path,
		    "analyzer failed: %s", lw_strerror(e));
	free(path);
	free(name);
	return w->err == LW_OK;
}

/* The From address and the envelope sender are both on macro_senders. */
static bool
macro_sender(const struct policy *p, const struct message *msg,
    const struct envelope *env)
{
	if (p->nmacro_senders == 0 || msg->from.addr == NULL)
		return false;
	if (!policy_addr_listed(p->macro_senders, p->nmacro_senders,
	    msg->from.addr))
		return false;
	if (env != NULL && env->mail_from != NULL && *env->mail_from != '\0')
		return policy_addr_listed(p->macro_senders,
		    p->nmacro_senders, env->mail_from);
	return true;
}

static const char *
addr_domain(const char *addr)
{
	const char	*at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL ? at + 1 : "";
}

/*
 * An OFFICE_REMOTE_TEMPLATE whose host (the "(host H)" extref.c ends
 * its detail with) is one of the policy's trusted_template_hosts or a
 * subdomain of one: the organisation's own template server.
 */
static bool
trusted_template(const struct policy *p, const struct finding *f)
{
	const char	*h, *end, *t;
	size_t		 i, hl, tl;

	if (p->ntrusted_template_hosts == 0 ||
	    strcmp(f->rule, "OFFICE_REMOTE_TEMPLATE") != 0 ||
	    (h = strstr(f->detail, "(host ")) == NULL)
		return false;
	h += 6;
	if ((end = strchr(h, ')')) == NULL)
		return false;
	hl = (size_t)(end - h);
	for (i = 0; i < p->ntrusted_template_hosts; i++) {
		if ((t = p->trusted_template_hosts[i]) == NULL)
			continue;
		tl = strlen(t);
		if ((hl == tl && strncasecmp(h, t, hl) == 0) ||
		    (hl > tl && h[hl - tl - 1] == '.' &&
		    strncasecmp(h + hl - tl, t, tl) == 0))
			return true;
	}
	return false;
}

/* Judge the message under one policy into *v. */
static enum lw_err
judge_policy(struct scan_ctx *ctx, const struct message *msg,
    const struct envelope *env, const struct policy *p,
    const struct findings *content, struct verdict *v)
{
	struct findings	 all = { 0 }, sig = { 0 }, kept = { 0 };
	enum lw_err	 e = LW_OK;
	size_t		 i;

	/* This policy's own template servers are no remote templates. */
	for (i = 0; i < content->n && p->ntrusted_template_hosts > 0; i++)
		if (trusted_template(p, &content->v[i]))
			break;
	if (i < content->n && p->ntrusted_template_hosts > 0) {
		for (i = 0; i < content->n && e == LW_OK; i++)
			if (!trusted_template(p, &content->v[i]) &&
			    (e = findings_add(&kept, content->v[i].rule,
			    content->v[i].part, "%s", content->v[i].detail)) ==
			    LW_OK)
				kept.v[kept.n - 1].score = content->v[i].score;
		if (e != LW_OK) {
			findings_free(&kept);
			return e;
		}
		content = &kept;
	}
	e = hijack_scan(ctx, msg, p, content, &sig);
	if (e == LW_OK)
		log_bounds(ctx, &sig);
	if (e == LW_OK)
		e = findings_append(&all, content);
	if (e == LW_OK)
		e = findings_append(&all, &sig);
	if (e == LW_OK)
		e = verdict_judge(&all, p,
		    macro_sender(p, msg, env) ? VERDICT_MACRO_SENDER : 0, v);
	findings_free(&sig);
	findings_free(&all);
	findings_free(&kept);
	return e;
}

/* More severe action first; the higher score breaks a tie. */
static bool
verdict_worse(const struct verdict *a, const struct verdict *b)
{
	int	sa = verdict_severity(a->action);
	int	sb = verdict_severity(b->action);

	return sa != sb ? sa > sb : a->score > b->score;
}

enum lw_err
scan_message(const struct runtime *rt, const unsigned char *raw, size_t len,
    const struct envelope *env, struct scan_result *res)
{
	return scan_message_opts(rt, raw, len, env, NULL, res);
}

/*
 * Candidates the caller brings come first, then the message's own, one
 * list under the same bound.
 */
static enum lw_err
collect_passwords(struct pwcands *pw, const struct message *msg,
    const struct pwcands *extra, unsigned max)
{
	struct pwcands	 own = { 0 };
	enum lw_err	 e;
	size_t		 i;

	if (extra == NULL || extra->n == 0)
		return pwcand_collect(pw, msg, max);
	if ((e = pwcand_collect(&own, msg, max)) != LW_OK)
		return e;
	for (i = 0; i < extra->n + own.n && e == LW_OK; i++)
		e = i < extra->n ?
		    pwcand_add(pw, extra->v[i], strlen(extra->v[i]),
		    extra->keyword[i], max) :
		    pwcand_add(pw, own.v[i - extra->n],
		    strlen(own.v[i - extra->n]), own.keyword[i - extra->n],
		    max);
	pwcand_free(&own);
	return e;
}
/*
 * The policy of the sender's domain (outbound mail): the envelope
 * sender's, else the From: address's; never NULL.
 */
static const struct policy *
sender_policy(const struct policyset *ps, const struct envelope *env,
    const struct message *msg)
{
	const char	*at = env != NULL && env->mail_from != NULL ?
			    strrchr(env->mail_from, '@') : NULL;

	if (at != NULL)
		return policyset_for_domain(ps, at + 1);
	if (msg != NULL && msg->from.domain != NULL)
		return policyset_for_domain(ps, msg->from.domain);
	return policyset_default(ps);
}

static enum lw_err
scan_gated(const unsigned char *raw, size_t len,
    const struct envelope *env, const struct limits *lim,
    const struct policyset *ps, const struct scan_opts *opts,
    struct learn *learn, struct scan_result *res)
{
	struct findings		 content = { 0 };
	struct pwcands		 pw = { 0 };
	struct scan_ctx		 ctx;
	struct attach_walk	 walk;
	struct verdict		*best = NULL, cur;
	const struct policy	**seen = NULL, *one;
	size_t			 nseen = 0, i, j, n;
	uint64_t		 start = lw_now_ms();
	enum lw_err		 e;

	memset(res, 0, sizeof(*res));
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = lim;
	ctx.fs = &content;
	ctx.pw = &pw;
	ctx.qid = env != NULL ? env->qid : NULL;
	ctx.learn = learn;
	ctx.now = opts != NULL && opts->now != 0 ? opts->now : time(NULL);
	if (lim->scan_timeout_ms > 0)
		ctx.deadline_ms = start + lim->scan_timeout_ms;

	if ((e = mime_parse(raw, len, lim, &content, &res->msg)) != LW_OK)
		goto out;
	ctx.msg = res->msg;
	if (env != NULL && env->truncated)
		(void)findings_add(&content, "MIME_LIMIT", "",
		    "message of at least %llu bytes exceeds message_bytes"
		    " %llu;"
		    " scanned the first %zu",
		    (unsigned long long)env->orig_len,
		    (unsigned long long)lim->max_message_bytes, len);
	if ((e = collect_passwords(&pw, res->msg,
	    opts != NULL ? opts->extra_pw : NULL,
	    lim->password_candidates)) != LW_OK)
		goto out;

	walk.ctx = &ctx;
	walk.err = LW_OK;
	mime_visit(res->msg, visit_attachment, &walk);
	if ((e = walk.err) != LW_OK)
		goto out;
	log_bounds(&ctx, &content);

	/* One verdict per distinct recipient policy; the worst wins. */
	one = opts != NULL ? opts->policy : NULL;
	if (opts != NULL && opts->sender_policy)
		one = sender_policy(ps, env, res->msg);
	n = env != NULL && env->nrcpts > 0 && one == NULL ? env->nrcpts : 1;
	if ((seen = calloc(n, sizeof(*seen))) == NULL ||
	    (best = calloc(1, sizeof(*best))) == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct policy	*p;

		if (one != NULL)
			p = one;
		else if (env != NULL && env->nrcpts > 0)
			p = policyset_for_domain(ps,
			    addr_domain(env->rcpts[i]));
		else
			p = policyset_default(ps);
		for (j = 0; j < nseen; j++)
			if (seen[j] == p)
				break;
		if (j < nseen)
			continue;
		seen[nseen++] = p;
		if ((e = judge_policy(&ctx, res->msg, env, p, &content,
		    &cur)) != LW_OK)
			goto out;
		if (nseen == 1 || verdict_worse(&cur, best)) {
			verdict_free(best);
			*best = cur;
		} else
			verdict_free(&cur);
	}
	res->verdict = best;
	best = NULL;
	e = LW_OK;
out:
	if (best != NULL) {
		verdict_free(best);
		free(best);
	}
	free(seen);
	pwcand_free(&pw);
	findings_free(&content);
	res->elapsed_ms = lw_now_ms() - start;
	if (e != LW_OK)
		scan_result_free(res);
	return e;
}

enum lw_err
scan_message_opts(const struct runtime *rt, const unsigned char *raw,
    size_t len, const struct envelope *env, const struct scan_opts *opts,
    struct scan_result *res)
{
	struct learn	*learn = NULL;
	enum lw_err	 e;

	/*
	 * What our own mail taught, on the runtime's state (a handle):
	 * for inbound mail; outbound mail is what teaches it.
	 */
	if (rt->state != NULL && rt->cfg != NULL && rt->cfg->learn.enable &&
	    (opts == NULL || !opts->sender_policy) &&
	    (e = learn_open(rt->state, &rt->cfg->learn, &learn)) != LW_OK)
		return e;
	gate_enter();
	e = scan_gated(raw, len, env, rt->lim, rt->ps, opts, learn, res);
	gate_leave();
	if (learn != NULL)
		learn_close(learn);
	return e;
}

void
scan_result_free(struct scan_result *res)
{
	mime_free(res->msg);
	verdict_free(res->verdict);
	free(res->verdict);
	res->msg = NULL;
	res->verdict = NULL;
}
