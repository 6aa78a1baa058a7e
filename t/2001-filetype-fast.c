/*
 * 2001-filetype-fast: filetype_fast answers (images, plain prose) and
 * skips libmagic only where libmagic would have decided the same.  For
 * every file of the shared corpus, every MIME part of its messages,
 * every unencrypted entry of the zips among those, and generated
 * samples (texts that libmagic calls mail, news, HTML, JavaScript,
 * JSON, INI, PGP, Netpbm, ...; prose in English and Japanese; image
 * headers), the kind, HTML verdict and description with the fast path
 * must equal those with libmagic asked always.  The fast path must be
 * taken for some texts and images, or the comparison proves nothing.
 * OLE2 files without the MSI class id are not shown to libmagic (no
 * description then; the kind must still be libmagic's: OLE2, not MSI),
 * and an OLE2 file given the MSI class id still is, and is MSI.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zip.h>

#include "tap.h"
#include "lurewall.h"
#include "filetype.h"
#include "mime.h"

static unsigned	nsame, ndiff, nfast_text, nfast_image, nfast_other;
static unsigned	nfast_ole2;
static unsigned char	*ole2;		/* a corpus OLE2 file, for t_msi */
static size_t		 ole2_len;

static void
compare(const char *what, const unsigned char *d, size_t len)
{
	struct ft_result	fast, slow;

	if (filetype_detect_how(d, len, &fast, true) != LW_OK ||
	    filetype_detect_how(d, len, &slow, false) != LW_OK)
		bail("filetype_detect_how failed on %s", what);
	if (fast.kind == slow.kind && fast.html == slow.html &&
	    (strcmp(fast.desc, slow.desc) == 0 || (fast.kind == FT_OLE2 &&
	    fast.desc[0] == '\0' && fast.mime[0] == '\0')))
		nsame++;
	else {
		ndiff++;
		diag("%s: fast %s/%d \"%s\", libmagic %s/%d \"%s\" (%s)",
		    what, filetype_kind_name(fast.kind), fast.html, fast.desc,
		    filetype_kind_name(slow.kind), slow.html, slow.desc,
		    slow.mime);
	}
	if (len > 0 && fast.mime[0] == '\0') {
		if (fast.kind == FT_TEXT)
			nfast_text++;
		else if (fast.kind == FT_IMAGE)
			nfast_image++;
		else if (fast.kind == FT_OLE2) {
			nfast_ole2++;
			/* One whose summary information libmagic reads. */
			if (ole2 == NULL && strstr(slow.desc, "Composite "
			    "Document File V2 Document, Little Endian") !=
			    NULL && (ole2 = malloc(len)) != NULL) {
				memcpy(ole2, d, len);
				ole2_len = len;
			}
		}
		else
			nfast_other++;
	}
}

/* The unencrypted entries of a zip, one level. */
static void
zip_entries(const char *what, const unsigned char *d, size_t len)
{
	zip_source_t	*src;
	zip_t		*za;
	zip_file_t	*zf;
	zip_stat_t	 st;
	zip_int64_t	 i, n;
	unsigned char	*buf;
	char		 name[1024];

	if ((src = zip_source_buffer_create(d, len, 0, NULL)) == NULL)
		return;
	if ((za = zip_open_from_source(src, ZIP_RDONLY, NULL)) == NULL) {
		zip_source_free(src);
		return;
	}
	for (i = 0; i < zip_get_num_entries(za, 0); i++) {
		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 ||
		    st.encryption_method != ZIP_EM_NONE ||
		    st.size > (16U << 20) ||
		    (zf = zip_fopen_index(za, (zip_uint64_t)i, 0)) == NULL)
			continue;
		if ((buf = malloc(st.size + 1)) == NULL)
			bail("ENOMEM");
		n = zip_fread(zf, buf, st.size);
		zip_fclose(zf);
		if (n >= 0) {
			snprintf(name, sizeof(name), "%s/%s", what, st.name);
			compare(name, buf, (size_t)n);
		}
		free(buf);
	}
	zip_discard(za);
}

static void
one(const char *what, const unsigned char *d, size_t len)
{
	compare(what, d, len);
	if (len > 4 && memcmp(d, "PK\003\004", 4) == 0)
		zip_entries(what, d, len);
}

static bool
part(const struct mime_part *mp, void *arg)
{
	char	what[1024];

	snprintf(what, sizeof(what), "%s part %s", (const char *)arg,
	    mp->path);
	if (mp->body != NULL)
		one(what, mp->body, mp->body_len);
	return true;
}

static void
walk(const char *dir)
{
	struct findings	 fs;
	struct message	*m;
	struct limits	 lim;
	struct stat	 sb;
	struct dirent	*de;
	unsigned char	*d;
	size_t		 len;
	char		 path[4096];
	DIR		*dh;

	if ((dh = opendir(dir)) == NULL)
		bail("cannot open %s", dir);
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0)
			bail("cannot stat %s", path);
		if (S_ISDIR(sb.st_mode)) {
			walk(path);
			continue;
		}
		d = tap_slurp(path, &len);
		one(path, d, len);
		limits_default(&lim);
		memset(&fs, 0, sizeof(fs));
		m = NULL;
		if (strstr(de->d_name, ".eml") != NULL &&
		    mime_parse(d, len, &lim, &fs, &m) == LW_OK && m != NULL) {
			mime_visit(m, part, path);
			mime_free(m);
		}
		findings_free(&fs);
		free(d);
	}
	closedir(dh);
}

static void
generated(void)
{
	static const char *const text[] = {
		"Dear Mr Sato,\nthank you for the meeting. Attached is the "
		    "offer (v2, 3 pages) we'll discuss on Monday.\n",
		"いつもお世話になっております。\r\n"
		    "資料を送付いたします。\r\n",
		"Please call me: 03-1234-5678, or write to sato@example.jp.\n",
		"From someone@example.com Tue Nov 22 10:00:00 2022\nHi\n",
		"From: a@example.com\nTo: b@example.com\n\nbody\n",
		"Received: from mx by mx; Tue, 22 Nov 2022\n\nbody\n",
		"Return-Path: <a@example.com>\nbody\n",
		"MIME-Version: 1.0\nContent-Type: text/plain\n\nx\n",
		"Article 1234 of comp.mail.misc:\nPath: a!b\n",
		"Forward to sato\n",
		"Pipe to /usr/bin/x\n",
		"BABYL OPTIONS:\n",
		"<html><body>Hello</body></html>\n",
		"Hello\n<script>alert(1)</script>\n",
		"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n",
		"<?xml version=\"1.0\"?><a/>\n",
		"\"use strict\";\nvar x = 1;\n",
		"'use strict'\nfunction f(a) { return a; }\n",
		"const fs = require('fs');\n",
		"module.exports = function () {};\n",
		"import x from 'y';\n",
		"export default function f() {}\n",
		"Note (function() 1)()\n",
		"define(function (require) return 1)\n",
		"Hello\nimport x from y\n",
		"var s = WScript.CreateObject(\"WScript.Shell\");\n",
		"Set o = CreateObject(\"WScript.Shell\")\no.Run \"calc\"\n",
		"@echo off\nstart calc.exe\n",
		"powershell -nop -w hidden -c IEX(New-Object Net.WebClient)\n",
		"#!/bin/sh\necho hi\n",
		"{\"a\": 1, \"b\": [1, 2]}\n",
		"[1, 2, 3]\n",
		"[InternetShortcut]\nURL=file://attacker/share/x.exe\n",
		"[Settings]\nkey=value\n",
		"ID;PWXL;N;E\nC;X1;Y1;K\"x\"\nE\n",
		"-----BEGIN PGP MESSAGE-----\n\nhQEMA\n"
		    "-----END PGP MESSAGE-----\n",
		"%!PS-Adobe-3.0\n",
		"%PDF-1.4\n",
		"{\\rtf1\\ansi hello}\n",
		"P1\n2 2\n0 1 1 0\n",
		"P6 2 2 255\n",
		"GIF89a is a format\n",
		"MZ is a prefix\n",
		"\xef\xbb\xbf" "BOM text\n",
		"name,amount\nsato,100\nsuzuki,200\n",
		"1\n00:00:01,000 --> 00:00:02,000\nHello\n",
		"begin 644 x.txt\nM86)C\n`\nend\n",
		"BEGIN:VCARD\nVERSION:3.0\nFN:Sato\nEND:VCARD\n",
		"diff -u a b\n--- a\n+++ b\n",
		"#include <stdio.h>\nint main(void) { return 0; }\n",
		"def f(x):\n    return x\n",
		"SIMPLE  =                    T\n",
		"d8:announce3:abce\n",
		"\x1b" "$B$3$s$K$A$O" "\x1b" "(B\n",
		"caf\xe9 cr\xe8me\n",
		"Total: 100 yen\n",
		"Hello world",
		"a",
		"\n\n",
	};
	static const unsigned char png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
		0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1,
		8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde };
	static const unsigned char jpg[] = {
		0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0,
		0, 1, 0, 1, 0, 0 };
	static const unsigned char gif[] = {
		'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0 };
	char		 what[64];
	size_t		 i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		snprintf(what, sizeof(what), "generated text %zu", i);
		compare(what, (const unsigned char *)text[i], strlen(text[i]));
	}
	compare("PNG", png, sizeof(png));
	compare("JPEG", jpg, sizeof(jpg));
	compare("GIF", gif, sizeof(gif));
	compare("GIF87a", (const unsigned char *)"GIF87a\1\0\1\0\0\0\0", 13);
}

/*
 * A corpus OLE2 file whose root entry (the first entry of the directory
 * sector the header names) gets the MSI class id: libmagic is asked and
 * both paths call it MSI.
 */
static void
t_msi(void)
{
	static const unsigned char msi[16] = {
		0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46
	};
	struct ft_result	 fast, slow;
	size_t			 ssz, off;

	if (ole2 == NULL)
		bail("no OLE2 file in the corpus");
	ssz = (size_t)1 << (ole2[30] | ole2[31] << 8);
	off = ((size_t)(ole2[48] | ole2[49] << 8 | ole2[50] << 16 |
	    (size_t)ole2[51] << 24) + 1) * ssz + 80;
	if (ssz < 512 || off + sizeof(msi) > ole2_len)
		bail("the OLE2 file has no root entry where expected");
	memcpy(ole2 + off, msi, sizeof(msi));
	if (filetype_detect_how(ole2, ole2_len, &fast, true) != LW_OK ||
	    filetype_detect_how(ole2, ole2_len, &slow, false) != LW_OK)
		bail("filetype_detect_how failed");
	is_str("msi", filetype_kind_name(slow.kind),
	    "libmagic: the MSI class id makes an MSI package (%s)", slow.desc);
	is_str("msi", filetype_kind_name(fast.kind),
	    "fast path: libmagic asked, the same answer");
	free(ole2);
}

int
main(void)
{
	walk(tap_corpus());
	generated();
	ok(ndiff == 0, "fast path and libmagic agree on %u of %u files",
	    nsame, nsame + ndiff);
	ok(nfast_text > 10, "the fast path answered %u plain texts",
	    nfast_text);
	ok(nfast_image > 3, "the fast path answered %u images", nfast_image);
	ok(nfast_other > 10, "our signatures answered %u files without "
	    "asking libmagic", nfast_other);
	ok(nfast_ole2 > 3, "%u OLE2 files answered without libmagic",
	    nfast_ole2);
	t_msi();
	filetype_fini();
	return done_testing();
}
