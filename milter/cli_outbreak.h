/*
 * cli_outbreak.h: `lurewall outbreak VERB ...` (list, clear).  argv[0]
 * is the verb; config_path names the config whose outbreak_dir holds
 * the breaker's store.  Returns the exit code: 0 ok, 1 clear found no
 * tripped sender of that name, 2 usage, config or store error.
 */
#ifndef CLI_OUTBREAK_H
#define CLI_OUTBREAK_H

int	cli_outbreak(int argc, char **argv, const char *config_path);

#endif /* CLI_OUTBREAK_H */
