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

/*
 * Flags for verdict_judge.  VERDICT_MACRO_SENDER: the sender is on the
 * policy's macro_senders list, so macro rules (OFFICE_VBA*, OFFICE_XLM*)
 * count 0 and a macro document alone is only tagged.
 */
#define VERDICT_MACRO_SENDER	0x01

/* Judge fs under p; copies the findings into v. */
enum lw_err	 verdict_judge(const struct findings *fs,
		    const struct policy *p, unsigned flags, struct verdict *v);
/* Score -> action under p's thresholds (a threshold <= 0 is off). */
enum lw_action	 verdict_action_for(const struct policy *p, int score);
void		 verdict_free(struct verdict *);
const char	*verdict_action_name(enum lw_action);
/* Most severe first: reject > quarantine > tag > accept. */
int		 verdict_severity(enum lw_action);

#endif /* VERDICT_H */
