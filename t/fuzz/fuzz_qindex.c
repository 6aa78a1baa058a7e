/*
 * fuzz_qindex.c: libFuzzer target for what the shared quarantine index
 * reads back from Redis (quarantine_index.h): a command of another host
 * (qindex_cmd_decode) and an item's record (quarantine_import: meta
 * file and release record in one).  Anyone who can write the server's
 * keys can plant either; reading them must never crash, leak or run
 * past the bytes given.  A decoded command must be one the daemon may
 * carry out: a known verb, a valid id, a --to without blanks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "quarantine.h"
#include "quarantine_index.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quarantine_item	*it = NULL;
	struct qindex_cmd	 c;
	char			*buf;

	/* An exact copy: a read past size is ASan's to see. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	if (qindex_cmd_decode(buf, size, &c) == LW_OK) {
		if (!quarantine_id_valid(c.id) ||
		    (strcmp(c.verb, "release") != 0 &&
		    strcmp(c.verb, "delete") != 0) ||
		    (c.to != NULL && strpbrk(c.to, " \t\r\n<>") != NULL))
			abort();
		qindex_cmd_free(&c);
	}
	if (quarantine_import(buf, size, &it) == LW_OK)
		quarantine_item_free(it);
	free(buf);
	return 0;
}
