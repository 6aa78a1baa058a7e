/*
 * util.c: the one copy of each small I/O and time helper (util.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

bool
lw_time_fmt(char *buf, size_t len, enum lw_timefmt f, time_t t)
{
	struct tm	tm;
	size_t		n = 0;

	if ((f == LW_TIME_UTC ? gmtime_r(&t, &tm) :
	    localtime_r(&t, &tm)) != NULL) {
		switch (f) {
		case LW_TIME_UTC:
			n = strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
			break;
		case LW_TIME_LOCAL:
			n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
			break;
		case LW_TIME_MINUTE:
			n = strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
			break;
		case LW_TIME_MINUTE_ZONE:
			n = strftime(buf, len, "%Y-%m-%d %H:%M %Z", &tm);
			break;
		}
	}
	if (n == 0) {
		snprintf(buf, len, "%lld", (long long)t);
		return false;
	}
	return true;
}
