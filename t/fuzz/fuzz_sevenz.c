/*
 * fuzz_sevenz.c: libFuzzer target for sevenz.c.  The first 32 bytes
 * are the AES key (the key derivation is skipped: it would spend the
 * time budget, not find bugs); the rest is a 7z archive whose every
 * folder is decoded with that key and whose files go through
 * content_analyze with the default limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "analyzer.h"
#include "pwcand.h"
#include "sevenz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct limits		 lim;
	struct findings		 fs;
	struct pwcands		 pc;
	struct scan_ctx		 ctx;
	struct sevenz_key	 key;
	struct sevenz_result	 res;

	if (len < sizeof(key.key))
		return 0;
	memcpy(key.key, data, sizeof(key.key));
	limits_default(&lim);
	lim.archive_total_bytes = 16U << 20;
	memset(&fs, 0, sizeof(fs));
	memset(&pc, 0, sizeof(pc));
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	ctx.pw = &pc;
	ctx.qid = "FUZZ";
	(void)sevenz_scan(&ctx, "1/a.7z", data + sizeof(key.key),
	    len - sizeof(key.key), 0, true, &key, &res);
	findings_free(&fs);
	return 0;
}
