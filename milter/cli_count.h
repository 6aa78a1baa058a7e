/*
 * cli_count.h: counts by name for the two stats views, `lurewall stats`
 * (rules fired, from the daemon's metrics) and `lurewall quarantine
 * stats` (rules and days of the stored items): add, sort, free.
 */
#ifndef CLI_COUNT_H
#define CLI_COUNT_H

#include <stdbool.h>
#include <stddef.h>

struct cli_count {
	char	*key;
	double	 n;
};

/* Add by to key's count (a new entry at the end); -1 out of memory. */
int	cli_count_add(struct cli_count **v, size_t *n, const char *key,
	    double by);
/* Highest count first, ties by key; with key_only, by key only. */
void	cli_count_sort(struct cli_count *v, size_t n, bool key_only);
void	cli_count_free(struct cli_count *v, size_t n);

#endif /* CLI_COUNT_H */
