/*
 * quarantine.c: the durable store of held messages (see quarantine.h
 * for the layout).
 *
 * Takes a raw message, the envelope and the scan result; writes one
 * item directory under tmp/, fsyncs its files and itself, renames it
 * into new/ and fsyncs new/, so an item is visible whole or not at all
 * and survives a crash once quarantine_store returned LW_OK.  Metadata
 * is one "key value" line per field, values escaped (backslash, CR,
 * LF, TAB and other control bytes as \\ \r \n \t \xHH), so attacker
 * text can never forge a line; bytes >= 0x80 are kept as they came.
 * Readers bound what they read (QUARANTINE_META_MAX) and reject any
 * line they cannot parse.  Everything is done relative to directory
 * descriptors opened once, with ids checked by quarantine_id_valid, so
 * no path from outside ever reaches the file system.
 *
 * The release HMAC key is a 32-byte file created once (written under
 * tmp/, linked into place, so two processes racing to create it agree).
 * When root creates anything in a directory owned by someone else (the
 * CLI run by root on the milter user's store), it gives it to that
 * owner, so the milter can still read and delete it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bytes.h"
#include "config.h"
#include "lurewall.h"
#include "mime.h"
#include "quarantine.h"
#include "scan.h"
#include "verdict.h"

#define QUARANTINE_META_MAX	(16u << 20)	/* metadata file bytes */
#define QUARANTINE_SECRET_LEN	32
#define QUARANTINE_STALE_SECS	60		/* tmp/ entries older: dead */
#define META_MAGIC		"lurewall-quarantine 1"
#define RELEASED_MAGIC		"lurewall-released 1"

struct quarantine {
	char		*dir;
	int		 dirfd;
	int		 tmpfd;
	int		 newfd;
	uid_t		 uid;		/* owner of dir */
	gid_t		 gid;
	bool		 chown;		/* we are root, dir is not ours */
	unsigned char	 secret[QUARANTINE_SECRET_LEN];
};

/* A growable string; oom is sticky so callers check once at the end. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

static void
sb_add(struct sbuf *sb, const void *p, size_t n)
{
	size_t	 cap;
	char	*np;

	if (sb->oom)
		return;
	if (n + 1 > sb->cap - sb->len || sb->p == NULL) {
		cap = sb->cap ? sb->cap : 1024;
		while (n + 1 > cap - sb->len) {
			if (cap > SIZE_MAX / 2) {
				sb->oom = true;
				return;
			}
			cap *= 2;
		}
		if ((np = realloc(sb->p, cap)) == NULL) {
			sb->oom = true;
			return;
		}
		sb->p = np;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, p, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

static void
sb_puts(struct sbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

static void sb_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	char	buf[128];
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(buf)) {
		sb->oom = true;		/* only used for short numbers */
		return;
	}
	sb_add(sb, buf, (size_t)r);
}

/* Escape a value so it fits on one line with no TAB in it. */
static void
sb_esc(struct sbuf *sb, const char *s)
{
	static const char	hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			 e[4];

	for (; *p != '\0'; p++) {
		if (*p == '\\')
			sb_add(sb, "\\\\", 2);
		else if (*p == '\n')
			sb_add(sb, "\\n", 2);
		else if (*p == '\r')
			sb_add(sb, "\\r", 2);
		else if (*p == '\t')
			sb_add(sb, "\\t", 2);
		else if (*p < 0x20 || *p == 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[*p >> 4];
			e[3] = hex[*p & 15];
			sb_add(sb, e, 4);
		} else
			sb_add(sb, p, 1);
	}
}

static void
sb_field(struct sbuf *sb, const char *key, const char *val)
{
	if (val == NULL)
		return;
	sb_puts(sb, key);
	sb_add(sb, " ", 1);
	sb_esc(sb, val);
	sb_add(sb, "\n", 1);
}

bool
quarantine_id_valid(const char *id)
{
	size_t	i;

	if (id == NULL || id[0] == '\0' || id[0] == '.' || id[0] == '-')
		return false;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= QUARANTINE_ID_MAX - 1)
			return false;
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') ||
		    id[i] == '-' || id[i] == '_' || id[i] == '.'))
			return false;
	}
	return true;
}

const char *
quarantine_dir(const struct quarantine *q)
{
	return q->dir;
}

/* Give what root created in someone else's store to the store's owner. */
static void
give(const struct quarantine *q, int fd)
{
	if (q->chown && fchown(fd, q->uid, q->gid) == -1)
		(void)0;	/* best effort: 0700/0600 keep it private */
}

static enum lw_err
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 w;

	while (len > 0) {
		w = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return LW_EIO;
		}
		p += w;
		len -= (size_t)w;
	}
	return LW_OK;
}

/* Create name in dfd with exactly these bytes, fsync'd. */
static enum lw_err
write_file(const struct quarantine *q, int dfd, const char *name,
    const void *buf, size_t len)
{
	int	fd, saved;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return LW_EIO;
	give(q, fd);
	if (write_all(fd, buf, len) != LW_OK || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlinkat(dfd, name, 0);
		errno = saved;
		return LW_EIO;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlinkat(dfd, name, 0);
		errno = saved;
		return LW_EIO;
	}
	return LW_OK;
}

/*
 * Replace one file of an item (meta, released) whole: write NAME.tmp.X
 * in the item's directory, rename it over NAME, fsync the directory.
 * A reader sees the old file or the new one, never a torn one.
 */
static enum lw_err
item_replace(struct quarantine *q, const char *id, const char *name,
    const char *data, size_t len)
{
	char		tmpname[64];
	unsigned	tag;
	enum lw_err	e = LW_EIO;
	int		ifd, saved;

	if ((ifd = openat(q->newfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		goto out;
	snprintf(tmpname, sizeof(tmpname), "%s.tmp.%08x", name, tag);
	if ((e = write_file(q, ifd, tmpname, data, len)) != LW_OK)
		goto out;
	if (renameat(ifd, tmpname, ifd, name) == -1 || fsync(ifd) == -1) {
		saved = errno;
		unlinkat(ifd, tmpname, 0);
		errno = saved;
		e = LW_EIO;
	}
out:
	saved = errno;
	close(ifd);
	errno = saved;
	return e;
}

/* Read a whole file (at most max bytes) relative to dfd. */
static enum lw_err
read_file(int dfd, const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat	 st;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap;
	ssize_t		 r;
	int		 fd, saved;

	*out = NULL;
	*outlen = 0;
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return errno == ENOENT || errno == ENOTDIR ? LW_ENOTFOUND :
		    LW_EIO;
	if (fstat(fd, &st) == -1)
		goto out_io;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return LW_EMALFORMED;
	}
	/* The size only sizes the first buffer; we read to the real end. */
	cap = st.st_size > 0 && (uint64_t)st.st_size < max ?
	    (size_t)st.st_size + 1 : 4096;
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return LW_ENOMEM;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max) {
				free(buf);
				close(fd);
				return LW_ELIMIT;
			}
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				close(fd);
				return LW_ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto out_io;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		free(buf);
		close(fd);
		return LW_ELIMIT;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	*outlen = len;
	return LW_OK;

out_io:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return LW_EIO;
}

static enum lw_err
make_dir(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0700) == -1 && errno != EEXIST)
		return LW_EIO;
	return LW_OK;
}

static enum lw_err
load_secret(struct quarantine *q)
{
	unsigned char	 rnd[QUARANTINE_SECRET_LEN];
	char		*buf, tmpname[64];
	size_t		 len;
	enum lw_err	 e;
	unsigned	 tag;

	e = read_file(q->dirfd, "secret", 4096, &buf, &len);
	if (e == LW_ENOTFOUND) {
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd) ||
		    getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
			return LW_EIO;
		snprintf(tmpname, sizeof(tmpname), "secret.%u.%08x",
		    (unsigned)getpid(), tag);
		if ((e = write_file(q, q->tmpfd, tmpname, rnd,
		    sizeof(rnd))) != LW_OK)
			return e;
		/* link, not rename: whoever comes first wins, both agree. */
		if (linkat(q->tmpfd, tmpname, q->dirfd, "secret", 0) == -1 &&
		    errno != EEXIST) {
			int saved = errno;
			unlinkat(q->tmpfd, tmpname, 0);
			errno = saved;
			return LW_EIO;
		}
		unlinkat(q->tmpfd, tmpname, 0);
		if (fsync(q->dirfd) == -1)
			return LW_EIO;
		OPENSSL_cleanse(rnd, sizeof(rnd));
		e = read_file(q->dirfd, "secret", 4096, &buf, &len);
	}
	if (e != LW_OK)
		return e;
	if (len != QUARANTINE_SECRET_LEN) {
		free(buf);
		errno = EINVAL;
		return LW_EMALFORMED;
	}
	memcpy(q->secret, buf, QUARANTINE_SECRET_LEN);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return LW_OK;
}

enum lw_err
quarantine_open(const char *dir, struct quarantine **out)
{
	struct quarantine	*q;
	struct stat		 st;
	enum lw_err		 e = LW_EIO;
	int			 saved;

	*out = NULL;
	if (dir == NULL || *dir == '\0') {
		errno = EINVAL;
		return LW_EINVAL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return LW_ENOMEM;
	q->dirfd = q->tmpfd = q->newfd = -1;
	if ((q->dir = strdup(dir)) == NULL) {
		free(q);
		return LW_ENOMEM;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto out_close;
	if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out_close;
	if (fstat(q->dirfd, &st) == -1)
		goto out_close;
	q->uid = st.st_uid;
	q->gid = st.st_gid;
	q->chown = geteuid() == 0 && st.st_uid != 0;
	if (make_dir(q->dirfd, "tmp") != LW_OK ||
	    make_dir(q->dirfd, "new") != LW_OK)
		goto out_close;
	q->tmpfd = openat(q->dirfd, "tmp", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);
	q->newfd = openat(q->dirfd, "new", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);
	if (q->tmpfd == -1 || q->newfd == -1)
		goto out_close;
	give(q, q->tmpfd);
	give(q, q->newfd);
	if ((e = load_secret(q)) != LW_OK)
		goto out_close;
	*out = q;
	return LW_OK;

out_close:
	saved = errno;
	quarantine_close(q);
	errno = saved;
	return e;
}

enum lw_err
quarantine_open_ro(const char *dir, struct quarantine **out)
{
	struct quarantine	*q;
	char			*buf;
	size_t			 len;
	enum lw_err		 e = LW_EIO;
	int			 saved;

	*out = NULL;
	if (dir == NULL || *dir == '\0') {
		errno = EINVAL;
		return LW_EINVAL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return LW_ENOMEM;
	q->dirfd = q->tmpfd = q->newfd = -1;
	if ((q->dir = strdup(dir)) == NULL) {
		free(q);
		return LW_ENOMEM;
	}
	if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (q->newfd = openat(q->dirfd, "new", O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		goto out_close;
	/* The key the daemon made; without it nothing verifies. */
	if ((e = read_file(q->dirfd, "secret", 4096, &buf, &len)) != LW_OK)
		goto out_close;
	if (len != QUARANTINE_SECRET_LEN) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		e = LW_EMALFORMED;
		goto out_close;
	}
	memcpy(q->secret, buf, QUARANTINE_SECRET_LEN);
	OPENSSL_cleanse(buf, len);
	free(buf);
	*out = q;
	return LW_OK;

out_close:
	saved = errno;
	quarantine_close(q);
	errno = saved;
	return e;
}

void
quarantine_close(struct quarantine *q)
{
	if (q == NULL)
		return;
	if (q->dirfd != -1)
		close(q->dirfd);
	if (q->tmpfd != -1)
		close(q->tmpfd);
	if (q->newfd != -1)
		close(q->newfd);
	OPENSSL_cleanse(q->secret, sizeof(q->secret));
	free(q->dir);
	free(q);
}

/*
 * "20250101T120000-89abcdef" (UTC): sorts by time, short enough for a
 * terminal line; mkdirat's EEXIST makes a clash a retry.
 */
static enum lw_err
make_id(time_t when, char id[QUARANTINE_ID_MAX])
{
	unsigned char	rnd[4];
	struct tm	tm;
	size_t		i, n;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return LW_EIO;
	if (gmtime_r(&when, &tm) == NULL)
		return LW_EINVAL;
	n = strftime(id, QUARANTINE_ID_MAX, "%Y%m%dT%H%M%S-", &tm);
	if (n == 0)
		return LW_EINVAL;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(id + n + 2 * i, QUARANTINE_ID_MAX - n - 2 * i,
		    "%02x", rnd[i]);
	return LW_OK;
}

static const char *
action_name(enum lw_action a)
{
	switch (a) {
	case ACT_ACCEPT:	return "accept";
	case ACT_TAG:		return "tag";
	case ACT_QUARANTINE:	return "quarantine";
	case ACT_REJECT:	return "reject";
	case ACT_TEMPFAIL:	return "tempfail";
	}
	return "unknown";
}

static void
sha256_hex(const unsigned char *raw, size_t len, char hex[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned	mdlen = 0, i;

	if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		memset(hex, '0', 64);	/* verify will then report it */
		hex[64] = '\0';
		return;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The split PPAP fields of x, as metadata lines. */
static void
extra_build(struct sbuf *sb, const struct quarantine_extra *x)
{
	if (x == NULL)
		return;
	sb_field(sb, "state", x->state);
	if (x->expires != 0)
		sb_printf(sb, "expires %lld\n", (long long)x->expires);
	sb_field(sb, "on_timeout", x->on_timeout);
	sb_field(sb, "reason", x->reason);
	sb_field(sb, "message_id", x->message_id);
	sb_field(sb, "result", x->result);
}

/* The verdict's lines: score, action, rules, findings. */
static void
verdict_build(struct sbuf *sb, const struct verdict *v)
{
	size_t	i;

	sb_printf(sb, "score %d\n", v->score);
	sb_field(sb, "action", action_name(v->action));
	sb_field(sb, "rules", v->rules);
	for (i = 0; i < v->findings.n; i++) {
		const struct finding *f = &v->findings.v[i];

		sb_puts(sb, "finding ");
		sb_esc(sb, f->rule != NULL ? f->rule : "");
		sb_printf(sb, "\t%d\t", f->score);
		sb_esc(sb, f->part != NULL ? f->part : "");
		sb_add(sb, "\t", 1);
		sb_esc(sb, f->detail != NULL ? f->detail : "");
		sb_add(sb, "\n", 1);
	}
}

static char *
meta_build(const char *id, time_t when, const unsigned char *raw,
    size_t len, const struct envelope *env, const struct scan_result *res,
    const struct quarantine_extra *x)
{
	struct sbuf		 sb = { 0 };
	const struct verdict	*v = res != NULL ? res->verdict : NULL;
	const struct message	*m = res != NULL ? res->msg : NULL;
	char			 hex[65];
	size_t			 i;

	sb_puts(&sb, META_MAGIC "\n");
	sb_field(&sb, "id", id);
	sb_printf(&sb, "time %lld\n", (long long)when);
	if (env != NULL) {
		sb_field(&sb, "qid", env->qid);
		sb_field(&sb, "client_addr", env->client_addr);
		sb_field(&sb, "client_name", env->client_name);
		sb_field(&sb, "helo", env->helo);
		sb_field(&sb, "mail_from", env->mail_from);
		for (i = 0; i < env->nrcpts; i++)
			sb_field(&sb, "rcpt", env->rcpts[i]);
	}
	if (m != NULL) {
		sb_field(&sb, "from", m->from.addr);
		sb_field(&sb, "from_display", m->from.display);
		sb_field(&sb, "subject", m->subject);
	}
	if (v != NULL)
		verdict_build(&sb, v);
	sb_printf(&sb, "size %llu\n", (unsigned long long)len);
	sha256_hex(raw, len, hex);
	sb_field(&sb, "sha256", hex);
	extra_build(&sb, x);
	if (sb.oom) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}

/* Remove a file, or a directory of files (our items never nest). */
static int
rm_entry(int dfd, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1 && errno != ENOENT)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

enum lw_err
quarantine_store_at(struct quarantine *q, const unsigned char *raw,
    size_t len, const struct envelope *env, const struct scan_result *res,
    time_t when, char id[QUARANTINE_ID_MAX])
{
	return quarantine_store_extra(q, raw, len, env, res, NULL, when, id);
}

enum lw_err
quarantine_store_extra(struct quarantine *q, const unsigned char *raw,
    size_t len, const struct envelope *env, const struct scan_result *res,
    const struct quarantine_extra *x, time_t when,
    char id[QUARANTINE_ID_MAX])
{
	char		*meta;
	enum lw_err	 e;
	int		 ifd = -1, tries, saved;

	id[0] = '\0';
	for (tries = 0;; tries++) {
		if ((e = make_id(when, id)) != LW_OK)
			return e;
		if (mkdirat(q->tmpfd, id, 0700) == 0)
			break;
		if (errno != EEXIST || tries == 4)
			return LW_EIO;
	}
	if ((meta = meta_build(id, when, raw, len, env, res, x)) == NULL) {
		e = LW_ENOMEM;
		goto out_rm;
	}
	ifd = openat(q->tmpfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (ifd == -1) {
		e = LW_EIO;
		goto out_meta;
	}
	give(q, ifd);
	if ((e = write_file(q, ifd, "message", raw, len)) != LW_OK ||
	    (e = write_file(q, ifd, "meta", meta, strlen(meta))) != LW_OK)
		goto out_meta;
	e = LW_EIO;
	if (fsync(ifd) == -1)
		goto out_meta;
	/* The one step that makes the item visible, whole. */
	if (renameat(q->tmpfd, id, q->newfd, id) == -1)
		goto out_meta;
	if (fsync(q->newfd) == -1) {
		/* Not durable: take it back so the MTA's retry is the copy. */
		saved = errno;
		if (renameat(q->newfd, id, q->tmpfd, id) == -1)
			(void)0;
		errno = saved;
		goto out_meta;
	}
	close(ifd);
	free(meta);
	return LW_OK;

out_meta:
	free(meta);
out_rm:
	saved = errno;
	if (ifd != -1)
		close(ifd);
	rm_entry(q->tmpfd, id);
	errno = saved;
	id[0] = '\0';
	return e;
}

enum lw_err
quarantine_store(struct quarantine *q, const unsigned char *raw, size_t len,
    const struct envelope *env, const struct scan_result *res,
    char id[QUARANTINE_ID_MAX])
{
	return quarantine_store_at(q, raw, len, env, res, time(NULL), id);
}

/* ---- reading metadata ---- */

/* Undo sb_esc on s[0..n); NULL on a bad escape, a NUL, or ENOMEM. */
static char *
unesc(const char *s, size_t n, bool *oom)
{
	char	*out, *o;
	size_t	 i;
	int	 h, l;

	if ((out = malloc(n + 1)) == NULL) {
		*oom = true;
		return NULL;
	}
	o = out;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || s[i] == '\t')
			goto bad;
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i == n)
			goto bad;
		switch (s[i]) {
		case '\\':	*o++ = '\\'; break;
		case 'n':	*o++ = '\n'; break;
		case 'r':	*o++ = '\r'; break;
		case 't':	*o++ = '\t'; break;
		case 'x':
			if (n - i < 3 || (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0 || (h == 0 && l == 0))
				goto bad;
			*o++ = (char)(h << 4 | l);
			i += 2;
			break;
		default:
			goto bad;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static bool
parse_ll(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
str_push(char ***v, size_t *n, char *s)
{
	char	**nv;

	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return false;
	nv[(*n)++] = s;
	*v = nv;
	return true;
}

/* Set a string field once; a duplicate key is damage. */
static enum lw_err
set_once(char **field, char *val)
{
	if (*field != NULL) {
		free(val);
		return LW_EMALFORMED;
	}
	*field = val;
	return LW_OK;
}

static enum lw_err
parse_finding(struct quarantine_item *it, const char *v, size_t n)
{
	struct quarantine_finding	*nf, f = { 0 };
	const char			*fld[4], *p, *end = v + n;
	size_t				 fl[4], k = 0;
	long long			 sc;
	char				*num;
	bool				 oom = false;

	fld[0] = v;
	for (p = v; p < end && k < 4; p++)
		if (*p == '\t') {
			fl[k] = (size_t)(p - fld[k]);
			if (++k == 4)
				return LW_EMALFORMED;
			fld[k] = p + 1;
		}
	if (k != 3)
		return LW_EMALFORMED;
	fl[3] = (size_t)(end - fld[3]);
	f.rule = unesc(fld[0], fl[0], &oom);
	num = unesc(fld[1], fl[1], &oom);
	f.part = unesc(fld[2], fl[2], &oom);
	f.detail = unesc(fld[3], fl[3], &oom);
	if (f.rule == NULL || num == NULL || f.part == NULL ||
	    f.detail == NULL || !parse_ll(num, INT_MIN, INT_MAX, &sc) ||
	    (nf = reallocarray(it->findings, it->nfindings + 1,
	    sizeof(*nf))) == NULL) {
		free(f.rule);
		free(num);
		free(f.part);
		free(f.detail);
		return oom ? LW_ENOMEM : LW_EMALFORMED;
	}
	free(num);
	f.score = (int)sc;
	it->findings = nf;
	it->findings[it->nfindings++] = f;
	return LW_OK;
}

static enum lw_err
meta_line(struct quarantine_item *it, const char *key, size_t klen,
    const char *v, size_t vlen, unsigned *seen)
{
	char		*val;
	long long	 n;
	bool		 oom = false;
	enum lw_err	 e = LW_OK;
	size_t		 i;

#define KEY(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
	if (KEY("finding"))
		return parse_finding(it, v, vlen);
	if ((val = unesc(v, vlen, &oom)) == NULL)
		return oom ? LW_ENOMEM : LW_EMALFORMED;
	if (KEY("id")) {
		if ((*seen & 1) || !quarantine_id_valid(val))
			e = LW_EMALFORMED;
		else
			memcpy(it->id, val, strlen(val) + 1);
		*seen |= 1;
		free(val);
	} else if (KEY("time")) {
		if ((*seen & 2) || !parse_ll(val, 0, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->time = (time_t)n;
		*seen |= 2;
		free(val);
	} else if (KEY("size")) {
		if ((*seen & 4) || !parse_ll(val, 0, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->size = (uint64_t)n;
		*seen |= 4;
		free(val);
	} else if (KEY("sha256")) {
		for (i = 0; val[i] != '\0'; i++)
			if (hexval((unsigned char)val[i]) < 0 ||
			    (val[i] >= 'A' && val[i] <= 'F'))
				break;
		if ((*seen & 8) || i != 64 || val[i] != '\0')
			e = LW_EMALFORMED;
		else
			memcpy(it->sha256, val, 65);
		*seen |= 8;
		free(val);
	} else if (KEY("score")) {
		if ((*seen & 16) || !parse_ll(val, INT_MIN, INT_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->score = (int)n;
		*seen |= 16;
		free(val);
	} else if (KEY("rcpt")) {
		if (!str_push(&it->rcpts, &it->nrcpts, val)) {
			free(val);
			e = LW_ENOMEM;
		}
	} else if (KEY("qid"))
		e = set_once(&it->qid, val);
	else if (KEY("client_addr"))
		e = set_once(&it->client_addr, val);
	else if (KEY("client_name"))
		e = set_once(&it->client_name, val);
	else if (KEY("helo"))
		e = set_once(&it->helo, val);
	else if (KEY("mail_from"))
		e = set_once(&it->mail_from, val);
	else if (KEY("from"))
		e = set_once(&it->from, val);
	else if (KEY("from_display"))
		e = set_once(&it->from_display, val);
	else if (KEY("subject"))
		e = set_once(&it->subject, val);
	else if (KEY("action"))
		e = set_once(&it->action, val);
	else if (KEY("rules"))
		e = set_once(&it->rules, val);
	else if (KEY("state"))
		e = set_once(&it->state, val);
	else if (KEY("on_timeout"))
		e = set_once(&it->on_timeout, val);
	else if (KEY("reason"))
		e = set_once(&it->reason, val);
	else if (KEY("message_id"))
		e = set_once(&it->message_id, val);
	else if (KEY("result"))
		e = set_once(&it->result, val);
	else if (KEY("expires")) {
		if (it->expires != 0 || !parse_ll(val, 1, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->expires = (time_t)n;
		free(val);
	} else
		free(val);	/* a newer writer's key: keep going */
#undef KEY
	return e;
}

static enum lw_err
released_line(struct quarantine_item *it, const char *key, size_t klen,
    const char *v, size_t vlen, unsigned *seen)
{
	char		*val;
	long long	 n;
	bool		 oom = false;
	enum lw_err	 e = LW_OK;

#define KEY(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
	if ((val = unesc(v, vlen, &oom)) == NULL)
		return oom ? LW_ENOMEM : LW_EMALFORMED;
	if (KEY("time")) {
		if (!parse_ll(val, 0, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->released_time = (time_t)n;
		*seen |= 1;
		free(val);
	} else if (KEY("count")) {
		if (!parse_ll(val, 1, UINT_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->release_count = (unsigned)n;
		free(val);
	} else if (KEY("by")) {
		free(it->released_by);
		it->released_by = val;
	} else if (KEY("to")) {
		if (!str_push(&it->released_to, &it->nreleased_to, val)) {
			free(val);
			e = LW_ENOMEM;
		}
	} else
		free(val);
#undef KEY
	return e;
}

typedef enum lw_err (*line_fn)(struct quarantine_item *, const char *,
    size_t, const char *, size_t, unsigned *);

/* Split buf into "key value" lines after the magic line. */
static enum lw_err
parse_lines(const char *buf, size_t len, const char *magic,
    struct quarantine_item *it, line_fn fn, unsigned *seen)
{
	const char	*p = buf, *end = buf + len, *nl, *sp;
	size_t		 mlen = strlen(magic);
	enum lw_err	 e;

	if (len < mlen + 1 || memcmp(buf, magic, mlen) != 0 ||
	    buf[mlen] != '\n')
		return LW_EMALFORMED;
	p += mlen + 1;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return LW_EMALFORMED;	/* torn last line */
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL ||
		    sp == p)
			return LW_EMALFORMED;
		e = fn(it, p, (size_t)(sp - p), sp + 1, (size_t)(nl - sp - 1),
		    seen);
		if (e != LW_OK)
			return e;
		p = nl + 1;
	}
	return LW_OK;
}

void
quarantine_item_free(struct quarantine_item *it)
{
	size_t	i;

	if (it == NULL)
		return;
	free(it->qid);
	free(it->client_addr);
	free(it->client_name);
	free(it->helo);
	free(it->mail_from);
	for (i = 0; i < it->nrcpts; i++)
		free(it->rcpts[i]);
	free(it->rcpts);
	free(it->from);
	free(it->from_display);
	free(it->subject);
	free(it->action);
	free(it->rules);
	for (i = 0; i < it->nfindings; i++) {
		free(it->findings[i].rule);
		free(it->findings[i].part);
		free(it->findings[i].detail);
	}
	free(it->findings);
	free(it->released_by);
	for (i = 0; i < it->nreleased_to; i++)
		free(it->released_to[i]);
	free(it->released_to);
	free(it->state);
	free(it->on_timeout);
	free(it->reason);
	free(it->message_id);
	free(it->result);
	free(it);
}

enum lw_err
quarantine_meta_parse(const char *buf, size_t len,
    struct quarantine_item **out)
{
	struct quarantine_item	*it;
	unsigned		 seen = 0;
	enum lw_err		 e;

	*out = NULL;
	if (len > QUARANTINE_META_MAX)
		return LW_EMALFORMED;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return LW_ENOMEM;
	e = parse_lines(buf, len, META_MAGIC, it, meta_line, &seen);
	if (e == LW_OK && (seen & 15) != 15)	/* id time size sha256 */
		e = LW_EMALFORMED;
	if (e != LW_OK) {
		quarantine_item_free(it);
		return e;
	}
	*out = it;
	return LW_OK;
}

enum lw_err
quarantine_read(struct quarantine *q, const char *id,
    struct quarantine_item **out)
{
	struct quarantine_item	*it;
	char			 path[NAME_MAX + 32], *buf;
	size_t			 len;
	unsigned		 seen = 0;
	enum lw_err		 e;

	*out = NULL;
	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	snprintf(path, sizeof(path), "%s/meta", id);
	e = read_file(q->newfd, path, QUARANTINE_META_MAX, &buf, &len);
	if (e == LW_ELIMIT)
		return LW_EMALFORMED;
	if (e != LW_OK)
		return e;
	e = quarantine_meta_parse(buf, len, &it);
	free(buf);
	if (e != LW_OK)
		return e;
	if (strcmp(it->id, id) != 0) {
		quarantine_item_free(it);
		return LW_EMALFORMED;
	}
	snprintf(path, sizeof(path), "%s/released", id);
	e = read_file(q->newfd, path, QUARANTINE_META_MAX, &buf, &len);
	if (e == LW_OK) {
		e = parse_lines(buf, len, RELEASED_MAGIC, it, released_line,
		    &seen);
		free(buf);
		if (e == LW_OK && !(seen & 1))
			e = LW_EMALFORMED;
		if (e != LW_OK) {
			quarantine_item_free(it);
			return e;
		}
		it->released = true;
		if (it->release_count == 0)
			it->release_count = 1;
	} else if (e != LW_ENOTFOUND) {
		quarantine_item_free(it);
		return e == LW_ELIMIT ? LW_EMALFORMED : e;
	}
	*out = it;
	return LW_OK;
}

enum lw_err
quarantine_message(struct quarantine *q, const char *id,
    unsigned char **raw, size_t *len)
{
	char	path[NAME_MAX + 32];

	*raw = NULL;
	*len = 0;
	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	snprintf(path, sizeof(path), "%s/message", id);
	return read_file(q->newfd, path, SIZE_MAX - 1, (char **)raw, len);
}

void
quarantine_items_free(struct quarantine_item **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		quarantine_item_free(v[i]);
	free(v);
}

static int
item_cmp(const void *a, const void *b)
{
	const struct quarantine_item	*x = *(struct quarantine_item *const *)a;
	const struct quarantine_item	*y = *(struct quarantine_item *const *)b;

	if (x->time != y->time)
		return x->time < y->time ? 1 : -1;
	return -strcmp(x->id, y->id);
}

/* A fresh descriptor per walk: threads must not share a dir offset. */
static DIR *
open_sub(struct quarantine *q, const char *name)
{
	DIR	*d;
	int	 fd;

	fd = openat(q->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

enum lw_err
quarantine_list(struct quarantine *q, struct quarantine_item ***items,
    size_t *n)
{
	struct quarantine_item	**v = NULL, **nv, *it;
	struct dirent		 *de;
	size_t			  cnt = 0, cap = 0;
	enum lw_err		  e;
	DIR			 *d;

	*items = NULL;
	*n = 0;
	if ((d = open_sub(q, "new")) == NULL)
		return LW_EIO;
	while ((de = readdir(d)) != NULL) {
		if (!quarantine_id_valid(de->d_name))
			continue;
		e = quarantine_read(q, de->d_name, &it);
		if (e == LW_ENOMEM) {
			closedir(d);
			quarantine_items_free(v, cnt);
			return e;
		}
		if (e != LW_OK)
			continue;	/* deleted meanwhile, or damaged */
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				quarantine_item_free(it);
				closedir(d);
				quarantine_items_free(v, cnt);
				return LW_ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = it;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), item_cmp);
	*items = v;
	*n = cnt;
	return LW_OK;
}

enum lw_err
quarantine_delete(struct quarantine *q, const char *id)
{
	char		tmpname[NAME_MAX + 32];
	unsigned	tag;

	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		return LW_EIO;
	snprintf(tmpname, sizeof(tmpname), "%s.del.%08x", id, tag);
	/* Gone from new/ in one step; the files go afterwards. */
	if (renameat(q->newfd, id, q->tmpfd, tmpname) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	if (fsync(q->newfd) == -1)
		return LW_EIO;
	if (rm_entry(q->tmpfd, tmpname) == -1)
		return LW_EIO;
	return LW_OK;
}

/* ---- updating and locking (split PPAP) ---- */

static bool
key_is(const char *line, size_t n, const char *key)
{
	size_t	klen = strlen(key);

	return n > klen && memcmp(line, key, klen) == 0 && line[klen] == ' ';
}

enum lw_err
quarantine_update(struct quarantine *q, const char *id,
    const struct scan_result *res, const struct quarantine_extra *x)
{
	static const char *const vkeys[] = { "score", "action", "rules",
	    "finding", NULL };
	static const char *const xkeys[] = { "state", "expires",
	    "on_timeout", "reason", "result", NULL };
	struct sbuf	 sb = { 0 };
	char		 path[NAME_MAX + 32], *buf;
	const char	*p, *end, *nl;
	size_t		 len, n, k;
	bool		 drop;
	enum lw_err	 e;

	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	snprintf(path, sizeof(path), "%s/meta", id);
	if ((e = read_file(q->newfd, path, QUARANTINE_META_MAX, &buf,
	    &len)) != LW_OK)
		return e == LW_ELIMIT ? LW_EMALFORMED : e;
	/* Keep every line but those we replace; message_id stays. */
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		n = (size_t)(nl - p);
		drop = false;
		for (k = 0; res != NULL && vkeys[k] != NULL; k++)
			drop |= key_is(p, n, vkeys[k]);
		for (k = 0; x != NULL && xkeys[k] != NULL; k++)
			drop |= key_is(p, n, xkeys[k]);
		if (x != NULL && x->message_id != NULL &&
		    key_is(p, n, "message_id"))
			drop = true;
		if (!drop)
			sb_add(&sb, p, n + 1);
	}
	free(buf);
	if (res != NULL && res->verdict != NULL)
		verdict_build(&sb, res->verdict);
	extra_build(&sb, x);
	if (sb.oom) {
		free(sb.p);
		return LW_ENOMEM;
	}
	e = item_replace(q, id, "meta", sb.p, sb.len);
	free(sb.p);
	return e;
}

enum lw_err
quarantine_lock(struct quarantine *q, const char *id, int *fd)
{
	int	saved;

	*fd = -1;
	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	if ((*fd = openat(q->newfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	while (flock(*fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(*fd);
		*fd = -1;
		errno = saved;
		return LW_EIO;
	}
	return LW_OK;
}

void
quarantine_unlock(int fd)
{
	if (fd != -1)
		close(fd);	/* drops the flock */
}

/* ---- release ---- */

/* Copy s without CR/LF and without leading/trailing blanks. */
static char *
canon(const char *s)
{
	char	*out, *o;
	size_t	 n;

	if (s == NULL)
		s = "";
	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			*o++ = *s;
	*o = '\0';
	for (n = (size_t)(o - out); n > 0 &&
	    (out[n - 1] == ' ' || out[n - 1] == '\t'); n--)
		out[n - 1] = '\0';
	n = strspn(out, " \t");
	memmove(out, out + n, strlen(out + n) + 1);
	return out;
}

static bool
release_mac(const struct quarantine *q, const char *id, const char *msgid,
    const char *date, unsigned char mac[32])
{
	struct sbuf	 sb = { 0 };
	char		*cm, *cd;
	unsigned	 maclen = 0;
	bool		 ok;

	cm = canon(msgid);
	cd = canon(date);
	if (cm == NULL || cd == NULL) {
		free(cm);
		free(cd);
		return false;
	}
	sb_puts(&sb, id);
	sb_add(&sb, "\n", 1);
	sb_puts(&sb, cm);
	sb_add(&sb, "\n", 1);
	sb_puts(&sb, cd);
	free(cm);
	free(cd);
	ok = !sb.oom && HMAC(EVP_sha256(), q->secret, sizeof(q->secret),
	    (const unsigned char *)sb.p, sb.len, mac, &maclen) != NULL &&
	    maclen == 32;
	free(sb.p);
	return ok;
}

enum lw_err
quarantine_release_header(struct quarantine *q, const char *id,
    const char *message_id, const char *date, time_t now, char **hdrval)
{
	unsigned char	mac[32];
	char		hex[65], ts[32];
	struct tm	tm;
	size_t		i;

	*hdrval = NULL;
	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	if (!release_mac(q, id, message_id, date, mac))
		return LW_ENOMEM;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return LW_EINVAL;
	return lw_asprintf(hdrval, "%s; %s; %s", id, ts, hex);
}

bool
quarantine_release_verify(struct quarantine *q, const char *hdrval,
    const char *message_id, const char *date)
{
	unsigned char	 mac[32], got[32];
	char		*v, *id, *semi, *hex, *end;
	bool		 ok = false;
	size_t		 i;
	int		 h, l;

	if (q == NULL || hdrval == NULL || (v = canon(hdrval)) == NULL)
		return false;
	/* "ID; TIME; HEX": the id and the MAC are the first and last. */
	id = v;
	if ((semi = strchr(v, ';')) == NULL)
		goto out;
	*semi = '\0';
	for (end = semi; end > id && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	if ((hex = strrchr(semi + 1, ';')) == NULL)
		goto out;
	hex += 1 + strspn(hex + 1, " \t");
	if (!quarantine_id_valid(id) || strlen(hex) != 64)
		goto out;
	for (i = 0; i < 32; i++) {
		if ((h = hexval((unsigned char)hex[2 * i])) < 0 ||
		    (l = hexval((unsigned char)hex[2 * i + 1])) < 0)
			goto out;
		got[i] = (unsigned char)(h << 4 | l);
	}
	if (!release_mac(q, id, message_id, date, mac))
		goto out;
	ok = CRYPTO_memcmp(mac, got, sizeof(mac)) == 0;
out:
	free(v);
	return ok;
}

/*
 * The unfolded value of the first header called name in the header
 * block of raw, or NULL.  Only for our own release: the stored message
 * is what the MTA gave us, so a plain line walk is enough.
 */
static char *
raw_header(const unsigned char *raw, size_t len, const char *name)
{
	const char	*p = (const char *)raw, *end = p + len, *nl, *v;
	size_t		 nlen = strlen(name);
	struct sbuf	 sb = { 0 };
	bool		 in = false;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (p == nl || (nl - p == 1 && *p == '\r'))
			break;				/* end of headers */
		if (*p == ' ' || *p == '\t') {
			if (in)
				sb_add(&sb, p, (size_t)(nl - p));
		} else if (in)
			break;
		else if ((size_t)(nl - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			in = true;
			v = p + nlen + 1;
			sb_add(&sb, v, (size_t)(nl - v));
			if (sb.p == NULL)
				sb_add(&sb, "", 0);
		}
		p = nl + 1;
	}
	if (sb.oom || !in) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}

static void
rfc5322_date(time_t t, char *buf, size_t len)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;

	/* By hand: strftime's %a and %b follow the locale. */
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * argv for one release from the submit_command template, expanded by
 * config_submit_argv (%f sender, %r recipients, %%), so the daemon's
 * config and a release agree on its meaning.  execv has no PATH: the
 * program must be absolute, and the recipients must be there.
 */
static char **
submit_argv(const char *tmpl, const char *sender, char *const *rcpts,
    size_t nrcpts)
{
	struct config	  c;
	const char	 *p;
	char		**av;
	size_t		  len;
	bool		  have_r = false;

	for (p = tmpl; *p != '\0'; p += len) {
		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 2 && p[0] == '%' && p[1] == 'r')
			have_r = true;
	}
	memset(&c, 0, sizeof(c));
	c.submit_command = (char *)tmpl;
	if (!have_r || config_submit_argv(&c, sender, rcpts, nrcpts,
	    &av) != LW_OK)
		return NULL;
	if (av[0] == NULL || av[0][0] != '/') {
		config_argv_free(av);
		return NULL;
	}
	return av;
}

/* Feed the message to the submission command; LW_OK on exit status 0. */
static enum lw_err
submit(char **av, const char *hdrs, const unsigned char *raw, size_t len,
    char *err, size_t errlen)
{
	struct sigaction	 ign, old;
	enum lw_err		 e = LW_OK;
	pid_t			 pid;
	int			 p[2], st, saved = 0;

	if (pipe2(p, O_CLOEXEC) == -1) {
		errf(err, errlen, "pipe: %s", strerror(errno));
		return LW_EIO;
	}
	if ((pid = fork()) == -1) {
		errf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return LW_EIO;
	}
	if (pid == 0) {
		if (dup2(p[0], STDIN_FILENO) == -1)
			_exit(127);
		execv(av[0], av);
		_exit(127);
	}
	close(p[0]);
	/* A command that dies early must not kill us with SIGPIPE. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	if (write_all(p[1], hdrs, strlen(hdrs)) != LW_OK ||
	    write_all(p[1], raw, len) != LW_OK) {
		saved = errno;
		e = LW_EIO;
	}
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			errf(err, errlen, "waitpid: %s", strerror(errno));
			return LW_EIO;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		errf(err, errlen, "%s: could not run (exit 127)", av[0]);
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		errf(err, errlen, "%s exited %d", av[0], WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		errf(err, errlen, "%s killed by signal %d", av[0],
		    WTERMSIG(st));
	else if (e != LW_OK)
		errf(err, errlen, "writing to %s: %s", av[0], strerror(saved));
	else
		return LW_OK;
	return LW_EIO;
}

static enum lw_err
record_release(struct quarantine *q, const char *id,
    const struct quarantine_item *it, const char *who, char *const *to,
    size_t nto, time_t now)
{
	struct sbuf	sb = { 0 };
	enum lw_err	e;
	size_t		i;

	sb_puts(&sb, RELEASED_MAGIC "\n");
	sb_printf(&sb, "time %lld\n", (long long)now);
	sb_field(&sb, "by", who != NULL ? who : "unknown");
	for (i = 0; i < nto; i++)
		sb_field(&sb, "to", to[i]);
	sb_printf(&sb, "count %u\n", it->release_count + 1);
	if (sb.oom) {
		free(sb.p);
		return LW_ENOMEM;
	}
	e = item_replace(q, id, "released", sb.p, sb.len);
	free(sb.p);
	return e;
}

enum lw_err
quarantine_release(struct quarantine *q, const char *id, const char *to,
    const char *submitcmd, bool force, const char *who, char *err,
    size_t errlen)
{
	struct quarantine_item	 *it = NULL;
	struct sbuf		  hdrs = { 0 };
	unsigned char		 *raw = NULL, *nl;
	size_t			  len, nto, i;
	char			**av = NULL, *msgid, *date;
	char			 *hv = NULL, gen[256], host[128];
	char			 *const *rcpts;
	char			 *onerc[1];
	const char		 *eol, *cmd;
	bool			  add_msgid = false, add_date = false;
	time_t			  now = time(NULL);
	enum lw_err		  e;

	errf(err, errlen, "%s", "");
	if (!quarantine_id_valid(id)) {
		errf(err, errlen, "invalid id");
		return LW_EINVAL;
	}
	if ((e = quarantine_read(q, id, &it)) != LW_OK) {
		errf(err, errlen, "%s", lw_strerror(e));
		return e;
	}
	msgid = date = NULL;
	if (it->released && !force) {
		errf(err, errlen, "already released (use --force)");
		e = LW_EEXIST;
		goto out;
	}
	if (to != NULL) {
		onerc[0] = (char *)to;
		rcpts = onerc;
		nto = 1;
	} else {
		rcpts = it->rcpts;
		nto = it->nrcpts;
	}
	if (nto == 0) {
		errf(err, errlen, "no recipients stored (use --to)");
		e = LW_EINVAL;
		goto out;
	}
	/* A word starting with '-' would be an option to the command. */
	for (i = 0; i < nto; i++)
		if (rcpts[i][0] == '-' || rcpts[i][0] == '\0') {
			errf(err, errlen, "refusing recipient that starts "
			    "with '-' or is empty");
			e = LW_EINVAL;
			goto out;
		}
	if (it->mail_from != NULL && it->mail_from[0] == '-') {
		errf(err, errlen, "refusing sender that starts with '-'");
		e = LW_EINVAL;
		goto out;
	}
	if ((e = quarantine_message(q, id, &raw, &len)) != LW_OK) {
		errf(err, errlen, "message: %s", lw_strerror(e));
		goto out;
	}
	/* Keep the message's own line ending for the lines we add. */
	nl = memchr(raw, '\n', len);
	eol = nl != NULL && nl > raw && nl[-1] == '\r' ? "\r\n" : "\n";
	msgid = raw_header(raw, len, "Message-ID");
	date = raw_header(raw, len, "Date");
	/*
	 * The MTA adds a missing Message-ID or Date on submission, and the
	 * milter would then check the MAC against values we never saw; so
	 * we add them ourselves and MAC those.
	 */
	if (msgid == NULL) {
		if (gethostname(host, sizeof(host)) == -1 ||
		    (host[sizeof(host) - 1] = '\0', !quarantine_id_valid(host)))
			snprintf(host, sizeof(host), "localhost");
		snprintf(gen, sizeof(gen), "<%s.lurewall@%s>", id, host);
		msgid = strdup(gen);
		add_msgid = true;
	}
	if (date == NULL) {
		rfc5322_date(now, gen, sizeof(gen));
		date = strdup(gen);
		add_date = true;
	}
	if (msgid == NULL || date == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	if ((e = quarantine_release_header(q, id, msgid, date, now,
	    &hv)) != LW_OK)
		goto out;
	sb_puts(&hdrs, "X-Lurewall-Released: ");
	sb_puts(&hdrs, hv);
	sb_puts(&hdrs, eol);
	if (add_msgid) {
		sb_puts(&hdrs, "Message-ID: ");
		sb_puts(&hdrs, msgid);
		sb_puts(&hdrs, eol);
	}
	if (add_date) {
		sb_puts(&hdrs, "Date: ");
		sb_puts(&hdrs, date);
		sb_puts(&hdrs, eol);
	}
	/* A delayed scan's result (split PPAP); we wrote it, one line. */
	if (it->result != NULL && strpbrk(it->result, "\r\n") == NULL) {
		sb_puts(&hdrs, "X-Lurewall-Result: ");
		sb_puts(&hdrs, it->result);
		sb_puts(&hdrs, eol);
	}
	if (hdrs.oom) {
		e = LW_ENOMEM;
		goto out;
	}
	cmd = submitcmd != NULL && *submitcmd != '\0' ? submitcmd :
	    CONFIG_DEFAULT_SUBMIT;
	av = submit_argv(cmd, it->mail_from != NULL ? it->mail_from : "",
	    rcpts, nto);
	if (av == NULL) {
		errf(err, errlen, "bad submit command (needs an absolute "
		    "path and %%r): %s", cmd);
		e = LW_EINVAL;
		goto out;
	}
	if ((e = submit(av, hdrs.p, raw, len, err, errlen)) != LW_OK)
		goto out;
	if ((e = record_release(q, id, it, who, rcpts, nto, now)) != LW_OK)
		errf(err, errlen, "released, but recording it failed: %s",
		    e == LW_EIO ? strerror(errno) : lw_strerror(e));
out:
	config_argv_free(av);
	free(hv);
	free(msgid);
	free(date);
	free(hdrs.p);
	free(raw);
	quarantine_item_free(it);
	return e;
}

/* ---- verify ---- */

static bool
item_sound(struct quarantine *q, const char *id, FILE *report)
{
	struct quarantine_item	*it;
	unsigned char		*raw;
	size_t			 len;
	char			 hex[65];
	enum lw_err		 e;
	bool			 ok = true;

	if ((e = quarantine_read(q, id, &it)) != LW_OK) {
		if (report != NULL)
			fprintf(report, "damaged %s: metadata: %s\n", id,
			    e == LW_EIO ? strerror(errno) : lw_strerror(e));
		return false;
	}
	if ((e = quarantine_message(q, id, &raw, &len)) != LW_OK) {
		if (report != NULL)
			fprintf(report, "damaged %s: message: %s\n", id,
			    e == LW_EIO ? strerror(errno) : lw_strerror(e));
		quarantine_item_free(it);
		return false;
	}
	sha256_hex(raw, len, hex);
	if (len != it->size) {
		if (report != NULL)
			fprintf(report, "damaged %s: size %zu, stored %llu\n",
			    id, len, (unsigned long long)it->size);
		ok = false;
	} else if (strcmp(hex, it->sha256) != 0) {
		if (report != NULL)
			fprintf(report, "damaged %s: SHA-256 mismatch\n", id);
		ok = false;
	}
	free(raw);
	quarantine_item_free(it);
	return ok;
}

enum lw_err
quarantine_verify(struct quarantine *q, FILE *report, size_t *items,
    size_t *damaged, size_t *cleaned)
{
	struct dirent	*de;
	struct stat	 st;
	time_t		 now = time(NULL);
	size_t		 ni = 0, nd = 0, nc = 0;
	DIR		*d;

	if ((d = open_sub(q, "tmp")) == NULL)
		return LW_EIO;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* finished meanwhile */
		/* Young entries may be a store in progress: leave them. */
		if (st.st_mtime > now - QUARANTINE_STALE_SECS)
			continue;
		if (rm_entry(dirfd(d), de->d_name) == 0) {
			nc++;
			if (report != NULL)
				fprintf(report, "removed stale temporary "
				    "tmp/%s\n", de->d_name);
		} else if (report != NULL)
			fprintf(report, "cannot remove tmp/%s: %s\n",
			    de->d_name, strerror(errno));
	}
	closedir(d);
	if ((d = open_sub(q, "new")) == NULL)
		return LW_EIO;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		ni++;
		if (!quarantine_id_valid(de->d_name)) {
			nd++;
			if (report != NULL)
				fprintf(report, "damaged: unexpected entry "
				    "in new/\n");
			continue;
		}
		if (!item_sound(q, de->d_name, report))
			nd++;
	}
	closedir(d);
	if (items != NULL)
		*items = ni;
	if (damaged != NULL)
		*damaged = nd;
	if (cleaned != NULL)
		*cleaned = nc;
	return LW_OK;
}
