/*
 * argv.h: the one checker and expander of command templates
 * (submit_command, alert_command, on_quarantine_command) into an argv
 * for execv, with no shell: the template is split at blanks, each word
 * becomes one argument whatever its placeholders expand to.
 */
#ifndef ARGV_H
#define ARGV_H

#include <stdbool.h>
#include <stddef.h>

#include "lurewall.h"

/*
 * The value of placeholder %c: true with *val set (NULL: empty) when c
 * is one, false to keep "%c" as written.  num is scratch room (32
 * bytes) for a number.
 */
typedef bool	(*argv_placeholder_fn)(void *arg, char c, char *num,
		    const char **val);

/*
 * Expand template t into a NULL-terminated *argvp (free it with
 * config_argv_free).  "%%" is "%"; a word that is exactly "%r" becomes
 * one argument per element of list when list is not NULL (the
 * recipients); every other %c goes to fn.
 */
enum lw_err	 argv_expand(const char *t, argv_placeholder_fn fn, void *arg,
		    char *const *list, size_t nlist, char ***argvp);
/* The same for a template whose one placeholder is %c, value val. */
enum lw_err	 argv_expand1(const char *t, char c, const char *val,
		    char *const *list, size_t nlist, char ***argvp);

/*
 * Why template t cannot serve, or NULL: it is one line and uses no
 * placeholder but those in allowed and %%; unknown is the complaint
 * that names them.  With list, %r is argv_expand's list (the
 * recipients): it must stand, as a word of its own.
 */
const char	*argv_check(const char *t, const char *allowed, bool list,
		    const char *unknown);

#endif /* ARGV_H */
