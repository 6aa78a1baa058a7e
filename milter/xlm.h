/*
 * xlm.h: Excel 4.0 (XLM) macro formulas judged by what they call, for
 * OFFICE_XLM_SUSPICIOUS.  Formulas come as text (SYLK E fields, OOXML
 * macrosheet <f> elements) or as BIFF8 parsed tokens (xls.c); each is
 * fed here and the signs add up per file.
 */
#ifndef XLM_H
#define XLM_H

#include <stddef.h>

#include "lurewall.h"

struct scan_ctx;

enum xlm_sign {
	XLM_EXEC = 1 << 0,		/* EXEC(): runs a program */
	XLM_CALL = 1 << 1,		/* CALL(): calls a DLL function */
	XLM_REGISTER = 1 << 2,		/* REGISTER()/REGISTER.ID() */
	XLM_DOWNLOAD = 1 << 3,		/* URLDownloadToFile, ... */
	XLM_BUILD = 1 << 4,		/* FORMULA()/FORMULA.FILL() writes code */
	XLM_CHARS = 1 << 5,		/* CHAR() concatenation */
	XLM_SHELL = 1 << 6,		/* powershell, mshta, rundll32, ... */
	XLM_HIDDEN = 1 << 7,		/* a (very) hidden macro sheet */
	XLM_MACRO_ONLY = 1 << 8		/* a function only macro sheets have */
};

struct xlm_signs {
	unsigned	 flags;		/* enum xlm_sign */
	unsigned	 nchar;		/* CHAR() calls seen */
};

/* CHAR() calls that make XLM_CHARS. */
#define XLM_CHARS_MIN	8

/* One formula's text (no leading '=' needed). */
void		 xlm_formula(struct xlm_signs *, const char *text, size_t len);
/* A string constant (a BIFF8 ptgStr, a cell value). */
void		 xlm_string(struct xlm_signs *, const char *text, size_t len);
/* A BIFF8 built-in function number (Ftab) in a formula. */
void		 xlm_ftab(struct xlm_signs *, unsigned iftab);
/* A BIFF8 command-equivalent number (Cetab, bit 15 of a ptgFuncVar's). */
void		 xlm_cetab(struct xlm_signs *, unsigned cetab);

/* OFFICE_XLM_SUSPICIOUS for path when the signs call for it. */
enum lw_err	 xlm_report(struct scan_ctx *, const char *path,
		    const char *where, const struct xlm_signs *);

#endif /* XLM_H */
