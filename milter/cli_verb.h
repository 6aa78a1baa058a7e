/*
 * cli_verb.h: the one verb table of `lurewall` (issue 14).  Every
 * command (scan, quarantine, ...) and every verb of a command group
 * (quarantine list, outbreak clear, ...) is a struct cli_verb; one
 * dispatcher finds the verb, answers --help and `help VERB`, and prints
 * every usage line from the tables, with the exit codes of cli_exit.h.
 * A group's line in the top-level usage lists its verbs' names, so a
 * new verb is in the usage by being in its table.
 */
#ifndef CLI_VERB_H
#define CLI_VERB_H

#include <stdio.h>

struct cli_verb {
	const char		*name;		/* NULL ends a table */
	int			(*run)(int argc, char **argv, void *ctx);
	/*
	 * The verb's line after "lurewall ": its name and arguments; for
	 * a group, its name and what comes before a verb ("quarantine
	 * [-c FILE]").
	 */
	const char		*usage;
	const struct cli_verb	*group;		/* a group's verbs, or NULL */
};

/*
 * The usage of table on f: for the verbs of parent, "usage: lurewall
 * LINE", then one "       lurewall LINE" per further verb; for the top
 * level (parent NULL), the global options first and a word on -c last.
 */
void	cli_usage_print(FILE *f, const struct cli_verb *table,
	    const struct cli_verb *parent);

/*
 * The verb argv[0] of table (parent as above).  Unknown or missing: the
 * message and the table's usage on stderr, NULL.  The verb found is
 * the current one (cli_usage) until the next lookup.
 */
const struct cli_verb *cli_verb_find(const struct cli_verb *table,
	    const struct cli_verb *parent, int argc, char **argv);

/* The current verb's usage on stderr; returns CLI_TROUBLE. */
int	cli_usage(void);
/* The current verb (a group's run: its own entry, for cli_verb_find). */
const struct cli_verb *cli_verb_current(void);

/*
 * `help VERB [VERB]` (argv[0] the first VERB) on table: the usage of a
 * command (of a group: each of its verbs) or of a group's verb on
 * stdout, 0; an unknown name: the message and the usage on stderr,
 * CLI_TROUBLE.
 */
int	cli_help(const struct cli_verb *table, int argc, char **argv);

/*
 * Run v (of parent's verbs, or of the top level when parent is NULL)
 * with ctx; VERB --help or -h alone prints its usage on stdout instead.
 */
int	cli_verb_run(const struct cli_verb *v, const struct cli_verb *parent,
	    int argc, char **argv, void *ctx);

/* What a command group's verbs run on (cli_group_run). */
struct cli_group_ops {
	/* The verbs' context from the config at path; NULL: said why. */
	void	*(*open)(const char *config_path);
	void	 (*close)(void *ctx);	/* after the verb */
};

/*
 * Run the verb argv[0] of the current group (cli_verb_current) on the
 * context ops->open makes; an unknown verb opens nothing.  Returns the
 * verb's exit code, CLI_TROUBLE when the verb or the context is missing.
 */
int	cli_group_run(int argc, char **argv, const char *config_path,
	    const struct cli_group_ops *ops);

struct config;
/* The config at path for a verb, or NULL after saying why on stderr. */
struct config *cli_config(const char *path);

#endif /* CLI_VERB_H */
