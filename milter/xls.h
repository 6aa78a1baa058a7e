/*
 * xls.h: BIFF8 workbook streams (MS-XLS), private to the office stage.
 * Adds OFFICE_XLM, OFFICE_XLM_AUTOEXEC, OFFICE_ENCRYPTED and
 * OFFICE_MALFORMED findings; decrypts RC4 workbooks that use Excel's
 * default password.
 */
#ifndef XLS_H
#define XLS_H

#include "lurewall.h"

struct scan_ctx;

#define XLS_DEFAULT_PASSWORD	"VelvetSweatshop"

/* The Workbook (BIFF8) or Book (BIFF5) stream of a compound file. */
enum lw_err	 xls_scan(struct scan_ctx *, const char *part,
		    const unsigned char *wb, size_t len, bool biff5);

#endif /* XLS_H */
