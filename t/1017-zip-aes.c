/*
 * 1017-zip-aes: WinZip AES entries decrypted by zipaes.c and read by
 * zipdec.c, compared with libzip and with the files 7-Zip packed.
 *
 * For AES-128, -192 and -256 and the methods Copy, Deflate, BZip2 and
 * LZMA (7z -tzip -mem=AES* -mm=*), every entry's plain bytes must equal
 * the original file and what libzip's zip_fopen_index_encrypted reads
 * (where libzip has the method; it lacks LZMA).  A wrong password fails
 * the verifier; a flipped data byte fails the HMAC, which a scan
 * reports as ARCHIVE_CORRUPT only once the password opened another
 * entry; an AE-1 entry (7-Zip writes AE-2, so one
 * is made by patching the CRC and the vendor version in) must match its
 * CRC: a wrong one is an error at the end of the data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>
#include <zlib.h>

#include "tap.h"
#include "lurewall.h"
#include "content.h"
#include "filetype.h"
#include "pwcand.h"
#include "zipaes.h"
#include "zipdec.h"
#include "analyzer.h"

static const char *dir;

static void
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char	cmd[2048], full[2200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && { %s; } >/dev/null 2>&1",
	    dir, cmd);
	if (system(full) != 0)
		bail("command failed: %s", cmd);
}

static unsigned char *
load(const char *name, size_t *len)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tap_slurp(path, len);
}

static void
put(const char *name, const void *d, size_t len)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tap_spew(path, d, len);
}

/*
 * The files: a short text, 300 KB of compressible text (several read
 * steps of 64 KiB and many AES counter batches) and a PE stub.
 */
static void
fixtures(void)
{
	unsigned char	*big;
	unsigned char	 pe[512];
	size_t		 i, n = 300000;
	unsigned	 x = 12345;

	put("note.txt", "Please see the figures.\n", 24);
	if ((big = malloc(n)) == NULL)
		bail("ENOMEM");
	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		big[i] = (unsigned char)("abcdefgh ijklm\n"[(x >> 16) % 15]);
	}
	put("big.txt", big, n);
	free(big);
	memset(pe, 0, sizeof(pe));
	memcpy(pe, "MZ", 2);
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	put("setup.exe", pe, sizeof(pe));
}

/* Entry i through zipaes and zipdec; NULL when any step fails. */
static unsigned char *
ours(zip_t *za, zip_uint64_t i, const char *pw, size_t *outlen,
    uint32_t crc_override, bool use_override)
{
	struct zipaes_key	 k;
	struct zipdec_entry	 de;
	struct zipdec		*zd;
	zip_stat_t		 st;
	zip_file_t		*zf;
	unsigned char		*raw, *out = NULL;
	size_t			 key, salt, n, used = 0;
	int64_t			 got;
	bool			 good = false;

	if (zip_stat_index(za, i, 0, &st) != 0)
		return NULL;
	key = st.encryption_method == ZIP_EM_AES_128 ? 16 :
	    st.encryption_method == ZIP_EM_AES_192 ? 24 : 32;
	salt = key / 2;
	if ((raw = malloc(st.comp_size)) == NULL ||
	    (zf = zip_fopen_index(za, i, ZIP_FL_ENCRYPTED)) == NULL)
		bail("raw open");
	if (zip_fread(zf, raw, st.comp_size) != (zip_int64_t)st.comp_size)
		bail("raw read");
	zip_fclose(zf);
	n = st.comp_size - salt - ZIPAES_PV - ZIPAES_CODE;
	if (zipaes_derive(pw, strlen(pw), raw, raw + salt, key, &k) !=
	    ZIPAES_OK || zipaes_check(&k, raw + salt + 2, n,
	    raw + salt + 2 + n) != ZIPAES_OK ||
	    zipaes_decrypt(&k, raw + salt + 2, n) != ZIPAES_OK)
		goto out;
	de.method = st.comp_method;
	de.size = st.size;
	de.size_valid = true;
	de.crc = use_override ? crc_override : st.crc;
	if ((zd = zipdec_open(&de, raw + salt + 2, n, 64U << 20)) == NULL)
		goto out;
	if ((out = malloc(st.size + 1)) == NULL)
		bail("ENOMEM");
	/* Odd-sized reads: short only at the end, then 0. */
	while ((got = zipdec_fread(zd, out + used, used + 7777 > st.size ?
	    st.size + 1 - used : 7777)) > 0)
		used += (size_t)got;
	good = got == 0;
	zipdec_close(zd);
 out:
	free(raw);
	if (!good) {
		free(out);
		return NULL;
	}
	*outlen = used;
	return out;
}

/* Entry i read by libzip; AE-2's zero CRC fails libzip 1.7's check. */
static unsigned char *
libzips(zip_t *za, zip_uint64_t i, const char *pw, size_t *outlen)
{
	zip_stat_t	 st;
	zip_file_t	*zf;
	unsigned char	*out;
	zip_int64_t	 n;
	size_t		 used = 0;

	if (zip_stat_index(za, i, 0, &st) != 0 ||
	    (zf = zip_fopen_index_encrypted(za, i, 0, pw)) == NULL)
		return NULL;
	if ((out = malloc(st.size + 1)) == NULL)
		bail("ENOMEM");
	while ((n = zip_fread(zf, out + used, st.size + 1 - used)) > 0)
		used += (size_t)n;
	if (n < 0 && !(st.crc == 0 && zip_error_code_zip(
	    zip_file_get_error(zf)) == ZIP_ER_CRC)) {
		free(out);
		out = NULL;
	}
	zip_fclose(zf);
	*outlen = used;
	return out;
}

static zip_t *
zopen(const unsigned char *d, size_t len)
{
	zip_source_t	*src;
	zip_error_t	 ze;
	zip_t		*za;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(d, len, 0, &ze)) == NULL ||
	    (za = zip_open_from_source(src, ZIP_RDONLY, &ze)) == NULL)
		bail("libzip: %s", zip_error_strerror(&ze));
	zip_error_fini(&ze);
	return za;
}

static void
t_compare(void)
{
	static const char *strength[] = { "AES128", "AES192", "AES256" };
	static const char *method[] = { "Copy", "Deflate", "BZip2", "LZMA" };
	struct zipaes_key k;
	unsigned char	*z, *a, *b, *orig;
	size_t		 zl, al, bl, ol;
	zip_t		*za;
	zip_stat_t	 st;
	zip_int64_t	 i;
	unsigned	 s, m, same, libzip_same, nent;
	int		 lz;
	char		 name[64];

	for (s = 0; s < 3; s++)
		for (m = 0; m < 4; m++) {
			snprintf(name, sizeof(name), "%s-%s.zip", strength[s],
			    method[m]);
			sh("7z a -tzip -mem=%s -mm=%s -pS3cret! %s note.txt "
			    "big.txt setup.exe", strength[s], method[m], name);
			z = load(name, &zl);
			za = zopen(z, zl);
			same = libzip_same = nent = 0;
			for (i = 0; i < zip_get_num_entries(za, 0); i++) {
				nent++;
				zip_stat_index(za, (zip_uint64_t)i, 0, &st);
				orig = load(zip_get_name(za, (zip_uint64_t)i,
				    0), &ol);
				a = ours(za, (zip_uint64_t)i, "S3cret!", &al,
				    0, false);
				if (a != NULL && al == ol &&
				    memcmp(a, orig, ol) == 0)
					same++;
				lz = zip_compression_method_supported(
				    (zip_int32_t)st.comp_method, 0);
				b = lz ? libzips(za, (zip_uint64_t)i,
				    "S3cret!", &bl) : NULL;
				if (!lz)
					libzip_same++;	/* LZMA: libzip lacks it */
				else if (a != NULL && b != NULL && al == bl &&
				    memcmp(a, b, al) == 0)
					libzip_same++;
				free(a);
				free(b);
				free(orig);
			}
			is_int(3, nent, "%s: 3 entries", name);
			is_int(3, same, "%s: every entry as packed", name);
			is_int(3, libzip_same, "%s: as libzip reads it", name);
			/* A wrong password fails the verifier (1 in 65,536
			   would pass: not this one). */
			zip_stat_index(za, 0, 0, &st);
			{
				zip_file_t	*zf;
				unsigned char	 h[18];
				size_t		 key = st.encryption_method ==
				    ZIP_EM_AES_128 ? 16 : st.encryption_method
				    == ZIP_EM_AES_192 ? 24 : 32;

				zf = zip_fopen_index(za, 0, ZIP_FL_ENCRYPTED);
				if (zf == NULL || zip_fread(zf, h, key / 2 + 2)
				    != (zip_int64_t)(key / 2 + 2))
					bail("raw read");
				zip_fclose(zf);
				ok(zipaes_derive("S3cret?", 7, h, h + key / 2,
				    key, &k) == ZIPAES_WRONG &&
				    zipaes_derive("S3cret!", 7, h, h + key / 2,
				    key, &k) == ZIPAES_OK,
				    "%s: the verifier refuses a wrong password",
				    name);
			}
			zip_discard(za);
			free(z);
		}
}

struct run {
	struct limits	 lim;
	struct findings	 fs;
	struct pwcands	 pw;
	struct scan_ctx	 ctx;
	char		*v[1];
	bool		 kw[1];
};

static void
scan(struct run *r, const char *pw, const unsigned char *d, size_t len)
{
	memset(r, 0, sizeof(*r));
	limits_default(&r->lim);
	r->v[0] = (char *)(uintptr_t)pw;
	r->kw[0] = true;
	r->pw.v = r->v;
	r->pw.keyword = r->kw;
	r->pw.n = r->pw.cap = 1;
	r->ctx.lim = &r->lim;
	r->ctx.fs = &r->fs;
	r->ctx.pw = &r->pw;
	r->ctx.qid = "TEST";
	if (content_analyze(&r->ctx, "2/t.zip", "t.zip", NULL, d, len, 0) !=
	    LW_OK)
		bail("content_analyze failed");
}

static const char *
found(const struct run *r, const char *rule, const char *part)
{
	size_t	i;

	for (i = 0; i < r->fs.n; i++)
		if (strcmp(r->fs.v[i].rule, rule) == 0 &&
		    (part == NULL || strcmp(r->fs.v[i].part, part) == 0))
			return r->fs.v[i].detail;
	return NULL;
}

static void
t_scan(void)
{
	struct run	 r;
	unsigned char	*z;
	size_t		 zl;
	const char	*d;

	/* LZMA, which libzip lacks, is read: the PE inside is found. */
	z = load("AES256-LZMA.zip", &zl);
	scan(&r, "S3cret!", z, zl);
	ok(found(&r, "FILE_EXECUTABLE", "2/t.zip/setup.exe") != NULL &&
	    found(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL) != NULL &&
	    found(&r, "ARCHIVE_CORRUPT", NULL) == NULL,
	    "AES-256 LZMA zip scanned: the PE inside found");
	findings_free(&r.fs);

	/*
	 * A flipped byte in the first entry's data: its HMAC fails before
	 * any entry confirmed the password, which a verifier collision of
	 * a wrong candidate looks the same as: closed, no finding.
	 */
	z[200] ^= 1;
	scan(&r, "S3cret!", z, zl);
	d = found(&r, "ARCHIVE_CORRUPT", NULL);
	ok(d == NULL, "tampered first entry: not ARCHIVE_CORRUPT (%s)",
	    d ? d : "none");
	ok(found(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) != NULL &&
	    found(&r, "FILE_EXECUTABLE", "2/t.zip/setup.exe") != NULL,
	    "the tampered entry stays closed, the others open");
	findings_free(&r.fs);
	z[200] ^= 1;

	/*
	 * A flipped byte in note.txt, after big.txt opened with the
	 * password: the password is confirmed, so the data changed.
	 */
	{
		const unsigned char	*h;
		size_t			 at;

		h = memmem(z, zl, "note.txt", 8);
		if (h == NULL || h - z < 30 || memcmp(h - 30, "PK\3\4", 4) != 0)
			bail("AES256-LZMA.zip: no local header for note.txt");
		at = (size_t)(h - z) + 8 + (h[-2] | (size_t)h[-1] << 8);
		at += 16 + 2 + 4;	/* salt, verifier, into the data */
		z[at] ^= 1;
		scan(&r, "S3cret!", z, zl);
		d = found(&r, "ARCHIVE_CORRUPT", NULL);
		ok(d != NULL && strstr(d, "authentication code") != NULL,
		    "tampered entry after the password opened one: "
		    "ARCHIVE_CORRUPT (%s)", d ? d : "none");
		findings_free(&r.fs);
	}
	free(z);

	/* A wrong password only: closed, not corrupt. */
	z = load("AES128-Deflate.zip", &zl);
	scan(&r, "nope", z, zl);
	ok(found(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) != NULL &&
	    found(&r, "ARCHIVE_CORRUPT", NULL) == NULL,
	    "wrong password: ARCHIVE_PASSWORD_UNKNOWN, no ARCHIVE_CORRUPT");
	findings_free(&r.fs);
	free(z);
}

/*
 * AE-1: the CRC in both headers and vendor version 1 in the AES extra
 * field (0x9901) of a one-entry zip.
 */
static void
make_ae1(unsigned char *d, size_t len, uint32_t crc)
{
	size_t	 i;

	for (i = 0; i + 4 <= len; i++) {
		if (memcmp(d + i, "PK\003\004", 4) == 0 && i + 18 <= len) {
			d[i + 14] = (unsigned char)crc;
			d[i + 15] = (unsigned char)(crc >> 8);
			d[i + 16] = (unsigned char)(crc >> 16);
			d[i + 17] = (unsigned char)(crc >> 24);
		}
		if (memcmp(d + i, "PK\001\002", 4) == 0 && i + 20 <= len) {
			d[i + 16] = (unsigned char)crc;
			d[i + 17] = (unsigned char)(crc >> 8);
			d[i + 18] = (unsigned char)(crc >> 16);
			d[i + 19] = (unsigned char)(crc >> 24);
		}
		if (d[i] == 0x01 && d[i + 1] == 0x99 && i + 6 <= len &&
		    d[i + 2] == 7 && d[i + 3] == 0 && d[i + 6] == 'A') {
			d[i + 4] = 1;
			d[i + 5] = 0;
		}
	}
}

static void
t_ae1(void)
{
	unsigned char	*z, *orig, *a, *b;
	size_t		 zl, ol, al, bl;
	uint32_t	 crc;
	zip_t		*za;
	zip_stat_t	 st;

	sh("7z a -tzip -mem=AES256 -mm=Deflate -pS3cret! ae1.zip big.txt");
	z = load("ae1.zip", &zl);
	orig = load("big.txt", &ol);
	crc = (uint32_t)crc32(0L, orig, (uInt)ol);
	make_ae1(z, zl, crc);
	za = zopen(z, zl);
	zip_stat_index(za, 0, 0, &st);
	is_int(crc, st.crc, "AE-1: libzip sees the patched CRC");
	a = ours(za, 0, "S3cret!", &al, 0, false);
	b = libzips(za, 0, "S3cret!", &bl);
	ok(a != NULL && b != NULL && al == ol && bl == ol &&
	    memcmp(a, orig, ol) == 0 && memcmp(b, orig, ol) == 0,
	    "AE-1 with its CRC: ours and libzip read the file");
	free(a);
	a = ours(za, 0, "S3cret!", &al, crc ^ 1, true);
	ok(a == NULL, "a CRC that differs fails at the end of the data");
	free(a);
	free(b);
	zip_discard(za);
	free(orig);
	free(z);
}

int
main(void)
{
	dir = tap_tmpdir("1017-zip-aes");
	fixtures();
	t_compare();
	t_scan();
	t_ae1();
	filetype_fini();
	return done_testing();
}
