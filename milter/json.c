/*
 * json.c: JSON string literals for the CLI's --json output.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lurewall.h"

void
json_string(FILE *f, const char *s)
{
	const unsigned char	*p;
	char			*safe;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	/* Valid UTF-8 without control characters; lengths are bounded. */
	if ((safe = lw_sanitize(s, strlen(s), 65536)) == NULL) {
		fputs("\"\"", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)safe; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
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
