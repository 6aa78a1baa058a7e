/*
 * sylk.c: Excel 4.0 macros in SYLK files.
 *
 * Takes a file filetype.c found to start with "ID;P": SYLK, one record
 * a line ("C;X1;Y1;K...;E<formula>" a cell, "O;...;E" the options of a
 * macro sheet, "NN;N<name>;E<formula>" a name).  Excel opens .slk files
 * without the protected view the Office formats get, so droppers put
 * their XLM there.  A formula calling a function that only macro sheets
 * have (EXEC, CALL, REGISTER, FORMULA, RUN, HALT, ...) or a macro sheet
 * option gives OFFICE_XLM; an Auto_Open name OFFICE_XLM_AUTOEXEC; what
 * the formulas call may give OFFICE_XLM_SUSPICIOUS (xlm.c).  A SYLK file
 * of values and ordinary formulas (=SUM) is no finding.
 *
 * Bounds: at most SYLK_MAX_LINES records; lines are looked at up to
 * SYLK_LINE_MAX bytes; scan_expired() is polled every 4096 records.
 * Ignores: cell values, formats, the ;;-escaped semicolon inside a
 * field (a formula is taken to the end of its line).
 */
#include <string.h>
#include <strings.h>

#include "lurewall.h"
#include "analyzer.h"
#include "office.h"
#include "xlm.h"

#define SYLK_MAX_LINES	(1U << 20)
#define SYLK_LINE_MAX	8192

/* The start of field f (";E" -> 'E') in the record [s, s + n), or NULL. */
static const char *
field(const char *s, size_t n, char f, size_t *flen)
{
	size_t	 i, k;

	for (i = 0; i + 1 < n; i++) {
		if (s[i] != ';' || s[i + 1] != f)
			continue;
		if (i > 0 && s[i - 1] == ';')
			continue;	/* ";;" is an escaped semicolon */
		for (k = i + 2; k < n && !(s[k] == ';' && f != 'E'); k++)
			;
		*flen = k - i - 2;
		return s + i + 2;
	}
	return NULL;
}

enum lw_err
sylk_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *data, size_t len)
{
	struct xlm_signs s = { 0, 0 };
	const char	*p = (const char *)data, *end = p + len, *nl, *f;
	size_t		 n, flen;
	unsigned	 lines = 0, before;
	bool		 macro_sheet = false, macro_fn = false;
	enum lw_err	 e;

	for (; p < end && lines < SYLK_MAX_LINES; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > SYLK_LINE_MAX)
			n = SYLK_LINE_MAX;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (++lines % 4096 == 0 && scan_expired(ctx))
			return LW_OK;
		if (n >= 2 && p[0] == 'O' && p[1] == ';' &&
		    field(p + 1, n - 1, 'E', &flen) != NULL)
			macro_sheet = true;
		if (n >= 3 && strncmp(p, "NN;", 3) == 0 &&
		    (f = field(p + 2, n - 2, 'N', &flen)) != NULL &&
		    flen >= 9 && strncasecmp(f, "auto_open", 9) == 0 &&
		    (e = findings_add(ctx->fs, "OFFICE_XLM_AUTOEXEC", path,
		    "SYLK name \"%.*s\"", (int)(flen < 64 ? flen : 64),
		    f)) != LW_OK)
			return e;
		if (n >= 2 && (p[0] == 'C' || p[0] == 'F' || p[0] == 'N') &&
		    (f = field(p + 1, n - 1, 'E', &flen)) != NULL) {
			before = s.flags;
			xlm_formula(&s, f, flen);
			if ((s.flags & XLM_MACRO_ONLY) &&
			    !(before & XLM_MACRO_ONLY))
				macro_fn = true;
		}
	}
	if (macro_sheet || macro_fn) {
		if ((e = findings_add(ctx->fs, "OFFICE_XLM", path,
		    "SYLK file with Excel 4.0 macro%s", macro_sheet ?
		    " sheet options" : " formulas")) != LW_OK)
			return e;
	}
	return xlm_report(ctx, path, "a SYLK file", &s);
}
