/*
 * fuzz_zipaes.c: libFuzzer target for zipaes.c and zipdec.c, the
 * WinZip AES entries archive.c decrypts itself.  The key derivation is
 * skipped (it would spend the time, not find bugs): the input carries
 * the derived keys.  Layout:
 *   [0]       bits 0-1: AES-128/192/256 (3 is 256 too); bits 2-3: the
 *             method (Copy, Deflate, BZip2, LZMA); bit 4: size unknown
 *   [1..64]   the AES key (its first keylen bytes), then the HMAC key
 *   [65..72]  the declared size and CRC, little-endian
 *   [73..]    the encrypted data, then its 10-byte authentication code
 * The code is checked (its answer ignored, so that the data is read
 * whatever it says), the data decrypted and read through zipdec in
 * odd-sized steps up to 1 MiB, as archive.c's read_entry would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "zipaes.h"
#include "zipdec.h"

#define FZ_HDR		73
#define FZ_MAX		(1U << 20)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const unsigned methods[] = { 0, 8, 12, 14 };
	struct zipaes_key	 k;
	struct zipdec_entry	 e;
	struct zipdec		*zd;
	unsigned char		*buf, *out;
	size_t			 n, used = 0, step = 4093;
	int64_t			 got;

	if (len < FZ_HDR + ZIPAES_CODE)
		return 0;
	k.keylen = (data[0] & 3) == 0 ? 16 : (data[0] & 3) == 1 ? 24 : 32;
	memcpy(k.enc, data + 1, ZIPAES_KEY_MAX);
	memcpy(k.mac, data + 1 + ZIPAES_KEY_MAX, ZIPAES_KEY_MAX);
	e.method = methods[(data[0] >> 2) & 3];
	e.size_valid = (data[0] & 0x10) == 0;
	e.size = le32(data + 65);
	e.crc = le32(data + 69);
	n = len - FZ_HDR - ZIPAES_CODE;
	if ((buf = malloc(n + 1)) == NULL)
		return 0;
	memcpy(buf, data + FZ_HDR, n);
	(void)zipaes_check(&k, buf, n, data + FZ_HDR + n);
	if (zipaes_decrypt(&k, buf, n) == ZIPAES_OK &&
	    (zd = zipdec_open(&e, buf, n, FZ_MAX)) != NULL) {
		if ((out = malloc(FZ_MAX)) != NULL) {
			while (used < FZ_MAX && (got = zipdec_fread(zd,
			    out + used, step < FZ_MAX - used ? step :
			    FZ_MAX - used)) > 0) {
				used += (size_t)got;
				step = step * 3 % 70001 + 1;
			}
			free(out);
		}
		zipdec_close(zd);
	}
	free(buf);
	return 0;
}
