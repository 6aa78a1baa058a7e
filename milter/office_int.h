/*
 * office_int.h: the office stage's own parts, private to office.c.
 *
 * ooxml.c: OOXML packages (zip): VBA projects, Excel 4.0 macro sheets,
 * macro documents under macro-free names, external templates and OLE
 * objects.
 * rtf.c: RTF documents: embedded objects (\object, \objdata) are
 * reported and their OLE1 native data goes back through
 * content_analyze().
 * xls.c: BIFF8 workbook streams (MS-XLS): OFFICE_XLM,
 * OFFICE_XLM_AUTOEXEC, OFFICE_ENCRYPTED and OFFICE_MALFORMED; decrypts
 * RC4 workbooks that open with Excel's default password or one of the
 * message's candidates.
 */
#ifndef OFFICE_INT_H
#define OFFICE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 ooxml_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);
enum lw_err	 rtf_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);
/* The Workbook (BIFF8) or Book (BIFF5) stream of a compound file. */
enum lw_err	 xls_scan(struct scan_ctx *, const char *part,
		    const unsigned char *wb, size_t len, bool biff5);
/*
 * Walking an RTF group (rtf.c, extref.c): rtf_brace counts the brace c
 * into *depth, false for the one that closes the group the walk began
 * in; rtf_skip_word returns the index after the control word or symbol
 * whose backslash is at p[i] (letters, an optional signed number, one
 * space).
 */
bool		 rtf_brace(unsigned char c, unsigned *depth);
size_t		 rtf_skip_word(const unsigned char *p, size_t len, size_t i);

#endif /* OFFICE_INT_H */
