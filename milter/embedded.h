/*
 * embedded.h: files embedded in compound-file Office documents (OLE
 * Package / Ole10Native streams, Package streams, PowerPoint 97
 * ExOleObjStg records), each sent through content_analyze() one level
 * deeper.  Private to the office stage.
 */
#ifndef EMBEDDED_H
#define EMBEDDED_H

#include "lurewall.h"

struct cfb;
struct scan_ctx;

enum lw_err	 embedded_scan_ole(struct scan_ctx *, const char *part,
		    struct cfb *, unsigned depth);
/* A "PowerPoint Document" stream already read (and decrypted). */
enum lw_err	 embedded_scan_ppt(struct scan_ctx *, const char *part,
		    const unsigned char *, size_t, unsigned depth);

#endif /* EMBEDDED_H */
