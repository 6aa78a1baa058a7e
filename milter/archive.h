/*
 * archive.h: zip archives (libzip, from memory).  Every entry goes back
 * through content_analyze() one level deeper.  Encrypted entries are
 * tried with the message's password candidates (ZipCrypto: CRC check;
 * WinZip AES: HMAC check).  All limits are enforced while inflating.
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "lurewall.h"

struct scan_ctx;

enum lw_err	 archive_scan(struct scan_ctx *, const char *path,
		    const char *name, const unsigned char *data, size_t len,
		    unsigned depth);

/*
 * What a zip's own central directory says, read without libzip and
 * without trusting it: used to tell an OOXML/ODF package from an
 * archive (filetype.c) and to refuse bombs before inflating anything.
 * At most max_entries directory records are walked.
 */
struct zip_peek {
	bool		 eocd;		/* an end-of-directory record found */
	bool		 cd_ok;		/* every walked record is sane */
	uint64_t	 nentries;	/* what the end record claims */
	uint64_t	 walked;	/* records walked */
	bool		 content_types;	/* [Content_Types].xml entry */
	bool		 mimetype;	/* mimetype entry (ODF) */
	bool		 encrypted;	/* some entry has the encrypted flag */
	bool		 overlap;	/* two entries share bytes (zip bomb) */
};

enum lw_err	 archive_peek(const unsigned char *data, size_t len,
		    uint64_t max_entries, bool check_overlap,
		    struct zip_peek *);

/*
 * An OOXML or ODF package is a document, not an archive: only its
 * entry names and encryption flags are looked at here (the Office
 * analyzers read the parts).  A package with encrypted entries is no
 * document Office wrote: it is scanned as an archive.
 */
enum lw_err	 archive_scan_package(struct scan_ctx *, const char *path,
		    const char *name, const unsigned char *data, size_t len,
		    unsigned depth);
/*
 * The same for a package its analyzer (ooxml.c) opened already with
 * libzip from data (zip_source_buffer_create, zip_open_from_source
 * read-only), so that it is opened once: za, or NULL when that open
 * failed.  The caller keeps za.
 */
struct zip;
enum lw_err	 archive_scan_package_zip(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth,
		    struct zip *za);

/*
 * Shared with container.c, so both kinds of archive count against the
 * same message budget and name limits alike.  archive_limit records
 * ARCHIVE_LIMIT once per message and limit ("archive_entries 1000
 * reached") and logs it; archive_charge charges n bytes to
 * ctx->inflated (false once archive_total_bytes is spent);
 * archive_join makes "<base>/<entry name>" with the name made
 * printable and cut (malloc'd; NULL on ENOMEM).
 */
void		 archive_limit(struct scan_ctx *, const char *path,
		    const char *limit, uint64_t value);
bool		 archive_charge(struct scan_ctx *, uint64_t n);
/*
 * A container met at depth (0: attached) is opened only below
 * limits.archive_depth: true, with ARCHIVE_LIMIT recorded, when not.
 */
bool		 archive_too_deep(struct scan_ctx *, const char *path,
		    unsigned depth);
/*
 * An entry cut by archive_entry_bytes or archive_ratio (limit names
 * which, value its setting): ARCHIVE_ENTRY_CUT, and ARCHIVE_PADDED when
 * what was read holds a run of 8 MiB of zeros.  The caller analyses
 * the part read: size limits protect the scanner, findings say what
 * was seen.
 */
void		 archive_entry_cut(struct scan_ctx *, const char *epath,
		    const char *limit, uint64_t value,
		    const unsigned char *buf, size_t n);
char		*archive_join(const char *base, const char *name);

/*
 * One entry walk for zips (libzip, and their local headers) and the
 * containers libarchive reads: what reading one entry came to.
 */
enum archive_rd {
	RD_OK,
	RD_LIMIT,		/* ARCHIVE_LIMIT recorded; stop the archive */
	RD_CUT,			/* cut by the entry or ratio limit: the part
				   read is analysed, the archive goes on */
	RD_TIMEOUT,
	RD_WRONGPW,		/* encrypted, and no candidate opens it */
	RD_CORRUPT,
	RD_UNSUPPORTED,		/* compression or encryption we lack */
	RD_ENOMEM
};

/*
 * Where archive_read takes one entry's bytes from: pull copies at most
 * n bytes to p and returns how many (0 at the end, -1 on an error).
 * archive_ratio cuts once out passes 1 MiB and out / in reaches the
 * limit (in == 0: at once).  archive_read adds what it reads to out;
 * pull may move in as it consumes input.
 */
struct archive_src {
	long long	(*pull)(struct archive_src *, unsigned char *p,
			    size_t n);
	void		*arg;
	uint64_t	 in;
	uint64_t	 out;
	uint64_t	 size;		/* declared size, 0: unknown; only
					   sizes the first buffer */
};

/*
 * Read one entry into a fresh buffer (*out, *outlen; the caller frees
 * it), never trusting a declared size (src->size only makes the first
 * buffer large enough, within the limits), under archive_entry_bytes,
 * archive_ratio (RD_CUT, *cut naming it), archive_total_bytes
 * (RD_LIMIT) and the scan's time.  RD_CORRUPT when pull fails.  What
 * was read before is in *out whatever the result, RD_ENOMEM aside.
 */
enum archive_rd	 archive_read(struct scan_ctx *, const char *epath,
		    struct archive_src *, unsigned char **out, size_t *outlen,
		    const char **cut);
/*
 * An entry about to be read: its part path (*epath, malloc'd) and its
 * cost charged to archive_total_bytes, so that millions of empty
 * entries end too.  LW_ELIMIT (ARCHIVE_LIMIT recorded) or LW_ENOMEM
 * leave *epath NULL.
 */
enum lw_err	 archive_entry_begin(struct scan_ctx *, const char *base,
		    const char *name, char **epath);
/*
 * What became of one entry: read (RD_OK, or RD_CUT with ARCHIVE_ENTRY_CUT
 * for cut) it goes through content_analyze() one level deeper below
 * depth; unreadable (RD_CORRUPT, RD_UNSUPPORTED) or not read at all,
 * its name and what was read still meet the FILE_* rules.  Frees buf.
 */
enum lw_err	 archive_entry_done(struct scan_ctx *, const char *epath,
		    const char *name, enum archive_rd, const char *cut,
		    unsigned char *buf, size_t len, unsigned depth);

#endif /* ARCHIVE_H */
