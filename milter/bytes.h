/*
 * bytes.h: the byte-level readers every binary parser needs (zip, CFB,
 * MS-OVBA, BIFF8, RTF objects) and the hex digit value every text
 * decoder needs (quoted-printable, RFC 2047 Q, RTF \objdata, quarantine
 * metadata), and the ASCII case folds, case-insensitive search and
 * byte-pair index of the text scanners (hijack_quote.c, pwcand.c,
 * ooxml.c).  Callers check bounds before reading: these only decode.
 */
#ifndef BYTES_H
#define BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Value of hex digit c, or -1. */
static inline int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ASCII case folding of one byte; other bytes (UTF-8 included) as they are. */
static inline unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static inline unsigned char
ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c & ~0x20) : c;
}

/*
 * strcasestr in the C locale (ASCII case folds, other bytes as they
 * are) as a byte loop: glibc's costs some 1,500 instructions a call
 * before it reads a short name.  hay and needle are NUL-terminated.
 */
static inline const char *
ascii_casestr(const char *hay, const char *needle)
{
	const unsigned char	*h = (const unsigned char *)hay;
	const unsigned char	*nd = (const unsigned char *)needle;
	size_t			 k;

	if (nd[0] == '\0')
		return hay;
	for (; *h != '\0'; h++) {
		if (ascii_lower(*h) != ascii_lower(nd[0]))
			continue;
		/* hay's NUL differs from every byte left of needle. */
		for (k = 1; nd[k] != '\0' &&
		    ascii_lower(h[k]) == ascii_lower(nd[k]); k++)
			;
		if (nd[k] == '\0')
			return (const char *)h;
	}
	return NULL;
}

/*
 * The two bytes at p as one index into a 65536-entry table, in the
 * machine's byte order: a table is filled and read through this same
 * function, so the order never matters.
 */
static inline uint16_t
pair16(const unsigned char *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#endif /* BYTES_H */
