/*
 * zipcrypto.c: traditional PKWARE encryption (APPNOTE 6.1), decryption
 * only.
 *
 * Takes a password and encrypted bytes; returns them decrypted.  The
 * keys' CRC-32 steps use zlib's table (get_crc_table: built at compile
 * time, shared, read-only), one lookup a step.  No bounds of its own:
 * the caller's buffer, in place.  Ignores: the header check (archive.c
 * compares the 12th byte with what libzip compares it with).
 */
#include <zlib.h>

#include "zipcrypto.h"

static uint32_t
crc_step(const z_crc_t *t, uint32_t crc, unsigned char b)
{
	return (uint32_t)t[(crc ^ b) & 0xff] ^ (crc >> 8);
}

static void
update(struct zipcrypto *z, const z_crc_t *t, unsigned char plain)
{
	z->k0 = crc_step(t, z->k0, plain);
	z->k1 = (z->k1 + (z->k0 & 0xff)) * 134775813u + 1;
	z->k2 = crc_step(t, z->k2, (unsigned char)(z->k1 >> 24));
}

void
zipcrypto_init(struct zipcrypto *z, const char *pw, size_t n)
{
	const z_crc_t	*t = get_crc_table();
	size_t		 i;

	z->k0 = 0x12345678u;
	z->k1 = 0x23456789u;
	z->k2 = 0x34567890u;
	for (i = 0; i < n; i++)
		update(z, t, (unsigned char)pw[i]);
}

void
zipcrypto_decrypt(struct zipcrypto *z, unsigned char *p, size_t n)
{
	const z_crc_t		*t = get_crc_table();
	struct zipcrypto	 w = *z;
	unsigned		 k;
	size_t			 i;

	/* The keys in a local: stores to p[] could alias *z. */
	for (i = 0; i < n; i++) {
		/* The keystream byte: the low 16 bits of k2, with bit 1 set. */
		k = (w.k2 | 2) & 0xffff;
		p[i] ^= (unsigned char)((k * (k ^ 1)) >> 8);
		update(&w, t, p[i]);
	}
	*z = w;
}
