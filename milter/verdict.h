/*
 * verdict.h: findings + policy -> score and action.  Each rule counts
 * once per message (its highest-scoring occurrence), like an rspamd
 * symbol; every occurrence stays in the list for the admin.  One table
 * maps actions to their SMTP reply, most serious first.
 */
#ifndef VERDICT_H
#define VERDICT_H

#include "lurewall.h"

struct policy;

enum lw_action {
	ACT_ACCEPT = 0,
	ACT_TAG,
	ACT_QUARANTINE,
	ACT_REJECT,
	ACT_TEMPFAIL		/* internal error with on_error tempfail */
};

struct verdict {
	enum lw_action		 action;
	int			 score;
	const struct policy	*policy;	/* borrowed from the policyset */
	struct findings		 findings;	/* scores filled in */
	char			*rules;		/* "RULE1,RULE2" distinct, by score */
};

/* Judge fs under p; copies the findings into v. */
enum lw_err	 verdict_judge(const struct findings *fs,
		    const struct policy *p, struct verdict *v);
void		 verdict_free(struct verdict *);
const char	*verdict_action_name(enum lw_action);
/* Most severe first: reject > quarantine > tag > accept. */
int		 verdict_severity(enum lw_action);

#endif /* VERDICT_H */
