/*
 * pbkdf2.h: one output block of PBKDF2-HMAC-SHA1 (RFC 8018 5.2).
 *
 * PBKDF2's output blocks are independent, so a caller that needs a few
 * bytes of the derived key (WinZip AES's 2-byte password verifier)
 * derives only the block that holds them.
 */
#ifndef PBKDF2_H
#define PBKDF2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PBKDF2_SHA1_BLOCK	20

/*
 * Block number `block` (counted from 1, as in RFC 8018) of
 * PBKDF2-HMAC-SHA1(pw, salt, iter) into out: bytes
 * (block - 1) * 20 .. block * 20 - 1 of PKCS5_PBKDF2_HMAC_SHA1's output.
 * False only when block or iter is 0 (nettle's HMAC cannot fail).
 */
bool	pbkdf2_sha1_block(const char *pw, size_t pwlen,
	    const unsigned char *salt, size_t saltlen, unsigned iter,
	    uint32_t block, unsigned char out[PBKDF2_SHA1_BLOCK]);

#endif
