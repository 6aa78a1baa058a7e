/*
 * zipcrypto.h: traditional PKWARE ("ZipCrypto") entry decryption.
 *
 * An encrypted entry's data is a 12-byte header, then the encrypted
 * (still compressed) data.  The cipher is three 32-bit keys stirred by
 * each plain byte; the header's last byte, once decrypted, repeats the
 * top byte of the entry's CRC (PKWARE) or of its DOS time (Info-ZIP, when
 * the CRC follows the data): a 1-byte check that lets one wrong password
 * in 256 through.  archive.c decrypts with it rather than through
 * libzip, whose decoder calls zlib's crc32() twice a byte.
 */
#ifndef ZIPCRYPTO_H
#define ZIPCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define ZIPCRYPTO_HDR	12

struct zipcrypto {
	uint32_t	k0, k1, k2;
};

/* The keys of password pw[0..n). */
void	zipcrypto_init(struct zipcrypto *, const char *pw, size_t n);

/* Decrypt p[0..n) in place, the keys moving on. */
void	zipcrypto_decrypt(struct zipcrypto *, unsigned char *p, size_t n);

#endif /* ZIPCRYPTO_H */
