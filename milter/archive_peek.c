/*
 * archive_peek.c: a zip's central directory read without libzip.
 *
 * Counts the entries, sees encryption flags and entry names, and finds
 * entries whose data overlap (the overlapping-entry bomb), before
 * libzip allocates anything: archive.c uses it to refuse a zip over
 * limits.archive_entries, content.c and filetype.c to tell an OOXML or
 * ODF package from a plain zip.  Bounded by the bytes given; a ZIP64
 * extra field supplies the sizes and offset a 32-bit field leaves at
 * 0xffffffff.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"

struct span {
	uint64_t	start, end;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Zip64 extended information: the fields whose 32-bit value is ~0. */
static void
zip64_fix(const unsigned char *x, size_t xlen, uint64_t *usize,
    uint64_t *csize, uint64_t *off)
{
	size_t		i = 0, n, k;
	uint64_t       *want[3] = { usize, csize, off };

	while (xlen >= 4 && i <= xlen - 4) {
		n = le16(x + i + 2);
		if (n > xlen - i - 4)
			return;
		if (le16(x + i) == 0x0001) {
			size_t p = i + 4;

			for (k = 0; k < 3; k++) {
				if (*want[k] != 0xffffffff)
					continue;
				if (p + 8 > i + 4 + n)
					return;
				*want[k] = le64(x + p);
				p += 8;
			}
			return;
		}
		i += 4 + n;
	}
}

enum lw_err
archive_peek(const unsigned char *d, size_t len, uint64_t max_entries,
    bool check_overlap, struct zip_peek *zp)
{
	struct span	*sp = NULL;
	size_t		 pos, stop, p, nlen, xlen, clen, nsp = 0;
	uint64_t	 cd_off, cd_size, i, lo, cs, us;
	const unsigned char *e;

	memset(zp, 0, sizeof(*zp));
	if (len < 22)
		return LW_OK;
	/*
	 * The end record: last "PK\5\6" whose comment fits the file.
	 * memrchr finds the candidates' 'P' (every part that is no zip is
	 * searched here, 64 KiB from its end).
	 */
	stop = len - 22 > 65535 ? len - 22 - 65535 : 0;
	for (pos = len - 22 + 1; ; pos = (size_t)(e - d)) {
		if (pos <= stop ||
		    (e = memrchr(d + stop, 'P', pos - stop)) == NULL)
			return LW_OK;
		if (memcmp(e, "PK\005\006", 4) == 0 &&
		    le16(e + 20) <= len - (size_t)(e - d) - 22)
			break;
	}
	pos = (size_t)(e - d);
	zp->eocd = true;
	zp->nentries = le16(e + 10);
	cd_size = le32(e + 12);
	cd_off = le32(e + 16);
	if ((zp->nentries == 0xffff || cd_size == 0xffffffff ||
	    cd_off == 0xffffffff) && pos >= 20 &&
	    memcmp(d + pos - 20, "PK\006\007", 4) == 0) {
		uint64_t o = le64(d + pos - 20 + 8);

		if (o < len && len - o >= 56 &&
		    memcmp(d + o, "PK\006\006", 4) == 0) {
			zp->nentries = le64(d + o + 32);
			cd_size = le64(d + o + 40);
			cd_off = le64(d + o + 48);
		}
	}
	zp->cd_ok = cd_off <= len && cd_size <= len - cd_off;
	if (!zp->cd_ok)
		return LW_OK;
	if (check_overlap) {
		uint64_t n = zp->nentries < max_entries ? zp->nentries :
		    max_entries;

		if (n > 0 && (sp = reallocarray(NULL, n, sizeof(*sp))) == NULL)
			return LW_ENOMEM;
	}
	p = cd_off;
	for (i = 0; i < zp->nentries && i < max_entries; i++) {
		if (len - p < 46 || memcmp(d + p, "PK\001\002", 4) != 0) {
			zp->cd_ok = false;
			break;
		}
		nlen = le16(d + p + 28);
		xlen = le16(d + p + 30);
		clen = le16(d + p + 32);
		if (nlen + xlen + clen > len - p - 46) {
			zp->cd_ok = false;
			break;
		}
		if (le16(d + p + 8) & 1)
			zp->encrypted = true;
		if (nlen == 19 && memcmp(d + p + 46, "[Content_Types].xml",
		    19) == 0)
			zp->content_types = true;
		if (nlen == 8 && memcmp(d + p + 46, "mimetype", 8) == 0)
			zp->mimetype = true;
		cs = le32(d + p + 20);
		us = le32(d + p + 24);
		lo = le32(d + p + 42);
		zip64_fix(d + p + 46 + nlen, xlen, &us, &cs, &lo);
		if (sp != NULL) {
			/* Data extent: local header, name, extra, data. */
			if (lo > len || len - lo < 30 ||
			    memcmp(d + lo, "PK\003\004", 4) != 0) {
				zp->cd_ok = false;
			} else {
				sp[nsp].start = lo;
				sp[nsp].end = lo + 30 + le16(d + lo + 26) +
				    le16(d + lo + 28) +
				    (cs < len ? cs : len);
				nsp++;
			}
		}
		p += 46 + nlen + xlen + clen;
	}
	zp->walked = i;
	if (sp != NULL && nsp > 1) {
		qsort(sp, nsp, sizeof(*sp), span_cmp);
		for (i = 1; i < nsp; i++)
			if (sp[i].start < sp[i - 1].end) {
				zp->overlap = true;
				break;
			}
	}
	free(sp);
	return LW_OK;
}
