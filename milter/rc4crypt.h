/*
 * rc4crypt.h: the RC4 encryption of Office 97-2003 binary documents
 * (MS-OFFCRYPTO 2.3.6 RC4 with MD5, 2.3.5 CryptoAPI RC4 with SHA-1):
 * the verifier check of an EncryptionHeader and the key stream that
 * is re-keyed every block (1024 bytes in Excel, 512 in Word, each
 * persist object in PowerPoint).  Shared by xls.c (FILEPASS) and
 * officecrypt.c (Word's Table stream, PowerPoint's
 * CryptSession10Container).
 */
#ifndef RC4CRYPT_H
#define RC4CRYPT_H

#include <openssl/evp.h>

#include "lurewall.h"

#define RC4CRYPT_DEFAULT_PASSWORD	"VelvetSweatshop"
#define RC4CRYPT_MAX_BLOCK		1024

struct scan_ctx;

/* Key material for one password and salt; block keys derive from it. */
struct rc4key {
	bool		 cryptoapi;
	unsigned	 keybytes;	/* CryptoAPI: 5..16 */
	unsigned char	 base[20];	/* MD5: 5 bytes; SHA-1: H0 */
};

/* The key stream at a position: one block's worth kept. */
struct rc4stream {
	const struct rc4key	*k;
	size_t			 blocksize;	/* up to the max */
	uint32_t		 block;	/* of ks; UINT32_MAX: none */
	unsigned char		 ks[RC4CRYPT_MAX_BLOCK];
};

/*
 * The scheme of the EncryptionHeader at h (EncryptionVersionInfo
 * first): "RC4", "CryptoAPI RC4", or NULL for anything else.
 */
const char	*rc4crypt_scheme(const unsigned char *h, size_t len);

/*
 * "VelvetSweatshop", then the message's password candidates, while the
 * key derivation budget lasts (LW_KDF_*).  Returns the index of the
 * password that opened it (0: the default) with *k filled, or -1.
 */
long		 rc4crypt_find(struct scan_ctx *, const char *part,
		    const unsigned char *h, size_t len, struct rc4key *k);

/* H(a || b) into out (EVP_MAX_MD_SIZE): the Office crypto digests. */
bool		 rc4crypt_hash(const EVP_MD *, const void *a, size_t alen,
		    const void *b, size_t blen, unsigned char *out);

/*
 * XOR n bytes with the key stream of one block key from its start
 * (PowerPoint: the block is the persist object's identifier).
 */
bool		 rc4crypt_block(const struct rc4key *, uint32_t block,
		    unsigned char *p, size_t n);

void		 rc4crypt_stream(struct rc4stream *, const struct rc4key *,
		    size_t blocksize);
/* XOR n bytes at absolute stream offset pos in place. */
bool		 rc4crypt_at(struct rc4stream *, unsigned char *p, size_t n,
		    size_t pos);

#endif /* RC4CRYPT_H */
