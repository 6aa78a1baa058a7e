/*
 * 0009-base64: charset_base64_decode (eight characters at a time
 * through a table of character pairs, CR LF as one step) gives what a
 * character-at-a-time decoder gives: the same bytes, the same length,
 * the same "bad" flag, and never a byte past its documented bound
 * (len / 4 * 3 + 3).  Inputs: random data encoded with and without
 * padding, wrapped at 76 with CRLF or LF, and hostile text: stray
 * bytes (NUL, 8-bit, punctuation) in a body, padding missing, '=' in
 * the middle of a quantum or of a line, spaces, bare CR, lone sixths.
 * The reference is the decoder before the fast paths.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "tap.h"

static const char	alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789+/";

/* One character at a time, each through the quantum state machine. */
static size_t
ref_decode(const unsigned char *p, size_t len, unsigned char *out,
    bool *bad)
{
	const char	*c;
	uint32_t	 acc = 0;
	size_t		 i, o = 0;
	int		 nq = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\0' || (c = strchr(alpha, p[i])) == NULL) {
			if (p[i] == '=') {
				if (nq == 1)
					*bad = true;
				nq = 0;
				acc = 0;
			} else if (p[i] != ' ' && p[i] != '\t' &&
			    p[i] != '\r' && p[i] != '\n')
				*bad = true;
			continue;
		}
		acc = acc << 6 | (uint32_t)(c - alpha);
		switch (++nq) {
		case 2:
			out[o++] = (unsigned char)(acc >> 4);
			break;
		case 3:
			out[o - 1] = (unsigned char)(acc >> 10);
			out[o++] = (unsigned char)(acc >> 2);
			break;
		case 4:
			out[o - 2] = (unsigned char)(acc >> 16);
			out[o - 1] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			nq = 0;
			acc = 0;
			break;
		}
	}
	if (nq == 1)
		*bad = true;
	return o;
}

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16) % n;
}

static unsigned	nrun, ndiff, nbad;

static void
check(const char *what, const unsigned char *in, size_t len)
{
	unsigned char	*a, *b;
	size_t		 cap = len / 4 * 3 + 3, na, nb;
	bool		 bada = false, badb = false;

	/* Canary bytes past the bound: the decoder must not touch them. */
	if ((a = malloc(cap + 8)) == NULL || (b = malloc(cap + 8)) == NULL)
		bail("out of memory");
	memset(a, 0xa5, cap + 8);
	memset(b, 0x5a, cap + 8);
	na = charset_base64_decode((const char *)in, len, a, &bada);
	nb = ref_decode(in, len, b, &badb);
	nrun++;
	if (bada)
		nbad++;
	if (na != nb || bada != badb || memcmp(a, b, na) != 0 ||
	    a[cap] != 0xa5 || a[cap + 7] != 0xa5) {
		if (ndiff++ < 5)
			diag("%s (%zu bytes): %zu bytes bad=%d, reference %zu "
			    "bytes bad=%d%s", what, len, na, bada, nb, badb,
			    a[cap] != 0xa5 ? ", wrote past the bound" : "");
	}
	free(a);
	free(b);
}

/* Random bytes encoded; wrap 0: one line; pad: keep the '='s. */
static size_t
encode(unsigned char *dst, const unsigned char *src, size_t n,
    size_t wrap, bool crlf, bool pad)
{
	size_t		i, o = 0, col = 0, k, m;
	uint32_t	v;
	char		q[4];

	for (i = 0; i < n; i += 3) {
		m = n - i >= 3 ? 3 : n - i;
		v = (uint32_t)src[i] << 16;
		if (m > 1)
			v |= (uint32_t)src[i + 1] << 8;
		if (m > 2)
			v |= src[i + 2];
		for (k = 0; k < 4; k++)
			q[k] = k <= m ? alpha[v >> (18 - 6 * k) & 63] : '=';
		for (k = 0; k < 4; k++) {
			if (q[k] == '=' && !pad)
				break;
			dst[o++] = (unsigned char)q[k];
			if (wrap > 0 && ++col == wrap) {
				if (crlf)
					dst[o++] = '\r';
				dst[o++] = '\n';
				col = 0;
			}
		}
	}
	return o;
}

/* Bytes a hostile body mixes in, weighted towards the alphabet. */
static unsigned char
hostile_byte(void)
{
	static const char	odd[] = "=\r\n \t-_.,:!*";
	uint32_t		r = rnd(100);

	if (r < 70)
		return (unsigned char)alpha[rnd(64)];
	if (r < 90)
		return (unsigned char)odd[rnd(sizeof(odd) - 1)];
	return (unsigned char)rnd(256);
}

int
main(void)
{
	unsigned char	*src, *enc;
	size_t		 n, len, i, k, wraps[] = { 0, 4, 60, 64, 76, 77 };
	unsigned	 round;

	if ((src = malloc(8192)) == NULL || (enc = malloc(8192 * 2)) == NULL)
		bail("out of memory");

	/* Well-formed: every length 0..300, then random ones to 6000. */
	for (round = 0; round < 6000; round++) {
		n = round < 301 ? round : rnd(6000);
		for (i = 0; i < n; i++)
			src[i] = (unsigned char)rnd(256);
		len = encode(enc, src, n, wraps[round % 6], round % 2 == 0,
		    round % 3 != 0);
		check("encoded", enc, len);
	}
	ok(ndiff == 0, "encoded data: same bytes, length and flag in %u "
	    "runs", nrun);

	/* Encoded data with damage: each kind of hostile byte somewhere. */
	nrun = ndiff = 0;
	for (round = 0; round < 40000; round++) {
		n = rnd(600);
		for (i = 0; i < n; i++)
			src[i] = (unsigned char)rnd(256);
		len = encode(enc, src, n, wraps[round % 6], round % 2 == 0,
		    round % 3 != 0);
		for (k = rnd(4); k > 0 && len > 0; k--)
			enc[rnd((uint32_t)len)] = hostile_byte();
		/* '=' in the middle of a quantum, or a cut body. */
		if (round % 5 == 0 && len > 0)
			enc[rnd((uint32_t)len)] = '=';
		if (round % 7 == 0 && len > 0)
			len = rnd((uint32_t)len);
		check("damaged", enc, len);
	}
	ok(ndiff == 0, "damaged encodings: same in %u runs", nrun);

	/* Random text from a hostile alphabet, short and long. */
	nrun = ndiff = nbad = 0;
	for (round = 0; round < 100000; round++) {
		len = round % 100 == 0 ? rnd(8192) : rnd(40);
		for (i = 0; i < len; i++)
			enc[i] = hostile_byte();
		check("hostile", enc, len);
	}
	ok(ndiff == 0, "hostile text: same in %u runs", nrun);
	ok(nbad > nrun / 2 && nbad < nrun, "the flag both set (%u) and not "
	    "(%u) among them", nbad, nrun - nbad);

	/* Hand-picked: padding inside, bare CR, CR at the very end. */
	{
		static const char *const cases[] = {
			"", "=", "A", "AB", "ABC", "ABCD", "AB==CD==",
			"QUJD=REVG", "QUJDREVG\r", "QUJDREVG\r\n\r\n",
			"QU\rJDREVG", "QUJD\nREVGR0hJ", "QUJDREVGR0hJSktM=",
			"QUJDREVGR0hJSkt", "QUJDREVGR0hJS", "QUJDREVG\rR0hJ",
			"====QUJD", "QUJD\x80REVG", "QUJD\0REVG", "A\r\nB\r\nC",
		};

		nrun = ndiff = 0;
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			check(cases[i], (const unsigned char *)cases[i],
			    i == 18 ? 9 : strlen(cases[i]));
		ok(ndiff == 0, "%u hand-picked cases", nrun);
	}
	free(src);
	free(enc);
	return done_testing();
}
