/*
 * fuzz_xls.c: libFuzzer target for the BIFF8 record walker (and RC4
 * decryption when a FILEPASS verifies): the input is a Workbook stream.
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "analyzer.h"
#include "office_int.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct limits	 lim;
	struct findings	 fs;
	struct scan_ctx	 ctx;

	limits_default(&lim);
	memset(&fs, 0, sizeof(fs));
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	(void)xls_scan(&ctx, "fuzz", data, len, false);
	(void)xls_scan(&ctx, "fuzz", data, len, true);
	findings_free(&fs);
	return 0;
}
