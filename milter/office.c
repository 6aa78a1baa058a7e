/* office.c: placeholder until the office stage lands. */
#include "lurewall.h"
#include "office.h"

enum lw_err
office_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *data, size_t len, enum ft_kind kind, unsigned depth)
{
	return LW_OK;
}
