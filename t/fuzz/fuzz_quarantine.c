/*
 * fuzz_quarantine.c: libFuzzer target for the quarantine metadata
 * reader (quarantine_meta_parse), the one parser of our own file
 * format.  A file in the store could be damaged or planted; reading it
 * must never crash, leak or run past its bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "lurewall.h"
#include "quarantine.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quarantine_item	*it = NULL;

	if (quarantine_meta_parse((const char *)data, size, &it) == LW_OK)
		quarantine_item_free(it);
	return 0;
}
