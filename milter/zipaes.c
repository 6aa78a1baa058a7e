/*
 * zipaes.c: WinZip AES entries (AE-1, AE-2), libcrypto only.
 *
 * Takes the key length, a candidate password and the entry's raw
 * bytes as zipaes.h lays them out; returns whether the candidate is
 * right and the plain (still compressed) data.  The 2-byte verifier
 * sits in one PBKDF2 output block (bytes 2 * keylen .. + 1: the 2nd,
 * 3rd or 4th block for AES-128/192/256), so a wrong candidate costs one
 * block, not the four of the whole key material.  No bounds of its
 * own: the data is the caller's buffer, decrypted in place in
 * ZA_BATCH-byte steps; the counter is 64 bits (the upper 8 bytes of the
 * 16-byte counter block stay zero for any entry that fits in memory).
 * Ignores: the AE-1/AE-2 difference (the CRC is archive.c's business).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "pbkdf2.h"
#include "zipaes.h"

#define ZA_ITER		1000
#define ZA_BLOCK	16
#define ZA_BATCH	(256 * ZA_BLOCK)

enum zipaes
zipaes_derive(const char *pw, size_t pwlen, const unsigned char *salt,
    const unsigned char pv[2], size_t keylen, struct zipaes_key *k)
{
	/* enc || mac || pv, rounded up to whole blocks: at most 4. */
	unsigned char	dk[4 * PBKDF2_SHA1_BLOCK];
	size_t		vb, b, off;
	enum zipaes	r = ZIPAES_ENOMEM;

	if (keylen != 16 && keylen != 24 && keylen != 32)
		return ZIPAES_WRONG;
	k->keylen = keylen;
	vb = 2 * keylen / PBKDF2_SHA1_BLOCK;	/* block of the verifier */
	off = 2 * keylen - vb * PBKDF2_SHA1_BLOCK;
	if (!pbkdf2_sha1_block(pw, pwlen, salt, keylen / 2, ZA_ITER,
	    (uint32_t)vb + 1, dk + vb * PBKDF2_SHA1_BLOCK))
		goto out;
	if (memcmp(dk + vb * PBKDF2_SHA1_BLOCK + off, pv, ZIPAES_PV) != 0) {
		r = ZIPAES_WRONG;
		goto out;
	}
	for (b = 0; b < vb; b++)
		if (!pbkdf2_sha1_block(pw, pwlen, salt, keylen / 2, ZA_ITER,
		    (uint32_t)b + 1, dk + b * PBKDF2_SHA1_BLOCK))
			goto out;
	memcpy(k->enc, dk, keylen);
	memcpy(k->mac, dk + keylen, keylen);
	r = ZIPAES_OK;
 out:
	OPENSSL_cleanse(dk, sizeof(dk));
	return r;
}

enum zipaes
zipaes_check(const struct zipaes_key *k, const unsigned char *data,
    size_t n, const unsigned char code[ZIPAES_CODE])
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	size_t		maclen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, k->mac, k->keylen,
	    data, n, mac, sizeof(mac), &maclen) == NULL ||
	    maclen < ZIPAES_CODE)
		return ZIPAES_ENOMEM;
	/* The code is public; no need for a constant-time compare. */
	return memcmp(mac, code, ZIPAES_CODE) == 0 ? ZIPAES_OK : ZIPAES_WRONG;
}

static const EVP_CIPHER *
ecb_of(size_t keylen)
{
	return keylen == 16 ? EVP_aes_128_ecb() : keylen == 24 ?
	    EVP_aes_192_ecb() : EVP_aes_256_ecb();
}

enum zipaes
zipaes_decrypt(const struct zipaes_key *k, unsigned char *data, size_t n)
{
	unsigned char	 ctr[ZA_BATCH], ks[ZA_BATCH];
	uint64_t	 c = 1;
	size_t		 done, step, i, j;
	int		 ol;
	EVP_CIPHER_CTX	*cx;
	enum zipaes	 r = ZIPAES_ENOMEM;

	if ((cx = EVP_CIPHER_CTX_new()) == NULL)
		return ZIPAES_ENOMEM;
	if (EVP_EncryptInit_ex2(cx, ecb_of(k->keylen), k->enc, NULL,
	    NULL) != 1 || EVP_CIPHER_CTX_set_padding(cx, 0) != 1)
		goto out;
	memset(ctr, 0, sizeof(ctr));
	for (done = 0; done < n; done += step) {
		step = n - done < ZA_BATCH ? n - done : ZA_BATCH;
		/* Counter blocks for this step, little-endian from 1. */
		for (i = 0; i < step; i += ZA_BLOCK, c++)
			for (j = 0; j < 8; j++)
				ctr[i + j] = (unsigned char)(c >> (8 * j));
		i = (step + ZA_BLOCK - 1) / ZA_BLOCK * ZA_BLOCK;
		if (EVP_EncryptUpdate(cx, ks, &ol, ctr, (int)i) != 1 ||
		    (size_t)ol != i)
			goto out;
		for (i = 0; i < step; i++)
			data[done + i] ^= ks[i];
	}
	r = ZIPAES_OK;
 out:
	OPENSSL_cleanse(ks, sizeof(ks));
	EVP_CIPHER_CTX_free(cx);
	return r;
}
