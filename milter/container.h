/*
 * container.h: archives and images other than zip (libarchive): 7z,
 * tar and its compressions, single gzip/bzip2/xz files, cab, ISO 9660,
 * cpio, rar.  Every entry goes back through content_analyze() one
 * level deeper, under the same limits as zip entries.
 */
#ifndef CONTAINER_H
#define CONTAINER_H

#include "lurewall.h"

struct scan_ctx;

/* True when the bytes start like a container container_scan opens. */
bool		 container_sniff(const unsigned char *, size_t);

/*
 * Open one container (path: its part path; name: its file name, may be
 * NULL) and analyse every entry.  Limits and damage are findings; only
 * internal errors are returned.
 */
enum lw_err	 container_scan(struct scan_ctx *, const char *path,
		    const char *name, const unsigned char *data, size_t len,
		    unsigned depth);

#endif /* CONTAINER_H */
