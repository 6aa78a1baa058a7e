/*
 * util.h: the one copy of each small I/O and time helper the stages
 * share (issue 14): a bounded file reader, write_all, a time formatter.
 * String helpers stay in lurewall.h, the growable string in sbuf.h.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lurewall.h"

/*
 * Read a whole regular file, path relative to dfd (AT_FDCWD for a
 * plain path), never more than max bytes: the file's size only sizes
 * the first buffer, the read stops at the real end.  nofollow refuses
 * a symlink (O_NOFOLLOW).  *out is malloc'd and NUL-terminated (the
 * bytes may hold NULs: *outlen says how many).  Returns LW_OK,
 * LW_ENOTFOUND (no such file; errno kept), LW_EMALFORMED (not a
 * regular file), LW_ELIMIT (over max), LW_ENOMEM, or LW_EIO (errno
 * kept).
 */
enum lw_err	 lw_read_file(int dfd, const char *path, bool nofollow,
		    size_t max, char **out, size_t *outlen);

/* Write all of buf to fd (EINTR retried); LW_EIO with errno set. */
enum lw_err	 lw_write_all(int fd, const void *buf, size_t len);

/* The time formats lurewall prints, each in one place. */
enum lw_timefmt {
	LW_TIME_UTC,		/* 2026-12-03T06:40:00Z (logs, JSON, headers) */
	LW_TIME_LOCAL,		/* 2026-12-03T15:40:00+0900 */
	LW_TIME_MINUTE,		/* 2026-12-03 15:40 (local; tables) */
	LW_TIME_MINUTE_ZONE	/* 2026-12-03 15:40 JST */
};

/*
 * t in format f.  On failure buf holds t as a decimal number and the
 * result is false.
 */
bool		 lw_time_fmt(char *buf, size_t len, enum lw_timefmt f,
		    time_t t);

#endif /* UTIL_H */
