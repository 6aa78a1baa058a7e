/*
 * transport.h: uuencode and yEnc blocks inside text.  Each decoded file
 * goes through content_analyze() as if it were attached, under the
 * part path "<path>/<name>".
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include "lurewall.h"

struct scan_ctx;

/*
 * Find and analyse every uuencoded or yEnc file in one text (path: the
 * text's part path).  Only internal errors are returned.
 */
enum lw_err	 transport_scan(struct scan_ctx *, const char *path,
		    const unsigned char *text, size_t len);

#endif /* TRANSPORT_H */
