/*
 * sevenz.c: encrypted 7z archives (7zAES: AES-256-CBC), opened with the
 * message's password candidates.  libarchive reads 7z but decrypts
 * nothing, so what is needed of the 7z format is parsed here: the
 * signature header, an encoded (possibly encrypted) header, the
 * streams info (pack sizes, folders and their coders, unpack sizes and
 * CRCs, substreams) and the file names.
 *
 * A folder is a chain of coders with one input and one output each,
 * decoded by sevenz_dec.c (7zAES, Copy, LZMA, LZMA2, BCJ x86, Delta,
 * Deflate, BZip2); any other coder (PPMd, ARM64 ...) or a folder whose
 * coders have several streams (BCJ2) leaves the folder closed:
 * res->unsupported, its files' names still checked when libarchive did
 * not show them.
 *
 * The key is SHA-256 over 2^NumCyclesPower repetitions of (salt,
 * UTF-16LE password, 64-bit little-endian counter); 0x3F means no
 * hashing; above 24 is refused, as 7-Zip does (corrupt).  7z has no
 * password verifier: a candidate is right only when the folder decodes
 * and its CRC32 (the folder's, else every file's) matches.  Every
 * derivation is charged to ctx->kdf_ms: at most LW_KDF_FILE_MS per
 * archive and LW_KDF_MESSAGE_MS per message; candidates left untried
 * are counted and logged.  The derived key of the right candidate is
 * kept for the archive's other folders.
 *
 * Each file of an opened folder goes through content_analyze() one
 * level deeper under "<archive path>/<name>".  Bounds: a folder's
 * output is at most limits.archive_entry_bytes times 4 and what is
 * left of archive_total_bytes (a bigger one is ARCHIVE_LIMIT and stays
 * closed); at most limits.archive_entries files and folders; header
 * numbers are checked against the bytes that are there before any
 * allocation.  The parser is fuzzed with the key given (sevenz_fuzz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "bytes.h"
#include "lurewall.h"
#include "archive.h"
#include "content.h"
#include "filetype.h"
#include "log.h"
#include "pwcand.h"
#include "analyzer.h"
#include "cfb.h"
#include "sevenz.h"
#include "sevenz_int.h"
#include "util.h"

#define SZ_MAX_FOLDERS		256
#define SZ_MAX_CYCLES		24

enum {
	K_END = 0x00, K_HEADER = 0x01, K_ARCHIVE_PROPS = 0x02,
	K_ADD_STREAMS = 0x03, K_MAIN_STREAMS = 0x04, K_FILES = 0x05,
	K_PACK_INFO = 0x06, K_UNPACK_INFO = 0x07, K_SUBSTREAMS = 0x08,
	K_SIZE = 0x09, K_CRC = 0x0a, K_FOLDER = 0x0b, K_UNPACK_SIZE = 0x0c,
	K_NUM_UNPACK = 0x0d, K_EMPTY_STREAM = 0x0e, K_NAME = 0x11,
	K_ENCODED_HEADER = 0x17, K_DUMMY = 0x19
};

struct rd {
	const unsigned char	*p;
	size_t			 n, i;
	bool			 bad;
};

struct streams {
	struct folder	*f;
	size_t		 nf;
	uint64_t	*subsize;		/* per file with data */
	uint32_t	*subcrc;
	bool		*subhascrc;
	size_t		 nsub;
};

static uint8_t
rd_byte(struct rd *r)
{
	if (r->i >= r->n) {
		r->bad = true;
		return 0;
	}
	return r->p[r->i++];
}

/* 7z NUMBER: the first byte's leading 1 bits count the extra bytes. */
static uint64_t
rd_num(struct rd *r)
{
	uint8_t		 first = rd_byte(r), mask = 0x80;
	uint64_t	 v = 0;
	unsigned	 i;

	for (i = 0; i < 8; i++) {
		if ((first & mask) == 0) {
			v |= (uint64_t)(first & (mask - 1)) << (8 * i);
			return v;
		}
		v |= (uint64_t)rd_byte(r) << (8 * i);
		mask >>= 1;
	}
	return v;
}

static void
rd_skip(struct rd *r, uint64_t n)
{
	if (n > r->n - r->i) {
		r->bad = true;
		r->i = r->n;
	} else
		r->i += (size_t)n;
}

/* A count that must fit the bytes left (each item costs >= 1 byte). */
static uint64_t
rd_count(struct rd *r, uint64_t max)
{
	uint64_t	n = rd_num(r);

	if (n > max || n > r->n - r->i + 1)
		r->bad = true;
	return r->bad ? 0 : n;
}

static void
rd_digests(struct rd *r, size_t n, bool *has, uint32_t *crc)
{
	size_t	i;
	uint8_t	all = rd_byte(r), mask = 0, b = 0;

	for (i = 0; i < n && !r->bad; i++) {
		if (all)
			has[i] = true;
		else {
			if (mask == 0) {
				b = rd_byte(r);
				mask = 0x80;
			}
			has[i] = (b & mask) != 0;
			mask >>= 1;
		}
	}
	for (i = 0; i < n && !r->bad; i++)
		if (has[i]) {
			if (r->n - r->i < 4)
				r->bad = true;
			else {
				crc[i] = le32(r->p + r->i);
				r->i += 4;
			}
		}
}

static void
streams_free(struct streams *s)
{
	FREE_ALL(s->f, s->subsize, s->subcrc, s->subhascrc);
	memset(s, 0, sizeof(*s));
}

/*
 * One folder.  Coders with several streams (BCJ2 and friends) are read
 * so the header parses and the files keep their names, but such a
 * folder is no chain: sevenz_dec.c does not decode it.  For a chain,
 * order[] lists the coders from the one reading the packed stream to
 * the final one.
 */
static bool
rd_folder(struct rd *r, struct folder *f)
{
	unsigned	 i, k, nin = 0, nb, cur;
	unsigned	 bind_in[SZ_MAX_STREAMS], bind_out[SZ_MAX_STREAMS];
	bool		 bound_out[SZ_MAX_STREAMS] = { false };
	bool		 bound_in[SZ_MAX_STREAMS] = { false };
	uint64_t	 ni, no;
	uint8_t		 flag;

	f->nc = (unsigned)rd_count(r, SZ_MAX_CODERS);
	if (f->nc == 0)
		return false;
	f->chain = true;
	for (i = 0; i < f->nc && !r->bad; i++) {
		flag = rd_byte(r);
		f->c[i].idlen = flag & 0x0f;
		if (f->c[i].idlen > 8 || (flag & 0x80) != 0)
			return false;
		if (f->c[i].idlen > r->n - r->i)
			return false;
		memcpy(f->c[i].id, r->p + r->i, f->c[i].idlen);
		r->i += f->c[i].idlen;
		ni = no = 1;
		if (flag & 0x10) {
			ni = rd_num(r);
			no = rd_num(r);
			if (ni != 1 || no != 1)
				f->chain = false;	/* BCJ2 and friends */
		}
		if (ni > SZ_MAX_STREAMS - nin || no == 0 ||
		    no > SZ_MAX_STREAMS - f->nout)
			return false;
		nin += (unsigned)ni;
		f->nout += (unsigned)no;
		if (flag & 0x20) {
			f->c[i].nprops = (size_t)rd_num(r);
			if (f->c[i].nprops > r->n - r->i)
				return false;
			f->c[i].props = r->p + r->i;
			r->i += f->c[i].nprops;
		}
	}
	nb = f->nout - 1;
	for (i = 0; i < nb && !r->bad; i++) {
		bind_in[i] = (unsigned)rd_num(r);
		bind_out[i] = (unsigned)rd_num(r);
		if (bind_in[i] >= nin || bind_out[i] >= f->nout)
			return false;
		bound_in[bind_in[i]] = true;
		bound_out[bind_out[i]] = true;
	}
	if (r->bad || nin <= nb)
		return false;
	f->npacked = nin - nb;
	if (f->npacked > 1)
		for (i = 0; i < f->npacked; i++)
			if (rd_num(r) >= nin)
				return false;
	/* The final output: the one stream no coder reads. */
	for (f->final = 0; f->final < f->nout && bound_out[f->final];
	    f->final++)
		;
	if (r->bad || f->final == f->nout)
		return false;
	if (!f->chain)
		return true;
	/* A chain: stream k is coder k's; one packed stream feeds it. */
	for (cur = 0; cur < f->nc && bound_in[cur]; cur++)
		;
	if (cur == f->nc)
		return false;
	for (k = 0; k < f->nc; k++) {
		f->order[k] = cur;
		for (i = 0; i < nb && bind_out[i] != cur; i++)
			;
		if (i == nb)
			break;
		cur = bind_in[i];
	}
	return k == f->nc - 1 && f->order[k] == f->final;
}

static bool
rd_streams(struct rd *r, struct streams *s, uint64_t base, size_t len,
    const struct limits *lim)
{
	uint64_t	 packpos = 0, npack = 0, *packsize = NULL, pos;
	size_t		 i, k, j;
	uint8_t		 t;
	bool		 ok = false, insub = false, *has = NULL;
	uint32_t	*crc = NULL;

	memset(s, 0, sizeof(*s));
	t = rd_byte(r);
	if (t == K_PACK_INFO) {
		packpos = rd_num(r);
		npack = rd_count(r, SZ_MAX_FOLDERS);
		if ((packsize = calloc(npack + 1, sizeof(*packsize))) == NULL)
			return false;
		while (!r->bad && (t = rd_byte(r)) != K_END) {
			if (t == K_SIZE) {
				for (i = 0; i < npack; i++)
					packsize[i] = rd_num(r);
			} else if (t == K_CRC) {
				has = calloc(npack + 1, sizeof(*has));
				crc = calloc(npack + 1, sizeof(*crc));
				if (has == NULL || crc == NULL)
					goto out;
				rd_digests(r, npack, has, crc);
				free(has);
				free(crc);
				has = NULL;
				crc = NULL;
			} else
				goto out;
		}
		t = rd_byte(r);
	}
	if (t == K_UNPACK_INFO) {
		if (rd_byte(r) != K_FOLDER)
			goto out;
		s->nf = rd_count(r, SZ_MAX_FOLDERS);
		if (rd_byte(r) != 0)
			goto out;	/* external */
		if ((s->f = calloc(s->nf + 1, sizeof(*s->f))) == NULL)
			goto out;
		pos = base + packpos;
		for (i = 0, j = 0; i < s->nf && !r->bad; i++) {
			if (!rd_folder(r, &s->f[i]))
				goto out;
			/* Its packed streams follow the previous folder's. */
			if (s->f[i].npacked > npack - j)
				goto out;
			s->f[i].packpos = pos;
			for (k = 0; k < s->f[i].npacked; k++, j++) {
				if (packsize[j] > len || pos > len - packsize[j])
					goto out;
				pos += packsize[j];
				s->f[i].packsize += packsize[j];
			}
			s->f[i].nsub = 1;
		}
		if (j != npack || rd_byte(r) != K_UNPACK_SIZE)
			goto out;
		for (i = 0; i < s->nf; i++) {
			for (k = 0; k < s->f[i].nout; k++)
				s->f[i].usize[k] = rd_num(r);
			s->f[i].size = s->f[i].usize[s->f[i].final];
		}
		while (!r->bad && (t = rd_byte(r)) != K_END) {
			if (t != K_CRC)
				goto out;
			has = calloc(s->nf + 1, sizeof(*has));
			crc = calloc(s->nf + 1, sizeof(*crc));
			if (has == NULL || crc == NULL)
				goto out;
			rd_digests(r, s->nf, has, crc);
			for (i = 0; i < s->nf; i++) {
				s->f[i].has_crc = has[i];
				s->f[i].crc = crc[i];
			}
			free(has);
			free(crc);
			has = NULL;
			crc = NULL;
		}
		t = rd_byte(r);
	}
	/* Substreams: files per folder, their sizes and CRCs. */
	if (t == K_SUBSTREAMS) {
		insub = true;
		t = rd_byte(r);
		if (t == K_NUM_UNPACK) {
			for (i = 0; i < s->nf; i++)
				s->f[i].nsub = rd_count(r,
				    lim->archive_entries);
			t = rd_byte(r);
		}
	}
	for (i = 0; i < s->nf; i++)
		s->nsub += s->f[i].nsub;
	if (s->nsub > lim->archive_entries || r->bad)
		goto out;
	s->subsize = calloc(s->nsub + 1, sizeof(*s->subsize));
	s->subcrc = calloc(s->nsub + 1, sizeof(*s->subcrc));
	s->subhascrc = calloc(s->nsub + 1, sizeof(*s->subhascrc));
	if (s->subsize == NULL || s->subcrc == NULL || s->subhascrc == NULL)
		goto out;
	for (i = 0, j = 0; i < s->nf; i++) {
		uint64_t sum = 0;

		for (k = 0; k + 1 < s->f[i].nsub; k++) {
			s->subsize[j + k] = t == K_SIZE ? rd_num(r) : 0;
			if (s->subsize[j + k] > s->f[i].size - sum)
				goto out;
			sum += s->subsize[j + k];
		}
		if (s->f[i].nsub > 0)
			s->subsize[j + k] = s->f[i].size - sum;
		if (s->f[i].nsub == 1 && s->f[i].has_crc) {
			s->subhascrc[j] = true;
			s->subcrc[j] = s->f[i].crc;
		}
		j += s->f[i].nsub;
	}
	if (t == K_SIZE)
		t = rd_byte(r);
	if (t == K_CRC) {
		size_t	 nd = 0, d = 0;

		for (i = 0; i < s->nf; i++)
			if (!(s->f[i].nsub == 1 && s->f[i].has_crc))
				nd += s->f[i].nsub;
		has = calloc(nd + 1, sizeof(*has));
		crc = calloc(nd + 1, sizeof(*crc));
		if (has == NULL || crc == NULL)
			goto out;
		rd_digests(r, nd, has, crc);
		for (i = 0, j = 0; i < s->nf; i++) {
			if (s->f[i].nsub == 1 && s->f[i].has_crc) {
				j++;
				continue;
			}
			for (k = 0; k < s->f[i].nsub; k++, j++, d++) {
				s->subhascrc[j] = has[d];
				s->subcrc[j] = crc[d];
			}
		}
		t = rd_byte(r);
	}
	while (t != K_END && !r->bad)
		t = rd_byte(r);
	/* The substreams' end, then the streams info's own. */
	if (insub && !r->bad && rd_byte(r) != K_END)
		goto out;
	ok = !r->bad;
out:
	free(packsize);
	free(has);
	free(crc);
	if (!ok)
		streams_free(s);
	return ok;
}

/* 7zAES key from a password, bounded and charged to the budget. */
static bool
derive_key(struct scan_ctx *ctx, const char *pw, unsigned cycles,
    const unsigned char *salt, size_t nsalt, unsigned char key[32])
{
	unsigned char	*buf, u16[2 * 256];
	size_t		 pl = 0, unit, batch, k, i;
	uint64_t	 rounds, done = 0;
	EVP_MD_CTX	*md;
	bool		 ok = false;

	for (i = 0; pw[i] != '\0' && pl < sizeof(u16) - 2; i++) {
		/* Candidates are UTF-8; non-ASCII ones as Latin-1 code units. */
		u16[pl++] = (unsigned char)pw[i];
		u16[pl++] = 0;
	}
	if (cycles == 0x3f) {
		memset(key, 0, 32);
		memcpy(key, salt, nsalt > 32 ? 32 : nsalt);
		if (nsalt < 32)
			memcpy(key + nsalt, u16, pl > 32 - nsalt ? 32 - nsalt :
			    pl);
		return true;
	}
	rounds = (uint64_t)1 << cycles;
	unit = nsalt + pl + 8;
	batch = 1024;
	if ((buf = malloc(unit * batch)) == NULL)
		return false;
	for (k = 0; k < batch; k++) {
		memcpy(buf + k * unit, salt, nsalt);
		memcpy(buf + k * unit + nsalt, u16, pl);
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	while (done < rounds) {
		size_t n = rounds - done < batch ? (size_t)(rounds - done) :
		    batch;

		for (k = 0; k < n; k++) {
			uint64_t c = done + k;
			unsigned char *q = buf + k * unit + nsalt + pl;

			for (i = 0; i < 8; i++)
				q[i] = (unsigned char)(c >> (8 * i));
		}
		if (EVP_DigestUpdate(md, buf, n * unit) != 1)
			goto out;
		done += n;
	}
	ok = EVP_DigestFinal_ex(md, key, NULL) == 1;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	return ok;
}

/* Does the folder's output check out against its CRCs? */
static bool
folder_crc_ok(const struct folder *f, const struct streams *s, size_t sub0,
    const unsigned char *out)
{
	size_t	 k, off = 0;
	bool	 checked = false;

	if (f->has_crc) {
		if ((uint32_t)crc32(0, out, (uInt)f->size) != f->crc)
			return false;
		checked = true;
	}
	for (k = 0; k < f->nsub; k++) {
		if (s->subhascrc[sub0 + k]) {
			if ((uint32_t)crc32(0, out + off,
			    (uInt)s->subsize[sub0 + k]) != s->subcrc[sub0 + k])
				return false;
			checked = true;
		}
		off += (size_t)s->subsize[sub0 + k];
	}
	return checked;
}

struct sz {
	struct scan_ctx		*ctx;
	struct sevenz_result	*res;
	const unsigned char	*d;
	size_t			 len;
	const struct sevenz_key	*given;		/* fuzzing: no derivation */
	unsigned char		 key[32];
	bool			 have_key;
	uint64_t		 kdf_ms;	/* this archive's */
};

/* AES props: cycles, salt. */
static bool
aes_props(const struct folder *f, unsigned *cycles,
    const unsigned char **salt, size_t *nsalt)
{
	unsigned	k;

	for (k = 0; k < f->nc; k++) {
		const struct coder *c = &f->c[k];

		if (!sz_is_id(c, "\x06\xf1\x07\x01", 4))
			continue;
		if (c->nprops < 1)
			return false;
		*cycles = c->props[0] & 0x3f;
		/* No salt is an empty one: memcpy wants a pointer even so. */
		*nsalt = 0;
		*salt = c->props;
		if (c->props[0] & 0xc0) {
			if (c->nprops < 2)
				return false;
			*nsalt = ((c->props[0] >> 7) & 1) + (c->props[1] >> 4);
			if (2 + *nsalt > c->nprops)
				return false;
			*salt = c->props + 2;
		}
		return true;
	}
	return false;
}

/*
 * Open one folder: without a key, with the key already found, or with
 * each password candidate in turn.  *out on DEC_OK.
 */
static enum dec
open_folder(struct sz *z, const struct folder *f, const struct streams *s,
    size_t sub0, uint64_t max, unsigned char **out)
{
	const struct pwcands	*pw = z->ctx->pw;
	const unsigned char	*salt;
	size_t			 nsalt, k;
	unsigned		 cycles;
	uint64_t		 t0;
	enum dec		 r;

	if (!sz_folder_encrypted(f)) {
		r = sz_folder_decode(f, z->d, NULL, max, out);
		if (r == DEC_OK && (f->has_crc || s == NULL) &&
		    s != NULL && !folder_crc_ok(f, s, sub0, *out)) {
			free(*out);
			*out = NULL;
			r = DEC_BAD;
		}
		return r;
	}
	z->res->encrypted = true;
	if (!sz_folder_supported(f))
		return DEC_UNSUPPORTED;	/* before any key derivation */
	if (!aes_props(f, &cycles, &salt, &nsalt))
		return DEC_BAD;
	if (cycles > SZ_MAX_CYCLES && cycles != 0x3f) {
		z->res->corrupt = true;
		return DEC_BAD;
	}
	if (z->given != NULL) {
		memcpy(z->key, z->given->key, 32);
		z->have_key = true;
	}
	if (z->have_key) {
		r = sz_folder_decode(f, z->d, z->key, max, out);
		if (r == DEC_OK && s != NULL && !folder_crc_ok(f, s, sub0,
		    *out) && f->has_crc) {
			free(*out);
			*out = NULL;
			r = DEC_BAD;
		}
		if (r != DEC_BAD || z->given != NULL)
			return r;
	}
	for (k = 0; pw != NULL && k < pw->n; k++) {
		if (scan_expired(z->ctx))
			return DEC_BAD;
		if (scan_kdf_left(z->ctx, z->kdf_ms) == 0) {
			z->res->skipped += (unsigned)(pw->n - k);
			break;
		}
		t0 = lw_cpu_ms();
		if (!derive_key(z->ctx, pw->v[k], cycles, salt, nsalt, z->key))
			return DEC_ENOMEM;
		z->kdf_ms += lw_cpu_ms() - t0;
		z->ctx->kdf_ms += lw_cpu_ms() - t0;
		r = sz_folder_decode(f, z->d, z->key, max, out);
		if (r == DEC_UNSUPPORTED || r == DEC_ENOMEM)
			return r;
		if (r == DEC_OK && (s == NULL || folder_crc_ok(f, s, sub0,
		    *out))) {
			z->have_key = true;
			z->res->pw_idx = k;
			z->res->pw = pw->v[k];
			return DEC_OK;
		}
		free(*out);
		*out = NULL;
	}
	return DEC_BAD;
}

/* Names of the files with data, in stream order (UTF-8, malloc'd). */
static char **
file_names(struct rd *r, size_t nsub, size_t *nnames)
{
	uint64_t	 nfiles, size;
	size_t		 i, k, w = 0, end;
	uint8_t		 t;
	bool		*empty = NULL;
	char		**names = NULL;
	const unsigned char *nm = NULL;
	size_t		 nmlen = 0;

	*nnames = 0;
	nfiles = rd_count(r, 100000);
	if (r->bad || nfiles == 0)
		return NULL;
	if ((empty = calloc(nfiles, sizeof(*empty))) == NULL)
		return NULL;
	while (!r->bad && (t = rd_byte(r)) != K_END) {
		size = rd_num(r);
		if (size > r->n - r->i) {
			r->bad = true;
			break;
		}
		end = r->i + (size_t)size;
		if (t == K_EMPTY_STREAM) {
			uint8_t b = 0, mask = 0;

			for (i = 0; i < nfiles && r->i < end; i++) {
				if (mask == 0) {
					b = r->p[r->i++];
					mask = 0x80;
				}
				empty[i] = (b & mask) != 0;
				mask >>= 1;
			}
		} else if (t == K_NAME && size > 1 && r->p[r->i] == 0) {
			nm = r->p + r->i + 1;
			nmlen = (size_t)size - 1;
		}
		r->i = end;
	}
	if (nm == NULL || (names = calloc(nsub + 1, sizeof(*names))) == NULL)
		goto out;
	for (i = 0, k = 0; i < nfiles && k + 1 < nmlen; i++) {
		size_t st = k;

		while (k + 1 < nmlen && (nm[k] != 0 || nm[k + 1] != 0))
			k += 2;
		if (!empty[i] && w < nsub) {
			names[w] = cfb_utf16(nm + st, k - st);
			if (names[w] == NULL)
				names[w] = lw_strdup("");
			w++;
		}
		k += 2;
	}
	*nnames = w;
out:
	free(empty);
	return names;
}

/*
 * The names of a folder's files when it stays closed: checked here
 * only when libarchive showed none (all: headers encrypted, or a folder
 * libarchive could not even list, such as encrypted BCJ2).
 */
static enum lw_err
closed_names(struct scan_ctx *ctx, const char *path, char **names,
    size_t nnames, size_t sub0, uint64_t nsub, bool all)
{
	const char	*nm, *slash;
	char		*epath;
	size_t		 k;

	for (k = 0; all && k < nsub && sub0 + k < nnames; k++) {
		if ((nm = names[sub0 + k]) == NULL || *nm == '\0')
			continue;
		if ((epath = archive_join(path, nm)) == NULL)
			return LW_ENOMEM;
		slash = strrchr(nm, '/');
		filetype_check_name(ctx, epath, slash != NULL ? slash + 1 : nm);
		free(epath);
	}
	return LW_OK;
}

static void
skip_props(struct rd *r)
{
	uint8_t	t;

	while (!r->bad && (t = rd_byte(r)) != K_END)
		rd_skip(r, rd_num(r));
}

enum lw_err
sevenz_scan(struct scan_ctx *ctx, const char *path, const unsigned char *d,
    size_t len, unsigned depth, bool all, const struct sevenz_key *given,
    struct sevenz_result *res)
{
	struct streams	 hs = { 0 }, s = { 0 };
	struct sz	 z;
	struct rd	 r;
	unsigned char	*hdr = NULL, *out;
	char		**names = NULL, *epath, leaf[32];
	size_t		 nnames = 0, i, k, sub0 = 0, off;
	uint64_t	 hoff, hsize, max;
	enum lw_err	 e = LW_OK;
	enum dec	 dr;
	uint8_t		 t;

	memset(res, 0, sizeof(*res));
	memset(&z, 0, sizeof(z));
	z.ctx = ctx;
	z.res = res;
	z.d = d;
	z.len = len;
	z.given = given;
	if (len < 32 || memcmp(d, "7z\xbc\xaf\x27\x1c", 6) != 0) {
		res->corrupt = true;
		return LW_OK;
	}
	hoff = le64(d + 12);
	hsize = le64(d + 20);
	if (hoff > len - 32 || hsize > len - 32 - hoff) {
		res->corrupt = true;
		return LW_OK;
	}
	r.p = d + 32 + hoff;
	r.n = (size_t)hsize;
	r.i = 0;
	r.bad = false;
	t = rd_byte(&r);
	if (t == K_ENCODED_HEADER) {
		if (!rd_streams(&r, &hs, 32, len, ctx->lim) || hs.nf != 1) {
			res->corrupt = true;
			goto out;
		}
		dr = open_folder(&z, &hs.f[0], &hs, 0,
		    ctx->lim->office_stream_bytes, &hdr);
		if (dr == DEC_ENOMEM) {
			e = LW_ENOMEM;
			goto out;
		}
		if (dr != DEC_OK) {
			if (sz_folder_encrypted(&hs.f[0]))
				res->header_closed = true;
			else
				res->corrupt = true;
			if (dr == DEC_UNSUPPORTED)
				res->unsupported++;
			goto out;
		}
		r.p = hdr;
		r.n = (size_t)hs.f[0].size;
		r.i = 0;
		t = rd_byte(&r);
		/* An encrypted header hid every name from libarchive. */
		if (sz_folder_encrypted(&hs.f[0]))
			all = true;
	}
	if (t != K_HEADER) {
		res->corrupt = true;
		goto out;
	}
	t = rd_byte(&r);
	if (t == K_ARCHIVE_PROPS) {
		skip_props(&r);
		t = rd_byte(&r);
	}
	if (t == K_ADD_STREAMS) {
		struct streams add;

		if (!rd_streams(&r, &add, 32, len, ctx->lim)) {
			res->corrupt = true;
			goto out;
		}
		streams_free(&add);
		t = rd_byte(&r);
	}
	if (t == K_MAIN_STREAMS) {
		if (!rd_streams(&r, &s, 32, len, ctx->lim)) {
			res->corrupt = true;
			goto out;
		}
		t = rd_byte(&r);
	}
	if (t == K_FILES)
		names = file_names(&r, s.nsub, &nnames);
	for (i = 0; i < s.nf && e == LW_OK; sub0 += s.f[i].nsub, i++) {
		const struct folder *f = &s.f[i];

		if (!all && !sz_folder_encrypted(f))
			continue;
		if (sz_folder_encrypted(f))
			res->nfolders++;
		if (scan_expired(ctx))
			break;
		max = ctx->lim->archive_entry_bytes * 4;
		if (max > ctx->lim->archive_total_bytes - ctx->inflated)
			max = ctx->lim->archive_total_bytes - ctx->inflated;
		if (f->size > max) {
			archive_limit(ctx, path, "archive_total_bytes",
			    ctx->lim->archive_total_bytes);
			res->closed++;
			e = closed_names(ctx, path, names, nnames, sub0, f->nsub,
			    all);
			continue;
		}
		dr = open_folder(&z, f, &s, sub0, max, &out);
		if (dr == DEC_ENOMEM) {
			e = LW_ENOMEM;
			break;
		}
		if (dr != DEC_OK) {
			if (dr == DEC_UNSUPPORTED)
				res->unsupported++;
			else if (sz_folder_encrypted(f))
				res->closed++;
			else
				res->corrupt = true;
			e = closed_names(ctx, path, names, nnames, sub0, f->nsub,
			    all);
			continue;
		}
		if (sz_folder_encrypted(f))
			res->opened++;
		ctx->inflated += f->size;
		for (k = 0, off = 0; k < f->nsub && e == LW_OK; k++) {
			const char *nm = sub0 + k < nnames ?
			    names[sub0 + k] : NULL;

			if (nm == NULL || *nm == '\0') {
				snprintf(leaf, sizeof(leaf), "stream-%zu",
				    sub0 + k + 1);
				nm = leaf;
			}
			if ((epath = archive_join(path, nm)) == NULL) {
				e = LW_ENOMEM;
				break;
			}
			e = content_analyze(ctx, epath, nm == leaf ? NULL :
			    (strrchr(nm, '/') != NULL ? strrchr(nm, '/') + 1 :
			    nm), NULL, out + off, (size_t)s.subsize[sub0 + k],
			    depth + 1);
			free(epath);
			off += (size_t)s.subsize[sub0 + k];
		}
		free(out);
	}
	if (res->skipped > 0)
		scan_log(ctx, LOG_INFO, "7z %s: key derivation budget spent,"
		    " %u password candidates not tried", path, res->skipped);
out:
	if (names != NULL)
		for (i = 0; i < nnames; i++)
			free(names[i]);
	free(names);
	free(hdr);
	streams_free(&hs);
	streams_free(&s);
	return e;
}
