/*
 * fuzz_mime.c: libFuzzer target for the MIME engine.  Feeds any bytes
 * to mime_parse() with the default limits, walks the tree the way the
 * analyzers do (touching every string) and frees it.
 *
 *   make fuzz FUZZ_TARGETS=mime FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
touch(const struct mime_part *mp, void *arg)
{
	size_t	*sum = arg;

	*sum += strlen(mp->path) + strlen(mp->ctype);
	if (mp->filename != NULL)
		*sum += strlen(mp->filename);
	if (mp->text != NULL)
		*sum += strlen(mp->text) + mp->text_len;
	if (mp->body != NULL && mp->body_len > 0)
		*sum += mp->body[mp->body_len - 1] + mp->body[mp->body_len];
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct findings	 fs = { 0 };
	struct message	*m = NULL;
	struct limits	 lim;
	size_t		 sum = 0;

	limits_default(&lim);
	if (mime_parse(data, size, &lim, &fs, &m) == LW_OK) {
		if (m->subject != NULL)
			sum += strlen(m->subject);
		if (m->from.display != NULL)
			sum += strlen(m->from.display);
		mime_visit(m, touch, &sum);
		mime_free(m);
	}
	findings_free(&fs);
	return sum == (size_t)-1;
}
