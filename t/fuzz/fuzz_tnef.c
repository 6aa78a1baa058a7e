/*
 * fuzz_tnef.c: libFuzzer target for tnef.c.  The bytes are a TNEF
 * stream (winmail.dat): every attachment goes through
 * content_analyze with the default limits, as an attachment's would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "tnef.h"
#include "pwcand.h"
#include "analyzer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct limits		 lim;
	struct findings		 fs;
	struct pwcands		 pc;
	struct scan_ctx		 ctx;

	limits_default(&lim);
	lim.archive_total_bytes = 16U << 20;
	memset(&fs, 0, sizeof(fs));
	memset(&pc, 0, sizeof(pc));
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	ctx.pw = &pc;
	ctx.qid = "FUZZ";
	(void)tnef_scan(&ctx, "1/winmail.dat", data, len, 0);
	findings_free(&fs);
	return 0;
}
