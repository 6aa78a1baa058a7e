/*
 * sevenz_int.h: what sevenz.c (the 7z header, keys and candidates)
 * shares with sevenz_dec.c (the coders), and nothing else includes.
 */
#ifndef SEVENZ_INT_H
#define SEVENZ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SZ_MAX_CODERS		16	/* BCJ2 + AES: 8 */
#define SZ_MAX_STREAMS		32	/* in or out streams per folder */

struct coder {
	unsigned char	 id[8];
	size_t		 idlen;
	const unsigned char *props;
	size_t		 nprops;
};

struct folder {
	struct coder	 c[SZ_MAX_CODERS];
	unsigned	 nc;
	bool		 chain;		/* 1-in/1-out coders: decodable */
	unsigned	 order[SZ_MAX_CODERS];	/* chain: packed side first */
	unsigned	 nout;			/* out streams of all coders */
	unsigned	 final;			/* the one no coder reads */
	unsigned	 npacked;		/* packed streams it reads */
	uint64_t	 usize[SZ_MAX_STREAMS];	/* per out stream */
	uint64_t	 size;			/* final output */
	bool		 has_crc;
	uint32_t	 crc;
	uint64_t	 packpos, packsize;	/* absolute offset */
	uint64_t	 nsub;			/* files in it */
};

enum dec {
	DEC_OK,
	DEC_BAD,		/* does not decode: wrong key or corrupt */
	DEC_UNSUPPORTED,
	DEC_ENOMEM
};

bool		 sz_is_id(const struct coder *, const char *id, size_t n);
/* Does the folder need a key (a 7zAES coder)? */
bool		 sz_folder_encrypted(const struct folder *);
/* Is it a chain of coders sevenz_dec.c decodes? */
bool		 sz_folder_supported(const struct folder *);
/*
 * Decode one folder of the archive d with key (NULL: none) into a fresh
 * *out of f->size bytes; every intermediate size is bounded by max.
 * DEC_UNSUPPORTED when a coder is not one we have.
 */
enum dec	 sz_folder_decode(const struct folder *f,
		    const unsigned char *d, const unsigned char *key,
		    uint64_t max, unsigned char **out);

#endif /* SEVENZ_INT_H */
