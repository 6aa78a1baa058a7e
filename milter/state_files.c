/*
 * state_files.c: the state as a directory of small files, for a host
 * that wants no database at all (state.backend: files).
 *
 * Layout: DIR/lock (flock'd for every change), DIR/HEX.st (one key;
 * HEX is the SHA-256 of the key, so attacker text never names a file),
 * DIR/HEX.tmp (being written).  A key file is a "lurewall-state 1"
 * line, an "expires T" line, a "key LEN" line followed by the key's
 * bytes and a newline, then the value's bytes to the end of the file.
 *
 * Every change runs under a process mutex (threads) and flock(2) on
 * DIR/lock (processes), reads the key's file again, and writes tmp,
 * fsync, rename, fsync of the directory: a crash leaves the old value
 * or the new, never half of one.  Reads take no lock (rename is
 * atomic).  state_each reads every file (this backend is for small
 * stores; lmdb is the default).  Files root creates (the CLI) go to the
 * directory's owner.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "util.h"

#define MAGIC		"lurewall-state 1\n"
#define NAME_LEN	(64 + 3)	/* HEX.st */

struct fstate {
	char		*dir;
	uid_t		 uid;		/* the directory's owner */
	gid_t		 gid;
	pthread_mutex_t	 mu;
	int		 lockfd;	/* >= 0 while locked */
	struct state_dirlock klock;	/* state_lock: DIR/klock */
};

static void
give_away(const struct fstate *fs, int fd)
{
	if (geteuid() == 0 && fs->uid != 0)
		(void)fchown(fd, fs->uid, fs->gid);
}

static enum lw_err
key_name(const char *key, char name[NAME_LEN + 1])
{
	unsigned char	md[32];
	unsigned	mdlen = 0;
	size_t		i;

	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) !=
	    1 || mdlen != 32)
		return LW_EINTERNAL;
	for (i = 0; i < 32; i++)
		snprintf(name + 2 * i, 3, "%02x", md[i]);
	memcpy(name + 64, ".st", 4);
	return LW_OK;
}

static enum lw_err
fs_lock(struct fstate *fs)
{
	char	path[PATH_MAX];
	int	fd;

	pthread_mutex_lock(&fs->mu);
	if (snprintf(path, sizeof(path), "%s/lock", fs->dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		goto fail;
	give_away(fs, fd);
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(fd);
			goto fail;
		}
	fs->lockfd = fd;
	return LW_OK;
fail:
	log_warn("state %s: lock", fs->dir);
	pthread_mutex_unlock(&fs->mu);
	return LW_EIO;
}

static void
fs_unlock(struct fstate *fs)
{
	close(fs->lockfd);		/* drops the flock */
	fs->lockfd = -1;
	pthread_mutex_unlock(&fs->mu);
}

/*
 * Read DIR/name: its key into key (STATE_KEY_MAX + 1 bytes), its value
 * into v.  LW_ENOTFOUND when absent or expired, LW_EMALFORMED when
 * damaged.
 */
static enum lw_err
fs_read(const struct fstate *fs, const char *name, time_t now, char *key,
    struct state_val *v)
{
	char		 path[PATH_MAX], *buf = NULL, *p, *end;
	size_t		 len, klen;
	long long	 t;
	enum lw_err	 e;

	memset(v, 0, sizeof(*v));
	if (snprintf(path, sizeof(path), "%s/%s", fs->dir, name) >=
	    (int)sizeof(path))
		return LW_EINVAL;
	switch ((e = lw_read_file(AT_FDCWD, path, true,
	    (size_t)STATE_VALUE_MAX + 1024, &buf, &len))) {
	case LW_OK:
		break;
	case LW_ELIMIT:
		return LW_EMALFORMED;
	default:
		return e;
	}
	e = LW_EMALFORMED;
	if (len < sizeof(MAGIC) - 1 || memcmp(buf, MAGIC,
	    sizeof(MAGIC) - 1) != 0)
		goto out;
	p = buf + sizeof(MAGIC) - 1;
	if (strncmp(p, "expires ", 8) != 0)
		goto out;
	errno = 0;
	t = strtoll(p + 8, &end, 10);
	if (errno != 0 || end == p + 8 || *end != '\n' || t < 0)
		goto out;
	p = end + 1;
	if (strncmp(p, "key ", 4) != 0)
		goto out;
	klen = strtoul(p + 4, &end, 10);
	if (end == p + 4 || *end != '\n' || klen == 0 ||
	    klen > STATE_KEY_MAX)
		goto out;
	p = end + 1;
	if ((size_t)(buf + len - p) < klen + 1 || p[klen] != '\n' ||
	    memchr(p, '\0', klen) != NULL)
		goto out;
	memcpy(key, p, klen);
	key[klen] = '\0';
	p += klen + 1;
	if (state_expired((time_t)t, now)) {
		e = LW_ENOTFOUND;
		goto out;
	}
	v->len = (size_t)(buf + len - p);
	memmove(buf, p, v->len);
	buf[v->len] = '\0';
	v->data = (unsigned char *)buf;
	v->expires = (time_t)t;
	buf = NULL;
	e = LW_OK;
out:
	free(buf);
	return e;
}

static enum lw_err
fs_get(struct state *st, const char *key, time_t now, struct state_val *v)
{
	struct fstate	*fs = st->priv;
	char		 name[NAME_LEN + 1], k[STATE_KEY_MAX + 1];
	enum lw_err	 e;

	if ((e = key_name(key, name)) != LW_OK)
		return e;
	e = fs_read(fs, name, now, k, v);
	if (e == LW_OK && strcmp(k, key) != 0)
		e = LW_ENOTFOUND;	/* a hash collision: never seen */
	if (e == LW_EMALFORMED)
		e = LW_ENOTFOUND;
	if (e != LW_OK)
		state_val_free(v);
	return e;
}

static enum lw_err
fs_fsync_dir(const struct fstate *fs)
{
	int	dfd;

	if ((dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return LW_EIO;
	if (fsync(dfd) == -1) {
		close(dfd);
		return LW_EIO;
	}
	close(dfd);
	return LW_OK;
}

static enum lw_err
fs_write(struct fstate *fs, const char *name, const char *key,
    const struct state_val *v)
{
	char		 tmp[PATH_MAX], path[PATH_MAX];
	FILE		*f;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", fs->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%.64s.tmp", fs->dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return LW_EIO;
	give_away(fs, fd);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out_tmp;
	}
	fprintf(f, "%sexpires %lld\nkey %zu\n%s\n", MAGIC,
	    (long long)v->expires, strlen(key), key);
	if (v->len > 0)
		fwrite(v->data, 1, v->len, f);
	if (fflush(f) != 0 || ferror(f) || fsync(fd) == -1) {
		fclose(f);
		goto out_tmp;
	}
	if (fclose(f) != 0)
		goto out_tmp;
	/* The rename publishes the whole file; the fsync makes it stay. */
	if (rename(tmp, path) == -1)
		goto out_tmp;
	return fs_fsync_dir(fs);
out_tmp:
	(void)unlink(tmp);
	return LW_EIO;
}

static enum lw_err
fs_update(struct state *st, const char *key, time_t now,
    state_update_fn fn, void *arg)
{
	struct fstate		*fs = st->priv;
	struct state_val	 old, nv;
	enum state_verdict	 what = STATE_KEEP;
	char			 name[NAME_LEN + 1], k[STATE_KEY_MAX + 1];
	char			 path[PATH_MAX];
	bool			 have;
	enum lw_err		 e;

	memset(&nv, 0, sizeof(nv));
	if ((e = key_name(key, name)) != LW_OK)
		return e;
	if ((e = fs_lock(fs)) != LW_OK)
		return e;
	e = fs_read(fs, name, now, k, &old);
	if (e == LW_EMALFORMED) {
		log_warnx("state %s: %s is damaged: starting afresh",
		    fs->dir, name);
		e = LW_ENOTFOUND;
	}
	if (e == LW_OK && strcmp(k, key) != 0) {
		state_val_free(&old);
		e = LW_ENOTFOUND;
	}
	if (e != LW_OK && e != LW_ENOTFOUND)
		goto out;
	have = e == LW_OK;
	e = fn(arg, have ? &old : NULL, &nv, &what);
	if (have)
		state_val_free(&old);
	if (e != LW_OK)
		goto out;
	switch (what) {
	case STATE_KEEP:
		break;
	case STATE_DELETE:
		snprintf(path, sizeof(path), "%s/%s", fs->dir, name);
		if (unlink(path) == -1 && errno != ENOENT)
			e = LW_EIO;
		break;
	case STATE_WRITE:
		e = nv.len > STATE_VALUE_MAX ? LW_ELIMIT :
		    fs_write(fs, name, key, &nv);
		break;
	}
out:
	state_val_free(&nv);
	fs_unlock(fs);
	return e;
}

static bool
is_key_file(const char *n)
{
	return strlen(n) == NAME_LEN && strcmp(n + 64, ".st") == 0;
}

static enum lw_err
fs_each(struct state *st, const char *prefix, time_t now,
    state_each_fn fn, void *arg)
{
	struct fstate		*fs = st->priv;
	struct state_val	 v;
	struct dirent		*de;
	char			 k[STATE_KEY_MAX + 1];
	size_t			 plen = strlen(prefix);
	DIR			*d;
	enum lw_err		 e = LW_OK, r;

	if ((d = opendir(fs->dir)) == NULL)
		return LW_EIO;
	while ((de = readdir(d)) != NULL) {
		if (!is_key_file(de->d_name))
			continue;
		r = fs_read(fs, de->d_name, now, k, &v);
		if (r == LW_ENOMEM) {
			e = r;
			break;
		}
		if (r != LW_OK)		/* vanished, expired or damaged */
			continue;
		if (strncmp(k, prefix, plen) == 0)
			e = fn(arg, k, &v);
		state_val_free(&v);
		if (e != LW_OK)
			break;
	}
	closedir(d);
	return e;
}

static enum lw_err
fs_sweep(struct state *st, time_t now, size_t *removed)
{
	struct fstate		*fs = st->priv;
	struct state_val	 v;
	struct dirent		*de;
	char			 k[STATE_KEY_MAX + 1];
	DIR			*d;
	enum lw_err		 e;

	*removed = 0;
	if ((e = fs_lock(fs)) != LW_OK)
		return e;
	if ((d = opendir(fs->dir)) == NULL) {
		fs_unlock(fs);
		return LW_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_key_file(de->d_name))
			continue;
		e = fs_read(fs, de->d_name, now, k, &v);
		state_val_free(&v);
		if (e == LW_ENOTFOUND &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			(*removed)++;
	}
	closedir(d);
	fs_unlock(fs);
	return LW_OK;
}

static enum lw_err
fs_lockop(struct state *st, const char *key, unsigned wait_secs)
{
	struct fstate	*fs = st->priv;

	return state_dirlock_take(&fs->klock, wait_secs);
}

static void
fs_unlockop(struct state *st, const char *key)
{
	struct fstate	*fs = st->priv;

	state_dirlock_drop(&fs->klock);
}

static void
fs_close(struct state *st)
{
	struct fstate	*fs = st->priv;

	state_dirlock_drop(&fs->klock);
	state_dirlock_free(&fs->klock);

	pthread_mutex_destroy(&fs->mu);
	free(fs->dir);
	free(fs);
	free(st);
}

static const struct state_ops files_ops = {
	.name = "files",
	.get = fs_get,
	.update = fs_update,
	.each = fs_each,
	.sweep = fs_sweep,
	.close = fs_close,
	.lock = fs_lockop,
	.unlock = fs_unlockop,
};

enum lw_err
state_files_open(const struct state_config *c, bool readonly,
    struct state **out)
{
	struct state	*st;
	struct fstate	*fs;
	struct stat	 sb;
	char		*kpath = NULL;

	if (c->path == NULL || *c->path == '\0')
		return LW_EINVAL;
	if (!readonly && mkdir(c->path, 0700) == 0)
		state_give_dir_away(c->path, c->owner_of);
	if (stat(c->path, &sb) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return LW_EIO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (fs = calloc(1, sizeof(*fs))) == NULL) {
		free(st);
		return LW_ENOMEM;
	}
	if ((fs->dir = strdup(c->path)) == NULL) {
		free(fs);
		free(st);
		return LW_ENOMEM;
	}
	fs->uid = sb.st_uid;
	fs->gid = sb.st_gid;
	fs->lockfd = -1;
	pthread_mutex_init(&fs->mu, NULL);
	/* Not DIR/lock: that one guards each write, inside a state_lock. */
	if (state_dirlock_init(&fs->klock, c->path, sb.st_uid, sb.st_gid) !=
	    LW_OK ||
	    lw_asprintf(&kpath, "%s/klock", c->path) != LW_OK) {
		state_dirlock_free(&fs->klock);
		pthread_mutex_destroy(&fs->mu);
		free(fs->dir);
		free(fs);
		free(st);
		return LW_ENOMEM;
	}
	free(fs->klock.path);
	fs->klock.path = kpath;
	st->ops = &files_ops;
	st->priv = fs;
	st->readonly = readonly;
	*out = st;
	return LW_OK;
}
