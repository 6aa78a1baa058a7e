/*
 * 2031-office-embedded: Office inside Office.  Compound files built
 * with gsf createole: a .doc whose ObjectPool holds an OLE package
 * (\1Ole10Native) carrying an .lnk, a .js and a clean PDF; a .doc
 * whose Package stream is a macro .docm; a PowerPoint 97 file whose VBA
 * project storage sits zlib-compressed in an ExOleObjStg record of the
 * "PowerPoint Document" stream, and its macro-free twin; a broken
 * package header and a record that does not inflate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "office_t.h"

static char	 tmp[512];

static void
mkdirs(const char *rel)
{
	char	cmd[1200];

	ot_fmt(cmd, sizeof(cmd), "mkdir -p '%s/%s'", tmp, rel);
	if (ot_run(cmd) != 0)
		bail("mkdir %s", rel);
}

static void
put(const char *rel, const void *d, size_t n)
{
	char	path[1200];

	ot_fmt(path, sizeof(path), "%s/%s", tmp, rel);
	ot_write(path, d, n);
}

/* The first finding of rule whose part contains sub. */
static bool
at(const struct findings *fs, const char *rule, const char *sub)
{
	size_t	 i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0 &&
		    strstr(fs->v[i].part, sub) != NULL)
			return true;
	return false;
}

/* An Ole10Native stream: size, type 2, label, path, 4 bytes, temp, data. */
static void
native(struct ot_buf *b, const char *label, const char *file,
    const void *data, size_t n)
{
	struct ot_buf	in = { 0 };

	ot_u16(&in, 2);
	ot_put(&in, label, strlen(label) + 1);
	ot_put(&in, file, strlen(file) + 1);
	ot_u16(&in, 0);
	ot_u16(&in, 3);
	ot_u32(&in, (uint32_t)strlen(file) + 1);
	ot_put(&in, file, strlen(file) + 1);
	ot_u32(&in, (uint32_t)n);
	ot_put(&in, data, n);
	memset(b, 0, sizeof(*b));
	ot_u32(b, (uint32_t)in.n);
	ot_put(b, in.p, in.n);
	free(in.p);
}

/* Build tmp/<dir> into tmp/<out> and scan it as part "2/<out>". */
static void
scan_built(const char *dir, const char *out, struct findings *fs)
{
	char		 d[1200], o[1200], part[300];
	unsigned char	*b;
	size_t		 n;

	ot_fmt(d, sizeof(d), "%s/%s", tmp, dir);
	ot_fmt(o, sizeof(o), "%s/%s", tmp, out);
	ot_createole(o, d);
	b = tap_slurp(o, &n);
	ot_fmt(part, sizeof(part), "2/%s", out);
	if (ot_scan(part, b, n, fs) != LW_OK)
		bail("scan %s", out);
	free(b);
}

static void
test_packages(void)
{
	struct findings	 fs = { 0 };
	struct ot_buf	 b;
	unsigned char	 lnk[120];
	static const char js[] = "var s = new ActiveXObject(\"WScript.Shell\");"
	    "\r\ns.Run(\"powershell -w hidden\");\r\n";
	static const char pdf[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n"
	    "%%EOF\n";

	memset(lnk, 0, sizeof(lnk));
	memcpy(lnk, "\x4c\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46", 20);
	mkdirs("lnkdoc/ObjectPool/_1234");
	put("lnkdoc/WordDocument", "\xec\xa5\xc1\0", 4);
	native(&b, "invoice.lnk", "C:\\Users\\a\\Desktop\\invoice.lnk", lnk,
	    sizeof(lnk));
	put("lnkdoc/ObjectPool/_1234/\001Ole10Native", b.p, b.n);
	free(b.p);
	scan_built("lnkdoc", "report.doc", &fs);
	ok(at(&fs, "FILE_SHORTCUT", "report.doc/invoice.lnk"),
	    ".doc with an embedded .lnk package: FILE_SHORTCUT at "
	    "2/report.doc/invoice.lnk");
	ot_dump(&fs);

	mkdirs("jsdoc/ObjectPool/_1");
	put("jsdoc/WordDocument", "\xec\xa5\xc1\0", 4);
	native(&b, "Open me", "C:\\tmp\\update.js", js, sizeof(js) - 1);
	put("jsdoc/ObjectPool/_1/\001Ole10Native", b.p, b.n);
	free(b.p);
	scan_built("jsdoc", "js.doc", &fs);
	ok(at(&fs, "FILE_SCRIPT", "js.doc/update.js"),
	    ".doc with an embedded .js package: FILE_SCRIPT");

	mkdirs("pdfdoc/ObjectPool/_7");
	put("pdfdoc/WordDocument", "\xec\xa5\xc1\0", 4);
	native(&b, "drawing.pdf", "C:\\tmp\\drawing.pdf", pdf,
	    sizeof(pdf) - 1);
	put("pdfdoc/ObjectPool/_7/\001Ole10Native", b.p, b.n);
	free(b.p);
	scan_built("pdfdoc", "pdf.doc", &fs);
	is_int(0, (long long)fs.n, ".doc with an embedded PDF: no finding");
	ot_dump(&fs);

	mkdirs("baddoc/ObjectPool/_9");
	put("baddoc/WordDocument", "\xec\xa5\xc1\0", 4);
	put("baddoc/ObjectPool/_9/\001Ole10Native", "\x40\0\0\0\x02\0abc", 9);
	scan_built("baddoc", "bad.doc", &fs);
	ok(ot_find(&fs, "OFFICE_MALFORMED", "package header"),
	    "a broken package header: OFFICE_MALFORMED");
	findings_free(&fs);
}

static void
test_package_stream(void)
{
	struct findings	 fs = { 0 };
	unsigned char	*docm;
	size_t		 n;
	char		 path[1200];

	ot_fmt(path, sizeof(path), "%s/files/SimpleMacro.docm",
	    tap_corpus());
	docm = tap_slurp(path, &n);
	mkdirs("pkgdoc/ObjectPool/_5");
	put("pkgdoc/WordDocument", "\xec\xa5\xc1\0", 4);
	put("pkgdoc/ObjectPool/_5/Package", docm, n);
	free(docm);
	scan_built("pkgdoc", "outer.doc", &fs);
	ok(at(&fs, "OFFICE_VBA", "outer.doc/embedded-1"),
	    ".doc whose Package stream is a macro .docm: OFFICE_VBA inside");
	ot_dump(&fs);
	findings_free(&fs);
}

/* A "PowerPoint Document" stream with one ExOleObjStg record. */
static void
ppt(const char *dir, const unsigned char *obj, size_t n, bool compress)
{
	struct ot_buf	 s = { 0 }, rec = { 0 };
	unsigned char	*z;
	uLongf		 zn = compressBound(n);
	char		 rel[600];

	if ((z = malloc(zn)) == NULL || compress2(z, &zn, obj, n, 6) != Z_OK)
		bail("compress");
	if (compress) {
		ot_u16(&rec, 0x0010);		/* instance 1: compressed */
		ot_u16(&rec, 0x1011);
		ot_u32(&rec, (uint32_t)(4 + zn));
		ot_u32(&rec, (uint32_t)n);
		ot_put(&rec, z, zn);
	} else {
		ot_u16(&rec, 0x0000);
		ot_u16(&rec, 0x1011);
		ot_u32(&rec, (uint32_t)n);
		ot_put(&rec, obj, n);
	}
	ot_u16(&s, 0x000f);			/* DocumentContainer */
	ot_u16(&s, 0x03e8);
	ot_u32(&s, 8);
	ot_u16(&s, 0x0001);			/* DocumentAtom-ish */
	ot_u16(&s, 0x03e9);
	ot_u32(&s, 0);
	ot_put(&s, rec.p, rec.n);
	ot_fmt(rel, sizeof(rel), "%s/PowerPoint Document", dir);
	put(rel, s.p, s.n);
	ot_fmt(rel, sizeof(rel), "%s/Current User", dir);
	put(rel, "\0\0\0\0", 4);
	free(z);
	free(s.p);
	free(rec.p);
}

static void
test_ppt(void)
{
	struct findings		 fs = { 0 };
	struct ot_module	 m[] = { { "Module1", true, 3,
	    "Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n"
	    "Shell \"cmd /c calc\"\r\nEnd Sub\r\n" } };
	unsigned char		*vba;
	size_t			 n;
	char			 d[1200], o[1200];

	/* The VBA project storage: VBA/dir ... and PROJECT at the root. */
	ot_fmt(d, sizeof(d), "%s/vbastg/VBA", tmp);
	ot_vba_project(d, m, 1);
	ot_fmt(d, sizeof(d), "%s/vbastg", tmp);
	ot_fmt(o, sizeof(o), "%s/vba.bin", tmp);
	ot_createole(o, d);
	vba = tap_slurp(o, &n);

	mkdirs("ppt");
	ppt("ppt", vba, n, true);
	scan_built("ppt", "deck.ppt", &fs);
	ok(at(&fs, "OFFICE_VBA", "deck.ppt/ExOleObjStg-1"),
	    "PowerPoint 97 VBA in a compressed ExOleObjStg: OFFICE_VBA");
	ot_dump(&fs);

	mkdirs("pptu");
	ppt("pptu", vba, n, false);
	scan_built("pptu", "plain.ppt", &fs);
	ok(at(&fs, "OFFICE_VBA", "plain.ppt/ExOleObjStg-1"),
	    "uncompressed ExOleObjStg: OFFICE_VBA too");
	free(vba);

	mkdirs("pptclean");
	ppt("pptclean", (const unsigned char *)"%PDF-1.4\n%%EOF\n", 15, true);
	scan_built("pptclean", "clean.ppt", &fs);
	is_int(0, (long long)fs.n, "a .ppt embedding a PDF: no finding");
	ot_dump(&fs);

	mkdirs("pptbad");
	put("pptbad/PowerPoint Document",
	    "\x10\0\x11\x10\x0c\0\0\0\x00\x10\0\0garbage!", 20);
	put("pptbad/Current User", "\0\0\0\0", 4);
	scan_built("pptbad", "bad.ppt", &fs);
	ok(ot_find(&fs, "OFFICE_MALFORMED", "does not inflate"),
	    "an ExOleObjStg that does not inflate: OFFICE_MALFORMED");
	findings_free(&fs);
}

int
main(void)
{
	char	cmd[700];

	alarm(120);
	ot_fmt(tmp, sizeof(tmp), "%s/t/tmp/2031-office-embedded",
	    getenv("LW_TOP") != NULL ? getenv("LW_TOP") : ".");
	ot_fmt(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", tmp, tmp);
	if (ot_run(cmd) != 0)
		bail("mkdir %s", tmp);
	test_packages();
	test_package_stream();
	test_ppt();
	ot_fmt(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	(void)ot_run(cmd);
	return done_testing();
}
