/*
 * fuzz_container.c: libFuzzer target for container.c (libarchive): 7z,
 * tar, gzip, bzip2, xz, cab, ISO, cpio and rar bytes go through
 * content_analyze (file type, then container_scan) with the default limits
 * and a fixed list of password candidates, as a MIME attachment would.
 *
 *   make fuzz FUZZ_TARGETS=container FUZZ_SECONDS=60
 */
#include "fuzz_content.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return fuzz_content(data, len, "fuzz.7z");
}
