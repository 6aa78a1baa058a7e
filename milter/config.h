/*
 * config.h: conf/lurewall.yaml (daemon, limits, quarantine).  Relative
 * paths resolve against the config file's directory, so a copied conf/
 * works anywhere.  Errors name file, line, column and key path.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>

#include "learn.h"
#include "lurewall.h"
#include "state.h"

/* One internal_networks entry: address family, network bytes, prefix. */
struct lw_cidr {
	int		 af;		/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network order, host bits cleared */
	unsigned	 bits;		/* prefix length */
};

enum on_error {
	ONERR_TEMPFAIL = 0,
	ONERR_ACCEPT
};

enum config_mta {
	MTA_POSTFIX = 0,
	MTA_SENDMAIL
};

struct config {
	char		*file;		/* absolute path it was read from */
	char		*socket;	/* unix:/path or inet:PORT@HOST */
	char		*user;		/* USER[:GROUP] or NULL */
	char		*pidfile;
	int		 syslog_facility;	/* LOG_MAIL ... */
	char		*syslog_facility_name;
	enum on_error	 on_error;
	char		*quarantine_dir;
	char		*policy_dir;
	char		*submit_command;	/* release: argv template */
	struct limits	 limits;

	/* Outbound mail (issue 11): what makes a message outbound. */
	char		**outbound_daemon_names;	/* {daemon_name} values */
	size_t		  noutbound_daemon_names;
	struct lw_cidr	 *internal_networks;		/* client addresses */
	size_t		  ninternal_networks;
	char		 *alert_command;	/* argv template or NULL */
	char		 *outbreak_dir;		/* breaker state */

	/* What outlives a message (issue 17): see state.h. */
	struct state_config state;
	/* Issue 18: learning from our own mail (learn.h). */
	struct learn_config learn;
	/* Issue 20: metrics.listen, "HOST:PORT" of /metrics; NULL: off. */
	char		 *metrics_listen;
	char		 *authserv_id;	/* our MTA's Authentication-Results */
	char		 *notice_dir;	/* notice and digest templates */
	char		 *on_quarantine_command;	/* argv template */
	/* The MTA's hold queue (quarantine.then: hold): one copy. */
	enum config_mta	  mta;
	char		 *hold_release_command;	/* argv template, %q */
	char		 *hold_delete_command;	/* NULL: Sendmail's files */
	char		 *hold_flush_command;	/* deliver it now */
	char		 *mta_queue_dir;	/* Sendmail's queue */
};

/* The learn: section (config_learn.c) into c, and its printed form. */
struct ydoc;
struct ynode;
enum lw_err	 config_learn_load(const struct ydoc *, const struct ynode *,
		    struct learn_config *c, char *err, size_t errlen);
void		 config_learn_print(const struct learn_config *, FILE *);

/* Load path; on error LW_EINVAL and err "FILE:LINE:COL: KEY: message". */
enum lw_err	 config_load(const char *path, struct config **out,
		    char *err, size_t errlen);
void		 config_free(struct config *);
void		 config_print(const struct config *, FILE *);

/*
 * Expand a submit_command template (the config's, or a release's
 * --submit) for one release into a NULL-terminated argv (no shell): the
 * template is split on blanks, %f becomes the envelope sender ("" for
 * the null sender), a word that is exactly %r becomes one word per
 * recipient, %% a single %.  Free with config_argv_free.
 */
enum lw_err	 config_submit_argv(const char *tmpl, const char *sender,
		    char *const *rcpts, size_t nrcpts, char ***argv);
void		 config_argv_free(char **);
/*
 * Expand a hold command template for MTA queue id qid: split on blanks,
 * %q (anywhere in a word) becomes qid, %% a %.  qid must be letters and
 * digits only (LW_EINVAL otherwise).
 */
enum lw_err	 config_hold_argv(const char *tmpl, const char *qid,
		    char ***argv);

/*
 * True when addr (a textual IPv4 or IPv6 address as in {client_addr},
 * optionally "IPv6:"-prefixed or in brackets) lies in one of the
 * config's internal_networks.  An IPv4-mapped IPv6 address counts as
 * its IPv4 address.
 */
bool		 config_internal_addr(const struct config *, const char *addr);
/* True when the client address addr (as above) lies in network n. */
bool		 config_cidr_contains(const struct lw_cidr *n, const char *addr);
/* Parse "ADDR/BITS" or "ADDR" (a host) into *out; false if malformed. */
bool		 config_cidr_parse(const char *s, struct lw_cidr *out);

/* Built-in defaults (also what conf/lurewall.yaml documents). */
#define CONFIG_DEFAULT_SOCKET	"unix:/var/spool/postfix/lurewall/lurewall.sock"
#define CONFIG_DEFAULT_QDIR	"/var/lib/lurewall/quarantine"
#define CONFIG_DEFAULT_POLICYDIR "policy.d"
#define CONFIG_DEFAULT_NOTICEDIR "notice"
#define CONFIG_PF_HOLD_RELEASE	"/usr/sbin/postsuper -H %q"
#define CONFIG_PF_HOLD_DELETE	"/usr/sbin/postsuper -d %q"
#define CONFIG_PF_HOLD_FLUSH	"/usr/sbin/postqueue -i %q"
#define CONFIG_SM_HOLD_RELEASE	"/usr/sbin/sendmail -Q -qQ -qI%q"
#define CONFIG_SM_HOLD_FLUSH	"/usr/sbin/sendmail -qI%q"
#define CONFIG_SM_QUEUE_DIR	"/var/spool/mqueue"
#define CONFIG_DEFAULT_SUBMIT	"/usr/sbin/sendmail -G -i -f %f -- %r"

#define CONFIG_OUTBREAK_SUBDIR	"outbreak"	/* in quarantine_dir */
#define CONFIG_STATE_SUBDIR	"state"		/* beside quarantine_dir */

#define LW_DEFAULT_CONFIG	SYSCONFDIR "/lurewall/lurewall.yaml"
/* Room for the errors of a config and its policies, one a line. */
#define LW_CONFIG_ERR_MAX	8192

#endif /* CONFIG_H */
