/*
 * json.c: JSON string literals for the CLI's --json output.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lurewall.h"

void
json_quote(FILE *f, const char *s)
{
	const unsigned char	*p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void
json_string(FILE *f, const char *s)
{
	char	*safe;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	/* Valid UTF-8 without control characters; lengths are bounded. */
	if ((safe = lw_sanitize(s, strlen(s), 65536)) == NULL) {
		fputs("\"\"", f);
		return;
	}
	json_quote(f, safe);
	free(safe);
}

void
json_key(FILE *f, const char *key, int first)
{
	if (!first)
		fputc(',', f);
	json_string(f, key);
	fputc(':', f);
}

void
json_finding(FILE *f, int first, const char *rule, int score,
    const char *part, const char *detail)
{
	fprintf(f, "%s{", first ? "" : ",");
	json_key(f, "rule", 1);
	json_string(f, rule);
	json_key(f, "score", 0);
	fprintf(f, "%d", score);
	json_key(f, "part", 0);
	json_string(f, part);
	json_key(f, "detail", 0);
	json_string(f, detail);
	fputc('}', f);
}

void
json_strings(FILE *f, char *const *v, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		json_string(f, v[i]);
	}
	fputc(']', f);
}
