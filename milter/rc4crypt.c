/*
 * rc4crypt.c: RC4 encryption of Office 97-2003 binary documents.
 *
 * Takes an EncryptionHeader (EncryptionVersionInfo 1.1: RC4 with an
 * MD5-based key, MS-OFFCRYPTO 2.3.6; 2.2, 3.2 or 4.2: CryptoAPI RC4
 * with SHA-1, 2.3.5) and a password; the key is right when the
 * decrypted verifier's hash is the decrypted verifier hash.  The data
 * is then XORed with an RC4 key stream re-keyed for every block (block
 * number as 32-bit LE hashed with the base key), keyed by absolute
 * stream position.
 *
 * Bounds: the header is read within len; each candidate costs one or
 * two digests (MD5 RC4: 17), charged to the message's key derivation
 * budget like every other.  RC4 lives in OpenSSL 3's legacy provider,
 * loaded once into a library context of our own so the rest of the
 * process keeps the default one.
 * Ignores: XOR obfuscation (the caller reports it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "bytes.h"
#include "lurewall.h"
#include "analyzer.h"
#include "log.h"
#include "pwcand.h"
#include "rc4crypt.h"

static pthread_once_t	 rc4_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER	*rc4_cipher;

static void
rc4_init(void)
{
	OSSL_LIB_CTX	*lc;

	if ((lc = OSSL_LIB_CTX_new()) == NULL)
		return;
	if (OSSL_PROVIDER_load(lc, "legacy") == NULL)
		return;
	rc4_cipher = EVP_CIPHER_fetch(lc, "RC4", NULL);
}

/* XOR buf with the RC4 keystream of key (16 bytes). */
static bool
rc4_apply(const unsigned char *key, unsigned char *buf, size_t n)
{
	EVP_CIPHER_CTX	*cx;
	int		 outl;
	bool		 good;

	(void)pthread_once(&rc4_once, rc4_init);
	if (rc4_cipher == NULL || n > INT32_MAX)
		return false;
	if ((cx = EVP_CIPHER_CTX_new()) == NULL)
		return false;
	good = EVP_EncryptInit_ex2(cx, rc4_cipher, key, NULL, NULL) == 1 &&
	    EVP_EncryptUpdate(cx, buf, &outl, buf, (int)n) == 1;
	EVP_CIPHER_CTX_free(cx);
	return good;
}

bool
rc4crypt_hash(const EVP_MD *md, const void *a, size_t alen, const void *b,
    size_t blen, unsigned char *out)
{
	EVP_MD_CTX	*mc;
	bool		 good;

	if ((mc = EVP_MD_CTX_new()) == NULL)
		return false;
	good = EVP_DigestInit_ex(mc, md, NULL) == 1 &&
	    EVP_DigestUpdate(mc, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(mc, b, blen) == 1) &&
	    EVP_DigestFinal_ex(mc, out, NULL) == 1;
	EVP_MD_CTX_free(mc);
	return good;
}

static bool
block_key(const struct rc4key *k, uint32_t block, unsigned char key[16])
{
	unsigned char	 b[4], md[20];

	b[0] = block & 0xff;
	b[1] = block >> 8 & 0xff;
	b[2] = block >> 16 & 0xff;
	b[3] = block >> 24 & 0xff;
	if (!k->cryptoapi) {
		if (!rc4crypt_hash(EVP_md5(), k->base, 5, b, 4, md))
			return false;
		memcpy(key, md, 16);
		return true;
	}
	if (!rc4crypt_hash(EVP_sha1(), k->base, 20, b, 4, md))
		return false;
	/* Short keys are zero-padded to 128 bits (MS-OFFCRYPTO 2.3.5.2). */
	memset(key, 0, 16);
	memcpy(key, md, k->keybytes);
	return true;
}

const char *
rc4crypt_scheme(const unsigned char *h, size_t len)
{
	if (len < 4)
		return NULL;
	if (le16(h) == 1 && le16(h + 2) == 1)
		return "RC4";
	if (le16(h) >= 2 && le16(h) <= 4 && le16(h + 2) == 2)
		return "CryptoAPI RC4";
	return NULL;
}

/* RC4: salt 16, verifier 16, verifier hash 16 after the version. */
static bool
verify_rc4(const unsigned char *h, size_t len, const unsigned char *pw,
    size_t pwlen, struct rc4key *k)
{
	unsigned char	 md[16], key[16], buf[32], inter[16 * 21];
	size_t		 i;

	if (len < 4 + 48 || !rc4crypt_hash(EVP_md5(), pw, pwlen, NULL, 0, md))
		return false;
	for (i = 0; i < 16; i++) {
		memcpy(inter + 21 * i, md, 5);
		memcpy(inter + 21 * i + 5, h + 4, 16);
	}
	if (!rc4crypt_hash(EVP_md5(), inter, sizeof(inter), NULL, 0, md))
		return false;
	memcpy(k->base, md, 5);
	if (!block_key(k, 0, key))
		return false;
	memcpy(buf, h + 20, 32);
	return rc4_apply(key, buf, 32) &&
	    rc4crypt_hash(EVP_md5(), buf, 16, NULL, 0, md) &&
	    memcmp(md, buf + 16, 16) == 0;
}

/*
 * CryptoAPI RC4: flags, header size, the header (KeySize at 16), then
 * SaltSize 16, salt, verifier 16, VerifierHashSize, hash 20.
 */
static bool
verify_cryptoapi(const unsigned char *h, size_t len, const unsigned char *pw,
    size_t pwlen, struct rc4key *k)
{
	unsigned char	 md[20], key[16], buf[36];
	size_t		 hsize, v;
	unsigned	 bits;

	if (len < 12)
		return false;
	hsize = le32(h + 8);
	if (hsize < 32 || hsize > len - 12)
		return false;
	bits = le32(h + 12 + 16);
	if (bits == 0)
		bits = 40;
	if (bits < 40 || bits > 128 || bits % 8 != 0)
		return false;
	v = 12 + hsize;
	if (len - v < 4 + 16 + 16 + 4 + 20 || le32(h + v) != 16)
		return false;
	k->cryptoapi = true;
	k->keybytes = bits / 8;
	if (!rc4crypt_hash(EVP_sha1(), h + v + 4, 16, pw, pwlen, k->base) ||
	    !block_key(k, 0, key))
		return false;
	memcpy(buf, h + v + 20, 16);
	memcpy(buf + 16, h + v + 40, 20);
	return rc4_apply(key, buf, 36) &&
	    rc4crypt_hash(EVP_sha1(), buf, 16, NULL, 0, md) &&
	    memcmp(md, buf + 16, 20) == 0;
}

static bool
verify(const unsigned char *h, size_t len, const char *pw, struct rc4key *k)
{
	unsigned char	 u16[512];
	size_t		 n = pwcand_utf16le(pw, u16, sizeof(u16));
	const char	*scheme = rc4crypt_scheme(h, len);

	memset(k, 0, sizeof(*k));
	if (scheme == NULL)
		return false;
	return scheme[0] == 'R' ? verify_rc4(h, len, u16, n, k) :
	    verify_cryptoapi(h, len, u16, n, k);
}

long
rc4crypt_find(struct scan_ctx *ctx, const char *part, const unsigned char *h,
    size_t len, struct rc4key *k)
{
	const struct pwcands	*pw = ctx->pw;
	size_t			 i, n;
	uint64_t		 t0, dt, file_ms = 0;
	bool			 ok;

	n = 1 + (pw != NULL ? pw->n : 0);
	for (i = 0; i < n; i++) {
		if (scan_kdf_left(ctx, file_ms) == 0 || scan_expired(ctx)) {
			scan_log(ctx, LOG_INFO, "encrypted document %s: key "
			    "derivation budget spent, %zu password candidates "
			    "not tried", part, n - i);
			break;
		}
		t0 = lw_cpu_ms();
		ok = verify(h, len, i == 0 ? RC4CRYPT_DEFAULT_PASSWORD :
		    pw->v[i - 1], k);
		dt = lw_cpu_ms() - t0;
		file_ms += dt;
		ctx->kdf_ms += dt;
		if (ok)
			return (long)i;
	}
	return -1;
}

bool
rc4crypt_block(const struct rc4key *k, uint32_t block, unsigned char *p,
    size_t n)
{
	unsigned char	 key[16];

	return block_key(k, block, key) && rc4_apply(key, p, n);
}

void
rc4crypt_stream(struct rc4stream *s, const struct rc4key *k,
    size_t blocksize)
{
	s->k = k;
	s->blocksize = blocksize > RC4CRYPT_MAX_BLOCK ? RC4CRYPT_MAX_BLOCK :
	    blocksize;
	s->block = UINT32_MAX;
}

bool
rc4crypt_at(struct rc4stream *s, unsigned char *p, size_t n, size_t pos)
{
	unsigned char	 key[16];
	size_t		 i, b;

	for (i = 0; i < n; i++) {
		b = (pos + i) / s->blocksize;
		if (b > UINT32_MAX - 1)
			return false;
		if (b != s->block) {
			if (!block_key(s->k, (uint32_t)b, key))
				return false;
			memset(s->ks, 0, s->blocksize);
			if (!rc4_apply(key, s->ks, s->blocksize))
				return false;
			s->block = (uint32_t)b;
		}
		p[i] ^= s->ks[(pos + i) % s->blocksize];
	}
	return true;
}
