/*
 * rar5.h: which files of a RAR5 archive are encrypted.  libarchive
 * 3.6.2 reads RAR5 but skips the file encryption record and hands out
 * the ciphertext as the file's data; container.c asks here first.
 */
#ifndef RAR5_H
#define RAR5_H

#include "lurewall.h"
#include "util.h"	/* lw_strv_free for the names */

/*
 * The names (UTF-8, as libarchive gives them) of the encrypted files
 * of the RAR5 archive d, at most max of them: *names is a malloc'd
 * array of *n malloc'd strings (lw_strv_free), NULL when none or
 * when d is no RAR5.  Only LW_ENOMEM is an error.
 */
enum lw_err	 rar5_encrypted(const unsigned char *d, size_t len,
		    size_t max, char ***names, size_t *n);

#endif /* RAR5_H */
