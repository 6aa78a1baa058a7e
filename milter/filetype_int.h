/*
 * filetype_int.h: private to filetype.c and filetype_fast.c.
 */
#ifndef FILETYPE_INT_H
#define FILETYPE_INT_H

#include "filetype.h"

/*
 * The kinds a few bytes settle without libmagic, for content our own
 * signatures left FT_UNKNOWN: FT_IMAGE (PNG, JPEG, GIF), FT_TEXT
 * (plain UTF-8 prose that no libmagic text rule can call anything but
 * text/plain), else FT_UNKNOWN (ask libmagic).  len: what libmagic
 * would see.
 */
enum ft_kind	 filetype_fast(const unsigned char *d, size_t len);

/*
 * Whether libmagic could call OLE2 bytes an MSI package: only when the
 * MSI class id is among them (see filetype_fast.c).  len: what
 * libmagic would see.
 */
bool		 filetype_ole2_may_be_msi(const unsigned char *d, size_t len);

#endif /* FILETYPE_INT_H */
