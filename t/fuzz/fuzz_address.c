/*
 * fuzz_address.c: libFuzzer target for the address-list parser
 * (address.c: RFC 5322 quoted strings, comments, groups, RFC 2047
 * display names).  The input is one header value (cut at a NUL byte, as
 * mime.c hands it over).  Checks the contract callers rely on: at most
 * max addresses, a domain only with an address, the domain lowercase
 * and the display name valid UTF-8.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_MAX	8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct address	 a[FZ_MAX + 1];
	const char	*p;
	char		*s;
	size_t		 i, n, max;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(a, 0, sizeof(a));
	/* A guard slot the parser must never touch. */
	max = size > 0 ? 1 + data[0] % FZ_MAX : FZ_MAX;
	n = address_parse(s, a, max);
	if (n > max || a[max].addr != NULL || a[max].display != NULL ||
	    a[max].domain != NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (a[i].domain != NULL) {
			if (a[i].addr == NULL)
				abort();
			for (p = a[i].domain; *p != '\0'; p++)
				if (isupper((unsigned char)*p))
					abort();
		}
		if (a[i].display != NULL &&
		    !charset_valid_utf8(a[i].display, strlen(a[i].display)))
			abort();
		address_free(&a[i]);
	}
	free(s);
	return 0;
}
