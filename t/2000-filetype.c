/*
 * 2000-filetype: real types (our signatures and libmagic) and the
 * FILE_* rules, on generated buffers and the corpus's Office files.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "filetype.h"
#include "analyzer.h"

static enum ft_kind
kind(const void *d, size_t len)
{
	struct ft_result	r;

	if (filetype_detect(d, len, &r) != LW_OK)
		bail("filetype_detect failed");
	return r.kind;
}

static enum ft_kind
kind_file(const char *name)
{
	char		 path[1024];
	unsigned char	*d;
	size_t		 len;
	enum ft_kind	 k;

	snprintf(path, sizeof(path), "%s/files/%s", tap_corpus(), name);
	d = tap_slurp(path, &len);
	k = kind(d, len);
	free(d);
	return k;
}

struct run {
	struct limits	 lim;
	struct findings	 fs;
	struct scan_ctx	 ctx;
};

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	limits_default(&r->lim);
	r->ctx.lim = &r->lim;
	r->ctx.fs = &r->fs;
}

/* Rules filetype_check gives for these bytes under this name, joined. */
static char *
rules_for(const char *name, const char *declared, const void *d, size_t len)
{
	static char		 out[512];
	struct run		 r;
	struct ft_result	 ft;
	size_t			 i;

	run_init(&r);
	filetype_detect(d, len, &ft);
	filetype_check(&r.ctx, "1", name, declared, &ft);
	out[0] = '\0';
	for (i = 0; i < r.fs.n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? "," : "", r.fs.v[i].rule);
	findings_free(&r.fs);
	return out;
}

/* The rules a run found, joined; its findings are freed. */
static char *
rules_joined(struct run *r)
{
	static char	out[512];
	size_t		i;

	out[0] = '\0';
	for (i = 0; i < r->fs.n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? "," : "", r->fs.v[i].rule);
	findings_free(&r->fs);
	return out;
}

static char *
rules_name(const char *name)
{
	struct run	r;

	run_init(&r);
	filetype_check_name(&r.ctx, "1", name);
	return rules_joined(&r);
}

/* Rules for an archive entry that cannot be read (name, first bytes). */
static char *
rules_unreadable(const char *name, const void *head, size_t n)
{
	struct run	r;

	run_init(&r);
	filetype_check_unreadable(&r.ctx, "1", name, head, n);
	return rules_joined(&r);
}

static void
t_unreadable(void)
{
	static const char ole[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0";

	is_str("ARCHIVE_ENTRY_UNREADABLE", rules_unreadable("invoice.xls",
	    NULL, 0), "unreadable invoice.xls: scored as Office by name");
	is_str("ARCHIVE_ENTRY_UNREADABLE", rules_unreadable("a/Order.DOC",
	    NULL, 0), "unreadable Order.DOC: by name, any case");
	is_str("", rules_unreadable("invoice.pdf", NULL, 0),
	    "unreadable invoice.pdf: nothing more than the name says");
	is_str("", rules_unreadable("photo.jpg", "\xff\xd8\xff\xe0\0\0\0\0",
	    8), "unreadable photo.jpg starting as a JPEG: nothing");
	is_str("ARCHIVE_ENTRY_UNREADABLE", rules_unreadable("scan.bin", ole,
	    10), "unreadable scan.bin starting as OLE2: by its first bytes");
	is_str("ARCHIVE_ENTRY_UNREADABLE", rules_unreadable("scan",
	    "MZ\x90\0\3\0\0\0", 8), "unreadable file starting MZ");
	is_str("FILE_SCRIPT", rules_unreadable("run.js", NULL, 0),
	    "unreadable run.js: FILE_SCRIPT by name, no second finding");
}

static void
t_signatures(void)
{
	static const unsigned char lnk[] = {
		0x4c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x46 };
	static const unsigned char one[] = {
		0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d,
		0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3 };
	static unsigned char b[0x9000];

	memset(b, 0, sizeof(b));
	memcpy(b, "MZ", 2);
	is_int(FT_PE, kind(b, 512), "MZ header: PE");
	memcpy(b, "\177ELF\002\001\001", 7);
	is_int(FT_ELF, kind(b, 512), "ELF");
	memcpy(b, "\xcf\xfa\xed\xfe", 4);
	is_int(FT_MACHO, kind(b, 512), "Mach-O 64");
	memcpy(b, "\xca\xfe\xba\xbe\0\0\0\x02", 8);
	is_int(FT_MACHO, kind(b, 512), "universal Mach-O");
	memcpy(b, "\xca\xfe\xba\xbe\0\0\0\x34", 8);
	ok(kind(b, 512) != FT_MACHO, "a Java class is not Mach-O");
	memset(b, 0, 16);
	memcpy(b, lnk, sizeof(lnk));
	is_int(FT_LNK, kind(b, 200), "LNK");
	memset(b, 0, 64);
	memcpy(b, one, sizeof(one));
	is_int(FT_ONENOTE, kind(b, 200), "OneNote");
	memset(b, 0, 64);
	memcpy(b, "{\\rtf1\\ansi hello}", 18);
	is_int(FT_RTF, kind(b, 18), "RTF");
	memset(b, 0, 64);
	memcpy(b + 0x8001, "CD001", 5);
	is_int(FT_DISK_IMAGE, kind(b, sizeof(b)), "ISO 9660");
	memset(b + 0x8001, 0, 5);
	memcpy(b, "vhdxfile", 8);
	is_int(FT_DISK_IMAGE, kind(b, 1024), "VHDX");
	memcpy(b, "\0\0\0\0\0\0\0\0", 8);
	memcpy(b + 1024 - 512, "conectix", 8);
	is_int(FT_DISK_IMAGE, kind(b, 1024), "fixed VHD footer");
	memset(b, 0, 1024);
	memcpy(b, "%PDF-1.7\n%%EOF\n", 15);
	is_int(FT_PDF, kind(b, 15), "PDF");
	is_int(FT_TEXT, kind("Hello, this is a plain letter.\n", 31), "text");
	is_int(FT_UNIX_SCRIPT, kind("#!/bin/sh\necho hi\n", 18),
	    "shebang: a Unix script");
	is_int(FT_SCRIPT, kind("<html><HTA:APPLICATION id=x>", 28), "HTA");
	is_int(FT_SCRIPT, kind("@echo off\r\nstart calc\r\n", 23), "batch");
	is_int(FT_SCRIPT, kind("#@~^XXAAAA==encoded", 19), "encoded VBE");
	is_int(FT_UNKNOWN, kind("", 0) == FT_UNKNOWN ? FT_UNKNOWN : FT_OTHER,
	    "empty");
}

static void
t_corpus_files(void)
{
	static const char *const ole[] = { "SimpleMacro.doc", "SimpleMacro.xls",
	    "numbers.ppt", "39234.xls", "simple.doc" };
	static const char *const ooxml[] = { "SimpleMacro.docm",
	    "SimpleMacro.xlsm", "SimpleMacro.pptm", "capitalized.docx",
	    "comments.xlsb", "testPPT.pptx", "table-sample.xlsx" };
	size_t	i;

	for (i = 0; i < sizeof(ole) / sizeof(ole[0]); i++)
		is_int(FT_OLE2, kind_file(ole[i]), "%s is OLE2", ole[i]);
	for (i = 0; i < sizeof(ooxml) / sizeof(ooxml[0]); i++)
		is_int(FT_OOXML, kind_file(ooxml[i]), "%s is OOXML", ooxml[i]);
}

#define R(name, text) rules_for(name, NULL, text, sizeof(text) - 1)

/* Launchers and scripts by platform (issue 16), each beside a twin. */
static void
t_launchers(void)
{
	is_str("FILE_EXECUTABLE", rules_name("addin.xll"), ".xll");
	is_str("FILE_EXECUTABLE", rules_name("app.msix"), ".msix");
	is_str("FILE_EXECUTABLE", rules_name("App.AppxBundle"), ".appxbundle");
	is_str("FILE_SHORTCUT", rules_name("tool.appref-ms"), ".appref-ms");
	is_str("FILE_SHORTCUT", rules_name("Docs.searchConnector-ms"),
	    ".searchConnector-ms (a long extension)");
	is_str("FILE_SCRIPT", rules_name("help.chm"), ".chm");
	is_str("FILE_SHORTCUT", R("q.iqy",
	    "WEB\r\n1\r\nhttps://198.51.100.9/q.php\r\n"),
	    "Excel web query with a URL");
	is_str("FILE_SHORTCUT", R("link.website",
	    "[InternetShortcut]\r\nURL=\\\\198.51.100.9\\s\\x.exe\r\n"),
	    ".website to a share");
	is_str("FILE_SHORTCUT", R("news.url",
	    "[InternetShortcut]\r\nURL=https://www.example.com/\r\n"
	    "IconFile=\\\\198.51.100.9\\i.ico\r\n"),
	    ".url with an icon on a share (NTLM leak)");
	is_str("FILE_SHORTCUT", R("x.url",
	    "[InternetShortcut]\r\nURL=javascript:alert(1)\r\n"),
	    ".url to a script");
	is_str("", R("news.url",
	    "[InternetShortcut]\r\nURL=https://www.example.com/\r\n"),
	    "a bookmark: nothing");
	/* Windows' XML launchers judged by content, whatever their name. */
	is_str("FILE_SHORTCUT", R("notes.txt",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	    "<libraryDescription xmlns=\"http://schemas.microsoft.com/"
	    "windows/2009/library\">\r\n<searchConnectorDescriptionList>"
	    "<url>\\\\198.51.100.9\\s</url>\r\n"),
	    "a .library-ms renamed to .txt");
	is_str("FILE_SHORTCUT", R("notes.txt",
	    "<?xml version=\"1.0\"?>\r\n<searchConnectorDescription "
	    "xmlns=\"http://schemas.microsoft.com/windows/2009/"
	    "searchConnector\"><simpleLocation><url>https://198.51.100.9/"
	    "</url></simpleLocation></searchConnectorDescription>\r\n"),
	    "a .searchConnector-ms renamed to .txt");
	is_str("FILE_SHORTCUT", R("notes.txt",
	    "<?xml version=\"1.0\"?>\r\n<persistedQuery version=\"1.0\">"
	    "<query><scope><include path=\"\\\\198.51.100.9\\s\"/>"
	    "</scope></query></persistedQuery>\r\n"),
	    "a .search-ms renamed to .txt");
	is_str("", R("notes.txt",
	    "The library description and the persisted query are in the "
	    "search connector docs.\r\n"),
	    "plain text naming them: nothing");
	is_str("FILE_UNIX_SCRIPT", R("fix.sh", "#!/bin/sh\necho hi\n"),
	    "a shell script: FILE_UNIX_SCRIPT only");
	is_str("FILE_UNIX_SCRIPT", R("notes.txt", "#!/usr/bin/perl\nprint 1;\n"),
	    "a Perl script in a .txt");
	is_str("FILE_SCRIPT", R("run.bat", "#!/bin/sh\necho hi\n"),
	    "#! under a Windows script name: FILE_SCRIPT");
	is_str("FILE_SCRIPT", R("run.txt", "#!/bin/sh\npowershell -enc AA\n"),
	    "#! with Windows markers: FILE_SCRIPT");
}

static void
t_rules(void)
{
	char		 path[1024];
	unsigned char	*d, pe[512];
	size_t		 len;

	snprintf(path, sizeof(path), "%s/files/SimpleMacro.xls", tap_corpus());
	d = tap_slurp(path, &len);
	is_str("FILE_TYPE_MISMATCH", rules_for("Contract_signed.pdf",
	    "application/pdf", d, len), "lure-13: OLE2 xls named .pdf");
	is_str("", rules_for("book.xls", "application/vnd.ms-excel", d, len),
	    "the same file named .xls: nothing");
	is_str("", rules_for("book.xlsx", NULL, d, len),
	    "OLE2 under .xlsx: same office family, nothing here");
	is_str("FILE_TYPE_MISMATCH", rules_for(NULL, "application/pdf", d,
	    len), "no name, declared application/pdf: mismatch");
	is_str("", rules_for("scan", "application/octet-stream", d, len),
	    "no extension, octet-stream: nothing");
	free(d);

	memset(pe, 0, sizeof(pe));
	memcpy(pe, "MZ", 2);
	is_str("FILE_EXECUTABLE,FILE_TYPE_MISMATCH", rules_for("invoice.pdf",
	    NULL, pe, sizeof(pe)), "PE named .pdf");
	is_str("FILE_EXECUTABLE,FILE_DOUBLE_EXTENSION", rules_for(
	    "invoice.pdf.exe", NULL, pe, sizeof(pe)), "invoice.pdf.exe");
	is_str("FILE_EXECUTABLE", rules_for("setup.exe", NULL, pe,
	    sizeof(pe)), "setup.exe: one finding, not two");
	is_str("FILE_SCRIPT", rules_for("readme.txt", NULL,
	    "Set s = CreateObject(\"WScript.Shell\")\n", 38),
	    "VBScript in a .txt");
	is_str("", rules_for("letter.txt", NULL, "Dear Sir,\nthanks.\n", 18),
	    "a letter in a .txt: nothing");
	is_str("", rules_for("photo.jpg", NULL,
	    "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 20),
	    "a JPEG named .jpg");
	is_str("FILE_TYPE_MISMATCH", rules_for("photo.jpg", NULL,
	    "%PDF-1.4\n%%EOF\n", 15), "a PDF named .jpg");

	is_str("FILE_SCRIPT", rules_name("run.JS"), "name .JS");
	is_str("FILE_SCRIPT,FILE_DOUBLE_EXTENSION", rules_name("scan.pdf.vbs"),
	    "scan.pdf.vbs");
	is_str("FILE_SHORTCUT", rules_name("Invoice.lnk"), ".lnk");
	is_str("FILE_DISK_IMAGE", rules_name("order.iso"), ".iso");
	is_str("FILE_DISK_IMAGE", rules_name("disk.vhdx"), ".vhdx");
	is_str("FILE_ONENOTE", rules_name("notes.one"), ".one");
	is_str("FILE_EXECUTABLE", rules_name("tool.msi"), ".msi");
	is_str("FILE_EXECUTABLE,FILE_DOUBLE_EXTENSION",
	    rules_name("invoice.pdf          .exe"), "padding then .exe");
	is_str("FILE_DOUBLE_EXTENSION", rules_name("report      .pdf"),
	    "padding before any extension");
	is_str("FILE_DOUBLE_EXTENSION", rules_name("inv\xe2\x80\xaexcod.pdf"),
	    "U+202E in the name");
	is_str("FILE_EXECUTABLE,FILE_DOUBLE_EXTENSION",
	    rules_name("invoice.pdf.exe. . "), "trailing dots and spaces");
	is_str("", rules_name("report.2023.pdf"), "dotted date: nothing");
	is_str("", rules_name("見積書 2023年 4月.xlsx"), "Japanese name: nothing");
	is_str("", rules_name("archive.tar.gz"), "tar.gz: nothing");
	is_str("", rules_name("dir/sub/readme"), "no extension: nothing");
}

/* Many threads share the cookie pool. */
static void *
worker(void *arg)
{
	int	i, *bad = arg;

	for (i = 0; i < 50; i++)
		if (kind("Hello there, plain text.\n", 25) != FT_TEXT)
			(*bad)++;
	return NULL;
}

static void
t_threads(void)
{
	pthread_t	th[8];
	int		bad[8] = { 0 }, i, sum = 0;

	filetype_fini();
	is_int(LW_OK, filetype_init(2), "pool of 2");
	for (i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, worker, &bad[i]);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		sum += bad[i];
	}
	is_int(0, sum, "8 threads on 2 cookies");
	is_int(LW_OK, filetype_init(4), "init again is a no-op");
}

int
main(void)
{
	t_signatures();
	t_corpus_files();
	t_rules();
	t_launchers();
	t_unreadable();
	t_threads();
	filetype_fini();
	return done_testing();
}
