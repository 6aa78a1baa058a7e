/*
 * 2023-office-xls-rc4: BIFF8 workbooks encrypted with RC4 (MD5-based
 * and CryptoAPI) under Excel's default password "VelvetSweatshop" are
 * decrypted and their Excel 4.0 macro sheet is found (no
 * OFFICE_ENCRYPTED: the workbook was opened); another password gives
 * OFFICE_ENCRYPTED only, unless the message's candidates hold it.  The encryption side lives here (RC4 and
 * the key derivation written again, independently of xls.c), applied to
 * the corpus workbook 60405.xls.
 */
#include <unistd.h>

#include <openssl/evp.h>

#include "office_t.h"
#include "cfb.h"
#include "pwcand.h"

static struct findings	 fs;

static void
rc4(const unsigned char *key, size_t klen, unsigned char *d, size_t n)
{
	unsigned char	 s[256], t;
	size_t		 i, j, k;

	for (i = 0; i < 256; i++)
		s[i] = (unsigned char)i;
	for (i = 0, j = 0; i < 256; i++) {
		j = (j + s[i] + key[i % klen]) & 0xff;
		t = s[i];
		s[i] = s[j];
		s[j] = t;
	}
	for (k = 0, i = 0, j = 0; k < n; k++) {
		i = (i + 1) & 0xff;
		j = (j + s[i]) & 0xff;
		t = s[i];
		s[i] = s[j];
		s[j] = t;
		d[k] ^= s[(s[i] + s[j]) & 0xff];
	}
}

static void
hash(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn,
    unsigned char *out)
{
	EVP_MD_CTX	*c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, md, NULL) != 1 ||
	    EVP_DigestUpdate(c, a, an) != 1 ||
	    (bn > 0 && EVP_DigestUpdate(c, b, bn) != 1) ||
	    EVP_DigestFinal_ex(c, out, NULL) != 1)
		bail("digest");
	EVP_MD_CTX_free(c);
}

struct scheme {
	bool		 cryptoapi;
	unsigned char	 base[20];	/* MD5: 5 bytes; CryptoAPI: H0 */
};

static void
key_for(const struct scheme *s, uint32_t block, unsigned char key[16])
{
	unsigned char	 b[4] = { block & 0xff, block >> 8 & 0xff,
	    block >> 16 & 0xff, block >> 24 };
	unsigned char	 md[20];

	if (s->cryptoapi) {
		hash(EVP_sha1(), s->base, 20, b, 4, md);
		memset(key, 0, 16);
		memcpy(key, md, 5);		/* 40-bit key, zero-padded */
	} else {
		hash(EVP_md5(), s->base, 5, b, 4, md);
		memcpy(key, md, 16);
	}
}

static size_t
utf16(const char *pw, unsigned char *out)
{
	size_t	 i;

	for (i = 0; pw[i] != '\0'; i++) {
		out[2 * i] = (unsigned char)pw[i];
		out[2 * i + 1] = 0;
	}
	return 2 * i;
}

/* FILEPASS body for pw; fills the scheme for the stream. */
static void
filepass(struct ot_buf *fp, bool cryptoapi, const char *pw,
    struct scheme *s)
{
	unsigned char	 salt[16], ver[16], p16[64], md[20], key[16];
	unsigned char	 blob[36], inter[16 * 21];
	size_t		 plen, i;

	for (i = 0; i < 16; i++) {
		salt[i] = (unsigned char)(0x30 + 7 * i);
		ver[i] = (unsigned char)(0xa0 ^ (13 * i));
	}
	plen = utf16(pw, p16);
	memset(s, 0, sizeof(*s));
	s->cryptoapi = cryptoapi;
	ot_u16(fp, 1);				/* RC4 */
	if (!cryptoapi) {
		hash(EVP_md5(), p16, plen, NULL, 0, md);
		for (i = 0; i < 16; i++) {
			memcpy(inter + 21 * i, md, 5);
			memcpy(inter + 21 * i + 5, salt, 16);
		}
		hash(EVP_md5(), inter, sizeof(inter), NULL, 0, md);
		memcpy(s->base, md, 5);
		key_for(s, 0, key);
		memcpy(blob, ver, 16);
		hash(EVP_md5(), ver, 16, NULL, 0, blob + 16);
		rc4(key, 16, blob, 32);
		ot_u16(fp, 1);
		ot_u16(fp, 1);
		ot_put(fp, salt, 16);
		ot_put(fp, blob, 32);
		return;
	}
	hash(EVP_sha1(), salt, 16, p16, plen, s->base);
	key_for(s, 0, key);
	memcpy(blob, ver, 16);
	hash(EVP_sha1(), ver, 16, NULL, 0, blob + 16);
	rc4(key, 16, blob, 36);
	ot_u16(fp, 2);
	ot_u16(fp, 2);
	ot_u32(fp, 0x04);			/* fCryptoAPI */
	ot_u32(fp, 32 + 2);			/* header size */
	ot_u32(fp, 0x04);
	ot_u32(fp, 0);
	ot_u32(fp, 0x6801);			/* RC4 */
	ot_u32(fp, 0x8004);			/* SHA-1 */
	ot_u32(fp, 40);
	ot_u32(fp, 1);
	ot_u32(fp, 0);
	ot_u32(fp, 0);
	ot_u16(fp, 0);				/* empty CSP name */
	ot_u32(fp, 16);
	ot_put(fp, salt, 16);
	ot_put(fp, blob, 16);
	ot_u32(fp, 20);
	ot_put(fp, blob + 16, 20);
}

static unsigned
get16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

/* Encrypt records after FILEPASS in place (absolute positions). */
static void
encrypt_records(unsigned char *d, size_t n, size_t from,
    const struct scheme *s)
{
	unsigned char	 key[16], ks[1024];
	size_t		 pos, len, i, skip;
	unsigned	 type;
	uint32_t	 blk = UINT32_MAX;

	for (pos = from; pos + 4 <= n; pos += 4 + len) {
		type = get16(d + pos);
		len = get16(d + pos + 2);
		if (type == 0x0809 || type == 0x002f || type == 0x0194 ||
		    type == 0x0195 || type == 0x00e1 || type == 0x0196 ||
		    type == 0x0138)
			continue;
		skip = type == 0x0085 ? 4 : 0;
		for (i = pos + 4 + skip; i < pos + 4 + len && i < n; i++) {
			if (i / 1024 != blk) {
				blk = (uint32_t)(i / 1024);
				key_for(s, blk, key);
				memset(ks, 0, sizeof(ks));
				rc4(key, 16, ks, sizeof(ks));
			}
			d[i] ^= ks[i % 1024];
		}
	}
}

static struct ot_buf	 plain;

static void
make_encrypted(const char *name, bool cryptoapi, const char *pw,
    char *out, size_t outsz)
{
	struct ot_buf	 fp = { 0 }, wb = { 0 };
	struct scheme	 s;
	const char	*tmp;
	char		 src[4096], f[4200];
	size_t		 bof;

	filepass(&fp, cryptoapi, pw, &s);
	bof = 4 + get16(plain.p + 2);
	ot_put(&wb, plain.p, bof);
	ot_u16(&wb, 0x002f);
	ot_u16(&wb, (unsigned)fp.n);
	ot_put(&wb, fp.p, fp.n);
	ot_put(&wb, plain.p + bof, plain.n - bof);
	encrypt_records(wb.p, wb.n, bof + 4 + fp.n, &s);
	tmp = tap_tmpdir(name);
	ot_fmt(src, sizeof(src), "%s/src", tmp);
	ot_fmt(f, sizeof(f), "mkdir -p '%s'", src);
	if (system(f) != 0)
		bail("mkdir");
	ot_fmt(f, sizeof(f), "%s/Workbook", src);
	ot_write(f, wb.p, wb.n);
	ot_fmt(out, outsz, "%s/%s.xls", tmp, name);
	ot_createole(out, src);
	free(fp.p);
	free(wb.p);
}

int
main(void)
{
	char		 path[4096];
	unsigned char	*d;
	size_t		 n;
	struct cfb	 c;
	int		 idx;
	static const struct { const char *name; bool capi; } v[] = {
		{ "xls-rc4", false }, { "xls-cryptoapi", true },
	};
	size_t		 i;

	alarm(60);
	if (ot_lim.ole_sectors == 0)
		limits_default(&ot_lim);
	ot_fmt(path, sizeof(path), "%s/files/60405.xls", tap_corpus());
	d = tap_slurp(path, &n);
	if (cfb_open(&c, d, n, &ot_lim) != LW_OK ||
	    (idx = cfb_find(&c, "Workbook")) < 0 ||
	    cfb_read(&c, idx, &plain.p, &plain.n) != LW_OK)
		bail("cannot read the Workbook stream of 60405.xls");
	cfb_close(&c);
	free(d);

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		make_encrypted(v[i].name, v[i].capi, "VelvetSweatshop", path,
		    sizeof(path));
		is_int(LW_OK, ot_scan_file(path, &fs), "%s: scans",
		    v[i].name);
		ok(!findings_has(&fs, "OFFICE_ENCRYPTED"), "%s: opened with "
		    "the default password, not OFFICE_ENCRYPTED", v[i].name);
		ok(ot_find(&fs, "OFFICE_XLM", "\"Macro1\" (visible) (decrypted "
		    "with VelvetSweatshop)") != NULL,
		    "%s: the macro sheet is found after decryption",
		    v[i].name);
		ok(ot_find(&fs, "OFFICE_XLM_AUTOEXEC", "Auto_Open") != NULL,
		    "%s: Auto_Open found after decryption", v[i].name);
		ok(!findings_has(&fs, "OFFICE_MALFORMED"),
		    "%s: decrypts cleanly", v[i].name);
		ot_dump(&fs);

		make_encrypted(v[i].name, v[i].capi, "secret", path,
		    sizeof(path));
		ot_scan_file(path, &fs);
		ok(ot_find(&fs, "OFFICE_ENCRYPTED", "password unknown") !=
		    NULL, "%s with another password: OFFICE_ENCRYPTED",
		    v[i].name);
		ok(ot_find(&fs, "OFFICE_ENCRYPTED", v[i].capi ?
		    "CryptoAPI RC4" : "(RC4)") != NULL, "%s: scheme named",
		    v[i].name);
		ok(!findings_has(&fs, "OFFICE_XLM"),
		    "%s with another password: sheets stay hidden",
		    v[i].name);

		/* That password written in the message opens it. */
		{
			static char	*pwv[] = { "invoice", "secret" };
			static bool	 kwv[] = { true, true };
			struct pwcands	 pc = { pwv, kwv, 2, 2 };

			ot_pw = &pc;
			ot_scan_file(path, &fs);
			ot_pw = NULL;
		}
		ok(ot_find(&fs, "OFFICE_XLM", "(decrypted with a password "
		    "from the message)") != NULL && !findings_has(&fs,
		    "OFFICE_ENCRYPTED"), "%s with the password in the "
		    "message: opened, the macro sheet found", v[i].name);
	}
	/* XOR obfuscation is only reported. */
	{
		struct ot_buf	 wb = { 0 };
		const char	*tmp = tap_tmpdir("xls-xor");
		char		 f[4200];
		size_t		 bof = 4 + get16(plain.p + 2);

		ot_put(&wb, plain.p, bof);
		ot_put(&wb, "\x2f\x00\x06\x00\x00\x00\x34\x12\x78\x56", 10);
		ot_put(&wb, plain.p + bof, plain.n - bof);
		ot_fmt(f, sizeof(f), "%s/src", tmp);
		ot_fmt(path, sizeof(path), "mkdir -p '%s'", f);
		if (system(path) != 0)
			bail("mkdir");
		ot_fmt(path, sizeof(path), "%s/src/Workbook", tmp);
		ot_write(path, wb.p, wb.n);
		ot_fmt(path, sizeof(path), "%s/xor.xls", tmp);
		ot_createole(path, f);
		ot_scan_file(path, &fs);
		ok(ot_find(&fs, "OFFICE_ENCRYPTED", "XOR obfuscation") != NULL,
		    "XOR obfuscation: OFFICE_ENCRYPTED");
		free(wb.p);
	}
	free(plain.p);
	findings_free(&fs);
	return done_testing();
}
