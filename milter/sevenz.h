/*
 * sevenz.h: encrypted 7z archives (7zAES), opened with the message's
 * password candidates under a key-derivation budget; the files of each
 * opened folder go through content_analyze() one level deeper.
 */
#ifndef SEVENZ_H
#define SEVENZ_H

#include "lurewall.h"

struct scan_ctx;

struct sevenz_result {
	bool		 encrypted;	/* some folder or the header is */
	bool		 header_closed;	/* encrypted header not opened */
	bool		 corrupt;	/* the 7z structure does not parse */
	unsigned	 nfolders;	/* encrypted folders */
	unsigned	 opened;	/* encrypted folders opened */
	unsigned	 closed;	/* encrypted folders left closed */
	unsigned	 unsupported;	/* folders with a coder we lack */
	unsigned	 skipped;	/* candidates the budget left untried */
	size_t		 pw_idx;	/* candidate that opened it */
	const char	*pw;		/* NULL: none did */
};

/* A key given directly (the fuzz target skips the derivation). */
struct sevenz_key {
	unsigned char	 key[32];
};

/*
 * Open the encrypted folders of a 7z (all folders when all is set, or
 * when the header itself is encrypted: libarchive then saw nothing).
 * Findings about the files come from content_analyze; the caller turns
 * res into ARCHIVE_* findings.  Only internal errors are returned.
 */
enum lw_err	 sevenz_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth,
		    bool all, const struct sevenz_key *given,
		    struct sevenz_result *res);

#endif /* SEVENZ_H */
