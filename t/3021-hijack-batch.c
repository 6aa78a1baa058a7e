/*
 * 3021-hijack-batch: a reply that comes while the message it answers
 * still waits in the daemon's batch (learn_batch.c: written every 2,048
 * messages or second) finds its thread.  The outbound message is
 * learned as the daemon learns it (learn_decided, the shared learner,
 * here with a batch that stays queued), then inbound replies are
 * judged at once, each through a learner of its own as scan_message
 * opens one: from a stranger's domain HDR_THREAD_HIJACK, from a
 * participant HDR_KNOWN_THREAD, from the partner's name at a new
 * domain HDR_DISPLAY_NAME_SPOOF; and the store itself has not got it
 * yet.  After the flush the same, once (nothing counted twice).
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "learn_t.h"
#include "tap.h"
#include "analyzer.h"
#include "hijack.h"
#include "learn.h"
#include "mime.h"
#include "policy.h"
#include "state.h"
#include "verdict.h"

static time_t	NOW;	/* now: the shutdown flush writes at time(NULL) */

/* Keeps scan.o out of the link. */
bool
scan_expired(struct scan_ctx *ctx)
{
	return false;
}

static struct findings	 last;
static struct limits	 lim;
static struct state	*st;
static struct learn_config lc;

/* The rules hijack_scan finds in raw, through a learner of its own. */
static const char *
scan(const char *raw, const struct policy *p)
{
	static char		 rules[1024];
	struct findings		 pay = { 0 }, own = { 0 };
	struct scan_ctx		 ctx = { .lim = &lim, .fs = &own, .now = NOW };
	size_t			 i;

	if (learn_open(st, &lc, &ctx.learn) != LW_OK)
		bail("learn_open");
	ctx.msg = learn_t_msg(raw);
	findings_free(&last);
	if (hijack_scan(&ctx, ctx.msg, p, &pay, &last) != LW_OK)
		bail("hijack_scan");
	rules[0] = '\0';
	for (i = 0; i < last.n; i++)
		snprintf(rules + strlen(rules), sizeof(rules) - strlen(rules),
		    "%s%s", i > 0 ? "," : "", last.v[i].rule);
	findings_free(&own);
	mime_free((struct message *)ctx.msg);
	learn_close(ctx.learn);
	return rules;
}

static int	sent_to(struct state *, const char *);

static bool
has(const char *rule)
{
	return findings_get(&last, rule) != NULL;
}

/*
 * The same, as another process sees the store (LMDB: one environment
 * a process), with no batch of its own.
 */
static int
stored(const struct state_config *sc, const char *addr)
{
	struct state	*s;
	pid_t		 pid;
	int		 status;

	fflush(stdout);
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		if (state_open(sc, true, &s) != LW_OK)
			_exit(100);
		_exit(sent_to(s, addr));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		bail("waitpid");
	return WEXITSTATUS(status);
}

/* The correspondent's outbound count through a learner on s. */
static int
sent_to(struct state *s, const char *addr)
{
	struct learn_record	 r;
	struct learn		*l;
	int			 n = 0;

	if (learn_open(s, &lc, &l) != LW_OK)
		bail("learn_open");
	if (learn_get(l, "example", LEARN_CORRESPONDENT, addr, NOW, &r) ==
	    LW_OK) {
		n = (int)r.out;
		learn_record_free(&r);
	}
	learn_close(l);
	return n;
}

#define STRANGER	"From: Klaus Weber <billing@evil.example>\r\n" \
			"To: yamada@ours.example\r\n" \
			"Subject: AW: Lieferplan Q3\r\n" \
			"In-Reply-To: <q3@ours.example>\r\n\r\nSee attached.\r\n"
#define PARTNER		"From: Klaus Weber <k.weber@lieferant.example.de>\r\n" \
			"To: yamada@ours.example\r\n" \
			"Subject: AW: Lieferplan Q3\r\n" \
			"In-Reply-To: <q3@ours.example>\r\n\r\nDanke.\r\n"

int
main(void)
{
	struct policy		 p;
	struct state_config	 sc;
	struct verdict		 v;
	struct message		*out;
	const char		*r;

	NOW = time(NULL);
	limits_default(&lim);
	memset(&p, 0, sizeof(p));
	p.name = "example";
	state_config_init(&sc);
	if ((sc.path = strdup(tap_tmpdir("3021-hijack-batch"))) == NULL ||
	    state_open(&sc, false, &st) != LW_OK)
		bail("state");
	learn_config_init(&lc);
	/* The daemon's learner, its batch flushed only when told. */
	if (learn_shared_open_batch(st, &lc, 256, 3600 * 1000) != LW_OK)
		bail("learn_shared_open_batch");

	memset(&v, 0, sizeof(v));
	v.action = ACT_ACCEPT;
	v.policy = &p;
	out = learn_t_msg("From: Yamada <yamada@ours.example>\r\n"
	    "To: Klaus Weber <k.weber@lieferant.example.de>\r\n"
	    "Message-ID: <q3@ours.example>\r\nSubject: Lieferplan Q3\r\n"
	    "\r\nbody\r\n");
	is_str("learned=outbound", learn_decided(st, &lc, true, true, &v, out,
	    NULL, NOW), "the outbound message is learned (queued)");

	r = scan(STRANGER, &p);
	ok(has("HDR_THREAD_HIJACK") && !has("HDR_KNOWN_THREAD"), "0 ms "
	    "later, a stranger's reply to it: HDR_THREAD_HIJACK (%s)", r);
	r = scan(PARTNER, &p);
	ok(has("HDR_KNOWN_THREAD") && !has("HDR_THREAD_HIJACK"), "0 ms "
	    "later, the participant's reply: HDR_KNOWN_THREAD (%s)", r);
	r = scan("From: Klaus Weber <kw@evil.example>\r\nSubject: Rechnung"
	    "\r\n\r\nx\r\n", &p);
	ok(has("HDR_DISPLAY_NAME_SPOOF"), "the partner's name just learned, "
	    "from a new domain (%s)", r);
	is_int(1, sent_to(st, "k.weber@lieferant.example.de"), "a lookup on "
	    "the daemon's state counts the message once");
	is_int(0, stored(&sc,
	    "k.weber@lieferant.example.de"), "the store "
	    "has not got it yet: it waits in the batch");

	/* Shutdown flushes: the store has it, lookups count it once. */
	learn_shared_close();
	r = scan(STRANGER, &p);
	ok(has("HDR_THREAD_HIJACK"), "written: the stranger still hijacks "
	    "(%s)", r);
	r = scan(PARTNER, &p);
	ok(has("HDR_KNOWN_THREAD"), "written: the participant still takes "
	    "part (%s)", r);
	is_int(1, stored(&sc,
	    "k.weber@lieferant.example.de"), "written: "
	    "the store has it once");
	is_int(1, sent_to(st, "k.weber@lieferant.example.de"), "written: "
	    "and a lookup counts it once");

	findings_free(&last);
	mime_free(out);
	state_close(st);
	state_config_free(&sc);
	return done_testing();
}
