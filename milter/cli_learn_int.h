/*
 * cli_learn_int.h: what cli_learn.c (the verbs that read and forget)
 * and cli_learn_import.c (`learn import`) share.  No other file
 * includes it.
 */
#ifndef CLI_LEARN_INT_H
#define CLI_LEARN_INT_H

#include <stdbool.h>
#include <time.h>

#include "learn.h"

struct config;
struct policyset;
struct state;

/*
 * One verb's world: the config, its state and the learner on it,
 * opened by learn_cli_open once the verb's arguments are good.
 */
struct learn_cli {
	const char		*config_path;
	struct config		*cfg;
	struct policyset	*ps;	/* import only: the sender's policy */
	struct state		*st;
	struct learn		*l;
	struct learn_config	 lc;	/* what l was opened with */
	time_t			 now;
};

/*
 * Load the config (and the policies), open the state read-write or
 * read-only and the learner.  A read-only look at a store that was
 * never written leaves l NULL: nothing learned yet.  On failure the
 * reason is printed and CLI_TROUBLE returned; else CLI_OK.
 */
int	learn_cli_open(struct learn_cli *, bool write, bool policies);

/* `learn import`; ctx is the struct learn_cli. */
int	cli_learn_import(int argc, char **argv, void *ctx);

#endif /* CLI_LEARN_INT_H */
