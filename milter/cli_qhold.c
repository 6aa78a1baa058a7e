/*
 * cli_qhold.c: the MTA's held copy of an item (quarantine: {then:
 * hold}) for `lurewall quarantine release` and `delete`: the config's
 * hold commands (Postfix postsuper) or Sendmail's queue files, run and
 * read so that one message is delivered once, from one place.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_exit.h"
#include "cli_quarantine_int.h"
#include "config.h"
#include "quarantine.h"
#include "spawn.h"

/*
 * Run a hold command (config_hold_argv) for queue id qid; its output
 * goes to our stderr and is read for Postfix's count ("Released from
 * hold: 0 messages", "Deleted: 0 messages"): 0 means the MTA no longer
 * holds that id.  Returns 0 done, 1 nothing held under qid, -1 failed
 * (err says why).
 */
static int
run_hold(const char *tmpl, const char *qid, char *err, size_t errlen)
{
	char		**av, out[4096], *c;
	int		  st, rc = 0;

	if (config_hold_argv(tmpl, qid, &av) != LW_OK || av[0] == NULL ||
	    av[0][0] != '/') {
		snprintf(err, errlen, "bad queue id or command");
		return -1;
	}
	if (spawn_capture(av, NULL, out, sizeof(out), &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		config_argv_free(av);
		return -1;
	}
	fputs(out, stderr);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "%s %s", av[0], WIFEXITED(st) &&
		    WEXITSTATUS(st) == 127 ? "could not run" : "failed");
		rc = -1;
	} else if (((c = strstr(out, "Released from hold: ")) != NULL &&
	    strncmp(c + 20, "0 message", 9) == 0) ||
	    ((c = strstr(out, "Deleted: ")) != NULL &&
	    strncmp(c + 9, "0 message", 9) == 0)) {
		snprintf(err, errlen, "the MTA holds no message %s (released "
		    "or deleted already?)", qid);
		rc = 1;
	}
	config_argv_free(av);
	return rc;
}

/* Sendmail has no delete command: its queue files for qid go. */
static int
sendmail_delete(const char *qdir, const char *qid, char *err, size_t errlen)
{
	static const char *const sub[] = { "", "/qf", "/df", "/xf" };
	static const char *const pre[] = { "hf", "qf", "df", "Qf", "xf" };
	char	 path[PATH_MAX];
	size_t	 i, j, gone = 0;

	for (i = 0; qid[i] != '\0'; i++)
		if (!((qid[i] >= '0' && qid[i] <= '9') ||
		    (qid[i] >= 'A' && qid[i] <= 'Z') ||
		    (qid[i] >= 'a' && qid[i] <= 'z'))) {
			snprintf(err, errlen, "bad queue id");
			return -1;
		}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		for (j = 0; j < sizeof(pre) / sizeof(pre[0]); j++) {
			snprintf(path, sizeof(path), "%s%s/%s%s", qdir, sub[i],
			    pre[j], qid);
			if (unlink(path) == 0)
				gone++;
			else if (errno != ENOENT && errno != ENOTDIR) {
				snprintf(err, errlen, "%.300s: %s", path,
				    strerror(errno));
				return -1;
			}
		}
	if (gone == 0) {
		snprintf(err, errlen, "the MTA holds no message %s in %s",
		    qid, qdir);
		return 1;
	}
	return 0;
}

/*
 * Whether Sendmail still holds qid: its quarantined control file (hf,
 * in the queue directory or its qf/ subdirectory) is there.  sendmail
 * -Q says nothing when no quarantined item matches, so this is how a
 * release learns that a colleague released or deleted the copy first.
 * Returns 1 held, 0 not held, -1 cannot tell (err says why).
 */
static int
sendmail_held(const char *qdir, const char *qid, char *err, size_t errlen)
{
	static const char *const sub[] = { "", "/qf" };
	struct stat	 st;
	char		 path[PATH_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s%s/hf%s", qdir, sub[i], qid);
		if (stat(path, &st) == 0)
			return 1;
		if (errno != ENOENT && errno != ENOTDIR) {
			snprintf(err, errlen, "%.300s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	snprintf(err, errlen, "the MTA holds no message %s in %s", qid, qdir);
	return 0;
}

/* Delete the MTA's held copy of it: 0 gone (or never there), -1 failed. */
int
qhold_delete(const struct quarantine_item *it, char *err, size_t errlen)
{
	const struct config	*cfg = qcli_config();
	int			 r;

	if (cfg == NULL) {
		snprintf(err, errlen, "no configuration");
		return -1;
	}
	r = cfg->hold_delete_command != NULL ?
	    run_hold(cfg->hold_delete_command, it->qid, err, errlen) :
	    sendmail_delete(cfg->mta_queue_dir, it->qid, err, errlen);
	return r == -1 ? -1 : 0;
}

/*
 * then: hold keeps one message in two places; releasing it delivers the
 * MTA's copy (which the milter already passed) and records the release
 * here, never both.  Returns the exit code; *done false when the MTA
 * no longer held it and the caller may re-inject ours (--force).
 */
int
qhold_release(struct quarantine *q, const struct quarantine_item *it,
    const char *who, bool force, bool *done)
{
	const struct config	*cfg = qcli_config();
	char			 err[512], by[320];
	int			 r;

	*done = false;
	if (cfg == NULL) {
		fprintf(stderr, "lurewall: release %s: no configuration\n",
		    it->id);
		return CLI_TROUBLE;
	}
	if (cfg->mta == MTA_SENDMAIL) {
		/* -Q is silent when nothing matches: look, release, look */
		r = sendmail_held(cfg->mta_queue_dir, it->qid, err,
		    sizeof(err));
		if (r == 1)
			r = run_hold(cfg->hold_release_command, it->qid,
			    err, sizeof(err));
		else if (r == 0)
			r = 1;		/* not held: err says so */
		if (r == 0 && sendmail_held(cfg->mta_queue_dir, it->qid,
		    err, sizeof(err)) != 0) {
			snprintf(err, sizeof(err), "still held after %s",
			    cfg->hold_release_command);
			r = -1;
		}
	} else
		r = run_hold(cfg->hold_release_command, it->qid, err,
		    sizeof(err));
	if (r != 0) {
		fprintf(stderr, "lurewall: release %s: the MTA's held copy "
		    "(queue id %s): %s%s\n", it->id, it->qid, err, force ?
		    "; re-injecting lurewall's copy (--force)" :
		    "; --force re-injects lurewall's copy");
		return force ? CLI_OK : CLI_NO;
	}
	/* Deliver it now, not at the MTA's next queue run. */
	if (cfg->hold_flush_command != NULL &&
	    run_hold(cfg->hold_flush_command, it->qid, err,
	    sizeof(err)) == -1)
		fprintf(stderr, "lurewall: release %s: released; it goes "
		    "at the MTA's next queue run (%s)\n", it->id, err);
	snprintf(by, sizeof(by), "%s via the MTA hold queue", who);
	if (quarantine_record_release(q, it->id, by, it->rcpts,
	    it->nrcpts) != LW_OK)
		fprintf(stderr, "lurewall: release %s: released by the MTA, "
		    "but the release record failed\n", it->id);
	printf("released %s from the MTA's hold queue (queue id %s)\n",
	    it->id, it->qid);
	*done = true;
	return CLI_OK;
}
