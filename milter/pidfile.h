/*
 * pidfile.h: the daemon's pidfile and its reload status record, shared
 * by lurewall-milter (writes both) and `lurewall reload` (reads both).
 *
 * The status file sits beside the pidfile (a trailing ".pid" becomes
 * ".reload", else ".reload" is appended).  It holds one fixed-size
 * text record, rewritten in place after each reload:
 *	pid=N gen=N result=start|ok|failed time=N msg=TEXT
 * gen counts the reloads since start, so a reader that saw gen G before
 * signalling knows its answer when gen passes G.
 */
#ifndef PIDFILE_H
#define PIDFILE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lurewall.h"

#define LW_DEFAULT_PIDFILE	"/run/lurewall-milter/lurewall-milter.pid"
#define LW_DAEMON_NAME		"lurewall-milter"
#define PIDFILE_STATUS_BYTES	512	/* one record, newline included */

enum reload_result {
	RELOAD_START = 0,	/* no reload since start */
	RELOAD_OK,
	RELOAD_FAILED
};

struct reload_status {
	long			 pid;
	unsigned long		 gen;
	enum reload_result	 result;
	long long		 when;
	char			 msg[PIDFILE_STATUS_BYTES - 96];
};

/* The status file's path for pidfile PATH, in buf; false if too long. */
bool		 pidfile_status_path(const char *path, char *buf, size_t len);
/* The PID in PATH (one decimal number and a newline). */
enum lw_err	 pidfile_read(const char *path, pid_t *pid);
/* True when PID runs a program named lurewall-milter (/proc/PID/comm). */
bool		 pidfile_is_daemon(pid_t pid);
/* Rewrite the record in the open status file fd (one pwrite). */
enum lw_err	 pidfile_status_write(int fd, const struct reload_status *);
/* Read and parse the record at PATH; LW_ENOTFOUND if there is none. */
enum lw_err	 pidfile_status_read(const char *path, struct reload_status *);
const char	*pidfile_result_name(enum reload_result);

#endif /* PIDFILE_H */
