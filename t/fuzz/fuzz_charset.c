/*
 * fuzz_charset.c: libFuzzer target for the charset stage and the header
 * encodings: RFC 2047 encoded words (charset_decode_header), RFC 2231
 * parameters (mime.c's Content-Type / Content-Disposition parameter
 * parser, reached through a one-part message built around the input),
 * conversion from a charset picked by the first byte (iconv and our
 * ISO-2022-JP), and the tolerant base64 decoder.
 *
 * Checks: every output said to be UTF-8 is valid UTF-8 of the length
 * reported, and base64 writes no more than its documented bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fz_charsets[] = {
	"utf-8", "iso-2022-jp", "shift_jis", "cp932", "euc-jp",
	"iso-8859-1", "windows-1252", "utf-16", "utf-16le", "utf-7",
	"gb2312", "big5", "koi8-r", "x-unknown", "", NULL
};
#define FZ_NCS	(sizeof(fz_charsets) / sizeof(fz_charsets[0]))

static void
fz_utf8(const char *s, size_t len)
{
	if (s == NULL || s[len] != '\0' || !charset_valid_utf8(s, len))
		abort();
}

/* The input as parameters of a one-part message, which mime.c decodes. */
static void
fz_params(const uint8_t *data, size_t size)
{
	static const char	 head[] = "Content-Type: application/x; ";
	static const char	 mid[] = "\r\nContent-Disposition: attachment; ";
	static const char	 tail[] = "\r\n\r\nbody\r\n";
	struct findings		 fs = { 0 };
	struct message		*m = NULL;
	struct limits		 lim;
	unsigned char		*buf, *p;
	size_t			 len;

	len = sizeof(head) - 1 + size + sizeof(mid) - 1 + size +
	    sizeof(tail) - 1;
	if ((buf = malloc(len)) == NULL)
		return;
	p = buf;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	memcpy(p, data, size);
	p += size;
	memcpy(p, mid, sizeof(mid) - 1);
	p += sizeof(mid) - 1;
	memcpy(p, data, size);
	p += size;
	memcpy(p, tail, sizeof(tail) - 1);
	limits_default(&lim);
	if (mime_parse(buf, len, &lim, &fs, &m) == LW_OK) {
		if (m->root != NULL && m->root->filename != NULL)
			fz_utf8(m->root->filename, strlen(m->root->filename));
		mime_free(m);
	}
	findings_free(&fs);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*b64;
	char		*s, *out;
	size_t		 outlen, n;
	bool		 unknown, bad = false;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (charset_decode_header(s, &out) == LW_OK) {
		if (out == NULL)
			abort();
		free(out);
	}
	if (size > 0 && charset_to_utf8(fz_charsets[data[0] % FZ_NCS],
	    s + 1, size - 1, &out, &outlen, &unknown) == LW_OK) {
		fz_utf8(out, outlen);
		free(out);
	}
	if ((b64 = malloc(size / 4 * 3 + 3 + 1)) != NULL) {
		b64[size / 4 * 3 + 3] = 0xa5;
		n = charset_base64_decode(s, size, b64, &bad);
		if (n > size / 4 * 3 + 3 || b64[size / 4 * 3 + 3] != 0xa5)
			abort();
		free(b64);
	}
	fz_params(data, size);
	free(s);
	return 0;
}
