/*
 * 1004-pbkdf2: pbkdf2_sha1_block (nettle's HMAC), the single
 * PBKDF2-HMAC-SHA1 block that zipaes.c derives to check a WinZip AES
 * password verifier, equals RFC 6070's vectors and the same slice of
 * libcrypto's whole derivation (an independent implementation), for
 * fixed and for pseudo-random passwords, salts, counts and blocks.
 */
#include <stdint.h>
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
	/* The block zipaes.c reads the verifier from. */
	b = 2 * keylen / PBKDF2_SHA1_BLOCK;
	ok(pbkdf2_sha1_block(pw, pwlen, salt, saltlen, iter,
	    (uint32_t)b + 1, blk) &&
	    memcmp(blk + (2 * keylen - b * PBKDF2_SHA1_BLOCK),
	    whole + 2 * keylen, 2) == 0,
	    "%s: key %zu, verifier from block %zu", what, keylen, b + 1);
}

/*
 * RFC 6070's vectors (dkLen up to 25: blocks 1 and 2), but for its
 * 16,777,216-iteration one, which would make the test slow.
 */
static void
rfc6070(void)
{
	static const struct {
		const char	*pw, *salt;
		size_t		 pwlen, saltlen;
		unsigned	 iter;
		size_t		 dklen;
		const char	*dk;
	} v[] = {
		{ "password", "salt", 8, 4, 1, 20,
		    "\x0c\x60\xc8\x0f\x96\x1f\x0e\x71\xf3\xa9"
		    "\xb5\x24\xaf\x60\x12\x06\x2f\xe0\x37\xa6" },
		{ "password", "salt", 8, 4, 2, 20,
		    "\xea\x6c\x01\x4d\xc7\x2d\x6f\x8c\xcd\x1e"
		    "\xd9\x2a\xce\x1d\x41\xf0\xd8\xde\x89\x57" },
		{ "password", "salt", 8, 4, 4096, 20,
		    "\x4b\x00\x79\x01\xb7\x65\x48\x9a\xbe\xad"
		    "\x49\xd9\x26\xf7\x21\xd0\x65\xa4\x29\xc1" },
		{ "passwordPASSWORDpassword",
		    "saltSALTsaltSALTsaltSALTsaltSALTsalt", 24, 36, 4096, 25,
		    "\x3d\x2e\xec\x4f\xe4\x1c\x84\x9b\x80\xc8"
		    "\xd8\x36\x62\xc0\xe4\x4a\x8b\x29\x1a\x96"
		    "\x4c\xf2\xf0\x70\x38" },
		{ "pass\0word", "sa\0lt", 9, 5, 4096, 16,
		    "\x56\xfa\x6a\xa7\x55\x48\x09\x9d\xcc\x37"
		    "\xd7\xf0\x34\x25\xe0\xc3" },
	};
	unsigned char	blk[PBKDF2_SHA1_BLOCK];
	size_t		i, b, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (b = 0; b * PBKDF2_SHA1_BLOCK < v[i].dklen; b++) {
			n = v[i].dklen - b * PBKDF2_SHA1_BLOCK;
			if (n > PBKDF2_SHA1_BLOCK)
				n = PBKDF2_SHA1_BLOCK;
			ok(pbkdf2_sha1_block(v[i].pw, v[i].pwlen,
			    (const unsigned char *)v[i].salt, v[i].saltlen,
			    v[i].iter, (uint32_t)b + 1, blk) &&
			    memcmp(blk, v[i].dk + b * PBKDF2_SHA1_BLOCK,
			    n) == 0, "RFC 6070 vector %zu (%u iterations), "
			    "block %zu", i + 1, v[i].iter, b + 1);
		}
}

/*
 * Random passwords (0..150 bytes: below, at and above SHA-1's 64-byte
 * block, past which HMAC hashes the key), salts (0..40 bytes), counts
 * (mostly small, some around WinZip's 1000) and blocks 1..6, each
 * compared with the same slice of PKCS5_PBKDF2_HMAC's output (tap_rnd:
 * the same cases on every run).
 */
static void
random_cases(unsigned ncases)
{
	unsigned char	pw[150], salt[40], blk[PBKDF2_SHA1_BLOCK];
	unsigned char	whole[6 * PBKDF2_SHA1_BLOCK];
	size_t		pwlen, saltlen, i;
	unsigned	c, iter, bad = 0;
	uint32_t	block;

	for (c = 0; c < ncases; c++) {
		pwlen = tap_rnd(sizeof(pw) + 1);
		saltlen = tap_rnd(sizeof(salt) + 1);
		for (i = 0; i < pwlen; i++)
			pw[i] = (unsigned char)tap_rnd(256);
		for (i = 0; i < saltlen; i++)
			salt[i] = (unsigned char)tap_rnd(256);
		iter = c % 8 == 0 ? 900 + tap_rnd(200) : 1 + tap_rnd(40);
		block = 1 + tap_rnd(6);
		if (PKCS5_PBKDF2_HMAC((const char *)pw, (int)pwlen, salt,
		    (int)saltlen, (int)iter, EVP_sha1(),
		    (int)(block * PBKDF2_SHA1_BLOCK), whole) != 1)
			bail("PKCS5_PBKDF2_HMAC failed");
		memset(blk, 0x5a, sizeof(blk));
		if (!pbkdf2_sha1_block((const char *)pw, pwlen, salt,
		    saltlen, iter, block, blk) ||
		    memcmp(blk, whole + (block - 1) * PBKDF2_SHA1_BLOCK,
		    PBKDF2_SHA1_BLOCK) != 0) {
			diag("case %u: password %zu bytes, salt %zu, "
			    "%u iterations, block %u differs", c, pwlen,
			    saltlen, iter, (unsigned)block);
			bad++;
		}
	}
	ok(bad == 0, "%u random cases equal PKCS5_PBKDF2_HMAC's (%u differ)",
	    ncases, bad);
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

	rfc6070();
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
	random_cases(400);
	return done_testing();
}
