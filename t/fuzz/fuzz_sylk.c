/*
 * fuzz_sylk.c: libFuzzer target for SYLK files and the Excel 4.0
 * formula signs (sylk.c, xlm.c).
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "analyzer.h"
#include "office.h"

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
	(void)sylk_scan(&ctx, "fuzz", data, len);
	findings_free(&fs);
	return 0;
}
