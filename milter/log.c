/*
 * log.c: syslog or stderr (after OpenSMTPD's log.c).  The daemon logs
 * to syslog with the configured facility; the CLI and tests to stderr.
 * Callers escape attacker text (lw_sanitize) before it gets here.
 */
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static int	log_to_stderr = 1;
static bool	log_stamps;
static int	verbose;
static int	max_prio = LOG_DEBUG;	/* log_setmaxprio */

void
log_init(const char *ident, int facility, bool to_stderr)
{
	log_to_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_settimestamps(bool on)
{
	log_stamps = on;
}

void
log_setverbose(int v)
{
	verbose = v;
}

void
log_setmaxprio(int prio)
{
	max_prio = prio;
}

int
log_getverbose(void)
{
	return verbose;
}

static void vlog(int, bool, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

/*
 * One finished line to its sink.  On stderr a foreground daemon's
 * lines start with the time (UTC, milliseconds), as syslog would have
 * added it; the CLI's stay bare.
 */
static void
emit(int prio, const char *line)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 stamp[40], small[1024], *buf;
	size_t		 n, len;

	if (prio > max_prio)
		return;
	if (!log_to_stderr) {
		syslog(prio, "%s", line);
		return;
	}
	/*
	 * One write a line (stderr is unbuffered: three calls were
	 * three writes), so lines of threads and processes never mix.
	 */
	n = 0;
	if (log_stamps && gettimeofday(&tv, NULL) == 0 &&
	    gmtime_r(&tv.tv_sec, &tm) != NULL &&
	    (n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm)) >
	    0)
		n += (size_t)snprintf(stamp + n, sizeof(stamp) - n,
		    ".%03ldZ ", (long)(tv.tv_usec / 1000));
	len = strlen(line);
	if (n + len + 1 <= sizeof(small))
		buf = small;
	else if ((buf = malloc(n + len + 1)) == NULL) {
		/* No memory: the line still goes out, in pieces. */
		flockfile(stderr);
		(void)fwrite(stamp, 1, n, stderr);
		fputs(line, stderr);
		fputc('\n', stderr);
		funlockfile(stderr);
		return;
	}
	memcpy(buf, stamp, n);
	memcpy(buf + n, line, len);
	buf[n + len] = '\n';
	(void)fwrite(buf, 1, n + len + 1, stderr);
	if (buf != small)
		free(buf);
}

/* The line fmt makes, with errno's text (saved first) when err. */
static void
vlog(int prio, bool err, const char *fmt, va_list ap)
{
	char	*s = NULL, *full = NULL;
	int	 saved = errno;

	if (prio == LOG_DEBUG && !verbose)
		return;
	if (vasprintf(&s, fmt, ap) < 0)
		return;
	if (!err)
		emit(prio, s);
	else if (asprintf(&full, "%s: %s", s, strerror(saved)) >= 0) {
		emit(prio, full);
		free(full);
	}
	free(s);
	errno = saved;
}

void
log_msg(int prio, const char *qid, const char *fmt, ...)
{
	va_list	 ap;
	char	*s = NULL, *full = NULL;

	if (prio == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		if (asprintf(&full, "qid=%s: %s", qid != NULL ? qid : "-",
		    s) >= 0) {
			emit(prio, full);
			free(full);
		}
		free(s);
	}
	va_end(ap);
}

void
log_at(int prio, bool err, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(prio, err, fmt, ap);
	va_end(ap);
}

void
log_fatal(bool err, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, err, fmt, ap);
	va_end(ap);
	exit(1);
}

int
log_facility(const char *name)
{
	static const struct {
		const char	*name;
		int		 fac;
	} tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	size_t	i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcasecmp(tab[i].name, name) == 0)
			return tab[i].fac;
	return -1;
}
