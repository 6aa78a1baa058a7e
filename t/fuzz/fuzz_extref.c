/*
 * fuzz_extref.c: libFuzzer target for external references
 * (extref.c): the input as a .rels part, as a Word part's field codes,
 * as RTF, as binary object data and as one target.
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "extref.h"
#include "analyzer.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	struct limits	 lim;
	struct findings	 fs;
	struct scan_ctx	 ctx;
	char		*s;

	limits_default(&lim);
	memset(&fs, 0, sizeof(fs));
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';
	(void)extref_rels(&ctx, "fuzz", "x.rels", s);
	(void)extref_fields(&ctx, "fuzz", "word/document.xml", s);
	(void)extref_rtf(&ctx, "fuzz", data, len);
	(void)extref_binary(&ctx, "fuzz", "object", data, len);
	(void)extref_target(&ctx, "fuzz", "object", s);
	free(s);
	findings_free(&fs);
	return 0;
}
