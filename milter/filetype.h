/*
 * filetype.h: what a file really is (libmagic plus a few signatures of
 * our own), compared with what its name says.
 *
 * libmagic cookies are not thread-safe and magic_load is slow, so a
 * small pool of loaded cookies is shared by the milter threads
 * (filetype_init); filetype_detect borrows one for the call.
 */
#ifndef FILETYPE_H
#define FILETYPE_H

#include "lurewall.h"

struct scan_ctx;

enum ft_kind {
	FT_UNKNOWN = 0,
	FT_TEXT,
	FT_PDF,
	FT_IMAGE,
	FT_ZIP,			/* plain zip archive */
	FT_OOXML,		/* zip with [Content_Types].xml */
	FT_ODF,			/* zip with a mimetype entry */
	FT_OLE2,		/* compound file that is not MSI */
	FT_RTF,
	FT_PE,
	FT_ELF,
	FT_MACHO,
	FT_MSI,
	FT_SCRIPT,		/* by content: shebang, JScript/VBScript, HTA */
	FT_LNK,
	FT_DISK_IMAGE,		/* ISO 9660, UDF, VHD(X), raw img */
	FT_ONENOTE,
	FT_GZIP,
	FT_RAR,
	FT_7Z,
	FT_HTML,		/* HTML page (libmagic text/html) */
	FT_SVG,			/* SVG image */
	FT_UNIX_SCRIPT,		/* #! script no Windows client runs */
	FT_CHM,			/* compiled HTML help (ITSF) */
	FT_LAUNCHER,		/* .url to file:/UNC/script, .library-ms,
				   .searchConnector-ms, .search-ms, .iqy */
	FT_SYLK,		/* SYLK spreadsheet (ID;P...) */
	FT_OTHER
};

/* What an HTML, SVG or JavaScript file does (html_behaviour.h). */
enum ft_html {
	FT_HTML_NONE = 0,
	FT_HTML_SCRIPT,		/* FILE_HTML_SCRIPT */
	FT_HTML_LURE		/* FILE_HTML_SMUGGLING */
};

struct ft_result {
	enum ft_kind	 kind;
	char		 mime[80];	/* libmagic MIME type; "" when the
					   kind did not need it (asked by
					   filetype_check if quoted) */
	char		 desc[160];	/* libmagic description, cut */
	enum ft_html	 html;		/* HTML, SVG and JavaScript only */
	char		 why[160];	/* why html or the launcher kind */
	const unsigned char *data;	/* the caller's bytes, what libmagic
					   sees of them: for the MIME type */
	size_t		 mlen;
};

enum lw_err	 filetype_init(unsigned pool_size);
void		 filetype_fini(void);
/*
 * The kind of data; libmagic is asked only when our signatures and
 * filetype_fast (images, plain text) do not settle it.  r keeps a
 * pointer to data: filetype_check may ask libmagic later.
 */
enum lw_err	 filetype_detect(const unsigned char *data, size_t len,
		    struct ft_result *);
/* fast false: libmagic asked always, as before filetype_fast (tests). */
enum lw_err	 filetype_detect_how(const unsigned char *data, size_t len,
		    struct ft_result *, bool fast);
const char	*filetype_kind_name(enum ft_kind);

/* FILE_* rules for a file whose content we have. */
void		 filetype_check(struct scan_ctx *, const char *path,
		    const char *name, const char *declared_type,
		    const struct ft_result *);
/* FILE_* rules by name only (entries of an archive we cannot open). */
void		 filetype_check_name(struct scan_ctx *, const char *path,
		    const char *name);
/*
 * An archive entry whose data cannot be read (corrupt, unsupported
 * method): the name rules, plus ARCHIVE_ENTRY_UNREADABLE when its name
 * or its first bytes (head, n: what was read before the failure; NULL
 * when none) say Office or an executable.
 */
void		 filetype_check_unreadable(struct scan_ctx *, const char *path,
		    const char *name, const unsigned char *head, size_t n);

#endif /* FILETYPE_H */
