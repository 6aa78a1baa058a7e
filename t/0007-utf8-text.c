/*
 * 0007-utf8-text: the fast UTF-8 validator and repair (8 bytes of ASCII
 * at a time, valid stretches copied whole) and the memchr-driven CRLF
 * to LF of a text part give what a byte-at-a-time reading gives: every
 * 1..4 byte sequence over the boundary values, and random buffers that
 * mix ASCII runs (the word path), multi-byte characters, broken
 * sequences, CR, LF and NUL.  The reference readers here are the ones
 * the fast code replaced.  lw_sanitize (details, names) copies runs of
 * printable ASCII at once: it gives what its character-at-a-time
 * reading gave, max and the ellipsis included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "mime.h"
#include "tap.h"

/* One code point at a time, as charset.c read UTF-8 before. */
static bool
ref_valid(const unsigned char *p, size_t len)
{
	size_t		i = 0, n, k;
	uint32_t	cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2, cp = p[i] & 0x1f;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 3, cp = p[i] & 0x0f;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 4, cp = p[i] & 0x07;
		else
			return false;
		if (n > len - i)
			return false;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
		    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* Repair as before: each invalid byte -> U+FFFD, NUL -> space. */
static size_t
ref_repair(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t	i = 0, o = 0, run, k;

	while (i < len) {
		if (in[i] < 0x80) {
			out[o++] = in[i] == 0 ? ' ' : in[i];
			i++;
			continue;
		}
		for (run = 2; run <= 4 && run <= len - i; run++)
			if (ref_valid(in + i, run))
				break;
		if (run <= 4 && run <= len - i) {
			for (k = 0; k < run; k++)
				out[o++] = in[i + k];
			i += run;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

static size_t
ref_crlf(const unsigned char *s, size_t len, unsigned char *out)
{
	size_t	i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 < len && s[i + 1] == '\n')
				continue;
			out[o++] = '\n';
		} else
			out[o++] = s[i];
	}
	return o;
}

/* Bytes that sit on the validator's boundaries. */
static const unsigned char edge[] = {
	0x00, 0x0d, 0x0a, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
	0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe3, 0xec, 0xed, 0xee, 0xef, 0xf0,
	0xf3, 0xf4, 0xf5, 0xff,
};
#define NEDGE	(sizeof(edge) / sizeof(edge[0]))

/* A buffer that mixes what text parts hold, and what breaks them. */
static size_t
random_text(unsigned char *b, size_t max)
{
	static const char *const pieces[] = {
		"Thank you for the meeting. ", "\r\n", "\n", "\r", "> ",
		"\xe3\x81\x84\xe3\x81\xa4\xe3\x82\x82", "\xef\xbc\xb0",
		"\xc3\xa9", "\xf0\x9f\x98\x80", "12345678", "\t",
	};
	size_t	n = 0, k, l;

	while (n < max - 40) {
		switch (tap_rnd(4)) {
		case 0:		/* a broken or boundary byte */
			b[n++] = edge[tap_rnd(NEDGE)];
			break;
		case 1:		/* a long ASCII run, odd alignment */
			for (k = tap_rnd(37); k > 0; k--)
				b[n++] = (unsigned char)('a' + tap_rnd(26));
			break;
		default:
			k = tap_rnd(sizeof(pieces) / sizeof(pieces[0]));
			l = strlen(pieces[k]);
			memcpy(b + n, pieces[k], l);
			n += l;
			break;
		}
		if (tap_rnd(50) == 0)
			break;
	}
	return n;
}

static void
check_sequences(void)
{
	unsigned char	s[4];
	size_t		a, b, c, d, bad = 0, n = 0;

	for (a = 0x80; a < 0x100; a++) {
		s[0] = (unsigned char)a;
		for (b = 0; b < NEDGE; b++)
			for (c = 0; c < NEDGE; c++)
				for (d = 0; d < NEDGE; d++) {
					s[1] = edge[b];
					s[2] = edge[c];
					s[3] = edge[d];
					for (size_t l = 1; l <= 4; l++, n++)
						if (charset_valid_utf8(
						    (const char *)s, l) !=
						    ref_valid(s, l))
							bad++;
				}
	}
	is_int(0, (long long)bad, "every 1..4 byte sequence of %zu: "
	    "validator agrees", n);
	ok(charset_valid_utf8("\xf4\x8f\xbf\xbf", 4) &&
	    !charset_valid_utf8("\xf4\x90\x80\x80", 4),
	    "U+10FFFF is valid, U+110000 is not");
	ok(charset_valid_utf8("\xe0\xa0\x80", 3) &&
	    !charset_valid_utf8("\xe0\x9f\xbf", 3),
	    "U+0800 is valid, its overlong form is not");
	is_int(10, (long long)charset_utf8_prefix("abcdefghij\xe3\x81\xe3",
	    13), "prefix stops at the broken character after ASCII");
}

static void
check_random(void)
{
	unsigned char	 in[4096], want[4096 * 3 + 1];
	char		*out;
	size_t		 i, len, wl, ol, vbad = 0, rbad = 0;

	for (i = 0; i < 20000; i++) {
		len = random_text(in, sizeof(in));
		if (charset_valid_utf8((const char *)in, len) !=
		    ref_valid(in, len))
			vbad++;
		if (charset_to_utf8("utf-8", (const char *)in, len, &out, &ol,
		    NULL) != LW_OK)
			bail("charset_to_utf8 failed");
		wl = ref_repair(in, len, want);
		if (ol != wl || memcmp(out, want, wl) != 0)
			rbad++;
		free(out);
	}
	is_int(0, (long long)vbad, "random text: validator agrees");
	is_int(0, (long long)rbad, "random text: utf-8 repair agrees");
}

/* C1 controls, bidi overrides and isolates: lw_sanitize drops them. */
static bool
ref_unsafe(const unsigned char *p, size_t n)
{
	return (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f) ||
	    (n == 3 && p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa &&
	    p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)));
}

/* lw_sanitize as it read before: one character at a time. */
static size_t
ref_sanitize(const unsigned char *p, size_t len, size_t max, char *out)
{
	size_t	i = 0, o = 0, n;

	if (max < 4)
		max = 4;
	while (i < len) {
		if (p[i] < 0x80)
			n = p[i] < 0x20 || p[i] == 0x7f ? 0 : 1;
		else {
			for (n = 2; n <= 4 && n <= len - i; n++)
				if (ref_valid(p + i, n))
					break;
			if (n > 4 || n > len - i || ref_unsafe(p + i, n))
				n = 0;
		}
		if (o + (n ? n : 1) > max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0) {
			out[o++] = p[i] == '\t' || p[i] == '\n' ? ' ' : '?';
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return o;
}

/* lw_sanitize (printable ASCII copied a run at a time) against it. */
static void
check_sanitize(void)
{
	static const char *const odd[] = {
		"\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\xa9", "\xc2\x85",
		"\xc2\xa0", "\x1b", "\x7f",
	};
	unsigned char	 in[4096];
	char		 want[4096 + 8], *got;
	size_t		 i, k, len, max, l, bad = 0;

	for (i = 0; i < 20000; i++) {
		len = random_text(in, sizeof(in));
		for (k = tap_rnd(4); k > 0 && len > 8; k--) {
			l = tap_rnd(sizeof(odd) / sizeof(odd[0]));
			memcpy(in + tap_rnd((unsigned)len - 4), odd[l],
			    strlen(odd[l]));
		}
		max = tap_rnd(3) == 0 ? tap_rnd(8) : tap_rnd((unsigned)len + 16);
		ref_sanitize(in, len, max, want);
		if ((got = lw_sanitize((const char *)in, len, max)) == NULL)
			bail("lw_sanitize failed");
		if (strcmp(got, want) != 0)
			bad++;
		free(got);
	}
	is_int(0, (long long)bad, "random text: lw_sanitize agrees with "
	    "the character-at-a-time reading");
	got = lw_sanitize("abc\tdef\x01", 8, 100);
	is_str("abc def?", got, "tab to space, control to ?");
	free(got);
	got = lw_sanitize("abcdefgh", 8, 5);
	is_str("abcde...", got, "cut at max with an ellipsis");
	free(got);
}

/* A text/plain part's text against the reference CRLF -> LF. */
static void
check_crlf(void)
{
	static const char hdr[] = "From: a@example.com\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n";
	unsigned char	 raw[sizeof(hdr) + 4096], body[4096];
	unsigned char	 rep[4096 * 3], want[4096 * 3];
	struct message	*m;
	struct findings	 fs;
	struct limits	 lim;
	size_t		 i, len, rl, wl, bad = 0, hl = sizeof(hdr) - 1;

	limits_default(&lim);
	for (i = 0; i < 3000; i++) {
		len = random_text(body, sizeof(body));
		memcpy(raw, hdr, hl);
		memcpy(raw + hl, body, len);
		memset(&fs, 0, sizeof(fs));
		m = NULL;
		if (mime_parse(raw, hl + len, &lim, &fs, &m) != LW_OK ||
		    m == NULL || m->root == NULL)
			bail("mime_parse failed");
		rl = ref_repair(body, len, rep);
		wl = ref_crlf(rep, rl, want);
		if (m->root->text == NULL || m->root->text_len != wl ||
		    memcmp(m->root->text, want, wl) != 0 ||
		    m->root->text[wl] != '\0')
			bad++;
		mime_free(m);
		findings_free(&fs);
	}
	is_int(0, (long long)bad, "random text parts: CRLF and CR to LF "
	    "agree");
}

/*
 * Multipart bodies split on their boundary (mime.c skips to the next
 * line that starts with '-' by memchr): parts whose lines, and the
 * preamble's and epilogue's, hold dashes everywhere but in a
 * delimiter -- "--bdx", "x--bd", " --bd", "---bd", "-" -- and
 * base64-like lines without any; delimiters with trailing blanks and
 * CRs.  Each part must come back whole, in order.
 */
static void
check_split(void)
{
	static const char *const line[] = {
		"--bdx", "x--bd", " --bd", "---bd", "-", "--", "--b", "a-b",
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", "---", "--bd-x",
		"plain text", "",
	};
	static const char *const delim[] = { "--bd", "--bd \t", "--bd\r" };
	char		 raw[16384], want[8][2048];
	struct message	*m;
	struct findings	 fs;
	struct limits	 lim;
	size_t		 i, k, j, np, n, wl[8], bad = 0;

	limits_default(&lim);
	for (i = 0; i < 3000; i++) {
		n = (size_t)snprintf(raw, sizeof(raw), "From: a@example.com\n"
		    "Content-Type: multipart/mixed; boundary=bd\n\n");
		/* A preamble of dash lines. */
		for (k = tap_rnd(4); k > 0; k--)
			n += (size_t)snprintf(raw + n, sizeof(raw) - n, "%s\n",
			    line[tap_rnd(sizeof(line) / sizeof(line[0]) - 1)]);
		np = 1 + tap_rnd(6);
		for (j = 0; j < np; j++) {
			n += (size_t)snprintf(raw + n, sizeof(raw) - n,
			    "%s\n\n", delim[tap_rnd(3)]);
			/* Lines of the part; it ends before the last LF. */
			wl[j] = 0;
			for (k = 1 + tap_rnd(8); k > 0; k--) {
				const char *l = line[tap_rnd(sizeof(line) /
				    sizeof(line[0]))];

				wl[j] += (size_t)snprintf(want[j] + wl[j],
				    sizeof(want[j]) - wl[j], "%s", l);
				want[j][wl[j]++] = '\n';
			}
			memcpy(raw + n, want[j], wl[j]);
			n += wl[j];
			want[j][--wl[j]] = '\0';
		}
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "--bd--\n");
		for (k = tap_rnd(3); k > 0; k--)
			n += (size_t)snprintf(raw + n, sizeof(raw) - n, "%s\n",
			    line[tap_rnd(sizeof(line) / sizeof(line[0]))]);
		memset(&fs, 0, sizeof(fs));
		m = NULL;
		if (mime_parse((const unsigned char *)raw, n, &lim, &fs,
		    &m) != LW_OK || m == NULL || m->root == NULL)
			bail("mime_parse failed");
		if (m->root->nchild != np)
			bad++;
		else
			for (j = 0; j < np; j++) {
				const struct mime_part *c = m->root->child[j];

				if (wl[j] == 0 ? c->text != NULL &&
				    c->text_len != 0 : c->text == NULL ||
				    c->text_len != wl[j] ||
				    memcmp(c->text, want[j], wl[j]) != 0) {
					bad++;
					break;
				}
			}
		mime_free(m);
		findings_free(&fs);
	}
	is_int(0, (long long)bad, "random multiparts with dash lines: every "
	    "part split whole");
}

int
main(void)
{
	check_sequences();
	check_random();
	check_crlf();
	check_sanitize();
	check_split();
	return done_testing();
}
