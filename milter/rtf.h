/*
 * rtf.h: RTF documents, private to the office stage: embedded objects
 * (\object, \objdata) are reported and their OLE1 native data goes back
 * through content_analyze().
 */
#ifndef RTF_H
#define RTF_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 rtf_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);

#endif /* RTF_H */
