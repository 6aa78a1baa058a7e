/*
 * filetype.c: what a file really is, and the FILE_* rules.
 *
 * Takes a file's bytes (and its name and declared MIME type for the
 * rules).  Our own signatures decide first, because they must not
 * depend on the magic database's wording: MZ/PE, ELF, Mach-O, LNK,
 * OLE2 (libmagic then says MSI or not, if the MSI class id is in it), zip (OOXML / ODF / plain by the
 * central directory's names), RTF, ISO 9660/UDF, VHD, VHDX, FAT images
 * (fatimg_sniff), OneNote, PDF, gzip, RAR, 7z; then filetype_fast.c:
 * PNG, JPEG, GIF, plain prose.  libmagic classifies the rest (and MSI
 * among OLE2 files); text is then searched for script markers.
 *
 * Bounds: libmagic sees at most FT_MAGIC_BYTES (the whole OLE2 file up
 * to FT_OLE_BYTES, which it needs to find the MSI class id), and its
 * MAGIC_PARAM_* recursion and count limits are lowered.  Cookies live in
 * a small pool (mutex + condvar) because a cookie is not thread-safe
 * and magic_load is slow.  The compiled database (magic.mgc, 8 MB) is
 * mapped once and every cookie loads it from that mapping
 * (magic_load_buffers): magic_load would give each cookie its own copy.
 * A database that is not all compiled files (a text /etc/magic with
 * rules in it, a directory) falls back to magic_load per cookie.
 *
 * libmagic answers one question per call and each costs a pass over
 * the file: the MIME type is asked for only when it decides the kind
 * or FILE_TYPE_MISMATCH quotes it, the description when it can change
 * the kind (OLE2: an MSI whose MIME type names its authoring tool; a
 * MIME type that does not settle the kind) or a FILE_* finding quotes
 * it.
 *
 * FILE_TYPE_MISMATCH compares families, not exact types: pdf, office
 * (OLE2, OOXML, ODF and RTF: Word and Excel open each other's formats
 * under any of their extensions, and the Office analyzers judge macros
 * whatever the name), zip, image, text, executable.  It fires only when
 * both the name (or, without a known extension, the declared type) and
 * the content give a family and they differ: an OLE2 workbook named
 * .pdf, a PE named .jpg, a zip named .docx.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <magic.h>

#include "lurewall.h"
#include "archive.h"
#include "extref.h"
#include "fatimg.h"
#include "filetype.h"
#include "filetype_int.h"
#include "html_behaviour.h"
#include "analyzer.h"

#define FT_MAGIC_BYTES	(1U << 20)
#define FT_OLE_BYTES	(8U << 20)
#define FT_POOL_MAX	64
#define FT_DB_MAX	4		/* files in the magic path */

static pthread_mutex_t	 pool_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 pool_cv = PTHREAD_COND_INITIALIZER;
static magic_t		 pool_all[FT_POOL_MAX];
static magic_t		 pool_free[FT_POOL_MAX];
static unsigned		 pool_size, pool_nfree;
static bool		 pool_ready;

/* The compiled database, mapped once for every cookie (db_n == 0: none). */
static void		*db_buf[FT_DB_MAX];
static size_t		 db_len[FT_DB_MAX];
static size_t		 db_n;

static void
db_unmap(void)
{
	while (db_n > 0) {
		db_n--;
		munmap(db_buf[db_n], db_len[db_n]);
	}
}

/* A text magic file holding nothing but comments and blank lines. */
static bool
db_text_empty(int fd)
{
	char	 buf[4096];
	ssize_t	 r, i;
	bool	 bol = true, comment = false;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++) {
			if (buf[i] == '\n') {
				bol = true;
				comment = false;
				continue;
			}
			if (bol && buf[i] == '#')
				comment = true;
			else if (!comment && buf[i] != ' ' && buf[i] != '\t' &&
			    buf[i] != '\r')
				return false;
			bol = false;
		}
	return r == 0;
}

/*
 * Map each file of libmagic's default path (magic_getpath: MAGIC, else
 * /etc/magic:/usr/share/misc/magic), taking NAME.mgc before NAME as
 * magic_load does.  Text files that hold only comments (Debian's
 * /etc/magic) add nothing and are skipped; anything else a compiled
 * buffer cannot stand for makes us return false, and the caller falls
 * back to magic_load.  MAP_PRIVATE and writable: libmagic byte-swaps a
 * foreign-endian file in place, which must not reach the file.
 */
static bool
db_map(void)
{
	const char	*path;
	char		*list, *name, *save, file[PATH_MAX];
	struct stat	 st;
	void		*p;
	int		 fd;
	bool		 ok = true;

	if ((path = magic_getpath(NULL, 0)) == NULL ||
	    (list = strdup(path)) == NULL)
		return false;
	for (name = strtok_r(list, ":", &save); name != NULL && ok;
	    name = strtok_r(NULL, ":", &save)) {
		fd = -1;
		if ((size_t)snprintf(file, sizeof(file), "%s.mgc", name) <
		    sizeof(file))
			fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd == -1 && (fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
			if (errno != ENOENT)
				ok = false;
			continue;
		}
		p = MAP_FAILED;
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_size < 8 || db_n == FT_DB_MAX)
			ok = false;
		else if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ |
		    PROT_WRITE, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
			ok = false;
		/* A compiled file starts with 0xF11E041C in its byte order. */
		else if (memcmp(p, "\x1c\x04\x1e\xf1", 4) != 0 &&
		    memcmp(p, "\xf1\x1e\x04\x1c", 4) != 0) {
			munmap(p, (size_t)st.st_size);
			p = MAP_FAILED;
			if (lseek(fd, 0, SEEK_SET) != 0 || !db_text_empty(fd))
				ok = false;
		}
		if (p != MAP_FAILED) {
			db_buf[db_n] = p;
			db_len[db_n++] = (size_t)st.st_size;
		}
		close(fd);
	}
	free(list);
	if (!ok || db_n == 0) {
		db_unmap();
		return false;
	}
	return true;
}

/* Lower than libmagic's defaults: hostile files come here. */
static const struct {
	int	 param;
	size_t	 value;
} magic_params[] = {
	{ MAGIC_PARAM_INDIR_MAX, 15 }, { MAGIC_PARAM_NAME_MAX, 30 },
	{ MAGIC_PARAM_ELF_PHNUM_MAX, 256 }, { MAGIC_PARAM_ELF_SHNUM_MAX, 1024 },
	{ MAGIC_PARAM_ELF_NOTES_MAX, 64 }, { MAGIC_PARAM_REGEX_MAX, 4096 },
	{ MAGIC_PARAM_BYTES_MAX, FT_OLE_BYTES },
	{ MAGIC_PARAM_ENCODING_MAX, 65536 }
};

static magic_t
cookie_new(void)
{
	magic_t	m;
	size_t	i;
	int	rc;

	m = magic_open(MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR |
	    MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON);
	if (m == NULL)
		return NULL;
	if (db_n > 0)
		rc = magic_load_buffers(m, db_buf, db_len, db_n);
	else
		rc = magic_load(m, NULL);
	if (rc != 0) {
		magic_close(m);
		return NULL;
	}
	for (i = 0; i < sizeof(magic_params) / sizeof(magic_params[0]); i++)
		(void)magic_setparam(m, magic_params[i].param,
		    &magic_params[i].value);
	return m;
}

static enum lw_err
pool_init_locked(unsigned n)
{
	unsigned	i;

	if (pool_ready)
		return LW_OK;
	if (n == 0)
		n = 4;
	if (n > FT_POOL_MAX)
		n = FT_POOL_MAX;
	(void)db_map();
	for (i = 0; i < n; i++) {
		if ((pool_all[i] = cookie_new()) == NULL) {
			while (i-- > 0)
				magic_close(pool_all[i]);
			db_unmap();
			return LW_EINTERNAL;
		}
		pool_free[i] = pool_all[i];
	}
	pool_size = pool_nfree = n;
	pool_ready = true;
	return LW_OK;
}

/*
 * Load pool_size cookies (0: 4).  Calling it again is a no-op; the
 * first filetype_detect calls it when nobody did.
 */
enum lw_err
filetype_init(unsigned n)
{
	enum lw_err	e;

	pthread_mutex_lock(&pool_mtx);
	e = pool_init_locked(n);
	pthread_mutex_unlock(&pool_mtx);
	return e;
}

/* Only when no detect call is running (daemon exit, tests). */
void
filetype_fini(void)
{
	unsigned	i;

	pthread_mutex_lock(&pool_mtx);
	for (i = 0; pool_ready && i < pool_size; i++)
		magic_close(pool_all[i]);
	/* The cookies pointed into the mapping: only now can it go. */
	db_unmap();
	pool_ready = false;
	pool_size = pool_nfree = 0;
	pthread_mutex_unlock(&pool_mtx);
}

static magic_t
cookie_get(void)
{
	magic_t	m;

	pthread_mutex_lock(&pool_mtx);
	if (pool_init_locked(0) != LW_OK) {
		pthread_mutex_unlock(&pool_mtx);
		return NULL;
	}
	while (pool_nfree == 0)
		pthread_cond_wait(&pool_cv, &pool_mtx);
	m = pool_free[--pool_nfree];
	pthread_mutex_unlock(&pool_mtx);
	return m;
}

static void
cookie_put(magic_t m)
{
	pthread_mutex_lock(&pool_mtx);
	pool_free[pool_nfree++] = m;
	pthread_cond_signal(&pool_cv);
	pthread_mutex_unlock(&pool_mtx);
}

static bool
has_at(const unsigned char *d, size_t len, size_t off, const void *sig,
    size_t n)
{
	return off <= len && n <= len - off && memcmp(d + off, sig, n) == 0;
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Case-insensitive search of an ASCII needle in the first max bytes. */
static bool
contains_ci(const unsigned char *d, size_t len, size_t max,
    const char *needle)
{
	return lw_memmem_ci(d, len > max ? max : len, needle) != NULL;
}

/*
 * Markers of Windows Script Host, HTA, PowerShell and batch files: text
 * that Windows runs.  In an HTML page only the markers that no web page
 * needs count (jQuery 1.x calls ActiveXObject; any page has <script>).
 */
static bool
windows_script(const unsigned char *d, size_t len, bool html)
{
	static const char *const markers[] = {
		"#@~^",			/* encoded VBE/JSE */
		"<hta:application",
		"wscript.shell",
		"shell.application",
		"wscript.",
		"activexobject(",
		"createobject(",
		"<job",			/* WSF */
		"<package>",
		"powershell",
		"invoke-expression",
		"frombase64string(",
		"<script",
	};
	size_t	i, k = 0, n = html ? 4 : sizeof(markers) / sizeof(markers[0]);

	while (k < len && k < 4 && (d[k] == 0xef || d[k] == 0xbb ||
	    d[k] == 0xbf))
		k++;	/* UTF-8 BOM */
	if (!html && contains_ci(d + k, len - k, 16, "@echo off"))
		return true;
	for (i = 0; i < n; i++)
		if (contains_ci(d, len, 65536, markers[i]))
			return true;
	return false;
}

/* A #! first line: a Unix script (sh, perl, csh, python, ...). */
static bool
shebang(const unsigned char *d, size_t len)
{
	size_t	k = 0;

	while (k < len && k < 3 && (d[k] == 0xef || d[k] == 0xbb ||
	    d[k] == 0xbf))
		k++;
	return has_at(d, len, k, "#!", 2);
}

/*
 * The value of the first "key=" line (case-insensitive) in an INI-like
 * text, cut to outsz.
 */
static bool
ini_value(const unsigned char *d, size_t len, const char *key, char *out,
    size_t outsz)
{
	size_t	 i, k, o, n = strlen(key);

	for (i = 0; i < len && i < 65536; i++) {
		if (i > 0 && d[i - 1] != '\n')
			continue;
		if (len - i < n || strncasecmp((const char *)d + i, key, n) != 0)
			continue;
		for (k = i + n, o = 0; k < len && d[k] != '\r' && d[k] != '\n' &&
		    o + 1 < outsz; k++)
			out[o++] = (char)d[k];
		out[o] = '\0';
		return true;
	}
	return false;
}

/*
 * Text files that launch something when opened: an Internet shortcut
 * to a file:, UNC or script URL (or with a remote icon: the NTLM leak),
 * a library or search connector that mounts a remote folder, a saved
 * search, an Excel web query.  An .url to an https page is a bookmark.
 */
static bool
launcher(const unsigned char *d, size_t len, char *why, size_t whysz)
{
	char		 v[512], host[EXTREF_HOST_MAX];
	const char	*form;

	if (contains_ci(d, len, 4096, "[internetshortcut]")) {
		if (ini_value(d, len, "URL=", v, sizeof(v))) {
			if (strncasecmp(v, "javascript:", 11) == 0 ||
			    strncasecmp(v, "vbscript:", 9) == 0) {
				snprintf(why, whysz, "Internet shortcut to "
				    "script");
				return true;
			}
			if ((form = extref_remote(v, host, sizeof(host))) !=
			    NULL && strcmp(form, "http(s)") != 0) {
				snprintf(why, whysz, "Internet shortcut to a "
				    "%s target", form);
				return true;
			}
		}
		if (ini_value(d, len, "IconFile=", v, sizeof(v)) &&
		    (form = extref_remote(v, host, sizeof(host))) != NULL &&
		    strcmp(form, "http(s)") != 0) {
			snprintf(why, whysz, "Internet shortcut with a %s icon",
			    form);
			return true;
		}
		return false;
	}
	if (contains_ci(d, len, 4096, "<librarydescription")) {
		snprintf(why, whysz, "Windows library (.library-ms)");
		return true;
	}
	if (contains_ci(d, len, 4096, "<searchconnectordescription")) {
		snprintf(why, whysz, "search connector (.searchConnector-ms)");
		return true;
	}
	if (contains_ci(d, len, 4096, "<persistedquery")) {
		snprintf(why, whysz, "saved search (.search-ms)");
		return true;
	}
	if ((has_at(d, len, 0, "WEB\r\n", 5) || has_at(d, len, 0, "WEB\n",
	    4)) && (contains_ci(d, len, 1024, "http://") ||
	    contains_ci(d, len, 1024, "https://") ||
	    contains_ci(d, len, 1024, "\\\\"))) {
		snprintf(why, whysz, "Excel web query (.iqy)");
		return true;
	}
	return false;
}

static enum ft_kind
kind_from_sig(const unsigned char *d, size_t len, bool *zip)
{
	static const unsigned char lnk[] = {
		0x4c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x46 };
	static const unsigned char ole[] = {
		0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	static const unsigned char one[] = {
		0xe4, 0x52, 0x5c, 0x7b, 0x8c, 0xd8, 0xa7, 0x4d,
		0xae, 0xb1, 0x53, 0x78, 0xd0, 0x29, 0x96, 0xd3 };
	static const unsigned char macho[][4] = {
		{ 0xfe, 0xed, 0xfa, 0xce }, { 0xfe, 0xed, 0xfa, 0xcf },
		{ 0xce, 0xfa, 0xed, 0xfe }, { 0xcf, 0xfa, 0xed, 0xfe } };
	size_t	i;

	*zip = false;
	if (has_at(d, len, 0, "MZ", 2) && len >= 64)
		return FT_PE;
	if (has_at(d, len, 0, "\177ELF", 4))
		return FT_ELF;
	for (i = 0; i < 4; i++)
		if (has_at(d, len, 0, macho[i], 4))
			return FT_MACHO;
	/* Universal binary; Java classes share the magic, not the count. */
	if (has_at(d, len, 0, "\xca\xfe\xba\xbe", 4) && len >= 8 &&
	    d[4] == 0 && d[5] == 0 && d[6] == 0 && d[7] > 0 && d[7] < 20)
		return FT_MACHO;
	if (has_at(d, len, 0, lnk, sizeof(lnk)))
		return FT_LNK;
	if (has_at(d, len, 0, ole, sizeof(ole)))
		return FT_OLE2;
	if (has_at(d, len, 0, one, sizeof(one)))
		return FT_ONENOTE;
	if (has_at(d, len, 0, "PK\003\004", 4) ||
	    has_at(d, len, 0, "PK\005\006", 4) ||
	    has_at(d, len, 0, "PK\007\010PK\003\004", 8)) {
		*zip = true;
		return FT_ZIP;
	}
	if (has_at(d, len, 0, "ITSF", 4) && has_at(d, len, 4, "\3\0\0\0", 4))
		return FT_CHM;
	if (has_at(d, len, 0, "{\\rt", 4))	/* Word accepts {\rt */
		return FT_RTF;
	if (has_at(d, len, 0x8001, "CD001", 5) ||
	    has_at(d, len, 0x8801, "CD001", 5) ||
	    has_at(d, len, 0x9001, "CD001", 5) ||
	    has_at(d, len, 0x8001, "BEA01", 5))
		return FT_DISK_IMAGE;
	if (has_at(d, len, 0, "conectix", 8) ||
	    (len >= 512 && has_at(d, len, len - 512, "conectix", 8)) ||
	    has_at(d, len, 0, "vhdxfile", 8) ||
	    (len >= 512 && has_at(d, len, len - 512, "koly", 4)))
		return FT_DISK_IMAGE;
	if (fatimg_sniff(d, len))
		return FT_DISK_IMAGE;
	if (has_at(d, len, 0, "\x1f\x8b", 2))
		return FT_GZIP;
	if (has_at(d, len, 0, "Rar!\x1a\x07", 6))
		return FT_RAR;
	if (has_at(d, len, 0, "7z\xbc\xaf\x27\x1c", 6))
		return FT_7Z;
	if (contains_ci(d, len, 1024, "%pdf-"))
		return FT_PDF;
	return FT_UNKNOWN;
}

/* libmagic MIME types that name a kind outright. */
static const struct {
	const char	*mime;
	enum ft_kind	 kind;
} mime_kinds[] = {
	{ "text/html", FT_HTML }, { "application/xhtml+xml", FT_HTML },
	{ "image/svg+xml", FT_SVG }, { "image/svg", FT_SVG },
	/* Text libmagic calls JavaScript is script content. */
	{ "application/javascript", FT_SCRIPT },
	{ "text/javascript", FT_SCRIPT },
	{ "application/x-javascript", FT_SCRIPT },
	{ "text/x-javascript", FT_SCRIPT },
	{ "application/pdf", FT_PDF }, { "application/x-msi", FT_MSI },
	{ "application/x-dosexec", FT_PE },
	{ "application/vnd.microsoft.portable-executable", FT_PE },
	{ "application/x-executable", FT_ELF },
	{ "application/x-sharedlib", FT_ELF },
	{ "application/x-pie-executable", FT_ELF },
	{ "application/x-mach-binary", FT_MACHO },
	{ "application/x-ms-shortcut", FT_LNK },
	{ "application/x-iso9660-image", FT_DISK_IMAGE },
	{ "application/json", FT_TEXT }, { "application/csv", FT_TEXT }
};

static enum ft_kind
kind_from_mime(const char *mime, const char *desc)
{
	size_t	i;

	if (starts_with(mime, "text/rtf"))
		return FT_RTF;
	for (i = 0; i < sizeof(mime_kinds) / sizeof(mime_kinds[0]); i++)
		if (strcmp(mime, mime_kinds[i].mime) == 0)
			return mime_kinds[i].kind;
	if (starts_with(mime, "text/"))
		return FT_TEXT;
	if (starts_with(mime, "image/"))
		return FT_IMAGE;
	/* Only libmagic's compound-file (OLE2) rules say this. */
	if (strstr(desc, "MSI Installer") != NULL)
		return FT_MSI;
	return FT_OTHER;
}

static void
copy_cut(char *dst, size_t dstlen, const char *src)
{
	char	*s;

	if (src == NULL)
		src = "";
	/* libmagic quotes bits of the file: keep them printable. */
	if ((s = lw_sanitize(src, strlen(src), dstlen - 4)) == NULL) {
		dst[0] = '\0';
		return;
	}
	strncpy(dst, s, dstlen - 1);
	dst[dstlen - 1] = '\0';
	free(s);
}

/* The kinds whose FILE_* finding quotes the description. */
static bool
kind_quotes_desc(enum ft_kind k)
{
	return k == FT_PE || k == FT_ELF || k == FT_MACHO || k == FT_MSI ||
	    k == FT_SCRIPT || k == FT_LNK || k == FT_DISK_IMAGE ||
	    k == FT_ONENOTE || k == FT_CHM || k == FT_UNIX_SCRIPT;
}

static void
magic_desc(magic_t m, const unsigned char *data, size_t mlen,
    struct ft_result *r)
{
	const char	*s;

	(void)magic_setflags(m, MAGIC_NO_CHECK_COMPRESS |
	    MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON);
	s = magic_buffer(m, data, mlen);
	copy_cut(r->desc, sizeof(r->desc), s != NULL ? s : "data");
}

static void
magic_mime(magic_t m, const unsigned char *d, size_t n, char *o, size_t ol)
{
	const char	*s;

	(void)magic_setflags(m, MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS |
	    MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON);
	s = magic_buffer(m, d, n);
	copy_cut(o, ol, s != NULL ? s : "application/octet-stream");
}

/*
 * Fill r for data.  Returns LW_OK, or LW_EINTERNAL when libmagic cannot
 * be loaded (then r still has our own signature's answer).  r->desc is
 * empty unless it could decide the kind or a finding quotes it (see
 * the top of the file); r->mime unless libmagic decided the kind.
 */
enum lw_err
filetype_detect_how(const unsigned char *data, size_t len,
    struct ft_result *r, bool fast)
{
	struct zip_peek	 zp;
	magic_t		 m;
	size_t		 mlen;
	bool		 zip, got_desc = false;
	enum ft_kind	 mk;
	enum lw_err	 e = LW_OK;

	memset(r, 0, sizeof(*r));
	r->kind = kind_from_sig(data, len, &zip);
	if (zip) {
		if (archive_peek(data, len, 65536, false, &zp) == LW_OK) {
			if (zp.content_types)
				r->kind = FT_OOXML;
			else if (zp.mimetype)
				r->kind = FT_ODF;
		}
	}
	if (len == 0) {
		copy_cut(r->mime, sizeof(r->mime), "application/x-empty");
		copy_cut(r->desc, sizeof(r->desc), "empty");
		return LW_OK;
	}
	mlen = len;
	if (mlen > (r->kind == FT_OLE2 ? FT_OLE_BYTES : FT_MAGIC_BYTES))
		mlen = r->kind == FT_OLE2 ? FT_OLE_BYTES : FT_MAGIC_BYTES;
	r->data = data;
	r->mlen = mlen;
	if (fast && r->kind == FT_UNKNOWN)
		r->kind = filetype_fast(data, mlen);
	/* Only OLE2 that may be MSI and unknown content need libmagic. */
	if (fast && r->kind != FT_UNKNOWN && (r->kind != FT_OLE2 ||
	    !filetype_ole2_may_be_msi(data, mlen)))
		m = NULL;	/* settled without it */
	else if ((m = cookie_get()) == NULL) {
		e = LW_EINTERNAL;
		got_desc = true;	/* nothing to ask */
	} else {
		magic_mime(m, data, mlen, r->mime, sizeof(r->mime));
		/*
		 * The description matters to the kind only through "MSI
		 * Installer", which kind_from_mime checks after text,
		 * image and PDF types: for OLE2, and for unknown content
		 * whose MIME type is none of those.
		 */
		mk = kind_from_mime(r->mime, "");
		if (r->kind == FT_OLE2 || (r->kind == FT_UNKNOWN &&
		    mk != FT_TEXT && mk != FT_RTF && mk != FT_IMAGE &&
		    mk != FT_PDF && mk != FT_MSI && mk != FT_HTML &&
		    mk != FT_SVG && mk != FT_SCRIPT)) {
			magic_desc(m, data, mlen, r);
			got_desc = true;
		}
	}
	if (r->kind == FT_OLE2 && kind_from_mime(r->mime, r->desc) == FT_MSI)
		r->kind = FT_MSI;
	if (r->kind == FT_UNKNOWN)
		r->kind = kind_from_mime(r->mime, r->desc);
	if ((r->kind == FT_TEXT || r->kind == FT_OTHER) &&
	    has_at(data, len, 0, "ID;", 3) && (has_at(data, len, 3, "P", 1) ||
	    has_at(data, len, 3, "N", 1)))
		r->kind = FT_SYLK;
	else if ((r->kind == FT_TEXT || r->kind == FT_OTHER) &&
	    launcher(data, len, r->why, sizeof(r->why)))
		r->kind = FT_LAUNCHER;
	else if ((r->kind == FT_TEXT || r->kind == FT_HTML) &&
	    windows_script(data, len, r->kind == FT_HTML))
		r->kind = FT_SCRIPT;
	else if (r->kind == FT_TEXT && shebang(data, len))
		r->kind = FT_UNIX_SCRIPT;
	/* A page is judged by what it does, not by having a script. */
	if (r->kind == FT_HTML || r->kind == FT_SVG)
		r->html = (enum ft_html)html_behaviour(data, len,
		    r->kind == FT_SVG ? HB_SVG : HB_HTML, r->why,
		    sizeof(r->why));
	else if (r->kind == FT_SCRIPT || r->kind == FT_TEXT) {
		/* Script text that smuggles; a text naming a handler is not. */
		r->html = (enum ft_html)html_behaviour(data, len, HB_TEXT,
		    r->why, sizeof(r->why));
		if (r->html != FT_HTML_LURE)
			r->html = FT_HTML_NONE;
	}
	if (!got_desc && kind_quotes_desc(r->kind) && (m != NULL ||
	    (m = cookie_get()) != NULL))
		magic_desc(m, data, mlen, r);
	if (m != NULL)
		cookie_put(m);
	return e;
}

enum lw_err
filetype_detect(const unsigned char *data, size_t len, struct ft_result *r)
{
	return filetype_detect_how(data, len, r, true);
}

/* r->mime, asked of libmagic now if the kind did not need it. */
static const char *
mime_of(const struct ft_result *r, char *buf, size_t buflen)
{
	magic_t	m;

	if (r->mime[0] != '\0' || r->data == NULL ||
	    (m = cookie_get()) == NULL)
		return r->mime;
	magic_mime(m, r->data, r->mlen, buf, buflen);
	cookie_put(m);
	return buf;
}

const char *
filetype_kind_name(enum ft_kind k)
{
	static const char *const names[] = {
		[FT_UNKNOWN] = "unknown", [FT_TEXT] = "text",
		[FT_PDF] = "pdf", [FT_IMAGE] = "image", [FT_ZIP] = "zip",
		[FT_OOXML] = "ooxml", [FT_ODF] = "odf", [FT_OLE2] = "ole2",
		[FT_RTF] = "rtf", [FT_PE] = "pe", [FT_ELF] = "elf",
		[FT_MACHO] = "macho", [FT_MSI] = "msi", [FT_SCRIPT] = "script",
		[FT_LNK] = "lnk", [FT_DISK_IMAGE] = "disk-image",
		[FT_ONENOTE] = "onenote", [FT_GZIP] = "gzip", [FT_RAR] = "rar",
		[FT_7Z] = "7z", [FT_HTML] = "html", [FT_SVG] = "svg",
		[FT_UNIX_SCRIPT] = "unix-script", [FT_CHM] = "chm",
		[FT_LAUNCHER] = "launcher", [FT_SYLK] = "sylk",
		[FT_OTHER] = "other",
	};

	if ((unsigned)k >= sizeof(names) / sizeof(names[0]) ||
	    names[k] == NULL)
		return "unknown";
	return names[k];
}

/* Families for FILE_TYPE_MISMATCH (see the top of the file). */
enum ft_family {
	FAM_NONE = 0,
	FAM_PDF,
	FAM_OFFICE,
	FAM_ZIP,
	FAM_IMAGE,
	FAM_TEXT,
	FAM_EXEC
};

static const char *const family_names[] = {
	"none", "pdf", "office", "zip", "image", "text", "executable"
};

/*
 * Extensions by family, with the FILE_* rule a name ending in one of
 * them makes by itself (NULL: none): lowercase ASCII words, one space
 * apart, each in one list only.
 */
struct ext_rule {
	enum ft_family	 fam;
	const char	*rule;
	const char	*exts;
};

static const struct ext_rule ext_rules[] = {
	{ FAM_PDF, NULL, "pdf" },
	{ FAM_OFFICE, NULL, "doc dot docx docm dotx dotm xls xlt xla xlsx "
	    "xlsm xlsb xltx xltm xlam ppt pps pot pptx pptm ppsx ppsm potx "
	    "potm rtf odt ods odp slk" },
	{ FAM_ZIP, NULL, "zip" },
	{ FAM_IMAGE, NULL, "jpg jpeg png gif bmp tif tiff webp" },
	{ FAM_TEXT, NULL, "txt csv iqy" },
	{ FAM_EXEC, "FILE_EXECUTABLE", "exe dll com msi msp cpl pif xll" },
	{ FAM_NONE, "FILE_EXECUTABLE", "jar msix msixbundle appx appxbundle "
	    "appinstaller" },
	{ FAM_EXEC, "FILE_SCRIPT", "scr chm" },
	{ FAM_NONE, "FILE_SCRIPT", "js jse vbs vbe vb wsf wsh wsc sct hta ps1 "
	    "psm1 bat cmd" },
	{ FAM_NONE, "FILE_SHORTCUT", "lnk appref-ms library-ms "
	    "searchconnector-ms search-ms settingcontent-ms" },
	{ FAM_NONE, "FILE_DISK_IMAGE", "iso img vhd vhdx udf" },
	{ FAM_NONE, "FILE_ONENOTE", "one onepkg" }
};

/* Extensions that look harmless in front of a dangerous one. */
static const char *const decoy_exts[] = {
	"pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "xlsb", "ppt",
	"pptx", "rtf", "txt", "csv", "jpg", "jpeg", "png", "gif", "bmp",
	"tif", "tiff", "zip", "rar", "7z", "htm", "html", "odt", "ods",
	"mp3", "mp4", "avi", "wav", "eml", "msg", "xml", "json",
};

/* The rule whose list holds ext as a whole word, or NULL. */
static const struct ext_rule *
ext_lookup(const char *ext)
{
	const char	*l, *p;
	size_t		 i, n = strlen(ext);

	if (n == 0 || strchr(ext, ' ') != NULL)
		return NULL;
	for (i = 0; i < sizeof(ext_rules) / sizeof(ext_rules[0]); i++) {
		l = ext_rules[i].exts;
		/* A word holds no space: no match starts inside a miss. */
		for (p = l; (p = strstr(p, ext)) != NULL; p += n)
			if ((p == l || p[-1] == ' ') &&
			    (p[n] == ' ' || p[n] == '\0'))
				return &ext_rules[i];
	}
	return NULL;
}

static bool
is_decoy(const char *ext)
{
	size_t	i;

	for (i = 0; i < sizeof(decoy_exts) / sizeof(decoy_exts[0]); i++)
		if (strcmp(decoy_exts[i], ext) == 0)
			return true;
	return false;
}

/* Whitespace Windows strips or users cannot see: ASCII, NBSP, U+3000. */
static size_t
space_len(const char *s, size_t left)
{
	const unsigned char *p = (const unsigned char *)s;

	if (left >= 1 && (p[0] == ' ' || p[0] == '\t'))
		return 1;
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (left >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	return 0;
}

/* Bidi embedding/override/isolate controls U+202A..202E, U+2066..2069. */
static bool
has_bidi(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		if (p[0] == 0xe2 && p[1] != '\0' && p[2] != '\0' &&
		    ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
		    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
			return true;
	return false;
}

struct name_info {
	char	 base[256];	/* last path component, trailing dots and
				   spaces removed (Windows does the same) */
	char	 ext[24];	/* last extension, lowercase, or "" */
	char	 prev[16];	/* the one before it, or "" */
	size_t	 pad;		/* whitespace chars just before the last dot */
};

static void
ext_copy(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t	i;

	if (n >= dstlen) {
		dst[0] = '\0';
		return;
	}
	for (i = 0; i < n; i++)
		dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i];
	dst[n] = '\0';
}

static void
name_parse(const char *name, struct name_info *ni)
{
	const char	*b, *dot, *pdot;
	size_t		 n, k;

	memset(ni, 0, sizeof(*ni));
	if ((b = strrchr(name, '/')) != NULL)
		name = b + 1;
	if ((b = strrchr(name, '\\')) != NULL)
		name = b + 1;
	n = strlen(name);
	if (n >= sizeof(ni->base))
		n = sizeof(ni->base) - 1;
	memcpy(ni->base, name, n);
	ni->base[n] = '\0';
	while (n > 0 && (ni->base[n - 1] == ' ' || ni->base[n - 1] == '.' ||
	    ni->base[n - 1] == '\t'))
		ni->base[--n] = '\0';
	if ((dot = strrchr(ni->base, '.')) == NULL)
		return;
	ext_copy(ni->ext, sizeof(ni->ext), dot + 1, strlen(dot + 1));
	/* Count padding just before the dot, from the left. */
	for (b = ni->base; b < dot; ) {
		k = space_len(b, (size_t)(dot - b));
		if (k == 0) {
			ni->pad = 0;
			b++;
			while (b < dot && (*b & 0xc0) == 0x80)
				b++;
		} else {
			ni->pad++;
			b += k;
		}
	}
	/* The previous extension, padding skipped. */
	b = dot;
	while (b > ni->base && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	for (pdot = b; pdot > ni->base && pdot[-1] != '.'; pdot--)
		;
	if (pdot > ni->base)
		ext_copy(ni->prev, sizeof(ni->prev), pdot, (size_t)(b - pdot));
}

/*
 * Add rule once per file: a name hit and a content hit of the same rule
 * on one file are one finding.
 */
static void
add_once(struct scan_ctx *ctx, bool *done, const char *rule,
    const char *path, const char *detail)
{
	if (*done)
		return;
	*done = true;
	(void)findings_add(ctx->fs, rule, path, "%s", detail);
}

static void
check_name(struct scan_ctx *ctx, const char *path, const char *name,
    const struct name_info *ni, bool done[6])
{
	const struct ext_rule	*er;
	static const char *const rules[] = { "FILE_EXECUTABLE", "FILE_SCRIPT",
	    "FILE_SHORTCUT", "FILE_DISK_IMAGE", "FILE_ONENOTE" };
	char			 d[400];
	size_t			 i;
	bool			 danger;

	er = ext_lookup(ni->ext);
	danger = er != NULL && er->rule != NULL;
	if (danger)
		for (i = 0; i < 5; i++)
			if (strcmp(er->rule, rules[i]) == 0) {
				snprintf(d, sizeof(d), "name %s (.%s)",
				    ni->base, ni->ext);
				add_once(ctx, &done[i], rules[i], path, d);
			}
	d[0] = '\0';
	if (has_bidi(name))
		snprintf(d, sizeof(d), "%s: bidirectional override in the "
		    "name", ni->base);
	else if (danger && ni->prev[0] != '\0' && is_decoy(ni->prev))
		snprintf(d, sizeof(d), "%s: .%s behind a decoy .%s", ni->base,
		    ni->ext, ni->prev);
	else if (ni->ext[0] != '\0' && ni->pad >= 3)
		snprintf(d, sizeof(d), "%s: padding before .%s", ni->base,
		    ni->ext);
	if (d[0] != '\0')
		add_once(ctx, &done[5], "FILE_DOUBLE_EXTENSION", path, d);
}

void
filetype_check_name(struct scan_ctx *ctx, const char *path,
    const char *name)
{
	struct name_info	ni;
	bool			done[6] = { false };

	if (name == NULL || *name == '\0')
		return;
	name_parse(name, &ni);
	check_name(ctx, path, name, &ni, done);
}

/*
 * An entry no reader could open: the name rules, and ARCHIVE_ENTRY_
 * UNREADABLE when its name says Office or its first bytes (what came
 * out before the failure, may be none) say Office or an executable.
 * Extractors are more lenient than we are: what we cannot read, the
 * user may still open, so it scores as its kind would.
 */
void
filetype_check_unreadable(struct scan_ctx *ctx, const char *path,
    const char *name, const unsigned char *head, size_t n)
{
	const struct ext_rule	*er;
	struct name_info	 ni;
	const char		*why = NULL;

	filetype_check_name(ctx, path, name);
	if (name != NULL) {
		name_parse(name, &ni);
		er = ext_lookup(ni.ext);
		if (er != NULL && er->rule == NULL && er->fam == FAM_OFFICE)
			why = "its name says Office";
	}
	if (why == NULL && head != NULL && n >= 8) {
		if (memcmp(head, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0 ||
		    memcmp(head, "{\\rtf", 5) == 0)
			why = "its first bytes say Office";
		else if (memcmp(head, "MZ", 2) == 0 ||
		    memcmp(head, "\x7f" "ELF", 4) == 0)
			why = "its first bytes say executable";
	}
	if (why != NULL)
		(void)findings_add(ctx->fs, "ARCHIVE_ENTRY_UNREADABLE", path,
		    "cannot be read here, but %s", why);
}

static enum ft_family
family_of_kind(enum ft_kind k)
{
	switch (k) {
	case FT_PDF:
		return FAM_PDF;
	case FT_SYLK:
	case FT_OLE2:
	case FT_OOXML:
	case FT_ODF:
	case FT_RTF:
		return FAM_OFFICE;
	case FT_ZIP:
		return FAM_ZIP;
	case FT_IMAGE:
	case FT_SVG:
		return FAM_IMAGE;
	case FT_TEXT:
	case FT_HTML:
	case FT_UNIX_SCRIPT:
	case FT_LAUNCHER:
		return FAM_TEXT;
	case FT_CHM:
	case FT_PE:
	case FT_ELF:
	case FT_MACHO:
	case FT_MSI:
		return FAM_EXEC;
	default:
		return FAM_NONE;
	}
}

static enum ft_family
family_of_declared(const char *t)
{
	if (t == NULL)
		return FAM_NONE;
	if (lw_strcaseeq(t, "application/pdf"))
		return FAM_PDF;
	if (strncasecmp(t, "application/msword", 18) == 0 ||
	    strncasecmp(t, "application/vnd.ms-", 19) == 0 ||
	    strncasecmp(t, "application/vnd.openxmlformats", 30) == 0)
		return FAM_OFFICE;
	if (strncasecmp(t, "image/", 6) == 0)
		return FAM_IMAGE;
	return FAM_NONE;
}

void
filetype_check(struct scan_ctx *ctx, const char *path, const char *name,
    const char *declared_type, const struct ft_result *ft)
{
	struct name_info	 ni;
	const struct ext_rule	*er;
	enum ft_family		 nf, cf;
	bool			 done[6] = { false };
	const char		*kn = filetype_kind_name(ft->kind);
	char			 d[400];
	int			 idx = -1;

	memset(&ni, 0, sizeof(ni));
	if (name != NULL && *name != '\0')
		name_parse(name, &ni);
	switch (ft->kind) {
	case FT_PE:
	case FT_ELF:
	case FT_MACHO:
	case FT_MSI:
		idx = 0;
		break;
	case FT_SCRIPT:
	case FT_CHM:
		idx = 1;
		break;
	case FT_UNIX_SCRIPT:
		/* Under a name Windows runs it is a script like any other. */
		er = ni.ext[0] != '\0' ? ext_lookup(ni.ext) : NULL;
		if (er != NULL && er->rule != NULL &&
		    strcmp(er->rule, "FILE_SCRIPT") == 0)
			idx = 1;
		else
			(void)findings_add(ctx->fs, "FILE_UNIX_SCRIPT", path,
			    "content is a #! script (%s)", ft->desc);
		break;
	case FT_LNK:
	case FT_LAUNCHER:
		idx = 2;
		break;
	case FT_DISK_IMAGE:
		idx = 3;
		break;
	case FT_ONENOTE:
		idx = 4;
		break;
	default:
		break;
	}
	if (idx >= 0) {
		static const char *const rules[] = { "FILE_EXECUTABLE",
		    "FILE_SCRIPT", "FILE_SHORTCUT", "FILE_DISK_IMAGE",
		    "FILE_ONENOTE" };

		snprintf(d, sizeof(d), "content is %s (%s)", kn,
		    ft->kind == FT_LAUNCHER ? ft->why : ft->desc);
		add_once(ctx, &done[idx], rules[idx], path, d);
	}
	if (ft->html == FT_HTML_LURE)
		(void)findings_add(ctx->fs, "FILE_HTML_SMUGGLING", path,
		    "%s: %s", kn, ft->why);
	else if (ft->html == FT_HTML_SCRIPT && idx < 0)
		(void)findings_add(ctx->fs, "FILE_HTML_SCRIPT", path,
		    "%s: %s", kn, ft->why);
	/* A script or executable name runs as one, whatever it holds. */
	if (name != NULL && *name != '\0')
		check_name(ctx, path, name, &ni, done);

	er = ni.ext[0] != '\0' ? ext_lookup(ni.ext) : NULL;
	nf = er != NULL ? er->fam : FAM_NONE;
	if (nf == FAM_NONE && er == NULL)
		nf = family_of_declared(declared_type);
	cf = family_of_kind(ft->kind);
	/* A text file's "family" is too vague to contradict anything. */
	if (nf != FAM_NONE && cf != FAM_NONE && nf != cf && cf != FAM_TEXT)
		(void)findings_add(ctx->fs, "FILE_TYPE_MISMATCH", path,
		    "named as %s, content is %s (%s)", family_names[nf], kn,
		    mime_of(ft, d, sizeof(d)));
}
