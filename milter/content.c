/*
 * content.c: the dispatcher every attachment and archive entry goes
 * through.  Takes one file's bytes, its part path, name and declared
 * type; returns findings.  The real type (filetype_detect) decides:
 * zips go to archive.c, OLE2/OOXML/RTF documents to office.c, SYLK
 * spreadsheets to sylk.c, whatever
 * the name or the declared type says.  An OOXML or ODF package is a
 * document, never an archive (no ARCHIVE_NESTED): only its entry names
 * are checked (archive_scan_package; for OOXML by ooxml.c, on the zip
 * it opens anyway).
 *
 * ARCHIVE_NESTED: a zip, RAR, 7z, gzip, tar, cab, bzip2 or xz file
 * found at depth > 0 (that is, inside an archive or a document).  Zips
 * go to archive.c (libzip), FAT disk images to fatimg.c, every other
 * container and disk image to container.c (libarchive): each entry
 * comes back here one level down.
 *
 * Bounds: depth is checked by archive_scan (limits.archive_depth); the
 * per-message time budget is polled here once per file.
 */
#include <string.h>

#include "lurewall.h"
#include "archive.h"
#include "container.h"
#include "content.h"
#include "fatimg.h"
#include "filetype.h"
#include "office.h"
#include "onenote.h"
#include "tnef.h"
#include "transport.h"
#include "analyzer.h"

enum lw_err
content_analyze(struct scan_ctx *ctx, const char *path, const char *name,
    const char *declared_type, const unsigned char *data, size_t len,
    unsigned depth)
{
	struct ft_result	ft;
	struct zip_peek		zp;
	enum lw_err		e;

	if (path == NULL)
		path = "";
	if (scan_expired(ctx))
		return LW_OK;
	if ((e = filetype_detect(data, len, &ft)) != LW_OK)
		return e;
	filetype_check(ctx, path, name, declared_type, &ft);
	switch (ft.kind) {
	case FT_ZIP:
	case FT_RAR:
	case FT_7Z:
	case FT_GZIP:
		if (depth > 0)
			(void)findings_add(ctx->fs, "ARCHIVE_NESTED", path,
			    "%s inside an archive",
			    filetype_kind_name(ft.kind));
		if (ft.kind == FT_ZIP)
			return archive_scan(ctx, path, name, data, len, depth);
		return container_scan(ctx, path, name, data, len, depth);
	case FT_DISK_IMAGE:
		/* FILE_DISK_IMAGE stays; what it holds is analysed too. */
		if (fatimg_sniff(data, len))
			return fatimg_scan(ctx, path, data, len, depth);
		return container_scan(ctx, path, name, data, len, depth);
	case FT_OOXML:
		/* ooxml.c checks the names too (archive_scan_package_zip). */
		return office_scan(ctx, path, data, len, ft.kind, depth);
	case FT_ODF:
		return archive_scan_package(ctx, path, name, data, len, depth);
	case FT_TEXT:
		return transport_scan(ctx, path, data, len);
	case FT_ONENOTE:
		return onenote_scan(ctx, path, data, len, depth);
	case FT_OLE2:
	case FT_RTF:
		return office_scan(ctx, path, data, len, ft.kind, depth);
	case FT_SYLK:
		return sylk_scan(ctx, path, data, len);
	default:
		if (tnef_sniff(data, len))
			return tnef_scan(ctx, path, data, len, depth);
		/* tar, cab, bzip2, xz ...: libmagic has no kind for them. */
		if (!container_sniff(data, len)) {
			/*
			 * A zip behind other bytes: extractors find its end
			 * record (a container's stored zip is its entry's).
			 */
			if (archive_peek(data, len, 0, false, &zp) == LW_OK &&
			    zp.eocd)
				return archive_scan(ctx, path, name, data, len,
				    depth);
			return LW_OK;
		}
		if (depth > 0)
			(void)findings_add(ctx->fs, "ARCHIVE_NESTED", path,
			    "%s inside an archive", "container");
		return container_scan(ctx, path, name, data, len, depth);
	}
}
