/*
 * rules_custom.c: the policy's custom rules (rules: in a policy file).
 *
 * Takes the parsed message and one recipient policy; each rule whose
 * PCRE2 pattern matches where it looks (subject, From display name,
 * From address, one header field, or the body text of every text part,
 * attached messages' included) adds one finding named for the rule, its
 * detail the first DETAIL_MATCH_BYTES of the match.  A rule matches at
 * most once.  A pcre2 match or depth limit is SCAN_ERROR (evidence,
 * never a pass).
 *
 * Patterns are compiled once when the policy loads (policy_apply.c) and
 * shared by threads; each call brings its own match data.  Bounds: the
 * pcre2 limits of struct limits; stops when scan_expired().
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "mime.h"
#include "policy.h"
#include "rules_custom.h"
#include "util.h"
#include "analyzer.h"

#define DETAIL_MATCH_BYTES	120

static bool
expired(struct scan_ctx *ctx)
{
	return ctx != NULL && scan_expired(ctx);
}

void
rules_custom_clear(struct custom_rule *r)
{
	FREE_ALL(r->name, r->header, r->pattern);
	pcre2_code_free(r->re);
	memset(r, 0, sizeof(*r));
}

void
rules_custom_free(struct custom_rule *v, size_t n)
{
	FREE_EACH(v, n, rules_custom_clear);
}

/* One custom rule's matching state. */
struct rmatch {
	struct scan_ctx			*ctx;
	const struct custom_rule	*r;
	pcre2_match_context		*mc;
	pcre2_match_data		*md;
	struct findings			*out;
	bool				 done;	/* matched or gave up */
	enum lw_err			 err;
};

static void
rule_try(struct rmatch *m, const char *where, const char *s, size_t len)
{
	PCRE2_SIZE	*ov;
	size_t		 ml;
	int		 rc;

	if (m->done || s == NULL)
		return;
	rc = pcre2_match(m->r->re, (PCRE2_SPTR)s, len, 0, 0, m->md, m->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return;
	m->done = true;
	if (rc < 0) {
		/* A limit or a bad subject: evidence, never a pass. */
		PCRE2_UCHAR	msgbuf[120];

		if (pcre2_get_error_message(rc, msgbuf, sizeof(msgbuf)) < 0)
			strcpy((char *)msgbuf, "error");
		m->err = findings_add(m->out, "SCAN_ERROR", "",
		    "custom rule %s on %s: pcre2: %s", m->r->name, where,
		    (char *)msgbuf);
		return;
	}
	ov = pcre2_get_ovector_pointer(m->md);
	ml = ov[1] > ov[0] ? ov[1] - ov[0] : 0;
	if (ml > DETAIL_MATCH_BYTES)
		ml = lw_utf8_cut(s + ov[0], DETAIL_MATCH_BYTES);
	m->err = findings_add(m->out, m->r->name, "", "%s matches \"%.*s\"",
	    where, (int)ml, s + ov[0]);
}

/* Body text of every text part, attached messages' included. */
static void
rule_body(struct rmatch *m, const struct mime_part *mp)
{
	size_t	i;

	if (mp == NULL || m->done || expired(m->ctx))
		return;
	if (mp->text != NULL && !mp->is_attachment)
		rule_try(m, "body", mp->text, mp->text_len);
	for (i = 0; i < mp->nchild; i++)
		rule_body(m, mp->child[i]);
	if (mp->inner != NULL)
		rule_body(m, mp->inner->root);
}

enum lw_err
rules_custom_scan(struct scan_ctx *ctx, const struct message *msg,
    const struct policy *p, struct findings *out)
{
	struct rmatch	 m;
	size_t		 i, h;
	const char	*s;
	enum lw_err	 e = LW_OK;

	if (p->nrules == 0)
		return LW_OK;
	memset(&m, 0, sizeof(m));
	m.ctx = ctx;
	m.out = out;
	if ((m.mc = pcre2_match_context_create(NULL)) == NULL)
		return LW_ENOMEM;
	pcre2_set_match_limit(m.mc, ctx != NULL && ctx->lim != NULL ?
	    ctx->lim->pcre2_match_limit : 1000000);
	pcre2_set_depth_limit(m.mc, ctx != NULL && ctx->lim != NULL ?
	    ctx->lim->pcre2_depth_limit : 10000);
	for (i = 0; i < p->nrules && e == LW_OK; i++) {
		m.r = &p->rules[i];
		if (m.r->re == NULL || m.r->name == NULL)
			continue;
		if (expired(ctx))
			break;
		/* Per call: the compiled pattern is shared by threads. */
		if ((m.md = pcre2_match_data_create_from_pattern(m.r->re,
		    NULL)) == NULL) {
			e = LW_ENOMEM;
			break;
		}
		m.done = false;
		m.err = LW_OK;
		switch (m.r->where) {
		case WHERE_SUBJECT:
			s = msg->subject;
			rule_try(&m, "subject", s, s ? strlen(s) : 0);
			break;
		case WHERE_FROM_NAME:
			s = msg->from.display;
			rule_try(&m, "from_name", s, s ? strlen(s) : 0);
			break;
		case WHERE_FROM_ADDR:
			s = msg->from.addr;
			rule_try(&m, "from_addr", s, s ? strlen(s) : 0);
			break;
		case WHERE_BODY:
			rule_body(&m, msg->root);
			break;
		case WHERE_HEADER:
			for (h = 0; h < msg->nhdrs && !m.done; h++) {
				s = msg->hdrs[h].value;
				if (m.r->header != NULL && s != NULL &&
				    msg->hdrs[h].name != NULL &&
				    lw_strcaseeq(msg->hdrs[h].name,
				    m.r->header))
					rule_try(&m, m.r->header, s,
					    strlen(s));
			}
			break;
		}
		e = m.err;
		pcre2_match_data_free(m.md);
	}
	pcre2_match_context_free(m.mc);
	return e;
}
