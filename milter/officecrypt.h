/*
 * officecrypt.h: password-protected OOXML (ECMA-376 agile and standard
 * encryption) decrypted with "VelvetSweatshop" and the message's
 * password candidates; the plain package goes through
 * content_analyze().  Encrypted Word 97-2003 documents are tried too.  Private to the office stage.
 */
#ifndef OFFICECRYPT_H
#define OFFICECRYPT_H

#include "lurewall.h"

#define OFFICECRYPT_KEY	64	/* fuzzing: a spun hash, its start a key */

struct cfb;
struct scan_ctx;

/*
 * A compound file with EncryptionInfo and EncryptedPackage streams.
 * Records OFFICE_ENCRYPTED itself when no password works or the scheme
 * is not one we decrypt.  Only internal errors are returned.
 */
enum lw_err	 officecrypt_scan(struct scan_ctx *, const char *part,
		    struct cfb *, unsigned depth);

/*
 * A compound file with a WordDocument stream: an encrypted Word 97-2003
 * document is tried with the same passwords (OFFICE_ENCRYPTED when none
 * opens it).  Only internal errors are returned.
 */
enum lw_err	 officecrypt_scan_doc(struct scan_ctx *, const char *part,
		    struct cfb *);

/*
 * A compound file with a "Current User" stream: an encrypted PowerPoint
 * 97-2003 document is tried with the same passwords; one that opens
 * has its persist objects decrypted and its embedded objects (the VBA
 * project among them) analysed; OFFICE_ENCRYPTED when none opens it.
 */
enum lw_err	 officecrypt_scan_ppt(struct scan_ctx *, const char *part,
		    struct cfb *, unsigned depth);

/*
 * Fuzzing: the same with key standing for the derived secrets (no key
 * derivation, no verifier decides): the package is decrypted with the
 * key's first 32 bytes and analysed whatever comes out.
 */
enum lw_err	 officecrypt_scan_key(struct scan_ctx *, const char *part,
		    struct cfb *, unsigned depth,
		    const unsigned char key[OFFICECRYPT_KEY]);

#endif /* OFFICECRYPT_H */
