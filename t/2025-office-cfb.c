/*
 * 2025-office-cfb: the compound file reader against python3-olefile:
 * every stream path, size and MD5 of generated files (mini and regular
 * streams, nested storages), of a version 4 file with 4096-byte sectors
 * built here, and of the corpus's compound files must agree.  The
 * version 4 file also carries a very hidden Excel 4.0 macro sheet.
 */
#include <unistd.h>

#include <openssl/evp.h>

#include "office_t.h"
#include "cfb.h"

static struct findings	 fs;

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8 & 0xff;
	p[2] = v >> 16 & 0xff;
	p[3] = v >> 24 & 0xff;
}

static void
dirent(unsigned char *e, const char *name, unsigned type, uint32_t child,
    uint32_t start, uint32_t size)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++)
		e[2 * i] = (unsigned char)name[i];
	e[64] = (unsigned char)(2 * i + 2);
	e[66] = (unsigned char)type;
	e[67] = 1;
	put_le32(e + 68, 0xffffffff);
	put_le32(e + 72, 0xffffffff);
	put_le32(e + 76, child);
	put_le32(e + 116, start);
	put_le32(e + 120, size);
}

/* Version 4: header, FAT (sector 0), directory (1), Workbook (2, 3). */
static void
write_v4(const char *path)
{
	static unsigned char	 f[4096 * 5];
	unsigned char		*h = f, *fat = f + 4096, *dir = f + 8192;
	unsigned char		*wb = f + 3 * 4096;
	size_t			 i;

	memset(f, 0, sizeof(f));
	memcpy(h, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	h[24] = 0x3e;
	h[26] = 4;
	h[28] = 0xfe;
	h[29] = 0xff;
	h[30] = 12;
	h[32] = 6;
	put_le32(h + 40, 1);		/* directory sectors */
	put_le32(h + 44, 1);		/* FAT sectors */
	put_le32(h + 48, 1);		/* first directory sector */
	put_le32(h + 56, 4096);
	put_le32(h + 60, 0xfffffffe);
	put_le32(h + 68, 0xfffffffe);
	for (i = 0; i < 109; i++)
		put_le32(h + 76 + 4 * i, i == 0 ? 0 : 0xffffffff);
	for (i = 0; i < 1024; i++)
		put_le32(fat + 4 * i, 0xffffffff);
	put_le32(fat, 0xfffffffd);
	put_le32(fat + 4, 0xfffffffe);
	put_le32(fat + 8, 3);
	put_le32(fat + 12, 0xfffffffe);
	dirent(dir, "Root Entry", 5, 1, 0xfffffffe, 0);
	dirent(dir + 128, "Workbook", 2, 0xffffffff, 2, 5000);
	for (i = 2; i < 32; i++) {
		put_le32(dir + 128 * i + 68, 0xffffffff);
		put_le32(dir + 128 * i + 72, 0xffffffff);
		put_le32(dir + 128 * i + 76, 0xffffffff);
	}
	/* BOF, BOUNDSHEET (very hidden macro sheet), NAME Auto_Open, EOF */
	memcpy(wb, "\x09\x08\x10\x00\x00\x06\x05\x00", 8);
	memcpy(wb + 20, "\x85\x00\x0a\x00\x00\x00\x00\x00\x02\x01\x02\x00"
	    "M1", 14);
	memcpy(wb + 34, "\x18\x00\x10\x00\x20\x00\x00\x01\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x01", 20);
	memcpy(wb + 54, "\x0a\x00\x00\x00", 4);
	ot_write(path, f, 3 * 4096 + 5000);
}

static int
cmp_sorted(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Our listing: "path<TAB>size<TAB>md5" per stream, sorted. */
static char *
our_listing(const char *file)
{
	struct cfb	 c;
	unsigned char	*d, *s, md[16];
	size_t		 n, sl, i, k, cap = 1 << 16, len = 0;
	char		*out, **lines, *tmp;
	size_t		 nl = 0;

	if (ot_lim.ole_sectors == 0)
		limits_default(&ot_lim);
	d = tap_slurp(file, &n);
	if (cfb_open(&c, d, n, &ot_lim) != LW_OK) {
		diag("cfb_open %s: %s", file, c.why);
		cfb_close(&c);
		free(d);
		return strdup("");
	}
	lines = calloc(c.nent + 1, sizeof(*lines));
	for (i = 1; i < c.nent; i++) {
		if (c.ent[i].path == NULL || c.ent[i].type != CFB_TYPE_STREAM)
			continue;
		if (cfb_read(&c, (int)i, &s, &sl) != LW_OK)
			bail("read %s: %s", c.ent[i].path, c.why);
		EVP_Digest(s, sl, md, NULL, EVP_md5(), NULL);
		tmp = malloc(strlen(c.ent[i].path) + 64);
		k = (size_t)sprintf(tmp, "%s\t%zu\t", c.ent[i].path, sl);
		for (size_t j = 0; j < 16; j++)
			k += (size_t)sprintf(tmp + k, "%02x", md[j]);
		lines[nl++] = tmp;
		free(s);
	}
	qsort(lines, nl, sizeof(*lines), cmp_sorted);
	out = malloc(cap);
	out[0] = '\0';
	for (i = 0; i < nl; i++) {
		if (len + strlen(lines[i]) + 2 < cap)
			len += (size_t)sprintf(out + len, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
	cfb_close(&c);
	free(d);
	return out;
}

static char *
olefile_listing(const char *file, const char *tmp)
{
	char		 cmd[8800], out[4200];
	unsigned char	*d;
	size_t		 n, nl = 0, i, len = 0;
	char		*lines[4096], *p, *res;

	ot_fmt(out, sizeof(out), "%s/olefile.txt", tmp);
	ot_fmt(cmd, sizeof(cmd), "/usr/bin/python3 -c '"
	    "import sys, hashlib, olefile\n"
	    "o = olefile.OleFileIO(sys.argv[1])\n"
	    "for e in o.listdir(streams=True, storages=False):\n"
	    "    d = o.openstream(e).read()\n"
	    "    sys.stdout.buffer.write((\"/\".join(e) + \"\\t%%d\\t%%s\\n\" %%"
	    " (len(d), hashlib.md5(d).hexdigest())).encode())\n"
	    "' '%s' > '%s'", file, out);
	if (ot_run(cmd) != 0)
		return strdup("(olefile failed)");
	d = tap_slurp(out, &n);
	for (p = strtok((char *)d, "\n"); p != NULL && nl < 4096;
	    p = strtok(NULL, "\n"))
		lines[nl++] = p;
	qsort(lines, nl, sizeof(*lines), cmp_sorted);
	res = malloc(n + 2);
	res[0] = '\0';
	for (i = 0; i < nl; i++)
		len += (size_t)sprintf(res + len, "%s\n", lines[i]);
	free(d);
	return res;
}

static void
compare(const char *label, const char *file, const char *tmp)
{
	char	*a = our_listing(file), *b = olefile_listing(file, tmp);

	ok(*a != '\0' && strcmp(a, b) == 0, "%s: same streams, sizes and "
	    "contents as olefile", label);
	if (strcmp(a, b) != 0)
		diag("ours:\n%s\nolefile:\n%s", a, b);
	free(a);
	free(b);
}

int
main(void)
{
	const char	*tmp;
	char		 src[4096], f[4200];
	static unsigned char big[20000];
	size_t		 i;
	static const char *const corpus[] = {
		"SimpleMacro.doc", "39234.xls", "60405.xls", "numbers.ppt",
		"simple.doc", "SquareMacro.xls", "DBCSSheetName.xls",
		"mortgage-calculation.xls",
	};

	alarm(120);
	tmp = tap_tmpdir("office-cfb");
	ot_fmt(src, sizeof(src), "%s/src", tmp);
	ot_fmt(f, sizeof(f), "mkdir -p '%s/A/B/C' '%s/Empty'", src, src);
	if (system(f) != 0)
		bail("mkdir");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	ot_fmt(f, sizeof(f), "%s/zero", src);
	ot_write(f, big, 0);
	ot_fmt(f, sizeof(f), "%s/A/small", src);
	ot_write(f, big, 10);
	ot_fmt(f, sizeof(f), "%s/A/B/justmini", src);
	ot_write(f, big, 4095);
	ot_fmt(f, sizeof(f), "%s/A/B/C/cutoff", src);
	ot_write(f, big, 4096);
	ot_fmt(f, sizeof(f), "%s/A/B/big", src);
	ot_write(f, big, sizeof(big));
	ot_fmt(f, sizeof(f), "%s/Empty/x", src);
	ot_write(f, big + 100, 700);
	ot_fmt(f, sizeof(f), "%s/gen.ole", tmp);
	ot_createole(f, src);
	compare("generated", f, tmp);
	{
		struct cfb	 c;
		unsigned char	*d;
		size_t		 n;

		d = tap_slurp(f, &n);
		is_int(LW_OK, cfb_open(&c, d, n, &ot_lim), "generated: opens");
		ok(cfb_find(&c, "a/b/c/CUTOFF") >= 0,
		    "generated: case-insensitive lookup by path");
		ok(cfb_find(&c, "A/B/C") >= 0 &&
		    c.ent[cfb_find(&c, "A/B/C")].type == CFB_TYPE_STORAGE,
		    "generated: storages are entries too");
		ok(cfb_find(&c, "B/big") < 0, "generated: paths are full");
		cfb_close(&c);
		free(d);
	}

	ot_fmt(f, sizeof(f), "%s/v4.xls", tmp);
	write_v4(f);
	compare("version 4, 4096-byte sectors", f, tmp);
	ot_scan_file(f, &fs);
	ok(ot_find(&fs, "OFFICE_XLM", "\"M1\" (very hidden)") != NULL,
	    "version 4: very hidden macro sheet");
	ok(ot_find(&fs, "OFFICE_XLM_AUTOEXEC", "Auto_Open") != NULL,
	    "version 4: Auto_Open");
	ok(!findings_has(&fs, "OFFICE_MALFORMED"), "version 4: well formed");
	ot_dump(&fs);

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		ot_fmt(f, sizeof(f), "%s/files/%s", tap_corpus(), corpus[i]);
		compare(corpus[i], f, tmp);
	}
	{
		/* Sector limit: a small limit makes a finding, not a crash. */
		struct limits	 save = ot_lim;

		ot_lim.ole_sectors = 8;
		ot_fmt(f, sizeof(f), "%s/files/SimpleMacro.doc",
		    tap_corpus());
		ot_scan_file(f, &fs);
		ok(ot_find(&fs, "OFFICE_MALFORMED", "limit") != NULL,
		    "ole_sectors limit reported");
		ot_lim = save;
		ot_lim.office_stream_bytes = 1000;
		ot_scan_file(f, &fs);
		ok(ot_find(&fs, "OFFICE_MALFORMED", "limit") != NULL,
		    "office_stream_bytes limit reported");
		ot_lim = save;
	}
	findings_free(&fs);
	return done_testing();
}
