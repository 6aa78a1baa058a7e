/*
 * xls.h: BIFF8 workbook streams (MS-XLS), private to the office stage.
 * Adds OFFICE_XLM, OFFICE_XLM_AUTOEXEC, OFFICE_ENCRYPTED and
 * OFFICE_MALFORMED findings; decrypts RC4 workbooks that open with
 * Excel's default password or one of the message's candidates.
 */
#ifndef XLS_H
#define XLS_H

#include "lurewall.h"

struct scan_ctx;

/* The Workbook (BIFF8) or Book (BIFF5) stream of a compound file. */
enum lw_err	 xls_scan(struct scan_ctx *, const char *part,
		    const unsigned char *wb, size_t len, bool biff5);

#endif /* XLS_H */
