/*
 * 2020-office-corpus: every real Office file of the corpus gives the
 * macro rules files/LICENSE-NOTE lists for it, and the macro-free ones
 * none; no file is called malformed.
 */
#include "office_t.h"

static const struct {
	const char	*file;
	bool		 vba, autoexec, xlm;
} files[] = {
	{ "SimpleMacro.doc", true, false, false },
	{ "SimpleMacro.docm", true, false, false },
	{ "60158.docm", true, false, false },
	{ "SimpleMacro.xls", true, false, false },
	{ "SimpleMacro.xlsm", true, false, false },
	{ "39234.xls", true, true, false },
	{ "SquareMacro.xls", true, false, false },
	{ "46515.xls", true, false, false },
	{ "mortgage-calculation.xls", true, false, false },
	{ "testNames.xlsm", true, false, false },
	{ "45431.xlsm", true, false, false },
	{ "testVarious.xlsb", true, false, false },
	{ "SimpleMacro.pptm", true, false, false },
	{ "xlmmacro.xlsm", false, false, true },
	{ "60405.xls", false, false, true },
	{ "simple.doc", false, false, false },
	{ "page-break.doc", false, false, false },
	{ "simple-list.doc", false, false, false },
	{ "capitalized.docx", false, false, false },
	{ "footnotes.docx", false, false, false },
	{ "documentProperties.docx", false, false, false },
	{ "SimpleMultiCell.xls", false, false, false },
	{ "SimpleWithDataFormat.xls", false, false, false },
	{ "DBCSSheetName.xls", false, false, false },
	{ "DataTableCities.xlsx", false, false, false },
	{ "Formatting.xlsx", false, false, false },
	{ "table-sample.xlsx", false, false, false },
	{ "comments.xlsb", false, false, false },
	{ "testPPT.pptx", false, false, false },
	{ "numbers.ppt", false, false, false },
};

int
main(void)
{
	struct findings	 fs = { 0 };
	char		 path[4096];
	size_t		 i;
	bool		 good;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		ot_fmt(path, sizeof(path), "%s/files/%s", tap_corpus(),
		    files[i].file);
		is_int(LW_OK, ot_scan_file(path, &fs), "%s: scans",
		    files[i].file);
		good = true;
		good &= ok(findings_has(&fs, "OFFICE_VBA") == files[i].vba,
		    "%s: OFFICE_VBA %s", files[i].file,
		    files[i].vba ? "found" : "absent");
		good &= ok(findings_has(&fs, "OFFICE_VBA_AUTOEXEC") ==
		    files[i].autoexec, "%s: OFFICE_VBA_AUTOEXEC %s",
		    files[i].file, files[i].autoexec ? "found" : "absent");
		good &= ok(findings_has(&fs, "OFFICE_XLM") == files[i].xlm,
		    "%s: OFFICE_XLM %s", files[i].file,
		    files[i].xlm ? "found" : "absent");
		good &= ok(!findings_has(&fs, "OFFICE_MALFORMED"),
		    "%s: not malformed", files[i].file);
		good &= ok(ot_find(&fs, "OFFICE_VBA_SUSPICIOUS",
		    "stomping") == NULL, "%s: no stomping", files[i].file);
		if (!good || getenv("OT_VERBOSE") != NULL)
			ot_dump(&fs);
	}
	/* The details name the module and the entry point. */
	ot_fmt(path, sizeof(path), "%s/files/39234.xls", tap_corpus());
	ot_scan_file(path, &fs);
	ok(ot_find(&fs, "OFFICE_VBA_AUTOEXEC",
	    "module ThisWorkbook: Workbook_Open") != NULL,
	    "39234.xls: Workbook_Open in ThisWorkbook");
	ok(ot_find(&fs, "OFFICE_VBA", "ThisWorkbook") != NULL &&
	    ot_find(&fs, "OFFICE_VBA", "JML") != NULL,
	    "39234.xls: OFFICE_VBA lists the modules");
	ot_fmt(path, sizeof(path), "%s/files/60405.xls", tap_corpus());
	ot_scan_file(path, &fs);
	ok(ot_find(&fs, "OFFICE_XLM", "macro sheet") != NULL,
	    "60405.xls: the macro sheet is named");
	findings_free(&fs);
	return done_testing();
}
