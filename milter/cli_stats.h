/*
 * cli_stats.h: `lurewall stats`, the daemon's counters read through its
 * metrics endpoint (metrics.listen in lurewall.yaml).
 */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include <stdio.h>

/* argv[0] is "stats"; exit 0, or 2 on usage, config or endpoint error. */
int	cli_stats(int argc, char **argv, const char *config_path);

#endif /* CLI_STATS_H */
