/*
 * xlm.c: signs of a dropper in Excel 4.0 macro formulas.
 *
 * Takes formulas as text or BIFF8 function numbers, one at a time, and
 * adds up what they call: EXEC (run a program), CALL and REGISTER (call
 * any DLL function, URLDownloadToFile for one), FORMULA / FORMULA.FILL
 * (write more macro code at run time), many CHAR() calls (a command
 * spelt one character at a time), and shell tools named in strings.
 * xlm_report turns them into OFFICE_XLM_SUSPICIOUS with the list.
 *
 * OFFICE_XLM_SUSPICIOUS needs EXEC, CALL, REGISTER or a download; or
 * code building or CHAR() obfuscation in a hidden macro sheet, or
 * together with a shell tool.  A macro sheet that only sums cells
 * (old budget templates) stays plain OFFICE_XLM.
 *
 * Bounds: linear in the formula text; function names are matched only
 * where an identifier starts.  Ignores: what the formulas compute.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "analyzer.h"
#include "xlm.h"

static const struct {
	const char	*fn;		/* name followed by '(' */
	unsigned	 sign;
} fntab[] = {
	{ "EXEC", XLM_EXEC | XLM_MACRO_ONLY },
	{ "CALL", XLM_CALL | XLM_MACRO_ONLY },
	{ "REGISTER", XLM_REGISTER | XLM_MACRO_ONLY },
	{ "REGISTER.ID", XLM_REGISTER | XLM_MACRO_ONLY },
	{ "FORMULA", XLM_BUILD | XLM_MACRO_ONLY },
	{ "FORMULA.FILL", XLM_BUILD | XLM_MACRO_ONLY },
	{ "FORMULA.ARRAY", XLM_BUILD | XLM_MACRO_ONLY },
	{ "HALT", XLM_MACRO_ONLY },
	{ "RUN", XLM_MACRO_ONLY },
	{ "GOTO", XLM_MACRO_ONLY },
	{ "FOPEN", XLM_MACRO_ONLY },
	{ "FWRITE", XLM_MACRO_ONLY },
	{ "FWRITELN", XLM_MACRO_ONLY },
	{ "ALERT", XLM_MACRO_ONLY },
};

static const char *const downloads[] = {
	"urldownloadtofile", "urlmon", "winhttp", "xmlhttp",
};

static const char *const shells[] = {
	"powershell", "mshta", "rundll32", "regsvr32", "cmd.exe", "cmd /c",
	"certutil", "bitsadmin", "wscript", "cscript", "msiexec",
};

static bool
ident(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_';
}

void
xlm_string(struct xlm_signs *s, const char *t, size_t len)
{
	size_t	 i, j, n;

	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof(downloads) / sizeof(downloads[0]);
		    j++) {
			n = strlen(downloads[j]);
			if (n <= len - i && strncasecmp(t + i, downloads[j],
			    n) == 0)
				s->flags |= XLM_DOWNLOAD;
		}
		for (j = 0; j < sizeof(shells) / sizeof(shells[0]); j++) {
			n = strlen(shells[j]);
			if (n <= len - i && strncasecmp(t + i, shells[j],
			    n) == 0)
				s->flags |= XLM_SHELL;
		}
	}
}

void
xlm_formula(struct xlm_signs *s, const char *t, size_t len)
{
	size_t	 i, j, n;

	for (i = 0; i < len; i++) {
		if (i > 0 && ident(t[i - 1]))
			continue;
		if (len - i >= 5 && strncasecmp(t + i, "CHAR(", 5) == 0) {
			if (++s->nchar >= XLM_CHARS_MIN)
				s->flags |= XLM_CHARS;
			continue;
		}
		for (j = 0; j < sizeof(fntab) / sizeof(fntab[0]); j++) {
			n = strlen(fntab[j].fn);
			if (n < len - i && strncasecmp(t + i, fntab[j].fn,
			    n) == 0 && t[i + n] == '(')
				s->flags |= fntab[j].sign;
		}
	}
	xlm_string(s, t, len);
}

void
xlm_ftab(struct xlm_signs *s, unsigned iftab)
{
	switch (iftab) {
	case 110:			/* EXEC */
		s->flags |= XLM_EXEC | XLM_MACRO_ONLY;
		break;
	case 111:			/* CHAR */
		if (++s->nchar >= XLM_CHARS_MIN)
			s->flags |= XLM_CHARS;
		break;
	case 149:			/* REGISTER */
	case 267:			/* REGISTER.ID */
		s->flags |= XLM_REGISTER | XLM_MACRO_ONLY;
		break;
	case 150:			/* CALL */
		s->flags |= XLM_CALL | XLM_MACRO_ONLY;
		break;
	default:
		break;
	}
}

void
xlm_cetab(struct xlm_signs *s, unsigned cetab)
{
	/* FORMULA, FORMULA.FILL, FORMULA.ARRAY: macro code writing code. */
	if (cetab >= 96 && cetab <= 98)
		s->flags |= XLM_BUILD | XLM_MACRO_ONLY;
}

enum lw_err
xlm_report(struct scan_ctx *ctx, const char *path, const char *where,
    const struct xlm_signs *s)
{
	static const struct { unsigned sign; const char *what; } names[] = {
		{ XLM_EXEC, "EXEC" }, { XLM_CALL, "CALL" },
		{ XLM_REGISTER, "REGISTER" },
		{ XLM_DOWNLOAD, "a download function" },
		{ XLM_BUILD, "FORMULA writing code" },
		{ XLM_CHARS, "CHAR() obfuscation" },
		{ XLM_SHELL, "a shell tool" },
		{ XLM_HIDDEN, "a hidden macro sheet" },
	};
	char		 list[256];
	size_t		 i, o = 0;
	unsigned	 f = s->flags;
	bool		 strong;

	strong = (f & (XLM_EXEC | XLM_CALL | XLM_REGISTER | XLM_DOWNLOAD)) ||
	    ((f & (XLM_BUILD | XLM_CHARS)) && (f & (XLM_HIDDEN | XLM_SHELL)));
	if (!strong)
		return LW_OK;
	list[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((f & names[i].sign) == 0)
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    o > 0 ? ", " : "", names[i].what);
		if (o >= sizeof(list))
			break;
	}
	return findings_add(ctx->fs, "OFFICE_XLM_SUSPICIOUS", path,
	    "Excel 4.0 formulas in %s: %s", where, list);
}
