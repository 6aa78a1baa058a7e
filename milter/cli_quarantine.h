/*
 * cli_quarantine.h: `lurewall quarantine VERB ...`, run as the current
 * verb (cli_verb.h) of the top-level table, whose group is
 * cli_quarantine_verbs.  argv[0] is the verb; config_path the config
 * (-c anywhere on the command line: main took it out of argv).
 * Returns the exit code:
 *	0	ok
 *	1	an item was not found, a release was refused (already
 *		released) or its submission failed
 *	2	usage or config error (bad option, bad id, no store)
 *	3	verify found damaged items, or an item could not be read
 */
#ifndef CLI_QUARANTINE_H
#define CLI_QUARANTINE_H

#include "cli_exit.h"	/* CLI_OK, CLI_NO, CLI_TROUBLE, CLI_DAMAGED */
#include "cli_verb.h"

extern const struct cli_verb	cli_quarantine_verbs[];

int	cli_quarantine(int argc, char **argv, const char *config_path);

#endif /* CLI_QUARANTINE_H */
