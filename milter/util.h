/*
 * util.h: the one copy of each small I/O, time and memory helper the
 * stages share (issue 14): a bounded file reader, write_all, a time
 * formatter, the frees of owned pointers.
 * String helpers stay in lurewall.h, the growable string in sbuf.h.
 */
#ifndef UTIL_H
#define UTIL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
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

/*
 * The small-file stores (state_files.c, outbreak_fs.c) share these.
 * Files root creates in a directory it does not own go to the
 * directory's owner (uid, gid; uid 0: left alone), so the daemon's
 * user can always open them later.
 */
#define LW_WAIT_FOREVER	(~0u)
/*
 * Open (creating 0600) the lock file path and take flock(2) on it:
 * wait_secs LW_WAIT_FOREVER blocks, else poll for at most wait_secs
 * (then LW_EIO, errno EAGAIN).  Close *fdp to drop the lock.  LW_EIO
 * with errno set; the caller logs.
 */
enum lw_err	 lw_lock_file(const char *path, uid_t uid, gid_t gid,
		    unsigned wait_secs, int *fdp);
/*
 * Replace path by a new file: fill writes it to tmp (0600, returning
 * false on failure), then fflush, fsync when durable, rename over path,
 * and, when durable, fsync of dir: a crash leaves the old file or the
 * new, never half of one.  LW_EIO (tmp removed) on failure.
 */
enum lw_err	 lw_replace_file(const char *dir, const char *tmp,
		    const char *path, uid_t uid, gid_t gid, bool durable,
		    bool (*fill)(FILE *, const void *), const void *arg);
/* The SHA-256 of len bytes at p in lower-case hex; LW_EINTERNAL. */
enum lw_err	 lw_sha256_hex(const void *p, size_t len, char hex[65]);
/* fsync(2) the directory dir: a rename in it stays.  LW_EIO. */
enum lw_err	 lw_fsync_dir(const char *dir);

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

/*
 * Print text (lines joined by newlines, as a config load's errors) to
 * f, each line after prefix and ": ".
 */
void		 lw_print_lines(FILE *f, const char *prefix, const char *text);

/*
 * Structs own many strings and buffers; their free functions read
 * better as one list than as a column of free(3) calls:
 * FREE_ALL(a->display, a->addr, a->domain).  Each pointer is freed
 * once, NULL ones are skipped as free(3) skips them.  The arguments
 * are evaluated once (sizeof does not evaluate them).
 */
void		 lw_free_all(void *const *v, size_t n);
#define FREE_ALL(...)	lw_free_all((void *[]){ __VA_ARGS__ }, \
			    sizeof((void *[]){ __VA_ARGS__ }) / sizeof(void *))
/*
 * Room for one more element in the array v of n elements, *cap of them
 * allocated, size bytes each: v itself while n < *cap, else v grown to
 * twice *cap (to first when empty) and *cap updated.  NULL on ENOMEM,
 * with v and *cap as they were (v still the caller's to free).
 */
void		*lw_grow(void *v, size_t n, size_t *cap, size_t first,
		    size_t size);
/*
 * Add a copy of s to the set v of *n strings, a fixed array of max:
 * nothing when s is there already or the set is full (the first ones
 * count).  LW_ENOMEM.
 */
enum lw_err	 lw_strset_add(char **v, size_t *n, size_t max,
		    const char *s);
/* Free the n strings of v (a fixed array: v itself stays). */
void		 lw_strv_clear(char **v, size_t n);
/* Free the n strings of v, then v itself (v may be NULL). */
void		 lw_strv_free(char **v, size_t n);
/*
 * Free the array v of n structs that own memory: clear(&v[i]) each,
 * then free(v).  A macro, so clear takes the element's own type.
 */
#define FREE_EACH(v, n, clear) do {					\
	size_t	lw_i_;							\
									\
	for (lw_i_ = 0; lw_i_ < (n); lw_i_++)				\
		clear(&(v)[lw_i_]);					\
	free(v);							\
} while (0)

#endif /* UTIL_H */
