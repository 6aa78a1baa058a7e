/*
 * log.h: syslog or stderr, format-checked (after OpenSMTPD's log.h).
 * log_warn appends strerror(errno); fatal* log and exit(1).
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

void	log_init(const char *ident, int facility, bool to_stderr);
/* Foreground daemon: stderr lines start with an ISO 8601 UTC time. */
void	log_settimestamps(bool);
void	log_setverbose(int);
int	log_getverbose(void);
/* Drop lines less urgent than prio (the CLI's scan: LOG_ERR). */
void	log_setmaxprio(int prio);
void	log_msg(int prio, const char *qid, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));
/* Facility name ("mail", "local0" ...) -> LOG_*; -1 if unknown. */
int	log_facility(const char *);

#endif /* LOG_H */
