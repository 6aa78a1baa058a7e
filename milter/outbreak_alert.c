/*
 * outbreak_alert.c: telling someone a sender tripped the breaker: a
 * LOG_CRIT line and the config's alert_command.
 *
 * The command template is split on blanks (no shell, no quoting); its
 * placeholders are expanded inside each word (outbreak.h).  The command
 * runs detached (fork twice) and is killed with its process group after
 * OUTBREAK_ALERT_TIMEOUT seconds; the caller never waits for it.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "log.h"
#include "outbreak.h"
#include "spawn.h"

#define LOG_SENDER_MAX	200

/* The alert */

const char *
outbreak_alert_check(const char *t)
{
	const char	*p, *why;

	if (t[strspn(t, " \t")] == '\0')
		return "must name a program";
	if ((why = argv_check(t, "srlnwat", false, "unknown placeholder "
	    "(use %s, %r, %l, %n, %w, %a, %t or %%)")) != NULL)
		return why;
	p = t + strspn(t, " \t");
	if (strcspn(p, "%") < strcspn(p, " \t"))
		return "the program must be a path without placeholders";
	return NULL;
}

/* alert_command's placeholders (outbreak_alert_check allows no other). */
static bool
alert_placeholder(void *arg, char c, char *num, const char **val)
{
	const struct outbreak_alert	*a = arg;

	switch (c) {
	case 's': *val = a->sender; return true;
	case 'r': *val = a->reason; return true;
	case 'a': *val = a->action; return true;
	case 'l': snprintf(num, 32, "%u", a->lures); break;
	case 'n': snprintf(num, 32, "%u", a->new_rcpts); break;
	case 'w': snprintf(num, 32, "%u", a->window); break;
	case 't': snprintf(num, 32, "%lld", (long long)a->tripped); break;
	default: return false;
	}
	*val = num;
	return true;
}

enum lw_err
outbreak_alert_argv(const char *t, const struct outbreak_alert *a,
    char ***argvp)
{
	return argv_expand(t, alert_placeholder, (void *)(uintptr_t)a, NULL,
	    0, argvp);
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
	if (spawn_run(argv, "", 0, true, OUTBREAK_ALERT_TIMEOUT) == -1)
		log_warn("alert_command: fork");
	config_argv_free(argv);
}