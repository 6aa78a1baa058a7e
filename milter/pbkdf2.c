/*
 * pbkdf2.c: one output block of PBKDF2-HMAC-SHA1, with nettle.
 *
 * T_i = U_1 ^ ... ^ U_c, U_1 = HMAC(P, S || INT(i)), U_j = HMAC(P, U_j-1).
 * hmac_sha1_set_key keys the inner and outer SHA-1 states once (and
 * hashes a key longer than SHA-1's 64-byte block first); U_1, whose
 * salt has any length, is nettle's HMAC.  From U_2 on every message is
 * the 20-byte U before it, so each of the two hashes of an iteration
 * is one compression of a single padded block from a copy of its keyed
 * state (after 64 key bytes and 20 message bytes the length is 672
 * bits): nettle_sha1_compress, public since nettle 3.8, without the
 * buffering and finalising of sha1_digest around it.  Not libcrypto:
 * OpenSSL 3's EVP copies a digest context with a provider allocation,
 * free and cleanse each time, and the SHA1_* and HMAC_CTX_* interfaces
 * that avoided it are deprecated.  Everything else stays with
 * libcrypto.
 */
#include <stdint.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/sha1.h>
#include <openssl/crypto.h>

#include "pbkdf2.h"

#define SHA1_WORDS	5

/*
 * The 20-byte digest of a SHA-1 state, big-endian, into b.  Each word
 * is read once: a store through b could alias st, and re-reading the
 * word for every byte kept gcc from storing it whole, byte-swapped.
 */
static void
put_be(unsigned char *b, const uint32_t *st)
{
	uint32_t	w;
	int		i;

	for (i = 0; i < SHA1_WORDS; i++) {
		w = st[i];
		b[4 * i] = (unsigned char)(w >> 24);
		b[4 * i + 1] = (unsigned char)(w >> 16);
		b[4 * i + 2] = (unsigned char)(w >> 8);
		b[4 * i + 3] = (unsigned char)w;
	}
}

bool
pbkdf2_sha1_block(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned iter, uint32_t block,
    unsigned char out[PBKDF2_SHA1_BLOCK])
{
	struct hmac_sha1_ctx	 ctx;
	unsigned char		 m[SHA1_BLOCK_SIZE], be[4];
	uint32_t		 st[SHA1_WORDS];
	unsigned		 j;
	size_t			 k;

	if (block == 0 || iter == 0)
		return false;
	hmac_sha1_set_key(&ctx, pwlen, (const uint8_t *)pw);
	be[0] = (unsigned char)(block >> 24);
	be[1] = (unsigned char)(block >> 16);
	be[2] = (unsigned char)(block >> 8);
	be[3] = (unsigned char)block;
	hmac_sha1_update(&ctx, saltlen, salt);
	hmac_sha1_update(&ctx, sizeof(be), be);
	hmac_sha1_digest(&ctx, PBKDF2_SHA1_BLOCK, m);
	memcpy(out, m, PBKDF2_SHA1_BLOCK);
	/* m: U, then SHA-1's padding of a 64 + 20-byte message. */
	memset(m + PBKDF2_SHA1_BLOCK, 0, sizeof(m) - PBKDF2_SHA1_BLOCK);
	m[PBKDF2_SHA1_BLOCK] = 0x80;
	m[SHA1_BLOCK_SIZE - 2] = ((SHA1_BLOCK_SIZE + PBKDF2_SHA1_BLOCK) * 8) >> 8;
	m[SHA1_BLOCK_SIZE - 1] = ((SHA1_BLOCK_SIZE + PBKDF2_SHA1_BLOCK) * 8) &
	    0xff;
	for (j = 1; j < iter; j++) {
		memcpy(st, ctx.inner.state, sizeof(st));
		nettle_sha1_compress(st, m);
		put_be(m, st);
		memcpy(st, ctx.outer.state, sizeof(st));
		nettle_sha1_compress(st, m);
		put_be(m, st);
		for (k = 0; k < PBKDF2_SHA1_BLOCK; k++)
			out[k] ^= m[k];
	}
	/* The keyed states stand for the password. */
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	OPENSSL_cleanse(st, sizeof(st));
	OPENSSL_cleanse(m, sizeof(m));
	return true;
}
