/*
 * rules.h: the registry of built-in rule names, their default scores and
 * one line on what triggers each.  The shipped conf/policy.d/default.yaml
 * and lurewall-policy(5) list the same table (a test keeps them in step).
 * A policy's scores: may name only these or its own custom rules.
 */
#ifndef RULES_H
#define RULES_H

#include "lurewall.h"

struct rule_def {
	const char	*name;
	int		 score;		/* built-in default */
	const char	*what;		/* one line for humans */
};

extern const struct rule_def	rules_builtin[];
extern const size_t		rules_nbuiltin;

const struct rule_def	*rules_find(const char *name);

#endif /* RULES_H */
