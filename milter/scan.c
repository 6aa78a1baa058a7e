/*
 * scan.c: the engine's entry point (see scan.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lurewall.h"
#include "log.h"
#include "scan.h"

bool
scan_expired(struct scan_ctx *ctx)
{
	if (ctx->deadline_ms == 0 || lw_now_ms() < ctx->deadline_ms)
		return false;
	if (!ctx->timed_out) {
		ctx->timed_out = true;
		(void)findings_add(ctx->fs, "SCAN_TIMEOUT", "",
		    "scan budget spent");
		scan_log(ctx, LOG_WARNING, "scan budget spent");
	}
	return true;
}

void
scan_log(const struct scan_ctx *ctx, int prio, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		log_msg(prio, ctx->qid, "%s", s);
		free(s);
	}
	va_end(ap);
}
