/*
 * fuzz_officecrypt.c: libFuzzer target for officecrypt.c.  The first
 * OFFICECRYPT_KEY (64) bytes stand for the derived secrets (the key
 * derivation is skipped: it would spend the time budget, not find
 * bugs): the verifier code runs with them as the spun hash and the
 * package is decrypted with their first 32 bytes.  The rest is a
 * compound file whose EncryptionInfo (agile XML or standard binary)
 * is parsed and whose EncryptedPackage goes through content_analyze
 * with the default limits; an encrypted Word document's FIB and
 * EncryptionHeader, and an encrypted presentation's persist directory,
 * are read and tried with the default password (RC4 costs one digest:
 * nothing to skip; the seeds use it, so the decryption runs).
 */
#include <stdint.h>

#include "cfb.h"
#include "fuzz_ctx.h"
#include "officecrypt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_env	 f;
	struct scan_ctx	*ctx;
	struct cfb	 c;

	if (len < OFFICECRYPT_KEY)
		return 0;
	ctx = fuzz_ctx(&f, NULL, NULL, 0);
	/* cfb_close undoes a failed cfb_open too. */
	if (cfb_open(&c, data + OFFICECRYPT_KEY, len - OFFICECRYPT_KEY,
	    &f.lim) == LW_OK) {
		(void)officecrypt_scan_key(ctx, "1/a.docm", &c, 0, data);
		(void)officecrypt_scan_doc(ctx, "1/a.doc", &c);
		(void)officecrypt_scan_ppt(ctx, "1/a.ppt", &c, 0);
	}
	cfb_close(&c);
	findings_free(&f.fs);
	return 0;
}
