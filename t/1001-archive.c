/*
 * 1001-archive: zip walking, encryption and limits (archive.c through
 * content_analyze).  Zips are built at run time with Info-ZIP and 7-Zip.
 *
 * Without arguments: TAP.  As a driver for t/1002-bombs.sh:
 *   t/1001-archive scan FILE [PASSWORD...]
 * prints one "RULE<TAB>PART<TAB>DETAIL" line per finding, then
 * "inflated N", with the default limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "tap.h"
#include "lurewall.h"
#include "content.h"
#include "filetype.h"
#include "pwcand.h"
#include "analyzer.h"

static const char *dir;

struct run {
	struct limits	 lim;
	struct findings	 fs;
	struct pwcands	 pw;
	struct scan_ctx	 ctx;
};

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	limits_default(&r->lim);
	r->ctx.lim = &r->lim;
	r->ctx.fs = &r->fs;
	r->ctx.pw = &r->pw;
	r->ctx.qid = "TEST";
}

static void
run_pw(struct run *r, const char *pw)
{
	struct pwcands *pc = &r->pw;

	pc->v = reallocarray(pc->v, pc->n + 1, sizeof(*pc->v));
	pc->keyword = reallocarray(pc->keyword, pc->n + 1, sizeof(bool));
	if (pc->v == NULL || pc->keyword == NULL)
		bail("ENOMEM");
	pc->v[pc->n] = strdup(pw);
	pc->keyword[pc->n++] = true;
}

static void
run_free(struct run *r)
{
	findings_free(&r->fs);
	pwcand_free(&r->pw);
}

static enum lw_err
run_buf(struct run *r, const char *name, const unsigned char *d, size_t len)
{
	char	path[512];

	/* As scan.c names a MIME attachment: "<part>/<file name>". */
	snprintf(path, sizeof(path), "2/%s", name != NULL ? name : "");
	return content_analyze(&r->ctx, path, name, NULL, d, len, 0);
}

static enum lw_err
run_file(struct run *r, const char *file)
{
	char		 path[1024];
	unsigned char	*d;
	size_t		 len;
	enum lw_err	 e;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	d = tap_slurp(path, &len);
	e = run_buf(r, file, d, len);
	free(d);
	return e;
}

static bool
has(const struct run *r, const char *rule, const char *part)
{
	size_t	i;

	for (i = 0; i < r->fs.n; i++)
		if (strcmp(r->fs.v[i].rule, rule) == 0 &&
		    (part == NULL || strcmp(r->fs.v[i].part, part) == 0))
			return true;
	return false;
}

static const char *
detail(const struct run *r, const char *rule)
{
	size_t	i;

	for (i = 0; i < r->fs.n; i++)
		if (strcmp(r->fs.v[i].rule, rule) == 0)
			return r->fs.v[i].detail;
	return "";
}

static void
dump(const struct run *r)
{
	size_t	i;

	for (i = 0; i < r->fs.n; i++)
		diag("  %s %s %s", r->fs.v[i].rule, r->fs.v[i].part,
		    r->fs.v[i].detail);
}

static void
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char	cmd[4096], full[4200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && { %s; } >/dev/null 2>&1",
	    dir, cmd);
	if (system(full) != 0)
		bail("command failed: %s", cmd);
}

static void
put(const char *name, const void *d, size_t len)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tap_spew(path, d, len);
}

static void
fixtures(void)
{
	static const unsigned char lnk[] = {
		0x4c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x46 };
	static const char wsh[] =
	    "var s = WScript.CreateObject(\"WScript.Shell\");\n";
	unsigned char	 buf[65536];
	char		 pdf[4096];
	size_t		 i;

	/* A PDF with some body so that the deflate stream is not tiny. */
	snprintf(pdf, sizeof(pdf), "%%PDF-1.4\n1 0 obj << /Type /Catalog "
	    ">> endobj\n");
	for (i = 0; i < 40; i++)
		snprintf(pdf + strlen(pdf), sizeof(pdf) - strlen(pdf),
		    "%% line %zu of an honest invoice %zu\n", i, i * 7919);
	strcat(pdf, "%%EOF\n");
	put("invoice.pdf", pdf, strlen(pdf));
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "MZ", 2);
	buf[0x3c] = 0x80;
	memcpy(buf + 0x80, "PE\0\0", 4);
	put("setup.exe", buf, 512);
	put("stub.dat", buf, 512);
	put("invoice.pdf.exe", buf, 512);
	put("run.js", wsh, strlen(wsh));
	put("notes.txt", wsh, strlen(wsh));
	memset(buf, 0, sizeof(buf));
	memcpy(buf, lnk, sizeof(lnk));
	put("link.dat", buf, 300);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 0x8001, "CD001", 5);
	put("disk.dat", buf, sizeof(buf) > 0x8100 ? 0x9000 : 0);
	sh("cp '%s/files/capitalized.docx' report.docx", tap_corpus());
	sh("cp '%s/files/SimpleMacro.xls' book.xls", tap_corpus());
}

static unsigned char *load(const char *, size_t *);

static void
t_plain(void)
{
	struct run	r;

	sh("zip -q plain.zip invoice.pdf");
	run_init(&r);
	is_int(LW_OK, run_file(&r, "plain.zip"), "plain zip scans");
	is_int(0, (long long)r.fs.n, "a zip of a clean PDF has no findings");
	dump(&r);
	run_free(&r);
}

static void
t_zipcrypto(void)
{
	struct run	r;

	sh("zip -q -P 8462 zc.zip invoice.pdf report.docx");
	run_init(&r);
	run_pw(&r, "hello");
	run_pw(&r, "8462");
	run_file(&r, "zc.zip");
	ok(has(&r, "ARCHIVE_ENCRYPTED", "2/zc.zip"), "ZipCrypto: encrypted");
	ok(has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", "2/zc.zip"),
	    "ZipCrypto: opened with the message password");
	ok(strstr(detail(&r, "ARCHIVE_PASSWORD_IN_MESSAGE"), "8**2") != NULL,
	    "candidate masked in the detail: %s",
	    detail(&r, "ARCHIVE_PASSWORD_IN_MESSAGE"));
	ok(!has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL), "no unknown password");
	ok(!has(&r, "ARCHIVE_NESTED", NULL), "a docx in a zip is not nested");
	is_int(2, (long long)r.fs.n, "only those two findings");
	dump(&r);
	run_free(&r);
}

/*
 * ZipCrypto in the forms zip writes: stored, deflated, bzip2, and
 * streamed (a data descriptor: the check byte is the DOS time's, not
 * the CRC's).  archive.c decrypts them itself (zipcrypto.c) and reads
 * them through zipdec: the PE inside must be found by content, and
 * only the right candidate opens them.
 */
static void
t_zipcrypto_forms(void)
{
	static const char *const cmd[] = {
		"zip -q -0 -P s3cret zf0.zip stub.dat",
		"zip -q -9 -P s3cret zf8.zip stub.dat",
		"zip -q -Z bzip2 -P s3cret zf12.zip stub.dat",
		"zip -q -P s3cret - stub.dat > zfs.zip",
	};
	static const char *const name[] = {
		"zf0.zip", "zf8.zip", "zf12.zip", "zfs.zip"
	};
	struct run	r;
	char		part[64];
	size_t		i;

	for (i = 0; i < sizeof(cmd) / sizeof(cmd[0]); i++) {
		sh("%s", cmd[i]);
		snprintf(part, sizeof(part), "2/%s/stub.dat", name[i]);
		run_init(&r);
		run_pw(&r, "s3cre");
		run_pw(&r, "s3cret");
		run_file(&r, name[i]);
		ok(has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL) &&
		    strstr(detail(&r, "ARCHIVE_PASSWORD_IN_MESSAGE"),
		    "candidate 2") != NULL,
		    "%s: opened with the second candidate", name[i]);
		ok(has(&r, "FILE_EXECUTABLE", part),
		    "%s: the PE inside read and typed", name[i]);
		ok(!has(&r, "ARCHIVE_CORRUPT", NULL), "%s: not corrupt",
		    name[i]);
		dump(&r);
		run_free(&r);
		run_init(&r);
		run_pw(&r, "s3cre");
		run_file(&r, name[i]);
		ok(has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) &&
		    !has(&r, "FILE_EXECUTABLE", NULL),
		    "%s: a wrong candidate opens nothing", name[i]);
		run_free(&r);
	}
}

static void
t_aes(void)
{
	struct run	r;

	sh("7z a -tzip -mem=AES256 -pabc123 aes.zip invoice.pdf setup.exe");
	run_init(&r);
	run_pw(&r, "zzzz");
	run_pw(&r, "abc123");
	run_file(&r, "aes.zip");
	ok(has(&r, "ARCHIVE_ENCRYPTED", NULL), "AES: encrypted");
	ok(strstr(detail(&r, "ARCHIVE_ENCRYPTED"), "aes-256") != NULL,
	    "AES-256 named: %s", detail(&r, "ARCHIVE_ENCRYPTED"));
	ok(has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL), "AES: opened");
	ok(has(&r, "FILE_EXECUTABLE", "2/aes.zip/setup.exe"),
	    "AES: the PE inside is found with its path");
	ok(!has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL), "AES: all opened");
	dump(&r);
	run_free(&r);

	/* Stored AES (AE-2, zero CRC) opens too; tampered data does not. */
	sh("7z a -tzip -mem=AES128 -mx=0 -pabc123 aes0.zip invoice.pdf");
	run_init(&r);
	run_pw(&r, "abc123");
	run_file(&r, "aes0.zip");
	ok(has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL) &&
	    !has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) &&
	    strstr(detail(&r, "ARCHIVE_ENCRYPTED"), "aes-128") != NULL,
	    "stored AES-128 opened");
	run_free(&r);

	/* AES-192: its verifier sits in PBKDF2's 3rd block. */
	sh("7z a -tzip -mem=AES192 -pabc123 aes192.zip setup.exe");
	run_init(&r);
	run_pw(&r, "abc12");
	run_pw(&r, "abc123");
	run_file(&r, "aes192.zip");
	ok(has(&r, "FILE_EXECUTABLE", "2/aes192.zip/setup.exe") &&
	    has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL) &&
	    !has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) &&
	    strstr(detail(&r, "ARCHIVE_ENCRYPTED"), "aes-192") != NULL,
	    "AES-192 opened with the second candidate: %s",
	    detail(&r, "ARCHIVE_PASSWORD_IN_MESSAGE"));
	run_free(&r);
	run_init(&r);
	run_pw(&r, "abc1234");
	run_file(&r, "aes192.zip");
	ok(has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) &&
	    !has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL),
	    "AES-192: a wrong password opens nothing");
	run_free(&r);
	{
		unsigned char	*d;
		size_t		 len;

		d = load("aes.zip", &len);
		d[200] ^= 1;
		run_init(&r);
		run_pw(&r, "abc123");
		run_buf(&r, "t.zip", d, len);
		ok(strstr(detail(&r, "ARCHIVE_PASSWORD_UNKNOWN"), "1 of 2") !=
		    NULL, "AES data tampered: the HMAC refuses the right "
		    "password for that entry: %s",
		    detail(&r, "ARCHIVE_PASSWORD_UNKNOWN"));
		run_free(&r);
		free(d);
	}

	run_init(&r);
	run_pw(&r, "abc124");
	run_file(&r, "aes.zip");
	ok(has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) &&
	    !has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL),
	    "AES: a wrong password opens nothing");
	ok(has(&r, "FILE_EXECUTABLE", "2/aes.zip/setup.exe"),
	    "AES unopened: setup.exe still judged by its name");
	run_free(&r);
}

static void
t_unknown(void)
{
	struct run	r;

	sh("zip -q -P s3cret unk.zip invoice.pdf run.js invoice.pdf.exe");
	run_init(&r);
	run_pw(&r, "nope");
	run_file(&r, "unk.zip");
	ok(has(&r, "ARCHIVE_ENCRYPTED", NULL) &&
	    has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL),
	    "unknown password: encrypted + unknown");
	ok(has(&r, "FILE_SCRIPT", "2/unk.zip/run.js"), "names: .js");
	ok(has(&r, "FILE_EXECUTABLE", "2/unk.zip/invoice.pdf.exe"),
	    "names: .exe");
	ok(has(&r, "FILE_DOUBLE_EXTENSION", "2/unk.zip/invoice.pdf.exe"),
	    "names: double extension");
	ok(strstr(detail(&r, "ARCHIVE_PASSWORD_UNKNOWN"), "3 of 3") != NULL,
	    "counts: %s", detail(&r, "ARCHIVE_PASSWORD_UNKNOWN"));
	run_free(&r);

	/* Two passwords in one zip: each entry finds its own. */
	sh("zip -q -P first two.zip invoice.pdf && "
	    "zip -q -P second two.zip run.js");
	run_init(&r);
	run_pw(&r, "first");
	run_pw(&r, "second");
	run_file(&r, "two.zip");
	ok(!has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL) &&
	    has(&r, "FILE_SCRIPT", "2/two.zip/run.js"),
	    "a second password opens the second entry");
	run_free(&r);
}

static void
t_content(void)
{
	struct run	r;

	sh("zip -q types.zip stub.dat link.dat disk.dat notes.txt");
	run_init(&r);
	run_file(&r, "types.zip");
	ok(has(&r, "FILE_EXECUTABLE", "2/types.zip/stub.dat"),
	    "PE found by content under .dat");
	ok(has(&r, "FILE_SHORTCUT", "2/types.zip/link.dat"),
	    "LNK found by content");
	ok(has(&r, "FILE_DISK_IMAGE", "2/types.zip/disk.dat"),
	    "ISO 9660 found by content");
	ok(has(&r, "FILE_SCRIPT", "2/types.zip/notes.txt"),
	    "WScript text found by content");
	ok(has(&r, "FILE_TYPE_MISMATCH", "2/types.zip/notes.txt") == false,
	    "a script in a .txt is FILE_SCRIPT, text family is no mismatch");
	dump(&r);
	run_free(&r);
}

static void
t_nested(void)
{
	struct run	r;

	sh("zip -q inner.zip setup.exe && zip -q -P Kw0rt outer.zip "
	    "inner.zip book.xls");
	run_init(&r);
	run_pw(&r, "Kw0rt");
	run_file(&r, "outer.zip");
	ok(has(&r, "ARCHIVE_NESTED", "2/outer.zip/inner.zip"), "nested zip");
	ok(has(&r, "FILE_EXECUTABLE", "2/outer.zip/inner.zip/setup.exe"),
	    "the exe two levels down");
	ok(has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", "2/outer.zip"),
	    "outer opened");
	dump(&r);
	run_free(&r);

	/* A package is a document, even at the top. */
	run_init(&r);
	run_file(&r, "report.docx");
	is_int(0, (long long)r.fs.n, "a docx alone: no archive findings");
	run_free(&r);
}

/* Read a whole entry with a password; true when it passes the CRC. */
static int
try_pw(zip_t *za, const char *pw)
{
	zip_file_t	*zf;
	char		 buf[4096];
	zip_int64_t	 n;

	if ((zf = zip_fopen_index_encrypted(za, 0, 0, pw)) == NULL)
		return 0;		/* header check refused it */
	while ((n = zip_fread(zf, buf, sizeof(buf))) > 0)
		;
	zip_fclose(zf);
	return n == 0 ? 2 : 1;		/* 1: lucky header, bad data */
}

static void
t_lucky(void)
{
	struct run	 r;
	zip_t		*za;
	char		 path[1024], lucky[32] = "";
	int		 i, err;

	sh("zip -q -P right-one lucky.zip invoice.pdf");
	snprintf(path, sizeof(path), "%s/lucky.zip", dir);
	if ((za = zip_open(path, ZIP_RDONLY, &err)) == NULL)
		bail("zip_open");
	for (i = 0; i < 100000; i++) {
		snprintf(lucky, sizeof(lucky), "w%d", i);
		if (try_pw(za, lucky) == 1)
			break;
	}
	zip_close(za);
	ok(i < 100000, "found a wrong password passing the 1-byte check: %s",
	    lucky);
	run_init(&r);
	run_pw(&r, lucky);
	run_file(&r, "lucky.zip");
	ok(!has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL) &&
	    has(&r, "ARCHIVE_PASSWORD_UNKNOWN", NULL),
	    "the lucky wrong password is refused by the CRC");
	ok(!has(&r, "ARCHIVE_CORRUPT", NULL), "and that is no corruption");
	run_free(&r);
	run_init(&r);
	run_pw(&r, lucky);
	run_pw(&r, "right-one");
	run_file(&r, "lucky.zip");
	ok(has(&r, "ARCHIVE_PASSWORD_IN_MESSAGE", NULL) &&
	    strstr(detail(&r, "ARCHIVE_PASSWORD_IN_MESSAGE"), "candidate 2")
	    != NULL, "the right one after it opens the zip: %s",
	    detail(&r, "ARCHIVE_PASSWORD_IN_MESSAGE"));
	run_free(&r);
}

/* Patch bytes of a copy of src into dst. */
static unsigned char *
load(const char *file, size_t *len)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return tap_slurp(path, len);
}

static size_t
find_eocd(const unsigned char *d, size_t len)
{
	size_t	i;

	for (i = len - 22 + 1; i-- > 0; )
		if (memcmp(d + i, "PK\005\006", 4) == 0)
			return i;
	bail("no EOCD");
}

static void
t_corrupt(void)
{
	struct run	 r;
	unsigned char	*d;
	size_t		 len, eocd, cd;

	sh("zip -q -0 c.zip setup.exe invoice.pdf");
	d = load("c.zip", &len);
	eocd = find_eocd(d, len);
	cd = d[eocd + 16] | d[eocd + 17] << 8 | d[eocd + 18] << 16;

	/* Truncated central directory. */
	run_init(&r);
	is_int(LW_OK, run_buf(&r, "t.zip", d, cd + 20), "truncated: scans");
	ok(has(&r, "ARCHIVE_CORRUPT", NULL), "truncated CD: ARCHIVE_CORRUPT");
	ok(has(&r, "FILE_EXECUTABLE", "2/t.zip/setup.exe"),
	    "truncated CD: names salvaged from the local headers");
	run_free(&r);

	/* Wrong offset of the central directory. */
	d[eocd + 16] ^= 0x11;
	run_init(&r);
	run_buf(&r, "o.zip", d, len);
	ok(has(&r, "ARCHIVE_CORRUPT", NULL), "wrong CD offset: corrupt");
	d[eocd + 16] ^= 0x11;

	/* Wrong local header offset of the first entry. */
	d[cd + 42] = 0x07;
	run_free(&r);
	run_init(&r);
	run_buf(&r, "l.zip", d, len);
	ok(has(&r, "ARCHIVE_CORRUPT", NULL), "wrong local offset: corrupt");
	dump(&r);
	d[cd + 42] = 0;
	run_free(&r);

	/* Lying sizes: the directory claims a shorter stored entry. */
	d[cd + 20] = 10;
	d[cd + 21] = 0;
	d[cd + 24] = 10;
	d[cd + 25] = 0;
	run_init(&r);
	run_buf(&r, "s.zip", d, len);
	ok(has(&r, "ARCHIVE_CORRUPT", NULL), "lying sizes: corrupt");
	dump(&r);
	run_free(&r);
	free(d);

	/* A deflated entry with a lying (huge) size and a wrong CRC. */
	sh("zip -q -9 big.zip invoice.pdf");
	d = load("big.zip", &len);
	eocd = find_eocd(d, len);
	cd = d[eocd + 16] | d[eocd + 17] << 8 | d[eocd + 18] << 16;
	d[cd + 24 + 3] = 0x7f;		/* usize ~2 GiB */
	d[cd + 16] ^= 0xff;		/* CRC */
	run_init(&r);
	run_buf(&r, "h.zip", d, len);
	ok(has(&r, "ARCHIVE_CORRUPT", NULL) && !has(&r, "ARCHIVE_LIMIT", NULL),
	    "a lying size is not believed; the CRC error is corruption");
	dump(&r);
	run_free(&r);
	free(d);

	/* Garbage after a zip signature. */
	run_init(&r);
	run_buf(&r, "g.zip", (const unsigned char *)"PK\003\004garbage", 11);
	ok(has(&r, "ARCHIVE_CORRUPT", NULL), "garbage: corrupt");
	run_free(&r);
}

/* A stored entry and n directory records that all point at it. */
static unsigned char *
overlap_zip(unsigned n, size_t *len)
{
	static const char	 data[] = "overlapping data";
	unsigned char		*z, *p;
	size_t			 dl = sizeof(data) - 1, i, cdoff;
	char			 name[8];

	*len = 30 + 5 + dl + n * (46 + 5) + 22;
	if ((z = calloc(1, *len)) == NULL)
		bail("ENOMEM");
	p = z;
	memcpy(p, "PK\003\004\024\0", 6);
	p[14] = 0;				/* CRC left 0: never read */
	p[18] = (unsigned char)dl;
	p[22] = (unsigned char)dl;
	p[26] = 5;
	memcpy(p + 30, "a.txt", 5);
	memcpy(p + 35, data, dl);
	cdoff = 35 + dl;
	p = z + cdoff;
	for (i = 0; i < n; i++, p += 51) {
		memcpy(p, "PK\001\002\024\0\024\0", 8);
		p[20] = (unsigned char)dl;
		p[24] = (unsigned char)dl;
		p[28] = 5;
		snprintf(name, sizeof(name), "f%04zu", i);
		memcpy(p + 46, name, 5);
	}
	memcpy(p, "PK\005\006", 4);
	p[8] = p[10] = (unsigned char)n;
	p[12] = (unsigned char)((n * 51) & 0xff);
	p[13] = (unsigned char)((n * 51) >> 8);
	p[16] = (unsigned char)cdoff;
	return z;
}

static void
t_limits(void)
{
	struct run	 r;
	unsigned char	*d;
	size_t		 len;

	sh("zip -q five.zip invoice.pdf run.js setup.exe notes.txt stub.dat");
	run_init(&r);
	r.lim.archive_entries = 3;
	run_file(&r, "five.zip");
	ok(has(&r, "ARCHIVE_LIMIT", NULL) &&
	    strncmp(detail(&r, "ARCHIVE_LIMIT"), "archive_entries", 15) == 0,
	    "entries limit named: %s", detail(&r, "ARCHIVE_LIMIT"));
	run_free(&r);

	sh("zip -q l1.zip setup.exe && zip -q l2.zip l1.zip && "
	    "zip -q l3.zip l2.zip");
	run_init(&r);
	r.lim.archive_depth = 2;
	run_file(&r, "l3.zip");
	ok(has(&r, "ARCHIVE_LIMIT", "2/l3.zip/l2.zip/l1.zip") &&
	    strncmp(detail(&r, "ARCHIVE_LIMIT"), "archive_depth", 13) == 0,
	    "depth limit at the third level: %s", detail(&r, "ARCHIVE_LIMIT"));
	ok(!has(&r, "FILE_EXECUTABLE", NULL), "nothing read past the depth");
	dump(&r);
	run_free(&r);

	sh("head -c 4194304 /dev/zero > zeros.bin && zip -q z4.zip zeros.bin");
	run_init(&r);
	run_file(&r, "z4.zip");
	ok(strncmp(detail(&r, "ARCHIVE_ENTRY_CUT"), "archive_ratio", 13) == 0,
	    "4 MiB of zeros: ratio limit: %s", detail(&r, "ARCHIVE_ENTRY_CUT"));
	ok(r.ctx.inflated < (3U << 20), "stopped early: %llu bytes",
	    (unsigned long long)r.ctx.inflated);
	run_free(&r);

	run_init(&r);
	r.lim.archive_ratio = 100000;
	r.lim.archive_entry_bytes = 2U << 20;
	run_file(&r, "z4.zip");
	ok(strncmp(detail(&r, "ARCHIVE_ENTRY_CUT"), "archive_entry_bytes", 19) ==
	    0, "entry bytes limit: %s", detail(&r, "ARCHIVE_ENTRY_CUT"));
	ok(r.ctx.inflated <= (2U << 20) + 4096, "entry stopped at 2 MiB");
	run_free(&r);

	run_init(&r);
	r.lim.archive_ratio = 100000;
	r.lim.archive_total_bytes = 1U << 20;
	run_file(&r, "z4.zip");
	ok(strncmp(detail(&r, "ARCHIVE_LIMIT"), "archive_total_bytes", 19) ==
	    0, "total bytes limit: %s", detail(&r, "ARCHIVE_LIMIT"));
	ok(r.ctx.inflated <= 1U << 20, "message budget kept");
	run_free(&r);

	d = overlap_zip(200, &len);
	run_init(&r);
	run_buf(&r, "ov.zip", d, len);
	ok(has(&r, "ARCHIVE_LIMIT", NULL) &&
	    strncmp(detail(&r, "ARCHIVE_LIMIT"), "archive_overlap", 15) == 0,
	    "overlapping entries refused: %s", detail(&r, "ARCHIVE_LIMIT"));
	is_int(0, (long long)r.ctx.inflated, "nothing inflated");
	run_free(&r);
	free(d);

	run_init(&r);
	r.ctx.deadline_ms = 1;
	run_file(&r, "five.zip");
	ok(has(&r, "SCAN_TIMEOUT", "") && r.ctx.timed_out,
	    "a spent budget ends the scan with SCAN_TIMEOUT");
	run_free(&r);
}

static int
driver(int argc, char **argv)
{
	struct run	 r;
	unsigned char	*d;
	size_t		 len, i;
	enum lw_err	 e;
	int		 k;

	run_init(&r);
	for (k = 3; k < argc; k++)
		run_pw(&r, argv[k]);
	d = tap_slurp(argv[2], &len);
	e = run_buf(&r, strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 :
	    argv[2], d, len);
	free(d);
	for (i = 0; i < r.fs.n; i++)
		printf("%s\t%s\t%s\n", r.fs.v[i].rule, r.fs.v[i].part,
		    r.fs.v[i].detail);
	printf("inflated %llu\n", (unsigned long long)r.ctx.inflated);
	run_free(&r);
	filetype_fini();
	return e == LW_OK ? 0 : 2;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "scan") == 0)
		return driver(argc, argv);
	dir = tap_tmpdir("1001-archive");
	fixtures();
	t_plain();
	t_zipcrypto();
	t_zipcrypto_forms();
	t_aes();
	t_unknown();
	t_content();
	t_nested();
	t_lucky();
	t_corrupt();
	t_limits();
	filetype_fini();
	return done_testing();
}
