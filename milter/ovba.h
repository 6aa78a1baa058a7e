/*
 * ovba.h: VBA projects (MS-OVBA) inside a compound file, private to the
 * office stage.  ovba_scan finds every project, reads its dir stream and
 * module sources and adds OFFICE_VBA, OFFICE_VBA_AUTOEXEC,
 * OFFICE_VBA_SUSPICIOUS and OFFICE_MALFORMED findings.
 */
#ifndef OVBA_H
#define OVBA_H

#include "lurewall.h"

struct cfb;
struct scan_ctx;

/*
 * MS-OVBA 2.4.1 CompressedContainer -> malloc'd bytes, at most max.
 * LW_EMALFORMED (reason in why) on a bad signature, a chunk that claims
 * more than is there or a copy token reaching before the chunk;
 * LW_ELIMIT past max.
 */
enum lw_err	 ovba_decompress(const unsigned char *in, size_t len,
		    size_t max, unsigned char **out, size_t *outlen,
		    char *why, size_t whylen);

struct ovba_module {
	char		*name;		/* MODULENAME(UNICODE), UTF-8 */
	char		*stream;	/* MODULESTREAMNAME(UNICODE) */
	uint32_t	 offset;	/* MODULEOFFSET: source starts here */
	bool		 procedural;	/* standard module, not a document's */
};

struct ovba_dir {
	struct ovba_module	*mod;
	size_t			 n;
};

/* Decompressed dir stream -> modules; LW_ELIMIT past maxmods. */
enum lw_err	 ovba_parse_dir(const unsigned char *, size_t,
		    unsigned maxmods, struct ovba_dir *, char *why,
		    size_t whylen);
void		 ovba_dir_free(struct ovba_dir *);

/* Every project in the compound file; part names the file. */
enum lw_err	 ovba_scan(struct scan_ctx *, const char *part,
		    struct cfb *);

#endif /* OVBA_H */
