/*
 * bytes.h: the byte-level readers every binary parser needs (zip, CFB,
 * MS-OVBA, BIFF8, RTF objects) and the hex digit value every text
 * decoder needs (quoted-printable, RFC 2047 Q, RTF \objdata, quarantine
 * metadata).  Callers check bounds before reading: these only decode.
 */
#ifndef BYTES_H
#define BYTES_H

#include <stdint.h>

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

#endif /* BYTES_H */
