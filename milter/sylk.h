/*
 * sylk.h: SYLK spreadsheets (.slk), private to the office stage: Excel
 * opens them and runs the Excel 4.0 macros their formulas hold.
 */
#ifndef SYLK_H
#define SYLK_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 sylk_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len);

#endif /* SYLK_H */
