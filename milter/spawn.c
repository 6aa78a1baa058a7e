/*
 * spawn.c: fork/execv without a shell (see spawn.h).  spawn_run forks
 * a first child that (when detached) starts a new session and exits at
 * once; the waiter it leaves feeds the input, bounds the command in
 * time and kills its process group when that runs out.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

static void
redirect(int fd, int to, int mode)
{
	int	n;

	if (fd == SPAWN_KEEP)
		return;
	if (fd == SPAWN_NULL) {
		if ((n = open("/dev/null", mode)) == -1)
			_exit(127);
		if (n != to) {
			(void)dup2(n, to);
			(void)close(n);
		}
		return;
	}
	if (fd != to && dup2(fd, to) == -1)
		_exit(127);
}

void
spawn_exec(char *const *argv, int in_fd, int out_fd, int err_fd)
{
	struct sigaction	 sa;
	sigset_t		 none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	redirect(in_fd, STDIN_FILENO, O_RDONLY);
	redirect(out_fd, STDOUT_FILENO, O_WRONLY);
	redirect(err_fd, STDERR_FILENO, O_WRONLY);
	(void)close_range(3, ~0U, 0);
	execv(argv[0], argv);
	_exit(127);
}

int
spawn_run(char *const *argv, const char *data, size_t len, bool detach,
    unsigned timeout)
{
	struct timespec		 tick = { 0, 100 * 1000 * 1000 };
	struct sigaction	 sa;
	pid_t			 first, cmd;
	ssize_t			 w;
	size_t			 off;
	unsigned		 i;
	int			 st, pfd[2];

	if ((first = fork()) == -1)
		return -1;
	if (first == 0) {
		if (detach) {
			(void)setsid();
			if ((cmd = fork()) != 0)
				_exit(cmd == -1 ? 1 : 0);
		}
		if (pipe(pfd) == -1 || (cmd = fork()) == -1)
			_exit(1);
		if (cmd == 0) {
			(void)setpgid(0, 0);
			spawn_exec(argv, pfd[0], SPAWN_NULL, SPAWN_KEEP);
		}
		(void)setpgid(cmd, cmd);
		(void)close(pfd[0]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		(void)sigaction(SIGPIPE, &sa, NULL);
		for (off = 0; off < len; off += (size_t)w)
			if ((w = write(pfd[1], data + off, len - off)) <= 0)
				break;
		(void)close(pfd[1]);
		for (i = 0; i < timeout * 10; i++) {
			if (waitpid(cmd, &st, WNOHANG) == cmd)
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
			(void)nanosleep(&tick, NULL);
		}
		(void)kill(-cmd, SIGKILL);
		(void)kill(cmd, SIGKILL);
		(void)waitpid(cmd, &st, 0);
		_exit(2);
	}
	while (waitpid(first, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
spawn_capture(char *const *argv, char **envp, char *out, size_t outlen,
    int *status)
{
	extern char	**environ;
	char		  drain[512];
	size_t		  len = 0;
	ssize_t		  r;
	pid_t		  pid;
	int		  p[2];

	*status = -1;
	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (envp != NULL)
			environ = envp;		/* a plain store: safe here */
		spawn_exec(argv, SPAWN_NULL, p[1], p[1]);
	}
	(void)close(p[1]);
	/* Keep what fits, read the rest away so the child never blocks. */
	for (;;) {
		if (len < outlen - 1)
			r = read(p[0], out + len, outlen - 1 - len);
		else
			r = read(p[0], drain, sizeof(drain));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (len < outlen - 1)
			len += (size_t)r;
	}
	(void)close(p[0]);
	out[len] = '\0';
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}
