/*
 * zipdec.h: the data of a zip entry we decrypted ourselves (WinZip AES,
 * zipaes.h), decompressed by its method and read as libzip's zip_fread
 * reads an entry, with the checks libzip makes at its end.  archive.c's
 * read_entry reads it under the archive bounds, so that the right
 * password costs one key derivation and one HMAC.
 */
#ifndef ZIPDEC_H
#define ZIPDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zipdec_entry {
	unsigned	 method;	/* ZIP_CM_*: 0, 8, 12 or 14 */
	uint64_t	 size;		/* declared */
	bool		 size_valid;
	uint32_t	 crc;		/* declared; 0 (AE-2): not compared */
};

struct zipdec;

/* Stored, Deflate, BZip2 and LZMA: the methods zipdec reads. */
bool		 zipdec_supported(unsigned method);

/*
 * A reader of in[0..n) (the caller's, kept until zipdec_close); max
 * bounds what the caller will read (LZMA's dictionary).  NULL when the
 * method is not supported or on ENOMEM.
 */
struct zipdec	*zipdec_open(const struct zipdec_entry *,
		    const unsigned char *in, size_t n, size_t max);

/*
 * Up to want bytes into buf: fewer only at the end; 0 at the end once
 * the CRC (and a stored entry's size) matched; -1 when the data does not
 * decompress or fails those checks, and on every read after that.
 */
int64_t		 zipdec_fread(struct zipdec *, void *buf, size_t want);
void		 zipdec_close(struct zipdec *);

#endif /* ZIPDEC_H */
