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
	struct state_dirlock wlock;	/* each change: DIR/lock */
	struct state_dirlock klock;	/* state_lock: DIR/klock */
};

static enum lw_err
key_name(const char *key, char name[NAME_LEN + 1])
{
	if (lw_sha256_hex(key, strlen(key), name) != LW_OK)
		return LW_EINTERNAL;
	memcpy(name + 64, ".st", 4);
	return LW_OK;
}

static enum lw_err
fs_lock(struct fstate *fs)
{
	return state_dirlock_take(&fs->wlock, LW_WAIT_FOREVER);
}

static void
fs_unlock(struct fstate *fs)
{
	state_dirlock_drop(&fs->wlock);
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

struct fs_entry {
	const char		*key;
	const struct state_val	*v;
};

static bool
fs_fill(FILE *f, const void *arg)
{
	const struct fs_entry	*en = arg;

	fprintf(f, "%sexpires %lld\nkey %zu\n%s\n", MAGIC,
	    (long long)en->v->expires, strlen(en->key), en->key);
	if (en->v->len > 0)
		fwrite(en->v->data, 1, en->v->len, f);
	return true;
}

static enum lw_err
fs_write(struct fstate *fs, const char *name, const char *key,
    const struct state_val *v)
{
	struct fs_entry	 en = { key, v };
	char		 tmp[PATH_MAX], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fs->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%.64s.tmp", fs->dir, name);
	return lw_replace_file(fs->dir, tmp, path, fs->uid, fs->gid, true,
	    fs_fill, &en);
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

static void
fs_close(struct state *st)
{
	struct fstate	*fs = st->priv;

	state_dirlock_drop(&fs->wlock);
	state_dirlock_free(&fs->wlock);
	free(fs->dir);
	state_free(st);
}

static const struct state_ops files_ops = {
	.name = "files",
	.get = fs_get,
	.update = fs_update,
	.each = fs_each,
	.sweep = fs_sweep,
	.close = fs_close,
};

enum lw_err
state_files_open(const struct state_config *c, bool readonly,
    struct state **out)
{
	struct state	*st;
	struct fstate	*fs;
	struct stat	 sb;
	char		*kpath = NULL;
	enum lw_err	 e;

	if ((e = state_dir_prepare(c->path, c->owner_of, readonly, &sb)) !=
	    LW_OK)
		return e;
	if (state_new(&files_ops, sizeof(*fs), readonly, &st) != LW_OK)
		return LW_ENOMEM;
	fs = st->priv;
	fs->uid = sb.st_uid;
	fs->gid = sb.st_gid;
	/* Not DIR/lock: that one guards each write, inside a state_lock. */
	if ((fs->dir = strdup(c->path)) == NULL ||
	    state_dirlock_init(&fs->wlock, c->path, sb.st_uid, sb.st_gid) !=
	    LW_OK ||
	    state_dirlock_init(&fs->klock, c->path, sb.st_uid, sb.st_gid) !=
	    LW_OK ||
	    lw_asprintf(&kpath, "%s/klock", c->path) != LW_OK) {
		state_dirlock_free(&fs->klock);
		state_dirlock_free(&fs->wlock);
		free(fs->dir);
		state_free(st);
		return LW_ENOMEM;
	}
	free(fs->klock.path);
	fs->klock.path = kpath;
	st->dirlock = &fs->klock;
	*out = st;
	return LW_OK;
}
