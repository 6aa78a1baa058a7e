/*
 * officecrypt.h: password-protected OOXML (ECMA-376 agile encryption)
 * decrypted with "VelvetSweatshop" and the message's password
 * candidates; the plain package goes through content_analyze().
 * Private to the office stage.
 */
#ifndef OFFICECRYPT_H
#define OFFICECRYPT_H

#include "lurewall.h"

struct cfb;
struct scan_ctx;

/*
 * *opened tells whether a password worked (the caller records
 * OFFICE_ENCRYPTED only when none did).  Only internal errors are
 * returned.
 */
enum lw_err	 officecrypt_scan(struct scan_ctx *, const char *part,
		    struct cfb *, unsigned depth, bool *opened);

#endif /* OFFICECRYPT_H */
