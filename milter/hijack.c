/* hijack.c: placeholder until the hijack stage lands. */
#include <string.h>

#include "lurewall.h"
#include "hijack.h"

char *
hijack_name_key(const char *name)
{
	return strdup(name);
}

enum lw_err
hijack_scan(struct scan_ctx *ctx, const struct message *msg,
    const struct policy *p, const struct findings *content,
    struct findings *out)
{
	return LW_OK;
}
