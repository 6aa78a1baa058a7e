/*
 * 5212-release-once: release-once markers on the state, on every
 * backend (files, lmdb, redis: a real redis-server started on a free
 * 127.0.0.1 port and stopped by PID).  A release counts its marker up
 * before the copy leaves; the copy's first pass is recognised and
 * counts it down, a second pass is a replay (scanned).  A second store
 * with another secret and another host name sharing the state (a
 * second MX) recognises the first one's release, once, though its
 * HMAC means nothing there.  The stored X-Lurewall-Result comes back
 * with it; a look (lurewall scan) counts nothing down; a release that
 * failed leaves nothing to recognise; without a state the HMAC alone
 * decides, as before markers.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lurewall.h"
#include "log.h"
#include "quarantine.h"
#include "state.h"
#include "qfill.h"
#include "redis_t.h"
#include "tap.h"

#define MSGID	"<inv-4711@partner.example>"
#define DATE	"Tue, 14 Nov 2023 22:13:20 +0000"

static const char raw[] =
    "From: Billing <billing@partner.example>\r\n"
    "To: alice@example.com\r\n"
    "Date: " DATE "\r\n"
    "Message-ID: " MSGID "\r\n"
    "Subject: invoice\r\n"
    "\r\n"
    "body\r\n";

static char	work[1024], tmpl[1300], stdinf[1100];

/* The X-Lurewall-Released value the fake sendmail got, or NULL. */
static char *
last_released(void)
{
	const char	*p = "X-Lurewall-Released: ";
	char		*out, *v = NULL;
	size_t		 len;

	if (access(stdinf, F_OK) != 0)
		return NULL;
	out = (char *)tap_slurp(stdinf, &len);
	if (out != NULL && strncmp(out, p, strlen(p)) == 0)
		v = strndup(out + strlen(p), strcspn(out + strlen(p), "\r\n"));
	free(out);
	unlink(stdinf);
	return v;
}

static void
store(struct quarantine *q, char id[QUARANTINE_ID_MAX])
{
	struct qfill	f;

	qfill_init(&f, "QA", "billing@partner.example", "alice@example.com",
	    NULL, "invoice", 17, "OFFICE_VBA_AUTOEXEC", NULL);
	if (quarantine_store(q, (const unsigned char *)raw, sizeof(raw) - 1,
	    &f.env, &f.res, id) != LW_OK)
		bail("store");
	qfill_free(&f);
}

static struct quarantine *
open_store(const char *b, const char *name)
{
	struct quarantine	*q;
	char			 dir[1200];

	snprintf(dir, sizeof(dir), "%s/%s-%s", work, b, name);
	if (quarantine_open(dir, &q) != LW_OK)
		bail("open %s", dir);
	return q;
}

static enum quarantine_seen
seen(struct quarantine *q, const char *hv, bool consume, char **result)
{
	return quarantine_release_seen(q, hv, MSGID, DATE, time(NULL),
	    consume, result);
}

static void
checks(struct state *st, const char *b)
{
	struct quarantine	*q1, *q2;
	char			 id[QUARANTINE_ID_MAX], id2[QUARANTINE_ID_MAX];
	char			 err[512], *hv, *r;
	char			*rcpt[] = { (char *)"alice@example.com" };

	q1 = open_store(b, "mx1");
	q2 = open_store(b, "mx2");
	quarantine_set_state(q1, st, "mx1", 0);
	quarantine_set_state(q2, st, "mx2", 0);

	store(q1, id);
	is_int(LW_OK, quarantine_release(q1, id, NULL, tmpl, false, "t", err,
	    sizeof(err)), "%s: release on mx1: %s", b, err);
	if ((hv = last_released()) == NULL)
		bail("%s: no X-Lurewall-Released", b);
	is_int(QSEEN_RELEASED, seen(q1, hv, false, NULL),
	    "%s: a look knows the copy", b);
	is_int(QSEEN_RELEASED, seen(q1, hv, false, NULL),
	    "%s: and counts nothing down", b);
	is_int(QSEEN_RELEASED, seen(q1, hv, true, NULL),
	    "%s: its first pass is a release", b);
	is_int(QSEEN_REPLAY, seen(q1, hv, true, NULL),
	    "%s: its second pass is a replay", b);
	is_int(QSEEN_REPLAY, seen(q2, hv, true, NULL),
	    "%s: on mx2 too", b);
	ok(quarantine_release_verify(q1, hv, MSGID, DATE),
	    "%s: (its HMAC still verifies on mx1)", b);
	is_int(QSEEN_NO, quarantine_release_seen(q1, hv, "<other@x>", DATE,
	    time(NULL), true, NULL), "%s: another Message-ID is no release",
	    b);
	free(hv);

	/* Released on mx1, passing mx2: the marker, not the HMAC. */
	is_int(LW_OK, quarantine_release(q1, id, NULL, tmpl, true, "t", err,
	    sizeof(err)), "%s: release again (--force)", b);
	hv = last_released();
	ok(hv != NULL && !quarantine_release_verify(q2, hv, MSGID, DATE),
	    "%s: mx2 cannot verify mx1's HMAC", b);
	is_int(QSEEN_RELEASED, seen(q2, hv, true, NULL),
	    "%s: mx2 knows mx1's release by its marker", b);
	is_int(QSEEN_REPLAY, seen(q1, hv, true, NULL),
	    "%s: and mx1 then knows it passed", b);
	free(hv);

	/* A split-PPAP release of mx1's item by mx2, with a result. */
	is_int(LW_OK, quarantine_submit(q2, id, (const unsigned char *)raw,
	    sizeof(raw) - 1, "billing@partner.example", rcpt, 1,
	    "accept score=0 rules=- delayed-scan=password-mail", tmpl, err,
	    sizeof(err)), "%s: mx2 submits mx1's item: %s", b, err);
	hv = last_released();
	r = NULL;
	is_int(QSEEN_RELEASED, seen(q1, hv, true, &r),
	    "%s: mx1 knows mx2's release", b);
	is_str("accept score=0 rules=- delayed-scan=password-mail", r,
	    "%s: with the stored result", b);
	free(r);
	free(hv);

	/* A failed submission leaves no live marker behind. */
	store(q1, id2);
	setenv("FAKE_EXIT", "1", 1);
	ok(quarantine_release(q1, id2, NULL, tmpl, false, "t", err,
	    sizeof(err)) == LW_EIO, "%s: a failing submit fails", b);
	unsetenv("FAKE_EXIT");
	hv = last_released();
	ok(hv != NULL && seen(q2, hv, true, NULL) != QSEEN_RELEASED,
	    "%s: its copy (never sent) is not a release", b);
	free(hv);
	is_int(LW_OK, quarantine_release(q1, id2, NULL, tmpl, false, "t", err,
	    sizeof(err)), "%s: the retry goes out", b);
	hv = last_released();
	is_int(QSEEN_RELEASED, seen(q2, hv, true, NULL),
	    "%s: the retry's copy passes once", b);
	is_int(QSEEN_REPLAY, seen(q2, hv, true, NULL),
	    "%s: not twice", b);
	free(hv);

	quarantine_close(q1);
	quarantine_close(q2);
}

int
main(void)
{
	struct state_config	 c;
	struct state		*st;
	struct quarantine	*q;
	char			 dir[1200], id[QUARANTINE_ID_MAX], err[512];
	char			*hv;
	FILE			*fp;
	pid_t			 rpid;
	int			 port, i;

	plan(0);
	log_init("5212", 0, true);
	snprintf(work, sizeof(work), "%s", tap_tmpdir("5212-release-once"));
	snprintf(dir, sizeof(dir), "%s/fake-sendmail", work);
	snprintf(stdinf, sizeof(stdinf), "%s/stdin", work);
	if ((fp = fopen(dir, "w")) == NULL)
		bail("cannot write %s", dir);
	fprintf(fp, "#!/bin/sh\ncat > '%s'\nexit ${FAKE_EXIT:-0}\n", stdinf);
	fclose(fp);
	chmod(dir, 0755);
	snprintf(tmpl, sizeof(tmpl), "%s -G -i -f %%f -- %%r", dir);

	/* No state: the HMAC alone, every time (as before markers). */
	q = open_store("none", "mx1");
	store(q, id);
	is_int(LW_OK, quarantine_release(q, id, NULL, tmpl, false, "t", err,
	    sizeof(err)), "no state: release: %s", err);
	hv = last_released();
	is_int(QSEEN_RELEASED, seen(q, hv, true, NULL),
	    "no state: the copy is recognised by its HMAC");
	is_int(QSEEN_RELEASED, seen(q, hv, true, NULL),
	    "no state: and again (nothing counts passes)");
	free(hv);
	quarantine_close(q);

	state_config_init(&c);
	for (i = 0; i < 2; i++) {
		c.backend = i == 0 ? STATE_FILES : STATE_LMDB;
		free(c.path);
		snprintf(dir, sizeof(dir), "%s/state-%s", work,
		    state_backend_name(c.backend));
		c.path = strdup(dir);
		if (state_open(&c, false, &st) != LW_OK)
			bail("%s: open", state_backend_name(c.backend));
		checks(st, state_backend_name(c.backend));
		state_close(st);
	}

	port = free_port();
	rpid = redis_start(work, port, PASSWORD);
	c.backend = STATE_REDIS;
	c.redis.port = (unsigned)port;
	c.redis.username = strdup(REDIS_USER);
	c.redis.password = strdup(PASSWORD);
	c.redis.key_prefix = strdup("lurewall:t5212:");
	st = redis_state_open(&c);
	if (st == NULL) {
		redis_stop(rpid);
		bail("redis-server did not come up on port %d", port);
	}
	checks(st, "redis");
	state_close(st);
	redis_stop(rpid);
	state_config_free(&c);
	return done_testing();
}
