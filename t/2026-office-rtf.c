/*
 * 2026-office-rtf: RTF documents with embedded objects give
 * OFFICE_RTF_OBJECT naming the OLE1 class and the native data size
 * (which is what goes on to content analysis); hex split by
 * whitespace, nested groups and \bin data decode; a Package object's
 * header parses; plain RTF gives nothing.
 */
#include <unistd.h>

#include "office_t.h"

static struct findings	 fs;

static void
lpas(struct ot_buf *b, const char *s)
{
	ot_u32(b, (uint32_t)strlen(s) + 1);
	ot_put(b, s, strlen(s) + 1);
}

/* OLE1 embedded object around native data. */
static void
ole1(struct ot_buf *b, const char *cls, const void *native, size_t n)
{
	ot_u32(b, 0x00000501);
	ot_u32(b, 2);
	lpas(b, cls);
	lpas(b, "");
	lpas(b, "");
	ot_u32(b, (uint32_t)n);
	ot_put(b, native, n);
}

static void
hex(struct ot_buf *out, const unsigned char *d, size_t n, bool messy)
{
	static const char	 h[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		ot_u8(out, (unsigned char)h[d[i] >> 4]);
		if (messy && i % 7 == 3)
			ot_put(out, "\r\n ", 3);
		ot_u8(out, (unsigned char)h[d[i] & 15]);
		if (messy && i % 64 == 63)
			ot_put(out, "{\\*\\junk 00}", 12);
	}
}

int
main(void)
{
	struct ot_buf	 obj = { 0 }, rtf = { 0 }, pkg = { 0 };
	char		 want[128];
	unsigned char	 payload[3000];
	size_t		 i;

	alarm(30);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 31);
	ole1(&obj, "Word.Document.8", payload, sizeof(payload));
	ot_put(&rtf, "{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass "
	    "Word.Document.8}\\objw100\\objh100{\\*\\objdata ", 82);
	hex(&rtf, obj.p, obj.n, true);
	ot_put(&rtf, "}}}", 3);
	is_int(LW_OK, ot_scan("1/doc.rtf", rtf.p, rtf.n, &fs), "rtf: scans");
	ot_fmt(want, sizeof(want), "object 1: embedded class "
	    "\"Word.Document.8\", %zu bytes", sizeof(payload));
	ok(ot_find(&fs, "OFFICE_RTF_OBJECT", want) != NULL,
	    "rtf: class and native size from messy hex");
	ot_dump(&fs);

	/* \bin raw data, and a Package object. */
	memset(&pkg, 0, sizeof(pkg));
	ot_u16(&pkg, 2);
	ot_put(&pkg, "invoice.vbs", 12);
	ot_put(&pkg, "C:\\tmp\\invoice.vbs", 19);
	ot_u16(&pkg, 0);
	ot_u16(&pkg, 3);
	ot_u32(&pkg, 19);
	ot_put(&pkg, "C:\\tmp\\invoice.vbs", 19);
	ot_u32(&pkg, 9);
	ot_put(&pkg, "MsgBox 1\n", 9);
	free(obj.p);
	memset(&obj, 0, sizeof(obj));
	ole1(&obj, "Package", pkg.p, pkg.n);
	free(rtf.p);
	memset(&rtf, 0, sizeof(rtf));
	{
		char	 hdr[64];
		int	 hn;

		ot_put(&rtf, "{\\rtf1{\\object\\objemb{\\*\\objdata ", 32);
		hn = ot_fmt(hdr, sizeof(hdr), "\\bin%zu ", obj.n);
		ot_put(&rtf, hdr, (size_t)hn);
		ot_put(&rtf, obj.p, obj.n);
		ot_put(&rtf, "}}}", 3);
	}
	ot_scan("2/pkg.rtf", rtf.p, rtf.n, &fs);
	ot_fmt(want, sizeof(want), "class \"Package\", %zu bytes", pkg.n);
	ok(ot_find(&fs, "OFFICE_RTF_OBJECT", want) != NULL,
	    "rtf: \\bin data, Package class");
	ot_dump(&fs);

	/* An object group without data, and plain text. */
	ot_scan("3/x.rtf", (const unsigned char *)
	    "{\\rtf1{\\object\\objlink{\\*\\objclass Excel}}}", 42, &fs);
	ok(ot_find(&fs, "OFFICE_RTF_OBJECT", "without data") != NULL,
	    "rtf: \\object alone");
	ot_scan("4/x.rtf", (const unsigned char *)
	    "{\\rtf1\\ansi Hello \\objectless {\\b world}}", 40, &fs);
	ok(fs.n == 0, "rtf: plain text gives nothing");
	/* Truncated hex, short header: a finding, no crash. */
	ot_scan("5/x.rtf", (const unsigned char *)
	    "{\\rtf1{\\object{\\*\\objdata 0105000002000000ff", 44, &fs);
	ok(ot_find(&fs, "OFFICE_RTF_OBJECT", "does not parse") != NULL,
	    "rtf: broken OLE1 header reported");
	free(obj.p);
	free(rtf.p);
	free(pkg.p);
	findings_free(&fs);
	return done_testing();
}
