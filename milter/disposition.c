/*
 * disposition.c: one place decides (see disposition.h).
 *
 * disposition_decide() reads top to bottom as the message goes:
 *   1. a verified X-Lurewall-Released on its first pass (a copy that
 *      passed before is scanned: released=replayed), or a verified
 *      X-Lurewall-Notice (a notice we wrote): accept, not scanned;
 *   2. the scan, once (outbound mail under its sender's policy); an
 *      allow: entry of its policy that matches makes the rules it
 *      names stop counting (logged allowed=NAME);
 *   3. outbound: the breaker counts it; a lure, or a tripped sender's
 *      mail, is stored and discarded or answered 451 4.7.1;
 *   4. inbound: split PPAP holds it pending, or its passwords open
 *      held items, on this host or another sharing the state (a lure
 *      among them tags this mail); a quarantined lure whose archive
 *      stayed locked waits for its password mail to re-open it;
 *   5. the policy verdict's action: accept, tag, quarantine then
 *      discard/reject/hold, reject; a stored item's notices and
 *      on_quarantine_command;
 *   6. observe mode (the policy's mode: observe, or -O): whatever 5
 *      said, the message is delivered unchanged but for
 *      X-Lurewall-Result: would-ACTION and X-Lurewall-Rules; what would
 *      be quarantined is stored, marked observed; split PPAP holds
 *      nothing.
 * One copy: with quarantine.then: hold the item records that the MTA
 * holds the other copy (lurewall quarantine release/delete act on
 * both); a split PPAP item is never also held by the MTA (lurewall
 * releases it itself).
 * Every internal error on the way becomes the config's on_error.
 *
 * Bounds: what the scan and the stores bound; header values we build
 * are cut (rules at RULES_HDR_MAX, log fields at LOG_FIELD_MAX).
 * With RT_READONLY nothing is written (no store, count, release,
 * alert).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "config.h"
#include "disposition.h"
#include "allow.h"
#include "log.h"
#include "mime.h"
#include "outbound.h"
#include "notice.h"
#include "outbreak.h"
#include "policy.h"
#include "quarantine.h"
#include "runtime.h"
#include "sbuf.h"
#include "splitppap.h"
#include "verdict.h"
#include "util.h"

#define LW_HDR_RESULT		"X-Lurewall-Result"
#define LW_HDR_RULES		"X-Lurewall-Rules"
#define LOG_FIELD_MAX		256	/* bytes of attacker text per field */
#define RULES_HDR_MAX		900	/* keep X-Lurewall-Rules one line */
#define ENCWORD_CHUNK		45	/* UTF-8 bytes per encoded word */

_Static_assert(QUARANTINE_ID_MAX <= sizeof(((struct disposition *)0)->store.id),
    "disposition store id holds a quarantine id");

/* The SMTP replies: one table, most serious first. */
static const struct {
	enum disp_reply	 r;
	const char	*code;
	const char	*dsn;
	const char	*text;
} replies[] = {
	{ DREPLY_REJECT,	"550", "5.7.1",
	    "Message rejected by lurewall" },
	{ DREPLY_SENDER_HELD,	"451", "4.7.1",
	    "lurewall: mail of this sender is held, please contact your "
	    "administrator" },
	{ DREPLY_TEMPFAIL,	"451", "4.3.0",
	    "lurewall: temporary failure, please try again later" },
};

/* The names scan's JSON and the log give, in the enums' order. */
static const char *const action_names[] = { "accept", "tag",
    "quarantine-discard", "quarantine-reject", "quarantine-hold", "hold",
    "pending-discard", "pending-hold", "reject", "tempfail" };
static const char *const why_names[] = { "verdict", "released",
    "pending", "outbound-lure", "breaker", "error", "notice" };
_Static_assert(sizeof(action_names) / sizeof(action_names[0]) ==
    DISP_TEMPFAIL + 1, "a name for each enum disp_action");
_Static_assert(sizeof(why_names) / sizeof(why_names[0]) ==
    DWHY_NOTICE + 1, "a name for each enum disp_why");

const char *
disposition_action_name(enum disp_action a)
{
	return (size_t)a < sizeof(action_names) / sizeof(action_names[0]) ?
	    action_names[a] : "?";
}

const char *
disposition_why_name(enum disp_why w)
{
	return (size_t)w < sizeof(why_names) / sizeof(why_names[0]) ?
	    why_names[w] : "?";
}

void
disposition_reply(enum disp_reply r, struct disp_reply_text *out)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
		if (replies[i].r == r) {
			out->code = replies[i].code;
			snprintf(out->dsn, sizeof(out->dsn), "%s",
			    replies[i].dsn);
			out->text = replies[i].text;
		}
}

/* Length of a leading "5.N.N" enhanced status code and its space. */
static size_t
dsn_prefix(const char *s)
{
	size_t	i = 0, part, digits;

	if (s[i++] != '5')
		return 0;
	for (part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return 0;
		for (digits = 0; digits < 3 && s[i] >= '0' && s[i] <= '9';
		    digits++)
			i++;
		if (digits == 0)
			return 0;
	}
	return s[i] == ' ' ? i : 0;
}

/*
 * 550 with the policy's text.  The text may open with its own enhanced
 * status code ("5.7.1 Message rejected ..."): that code becomes the
 * DSN instead of being repeated.
 */
static void
reject_reply(struct disposition *d, const struct policy *p)
{
	const char	*text;
	size_t		 n;

	disposition_reply(DREPLY_REJECT, &d->reply);
	if (p == NULL || p->reject_text == NULL)
		return;
	text = p->reject_text;
	if ((n = dsn_prefix(text)) > 0) {
		memcpy(d->reply.dsn, text, n);	/* n <= 11 */
		d->reply.dsn[n] = '\0';
		text += n + 1;
	}
	d->reply.text = text;
}

static enum lw_err
extra(struct disposition *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The log line's details after the common fields. */
static enum lw_err
extra(struct disposition *d, const char *fmt, ...)
{
	struct sbuf	 b;
	va_list		 ap;
	char		*s;

	sbuf_init(&b);
	va_start(ap, fmt);
	sbuf_vaddf(&b, fmt, ap);
	va_end(ap);
	if ((s = sbuf_take(&b)) == NULL)
		return LW_ENOMEM;
	free(d->log_extra);
	d->log_extra = s;
	return LW_OK;
}

/* Append to the log line's details. */
static enum lw_err
extra_add(struct disposition *d, const char *s)
{
	char	*n;

	if (d->log_extra == NULL || *d->log_extra == '\0')
		return extra(d, "%s", s);
	if (lw_asprintf(&n, "%s %s", d->log_extra, s) != LW_OK)
		return LW_ENOMEM;
	free(d->log_extra);
	d->log_extra = n;
	return LW_OK;
}

static bool
readonly(const struct runtime *rt)
{
	return (rt->flags & RT_READONLY) != 0;
}

/* The daemon has a store (read-only: the config names one). */
static bool
has_store(const struct runtime *rt)
{
	return rt->q != NULL || (readonly(rt) &&
	    rt->cfg->quarantine_dir != NULL);
}

/* Drop what a decision so far built; keep the scan and the direction. */
static void
clear_outputs(struct disposition *d)
{
	size_t	i;

	for (i = 0; i < d->nhdrs; i++)
		free(d->hdrs[i].value);
	d->nhdrs = 0;
	FREE_ALL(d->subject, d->hold_reason, d->log_extra);
	d->subject = d->hold_reason = d->log_extra = NULL;
	d->subject_add = false;
	memset(&d->reply, 0, sizeof(d->reply));
}

/* No trustworthy verdict: the config's on_error decides. */
static void
to_error(const struct runtime *rt, struct disposition *d, const char *why)
{
	bool	accept = rt != NULL && rt->cfg != NULL &&
		    rt->cfg->on_error == ONERR_ACCEPT;

	clear_outputs(d);
	d->why = DWHY_ERROR;
	d->error = why;
	d->action = accept ? DISP_ACCEPT : DISP_TEMPFAIL;
	if (!accept)
		disposition_reply(DREPLY_TEMPFAIL, &d->reply);
	d->log_prio = LOG_ERR;
	d->log_action = accept ? "accept" : "tempfail";
	d->log_score = 0;
	d->log_rules = NULL;
	d->log_ms = 0;
	if (extra(d, "error=\"%s\"", why) != LW_OK)
		d->log_extra = NULL;
}

void
disposition_error(const struct runtime *rt, const char *why,
    struct disposition *d)
{
	memset(d, 0, sizeof(*d));
	to_error(rt, d, why);
}

void
disposition_free(struct disposition *d)
{
	if (d == NULL)
		return;
	clear_outputs(d);
	scan_result_free(&d->res);
}

/* ---- the Subject prefix ---- */

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A header value without its folding and surrounding white space. */
static char *
trimmed(const char *v)
{
	const char	*e;

	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	return lw_strndup(v, (size_t)(e - v));
}

/*
 * s as RFC 2047 B encoded words of at most ENCWORD_CHUNK bytes each,
 * split on UTF-8 character boundaries, separated by spaces.
 */
static char *
encode_words(const char *s)
{
	size_t		 len = strlen(s), off = 0, n, olen;
	unsigned char	 b64[4 * ((ENCWORD_CHUNK + 2) / 3) + 1];
	char		*out = NULL, *nw;

	if ((out = strdup("")) == NULL)
		return NULL;
	while (off < len) {
		n = len - off > ENCWORD_CHUNK ? ENCWORD_CHUNK : len - off;
		/* Do not cut a UTF-8 sequence: back up to its lead byte. */
		while (n > 1 && off + n < len &&
		    ((unsigned char)s[off + n] & 0xc0) == 0x80)
			n--;
		olen = (size_t)EVP_EncodeBlock(b64,
		    (const unsigned char *)s + off, (int)n);
		b64[olen] = '\0';
		if (lw_asprintf(&nw, "%s%s=?UTF-8?B?%s?=", out,
		    off ? " " : "", b64) != LW_OK) {
			free(out);
			return NULL;
		}
		free(out);
		out = nw;
		off += n;
	}
	return out;
}

/*
 * A non-ASCII prefix goes out as encoded words; the original subject
 * follows in the form it came (encoded words stay encoded).  Between
 * two encoded words a space is invisible to decoders, so then the
 * space goes inside ours.
 */
char *
disposition_subject(const char *prefix, const char *subject,
    enum lw_err *err)
{
	char	*rest = NULL, *enc = NULL, *withsp = NULL, *nv = NULL;

	*err = LW_ENOMEM;
	if (subject != NULL && (rest = trimmed(subject)) == NULL)
		return NULL;
	if (is_ascii(prefix))
		enc = strdup(prefix);
	else if (rest != NULL && has_prefix(rest, "=?")) {
		if (lw_asprintf(&withsp, "%s ", prefix) == LW_OK)
			enc = encode_words(withsp);
	} else
		enc = encode_words(prefix);
	if (enc == NULL)
		goto out;
	if (rest != NULL && (has_prefix(rest, enc) ||
	    has_prefix(rest, prefix))) {
		*err = LW_OK;		/* tagged before (a reply): once */
		goto out;
	}
	if (rest == NULL || *rest == '\0') {
		if (lw_asprintf(&nv, "%s", enc) != LW_OK)
			goto out;
	} else if (lw_asprintf(&nv, "%s %s", enc, rest) != LW_OK)
		goto out;
	*err = LW_OK;
out:
	free(rest);
	free(enc);
	free(withsp);
	return nv;
}

/* ---- 1. release recognition ---- */

/*
 * 1-based index among the X-Lurewall-Released fields of one that is a
 * copy we released and passes for the first time (the release-once
 * marker, or its HMAC: quarantine_release_seen); 0 if none.  *result:
 * the X-Lurewall-Result its release stored.  *replay: one was a copy
 * that passed before (it is scanned).
 */
static size_t
released_index(const struct runtime *rt, const struct disp_input *in,
    char **result, bool *replay)
{
	enum quarantine_seen	 seen;
	char			*mid, *date, *val;
	size_t			 i, found = 0;

	*result = NULL;
	*replay = false;
	if (rt->q == NULL || in->nreleased == 0 || in->message_id == NULL ||
	    in->date == NULL)
		return 0;
	mid = trimmed(in->message_id);
	date = trimmed(in->date);
	for (i = 0; mid != NULL && date != NULL && i < in->nreleased; i++) {
		if ((val = trimmed(in->released[i])) == NULL)
			break;
		seen = quarantine_release_seen(rt->q, val, mid, date, in->now,
		    !readonly(rt), result);
		free(val);
		if (seen == QSEEN_REPLAY)
			*replay = true;
		if (seen == QSEEN_RELEASED) {
			found = i + 1;
			break;
		}
	}
	free(mid);
	free(date);
	return found;
}

/* Released by an admin: its X-Lurewall-Result again (we strip it). */
static void
released(struct disposition *d, char *result)
{
	d->why = DWHY_RELEASED;
	d->action = DISP_ACCEPT;
	if (result != NULL) {
		d->hdrs[0].name = LW_HDR_RESULT;
		d->hdrs[0].value = result;
		d->nhdrs = 1;
	}
	d->log_prio = LOG_INFO;
	d->log_action = "accept";
	if (extra(d, "released=yes") != LW_OK)
		d->log_extra = NULL;
}

/* ---- storing ---- */

static char *
hold_reason(const struct verdict *v)
{
	char	*s;

	if (lw_asprintf(&s, "lurewall score=%d rules=%s", v->score,
	    v->rules != NULL && *v->rules != '\0' ? v->rules : "-") != LW_OK)
		return NULL;
	return s;
}

/*
 * Store the message before the MTA hears the reply; read-only, only
 * note that the daemon would.  LW_OK or the store's error (logged).
 */
static enum lw_err
store(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d, bool mta_hold)
{
	struct quarantine_extra	x;
	enum lw_err		e;

	d->store.would = true;
	if (readonly(rt))
		return LW_OK;
	memset(&x, 0, sizeof(x));
	x.mode = d->observe ? "observed" : NULL;
	x.mta_hold = mta_hold && !d->observe;
	e = quarantine_store_extra(rt->q, in->raw, in->len, in->env, &d->res,
	    &x, in->now, d->store.id);
	if (e != LW_OK) {
		d->store.id[0] = '\0';
		log_msg(LOG_ERR, in->env->qid, "quarantine store failed: "
		    "%s: tempfail", lw_strerror(e));
	}
	return e;
}

/* ---- 3. outbound: the breaker ---- */

/*
 * Store and discard: a lure of ours is never sent, not even later, so
 * no tempfail (the MTA's hold queue without a store).
 */
static enum lw_err
outbound_quarantine(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d, const char *why)
{
	struct verdict	*v = d->res.verdict;
	enum lw_err	 e;

	v->action = ACT_QUARANTINE;	/* so the stored item says so */
	d->log_prio = LOG_NOTICE;
	d->log_action = verdict_action_name(v->action);
	if (!has_store(rt)) {
		d->action = DISP_HOLD;
		if ((d->hold_reason = hold_reason(v)) == NULL)
			return LW_ENOMEM;
		return extra(d, "then=hold %s", why);
	}
	if ((e = store(rt, in, d, false)) != LW_OK) {
		d->action = DISP_TEMPFAIL;
		disposition_reply(DREPLY_TEMPFAIL, &d->reply);
		return extra(d, "then=tempfail error=\"quarantine store: %s\" "
		    "%s", lw_strerror(e), why);
	}
	d->action = DISP_QUARANTINE_DISCARD;
	return extra(d, "then=discard quarantine_id=%s %s",
	    *d->store.id != '\0' ? d->store.id : "-", why);
}

/*
 * Count the message against its sender; true in *done when the
 * breaker (or a lure) decided.  Internal errors: on_error.
 */
static enum lw_err
outbound(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d, bool *done)
{
	const struct envelope	*env = in->env;
	const struct verdict	*v = d->res.verdict;
	const struct policy	*p = v->policy;
	struct outbreak_store	*st;
	struct outbreak_result	 ob;
	struct outbreak_alert	 al;
	const char		*rule = NULL;
	char			*key, *skey = NULL, *why = NULL;
	bool			 lure;
	enum lw_err		 e = LW_OK;

	*done = false;
	memset(&ob, 0, sizeof(ob));
	lure = outbreak_lure_like(v, &rule);
	d->breaker_action = outbound_action_name(&p->outbound);
	key = outbreak_sender_key(env);
	if (key == NULL && in->outbound && env->mail_from == NULL &&
	    d->res.msg != NULL && d->res.msg->from.addr != NULL) {
		/* scan --outbound without a sender: the From: address. */
		struct envelope	fenv = *env;

		fenv.mail_from = d->res.msg->from.addr;
		key = outbreak_sender_key(&fenv);
	}
	if (key != NULL) {
		if (rt->state != NULL)
			e = readonly(rt) ?
			    outbreak_state_open_ro(rt->state, &st) :
			    outbreak_state_open(rt->state, &st);
		else if (readonly(rt) || rt->outbreak_dir == NULL)
			e = outbreak_file_open_ro(rt->outbreak_dir, &st);
		else
			e = outbreak_file_open(rt->outbreak_dir, &st);
		if (e == LW_OK) {
			e = outbreak_account(st, key, &p->outbound, lure,
			    env->rcpts, env->nrcpts, in->now, &ob);
			outbreak_close(st);
		}
		if (e != LW_OK) {
			log_msg(LOG_ERR, env->qid, "outbreak store %s: %s: %s",
			    rt->state != NULL ? state_name(rt->state) :
			    rt->outbreak_dir, lw_strerror(e), strerror(errno));
			to_error(rt, d, "outbreak store failed");
			*done = true;
			e = LW_OK;
			goto out;
		}
		if ((skey = lw_sanitize(key, strlen(key), LOG_FIELD_MAX)) ==
		    NULL) {
			e = LW_ENOMEM;
			goto out;
		}
		d->breaker = ob.state == OB_FLOWING ? "flowing" :
		    ob.state == OB_TRIPPED_NOW ? "tripped" : "held";
	}
	if (ob.state == OB_TRIPPED_NOW && !readonly(rt)) {
		al.sender = key;
		al.reason = ob.reason;
		al.action = d->breaker_action;
		al.lures = ob.lures;
		al.new_rcpts = ob.new_rcpts;
		al.window = p->outbound.window;
		al.tripped = ob.tripped;
		outbreak_alert(rt->cfg, env->qid, &al);
	}
	if (ob.state != OB_FLOWING && lw_asprintf(&why, "outbreak=%s "
	    "sender=<%s> reason=%s lures=%u new_rcpts=%u%s%s "
	    "outbound_action=%s", d->breaker, skey != NULL ? skey : "?",
	    ob.reason, ob.lures, ob.new_rcpts, lure ? " lure=" : "",
	    lure ? rule : "", d->breaker_action) != LW_OK)
		why = NULL;
	if (ob.state == OB_FLOWING && lure && lw_asprintf(&why, "lure=%s "
	    "sender=<%s>", rule, skey != NULL ? skey : "") != LW_OK)
		why = NULL;
	if (lure || (ob.state != OB_FLOWING &&
	    p->outbound.action == OUTBOUND_QUARANTINE)) {
		d->why = ob.state != OB_FLOWING ? DWHY_BREAKER :
		    DWHY_OUTBOUND_LURE;
		*done = true;
		e = outbound_quarantine(rt, in, d,
		    why != NULL ? why : "outbreak=?");
	} else if (ob.state != OB_FLOWING) {
		d->why = DWHY_BREAKER;
		d->action = DISP_TEMPFAIL;
		disposition_reply(DREPLY_SENDER_HELD, &d->reply);
		d->log_prio = LOG_NOTICE;
		d->log_action = "tempfail";
		d->log_extra = why;
		why = NULL;
		*done = true;
	}
out:
	free(why);
	free(skey);
	free(key);
	return e;
}

/* ---- 4. split PPAP ---- */

static enum lw_err
split_ppap(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d, bool *done)
{
	const struct verdict	*v;
	struct splitppap_env	 spe;
	struct splitppap_result	 sp;
	char			 ts[32];
	struct tm		 tm;
	enum lw_err		 e;

	*done = false;
	memset(&spe, 0, sizeof(spe));
	spe.q = rt->q;
	spe.rt = rt;
	spe.submit = rt->cfg->submit_command;
	spe.now = in->now;
	spe.dry = readonly(rt);
	if (spe.dry && !has_store(rt))
		return LW_OK;
	if ((e = splitppap_eom(&spe, in->raw, in->len, in->env, &d->res,
	    &sp)) != LW_OK) {
		log_msg(LOG_ERR, in->env->qid, "split PPAP: %s",
		    lw_strerror(e));
		*done = true;
		to_error(rt, d, lw_strerror(e));
		if (e == LW_EIO) {
			/* The store failed: tempfail whatever on_error. */
			d->action = DISP_TEMPFAIL;
			disposition_reply(DREPLY_TEMPFAIL, &d->reply);
			d->log_action = NULL;
		}
		return LW_OK;
	}
	d->released_items = sp.released;
	d->lure_items = sp.lures;
	if (!sp.pending)
		return LW_OK;
	*done = true;
	v = d->res.verdict;
	d->why = DWHY_PENDING;
	d->store.would = true;
	memcpy(d->store.id, sp.id, sizeof(sp.id));
	d->store.expires = sp.expires;
	/*
	 * reject would make the sender resend the zip: discard, also with
	 * then: hold, so that the one copy is ours (split PPAP releases it
	 * itself once its password comes).
	 */
	(void)v;
	d->action = DISP_PENDING_DISCARD;
	if (gmtime_r(&sp.expires, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "%lld", (long long)sp.expires);
	d->log_prio = LOG_INFO;
	d->log_action = "pending";
	return extra(d, "then=%s quarantine_id=%s state=pending expires=%s",
	    d->action == DISP_PENDING_HOLD ? "hold" : "discard",
	    *sp.id != '\0' ? sp.id : "-", ts);
}

/* ---- 5. the verdict ---- */

/*
 * The headers: X-Lurewall-Result: "<what> score=N" and, with rules, the
 * verdict's rules in X-Lurewall-Rules ("-" for none).
 */
static enum lw_err
result_headers(struct disposition *d, const char *what, bool rules)
{
	const struct verdict	*v = d->res.verdict;
	const char		*r;

	d->hdrs[0].name = LW_HDR_RESULT;
	if (lw_asprintf(&d->hdrs[0].value, "%s score=%d", what, v->score) !=
	    LW_OK)
		return LW_ENOMEM;
	d->nhdrs = 1;
	if (!rules)
		return LW_OK;
	r = v->rules != NULL && *v->rules != '\0' ? v->rules : "-";
	if ((d->hdrs[1].value = lw_sanitize(r, strlen(r), RULES_HDR_MAX)) ==
	    NULL)
		return LW_ENOMEM;
	d->hdrs[1].name = LW_HDR_RULES;
	d->nhdrs = 2;
	return LW_OK;
}

/* Tag: X-Lurewall-Result and -Rules (unless off), the subject prefix. */
static enum lw_err
tag(const struct disp_input *in, struct disposition *d)
{
	const struct policy	*p = d->res.verdict->policy;
	enum lw_err		 e;

	if ((p == NULL || p->tag_headers) &&
	    (e = result_headers(d, "tag", true)) != LW_OK)
		return e;
	if (p != NULL && p->subject_prefix != NULL &&
	    *p->subject_prefix != '\0') {
		d->subject = disposition_subject(p->subject_prefix,
		    in->subject, &e);
		if (e != LW_OK)
			return e;
		d->subject_add = in->subject == NULL;
	}
	return LW_OK;
}

/* The policy's verdict could not be carried out: 451. */
static void
tempfail(struct disposition *d)
{
	d->action = DISP_TEMPFAIL;
	disposition_reply(DREPLY_TEMPFAIL, &d->reply);
	d->log_prio = LOG_ERR;
}

static enum lw_err
verdict_action(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d)
{
	static const enum disp_action then_actions[] = {
		[QTHEN_DISCARD] = DISP_QUARANTINE_DISCARD,
		[QTHEN_REJECT] = DISP_QUARANTINE_REJECT,
		[QTHEN_HOLD] = DISP_QUARANTINE_HOLD,
	};
	const struct verdict	*v = d->res.verdict;
	const struct policy	*p = v->policy;
	enum quarantine_then	 then;
	enum lw_err		 e = LW_OK;

	d->why = DWHY_VERDICT;
	d->log_prio = LOG_INFO;
	d->log_action = verdict_action_name(v->action);
	switch (v->action) {
	case ACT_ACCEPT:
		d->action = DISP_ACCEPT;
		break;
	case ACT_TAG:
		d->action = DISP_TAG;
		e = tag(in, d);
		break;
	case ACT_REJECT:
		d->action = DISP_REJECT;
		reject_reply(d, p);
		break;
	case ACT_TEMPFAIL:
		tempfail(d);
		break;
	case ACT_QUARANTINE:
		if (!has_store(rt)) {
			d->action = DISP_HOLD;
			if ((d->hold_reason = hold_reason(v)) == NULL)
				return LW_ENOMEM;
			return extra(d, "then=hold");
		}
		then = p != NULL ? p->quarantine_then : QTHEN_DISCARD;
		if ((e = store(rt, in, d, then == QTHEN_HOLD)) != LW_OK) {
			tempfail(d);
			return extra(d, "then=tempfail error=\"quarantine "
			    "store: %s\"", lw_strerror(e));
		}
		if ((e = extra(d, "then=%s quarantine_id=%s",
		    policy_then_names[then], *d->store.id != '\0' ?
		    d->store.id : "-")) != LW_OK)
			return e;
		/* A locked archive: its password mail may re-open it. */
		if (!d->outbound && !d->observe && !readonly(rt))
			splitppap_watch(rt->q, d->store.id, in->raw, in->len,
			    &d->res, in->env->qid, in->now);
		d->action = then_actions[then];
		if (then == QTHEN_REJECT)
			reject_reply(d, p);
		else if (then == QTHEN_HOLD &&
		    (d->hold_reason = hold_reason(v)) == NULL)
			return LW_ENOMEM;
		break;
	}
	return e;
}

/* ---- 1b. our own notices ---- */

static void
own_notice(struct disposition *d)
{
	d->why = DWHY_NOTICE;
	d->action = DISP_ACCEPT;
	d->log_prio = LOG_INFO;
	d->log_action = "accept";
	if (extra(d, "notice=yes") != LW_OK)
		d->log_extra = NULL;
}

/* ---- 2b. allow: ---- */

/*
 * An allow: entry of the verdict's policy that matches: its rules stop
 * counting (score 0, still listed among the findings) and the verdict
 * is judged again on what is left.
 */
static enum lw_err
allow(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d)
{
	struct verdict			*v = d->res.verdict;
	const struct policy		*p = v->policy;
	const struct allow_entry	*e;
	struct allow_input		 ai;
	struct findings			 kept;
	struct verdict			 nv;
	size_t				 i;
	enum lw_err			 r;

	if (p == NULL || p->allow.n == 0)
		return LW_OK;
	memset(&ai, 0, sizeof(ai));
	ai.client_addr = in->env->client_addr;
	ai.auth_authen = in->env->auth_authen;
	ai.mail_from = in->env->mail_from;
	ai.from_addr = d->res.msg != NULL ? d->res.msg->from.addr : NULL;
	ai.authserv_id = rt->cfg->authserv_id;
	ai.raw = in->raw;
	ai.len = in->len;
	if ((e = allow_match(&p->allow, &ai)) == NULL)
		return LW_OK;
	d->allowed = e->name;
	memset(&kept, 0, sizeof(kept));
	for (i = 0; i < v->findings.n; i++) {
		const struct finding	*f = &v->findings.v[i];

		if (allow_skips(e, f->rule))
			continue;
		if ((r = findings_add(&kept, f->rule, f->part, "%s",
		    f->detail)) != LW_OK) {
			findings_free(&kept);
			return r;
		}
	}
	r = verdict_judge(&kept, p, 0, &nv);
	findings_free(&kept);
	if (r != LW_OK)
		return r;
	/* Never more severe than before (a macro partner's tag stays). */
	if (verdict_severity(nv.action) > verdict_severity(v->action))
		nv.action = v->action;
	verdict_free(v);
	*v = nv;
	return LW_OK;
}

/* ---- 5b. notices and the admin's hook ---- */

static char *
join_rcpts(const struct envelope *env)
{
	char	*s = NULL, *n;
	size_t	 i;

	for (i = 0; i < env->nrcpts; i++) {
		if (lw_asprintf(&n, "%s%s%s", s != NULL ? s : "",
		    s != NULL ? ", " : "", env->rcpts[i]) != LW_OK) {
			free(s);
			return NULL;
		}
		free(s);
		s = n;
	}
	return s;
}

static void
send_one(const struct runtime *rt, enum notice_kind kind,
    const struct policy *p, const char *to, const struct notice_item *it,
    time_t now, const char *qid)
{
	char		*msg, *sto;
	size_t		 len, i;

	/* The address goes into To: and the log: no control characters. */
	for (i = 0; to[i] != '\0'; i++)
		if ((unsigned char)to[i] < 0x20 || to[i] == 0x7f)
			return;
	if ((sto = lw_sanitize(to, strlen(to), LOG_FIELD_MAX)) == NULL)
		return;
	if (notice_compose(rt->cfg, kind, policy_lang_names[p->language],
	    p->notify.from, to, it, 1, now, &msg, &len) != LW_OK) {
		log_msg(LOG_WARNING, qid, "notice to %s: cannot compose", sto);
		free(sto);
		return;
	}
	if (notice_send(rt->cfg, to, msg, len, true) == LW_OK)
		log_msg(LOG_INFO, qid, "notice sent to %s", sto);
	free(msg);
	free(sto);
}

/*
 * A message was quarantined (not in observe mode): tell the admin and
 * the recipients whose policies ask for it, and run the hook.  The
 * notices are detached processes; nothing here changes the reply.
 */
static void
notify(const struct runtime *rt, const struct disp_input *in,
    struct disposition *d)
{
	const struct verdict	*v = d->res.verdict;
	const struct envelope	*env = in->env;
	const struct policy	*p = v->policy, *rp;
	struct notice_item	 it;
	const char		*dom, *then;
	char			*rcpts;
	size_t			 i;

	if (readonly(rt) || d->observe || *d->store.id == '\0' ||
	    (d->action != DISP_QUARANTINE_DISCARD &&
	    d->action != DISP_QUARANTINE_REJECT &&
	    d->action != DISP_QUARANTINE_HOLD))
		return;
	rcpts = join_rcpts(env);
	memset(&it, 0, sizeof(it));
	it.id = d->store.id;
	it.when = in->now;
	it.sender = env->mail_from != NULL ? env->mail_from : "";
	it.from = d->res.msg != NULL ? d->res.msg->from.addr : NULL;
	it.subject = d->res.msg != NULL ? d->res.msg->subject : NULL;
	it.rules = v->rules;
	it.score = v->score;
	it.rcpts = rcpts != NULL ? rcpts : "";
	if (p != NULL && p->notify.admin != NULL)
		send_one(rt, NOTICE_ADMIN, p, p->notify.admin, &it, in->now,
		    env->qid);
	/* Outbound: the recipients are outside; only the admin hears. */
	for (i = 0; !d->outbound && i < env->nrcpts; i++) {
		dom = strrchr(env->rcpts[i], '@');
		rp = policyset_for_domain(rt->ps, dom != NULL ? dom + 1 : "");
		if (rp == NULL)
			rp = policyset_default(rt->ps);
		if (rp->notify.recipients && !rp->notify.digest &&
		    rp->notify.from != NULL)
			send_one(rt, NOTICE_RCPT, rp, env->rcpts[i], &it,
			    in->now, env->qid);
	}
	then = d->action == DISP_QUARANTINE_REJECT ? "reject" :
	    d->action == DISP_QUARANTINE_HOLD ? "hold" : "discard";
	notice_hook(rt->cfg->on_quarantine_command, &it, then, env->qid,
	    env->rcpts, env->nrcpts);
	free(rcpts);
}

/* ---- 6. observe mode, and the header on accepted mail ---- */

/*
 * Deliver unchanged: no reply, no hold, no new Subject; the headers say
 * what enforcement would have done.  An internal error stays on_error.
 */
static enum lw_err
observe(struct disposition *d)
{
	const char		*would;
	size_t			 i;
	enum lw_err		 e;

	switch (d->action) {
	case DISP_ACCEPT:
		return LW_OK;
	case DISP_TEMPFAIL:
		if (d->why == DWHY_ERROR)
			return LW_OK;
		would = "would-tempfail";
		break;
	case DISP_TAG:
		would = "would-tag";
		break;
	case DISP_REJECT:
		would = "would-reject";
		break;
	default:
		would = "would-quarantine";
		break;
	}
	for (i = 0; i < d->nhdrs; i++)
		free(d->hdrs[i].value);
	d->nhdrs = 0;
	free(d->subject);
	free(d->hold_reason);
	d->subject = d->hold_reason = NULL;
	d->subject_add = false;
	memset(&d->reply, 0, sizeof(d->reply));
	d->action = DISP_ACCEPT;
	if ((e = result_headers(d, would, true)) != LW_OK)
		return e;
	return extra_add(d, "mode=observe delivered=yes");
}

/* tag.always_header: accepted mail says it was scanned. */
static enum lw_err
always_header(struct disposition *d)
{
	const struct verdict	*v = d->res.verdict;

	if (d->action != DISP_ACCEPT || d->why != DWHY_VERDICT ||
	    d->nhdrs > 0 || v->policy == NULL || !v->policy->always_header)
		return LW_OK;
	return result_headers(d, "accept", false);
}

/* ---- the one function ---- */

enum lw_err
disposition_decide(const struct runtime *rt, const struct disp_input *in0,
    struct disposition *d)
{
	struct disp_input	 in = *in0;
	struct scan_opts	 opts;
	const struct verdict	*v;
	char			*result;
	const char		*learned;
	bool			 done = false, replay;
	enum lw_err		 e;

	memset(d, 0, sizeof(*d));
	if (in.now == 0)
		in.now = time(NULL);

	/* 1. Released by an admin: scanned before, not again; once. */
	if ((d->keep_released = released_index(rt, &in, &result,
	    &replay)) > 0) {
		released(d, result);
		return LW_OK;
	}
	/* Our own notice: it carries nothing of the lure. */
	if (in.notice != NULL && in.message_id != NULL &&
	    notice_verify(rt->cfg, in.notice, in.message_id, in.now)) {
		own_notice(d);
		return LW_OK;
	}

	/* 2. The scan: once; mail our users send under their policy. */
	d->outbound = in.outbound ||
	    outbound_direction(rt->cfg, in.env) != OUT_NONE;
	memset(&opts, 0, sizeof(opts));
	opts.sender_policy = d->outbound;
	opts.now = in.now;
	e = scan_message_opts(rt, in.raw, in.len, in.env, &opts, &d->res);
	if (e != LW_OK || d->res.verdict == NULL) {
		to_error(rt, d, e != LW_OK ? lw_strerror(e) :
		    "scan returned no verdict");
		return LW_OK;
	}
	v = d->res.verdict;
	d->observe = (rt->flags & RT_OBSERVE) != 0 ||
	    (v->policy != NULL && v->policy->mode == MODE_OBSERVE);
	if ((e = allow(rt, &in, d)) != LW_OK) {
		to_error(rt, d, lw_strerror(e));
		return LW_OK;
	}
	v = d->res.verdict;
	d->verdict = verdict_action_name(v->action);
	d->policy = v->policy != NULL ? v->policy->name : NULL;

	/* 3. Outbound: the breaker; 4. inbound: split PPAP. */
	if (d->outbound)
		e = outbound(rt, &in, d, &done);
	else if (!d->observe) {
		e = split_ppap(rt, &in, d, &done);
		/* A held lure this mail opened changed its verdict. */
		d->verdict = verdict_action_name(v->action);
	}

	/* 5. The policy verdict's action; notices of what was stored. */
	if (e == LW_OK && !done)
		e = verdict_action(rt, &in, d);
	if (e == LW_OK && d->why != DWHY_ERROR)
		notify(rt, &in, d);
	/* 6. Observe mode; the header on accepted mail. */
	if (e == LW_OK && d->observe)
		e = observe(d);
	if (e == LW_OK && d->why != DWHY_ERROR)
		e = always_header(d);
	/* A released copy that passed before: scanned, and said so. */
	if (e == LW_OK && replay && d->why != DWHY_ERROR)
		e = extra_add(d, "released=replayed");
	/* 7. What our own mail teaches: mail delivered as judged. */
	if (e == LW_OK && !readonly(rt) && d->why == DWHY_VERDICT &&
	    (learned = learn_decided(rt->state, rt->cfg != NULL ?
	    &rt->cfg->learn : NULL, d->outbound, d->action == DISP_ACCEPT ||
	    d->action == DISP_TAG, v, d->res.msg, in.env, in.now)) != NULL)
		e = extra_add(d, learned);
	if (e == LW_OK && d->allowed != NULL && d->why != DWHY_ERROR) {
		char	*a;

		if ((a = lw_sanitize(d->allowed, strlen(d->allowed), 80)) ==
		    NULL)
			e = LW_ENOMEM;
		else {
			char	*s;

			if (lw_asprintf(&s, "allowed=%s", a) != LW_OK)
				e = LW_ENOMEM;
			else {
				e = extra_add(d, s);
				free(s);
			}
			free(a);
		}
	}
	if (e != LW_OK) {
		to_error(rt, d, lw_strerror(e));
		return LW_OK;
	}
	if (d->log_action != NULL && d->why != DWHY_ERROR) {
		d->log_score = v->score;
		d->log_rules = v->rules;
		d->log_ms = d->res.elapsed_ms;
	}
	return LW_OK;
}

/* The state drops expired keys at most this often (Redis: itself). */
#define STATE_SWEEP_SECS	3600

void
disposition_sweep(const struct runtime *rt, bool full)
{
	static time_t	 state_swept;	/* only the sweep thread comes here */
	time_t		 now = time(NULL);
	size_t		 n = 0;

	if (rt->q != NULL && !readonly(rt)) {
		struct splitppap_env	spe;

		memset(&spe, 0, sizeof(spe));
		spe.q = rt->q;
		spe.rt = rt;
		spe.submit = rt->cfg->submit_command;
		spe.now = now;
		splitppap_drain(&spe);
		(void)splitppap_sweep(rt->q, rt->cfg->submit_command, now,
		    full, NULL, NULL);
	}
	if (rt->state != NULL && !readonly(rt) &&
	    (full || now - state_swept >= STATE_SWEEP_SECS)) {
		state_swept = now;
		if (state_sweep(rt->state, now, &n) == LW_OK && n > 0)
			log_info("state: %zu expired key(s) removed", n);
	}
}
