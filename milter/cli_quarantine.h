/*
 * cli_quarantine.h: `lurewall quarantine VERB ...`.  argv[0] is the
 * verb; config_path may be NULL (default config).  Returns the exit
 * code.
 */
#ifndef CLI_QUARANTINE_H
#define CLI_QUARANTINE_H

int	cli_quarantine(int argc, char **argv, const char *config_path);

#endif /* CLI_QUARANTINE_H */
