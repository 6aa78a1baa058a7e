/*
 * extref.h: external references in Office documents: the parts of a
 * document that make Word fetch something when the file is opened (a
 * remote template, a linked OLE object, a frame, a sub-document, an
 * alternative chunk, INCLUDETEXT fields, RTF \template).  Private to the
 * office stage; every hit is OFFICE_REMOTE_TEMPLATE.
 *
 * A finding's detail ends in "(host H)" when the target names a host, so
 * that a policy's trusted_template_hosts can drop it (verdict time).
 */
#ifndef EXTREF_H
#define EXTREF_H

#include "lurewall.h"

struct scan_ctx;

#define EXTREF_HOST_MAX	256

/*
 * The URL form of a target that fetches from elsewhere ("http(s)",
 * "UNC", "WebDAV", "file", "mhtml", "ms-handler", "search-ms"), or NULL
 * for a local path, a relative part name or a harmless scheme (mailto:).
 * host gets the host named, lowercase, or "" (hostsz > 0).
 */
const char	*extref_remote(const char *target, char *host, size_t hostsz);

/*
 * One OOXML .rels part (NUL-terminated xml).  External attachedTemplate,
 * oleObject, frame, subDocument, aFChunk and package relationships with
 * a remote target are findings.  Hyperlinks and linked images are not.
 */
enum lw_err	 extref_rels(struct scan_ctx *, const char *path,
		    const char *relsname, const char *xml);

/*
 * Field codes in a WordprocessingML part (w:instrText runs, w:instr
 * attributes): INCLUDETEXT to any remote target, INCLUDEPICTURE to a
 * UNC, WebDAV, file: or handler target (an http picture is how pasted
 * web content looks).
 */
enum lw_err	 extref_fields(struct scan_ctx *, const char *path,
		    const char *partname, const char *xml);

/*
 * The value of attribute name in the tag [s, s + n), quoted with " or
 * ', its XML entities decoded, cut to outsz; false when absent.  The
 * name must follow white space, so Type does not match in
 * TargetMode... and a prefix (w:instr) may stand before it.  Lenient
 * on purpose (any white space, the name's case folded): a reader
 * stricter than Office's could be evaded.  ooxml.c reads with it too.
 */
bool		 extref_xml_attr(const char *s, size_t n, const char *name,
		    char *out, size_t outsz);

/* RTF: {\*\template ...} and INCLUDETEXT/INCLUDEPICTURE \fldinst. */
enum lw_err	 extref_rtf(struct scan_ctx *, const char *path,
		    const unsigned char *rtf, size_t len);

/*
 * A remote target written as UTF-16LE or ASCII inside binary data (an
 * OLE2Link moniker, a linked object's source): what names it.
 */
enum lw_err	 extref_binary(struct scan_ctx *, const char *path,
		    const char *what, const unsigned char *d, size_t len);

/* One target already extracted (an RTF linked object's source path). */
enum lw_err	 extref_target(struct scan_ctx *, const char *path,
		    const char *what, const char *target);

#endif /* EXTREF_H */
