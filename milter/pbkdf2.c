/*
 * pbkdf2.c: one output block of PBKDF2-HMAC-SHA1, with nettle's HMAC.
 *
 * T_i = U_1 ^ ... ^ U_c, U_1 = HMAC(P, S || INT(i)), U_j = HMAC(P, U_j-1).
 * hmac_sha1_set_key keys the inner and outer SHA-1 states once (and
 * hashes a key longer than SHA-1's 64-byte block first); they are plain
 * structs, and hmac_sha1_digest restores the inner state by memcpy
 * after each MAC, so an iteration costs its two SHA-1 compressions and
 * two small copies.  Not libcrypto: OpenSSL 3's EVP copies a digest
 * context with a provider allocation, free and cleanse each time (about
 * 400 ns an iteration here against nettle's 130, which also uses the
 * CPU's SHA extensions), and the SHA1_* and HMAC_CTX_* interfaces that
 * avoided it are deprecated.  Everything else stays with libcrypto.
 */
#include <stdint.h>
#include <string.h>

#include <nettle/hmac.h>
#include <openssl/crypto.h>

#include "pbkdf2.h"

bool
pbkdf2_sha1_block(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned iter, uint32_t block,
    unsigned char out[PBKDF2_SHA1_BLOCK])
{
	struct hmac_sha1_ctx	 ctx;
	unsigned char		 u[PBKDF2_SHA1_BLOCK], be[4];
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
	hmac_sha1_digest(&ctx, sizeof(u), u);
	memcpy(out, u, PBKDF2_SHA1_BLOCK);
	for (j = 1; j < iter; j++) {
		/* The digest left ctx's state keyed for the next MAC. */
		hmac_sha1_update(&ctx, sizeof(u), u);
		hmac_sha1_digest(&ctx, sizeof(u), u);
		for (k = 0; k < PBKDF2_SHA1_BLOCK; k++)
			out[k] ^= u[k];
	}
	/* The keyed states stand for the password. */
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	OPENSSL_cleanse(u, sizeof(u));
	return true;
}
