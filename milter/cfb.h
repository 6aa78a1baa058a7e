/*
 * cfb.h: a read-only, bounded reader of OLE2 compound files (MS-CFB),
 * private to the office stage.
 *
 * cfb_open checks the header, loads the FAT (through the DIFAT), the
 * MiniFAT, the mini stream and the directory, and names every reachable
 * entry by its full storage path ("Macros/VBA/dir").  Inconsistencies
 * give LW_EMALFORMED with a reason in cfb->why; a file past
 * limits.ole_sectors (or with more than 65536 directory entries) gives
 * LW_ELIMIT.  The buffer must outlive the
 * struct cfb (streams are copied out, never referenced).
 */
#ifndef CFB_H
#define CFB_H

#include "lurewall.h"

#define CFB_TYPE_STORAGE	1
#define CFB_TYPE_STREAM		2
#define CFB_TYPE_ROOT		5

struct cfb_entry {
	char		*name;		/* UTF-8 */
	char		*path;		/* "A/B/name"; NULL: unreachable */
	uint8_t		 type;		/* CFB_TYPE_* */
	uint32_t	 left, right, child;
	uint32_t	 start;
	uint64_t	 size;
	int		 parent;	/* index of the storage; -1 for root */
};

struct cfb_name {
	const char	*path;		/* borrowed from the entry */
	uint32_t	 idx;
};

struct cfb {
	const unsigned char	*data;
	size_t			 len;
	uint32_t		 ssz;		/* sector size: 512 or 4096 */
	uint32_t		 nsec;		/* sectors in the file */
	uint32_t		*fat;
	uint32_t		 nfat;		/* FAT entries we trust */
	uint32_t		*minifat;
	uint32_t		 nminifat;
	unsigned char		*mini;		/* the mini stream */
	size_t			 minilen;
	struct cfb_entry	*ent;
	size_t			 nent;
	struct cfb_name		*byname;	/* sorted by path */
	size_t			 nnamed;
	uint64_t		 max_stream;	/* limits.office_stream_bytes */
	char			 why[160];	/* reason of the last error */
};

enum lw_err	 cfb_open(struct cfb *, const unsigned char *, size_t,
		    const struct limits *);
void		 cfb_close(struct cfb *);
/* Index of the entry at path (ASCII case-insensitive), or -1. */
int		 cfb_find(const struct cfb *, const char *path);
/* Copy a stream out (malloc'd; *len its size). */
enum lw_err	 cfb_read(struct cfb *, int idx, unsigned char **,
		    size_t *len);

/* UTF-16LE bytes -> malloc'd UTF-8 (stops at U+0000). */
char		*cfb_utf16(const unsigned char *, size_t nbytes);

#endif /* CFB_H */
