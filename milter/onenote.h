/*
 * onenote.h: OneNote sections (.one, MS-ONESTORE): every embedded file
 * (FileDataStoreObject) goes through content_analyze() one level
 * deeper; file names stored in the section meet the FILE_* name rules.
 */
#ifndef ONENOTE_H
#define ONENOTE_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 onenote_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);

#endif /* ONENOTE_H */
