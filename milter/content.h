/*
 * content.h: one file's bytes -> findings.  The dispatcher every
 * attachment and every archive entry goes through: file type (libmagic)
 * and the FILE_* rules, then archives (archive.c) or Office documents
 * (office.c) by real content, whatever the name says.
 *
 * path is the part path of this file ("2", "2/invoice.zip/doc.xls");
 * name is its file name (may be NULL); depth counts archive nesting
 * (0 for a MIME attachment).
 */
#ifndef CONTENT_H
#define CONTENT_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 content_analyze(struct scan_ctx *, const char *path,
		    const char *name, const char *declared_type,
		    const unsigned char *data, size_t len, unsigned depth);

#endif /* CONTENT_H */
