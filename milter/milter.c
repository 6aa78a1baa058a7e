/*
 * milter.c: the libmilter callbacks of lurewall-milter, and the only
 * file that includes libmilter/mfapi.h.
 *
 * Takes what the MTA says about a connection and its messages: client
 * address and name, HELO, envelope, macros (i, {client_addr},
 * {client_name}, {auth_authen}, {daemon_name}), header fields and body
 * chunks.  Callbacks only fill a per-message context (a struct msgbuf
 * holding the message exactly as received, and a struct envelope); the
 * end-of-message callback strips incoming X-Lurewall-* fields, calls
 * scan_message() once and maps the verdict to milter replies: headers
 * and subject prefix (tag), 550 (reject), the quarantine store then
 * discard/reject/hold (quarantine).  An internal error means the
 * config's on_error (tempfail unless the admin chose accept).
 *
 * Bounds: the message copy is capped by limits.max_message_bytes
 * (msgbuf), everything else we keep per message is a small copy of a
 * header the MTA already bounded.  Message state is freed at eom and
 * abort, connection state at close (which may come with no context).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "milter.h"
#include "mime.h"
#include "msgbuf.h"
#include "outbreak.h"
#include "policy.h"
#include "quarantine.h"
#include "scan.h"
#include "splitppap.h"
#include "verdict.h"

#define LW_HDR_PREFIX		"X-Lurewall-"
#define LW_HDR_RELEASED		"X-Lurewall-Released"
#define LW_HDR_RESULT		"X-Lurewall-Result"
#define LW_HDR_RULES		"X-Lurewall-Rules"
#define RELEASED_MAX		8	/* released headers we try to verify */
#define LOG_FIELD_MAX		256	/* bytes of attacker text per log field */
#define LOG_RCPTS_MAX		20	/* recipients named in a verdict line */
#define RULES_HDR_MAX		900	/* keep X-Lurewall-Rules one line */
#define ENCWORD_CHUNK		45	/* UTF-8 bytes per encoded word (<= 75) */

/* The configuration messages use: swapped whole on SIGUSR1. */
struct snapshot {
	struct config		*cfg;
	struct policyset	*ps;
	struct quarantine	*q;
	unsigned		 refs;
};

/* One incoming X-Lurewall-* field name and how often it came. */
struct lwhdr {
	char		*name;		/* first spelling seen */
	unsigned	 n;
};

struct msgctx {
	struct snapshot	*snap;
	struct envelope	 env;
	struct msgbuf	 mb;
	char		*subject;	/* first Subject value, as received */
	char		*message_id;
	char		*date;
	struct lwhdr	*lw;		/* X-Lurewall-* names to strip */
	size_t		 nlw;
	char		*released[RELEASED_MAX];	/* their values, in order */
	size_t		 nreleased;
	bool		 failed;	/* internal error: on_error at eom */
	bool		 limit_logged;
	bool		 outbound;	/* issue 11: logged direction=outbound */
};

struct connctx {
	char		*client_addr;
	char		*client_name;
	char		*helo;
	char		*daemon_name;
	bool		 leadspc;	/* header values keep their space */
	struct msgctx	*msg;
};

static pthread_mutex_t	 snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot	*current;
static char		*conn_spec;
static bool		 warned_actions;

static struct snapshot *
snap_get(void)
{
	struct snapshot	*s;

	pthread_mutex_lock(&snap_lock);
	if ((s = current) != NULL)
		s->refs++;
	pthread_mutex_unlock(&snap_lock);
	return s;
}

static void
snap_put(struct snapshot *s)
{
	bool	last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&snap_lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&snap_lock);
	if (!last)
		return;
	if (s->q != NULL)
		quarantine_close(s->q);
	if (s->ps != NULL)
		policyset_unref(s->ps);
	config_free(s->cfg);
	free(s);
}

enum lw_err
milter_install(struct config *cfg, struct policyset *ps,
    struct quarantine *q)
{
	struct snapshot	*s, *old;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return LW_ENOMEM;
	s->cfg = cfg;
	s->ps = ps;
	s->q = q;
	s->refs = 1;
	pthread_mutex_lock(&snap_lock);
	old = current;
	current = s;
	pthread_mutex_unlock(&snap_lock);
	snap_put(old);
	return LW_OK;
}

void
milter_uninstall(void)
{
	struct snapshot	*old;

	pthread_mutex_lock(&snap_lock);
	old = current;
	current = NULL;
	pthread_mutex_unlock(&snap_lock);
	snap_put(old);
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

/* A header value without its folding and surrounding white space. */
static char *
trimmed(const char *v)
{
	const char	*e;

	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	return lw_strndup(v, (size_t)(e - v));
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
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
	size_t		 i;

	if (c == NULL || (m = c->msg) == NULL)
		return;
	msgbuf_free(&m->mb);
	envelope_free(&m->env);
	free(m->subject);
	free(m->message_id);
	free(m->date);
	for (i = 0; i < m->nlw; i++)
		free(m->lw[i].name);
	free(m->lw);
	for (i = 0; i < m->nreleased; i++)
		free(m->released[i]);
	snap_put(m->snap);
	free(m);
	c->msg = NULL;
}

static void
conn_free(struct connctx *c)
{
	if (c == NULL)
		return;
	msg_free(c);
	free(c->client_addr);
	free(c->client_name);
	free(c->helo);
	free(c->daemon_name);
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
 * The one line per message: who, what the engine said, what we did.
 * extra carries disposition details (quarantine id, release, error).
 */
static void
log_verdict(int prio, const struct msgctx *m, const char *action, int score,
    const char *rules, uint64_t ms, const char *extra)
{
	char	*from = from_of(&m->env), *rcpts = rcpt_list(&m->env);

	log_msg(prio, qid_of(m),
	    "from=<%s> rcpts=%s size=%" PRIu64 " score=%d action=%s "
	    "rules=%s scan_ms=%" PRIu64 "%s%s%s",
	    from != NULL ? from : "?", rcpts != NULL ? rcpts : "?",
	    m->mb.seen, score, action,
	    rules != NULL && *rules != '\0' ? rules : "-", ms,
	    m->outbound ? " direction=outbound" : "",
	    extra != NULL ? " " : "", extra != NULL ? extra : "");
	free(from);
	free(rcpts);
}

static sfsistat
tempfail(SMFICTX *ctx)
{
	smfi_setreply(ctx, "451", "4.3.0",
	    "lurewall: temporary failure, please try again later");
	return SMFIS_TEMPFAIL;
}

/* No trustworthy verdict: the config's on_error decides. */
static sfsistat
on_error(SMFICTX *ctx, struct msgctx *m, const char *why)
{
	struct snapshot	*s = m != NULL && m->snap != NULL ?
			    m->snap : NULL;
	bool		 accept;
	char		*extra = NULL;

	if (s == NULL) {
		s = snap_get();
		accept = s != NULL && s->cfg->on_error == ONERR_ACCEPT;
		snap_put(s);
	} else
		accept = s->cfg->on_error == ONERR_ACCEPT;
	if (m != NULL) {
		if (lw_asprintf(&extra, "error=\"%s\"", why) != LW_OK)
			extra = NULL;
		log_verdict(LOG_ERR, m, accept ? "accept" : "tempfail", 0,
		    NULL, 0, extra);
		free(extra);
	} else
		log_msg(LOG_ERR, NULL, "internal error: %s; on_error=%s",
		    why, accept ? "accept" : "tempfail");
	return accept ? SMFIS_ACCEPT : tempfail(ctx);
}

/* Callbacks */

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long	 want = SMFIF_ADDHDRS | SMFIF_CHGHDRS |
				    SMFIF_QUARANTINE;
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
	/* Header values with their leading space: the copy is exact. */
	*pf1 = f1 & SMFIP_HDR_LEADSPC;
	*pf2 = 0;
	*pf3 = 0;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct connctx	*c;
	char		 buf[INET6_ADDRSTRLEN];
	const char	*addr = NULL, *v;

	if ((c = conn_get(ctx)) == NULL)
		return on_error(ctx, NULL, "out of memory");
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
	free(c->client_addr);
	free(c->client_name);
	free(c->daemon_name);
	c->client_addr = lw_strdup(addr);
	v = macro(ctx, "{client_name}");
	c->client_name = lw_strdup(v != NULL ? v : hostname);
	c->daemon_name = lw_strdup(macro(ctx, "{daemon_name}"));
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct connctx	*c;

	if ((c = conn_get(ctx)) == NULL)
		return on_error(ctx, NULL, "out of memory");
	free(c->helo);
	c->helo = lw_strdup(helo);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct connctx	*c;
	struct msgctx	*m;
	const struct limits *lim;
	const char	*qid;

	if ((c = conn_get(ctx)) == NULL)
		return on_error(ctx, NULL, "out of memory");
	msg_free(c);		/* a message the MTA never finished */
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return on_error(ctx, NULL, "out of memory");
	m->mb.fd = -1;
	c->msg = m;
	if ((m->snap = snap_get()) == NULL) {
		msg_free(c);
		return on_error(ctx, NULL, "no configuration installed");
	}
	lim = &m->snap->cfg->limits;
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
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	char		*r;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return SMFIS_CONTINUE;
	if ((r = unbracket(argv != NULL ? argv[0] : NULL)) == NULL ||
	    envelope_add_rcpt(&m->env, r) != LW_OK)
		m->failed = true;
	free(r);
	return SMFIS_CONTINUE;
}

/* Remember an incoming X-Lurewall-* field so eom can delete it. */
static enum lw_err
note_lw_header(struct msgctx *m, const char *name, const char *value)
{
	struct lwhdr	*v;
	size_t		 i;

	if (strcasecmp(name, LW_HDR_RELEASED) == 0 &&
	    m->nreleased < RELEASED_MAX) {
		if ((m->released[m->nreleased] = strdup(value)) == NULL)
			return LW_ENOMEM;
		m->nreleased++;
	}
	for (i = 0; i < m->nlw; i++)
		if (strcasecmp(m->lw[i].name, name) == 0) {
			m->lw[i].n++;
			return LW_OK;
		}
	if ((v = reallocarray(m->lw, m->nlw + 1, sizeof(*v))) == NULL)
		return LW_ENOMEM;
	m->lw = v;
	if ((v[m->nlw].name = strdup(name)) == NULL)
		return LW_ENOMEM;
	v[m->nlw].n = 1;
	m->nlw++;
	return LW_OK;
}

static enum lw_err
keep_first(char **slot, const char *value)
{
	if (*slot != NULL)
		return LW_OK;
	return (*slot = strdup(value)) == NULL ? LW_ENOMEM : LW_OK;
}

static void
note_limit(struct msgctx *m)
{
	if (m->limit_logged)
		return;
	m->limit_logged = true;
	log_msg(LOG_NOTICE, qid_of(m), "message exceeds max_message_bytes "
	    "(%zu): scanning the first %zu bytes", m->mb.max, m->mb.len);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	char		*v = NULL;
	enum lw_err	 e;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return SMFIS_CONTINUE;
	if (value == NULL)
		value = "";
	/* Without HDR_LEADSPC the MTA ate the space after the colon. */
	if (!c->leadspc && lw_asprintf(&v, " %s", value) != LW_OK) {
		m->failed = true;
		return SMFIS_CONTINUE;
	}
	if (v != NULL)
		value = v;
	e = msgbuf_add_header(&m->mb, name, value);
	if (e == LW_ELIMIT)
		note_limit(m);
	if (e == LW_OK || e == LW_ELIMIT) {
		e = LW_OK;
		if (strcasecmp(name, "Subject") == 0)
			e = keep_first(&m->subject, value);
		else if (strcasecmp(name, "Message-ID") == 0)
			e = keep_first(&m->message_id, value);
		else if (strcasecmp(name, "Date") == 0)
			e = keep_first(&m->date, value);
		else if (strncasecmp(name, LW_HDR_PREFIX,
		    strlen(LW_HDR_PREFIX)) == 0)
			e = note_lw_header(m, name, value);
	}
	if (e != LW_OK) {
		log_msg(LOG_ERR, qid_of(m), "buffering header: %s",
		    lw_strerror(e));
		m->failed = true;
	}
	free(v);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	enum lw_err	 e;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return SMFIS_CONTINUE;
	if ((e = msgbuf_end_headers(&m->mb)) == LW_ELIMIT)
		note_limit(m);
	else if (e != LW_OK) {
		log_msg(LOG_ERR, qid_of(m), "buffering: %s", lw_strerror(e));
		m->failed = true;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	enum lw_err	 e;

	if (c == NULL || (m = c->msg) == NULL || m->failed)
		return SMFIS_CONTINUE;
	if ((e = msgbuf_append(&m->mb, p, len)) == LW_ELIMIT)
		note_limit(m);
	else if (e != LW_OK) {
		/* errno is from the write or mkstemp that failed */
		log_msg(LOG_ERR, qid_of(m), "buffering body: %s: %s",
		    lw_strerror(e), strerror(errno));
		m->failed = true;
	}
	return SMFIS_CONTINUE;
}

/*
 * 1-based index among the X-Lurewall-Released fields of one that
 * verifies against this message's Message-ID and Date; 0 if none.
 */
static size_t
released_index(const struct msgctx *m)
{
	struct quarantine	*q = m->snap->q;
	char			*mid, *date, *val;
	size_t			 i, found = 0;
	bool			 good;

	if (q == NULL || m->nreleased == 0 || m->message_id == NULL ||
	    m->date == NULL)
		return 0;
	mid = trimmed(m->message_id);
	date = trimmed(m->date);
	for (i = 0; mid != NULL && date != NULL && i < m->nreleased; i++) {
		if ((val = trimmed(m->released[i])) == NULL)
			break;
		good = quarantine_release_verify(q, val, mid, date);
		free(val);
		if (good) {
			found = i + 1;
			break;
		}
	}
	free(mid);
	free(date);
	return found;
}

/*
 * Delete every incoming X-Lurewall-* field but the verified release.
 * From the last index down, so an MTA that renumbers after a delete
 * and one that does not both remove the right fields.
 */
static enum lw_err
strip_forged(SMFICTX *ctx, const struct msgctx *m, size_t keep)
{
	size_t		i;
	unsigned	idx;
	bool		rel;

	for (i = 0; i < m->nlw; i++) {
		rel = strcasecmp(m->lw[i].name, LW_HDR_RELEASED) == 0;
		for (idx = m->lw[i].n; idx > 0; idx--) {
			if (rel && idx == keep)
				continue;
			if (smfi_chgheader(ctx, m->lw[i].name, (int)idx,
			    NULL) == MI_FAILURE)
				return LW_EINTERNAL;
		}
		log_msg(LOG_NOTICE, qid_of(m), "removed %u incoming %s "
		    "field(s)", m->lw[i].n - (rel && keep ? 1 : 0),
		    m->lw[i].name);
	}
	return LW_OK;
}

/*
 * s as RFC 2047 B encoded words of at most ENCWORD_CHUNK bytes each,
 * split on UTF-8 character boundaries, separated by spaces.
 */
static char *
encode_words(const char *s)
{
	size_t		 len = strlen(s), off = 0, n, olen;
	unsigned char	 b64[4 * ((ENCWORD_CHUNK + 2) / 3) + 1];
	char		*out = NULL, *nw;

	if ((out = strdup("")) == NULL)
		return NULL;
	while (off < len) {
		n = len - off > ENCWORD_CHUNK ? ENCWORD_CHUNK : len - off;
		/* Do not cut a UTF-8 sequence: back up to its lead byte. */
		while (n > 1 && off + n < len &&
		    ((unsigned char)s[off + n] & 0xc0) == 0x80)
			n--;
		olen = (size_t)EVP_EncodeBlock(b64,
		    (const unsigned char *)s + off, (int)n);
		b64[olen] = '\0';
		if (lw_asprintf(&nw, "%s%s=?UTF-8?B?%s?=", out,
		    off ? " " : "", b64) != LW_OK) {
			free(out);
			return NULL;
		}
		free(out);
		out = nw;
		off += n;
	}
	return out;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Put the policy's prefix in front of the subject.  A non-ASCII prefix
 * goes out as encoded words; the original subject follows in the form
 * it came (encoded words stay encoded).  Between two encoded words a
 * space is invisible to decoders, so then the space goes inside ours.
 */
static enum lw_err
subject_prefix(SMFICTX *ctx, const struct connctx *c,
    const struct msgctx *m, const char *prefix)
{
	const char	*sp = c->leadspc ? " " : "";
	char		*rest = NULL, *enc = NULL, *withsp = NULL, *nv = NULL;
	enum lw_err	 e = LW_ENOMEM;
	bool		 ascii = is_ascii(prefix);
	int		 r;

	if (m->subject != NULL && (rest = trimmed(m->subject)) == NULL)
		return LW_ENOMEM;
	if (ascii)
		enc = strdup(prefix);
	else if (rest != NULL && has_prefix(rest, "=?")) {
		if (lw_asprintf(&withsp, "%s ", prefix) == LW_OK)
			enc = encode_words(withsp);
	} else
		enc = encode_words(prefix);
	if (enc == NULL)
		goto out;
	if (rest != NULL && (has_prefix(rest, enc) ||
	    has_prefix(rest, prefix))) {
		e = LW_OK;		/* tagged before (a reply): once is enough */
		goto out;
	}
	if (rest == NULL || *rest == '\0') {
		if (lw_asprintf(&nv, "%s%s", sp, enc) != LW_OK)
			goto out;
	} else if (lw_asprintf(&nv, "%s%s %s", sp, enc, rest) != LW_OK)
		goto out;
	if (m->subject != NULL)
		r = smfi_chgheader(ctx, "Subject", 1, nv);
	else
		r = smfi_addheader(ctx, "Subject", nv);
	e = r == MI_SUCCESS ? LW_OK : LW_EINTERNAL;
out:
	free(rest);
	free(enc);
	free(withsp);
	free(nv);
	return e;
}

static enum lw_err
tag(SMFICTX *ctx, const struct connctx *c, const struct msgctx *m,
    const struct verdict *v)
{
	const struct policy	*p = v->policy;
	const char		*sp = c->leadspc ? " " : "";
	char			*val = NULL, *rules = NULL;
	enum lw_err		 e = LW_OK;

	if (p == NULL || p->tag_headers) {
		rules = lw_sanitize(v->rules != NULL ? v->rules : "",
		    v->rules != NULL ? strlen(v->rules) : 0, RULES_HDR_MAX);
		if (rules == NULL ||
		    lw_asprintf(&val, "%stag score=%d", sp, v->score) != LW_OK)
			e = LW_ENOMEM;
		else if (smfi_addheader(ctx, LW_HDR_RESULT, val) == MI_FAILURE)
			e = LW_EINTERNAL;
		free(val);
		val = NULL;
		if (e == LW_OK && (lw_asprintf(&val, "%s%s", sp,
		    *rules != '\0' ? rules : "-") != LW_OK))
			e = LW_ENOMEM;
		else if (e == LW_OK &&
		    smfi_addheader(ctx, LW_HDR_RULES, val) == MI_FAILURE)
			e = LW_EINTERNAL;
		free(val);
		free(rules);
	}
	if (e == LW_OK && p != NULL && p->subject_prefix != NULL &&
	    *p->subject_prefix != '\0')
		e = subject_prefix(ctx, c, m, p->subject_prefix);
	return e;
}

/* Length of a leading "5.N.N" enhanced status code followed by a space. */
static size_t
dsn_prefix(const char *s)
{
	size_t	i = 0, part, digits;

	if (s[i++] != '5')
		return 0;
	for (part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return 0;
		for (digits = 0; digits < 3 && isdigit((unsigned char)s[i]);
		    digits++)
			i++;
		if (digits == 0)
			return 0;
	}
	return s[i] == ' ' ? i : 0;
}

/*
 * 550 with the policy's text.  The text may open with its own enhanced
 * status code ("5.7.1 Message rejected ..."): that code becomes the
 * DSN instead of being repeated.
 */
static sfsistat
reject(SMFICTX *ctx, const struct policy *p)
{
	const char	*text = p != NULL && p->reject_text != NULL ?
			    p->reject_text : "Message rejected by lurewall";
	char		 dsn[16] = "5.7.1";
	size_t		 n;

	if ((n = dsn_prefix(text)) > 0) {
		memcpy(dsn, text, n);	/* n <= 11 */
		dsn[n] = '\0';
		text += n + 1;
	}
	smfi_setreply(ctx, "550", dsn, (char *)text);
	return SMFIS_REJECT;
}

/* Postfix hold: the admin sees it in `postqueue -j`. */
static enum lw_err
hold(SMFICTX *ctx, const struct verdict *v)
{
	char		*reason = NULL;
	enum lw_err	 e = LW_OK;

	if (lw_asprintf(&reason, "lurewall score=%d rules=%s", v->score,
	    v->rules != NULL && *v->rules != '\0' ? v->rules : "-") != LW_OK)
		return LW_ENOMEM;
	if (smfi_quarantine(ctx, reason) == MI_FAILURE)
		e = LW_EINTERNAL;
	free(reason);
	return e;
}

static const char *
then_name(enum quarantine_then t)
{
	switch (t) {
	case QTHEN_DISCARD:	return "discard";
	case QTHEN_REJECT:	return "reject";
	case QTHEN_HOLD:	return "hold";
	}
	return "?";
}

/* Map the verdict to milter replies and log the message's line. */
static sfsistat
apply(SMFICTX *ctx, const struct connctx *c, struct msgctx *m,
    const struct scan_result *res, const unsigned char *raw, size_t len)
{
	const struct verdict	*v = res->verdict;
	const struct policy	*p = v->policy;
	char			 id[QUARANTINE_ID_MAX];
	char			*extra = NULL;
	const char		*why = NULL;
	sfsistat		 rc = SMFIS_ACCEPT;
	enum lw_err		 e;

	switch (v->action) {
	case ACT_ACCEPT:
		break;
	case ACT_TAG:
		if ((e = tag(ctx, c, m, v)) != LW_OK)
			why = "adding tag headers failed";
		break;
	case ACT_REJECT:
		rc = reject(ctx, p);
		break;
	case ACT_TEMPFAIL:
		rc = tempfail(ctx);
		break;
	case ACT_QUARANTINE:
		if (m->snap->q == NULL) {
			if (hold(ctx, v) != LW_OK)
				why = "smfi_quarantine failed";
			else
				extra = strdup("then=hold");
			break;
		}
		e = quarantine_store(m->snap->q, raw, len, &m->env, res, id);
		if (e != LW_OK) {
			log_msg(LOG_ERR, qid_of(m), "quarantine store "
			    "failed: %s: tempfail", lw_strerror(e));
			if (lw_asprintf(&extra, "then=tempfail "
			    "error=\"quarantine store: %s\"",
			    lw_strerror(e)) != LW_OK)
				extra = NULL;
			rc = tempfail(ctx);
			break;
		}
		if (lw_asprintf(&extra, "then=%s quarantine_id=%s",
		    then_name(p != NULL ? p->quarantine_then : QTHEN_DISCARD),
		    id) != LW_OK)
			extra = NULL;
		switch (p != NULL ? p->quarantine_then : QTHEN_DISCARD) {
		case QTHEN_DISCARD:
			rc = SMFIS_DISCARD;
			break;
		case QTHEN_REJECT:
			rc = reject(ctx, p);
			break;
		case QTHEN_HOLD:
			if (hold(ctx, v) != LW_OK)
				why = "smfi_quarantine failed";
			break;
		}
		break;
	}
	if (why != NULL) {
		free(extra);
		return on_error(ctx, m, why);
	}
	log_verdict(rc == SMFIS_TEMPFAIL ? LOG_ERR : LOG_INFO, m,
	    verdict_action_name(v->action), v->score, v->rules,
	    res->elapsed_ms, extra);
	free(extra);
	return rc;
}

/*
 * --- Outbound mail and the outbreak breaker (issue 11; outbreak.c) ---
 * Mail our own users send is judged by the sender's domain's policy.
 * A lure-like message is stored in the quarantine and discarded (never
 * sent; Postfix hold when there is no quarantine), and so is every
 * message of a sender that tripped the breaker (or it is tempfailed,
 * per the policy's outbound.action), until `lurewall outbreak clear`.
 */

/* The policy of the sender's domain: envelope sender, else From. */
static const struct policy *
sender_policy(const struct msgctx *m, const unsigned char *raw, size_t len)
{
	const struct policyset	*ps = m->snap->ps;
	const struct policy	*p = ps->def;
	const char		*at = m->env.mail_from != NULL ?
				    strrchr(m->env.mail_from, '@') : NULL;
	struct findings		 fs = { 0 };
	struct message		*msg = NULL;

	if (at != NULL)
		return policyset_for_domain(ps, at + 1);
	if (mime_parse(raw, len, &m->snap->cfg->limits, &fs, &msg) == LW_OK &&
	    msg != NULL && msg->from.domain != NULL)
		p = policyset_for_domain(ps, msg->from.domain);
	mime_free(msg);
	findings_free(&fs);
	return p;
}

/* Store and discard (or Postfix hold without a store). */
static sfsistat
outbound_hold(SMFICTX *ctx, struct msgctx *m, struct scan_result *res,
    const unsigned char *raw, size_t len, const char *why)
{
	struct verdict	*v = res->verdict;
	char		 id[QUARANTINE_ID_MAX];
	char		*extra = NULL;
	sfsistat	 rc = SMFIS_DISCARD;
	enum lw_err	 e;

	v->action = ACT_QUARANTINE;
	if (m->snap->q == NULL) {
		if (hold(ctx, v) != LW_OK)
			return on_error(ctx, m, "smfi_quarantine failed");
		rc = SMFIS_ACCEPT;
		if (lw_asprintf(&extra, "then=hold %s", why) != LW_OK)
			extra = NULL;
	} else if ((e = quarantine_store(m->snap->q, raw, len, &m->env, res,
	    id)) != LW_OK) {
		log_msg(LOG_ERR, qid_of(m), "quarantine store failed: %s: "
		    "tempfail", lw_strerror(e));
		if (lw_asprintf(&extra, "then=tempfail error=\"quarantine "
		    "store: %s\" %s", lw_strerror(e), why) != LW_OK)
			extra = NULL;
		rc = tempfail(ctx);
	} else if (lw_asprintf(&extra, "then=discard quarantine_id=%s %s", id,
	    why) != LW_OK)
		extra = NULL;
	log_verdict(LOG_NOTICE, m, verdict_action_name(v->action), v->score, v->rules,
	    res->elapsed_ms, extra);
	free(extra);
	return rc;
}

static sfsistat
outbound_eom(SMFICTX *ctx, const struct connctx *c, struct msgctx *m,
    const unsigned char *raw, size_t len)
{
	const struct config	*cfg = m->snap->cfg;
	const struct policy	*p;
	struct scan_opts	 opts;
	struct scan_result	 res;
	struct outbreak_store	*st;
	struct outbreak_result	 ob;
	struct outbreak_alert	 al;
	const char		*rule = NULL, *act;
	char			*key = NULL, *skey = NULL, *why = NULL;
	bool			 lure;
	sfsistat		 rc;
	enum lw_err		 e;

	m->outbound = true;
	p = sender_policy(m, raw, len);
	act = p->outbound.action == OUTBOUND_TEMPFAIL ? "tempfail" : "hold";
	memset(&opts, 0, sizeof(opts));
	opts.policy = p;
	memset(&res, 0, sizeof(res));
	memset(&ob, 0, sizeof(ob));
	e = scan_message_opts(raw, len, &m->env, &cfg->limits, m->snap->ps,
	    &opts, &res);
	if (e != LW_OK || res.verdict == NULL) {
		scan_result_free(&res);
		return on_error(ctx, m, e != LW_OK ? lw_strerror(e) :
		    "scan returned no verdict");
	}
	lure = outbreak_lure_like(res.verdict, &rule);
	if ((key = outbreak_sender_key(&m->env)) != NULL) {
		if ((e = outbreak_file_open(cfg->outbreak_dir, &st)) ==
		    LW_OK) {
			e = outbreak_account(st, key, &p->outbound, lure,
			    m->env.rcpts, m->env.nrcpts, time(NULL), &ob);
			outbreak_close(st);
		}
		if (e != LW_OK) {
			log_msg(LOG_ERR, qid_of(m), "outbreak store %s: %s: %s",
			    cfg->outbreak_dir, lw_strerror(e), strerror(errno));
			rc = on_error(ctx, m, "outbreak store failed");
			goto out;
		}
		skey = lw_sanitize(key, strlen(key), LOG_FIELD_MAX);
	}
	if (ob.state == OB_TRIPPED_NOW) {
		al.sender = key;
		al.reason = ob.reason;
		al.action = act;
		al.lures = ob.lures;
		al.new_rcpts = ob.new_rcpts;
		al.window = p->outbound.window;
		al.tripped = ob.tripped;
		outbreak_alert(cfg, qid_of(m), &al);
	}
	if (ob.state != OB_FLOWING && lw_asprintf(&why, "outbreak=%s "
	    "sender=<%s> reason=%s lures=%u new_rcpts=%u%s%s",
	    ob.state == OB_TRIPPED_NOW ? "tripped" : "held",
	    skey != NULL ? skey : "?", ob.reason, ob.lures, ob.new_rcpts,
	    lure ? " lure=" : "", lure ? rule : "") != LW_OK)
		why = NULL;
	if (ob.state == OB_FLOWING && lure && lw_asprintf(&why, "lure=%s "
	    "sender=<%s>", rule, skey != NULL ? skey : "") != LW_OK)
		why = NULL;
	if (lure || (ob.state != OB_FLOWING &&
	    p->outbound.action == OUTBOUND_HOLD))
		/* A lure is never sent, not even later: no tempfail. */
		rc = outbound_hold(ctx, m, &res, raw, len,
		    why != NULL ? why : "outbreak=?");
	else if (ob.state != OB_FLOWING) {
		log_verdict(LOG_NOTICE, m, "tempfail", res.verdict->score,
		    res.verdict->rules, res.elapsed_ms, why);
		smfi_setreply(ctx, "451", "4.7.1", "lurewall: mail of this "
		    "sender is held, please contact your administrator");
		rc = SMFIS_TEMPFAIL;
	} else
		rc = apply(ctx, c, m, &res, raw, len);
out:
	free(why);
	free(skey);
	free(key);
	scan_result_free(&res);
	return rc;
}

/* --- end of outbound --- */

/*
 * ---- split PPAP (splitppap.c; lurewall-milter(8)) ----
 * A pending message: stored by splitppap_eom; the MTA discards it, or
 * holds it with quarantine.then hold.  reject would make the sender
 * resend the zip, so it discards too.
 */
static sfsistat
split_pending(SMFICTX *ctx, struct msgctx *m, const struct scan_result *res,
    const struct splitppap_result *sp)
{
	const struct verdict	*v = res->verdict;
	enum quarantine_then	 then = v->policy != NULL ?
				    v->policy->quarantine_then : QTHEN_DISCARD;
	char			*extra = NULL, ts[32];
	struct tm		 tm;
	sfsistat		 rc = SMFIS_DISCARD;

	if (then == QTHEN_HOLD) {
		if (hold(ctx, v) != LW_OK)
			return on_error(ctx, m, "smfi_quarantine failed");
		rc = SMFIS_ACCEPT;
	} else
		then = QTHEN_DISCARD;
	if (gmtime_r(&sp->expires, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "%lld", (long long)sp->expires);
	if (lw_asprintf(&extra, "then=%s quarantine_id=%s state=pending "
	    "expires=%s", then_name(then), sp->id, ts) != LW_OK)
		extra = NULL;
	log_verdict(LOG_INFO, m, "pending", v->score, v->rules,
	    res->elapsed_ms, extra);
	free(extra);
	return rc;
}

/* A released delayed scan: its X-Lurewall-Result again (we stripped it). */
static enum lw_err
split_released(SMFICTX *ctx, const struct connctx *c,
    const struct msgctx *m, size_t keep)
{
	char		*r, *val = NULL;
	enum lw_err	 e = LW_OK;

	if ((r = splitppap_release_result(m->snap->q,
	    m->released[keep - 1])) == NULL)
		return LW_OK;
	if (lw_asprintf(&val, "%s%s", c->leadspc ? " " : "", r) != LW_OK)
		e = LW_ENOMEM;
	else if (smfi_addheader(ctx, LW_HDR_RESULT, val) == MI_FAILURE)
		e = LW_EINTERNAL;
	free(val);
	free(r);
	return e;
}

void
milter_sweep(bool full)
{
	struct snapshot	*s = snap_get();

	if (s != NULL && s->q != NULL)
		(void)splitppap_sweep(s->q, s->cfg->submit_command,
		    time(NULL), full, NULL, NULL);
	snap_put(s);
}
/* ---- end of split PPAP ---- */

static sfsistat
eom(SMFICTX *ctx, const struct connctx *c, struct msgctx *m)
{
	struct scan_result	 res;
	struct splitppap_env	 spe;
	struct splitppap_result	 sp;
	const unsigned char	*raw;
	size_t			 len, keep;
	enum lw_err		 e;
	sfsistat		 rc;

	if (m->failed)
		return on_error(ctx, m, "buffering the message failed");
	if (msgbuf_data(&m->mb, &raw, &len) != LW_OK)
		return on_error(ctx, m, "mapping the spilled message failed");
	keep = released_index(m);
	if (strip_forged(ctx, m, keep) != LW_OK)
		return on_error(ctx, m, "removing X-Lurewall-* fields failed");
	if (keep > 0) {
		/* Released by an admin: scanned before, not again. */
		if (split_released(ctx, c, m, keep) != LW_OK)
			return on_error(ctx, m, "adding X-Lurewall-Result "
			    "failed");
		log_verdict(LOG_INFO, m, "accept", 0, NULL, 0,
		    "released=yes");
		return SMFIS_ACCEPT;
	}
	m->env.truncated = m->mb.truncated;
	m->env.orig_len = m->mb.seen;
	/* issue 11: mail our users send (outbound_eom above) */
	if (outbreak_direction(m->snap->cfg, &m->env) != OUT_NONE)
		return outbound_eom(ctx, c, m, raw, len);
	memset(&res, 0, sizeof(res));
	e = scan_message(raw, len, &m->env, &m->snap->cfg->limits,
	    m->snap->ps, &res);
	if (e != LW_OK || res.verdict == NULL) {
		scan_result_free(&res);
		return on_error(ctx, m, e != LW_OK ? lw_strerror(e) :
		    "scan returned no verdict");
	}
	/* Split PPAP (splitppap.c): hold for a password, or unlock. */
	spe.q = m->snap->q;
	spe.lim = &m->snap->cfg->limits;
	spe.ps = m->snap->ps;
	spe.submit = m->snap->cfg->submit_command;
	spe.now = 0;
	if ((e = splitppap_eom(&spe, raw, len, &m->env, &res, &sp)) != LW_OK) {
		scan_result_free(&res);
		log_msg(LOG_ERR, qid_of(m), "split PPAP: %s", lw_strerror(e));
		return e == LW_EIO ? tempfail(ctx) :
		    on_error(ctx, m, lw_strerror(e));
	}
	rc = sp.pending ? split_pending(ctx, m, &res, &sp) :
	    apply(ctx, c, m, &res, raw, len);
	scan_result_free(&res);
	return rc;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct connctx	*c = smfi_getpriv(ctx);
	struct msgctx	*m;
	const char	*qid;
	sfsistat	 rc;

	if (c == NULL || (m = c->msg) == NULL)
		return on_error(ctx, NULL, "end of message without a message");
	if (m->env.qid == NULL && ((qid = macro(ctx, "i")) != NULL ||
	    (qid = macro(ctx, "{i}")) != NULL))
		m->env.qid = strdup(qid);
	rc = eom(ctx, c, m);
	msg_free(c);		/* the next message starts from scratch */
	return rc;
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

enum lw_err
milter_open(const char *sock, int debug, char *err, size_t errlen)
{
	struct smfiDesc	desc;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)"lurewall";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	desc.xxfi_connect = mlfi_connect;
	desc.xxfi_helo = mlfi_helo;
	desc.xxfi_envfrom = mlfi_envfrom;
	desc.xxfi_envrcpt = mlfi_envrcpt;
	desc.xxfi_header = mlfi_header;
	desc.xxfi_eoh = mlfi_eoh;
	desc.xxfi_body = mlfi_body;
	desc.xxfi_eom = mlfi_eom;
	desc.xxfi_abort = mlfi_abort;
	desc.xxfi_close = mlfi_close;
	desc.xxfi_negotiate = mlfi_negotiate;

	free(conn_spec);
	if ((conn_spec = strdup(sock)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return LW_ENOMEM;
	}
	if (smfi_register(desc) == MI_FAILURE) {
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
