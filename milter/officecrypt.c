/*
 * officecrypt.c: password-protected OOXML documents (ECMA-376 document
 * encryption, MS-OFFCRYPTO 2.3.4: an OLE2 file with EncryptionInfo and
 * EncryptedPackage streams), decrypted with the default password
 * "VelvetSweatshop" first (Excel opens such a workbook without asking)
 * and then with the message's password candidates.  The decrypted
 * package goes back through content_analyze() one level deeper, part
 * path "<part>/EncryptedPackage", so its macros are found.
 *
 * Agile encryption (version 4.4): the XML descriptor gives the hash
 * (SHA-1/256/384/512), spinCount, salts, key sizes and the encrypted
 * verifier and key; the package is AES-CBC in 4096-byte segments, each
 * with its IV from the key data salt and the segment index.  Standard
 * encryption (versions 2.2, 3.2, 4.2 with fCryptoAPI and fAES): a
 * binary EncryptionHeader (AES-128/192/256, SHA-1) and verifier; the
 * spun hash goes through the 0x36/0x5c derivation and the package is
 * AES-ECB.  Both spin the password hash: H(salt, UTF-16LE password)
 * rehashed with a 32-bit counter, spinCount times (agile, read from
 * the file) or 50,000 times (standard).  A candidate is right when the
 * decrypted verifier hash matches; only then is the package read.
 *
 * Bounds: every candidate's derivation is charged to ctx->kdf_ms, the
 * message's key derivation budget shared with 7z and zip AES
 * (LW_KDF_FILE_MS per document, LW_KDF_MESSAGE_MS per message); a
 * derivation that would outlast it stops in the middle, and candidates
 * left untried are logged.  Above OC_SANE_SPIN (ten times what Office
 * writes) no candidate can finish inside the budget, so none is tried:
 * OFFICE_ENCRYPTED, logged; above 10,000,000 (the spec's maximum)
 * OFFICE_MALFORMED as well.  The package is decrypted up to
 * limits.office_stream_bytes.
 *
 * Word 97-2003 documents encrypted with RC4 or CryptoAPI RC4
 * (officecrypt_scan_doc, rc4crypt.c) are tried the same way, and so
 * are PowerPoint 97-2003 ones (officecrypt_scan_ppt): the persist
 * object directory is rebuilt from the UserEditAtom chain (at most
 * PPT_MAX_EDITS edits, each further back in the stream, and no more
 * entries than the stream has words), the CryptSession10Container
 * gives the EncryptionHeader, and every persist object is decrypted
 * in a copy of the stream (RC4 keyed by its identifier) that goes to
 * embedded.c, whose ExOleObjStg records hold the VBA project.
 *
 * OFFICE_ENCRYPTED is recorded here when no password works or the
 * scheme is one we do not decrypt (extensible encryption, RC4
 * standard encryption, Word's XOR obfuscation).  Ignores: data
 * integrity HMACs, certificate key encryptors.  officecrypt_scan_key
 * is the fuzzing entry: the key is given and no derivation runs.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bytes.h"
#include "lurewall.h"
#include "analyzer.h"
#include "archive.h"
#include "cfb.h"
#include "content.h"
#include "embedded.h"
#include "officecrypt.h"
#include "log.h"
#include "pwcand.h"
#include "rc4crypt.h"

#define OC_MAX_SPIN		10000000U	/* MS-OFFCRYPTO 2.3.4.10 */
#define OC_SANE_SPIN		1000000U
#define OC_STD_SPIN		50000U
#define OC_SEGMENT		4096
#define OC_STD_CRYPTOAPI	0x04		/* EncryptionHeader.Flags */
#define OC_STD_AES		0x20
#define FIB_IDENT		0xa5ec		/* MS-DOC FibBase */
#define FIB_ENCRYPTED		0x0100
#define FIB_WHICHTBL		0x0200
#define FIB_OBFUSCATED		0x8000
#define PPT_ENCRYPTED		0xf3d1c4dfU	/* CurrentUserAtom */
#define PPT_CURRENTUSER		0x0ff6		/* MS-PPT */
#define PPT_USEREDIT		0x0ff5
#define PPT_PERSISTDIR		0x1772
#define PPT_CRYPTSESSION	0x2f14
#define PPT_MAX_EDITS		64

enum oc_scheme { OC_AGILE, OC_STANDARD };

struct oc_params {
	const EVP_MD	*md;
	unsigned	 hashsize, keybits, blocksize;
	unsigned char	 salt[64];
	size_t		 nsalt;
};

struct ocinfo {
	enum oc_scheme	 scheme;
	struct oc_params key_data;	/* agile keyData: the package */
	struct oc_params enc_key;	/* the password's (standard: both) */
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
agile_parse(const unsigned char *d, size_t len, struct ocinfo *a)
{
	char		*xml, *kd, *ek, v[256];
	bool		 ok = false;

	if (len > 65536)
		return false;
	if ((xml = lw_strndup((const char *)d + 8, len - 8)) == NULL)
		return false;
	a->scheme = OC_AGILE;
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

/*
 * Standard encryption: Version, Flags, HeaderSize, the EncryptionHeader
 * (Flags, SizeExtra, AlgID, AlgIDHash, KeySize, ProviderType, two
 * reserved words, CSP name) and the EncryptionVerifier (SaltSize 16,
 * salt, encrypted verifier, VerifierHashSize 20, its 32 encrypted
 * bytes).  Only AES with SHA-1 is standard encryption for OOXML.
 */
static bool
standard_parse(const unsigned char *d, size_t len, struct ocinfo *a)
{
	struct oc_params	*p = &a->enc_key;
	size_t			 hs, v;
	uint32_t		 bits;

	if (len < 12)
		return false;
	hs = le32(d + 8);
	if ((le32(d + 4) & (OC_STD_CRYPTOAPI | OC_STD_AES)) !=
	    (OC_STD_CRYPTOAPI | OC_STD_AES) || hs < 32 || hs > len - 12)
		return false;
	switch (le32(d + 12 + 8)) {		/* AlgID */
	case 0:
	case 0x660e:
		bits = 128;
		break;
	case 0x660f:
		bits = 192;
		break;
	case 0x6610:
		bits = 256;
		break;
	default:
		return false;
	}
	if (le32(d + 12 + 16) != bits ||
	    (le32(d + 12 + 12) != 0 && le32(d + 12 + 12) != 0x8004))
		return false;
	v = 12 + hs;
	if (len - v < 4 + 16 + 16 + 4 + 32 || le32(d + v) != 16 ||
	    le32(d + v + 36) != 20)
		return false;
	a->scheme = OC_STANDARD;
	p->md = EVP_sha1();
	p->hashsize = 20;
	p->keybits = bits;
	p->blocksize = 16;
	memcpy(p->salt, d + v + 4, 16);
	p->nsalt = 16;
	a->key_data = *p;
	a->spin = OC_STD_SPIN;
	memcpy(a->vin, d + v + 20, 16);
	a->nvin = 16;
	memcpy(a->vhash, d + v + 40, 32);
	a->nvhash = 32;
	return true;
}

/* The EncryptionInfo stream: agile or standard, else false. */
static bool
info_parse(const unsigned char *d, size_t len, struct ocinfo *a)
{
	memset(a, 0, sizeof(*a));
	if (len < 8)
		return false;
	if (le16(d) == 4 && le16(d + 2) == 4)
		return agile_parse(d, len, a);
	if (le16(d) >= 2 && le16(d) <= 4 && le16(d + 2) == 2)
		return standard_parse(d, len, a);
	return false;
}

static const EVP_CIPHER *
aes(unsigned bits, bool cbc)
{
	if (cbc)
		return bits == 128 ? EVP_aes_128_cbc() : bits == 192 ?
		    EVP_aes_192_cbc() : EVP_aes_256_cbc();
	return bits == 128 ? EVP_aes_128_ecb() : bits == 192 ?
	    EVP_aes_192_ecb() : EVP_aes_256_ecb();
}

/* AES-CBC with iv, or AES-ECB when iv is NULL; n a multiple of 16. */
static bool
aes_decrypt(unsigned bits, const unsigned char *key, const unsigned char *iv,
    const unsigned char *in, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX	*cx;
	int		 ol = 0, fl = 0;
	bool		 ok;

	if (n > INT_MAX || (cx = EVP_CIPHER_CTX_new()) == NULL)
		return false;
	ok = EVP_DecryptInit_ex(cx, aes(bits, iv != NULL), NULL, key, iv) ==
	    1 && EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	    EVP_DecryptUpdate(cx, out, &ol, in, (int)n) == 1 &&
	    EVP_DecryptFinal_ex(cx, out + ol, &fl) == 1;
	EVP_CIPHER_CTX_free(cx);
	return ok;
}

/*
 * The spun password hash into h (p->hashsize bytes): H0 = H(salt,
 * UTF-16LE password), Hn = H(n - 1 as 32-bit LE, Hn-1).  The loop is
 * the whole cost of a candidate; it gives up at deadline (*late).
 */
static bool
spin_hash(const struct oc_params *p, uint32_t spin, const char *pw,
    uint64_t deadline, bool *late, unsigned char *h)
{
	unsigned char	 u16[512], b[4 + EVP_MAX_MD_SIZE];
	EVP_MD_CTX	*m;
	uint32_t	 i;
	bool		 ok = false;

	*late = false;
	if (!rc4crypt_hash(p->md, p->salt, p->nsalt, u16,
	    pwcand_utf16le(pw, u16, sizeof(u16)), b + 4))
		return false;
	if ((m = EVP_MD_CTX_new()) == NULL)
		return false;
	for (i = 0; i < spin; i++) {
		/* A spinCount of millions must not outlast the budget. */
		if ((i & 0xfff) == 0xfff && lw_cpu_ms() >= deadline) {
			*late = true;
			goto out;
		}
		b[0] = (unsigned char)i;
		b[1] = (unsigned char)(i >> 8);
		b[2] = (unsigned char)(i >> 16);
		b[3] = (unsigned char)(i >> 24);
		if (EVP_DigestInit_ex(m, p->md, NULL) != 1 ||
		    EVP_DigestUpdate(m, b, 4 + p->hashsize) != 1 ||
		    EVP_DigestFinal_ex(m, b + 4, NULL) != 1)
			goto out;
	}
	memcpy(h, b + 4, p->hashsize);
	ok = true;
out:
	EVP_MD_CTX_free(m);
	return ok;
}

/* Agile: the key for one block key from the spun password hash. */
static bool
block_key(const struct oc_params *p, const unsigned char *h,
    const unsigned char bk[8], unsigned char *key)
{
	unsigned char	out[EVP_MAX_MD_SIZE];
	size_t		n = p->keybits / 8;

	if (!rc4crypt_hash(p->md, h, p->hashsize, bk, 8, out))
		return false;
	if (n <= p->hashsize)
		memcpy(key, out, n);
	else {
		memcpy(key, out, p->hashsize);
		memset(key + p->hashsize, 0x36, n - p->hashsize);
	}
	return true;
}

/* Agile: check the verifier, then decrypt the package key. */
static bool
agile_open(const struct ocinfo *a, const unsigned char *h,
    unsigned char *secret)
{
	static const unsigned char bk_vin[8] = {
		0xfe, 0xa7, 0xd2, 0x76, 0x3b, 0x4b, 0x9e, 0x79 };
	static const unsigned char bk_vhash[8] = {
		0xd7, 0xaa, 0x0f, 0x6d, 0x30, 0x61, 0x34, 0x4e };
	static const unsigned char bk_key[8] = {
		0x14, 0x6e, 0x0b, 0xe7, 0xab, 0xac, 0xd0, 0xd6 };
	const struct oc_params	*p = &a->enc_key;
	unsigned char		 k[32], vin[64], vh[80];
	unsigned char		 hv[EVP_MAX_MD_SIZE];

	if (!block_key(p, h, bk_vin, k) ||
	    !aes_decrypt(p->keybits, k, p->salt, a->vin, a->nvin, vin) ||
	    !rc4crypt_hash(p->md, vin, p->nsalt < a->nvin ? p->nsalt :
	    a->nvin, "", 0, hv) ||
	    !block_key(p, h, bk_vhash, k) ||
	    !aes_decrypt(p->keybits, k, p->salt, a->vhash, a->nvhash, vh) ||
	    a->nvhash < p->hashsize || memcmp(hv, vh, p->hashsize) != 0)
		return false;
	if (!block_key(p, h, bk_key, k) || a->nekey * 8 < p->keybits ||
	    !aes_decrypt(p->keybits, k, p->salt, a->ekey, a->nekey, vh))
		return false;
	memcpy(secret, vh, a->key_data.keybits / 8);
	return true;
}

/*
 * Standard (MS-OFFCRYPTO 2.3.4.7): Hfinal = SHA-1(H, block 0); the key
 * is the start of SHA-1(0x36 pad ^ Hfinal) || SHA-1(0x5c pad ^ Hfinal);
 * right when SHA-1 of the decrypted verifier is its decrypted hash.
 */
static bool
standard_open(const struct ocinfo *a, const unsigned char *h,
    unsigned char *secret)
{
	static const unsigned char zero[4];
	unsigned char	 hf[EVP_MAX_MD_SIZE], pad[64];
	unsigned char	 x[2 * EVP_MAX_MD_SIZE];
	unsigned char	 v[16], vh[32], hv[EVP_MAX_MD_SIZE];
	unsigned	 bits = a->enc_key.keybits, i;

	if (!rc4crypt_hash(EVP_sha1(), h, 20, zero, 4, hf))
		return false;
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < 20; i++)
		pad[i] ^= hf[i];
	if (!rc4crypt_hash(EVP_sha1(), pad, sizeof(pad), "", 0, x))
		return false;
	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < 20; i++)
		pad[i] ^= hf[i];
	if (!rc4crypt_hash(EVP_sha1(), pad, sizeof(pad), "", 0, x + 20))
		return false;
	memcpy(secret, x, bits / 8);
	return aes_decrypt(bits, secret, NULL, a->vin, 16, v) &&
	    aes_decrypt(bits, secret, NULL, a->vhash, 32, vh) &&
	    rc4crypt_hash(EVP_sha1(), v, 16, "", 0, hv) &&
	    memcmp(hv, vh, 20) == 0;
}

/* One password; on success *secret holds the package key. */
static bool
try_password(const struct ocinfo *a, const char *pw, uint64_t deadline,
    bool *late, unsigned char *secret)
{
	unsigned char	 h[EVP_MAX_MD_SIZE];

	if (!spin_hash(&a->enc_key, a->spin, pw, deadline, late, h))
		return false;
	return a->scheme == OC_AGILE ? agile_open(a, h, secret) :
	    standard_open(a, h, secret);
}

/* The package decrypted with the package key; LW_EMALFORMED if not. */
static enum lw_err
decrypt_package(struct scan_ctx *ctx, const struct ocinfo *a,
    const unsigned char *secret, const unsigned char *d, size_t len,
    unsigned char **out, size_t *outlen)
{
	const struct oc_params	*p = &a->key_data;
	unsigned char		 iv[EVP_MAX_MD_SIZE], blk[4];
	unsigned char		*buf;
	uint64_t		 size;
	size_t			 i, off, n, seg;

	*out = NULL;
	*outlen = 0;
	if (len < 8 + 16)
		return LW_EMALFORMED;
	size = le64(d);
	d += 8;
	len -= 8;
	len -= len % 16;
	if (len > ctx->lim->office_stream_bytes)
		len = (size_t)ctx->lim->office_stream_bytes & ~(size_t)15;
	/* What is there decides, not the size the stream claims. */
	n = size < len ? (size_t)size : len;
	if ((buf = malloc(len + 16)) == NULL)
		return LW_ENOMEM;
	if (a->scheme == OC_STANDARD) {
		off = n + (16 - n % 16) % 16;
		if (!aes_decrypt(p->keybits, secret, NULL, d, off, buf))
			goto bad;
	}
	for (i = 0, off = 0; a->scheme == OC_AGILE && off < n;
	    i++, off += seg) {
		seg = len - off < OC_SEGMENT ? len - off : OC_SEGMENT;
		blk[0] = (unsigned char)i;
		blk[1] = (unsigned char)(i >> 8);
		blk[2] = (unsigned char)(i >> 16);
		blk[3] = (unsigned char)(i >> 24);
		if (!rc4crypt_hash(p->md, p->salt, p->nsalt, blk, 4, iv) ||
		    !aes_decrypt(p->keybits, secret, iv, d + off, seg,
		    buf + off))
			goto bad;
	}
	*out = buf;
	*outlen = n;
	return LW_OK;
bad:
	free(buf);
	return LW_EMALFORMED;
}

/*
 * VelvetSweatshop, then every candidate, while the budget lasts.
 * Returns the index of the one that worked (0: the default) or -1.
 */
static long
find_password(struct scan_ctx *ctx, const char *part, const struct ocinfo *a,
    unsigned char *secret)
{
	const struct pwcands	*pw = ctx->pw;
	size_t			 k, ncand;
	uint64_t		 t0, dt, file_ms = 0, left;
	unsigned		 skipped = 0;
	bool			 late = false;
	long			 which = -1;

	ncand = 1 + (pw != NULL ? pw->n : 0);
	for (k = 0; k < ncand && which < 0; k++) {
		if ((left = scan_kdf_left(ctx, file_ms)) == 0 ||
		    scan_expired(ctx)) {
			skipped = (unsigned)(ncand - k);
			break;
		}
		t0 = lw_cpu_ms();
		if (try_password(a, k == 0 ? "VelvetSweatshop" : pw->v[k - 1],
		    t0 + left, &late, secret))
			which = (long)k;
		dt = lw_cpu_ms() - t0;
		file_ms += dt;
		ctx->kdf_ms += dt;
		if (late) {
			skipped = (unsigned)(ncand - k);
			break;
		}
	}
	if (skipped > 0)
		scan_log(ctx, LOG_INFO, "encrypted document %s: key derivation"
		    " budget spent, %u password candidates not tried", part,
		    skipped);
	return which;
}

/*
 * A stream copied out; *p stays NULL when it is missing or does not
 * read (OFFICE_MALFORMED then).  Only LW_ENOMEM is returned.
 */
static enum lw_err
stream(struct scan_ctx *ctx, const char *part, struct cfb *c,
    const char *name, unsigned char **p, size_t *n)
{
	enum lw_err	 e;
	int		 i;

	*p = NULL;
	*n = 0;
	if ((i = cfb_find(c, name)) < 0 || (e = cfb_read(c, i, p, n)) ==
	    LW_OK)
		return LW_OK;
	*p = NULL;
	return e == LW_ENOMEM ? e : findings_add(ctx->fs, "OFFICE_MALFORMED",
	    part, "%s: %s", name, c->why);
}

/* The package with the key found: decrypted and analysed. */
static enum lw_err
open_package(struct scan_ctx *ctx, const char *part, struct cfb *c,
    unsigned depth, const struct ocinfo *a, const unsigned char *secret)
{
	unsigned char	*pkg, *plain = NULL;
	size_t		 npkg, nplain;
	char		*path;
	enum lw_err	 e;

	if ((e = stream(ctx, part, c, "EncryptedPackage", &pkg, &npkg)) !=
	    LW_OK || pkg == NULL)
		return e;
	e = decrypt_package(ctx, a, secret, pkg, npkg, &plain, &nplain);
	free(pkg);
	if (e == LW_EMALFORMED)
		return findings_add(ctx->fs, "OFFICE_MALFORMED", part,
		    "encrypted package does not decrypt");
	if (e != LW_OK)
		return e;
	if ((path = archive_join(part, "EncryptedPackage")) == NULL) {
		free(plain);
		return LW_ENOMEM;
	}
	e = content_analyze(ctx, path, NULL, NULL, plain, nplain, depth + 1);
	free(path);
	free(plain);
	return e;
}

/* The EncryptionInfo stream, parsed (*ok), or a finding says why not. */
static enum lw_err
read_info(struct scan_ctx *ctx, const char *part, struct cfb *c,
    struct ocinfo *a, bool *ok)
{
	unsigned char	*info;
	size_t		 ninfo;
	enum lw_err	 e;

	*ok = false;
	if ((e = stream(ctx, part, c, "EncryptionInfo", &info, &ninfo)) !=
	    LW_OK || info == NULL)
		return e;
	*ok = info_parse(info, ninfo, a);
	if (!*ok)
		e = findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "password-protected OOXML package (encryption version "
		    "%u.%u, not decrypted)", ninfo >= 4 ? le16(info) : 0,
		    ninfo >= 4 ? le16(info + 2) : 0);
	free(info);
	return e;
}

enum lw_err
officecrypt_scan(struct scan_ctx *ctx, const char *part, struct cfb *c,
    unsigned depth)
{
	struct ocinfo	 a;
	unsigned char	 secret[32];
	const char	*scheme;
	enum lw_err	 e;
	long		 which;
	bool		 ok;

	if ((e = read_info(ctx, part, c, &a, &ok)) != LW_OK || !ok)
		return e;
	scheme = a.scheme == OC_AGILE ? "agile" : "standard";
	if (a.spin > OC_MAX_SPIN &&
	    (e = findings_add(ctx->fs, "OFFICE_MALFORMED", part,
	    "encryption spinCount %u above %u", a.spin, OC_MAX_SPIN)) != LW_OK)
		return e;
	if (a.spin > OC_SANE_SPIN) {
		scan_log(ctx, LOG_INFO, "encrypted document %s: spinCount %u "
		    "above %u, password candidates not tried", part, a.spin,
		    OC_SANE_SPIN);
		return findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "password-protected OOXML package (%s encryption, "
		    "spinCount %u above %u: no password tried)", scheme,
		    a.spin, OC_SANE_SPIN);
	}
	if ((which = find_password(ctx, part, &a, secret)) < 0)
		return findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "password-protected OOXML package (%s encryption, no "
		    "password worked)", scheme);
	scan_log(ctx, LOG_INFO, "encrypted document %s (%s encryption) "
	    "opened with %s", part, scheme, which == 0 ?
	    "the default password" : "a password candidate");
	return open_package(ctx, part, c, depth, &a, secret);
}

enum lw_err
officecrypt_scan_key(struct scan_ctx *ctx, const char *part, struct cfb *c,
    unsigned depth, const unsigned char key[OFFICECRYPT_KEY])
{
	struct ocinfo	 a;
	unsigned char	 secret[32];
	enum lw_err	 e;
	bool		 ok;

	if ((e = read_info(ctx, part, c, &a, &ok)) != LW_OK || !ok)
		return e;
	/* key stands for the spun hash: the verifier code runs too. */
	(void)(a.scheme == OC_AGILE ? agile_open(&a, key, secret) :
	    standard_open(&a, key, secret));
	memcpy(secret, key, sizeof(secret));
	return open_package(ctx, part, c, depth, &a, secret);
}

/*
 * Word 97-2003 (MS-DOC 2.2.6): FibBase.fEncrypted in the WordDocument
 * stream; with RC4 or CryptoAPI RC4 the EncryptionHeader (lKey bytes)
 * opens the Table stream.  Word encrypts the text streams only: its
 * Macros storage stays plain and ovba.c reads it whatever the
 * password, and no stage reads Word's text streams, so a password that
 * opens the document is logged and nothing is decrypted.
 */
enum lw_err
officecrypt_scan_doc(struct scan_ctx *ctx, const char *part, struct cfb *c)
{
	unsigned char	*wd, *tbl;
	size_t		 nwd, ntbl, hlen;
	unsigned	 flags;
	const char	*scheme;
	struct rc4key	 k;
	enum lw_err	 e;
	long		 which;

	if ((e = stream(ctx, part, c, "WordDocument", &wd, &nwd)) != LW_OK ||
	    wd == NULL)
		return e;
	if (nwd < 0x12 || le16(wd) != FIB_IDENT ||
	    !((flags = le16(wd + 0x0a)) & FIB_ENCRYPTED)) {
		free(wd);
		return LW_OK;
	}
	hlen = le32(wd + 0x0e);			/* lKey */
	free(wd);
	if (flags & FIB_OBFUSCATED)
		return findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "encrypted Word document (XOR obfuscation)");
	if ((e = stream(ctx, part, c, flags & FIB_WHICHTBL ? "1Table" :
	    "0Table", &tbl, &ntbl)) != LW_OK || tbl == NULL)
		return e != LW_OK ? e : findings_add(ctx->fs,
		    "OFFICE_ENCRYPTED", part,
		    "encrypted Word document (no Table stream)");
	if (hlen > ntbl)
		hlen = ntbl;
	if ((scheme = rc4crypt_scheme(tbl, hlen)) == NULL)
		scheme = "unknown scheme";
	which = rc4crypt_find(ctx, part, tbl, hlen, &k);
	free(tbl);
	if (which < 0)
		return findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "encrypted Word document (%s), password unknown", scheme);
	scan_log(ctx, LOG_INFO, "encrypted Word document %s (%s) opened "
	    "with %s", part, scheme, which == 0 ? "the default password" :
	    "a password candidate");
	return LW_OK;
}

struct persist {
	uint32_t	 id, off, edit;		/* edit 0: the newest */
};

static int
persist_cmp(const void *a, const void *b)
{
	const struct persist	*x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->edit < y->edit ? -1 : x->edit > y->edit;
}

/* One PersistDirectoryAtom's entries appended to *v. */
static bool
ppt_dir_atom(const unsigned char *d, size_t len, size_t pd, uint32_t edit,
    struct persist **v, size_t *n, size_t *cap)
{
	struct persist	*nv;
	size_t		 p, end, cnt, k;
	uint32_t	 u;

	if (pd > len || len - pd < 8 || le16(d + pd + 2) != PPT_PERSISTDIR ||
	    le32(d + pd + 4) > len - pd - 8)
		return false;
	for (p = pd + 8, end = p + le32(d + pd + 4); end - p >= 4;) {
		u = le32(d + p);
		p += 4;
		if ((cnt = u >> 20) > (end - p) / 4)
			return false;
		for (k = 0; k < cnt; k++, p += 4) {
			/* No more entries than the stream has words. */
			if (*n >= len / 4)
				return false;
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				if ((nv = reallocarray(*v, *cap,
				    sizeof(**v))) == NULL)
					return false;
				*v = nv;
			}
			(*v)[*n].id = (u & 0xfffff) + (uint32_t)k;
			(*v)[*n].off = le32(d + p);
			(*v)[(*n)++].edit = edit;
		}
	}
	return true;
}

/*
 * The persist object directory (MS-PPT 2.1.2), sorted by identifier,
 * the newest offset of each; *crypt the current edit's
 * encryptSessionPersistIdRef (UINT32_MAX: none).
 */
static bool
ppt_directory(const unsigned char *d, size_t len, size_t edit,
    struct persist **out, size_t *nout, uint32_t *crypt)
{
	struct persist	*v = NULL;
	size_t		 n = 0, cap = 0, i, w, last;
	uint32_t	 k;

	*crypt = UINT32_MAX;
	for (k = 0; k < PPT_MAX_EDITS; k++) {
		if (edit > len || len - edit < 8 + 0x1c ||
		    le16(d + edit + 2) != PPT_USEREDIT ||
		    le32(d + edit + 4) < 0x1c ||
		    le32(d + edit + 4) > len - edit - 8)
			goto bad;
		if (k == 0 && le32(d + edit + 4) >= 0x20)
			*crypt = le32(d + edit + 8 + 28);
		if (!ppt_dir_atom(d, len, le32(d + edit + 8 + 12), k, &v, &n,
		    &cap))
			goto bad;
		/* Each edit further back: the chain ends. */
		if ((last = le32(d + edit + 8 + 8)) == 0 || last >= edit)
			break;
		edit = last;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), persist_cmp);
	for (i = 0, w = 0; i < n; i++)
		if (w == 0 || v[w - 1].id != v[i].id)
			v[w++] = v[i];
	*out = v;
	*nout = w;
	return true;
bad:
	free(v);
	return false;
}

static const struct persist *
persist_find(const struct persist *v, size_t n, uint32_t id)
{
	struct persist	 key = { id, 0, 0 };
	size_t		 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].id < key.id)
			lo = mid + 1;
		else if (v[mid].id > key.id)
			hi = mid;
		else
			return &v[mid];
	}
	return NULL;
}

/* Every persist object but the session, decrypted in place. */
static bool
ppt_decrypt(unsigned char *d, size_t len, const struct persist *v,
    size_t n, uint32_t crypt, const struct rc4key *k)
{
	unsigned char	 rh[8];
	size_t		 i, off, rl;

	for (i = 0; i < n; i++) {
		off = v[i].off;
		if (v[i].id == crypt || off > len || len - off < 8)
			continue;
		/* These two stay plain (MS-PPT 2.3.7). */
		if (le16(d + off + 2) == PPT_USEREDIT ||
		    le16(d + off + 2) == PPT_PERSISTDIR)
			continue;
		memcpy(rh, d + off, 8);
		if (!rc4crypt_block(k, v[i].id, rh, 8))
			return false;
		rl = le32(rh + 4);
		if (!rc4crypt_block(k, v[i].id, d + off, rl > len - off - 8 ?
		    len - off : 8 + rl))
			return false;
	}
	return true;
}

enum lw_err
officecrypt_scan_ppt(struct scan_ctx *ctx, const char *part, struct cfb *c,
    unsigned depth)
{
	const struct persist	*cs;
	struct persist		*v = NULL;
	struct rc4key		 k;
	unsigned char		*cu, *d;
	size_t			 ncu, len, nv, hlen, edit;
	const char		*scheme = "unknown scheme", *why = NULL;
	uint32_t		 crypt;
	enum lw_err		 e;
	long			 which;

	if ((e = stream(ctx, part, c, "Current User", &cu, &ncu)) != LW_OK ||
	    cu == NULL)
		return e;
	if (ncu < 20 || le16(cu + 2) != PPT_CURRENTUSER ||
	    le32(cu + 12) != PPT_ENCRYPTED) {
		free(cu);
		return LW_OK;
	}
	edit = le32(cu + 16);
	free(cu);
	if ((e = stream(ctx, part, c, "PowerPoint Document", &d, &len)) !=
	    LW_OK || d == NULL)
		return e;
	if (!ppt_directory(d, len, edit, &v, &nv, &crypt))
		why = "no persist directory";
	else if ((cs = persist_find(v, nv, crypt)) == NULL ||
	    cs->off > len || len - cs->off < 8 ||
	    le16(d + cs->off + 2) != PPT_CRYPTSESSION)
		why = "no CryptSession10Container";
	else {
		hlen = le32(d + cs->off + 4);
		if (hlen > len - cs->off - 8)
			hlen = len - cs->off - 8;
		if (rc4crypt_scheme(d + cs->off + 8, hlen) != NULL)
			scheme = rc4crypt_scheme(d + cs->off + 8, hlen);
		which = rc4crypt_find(ctx, part, d + cs->off + 8, hlen, &k);
		if (which < 0)
			why = "password unknown";
	}
	if (why != NULL) {
		e = findings_add(ctx->fs, "OFFICE_ENCRYPTED", part,
		    "encrypted presentation (%s), %s", scheme, why);
		goto out;
	}
	scan_log(ctx, LOG_INFO, "encrypted presentation %s (%s) opened with "
	    "%s", part, scheme, which == 0 ? "the default password" :
	    "a password candidate");
	if (!ppt_decrypt(d, len, v, nv, crypt, &k))
		e = LW_ENOMEM;
	else
		e = embedded_scan_ppt(ctx, part, d, len, depth);
out:
	free(v);
	free(d);
	return e;
}
