/*
 * rar5.c: the file headers of a RAR5 archive, walked only to learn
 * which files are encrypted (a file encryption record, extra type 1, in
 * the header's extra area).  An archive whose headers are encrypted
 * (an archive encryption header) shows nothing here: libarchive says
 * so itself.
 *
 * Bounds: each header must lie inside the bytes (RAR5 caps a header at
 * 2 MiB), a data area is skipped by its declared size only when that
 * stays inside the bytes, at most max names are kept and at most
 * RAR5_MAX_HEADERS headers walked; a vint is at most 10 bytes.
 * Ignores: service headers, multi-volume sets (the first volume only),
 * everything a file header says besides its name and encryption.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "lurewall.h"
#include "rar5.h"

#define RAR5_SIG		"Rar!\x1a\x07\x01\x00"
#define RAR5_MAX_HEADER		(2U << 20)
#define RAR5_MAX_HEADERS	100000
#define RAR5_NAME_MAX		1024

enum { H_FILE = 2, H_CRYPT = 4, H_END = 5 };

/* A vint at *p below end; false when it runs past end or 10 bytes. */
static bool
vint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	unsigned	i;

	*v = 0;
	for (i = 0; i < 10 && *p < end; i++) {
		*v |= (uint64_t)(**p & 0x7f) << (7 * i);
		if ((*(*p)++ & 0x80) == 0)
			return true;
	}
	return false;
}

/* Does the extra area [p, end) hold a file encryption record? */
static bool
extra_crypt(const unsigned char *p, const unsigned char *end)
{
	const unsigned char	*rec;
	uint64_t		 size, type;

	while (p < end) {
		if (!vint(&p, end, &size) || size > (uint64_t)(end - p))
			return false;
		rec = p;
		if (vint(&rec, p + size, &type) && type == 1)
			return true;
		p += size;
	}
	return false;
}

/*
 * The name of the file header whose fields start at p, or NULL when
 * they do not parse; *crypt when its extra area [x, end) has the
 * encryption record.
 */
static char *
file_name(const unsigned char *p, const unsigned char *x,
    const unsigned char *end, bool *crypt)
{
	uint64_t	 fflags, v, nlen;

	*crypt = false;
	if (!vint(&p, x, &fflags) || !vint(&p, x, &v) || !vint(&p, x, &v))
		return NULL;
	if ((fflags & 0x2) && x - p < 4)
		return NULL;
	p += (fflags & 0x2) ? 4 : 0;		/* mtime */
	if ((fflags & 0x4) && x - p < 4)
		return NULL;
	p += (fflags & 0x4) ? 4 : 0;		/* data CRC32 */
	if (!vint(&p, x, &v) || !vint(&p, x, &v) || !vint(&p, x, &nlen) ||
	    nlen > (uint64_t)(x - p) || nlen > RAR5_NAME_MAX)
		return NULL;
	*crypt = extra_crypt(x, end);
	return lw_strndup((const char *)p, (size_t)nlen);
}

enum lw_err
rar5_encrypted(const unsigned char *d, size_t len, size_t max,
    char ***names, size_t *n)
{
	const unsigned char	*p, *h, *end, *x;
	uint64_t		 hsize, type, flags, xsize, dsize;
	char			*nm, **nv;
	size_t			 pos = 8, walked;
	bool			 crypt;

	*names = NULL;
	*n = 0;
	if (len < 8 || memcmp(d, RAR5_SIG, 8) != 0)
		return LW_OK;
	for (walked = 0; walked < RAR5_MAX_HEADERS && len - pos > 4;
	    walked++) {
		p = d + pos + 4;			/* past the CRC32 */
		if (!vint(&p, d + len, &hsize) || hsize > RAR5_MAX_HEADER ||
		    hsize > (uint64_t)(d + len - p))
			break;
		h = p;
		end = p + hsize;
		xsize = dsize = 0;
		if (!vint(&h, end, &type) || !vint(&h, end, &flags) ||
		    ((flags & 0x1) && !vint(&h, end, &xsize)) ||
		    ((flags & 0x2) && !vint(&h, end, &dsize)) ||
		    xsize > (uint64_t)(end - h))
			break;
		if (type == H_CRYPT || type == H_END)
			break;
		x = end - xsize;
		if (type == H_FILE && (nm = file_name(h, x, end, &crypt)) !=
		    NULL) {
			if (!crypt || *n >= max)
				free(nm);
			else if ((nv = reallocarray(*names, *n + 1,
			    sizeof(*nv))) == NULL) {
				free(nm);
				lw_strv_free(*names, *n);
				*names = NULL;
				*n = 0;
				return LW_ENOMEM;
			} else {
				nv[(*n)++] = nm;
				*names = nv;
			}
		}
		if (dsize > (uint64_t)(d + len - end))
			break;
		pos = (size_t)(end - d) + (size_t)dsize;
	}
	return LW_OK;
}
