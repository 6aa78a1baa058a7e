/*
 * xls.c: Excel 4.0 macro sheets and auto-open names in BIFF workbooks.
 *
 * Takes the Workbook stream: a flat list of records (u16 type, u16
 * length, data).  BOUNDSHEET with sheet type 1 is an Excel 4.0 macro
 * sheet (OFFICE_XLM; hidden and very hidden are noted); a NAME that is
 * the built-in Auto_Open (1) or Auto_Close (2), or a user name starting
 * with "auto_open" in any case (Excel runs Auto_Open1 too), gives
 * OFFICE_XLM_AUTOEXEC.  FILEPASS means encryption.
 * RC4 (MD5-based, MS-OFFCRYPTO 2.3.6) and CryptoAPI RC4 (SHA-1, 2.3.5)
 * workbooks are tried with Excel's default password "VelvetSweatshop"
 * and then the message's password candidates (rc4crypt.c): when the
 * verifier matches (logged; no OFFICE_ENCRYPTED, which means a
 * workbook stays closed), the records after FILEPASS are decrypted
 * (the key changes every 1024 bytes of the stream, keyed by absolute
 * position; record headers, BOF, FILEPASS and a few others stay plain)
 * and walked again.
 *
 * A BIFF8 record longer than 8,224 bytes (MS-XLS 2.1.4; Excel splits
 * longer data into CONTINUE records) is no record Excel wrote:
 * OFFICE_MALFORMED, once per stream, and the walk goes on.
 *
 * Bounds: the walk visits each byte once, polls scan_expired every
 * 4096 records; decryption works on a copy the size of the stream (the
 * stream itself is bounded by limits.office_stream_bytes).
 * The formulas of macro sheets (FORMULA records after a macro sheet's
 * BOF) are looked at for the functions and strings xlm.c judges:
 * OFFICE_XLM_SUSPICIOUS.
 * Ignores: what formulas compute (we do not run XLM), XOR
 * obfuscation (only reported), BIFF5 encryption.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "lurewall.h"
#include "cfb.h"
#include "office_int.h"
#include "analyzer.h"
#include "log.h"
#include "xlm.h"
#include "rc4crypt.h"

#define BIFF_BOF		0x0809
#define BIFF_FILEPASS		0x002f
#define BIFF_BOUNDSHEET		0x0085
#define BIFF_NAME		0x0018
#define BIFF_FORMULA		0x0006
#define BOF_MACRO_SHEET		0x0040
#define BIFF_USREXCL		0x0194
#define BIFF_FILELOCK		0x0195
#define BIFF_INTERFACEHDR	0x00e1
#define BIFF_RRDINFO		0x0196
#define BIFF_RRDHEAD		0x0138
#define RC4_BLOCK		1024
#define BIFF8_RECORD_MAX	8224	/* MS-XLS 2.1.4: longer goes to CONTINUE */

/* A decrypted copy of the stream, or NULL. */
static unsigned char *
decrypt_stream(const unsigned char *wb, size_t len, size_t fp_end,
    const struct rc4key *k)
{
	struct rc4stream *s;
	unsigned char	*d;
	size_t		 pos, rlen, skip;
	unsigned	 type;

	if ((d = malloc(len)) == NULL)
		return NULL;
	if ((s = malloc(sizeof(*s))) == NULL) {
		free(d);
		return NULL;
	}
	rc4crypt_stream(s, k, RC4_BLOCK);
	memcpy(d, wb, len);
	for (pos = fp_end; len - pos >= 4; pos += 4 + rlen) {
		type = le16(d + pos);
		rlen = le16(d + pos + 2);
		if (rlen > len - pos - 4)
			rlen = len - pos - 4;
		switch (type) {
		case BIFF_BOF:
		case BIFF_FILEPASS:
		case BIFF_USREXCL:
		case BIFF_FILELOCK:
		case BIFF_INTERFACEHDR:
		case BIFF_RRDINFO:
		case BIFF_RRDHEAD:
			continue;
		default:
			break;
		}
		/* BOUNDSHEET's stream position stays plain. */
		skip = type == BIFF_BOUNDSHEET ? 4 : 0;
		if (rlen > skip && !rc4crypt_at(s, d + pos + 4 + skip,
		    rlen - skip, pos + 4 + skip)) {
			free(s);
			free(d);
			return NULL;
		}
	}
	free(s);
	return d;
}

/* A BIFF short or no-cch string -> printable malloc'd UTF-8. */
static char *
biff_string(const unsigned char *p, size_t avail, unsigned cch, bool high)
{
	size_t	 n;

	if (high) {
		n = (size_t)cch * 2;
		if (n > avail)
			n = avail & ~(size_t)1;
		return cfb_utf16(p, n);
	}
	n = cch < avail ? cch : avail;
	return lw_strndup((const char *)p, n);
}

static const char *
sheet_state(unsigned st)
{
	switch (st & 3) {
	case 0:
		return "visible";
	case 1:
		return "hidden";
	case 2:
		return "very hidden";
	default:
		return "state 3";
	}
}

/*
 * The functions and strings of one parsed formula (rgce) of a macro
 * sheet.  Tokens are not walked one by one (that needs the size of
 * every ptg): a function token's byte followed by its number is taken
 * where it stands; a macro sheet is OFFICE_XLM anyway, this only says
 * what it calls.
 */
static void
formula_tokens(struct xlm_signs *xs, const unsigned char *r, size_t n)
{
	size_t	 k, c, m;
	char	 str[256];

	for (k = 0; k + 2 < n; k++) {
		switch (r[k]) {
		case 0x21: case 0x41: case 0x61:	/* ptgFunc */
			xlm_ftab(xs, le16(r + k + 1));
			break;
		case 0x22: case 0x42: case 0x62:	/* ptgFuncVar */
			if (k + 3 >= n)
				break;
			if (le16(r + k + 2) & 0x8000)
				xlm_cetab(xs, le16(r + k + 2) & 0x7fff);
			else
				xlm_ftab(xs, le16(r + k + 2));
			break;
		case 0x17:				/* ptgStr */
			c = r[k + 1];
			for (m = 0; m < c && m < sizeof(str); m++) {
				size_t at = k + 3 + ((r[k + 2] & 1) ? m * 2 : m);

				if (at >= n)
					break;
				str[m] = (char)r[at];
			}
			xlm_string(xs, str, m);
			break;
		default:
			break;
		}
	}
}

static enum lw_err
walk(struct scan_ctx *ctx, const char *part, const unsigned char *wb,
    size_t len, bool biff5, const char *note)
{
	struct xlm_signs xs = { 0, 0 };
	bool		 in_macro = false;
	const unsigned char *b;
	size_t		 pos, rlen, nrec = 0;
	unsigned	 type, flags, cch;
	char		*name;
	bool		 long_seen = false;
	enum lw_err	 e = LW_OK;

	for (pos = 0; len - pos >= 4; pos += 4 + rlen) {
		type = le16(wb + pos);
		rlen = le16(wb + pos + 2);
		b = wb + pos + 4;
		if (rlen > len - pos - 4)
			return findings_add(ctx->fs, "OFFICE_MALFORMED", part,
			    "workbook: record %#x at %zu claims %zu bytes, "
			    "%zu left%s", type, pos, rlen, len - pos - 4,
			    note);
		if (++nrec % 4096 == 0 && scan_expired(ctx))
			return LW_OK;
		if (!biff5 && rlen > BIFF8_RECORD_MAX && !long_seen) {
			long_seen = true;
			if ((e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
			    "workbook: record %#x at %zu is %zu bytes, over "
			    "BIFF8's %u%s", type, pos, rlen, BIFF8_RECORD_MAX,
			    note)) != LW_OK)
				return e;
		}
		if (type == BIFF_BOF && rlen >= 4)
			in_macro = !biff5 && le16(b + 2) == BOF_MACRO_SHEET;
		else if (type == BIFF_FORMULA && in_macro && rlen > 22)
			formula_tokens(&xs, b + 22, rlen - 22 <
			    le16(b + 20) ? rlen - 22 : le16(b + 20));
		if (type == BIFF_BOUNDSHEET && rlen >= 8 && b[5] == 0x01) {
			if ((b[4] & 3) != 0)
				xs.flags |= XLM_HIDDEN;
			/* BIFF8 names are XLUnicode; BIFF5 8-bit. */
			cch = b[6];
			name = biff5 ? biff_string(b + 7, rlen - 7, cch, false) :
			    biff_string(b + 8, rlen - 8, cch, b[7] & 1);
			if (name == NULL)
				return LW_ENOMEM;
			e = findings_add(ctx->fs, "OFFICE_XLM", part,
			    "Excel 4.0 macro sheet \"%.64s\" (%s)%s", name,
			    sheet_state(b[4]), note);
			free(name);
		} else if (type == BIFF_NAME && rlen >= 15 && !biff5) {
			flags = le16(b);
			cch = b[3];
			if (flags & 0x0020) {
				if (b[15 - 1] & 1 ? rlen >= 17 : rlen >= 16) {
					unsigned c = b[15];

					if (c == 0x01 || c == 0x02)
						e = findings_add(ctx->fs,
						    "OFFICE_XLM_AUTOEXEC", part,
						    "built-in name %s%s",
						    c == 1 ? "Auto_Open" :
						    "Auto_Close", note);
				}
			} else {
				name = biff_string(b + 15, rlen - 15, cch,
				    b[14] & 1);
				if (name == NULL)
					return LW_ENOMEM;
				if (strncasecmp(name, "auto_open", 9) == 0)
					e = findings_add(ctx->fs,
					    "OFFICE_XLM_AUTOEXEC", part,
					    "defined name \"%.64s\"%s", name,
					    note);
				free(name);
			}
		}
		if (e != LW_OK)
			return e;
	}
	return xlm_report(ctx, part, "the macro sheets", &xs);
}

enum lw_err
xls_scan(struct scan_ctx *ctx, const char *part, const unsigned char *wb,
    size_t len, bool biff5)
{
	size_t		 pos, rlen;
	unsigned	 type;
	struct rc4key	 k;
	const char	*what;
	const unsigned char *h;
	unsigned char	*plain;
	enum lw_err	 e;
	long		 which;

	/* Find FILEPASS first: before it everything is plain. */
	for (pos = 0; len - pos >= 4; pos += 4 + rlen) {
		type = le16(wb + pos);
		rlen = le16(wb + pos + 2);
		if (rlen > len - pos - 4)
			break;
		if (type == BIFF_FILEPASS)
			break;
		/* FILEPASS follows the globals' BOF; stop at the first EOF. */
		if (type == 0x000a)
			return walk(ctx, part, wb, len, biff5, "");
	}
	if (len - pos < 4 || rlen > len - pos - 4 || type != BIFF_FILEPASS)
		return walk(ctx, part, wb, len, biff5, "");

	if (biff5 || rlen < 2 || le16(wb + pos + 4) == 0)
		return findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "encrypted workbook (%s)", biff5 ? "BIFF5" :
		    "XOR obfuscation");
	h = wb + pos + 6;
	if ((what = rc4crypt_scheme(h, rlen - 2)) == NULL)
		what = "unknown scheme";
	if ((which = rc4crypt_find(ctx, part, h, rlen - 2, &k)) < 0)
		return findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "encrypted workbook (%s), password unknown", what);
	/* Opened: not OFFICE_ENCRYPTED, what it holds is judged. */
	scan_log(ctx, LOG_INFO, "encrypted workbook %s (%s) opened with %s",
	    part, what, which == 0 ? "the default password" :
	    "a password candidate");
	if ((plain = decrypt_stream(wb, len, pos + 4 + rlen, &k)) == NULL)
		return LW_ENOMEM;
	e = walk(ctx, part, plain, len, false, which == 0 ?
	    " (decrypted with " RC4CRYPT_DEFAULT_PASSWORD ")" :
	    " (decrypted with a password from the message)");
	free(plain);
	return e;
}
