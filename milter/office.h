/*
 * office.h: Office documents -> OFFICE_* findings.  OLE2 compound files
 * (cfb.c), VBA projects (ovba.c), BIFF8 workbooks and Excel 4.0 macro
 * sheets (xls.c), OOXML packages (ooxml.c), RTF embedded objects
 * (rtf.c) and SYLK spreadsheets (sylk.c).  Embedded objects go back
 * through content_analyze().
 *
 * Malformed input and limits are findings (OFFICE_MALFORMED with the
 * reason); only internal errors (LW_ENOMEM) are returned.
 */
#ifndef OFFICE_H
#define OFFICE_H

#include "lurewall.h"
#include "filetype.h"

struct scan_ctx;

/*
 * kind is FT_OLE2, FT_OOXML or FT_RTF.  path is the part path, its last
 * component the file name (used to tell .docx from .docm).
 */
enum lw_err	 office_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, enum ft_kind kind,
		    unsigned depth);

/* A compound file (also vbaProject.bin inside OOXML); part names it. */
enum lw_err	 office_scan_ole(struct scan_ctx *, const char *part,
		    const unsigned char *data, size_t len, unsigned depth);

/*
 * A SYLK spreadsheet (.slk): Excel opens it and runs the Excel 4.0
 * macros its formulas hold.
 */
enum lw_err	 sylk_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len);

#endif /* OFFICE_H */
