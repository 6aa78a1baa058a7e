/*
 * charset.h: bytes in a declared charset -> UTF-8, and the header
 * encodings that carry charsets (RFC 2047 encoded words, RFC 2231
 * parameter continuations).
 *
 * iconv does most charsets.  ISO-2022-JP is converted by our own code
 * to CP932 first, because glibc's ISO-2022-JP rejects the NEC/IBM
 * extension characters (circled digits, (株)) that Japanese mailers use.
 * Invalid sequences become U+FFFD; nothing here fails on bad input.
 */
#ifndef CHARSET_H
#define CHARSET_H

#include "lurewall.h"

/*
 * Convert len bytes in charset (NULL or unknown: guess UTF-8, then
 * CP932, then ISO-8859-1) to malloc'd NUL-terminated UTF-8.  *unknown
 * (may be NULL) is set when the charset was not recognised.
 */
enum lw_err	 charset_to_utf8(const char *charset, const char *in,
		    size_t len, char **out, size_t *outlen, bool *unknown);

/* Decode RFC 2047 encoded words (adjacent words joined) to UTF-8. */
enum lw_err	 charset_decode_header(const char *value, char **out);

/* True when s (len bytes) is valid UTF-8. */
bool		 charset_valid_utf8(const char *s, size_t len);

/* Length of the longest valid UTF-8 prefix of s (len bytes). */
size_t		 charset_utf8_prefix(const char *s, size_t len);

/*
 * Tolerant base64: skips whitespace and garbage, restarts after '='
 * padding, keeps the bytes of a final partial quantum.  out must hold
 * len / 4 * 3 + 3 bytes.  Sets *bad (never clears it) when the input
 * had characters outside the alphabet or a dangling sixth of a byte.
 * Returns the number of bytes written.
 */
size_t		 charset_base64_decode(const char *in, size_t len,
		    unsigned char *out, bool *bad);

#endif /* CHARSET_H */
