/*
 * log.h: syslog or stderr, format-checked (after OpenSMTPD's log.h).
 * log_warn appends strerror(errno); fatal* log and exit(1).  The
 * familiar names are front ends of log_at and log_fatal, so one
 * function formats every line.
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
/* One line at prio, with strerror(errno) appended when err. */
void	log_at(int prio, bool err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The same at LOG_CRIT, then exit(1). */
void	log_fatal(bool err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3))) __attribute__((noreturn));
#define log_warn(...)	log_at(LOG_WARNING, true, __VA_ARGS__)
#define log_warnx(...)	log_at(LOG_WARNING, false, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, false, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_DEBUG, false, __VA_ARGS__)
#define fatal(...)	log_fatal(true, __VA_ARGS__)
#define fatalx(...)	log_fatal(false, __VA_ARGS__)
/* Facility name ("mail", "local0" ...) -> LOG_*; -1 if unknown. */
int	log_facility(const char *);

#endif /* LOG_H */
