/*
 * sevenz_dec.c: the coders of a 7z folder, for sevenz.c.  A folder is a
 * chain of coders with one input and one output each: 7zAES is
 * decrypted with libcrypto (AES-256-CBC); Copy, LZMA, LZMA2, BCJ x86 and
 * Delta are decoded by liblzma (one raw filter chain), Deflate by zlib,
 * BZip2 by libbz2.  Any other coder (PPMd, ARM64, ...) and any folder
 * that is no chain (BCJ2's four streams) stays closed: DEC_UNSUPPORTED.
 *
 * Bounds: each coder's output is at most the size the header declares
 * for it and at most the caller's max; a decoder that stops short or
 * runs over is DEC_BAD (a wrong key looks the same).
 */
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <limits.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "sevenz_int.h"

bool
sz_is_id(const struct coder *c, const char *id, size_t n)
{
	return c->idlen == n && memcmp(c->id, id, n) == 0;
}


static enum dec
aes_decode(const struct coder *c, const unsigned char key[32],
    const unsigned char *in, size_t n, unsigned char *out)
{
	unsigned char	 iv[16] = { 0 };
	EVP_CIPHER_CTX	*cx;
	int		 ol = 0, fl = 0;
	size_t		 ivn;
	enum dec	 r = DEC_BAD;

	if (c->nprops < 2 || n % 16 != 0)
		return DEC_BAD;
	ivn = ((c->props[0] >> 6) & 1) + (c->props[1] & 0x0f);
	if (2 + (((c->props[0] >> 7) & 1) + (c->props[1] >> 4)) + ivn >
	    c->nprops)
		return DEC_BAD;
	memcpy(iv, c->props + 2 + ((c->props[0] >> 7) & 1) +
	    (c->props[1] >> 4), ivn);
	if ((cx = EVP_CIPHER_CTX_new()) == NULL)
		return DEC_ENOMEM;
	if (EVP_DecryptInit_ex(cx, EVP_aes_256_cbc(), NULL, key, iv) == 1 &&
	    EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	    EVP_DecryptUpdate(cx, out, &ol, in, (int)n) == 1 &&
	    EVP_DecryptFinal_ex(cx, out + ol, &fl) == 1)
		r = DEC_OK;
	EVP_CIPHER_CTX_free(cx);
	return r;
}

/* liblzma raw chain for coders order[from..nc). */
static enum dec
lzma_chain(const struct folder *f, unsigned from, const unsigned char *in,
    size_t n, unsigned char *out, size_t outn)
{
	lzma_filter	 fl[SZ_MAX_CODERS + 1];
	lzma_stream	 z = LZMA_STREAM_INIT;
	lzma_ret	 ret;
	unsigned	 k, j = 0;
	int		 ci;
	enum dec	 r = DEC_BAD;

	/* liblzma lists filters from the last applied on encode. */
	for (ci = (int)f->nc - 1; ci >= (int)from; ci--) {
		const struct coder *c = &f->c[f->order[ci]];

		memset(&fl[j], 0, sizeof(fl[j]));
		if (sz_is_id(c, "\x03\x01\x01", 3))
			fl[j].id = LZMA_FILTER_LZMA1;
		else if (sz_is_id(c, "\x21", 1))
			fl[j].id = LZMA_FILTER_LZMA2;
		else if (sz_is_id(c, "\x03\x03\x01\x03", 4))
			fl[j].id = LZMA_FILTER_X86;
		else if (sz_is_id(c, "\x03", 1))
			fl[j].id = LZMA_FILTER_DELTA;
		else
			goto out;
		if (lzma_properties_decode(&fl[j], NULL, c->props,
		    c->nprops) != LZMA_OK)
			goto out;
		/*
		 * The declared dictionary may be 4 GiB; the decoder never
		 * looks further back than what it wrote, so the output
		 * size bounds it.
		 */
		if (fl[j].id == LZMA_FILTER_LZMA1 ||
		    fl[j].id == LZMA_FILTER_LZMA2) {
			lzma_options_lzma *o = fl[j].options;

			if (o->dict_size > outn)
				o->dict_size = outn < LZMA_DICT_SIZE_MIN ?
				    LZMA_DICT_SIZE_MIN : (uint32_t)outn;
		}
		j++;
	}
	fl[j].id = LZMA_VLI_UNKNOWN;
	if (j == 0 || lzma_raw_decoder(&z, fl) != LZMA_OK)
		goto out;
	z.next_in = in;
	z.avail_in = n;
	z.next_out = out;
	z.avail_out = outn;
	ret = lzma_code(&z, LZMA_FINISH);
	if ((ret == LZMA_OK || ret == LZMA_STREAM_END) && z.avail_out == 0)
		r = DEC_OK;
	lzma_end(&z);
out:
	for (k = 0; k < j; k++)
		free(fl[k].options);
	return r;
}

static enum dec
deflate_decode(const unsigned char *in, size_t n, unsigned char *out,
    size_t outn)
{
	z_stream	z;
	int		r;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return DEC_ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)outn;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	return (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) &&
	    z.avail_out == 0 ? DEC_OK : DEC_BAD;
}

/*
 * BZip2: 7-Zip's encoder may write several streams one after the
 * other; each is decoded in turn until the output is full.
 */
static enum dec
bzip2_decode(const unsigned char *in, size_t n, unsigned char *out,
    size_t outn)
{
	bz_stream	 z;
	int		 r = BZ_STREAM_END;
	enum dec	 d = DEC_BAD;

	if (n > UINT_MAX || outn > UINT_MAX)
		return DEC_BAD;
	memset(&z, 0, sizeof(z));
	z.next_in = (char *)(uintptr_t)in;
	z.avail_in = (unsigned)n;
	z.next_out = (char *)out;
	z.avail_out = (unsigned)outn;
	while (r == BZ_STREAM_END && z.avail_out > 0 && z.avail_in > 0) {
		if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
			return DEC_ENOMEM;
		while ((r = BZ2_bzDecompress(&z)) == BZ_OK && z.avail_out > 0 &&
		    z.avail_in > 0)
			;
		(void)BZ2_bzDecompressEnd(&z);
	}
	if ((r == BZ_STREAM_END || r == BZ_OK) && z.avail_out == 0)
		d = DEC_OK;
	return d;
}

/* Does the folder need a key?  Is every coder one we have? */
bool
sz_folder_encrypted(const struct folder *f)
{
	unsigned	k;

	for (k = 0; k < f->nc; k++)
		if (sz_is_id(&f->c[k], "\x06\xf1\x07\x01", 4))
			return true;
	return false;
}

static bool
coder_known(const struct coder *c)
{
	return sz_is_id(c, "\x06\xf1\x07\x01", 4) || sz_is_id(c, "\x00", 1) ||
	    sz_is_id(c, "\x03\x01\x01", 3) || sz_is_id(c, "\x21", 1) ||
	    sz_is_id(c, "\x03\x03\x01\x03", 4) || sz_is_id(c, "\x03", 1) ||
	    sz_is_id(c, "\x04\x01\x08", 3) || sz_is_id(c, "\x04\x02\x02", 3);
}

bool
sz_folder_supported(const struct folder *f)
{
	unsigned	k;

	for (k = 0; k < f->nc; k++)
		if (!coder_known(&f->c[k]))
			return false;
	return f->chain;
}

/*
 * Decode one folder with key (NULL: none) into *out.  Intermediate
 * sizes are bounded by max.
 */
enum dec
sz_folder_decode(const struct folder *f, const unsigned char *d,
    const unsigned char *key, uint64_t max, unsigned char **out)
{
	const unsigned char	*in = d + f->packpos;
	unsigned char		*buf = NULL, *prev = NULL;
	size_t			 n = (size_t)f->packsize, on;
	unsigned		 k;
	enum dec		 r = DEC_OK;

	*out = NULL;
	if (!sz_folder_supported(f))
		return DEC_UNSUPPORTED;
	for (k = 0; k < f->nc; k++) {
		const struct coder *c = &f->c[f->order[k]];

		if (f->usize[f->order[k]] > max)
			r = DEC_BAD;
		if (r != DEC_OK)
			break;
		on = (size_t)f->usize[f->order[k]];
		if ((buf = malloc(on > 0 ? on : 1)) == NULL) {
			r = DEC_ENOMEM;
			break;
		}
		if (sz_is_id(c, "\x06\xf1\x07\x01", 4)) {
			if (key == NULL || on > n)
				r = DEC_BAD;
			else if (n % 16 != 0)
				r = DEC_BAD;
			else {
				unsigned char *full = malloc(n > 0 ? n : 1);

				if (full == NULL)
					r = DEC_ENOMEM;
				else {
					r = aes_decode(c, key, in, n, full);
					memcpy(buf, full, on);
					free(full);
				}
			}
		} else if (sz_is_id(c, "\x00", 1)) {
			if (on > n)
				r = DEC_BAD;
			else
				memcpy(buf, in, on);
		} else if (sz_is_id(c, "\x04\x01\x08", 3)) {
			r = deflate_decode(in, n, buf, on);
		} else if (sz_is_id(c, "\x04\x02\x02", 3)) {
			r = bzip2_decode(in, n, buf, on);
		} else {
			/* The rest of the chain is liblzma's. */
			free(buf);
			on = (size_t)f->size;
			if (f->size > max) {
				r = DEC_BAD;
				buf = NULL;
				break;
			}
			if ((buf = malloc(on > 0 ? on : 1)) == NULL) {
				r = DEC_ENOMEM;
				break;
			}
			r = lzma_chain(f, k, in, n, buf, on);
			k = f->nc;
		}
		free(prev);
		prev = buf;
		buf = NULL;
		in = prev;
		n = on;
		if (k >= f->nc)
			break;
	}
	if (r != DEC_OK) {
		free(buf);
		free(prev);
		return r;
	}
	*out = prev;
	return DEC_OK;
}
