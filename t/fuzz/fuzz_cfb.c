/*
 * fuzz_cfb.c: libFuzzer target for compound files: the CFB reader, VBA
 * projects and BIFF8 workbooks through office_scan(FT_OLE2).
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "office.h"
#include "analyzer.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct limits	 lim;
	struct findings	 fs;
	struct scan_ctx	 ctx;

	limits_default(&lim);
	lim.office_stream_bytes = 4 << 20;
	memset(&fs, 0, sizeof(fs));
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	(void)office_scan(&ctx, "fuzz", data, len, FT_OLE2, 0);
	findings_free(&fs);
	return 0;
}
