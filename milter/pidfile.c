/*
 * pidfile.c: the daemon's pidfile and reload status record (see
 * pidfile.h).  The record is a fixed PIDFILE_STATUS_BYTES of text,
 * blank-padded, written with one pwrite at offset 0, so a reader never
 * sees a shorter record with an older tail; a reader that still catches
 * a half-written one finds no "end" marker and reads again.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidfile.h"

static const char *const result_names[] = { "start", "ok", "failed" };

const char *
pidfile_result_name(enum reload_result r)
{
	return result_names[r];
}

bool
pidfile_status_path(const char *path, char *buf, size_t len)
{
	size_t	n = strlen(path);
	int	r;

	if (n > 4 && strcmp(path + n - 4, ".pid") == 0)
		r = snprintf(buf, len, "%.*s.reload", (int)(n - 4), path);
	else
		r = snprintf(buf, len, "%s.reload", path);
	return r > 0 && (size_t)r < len;
}

enum lw_err
pidfile_read(const char *path, pid_t *pid)
{
	char	 buf[32], *end;
	ssize_t	 n;
	long	 v;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return LW_EMALFORMED;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v <= 1 || v > 0x7fffffffL)
		return LW_EMALFORMED;
	*pid = (pid_t)v;
	return LW_OK;
}

bool
pidfile_is_daemon(pid_t pid)
{
	char	 path[64], comm[64];
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	/* comm holds at most 15 bytes: exactly our name's length. */
	return strcmp(comm, LW_DAEMON_NAME) == 0;
}

enum lw_err
pidfile_status_write(int fd, const struct reload_status *st)
{
	char	rec[PIDFILE_STATUS_BYTES];
	int	n;
	size_t	i;

	memset(rec, ' ', sizeof(rec));
	n = snprintf(rec, sizeof(rec) - 8,
	    "pid=%ld gen=%lu result=%s time=%lld msg=%s", st->pid, st->gen,
	    pidfile_result_name(st->result), st->when, st->msg);
	if (n < 0)
		return LW_EINTERNAL;
	if ((size_t)n > sizeof(rec) - 9)
		n = (int)sizeof(rec) - 9;
	/* One line: a newline in the message would end the record early. */
	for (i = 0; i < (size_t)n; i++)
		if (rec[i] == '\n' || rec[i] == '\0')
			rec[i] = ' ';
	memcpy(rec + sizeof(rec) - 5, " end", 4);
	rec[sizeof(rec) - 1] = '\n';
	if (pwrite(fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec))
		return LW_EIO;
	return LW_OK;
}

enum lw_err
pidfile_status_read(const char *path, struct reload_status *st)
{
	char		 rec[PIDFILE_STATUS_BYTES + 1], res[16], *m, *e;
	ssize_t		 n;
	int		 fd, pos = 0;
	size_t		 i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	n = pread(fd, rec, PIDFILE_STATUS_BYTES, 0);
	close(fd);
	if (n != PIDFILE_STATUS_BYTES)
		return LW_EMALFORMED;
	rec[n] = '\0';
	if (strcmp(rec + PIDFILE_STATUS_BYTES - 5, " end\n") != 0)
		return LW_EMALFORMED;
	memset(st, 0, sizeof(*st));
	if (sscanf(rec, "pid=%ld gen=%lu result=%15s time=%lld msg=%n",
	    &st->pid, &st->gen, res, &st->when, &pos) != 4 || pos == 0)
		return LW_EMALFORMED;
	for (i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++)
		if (strcmp(res, result_names[i]) == 0)
			break;
	if (i == sizeof(result_names) / sizeof(result_names[0]))
		return LW_EMALFORMED;
	st->result = (enum reload_result)i;
	m = rec + pos;
	e = rec + PIDFILE_STATUS_BYTES - 5;
	while (e > m && e[-1] == ' ')
		e--;
	snprintf(st->msg, sizeof(st->msg), "%.*s", (int)(e - m), m);
	return LW_OK;
}
