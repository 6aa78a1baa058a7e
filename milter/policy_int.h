/*
 * policy_int.h: what the policy files (policy.c, policy_yaml.c,
 * policy_apply.c, policy_people.c, policy_print.c) share.  No other
 * stage includes it: callers see struct policyset only through
 * policy.h's functions.
 */
#ifndef POLICY_INT_H
#define POLICY_INT_H

#include <pthread.h>

#include "lurewall.h"
#include "policy.h"

struct ydoc;
struct ynode;

/* One listed domain; the index is sorted by domain. */
struct policy_domain {
	const char	*domain;	/* borrowed from the policy */
	struct policy	*policy;
};

struct policyset {
	struct policy	 *def;		/* default.yaml */
	struct policy	**v;		/* the others */
	size_t		  n;
	struct policy_domain *index;	/* every domain of v, sorted */
	size_t		  nindex;
	struct limits	  limits;	/* as given to policy_load_dir */
	pthread_mutex_t	  lock;
	unsigned	  refs;
};

/* What one load needs to report errors and find files. */
struct loadctx {
	char		*err;
	size_t		 errlen;
	const char	*policy_dir;	/* of the file being loaded */
};

/* policy.c: lifetime and inheritance */
enum lw_err	 policy_builtin(struct policy **out);
enum lw_err	 policy_copy(const struct policy *, struct policy **out);
void		 policy_free(struct policy *);
void		 policyset_free(struct policyset *);
enum lw_err	 policy_score_set(struct policy *, const char *rule,
		    int score);
void		 policy_person_free(struct person *);
void		 policy_staff_free(struct person *, size_t n);
void		 policy_corr_free(struct correspondent *, size_t n);

/*
 * policy_apply.c: the keys of one file applied to p (the built-in
 * policy for default.yaml, a copy of the default for a domain file;
 * def is NULL for default.yaml).
 */
enum lw_err	 policy_apply(const struct ydoc *, struct policy *p,
		    const struct policy *def, struct loadctx *);
/* Single values */
/* Lowercase a domain in place; false when it is not a domain name. */
bool		 policy_domain_norm(char *);
/*
 * A YAML list of domains (kind 'd'), addresses (user@dom or @dom, 'a')
 * or non-empty strings ('s').
 */
enum lw_err	 policy_get_list(const struct ydoc *, const struct ynode *,
		    const char *path, int kind, char ***out, size_t *nout,
		    struct loadctx *);

/* policy_people.c: staff (corr false) or correspondents (corr true) */
enum lw_err	 policy_people_apply(const struct ydoc *,
		    const struct ynode *root, struct policy *, bool corr,
		    struct loadctx *);

#endif /* POLICY_INT_H */
