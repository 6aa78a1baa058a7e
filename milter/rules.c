/*
 * rules.c: the built-in rules, their default scores and what triggers
 * them.  Thresholds shipped in default.yaml: tag 5, quarantine 10,
 * reject 50.  The scores are chosen so that (issues 2-5): an honest
 * PPAP zip with its password in the mail is accepted; an encrypted zip
 * that cannot be opened is tagged; any macro document, executable,
 * script, shortcut, disk image or archive bomb is quarantined; so is a
 * document that fetches a remote template and HTML that smuggles a file
 * (issue 16), while an HTML report's own script and a Unix script only
 * count a point each.
 */
#include <string.h>

#include "rules.h"

const struct rule_def rules_builtin[] = {
	{ "MIME_MALFORMED", 1, "broken MIME structure or encoding" },
	{ "MIME_LIMIT", 5, "message size, header, depth or part count limit hit" },
	{ "SCAN_TIMEOUT", 5, "the per-message scan budget ran out" },
	{ "SCAN_ERROR", 5, "an analyzer failed on this message" },
	{ "ARCHIVE_ENCRYPTED", 1, "an archive has encrypted entries" },
	{ "ARCHIVE_PASSWORD_IN_MESSAGE", 0, "an encrypted archive opened with a password found in the message" },
	{ "ARCHIVE_PASSWORD_UNKNOWN", 5, "an encrypted archive could not be opened" },
	{ "ARCHIVE_NESTED", 2, "an archive inside an archive" },
	{ "ARCHIVE_LIMIT", 10, "an archive hit a depth, entry, size or ratio limit" },
	{ "ARCHIVE_CORRUPT", 3, "an archive that does not parse" },
	{ "ARCHIVE_ENTRY_CUT", 1, "an archive entry cut by the entry size or ratio limit; its start was analysed" },
	{ "ARCHIVE_ENTRY_UNREADABLE", 10, "an archive entry that cannot be read whose name or first bytes say Office or executable" },
	{ "ARCHIVE_PADDED", 3, "an archive entry padded with megabytes of zeros" },
	{ "ARCHIVE_UNSUPPORTED", 5, "a container or encrypted entries in a form not opened here" },
	{ "FILE_EXECUTABLE", 10, "a PE, ELF, Mach-O or MSI file" },
	{ "FILE_SCRIPT", 10, "a script Windows runs (js, vbs, wsf, hta, ps1, bat, chm, ...)" },
	{ "FILE_UNIX_SCRIPT", 1, "a #! script no Windows client runs (sh, perl, csh, ...)" },
	{ "FILE_SHORTCUT", 10, "a shortcut or launcher (.lnk, .url to a file share, .library-ms, .search-ms, .iqy)" },
	{ "FILE_HTML_SMUGGLING", 10, "HTML or SVG that builds a file in the browser or opens a Windows handler" },
	{ "FILE_HTML_SCRIPT", 1, "HTML with a script and none of the smuggling techniques" },
	{ "FILE_DISK_IMAGE", 10, "a disk image (iso, img, vhd, vhdx)" },
	{ "FILE_ONENOTE", 2, "a OneNote file (its embedded files are analysed)" },
	{ "FILE_TYPE_MISMATCH", 4, "the file name says one type, the content another" },
	{ "FILE_DOUBLE_EXTENSION", 6, "a name like invoice.pdf.exe, padded or with U+202E" },
	{ "OFFICE_VBA", 10, "an Office document with a VBA project" },
	{ "OFFICE_VBA_AUTOEXEC", 3, "VBA that runs on open or close" },
	{ "OFFICE_VBA_SUSPICIOUS", 4, "VBA calls a dropper needs, or p-code without source" },
	{ "OFFICE_XLM", 10, "an Excel 4.0 macro sheet" },
	{ "OFFICE_XLM_AUTOEXEC", 3, "an Auto_Open/Auto_Close name for Excel 4.0 macros" },
	{ "OFFICE_XLM_SUSPICIOUS", 4, "Excel 4.0 formulas call EXEC, CALL, REGISTER or a download, or build code" },
	{ "OFFICE_MACRO_RENAMED", 5, "a macro document under a macro-free extension" },
	{ "OFFICE_REMOTE_TEMPLATE", 10, "a document fetches a template, object, frame or chunk from elsewhere on open" },
	{ "OFFICE_ENCRYPTED", 5, "an encrypted Office document no password opened" },
	{ "OFFICE_RTF_OBJECT", 4, "an RTF document with an embedded object" },
	{ "OFFICE_MALFORMED", 2, "an Office file that does not parse" },
	{ "HDR_DISPLAY_NAME_SPOOF", 4, "the display name claims another domain's address or a known correspondent" },
	{ "HDR_INTERNAL_NAME_EXTERNAL", 4, "a staff name as display name, sent from outside" },
	{ "HDR_LOOKALIKE_DOMAIN", 5, "the sender's domain looks like ours or a correspondent's" },
	{ "HDR_FOREIGN_REPLY_PREFIX", 2, "a reply/forward prefix not expected by the policy" },
	{ "HDR_FAKE_REPLY", 1, "a reply prefix without In-Reply-To or References" },
	{ "HDR_REPLYTO_MISMATCH", 1, "Reply-To domain differs from From domain" },
	{ "BODY_QUOTED_THREAD_FOREIGN", 3, "quotes a thread the sender's domain was not part of" },
	{ "HDR_THREAD_HIJACK", 6, "a reply in one of our learned threads from a domain that never took part" },
	{ "HDR_KNOWN_THREAD", -3, "a reply from a participant of one of our learned threads" },
	{ "HDR_FIRST_CONTACT", 1, "the sender's domain never exchanged mail with us (mature learned store)" },
	{ "EMOTET_LURE", 10, "a strong hijack sign together with a payload" },
	{ "SPLIT_PASSWORD_LURE", 0, "a split-PPAP password mail whose password opened a held lure" },
};

const size_t rules_nbuiltin = sizeof(rules_builtin) / sizeof(rules_builtin[0]);

const struct rule_def *
rules_find(const char *name)
{
	size_t	i;

	for (i = 0; i < rules_nbuiltin; i++)
		if (strcmp(rules_builtin[i].name, name) == 0)
			return &rules_builtin[i];
	return NULL;
}
