/*
 * iso2022jp.c: ISO-2022-JP text -> CP932 bytes.
 *
 * glibc's ISO-2022-JP converter stops at the NEC special characters
 * (row 13: circled digits, (株)) and the NEC-selected IBM extensions
 * (rows 89-92) that Japanese mailers put in ISO-2022-JP mail.  JIS X
 * 0208 row/cell pairs map to Shift_JIS by fixed arithmetic, and CP932
 * defines exactly those extension rows at the arithmetic positions, so
 * we shift the bytes ourselves and let iconv do CP932 -> UTF-8.
 *
 * Takes: ESC ( B (ASCII), ESC ( J (JIS-Roman, treated as ASCII),
 * ESC $ @ and ESC $ B (JIS X 0208), ESC $ ( Q / ESC $ ( O (JIS X 0213
 * plane 1, whose common part is JIS X 0208), ESC ( I and SO/SI
 * (half-width katakana).  Ignores: other escape sequences (dropped),
 * JIS X 0212 (ESC $ ( D; its characters become '?').  A line end
 * returns to ASCII, as mail clients do for writers that forget ESC ( B.
 * 8-bit bytes pass through untouched (raw CP932 in a mislabelled mail).
 * Output is never longer than the input plus one byte.
 */
#include <stdlib.h>
#include <string.h>

#include "iso2022jp.h"

enum jis_mode {
	MODE_ASCII,
	MODE_KANJI,		/* JIS X 0208 (or 0213 plane 1) */
	MODE_KANA,		/* JIS X 0201 katakana, 7-bit */
	MODE_OTHER		/* a double-byte set we cannot map */
};

/*
 * Recognise the escape sequence at p (p[0] == ESC); return its length
 * (0 when unknown) and the mode it selects.
 */
static size_t
jis_escape(const unsigned char *p, size_t left, enum jis_mode *mode)
{
	if (left >= 3 && p[1] == '(') {
		if (p[2] == 'B' || p[2] == 'J' || p[2] == 'H') {
			*mode = MODE_ASCII;
			return 3;
		}
		if (p[2] == 'I') {
			*mode = MODE_KANA;
			return 3;
		}
	}
	if (left >= 3 && p[1] == '$' && (p[2] == '@' || p[2] == 'B')) {
		*mode = MODE_KANJI;
		return 3;
	}
	if (left >= 4 && p[1] == '$' && p[2] == '(') {
		if (p[3] == 'Q' || p[3] == 'O' || p[3] == 'B' ||
		    p[3] == '@') {
			*mode = MODE_KANJI;
			return 4;
		}
		*mode = MODE_OTHER;
		return 4;
	}
	/* ESC & @ ESC $ B announces JIS X 0208-1990: the first half
	   leaves *mode as it is. */
	if (left >= 3 && p[1] == '&' && p[2] == '@')
		return 3;
	return 0;
}

enum lw_err
iso2022jp_to_cp932(const char *in, size_t len, char **out, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	unsigned char		*o, *buf;
	enum jis_mode		 mode = MODE_ASCII, m;
	bool			 shifted = false;	/* inside SO ... SI */
	unsigned		 c1, c2;
	size_t			 i = 0, n;

	if ((buf = malloc(len + 1)) == NULL)
		return LW_ENOMEM;
	o = buf;
	while (i < len) {
		c1 = p[i];
		if (c1 == 0x1b) {
			m = mode;
			if ((n = jis_escape(p + i, len - i, &m)) != 0) {
				mode = m;
				i += n;
			} else
				i++;	/* unknown escape: drop ESC */
			continue;
		}
		if (c1 == 0x0e) {
			shifted = true;
			i++;
			continue;
		}
		if (c1 == 0x0f) {
			shifted = false;
			i++;
			continue;
		}
		if (c1 == '\r' || c1 == '\n') {
			mode = MODE_ASCII;
			shifted = false;
			*o++ = (unsigned char)c1;
			i++;
			continue;
		}
		if (c1 >= 0x80 || c1 < 0x21 || c1 == 0x7f) {
			*o++ = (unsigned char)c1;
			i++;
			continue;
		}
		if (shifted || mode == MODE_KANA) {
			/* 0x21-0x5f are the katakana; CP932 has them at
			   0xa1-0xdf. */
			*o++ = c1 <= 0x5f ? (unsigned char)(c1 + 0x80) : '?';
			i++;
			continue;
		}
		if (mode == MODE_ASCII) {
			*o++ = (unsigned char)c1;
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 0x21 || p[i + 1] > 0x7e) {
			/* half a character: lost */
			*o++ = '?';
			i++;
			continue;
		}
		c2 = p[i + 1];
		i += 2;
		if (mode == MODE_OTHER) {
			*o++ = '?';
			continue;
		}
		/* Rows 0x21-0x5e -> lead 0x81-0x9f, rows 0x5f-0x7e ->
		   0xe0-0xef; odd rows take the low trail range. */
		*o++ = (unsigned char)(((c1 + 1) >> 1) +
		    (c1 <= 0x5e ? 0x70 : 0xb0));
		if (c1 & 1)
			*o++ = (unsigned char)(c2 + (c2 >= 0x60 ? 0x20 : 0x1f));
		else
			*o++ = (unsigned char)(c2 + 0x7e);
	}
	*o = '\0';
	*out = (char *)buf;
	*outlen = (size_t)(o - buf);
	return LW_OK;
}
