/*
 * office_t.h: shared by the office stage's tests (t/20NN-*.c): run
 * office_scan on a buffer and look at the findings.
 */
#ifndef OFFICE_T_H
#define OFFICE_T_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "office.h"
#include "analyzer.h"
#include "tap.h"

static struct limits	 ot_lim;
/* The message's password candidates the scan sees (NULL: none). */
static const struct pwcands *ot_pw __attribute__((unused));

/* snprintf that bails instead of truncating (paths, commands). */
static inline int
ot_fmt(char *buf, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int
ot_fmt(char *buf, size_t sz, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sz)
		bail("text too long for its buffer");
	return r;
}

static inline enum ft_kind
ot_kind(const unsigned char *d, size_t n)
{
	if (n >= 8 && memcmp(d, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
		return FT_OLE2;
	if (n >= 4 && memcmp(d, "PK\3\4", 4) == 0)
		return FT_OOXML;
	if (n >= 5 && memcmp(d, "{\\rtf", 5) == 0)
		return FT_RTF;
	return FT_UNKNOWN;
}

/* Scan d as the file at part path; findings go to fs (emptied first). */
static inline enum lw_err
ot_scan(const char *part, const unsigned char *d, size_t n,
    struct findings *fs)
{
	struct scan_ctx	 ctx;

	findings_free(fs);
	memset(fs, 0, sizeof(*fs));
	if (ot_lim.ole_sectors == 0)
		limits_default(&ot_lim);
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &ot_lim;
	ctx.fs = fs;
	ctx.pw = ot_pw;
	ctx.deadline_ms = lw_now_ms() + 20000;
	return office_scan(&ctx, part, d, n, ot_kind(d, n), 0);
}

static inline enum lw_err
ot_scan_file(const char *file, struct findings *fs)
{
	unsigned char	*d;
	size_t		 n;
	enum lw_err	 e;
	const char	*base = strrchr(file, '/');

	d = tap_slurp(file, &n);
	e = ot_scan(base ? base + 1 : file, d, n, fs);
	free(d);
	return e;
}

/* The first finding of rule whose detail contains sub (NULL: any). */
static inline const struct finding *
ot_find(const struct findings *fs, const char *rule, const char *sub)
{
	size_t	 i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0 &&
		    (sub == NULL || strstr(fs->v[i].detail, sub) != NULL))
			return &fs->v[i];
	return NULL;
}

static inline void
ot_dump(const struct findings *fs)
{
	size_t	 i;

	for (i = 0; i < fs->n; i++)
		diag("  %s [%s] %s", fs->v[i].rule, fs->v[i].part,
		    fs->v[i].detail);
}

static inline int
ot_run(const char *cmd)
{
	int	 r = system(cmd);

	if (r != 0)
		diag("command failed (%d): %s", r, cmd);
	return r;
}

/* A growing byte buffer for building fixtures. */
struct ot_buf {
	unsigned char	*p;
	size_t		 n, cap;
};

static inline void
ot_put(struct ot_buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			bail("out of memory");
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static inline void
ot_u8(struct ot_buf *b, unsigned v)
{
	unsigned char	 c = (unsigned char)v;

	ot_put(b, &c, 1);
}

static inline void
ot_u16(struct ot_buf *b, unsigned v)
{
	ot_u8(b, v & 0xff);
	ot_u8(b, v >> 8 & 0xff);
}

static inline void
ot_u32(struct ot_buf *b, uint32_t v)
{
	ot_u16(b, v & 0xffff);
	ot_u16(b, v >> 16);
}

/*
 * MS-OVBA CompressedContainer holding only literal tokens: chunks of at
 * most 3000 bytes (3000 + 375 flag bytes + 2 fit the 4098-byte chunk).
 */
static inline void
ot_ovba_compress(struct ot_buf *b, const void *src, size_t n)
{
	const unsigned char *s = src;
	size_t		 off, take, i, size;

	ot_u8(b, 0x01);
	for (off = 0; off < n; off += take) {
		take = n - off < 3000 ? n - off : 3000;
		size = 2 + take + (take + 7) / 8;
		ot_u16(b, 0xb000 | (unsigned)(size - 3));
		for (i = 0; i < take; i++) {
			if (i % 8 == 0)
				ot_u8(b, 0x00);
			ot_u8(b, s[off + i]);
		}
	}
}

static inline void
ot_rec(struct ot_buf *b, unsigned id, const void *d, uint32_t n)
{
	ot_u16(b, id);
	ot_u32(b, n);
	ot_put(b, d, n);
}

static inline void
ot_rec_utf16(struct ot_buf *b, unsigned id, const char *s)
{
	size_t	 i;

	ot_u16(b, id);
	ot_u32(b, (uint32_t)(2 * strlen(s)));
	for (i = 0; s[i] != '\0'; i++)
		ot_u16(b, (unsigned char)s[i]);
}

struct ot_module {
	const char	*name;
	bool		 procedural;
	unsigned	 pcode_lines;	/* compiled lines in the cache */
	const char	*source;	/* NULL: no source at all */
};

/* A p-code cache with the CAFE line table at le32(0x19) + 0x3C. */
static inline void
ot_pcode(struct ot_buf *b, unsigned nlines)
{
	unsigned	 i;

	for (i = 0; i < 0x19; i++)
		ot_u8(b, i == 0 ? 0x01 : 0x00);
	ot_u32(b, 0x20);
	while (b->n < 0x20 + 0x3c)
		ot_u8(b, 0xff);
	ot_u16(b, 0xcafe);
	ot_u16(b, 0x0001);
	ot_u16(b, nlines);
	for (i = 0; i < nlines; i++) {
		ot_u16(b, 0x8122);
		ot_u16(b, 0x0008);
		ot_u16(b, 6);		/* p-code bytes of this line */
		ot_u16(b, 0x0002);
		ot_u32(b, 8 * i);
	}
	for (i = 0; i < 8 * nlines; i++)
		ot_u8(b, 0x11);
}

static inline void
ot_write(const char *path, const void *d, size_t n)
{
	FILE	*f;

	if ((f = fopen(path, "wb")) == NULL || fwrite(d, 1, n, f) != n ||
	    fclose(f) != 0)
		bail("write %s", path);
}

/*
 * Write a VBA project (dir + module streams + PROJECT) into directory
 * vbadir's parent: vbadir is ".../VBA".  dir_extra is appended raw to
 * the uncompressed dir stream before the terminator (NULL: none).
 */
static inline void
ot_vba_project(const char *vbadir, const struct ot_module *m, size_t nm)
{
	struct ot_buf	 dir = { 0 }, z = { 0 }, ms;
	char		 path[4096], cmd[8400];
	unsigned char	 v[6] = { 0x01, 0, 0, 0, 0x02, 0 };
	uint32_t	 u;
	size_t		 i;

	ot_fmt(cmd, sizeof(cmd), "mkdir -p '%s'", vbadir);
	if (system(cmd) != 0)
		bail("mkdir %s", vbadir);
	u = 1;
	ot_rec(&dir, 0x0001, &u, 4);			/* SYSKIND win32 */
	ot_rec(&dir, 0x0003, "\xe4\x04", 2);		/* code page 1252 */
	ot_rec(&dir, 0x0004, "Project", 7);
	ot_u16(&dir, 0x0009);				/* PROJECTVERSION */
	ot_u32(&dir, 4);
	ot_put(&dir, v, 6);
	ot_u16(&dir, 0x000f);
	ot_u32(&dir, 2);
	ot_u16(&dir, (unsigned)nm);
	ot_rec(&dir, 0x0013, "\xff\xff", 2);
	for (i = 0; i < nm; i++) {
		memset(&ms, 0, sizeof(ms));
		ot_pcode(&ms, m[i].pcode_lines);
		u = (uint32_t)ms.n;
		ot_rec(&dir, 0x0019, m[i].name, (uint32_t)strlen(m[i].name));
		ot_rec_utf16(&dir, 0x0047, m[i].name);
		ot_rec(&dir, 0x001a, m[i].name, (uint32_t)strlen(m[i].name));
		ot_rec_utf16(&dir, 0x0032, m[i].name);
		ot_rec(&dir, 0x0031, &u, 4);
		ot_rec(&dir, m[i].procedural ? 0x0021 : 0x0022, "", 0);
		ot_rec(&dir, 0x002b, "", 0);
		if (m[i].source != NULL)
			ot_ovba_compress(&ms, m[i].source,
			    strlen(m[i].source));
		ot_fmt(path, sizeof(path), "%s/%s", vbadir, m[i].name);
		ot_write(path, ms.p, ms.n);
		free(ms.p);
	}
	ot_rec(&dir, 0x0010, "", 0);
	ot_ovba_compress(&z, dir.p, dir.n);
	ot_fmt(path, sizeof(path), "%s/dir", vbadir);
	ot_write(path, z.p, z.n);
	ot_fmt(path, sizeof(path), "%s/_VBA_PROJECT", vbadir);
	ot_write(path, "\xcc\x61\xff\xff\x00\x00\x00", 7);
	ot_fmt(path, sizeof(path), "%s/../PROJECT", vbadir);
	ot_write(path, "ID=\"{00000000-0000-0000-0000-000000000000}\"\r\n",
	    45);
	free(dir.p);
	free(z.p);
}

/* gsf createole out from every top entry of dir. */
static inline void
ot_createole(const char *out, const char *dir)
{
	char	 cmd[8400];

	ot_fmt(cmd, sizeof(cmd), "cd '%s' && gsf createole '%s' * "
	    ">/dev/null 2>&1", dir, out);
	if (ot_run(cmd) != 0)
		bail("gsf createole %s", out);
}

#endif /* OFFICE_T_H */
