/*
 * config.h: conf/lurewall.yaml (daemon, limits, quarantine).  Relative
 * paths resolve against the config file's directory, so a copied conf/
 * works anywhere.  Errors name file, line, column and key path.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>

#include "lurewall.h"

enum on_error {
	ONERR_TEMPFAIL = 0,
	ONERR_ACCEPT
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
};

/* Load path; on error LW_EINVAL and err "FILE:LINE:COL: KEY: message". */
enum lw_err	 config_load(const char *path, struct config **out,
		    char *err, size_t errlen);
void		 config_free(struct config *);
void		 config_print(const struct config *, FILE *);

/*
 * Expand submit_command for one release into a NULL-terminated argv
 * (no shell): the template is split on blanks, %f becomes the envelope
 * sender ("" for the null sender), a word that is exactly %r becomes
 * one word per recipient, %% a single %.  Free with config_argv_free.
 */
enum lw_err	 config_submit_argv(const struct config *, const char *sender,
		    char *const *rcpts, size_t nrcpts, char ***argv);
void		 config_argv_free(char **);

/* Built-in defaults (also what conf/lurewall.yaml documents). */
#define CONFIG_DEFAULT_SOCKET	"unix:/var/spool/postfix/lurewall/lurewall.sock"
#define CONFIG_DEFAULT_QDIR	"/var/lib/lurewall/quarantine"
#define CONFIG_DEFAULT_POLICYDIR "policy.d"
#define CONFIG_DEFAULT_SUBMIT	"/usr/sbin/sendmail -G -i -f %f -- %r"

#define LW_DEFAULT_CONFIG	SYSCONFDIR "/lurewall/lurewall.yaml"

#endif /* CONFIG_H */
