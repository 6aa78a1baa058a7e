/*
 * fuzz_ovba.c: libFuzzer target for the MS-OVBA decompressor and the
 * dir stream parser: the input is decompressed; what comes out is
 * parsed as a dir stream, and the raw input too.
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "ovba.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	unsigned char	*out;
	size_t		 olen;
	struct ovba_dir	 d;
	char		 why[160];

	if (ovba_decompress(data, len, 1 << 20, &out, &olen, why,
	    sizeof(why)) == LW_OK) {
		(void)ovba_parse_dir(out, olen, 64, &d, why, sizeof(why));
		ovba_dir_free(&d);
		free(out);
	}
	(void)ovba_parse_dir(data, len, 64, &d, why, sizeof(why));
	ovba_dir_free(&d);
	return 0;
}
