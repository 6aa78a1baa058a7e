/*
 * splitppap_remote.c: split PPAP between hosts (see splitppap.c): the
 * host that opened another host's item queues what it did (released,
 * a lure, re-opened, with the candidates) on the owner's list
 * spdone:OWNER; the owner's drain carries it out on its own copy
 * (removes a released one, scans a lure again with the candidates and
 * keeps it with the new findings).
 *
 * Bounds: a drain takes at most DONE_MAX records; a record's fields
 * are hex lines, checked (ids, host names) before use.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "policy.h"
#include "pwcand.h"
#include "quarantine.h"
#include "runtime.h"
#include "sbuf.h"
#include "scan.h"
#include "splitppap.h"
#include "state.h"
#include "verdict.h"

#include "splitppap_int.h"

/* ---- another host's items: the owner's queue ---- */

static void
hex_line(struct sbuf *sb, const char *s)
{
	static const char	hx[] = "0123456789abcdef";
	const unsigned char	*p;

	for (p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
		sbuf_add(sb, &hx[*p >> 4], 1);
		sbuf_add(sb, &hx[*p & 15], 1);
	}
	sbuf_add(sb, "\n", 1);
}

/* Decode one hex line in place; false when it is not hex. */
static bool
unhex(char *s)
{
	size_t	i, n = strlen(s);
	int	h, l;

	if (n % 2 != 0)
		return false;
	for (i = 0; i < n / 2; i++) {
		if ((h = hexval((unsigned char)s[2 * i])) < 0 ||
		    (l = hexval((unsigned char)s[2 * i + 1])) < 0 ||
		    (h == 0 && l == 0))
			return false;
		s[i] = (char)(h << 4 | l);
	}
	s[n / 2] = '\0';
	return true;
}

/*
 * Tell the owner what we did with its item: "KIND\nID\n" and hex lines:
 * our host, the password mail's qid, then (lure, reopen) the
 * candidates, so the owner scans its own copy again with them.
 */
void
sp_queue_done(struct quarantine *q, const char *owner, const char *kind,
    const char *id, const char *pwqid, const struct pwcands *pw, time_t now)
{
	struct sbuf	sb = { 0 };
	char		key[KEY_MAX];
	size_t		i;

	sbuf_adds(&sb, kind);
	sbuf_adds(&sb, "\n");
	sbuf_adds(&sb, id);
	sbuf_adds(&sb, "\n");
	hex_line(&sb, quarantine_host(q));
	hex_line(&sb, pwqid != NULL ? pwqid : "-");
	for (i = 0; pw != NULL && i < pw->n; i++)
		hex_line(&sb, pw->v[i]);
	snprintf(key, sizeof(key), K_DONE "%s", owner);
	if (sb.oom || state_push(quarantine_state(q), key, sb.p, sb.len, 0,
	    now + GRACE_SECS, now) != LW_OK)
		log_warnx("split PPAP: quarantine_id=%s of %s: telling it "
		    "failed: it keeps its copy", id, owner);
	free(sb.p);
}

/* ---- what other hosts did with ours ---- */

/* One record of our queue (see queue_done). */
static void
apply_done(const struct splitppap_env *se, char *rec)
{
	struct quarantine_item	*it = NULL;
	struct pwcands		 pw = { 0 };
	struct scan_opts	 opts;
	struct scan_result	 r2;
	struct envelope		 ienv;
	unsigned char		*raw = NULL;
	char			*kind, *id, *by, *pwqid, *line, *save;
	size_t			 len;
	bool			 reopen;
	enum lw_err		 e;
	int			 fd;

	memset(&r2, 0, sizeof(r2));
	memset(&ienv, 0, sizeof(ienv));
	if ((kind = strtok_r(rec, "\n", &save)) == NULL ||
	    (id = strtok_r(NULL, "\n", &save)) == NULL ||
	    (by = strtok_r(NULL, "\n", &save)) == NULL ||
	    (pwqid = strtok_r(NULL, "\n", &save)) == NULL ||
	    !unhex(by) || !unhex(pwqid) || !quarantine_id_valid(id) ||
	    !state_host_ok(by) || (strcmp(pwqid, "-") != 0 &&
	    !quarantine_id_valid(pwqid)))
		return;
	if (quarantine_lock(se->q, id, &fd) != LW_OK)
		return;
	if (quarantine_read(se->q, id, &it) != LW_OK)
		goto out;
	if (strcmp(kind, "released") == 0) {
		/* It went out from there: one copy, none here. */
		if (sp_is_pending(it) && quarantine_delete(se->q, id) == LW_OK)
			log_msg(LOG_INFO, it->qid, "split PPAP: quarantine_id="
			    "%s released by %s (password mail qid %s): local "
			    "copy removed", id, by, pwqid);
		goto out;
	}
	reopen = strcmp(kind, "reopen") == 0;
	if (!reopen && strcmp(kind, "lure") != 0)
		goto out;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		if (unhex(line) && pwcand_add(&pw, line, strlen(line), false,
		    se->rt->lim->password_candidates) == LW_ENOMEM)
			goto out;
	if (quarantine_message(se->q, id, &raw, &len) != LW_OK ||
	    sp_item_env(it, &ienv) != LW_OK)
		goto out;
	memset(&opts, 0, sizeof(opts));
	opts.extra_pw = &pw;
	if ((e = scan_message_opts(se->rt, raw, len, &ienv, &opts, &r2)) !=
	    LW_OK || r2.verdict == NULL) {
		log_msg(LOG_WARNING, it->qid, "split PPAP: rescanning "
		    "quarantine_id=%s failed: %s", id, lw_strerror(e));
		goto out;
	}
	if ((e = sp_keep_lure(se->q, it, &r2, reopen, by, pwqid)) != LW_OK)
		log_msg(LOG_ERR, it->qid, "split PPAP: quarantine_id=%s: "
		    "updating it failed: %s", id, lw_strerror(e));
	else
		log_msg(LOG_NOTICE, it->qid, "split PPAP: quarantine_id=%s "
		    "%s on %s with the password of mail qid %s: %s score=%d "
		    "rules=%s: %s", id, reopen ? "re-opened" : "opened", by,
		    pwqid, verdict_action_name(r2.verdict->action),
		    r2.verdict->score, r2.verdict->rules != NULL &&
		    *r2.verdict->rules != '\0' ? r2.verdict->rules : "-",
		    reopen ? "stays quarantined with its contents' findings" :
		    "held");
out:
	quarantine_unlock(fd);
	quarantine_item_free(it);
	scan_result_free(&r2);
	envelope_free(&ienv);
	pwcand_free(&pw);
	free(raw);
}

void
splitppap_drain(const struct splitppap_env *se)
{
	struct state_val	 v;
	struct state		*st;
	char			 key[KEY_MAX], *rec;
	time_t			 now = se->now != 0 ? se->now : time(NULL);
	size_t			 i;

	if (se->q == NULL || se->dry || (st = quarantine_state(se->q)) ==
	    NULL)
		return;
	snprintf(key, sizeof(key), K_DONE "%s", quarantine_host(se->q));
	for (i = 0; i < DONE_MAX && state_pop(st, key, now, &v) == LW_OK;
	    i++) {
		rec = lw_strndup((const char *)v.data, v.len);
		state_val_free(&v);
		if (rec != NULL)
			apply_done(se, rec);
		free(rec);
	}
	/* A shared state: others may queue for us any time. */
	if (state_shared(st))
		sp_notify(now + DONE_POLL_SECS);
}
