/*
 * quarantine.c: the durable store of held messages (see quarantine.h
 * for the layout): opening it, storing, reading, listing, updating,
 * locking, deleting and verifying items.  The metadata format is
 * quarantine_meta.c's, releasing quarantine_release.c's.
 *
 * Takes a raw message, the envelope and the scan result; writes one
 * item directory under tmp/, fsyncs its files and itself, renames it
 * into new/ and fsyncs new/, so an item is visible whole or not at all
 * and survives a crash once quarantine_store returned LW_OK.  Stores
 * that finish together share that last fsync (group commit, sync_new).  Metadata
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
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lurewall.h"
#include "quarantine.h"
#include "quarantine_int.h"
#include "state.h"
#include "util.h"
#include "scan.h"

#define QUARANTINE_STALE_SECS	60		/* tmp/ entries older: dead */

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

void
quarantine_set_notify(struct quarantine *q, quarantine_notify_fn fn,
    void *arg)
{
	q->notify = fn;
	q->notify_arg = arg;
}

void
quarantine_changed(struct quarantine *q, const char *id)
{
	if (q->notify != NULL)
		q->notify(q->notify_arg, id);
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

/*
 * Create name in dfd with exactly these bytes and start writing them
 * out (sync_file_range: the fsync that follows then finds them on
 * their way, and on a journalling file system one commit can cover
 * several files).  The open descriptor in *fdp, for finish_file.
 */
static enum lw_err
create_file(const struct quarantine *q, int dfd, const char *name,
    const void *buf, size_t len, int *fdp)
{
	int	fd, saved;

	*fdp = -1;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return LW_EIO;
	give(q, fd);
	if (lw_write_all(fd, buf, len) != LW_OK) {
		saved = errno;
		close(fd);
		unlinkat(dfd, name, 0);
		errno = saved;
		return LW_EIO;
	}
#ifdef SYNC_FILE_RANGE_WRITE
	/* A hint: the fsync in finish_file is what makes it durable. */
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
	*fdp = fd;
	return LW_OK;
}

/* fsync and close what create_file made; on failure remove it. */
static enum lw_err
finish_file(int dfd, const char *name, int fd)
{
	int	saved;

	if (fsync(fd) == -1) {
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

/* Create name in dfd with exactly these bytes, fsync'd. */
static enum lw_err
write_file(const struct quarantine *q, int dfd, const char *name,
    const void *buf, size_t len)
{
	enum lw_err	e;
	int		fd;

	if ((e = create_file(q, dfd, name, buf, len, &fd)) != LW_OK)
		return e;
	return finish_file(dfd, name, fd);
}

/* One fsync of new/ and the renames into it that it covers. */
struct qgroup {
	unsigned	refs;
	bool		done;
	int		err;		/* errno of the fsync; 0: durable */
};

/*
 * fsync(new/) after a rename into it, shared by the renames that
 * finish together (group commit): while one fsync runs, the renames
 * that come meanwhile join one group, and the first of them runs one
 * fsync for all of them once the running one is done.  Each member's
 * rename came before that fsync started, so it covers them all; each
 * sees its result.  0, or -1 with errno.
 */
static int
sync_new(struct quarantine *q)
{
	struct qgroup	*g;
	int		 err;

	pthread_mutex_lock(&q->gc_mu);
	if ((g = q->gc_open) == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL) {
			pthread_mutex_unlock(&q->gc_mu);
			return fsync(q->newfd);
		}
		q->gc_open = g;
	}
	g->refs++;
	while (!g->done) {
		if (q->gc_busy || q->gc_open != g) {
			pthread_cond_wait(&q->gc_cv, &q->gc_mu);
			continue;
		}
		/* Ours to run: later renames start the next group. */
		q->gc_open = NULL;
		q->gc_busy = true;
		pthread_mutex_unlock(&q->gc_mu);
		err = fsync(q->newfd) == -1 ? errno : 0;
		pthread_mutex_lock(&q->gc_mu);
		g->err = err;
		g->done = true;
		q->gc_busy = false;
		pthread_cond_broadcast(&q->gc_cv);
	}
	err = g->err;
	if (--g->refs == 0)
		free(g);
	pthread_mutex_unlock(&q->gc_mu);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * Replace one file of an item (meta, released) whole with sb, which it
 * frees: write NAME.tmp.X in the item's directory, rename it over NAME,
 * fsync the directory.  A reader sees the old file or the new one,
 * never a torn one.  LW_ENOMEM when building sb ran out of memory.
 */
enum lw_err
quarantine_item_replace(struct quarantine *q, const char *id,
    const char *name, struct sbuf *sb)
{
	char		tmpname[64];
	unsigned	tag;
	enum lw_err	e = LW_EIO;
	int		ifd = -1, saved;

	if (sb->oom) {
		e = LW_ENOMEM;
		goto out;
	}
	if ((ifd = openat(q->newfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		e = errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
		goto out;
	}
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		goto out;
	snprintf(tmpname, sizeof(tmpname), "%s.tmp.%08x", name, tag);
	if ((e = write_file(q, ifd, tmpname, sb->p, sb->len)) != LW_OK)
		goto out;
	if (renameat(ifd, tmpname, ifd, name) == -1 || fsync(ifd) == -1) {
		saved = errno;
		unlinkat(ifd, tmpname, 0);
		errno = saved;
		e = LW_EIO;
	}
out:
	saved = errno;
	if (ifd != -1)
		close(ifd);
	free(sb->p);
	if (e == LW_OK)
		quarantine_changed(q, id);
	errno = saved;
	return e;
}

static enum lw_err
make_dir(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0700) == -1 && errno != EEXIST)
		return LW_EIO;
	return LW_OK;
}

/* The store's key, QUARANTINE_SECRET_LEN bytes, into q->secret. */
static enum lw_err
read_secret(struct quarantine *q)
{
	char		*buf;
	size_t		 len;
	enum lw_err	 e;

	e = lw_read_file(q->dirfd, "secret", true, 4096, &buf, &len);
	if (e != LW_OK)
		return e;
	if (len == QUARANTINE_SECRET_LEN)
		memcpy(q->secret, buf, QUARANTINE_SECRET_LEN);
	else {
		errno = EINVAL;
		e = LW_EMALFORMED;
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	return e;
}

/* The key, made on first use. */
static enum lw_err
load_secret(struct quarantine *q)
{
	unsigned char	 rnd[QUARANTINE_SECRET_LEN];
	char		 tmpname[64];
	enum lw_err	 e;
	unsigned	 tag;

	if ((e = read_secret(q)) != LW_ENOTFOUND)
		return e;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd) ||
	    getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		return LW_EIO;
	snprintf(tmpname, sizeof(tmpname), "secret.%u.%08x",
	    (unsigned)getpid(), tag);
	if ((e = write_file(q, q->tmpfd, tmpname, rnd, sizeof(rnd))) != LW_OK)
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
	return read_secret(q);
}

/* q's subdirectory name (tmp, new), given to the store's owner; or -1. */
static int
open_subdir(const struct quarantine *q, const char *name)
{
	int	fd;

	fd = openat(q->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd != -1)
		give(q, fd);
	return fd;
}

/* The daemon's side: tmp/ and new/ made and owned as the directory is. */
static enum lw_err
open_rw(struct quarantine *q)
{
	struct stat	st;

	if (fstat(q->dirfd, &st) == -1)
		return LW_EIO;
	q->uid = st.st_uid;
	q->gid = st.st_gid;
	q->chown = geteuid() == 0 && st.st_uid != 0;
	if (make_dir(q->dirfd, "tmp") != LW_OK ||
	    make_dir(q->dirfd, "new") != LW_OK)
		return LW_EIO;
	if ((q->tmpfd = open_subdir(q, "tmp")) == -1)
		return LW_EIO;
	return LW_OK;
}

/*
 * Open the store at dir.  Read-only (rw false) creates nothing, leaves
 * tmp/ closed and needs the key the daemon made: without it nothing
 * verifies.
 */
static enum lw_err
open_store(const char *dir, bool rw, struct quarantine **out)
{
	struct quarantine	*q;
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
	pthread_mutex_init(&q->gc_mu, NULL);
	pthread_cond_init(&q->gc_cv, NULL);
	if ((q->dir = strdup(dir)) == NULL) {
		pthread_cond_destroy(&q->gc_cv);
		pthread_mutex_destroy(&q->gc_mu);
		free(q);
		return LW_ENOMEM;
	}
	if (rw && mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto out_close;
	if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out_close;
	if (rw && open_rw(q) != LW_OK)
		goto out_close;
	if ((q->newfd = open_subdir(q, "new")) == -1)
		goto out_close;
	if ((e = rw ? load_secret(q) : read_secret(q)) != LW_OK)
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
quarantine_open(const char *dir, struct quarantine **out)
{
	return open_store(dir, true, out);
}

enum lw_err
quarantine_open_ro(const char *dir, struct quarantine **out)
{
	return open_store(dir, false, out);
}

void
quarantine_set_state(struct quarantine *q, struct state *st,
    const char *host, size_t share_bytes)
{
	q->st = st;
	snprintf(q->host, sizeof(q->host), "%s", host != NULL &&
	    state_host_ok(host) ? host : "localhost");
	q->share_bytes = share_bytes;
}

struct state *
quarantine_state(const struct quarantine *q)
{
	return q != NULL ? q->st : NULL;
}

const char *
quarantine_host(const struct quarantine *q)
{
	return q != NULL && q->host[0] != '\0' ? q->host : "localhost";
}

size_t
quarantine_share_bytes(const struct quarantine *q)
{
	return q != NULL ? q->share_bytes : 0;
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
	pthread_cond_destroy(&q->gc_cv);
	pthread_mutex_destroy(&q->gc_mu);
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

/* d's next entry but "." and "..", or NULL at the end. */
static struct dirent *
next_entry(DIR *d)
{
	struct dirent	*de;

	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			break;
	return de;
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
	while ((de = next_entry(d)) != NULL) {
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
	int		 ifd = -1, mfd = -1, tfd = -1, tries, saved;

	id[0] = '\0';
	for (tries = 0;; tries++) {
		if ((e = make_id(when, id)) != LW_OK)
			return e;
		if (mkdirat(q->tmpfd, id, 0700) == 0)
			break;
		if (errno != EEXIST || tries == 4)
			return LW_EIO;
	}
	if ((meta = quarantine_meta_build(id, when, raw, len, env, res, x)) == NULL) {
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
	/*
	 * Both files written and on their way out before the first
	 * fsync, the directory's first: on a journalling file system
	 * its commit then carries the files' blocks as well, and their
	 * own fsyncs find nothing left to do.  Every fsync is still made.
	 */
	if ((e = create_file(q, ifd, "message", raw, len, &mfd)) != LW_OK ||
	    (e = create_file(q, ifd, "meta", meta, strlen(meta), &tfd)) !=
	    LW_OK)
		goto out_files;
	e = LW_EIO;
	if (fsync(ifd) == -1)
		goto out_files;
	e = finish_file(ifd, "message", mfd);
	mfd = -1;
	if (e != LW_OK)
		goto out_files;
	e = finish_file(ifd, "meta", tfd);
	tfd = -1;
	if (e != LW_OK)
		goto out_meta;
	e = LW_EIO;
	/* The one step that makes the item visible, whole. */
	if (renameat(q->tmpfd, id, q->newfd, id) == -1)
		goto out_meta;
	if (sync_new(q) == -1) {
		/* Not durable: take it back so the MTA's retry is the copy. */
		saved = errno;
		if (renameat(q->newfd, id, q->tmpfd, id) == -1)
			(void)0;
		errno = saved;
		goto out_meta;
	}
	close(ifd);
	free(meta);
	quarantine_changed(q, id);
	return LW_OK;

out_files:
	saved = errno;
	if (mfd != -1)
		close(mfd);
	if (tfd != -1)
		close(tfd);
	errno = saved;
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

enum lw_err
quarantine_export(struct quarantine *q, const char *id, char **out,
    size_t *outlen)
{
	char		 path[NAME_MAX + 32], *buf, *rel, *nb;
	size_t		 len, rlen;
	enum lw_err	 e;

	*out = NULL;
	*outlen = 0;
	if ((e = quarantine_meta_text(q, id, &buf, &len)) != LW_OK)
		return e;
	snprintf(path, sizeof(path), "%s/released", id);
	e = lw_read_file(q->newfd, path, true, QUARANTINE_META_MAX, &rel,
	    &rlen);
	if (e == LW_ENOTFOUND) {
		*out = buf;
		*outlen = len;
		return LW_OK;
	}
	if (e != LW_OK) {
		free(buf);
		return e == LW_ELIMIT ? LW_EMALFORMED : e;
	}
	/* meta, a line break if it lacks one, then the release record */
	if ((nb = realloc(buf, len + 1 + rlen + 1)) == NULL) {
		free(buf);
		free(rel);
		return LW_ENOMEM;
	}
	buf = nb;
	if (len > 0 && buf[len - 1] != '\n')
		buf[len++] = '\n';
	memcpy(buf + len, rel, rlen);
	len += rlen;
	buf[len] = '\0';
	free(rel);
	*out = buf;
	*outlen = len;
	return LW_OK;
}

enum lw_err
quarantine_import(const char *buf, size_t len, struct quarantine_item **out)
{
	static const char	 sep[] = "\n" RELEASED_MAGIC "\n";
	struct quarantine_item	*it;
	const char		*rel;
	size_t			 mlen = len;
	enum lw_err		 e;

	*out = NULL;
	if ((rel = memmem(buf, len, sep, sizeof(sep) - 1)) != NULL)
		mlen = (size_t)(rel - buf) + 1;
	if ((e = quarantine_meta_parse(buf, mlen, &it)) != LW_OK)
		return e;
	if (rel != NULL) {
		if ((e = quarantine_released_parse(rel + 1, len - mlen,
		    it)) != LW_OK) {
			quarantine_item_free(it);
			return e;
		}
		it->released = true;
		if (it->release_count == 0)
			it->release_count = 1;
	}
	*out = it;
	return LW_OK;
}

enum lw_err
quarantine_read(struct quarantine *q, const char *id,
    struct quarantine_item **out)
{
	struct quarantine_item	*it;
	char			*buf;
	size_t			 len;
	enum lw_err		 e;

	*out = NULL;
	if ((e = quarantine_export(q, id, &buf, &len)) != LW_OK)
		return e;
	e = quarantine_import(buf, len, &it);
	free(buf);
	if (e != LW_OK)
		return e;
	if (strcmp(it->id, id) != 0) {
		quarantine_item_free(it);
		return LW_EMALFORMED;
	}
	*out = it;
	return LW_OK;
}

enum lw_err
quarantine_meta_text(struct quarantine *q, const char *id, char **buf,
    size_t *len)
{
	char		path[NAME_MAX + 32];
	enum lw_err	e;

	*buf = NULL;
	*len = 0;
	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	snprintf(path, sizeof(path), "%s/meta", id);
	e = lw_read_file(q->newfd, path, true, QUARANTINE_META_MAX, buf, len);
	return e == LW_ELIMIT ? LW_EMALFORMED : e;
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
	return lw_read_file(q->newfd, path, true, SIZE_MAX - 1, (char **)raw, len);
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

/* fn for every item id in new/, until it returns other than LW_OK. */
static enum lw_err
each_item(struct quarantine *q, enum lw_err (*fn)(struct quarantine *,
    const char *id, void *), void *arg)
{
	struct dirent	*de;
	enum lw_err	 e = LW_OK;
	DIR		*d;

	if ((d = open_sub(q, "new")) == NULL)
		return LW_EIO;
	while (e == LW_OK && (de = readdir(d)) != NULL)
		if (quarantine_id_valid(de->d_name))
			e = fn(q, de->d_name, arg);
	closedir(d);
	return e;
}

struct listing {
	struct quarantine_item	**v;
	size_t			  cnt, cap;
};

static enum lw_err
list_one(struct quarantine *q, const char *id, void *arg)
{
	struct listing		 *l = arg;
	struct quarantine_item	**nv, *it;
	enum lw_err		  e;

	if ((e = quarantine_read(q, id, &it)) != LW_OK)
		/* Deleted meanwhile, or damaged: skipped. */
		return e == LW_ENOMEM ? e : LW_OK;
	if (l->cnt == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((nv = reallocarray(l->v, l->cap, sizeof(*nv))) == NULL) {
			quarantine_item_free(it);
			return LW_ENOMEM;
		}
		l->v = nv;
	}
	l->v[l->cnt++] = it;
	return LW_OK;
}

enum lw_err
quarantine_list(struct quarantine *q, struct quarantine_item ***items,
    size_t *n)
{
	struct listing	l = { NULL, 0, 0 };
	enum lw_err	e;

	*items = NULL;
	*n = 0;
	if ((e = each_item(q, list_one, &l)) != LW_OK) {
		quarantine_items_free(l.v, l.cnt);
		return e;
	}
	if (l.cnt > 1)
		qsort(l.v, l.cnt, sizeof(*l.v), item_cmp);
	*items = l.v;
	*n = l.cnt;
	return LW_OK;
}

struct sizing {
	uint64_t	items, bytes;
};

static enum lw_err
size_one(struct quarantine *q, const char *id, void *arg)
{
	struct sizing	*sz = arg;
	struct stat	 sb;
	char		 path[NAME_MAX + 16];

	snprintf(path, sizeof(path), "%s/message", id);
	/* Deleted meanwhile: not counted. */
	if (fstatat(q->newfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		sz->items++;
		sz->bytes += (uint64_t)sb.st_size;
	}
	return LW_OK;
}

enum lw_err
quarantine_size(struct quarantine *q, uint64_t *items, uint64_t *bytes)
{
	struct sizing	sz = { 0, 0 };
	enum lw_err	e;

	e = each_item(q, size_one, &sz);
	*items = sz.items;
	*bytes = sz.bytes;
	return e;
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
	quarantine_changed(q, id);
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
	if ((e = lw_read_file(q->newfd, path, true, QUARANTINE_META_MAX, &buf,
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
			sbuf_add(&sb, p, n + 1);
	}
	free(buf);
	if (res != NULL && res->verdict != NULL)
		quarantine_meta_verdict(&sb, res->verdict);
	quarantine_meta_extra(&sb, x);
	return quarantine_item_replace(q, id, "meta", &sb);
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
	quarantine_sha256_hex(raw, len, hex);
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
	while ((de = next_entry(d)) != NULL) {
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
	while ((de = next_entry(d)) != NULL) {
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
