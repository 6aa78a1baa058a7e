/*
 * msgbuf.h: the bounded copy of one message as the MTA hands it over,
 * headers ("Name:value\r\n", value as received), a blank line, then the
 * body.  Kept in memory up to limits.memory_body_bytes, then spilled to
 * an unlinked temporary file that is mmap'd for the scan.  Never holds
 * more than limits.max_message_bytes: the rest is counted and dropped,
 * and the buffer remembers that it was truncated (the scan turns that
 * into MIME_LIMIT).  Knows nothing of libmilter.
 */
#ifndef MSGBUF_H
#define MSGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lurewall.h"

struct msgbuf {
	unsigned char	*buf;		/* memory copy, NULL once spilled */
	size_t		 len;		/* bytes kept (memory or file) */
	size_t		 cap;		/* allocated size of buf */
	size_t		 mem_max;	/* spill past this many bytes */
	size_t		 max;		/* keep at most this many bytes */
	uint64_t	 seen;		/* bytes offered, kept or not */
	bool		 truncated;	/* something was dropped */
	int		 fd;		/* spill file, -1 while in memory */
	char		*tmpdir;	/* where spill files go */
	void		*map;		/* mmap of the spill file */
	size_t		 maplen;
};

/*
 * Set up an empty buffer.  tmpdir NULL means $TMPDIR, else /var/tmp.
 * mem_max 0 spills on the first byte (tests); max 0 keeps nothing.
 */
enum lw_err	 msgbuf_init(struct msgbuf *, uint64_t mem_max, uint64_t max,
		    const char *tmpdir);
/* Release everything; the buffer may be initialised again. */
void		 msgbuf_free(struct msgbuf *);

/*
 * Append raw bytes.  LW_ELIMIT: max was reached, what fit was kept,
 * the rest dropped, truncated set (the caller keeps going: the scan
 * runs on what we have).  LW_ENOMEM/LW_EIO: internal error, no
 * trustworthy copy.
 */
enum lw_err	 msgbuf_append(struct msgbuf *, const void *, size_t);
/*
 * Append one header field "name:value\r\n".  value is as received
 * (with its leading space when the MTA keeps it; space puts back the
 * one an MTA without SMFIP_HDR_LEADSPC ate); bare LF line ends of a
 * folded value become CRLF so the copy is a wire-format message.
 */
enum lw_err	 msgbuf_add_header(struct msgbuf *, const char *name,
		    const char *value, bool space);
/* The blank line between header and body. */
enum lw_err	 msgbuf_end_headers(struct msgbuf *);

/*
 * The whole copy as one read-only byte range, valid until
 * msgbuf_free.  No more appends after this.
 */
enum lw_err	 msgbuf_data(struct msgbuf *, const unsigned char **,
		    size_t *);

bool		 msgbuf_spilled(const struct msgbuf *);

#endif /* MSGBUF_H */
