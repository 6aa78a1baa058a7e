/*
 * archive.c: zip archives, opened with libzip from memory.
 *
 * Takes a zip's bytes; every entry goes back through content_analyze()
 * one level deeper, so a zip in a zip is walked the same way and every
 * entry meets the same file rules as an attachment.  Entry part paths
 * are "<archive path>/<entry name>" with the entry name made printable
 * ("2/invoice.zip/doc.xls": scan.c names a MIME attachment "<part>/<name>").
 *
 * Encryption (ZipCrypto, WinZip AES): the message's password candidates
 * are tried in order.  A candidate is right only when the whole entry
 * decrypts and passes its integrity check; we decrypt both kinds
 * ourselves and read the data through zipdec.c: ZipCrypto (zipcrypto.c,
 * see zc_read) by its CRC, WinZip AES (zipaes.c, see aes_read) by the
 * HMAC, then the CRC when AE-1 has one.  So a wrong password that
 * happens to pass the 1-byte (ZipCrypto) or 2-byte (AES) header check is
 * still refused; an AES entry whose HMAC fails every candidate that
 * passes its verifier is ARCHIVE_CORRUPT.  The right password is tried
 * first on the other entries.  Entries that stay closed have their
 * names checked (names are not encrypted).  A WinZip AES candidate's
 * key derivation is charged to the message's budget (LW_KDF_*, shared
 * with 7z and encrypted Office); candidates it leaves out are logged.
 *
 * Bounds, all enforced while inflating: limits.archive_depth,
 * archive_entries (checked on the directory before libzip allocates
 * it), archive_entry_bytes, archive_ratio (once an entry passes
 * ARC_RATIO_FLOOR), archive_total_bytes (ctx->inflated, the whole
 * message; every entry also costs ARC_ENTRY_COST so that millions of
 * empty entries end too).  Entries whose data overlap (the
 * overlapping-entry bomb) are refused before inflating.  Each limit is
 * one ARCHIVE_LIMIT per message, its detail naming the limit.
 *
 * Zips that lie: when libzip refuses the zip (a central directory whose
 * sizes or offsets are wrong, prepended bytes) or fails on one entry,
 * the entries are read from their local headers as extractors do
 * (local_read: deflate to the end of its stream, stored data for the
 * local size or to the next signature), under the same bounds, and
 * analysed; ARCHIVE_CORRUPT is still recorded.
 *
 * Ignores: archive comments, extra fields, multi-disk archives (libzip
 * refuses them: ARCHIVE_CORRUPT), compression methods libzip lacks
 * (WinZip AES entries excepted: zipdec reads LZMA too)
 * (names checked only).
 */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <zip.h>
#include <zlib.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"
#include "content.h"
#include "filetype.h"
#include "log.h"
#include "metrics.h"
#include "pwcand.h"
#include "zipaes.h"
#include "zipcrypto.h"
#include "zipdec.h"
#include "analyzer.h"

#define ARC_CHUNK	(64U << 10)
#define ARC_RATIO_FLOOR	(1U << 20)
#define ARC_ENTRY_COST	512
#define ARC_NAME_MAX	200
#define ARC_PAD_MIN	(8U << 20)	/* zeros that make ARCHIVE_PADDED */

/* One walk over one archive. */
struct arc {
	struct scan_ctx	*ctx;
	const char	*path;		/* the archive's own path */
	const unsigned char *data;	/* the zip's bytes */
	size_t		 len;
	zip_t		*za;
	unsigned	 depth;
	const char	*pw;		/* candidate that opened an entry */
	size_t		 pw_idx;
	unsigned	 nenc, nunknown, nopened;
	uint16_t	 method;	/* encryption method seen */
	uint64_t	 kdf_ms;	/* WinZip AES key derivation */
	unsigned	 kdf_skipped;	/* candidates the budget left out */
	bool		 corrupt;	/* ARCHIVE_CORRUPT recorded */
	bool		 mac_bad;	/* an AES candidate passed the verifier,
					   not the HMAC (this entry) */
	const char	*cut;		/* limit that cut the last entry read */
};

/*
 * ARCHIVE_LIMIT once per message and limit: a 42.zip would otherwise
 * add one finding per inner archive.
 */
void
archive_limit(struct scan_ctx *ctx, const char *path, const char *limit,
    uint64_t value)
{
	size_t	i, n = strlen(limit);

	for (i = 0; i < ctx->fs->n; i++)
		if (strcmp(ctx->fs->v[i].rule, "ARCHIVE_LIMIT") == 0 &&
		    strncmp(ctx->fs->v[i].detail, limit, n) == 0 &&
		    ctx->fs->v[i].detail[n] == ' ')
			return;
	(void)findings_add(ctx->fs, "ARCHIVE_LIMIT", path, "%s %llu reached",
	    limit, (unsigned long long)value);
	scan_log(ctx, LOG_INFO, "archive %s: %s %llu reached", path, limit,
	    (unsigned long long)value);
}

static void
arc_corrupt(struct arc *a, const char *path, const char *what)
{
	if (a->corrupt)
		return;
	a->corrupt = true;
	(void)findings_add(a->ctx->fs, "ARCHIVE_CORRUPT", path, "%s", what);
}

static enum archive_rd
rd_of_error(int code, bool with_pw)
{
	switch (code) {
	case ZIP_ER_MEMORY:
		return RD_ENOMEM;
	case ZIP_ER_WRONGPASSWD:
	case ZIP_ER_NOPASSWD:
		return RD_WRONGPW;
	case ZIP_ER_COMPNOTSUPP:
	case ZIP_ER_ENCRNOTSUPP:
		return RD_UNSUPPORTED;
	default:
		/* Garbage after a lucky header check fails here. */
		return with_pw ? RD_WRONGPW : RD_CORRUPT;
	}
}

void
archive_entry_cut(struct scan_ctx *ctx, const char *epath,
    const char *limit, uint64_t value, const unsigned char *buf, size_t n)
{
	size_t	i, run = 0, best = 0;

	(void)findings_add(ctx->fs, "ARCHIVE_ENTRY_CUT", epath, "%s %llu "
	    "reached: the first %zu bytes were analysed", limit,
	    (unsigned long long)value, n);
	scan_log(ctx, LOG_INFO, "archive entry %s cut at %s %llu", epath,
	    limit, (unsigned long long)value);
	for (i = 0; i < n; i++) {
		if (buf[i] != 0) {
			run = 0;
			continue;
		}
		if (++run > best)
			best = run;
	}
	if (best >= ARC_PAD_MIN)
		(void)findings_add(ctx->fs, "ARCHIVE_PADDED", epath, "a run of "
		    "%zu MiB of zeros (padding to pass size limits)",
		    best >> 20);
}

bool
archive_too_deep(struct scan_ctx *ctx, const char *path, unsigned depth)
{
	if (depth < ctx->lim->archive_depth)
		return false;
	archive_limit(ctx, path, "archive_depth", ctx->lim->archive_depth);
	return true;
}

bool
archive_charge(struct scan_ctx *ctx, uint64_t n)
{
	if (n > ctx->lim->archive_total_bytes - ctx->inflated ||
	    ctx->inflated > ctx->lim->archive_total_bytes) {
		ctx->inflated = ctx->lim->archive_total_bytes;
		return false;
	}
	ctx->inflated += n;
	return true;
}

/*
 * The first buffer of archive_read: room for the declared size and a
 * chunk, so that a true size is read without a copy as the buffer
 * grows.  A size is believed only as far as the entry's limits would
 * let real data go (archive_entry_bytes, and archive_ratio times its
 * compressed bytes past ARC_RATIO_FLOOR): a lie costs address space
 * the reader could have filled anyway, never a limit.
 */
static size_t
first_cap(const struct archive_src *src, const struct limits *lim)
{
	uint64_t	max = lim->archive_entry_bytes;

	if (src->in > 0 && src->in < UINT64_MAX / lim->archive_ratio &&
	    src->in * lim->archive_ratio < max)
		max = src->in * lim->archive_ratio;
	if (max < ARC_RATIO_FLOOR)
		max = ARC_RATIO_FLOOR;
	if (src->size == 0 || src->size > max || src->size > SIZE_MAX -
	    ARC_CHUNK)
		return ARC_CHUNK;
	return (size_t)src->size + ARC_CHUNK;
}

enum archive_rd
archive_read(struct scan_ctx *ctx, const char *epath,
    struct archive_src *src, unsigned char **out, size_t *outlen,
    const char **cut)
{
	const struct limits	*lim = ctx->lim;
	unsigned char		*buf = NULL, *nb;
	size_t			 used = 0, cap = 0, want, ncap;
	long long		 n;
	enum archive_rd		 r = RD_OK;

	*cut = NULL;
	for (;;) {
		if (scan_expired(ctx)) {
			r = RD_TIMEOUT;
			break;
		}
		if (used >= lim->archive_entry_bytes) {
			*cut = "archive_entry_bytes";
			break;
		}
		if (ctx->inflated >= lim->archive_total_bytes) {
			archive_limit(ctx, epath, "archive_total_bytes",
			    lim->archive_total_bytes);
			r = RD_LIMIT;
			break;
		}
		if (src->out > ARC_RATIO_FLOOR && (src->in == 0 ||
		    src->out / src->in >= lim->archive_ratio)) {
			*cut = "archive_ratio";
			break;
		}
		want = ARC_CHUNK;
		if (want > lim->archive_entry_bytes - used)
			want = lim->archive_entry_bytes - used;
		if (want > lim->archive_total_bytes - ctx->inflated)
			want = lim->archive_total_bytes - ctx->inflated;
		if (want > cap - used) {
			ncap = cap != 0 ? cap : first_cap(src, lim);
			while (ncap - used < want)
				ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX :
				    ncap * 2;
			if (ncap > lim->archive_entry_bytes)
				ncap = lim->archive_entry_bytes;
			if ((nb = realloc(buf, ncap)) == NULL) {
				free(buf);
				buf = NULL;
				used = 0;
				r = RD_ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		if ((n = src->pull(src, buf + used, want)) <= 0) {
			if (n < 0)
				r = RD_CORRUPT;
			break;
		}
		used += (size_t)n;
		src->out += (uint64_t)n;
		ctx->inflated += (uint64_t)n;
	}
	*out = buf;
	*outlen = used;
	return r == RD_OK && *cut != NULL ? RD_CUT : r;
}

enum lw_err
archive_entry_begin(struct scan_ctx *ctx, const char *base,
    const char *name, char **epath)
{
	if ((*epath = archive_join(base, name)) == NULL)
		return LW_ENOMEM;
	if (archive_charge(ctx, ARC_ENTRY_COST))
		return LW_OK;
	archive_limit(ctx, *epath, "archive_total_bytes",
	    ctx->lim->archive_total_bytes);
	free(*epath);
	*epath = NULL;
	return LW_ELIMIT;
}

enum lw_err
archive_entry_done(struct scan_ctx *ctx, const char *epath,
    const char *name, enum archive_rd r, const char *cut,
    unsigned char *buf, size_t len, unsigned depth)
{
	enum lw_err	e = LW_OK;

	switch (r) {
	case RD_CUT:
		archive_entry_cut(ctx, epath, cut, strcmp(cut,
		    "archive_ratio") == 0 ? ctx->lim->archive_ratio :
		    ctx->lim->archive_entry_bytes, buf, len);
		/* FALLTHROUGH */
	case RD_OK:
		e = content_analyze(ctx, epath, name, NULL, buf, len,
		    depth + 1);
		break;
	case RD_CORRUPT:
	case RD_UNSUPPORTED:
		filetype_check_unreadable(ctx, epath, name, buf, len);
		break;
	case RD_ENOMEM:
		e = LW_ENOMEM;
		break;
	case RD_LIMIT:
	case RD_TIMEOUT:
	case RD_WRONGPW:
		filetype_check_name(ctx, epath, name);
		break;
	}
	free(buf);
	return e;
}

static long long
zip_pull(struct archive_src *src, unsigned char *p, size_t n)
{
	return zip_fread(src->arg, p, n);
}

/*
 * Read entry i (with pw, or none) into a fresh buffer: archive_read.
 * On RD_OK and RD_CUT *out holds *outlen bytes (caller frees).
 */
static enum archive_rd
read_entry(struct arc *a, zip_uint64_t i, const zip_stat_t *st,
    const char *pw, bool zero_crc_ok, const char *epath, unsigned char **out,
    size_t *outlen)
{
	struct archive_src	 src = { .pull = zip_pull };
	zip_file_t		*zf;
	enum archive_rd		 r;
	int			 code;

	*out = NULL;
	*outlen = 0;
	a->cut = NULL;
	if (pw != NULL)
		zf = zip_fopen_index_encrypted(a->za, i, 0, pw);
	else
		zf = zip_fopen_index(a->za, i, 0);
	if (zf == NULL) {
		r = rd_of_error(zip_error_code_zip(zip_get_error(a->za)),
		    pw != NULL);
		zip_error_clear(a->za);
		return r;
	}
	src.arg = zf;
	src.in = (st->valid & ZIP_STAT_COMP_SIZE) ? st->comp_size : 0;
	src.size = (st->valid & ZIP_STAT_SIZE) ? st->size : 0;
	r = archive_read(a->ctx, epath, &src, out, outlen, &a->cut);
	if (r == RD_CORRUPT) {
		code = zip_error_code_zip(zip_file_get_error(zf));
		r = zero_crc_ok && code == ZIP_ER_CRC ? RD_OK :
		    rd_of_error(code, pw != NULL);
	}
	(void)zip_fclose(zf);
	if (r != RD_OK && r != RD_CUT) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return r;
}

/* Read exactly n raw bytes; false on a short read or an error. */
static bool
read_raw(zip_file_t *zf, unsigned char *p, size_t n)
{
	zip_int64_t	r;

	while (n > 0) {
		if ((r = zip_fread(zf, p, n)) <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static long long
zipdec_pull(struct archive_src *src, unsigned char *p, size_t n)
{
	return zipdec_fread(src->arg, p, n);
}

/*
 * An entry decrypted here, buf[0..n) (the caller's), read through
 * zipdec under the archive bounds: RD_CORRUPT when it does not
 * decompress or fails the checks at its end (its CRC unless a declared
 * 0, a stored entry's size).
 */
static enum archive_rd
plain_read(struct arc *a, const zip_stat_t *st, const unsigned char *buf,
    size_t n, const char *epath, unsigned char **out, size_t *outlen)
{
	struct archive_src	 src = { .pull = zipdec_pull };
	struct zipdec_entry	 de;
	enum archive_rd		 r;

	de.method = st->comp_method;
	de.size = st->size;
	de.size_valid = (st->valid & ZIP_STAT_SIZE) != 0;
	de.crc = (st->valid & ZIP_STAT_CRC) ? st->crc : 0;
	if ((src.arg = zipdec_open(&de, buf, n,
	    a->ctx->lim->archive_entry_bytes)) == NULL)
		return RD_ENOMEM;
	src.in = st->comp_size;
	src.size = de.size_valid ? de.size : 0;
	a->cut = NULL;
	r = archive_read(a->ctx, epath, &src, out, outlen, &a->cut);
	zipdec_close(src.arg);
	if (r != RD_OK && r != RD_CUT) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return r;
}

/*
 * WinZip AES, decrypted here rather than by libzip, which would derive
 * the key and compute the HMAC a second time (and, before 1.8, fail
 * AE-2's zero CRC): the key material is derived once (zipaes_derive,
 * the verifier's PBKDF2 block first), the HMAC-SHA1 of the encrypted
 * data checked once, then the data is decrypted in place and
 * archive_read reads it through zipdec (decompressed, CRC checked at
 * its end) under the archive bounds.  A method zipdec lacks goes to
 * libzip after the check.  Only the key derivation is charged to
 * LW_KDF_*.  Reads at most the entry's compressed size, which must lie
 * within the zip.
 */
static enum archive_rd
aes_read(struct arc *a, zip_uint64_t i, const zip_stat_t *st,
    const char *pw, const char *epath, unsigned char **out, size_t *outlen)
{
	struct zipaes_key	 k;
	unsigned char		 hdr[16 + ZIPAES_PV], *buf = NULL;
	size_t			 key, n;
	uint64_t		 t0;
	zip_file_t		*zf;
	enum zipaes		 z;
	enum archive_rd		 r = RD_CORRUPT;

	key = st->encryption_method == ZIP_EM_AES_128 ? 16 :
	    st->encryption_method == ZIP_EM_AES_192 ? 24 : 32;
	if (!(st->valid & ZIP_STAT_COMP_SIZE) || st->comp_size > a->len ||
	    st->comp_size < key / 2 + ZIPAES_PV + ZIPAES_CODE)
		return RD_CORRUPT;
	if ((zf = zip_fopen_index(a->za, i, ZIP_FL_ENCRYPTED)) == NULL) {
		zip_error_clear(a->za);
		return RD_CORRUPT;
	}
	if (!read_raw(zf, hdr, key / 2 + ZIPAES_PV))
		goto out;
	t0 = lw_cpu_ms();
	z = zipaes_derive(pw, strlen(pw), hdr, hdr + key / 2, key, &k);
	a->kdf_ms += lw_cpu_ms() - t0;
	a->ctx->kdf_ms += lw_cpu_ms() - t0;
	if (z != ZIPAES_OK) {
		r = z == ZIPAES_WRONG ? RD_WRONGPW : RD_ENOMEM;
		goto out;
	}
	n = (size_t)st->comp_size - key / 2 - ZIPAES_PV - ZIPAES_CODE;
	if ((buf = malloc(n + ZIPAES_CODE)) == NULL) {
		r = RD_ENOMEM;
		goto out;
	}
	if (!read_raw(zf, buf, n + ZIPAES_CODE))
		goto out;
	if ((z = zipaes_check(&k, buf, n, buf + n)) == ZIPAES_OK)
		z = zipaes_decrypt(&k, buf, n);
	if (z != ZIPAES_OK) {
		/* The verifier matched: a wrong password, or tampering. */
		a->mac_bad = z == ZIPAES_WRONG;
		r = z == ZIPAES_WRONG ? RD_WRONGPW : RD_ENOMEM;
		goto out;
	}
	if (!(st->valid & ZIP_STAT_COMP_METHOD) ||
	    !zipdec_supported(st->comp_method)) {
		/* libzip's other methods; a zero CRC is AE-2's. */
		if ((r = read_entry(a, i, st, pw, st->crc == 0, epath, out,
		    outlen)) == RD_WRONGPW)
			r = RD_CORRUPT;
		goto out;
	}
	r = plain_read(a, st, buf, n, epath, out, outlen);
 out:
	OPENSSL_cleanse(&k, sizeof(k));
	free(buf);
	(void)zip_fclose(zf);
	return r;
}

/*
 * The 12th byte of a decrypted ZipCrypto header, as libzip checks it:
 * the top byte of the CRC, or of the DOS time that libzip makes of the
 * entry's time (localtime, as its _zip_u2d_time does).
 */
static bool
zc_header_ok(const zip_stat_t *st, unsigned char b)
{
	struct tm	tm;
	unsigned	dostime;

	if (!(st->valid & (ZIP_STAT_CRC | ZIP_STAT_MTIME)))
		return true;
	if ((st->valid & ZIP_STAT_CRC) && b == (unsigned char)(st->crc >> 24))
		return true;
	if (!(st->valid & ZIP_STAT_MTIME))
		return false;
	if (localtime_r(&st->mtime, &tm) == NULL)
		dostime = 0;
	else
		dostime = ((unsigned)tm.tm_hour << 11) |
		    ((unsigned)tm.tm_min << 5) | ((unsigned)tm.tm_sec >> 1);
	return b == (unsigned char)(dostime >> 8);
}

/*
 * ZipCrypto, decrypted here rather than by libzip, whose decoder steps
 * its keys with two zlib crc32() calls a byte (about 9% of a corpus
 * scan's instructions): the header checked as libzip checks
 * it, then the data decrypted in place and read through zipdec (CRC and
 * stored size checked at its end, as libzip does) under the archive
 * bounds.  Data that does not decompress or fails the CRC means a wrong
 * password, as with libzip (rd_of_error).  Methods zipdec lacks and a
 * declared CRC of 0 (zipdec would not compare it) go to libzip.
 */
static enum archive_rd
zc_read(struct arc *a, zip_uint64_t i, const zip_stat_t *st,
    const char *pw, const char *epath, unsigned char **out, size_t *outlen)
{
	struct zipcrypto	 zc;
	unsigned char		 hdr[ZIPCRYPTO_HDR], *buf = NULL;
	size_t			 n;
	zip_file_t		*zf;
	enum archive_rd		 r = RD_WRONGPW;

	if (!(st->valid & ZIP_STAT_COMP_SIZE) || st->comp_size > a->len ||
	    st->comp_size < ZIPCRYPTO_HDR ||
	    !(st->valid & ZIP_STAT_COMP_METHOD) ||
	    !zipdec_supported(st->comp_method) ||
	    !(st->valid & ZIP_STAT_CRC) || st->crc == 0)
		return read_entry(a, i, st, pw, false, epath, out, outlen);
	if ((zf = zip_fopen_index(a->za, i, ZIP_FL_ENCRYPTED)) == NULL) {
		r = rd_of_error(zip_error_code_zip(zip_get_error(a->za)),
		    true);
		zip_error_clear(a->za);
		return r;
	}
	zipcrypto_init(&zc, pw, strlen(pw));
	if (!read_raw(zf, hdr, sizeof(hdr)))
		goto out;
	zipcrypto_decrypt(&zc, hdr, sizeof(hdr));
	if (!zc_header_ok(st, hdr[ZIPCRYPTO_HDR - 1]))
		goto out;
	n = (size_t)st->comp_size - ZIPCRYPTO_HDR;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL) {
		r = RD_ENOMEM;
		goto out;
	}
	if (!read_raw(zf, buf, n))
		goto out;
	zipcrypto_decrypt(&zc, buf, n);
	if ((r = plain_read(a, st, buf, n, epath, out, outlen)) == RD_CORRUPT)
		r = RD_WRONGPW;
 out:
	(void)zip_fclose(zf);
	free(buf);
	OPENSSL_cleanse(&zc, sizeof(zc));
	return r;
}

static bool
is_aes(uint16_t m)
{
	return m == ZIP_EM_AES_128 || m == ZIP_EM_AES_192 ||
	    m == ZIP_EM_AES_256;
}

/* One candidate on one encrypted entry. */
static enum archive_rd
try_password(struct arc *a, zip_uint64_t i, const zip_stat_t *st,
    const char *pw, const char *epath, unsigned char **out, size_t *outlen)
{
	enum archive_rd	 r;

	metrics_add(MC_PASSWORD_TRIES, 1);
	if (st->encryption_method == ZIP_EM_TRAD_PKWARE)
		r = zc_read(a, i, st, pw, epath, out, outlen);
	else if (!is_aes(st->encryption_method))
		r = read_entry(a, i, st, pw, false, epath, out, outlen);
	else
		r = aes_read(a, i, st, pw, epath, out, outlen);
	if (r == RD_OK)
		metrics_add(MC_PASSWORD_HITS, 1);
	return r;
}

/* The stored password first, then every candidate in order. */
static enum archive_rd
read_encrypted(struct arc *a, zip_uint64_t i, const zip_stat_t *st,
    const char *epath, unsigned char **out, size_t *outlen)
{
	const struct pwcands	*pw = a->ctx->pw;
	enum archive_rd		 r;
	size_t			 k;

	a->mac_bad = false;
	if (a->pw != NULL) {
		r = try_password(a, i, st, a->pw, epath, out, outlen);
		if (r != RD_WRONGPW)
			return r;
		/*
		 * The password that opened another entry passes this one's
		 * verifier and fails its HMAC: the data changed.  Any other
		 * candidate passes the 2-byte verifier by chance once in
		 * 65,536 tries: that is a wrong password, never a finding.
		 */
		if (a->mac_bad)
			arc_corrupt(a, epath, "entry fails its WinZip AES "
			    "authentication code with the password that "
			    "opened the others");
	}
	for (k = 0; pw != NULL && k < pw->n; k++) {
		if (pw->v[k] == a->pw)
			continue;
		if (scan_expired(a->ctx))
			return RD_TIMEOUT;
		/* WinZip AES derives a key per candidate: LW_KDF_*. */
		if (is_aes(st->encryption_method) &&
		    scan_kdf_left(a->ctx, a->kdf_ms) == 0) {
			a->kdf_skipped += (unsigned)(pw->n - k);
			return RD_WRONGPW;
		}
		r = try_password(a, i, st, pw->v[k], epath, out, outlen);
		if (r == RD_WRONGPW)
			continue;
		if (r == RD_OK && a->pw == NULL) {
			a->pw = pw->v[k];
			a->pw_idx = k;
		}
		return r;
	}
	return RD_WRONGPW;
}

static bool
valid_utf8(const char *s, size_t n)
{
	char	*t;
	bool	 ok;

	/* lw_sanitize keeps valid UTF-8 and printable text unchanged. */
	if ((t = lw_sanitize(s, n, n + 4)) == NULL)
		return false;
	ok = strlen(t) == n && memcmp(t, s, n) == 0;
	free(t);
	return ok;
}

/*
 * Entry names: UTF-8 when they are (the flag or plain ASCII), else
 * CP932 (Japanese Windows zips carry no flag), else libzip's CP437.
 */
static char *
entry_name(zip_t *za, zip_uint64_t i)
{
	const char	*raw;
	char		*out, *ip, *op;
	size_t		 n, il, ol;
	iconv_t		 cd;

	if ((raw = zip_get_name(za, i, ZIP_FL_ENC_RAW)) == NULL)
		return lw_strdup("");
	n = strlen(raw);
	if (n > 1024)
		n = 1024;
	if (valid_utf8(raw, n))
		return lw_strndup(raw, n);
	if ((cd = iconv_open("UTF-8", "CP932")) != (iconv_t)-1) {
		ol = n * 3 + 1;
		if ((out = malloc(ol)) == NULL) {
			iconv_close(cd);
			return NULL;
		}
		ip = (char *)(uintptr_t)raw;
		il = n;
		op = out;
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && il == 0) {
			*op = '\0';
			iconv_close(cd);
			return out;
		}
		free(out);
		iconv_close(cd);
	}
	if ((raw = zip_get_name(za, i, 0)) == NULL)
		return lw_strdup("");
	return lw_strndup(raw, strlen(raw) > 1024 ? 1024 : strlen(raw));
}

char *
archive_join(const char *base, const char *name)
{
	char	*s, *out;

	while (*name == '/')
		name++;
	if ((s = lw_sanitize(name, strlen(name), ARC_NAME_MAX)) == NULL)
		return NULL;
	out = lw_path_join(base, s);
	free(s);
	return out;
}

static const char *
method_name(uint16_t m)
{
	switch (m) {
	case ZIP_EM_TRAD_PKWARE:
		return "zipcrypto";
	case ZIP_EM_AES_128:
		return "aes-128";
	case ZIP_EM_AES_192:
		return "aes-192";
	case ZIP_EM_AES_256:
		return "aes-256";
	default:
		return "unsupported";
	}
}

/*
 * archive_src pull for a raw deflate stream: 0 once it ends, -1 when
 * it breaks or its input runs out first.
 */
static long long
inflate_pull(struct archive_src *src, unsigned char *p, size_t n)
{
	z_stream	*z = src->arg;
	int		 zr;

	z->next_out = p;
	z->avail_out = (uInt)n;
	zr = inflate(z, Z_NO_FLUSH);
	src->in = z->total_in;
	n -= z->avail_out;
	if (zr == Z_STREAM_END || (zr == Z_OK && n > 0))
		return (long long)n;
	return -1;
}

/*
 * Read one entry the way extractors do when the central directory lies
 * (sizes too small or too large, an offset outside the file): from its
 * local header at off and the data that is there.  Deflate ends where
 * its stream ends (what inflated before damage is still data); stored
 * data runs for the local size when that fits, else to the next header
 * signature.  Same bounds as read_entry (RD_CUT: *cut names the limit);
 * *used gets the bytes of input the entry took.  RD_UNSUPPORTED for
 * encrypted entries and other methods.
 */
static enum archive_rd
local_read(struct scan_ctx *ctx, const unsigned char *d, size_t len,
    size_t off, const char *epath, unsigned char **out, size_t *outlen,
    size_t *used, const char **cut)
{
	const struct limits	*lim = ctx->lim;
	struct archive_src	 src = { .pull = inflate_pull };
	size_t			 start, avail, cs;
	unsigned		 method, flags;
	const unsigned char	*sig;
	z_stream		 z;
	enum archive_rd		 r;

	*out = NULL;
	*outlen = 0;
	*used = 0;
	*cut = NULL;
	if (off > len || len - off < 30 || memcmp(d + off, "PK\003\004", 4))
		return RD_CORRUPT;
	flags = le16(d + off + 6);
	method = le16(d + off + 8);
	cs = le32(d + off + 18);
	start = off + 30;
	if (le16(d + off + 26) > len - start ||
	    le16(d + off + 28) > len - start - le16(d + off + 26))
		return RD_CORRUPT;
	start += le16(d + off + 26) + le16(d + off + 28);
	avail = len - start;
	if ((flags & 1) || (method != 0 && method != 8))
		return RD_UNSUPPORTED;
	if (method == 0) {
		if ((flags & 8) || cs > avail) {
			/* To the next header: a descriptor, entry or directory. */
			cs = avail;
			if ((sig = memmem(d + start, avail, "PK", 2)) != NULL)
				do {
					if (avail - (size_t)(sig - (d + start)) >= 4 &&
					    (sig[2] == 7 || sig[2] == 3 ||
					    sig[2] == 1) && sig[3] == sig[2] + 1) {
						cs = (size_t)(sig - (d + start));
						break;
					}
					sig = memmem(sig + 1, avail - (size_t)(sig +
					    1 - (d + start)), "PK", 2);
				} while (sig != NULL);
		}
		*used = start - off + cs;
		if (cs > lim->archive_entry_bytes) {
			cs = lim->archive_entry_bytes;
			*cut = "archive_entry_bytes";
		}
		if (!archive_charge(ctx, cs)) {
			archive_limit(ctx, epath, "archive_total_bytes",
			    lim->archive_total_bytes);
			*used = 0;
			return RD_LIMIT;
		}
		if ((*out = malloc(cs > 0 ? cs : 1)) == NULL)
			return RD_ENOMEM;
		memcpy(*out, d + start, cs);
		*outlen = cs;
		return *cut != NULL ? RD_CUT : RD_OK;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return RD_ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)(d + start);
	z.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
	src.arg = &z;
	r = archive_read(ctx, epath, &src, out, outlen, cut);
	*used = start - off + z.total_in;
	inflateEnd(&z);
	/* The data before the damage or the message limit is analysed. */
	if ((r == RD_CORRUPT && *outlen > 0) || r == RD_LIMIT)
		return RD_OK;
	if (r != RD_OK && r != RD_CUT) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return r;
}

/* The local header whose name is raw (nlen bytes), or SIZE_MAX. */
static size_t
local_find(const unsigned char *d, size_t len, const char *raw,
    size_t nlen)
{
	const unsigned char	*p = d;
	size_t			 off;

	while ((p = memmem(p, len - (size_t)(p - d), "PK\003\004", 4)) !=
	    NULL) {
		off = (size_t)(p - d);
		if (len - off >= 30 + nlen && le16(p + 26) == nlen &&
		    memcmp(p + 30, raw, nlen) == 0)
			return off;
		p++;
	}
	return SIZE_MAX;
}

/*
 * When libzip cannot open the zip at all (a directory that lies or
 * points outside the file, prepended or concatenated data), walk the
 * local headers as extractors do: every entry is read and analysed; a
 * name whose data cannot be read still meets the name rules.
 */
static enum lw_err
salvage_entries(struct scan_ctx *ctx, const char *base,
    const unsigned char *d, size_t len, unsigned depth)
{
	const unsigned char	*p = d;
	size_t			 off, nlen, used, blen;
	unsigned		 count = 0;
	unsigned char		*buf;
	char			*name, *epath;
	const char		*cut;
	enum lw_err		 e = LW_OK;
	enum archive_rd		 r;

	while (e == LW_OK && (p = memmem(p, len - (size_t)(p - d),
	    "PK\003\004", 4)) != NULL) {
		off = (size_t)(p - d);
		if (len - off < 30)
			break;
		if (count++ >= ctx->lim->archive_entries) {
			archive_limit(ctx, base, "archive_entries",
			    ctx->lim->archive_entries);
			break;
		}
		if (scan_expired(ctx))
			break;
		nlen = le16(p + 26);
		if (nlen > len - off - 30) {
			p++;
			continue;
		}
		if ((name = lw_strndup((const char *)p + 30, nlen)) == NULL)
			return LW_ENOMEM;
		if ((epath = archive_join(base, name)) == NULL) {
			free(name);
			return LW_ENOMEM;
		}
		r = local_read(ctx, d, len, off, epath, &buf, &blen, &used,
		    &cut);
		if (r == RD_OK && blen == 0 && *name != '\0' &&
		    name[strlen(name) - 1] == '/')
			free(buf);	/* a directory */
		else
			e = archive_entry_done(ctx, epath, name, r, cut, buf,
			    blen, depth);
		free(epath);
		free(name);
		if (r == RD_LIMIT || r == RD_TIMEOUT)
			break;
		p += used > 4 ? used : 4;
	}
	return e;
}

static zip_t *
arc_open(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	zip_source_t	*src;
	zip_error_t	 ze;
	zip_t		*za;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(data, len, 0, &ze)) == NULL) {
		snprintf(err, errlen, "%s", zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return NULL;
	}
	if ((za = zip_open_from_source(src, ZIP_RDONLY, &ze)) == NULL) {
		snprintf(err, errlen, "%s", zip_error_strerror(&ze));
		zip_source_free(src);
	}
	zip_error_fini(&ze);
	return za;
}

/* An entry libzip failed on, read from its local header instead. */
static enum lw_err
read_local(struct arc *a, zip_uint64_t i, const char *epath,
    const char *name)
{
	const char	*raw = zip_get_name(a->za, i, ZIP_FL_ENC_RAW);
	const char	*cut = NULL;
	unsigned char	*buf = NULL;
	size_t		 off, blen = 0, used;
	enum archive_rd	 r;

	off = raw != NULL ? local_find(a->data, a->len, raw, strlen(raw)) :
	    SIZE_MAX;
	r = off != SIZE_MAX ? local_read(a->ctx, a->data, a->len, off, epath,
	    &buf, &blen, &used, &cut) : RD_CORRUPT;
	return archive_entry_done(a->ctx, epath, name, r, cut, buf, blen,
	    a->depth);
}

static enum lw_err
walk(struct arc *a)
{
	struct scan_ctx	*ctx = a->ctx;
	zip_stat_t	 st;
	zip_int64_t	 n;
	zip_uint64_t	 i;
	unsigned char	*buf;
	size_t		 blen, nl;
	char		*name, *epath;
	enum archive_rd	 r;
	enum lw_err	 e = LW_OK;

	n = zip_get_num_entries(a->za, 0);
	for (i = 0; n > 0 && i < (zip_uint64_t)n; i++) {
		if (i >= ctx->lim->archive_entries) {
			archive_limit(ctx, a->path, "archive_entries",
			    ctx->lim->archive_entries);
			break;
		}
		if (scan_expired(ctx))
			break;
		if (zip_stat_index(a->za, i, 0, &st) != 0) {
			arc_corrupt(a, a->path, "unreadable directory entry");
			continue;
		}
		if ((name = entry_name(a->za, i)) == NULL)
			return LW_ENOMEM;
		nl = strlen(name);
		if (nl > 0 && name[nl - 1] == '/' &&
		    (!(st.valid & ZIP_STAT_SIZE) || st.size == 0)) {
			free(name);
			continue;
		}
		if ((e = archive_entry_begin(ctx, a->path, name, &epath)) !=
		    LW_OK) {
			free(name);
			return e == LW_ELIMIT ? LW_OK : e;
		}
		buf = NULL;
		blen = 0;
		if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		    st.encryption_method != ZIP_EM_NONE) {
			a->nenc++;
			if (a->method == 0 || a->method == ZIP_EM_TRAD_PKWARE)
				a->method = st.encryption_method;
			if (!zip_encryption_method_supported(
			    st.encryption_method, 0))
				r = RD_WRONGPW;
			else
				r = read_encrypted(a, i, &st, epath, &buf,
				    &blen);
			if (r == RD_OK)
				a->nopened++;
		} else
			r = read_entry(a, i, &st, NULL, false, epath, &buf,
			    &blen);
		if (r == RD_WRONGPW)
			a->nunknown++;
		if (r == RD_CORRUPT) {
			arc_corrupt(a, epath, "entry data does not inflate "
			    "or fails its CRC");
			/* Extractors read it from the local header. */
			e = read_local(a, i, epath, name);
		} else
			e = archive_entry_done(ctx, epath, name, r, a->cut, buf,
			    blen, a->depth);
		free(epath);
		free(name);
		/* RD_LIMIT, RD_TIMEOUT: the message's budget is spent. */
		if (e != LW_OK || r == RD_LIMIT || r == RD_TIMEOUT)
			return e;
	}
	return LW_OK;
}

/*
 * The archive's own path.  Callers pass the path of the file itself:
 * scan.c gives a MIME attachment "<part>/<name>", and entries already
 * carry their names.
 */
static char *
archive_base(const char *path, const char *name, unsigned depth)
{
	return lw_strdup(path != NULL ? path : "");
}

enum lw_err
archive_scan(struct scan_ctx *ctx, const char *path, const char *name,
    const unsigned char *data, size_t len, unsigned depth)
{
	struct zip_peek	 zp;
	struct arc	 a;
	char		*base, err[128], *mask;
	enum lw_err	 e;

	if ((base = archive_base(path, name, depth)) == NULL)
		return LW_ENOMEM;
	if (archive_too_deep(ctx, base, depth)) {
		free(base);
		return LW_OK;
	}
	e = archive_peek(data, len, (uint64_t)ctx->lim->archive_entries + 1,
	    true, &zp);
	if (e != LW_OK) {
		free(base);
		return e;
	}
	if (zp.eocd && zp.nentries > ctx->lim->archive_entries) {
		archive_limit(ctx, base, "archive_entries",
		    ctx->lim->archive_entries);
		free(base);
		return LW_OK;
	}
	if (zp.overlap) {
		archive_limit(ctx, base, "archive_overlap", 0);
		free(base);
		return LW_OK;
	}
	a = (struct arc){ .ctx = ctx, .path = base, .data = data, .len = len,
	    .depth = depth };
	if ((a.za = arc_open(data, len, err, sizeof(err))) == NULL) {
		(void)findings_add(ctx->fs, "ARCHIVE_CORRUPT", base,
		    "libzip: %s", err);
		e = salvage_entries(ctx, base, data, len, depth);
		free(base);
		return e;
	}
	e = walk(&a);
	zip_discard(a.za);
	if (e == LW_OK && a.nenc > 0)
		(void)findings_add(ctx->fs, "ARCHIVE_ENCRYPTED", base,
		    "%u encrypted entries (%s)", a.nenc, method_name(a.method));
	if (e == LW_OK && a.pw != NULL) {
		if ((mask = pwcand_mask(a.pw)) == NULL) {
			e = LW_ENOMEM;
		} else {
			(void)findings_add(ctx->fs,
			    "ARCHIVE_PASSWORD_IN_MESSAGE", base,
			    "opened with candidate %zu (%s)", a.pw_idx + 1,
			    mask);
			scan_log(ctx, LOG_INFO, "archive %s opened with "
			    "password candidate %zu %s", base, a.pw_idx + 1,
			    mask);
			free(mask);
		}
	}
	if (a.kdf_skipped > 0)
		scan_log(ctx, LOG_INFO, "archive %s: key derivation budget "
		    "spent, %u password candidates not tried", base,
		    a.kdf_skipped);
	if (e == LW_OK && a.nunknown > 0)
		(void)findings_add(ctx->fs, "ARCHIVE_PASSWORD_UNKNOWN", base,
		    "%u of %u encrypted entries not opened (%zu password"
		    " candidates tried)", a.nunknown, a.nenc,
		    ctx->pw != NULL ? ctx->pw->n : (size_t)0);
	free(base);
	return e;
}

/*
 * archive_scan_package on za, the package's zip opened as arc_open
 * opens it: by the caller (own false; NULL when that failed), or here
 * (own true).
 */
static enum lw_err
package_scan(struct scan_ctx *ctx, const char *path, const char *name,
    const unsigned char *data, size_t len, unsigned depth, zip_t *za,
    bool own)
{
	struct zip_peek	 zp;
	zip_int64_t	 n;
	zip_uint64_t	 i;
	char		*base, *ename, *epath, err[128];
	enum lw_err	 e;

	e = archive_peek(data, len, (uint64_t)ctx->lim->archive_entries + 1,
	    true, &zp);
	if (e != LW_OK)
		return e;
	if (zp.encrypted)
		return archive_scan(ctx, path, name, data, len, depth);
	if ((zp.eocd && zp.nentries > ctx->lim->archive_entries) ||
	    zp.overlap)
		return archive_scan(ctx, path, name, data, len, depth);
	if (own)
		za = arc_open(data, len, err, sizeof(err));
	/* A broken package is the Office analyzers' OFFICE_MALFORMED. */
	if (za == NULL)
		return LW_OK;
	if ((base = archive_base(path, name, depth)) == NULL) {
		if (own)
			zip_discard(za);
		return LW_ENOMEM;
	}
	n = zip_get_num_entries(za, 0);
	for (i = 0; n > 0 && i < (zip_uint64_t)n &&
	    i < ctx->lim->archive_entries; i++) {
		if ((ename = entry_name(za, i)) == NULL) {
			e = LW_ENOMEM;
			break;
		}
		if ((epath = archive_join(base, ename)) != NULL)
			filetype_check_name(ctx, epath, ename);
		free(epath);
		free(ename);
	}
	free(base);
	if (own)
		zip_discard(za);
	return e;
}

enum lw_err
archive_scan_package(struct scan_ctx *ctx, const char *path,
    const char *name, const unsigned char *data, size_t len, unsigned depth)
{
	return package_scan(ctx, path, name, data, len, depth, NULL, true);
}

enum lw_err
archive_scan_package_zip(struct scan_ctx *ctx, const char *path,
    const unsigned char *data, size_t len, unsigned depth, struct zip *za)
{
	return package_scan(ctx, path, NULL, data, len, depth, za, false);
}
