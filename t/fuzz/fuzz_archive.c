/*
 * fuzz_archive.c: libFuzzer target for archive.c.  Zip bytes go through
 * content_analyze (file type, then archive_scan) with the default limits
 * and a fixed list of password candidates, as a MIME attachment would.
 *
 *   make fuzz FUZZ_TARGETS=archive FUZZ_SECONDS=60
 */
#include "fuzz_content.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return fuzz_content(data, len, "fuzz.zip");
}
