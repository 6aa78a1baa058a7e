/*
 * container.c: every archive and image that is not a zip, opened with
 * libarchive from memory: 7z, tar (plain, gzip, bzip2, xz, lzma, zstd,
 * compress), single gzip/bzip2/xz files, cab (and so OneNote .onepkg),
 * ISO 9660 (Joliet, Rock Ridge, zisofs), cpio, RAR4 and RAR5.
 *
 * Takes one file's bytes; every entry goes back through
 * content_analyze() one level deeper, as a zip entry does, with the
 * part path "<container path>/<entry name>" ("2/invoice.7z/a.xls").
 * Entry names meet the FILE_* name rules whether or not their data can
 * be read (encrypted, unsupported coder, corrupt).  A single compressed
 * file has one entry, named by the gzip header's FNAME or by the
 * container's name without its .gz/.bz2/.xz suffix.
 *
 * Findings: ARCHIVE_CORRUPT when libarchive cannot read the container
 * or an entry (its error in the detail); ARCHIVE_ENCRYPTED and
 * ARCHIVE_PASSWORD_UNKNOWN for encrypted entries (RAR5 file
 * encryption, which libarchive 3.6 does not report, is read by rar5.c),
 * or for a container whose headers are encrypted (no names then);
 * ARCHIVE_UNSUPPORTED for a disk image libarchive does not read
 * (UDF-only, VHD): it stays FILE_DISK_IMAGE with its names unknown.
 * Never silence.
 *
 * Bounds, enforced while reading (never from declared sizes): the
 * archive_depth, archive_entries, archive_entry_bytes,
 * archive_total_bytes (ctx->inflated, shared with zips, as is the cost
 * of each entry) and archive_ratio limits (output of the whole
 * container over its size, once past 1 MiB), each one
 * ARCHIVE_LIMIT per message; the scan's time budget is polled per
 * chunk.  An entry cut by archive_entry_bytes or the ratio is still
 * analysed on the part that was read (an Office header and its VBA sit
 * at the start), then the container stops.  No external programs:
 * only filters built into libarchive are enabled.
 *
 * Ignores: symlinks, hard links and device entries (no data), archive
 * comments, multi-volume sets (the first volume is read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"
#include "container.h"
#include "content.h"
#include "filetype.h"
#include "log.h"
#include "pwcand.h"
#include "rar5.h"
#include "sevenz.h"
#include "analyzer.h"

#define CT_NAME_MAX	1024
#define SZ_SIG		"7z\xbc\xaf\x27\x1c"

static bool
has_at(const unsigned char *d, size_t len, size_t off, const void *sig,
    size_t n)
{
	return len >= n && off <= len - n && memcmp(d + off, sig, n) == 0;
}

/* Compressed single-file signatures the raw reader may open. */
static bool
is_compressed(const unsigned char *d, size_t len)
{
	return has_at(d, len, 0, "\x1f\x8b", 2) ||
	    (has_at(d, len, 0, "BZh", 3) && len > 3 && d[3] >= '1' &&
	    d[3] <= '9') ||
	    has_at(d, len, 0, "\xfd" "7zXZ\0", 6) ||
	    has_at(d, len, 0, "\x28\xb5\x2f\xfd", 4) ||
	    has_at(d, len, 0, "\x1f\x9d", 2) ||
	    has_at(d, len, 0, "LZIP", 4);
}

bool
container_sniff(const unsigned char *d, size_t len)
{
	return is_compressed(d, len) ||
	    has_at(d, len, 0, "MSCF\0\0\0\0", 8) ||
	    has_at(d, len, 257, "ustar", 5) ||
	    has_at(d, len, 0, "070701", 6) || has_at(d, len, 0, "070707", 6) ||
	    has_at(d, len, 0, SZ_SIG, 6) ||
	    has_at(d, len, 0, "Rar!\x1a\x07", 6);
}

/*
 * A cab's folder and data tables, checked before libarchive sees them:
 * libarchive 3.6.2 reads past a NULL buffer when a stored (uncompressed)
 * data block claims more output than it holds.  Every CFDATA block of
 * every folder must lie inside the file, claim at most 32 KiB + 6 KiB
 * of output, and a stored block must hold what it claims.  NULL when
 * sane, else what is wrong.
 */
static const char *
cab_insane(const unsigned char *d, size_t len)
{
	size_t		 p = 36, fo, dp, i, k;
	unsigned	 nfold, flags, rf = 0, rd = 0, ndata, comp;
	unsigned	 cb, cu;

	if (len < 36)
		return "cab header cut";
	nfold = le16(d + 26);
	flags = le16(d + 30);
	if (flags & 0x0004) {
		if (len - p < 4)
			return "cab reserve cut";
		p += 4 + le16(d + 36);
		rf = d[38];
		rd = d[39];
	}
	for (k = 0; k < 4; k++) {
		if (!(flags & (k < 2 ? 0x0001 : 0x0002)))
			continue;
		while (p < len && d[p] != '\0')
			p++;
		p++;
	}
	if (p > len)
		return "cab header cut";
	for (i = 0; i < nfold; i++) {
		fo = p + i * (8 + rf);
		if (fo > len || len - fo < 8)
			return "cab folder table cut";
		dp = le32(d + fo);
		ndata = le16(d + fo + 4);
		comp = le16(d + fo + 6) & 0x000f;
		for (k = 0; k < ndata; k++) {
			if (dp > len || len - dp < 8 + (size_t)rd)
				return "cab data block outside the file";
			cb = le16(d + dp + 4);
			cu = le16(d + dp + 6);
			if (cu > 0x8000 + 6144)
				return "cab data block too large";
			if (comp == 0 && cb != cu)
				return "stored cab data block of the wrong size";
			dp += 8 + rd;
			if (cb > len - dp)
				return "cab data block outside the file";
			dp += cb;
		}
	}
	return NULL;
}

/* One walk over one container. */
struct ct {
	struct scan_ctx	*ctx;
	const char	*path;		/* the container's own path */
	const char	*name;		/* its file name, may be NULL */
	const unsigned char *data;
	size_t		 len;
	unsigned	 depth;
	bool		 raw;		/* a single compressed file */
	struct archive_src src;		/* src.out: bytes read from it */
	unsigned	 nenc, nunknown;
	const char	*cut;		/* limit that cut the last entry */
	bool		 hdr_enc;	/* headers encrypted: no names */
	bool		 sz_list;	/* a 7z libarchive cannot list */
	char		**rar5_enc;	/* encrypted RAR5 files (rar5.c) */
	size_t		 nrar5_enc;
	char		 la_err[128];	/* and why */
	bool		 corrupt;
};

static void
ct_corrupt(struct ct *c, const char *path, const char *what,
    struct archive *a)
{
	const char	*err = a != NULL ? archive_error_string(a) : NULL;

	if (c->corrupt)
		return;
	c->corrupt = true;
	(void)findings_add(c->ctx->fs, "ARCHIVE_CORRUPT", path,
	    "libarchive: %s%s%s", what, err != NULL ? ": " : "",
	    err != NULL ? err : "");
}

enum ct_mode {
	CT_ARCHIVE,		/* every archive format */
	CT_RAW,			/* one compressed file */
	CT_IMAGE		/* a disk image: ISO 9660 only */
};

/* Built-in decoders only: no *_program() fallback is enabled. */
static int (*const ct_filters[])(struct archive *) = {
	archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
	archive_read_support_filter_xz, archive_read_support_filter_lzma,
	archive_read_support_filter_lzip, archive_read_support_filter_zstd,
	archive_read_support_filter_compress
};
static int (*const ct_formats[])(struct archive *) = {
	archive_read_support_format_7zip, archive_read_support_format_tar,
	archive_read_support_format_cab, archive_read_support_format_iso9660,
	archive_read_support_format_cpio, archive_read_support_format_rar,
	archive_read_support_format_rar5
};

/* *ok says whether a format was recognised and the open went well. */
static struct archive *
ct_open(const unsigned char *data, size_t len, enum ct_mode mode, bool *ok)
{
	struct archive	*a;
	size_t		 i;

	if ((a = archive_read_new()) == NULL)
		return NULL;
	for (i = 0; i < sizeof(ct_filters) / sizeof(ct_filters[0]); i++)
		(void)ct_filters[i](a);
	if (mode == CT_ARCHIVE)
		for (i = 0; i < sizeof(ct_formats) / sizeof(ct_formats[0]); i++)
			(void)ct_formats[i](a);
	else if (mode == CT_RAW)
		(void)archive_read_support_format_raw(a);
	else	/* tar would read an image's zero blocks as an empty tar. */
		(void)archive_read_support_format_iso9660(a);
	/* On failure the caller reads the error from a and frees it. */
	*ok = archive_read_open_memory(a, data, len) == ARCHIVE_OK;
	return a;
}

/* The name inside a gzip header (FNAME), or NULL. */
static char *
gzip_fname(const unsigned char *d, size_t len)
{
	size_t	p = 10, n;

	if (len < 10 || d[0] != 0x1f || d[1] != 0x8b || !(d[3] & 0x08))
		return NULL;
	if (d[3] & 0x04) {		/* FEXTRA */
		if (len - p < 2)
			return NULL;
		n = le16(d + p);
		if (n > len - p - 2)
			return NULL;
		p += 2 + n;
	}
	for (n = 0; p + n < len && d[p + n] != '\0' && n < CT_NAME_MAX; n++)
		;
	if (n == 0 || p + n >= len || d[p + n] != '\0')
		return NULL;
	return lw_strndup((const char *)d + p, n);
}

/* A single compressed file: its name without the compression suffix. */
static char *
raw_name(const struct ct *c)
{
	static const char *const sfx[] = { ".gz", ".gzip", ".bz2", ".xz",
	    ".zst", ".lz", ".z", ".tgz" };
	const char	*n = c->name;
	char		*s;
	size_t		 i, l, k;

	if ((s = gzip_fname(c->data, c->len)) != NULL)
		return s;
	if (n == NULL || *n == '\0')
		return lw_strdup("data");
	l = strlen(n);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		k = strlen(sfx[i]);
		if (l > k && strcasecmp(n + l - k, sfx[i]) == 0) {
			if (strcmp(sfx[i], ".tgz") == 0) {
				char *t;

				if (lw_asprintf(&t, "%.*s.tar", (int)(l - k),
				    n) != LW_OK)
					return NULL;
				return t;
			}
			return lw_strndup(n, l - k);
		}
	}
	return lw_strdup("data");
}

/* archive_src pull for the current entry of a libarchive reader. */
static long long
la_pull(struct archive_src *src, unsigned char *p, size_t n)
{
	la_ssize_t	r = archive_read_data(src->arg, p, n);

	return r < 0 ? -1 : r;
}

static char *
entry_name(struct ct *c, struct archive_entry *ae)
{
	const char	*n;

	if (c->raw)
		return raw_name(c);
	if ((n = archive_entry_pathname_utf8(ae)) == NULL &&
	    (n = archive_entry_pathname(ae)) == NULL)
		return lw_strdup("");
	return lw_strndup(n, strlen(n) > CT_NAME_MAX ? CT_NAME_MAX :
	    strlen(n));
}

/* The last path component: what FILE_* name rules look at. */
static const char *
base_name(const char *n)
{
	const char	*s = strrchr(n, '/');

	return s != NULL ? s + 1 : n;
}

/* libarchive 3.6 hands out an encrypted RAR5 file's ciphertext. */
static bool
rar5_listed(const struct ct *c, const char *name)
{
	char	**v = c->rar5_enc, **end;

	if (v == NULL)
		return false;
	end = v + c->nrar5_enc;
	while (v < end && strcmp(*v, name) != 0)
		v++;
	return v < end;
}

static enum lw_err
walk(struct ct *c, struct archive *a)
{
	struct scan_ctx		*ctx = c->ctx;
	struct archive_entry	*ae;
	unsigned char		*buf;
	size_t			 blen;
	unsigned		 count = 0;
	char			*name, *epath;
	enum lw_err		 e = LW_OK;
	enum archive_rd		 r;
	bool			 failed;
	int			 ar;

	for (;;) {
		if (scan_expired(ctx))
			break;
		ar = archive_read_next_header(a, &ae);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar == ARCHIVE_FATAL) {
			if (archive_read_has_encrypted_entries(a) > 0 ||
			    (archive_error_string(a) != NULL &&
			    strstr(archive_error_string(a), "ncrypt") !=
			    NULL)) {
				/* Headers encrypted: no names to check. */
				c->hdr_enc = true;
				c->nenc++;
				c->nunknown++;
			} else if (count == 0 && has_at(c->data, c->len, 0,
			    SZ_SIG, 6)) {
				/* Encrypted BCJ2, say: sevenz.c lists it. */
				c->sz_list = true;
				snprintf(c->la_err, sizeof(c->la_err), "%s",
				    archive_error_string(a) != NULL ?
				    archive_error_string(a) : "?");
			} else
				ct_corrupt(c, c->path, "cannot read the "
				    "directory", a);
			break;
		}
		if (count++ >= ctx->lim->archive_entries) {
			archive_limit(ctx, c->path, "archive_entries",
			    ctx->lim->archive_entries);
			break;
		}
		if (archive_entry_filetype(ae) == AE_IFDIR)
			continue;
		if ((name = entry_name(c, ae)) == NULL)
			return LW_ENOMEM;
		if ((e = archive_entry_begin(ctx, c->path, name, &epath)) !=
		    LW_OK) {
			free(name);
			return e == LW_ELIMIT ? LW_OK : e;
		}
		if (archive_entry_filetype(ae) != AE_IFREG &&
		    archive_entry_filetype(ae) != 0) {
			filetype_check_name(ctx, epath, base_name(name));
			free(epath);
			free(name);
			continue;
		}
		buf = NULL;
		blen = 0;
		if (archive_entry_is_data_encrypted(ae) ||
		    rar5_listed(c, name)) {
			c->nenc++;
			r = RD_WRONGPW;
		} else
			r = archive_read(ctx, epath, &c->src, &buf, &blen,
			    &c->cut);
		failed = r == RD_CORRUPT;
		/* 7z AES shows up as bad data on old libarchive too. */
		if (failed && archive_read_has_encrypted_entries(a) > 0) {
			c->nenc++;
			r = RD_WRONGPW;
		} else if (failed)
			ct_corrupt(c, epath, "entry data", a);
		if (r == RD_WRONGPW)
			c->nunknown++;
		e = archive_entry_done(ctx, epath, base_name(name), r, c->cut,
		    buf, blen, c->depth);
		free(epath);
		free(name);
		/* The ratio is the container's: nothing more would fit. */
		if (e != LW_OK || r == RD_LIMIT || r == RD_TIMEOUT ||
		    (r == RD_CUT && strcmp(c->cut, "archive_ratio") == 0))
			break;
		/* A failed data read leaves libarchive at no header. */
		if (failed && c->raw)
			break;
	}
	return e;
}

static bool
is_disk_image(const unsigned char *d, size_t len)
{
	return has_at(d, len, 0x8001, "CD001", 5) ||
	    has_at(d, len, 0x8801, "CD001", 5) ||
	    has_at(d, len, 0x9001, "CD001", 5) ||
	    has_at(d, len, 0x8001, "BEA01", 5) ||
	    has_at(d, len, 0, "conectix", 8) ||
	    has_at(d, len, 0, "vhdxfile", 8) ||
	    (len >= 512 && has_at(d, len, len - 512, "conectix", 8)) ||
	    (len >= 512 && has_at(d, len, len - 512, "koly", 4));
}

/*
 * libarchive does not decrypt 7z: sevenz.c tries the password
 * candidates on the encrypted folders (on every folder when the
 * headers are encrypted too, or when libarchive could not list the
 * archive at all, since libarchive then read nothing).
 */
static enum lw_err
sevenz_open(struct ct *c)
{
	struct scan_ctx		*ctx = c->ctx;
	struct sevenz_result	 r;
	unsigned		 unknown;
	char			*mask;
	enum lw_err		 e;

	if ((e = sevenz_scan(ctx, c->path, c->data, c->len, c->depth,
	    c->hdr_enc || c->sz_list, NULL, &r)) != LW_OK)
		return e;
	if (c->sz_list && r.corrupt) {
		c->corrupt = true;
		(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", c->path,
		    "libarchive: cannot read the directory: %s", c->la_err);
	} else if (c->sz_list && r.encrypted)
		(void)findings_add(ctx->fs, "ARCHIVE_ENCRYPTED", c->path,
		    "%u encrypted 7z folders (listed here: libarchive "
		    "cannot)", r.nfolders);
	if (r.pw != NULL && r.opened > 0) {
		if ((mask = pwcand_mask(r.pw)) == NULL)
			return LW_ENOMEM;
		(void)findings_add(ctx->fs, "ARCHIVE_PASSWORD_IN_MESSAGE",
		    c->path, "opened with candidate %zu (%s)", r.pw_idx + 1,
		    mask);
		scan_log(ctx, LOG_INFO, "7z %s opened with password "
		    "candidate %zu %s", c->path, r.pw_idx + 1, mask);
		free(mask);
	}
	if (r.corrupt && !c->corrupt) {
		c->corrupt = true;
		(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", c->path, "7z "
		    "header or AES properties do not parse (or NumCyclesPower "
		    "above 24)");
	}
	if (r.unsupported > 0)
		(void)findings_add(ctx->fs, "ARCHIVE_UNSUPPORTED", c->path,
		    "%u encrypted 7z folders use a coder not supported here "
		    "(PPMd, BCJ2, ARM64 ...)", r.unsupported);
	unknown = r.closed + (r.header_closed ? 1 : 0);
	if (unknown == 0 && r.opened == 0 && r.unsupported == 0 && c->nenc > 0)
		unknown = c->nunknown > 0 ? c->nunknown : 1;
	if (unknown > 0) {
		(void)findings_add(ctx->fs, "ARCHIVE_PASSWORD_UNKNOWN",
		    c->path, "%u encrypted 7z folders or headers not opened "
		    "(%zu password candidates, %u not tried: key derivation "
		    "budget)", unknown, ctx->pw != NULL ? ctx->pw->n :
		    (size_t)0, r.skipped);
		scan_log(ctx, LOG_INFO, "7z %s: %u encrypted folders or "
		    "headers not opened", c->path, unknown);
	}
	return LW_OK;
}

enum lw_err
container_scan(struct scan_ctx *ctx, const char *path, const char *name,
    const unsigned char *data, size_t len, unsigned depth)
{
	struct ct	 c;
	struct archive	*a;
	enum lw_err	 e = LW_OK;
	const char	*err;
	bool		 ok, image;

	if (path == NULL)
		path = "";
	if (archive_too_deep(ctx, path, depth))
		return LW_OK;
	c = (struct ct){ .ctx = ctx, .path = path, .name = name, .data = data,
	    .len = len, .depth = depth, .src = { .pull = la_pull, .in = len } };
	if (has_at(data, len, 0, "MSCF\0\0\0\0", 8) &&
	    (err = cab_insane(data, len)) != NULL) {
		(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", path, "%s", err);
		return LW_OK;
	}
	image = is_disk_image(data, len);
	if ((a = ct_open(data, len, image ? CT_IMAGE : CT_ARCHIVE,
	    &ok)) == NULL)
		return LW_ENOMEM;
	if (!ok && !image && is_compressed(data, len)) {
		/* Not an archive inside: one compressed file. */
		archive_read_free(a);
		if ((a = ct_open(data, len, CT_RAW, &ok)) == NULL)
			return LW_ENOMEM;
		c.raw = true;
	}
	if (!ok) {
		err = archive_error_string(a);
		if (image) {
			(void)findings_add(ctx->fs, "ARCHIVE_UNSUPPORTED", path,
			    "disk image not readable here (UDF-only, VHD, "
			    "...): names unknown");
			scan_log(ctx, LOG_INFO, "container %s: disk image "
			    "not opened: %s", path, err != NULL ? err : "?");
		} else
			(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", path,
			    "libarchive: %s", err != NULL ? err :
			    "not readable");
		archive_read_free(a);
		return LW_OK;
	}
	c.src.arg = a;
	if ((e = rar5_encrypted(data, len, ctx->lim->archive_entries,
	    &c.rar5_enc, &c.nrar5_enc)) == LW_OK)
		e = walk(&c, a);
	archive_read_free(a);
	lw_strv_free(c.rar5_enc, c.nrar5_enc);
	if (e == LW_OK && c.nenc > 0)
		(void)findings_add(ctx->fs, "ARCHIVE_ENCRYPTED", path,
		    "%u encrypted entries%s", c.nenc, c.hdr_enc ?
		    " (headers encrypted)" : "");
	if (e == LW_OK && (c.nenc > 0 || c.sz_list) &&
	    has_at(data, len, 0, SZ_SIG, 6))
		return sevenz_open(&c);
	if (e == LW_OK && c.nunknown > 0) {
		(void)findings_add(ctx->fs, "ARCHIVE_PASSWORD_UNKNOWN", path,
		    "%u encrypted entries or headers not opened", c.nunknown);
		scan_log(ctx, LOG_INFO, "container %s: %u encrypted entries "
		    "not opened", path, c.nunknown);
	}
	return e;
}
