/*
 * cli_learn.h: `lurewall learn VERB ...` (import, stats, show, forget,
 * export) on the learned store of issue 18 (learn.h) in the config's
 * state, run as the current verb (cli_verb.h) of the top-level table,
 * whose group is cli_learn_verbs.  argv[0] is the verb (none: the
 * verbs' usage, exit 2); config_path names the config.  Returns the
 * exit code (cli_exit.h; lurewall(8) EXIT STATUS).
 */
#ifndef CLI_LEARN_H
#define CLI_LEARN_H

#include "cli_verb.h"

extern const struct cli_verb	cli_learn_verbs[];

/* For cli_group_run: the verbs' context (cli_learn_int.h). */
extern const struct cli_group_ops	cli_learn_ops;

#endif /* CLI_LEARN_H */
