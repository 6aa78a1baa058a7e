/*
 * 1018-zip-end-record: archive_peek finds a zip's end record (memrchr
 * for the candidates' 'P') where a byte-by-byte backward search finds
 * it: the last "PK\5\6" in the final 64 KiB + 22 bytes whose comment
 * length fits the file.  Random buffers with planted records (some
 * whose comment would run past the end, some too far from the end, some
 * cut), "P" and "PK" decoys, and lengths around 22 and 65,557.  The
 * entry count the record claims tells which record was taken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "archive.h"
#include "tap.h"

static uint64_t	rng = 0x6a09e667f3bcc909ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16) % n;
}

/* Offset of the end record a backward byte-by-byte search takes, or -1. */
static long
ref_eocd(const unsigned char *d, size_t len)
{
	size_t	pos, stop;

	if (len < 22)
		return -1;
	stop = len - 22 > 65535 ? len - 22 - 65535 : 0;
	for (pos = len - 22; ; pos--) {
		if (memcmp(d + pos, "PK\005\006", 4) == 0 &&
		    (size_t)(d[pos + 20] | d[pos + 21] << 8) <= len - pos - 22)
			return (long)pos;
		if (pos == stop)
			return -1;
	}
}

int
main(void)
{
	unsigned char	*d;
	struct zip_peek	 zp;
	size_t		 len, at, i, k, cmt;
	long		 want;
	unsigned	 round, nrun = 0, ndiff = 0, nfound = 0;
	bool		 same;

	if ((d = malloc(140000)) == NULL)
		bail("out of memory");
	for (round = 0; round < 4000; round++) {
		switch (round % 4) {
		case 0:
			len = rnd(100);
			break;
		case 1:
			len = 65557 - 50 + rnd(100);
			break;
		default:
			len = rnd(140000);
			break;
		}
		for (i = 0; i < len; i++)
			d[i] = round % 3 == 0 ? (unsigned char)"PK\5\6x"[rnd(5)] :
			    (unsigned char)rnd(256);
		/* Records with an entry count that names them. */
		for (k = rnd(5); k > 0 && len >= 22; k--) {
			at = len - 22 - rnd((uint32_t)(len - 21 < 70000 ?
			    len - 21 : 70000));
			memcpy(d + at, "PK\005\006", 4);
			d[at + 10] = (unsigned char)k;
			d[at + 11] = (unsigned char)(round & 0xff);
			cmt = rnd(3) == 0 ? len - at - 22 + rnd(3) :
			    rnd((uint32_t)(len - at - 21));
			d[at + 20] = (unsigned char)(cmt & 0xff);
			d[at + 21] = (unsigned char)(cmt >> 8 & 0xff);
		}
		want = ref_eocd(d, len);
		if (archive_peek(d, len, 0, false, &zp) != LW_OK)
			bail("archive_peek failed");
		nrun++;
		if (want >= 0)
			nfound++;
		same = want < 0 ? !zp.eocd : zp.eocd &&
		    zp.nentries == (uint64_t)(d[want + 10] | d[want + 11] << 8);
		if (!same && ndiff++ < 5)
			diag("round %u (%zu bytes): reference at %ld, peek %s "
			    "%llu entries", round, len, want, zp.eocd ?
			    "found" : "none", (unsigned long long)zp.nentries);
	}
	ok(ndiff == 0, "end record: same as a backward byte search in %u "
	    "buffers", nrun);
	ok(nfound > nrun / 4 && nfound < nrun, "found in %u of them", nfound);
	free(d);
	return done_testing();
}
