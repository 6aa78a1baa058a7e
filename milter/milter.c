/*
 * milter.c: the libmilter callbacks of lurewall-milter, and the only
 * file that includes libmilter/mfapi.h.
 *
 * Takes what the MTA says about a connection and its messages: client
 * address and name, HELO, envelope, macros (i, {client_addr},
 * {client_name}, {auth_authen}, {daemon_name}), header fields and body
 * chunks.  Callbacks only fill a per-message context (a struct msgbuf
 * holding the message exactly as received, and a struct envelope); the
 * end-of-message callback hands both to disposition_decide() and maps
 * the one struct disposition it returns to smfi_* calls: strip the
 * incoming X-Lurewall-* fields, add headers, set the Subject, the MTA
 * hold, the reply; then logs the message's line.  Nothing here reads
 * a policy or decides.  An internal error means the config's on_error
 * (disposition_error).
 *
 * The protocol costs the MTA a round trip per reply.  Every callback
 * before end of message only continues: an internal error there (out
 * of memory, no configuration) marks the message and waits for end of
 * message, which applies on_error.  So we ask the MTA not to wait for
 * those replies (SMFIP_NR_*, body chunks included) and not to send the
 * steps we have no use for (DATA, unknown commands).  No SMFIS_SKIP:
 * it is a reply, and the MTA would wait for one after every body chunk
 * of every message to hear it.  The rest of a body past
 * limits.message_bytes is read and dropped instead (README,
 * Performance: the replies cost more).
 *
 * Bounds: the message copy is capped by limits.message_bytes
 * (msgbuf), everything else we keep per message is a small copy of a
 * header the MTA already bounded.  Message state is freed at eom and
 * abort, connection state at close (which may come with no context).
 *
 * End of message is counted (drain.h) so that a stop waits for it
 * before the stores close; one that starts while the daemon stops is
 * answered tempfail, unscanned.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "disposition.h"
#include "drain.h"
#include "envelope.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "msgbuf.h"
#include "runtime.h"
#include "sbuf.h"
#include "util.h"

#define LW_HDR_PREFIX		"X-Lurewall-"
#define LW_HDR_RELEASED		"X-Lurewall-Released"
#define LW_HDR_NOTICE		"X-Lurewall-Notice"
#define RELEASED_MAX		8	/* released headers we try to verify */
#define LOG_FIELD_MAX		256	/* bytes of attacker text per log field */
#define LOG_RCPTS_MAX		20	/* recipients named in a verdict line */

struct msgctx {
	struct runtime	*rt;		/* the snapshot it is judged with */
	const char	*why;		/* why failed, unless buffering */
	struct envelope	 env;
	struct msgbuf	 mb;
	char		*subject;	/* first Subject value, as received */
	char		*message_id;
	char		*date;
	char		*notice;	/* first X-Lurewall-Notice value */
	struct sbuf	 lw;		/* X-Lurewall-* names to strip, in
					   order, each ending in NUL */
	size_t		 nlw;		/* how many names lw holds */
	char		*released[RELEASED_MAX];	/* their values, in order */
	size_t		 nreleased;
	bool		 failed;	/* internal error: on_error at eom */
	bool		 limit_logged;
	bool		 outbound;	/* logged direction=outbound */
};

struct connctx {
	char		*client_addr;
	char		*client_name;
	char		*helo;
	char		*daemon_name;
	bool		 leadspc;	/* header values keep their space */
	unsigned long	 pflags;	/* protocol flags negotiated */
	const char	*why;		/* no message: why, for eom */
	struct msgctx	*msg;
};

/* The runtime new messages use: swapped whole on SIGUSR1. */
static pthread_mutex_t	 rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime	*current;
static struct state	*shared_state;	/* set once before milter_run */
static char		*conn_spec;
static bool		 warned_actions;

static struct runtime *
rt_get(void)
{
	struct runtime	*rt;

	pthread_mutex_lock(&rt_lock);
	rt = runtime_ref(current);
	pthread_mutex_unlock(&rt_lock);
	return rt;
}

/* RT_OBSERVE from lurewall-milter -O, for every snapshot. */
static unsigned	rt_flags;

void
milter_observe(void)
{
	rt_flags |= RT_OBSERVE;
}

enum lw_err
milter_install(struct config *cfg, struct policyset *ps,
    struct quarantine *q)
{
	struct runtime	*rt, *old;

	if ((rt = runtime_new(cfg, ps, q, cfg->outbreak_dir, rt_flags)) ==
	    NULL)
		return LW_ENOMEM;
	rt->state = shared_state;	/* borrowed: it outlives reloads */
	pthread_mutex_lock(&rt_lock);
	old = current;
	current = rt;
	pthread_mutex_unlock(&rt_lock);
	runtime_unref(old);
	return LW_OK;
}

void
milter_set_state(struct state *st)
{
	shared_state = st;
}

void
milter_uninstall(void)
{
	struct runtime	*old;

	pthread_mutex_lock(&rt_lock);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&rt_lock);
	runtime_unref(old);
}

struct runtime *
milter_runtime(void)
{
	return rt_get();
}

enum lw_err
milter_metrics_render(FILE *f, time_t now, time_t since)
{
	struct runtime	*rt = rt_get();
	enum lw_err	 e;

	/* Gauges are values of now: a window (since > 0) has none. */
	if (since == 0)
		runtime_gauges(rt, now);
	e = metrics_render(f, now, since, rt != NULL ? rt->state : NULL);
	runtime_unref(rt);
	return e;
}

void
milter_metrics_flush(bool final)
{
	struct runtime	*rt = rt_get();
	enum lw_err	 e;

	/* final: the current minute too (a minute ahead is "finished"). */
	if (rt != NULL && rt->state != NULL && (e = metrics_flush(rt->state,
	    time(NULL) + (final ? 60 : 0))) != LW_OK)
		log_warnx("metrics: storing the minute counts: %s",
		    lw_strerror(e));
	runtime_unref(rt);
}

void
milter_sweep(bool full)
{
	struct runtime	*rt = rt_get();

	if (rt != NULL)
		disposition_sweep(rt, full);
	runtime_unref(rt);
}

/* Helpers */

static char *
macro(SMFICTX *ctx, const char *name)
{
	char	*v = smfi_getsymval(ctx, (char *)name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Copy an address without its angle brackets. */
static char *
unbracket(const char *a)
{
	size_t	len;

	if (a == NULL)
		return strdup("");
	while (*a == ' ')
		a++;
	len = strlen(a);
	if (len >= 2 && a[0] == '<' && a[len - 1] == '>')
		return lw_strndup(a + 1, len - 2);
	return strdup(a);
}

static struct connctx *
conn_get(SMFICTX *ctx)
{
	struct connctx	*c = smfi_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		c->leadspc = false;
		if (smfi_setpriv(ctx, c) == MI_FAILURE) {
			free(c);
			return NULL;
		}
	}
	return c;
}

static void
msg_free(struct connctx *c)
{
	struct msgctx	*m;

	if (c == NULL || (m = c->msg) == NULL)
		return;
	msgbuf_free(&m->mb);
	envelope_free(&m->env);
	runtime_unref(m->rt);
	lw_strv_clear(m->released, m->nreleased);
	sbuf_free(&m->lw);
	FREE_ALL(m->subject, m->message_id, m->date, m->notice);
	free(m);
	c->msg = NULL;
}

static void
conn_free(struct connctx *c)
{
	if (c == NULL)
		return;
	msg_free(c);
	FREE_ALL(c->client_addr, c->client_name, c->helo, c->daemon_name);
	free(c);
}

static const char *
qid_of(const struct msgctx *m)
{
	return m != NULL ? m->env.qid : NULL;
}

/* "a@b,c@d" for a log line: sanitized and bounded. */
static char *
rcpt_list(const struct envelope *env)
{
	char	*out = NULL, *s, *n;
	size_t	 i;

	if ((out = strdup("")) == NULL)
		return NULL;
	for (i = 0; i < env->nrcpts && i < LOG_RCPTS_MAX; i++) {
		s = lw_sanitize(env->rcpts[i], strlen(env->rcpts[i]),
		    LOG_FIELD_MAX);
		if (s == NULL ||
		    lw_asprintf(&n, "%s%s%s", out, i ? "," : "", s) != LW_OK) {
			free(s);
			free(out);
			return NULL;
		}
		free(s);
		free(out);
		out = n;
	}
	if (i < env->nrcpts) {
		if (lw_asprintf(&n, "%s,+%zu", out, env->nrcpts - i) != LW_OK) {
			free(out);
			return NULL;
		}
		free(out);
		out = n;
	}
	return out;
}

static char *
from_of(const struct envelope *env)
{
	const char	*f = env->mail_from != NULL ? env->mail_from : "";

	return lw_sanitize(f, strlen(f), LOG_FIELD_MAX);
}

/*
 * The counters of one verdict line (metrics.h): the message by
 * direction and action, each rule once, the scan time unless nothing
 * was scanned (a release, an error), errors, split PPAP and breaker
 * events.
 */
static void
count_verdict(const struct msgctx *m, const struct disposition *d)
{
	char		 rule[METRICS_LABEL_MAX];
	const char	*p;
	size_t		 n;
	bool		 scanned;

	scanned = d->why != DWHY_RELEASED && d->why != DWHY_ERROR &&
	    d->res.verdict != NULL;
	metrics_message(m->outbound || d->outbound ? "outbound" : "inbound",
	    d->log_action, scanned ? d->log_ms : METRICS_NO_SCAN, m->mb.seen);
	if (d->why == DWHY_ERROR)
		metrics_error(m->failed ? "buffer" : "scan");
	if (d->action == DISP_PENDING_DISCARD || d->action == DISP_PENDING_HOLD)
		metrics_add(MC_SPLIT_PENDING, 1);
	if (d->breaker != NULL && strcmp(d->breaker, "tripped") == 0)
		metrics_add(MC_BREAKER_TRIPS, 1);
	for (p = d->log_rules; p != NULL && *p != '\0';
	    p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(rule))
			continue;
		memcpy(rule, p, n);
		rule[n] = '\0';
		metrics_finding(rule);
	}
}

/*
 * The one line per message: who, what the engine said, what we did
 * (the disposition's log fields).
 */
static void
log_verdict(const struct msgctx *m, const struct disposition *d)
{
	char	*from = from_of(&m->env), *rcpts = rcpt_list(&m->env);

	log_msg(d->log_prio, qid_of(m),
	    "from=<%s> rcpts=%s size=%" PRIu64 " score=%d action=%s "
	    "rules=%s scan_ms=%" PRIu64 "%s%s%s%s%s",
	    from != NULL ? from : "?", rcpts != NULL ? rcpts : "?",
	    m->mb.seen, d->log_score, d->log_action,
	    d->log_rules != NULL && *d->log_rules != '\0' ?
	    d->log_rules : "-", d->log_ms,
	    d->policy != NULL ? " policy=" : "",
	    d->policy != NULL ? d->policy : "",
	    m->outbound ? " direction=outbound" : "",
	    d->log_extra != NULL ? " " : "",
	    d->log_extra != NULL ? d->log_extra : "");
	free(from);
	free(rcpts);
	count_verdict(m, d);
}

/* The reply and the milter status of a disposition's action. */
static sfsistat
reply(SMFICTX *ctx, const struct disposition *d)
{
	if (d->reply.code != NULL)
		smfi_setreply(ctx, (char *)d->reply.code,
		    (char *)d->reply.dsn, (char *)d->reply.text);
	switch (d->action) {
	case DISP_ACCEPT:
	case DISP_TAG:
	case DISP_HOLD:
	case DISP_QUARANTINE_HOLD:
	case DISP_PENDING_HOLD:
		return SMFIS_ACCEPT;
	case DISP_QUARANTINE_DISCARD:
	case DISP_PENDING_DISCARD:
		return SMFIS_DISCARD;
	case DISP_QUARANTINE_REJECT:
	case DISP_REJECT:
		return SMFIS_REJECT;
	case DISP_TEMPFAIL:
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_TEMPFAIL;
}

/* No trustworthy verdict: the config's on_error decides. */
static sfsistat
on_error(SMFICTX *ctx, struct msgctx *m, const char *why)
{
	struct runtime		*rt = m != NULL ? runtime_ref(m->rt) : rt_get();
	struct disposition	 d;
	sfsistat		 rc;

	disposition_error(rt, why, &d);
	runtime_unref(rt);
	if (m != NULL)
		log_verdict(m, &d);
	else
		log_msg(LOG_ERR, NULL, "internal error: %s; on_error=%s",
		    why, d.log_action);
	rc = reply(ctx, &d);
	disposition_free(&d);
	return rc;
}

/* Callbacks */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long	 want = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
				    SMFIF_QUARANTINE;
	/*
	 * Header values with their leading space (the copy is exact);
	 * no DATA and unknown commands; no reply to wait for before end
	 * of message.  libmilter offers the NR_* steps even to an MTA
	 * without them (it then replies for us); NODATA and NOUNKNOWN
	 * only when the MTA has them.
	 */
	const unsigned long	 popts = SMFIP_HDR_LEADSPC | SMFIP_NODATA |
				    SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_HELO |
				    SMFIP_NR_MAIL | SMFIP_NR_RCPT |
				    SMFIP_NR_DATA | SMFIP_NR_UNKN |
				    SMFIP_NR_HDR | SMFIP_NR_EOH |
				    SMFIP_NR_BODY;
	struct connctx		*c;

	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_REJECT;
	/* Once per process: every connection would say the same. */
	if ((f0 & want) != want && !warned_actions) {
		warned_actions = true;
		log_warnx("MTA does not offer every action lurewall needs "
		    "(offered 0x%lx, want 0x%lx)", f0, want);
	}
	*pf0 = f0 & want;
	*pf1 = f1 & popts;
	*pf2 = 0;
	*pf3 = 0;
	c->pflags = *pf1;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

/*
 * What a callback that only continues returns: nothing when the MTA
 * was told not to wait (libmilter would log a reply it must drop).
 * Without a context we do not know: libmilter fixes a CONTINUE up.
 */
static sfsistat
cont(const struct connctx *c, unsigned long nr)
{
	return c != NULL && (c->pflags & nr) != 0 ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct connctx	*c;
	char		 buf[INET6_ADDRSTRLEN];
	const char	*addr = NULL, *v;

	/* No context (out of memory): envfrom tries again, eom says. */
	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_CONTINUE;
	if ((v = macro(ctx, "{client_addr}")) != NULL)
		addr = v;
	else if (sa != NULL && sa->sa_family == AF_INET)
		addr = inet_ntop(AF_INET,
		    &((struct sockaddr_in *)(void *)sa)->sin_addr,
		    buf, sizeof(buf));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		addr = inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)(void *)sa)->sin6_addr,
		    buf, sizeof(buf));
	FREE_ALL(c->client_addr, c->client_name, c->daemon_name);
	c->client_addr = lw_strdup(addr);
	v = macro(ctx, "{client_name}");
	c->client_name = lw_strdup(v != NULL ? v : hostname);
	c->daemon_name = lw_strdup(macro(ctx, "{daemon_name}"));
	return cont(c, SMFIP_NR_CONN);
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct connctx	*c;

	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_CONTINUE;
	free(c->helo);
	c->helo = lw_strdup(helo);
	return cont(c, SMFIP_NR_HELO);
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx	*c;
	struct msgctx	*m;
	const struct limits *lim;
	const char	*qid;

	/* An error here is on_error at eom (cont, above). */
	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_CONTINUE;
	msg_free(c);		/* a message the MTA never finished */
	c->why = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		c->why = "out of memory";
		return cont(c, SMFIP_NR_MAIL);
	}
	m->mb.fd = -1;
	c->msg = m;
	if ((m->rt = rt_get()) == NULL) {
		m->failed = true;
		m->why = "no configuration installed";
		return cont(c, SMFIP_NR_MAIL);
	}
	lim = runtime_limits(m->rt);
	if ((qid = macro(ctx, "i")) == NULL)
		qid = macro(ctx, "{i}");
	m->env.qid = lw_strdup(qid);
	m->env.client_addr = lw_strdup(c->client_addr);
	m->env.client_name = lw_strdup(c->client_name);
	m->env.helo = lw_strdup(c->helo);
	m->env.daemon_name = lw_strdup(c->daemon_name);
	m->env.auth_authen = lw_strdup(macro(ctx, "{auth_authen}"));
	m->env.mail_from = unbracket(argv != NULL ? argv[0] : NULL);
	if (m->env.mail_from == NULL ||
	    msgbuf_init(&m->mb, lim->memory_body_bytes,
	    lim->max_message_bytes, NULL) != LW_OK)
		m->failed = true;
	return cont(c, SMFIP_NR_MAIL);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	char		*r;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return cont(c, SMFIP_NR_RCPT);
	if ((r = unbracket(argv != NULL ? argv[0] : NULL)) == NULL ||
	    envelope_add_rcpt(&m->env, r) != LW_OK)
		m->failed = true;
	free(r);
	return cont(c, SMFIP_NR_RCPT);
}

/* A copy of a header value, with the space the MTA may have eaten. */
static char *
value_dup(const struct connctx *c, const char *value)
{
	size_t	 n = strlen(value), sp = c->leadspc ? 0 : 1;
	char	*v;

	if ((v = malloc(sp + n + 1)) == NULL)
		return NULL;
	v[0] = ' ';
	memcpy(v + sp, value, n + 1);
	return v;
}

/* Remember an incoming X-Lurewall-* field so eom can delete it. */
static enum lw_err
note_lw_header(const struct connctx *c, struct msgctx *m, const char *name,
    const char *value)
{
	if (strcasecmp(name, LW_HDR_RELEASED) == 0 &&
	    m->nreleased < RELEASED_MAX) {
		if ((m->released[m->nreleased] = value_dup(c, value)) == NULL)
			return LW_ENOMEM;
		m->nreleased++;
	}
	if (strcasecmp(name, LW_HDR_NOTICE) == 0 && m->notice == NULL &&
	    (m->notice = value_dup(c, value)) == NULL)
		return LW_ENOMEM;
	/*
	 * Appended to one buffer, counted at eom: a message of many
	 * forged names costs neither an allocation nor a search per field.
	 */
	sbuf_add(&m->lw, name, strlen(name) + 1);
	if (m->lw.oom)
		return LW_ENOMEM;
	m->nlw++;
	return LW_OK;
}

static enum lw_err
keep_first(const struct connctx *c, char **slot, const char *value)
{
	if (*slot != NULL)
		return LW_OK;
	return (*slot = value_dup(c, value)) == NULL ? LW_ENOMEM : LW_OK;
}

static void
note_limit(struct msgctx *m)
{
	if (m->limit_logged)
		return;
	m->limit_logged = true;
	log_msg(LOG_NOTICE, qid_of(m), "message exceeds message_bytes "
	    "(%zu): scanning the first %zu bytes", m->mb.max, m->mb.len);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	enum lw_err	 e;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return cont(c, SMFIP_NR_HDR);
	if (value == NULL)
		value = "";
	/*
	 * Straight into the message copy; without HDR_LEADSPC the MTA
	 * ate the space after the colon and msgbuf puts it back.  Only
	 * the few fields kept by name are copied (once a message).
	 */
	e = msgbuf_add_header(&m->mb, name, value, !c->leadspc);
	if (e == LW_ELIMIT)
		note_limit(m);
	if (e == LW_OK || e == LW_ELIMIT) {
		e = LW_OK;
		if (strcasecmp(name, "Subject") == 0)
			e = keep_first(c, &m->subject, value);
		else if (strcasecmp(name, "Message-ID") == 0)
			e = keep_first(c, &m->message_id, value);
		else if (strcasecmp(name, "Date") == 0)
			e = keep_first(c, &m->date, value);
		else if (strncasecmp(name, LW_HDR_PREFIX,
		    strlen(LW_HDR_PREFIX)) == 0)
			e = note_lw_header(c, m, name, value);
	}
	if (e != LW_OK) {
		log_msg(LOG_ERR, qid_of(m), "buffering header: %s",
		    lw_strerror(e));
		m->failed = true;
	}
	return cont(c, SMFIP_NR_HDR);
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	enum lw_err	 e;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return cont(c, SMFIP_NR_EOH);
	if ((e = msgbuf_end_headers(&m->mb)) == LW_ELIMIT)
		note_limit(m);
	else if (e != LW_OK) {
		log_msg(LOG_ERR, qid_of(m), "buffering: %s", lw_strerror(e));
		m->failed = true;
	}
	return cont(c, SMFIP_NR_EOH);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	enum lw_err	 e;

	/* A failed message gets on_error at eom: its body is no use. */
	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return cont(c, SMFIP_NR_BODY);
	/* Nothing past message_bytes is kept (the size still counts). */
	if ((e = msgbuf_append(&m->mb, p, len)) == LW_ELIMIT)
		note_limit(m);
	else if (e != LW_OK) {
		/* errno is from the write or mkstemp that failed */
		log_msg(LOG_ERR, qid_of(m), "buffering body: %s: %s",
		    lw_strerror(e), strerror(errno));
		m->failed = true;
	}
	return cont(c, SMFIP_NR_BODY);
}

/* By name, any case; the same name in arrival order (one buffer). */
static int
lwname_cmp(const void *a, const void *b)
{
	const char	*const *x = a, *const *y = b;
	int		 c;

	if ((c = strcasecmp(*x, *y)) != 0)
		return c;
	return *x < *y ? -1 : *x > *y;
}

/*
 * Delete every incoming X-Lurewall-* field but the verified release.
 * The names sorted, so each run is one name and its count, its first
 * spelling first.  From the last index down, so an MTA that renumbers
 * after a delete and one that does not both remove the right fields.
 */
static enum lw_err
strip_forged(SMFICTX *ctx, const struct msgctx *m, size_t keep)
{
	const char	**v, *p;
	size_t		 i, j, idx, n;
	bool		 rel;
	enum lw_err	 e = LW_OK;

	if (m->nlw == 0)
		return LW_OK;
	if ((v = reallocarray(NULL, m->nlw, sizeof(*v))) == NULL)
		return LW_ENOMEM;
	for (i = 0, p = m->lw.p; i < m->nlw; i++, p += strlen(p) + 1)
		v[i] = p;
	qsort(v, m->nlw, sizeof(*v), lwname_cmp);
	for (i = 0; i < m->nlw && e == LW_OK; i = j) {
		for (j = i + 1; j < m->nlw && strcasecmp(v[i], v[j]) == 0; j++)
			;
		rel = strcasecmp(v[i], LW_HDR_RELEASED) == 0;
		for (idx = j - i; idx > 0 && e == LW_OK; idx--) {
			if (rel && idx == keep)
				continue;
			if (idx > INT_MAX || smfi_chgheader(ctx, (char *)v[i],
			    (int)idx, NULL) == MI_FAILURE)
				e = LW_EINTERNAL;
		}
		/* The kept release field alone is no news: say nothing. */
		if (e == LW_OK && (n = j - i - (rel && keep ? 1 : 0)) > 0)
			log_msg(LOG_NOTICE, qid_of(m), "removed %zu incoming "
			    "%s field(s)", n, v[i]);
	}
	free(v);
	return e;
}

/* A header field, with the space the MTA expects before its value. */
static enum lw_err
add_header(SMFICTX *ctx, const struct connctx *c, const char *name,
    const char *value)
{
	char		*v;
	enum lw_err	 e = LW_OK;

	if (lw_asprintf(&v, "%s%s", c->leadspc ? " " : "", value) != LW_OK)
		return LW_ENOMEM;
	if (smfi_addheader(ctx, (char *)name, v) == MI_FAILURE)
		e = LW_EINTERNAL;
	free(v);
	return e;
}

static enum lw_err
set_subject(SMFICTX *ctx, const struct connctx *c,
    const struct disposition *d)
{
	char	*v;
	int	 r;

	if (d->subject_add)
		return add_header(ctx, c, "Subject", d->subject);
	if (lw_asprintf(&v, "%s%s", c->leadspc ? " " : "", d->subject) !=
	    LW_OK)
		return LW_ENOMEM;
	r = smfi_chgheader(ctx, "Subject", 1, v);
	free(v);
	return r == MI_SUCCESS ? LW_OK : LW_EINTERNAL;
}

/*
 * Map the disposition to milter calls, in the order the MTA applies
 * them, and log the message's line.  A failed call is on_error.
 */
static sfsistat
apply(SMFICTX *ctx, const struct connctx *c, struct msgctx *m,
    const struct disposition *d)
{
	const char	*why = NULL;
	size_t		 i;

	if (strip_forged(ctx, m, d->keep_released) != LW_OK)
		return on_error(ctx, m, "removing X-Lurewall-* fields failed");
	for (i = 0; i < d->nhdrs && why == NULL; i++)
		if (add_header(ctx, c, d->hdrs[i].name, d->hdrs[i].value) !=
		    LW_OK)
			why = d->keep_released > 0 ? "adding "
			    "X-Lurewall-Result failed" : "adding tag headers "
			    "failed";
	if (why == NULL && d->subject != NULL &&
	    set_subject(ctx, c, d) != LW_OK)
		why = "adding tag headers failed";
	if (why == NULL && d->hold_reason != NULL &&
	    smfi_quarantine(ctx, d->hold_reason) == MI_FAILURE)
		why = "smfi_quarantine failed";
	if (why != NULL)
		return on_error(ctx, m, why);
	if (d->log_action != NULL)
		log_verdict(m, d);
	return reply(ctx, d);
}

/* End of message: the disposition stage decides, apply maps it. */
static sfsistat
eom(SMFICTX *ctx, const struct connctx *c, struct msgctx *m)
{
	struct disp_input	 in;
	struct disposition	 d;
	sfsistat		 rc;

	if (m->failed)
		return on_error(ctx, m, m->why != NULL ? m->why :
		    "buffering the message failed");
	memset(&in, 0, sizeof(in));
	if (msgbuf_data(&m->mb, &in.raw, &in.len) != LW_OK)
		return on_error(ctx, m, "mapping the spilled message failed");
	m->env.truncated = m->mb.truncated;
	m->env.orig_len = m->mb.seen;
	in.env = &m->env;
	in.subject = m->subject;
	in.message_id = m->message_id;
	in.date = m->date;
	in.released = m->released;
	in.nreleased = m->nreleased;
	in.notice = m->notice;
	if (disposition_decide(m->rt, &in, &d) != LW_OK)
		return on_error(ctx, m, "out of memory");
	m->outbound = d.outbound;
	rc = apply(ctx, c, m, &d);
	disposition_free(&d);
	return rc;
}

/*
 * The daemon is stopping (drain.h): the stores may be closing under
 * us, so no verdict; the MTA keeps the message and retries.
 */
static sfsistat
stopping(SMFICTX *ctx, struct connctx *c)
{
	log_msg(LOG_NOTICE, c != NULL ? qid_of(c->msg) : NULL,
	    "stopping: not scanned, tempfail");
	msg_free(c);
	smfi_setreply(ctx, "451", "4.3.2",
	    "lurewall: shutting down, please try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	const char	*qid;
	sfsistat	 rc;

	/* Counted until the stores are done with (drain.c). */
	if (!drain_enter())
		return stopping(ctx, c);
	if (c == NULL || (m = c->msg) == NULL) {
		rc = on_error(ctx, NULL, c != NULL && c->why != NULL ?
		    c->why : "end of message without a message");
		drain_leave();
		return rc;
	}
	if (m->env.qid == NULL && ((qid = macro(ctx, "i")) != NULL ||
	    (qid = macro(ctx, "{i}")) != NULL))
		m->env.qid = strdup(qid);
	drain_gate(m->env.qid);
	rc = eom(ctx, c, m);
	msg_free(c);		/* the next message starts from scratch */
	drain_leave();
	return rc;
}

/* Steps we turn off where the MTA lets us (SMFIP_NODATA, NOUNKNOWN). */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	return cont(smfi_getpriv(ctx), SMFIP_NR_DATA);
}

static sfsistat
mlfi_unknown(SMFICTX *ctx, const char *cmd)
{
	return cont(smfi_getpriv(ctx), SMFIP_NR_UNKN);
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	msg_free(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	conn_free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/* What lurewall-milter asks of the MTA, and its callbacks. */
static const struct smfiDesc lurewall_desc = {
	.xxfi_name = (char *)"lurewall",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = mlfi_connect,
	.xxfi_helo = mlfi_helo,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_unknown = mlfi_unknown,
	.xxfi_data = mlfi_data,
	.xxfi_negotiate = mlfi_negotiate
};

enum lw_err
milter_open(const char *sock, int debug, char *err, size_t errlen)
{
	free(conn_spec);
	if ((conn_spec = strdup(sock)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return LW_ENOMEM;
	}
	if (smfi_register(lurewall_desc) == MI_FAILURE) {
		snprintf(err, errlen, "smfi_register failed");
		return LW_EINTERNAL;
	}
	if (smfi_setconn(conn_spec) == MI_FAILURE) {
		snprintf(err, errlen, "bad socket %s", sock);
		return LW_EINVAL;
	}
	if (debug > 0)
		smfi_setdbg(debug);
	/* true: remove a stale unix socket left by a crash */
	if (smfi_opensocket(true) == MI_FAILURE) {
		snprintf(err, errlen, "cannot open socket %s", sock);
		return LW_EIO;
	}
	return LW_OK;
}

int
milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
