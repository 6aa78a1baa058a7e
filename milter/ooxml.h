/*
 * ooxml.h: OOXML packages (zip), private to the office stage: VBA
 * projects, Excel 4.0 macro sheets, macro documents under macro-free
 * names, external templates and OLE objects.
 */
#ifndef OOXML_H
#define OOXML_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 ooxml_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);

#endif /* OOXML_H */
