/*
 * 2022-office-malformed: broken compound files and VBA streams give
 * OFFICE_MALFORMED with a reason, quickly, without reading outside the
 * buffer (run under ASan in CI): FAT loop, sector index beyond the file,
 * directory cycle, huge sector shift, dir records running past the end
 * of the dir stream, a compressed chunk with a lying size, and many
 * random byte flips.
 */
#include <unistd.h>

#include "office_t.h"

static struct findings	 fs;

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
set32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8 & 0xff;
	p[2] = v >> 16 & 0xff;
	p[3] = v >> 24 & 0xff;
}

/* Offset of FAT entry n (first FAT sector only: our files are small). */
static size_t
fat_entry(const unsigned char *d, uint32_t n)
{
	return (size_t)(get32(d + 76) + 1) * 512 + 4 * n;
}

/* Offset of directory entry named name (ASCII), following the chain. */
static size_t
dir_entry(const unsigned char *d, const char *name)
{
	uint32_t	 sec = get32(d + 48);
	size_t		 off, i, k;
	int		 guard = 0;

	while (sec < 0xfffffffa && guard++ < 100) {
		for (i = 0; i < 4; i++) {
			off = (size_t)(sec + 1) * 512 + 128 * i;
			for (k = 0; name[k] != '\0'; k++)
				if (d[off + 2 * k] != (unsigned char)name[k] ||
				    d[off + 2 * k + 1] != 0)
					break;
			if (name[k] == '\0' && d[off + 2 * k] == 0)
				return off;
		}
		sec = get32(d + fat_entry(d, sec));
	}
	bail("no directory entry %s", name);
}

static size_t
dir_index(const unsigned char *d, const char *name)
{
	uint32_t	 sec = get32(d + 48);
	size_t		 off = dir_entry(d, name), n = 0;

	/* entry index: position along the chain */
	for (;;) {
		size_t	 base = (size_t)(sec + 1) * 512;

		if (off >= base && off < base + 512)
			return n + (off - base) / 128;
		n += 4;
		sec = get32(d + fat_entry(d, sec));
	}
}

static void
expect(const char *what, const unsigned char *d, size_t n,
    const char *reason)
{
	uint64_t	 t0 = lw_now_ms();
	enum lw_err	 e;

	e = ot_scan(what, d, n, &fs);
	is_int(LW_OK, e, "%s: LW_OK", what);
	if (!ok(ot_find(&fs, "OFFICE_MALFORMED", reason) != NULL,
	    "%s: OFFICE_MALFORMED (%s)", what, reason))
		ot_dump(&fs);
	ok(lw_now_ms() - t0 < 5000, "%s: quick", what);
}

static unsigned char *
copy(const unsigned char *d, size_t n)
{
	unsigned char	*c = malloc(n);

	if (c == NULL)
		bail("out of memory");
	memcpy(c, d, n);
	return c;
}

int
main(void)
{
	struct ot_module m[] = {
		{ "ThisDocument", false, 0,
		    "Attribute VB_Name = \"ThisDocument\"\r\n" },
		{ "Module1", true, 2, "Attribute VB_Name = \"Module1\"\r\n"
		    "Sub AutoOpen()\r\n    Shell \"calc\"\r\nEnd Sub\r\n" },
	};
	const char	*tmp;
	char		 src[4096], vba[4200], file[4200];
	unsigned char	*base, *d;
	size_t		 n, i, k;
	uint32_t	 rnd = 12345;

	alarm(120);
	tmp = tap_tmpdir("office-malformed");
	ot_fmt(src, sizeof(src), "%s/src", tmp);
	ot_fmt(vba, sizeof(vba), "%s/Macros/VBA", src);
	ot_vba_project(vba, m, 2);
	/* Make the file a little larger than one directory sector. */
	ot_fmt(file, sizeof(file), "%s/WordDocument", src);
	{
		static unsigned char	 big[9000];

		memset(big, 'w', sizeof(big));
		ot_write(file, big, sizeof(big));
	}
	ot_fmt(file, sizeof(file), "%s/good.doc", tmp);
	ot_createole(file, src);
	base = tap_slurp(file, &n);
	ot_scan("good", base, n, &fs);
	ok(findings_has(&fs, "OFFICE_VBA") &&
	    !findings_has(&fs, "OFFICE_MALFORMED"), "base file is good");

	/* FAT loop: the directory's first sector points to itself. */
	d = copy(base, n);
	set32(d + fat_entry(d, get32(d + 48)), get32(d + 48));
	expect("fatloop", d, n, "loops");
	free(d);

	/* Sector index beyond the file. */
	d = copy(base, n);
	set32(d + 48, 0x00abcdef);
	expect("beyond", d, n, "beyond the file");
	free(d);
	d = copy(base, n);
	set32(d + dir_entry(d, "dir") + 116, 0x7fff);
	set32(d + dir_entry(d, "dir") + 120, 5000);	/* not mini */
	expect("beyond-stream", d, n, "beyond the file");
	free(d);

	/* Directory cycle: VBA's child is its parent Macros. */
	d = copy(base, n);
	set32(d + dir_entry(d, "VBA") + 76, (uint32_t)dir_index(d, "Macros"));
	expect("dircycle", d, n, "directory cycle");
	free(d);
	d = copy(base, n);
	set32(d + dir_entry(d, "Macros") + 68, (uint32_t)dir_index(d,
	    "Macros"));
	expect("dirself", d, n, "directory cycle");
	free(d);

	/* A mini stream shorter than the streams in it claim. */
	d = copy(base, n);
	set32(d + dir_entry(d, "Root Entry") + 120, 64);
	expect("minibeyond", d, n, "beyond the mini stream");
	free(d);

	/* Huge sector shift. */
	d = copy(base, n);
	d[30] = 40;
	expect("shift", d, n, "sector shift 40");
	free(d);

	/* Too many FAT sectors, and a truncated file. */
	d = copy(base, n);
	set32(d + 44, 0x10000000);
	expect("nfat", d, n, "FAT sectors");
	free(d);
	expect("truncated", base, 700, "beyond");

	/* dir stream: a record runs past its end. */
	{
		struct ot_buf	 dir = { 0 }, z = { 0 };

		ot_rec(&dir, 0x0004, "Project", 7);
		ot_u16(&dir, 0x0019);
		ot_u32(&dir, 0x7ffffff0);
		ot_put(&dir, "Module1", 7);
		ot_ovba_compress(&z, dir.p, dir.n);
		ot_fmt(file, sizeof(file), "%s/dir", vba);
		ot_write(file, z.p, z.n);
		ot_fmt(file, sizeof(file), "%s/dirpast.doc", tmp);
		ot_createole(file, src);
		d = tap_slurp(file, &k);
		expect("dirpast", d, k, "claims");
		free(d);
		free(dir.p);
		free(z.p);
		ot_vba_project(vba, m, 2);
	}
	/* A compressed chunk claiming more bytes than the stream has. */
	{
		struct ot_buf	 ms = { 0 };

		ot_pcode(&ms, 2);
		ot_u8(&ms, 0x01);
		ot_u16(&ms, 0xb000 | 0x0fff);	/* 4098 bytes claimed */
		ot_u8(&ms, 0x00);
		ot_put(&ms, "Attribut", 8);
		ot_fmt(file, sizeof(file), "%s/Module1", vba);
		ot_write(file, ms.p, ms.n);
		ot_fmt(file, sizeof(file), "%s/lying.doc", tmp);
		ot_createole(file, src);
		d = tap_slurp(file, &k);
		expect("lyingchunk", d, k, "claims 4098 bytes");
		free(d);
		free(ms.p);
		ot_vba_project(vba, m, 2);
	}
	/* A copy token reaching before its chunk. */
	{
		struct ot_buf	 ms = { 0 };

		ot_pcode(&ms, 2);
		ot_u8(&ms, 0x01);
		ot_u16(&ms, 0xb000 | (2 + 1 + 1 + 2 - 3));
		ot_u8(&ms, 0x02);		/* literal, then a token */
		ot_u8(&ms, 'A');
		ot_u16(&ms, 0xf000);		/* offset 16, one byte there */
		ot_fmt(file, sizeof(file), "%s/Module1", vba);
		ot_write(file, ms.p, ms.n);
		ot_fmt(file, sizeof(file), "%s/backref.doc", tmp);
		ot_createole(file, src);
		d = tap_slurp(file, &k);
		expect("backref", d, k, "reaches 16 back");
		free(d);
		free(ms.p);
	}

	/* Random damage: never a crash, never slow. */
	{
		uint64_t	 t0 = lw_now_ms();
		size_t		 nmal = 0;

		for (i = 0; i < 3000; i++) {
			d = copy(base, n);
			for (k = 0; k < 1 + i % 8; k++) {
				rnd = rnd * 1103515245 + 12345;
				d[(rnd >> 8) % n] ^= (unsigned char)(1u <<
				    (rnd >> 4) % 8);
			}
			ot_scan("mutant", d, n, &fs);
			nmal += findings_has(&fs, "OFFICE_MALFORMED");
			free(d);
		}
		diag("%zu of 3000 mutants malformed", nmal);
		ok(lw_now_ms() - t0 < 60000, "3000 mutants scanned in time");
	}
	/* Inputs the fuzzers once crashed on (t/corpus/cfb). */
	{
		char	 cmd[4300], line[4400];
		FILE	*ls;
		size_t	 nrep = 0;

		ot_fmt(cmd, sizeof(cmd), "ls '%s/t/corpus/cfb'", tap_top());
		if ((ls = popen(cmd, "r")) == NULL)
			bail("ls corpus");
		while (fgets(line, sizeof(line), ls) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			ot_fmt(file, sizeof(file), "%s/t/corpus/cfb/%s",
			    tap_top(), line);
			d = tap_slurp(file, &k);
			is_int(LW_OK, ot_scan("replay", d, k, &fs),
			    "replay %s", line);
			free(d);
			nrep++;
		}
		pclose(ls);
		ok(nrep > 0, "fuzz corpus replayed");
	}
	free(base);
	findings_free(&fs);
	return done_testing();
}
