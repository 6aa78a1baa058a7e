/*
 * pbkdf2.c: one output block of PBKDF2-HMAC-SHA1.
 *
 * T_i = U_1 ^ ... ^ U_c, U_1 = HMAC(P, S || INT(i)), U_j = HMAC(P, U_j-1).
 * HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)): the two keyed
 * SHA-1 states are computed once (one compression each) and copied for
 * every iteration, so an iteration costs the two compressions of its
 * short messages and no re-keying.  libcrypto's EVP digests only: the
 * SHA1_* and HMAC_CTX_* interfaces are deprecated in OpenSSL 3.
 */
#include <string.h>

#include <openssl/evp.h>

#include "pbkdf2.h"

#define SHA1_BLOCK	64

/* out = H(state || m), state left as it was. */
static bool
keyed_hash(EVP_MD_CTX *work, const EVP_MD_CTX *state,
    const unsigned char *m, size_t mlen, const unsigned char *m2,
    size_t m2len, unsigned char out[PBKDF2_SHA1_BLOCK])
{
	unsigned int	n;

	if (EVP_MD_CTX_copy_ex(work, state) != 1 ||
	    EVP_DigestUpdate(work, m, mlen) != 1 ||
	    (m2len > 0 && EVP_DigestUpdate(work, m2, m2len) != 1) ||
	    EVP_DigestFinal_ex(work, out, &n) != 1)
		return false;
	return n == PBKDF2_SHA1_BLOCK;
}

bool
pbkdf2_sha1_block(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned iter, uint32_t block,
    unsigned char out[PBKDF2_SHA1_BLOCK])
{
	unsigned char	 key[SHA1_BLOCK], pad[SHA1_BLOCK];
	unsigned char	 u[PBKDF2_SHA1_BLOCK], h[PBKDF2_SHA1_BLOCK], be[4];
	unsigned int	 n;
	unsigned	 j;
	size_t		 k;
	EVP_MD		*md = NULL;
	EVP_MD_CTX	*in = NULL, *outer = NULL, *work = NULL;
	bool		 ok = false;

	if (block == 0 || iter == 0)
		return false;
	memset(key, 0, sizeof(key));
	if ((md = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL ||
	    (in = EVP_MD_CTX_new()) == NULL ||
	    (outer = EVP_MD_CTX_new()) == NULL ||
	    (work = EVP_MD_CTX_new()) == NULL)
		goto out;
	/* A key longer than SHA-1's block is replaced by its hash. */
	if (pwlen > SHA1_BLOCK) {
		if (EVP_DigestInit_ex(work, md, NULL) != 1 ||
		    EVP_DigestUpdate(work, pw, pwlen) != 1 ||
		    EVP_DigestFinal_ex(work, key, &n) != 1)
			goto out;
	} else if (pwlen > 0)
		memcpy(key, pw, pwlen);
	for (k = 0; k < SHA1_BLOCK; k++)
		pad[k] = key[k] ^ 0x36;
	if (EVP_DigestInit_ex(in, md, NULL) != 1 ||
	    EVP_DigestUpdate(in, pad, SHA1_BLOCK) != 1)
		goto out;
	for (k = 0; k < SHA1_BLOCK; k++)
		pad[k] = key[k] ^ 0x5c;
	if (EVP_DigestInit_ex(outer, md, NULL) != 1 ||
	    EVP_DigestUpdate(outer, pad, SHA1_BLOCK) != 1)
		goto out;

	be[0] = (unsigned char)(block >> 24);
	be[1] = (unsigned char)(block >> 16);
	be[2] = (unsigned char)(block >> 8);
	be[3] = (unsigned char)block;
	if (!keyed_hash(work, in, salt, saltlen, be, sizeof(be), h) ||
	    !keyed_hash(work, outer, h, sizeof(h), NULL, 0, u))
		goto out;
	memcpy(out, u, PBKDF2_SHA1_BLOCK);
	for (j = 1; j < iter; j++) {
		if (!keyed_hash(work, in, u, sizeof(u), NULL, 0, h) ||
		    !keyed_hash(work, outer, h, sizeof(h), NULL, 0, u))
			goto out;
		for (k = 0; k < PBKDF2_SHA1_BLOCK; k++)
			out[k] ^= u[k];
	}
	ok = true;
 out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pad, sizeof(pad));
	EVP_MD_CTX_free(work);
	EVP_MD_CTX_free(outer);
	EVP_MD_CTX_free(in);
	EVP_MD_free(md);
	return ok;
}
