/*
 * verdict.c: findings + policy -> score and action.
 *
 * Each rule counts once per message, with the highest score any of its
 * occurrences got (three macro documents are one OFFICE_VBA), like an
 * rspamd symbol; every occurrence stays in the list for the admin.  The
 * sum is compared with the policy's thresholds, most serious first.
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "policy.h"
#include "verdict.h"

/* One table, most serious first: the name admins see in logs. */
static const struct {
	enum lw_action	 action;
	const char	*name;
	int		 severity;
} actions[] = {
	{ ACT_TEMPFAIL,		"tempfail",	4 },
	{ ACT_REJECT,		"reject",	3 },
	{ ACT_QUARANTINE,	"quarantine",	2 },
	{ ACT_TAG,		"tag",		1 },
	{ ACT_ACCEPT,		"accept",	0 },
};

const char *
verdict_action_name(enum lw_action a)
{
	size_t	i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (actions[i].action == a)
			return actions[i].name;
	return "unknown";
}

int
verdict_severity(enum lw_action a)
{
	size_t	i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (actions[i].action == a)
			return actions[i].severity;
	return 0;
}

enum lw_action
verdict_action_for(const struct policy *p, int score)
{
	if (p->th_reject > 0 && score >= p->th_reject)
		return ACT_REJECT;
	if (p->th_quarantine > 0 && score >= p->th_quarantine)
		return ACT_QUARANTINE;
	if (p->th_tag > 0 && score >= p->th_tag)
		return ACT_TAG;
	return ACT_ACCEPT;
}

static bool
is_macro_rule(const char *rule)
{
	return strncmp(rule, "OFFICE_VBA", 10) == 0 ||
	    strncmp(rule, "OFFICE_XLM", 10) == 0;
}

struct rulesum {
	const char	*rule;
	int		 score;
};

static int
rulesum_cmp(const void *a, const void *b)
{
	const struct rulesum	*x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

enum lw_err
verdict_judge(const struct findings *fs, const struct policy *p,
    unsigned flags, struct verdict *v)
{
	struct rulesum	*sums = NULL;
	size_t		 nsums = 0, i, j, len;
	bool		 macro = false;
	char		*r;

	memset(v, 0, sizeof(*v));
	v->policy = p;
	if (findings_append(&v->findings, fs) != LW_OK)
		goto fail;
	if (fs->n > 0 &&
	    (sums = calloc(fs->n, sizeof(*sums))) == NULL)
		goto fail;
	for (i = 0; i < v->findings.n; i++) {
		struct finding	*f = &v->findings.v[i];

		f->score = policy_score(p, f->rule);
		if (is_macro_rule(f->rule)) {
			macro = true;
			if (flags & VERDICT_MACRO_SENDER)
				f->score = 0;
		}
		for (j = 0; j < nsums; j++)
			if (strcmp(sums[j].rule, f->rule) == 0)
				break;
		if (j == nsums) {
			sums[nsums].rule = f->rule;
			sums[nsums].score = f->score;
			nsums++;
		} else if (f->score > sums[j].score)
			sums[j].score = f->score;
	}
	if (nsums > 0)
		qsort(sums, nsums, sizeof(*sums), rulesum_cmp);
	len = 1;
	for (j = 0; j < nsums; j++) {
		v->score += sums[j].score;
		len += strlen(sums[j].rule) + 1;
	}
	if ((v->rules = malloc(len)) == NULL)
		goto fail;
	r = v->rules;
	*r = '\0';
	for (j = 0; j < nsums; j++) {
		if (j > 0)
			*r++ = ',';
		len = strlen(sums[j].rule);
		memcpy(r, sums[j].rule, len + 1);
		r += len;
	}
	v->action = verdict_action_for(p, v->score);
	/* A trusted partner's macro document is still worth a tag. */
	if ((flags & VERDICT_MACRO_SENDER) && macro && v->action < ACT_TAG)
		v->action = ACT_TAG;
	free(sums);
	return LW_OK;
fail:
	free(sums);
	verdict_free(v);
	return LW_ENOMEM;
}

void
verdict_free(struct verdict *v)
{
	if (v == NULL)
		return;
	findings_free(&v->findings);
	free(v->rules);
	v->rules = NULL;
}
