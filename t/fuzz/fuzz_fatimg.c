/*
 * fuzz_fatimg.c: libFuzzer target for fatimg.c: FAT12/16/32 images (and
 * master boot records holding them) go through content_analyze (file
 * type, then fatimg_scan) with the default limits, as a MIME attachment
 * named fuzz.img would.
 *
 *   make fuzz FUZZ_TARGETS=fatimg FUZZ_SECONDS=60
 */
#include "fuzz_content.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return fuzz_content(data, len, "fuzz.img");
}
