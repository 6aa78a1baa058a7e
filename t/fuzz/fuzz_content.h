/*
 * fuzz_content.h: the body the archive and container targets share.
 * The fuzzer's bytes go through content_analyze as a MIME attachment
 * named NAME would (file type first, then the archive or container
 * reader), with the default limits and a fixed list of password
 * candidates.  Included by one target each, so the function is static.
 */
#ifndef FUZZ_CONTENT_H
#define FUZZ_CONTENT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "content.h"
#include "pwcand.h"
#include "analyzer.h"

static int
fuzz_content(const uint8_t *data, size_t len, const char *name)
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
	(void)content_analyze(&ctx, "1", name, NULL, data, len, 0);
	findings_free(&fs);
	return 0;
}

#endif
