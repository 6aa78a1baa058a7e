/*
 * archive.h: zip archives (libzip, from memory).  Every entry goes back
 * through content_analyze() one level deeper.  Encrypted entries are
 * tried with the message's password candidates (ZipCrypto: CRC check;
 * WinZip AES: HMAC check).  All limits are enforced while inflating.
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 archive_scan(struct scan_ctx *, const char *path,
		    const char *name, const unsigned char *data, size_t len,
		    unsigned depth);

#endif /* ARCHIVE_H */
