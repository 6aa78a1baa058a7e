/*
 * tnef.h: TNEF (winmail.dat): every attachment inside goes through
 * content_analyze() one level deeper, under its title.
 */
#ifndef TNEF_H
#define TNEF_H

#include "lurewall.h"

struct scan_ctx;

/* True when the bytes start with the TNEF signature. */
bool		 tnef_sniff(const unsigned char *, size_t);
enum lw_err	 tnef_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);

#endif /* TNEF_H */
