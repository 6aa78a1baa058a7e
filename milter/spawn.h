/*
 * spawn.h: the one way lurewall runs a program: fork and execv, no
 * shell, no PATH (argv comes from argv.c's templates).  Used by the
 * release and digest submissions, the notices, the outbreak alert and
 * the MTA hold commands.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <stdbool.h>
#include <stddef.h>

#define SPAWN_NULL	(-1)	/* the descriptor becomes /dev/null */
#define SPAWN_KEEP	(-2)	/* the descriptor stays as inherited */

/*
 * In a child just forked: standard input from in_fd, output to out_fd,
 * errors to err_fd (a descriptor, SPAWN_NULL or SPAWN_KEEP), SIGPIPE
 * back to its default, no signal blocked, every other descriptor
 * closed, then execv(argv[0]); exits 127 when that fails.  Only
 * async-signal-safe calls: the milter is multithreaded.
 */
void	spawn_exec(char *const *argv, int in_fd, int out_fd, int err_fd)
	    __attribute__((noreturn));

/*
 * Run argv with len bytes of data on its standard input (its output to
 * /dev/null), killed with its process group after timeout seconds.
 * detach: return once a waiter process owns it (the result is then
 * whether that started).  Returns its exit status, 2 when killed at
 * the timeout, 1 when signalled, -1 when it could not be started.
 */
int	spawn_run(char *const *argv, const char *data, size_t len, bool detach,
	    unsigned timeout);

/*
 * Run argv with standard input from /dev/null and its output and
 * errors into out (at most outlen - 1 bytes kept, NUL-terminated; the
 * rest read and dropped), and wait for it; envp (NULL: ours) is its
 * environment.  *status as waitpid(2) gives it.  Returns 0, or -1
 * when it could not be started (errno).
 */
int	spawn_capture(char *const *argv, char **envp, char *out,
	    size_t outlen, int *status);

#endif /* SPAWN_H */
