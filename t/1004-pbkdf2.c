/*
 * 1004-pbkdf2: pbkdf2_sha1_block, the single PBKDF2-HMAC-SHA1 block
 * that archive.c derives to check a WinZip AES password verifier,
 * equals the same slice of libcrypto's whole derivation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tap.h"
#include "pbkdf2.h"

static void
same(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, unsigned iter, size_t keylen, const char *what)
{
	unsigned char	whole[4 * PBKDF2_SHA1_BLOCK], blk[PBKDF2_SHA1_BLOCK];
	size_t		nblk = (2 * keylen + 2 + PBKDF2_SHA1_BLOCK - 1) /
			    PBKDF2_SHA1_BLOCK;
	size_t		b;

	if (PKCS5_PBKDF2_HMAC_SHA1(pw, (int)pwlen, salt, (int)saltlen,
	    (int)iter, (int)(nblk * PBKDF2_SHA1_BLOCK), whole) != 1)
		bail("PKCS5_PBKDF2_HMAC_SHA1 failed");
	for (b = 0; b < nblk; b++) {
		memset(blk, 0xa5, sizeof(blk));
		ok(pbkdf2_sha1_block(pw, pwlen, salt, saltlen, iter,
		    (uint32_t)b + 1, blk) &&
		    memcmp(blk, whole + b * PBKDF2_SHA1_BLOCK,
		    PBKDF2_SHA1_BLOCK) == 0,
		    "%s: key %zu, block %zu equals libcrypto's", what,
		    keylen, b + 1);
	}
	/* The block archive.c reads the verifier from. */
	b = 2 * keylen / PBKDF2_SHA1_BLOCK;
	ok(pbkdf2_sha1_block(pw, pwlen, salt, saltlen, iter,
	    (uint32_t)b + 1, blk) &&
	    memcmp(blk + 2 * keylen - b * PBKDF2_SHA1_BLOCK,
	    whole + 2 * keylen, 2) == 0,
	    "%s: key %zu, verifier from block %zu", what, keylen, b + 1);
}

int
main(void)
{
	static const unsigned char	s8[] = "\x01\x02\x03\x04\xfe\xff\x00\x80";
	static const unsigned char	s12[] = "saltSALTsalt";
	static const unsigned char	s16[] = "\x00\x00\x00\x00\x00\x00\x00\x00"
					    "\x10\x20\x30\x40\x50\x60\x70\x80";
	unsigned char			 rfc[PBKDF2_SHA1_BLOCK];
	char				 longpw[200];
	size_t				 keys[] = { 16, 24, 32 };
	size_t				 k;

	/* RFC 6070's second vector, block 1 of 20 bytes, 2 iterations. */
	ok(pbkdf2_sha1_block("password", 8, (const unsigned char *)"salt",
	    4, 2, 1, rfc) && memcmp(rfc, "\xea\x6c\x01\x4d\xc7\x2d\x6f\x8c"
	    "\xcd\x1e\xd9\x2a\xce\x1d\x41\xf0\xd8\xde\x89\x57", 20) == 0,
	    "RFC 6070 vector (2 iterations)");
	ok(!pbkdf2_sha1_block("pw", 2, s8, 8, 1000, 0, rfc),
	    "block 0 refused");
	ok(!pbkdf2_sha1_block("pw", 2, s8, 8, 0, 1, rfc),
	    "0 iterations refused");

	memset(longpw, 'q', sizeof(longpw));
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		same("abc123", 6, s8, 8, 1000, keys[k], "abc123, 8-byte salt");
		same("パスワード8462", strlen("パスワード8462"), s12, 12, 1000,
		    keys[k], "UTF-8 password, 12-byte salt");
		same("", 0, s16, 16, 1000, keys[k], "empty password");
		same(longpw, 64, s16, 16, 1000, keys[k], "64-byte password");
		same(longpw, sizeof(longpw), s16, 16, 1000, keys[k],
		    "200-byte password (hashed key)");
		same("x", 1, s12, 12, 1, keys[k], "1 iteration");
	}
	return done_testing();
}
