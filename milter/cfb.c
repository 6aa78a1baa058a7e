/*
 * cfb.c: OLE2 compound file reader (MS-CFB), bounded.
 *
 * Takes a whole file in memory.  Checks the header (magic, byte order,
 * version 3 with 512-byte or version 4 with 4096-byte sectors, 64-byte
 * mini sectors, 4096-byte cutoff), builds the FAT from the header's and
 * the chained DIFAT sectors, reads the directory, MiniFAT and mini
 * stream chains, and walks the directory's red-black trees iteratively
 * to name each entry by its storage path.
 *
 * Bounds: the file's sector count against limits.ole_sectors; every
 * chain walk keeps a visited bitmap (a loop is an error, so a chain is
 * never longer than the sectors it may use); the directory walk marks
 * entries visited (a cycle is an error) and storages nest at most
 * CFB_MAX_DEPTH deep; a stream is read only if its declared size fits
 * the file and limits.office_stream_bytes.  A short last sector is read
 * as if zero-padded (writers truncate files that way); a sector index
 * past the end of the file is an error.
 *
 * Ignores: CLSIDs, timestamps, state bits, red-black colours, and
 * entries no tree reaches (they keep path NULL).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "lurewall.h"
#include "cfb.h"
#include "util.h"

#define CFB_MAXREGSECT	0xFFFFFFFAu	/* larger values are markers */
#define CFB_ENDOFCHAIN	0xFFFFFFFEu
#define CFB_FREESECT	0xFFFFFFFFu
#define CFB_NOSTREAM	0xFFFFFFFFu
#define CFB_MINI_SIZE	64
#define CFB_CUTOFF	4096
#define CFB_DIRENT	128
#define CFB_MAX_DEPTH	32
#define CFB_MAX_ENTRIES	65536		/* real files have hundreds */
#define CFB_MAX_PATHS	(8u << 20)	/* bytes of all paths together */

static const unsigned char cfb_magic[8] = {
	0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1
};

static enum lw_err
fail(struct cfb *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum lw_err
fail(struct cfb *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return LW_EMALFORMED;
}

/* Copy sector n to dst (ssz bytes), zero-filling a short last sector. */
static void
sector_copy(const struct cfb *c, uint32_t n, unsigned char *dst,
    size_t want)
{
	size_t	 off, avail;

	off = ((size_t)n + 1) * c->ssz;
	avail = c->len - off;
	if (avail > want)
		avail = want;
	memcpy(dst, c->data + off, avail);
	memset(dst + avail, 0, want - avail);
}

/*
 * Follow a chain through tab (ntab entries; indices must also stay
 * below nslots, the sectors that exist).  want > 0: stop after that
 * many sectors (the chain may not end sooner); want == 0: follow to
 * ENDOFCHAIN.  Returns the sector indices in *out (malloc'd).
 */
static enum lw_err
chain_collect(struct cfb *c, const uint32_t *tab, uint32_t ntab,
    uint32_t start, uint32_t want, uint32_t **out, uint32_t *nout,
    const char *what)
{
	unsigned char	*seen;
	uint32_t	*v, n, cur;
	uint32_t	 cap;
	enum lw_err	 e = LW_OK;

	*out = NULL;
	*nout = 0;
	if (want > ntab)
		return fail(c, "%s needs %u sectors, table has %u", what,
		    want, ntab);
	cap = want ? want : ntab;
	if ((seen = calloc((size_t)ntab / 8 + 1, 1)) == NULL)
		return LW_ENOMEM;
	if ((v = calloc((size_t)cap + 1, sizeof(*v))) == NULL) {
		free(seen);
		return LW_ENOMEM;
	}
	n = 0;
	cur = start;
	for (;;) {
		if (want != 0 && n == want)
			break;
		if (cur == CFB_ENDOFCHAIN) {
			if (want != 0)
				e = fail(c, "%s chain ends after %u of %u "
				    "sectors", what, n, want);
			break;
		}
		if (cur >= ntab) {
			e = fail(c, "%s chain: sector %#x beyond the file "
			    "(%u sectors)", what, cur, ntab);
			break;
		}
		if (seen[cur / 8] & (1u << (cur % 8))) {
			e = fail(c, "%s chain loops at sector %u", what, cur);
			break;
		}
		seen[cur / 8] |= 1u << (cur % 8);
		v[n++] = cur;
		cur = tab[cur];
	}
	free(seen);
	if (e != LW_OK) {
		free(v);
		return e;
	}
	*out = v;
	*nout = n;
	return LW_OK;
}

/* Read a regular-sector chain of size bytes into a malloc'd buffer. */
static enum lw_err
read_big(struct cfb *c, uint32_t start, uint64_t size, unsigned char **out,
    const char *what)
{
	uint32_t	*secs, nsecs, i, want;
	unsigned char	*buf;
	size_t		 done, take;
	enum lw_err	 e;

	*out = NULL;
	if (size > (uint64_t)c->nsec * c->ssz)
		return fail(c, "%s: size %llu larger than the file", what,
		    (unsigned long long)size);
	want = (uint32_t)((size + c->ssz - 1) / c->ssz);
	if (want == 0)
		return (*out = malloc(1)) == NULL ? LW_ENOMEM : LW_OK;
	if ((e = chain_collect(c, c->fat, c->nsec, start, want, &secs,
	    &nsecs, what)) != LW_OK)
		return e;
	if ((buf = malloc((size_t)size)) == NULL) {
		free(secs);
		return LW_ENOMEM;
	}
	for (i = 0, done = 0; i < nsecs; i++, done += take) {
		take = size - done < c->ssz ? (size_t)(size - done) : c->ssz;
		sector_copy(c, secs[i], buf + done, take);
	}
	free(secs);
	*out = buf;
	return LW_OK;
}

static enum lw_err
load_fat(struct cfb *c, const unsigned char *h)
{
	uint32_t	 nfatsec, ndif, dif, per, i, k, filled, s;
	unsigned char	*sec, *seen;
	enum lw_err	 e = LW_OK;

	per = c->ssz / 4;
	nfatsec = le32(h + 44);
	ndif = le32(h + 72);
	dif = le32(h + 68);
	if (nfatsec > c->nsec)
		return fail(c, "%u FAT sectors in a file of %u sectors",
		    nfatsec, c->nsec);
	if (ndif > c->nsec)
		return fail(c, "%u DIFAT sectors in a file of %u sectors",
		    ndif, c->nsec);
	if ((c->fat = malloc((size_t)c->nsec * sizeof(*c->fat))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < c->nsec; i++)
		c->fat[i] = CFB_FREESECT;
	if ((sec = malloc(c->ssz)) == NULL)
		return LW_ENOMEM;
	if ((seen = calloc((size_t)c->nsec / 8 + 1, 1)) == NULL) {
		free(sec);
		return LW_ENOMEM;
	}
	filled = 0;
	/* One FAT sector: its entries cover the next per sectors. */
#define ADD_FAT_SECTOR(fs) do {						\
	if ((fs) >= c->nsec) {						\
		e = fail(c, "FAT sector %#x beyond the file", (fs));	\
		goto out;						\
	}								\
	sector_copy(c, (fs), sec, c->ssz);				\
	for (k = 0; k < per && filled < c->nsec; k++)			\
		c->fat[filled++] = le32(sec + 4 * k);			\
} while (0)
	for (i = 0; i < nfatsec && i < 109; i++) {
		s = le32(h + 76 + 4 * i);
		ADD_FAT_SECTOR(s);
	}
	/* The DIFAT chain: per-1 FAT sector numbers, then the next one. */
	while (i < nfatsec) {
		if (ndif-- == 0 || dif == CFB_ENDOFCHAIN) {
			e = fail(c, "DIFAT lists %u of %u FAT sectors", i,
			    nfatsec);
			goto out;
		}
		if (dif >= c->nsec) {
			e = fail(c, "DIFAT sector %#x beyond the file", dif);
			goto out;
		}
		if (seen[dif / 8] & (1u << (dif % 8))) {
			e = fail(c, "DIFAT chain loops at sector %u", dif);
			goto out;
		}
		seen[dif / 8] |= 1u << (dif % 8);
		{
			unsigned char	 ds[4096];
			uint32_t	 j;

			sector_copy(c, dif, ds, c->ssz);
			for (j = 0; j < per - 1 && i < nfatsec; j++, i++) {
				s = le32(ds + 4 * j);
				ADD_FAT_SECTOR(s);
			}
			dif = le32(ds + 4 * (per - 1));
		}
	}
#undef ADD_FAT_SECTOR
out:
	free(seen);
	free(sec);
	return e;
}

/* UTF-16LE -> UTF-8; unpaired surrogates and non-BMP become '?'. */
char *
cfb_utf16(const unsigned char *p, size_t nbytes)
{
	char		*s, *o;
	size_t		 i;
	uint32_t	 u, lo;

	if ((s = malloc(nbytes / 2 * 3 + 1)) == NULL)
		return NULL;
	o = s;
	for (i = 0; i + 1 < nbytes; i += 2) {
		u = le16(p + i);
		if (u == 0)
			break;
		if (u >= 0xd800 && u <= 0xdbff && i + 3 < nbytes &&
		    (lo = le16(p + i + 2)) >= 0xdc00 && lo <= 0xdfff) {
			u = '?';	/* a pair; 4 bytes would not fit */
			i += 2;
		} else if (u >= 0xd800 && u <= 0xdfff)
			u = '?';
		if (u < 0x80)
			*o++ = (char)u;
		else if (u < 0x800) {
			*o++ = (char)(0xc0 | u >> 6);
			*o++ = (char)(0x80 | (u & 0x3f));
		} else {
			*o++ = (char)(0xe0 | u >> 12);
			*o++ = (char)(0x80 | (u >> 6 & 0x3f));
			*o++ = (char)(0x80 | (u & 0x3f));
		}
	}
	*o = '\0';
	return s;
}

static enum lw_err
load_dir(struct cfb *c, uint32_t start, uint64_t rootmask)
{
	uint32_t	*secs, nsecs, i;
	const unsigned char *d;
	unsigned char	*buf;
	struct cfb_entry *en;
	unsigned	 nlen;
	enum lw_err	 e;

	if ((e = chain_collect(c, c->fat, c->nsec, start, 0, &secs, &nsecs,
	    "directory")) != LW_OK)
		return e;
	if (nsecs == 0) {
		free(secs);
		return fail(c, "empty directory");
	}
	if ((buf = malloc((size_t)nsecs * c->ssz)) == NULL) {
		free(secs);
		return LW_ENOMEM;
	}
	for (i = 0; i < nsecs; i++)
		sector_copy(c, secs[i], buf + (size_t)i * c->ssz, c->ssz);
	free(secs);
	c->nent = (size_t)nsecs * c->ssz / CFB_DIRENT;
	if (c->nent > CFB_MAX_ENTRIES) {
		free(buf);
		(void)snprintf(c->why, sizeof(c->why), "directory of %zu "
		    "entries, limit %d", c->nent, CFB_MAX_ENTRIES);
		c->nent = 0;
		return LW_ELIMIT;
	}
	if ((c->ent = calloc(c->nent, sizeof(*c->ent))) == NULL) {
		free(buf);
		return LW_ENOMEM;
	}
	for (i = 0; i < c->nent; i++) {
		d = buf + (size_t)i * CFB_DIRENT;
		en = &c->ent[i];
		en->parent = -1;
		en->type = d[66];
		nlen = le16(d + 64);
		if (en->type == 0)
			continue;
		if (en->type != CFB_TYPE_STORAGE &&
		    en->type != CFB_TYPE_STREAM && en->type != CFB_TYPE_ROOT) {
			e = fail(c, "directory entry %u has type %u", i,
			    en->type);
			goto out;
		}
		if (nlen > 64 || nlen % 2 != 0) {
			e = fail(c, "directory entry %u name length %u", i,
			    nlen);
			goto out;
		}
		if ((en->name = cfb_utf16(d, nlen)) == NULL) {
			e = LW_ENOMEM;
			goto out;
		}
		en->left = le32(d + 68);
		en->right = le32(d + 72);
		en->child = le32(d + 76);
		en->start = le32(d + 116);
		en->size = le64(d + 120) & rootmask;
	}
	if (c->ent[0].type != CFB_TYPE_ROOT)
		e = fail(c, "first directory entry is not the root");
	else
		e = LW_OK;
out:
	free(buf);
	return e;
}

/* Name every entry reachable from the root by its storage path. */
static enum lw_err
walk_dir(struct cfb *c)
{
	struct frame {
		uint32_t	 idx;
		int		 parent;
	} *stack;
	unsigned char	*seen;
	unsigned	*depth;
	size_t		 sp, cap, pathbytes = 0;
	struct cfb_entry *en, *pa;
	uint32_t	 idx;
	enum lw_err	 e = LW_OK;

	cap = 3 * c->nent + 1;
	stack = calloc(cap, sizeof(*stack));
	seen = calloc(c->nent / 8 + 1, 1);
	depth = calloc(c->nent, sizeof(*depth));
	if (stack == NULL || seen == NULL || depth == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	if ((c->ent[0].path = strdup("")) == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	seen[0] = 1;
	sp = 0;
	stack[sp].idx = c->ent[0].child;
	stack[sp++].parent = 0;
	while (sp > 0) {
		idx = stack[--sp].idx;
		pa = &c->ent[stack[sp].parent];
		if (idx == CFB_NOSTREAM)
			continue;
		if (idx >= c->nent) {
			e = fail(c, "directory link to entry %u of %zu", idx,
			    c->nent);
			goto out;
		}
		if (seen[idx / 8] & (1u << (idx % 8))) {
			e = fail(c, "directory cycle at entry %u", idx);
			goto out;
		}
		seen[idx / 8] |= 1u << (idx % 8);
		en = &c->ent[idx];
		if (en->type != CFB_TYPE_STORAGE && en->type != CFB_TYPE_STREAM) {
			e = fail(c, "directory link to entry %u of type %u",
			    idx, en->type);
			goto out;
		}
		en->parent = stack[sp].parent;
		depth[idx] = depth[en->parent] + 1;
		if (depth[idx] > CFB_MAX_DEPTH) {
			e = fail(c, "storages nested deeper than %d",
			    CFB_MAX_DEPTH);
			goto out;
		}
		if ((en->path = lw_path_join(pa->path, en->name)) == NULL) {
			e = LW_ENOMEM;
			goto out;
		}
		pathbytes += strlen(en->path) + 1;
		if (pathbytes > CFB_MAX_PATHS) {
			(void)snprintf(c->why, sizeof(c->why), "directory "
			    "paths take more than %u bytes", CFB_MAX_PATHS);
			e = LW_ELIMIT;
			goto out;
		}
		/* Each entry is pushed once at most by its one visitor. */
		stack[sp].idx = en->left;
		stack[sp++].parent = en->parent;
		stack[sp].idx = en->right;
		stack[sp++].parent = en->parent;
		if (en->type == CFB_TYPE_STORAGE) {
			stack[sp].idx = en->child;
			stack[sp++].parent = (int)idx;
		}
	}
out:
	free(depth);
	free(seen);
	free(stack);
	return e;
}

/* Order entries by path for cfb_find. */
static int
path_cmp(const void *a, const void *b)
{
	const struct cfb_name	*x = a, *y = b;

	return strcasecmp(x->path, y->path);
}

static enum lw_err
build_index(struct cfb *c)
{
	size_t	 i;

	if ((c->byname = calloc(c->nent, sizeof(*c->byname))) == NULL)
		return LW_ENOMEM;
	for (i = 1; i < c->nent; i++) {
		if (c->ent[i].path == NULL)
			continue;
		c->byname[c->nnamed].path = c->ent[i].path;
		c->byname[c->nnamed++].idx = (uint32_t)i;
	}
	qsort(c->byname, c->nnamed, sizeof(*c->byname), path_cmp);
	return LW_OK;
}

enum lw_err
cfb_open(struct cfb *c, const unsigned char *data, size_t len,
    const struct limits *lim)
{
	const unsigned char *h = data;
	uint16_t	 major, shift;
	uint32_t	*secs, nsecs, i, nmf, mfstart;
	unsigned char	*mf;
	uint64_t	 rootmask, nsec64;
	enum lw_err	 e;

	memset(c, 0, sizeof(*c));
	c->data = data;
	c->len = len;
	c->max_stream = lim->office_stream_bytes;
	if (len < 512 || memcmp(h, cfb_magic, sizeof(cfb_magic)) != 0)
		return fail(c, "not a compound file");
	if (le16(h + 28) != 0xfffe)
		return fail(c, "byte order mark %#x", le16(h + 28));
	major = le16(h + 26);
	shift = le16(h + 30);
	if (!(major == 3 && shift == 9) && !(major == 4 && shift == 12))
		return fail(c, "version %u with sector shift %u", major,
		    shift);
	if (le16(h + 32) != 6)
		return fail(c, "mini sector shift %u", le16(h + 32));
	if (le32(h + 56) != CFB_CUTOFF)
		return fail(c, "mini stream cutoff %u", le32(h + 56));
	c->ssz = 1u << shift;
	if (len <= c->ssz)
		return fail(c, "no sectors after the header");
	nsec64 = (len - c->ssz + c->ssz - 1) / c->ssz;
	if (nsec64 > lim->ole_sectors) {
		(void)snprintf(c->why, sizeof(c->why),
		    "%llu sectors, limit %u", (unsigned long long)nsec64,
		    lim->ole_sectors);
		return LW_ELIMIT;
	}
	c->nsec = (uint32_t)nsec64;
	rootmask = major == 3 ? 0xffffffffu : UINT64_MAX;

	if ((e = load_fat(c, h)) != LW_OK)
		return e;
	if ((e = load_dir(c, le32(h + 48), rootmask)) != LW_OK)
		return e;
	if ((e = walk_dir(c)) != LW_OK)
		return e;
	if ((e = build_index(c)) != LW_OK)
		return e;

	/* MiniFAT: nmf sectors of 4-byte entries. */
	nmf = le32(h + 64);
	mfstart = le32(h + 60);
	if (nmf > c->nsec)
		return fail(c, "%u MiniFAT sectors in a file of %u", nmf,
		    c->nsec);
	if (nmf > 0) {
		if ((e = chain_collect(c, c->fat, c->nsec, mfstart, nmf,
		    &secs, &nsecs, "MiniFAT")) != LW_OK)
			return e;
		mf = malloc((size_t)nsecs * c->ssz);
		if (mf == NULL) {
			free(secs);
			return LW_ENOMEM;
		}
		for (i = 0; i < nsecs; i++)
			sector_copy(c, secs[i], mf + (size_t)i * c->ssz,
			    c->ssz);
		free(secs);
		c->nminifat = nsecs * (c->ssz / 4);
		c->minifat = malloc((size_t)c->nminifat *
		    sizeof(*c->minifat));
		if (c->minifat == NULL) {
			free(mf);
			return LW_ENOMEM;
		}
		for (i = 0; i < c->nminifat; i++)
			c->minifat[i] = le32(mf + 4 * (size_t)i);
		free(mf);
	}
	/* The mini stream is the root entry's own chain. */
	if (c->ent[0].size > 0) {
		if ((e = read_big(c, c->ent[0].start, c->ent[0].size,
		    &c->mini, "mini stream")) != LW_OK)
			return e;
		c->minilen = (size_t)c->ent[0].size;
	}
	return LW_OK;
}

void
cfb_close(struct cfb *c)
{
	size_t	 i;

	for (i = 0; i < c->nent; i++)
		FREE_ALL(c->ent[i].name, c->ent[i].path);
	FREE_ALL(c->ent, c->byname, c->fat, c->minifat, c->mini);
	c->ent = NULL;
	c->fat = NULL;
	c->minifat = NULL;
	c->mini = NULL;
	c->byname = NULL;
	c->nnamed = 0;
	c->nent = 0;
}

int
cfb_find(const struct cfb *c, const char *path)
{
	size_t	 lo = 0, hi = c->nnamed, mid;
	int	 r;

	/* Binary search for the first entry with this path. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = strcasecmp(c->byname[mid].path, path);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nnamed && strcasecmp(c->byname[lo].path, path) == 0)
		return (int)c->byname[lo].idx;
	return -1;
}

enum lw_err
cfb_read(struct cfb *c, int idx, unsigned char **out, size_t *len)
{
	struct cfb_entry *en;
	uint32_t	*secs, nsecs, i, want;
	unsigned char	*buf;
	size_t		 done, take, off;
	enum lw_err	 e;

	*out = NULL;
	*len = 0;
	if (idx < 0 || (size_t)idx >= c->nent)
		return LW_ENOTFOUND;
	en = &c->ent[idx];
	if (en->type != CFB_TYPE_STREAM)
		return LW_ENOTFOUND;
	if (en->size > c->max_stream) {
		(void)snprintf(c->why, sizeof(c->why),
		    "stream %s: %llu bytes, limit %llu", en->path,
		    (unsigned long long)en->size,
		    (unsigned long long)c->max_stream);
		return LW_ELIMIT;
	}
	if (en->size >= CFB_CUTOFF) {
		if ((e = read_big(c, en->start, en->size, out, en->path)) !=
		    LW_OK)
			return e;
		*len = (size_t)en->size;
		return LW_OK;
	}
	/* Small streams live in the mini stream, in 64-byte sectors. */
	want = (uint32_t)((en->size + CFB_MINI_SIZE - 1) / CFB_MINI_SIZE);
	if ((buf = malloc((size_t)en->size + 1)) == NULL)
		return LW_ENOMEM;
	if (want > 0) {
		if ((e = chain_collect(c, c->minifat, c->nminifat, en->start,
		    want, &secs, &nsecs, en->path)) != LW_OK) {
			free(buf);
			return e;
		}
		for (i = 0, done = 0; i < nsecs; i++, done += take) {
			take = en->size - done < CFB_MINI_SIZE ?
			    (size_t)en->size - done : CFB_MINI_SIZE;
			off = (size_t)secs[i] * CFB_MINI_SIZE;
			if (off >= c->minilen || take > c->minilen - off) {
				e = fail(c, "%s: mini sector %u beyond the "
				    "mini stream", en->path, secs[i]);
				free(secs);
				free(buf);
				return e;
			}
			memcpy(buf + done, c->mini + off, take);
		}
		free(secs);
	}
	*out = buf;
	*len = (size_t)en->size;
	return LW_OK;
}
