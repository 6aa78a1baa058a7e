/*
 * zipaes.h: WinZip AES (AE-1, AE-2) entry decryption with libcrypto.
 *
 * An encrypted entry's data is salt (keylen / 2 bytes), a 2-byte
 * password verifier, the encrypted data and a 10-byte authentication
 * code (HMAC-SHA1 of the encrypted data, cut).  The key material is
 * PBKDF2-HMAC-SHA1(password, salt, 1000): the AES key, the HMAC key,
 * then the verifier.  archive.c derives it once per candidate, checks
 * the code once and decrypts in place; libzip is not asked again.
 */
#ifndef ZIPAES_H
#define ZIPAES_H

#include <stdbool.h>
#include <stddef.h>

#define ZIPAES_KEY_MAX	32
#define ZIPAES_CODE	10	/* authentication code after the data */
#define ZIPAES_PV	2	/* password verifier after the salt */

struct zipaes_key {
	size_t		 keylen;		/* 16, 24 or 32 */
	unsigned char	 enc[ZIPAES_KEY_MAX];	/* AES key */
	unsigned char	 mac[ZIPAES_KEY_MAX];	/* HMAC-SHA1 key */
};

enum zipaes {
	ZIPAES_OK,
	ZIPAES_WRONG,		/* verifier or authentication code differ */
	ZIPAES_ENOMEM		/* libcrypto failed */
};

/*
 * The key material for pw and salt (keylen / 2 bytes) when its
 * verifier matches pv; the verifier's PBKDF2 block is derived first,
 * the others only for the one wrong candidate in 65,536 that passes.
 */
enum zipaes	 zipaes_derive(const char *pw, size_t pwlen,
		    const unsigned char *salt, const unsigned char pv[2],
		    size_t keylen, struct zipaes_key *);

/* HMAC-SHA1 of the encrypted data against its 10-byte code. */
enum zipaes	 zipaes_check(const struct zipaes_key *,
		    const unsigned char *data, size_t n,
		    const unsigned char code[ZIPAES_CODE]);

/*
 * Decrypt n bytes in place: AES in counter mode with WinZip's
 * little-endian counter from 1 (OpenSSL's CTR mode counts big-endian,
 * so the keystream is AES-ECB over the counter blocks).
 */
enum zipaes	 zipaes_decrypt(const struct zipaes_key *,
		    unsigned char *data, size_t n);

#endif /* ZIPAES_H */
