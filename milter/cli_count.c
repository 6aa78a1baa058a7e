/*
 * cli_count.c: counts by name for the stats views (cli_count.h).  A
 * linear search per add: the views count at most a few thousand names.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_count.h"
#include "util.h"

int
cli_count_add(struct cli_count **v, size_t *n, const char *key, double by)
{
	struct cli_count	*nv;
	size_t			 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0) {
			(*v)[i].n += by;
			return 0;
		}
	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return -1;
	*v = nv;
	if ((nv[*n].key = strdup(key)) == NULL)
		return -1;
	nv[(*n)++].n = by;
	return 0;
}

/* Highest count first, ties by key; by key only when *key_only. */
static int
compare(const void *a, const void *b, void *key_only)
{
	const struct cli_count	*x = a, *y = b;

	if (!*(const bool *)key_only && x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

void
cli_count_sort(struct cli_count *v, size_t n, bool key_only)
{
	if (n > 1)
		qsort_r(v, n, sizeof(*v), compare, &key_only);
}

static void
count_clear(struct cli_count *c)
{
	free(c->key);
}

void
cli_count_free(struct cli_count *v, size_t n)
{
	FREE_EACH(v, n, count_clear);
}
