/*
 * fatimg.h: FAT12/16/32 disk images (the .img lure), which libarchive
 * does not read: a bounded parser of our own.  Every file found goes
 * back through content_analyze() one level deeper, as an archive entry
 * does ("2/x.img/docs/a.lnk"), under the archive limits.
 */
#ifndef FATIMG_H
#define FATIMG_H

#include "lurewall.h"

/*
 * True when the bytes hold a FAT volume: a boot sector with a sane BIOS
 * parameter block at offset 0, or in a partition of a master boot
 * record.
 */
bool		 fatimg_sniff(const unsigned char *, size_t);

struct scan_ctx;

/*
 * Walk every directory of the image at path (its part path) and analyse
 * every file.  Damage and limits are findings; only internal errors
 * are returned.
 */
enum lw_err	 fatimg_scan(struct scan_ctx *, const char *path,
		    const unsigned char *data, size_t len, unsigned depth);

#endif /* FATIMG_H */
