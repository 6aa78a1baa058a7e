/*
 * policy.c: the policyset: lifetime (refcount), inheritance (a domain
 * policy starts as a deep copy of the default), scores and lookup by
 * recipient domain.
 *
 * A loaded set (policy_yaml.c) is immutable and refcounted: the milter
 * swaps a new one in on SIGUSR1 while threads still finish messages
 * with the old one.  Lookups take no lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "policy_int.h"
#include "rules.h"
#include "rules_custom.h"
#include "yamlutil.h"

#define DEFAULT_REJECT_TEXT \
	"5.7.1 Message rejected by lurewall: suspected malware lure"

static const char *const default_reply_prefixes[] = {
	"Re", "RE", "Fw", "FW", "Fwd", "返信", "転送"
};

void
policy_person_free(struct person *p)
{
	lw_strv_free(p->names, p->n);
	lw_strv_free(p->keys, p->n);
	lw_strv_free(p->skels, p->n);
	memset(p, 0, sizeof(*p));
}

void
policy_staff_free(struct person *v, size_t n)
{
	FREE_EACH(v, n, policy_person_free);
}

void
policy_corr_free(struct correspondent *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		policy_person_free(&v[i].who);
		lw_strv_free(v[i].domains, v[i].ndomains);
	}
	free(v);
}

static void
scores_free(struct score_entry *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].rule);
	free(v);
}

void
policy_free(struct policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	free(p->name);
	free(p->file);
	lw_strv_free(p->domains, p->ndomains);
	scores_free(p->scores, p->nscores);
	free(p->subject_prefix);
	for (i = 0; i < LANG_N; i++)
		free(p->prefixes[i]);
	free(p->reject_text);
	lw_strv_free(p->internal_domains, p->ninternal_domains);
	policy_staff_free(p->staff, p->nstaff);
	free(p->staff_names_file);
	policy_corr_free(p->correspondents, p->ncorrespondents);
	free(p->correspondents_file);
	lw_strv_free(p->reply_prefixes, p->nreply_prefixes);
	lw_strv_free(p->trusted_senders, p->ntrusted_senders);
	lw_strv_free(p->trusted_template_hosts, p->ntrusted_template_hosts);
	lw_strv_free(p->macro_senders, p->nmacro_senders);
	rules_custom_free(p->rules, p->nrules);
	allow_free(&p->allow);
	free(p->notify.admin);
	free(p->notify.from);
	free(p);
}

void
policyset_free(struct policyset *s)
{
	size_t	i;

	policy_free(s->def);
	for (i = 0; i < s->n; i++)
		policy_free(s->v[i]);
	free(s->v);
	free(s->index);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct policyset *
policyset_ref(struct policyset *s)
{
	pthread_mutex_lock(&s->lock);
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	return s;
}

void
policyset_unref(struct policyset *s)
{
	unsigned	left;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	left = --s->refs;
	pthread_mutex_unlock(&s->lock);
	if (left == 0)
		policyset_free(s);
}

/* Copying (a domain policy starts as a copy of the default) */

/* A copy of the n strings at src in *out, n in *nout (when not NULL). */
static enum lw_err
strlist_copy(char *const *src, size_t n, char ***out, size_t *nout)
{
	char	**v;
	size_t	  i;

	*out = NULL;
	if (nout != NULL)
		*nout = 0;
	if (n == 0)
		return LW_OK;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < n; i++)
		if ((v[i] = strdup(src[i])) == NULL) {
			lw_strv_free(v, i);
			return LW_ENOMEM;
		}
	*out = v;
	if (nout != NULL)
		*nout = n;
	return LW_OK;
}

static enum lw_err
person_copy(const struct person *src, struct person *dst)
{
	size_t	i;

	memset(dst, 0, sizeof(*dst));
	if (strlist_copy(src->names, src->n, &dst->names, NULL) != LW_OK)
		return LW_ENOMEM;
	if (strlist_copy(src->keys, src->n, &dst->keys, NULL) != LW_OK) {
		lw_strv_free(dst->names, src->n);
		dst->names = NULL;
		return LW_ENOMEM;
	}
	dst->n = src->n;
	/* Skeletons are a cache: one that was not computed stays NULL. */
	if (src->skels != NULL && src->n > 0) {
		if ((dst->skels = calloc(src->n, sizeof(*dst->skels))) == NULL)
			goto out_nomem;
		for (i = 0; i < src->n; i++)
			if (src->skels[i] != NULL &&
			    (dst->skels[i] = strdup(src->skels[i])) == NULL)
				goto out_nomem;
	}
	return LW_OK;

 out_nomem:
	policy_person_free(dst);
	return LW_ENOMEM;
}

enum lw_err
policy_copy(const struct policy *s, struct policy **out)
{
	struct policy	*p;
	size_t		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LW_ENOMEM;
	p->th_tag = s->th_tag;
	p->th_quarantine = s->th_quarantine;
	p->th_reject = s->th_reject;
	p->tag_headers = s->tag_headers;
	p->quarantine_then = s->quarantine_then;
	p->split_wait = s->split_wait;
	p->split_on_timeout = s->split_on_timeout;
	p->outbound = s->outbound;
	p->language = s->language;
	p->always_header = s->always_header;
	p->mode = s->mode;
	p->notify.recipients = s->notify.recipients;
	p->notify.digest = s->notify.digest;
	if (allow_copy(&s->allow, &p->allow) != LW_OK ||
	    (s->notify.admin != NULL &&
	    (p->notify.admin = strdup(s->notify.admin)) == NULL) ||
	    (s->notify.from != NULL &&
	    (p->notify.from = strdup(s->notify.from)) == NULL))
		goto out_policy;
	for (i = 0; i < LANG_N; i++)
		if (s->prefixes[i] != NULL &&
		    (p->prefixes[i] = strdup(s->prefixes[i])) == NULL)
			goto out_policy;
	if ((s->subject_prefix != NULL &&
	    (p->subject_prefix = strdup(s->subject_prefix)) == NULL) ||
	    (p->reject_text = strdup(s->reject_text)) == NULL ||
	    (s->staff_names_file != NULL &&
	    (p->staff_names_file = strdup(s->staff_names_file)) == NULL) ||
	    (s->correspondents_file != NULL &&
	    (p->correspondents_file = strdup(s->correspondents_file)) ==
	    NULL))
		goto out_policy;
	if (s->nscores > 0 &&
	    (p->scores = calloc(s->nscores, sizeof(*p->scores))) == NULL)
		goto out_policy;
	for (; p->nscores < s->nscores; p->nscores++) {
		p->scores[p->nscores].score = s->scores[p->nscores].score;
		if ((p->scores[p->nscores].rule =
		    strdup(s->scores[p->nscores].rule)) == NULL)
			goto out_policy;
	}
	if (strlist_copy(s->internal_domains, s->ninternal_domains,
	    &p->internal_domains, &p->ninternal_domains) != LW_OK ||
	    strlist_copy(s->reply_prefixes, s->nreply_prefixes,
	    &p->reply_prefixes, &p->nreply_prefixes) != LW_OK ||
	    strlist_copy(s->trusted_senders, s->ntrusted_senders,
	    &p->trusted_senders, &p->ntrusted_senders) != LW_OK ||
	    strlist_copy(s->trusted_template_hosts, s->ntrusted_template_hosts,
	    &p->trusted_template_hosts, &p->ntrusted_template_hosts) != LW_OK ||
	    strlist_copy(s->macro_senders, s->nmacro_senders,
	    &p->macro_senders, &p->nmacro_senders) != LW_OK)
		goto out_policy;
	if (s->nstaff > 0 &&
	    (p->staff = calloc(s->nstaff, sizeof(*p->staff))) == NULL)
		goto out_policy;
	for (; p->nstaff < s->nstaff; p->nstaff++)
		if (person_copy(&s->staff[p->nstaff], &p->staff[p->nstaff]) !=
		    LW_OK)
			goto out_policy;
	if (s->ncorrespondents > 0 && (p->correspondents =
	    calloc(s->ncorrespondents, sizeof(*p->correspondents))) == NULL)
		goto out_policy;
	for (i = 0; i < s->ncorrespondents; i++) {
		if (person_copy(&s->correspondents[i].who,
		    &p->correspondents[i].who) != LW_OK)
			goto out_policy;
		p->ncorrespondents++;
		if (strlist_copy(s->correspondents[i].domains,
		    s->correspondents[i].ndomains,
		    &p->correspondents[i].domains,
		    &p->correspondents[i].ndomains) != LW_OK)
			goto out_policy;
	}
	if (s->nrules > 0 &&
	    (p->rules = calloc(s->nrules, sizeof(*p->rules))) == NULL)
		goto out_policy;
	for (i = 0; i < s->nrules; i++) {
		struct custom_rule	*d = &p->rules[i];
		const struct custom_rule *r = &s->rules[i];

		p->nrules++;
		d->where = r->where;
		d->score = r->score;
		d->caseless = r->caseless;
		if ((d->name = strdup(r->name)) == NULL ||
		    (d->pattern = strdup(r->pattern)) == NULL ||
		    (r->header != NULL &&
		    (d->header = strdup(r->header)) == NULL) ||
		    (d->re = pcre2_code_copy(r->re)) == NULL)
			goto out_policy;
	}
	*out = p;
	return LW_OK;

 out_policy:
	policy_free(p);
	return LW_ENOMEM;
}

/* Scores: sorted by rule name so that policy_score can bsearch. */

static struct score_entry *
score_find(const struct policy *p, const char *rule)
{
	struct score_entry	key;

	if (p->nscores == 0)
		return NULL;
	key.rule = (char *)rule;
	return bsearch(&key, p->scores, p->nscores, sizeof(key), lw_strp_cmp);
}

enum lw_err
policy_score_set(struct policy *p, const char *rule, int score)
{
	struct score_entry	*e, *nv;
	size_t			 i;
	char			*r;

	if ((e = score_find(p, rule)) != NULL) {
		e->score = score;
		return LW_OK;
	}
	if ((r = strdup(rule)) == NULL)
		return LW_ENOMEM;
	if ((nv = reallocarray(p->scores, p->nscores + 1, sizeof(*nv))) ==
	    NULL) {
		free(r);
		return LW_ENOMEM;
	}
	p->scores = nv;
	for (i = p->nscores; i > 0 && strcmp(nv[i - 1].rule, rule) > 0; i--)
		nv[i] = nv[i - 1];
	nv[i].rule = r;
	nv[i].score = score;
	p->nscores++;
	return LW_OK;
}

int
policy_score(const struct policy *p, const char *rule)
{
	const struct score_entry	*e;
	const struct rule_def		*d;

	if (p != NULL && (e = score_find(p, rule)) != NULL)
		return e->score;
	if ((d = rules_find(rule)) != NULL)
		return d->score;
	return 0;
}

/*
 * The built-in policy that default.yaml is applied on: these values,
 * and each built-in rule at its own score (rules.c).
 */
static const struct policy builtin = {
	.th_tag = 5,
	.th_quarantine = 10,
	.th_reject = 50,
	.tag_headers = true,
	.quarantine_then = QTHEN_DISCARD,
	.outbound = { 600, 3, 200, OUTBOUND_QUARANTINE },
	.reject_text = (char *)DEFAULT_REJECT_TEXT,
	.reply_prefixes = (char **)default_reply_prefixes,
	.nreply_prefixes = sizeof(default_reply_prefixes) /
	    sizeof(default_reply_prefixes[0]),
};

enum lw_err
policy_builtin(struct policy **out)
{
	struct policy	*p;
	size_t		 i;

	if (policy_copy(&builtin, &p) != LW_OK)
		return LW_ENOMEM;
	for (i = 0; i < rules_nbuiltin; i++)
		if (policy_score_set(p, rules_builtin[i].name,
		    rules_builtin[i].score) != LW_OK) {
			policy_free(p);
			return LW_ENOMEM;
		}
	*out = p;
	return LW_OK;
}

const struct policy *
policyset_for_domain(const struct policyset *s, const char *domain)
{
	struct policy_domain	 key, *hit;
	char			 buf[256], *d;
	size_t			 len;

	if (domain == NULL || s->nindex == 0)
		return s->def;
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return s->def;
	memcpy(buf, domain, len);
	buf[len] = '\0';
	lw_strlower(buf);
	/* The exact domain, then each parent, longest first. */
	for (d = buf; d != NULL && *d != '\0'; ) {
		key.domain = d;
		if ((hit = bsearch(&key, s->index, s->nindex, sizeof(key),
		    lw_strp_cmp)) != NULL)
			return hit->policy;
		if ((d = strchr(d, '.')) != NULL)
			d++;
	}
	return s->def;
}

bool
policy_addr_listed(char *const *list, size_t n, const char *addr)
{
	const char	*at;
	size_t		 i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		if (list[i][0] == '@') {
			if (strcasecmp(list[i] + 1, at + 1) == 0)
				return true;
		} else if (strcasecmp(list[i], addr) == 0)
			return true;
	}
	return false;
}

const struct policy *
policyset_default(const struct policyset *s)
{
	return s->def;
}

size_t
policyset_count(const struct policyset *s)
{
	return s->n;
}

unsigned
policyset_refcount(struct policyset *s)
{
	unsigned	n;

	pthread_mutex_lock(&s->lock);
	n = s->refs;
	pthread_mutex_unlock(&s->lock);
	return n;
}
