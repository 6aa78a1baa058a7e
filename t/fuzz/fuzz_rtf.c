/*
 * fuzz_rtf.c: libFuzzer target for RTF embedded objects through
 * office_scan(FT_RTF).
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
	(void)office_scan(&ctx, "fuzz", data, len, FT_RTF, 0);
	findings_free(&fs);
	return 0;
}
