/*
 * floor: the decode+inflate floor of issue 22.  Takes message files and
 * does, over and over in one thread, the least any content scanner must
 * do with them: base64-decode every body part that says
 * "Content-Transfer-Encoding: base64" (with the engine's decoder,
 * charset_base64_decode) and, where the decoded part is a zip, inflate
 * every unencrypted deflated entry the central directory lists (zlib,
 * output thrown away).  No MIME tree, no charset, no analysis; nested
 * zips are not opened.  bench/bench.sh divides the engine's messages/s
 * by this one's: lurewall's share of the floor on the same messages.
 *
 * Usage: floor [-d SECONDS] [-N MAX] FILE...  Prints one line,
 *	floor,FILES,PASSES,SECONDS,MSGS_PER_S,DECODED_BYTES,INFLATED_BYTES
 * Each run lasts at least -d seconds (default 2) and one pass, and
 * stops after -N messages whatever the time (bounded).
 * Files are read into memory before timing starts.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zlib.h>

#include "charset.h"

#include "load.h"

#define MAX_FILES	4096
#define CTE		"content-transfer-encoding:"

/* Scratch shared by every message: decoded part, inflate output. */
static unsigned char	*dec;
static size_t		 deccap;
static unsigned char	 out[65536];
static uint64_t		 decoded, inflated;

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Inflate csize bytes of raw deflate at p; the output is dropped. */
static void
inflate_entry(const unsigned char *p, size_t csize)
{
	z_stream	z;
	int		r;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
		return;
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)csize;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		r = inflate(&z, Z_NO_FLUSH);
		inflated += sizeof(out) - z.avail_out;
	} while (r == Z_OK && z.avail_out == 0);
	inflateEnd(&z);
}

/* Every unencrypted deflated entry of the zip in z[0..n). */
static void
zip_entries(const unsigned char *z, size_t n)
{
	size_t		 eocd, cd, cdend, lh, data, csize;
	uint16_t	 nlen, xlen, clen, flags, method;

	if (n < 22 || memcmp(z, "PK\3\4", 4) != 0)
		return;
	/* The end record: the last PK\5\6, within 64 KiB of the end. */
	for (eocd = n - 22; ; eocd--) {
		if (memcmp(z + eocd, "PK\5\6", 4) == 0)
			break;
		if (eocd == 0 || n - eocd > 65536 + 22)
			return;
	}
	cd = le32(z + eocd + 16);
	cdend = cd + le32(z + eocd + 12);
	if (cdend > eocd || cd > cdend)
		return;
	while (cd + 46 <= cdend && memcmp(z + cd, "PK\1\2", 4) == 0) {
		flags = le16(z + cd + 8);
		method = le16(z + cd + 10);
		csize = le32(z + cd + 20);
		nlen = le16(z + cd + 28);
		xlen = le16(z + cd + 30);
		clen = le16(z + cd + 32);
		lh = le32(z + cd + 42);
		cd += 46u + nlen + xlen + clen;
		if ((flags & 1) != 0 || method != 8 || lh + 30 > n ||
		    memcmp(z + lh, "PK\3\4", 4) != 0)
			continue;
		data = lh + 30 + le16(z + lh + 26) + le16(z + lh + 28);
		if (data > n || csize > n - data)
			continue;
		inflate_entry(z + data, csize);
	}
}

/* Decode the base64 body that starts at p; returns where it ends. */
static const char *
part(const char *p, const char *end)
{
	const char	*b, *e;
	size_t		 n, need;
	bool		 bad = false;
	unsigned char	*nd;

	/* The body: after the part's blank line, up to the next "--". */
	if ((b = memmem(p, (size_t)(end - p), "\n\r\n", 3)) == NULL &&
	    (b = memmem(p, (size_t)(end - p), "\n\n", 2)) == NULL)
		return end;
	b += b[1] == '\r' ? 3 : 2;
	if ((e = memmem(b, (size_t)(end - b), "\n--", 3)) == NULL)
		e = end;
	need = (size_t)(e - b) / 4 * 3 + 3;
	if (need > deccap) {
		if ((nd = realloc(dec, need)) == NULL)
			return e;
		dec = nd;
		deccap = need;
	}
	n = charset_base64_decode(b, (size_t)(e - b), dec, &bad);
	decoded += n;
	zip_entries(dec, n);
	return e;
}

/* One message: every base64 part, every zip in them. */
static void
floor_msg(const struct bench_msg *m)
{
	const char	*h = (const char *)m->raw, *end = h + m->len, *v, *nl;

	/* h: the start of a line */
	while (h < end) {
		if ((size_t)(end - h) >= sizeof(CTE) - 1 &&
		    strncasecmp(h, CTE, sizeof(CTE) - 1) == 0) {
			for (v = h + sizeof(CTE) - 1; v < end &&
			    isblank((unsigned char)*v); v++)
				;
			if ((size_t)(end - v) >= 6 &&
			    strncasecmp(v, "base64", 6) == 0)
				h = part(v, end);
		}
		if ((nl = memchr(h, '\n', (size_t)(end - h))) == NULL)
			break;
		h = nl + 1;
	}
}

int
main(int argc, char **argv)
{
	struct bench_msg *msgs;
	double		 secs = 2, t;
	uint64_t	 max = 1000000, done = 0, passes = 0, t0, dl;
	size_t		 i, n;
	int		 c;

	while ((c = getopt(argc, argv, "d:N:")) != -1) {
		switch (c) {
		case 'd':
			secs = strtod(optarg, NULL);
			break;
		case 'N':
			max = strtoull(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > MAX_FILES || max == 0)
		goto usage;
	n = (size_t)argc;
	if ((msgs = bench_load("floor", argv, n, UINT64_MAX)) == NULL)
		return 1;
	t0 = bench_now_ns();
	dl = t0 + (uint64_t)(secs * 1e9);
	do {
		for (i = 0; i < n && done < max; i++, done++)
			floor_msg(&msgs[i]);
		passes++;
	} while (done < max && bench_now_ns() < dl);
	t = (double)(bench_now_ns() - t0) / 1e9;
	printf("floor,%zu,%llu,%.3f,%.1f,%llu,%llu\n", n,
	    (unsigned long long)passes, t, (double)done / t,
	    (unsigned long long)decoded, (unsigned long long)inflated);
	bench_free(msgs, n);
	free(dec);
	return 0;
usage:
	fprintf(stderr, "usage: floor [-d SECONDS] [-N MAX] FILE...\n");
	return 2;
}
