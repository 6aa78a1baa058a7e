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

#include "content.h"
#include "fuzz_ctx.h"

static int
fuzz_content(const uint8_t *data, size_t len, const char *name)
{
	static char		*pw[] = { "8462", "abc123", "infected", "a" };
	static bool		 kw[] = { true, true, false, false };
	struct fuzz_env		 f;
	struct scan_ctx		*ctx;

	ctx = fuzz_ctx(&f, pw, kw, sizeof(pw) / sizeof(pw[0]));
	(void)content_analyze(ctx, "1", name, NULL, data, len, 0);
	findings_free(&f.fs);
	return 0;
}

#endif
