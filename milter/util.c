/*
 * util.c: the one copy of each small I/O, time and memory helper
 * (util.h).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

enum lw_err
lw_read_file(int dfd, const char *path, bool nofollow, size_t max,
    char **out, size_t *outlen)
{
	struct stat	 st;
	char		*buf = NULL, *nb;
	size_t		 len = 0, cap;
	ssize_t		 r;
	int		 fd, saved;

	*out = NULL;
	*outlen = 0;
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC |
	    (nofollow ? O_NOFOLLOW : 0));
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

enum lw_err
lw_write_all(int fd, const void *buf, size_t len)
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

/* A file root just made in a directory it does not own: the owner's. */
static void
give_away(int fd, uid_t uid, gid_t gid)
{
	if (geteuid() == 0 && uid != 0)
		(void)fchown(fd, uid, gid);
}

enum lw_err
lw_lock_file(const char *path, uid_t uid, gid_t gid, unsigned wait_secs,
    int *fdp)
{
	time_t		 start = time(NULL);
	useconds_t	 pause = 1000;
	int		 fd, saved;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return LW_EIO;
	give_away(fd, uid, gid);
	while (flock(fd, wait_secs == LW_WAIT_FOREVER ? LOCK_EX :
	    LOCK_EX | LOCK_NB) == -1) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    (wait_secs != LW_WAIT_FOREVER &&
		    time(NULL) - start >= (time_t)wait_secs)) {
			saved = errno == EWOULDBLOCK ? EAGAIN : errno;
			close(fd);
			errno = saved;
			return LW_EIO;
		}
		if (errno == EINTR || wait_secs == LW_WAIT_FOREVER)
			continue;
		usleep(pause);
		if (pause < 50000)
			pause *= 2;
	}
	*fdp = fd;
	return LW_OK;
}

enum lw_err
lw_sha256_hex(const void *p, size_t len, char hex[65])
{
	unsigned char	md[32];
	unsigned	mdlen = 0;
	size_t		i;

	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return LW_EINTERNAL;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return LW_OK;
}

enum lw_err
lw_fsync_dir(const char *dir)
{
	int	dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return LW_EIO;
	if (fsync(dfd) == -1) {
		close(dfd);
		return LW_EIO;
	}
	close(dfd);
	return LW_OK;
}

enum lw_err
lw_replace_file(const char *dir, const char *tmp, const char *path,
    uid_t uid, gid_t gid, bool durable,
    bool (*fill)(FILE *, const void *), const void *arg)
{
	FILE	*f;
	int	 fd;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return LW_EIO;
	give_away(fd, uid, gid);
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out_tmp;
	}
	if (!fill(f, arg) || fflush(f) != 0 || ferror(f) ||
	    (durable && fsync(fd) == -1)) {
		fclose(f);
		goto out_tmp;
	}
	if (fclose(f) != 0)
		goto out_tmp;
	/* The rename publishes the whole file; the fsync makes it stay. */
	if (rename(tmp, path) == -1)
		goto out_tmp;
	return durable ? lw_fsync_dir(dir) : LW_OK;
out_tmp:
	(void)unlink(tmp);
	return LW_EIO;
}

bool
lw_time_fmt(char *buf, size_t len, enum lw_timefmt f, time_t t)
{
	struct tm	tm;

	/* The formats stay literals, so that the compiler checks them. */
	if ((f == LW_TIME_UTC ? gmtime_r(&t, &tm) :
	    localtime_r(&t, &tm)) != NULL && strftime(buf, len,
	    f == LW_TIME_UTC ? "%Y-%m-%dT%H:%M:%SZ" :
	    f == LW_TIME_LOCAL ? "%Y-%m-%dT%H:%M:%S%z" :
	    f == LW_TIME_MINUTE ? "%Y-%m-%d %H:%M" : "%Y-%m-%d %H:%M %Z",
	    &tm) != 0)
		return true;
	snprintf(buf, len, "%lld", (long long)t);
	return false;
}

void
lw_print_lines(FILE *f, const char *prefix, const char *text)
{
	const char	*nl;

	do {
		nl = strchr(text, '\n');
		fprintf(f, "%s: %.*s\n", prefix, nl != NULL ?
		    (int)(nl - text) : (int)strlen(text), text);
		text = nl + 1;
	} while (nl != NULL);
}

void
lw_free_all(void *const *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

void *
lw_grow(void *v, size_t n, size_t *cap, size_t first, size_t size)
{
	size_t	 ncap;
	void	*nv;

	if (n < *cap)
		return v;
	if (*cap > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	ncap = *cap > 0 ? *cap * 2 : first;
	if ((nv = reallocarray(v, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return nv;
}

enum lw_err
lw_strset_add(char **v, size_t *n, size_t max, const char *s)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i], s) == 0)
			return LW_OK;
	if (*n == max)
		return LW_OK;
	if ((v[*n] = strdup(s)) == NULL)
		return LW_ENOMEM;
	(*n)++;
	return LW_OK;
}

void
lw_strv_clear(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

void
lw_strv_free(char **v, size_t n)
{
	if (v != NULL)
		lw_strv_clear(v, n);
	free(v);
}
