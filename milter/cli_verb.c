/*
 * cli_verb.c: the one dispatcher of `lurewall` verbs (cli_verb.h): the
 * lookup, --help and every usage line, from the verb tables of cli.c,
 * cli_quarantine.c, cli_outbreak.c and cli_learn.c; and the config
 * loader the verbs share.
 */
#include <stdio.h>
#include <string.h>

#include "cli_exit.h"
#include "cli_verb.h"
#include "config.h"

static const struct cli_verb	*cur_verb, *cur_parent;

/* One verb's line after "lurewall ". */
static void
print_line(FILE *f, const struct cli_verb *v, const struct cli_verb *parent)
{
	const struct cli_verb	*g;

	if (parent != NULL)
		fprintf(f, "%s ", parent->usage);
	if (v->group == NULL) {
		fprintf(f, "%s\n", v->usage);
		return;
	}
	/* A group in the top level: its verbs' names. */
	fprintf(f, "%s ", v->name);
	for (g = v->group; g->name != NULL; g++)
		fprintf(f, "%s%s", g == v->group ? "" : "|", g->name);
	fprintf(f, " ...\n");
}

void
cli_usage_print(FILE *f, const struct cli_verb *table,
    const struct cli_verb *parent)
{
	const struct cli_verb	*v;

	if (parent == NULL)
		fprintf(f, "usage: lurewall [-v] [-c FILE] COMMAND ...\n");
	for (v = table; v->name != NULL; v++) {
		fprintf(f, "%s lurewall ", v == table && parent != NULL ?
		    "usage:" : "      ");
		print_line(f, v, parent);
	}
	if (parent == NULL)
		fprintf(f, "-c FILE may also follow the command.  "
		    "See lurewall(8).\n");
}

static const struct cli_verb *
lookup(const struct cli_verb *table, const char *name)
{
	const struct cli_verb	*v;

	for (v = table; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

const struct cli_verb *
cli_verb_find(const struct cli_verb *table, const struct cli_verb *parent,
    int argc, char **argv)
{
	cur_verb = argc > 0 ? lookup(table, argv[0]) : NULL;
	cur_parent = parent;
	if (cur_verb == NULL) {
		if (argc > 0 && parent != NULL)
			fprintf(stderr, "lurewall: %s: unknown verb '%s'\n",
			    parent->name, argv[0]);
		else if (argc > 0)
			fprintf(stderr, "lurewall: unknown command %s\n",
			    argv[0]);
		cli_usage_print(stderr, table, parent);
	}
	return cur_verb;
}

const struct cli_verb *
cli_verb_current(void)
{
	return cur_verb;
}

int
cli_usage(void)
{
	if (cur_verb != NULL) {
		fprintf(stderr, "usage: lurewall ");
		print_line(stderr, cur_verb, cur_parent);
	}
	return CLI_TROUBLE;
}

/* v's usage (a group's: each of its verbs) on stdout. */
static int
help_of(const struct cli_verb *v, const struct cli_verb *parent)
{
	if (v->group != NULL)
		cli_usage_print(stdout, v->group, v);
	else {
		printf("usage: lurewall ");
		print_line(stdout, v, parent);
	}
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

int
cli_help(const struct cli_verb *table, int argc, char **argv)
{
	const struct cli_verb	*v, *parent = NULL;

	if ((v = lookup(table, argv[0])) != NULL && v->group != NULL &&
	    argc > 1) {
		parent = v;
		v = lookup(parent->group, argv[1]);
	}
	if (v == NULL) {
		fprintf(stderr, "lurewall: help: unknown command %s\n",
		    argv[parent != NULL ? 1 : 0]);
		cli_usage_print(stderr, parent != NULL ? parent->group : table,
		    parent);
		return CLI_TROUBLE;
	}
	return help_of(v, parent);
}

int
cli_group_run(int argc, char **argv, const char *config_path,
    const struct cli_group_ops *ops)
{
	const struct cli_verb	*group = cli_verb_current(), *v;
	void			*ctx;
	int			 rc;

	if ((v = cli_verb_find(group->group, group, argc, argv)) == NULL ||
	    (ctx = ops->open(config_path)) == NULL)
		return CLI_TROUBLE;
	rc = cli_verb_run(v, group, argc, argv, ctx);
	ops->close(ctx);
	return rc;
}

struct config *
cli_config(const char *path)
{
	struct config	*cfg;
	char		 err[1024];

	if (config_load(path, &cfg, err, sizeof(err)) != LW_OK) {
		fprintf(stderr, "lurewall: %s\n", err);
		return NULL;
	}
	return cfg;
}

int
cli_verb_run(const struct cli_verb *v, const struct cli_verb *parent,
    int argc, char **argv, void *ctx)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return help_of(v, parent);
	return v->run(argc, argv, ctx);
}
