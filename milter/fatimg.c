/*
 * fatimg.c: FAT12, FAT16 and FAT32 disk images, read without libarchive
 * (3.6.2 reads ISO 9660 but no FAT).  The usual .img lure is a floppy or
 * small FAT volume holding a .lnk or a script that Windows mounts on a
 * double click.
 *
 * Takes an image's bytes: a volume whose boot sector starts at offset 0,
 * or the FAT partitions of a master boot record.  The BIOS parameter
 * block is checked (sector size 512..4096, a power-of-two cluster of at
 * most 64 KiB, reserved sectors, one to four FATs, a media byte, every
 * region inside the declared volume); the FAT type comes from the
 * cluster count, except that a block without a 16-bit FAT size is FAT32
 * (as Linux reads it).  Directories are walked from the root: VFAT long
 * names (UTF-16, kept only when their checksum matches the short entry)
 * else 8.3 names with the NT lower-case flags.  Every file goes through
 * content_analyze() one level deeper under "<image path>/<dir>/<name>",
 * its name meets the FILE_* rules through it; a file whose data cannot
 * be read at all gets the name rules and filetype_check_unreadable.
 *
 * Bounds: a cluster is read at most once per image (a bitmap over the
 * clusters that lie in the file), so FAT loops, cross-linked chains and
 * directories that contain their ancestors end there and no more bytes
 * come out than the image holds; a chain is also cut at the file's
 * size, at limits.archive_entry_bytes (ARCHIVE_ENTRY_CUT: the part read
 * is analysed) and at what is left of archive_total_bytes (shared with
 * archives; each entry also costs FAT_ENTRY_COST).  At most
 * limits.archive_entries entries per image, FAT_MAX_DEPTH directory
 * levels and FAT_DIR_ENTRIES entries per directory; the time budget is
 * polled per entry.  Damage (a chain through a free, bad or
 * out-of-range cluster, a chain shorter than its file, a truncated
 * image) is ARCHIVE_CORRUPT once per image, and the walk goes on.
 *
 * Ignores: deleted entries, volume labels, timestamps and attributes,
 * the second FAT, exFAT and NTFS (no BIOS parameter block we accept),
 * GPT partition tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "lurewall.h"
#include "analyzer.h"
#include "archive.h"
#include "cfb.h"
#include "content.h"
#include "fatimg.h"
#include "filetype.h"

#define FAT_ENTRY_COST		512
#define FAT_MAX_DEPTH		16
#define FAT_DIR_ENTRIES		65536	/* the FAT maximum per directory */
#define FAT_LFN_MAX		20	/* 20 x 13 = 260 UTF-16 units */
#define FAT_NAME_MAX		1024

/* One volume. */
struct fat {
	struct scan_ctx		*ctx;
	const char		*path;		/* the image's part path */
	const unsigned char	*d;
	size_t			 len;
	unsigned		 depth;		/* the image's own */
	unsigned		 bits;		/* 12, 16 or 32 */
	size_t			 clus;		/* bytes per cluster */
	size_t			 fat_off;	/* first FAT, absolute */
	size_t			 fat_len;	/* its bytes in the file */
	size_t			 root_off;	/* FAT12/16 root directory */
	size_t			 root_len;
	uint32_t		 root_clus;	/* FAT32 root directory */
	size_t			 data_off;	/* cluster 2 */
	uint32_t		 nclus;		/* clusters the BPB declares */
	uint32_t		 nhere;		/* of those, in the file */
	unsigned char		*seen;		/* clusters already read */
	unsigned		 count;		/* entries met */
	bool			 corrupt;
	bool			 stop;		/* a message limit or the time */
};

/* A volume's geometry from its boot sector at base; false if no FAT. */
static bool
bpb_read(const unsigned char *d, size_t len, size_t base, struct fat *f)
{
	const unsigned char	*b = d + base;
	unsigned		 bps, spc, nfats, rootent, media;
	uint64_t		 rsvd, fatsz, totsec, rootsec, meta, nclus;
	uint64_t		 need;

	if (base > len || len - base < 512)
		return false;
	if (b[0] != 0xeb && b[0] != 0xe9)
		return false;
	bps = le16(b + 11);
	spc = b[13];
	rsvd = le16(b + 14);
	nfats = b[16];
	rootent = le16(b + 17);
	media = b[21];
	if ((bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) ||
	    spc == 0 || (spc & (spc - 1)) != 0 || (uint64_t)spc * bps > 65536)
		return false;
	if (rsvd == 0 || nfats == 0 || nfats > 4 ||
	    (media != 0xf0 && media < 0xf8))
		return false;
	fatsz = le16(b + 22);
	totsec = le16(b + 19) != 0 ? le16(b + 19) : le32(b + 32);
	memset(f, 0, sizeof(*f));
	if (fatsz == 0) {
		/* FAT32's extended block: no fixed root directory. */
		fatsz = le32(b + 36);
		if (rootent != 0 || le16(b + 19) != 0 || le32(b + 44) < 2)
			return false;
		f->bits = 32;
		f->root_clus = le32(b + 44);
	}
	rootsec = ((uint64_t)rootent * 32 + bps - 1) / bps;
	meta = rsvd + (uint64_t)nfats * fatsz + rootsec;
	if (fatsz == 0 || totsec <= meta)
		return false;
	nclus = (totsec - meta) / spc;
	if (nclus == 0 || nclus > 0x0ffffff4)
		return false;
	if (f->bits == 0)
		f->bits = nclus < 4085 ? 12 : 16;
	/* Only what the FAT can address. */
	need = fatsz * bps * 8 / f->bits;
	if (need < 2)
		return false;
	if (nclus > need - 2)
		nclus = need - 2;
	f->nclus = (uint32_t)nclus;
	f->clus = (size_t)spc * bps;
	f->fat_off = base + (size_t)(rsvd * bps);
	f->fat_len = (size_t)(fatsz * bps);
	f->root_off = base + (size_t)((rsvd + (uint64_t)nfats * fatsz) * bps);
	f->root_len = (size_t)rootent * 32;
	f->data_off = base + (size_t)(meta * bps);
	return f->fat_off <= len;
}

/* Offsets of the FAT volumes in an image: at 0, else MBR partitions. */
static size_t
volumes(const unsigned char *d, size_t len, size_t off[4])
{
	struct fat	 f;
	size_t		 n = 0, k, p;
	uint64_t	 lba;

	if (bpb_read(d, len, 0, &f)) {
		off[0] = 0;
		return 1;
	}
	if (len < 512 || d[510] != 0x55 || d[511] != 0xaa)
		return 0;
	/* A hybrid ISO's boot record is the ISO's: libarchive reads it. */
	if (len > 0x8006 && memcmp(d + 0x8001, "CD001", 5) == 0)
		return 0;
	for (k = 0; k < 4; k++) {
		p = 446 + 16 * k;
		switch (d[p + 4]) {
		case 0x01: case 0x04: case 0x06: case 0x0b: case 0x0c:
		case 0x0e:
			lba = (uint64_t)le32(d + p + 8) * 512;
			if (lba > 0 && lba < len && bpb_read(d, len,
			    (size_t)lba, &f))
				off[n++] = (size_t)lba;
			break;
		default:
			break;
		}
	}
	return n;
}

bool
fatimg_sniff(const unsigned char *d, size_t len)
{
	size_t	off[4];

	return volumes(d, len, off) > 0;
}

static void
fat_corrupt(struct fat *f, const char *what, uint32_t c)
{
	if (f->corrupt)
		return;
	f->corrupt = true;
	(void)findings_add(f->ctx->fs, "ARCHIVE_CORRUPT", f->path,
	    "FAT%u image: %s (cluster %lu)", f->bits, what, (unsigned long)c);
}

/* The FAT entry of cluster c; UINT32_MAX when outside the FAT. */
static uint32_t
fat_next(const struct fat *f, uint32_t c)
{
	size_t		 at;
	uint32_t	 v;

	if (f->bits == 12) {
		at = (size_t)c + c / 2;
		if (at + 2 > f->fat_len)
			return UINT32_MAX;
		v = le16(f->d + f->fat_off + at);
		v = (c & 1) ? v >> 4 : v & 0x0fff;
		return v >= 0x0ff7 ? v | 0x0ffff000 : v;
	}
	at = (size_t)c * (f->bits / 8);
	if (at + f->bits / 8 > f->fat_len)
		return UINT32_MAX;
	if (f->bits == 16) {
		v = le16(f->d + f->fat_off + at);
		return v >= 0xfff7 ? v | 0x0fff0000 : v;
	}
	return le32(f->d + f->fat_off + at) & 0x0fffffff;
}

/*
 * Follow the chain from cluster first, appending at most max bytes to
 * a fresh buffer.  Stops at the end of the chain, at a cluster read
 * before (loop or cross-link), at damage (ARCHIVE_CORRUPT) or when the
 * message's archive budget is spent (f->stop).  *out may be NULL when
 * nothing was read.
 */
static enum lw_err
chain_read(struct fat *f, uint32_t first, size_t max, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*buf = NULL, *nb;
	size_t		 used = 0, cap = 0, n;
	uint32_t	 c = first;

	*out = NULL;
	*outlen = 0;
	while (used < max) {
		if (c < 2 || c >= f->nclus + 2) {
			fat_corrupt(f, c == 0 ? "chain through a free cluster" :
			    "cluster number out of range", c);
			break;
		}
		if (c >= f->nhere + 2) {
			fat_corrupt(f, "cluster past the end of the image", c);
			break;
		}
		if (f->seen[(c - 2) / 8] & (1U << ((c - 2) % 8))) {
			fat_corrupt(f, "cluster read twice (loop or "
			    "cross-link)", c);
			break;
		}
		f->seen[(c - 2) / 8] |= 1U << ((c - 2) % 8);
		n = max - used < f->clus ? max - used : f->clus;
		if (!archive_charge(f->ctx, n)) {
			archive_limit(f->ctx, f->path, "archive_total_bytes",
			    f->ctx->lim->archive_total_bytes);
			f->stop = true;
			break;
		}
		if (n > cap - used) {
			cap = cap == 0 ? f->clus * 4 : cap * 2;
			if (cap > max)
				cap = max;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return LW_ENOMEM;
			}
			buf = nb;
		}
		/* invariant: c < nhere + 2, so the cluster is in the file */
		memcpy(buf + used, f->d + f->data_off + (size_t)(c - 2) *
		    f->clus, n);
		used += n;
		if (used >= max)
			break;
		c = fat_next(f, c);
		if (c == UINT32_MAX || c == 0x0ffffff7) {
			fat_corrupt(f, c == UINT32_MAX ? "chain leaves the "
			    "FAT" : "chain through a bad cluster", c);
			break;
		}
		if (c >= 0x0ffffff8)
			break;
	}
	*out = buf;
	*outlen = used;
	return LW_OK;
}

/* The 8.3 name of a directory entry, with the NT lower-case flags. */
static void
short_name(const unsigned char *e, char out[13])
{
	size_t	 i, n = 0, k;
	bool	 lo;

	for (k = 0; k < 2; k++) {
		size_t from = k == 0 ? 0 : 8, to = k == 0 ? 8 : 11, end = to;

		while (end > from && e[end - 1] == ' ')
			end--;
		if (k == 1 && end > from)
			out[n++] = '.';
		lo = (e[12] & (k == 0 ? 0x08 : 0x10)) != 0;
		for (i = from; i < end; i++) {
			unsigned char ch = e[i];

			if (ch < 0x20 || ch >= 0x7f || ch == '/')
				ch = '_';
			else if (lo && ch >= 'A' && ch <= 'Z')
				ch += 32;
			out[n++] = (char)ch;
		}
	}
	out[n] = '\0';
}

static unsigned char
lfn_sum(const unsigned char *e)
{
	unsigned char	s = 0;
	size_t		i;

	for (i = 0; i < 11; i++)
		s = (unsigned char)(((s & 1) << 7) + (s >> 1) + e[i]);
	return s;
}

/* Long-name entries gathered before their short entry. */
struct lfn {
	unsigned char	 u16[FAT_LFN_MAX * 26];
	unsigned	 next;		/* ordinal expected next; 0: none */
	unsigned	 total;
	unsigned char	 sum;
};

static void
lfn_add(struct lfn *l, const unsigned char *e)
{
	static const unsigned char at[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20,
	    22, 24, 28, 30 };
	unsigned	 ord = e[0] & 0x1f, i;

	if (e[0] & 0x40) {
		l->total = ord;
		l->next = ord;
		l->sum = e[13];
	}
	if (ord == 0 || ord > FAT_LFN_MAX || ord != l->next ||
	    e[13] != l->sum) {
		l->next = l->total = 0;
		return;
	}
	for (i = 0; i < 13; i++)
		memcpy(l->u16 + ((ord - 1) * 13 + i) * 2, e + at[i], 2);
	l->next--;
}

/* The long name for short entry e, if one was gathered for it. */
static char *
lfn_name(struct lfn *l, const unsigned char *e)
{
	size_t	n;

	if (l->total == 0 || l->next != 0 || l->sum != lfn_sum(e)) {
		l->total = 0;
		return NULL;
	}
	for (n = 0; n < (size_t)l->total * 13; n++)
		if (l->u16[2 * n] == 0 && l->u16[2 * n + 1] == 0)
			break;
	l->total = 0;
	return n > 0 ? cfb_utf16(l->u16, 2 * n) : NULL;
}

static enum lw_err	 dir_walk(struct fat *, const unsigned char *, size_t,
			    const char *, unsigned);

/* One file or directory entry e named name under prefix. */
static enum lw_err
entry(struct fat *f, const unsigned char *e, const char *rel,
    const char *name, unsigned level)
{
	struct scan_ctx		*ctx = f->ctx;
	const struct limits	*lim = ctx->lim;
	uint32_t		 first = le16(e + 26);
	uint64_t		 size = le32(e + 28);
	unsigned char		*buf;
	size_t			 blen, max;
	char			*epath;
	enum lw_err		 e2 = LW_OK;

	if (f->bits == 32)
		first |= (uint32_t)le16(e + 20) << 16;
	if ((epath = archive_join(f->path, rel)) == NULL)
		return LW_ENOMEM;
	if (!archive_charge(ctx, FAT_ENTRY_COST)) {
		archive_limit(ctx, epath, "archive_total_bytes",
		    lim->archive_total_bytes);
		f->stop = true;
		goto out;
	}
	if (e[11] & 0x10) {
		if (level + 1 >= FAT_MAX_DEPTH) {
			fat_corrupt(f, "directories nested too deep", first);
			goto out;
		}
		if ((e2 = chain_read(f, first, FAT_DIR_ENTRIES * 32, &buf,
		    &blen)) != LW_OK)
			goto out;
		e2 = dir_walk(f, buf, blen, rel, level + 1);
		free(buf);
		goto out;
	}
	max = size < lim->archive_entry_bytes ? (size_t)size :
	    (size_t)lim->archive_entry_bytes;
	buf = NULL;
	blen = 0;
	if (size > 0 && (e2 = chain_read(f, first, max, &buf, &blen)) !=
	    LW_OK)
		goto out;
	if (size > 0 && blen == 0) {
		if (!f->stop)
			filetype_check_unreadable(ctx, epath, name, NULL, 0);
		else
			filetype_check_name(ctx, epath, name);
		goto out;
	}
	if (blen < max && !f->stop)
		fat_corrupt(f, "chain shorter than its file", first);
	if (blen == max && size > max)
		archive_entry_cut(ctx, epath, "archive_entry_bytes",
		    lim->archive_entry_bytes, buf, blen);
	e2 = content_analyze(ctx, epath, name, NULL, buf != NULL ? buf :
	    (const unsigned char *)"", blen, f->depth + 1);
	free(buf);
out:
	free(epath);
	return e2;
}

/* The entries of one directory (its bytes), at level under prefix. */
static enum lw_err
dir_walk(struct fat *f, const unsigned char *dir, size_t n,
    const char *prefix, unsigned level)
{
	struct lfn	 l;
	const unsigned char *e;
	char		 sn[13], *ln, *rel;
	const char	*name;
	size_t		 i;
	enum lw_err	 err = LW_OK, r;

	memset(&l, 0, sizeof(l));
	for (i = 0; i + 32 <= n && err == LW_OK && !f->stop; i += 32) {
		e = dir + i;
		if (e[0] == 0x00)
			break;
		if (e[0] == 0xe5) {
			l.next = l.total = 0;
			continue;
		}
		if ((e[11] & 0x3f) == 0x0f) {
			lfn_add(&l, e);
			continue;
		}
		ln = lfn_name(&l, e);
		if (e[11] & 0x08) {		/* volume label */
			free(ln);
			continue;
		}
		short_name(e, sn);
		if (ln == NULL && (strcmp(sn, ".") == 0 ||
		    strcmp(sn, "..") == 0 || sn[0] == '\0'))
			continue;
		name = ln != NULL ? ln : sn;
		if (f->count++ >= f->ctx->lim->archive_entries) {
			archive_limit(f->ctx, f->path, "archive_entries",
			    f->ctx->lim->archive_entries);
			f->stop = true;
			free(ln);
			break;
		}
		if (scan_expired(f->ctx)) {
			f->stop = true;
			free(ln);
			break;
		}
		r = *prefix != '\0' ? lw_asprintf(&rel, "%s/%.*s", prefix,
		    FAT_NAME_MAX, name) : lw_asprintf(&rel, "%.*s",
		    FAT_NAME_MAX, name);
		if (r != LW_OK) {
			free(ln);
			return LW_ENOMEM;
		}
		err = entry(f, e, rel, name, level);
		free(rel);
		free(ln);
	}
	return err;
}

/* One volume at base. */
static enum lw_err
volume_scan(struct fat *f)
{
	unsigned char	*root;
	size_t		 rlen;
	enum lw_err	 e;

	if (f->data_off >= f->len)
		f->nhere = 0;
	else if ((f->len - f->data_off) / f->clus < f->nclus)
		f->nhere = (uint32_t)((f->len - f->data_off) / f->clus);
	else
		f->nhere = f->nclus;
	if (f->fat_len > f->len - f->fat_off)
		f->fat_len = f->len - f->fat_off;
	if (f->nhere < f->nclus)
		fat_corrupt(f, "image shorter than its volume", f->nhere + 2);
	if ((f->seen = calloc((size_t)f->nhere / 8 + 1, 1)) == NULL)
		return LW_ENOMEM;
	if (f->bits == 32) {
		e = chain_read(f, f->root_clus, FAT_DIR_ENTRIES * 32, &root,
		    &rlen);
		if (e == LW_OK) {
			e = dir_walk(f, root, rlen, "", 0);
			free(root);
		}
	} else {
		rlen = f->root_len;
		if (f->root_off > f->len)
			rlen = 0;
		else if (rlen > f->len - f->root_off)
			rlen = f->len - f->root_off;
		if (rlen < f->root_len)
			fat_corrupt(f, "root directory past the end of the "
			    "image", 0);
		e = dir_walk(f, f->d + f->root_off, rlen, "", 0);
	}
	free(f->seen);
	f->seen = NULL;
	return e;
}

enum lw_err
fatimg_scan(struct scan_ctx *ctx, const char *path, const unsigned char *d,
    size_t len, unsigned depth)
{
	struct fat	 f;
	size_t		 off[4], n, k;
	char		*vpath;
	enum lw_err	 e = LW_OK;

	if (path == NULL)
		path = "";
	if (archive_too_deep(ctx, path, depth))
		return LW_OK;
	n = volumes(d, len, off);
	for (k = 0; k < n && e == LW_OK; k++) {
		if (!bpb_read(d, len, off[k], &f))
			continue;
		/* Partitions beyond the first are told apart by number. */
		if (k == 0)
			vpath = lw_strdup(path);
		else if (lw_asprintf(&vpath, "%s/partition-%zu", path,
		    k + 1) != LW_OK)
			vpath = NULL;
		if (vpath == NULL)
			return LW_ENOMEM;
		f.ctx = ctx;
		f.path = vpath;
		f.d = d;
		f.len = len;
		f.depth = depth;
		e = volume_scan(&f);
		free(vpath);
		if (f.stop)
			break;
	}
	return e;
}
