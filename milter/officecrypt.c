/*
 * officecrypt.c: password-protected OOXML documents (ECMA-376 agile
 * encryption: an OLE2 file with EncryptionInfo and EncryptedPackage
 * streams), decrypted with the default password "VelvetSweatshop"
 * first (Excel opens such a workbook without asking) and then with the
 * message's password candidates.  The decrypted package goes back
 * through content_analyze() one level deeper, part path
 * "<part>/EncryptedPackage", so its macros are found.
 *
 * Agile encryption (version 4.4): the XML descriptor gives the hash
 * (SHA-1/256/384/512), spinCount, salts, key sizes and the encrypted
 * verifier and key.  The password hash is H(salt, UTF-16LE password)
 * rehashed spinCount times with a 32-bit counter; a candidate is right
 * when the decrypted verifier hash matches.  spinCount above
 * 10,000,000 (the spec's maximum) is OFFICE_MALFORMED.  Every
 * candidate's derivation is charged to ctx->kdf_ms, the message's key
 * derivation budget shared with 7z (OC_KDF_MESSAGE_MS), and a
 * derivation that would outlast it stops in the middle; candidates
 * left untried are logged.  The package is decrypted in 4096-byte
 * segments (AES-CBC, per-segment IV) up to limits.office_stream_bytes.
 *
 * Ignores: standard (version 3.2/4.2) and RC4 CryptoAPI encryption
 * (left as OFFICE_ENCRYPTED), data integrity HMACs.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bytes.h"
#include "lurewall.h"
#include "analyzer.h"
#include "archive.h"
#include "cfb.h"
#include "content.h"
#include "officecrypt.h"
#include "log.h"
#include "pwcand.h"

#define OC_MAX_SPIN		10000000U
#define OC_KDF_MESSAGE_MS	500
#define OC_SEGMENT		4096

struct oc_params {
	const EVP_MD	*md;
	unsigned	 hashsize, keybits, blocksize;
	unsigned char	 salt[64];
	size_t		 nsalt;
};

struct agile {
	struct oc_params key_data;	/* keyData: the package */
	struct oc_params enc_key;	/* p:encryptedKey: the password */
	uint32_t	 spin;
	unsigned char	 vin[64], vhash[80], ekey[80];
	size_t		 nvin, nvhash, nekey;
};

/* The value of attr="..." inside the element starting at el. */
static bool
xml_attr(const char *el, const char *attr, char *out, size_t outsz)
{
	const char	*end = strchr(el, '>'), *p = el, *q;
	size_t		 n = strlen(attr);

	while ((p = strstr(p, attr)) != NULL && (end == NULL || p < end)) {
		if ((p == el || p[-1] == ' ' || p[-1] == '\n' ||
		    p[-1] == '\t' || p[-1] == '\r') && p[n] == '=' &&
		    p[n + 1] == '"') {
			p += n + 2;
			if ((q = strchr(p, '"')) == NULL ||
			    (size_t)(q - p) >= outsz)
				return false;
			memcpy(out, p, (size_t)(q - p));
			out[q - p] = '\0';
			return true;
		}
		p += n;
	}
	return false;
}

static bool
b64(const char *s, unsigned char *out, size_t max, size_t *n)
{
	unsigned char	 tmp[256];
	size_t		 l = strlen(s);
	int		 r;

	if (l == 0 || l % 4 != 0 || l / 4 * 3 > sizeof(tmp))
		return false;
	if ((r = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)l)) < 0)
		return false;
	if (s[l - 1] == '=')
		r--;
	if (s[l - 2] == '=')
		r--;
	if ((size_t)r > max)
		return false;
	memcpy(out, tmp, (size_t)r);
	*n = (size_t)r;
	return true;
}

static bool
params(const char *el, struct oc_params *p)
{
	char	v[128];

	if (!xml_attr(el, "hashAlgorithm", v, sizeof(v)))
		return false;
	if (strcmp(v, "SHA1") == 0)
		p->md = EVP_sha1();
	else if (strcmp(v, "SHA256") == 0)
		p->md = EVP_sha256();
	else if (strcmp(v, "SHA384") == 0)
		p->md = EVP_sha384();
	else if (strcmp(v, "SHA512") == 0)
		p->md = EVP_sha512();
	else
		return false;
	if (!xml_attr(el, "cipherAlgorithm", v, sizeof(v)) ||
	    strcmp(v, "AES") != 0)
		return false;
	if (!xml_attr(el, "keyBits", v, sizeof(v)))
		return false;
	p->keybits = (unsigned)strtoul(v, NULL, 10);
	if (p->keybits != 128 && p->keybits != 192 && p->keybits != 256)
		return false;
	if (!xml_attr(el, "blockSize", v, sizeof(v)))
		return false;
	p->blocksize = (unsigned)strtoul(v, NULL, 10);
	if (p->blocksize != 16)
		return false;
	p->hashsize = (unsigned)EVP_MD_get_size(p->md);
	return xml_attr(el, "saltValue", v, sizeof(v)) &&
	    b64(v, p->salt, sizeof(p->salt), &p->nsalt) && p->nsalt > 0;
}

static bool
agile_parse(const unsigned char *d, size_t len, struct agile *a)
{
	char		*xml, *kd, *ek, v[256];
	bool		 ok = false;

	if (len < 8 || le16(d) != 4 || le16(d + 2) != 4 || len > 65536)
		return false;
	if ((xml = lw_strndup((const char *)d + 8, len - 8)) == NULL)
		return false;
	memset(a, 0, sizeof(*a));
	if ((kd = strstr(xml, "<keyData")) == NULL ||
	    (ek = strstr(xml, "encryptedKey ")) == NULL ||
	    !params(kd, &a->key_data) || !params(ek, &a->enc_key))
		goto out;
	if (!xml_attr(ek, "spinCount", v, sizeof(v)))
		goto out;
	a->spin = (uint32_t)strtoul(v, NULL, 10);
	ok = xml_attr(ek, "encryptedVerifierHashInput", v, sizeof(v)) &&
	    b64(v, a->vin, sizeof(a->vin), &a->nvin) &&
	    xml_attr(ek, "encryptedVerifierHashValue", v, sizeof(v)) &&
	    b64(v, a->vhash, sizeof(a->vhash), &a->nvhash) &&
	    xml_attr(ek, "encryptedKeyValue", v, sizeof(v)) &&
	    b64(v, a->ekey, sizeof(a->ekey), &a->nekey) &&
	    a->nvin % 16 == 0 && a->nvhash % 16 == 0 && a->nekey % 16 == 0;
out:
	free(xml);
	return ok;
}

static const EVP_CIPHER *
aes_cbc(unsigned bits)
{
	return bits == 128 ? EVP_aes_128_cbc() : bits == 192 ?
	    EVP_aes_192_cbc() : EVP_aes_256_cbc();
}

static bool
cbc_decrypt(unsigned bits, const unsigned char *key, const unsigned char *iv,
    const unsigned char *in, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX	*cx;
	int		 ol = 0, fl = 0;
	bool		 ok;

	if ((cx = EVP_CIPHER_CTX_new()) == NULL)
		return false;
	ok = EVP_DecryptInit_ex(cx, aes_cbc(bits), NULL, key, iv) == 1 &&
	    EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	    EVP_DecryptUpdate(cx, out, &ol, in, (int)n) == 1 &&
	    EVP_DecryptFinal_ex(cx, out + ol, &fl) == 1;
	EVP_CIPHER_CTX_free(cx);
	return ok;
}

/* H(a || b), into out (EVP_MAX_MD_SIZE). */
static bool
hash2(const EVP_MD *md, const void *a, size_t na, const void *b, size_t nb,
    unsigned char *out)
{
	EVP_MD_CTX	*m;
	bool		 ok;

	if ((m = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestInit_ex(m, md, NULL) == 1 &&
	    EVP_DigestUpdate(m, a, na) == 1 &&
	    EVP_DigestUpdate(m, b, nb) == 1 &&
	    EVP_DigestFinal_ex(m, out, NULL) == 1;
	EVP_MD_CTX_free(m);
	return ok;
}

/* The key for one block key from the spun password hash. */
static bool
block_key(const struct oc_params *p, const unsigned char *h,
    const unsigned char bk[8], unsigned char *key)
{
	unsigned char	out[EVP_MAX_MD_SIZE];
	size_t		n = p->keybits / 8;

	if (!hash2(p->md, h, p->hashsize, bk, 8, out))
		return false;
	if (n <= p->hashsize)
		memcpy(key, out, n);
	else {
		memcpy(key, out, p->hashsize);
		memset(key + p->hashsize, 0x36, n - p->hashsize);
	}
	return true;
}

/*
 * Try one password; on success *secret holds the package key.  The
 * spin loop is the cost: one digest per round.
 */
static bool
try_password(const struct agile *a, const char *pw, uint64_t deadline,
    bool *late, unsigned char *secret)
{
	static const unsigned char bk_vin[8] = {
		0xfe, 0xa7, 0xd2, 0x76, 0x3b, 0x4b, 0x9e, 0x79 };
	static const unsigned char bk_vhash[8] = {
		0xd7, 0xaa, 0x0f, 0x6d, 0x30, 0x61, 0x34, 0x4e };
	static const unsigned char bk_key[8] = {
		0x14, 0x6e, 0x0b, 0xe7, 0xab, 0xac, 0xd0, 0xd6 };
	const struct oc_params	*p = &a->enc_key;
	unsigned char		 u16[512], h[EVP_MAX_MD_SIZE + 4];
	unsigned char		 k[32], vin[64], vh[80], hv[EVP_MAX_MD_SIZE];
	size_t			 pl = 0, i;
	EVP_MD_CTX		*m;
	bool			 ok = false;

	for (i = 0; pw[i] != '\0' && pl < sizeof(u16) - 2; i++) {
		u16[pl++] = (unsigned char)pw[i];
		u16[pl++] = 0;
	}
	if (!hash2(p->md, p->salt, p->nsalt, u16, pl, h + 4))
		return false;
	if ((m = EVP_MD_CTX_new()) == NULL)
		return false;
	*late = false;
	for (i = 0; i < a->spin; i++) {
		/* A spinCount of millions must not outlast the budget. */
		if ((i & 0xfff) == 0xfff && lw_now_ms() >= deadline) {
			*late = true;
			goto out;
		}
		h[0] = (unsigned char)i;
		h[1] = (unsigned char)(i >> 8);
		h[2] = (unsigned char)(i >> 16);
		h[3] = (unsigned char)(i >> 24);
		if (EVP_DigestInit_ex(m, p->md, NULL) != 1 ||
		    EVP_DigestUpdate(m, h, 4 + p->hashsize) != 1 ||
		    EVP_DigestFinal_ex(m, h + 4, NULL) != 1)
			goto out;
	}
	if (!block_key(p, h + 4, bk_vin, k) ||
	    !cbc_decrypt(p->keybits, k, p->salt, a->vin, a->nvin, vin) ||
	    !hash2(p->md, vin, p->nsalt < a->nvin ? p->nsalt : a->nvin, "", 0,
	    hv) ||
	    !block_key(p, h + 4, bk_vhash, k) ||
	    !cbc_decrypt(p->keybits, k, p->salt, a->vhash, a->nvhash, vh) ||
	    a->nvhash < p->hashsize || memcmp(hv, vh, p->hashsize) != 0)
		goto out;
	if (!block_key(p, h + 4, bk_key, k) || a->nekey * 8 < p->keybits ||
	    !cbc_decrypt(p->keybits, k, p->salt, a->ekey, a->nekey, vh))
		goto out;
	memcpy(secret, vh, a->key_data.keybits / 8);
	ok = true;
out:
	EVP_MD_CTX_free(m);
	return ok;
}

static enum lw_err
decrypt_package(struct scan_ctx *ctx, const struct agile *a,
    const unsigned char *secret, const unsigned char *d, size_t len,
    unsigned char **out, size_t *outlen)
{
	const struct oc_params	*p = &a->key_data;
	unsigned char		 iv[EVP_MAX_MD_SIZE], blk[4];
	unsigned char		*buf;
	uint64_t		 size;
	size_t			 i, off, n;

	*out = NULL;
	*outlen = 0;
	if (len < 8)
		return LW_EMALFORMED;
	size = le64(d);
	d += 8;
	len -= 8;
	if (size > len || size > ctx->lim->office_stream_bytes)
		size = len < ctx->lim->office_stream_bytes ? len :
		    ctx->lim->office_stream_bytes;
	n = (size_t)size;
	if ((buf = malloc(len + 16)) == NULL)
		return LW_ENOMEM;
	for (i = 0, off = 0; off < len && off < n; i++, off += OC_SEGMENT) {
		size_t seg = len - off < OC_SEGMENT ? len - off : OC_SEGMENT;

		seg -= seg % 16;
		if (seg == 0)
			break;
		blk[0] = (unsigned char)i;
		blk[1] = (unsigned char)(i >> 8);
		blk[2] = (unsigned char)(i >> 16);
		blk[3] = (unsigned char)(i >> 24);
		if (!hash2(p->md, p->salt, p->nsalt, blk, 4, iv) ||
		    !cbc_decrypt(p->keybits, secret, iv, d + off, seg,
		    buf + off)) {
			free(buf);
			return LW_EMALFORMED;
		}
	}
	*out = buf;
	*outlen = n < off ? n : off;
	return LW_OK;
}

enum lw_err
officecrypt_scan(struct scan_ctx *ctx, const char *part, struct cfb *c,
    unsigned depth, bool *opened)
{
	const struct pwcands	*pw = ctx->pw;
	struct agile		 a;
	unsigned char		*info = NULL, *pkg = NULL, *plain = NULL;
	unsigned char		 secret[32];
	size_t			 ninfo, npkg, nplain, k, ncand;
	const char		*cand, *which = NULL;
	char			*path;
	uint64_t		 t0;
	unsigned		 skipped = 0;
	enum lw_err		 e;
	int			 ii, ip;
	bool			 late = false;

	*opened = false;
	if ((ii = cfb_find(c, "EncryptionInfo")) < 0 ||
	    (ip = cfb_find(c, "EncryptedPackage")) < 0)
		return LW_OK;
	if ((e = cfb_read(c, ii, &info, &ninfo)) != LW_OK)
		return e == LW_ENOMEM ? e : LW_OK;
	if (!agile_parse(info, ninfo, &a)) {
		free(info);
		return LW_OK;
	}
	free(info);
	if (a.spin > OC_MAX_SPIN)
		return findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "encryption spinCount %u above %u", a.spin, OC_MAX_SPIN);
	ncand = 1 + (pw != NULL ? pw->n : 0);
	for (k = 0; k < ncand && which == NULL; k++) {
		cand = k == 0 ? "VelvetSweatshop" : pw->v[k - 1];
		if (ctx->kdf_ms >= OC_KDF_MESSAGE_MS || scan_expired(ctx)) {
			skipped = (unsigned)(ncand - k);
			break;
		}
		t0 = lw_now_ms();
		if (try_password(&a, cand, t0 + OC_KDF_MESSAGE_MS - ctx->kdf_ms,
		    &late, secret))
			which = cand;
		ctx->kdf_ms += lw_now_ms() - t0;
		if (late) {
			skipped = (unsigned)(ncand - k);
			break;
		}
	}
	if (skipped > 0)
		scan_log(ctx, LOG_INFO, "encrypted document %s: key derivation"
		    " budget spent, %u password candidates not tried", part,
		    skipped);
	if (which == NULL)
		return LW_OK;
	if ((e = cfb_read(c, ip, &pkg, &npkg)) != LW_OK)
		return e == LW_ENOMEM ? e : LW_OK;
	e = decrypt_package(ctx, &a, secret, pkg, npkg, &plain, &nplain);
	free(pkg);
	if (e == LW_EMALFORMED)
		return findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "encrypted package does not decrypt");
	if (e != LW_OK)
		return e;
	*opened = true;
	scan_log(ctx, LOG_INFO, "encrypted document %s opened with %s", part,
	    k == 1 ? "the default password" : "a password candidate");
	if ((path = archive_join(part, "EncryptedPackage")) == NULL) {
		free(plain);
		return LW_ENOMEM;
	}
	e = content_analyze(ctx, path, NULL, NULL, plain, nplain, depth + 1);
	free(path);
	free(plain);
	return e;
}
