/*
 * zipdec.c: a decrypted zip entry's data, decompressed by its method.
 *
 * Takes the plain (still compressed) data of an entry archive.c
 * decrypted itself, its method, declared sizes and CRC; returns the
 * entry's bytes.  Stored data is copied, Deflate inflated by zlib,
 * BZip2 by libbz2 (several streams one after the other, as 7-Zip
 * writes them), LZMA (method 14: a 4-byte version and size header,
 * 5 property bytes, the stream with or without its end marker) by
 * liblzma.  zipdec_fread answers as libzip's zip_fread does for the
 * same entry, so archive.c's read_entry reads both alike: full reads
 * until the end, then 0, or -1 once an error or a failed end check
 * (the CRC, a stored entry's declared size) is met; data that stops
 * short of its stream's end ends there (the CRC decides), bytes after
 * a stream's end are ignored.
 *
 * Bounds: none of its own beyond the caller's want (read_entry applies
 * the archive limits); LZMA's dictionary is cut to the caller's max,
 * since the decoder never looks back further than what it wrote.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

#include "bytes.h"
#include "zipdec.h"

#define ZD_LZMA_HDR	9

/* One decoder on one entry's input. */
struct zipdec {
	struct zipdec_entry	 e;
	uLong			 crc;		/* of what was written */
	uint64_t		 out;		/* bytes written */
	bool			 failed;	/* an error was returned */
	unsigned		 method;
	const unsigned char	*in;
	size_t			 n, pos;	/* input, how far read */
	bool			 end, bad;
	bool			 bz_open;
	z_stream		 z;
	bz_stream		 bz;
	lzma_stream		 lz;
};

bool
zipdec_supported(unsigned method)
{
	return method == 0 || method == 8 || method == 12 || method == 14;
}

static unsigned
avail(const struct zipdec *d)
{
	return d->n - d->pos > UINT_MAX ? UINT_MAX : (unsigned)(d->n - d->pos);
}

static bool
lzma_open(struct zipdec *d, size_t max, const struct zipdec_entry *e)
{
	lzma_filter		 fl[2];
	lzma_options_lzma	*o;
	bool			 ok;

	/* Version (2 bytes), size of the properties (2: always 5), them. */
	if (d->n < ZD_LZMA_HDR || le16(d->in + 2) != 5)
		return false;
	memset(fl, 0, sizeof(fl));
	fl[0].id = LZMA_FILTER_LZMA1EXT;
	fl[1].id = LZMA_VLI_UNKNOWN;
	if (lzma_properties_decode(&fl[0], NULL, d->in + 4, 5) != LZMA_OK)
		return false;
	o = fl[0].options;
	/* The declared size ends the stream: no output goes past it. */
	if (e->size_valid && e->size < max)
		max = (size_t)e->size;
	if (o->dict_size > max)
		o->dict_size = max < LZMA_DICT_SIZE_MIN ? LZMA_DICT_SIZE_MIN :
		    (uint32_t)max;
	/* The declared size ends it, or the end marker does. */
	o->ext_flags = LZMA_LZMA1EXT_ALLOW_EOPM;
	o->ext_size_low = e->size_valid ? (uint32_t)e->size : UINT32_MAX;
	o->ext_size_high = e->size_valid ? (uint32_t)(e->size >> 32) :
	    UINT32_MAX;
	ok = lzma_raw_decoder(&d->lz, fl) == LZMA_OK;
	free(fl[0].options);
	d->pos = ZD_LZMA_HDR;
	return ok;
}

static bool
dec_open(struct zipdec *d, const struct zipdec_entry *e,
    const unsigned char *in, size_t n, size_t max)
{
	d->e = *e;
	d->crc = crc32(0L, Z_NULL, 0);
	d->method = e->method;
	d->in = in;
	d->n = n;
	d->lz = (lzma_stream)LZMA_STREAM_INIT;
	switch (e->method) {
	case 0:
	case 12:			/* BZip2: opened per stream */
		return true;
	case 8:
		return inflateInit2(&d->z, -15) == Z_OK;
	default:
		return lzma_open(d, max, e);
	}
}

struct zipdec *
zipdec_open(const struct zipdec_entry *e, const unsigned char *in,
    size_t n, size_t max)
{
	struct zipdec	*d;

	if (!zipdec_supported(e->method) ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (!dec_open(d, e, in, n, max))
		/* Bad LZMA properties: every read fails, as libzip's would. */
		d->failed = true;
	return d;
}

void
zipdec_close(struct zipdec *d)
{
	if (d == NULL)
		return;
	if (d->method == 8)
		(void)inflateEnd(&d->z);
	if (d->bz_open)
		(void)BZ2_bzDecompressEnd(&d->bz);
	lzma_end(&d->lz);
	free(d);
}

/* One call of the method's decoder into out[0..room); bytes written. */
static size_t
dec_step(struct zipdec *d, unsigned char *out, unsigned room)
{
	unsigned	in0 = avail(d), got;
	int		zr;
	lzma_ret	lr;

	switch (d->method) {
	case 0:
		got = in0 < room ? in0 : room;
		memcpy(out, d->in + d->pos, got);
		d->pos += got;
		d->end = d->pos == d->n;
		return got;
	case 8:
		d->z.next_in = (Bytef *)(uintptr_t)(d->in + d->pos);
		d->z.avail_in = in0;
		d->z.next_out = out;
		d->z.avail_out = room;
		zr = inflate(&d->z, Z_SYNC_FLUSH);
		d->pos += in0 - d->z.avail_in;
		got = room - d->z.avail_out;
		d->end = zr == Z_STREAM_END || (zr == Z_BUF_ERROR &&
		    d->pos == d->n);
		d->bad = zr != Z_OK && !d->end;
		return got;
	case 12:
		if (!d->bz_open) {
			/* What follows a stream is another one or ignored. */
			if (d->n - d->pos < 3 ||
			    memcmp(d->in + d->pos, "BZh", 3) != 0) {
				d->end = true;
				return 0;
			}
			if (BZ2_bzDecompressInit(&d->bz, 0, 0) != BZ_OK) {
				d->bad = true;
				return 0;
			}
			d->bz_open = true;
		}
		d->bz.next_in = (char *)(uintptr_t)(d->in + d->pos);
		d->bz.avail_in = in0;
		d->bz.next_out = (char *)out;
		d->bz.avail_out = room;
		zr = BZ2_bzDecompress(&d->bz);
		d->pos += in0 - d->bz.avail_in;
		got = room - d->bz.avail_out;
		if (zr == BZ_STREAM_END) {
			/* Another stream may follow. */
			(void)BZ2_bzDecompressEnd(&d->bz);
			d->bz_open = false;
		} else if (zr != BZ_OK)
			d->bad = true;
		else if (got == 0 && d->pos == d->n)
			d->end = true;
		return got;
	default:
		d->lz.next_in = d->in + d->pos;
		d->lz.avail_in = in0;
		d->lz.next_out = out;
		d->lz.avail_out = room;
		lr = lzma_code(&d->lz, LZMA_RUN);
		d->pos += in0 - d->lz.avail_in;
		got = room - (unsigned)d->lz.avail_out;
		d->end = lr == LZMA_STREAM_END || (lr == LZMA_BUF_ERROR &&
		    d->pos == d->n) || (lr == LZMA_OK && got == 0 &&
		    d->pos == d->n);
		d->bad = lr != LZMA_OK && !d->end;
		return got;
	}
}

/* Fill out[0..want) as zip_fread would: short only at the end. */
static size_t
dec_fill(struct zipdec *d, unsigned char *out, size_t want)
{
	size_t	got = 0, room, pos, k;

	while (got < want && !d->end && !d->bad) {
		room = want - got > UINT_MAX ? UINT_MAX : want - got;
		pos = d->pos;
		k = dec_step(d, out + got, (unsigned)room);
		/* A decoder that neither reads nor writes has ended. */
		if (k == 0 && pos == d->pos)
			d->end = true;
		got += k;
	}
	return got;
}

/*
 * The checks libzip makes once the data ends: the CRC unless the
 * declared one is AE-2's 0, then a stored entry's declared size (for
 * compressed data libzip compares the size with itself).
 */
static bool
end_ok(const struct zipdec *d)
{
	if (d->crc != d->e.crc)
		return d->e.crc == 0;
	return d->e.method != 0 || !d->e.size_valid || d->e.size == d->out;
}

int64_t
zipdec_fread(struct zipdec *d, void *buf, size_t want)
{
	size_t	got, off, k;

	if (d->failed)
		return -1;
	if (want > INT64_MAX)
		want = INT64_MAX;
	if ((got = dec_fill(d, buf, want)) == 0) {
		/* The end (or an error) shows as the next read: libzip. */
		if (want > 0 && (d->bad || !end_ok(d))) {
			d->failed = true;
			return -1;
		}
		return 0;
	}
	for (off = 0; off < got; off += k) {
		k = got - off > UINT_MAX ? UINT_MAX : got - off;
		d->crc = crc32(d->crc, (const Bytef *)buf + off, (uInt)k);
	}
	d->out += got;
	return (int64_t)got;
}
