/*
 * outbreak_fs.c: the outbreak breaker's file store (outbreak.h's
 * outbreak_file_open).  One text record per sender:
 *
 *	lurewall-outbreak 1
 *	sender KEY		(bytes outside '!'..'~' and '%' as %XX)
 *	last T			(Unix seconds)
 *	tripped T REASON LURES NEW_RCPTS	(only when tripped)
 *	held N
 *	lure T 1		(one per lure-like message in the window)
 *	new T N			(N new recipients at T)
 *	rcpt HASH T		(a known recipient, last mailed at T)
 *
 * Bounds are outbreak.h's; a record over OUTBREAK_RECORD_MAX bytes or
 * with a bad line reads as empty (logged).  Threads of one process
 * share a mutex, processes flock(2) dir/lock; records are written tmp
 * + rename.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

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

#include "bytes.h"
#include "log.h"
#include "outbreak.h"
#include "outbreak_int.h"
#include "state.h"
#include "util.h"

#define RECORD_MAGIC	"lurewall-outbreak 1"
#define SWEEP_EVERY	3600		/* seconds between daemon sweeps */

static bool
parse_time(const char *s, char **end, time_t *t)
{
	long long	v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, end, 10);
	if (errno != 0 || v < 0)
		return false;
	*t = (time_t)v;
	return true;
}

static bool
parse_uint(const char *s, char **end, unsigned *u)
{
	time_t	t;

	if (!parse_time(s, end, &t) || t > UINT_MAX)
		return false;
	*u = (unsigned)t;
	return true;
}

static char *
key_decode(const char *s)
{
	char	*out, *o;
	int	 hi, lo;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out; *s != '\0'; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*o = '\0';
	return out;
}

static void
key_encode(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s > '~' ||
		    *s == '%')
			fprintf(f, "%%%02X", (unsigned char)*s);
		else
			fputc(*s, f);
}

/* One line of a record; false when it is not one we write. */
static bool
record_line(struct outbreak_record *r, char *line)
{
	char		*sp, *end;
	time_t		 t;
	unsigned	 u;
	uint64_t	 h;

	if ((sp = strchr(line, ' ')) == NULL)
		return false;
	*sp++ = '\0';
	if (strcmp(line, "sender") == 0) {
		free(r->sender);
		return (r->sender = key_decode(sp)) != NULL;
	}
	if (strcmp(line, "last") == 0)
		return parse_time(sp, &end, &r->last) && *end == '\0';
	if (strcmp(line, "held") == 0)
		return parse_uint(sp, &end, &r->held) && *end == '\0';
	if (strcmp(line, "tripped") == 0) {
		if (!parse_time(sp, &end, &r->tripped) || *end++ != ' ')
			return false;
		if ((sp = strchr(end, ' ')) == NULL ||
		    (size_t)(sp - end) >= sizeof(r->reason))
			return false;
		memcpy(r->reason, end, (size_t)(sp - end));
		r->reason[sp - end] = '\0';
		return parse_uint(sp + 1, &end, &r->trip_lures) &&
		    *end++ == ' ' &&
		    parse_uint(end, &end, &r->trip_new_rcpts) && *end == '\0';
	}
	if (strcmp(line, "lure") == 0 || strcmp(line, "new") == 0) {
		if (!parse_time(sp, &end, &t) || *end++ != ' ' ||
		    !parse_uint(end, &end, &u) || *end != '\0')
			return false;
		return (line[0] == 'l' ? outbreak_event_add(&r->lures, &r->nlures, t,
		    u) : outbreak_event_add(&r->news, &r->nnews, t, u)) == LW_OK;
	}
	if (strcmp(line, "rcpt") == 0) {
		if (strlen(sp) < 18 || sp[16] != ' ')
			return false;
		errno = 0;
		h = strtoull(sp, &end, 16);
		if (errno != 0 || end != sp + 16 ||
		    !parse_time(sp + 17, &end, &t) || *end != '\0')
			return false;
		return outbreak_known_append(r, h, t) == LW_OK;
	}
	return false;
}

static bool
record_lines(char *buf, struct outbreak_record *r)
{
	char	*line, *next;

	if (strncmp(buf, RECORD_MAGIC "\n", strlen(RECORD_MAGIC) + 1) != 0)
		return false;
	for (line = buf + strlen(RECORD_MAGIC) + 1; *line != '\0';
	    line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			return false;		/* cut short */
		*next++ = '\0';
		if (!record_line(r, line))
			return false;
	}
	return r->sender != NULL;
}

bool
outbreak_record_parse(char *buf, size_t len, struct outbreak_record *r)
{
	memset(r, 0, sizeof(*r));
	if (memchr(buf, '\0', len) != NULL || !record_lines(buf, r)) {
		outbreak_record_free(r);
		return false;
	}
	return true;
}

void
outbreak_record_write(FILE *f, const struct outbreak_record *r)
{
	size_t	i;

	fprintf(f, RECORD_MAGIC "\nsender ");
	key_encode(f, r->sender);
	fprintf(f, "\nlast %lld\n", (long long)r->last);
	if (r->tripped != 0)
		fprintf(f, "tripped %lld %s %u %u\n", (long long)r->tripped,
		    r->reason, r->trip_lures, r->trip_new_rcpts);
	fprintf(f, "held %u\n", r->held);
	for (i = 0; i < r->nlures; i++)
		fprintf(f, "lure %lld %u\n", (long long)r->lures[i].t,
		    r->lures[i].n);
	for (i = 0; i < r->nnews; i++)
		fprintf(f, "new %lld %u\n", (long long)r->news[i].t,
		    r->news[i].n);
	for (i = 0; i < r->nknown; i++)
		fprintf(f, "rcpt %016" PRIx64 " %lld\n", r->known[i].hash,
		    (long long)r->known[i].seen);
}

/* The file store */

struct fstore {
	char	*dir;
	int	 lockfd;	/* >= 0 inside a transaction */
	char	 hex[65];	/* the record of this transaction */
	uid_t	 uid;		/* the directory's owner */
	gid_t	 gid;
	bool	 readonly;	/* outbreak_file_open_ro: read, never lock
				   or write; dir NULL reads as empty */
};

/* Threads of one process exclude each other here, processes by flock. */
static pthread_mutex_t	 fstore_mutex = PTHREAD_MUTEX_INITIALIZER;
static time_t		 fstore_swept;

static enum lw_err
fs_lock(struct fstore *fs)
{
	char	path[PATH_MAX];
	int	fd;

	pthread_mutex_lock(&fstore_mutex);
	if (snprintf(path, sizeof(path), "%s/lock", fs->dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (lw_lock_file(path, fs->uid, fs->gid, LW_WAIT_FOREVER, &fd) !=
	    LW_OK)
		goto fail;
	fs->lockfd = fd;
	return LW_OK;
fail:
	pthread_mutex_unlock(&fstore_mutex);
	return LW_EIO;
}

static void
fs_unlock(struct fstore *fs)
{
	if (fs->lockfd < 0)
		return;
	close(fs->lockfd);		/* drops the flock */
	fs->lockfd = -1;
	pthread_mutex_unlock(&fstore_mutex);
}

/* Read dir/name into r; an absent file leaves r empty. */
static enum lw_err
fs_read(const struct fstore *fs, const char *name, struct outbreak_record *r)
{
	char		 path[PATH_MAX], *buf;
	size_t		 len;
	enum lw_err	 e;

	snprintf(path, sizeof(path), "%s/%s", fs->dir, name);
	e = lw_read_file(AT_FDCWD, path, true, OUTBREAK_RECORD_MAX, &buf,
	    &len);
	if (e == LW_ENOTFOUND && errno != ENOENT)
		return LW_EIO;		/* ENOTDIR: the store is damaged */
	if (e == LW_ELIMIT)
		return LW_EMALFORMED;
	if (e != LW_OK)
		return e;
	e = outbreak_record_parse(buf, len, r) ? LW_OK : LW_EMALFORMED;
	free(buf);
	return e;
}

static enum lw_err
fs_begin(struct outbreak_store *st, const char *sender, time_t now,
    struct outbreak_record *r)
{
	struct fstore	*fs = st->priv;
	char		 name[80];
	enum lw_err	 e;

	memset(r, 0, sizeof(*r));
	if (lw_sha256_hex(sender, strlen(sender), fs->hex) != LW_OK)
		return LW_EINTERNAL;
	if (!fs->readonly && (e = fs_lock(fs)) != LW_OK)
		return e;
	snprintf(name, sizeof(name), "%s.rec", fs->hex);
	/* Records are renamed into place: a reader without the lock
	   sees the old one or the new one. */
	e = fs->dir != NULL ? fs_read(fs, name, r) : LW_ENOTFOUND;
	if (fs->readonly && e == LW_EIO)
		e = LW_ENOTFOUND;	/* unreadable: counts as empty */
	if (e == LW_OK && strcmp(r->sender, sender) != 0) {
		/* Another key with the same hash: never seen in practice. */
		log_warnx("outbreak store %s: %s holds another sender", fs->dir,
		    name);
		outbreak_record_free(r);
		e = LW_ENOTFOUND;
	}
	if ((e = outbreak_record_begin(r, sender, now, e, fs->dir, name)) !=
	    LW_OK)
		fs_unlock(fs);
	return e;
}

static void
fs_abort(struct outbreak_store *st)
{
	fs_unlock(st->priv);
}

bool
outbreak_record_empty(const struct outbreak_record *r)
{
	return r->tripped == 0 && r->nlures == 0 && r->nnews == 0 &&
	    r->nknown == 0 && r->held == 0;
}

/* Remove quiet, untripped records; called with the lock held. */
static void
fs_sweep(struct fstore *fs, time_t now)
{
	struct outbreak_record	 r;
	struct dirent		*de;
	struct stat		 st;
	DIR			*d;
	size_t			 len;

	if ((d = opendir(fs->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len != 68 || strcmp(de->d_name + 64, ".rec") != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || st.st_mtime > now - OUTBREAK_RETENTION)
			continue;
		memset(&r, 0, sizeof(r));
		if (fs_read(fs, de->d_name, &r) == LW_OK && r.tripped == 0 &&
		    r.last <= now - OUTBREAK_RETENTION)
			(void)unlinkat(dirfd(d), de->d_name, 0);
		outbreak_record_free(&r);
	}
	closedir(d);
}

/* mtime = last activity: the sweep reads only old-looking files. */
static bool
fs_fill(FILE *f, const void *arg)
{
	const struct outbreak_record	*r = arg;
	struct timespec			 ts[2];

	outbreak_record_write(f, r);
	ts[0].tv_sec = ts[1].tv_sec = r->last;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return fflush(f) == 0 && futimens(fileno(f), ts) == 0;
}

static enum lw_err
fs_commit(struct outbreak_store *st, const struct outbreak_record *r,
    bool durable)
{
	struct fstore	*fs = st->priv;
	char		 tmp[PATH_MAX], path[PATH_MAX];
	enum lw_err	 e = LW_EIO;

	if (fs->readonly)
		return LW_OK;		/* a look, not a count */
	snprintf(path, sizeof(path), "%s/%s.rec", fs->dir, fs->hex);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", fs->dir, fs->hex);
	if (outbreak_record_empty(r)) {
		if (unlink(path) == 0 || errno == ENOENT)
			e = LW_OK;
	} else if ((e = lw_replace_file(fs->dir, tmp, path, fs->uid, fs->gid,
	    durable, fs_fill, r)) == LW_OK &&
	    r->last - fstore_swept >= SWEEP_EVERY) {
		fstore_swept = r->last;
		fs_sweep(fs, r->last);
	}
	fs_unlock(fs);
	return e;
}

static enum lw_err
fs_list(struct outbreak_store *st, time_t now, struct outbreak_record **vp,
    size_t *np)
{
	struct fstore		*fs = st->priv;
	struct outbreak_record	*v = NULL, *nv, r;
	struct dirent		*de;
	DIR			*d;
	size_t			 n = 0, len;
	enum lw_err		 e;

	if (fs->readonly) {
		*vp = NULL;
		*np = 0;
		return LW_OK;
	}
	if ((e = fs_lock(fs)) != LW_OK)
		return e;
	fs_sweep(fs, now);
	if ((d = opendir(fs->dir)) == NULL) {
		fs_unlock(fs);
		return LW_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len != 68 || strcmp(de->d_name + 64, ".rec") != 0)
			continue;
		memset(&r, 0, sizeof(r));
		if ((e = fs_read(fs, de->d_name, &r)) != LW_OK) {
			if (e == LW_ENOMEM)
				break;
			e = LW_OK;	/* vanished or damaged: skip */
			continue;
		}
		if ((nv = reallocarray(v, n + 1, sizeof(*nv))) == NULL) {
			outbreak_record_free(&r);
			e = LW_ENOMEM;
			break;
		}
		v = nv;
		v[n++] = r;
	}
	closedir(d);
	fs_unlock(fs);
	if (e != LW_OK) {
		outbreak_records_free(v, n);
		return e;
	}
	*vp = v;
	*np = n;
	return LW_OK;
}

static void
fs_close(struct outbreak_store *st)
{
	struct fstore	*fs = st->priv;

	fs_unlock(fs);
	free(fs->dir);
	outbreak_store_free(st);
}

static const struct outbreak_store_ops fstore_ops = {
	"file", fs_begin, fs_commit, fs_abort, fs_list, fs_close
};

/* dir NULL: a read-only store that reads as empty. */
static enum lw_err
fs_new(const char *dir, bool readonly, struct outbreak_store **out)
{
	struct outbreak_store	*st;
	struct fstore		*fs;

	if (outbreak_store_new(&fstore_ops, sizeof(*fs), &st) != LW_OK)
		return LW_ENOMEM;
	fs = st->priv;
	if (dir != NULL && (fs->dir = strdup(dir)) == NULL) {
		outbreak_store_free(st);
		return LW_ENOMEM;
	}
	fs->lockfd = -1;
	fs->readonly = readonly;
	*out = st;
	return LW_OK;
}

enum lw_err
outbreak_file_open(const char *dir, struct outbreak_store **out)
{
	struct fstore	*fs;
	struct stat	 sb;
	enum lw_err	 e;

	/* Made by root (the CLI): the owner of the parent's. */
	if ((e = state_dir_prepare(dir, NULL, false, &sb)) != LW_OK)
		return e == LW_ENOMEM ? e : LW_EIO;
	if ((e = fs_new(dir, false, out)) != LW_OK)
		return e;
	fs = (*out)->priv;
	fs->uid = sb.st_uid;
	fs->gid = sb.st_gid;
	return LW_OK;
}

enum lw_err
outbreak_file_open_ro(const char *dir, struct outbreak_store **out)
{
	return fs_new(dir, true, out);
}
