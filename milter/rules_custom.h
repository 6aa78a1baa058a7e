/*
 * rules_custom.h: the policy's custom rules (rules: in a policy file):
 * PCRE2 patterns compiled once when the policy loads, matched per
 * message by rules_custom_scan().  Only the policy loader, the hijack
 * stage and their tests include this header (and with it <pcre2.h>).
 */
#ifndef RULES_CUSTOM_H
#define RULES_CUSTOM_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lurewall.h"

struct message;
struct policy;
struct scan_ctx;

enum rule_where {
	WHERE_SUBJECT,
	WHERE_FROM_NAME,
	WHERE_FROM_ADDR,
	WHERE_BODY,
	WHERE_HEADER
};

struct custom_rule {
	char		*name;
	enum rule_where	 where;
	char		*header;	/* WHERE_HEADER: field name */
	char		*pattern;
	pcre2_code	*re;		/* compiled once, shared by threads */
	int		 score;		/* also in the policy's scores */
	bool		 caseless;	/* compiled with PCRE2_CASELESS */
};

/* Free one rule's strings and pattern and zero it. */
void		 rules_custom_clear(struct custom_rule *);
/* Free n rules and the array v. */
void		 rules_custom_free(struct custom_rule *v, size_t n);

/*
 * Match p's custom rules against msg: a matching rule adds one finding
 * (its name, part "") to out; a pcre2 limit adds SCAN_ERROR.  ctx may be
 * NULL (default pcre2 limits, no deadline).  LW_OK or LW_ENOMEM.
 */
enum lw_err	 rules_custom_scan(struct scan_ctx *, const struct message *,
		    const struct policy *p, struct findings *out);

#endif /* RULES_CUSTOM_H */
