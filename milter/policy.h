/*
 * policy.h: per-domain policies from the YAML files in conf/policy.d (libyaml).
 *
 * default.yaml covers every domain no other file names; every other
 * file inherits from it whatever it does not set: maps (thresholds,
 * scores, tag, quarantine) merge key by key, lists and scalars replace.
 * Unknown keys, wrong types and bad values are errors naming file,
 * line, column and key path.  A loaded policyset is immutable and
 * refcounted, so the milter swaps a new one in on SIGUSR1 while threads
 * still finish messages with the old one.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdio.h>

#include "allow.h"
#include "lurewall.h"

struct custom_rule;	/* rules_custom.h */

/*
 * One person: every alias, as written, as names_key() and as that key's
 * lookalike_skeleton() (computed once at load: the hijack rules compare
 * it with every message's display name; NULL when not computed).
 */
struct person {
	char		**names;
	char		**keys;
	size_t		  n;
	char		**skels;	/* n entries, each may be NULL; or NULL */
};

struct correspondent {
	struct person	  who;
	char		**domains;	/* lowercased */
	size_t		  ndomains;
};

struct score_entry {
	char		*rule;
	int		 score;
};

enum quarantine_then {
	QTHEN_DISCARD = 0,
	QTHEN_REJECT,
	QTHEN_HOLD
};

/*
 * The names the policy files give these values, in enum order,
 * NULL-terminated: policy_apply.c reads them, policy_print.c writes them.
 */
extern const char *const policy_then_names[];	/* quarantine.then */
extern const char *const policy_timeout_names[]; /* split_password */
extern const char *const policy_action_names[];	/* outbound.action */
extern const char *const policy_mode_names[];	/* mode */

/* split_password.on_timeout (splitppap.c) */
enum split_timeout {
	SPLIT_RELEASE_TAGGED = 0,
	SPLIT_KEEP,
	SPLIT_RELEASE
};

#define SPLIT_WAIT_DEFAULT	1800		/* 30m */
#define SPLIT_WAIT_MAX		(30 * 86400)	/* 30d */
/*
 * outbound: (issue 11): the outbreak breaker for mail this domain's
 * users send.  A count of 0 switches that counter off.
 */
enum outbound_action {
	OUTBOUND_QUARANTINE = 0,	/* store in the quarantine, then discard */
	OUTBOUND_TEMPFAIL	/* 451: the sender's MTA keeps it queued */
};

struct outbound_policy {
	unsigned	 window;	/* sliding window, seconds (600) */
	unsigned	 max_lures;	/* lure-like messages that trip (3) */
	unsigned	 max_new_rcpts;	/* new recipients that trip (200) */
	enum outbound_action action;	/* for a tripped sender's mail */
};

/* language: of the subject prefix, notices and digests. */
enum policy_lang {
	LANG_EN = 0,
	LANG_JA,
	LANG_N
};
extern const char *const policy_lang_names[LANG_N + 1]; /* "en", "ja" */

/* mode: enforce, or observe (decide and log, deliver unchanged). */
enum policy_mode {
	MODE_ENFORCE = 0,
	MODE_OBSERVE
};

/* notify: who hears of a quarantined message. */
struct notify_policy {
	bool		 recipients;	/* a notice per message to them */
	bool		 digest;	/* ... or only `quarantine digest` */
	char		*admin;		/* an address told of each, or NULL */
	char		*from;		/* From: of notices and digests */
};

struct policy {
	char		 *name;		/* file name without .yaml */
	char		 *file;		/* path it came from */
	char		**domains;	/* lowercased recipient domains */
	size_t		  ndomains;

	int		  th_tag;	/* score >= th_tag: tag */
	int		  th_quarantine;
	int		  th_reject;

	struct score_entry *scores;	/* merged with default and built-ins */
	size_t		  nscores;

	enum policy_lang  language;
	char		 *prefixes[LANG_N];	/* tag.subject_prefix by language */
	char		 *subject_prefix;	/* prefixes[language]: UTF-8 or NULL */
	bool		  tag_headers;		/* add X-Lurewall-* headers */
	bool		  always_header;	/* X-Lurewall-Result on accept */
	enum policy_mode  mode;
	struct allow_list allow;
	struct notify_policy notify;
	char		 *reject_text;		/* ASCII, no CR/LF */
	enum quarantine_then quarantine_then;

	char		**internal_domains;
	size_t		  ninternal_domains;
	struct person	 *staff;
	size_t		  nstaff;
	char		 *staff_names_file;	/* resolved path or NULL */
	struct correspondent *correspondents;
	size_t		  ncorrespondents;
	char		 *correspondents_file;
	char		**reply_prefixes;	/* expected prefixes, as written */
	size_t		  nreply_prefixes;
	char		**trusted_senders;	/* "user@dom" or "@dom", lowercased */
	size_t		  ntrusted_senders;
	char		**trusted_template_hosts;	/* lowercased hosts whose
						   remote templates are ours */
	size_t		  ntrusted_template_hosts;
	char		**macro_senders;
	size_t		  nmacro_senders;
	struct custom_rule *rules;	/* rules_custom.h */
	size_t		  nrules;

	/* split_password: hold for the password mail; wait 0 = off */
	unsigned	  split_wait;		/* seconds */
	enum split_timeout split_on_timeout;
	struct outbound_policy outbound;
};

/* Every loaded policy: opaque (policy_int.h), immutable, refcounted. */
struct policyset;

/*
 * Load every NAME.yaml in dir (other names, and names starting with '.',
 * are ignored; default.yaml must be there).  limits may be NULL
 * (limits_default()).  On error returns LW_EINVAL with err set to
 * "FILE:LINE:COL: KEY.PATH: message" (LW_EIO when a file or the
 * directory cannot be read, LW_ENOMEM) and *out untouched; nothing is
 * left allocated.  The new set holds one reference.
 */
enum lw_err	 policy_load_dir(const char *dir, const struct limits *,
		    struct policyset **out, char *err, size_t errlen);
struct policyset *policyset_ref(struct policyset *);
void		 policyset_unref(struct policyset *);

/*
 * The policy for a recipient domain (case-insensitive, a trailing dot
 * ignored); never NULL.  An exact match wins; else the longest listed
 * parent domain ("example.co.jp" covers "sub.example.co.jp"); else the
 * default policy.  NULL or "" gives the default policy.
 */
const struct policy *policyset_for_domain(const struct policyset *,
		    const char *domain);

/*
 * Score of a rule under this policy: the policy's scores (which already
 * hold default.yaml's, the built-ins and the custom rules'), else the
 * built-in default from rules_find(), else 0.
 */
int		 policy_score(const struct policy *, const char *rule);
/* addr matches an entry "user@dom" or "@dom" (case-insensitive). */
bool		 policy_addr_listed(char *const *list, size_t n,
		    const char *addr);

/* default.yaml's policy (the one for every unlisted domain). */
const struct policy *policyset_default(const struct policyset *);
/* How many domain policies the set holds besides the default. */
size_t		 policyset_count(const struct policyset *);
/* References held now (tests). */
unsigned	 policyset_refcount(struct policyset *);

/* Print the effective policy as YAML (check-config). */
void		 policy_print(const struct policy *, FILE *);
/* Every policy of the set, default first, "---" lines between. */
void		 policyset_print(const struct policyset *, FILE *);

#endif /* POLICY_H */
