/*
 * duration.c: "500ms", "30s", "10m", "2h", "7d", "2w" -> milliseconds
 * (see duration.h).  Overflow and trailing junk are errors, never a
 * wrapped or truncated value.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "duration.h"

static const struct {
	const char	*unit;
	uint64_t	 ms;
} units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 86400 * 1000ULL },
	{ "w", 7 * 86400 * 1000ULL },
};

bool
duration_parse(const char *s, uint64_t bare, uint64_t max_ms, uint64_t *ms)
{
	uint64_t	 n = 0, mul = bare;
	size_t		 i, u;

	if (s == NULL)
		return false;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return false;
	if (s[i] != '\0') {
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (strcmp(s + i, units[u].unit) == 0)
				break;
		if (u == sizeof(units) / sizeof(units[0]))
			return false;
		mul = units[u].ms;
	}
	if (mul == 0 || n > max_ms / mul)
		return false;
	*ms = n * mul;
	return true;
}
