/*
 * scan.c: placeholder on the office branch: only the two helpers the
 * analyzers call, so their tests link.  The lead's scan.c replaces it.
 */
#include <stdarg.h>
#include <stdio.h>

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
	}
	return true;
}

void
scan_log(const struct scan_ctx *ctx, int prio, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(prio, ctx->qid, "%s", buf);
}
