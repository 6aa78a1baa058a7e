/*
 * outbreak.c: outbound direction, lure-like messages, the per-sender
 * breaker, its file store and the alert command (see outbreak.h).
 *
 * Takes the config, an envelope, a verdict and the sender's policy;
 * returns whether the message is outbound, whether it is lure-like and
 * the sender's state after counting it.  The file store keeps one text
 * record per sender:
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
 * with a bad line reads as empty (logged).  Ignores: recipients'
 * display names and case (addresses are lowercased before hashing).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "log.h"
#include "outbreak.h"
#include "policy.h"
#include "scan.h"
#include "verdict.h"

#define RECORD_MAGIC	"lurewall-outbreak 1"
#define SWEEP_EVERY	3600		/* seconds between daemon sweeps */
#define LOG_SENDER_MAX	200

/* Direction */

enum outbound_why
outbreak_direction(const struct config *cfg, const struct envelope *env)
{
	size_t	i;

	if (cfg == NULL || env == NULL)
		return OUT_NONE;
	if (env->auth_authen != NULL && *env->auth_authen != '\0')
		return OUT_AUTH;
	if (env->daemon_name != NULL)
		for (i = 0; i < cfg->noutbound_daemon_names; i++)
			if (strcmp(env->daemon_name,
			    cfg->outbound_daemon_names[i]) == 0)
				return OUT_DAEMON;
	if (config_internal_addr(cfg, env->client_addr))
		return OUT_NETWORK;
	return OUT_NONE;
}

const char *
outbreak_why_name(enum outbound_why w)
{
	switch (w) {
	case OUT_NONE:		return "inbound";
	case OUT_AUTH:		return "auth";
	case OUT_DAEMON:	return "daemon_name";
	case OUT_NETWORK:	return "internal_network";
	}
	return "?";
}

const char *
outbound_action_name(const struct outbound_policy *o)
{
	return o->action == OUTBOUND_TEMPFAIL ? "tempfail" : "hold";
}

char *
outbreak_sender_key(const struct envelope *env)
{
	const char	*s = NULL;
	char		*k;

	if (env->auth_authen != NULL && *env->auth_authen != '\0')
		s = env->auth_authen;
	else if (env->mail_from != NULL && *env->mail_from != '\0')
		s = env->mail_from;
	if (s == NULL)
		return NULL;
	if ((k = lw_strndup(s, strnlen(s, OUTBREAK_SENDER_MAX))) == NULL)
		return NULL;
	lw_strlower(k);
	return k;
}

bool
outbreak_lure_like(const struct verdict *v, const char **rule)
{
	static const char *const exact[] = { "EMOTET_LURE",
	    "FILE_EXECUTABLE", "FILE_SCRIPT", "FILE_SHORTCUT",
	    "FILE_HTML_SMUGGLING", "OFFICE_REMOTE_TEMPLATE" };
	static const char *const prefix[] = { "OFFICE_VBA", "OFFICE_XLM" };
	const struct finding	*f;
	size_t			 i, j;

	if (v == NULL)
		return false;
	for (i = 0; i < v->findings.n; i++) {
		f = &v->findings.v[i];
		if (f->score <= 0)
			continue;
		for (j = 0; j < sizeof(exact) / sizeof(exact[0]); j++)
			if (strcmp(f->rule, exact[j]) == 0)
				goto found;
		for (j = 0; j < sizeof(prefix) / sizeof(prefix[0]); j++)
			if (strncmp(f->rule, prefix[j], strlen(prefix[j])) == 0)
				goto found;
	}
	return false;
found:
	if (rule != NULL)
		*rule = f->rule;
	return true;
}

/* Records */

void
outbreak_record_free(struct outbreak_record *r)
{
	if (r == NULL)
		return;
	free(r->sender);
	free(r->lures);
	free(r->news);
	free(r->known);
	memset(r, 0, sizeof(*r));
}

void
outbreak_records_free(struct outbreak_record *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		outbreak_record_free(&v[i]);
	free(v);
}

static enum lw_err
sha256(const char *s, unsigned char md[32])
{
	unsigned int	len = 32;

	return EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) == 1 ?
	    LW_OK : LW_EINTERNAL;
}

static uint64_t
rcpt_hash(const char *addr)
{
	unsigned char	 md[32];
	char		*low;
	uint64_t	 h = 0;
	size_t		 i;

	if ((low = strdup(addr)) == NULL)
		return 0;
	lw_strlower(low);
	if (sha256(low, md) == LW_OK)
		for (i = 0; i < 8; i++)
			h = h << 8 | md[i];
	free(low);
	return h;
}

static enum lw_err
event_add(struct outbreak_event **v, size_t *n, time_t t, unsigned count)
{
	struct outbreak_event	*nv;

	if (*n >= OUTBREAK_EVENTS_MAX) {	/* forget the oldest */
		memmove(*v, *v + 1, (*n - 1) * sizeof(**v));
		(*n)--;
	}
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	*v = nv;
	nv[*n].t = t;
	nv[*n].n = count;
	(*n)++;
	return LW_OK;
}

/* Keep the events after since; returns their sum. */
static unsigned
events_prune(struct outbreak_event *v, size_t *n, time_t since)
{
	size_t		i, k = 0;
	unsigned	sum = 0;

	for (i = 0; i < *n; i++)
		if (v[i].t > since) {
			v[k++] = v[i];
			sum = v[i].n > UINT_MAX - sum ? UINT_MAX : sum + v[i].n;
		}
	*n = k;
	return sum;
}

static void
known_prune(struct outbreak_record *r, time_t since)
{
	size_t	i, k = 0;

	for (i = 0; i < r->nknown; i++)
		if (r->known[i].seen > since)
			r->known[k++] = r->known[i];
	r->nknown = k;
}

/* Note a recipient; true when the sender had not mailed it before. */
static enum lw_err
known_note(struct outbreak_record *r, uint64_t h, time_t now, bool *isnew)
{
	struct outbreak_known	*nv;
	size_t			 i, old = 0;

	*isnew = false;
	for (i = 0; i < r->nknown; i++)
		if (r->known[i].hash == h) {
			r->known[i].seen = now;
			return LW_OK;
		}
	*isnew = true;
	if (r->nknown >= OUTBREAK_KNOWN_MAX) {
		for (i = 1; i < r->nknown; i++)
			if (r->known[i].seen < r->known[old].seen)
				old = i;
		r->known[old].hash = h;
		r->known[old].seen = now;
		return LW_OK;
	}
	if ((nv = reallocarray(r->known, r->nknown + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	r->known = nv;
	nv[r->nknown].hash = h;
	nv[r->nknown].seen = now;
	r->nknown++;
	return LW_OK;
}

/* Reading a record: no search, the file holds each hash once. */
static enum lw_err
known_append(struct outbreak_record *r, uint64_t h, time_t t)
{
	struct outbreak_known	*nv;

	if (r->nknown >= OUTBREAK_KNOWN_MAX)
		return LW_OK;
	if ((nv = reallocarray(r->known, r->nknown + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	r->known = nv;
	nv[r->nknown].hash = h;
	nv[r->nknown].seen = t;
	r->nknown++;
	return LW_OK;
}

/* Record files */

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
	unsigned long	v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno != 0 || v > UINT_MAX)
		return false;
	*u = (unsigned)v;
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
		return (line[0] == 'l' ? event_add(&r->lures, &r->nlures, t,
		    u) : event_add(&r->news, &r->nnews, t, u)) == LW_OK;
	}
	if (strcmp(line, "rcpt") == 0) {
		if (strlen(sp) < 18 || sp[16] != ' ')
			return false;
		errno = 0;
		h = strtoull(sp, &end, 16);
		if (errno != 0 || end != sp + 16 ||
		    !parse_time(sp + 17, &end, &t) || *end != '\0')
			return false;
		return known_append(r, h, t) == LW_OK;
	}
	return false;
}

/* Parse a record file's bytes (NUL-terminated) into r. */
static bool
record_parse(char *buf, struct outbreak_record *r)
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

static void
record_write(FILE *f, const struct outbreak_record *r)
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

/* Files root makes (the CLI) belong to the directory's owner. */
static void
give_away(const struct fstore *fs, int fd)
{
	if (geteuid() == 0 && fs->uid != 0)
		(void)fchown(fd, fs->uid, fs->gid);
}

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
	struct stat	 st;
	ssize_t		 got;
	size_t		 len = 0;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", fs->dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return LW_EIO;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > OUTBREAK_RECORD_MAX) {
		close(fd);
		return LW_EMALFORMED;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return LW_ENOMEM;
	}
	while (len < (size_t)st.st_size &&
	    (got = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (got == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return LW_EIO;
		}
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL || !record_parse(buf, r)) {
		free(buf);
		outbreak_record_free(r);
		return LW_EMALFORMED;
	}
	free(buf);
	return LW_OK;
}

static enum lw_err
fs_begin(struct outbreak_store *st, const char *sender, time_t now,
    struct outbreak_record *r)
{
	struct fstore	*fs = st->priv;
	unsigned char	 md[32];
	char		 name[80];
	size_t		 i;
	enum lw_err	 e;

	memset(r, 0, sizeof(*r));
	if (sha256(sender, md) != LW_OK)
		return LW_EINTERNAL;
	for (i = 0; i < 32; i++)
		snprintf(fs->hex + 2 * i, 3, "%02x", md[i]);
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
	if (e == LW_EMALFORMED) {
		log_warnx("outbreak store %s: %s is damaged: starting afresh",
		    fs->dir, name);
		e = LW_ENOTFOUND;
	}
	if (e == LW_ENOTFOUND) {
		memset(r, 0, sizeof(*r));
		e = (r->sender = strdup(sender)) == NULL ? LW_ENOMEM : LW_OK;
		r->last = now;
	}
	if (e != LW_OK) {
		outbreak_record_free(r);
		fs_unlock(fs);
	}
	return e;
}

static void
fs_abort(struct outbreak_store *st)
{
	fs_unlock(st->priv);
}

static bool
record_empty(const struct outbreak_record *r)
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

static enum lw_err
fs_commit(struct outbreak_store *st, const struct outbreak_record *r,
    bool durable)
{
	struct fstore	*fs = st->priv;
	char		 tmp[PATH_MAX], path[PATH_MAX];
	struct timespec	 ts[2];
	FILE		*f;
	int		 fd, dfd;
	enum lw_err	 e = LW_EIO;

	if (fs->readonly)
		return LW_OK;		/* a look, not a count */
	snprintf(path, sizeof(path), "%s/%s.rec", fs->dir, fs->hex);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", fs->dir, fs->hex);
	if (record_empty(r)) {
		if (unlink(path) == -1 && errno != ENOENT)
			goto out;
		e = LW_OK;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		goto out;
	give_away(fs, fd);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out_tmp;
	}
	record_write(f, r);
	/* mtime = last activity: the sweep reads only old-looking files. */
	ts[0].tv_sec = ts[1].tv_sec = r->last;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (fflush(f) != 0 || ferror(f) || futimens(fd, ts) == -1 ||
	    (durable && fsync(fd) == -1)) {
		fclose(f);
		goto out_tmp;
	}
	if (fclose(f) != 0)
		goto out_tmp;
	if (rename(tmp, path) == -1)
		goto out_tmp;
	if (durable) {
		if ((dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1)
			goto out;
		if (fsync(dfd) == -1) {
			close(dfd);
			goto out;
		}
		close(dfd);
	}
	e = LW_OK;
	if (r->last - fstore_swept >= SWEEP_EVERY) {
		fstore_swept = r->last;
		fs_sweep(fs, r->last);
	}
	goto out;
out_tmp:
	(void)unlink(tmp);
out:
	fs_unlock(fs);
	return e;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct outbreak_record	*x = a, *y = b;

	if (x->last != y->last)
		return x->last < y->last ? 1 : -1;
	return strcmp(x->sender, y->sender);
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
	if (n > 1)
		qsort(v, n, sizeof(*v), rec_cmp);
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
	free(fs);
	free(st);
}

static const struct outbreak_store_ops fstore_ops = {
	"file", fs_begin, fs_commit, fs_abort, fs_list, fs_close
};

enum lw_err
outbreak_file_open(const char *dir, struct outbreak_store **out)
{
	struct outbreak_store	*st;
	struct fstore		*fs;
	struct stat		 sb;
	char			*parent, *slash;

	if (mkdir(dir, 0700) == 0 && geteuid() == 0 &&
	    (parent = strdup(dir)) != NULL) {
		/* Made by root (the CLI): the owner of the parent's. */
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
			*slash = '\0';
		if (stat(parent, &sb) == 0 && sb.st_uid != 0)
			(void)chown(dir, sb.st_uid, sb.st_gid);
		free(parent);
	}
	if (stat(dir, &sb) == -1)
		return LW_EIO;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return LW_EIO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (fs = calloc(1, sizeof(*fs))) == NULL) {
		free(st);
		return LW_ENOMEM;
	}
	if ((fs->dir = strdup(dir)) == NULL) {
		free(fs);
		free(st);
		return LW_ENOMEM;
	}
	fs->lockfd = -1;
	fs->uid = sb.st_uid;
	fs->gid = sb.st_gid;
	st->ops = &fstore_ops;
	st->priv = fs;
	*out = st;
	return LW_OK;
}

enum lw_err
outbreak_file_open_ro(const char *dir, struct outbreak_store **out)
{
	struct outbreak_store	*st;
	struct fstore		*fs;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (fs = calloc(1, sizeof(*fs))) == NULL) {
		free(st);
		return LW_ENOMEM;
	}
	if (dir != NULL && (fs->dir = strdup(dir)) == NULL) {
		free(fs);
		free(st);
		return LW_ENOMEM;
	}
	fs->lockfd = -1;
	fs->readonly = true;
	st->ops = &fstore_ops;
	st->priv = fs;
	*out = st;
	return LW_OK;
}

void
outbreak_close(struct outbreak_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

/* The breaker */

static void
trip(struct outbreak_record *r, const char *reason, unsigned lures,
    unsigned news, time_t now)
{
	r->tripped = now;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	r->trip_lures = lures;
	r->trip_new_rcpts = news;
	r->held = 1;			/* the message that tripped it */
}

static void
result_from(struct outbreak_result *res, const struct outbreak_record *r,
    enum outbreak_state state)
{
	res->state = state;
	res->tripped = r->tripped;
	res->lures = r->trip_lures;
	res->new_rcpts = r->trip_new_rcpts;
	snprintf(res->reason, sizeof(res->reason), "%s", r->reason);
}

enum lw_err
outbreak_account(struct outbreak_store *st, const char *sender,
    const struct outbound_policy *pol, bool lure, char *const *rcpts,
    size_t nrcpts, time_t now, struct outbreak_result *res)
{
	struct outbreak_record	 r;
	unsigned		 lures, news, here = 0;
	bool			 isnew;
	size_t			 i;
	enum lw_err		 e;

	memset(res, 0, sizeof(*res));
	if ((e = st->ops->begin(st, sender, now, &r)) != LW_OK)
		return e;
	if (r.tripped != 0) {
		r.held = r.held < UINT_MAX ? r.held + 1 : r.held;
		r.last = now;
		result_from(res, &r, OB_TRIPPED);
		goto commit;
	}
	lures = events_prune(r.lures, &r.nlures, now - (time_t)pol->window);
	news = events_prune(r.news, &r.nnews, now - (time_t)pol->window);
	known_prune(&r, now - OUTBREAK_RETENTION);
	for (i = 0; i < nrcpts; i++) {
		if ((e = known_note(&r, rcpt_hash(rcpts[i]), now, &isnew)) !=
		    LW_OK)
			goto abort;
		here += isnew;
	}
	if (here > 0 && pol->max_new_rcpts > 0) {
		if ((e = event_add(&r.news, &r.nnews, now, here)) != LW_OK)
			goto abort;
		news = here > UINT_MAX - news ? UINT_MAX : news + here;
	}
	if (lure && pol->max_lures > 0) {
		if ((e = event_add(&r.lures, &r.nlures, now, 1)) != LW_OK)
			goto abort;
		lures++;
	}
	r.last = now;
	res->state = OB_FLOWING;
	res->lures = lures;
	res->new_rcpts = news;
	if (pol->max_lures > 0 && lures >= pol->max_lures)
		trip(&r, "lures", lures, news, now);
	else if (pol->max_new_rcpts > 0 && news >= pol->max_new_rcpts)
		trip(&r, "new_rcpts", lures, news, now);
	if (r.tripped != 0)
		result_from(res, &r, OB_TRIPPED_NOW);
commit:
	res->new_here = here;
	e = st->ops->commit(st, &r, res->state == OB_TRIPPED_NOW);
	outbreak_record_free(&r);
	return e;
abort:
	st->ops->abort(st);
	outbreak_record_free(&r);
	return e;
}

enum lw_err
outbreak_clear(struct outbreak_store *st, const char *sender, time_t now,
    bool *found)
{
	struct outbreak_record	 r;
	enum lw_err		 e;

	if ((e = st->ops->begin(st, sender, now, &r)) != LW_OK)
		return e;
	if (found != NULL)
		*found = r.tripped != 0;
	if (r.tripped == 0) {
		st->ops->abort(st);
		outbreak_record_free(&r);
		return LW_OK;
	}
	r.tripped = 0;
	r.reason[0] = '\0';
	r.trip_lures = r.trip_new_rcpts = 0;
	r.held = 0;
	r.nlures = r.nnews = 0;
	e = st->ops->commit(st, &r, true);
	outbreak_record_free(&r);
	return e;
}

enum lw_err
outbreak_list(struct outbreak_store *st, time_t now,
    struct outbreak_record **v, size_t *n)
{
	*v = NULL;
	*n = 0;
	return st->ops->list(st, now, v, n);
}

/* The alert */

const char *
outbreak_alert_check(const char *t)
{
	const char	*p;

	if (t[strspn(t, " \t")] == '\0')
		return "must name a program";
	for (p = t; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			return "must be one line";
		if (*p != '%')
			continue;
		p++;
		if (*p == '\0' || strchr("srlnwat%", *p) == NULL)
			return "unknown placeholder (use %s, %r, %l, %n, %w, "
			    "%a, %t or %%)";
	}
	p = t + strspn(t, " \t");
	if (strcspn(p, "%") < strcspn(p, " \t"))
		return "the program must be a path without placeholders";
	return NULL;
}

/* One template word with its placeholders replaced. */
static char *
alert_word(const char *w, size_t len, const struct outbreak_alert *a)
{
	char		 num[32], *out = NULL, *n;
	const char	*val;
	size_t		 i;

	if ((out = strdup("")) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		val = num;
		if (w[i] != '%' || i + 1 >= len) {
			num[0] = w[i];
			num[1] = '\0';
		} else {
			switch (w[++i]) {
			case 's': val = a->sender; break;
			case 'r': val = a->reason; break;
			case 'a': val = a->action; break;
			case 'l': snprintf(num, sizeof(num), "%u", a->lures);
				break;
			case 'n': snprintf(num, sizeof(num), "%u",
				    a->new_rcpts);
				break;
			case 'w': snprintf(num, sizeof(num), "%u", a->window);
				break;
			case 't': snprintf(num, sizeof(num), "%lld",
				    (long long)a->tripped);
				break;
			default: num[0] = w[i]; num[1] = '\0'; break;
			}
		}
		if (lw_asprintf(&n, "%s%s", out, val != NULL ? val : "") !=
		    LW_OK) {
			free(out);
			return NULL;
		}
		free(out);
		out = n;
	}
	return out;
}

enum lw_err
outbreak_alert_argv(const char *t, const struct outbreak_alert *a,
    char ***argvp)
{
	const char	*p;
	char		**argv;
	size_t		  words = 0, n = 0, len;

	for (p = t; *p != '\0'; p += strcspn(p, " \t")) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		words++;
	}
	if ((argv = calloc(words + 1, sizeof(*argv))) == NULL)
		return LW_ENOMEM;
	for (p = t; *p != '\0'; p += len) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		if ((argv[n++] = alert_word(p, len, a)) == NULL) {
			config_argv_free(argv);
			return LW_ENOMEM;
		}
	}
	*argvp = argv;
	return LW_OK;
}

/*
 * Run argv detached.  Between fork and exec only async-signal-safe
 * calls: the milter is multithreaded.  The middle process is the
 * waiter that bounds the command in time; we reap only the first
 * child, which exits at once.
 */
static void
alert_spawn(char **argv)
{
	struct timespec	 tick = { 0, 100 * 1000 * 1000 };
	sigset_t	 none;
	pid_t		 first, waiter, cmd;
	int		 st, i, fd;

	sigemptyset(&none);
	if ((first = fork()) == -1) {
		log_warn("alert_command: fork");
		return;
	}
	if (first == 0) {
		(void)setsid();
		if ((waiter = fork()) != 0)
			_exit(waiter == -1 ? 1 : 0);
		if ((cmd = fork()) == -1)
			_exit(1);
		if (cmd == 0) {
			struct sigaction	sa;

			(void)setpgid(0, 0);
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			(void)sigaction(SIGPIPE, &sa, NULL);
			(void)sigprocmask(SIG_SETMASK, &none, NULL);
			if ((fd = open("/dev/null", O_RDONLY)) != -1 &&
			    fd != STDIN_FILENO) {
				(void)dup2(fd, STDIN_FILENO);
				(void)close(fd);
			}
			(void)close_range(3, ~0U, 0);
			execv(argv[0], argv);
			_exit(127);
		}
		(void)setpgid(cmd, cmd);
		for (i = 0; i < OUTBREAK_ALERT_TIMEOUT * 10; i++) {
			if (waitpid(cmd, &st, WNOHANG) == cmd)
				_exit(0);
			(void)nanosleep(&tick, NULL);
		}
		(void)kill(-cmd, SIGKILL);
		(void)kill(cmd, SIGKILL);
		(void)waitpid(cmd, &st, 0);
		_exit(2);
	}
	while (waitpid(first, &st, 0) == -1 && errno == EINTR)
		;
}

void
outbreak_alert(const struct config *cfg, const char *qid,
    const struct outbreak_alert *a)
{
	char	*s, **argv;

	s = lw_sanitize(a->sender, strlen(a->sender), LOG_SENDER_MAX);
	log_msg(LOG_CRIT, qid, "outbreak: sender=<%s> tripped the breaker: "
	    "reason=%s lures=%u new_rcpts=%u window=%us action=%s; held "
	    "until `lurewall outbreak clear`", s != NULL ? s : "?",
	    a->reason, a->lures, a->new_rcpts, a->window, a->action);
	free(s);
	if (cfg == NULL || cfg->alert_command == NULL)
		return;
	if (outbreak_alert_argv(cfg->alert_command, a, &argv) != LW_OK) {
		log_warnx("alert_command: out of memory");
		return;
	}
	alert_spawn(argv);
	config_argv_free(argv);
}
