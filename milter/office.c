/*
 * office.c: the office stage's dispatcher.
 *
 * Takes a file that filetype.c found to be a compound file, an OOXML
 * package or RTF.  Compound files are opened with cfb.c; then VBA
 * projects (ovba.c), the Workbook stream (xls.c) and the streams of a
 * password-protected OOXML package (EncryptionInfo and
 * EncryptedPackage: officecrypt.c) are looked at.  OOXML goes to
 * ooxml.c, RTF to rtf.c.
 *
 * Returns LW_OK with findings added; a file that does not parse or hits
 * a limit gives OFFICE_MALFORMED with the reason.  Only LW_ENOMEM and
 * other internal errors are returned.  Embedded objects (OLE
 * packages, Package streams, PowerPoint ExOleObjStg records, which hold
 * a .ppt's VBA) go to embedded.c and back through content_analyze().
 * An encrypted Word document's password is tried, an encrypted
 * PowerPoint document is decrypted for its embedded objects
 * (officecrypt.c).
 * Ignores: Word document streams (no macros live there).
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "cfb.h"
#include "embedded.h"
#include "officecrypt.h"
#include "office.h"
#include "office_int.h"
#include "ovba.h"
#include "analyzer.h"

static enum lw_err
scan_workbook(struct scan_ctx *ctx, const char *part, struct cfb *c)
{
	unsigned char	*wb;
	size_t		 len;
	enum lw_err	 e;
	int		 idx;
	bool		 biff5 = false;

	if ((idx = cfb_find(c, "Workbook")) < 0) {
		if ((idx = cfb_find(c, "Book")) < 0)
			return LW_OK;
		biff5 = true;
	}
	if ((e = cfb_read(c, idx, &wb, &len)) != LW_OK) {
		if (e == LW_ENOMEM)
			return e;
		return findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "%s: %s", c->ent[idx].path, c->why);
	}
	e = xls_scan(ctx, part, wb, len, biff5);
	free(wb);
	return e;
}

enum lw_err
office_scan_ole(struct scan_ctx *ctx, const char *part,
    const unsigned char *data, size_t len, unsigned depth)
{
	struct cfb	 c;
	enum lw_err	 e;

	e = cfb_open(&c, data, len, ctx->lim);
	if (e == LW_EMALFORMED || e == LW_ELIMIT) {
		e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "compound file: %s%s", e == LW_ELIMIT ? "limit: " : "",
		    c.why);
		goto out;
	}
	if (e != LW_OK)
		goto out;
	if (cfb_find(&c, "EncryptionInfo") >= 0 &&
	    cfb_find(&c, "EncryptedPackage") >= 0) {
		e = officecrypt_scan(ctx, part, &c, depth);
		goto out;
	}
	if (cfb_find(&c, "WordDocument") >= 0 &&
	    (e = officecrypt_scan_doc(ctx, part, &c)) != LW_OK)
		goto out;
	if ((e = ovba_scan(ctx, part, &c)) != LW_OK)
		goto out;
	if (scan_expired(ctx))
		goto out;
	if ((e = scan_workbook(ctx, part, &c)) != LW_OK)
		goto out;
	if (cfb_find(&c, "Current User") >= 0 &&
	    (e = officecrypt_scan_ppt(ctx, part, &c, depth)) != LW_OK)
		goto out;
	e = embedded_scan_ole(ctx, part, &c, depth);
out:
	cfb_close(&c);
	return e;
}

enum lw_err
office_scan(struct scan_ctx *ctx, const char *path,
    const unsigned char *data, size_t len, enum ft_kind kind, unsigned depth)
{
	switch (kind) {
	case FT_OLE2:
		return office_scan_ole(ctx, path, data, len, depth);
	case FT_OOXML:
		return ooxml_scan(ctx, path, data, len, depth);
	case FT_RTF:
		return rtf_scan(ctx, path, data, len, depth);
	default:
		return LW_OK;
	}
}
