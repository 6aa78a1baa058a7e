/*
 * fuzz_container.c: libFuzzer target for container.c (libarchive): 7z,
 * tar, gzip, bzip2, xz, cab, ISO, cpio and rar bytes go through
 * content_analyze (file type, then container_scan) with the default limits
 * and a fixed list of password candidates, as a MIME attachment would.
 *
 *   make fuzz FUZZ_TARGETS=container FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "content.h"
#include "pwcand.h"
#include "analyzer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char		*pw[] = { "8462", "abc123", "infected", "a" };
	static bool		 kw[] = { true, true, false, false };
	struct limits		 lim;
	struct findings		 fs;
	struct pwcands		 pc;
	struct scan_ctx		 ctx;

	limits_default(&lim);
	/* Keep one run fast; the limits themselves are what we test. */
	lim.archive_total_bytes = 16U << 20;
	memset(&fs, 0, sizeof(fs));
	memset(&pc, 0, sizeof(pc));
	pc.v = pw;
	pc.keyword = kw;
	pc.n = pc.cap = sizeof(pw) / sizeof(pw[0]);
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	ctx.pw = &pc;
	ctx.qid = "FUZZ";
	(void)content_analyze(&ctx, "1", "fuzz.7z", NULL, data, len, 0);
	findings_free(&fs);
	return 0;
}
