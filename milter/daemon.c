/*
 * daemon.c: main() of lurewall-milter: options, configuration, socket,
 * privileges, signals.
 *
 * Order of work, as root: load and check the config and policies (-n
 * stops here), open the milter socket (a stale unix socket is removed)
 * and give it the user's group and mode 0660, create a missing
 * quarantine directory for the user, detach (unless -f), write the
 * pidfile, then drop to the user for good (setgroups, setresgid,
 * setresuid; setuid(0) must then fail) and open the quarantine as that
 * user so every file it makes is the user's.  It never keeps root:
 * started as root without a user, or with a user whose uid is 0, it
 * stops before opening the socket.
 *
 * Start-up also loads libmagic once (filetype_init: one shared mapping
 * of the database, magic_pool_size() cookies) so the first messages do
 * not pay for it and a missing database stops us at once, and sets TZ
 * to ":/etc/localtime" when it is unset: glibc's mktime (libzip calls it
 * for every zip entry's DOS time) re-reads /etc/localtime's status on
 * each call without TZ, and with it only compares the string.  A
 * changed time zone is then seen after a restart.
 *
 * Signals: libmilter's own signal thread owns SIGHUP, SIGTERM and
 * SIGINT (all mean stop); we wait on those only once smfi_main has
 * returned, while messages in progress drain (drain()).  SIGUSR1 is blocked
 * in every thread and taken by one sigwait thread that loads a fresh
 * config and policy set and swaps it in whole; a broken file is logged
 * with its error and the running configuration stays.  Socket, user and
 * pidfile are fixed at start-up (a reload cannot reopen them without
 * root).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confdiff.h"
#include "config.h"
#include "drain.h"
#include "filetype.h"
#include "log.h"
#include "lurewall.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter.h"
#include "outbreak.h"
#include "pidfile.h"
#include "policy.h"
#include "quarantine.h"
#include "quarantine_index.h"
#include "runtime.h"
#include "scan.h"
#include "spawn.h"
#include "splitppap.h"
#include "learn.h"
#include "state.h"
#include "util.h"

#define IDENT	"lurewall-milter"
#define MAGIC_POOL_MIN	2
#define MAGIC_POOL_MAX	16
/* At a stop, what the drain waits beyond the scan timeout. */
#define DRAIN_MARGIN_SECS	10

static char	*config_path;
/* The reload status record beside the pidfile (-1: no pidfile). */
static int			 status_fd = -1;
static struct reload_status	 status;
static char			 status_path[PATH_MAX];
static char	*metrics_listen;	/* what the endpoint listens on */
/* The shared quarantine index (state: redis), or NULL. */
static struct qindex	*qindex;
static struct quarantine *qindex_store;	/* the index's own handle */
static char	 cli_path[PATH_MAX];	/* the lurewall beside us */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: " IDENT " [-fnOvV] [-c file] [-p socket] "
	    "[-P pidfile] [-u user[:group]]\n");
	exit(1);
}

/* Config and policies together; both or neither. */
static enum lw_err
load_all(const char *path, struct config **cfgp, struct policyset **psp,
    char *err, size_t errlen)
{
	struct config		*cfg = NULL;
	struct policyset	*ps = NULL;
	enum lw_err		 e;

	if ((e = config_load(path, &cfg, err, errlen)) != LW_OK)
		return e;
	if (cfg->policy_dir == NULL) {
		snprintf(err, errlen, "%s: policy_dir: not set", path);
		config_free(cfg);
		return LW_EINVAL;
	}
	if ((e = policy_load_dir(cfg->policy_dir, &cfg->limits, &ps, err,
	    errlen)) != LW_OK) {
		config_free(cfg);
		return e;
	}
	*cfgp = cfg;
	*psp = ps;
	return LW_OK;
}

/* The state, once open: every quarantine of a reload keeps in it. */
static struct state	*daemon_state;

static enum lw_err
open_quarantine(const struct config *cfg, struct quarantine **qp,
    char *err, size_t errlen)
{
	enum lw_err	e;

	*qp = NULL;
	if (cfg->quarantine_dir == NULL)
		return LW_OK;
	if ((e = quarantine_open(cfg->quarantine_dir, qp)) != LW_OK)
		snprintf(err, errlen, "quarantine %s: %s: %s",
		    cfg->quarantine_dir, lw_strerror(e), strerror(errno));
	else {
		quarantine_set_state(*qp, daemon_state, cfg->state.host_name,
		    cfg->state.redis.pending_bytes);
		if (qindex != NULL)
			quarantine_set_notify(*qp, qindex_touch, qindex);
	}
	return e;
}

/*
 * Another host asked us to release or delete one of our items: our
 * own CLI does it, as an admin here would (MTA hold queue, submit,
 * release record, the index), and what it said is the answer.
 */
static enum lw_err
qindex_exec(void *arg, const struct qindex_cmd *c, char **answer)
{
	char	*av[12], out[4096], by[QINDEX_WHO_MAX + 64];
	char	*env[] = { by, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int	 n = 0, st;

	(void)arg;
	snprintf(by, sizeof(by), "LUREWALL_REQUESTED_BY=%s",
	    c->who != NULL ? c->who : "another host");
	av[n++] = cli_path;
	av[n++] = "-c";
	av[n++] = config_path;
	av[n++] = "quarantine";
	av[n++] = (char *)c->verb;
	av[n++] = (char *)c->id;
	if (c->to != NULL) {
		av[n++] = "--to";
		av[n++] = c->to;
	}
	if (c->force)
		av[n++] = "--force";
	av[n] = NULL;
	if (spawn_capture(av, env, out, sizeof(out), &st) == -1) {
		if (lw_asprintf(answer, "cannot run %s: %s", cli_path,
		    strerror(errno)) != LW_OK)
			*answer = NULL;
		return LW_EIO;
	}
	*answer = strdup(out);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? LW_OK : LW_EIO;
}

/*
 * With state.backend redis: the index of our quarantine in Redis and
 * the worker that keeps it and takes other hosts' requests (see
 * quarantine_index.h).  Without it, or when it cannot start, the
 * quarantine works as on a single host (logged).
 */
static void
qindex_begin(const struct config *cfg)
{
	struct state	*st = NULL;
	char		*slash;
	ssize_t		 n;
	enum lw_err	 e;

	if (cfg->state.backend != STATE_REDIS || cfg->quarantine_dir == NULL)
		return;
	n = readlink("/proc/self/exe", cli_path, sizeof(cli_path) - 16);
	if (n <= 0 || (cli_path[n] = '\0', slash = strrchr(cli_path,
	    '/')) == NULL) {
		log_warn("quarantine index: cannot find lurewall beside us");
		return;
	}
	strcpy(slash + 1, "lurewall");
	if ((e = quarantine_open(cfg->quarantine_dir, &qindex_store)) !=
	    LW_OK) {
		log_warn("quarantine index: %s", cfg->quarantine_dir);
		return;
	}
	if ((e = state_open(&cfg->state, false, &st)) != LW_OK ||
	    (e = qindex_open(st, qindex_store, cfg->state.host_name,
	    &qindex)) != LW_OK) {
		if (st != NULL)
			state_close(st);
		log_warnx("quarantine index: %s; this host's items are not "
		    "shared", lw_strerror(e));
		quarantine_close(qindex_store);
		qindex_store = NULL;
		return;
	}
	if ((e = qindex_start(qindex, qindex_exec, NULL)) != LW_OK) {
		log_warn("quarantine index: worker");
		qindex_close(qindex);
		qindex = NULL;
		quarantine_close(qindex_store);
		qindex_store = NULL;
		return;
	}
	log_info("quarantine index: %s as host %s", state_name(st),
	    cfg->state.host_name);
}

/*
 * The outcome of a reload, for `lurewall reload`: the record beside
 * the pidfile, its generation one higher.
 */
/* The reload record as it now stands, for `lurewall reload` to read. */
static enum lw_err
status_write(enum reload_result r, const char *msg)
{
	status.result = r;
	status.when = (long long)time(NULL);
	snprintf(status.msg, sizeof(status.msg), "%s", msg);
	return pidfile_status_write(status_fd, &status);
}

static void
reload_report(enum reload_result r, const char *msg)
{
	if (status_fd == -1)
		return;
	status.gen++;
	if (status_write(r, msg) != LW_OK)
		log_warn("reload status %s", status_path);
}

/*
 * A failed reload: each error of the file on a log line of its own,
 * and for `lurewall reload` all of them on one line.
 */
static void
reload_failed(char *err)
{
	char	*line, *next;

	for (line = err; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next = '\0';
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", line);
		if (next != NULL)
			*next++ = ' ';
	}
	reload_report(RELOAD_FAILED, err);
	metrics_add(MC_RELOAD_FAILURES, 1);
}

static void
reload(void)
{
	struct config		*cfg;
	struct policyset	*ps;
	struct quarantine	*q;
	struct runtime		*old;
	char			 err[LW_CONFIG_ERR_MAX], *changes = NULL;

	if (load_all(config_path, &cfg, &ps, err, sizeof(err)) != LW_OK) {
		reload_failed(err);
		return;
	}
	if (open_quarantine(cfg, &q, err, sizeof(err)) != LW_OK) {
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
		reload_report(RELOAD_FAILED, err);
		metrics_add(MC_RELOAD_FAILURES, 1);
		policyset_unref(ps);
		config_free(cfg);
		return;
	}
	/* The endpoint, like the milter socket, stays as it started. */
	if ((cfg->metrics_listen == NULL) != (metrics_listen == NULL) ||
	    (cfg->metrics_listen != NULL &&
	    strcmp(cfg->metrics_listen, metrics_listen) != 0))
		log_warnx("reload: metrics.listen changed to %s; it takes "
		    "effect at the next start",
		    cfg->metrics_listen != NULL ? cfg->metrics_listen : "~");
	/* What changed, said before the old snapshot may go. */
	if ((old = milter_runtime()) != NULL) {
		changes = confdiff(old->cfg, old->ps, cfg, ps);
		runtime_unref(old);
	}
	if (milter_install(cfg, ps, q) != LW_OK) {
		free(changes);
		log_warnx("reload failed: out of memory");
		reload_report(RELOAD_FAILED, "out of memory");
		metrics_add(MC_RELOAD_FAILURES, 1);
		if (q != NULL)
			quarantine_close(q);
		policyset_unref(ps);
		config_free(cfg);
		return;
	}
	metrics_add(MC_RELOADS, 1);
	log_info("reloaded %s: %s", config_path,
	    changes != NULL ? changes : "(changes unknown: out of memory)");
	snprintf(err, sizeof(err), "%s: %s", config_path,
	    changes != NULL ? changes : "?");
	free(changes);
	reload_report(RELOAD_OK, err);
}

/*
 * The state (state.h), once for the daemon's life: a reload keeps it
 * (state: changes need a restart).  The first start copies the old
 * outbreak_dir files into it.  When it cannot be opened (a read-only
 * or full disk, a refused Redis password) the breaker keeps its files
 * in outbreak_dir, logged: mail goes on.
 */
static struct state *
open_state(const struct config *cfg)
{
	struct state	*st;
	size_t		 moved = 0;
	enum lw_err	 e;

	if ((e = state_open_daemon(&cfg->state, &st)) != LW_OK) {
		log_warnx("state (%s, %s): cannot open: %s%s%s; the outbreak "
		    "breaker uses %s", state_backend_name(cfg->state.backend),
		    cfg->state.backend == STATE_REDIS ? "see above" :
		    cfg->state.path, lw_strerror(e), e == LW_EIO ? ": " : "",
		    e == LW_EIO ? strerror(errno) : "", cfg->outbreak_dir);
		return NULL;
	}
	if ((e = outbreak_migrate(cfg->outbreak_dir, st, &moved)) != LW_OK)
		log_warnx("state: copying %s failed (%s); will retry at the "
		    "next start", cfg->outbreak_dir, lw_strerror(e));
	else if (moved > 0)
		log_info("state: %zu outbreak record(s) copied from %s",
		    moved, cfg->outbreak_dir);
	log_info("state: %s", state_name(st));
	return st;
}

/* The one thread that waits for SIGUSR1. */
static void *
reloader(void *arg)
{
	sigset_t	set;
	int		sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;)
		if (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
			reload();
	return NULL;
}

/*
 * Split PPAP's sweep: at start (walking the whole store), then at the
 * earliest pending expiry or every SPLITPPAP_SWEEP_SECS.
 */
static void *
sweeper(void *arg)
{
	bool	full = true;

	(void)arg;
	do {
		milter_sweep(full);
		milter_metrics_flush(false);
		full = false;
	} while (splitppap_sleep(SPLITPPAP_SWEEP_SECS));
	return NULL;
}

/* "unix:/p", "local:/p" or "/p" -> "/p"; NULL for inet sockets. */
static const char *
unix_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	if (sock[0] == '/')
		return sock;
	return NULL;
}

static void
parse_user(const char *spec, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;
	char		*u, *g;

	if ((u = strdup(spec)) == NULL)
		fatal("strdup");
	if ((g = strchr(u, ':')) != NULL)
		*g++ = '\0';
	if ((pw = getpwnam(u)) == NULL)
		fatalx("unknown user %s", u);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (g != NULL && *g != '\0') {
		if ((gr = getgrnam(g)) == NULL)
			fatalx("unknown group %s", g);
		*gid = gr->gr_gid;
	}
	free(u);
}

/*
 * True when SPEC names a user that exists here with uid 0: the daemon
 * would refuse it, wherever it is started.  An unknown user is not
 * judged (it may be created at install time).
 */
static bool
user_is_root(const char *spec)
{
	struct passwd	*pw;
	char		*u, *g;
	bool		 root;

	if ((u = strdup(spec)) == NULL)
		fatal("strdup");
	if ((g = strchr(u, ':')) != NULL)
		*g = '\0';
	root = (pw = getpwnam(u)) != NULL && pw->pw_uid == 0;
	free(u);
	return root;
}

static void
drop_privileges(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid");
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid");
	/* For good: there must be no way back (uid is never 0 here). */
	if (setuid(0) != -1)
		fatalx("could regain root after dropping privileges");
}

/*
 * libmagic cookies for the session threads.  A cookie is held only for
 * a magic_buffer call and scans are CPU-bound, so more cookies than
 * CPUs would only wait for a CPU, not for a cookie; each costs 1-2.5 MB
 * of libmagic's own tables (the database itself is shared).
 */
static unsigned
magic_pool_size(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < MAGIC_POOL_MIN)
		return MAGIC_POOL_MIN;
	if (n > MAGIC_POOL_MAX)
		return MAGIC_POOL_MAX;
	return (unsigned)n;
}

/*
 * The pidfile's directory must let the user we become remove the
 * pidfile at exit: a missing one is made for that user (0755); an
 * existing one that is not the user's is only reported, never taken
 * over (it may be /run itself).
 */
static void
pidfile_dir(const char *path, bool drop, uid_t uid, gid_t gid)
{
	struct stat	 sb;
	char		*dir, *slash;

	if ((dir = strdup(path)) == NULL)
		fatal("strdup");
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &sb) == -1) {
		if (errno != ENOENT || mkdir(dir, 0755) == -1 ||
		    chmod(dir, 0755) == -1)
			fatal("pidfile directory %s", dir);
		if (drop && chown(dir, uid, gid) == -1)
			fatal("chown %s", dir);
	} else if (drop && sb.st_uid != uid)
		log_warnx("pidfile directory %s is not the user's: %s stays "
		    "after exit (use a directory of its own, such as %s)",
		    dir, path, LW_DEFAULT_PIDFILE);
	free(dir);
}

static void
write_pidfile(const char *path, bool drop, uid_t uid, gid_t gid)
{
	FILE	*f;
	int	 fd;

	pidfile_dir(path, drop, uid, gid);
	/*
	 * Root's, writable by root only whatever the umask: anyone who can
	 * write it aims the init script's kill (which also checks that the
	 * PID is lurewall-milter).  No symlink followed.
	 */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1 || fchmod(fd, 0644) == -1 ||
	    (f = fdopen(fd, "w")) == NULL)
		fatal("pidfile %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF)
		fatal("pidfile %s", path);

	/* The reload record: the user's, since the user rewrites it. */
	if (!pidfile_status_path(path, status_path, sizeof(status_path)))
		fatalx("pidfile %s: path too long", path);
	if ((status_fd = open(status_path, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1 || fchmod(status_fd, 0644) == -1 ||
	    (drop && fchown(status_fd, uid, gid) == -1) ||
	    ftruncate(status_fd, 0) == -1)
		fatal("reload status %s", status_path);
	status.pid = (long)getpid();
	status.gen = 0;
	if (status_write(RELOAD_START, config_path) != LW_OK)
		fatal("reload status %s", status_path);
}

/* At exit: both files go (the directory is the user's, see above). */
static void
remove_pidfile(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("cannot remove pidfile %s", path);
	if (status_fd != -1) {
		if (unlink(status_path) == -1 && errno != ENOENT)
			log_warn("cannot remove %s", status_path);
		close(status_fd);
		status_fd = -1;
	}
}

/*
 * While the messages in progress drain: libmilter's signal thread took
 * the first stop signal and is gone, so a second HUP, TERM or INT
 * comes here and cuts the wait short.
 */
static void *
stop_watch(void *arg)
{
	sigset_t	set;
	int		sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) == 0)
		drain_cut();
	return NULL;
}

/*
 * After smfi_main returned: libmilter does not wait for the callbacks
 * in progress.  Close the door (a later end of message is tempfailed
 * untouched) and wait for those inside to answer before the stores
 * close: at most the scan timeout plus DRAIN_MARGIN_SECS (the
 * quarantine write, the state and the learner after the scan).  A
 * second stop signal or the bound ends the process here, without
 * closing the stores under the messages still running (each store
 * survives a crash; their MTAs get no answer and retry).
 */
static void
drain(const char *pidfile)
{
	struct runtime	*rt;
	unsigned	 n, left, secs = DRAIN_MARGIN_SECS;
	pthread_t	 tid;
	enum drain_end	 end;

	if ((n = drain_close()) == 0)
		return;
	if ((rt = milter_runtime()) != NULL) {
		secs += (runtime_limits(rt)->scan_timeout_ms + 999) / 1000;
		runtime_unref(rt);
	}
	log_info("stopping: draining %u message(s) in progress, waiting up "
	    "to %us (another SIGTERM stops at once)", n, secs);
	if ((errno = pthread_create(&tid, NULL, stop_watch, NULL)) != 0)
		log_warn("stopping: no thread for a second signal");
	else
		pthread_detach(tid);
	if ((end = drain_wait(secs, &left)) == DRAIN_DONE) {
		log_info("stopping: drained, every message answered");
		return;
	}
	if (end == DRAIN_CUT)
		log_warnx("stopping: second stop signal: exiting now with %u "
		    "message(s) in progress, stores not closed; their MTAs "
		    "retry", left);
	else
		log_warnx("stopping: %u message(s) still in progress after "
		    "%us: exiting without closing the stores; their MTAs "
		    "retry", left, secs);
	if (pidfile != NULL)
		remove_pidfile(pidfile);
	/* No exit handlers: threads still use what they would free. */
	_exit(1);
}

int
main(int argc, char *argv[])
{
	struct config		*cfg;
	struct policyset	*ps;
	struct quarantine	*q;
	struct metrics_http	*mh = NULL;
	struct state		*st;
	const char		*cfile = LW_DEFAULT_CONFIG, *sock = NULL;
	const char		*user = NULL, *pidfile = NULL, *upath;
	char			 err[LW_CONFIG_ERR_MAX], *rp;
	bool			 foreground = false, check = false;
	int			 ch, verbose = 0, rc;
	uid_t			 uid = 0;
	gid_t			 gid = 0;
	sigset_t		 set;
	pthread_t		 tid, sweep_tid;

	while ((ch = getopt(argc, argv, "c:fhnOp:P:u:vV")) != -1) {
		switch (ch) {
		case 'c':
			cfile = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'O':
			milter_observe();
			break;
		case 'p':
			sock = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf(IDENT " %s\n", LW_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_init(IDENT, LOG_MAIL, true);
	log_setverbose(verbose);
	if (setenv("TZ", ":/etc/localtime", 0) == -1)
		fatal("setenv TZ");
	tzset();
	/*
	 * glibc raises its mmap threshold after the first large free, so
	 * message copies and decoded parts (MBs each) then come from the
	 * per-thread arenas and stay there after the message; with 20
	 * sessions that kept the peak RSS near 20 x the largest message.
	 * A fixed threshold (glibc's initial 128 KiB) gives them back.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/*
	 * Whatever we create (socket before its chmod, pid file, quarantine,
	 * temp files) is never open to others, whatever umask we got.
	 */
	umask(027);
	/* Absolute, so SIGUSR1 finds it after we chdir("/"). */
	if ((rp = realpath(cfile, NULL)) == NULL) {
		fprintf(stderr, IDENT ": %s: %s\n", cfile, strerror(errno));
		return 1;
	}
	config_path = rp;
	if (load_all(config_path, &cfg, &ps, err, sizeof(err)) != LW_OK) {
		lw_print_lines(stderr, IDENT, err);
		return 1;
	}
	if (user == NULL)
		user = cfg->user;
	/*
	 * -n judges the file: a root user is an error there; no user at
	 * all only a warning (the start as root would fail, but -u may
	 * come then).
	 */
	if (check) {
		rc = 0;
		if (user != NULL && user_is_root(user)) {
			fprintf(stderr, IDENT ": %s: user %s is root (uid 0)\n",
			    config_path, user);
			rc = 1;
		} else if (user == NULL && geteuid() == 0)
			fprintf(stderr, IDENT ": warning: no user: started "
			    "as root, the daemon refuses to run; set user: "
			    "in %s or use -u\n", config_path);
		if (rc == 0)
			printf("%s: ok\n", config_path);
		policyset_unref(ps);
		config_free(cfg);
		free(config_path);
		return rc;
	}

	if (filetype_init(magic_pool_size()) != LW_OK)
		fatalx("cannot load the libmagic database");
	/*
	 * Scans are CPU-bound: as many at once as there are cookies (CPUs);
	 * the other sessions wait at end of message holding only their raw
	 * message, not its decoded copies.
	 */
	scan_set_concurrency(magic_pool_size());

	if (sock == NULL)
		sock = cfg->socket;
	if (pidfile == NULL)
		pidfile = cfg->pidfile;
	if (sock == NULL)
		fatalx("no socket: set socket: in %s or use -p", config_path);
	/* Never keep root: before the socket exists, say why and stop. */
	if (user != NULL) {
		parse_user(user, &uid, &gid);
		if (uid == 0)
			fatalx("refusing to run as root: user %s has uid 0; "
			    "set an unprivileged user: in %s or use -u",
			    user, config_path);
		if (geteuid() != 0 && geteuid() != uid)
			fatalx("-u %s: only root can change user", user);
	} else if (geteuid() == 0)
		fatalx("refusing to run as root: set user: in %s or use "
		    "-u user[:group]", config_path);

	/* We log to stderr in the foreground, to syslog as a daemon. */
	if (!foreground)
		log_init(IDENT, cfg->syslog_facility, false);
	else
		log_settimestamps(true);
	signal(SIGPIPE, SIG_IGN);

	if (milter_open(sock, verbose > 1 ? verbose - 1 : 0, err,
	    sizeof(err)) != LW_OK)
		fatalx("%s", err);
	upath = unix_path(sock);
	if (upath != NULL && user != NULL && geteuid() == 0) {
		if (chown(upath, uid, gid) == -1)
			fatal("chown %s", upath);
		if (chmod(upath, 0660) == -1)
			fatal("chmod %s", upath);
	}
	/* A fresh quarantine directory belongs to the user we become. */
	if (cfg->quarantine_dir != NULL && user != NULL && geteuid() == 0 &&
	    mkdir(cfg->quarantine_dir, 0700) == 0 &&
	    chown(cfg->quarantine_dir, uid, gid) == -1)
		fatal("chown %s", cfg->quarantine_dir);
	/* So does a fresh state directory (lmdb, files; redis's local one). */
	if (cfg->state.path != NULL && user != NULL && geteuid() == 0 &&
	    mkdir(cfg->state.path, 0700) == 0 &&
	    chown(cfg->state.path, uid, gid) == -1)
		fatal("chown %s", cfg->state.path);

	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	/* Ours: a reload frees the config it came from. */
	if (pidfile != NULL && (pidfile = strdup(pidfile)) == NULL)
		fatal("strdup");
	if (pidfile != NULL)
		write_pidfile(pidfile, user != NULL && geteuid() == 0, uid,
		    gid);
	if (user != NULL && geteuid() == 0)
		drop_privileges(uid, gid);

	qindex_begin(cfg);
	if (open_quarantine(cfg, &q, err, sizeof(err)) != LW_OK)
		fatalx("%s", err);
	metrics_init(time(NULL));
	if (cfg->metrics_listen != NULL &&
	    (metrics_listen = strdup(cfg->metrics_listen)) == NULL)
		fatal("strdup");
	/* After daemon() and the drop: LMDB's lock and map are this process's. */
	st = open_state(cfg);
	milter_set_state(st);
	daemon_state = st;
	/* What our own mail teaches, written in batches by one writer. */
	if (st != NULL && learn_shared_open(st, &cfg->learn) != LW_OK)
		log_warnx("learn: no batched learner; each message learned "
		    "at once");
	if (q != NULL)
		quarantine_set_state(q, st, cfg->state.host_name,
		    cfg->state.redis.pending_bytes);
	if (milter_install(cfg, ps, q) != LW_OK)
		fatalx("out of memory");

	/*
	 * Threads inherit the mask: USR1 goes only to the reloader, and
	 * HUP/TERM/INT only to libmilter's signal thread (smfi_main
	 * blocks them in its own threads, not in ours).
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if ((errno = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
		fatal("pthread_sigmask");
	if ((errno = pthread_create(&tid, NULL, reloader, NULL)) != 0)
		fatal("pthread_create");
	pthread_detach(tid);
	if ((errno = pthread_create(&sweep_tid, NULL, sweeper, NULL)) != 0)
		fatal("pthread_create");
	/* After the mask: the server's threads never take our signals. */
	/* Mail matters more than metrics: without the port, go on. */
	if (metrics_listen != NULL) {
		if (metrics_http_start(metrics_listen, milter_metrics_render,
		    &mh, err, sizeof(err)) != LW_OK)
			log_warnx("%s; running without the metrics endpoint",
			    err);
		else
			log_info("metrics on http://%s/metrics",
			    metrics_listen);
	}

	log_info(IDENT " %s listening on %s (config %s)", LW_VERSION, sock,
	    config_path);
	drain_init();
	rc = milter_run();
	log_info(IDENT " stopping");
	drain(pidfile);
	/* The sweep uses the state: let it finish before the state goes. */
	splitppap_stop_sleep();
	pthread_join(sweep_tid, NULL);
	metrics_http_stop(mh);
	milter_metrics_flush(true);
	/* The learner's last batch goes before the state does. */
	learn_shared_close();
	milter_set_state(NULL);
	daemon_state = NULL;
	state_close(st);
	if (qindex != NULL) {
		qindex_stop(qindex);
		qindex_close(qindex);
		quarantine_close(qindex_store);
	}
	/* The last snapshot and its quarantine, unless a session keeps it. */
	milter_uninstall();
	if (pidfile != NULL)
		remove_pidfile(pidfile);
	free((char *)pidfile);
	log_info(IDENT " stopped");
	return rc;
}
