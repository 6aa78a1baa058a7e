/*
 * learn_t.h: what the learner's tests share: a message parsed from
 * text (bails on failure).
 */
#ifndef LEARN_T_H
#define LEARN_T_H

#include <string.h>

#include "lurewall.h"
#include "mime.h"
#include "tap.h"

static struct message *
learn_t_msg(const char *raw)
{
	struct limits	 lim;
	struct findings	 fs = { 0 };
	struct message	*m;

	limits_default(&lim);
	if (mime_parse((const unsigned char *)raw, strlen(raw), &lim, &fs,
	    &m) != LW_OK)
		bail("mime_parse");
	findings_free(&fs);
	return m;
}

#endif /* LEARN_T_H */
