/*
 * hijack_learn.c: the hijack signs that rest on what the organisation's
 * own mail taught (learn.h), with no policy list at all:
 *
 *  HDR_INTERNAL_NAME_EXTERNAL  the display name is a learned account's
 *                              (a colleague's) and the From domain is
 *                              none of that person's.
 *  HDR_DISPLAY_NAME_SPOOF      the display name is a learned
 *                              correspondent's and the From domain is
 *                              none that name was learned at.
 *  HDR_THREAD_HIJACK           In-Reply-To/References name a thread of
 *                              ours, or the subject and the quoted
 *                              author name exactly one, and the sender
 *                              never took part in it (learn_participant:
 *                              a partner's second known domain takes
 *                              part).
 *  HDR_KNOWN_THREAD            the same, from a participant: a genuine
 *                              reply (the caller drops its prefix signs).
 *  HDR_FIRST_CONTACT           the organisation's store is mature and
 *                              never exchanged mail with the From domain
 *                              (nor a parent of it); not when a name
 *                              sign fired (a common name from a new
 *                              domain stays one sign below the tag).
 *
 * A name sign here fires only when the policy's own lists did not
 * already fire it; both use the same name keys (names.h).  Senders in
 * the policy's internal domains are exempt.  A lookup the state cannot
 * answer (LW_EIO) is logged and judged as nothing learned: the store
 * helps judge, it never stops mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "hijack_int.h"
#include "learn.h"
#include "log.h"
#include "mime.h"

#define DOMS_SHOWN	3

/* Nothing learned when the state fails; ENOMEM stays an error. */
static enum lw_err
soft(struct scan_ctx *ctx, enum lw_err e, const char *what)
{
	if (e == LW_OK || e == LW_ENOMEM)
		return e;
	log_msg(LOG_WARNING, ctx->qid, "learn: %s: %s: judged as unknown",
	    what, lw_strerror(e));
	return LW_OK;
}

static enum lw_err
name_signs(struct scan_ctx *ctx, const struct message *msg, const char *org,
    struct findings *out, bool *fired)
{
	struct learn_match	*v, *acct = NULL, *corr = NULL;
	size_t			 n, i;
	enum lw_err		 e;

	*fired = findings_has(out, "HDR_DISPLAY_NAME_SPOOF") ||
	    findings_has(out, "HDR_INTERNAL_NAME_EXTERNAL");
	if (*fired || msg->from.display == NULL)
		return LW_OK;
	if ((e = learn_names(ctx->learn, org, msg->from.display, ctx->now,
	    &v, &n)) != LW_OK)
		return soft(ctx, e, "names");
	for (i = 0; i < n; i++) {
		/* Somebody of that name at this domain: it is them. */
		if (lw_domain_below(msg->from.domain, v[i].domain) ||
		    lw_domain_below(v[i].domain, msg->from.domain))
			goto out;
		if (v[i].kind == LEARN_ACCOUNT && acct == NULL)
			acct = &v[i];
		if (v[i].kind == LEARN_CORRESPONDENT && corr == NULL)
			corr = &v[i];
	}
	if (acct != NULL) {
		e = findings_add(out, "HDR_INTERNAL_NAME_EXTERNAL", "",
		    "display name \"%s\" is staff %s (learned from %llu "
		    "messages)%s, sent from %s", msg->from.display, acct->addr,
		    (unsigned long long)acct->count, acct->confusable ?
		    " with confusable letters" : "", msg->from.addr);
		*fired = true;
	} else if (corr != NULL) {
		e = findings_add(out, "HDR_DISPLAY_NAME_SPOOF", "",
		    "display name \"%s\" learned from %llu messages to %s%s, "
		    "sent from %s", msg->from.display,
		    (unsigned long long)corr->count, corr->addr,
		    corr->confusable ? " (with confusable letters)" : "",
		    msg->from.addr);
		*fired = true;
	}
out:
	learn_matches_free(v, n);
	return e;
}

static void
doms_list(const struct learn_record *t, char *buf, size_t len)
{
	size_t	i, used;

	buf[0] = '\0';
	for (i = 0; i < t->nitems && i < DOMS_SHOWN; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "",
		    t->items[i].text);
	}
	if (t->nitems > DOMS_SHOWN) {
		used = strlen(buf);
		snprintf(buf + used, len - used, ", ...");
	}
}

static enum lw_err
thread_signs(struct scan_ctx *ctx, const struct message *msg,
    const char *org, const struct quote *q, struct findings *out,
    bool *known)
{
	struct learn_record	 t;
	enum learn_how		 how;
	char			 doms[DOMS_SHOWN * (DOMAIN_MAX + 2) + 8];
	const char		*by;
	bool			 yes;
	enum lw_err		 e;

	*known = false;
	if ((e = learn_thread_find(ctx->learn, org, msg, q->author[0] !=
	    '\0' ? q->author : NULL, ctx->now, &t, &how)) != LW_OK)
		return soft(ctx, e, "threads");
	if (how != LEARN_BY_REF && how != LEARN_BY_SUBJECT)
		return LW_OK;
	by = how == LEARN_BY_REF ? "In-Reply-To/References name" :
	    "subject and quoted author name";
	e = learn_participant(ctx->learn, org, &t, msg->from.addr,
	    msg->from.display, ctx->now, &yes);
	if (e != LW_OK) {
		learn_record_free(&t);
		return soft(ctx, e, "participants");
	}
	doms_list(&t, doms, sizeof(doms));
	if (yes) {
		*known = true;
		e = findings_add(out, "HDR_KNOWN_THREAD", "", "%s our thread "
		    "with %s; %s takes part", by, doms, msg->from.domain);
	} else
		e = findings_add(out, "HDR_THREAD_HIJACK", "", "%s our thread "
		    "with %s; %s never took part", by, doms,
		    msg->from.domain);
	learn_record_free(&t);
	return e;
}

static enum lw_err
first_contact(struct scan_ctx *ctx, const struct message *msg,
    const char *org, struct findings *out)
{
	bool		mature, known;
	enum lw_err	e;

	if ((e = learn_mature(ctx->learn, org, ctx->now, &mature)) != LW_OK)
		return soft(ctx, e, "maturity");
	if (!mature)
		return LW_OK;
	if ((e = learn_domain_known(ctx->learn, org, msg->from.domain,
	    ctx->now, &known)) != LW_OK)
		return soft(ctx, e, "domains");
	if (known)
		return LW_OK;
	return findings_add(out, "HDR_FIRST_CONTACT", "", "%s never "
	    "exchanged mail with us", msg->from.domain);
}

enum lw_err
hijack_learn_signs(struct scan_ctx *ctx, const struct message *msg,
    const char *org, const struct quote *q, struct findings *out,
    bool *known)
{
	bool		named;
	enum lw_err	e;

	*known = false;
	if (ctx->learn == NULL || msg->from.domain == NULL ||
	    msg->from.addr == NULL)
		return LW_OK;
	if ((e = name_signs(ctx, msg, org, out, &named)) != LW_OK ||
	    (e = thread_signs(ctx, msg, org, q, out, known)) != LW_OK)
		return e;
	if (named || *known)
		return LW_OK;
	return first_contact(ctx, msg, org, out);
}
