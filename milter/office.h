/*
 * office.h: Office documents -> OFFICE_* findings.  OLE2 compound files
 * (cfb.c), VBA projects (ovba.c), BIFF8 workbooks and Excel 4.0 macro
 * sheets (xls.c), OOXML packages (ooxml.c) and RTF embedded objects
 * (rtf.c).  Embedded objects go back through content_analyze().
 */
#ifndef OFFICE_H
#define OFFICE_H

#include "lurewall.h"
#include "filetype.h"

struct scan_ctx;

/* kind is FT_OLE2, FT_OOXML or FT_RTF. */
enum lw_err	 office_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, enum ft_kind kind,
		    unsigned depth);

#endif /* OFFICE_H */
