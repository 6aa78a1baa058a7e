/*
 * iso2022jp.h: ISO-2022-JP -> CP932 bytes (private to charset.c).
 */
#ifndef ISO2022JP_H
#define ISO2022JP_H

#include "lurewall.h"

/*
 * Convert ISO-2022-JP (RFC 1468, as Japanese mailers really write it:
 * NEC and IBM extension rows included) to CP932 bytes that iconv can
 * take to UTF-8.  *out is malloc'd, NUL-terminated; never fails on bad
 * input, only on ENOMEM.
 */
enum lw_err	 iso2022jp_to_cp932(const char *in, size_t len, char **out,
		    size_t *outlen);

#endif /* ISO2022JP_H */
