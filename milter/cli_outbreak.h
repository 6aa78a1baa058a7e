/*
 * cli_outbreak.h: `lurewall outbreak VERB ...` (list, clear), run as
 * the current verb (cli_verb.h) of the top-level table, whose group is
 * cli_outbreak_verbs.  argv[0] is the verb; config_path names the
 * config whose state (or outbreak_dir) holds the breaker's store.
 * Returns the exit code: 0 ok, 1 clear found no tripped sender of that
 * name, 2 usage, config or store error.
 */
#ifndef CLI_OUTBREAK_H
#define CLI_OUTBREAK_H

#include "cli_verb.h"

extern const struct cli_verb	cli_outbreak_verbs[];

/* For cli_group_run: the breaker's store and what holds it open. */
extern const struct cli_group_ops	cli_outbreak_ops;

#endif /* CLI_OUTBREAK_H */
