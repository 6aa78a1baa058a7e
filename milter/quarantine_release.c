/*
 * quarantine_release.c: releasing a held message, and recognising it
 * when it comes back.
 *
 * A release hands the stored message, with an X-Lurewall-Released
 * header (an HMAC over the item id, Message-ID and Date under the
 * store's secret) prepended, to the submission command (execv, no
 * shell; the program must be absolute), then records who released it
 * to whom.  quarantine_release_verify() is how the milter knows the
 * message it sees again is one we released; quarantine_release_seen()
 * knows it once, on every host sharing the state: a release counts a
 * marker up before the copy leaves, its first pass counts it down.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bytes.h"
#include "config.h"
#include "lurewall.h"
#include "log.h"
#include "util.h"
#include "quarantine.h"
#include "quarantine_int.h"
#include "spawn.h"
#include "state.h"

#define MARK_PREFIX	"released:"

/* Copy s without CR/LF and without leading/trailing blanks. */
static char *
canon(const char *s)
{
	char	*out, *o;
	size_t	 n;

	if (s == NULL)
		s = "";
	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (o = out; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			*o++ = *s;
	*o = '\0';
	for (n = (size_t)(o - out); n > 0 &&
	    (out[n - 1] == ' ' || out[n - 1] == '\t'); n--)
		out[n - 1] = '\0';
	n = strspn(out, " \t");
	memmove(out, out + n, strlen(out + n) + 1);
	return out;
}

static bool
release_mac(const struct quarantine *q, const char *id, const char *msgid,
    const char *date, unsigned char mac[32])
{
	struct sbuf	 sb = { 0 };
	char		*cm, *cd;
	unsigned	 maclen = 0;
	bool		 ok;

	cm = canon(msgid);
	cd = canon(date);
	if (cm == NULL || cd == NULL) {
		free(cm);
		free(cd);
		return false;
	}
	sbuf_adds(&sb, id);
	sbuf_add(&sb, "\n", 1);
	sbuf_adds(&sb, cm);
	sbuf_add(&sb, "\n", 1);
	sbuf_adds(&sb, cd);
	free(cm);
	free(cd);
	ok = !sb.oom && HMAC(EVP_sha256(), q->secret, sizeof(q->secret),
	    (const unsigned char *)sb.p, sb.len, mac, &maclen) != NULL &&
	    maclen == 32;
	free(sb.p);
	return ok;
}

enum lw_err
quarantine_release_header(struct quarantine *q, const char *id,
    const char *message_id, const char *date, time_t now, char **hdrval)
{
	unsigned char	mac[32];
	char		hex[65], ts[32];
	size_t		i;

	*hdrval = NULL;
	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	if (!release_mac(q, id, message_id, date, mac))
		return LW_ENOMEM;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if (!lw_time_fmt(ts, sizeof(ts), LW_TIME_UTC, now))
		return LW_EINVAL;
	return lw_asprintf(hdrval, "%s; %s; %s", id, ts, hex);
}

/*
 * Split "ID; TIME; HEX" (v is changed): the id and the MAC are the
 * first and last fields.  False when it is not that shape.
 */
static bool
parse_hdr(char *v, char **idp, char **hexp, unsigned char got[32])
{
	char	*id, *semi, *hex, *end;
	size_t	 i;
	int	 h, l;

	id = v;
	if ((semi = strchr(v, ';')) == NULL)
		return false;
	*semi = '\0';
	for (end = semi; end > id && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	if ((hex = strrchr(semi + 1, ';')) == NULL)
		return false;
	hex += 1 + strspn(hex + 1, " \t");
	if (!quarantine_id_valid(id) || strlen(hex) != 64)
		return false;
	for (i = 0; i < 32; i++) {
		if ((h = hexval((unsigned char)hex[2 * i])) < 0 ||
		    (l = hexval((unsigned char)hex[2 * i + 1])) < 0)
			return false;
		got[i] = (unsigned char)(h << 4 | l);
	}
	*idp = id;
	*hexp = hex;
	return true;
}

bool
quarantine_release_verify(struct quarantine *q, const char *hdrval,
    const char *message_id, const char *date)
{
	unsigned char	 mac[32], got[32];
	char		*v, *id, *hex;
	bool		 ok = false;

	if (q == NULL || hdrval == NULL || (v = canon(hdrval)) == NULL)
		return false;
	if (parse_hdr(v, &id, &hex, got) &&
	    release_mac(q, id, message_id, date, mac))
		ok = CRYPTO_memcmp(mac, got, sizeof(mac)) == 0;
	free(v);
	return ok;
}

/* ---- release-once markers ---- */

/*
 * "released:" and the SHA-256 of id, the MAC's hex, Message-ID and
 * Date: a copy with another Message-ID or Date never finds the marker.
 */
static bool
mark_key(const char *id, const char *hex, const char *msgid,
    const char *date, char key[sizeof(MARK_PREFIX) + 64])
{
	unsigned char	 md[32];
	unsigned	 mdlen = 0;
	struct sbuf	 sb = { 0 };
	char		*cm, *cd;
	size_t		 i;
	bool		 ok;

	cm = canon(msgid);
	cd = canon(date);
	sbuf_adds(&sb, id);
	sbuf_add(&sb, "\n", 1);
	sbuf_adds(&sb, hex);
	sbuf_add(&sb, "\n", 1);
	sbuf_adds(&sb, cm != NULL ? cm : "");
	sbuf_add(&sb, "\n", 1);
	sbuf_adds(&sb, cd != NULL ? cd : "");
	ok = cm != NULL && cd != NULL && !sb.oom &&
	    EVP_Digest(sb.p, sb.len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32;
	free(cm);
	free(cd);
	free(sb.p);
	if (!ok)
		return false;
	memcpy(key, MARK_PREFIX, sizeof(MARK_PREFIX) - 1);
	for (i = 0; i < 32; i++)
		snprintf(key + sizeof(MARK_PREFIX) - 1 + 2 * i, 3, "%02x",
		    md[i]);
	return true;
}

/* One marker step: +1 (a release), -1 (one that failed), 0 (a pass). */
struct mark_op {
	int		 delta;
	const char	*result;	/* +1: what the release adds */
	time_t		 expires;	/* +1: of a new marker */
	bool		 consume;	/* 0: count down */
	enum quarantine_seen seen;	/* 0: what the marker said */
	char		*result_out;	/* 0: the stored result */
};

/* The value: "COUNT\n" and the stored X-Lurewall-Result, if any. */
static enum lw_err
mark_fn(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct mark_op	*op = arg;
	const char	*res = NULL, *nl;
	long long	 n = 0;
	char		*buf;

	*what = STATE_KEEP;
	if (old != NULL) {
		n = strtoll((const char *)old->data, NULL, 10);
		if ((nl = memchr(old->data, '\n', old->len)) != NULL &&
		    nl[1] != '\0')
			res = nl + 1;
	}
	if (op->delta == 0) {
		op->seen = old == NULL ? QSEEN_NO : n > 0 ? QSEEN_RELEASED :
		    QSEEN_REPLAY;
		free(op->result_out);
		op->result_out = NULL;
		if (res != NULL && (op->result_out = strdup(res)) == NULL)
			return LW_ENOMEM;
		if (n <= 0 || !op->consume)
			return LW_OK;
		n--;
	} else if (op->delta > 0) {
		n++;
		res = op->result;
	} else if (old == NULL || n <= 0)
		return LW_OK;
	else
		n--;
	if (lw_asprintf(&buf, "%lld\n%s", n, res != NULL ? res : "") !=
	    LW_OK)
		return LW_ENOMEM;
	out->data = (unsigned char *)buf;
	out->len = strlen(buf);
	out->expires = old != NULL ? old->expires : op->expires;
	*what = STATE_WRITE;
	return LW_OK;
}

static enum lw_err
mark(struct quarantine *q, const char *key, int delta, const char *result,
    time_t now)
{
	struct mark_op	op;

	memset(&op, 0, sizeof(op));
	op.delta = delta;
	op.result = result;
	op.expires = now + RELEASE_MARK_TTL;
	return state_update(q->st, key, now, mark_fn, &op);
}

/* The result the local item stored (a release made before markers). */
static char *
item_result(struct quarantine *q, const char *id)
{
	struct quarantine_item	*it;
	char			*r = NULL;

	if (quarantine_read(q, id, &it) == LW_OK) {
		if (it->result != NULL)
			r = strdup(it->result);
		quarantine_item_free(it);
	}
	return r;
}

enum quarantine_seen
quarantine_release_seen(struct quarantine *q, const char *hdrval,
    const char *message_id, const char *date, time_t now, bool consume,
    char **result)
{
	unsigned char		 got[32], mac[32];
	char			 key[sizeof(MARK_PREFIX) + 64], *v, *id, *hex;
	struct mark_op		 op;
	enum quarantine_seen	 seen = QSEEN_NO;

	if (result != NULL)
		*result = NULL;
	if (q == NULL || hdrval == NULL || (v = canon(hdrval)) == NULL)
		return QSEEN_NO;
	if (!parse_hdr(v, &id, &hex, got))
		goto out;
	memset(&op, 0, sizeof(op));
	op.consume = consume;
	if (q->st != NULL && mark_key(id, hex, message_id, date, key) &&
	    state_update(q->st, key, now, mark_fn, &op) == LW_OK &&
	    op.seen != QSEEN_NO) {
		seen = op.seen;
		if (result != NULL && seen == QSEEN_RELEASED)
			*result = op.result_out;
		else
			free(op.result_out);
		goto out;
	}
	free(op.result_out);
	/* No marker: the HMAC, as before markers. */
	if (release_mac(q, id, message_id, date, mac) &&
	    CRYPTO_memcmp(mac, got, sizeof(mac)) == 0) {
		seen = QSEEN_RELEASED;
		if (result != NULL)
			*result = item_result(q, id);
	}
out:
	free(v);
	return seen;
}
/*
 * The unfolded value of the first header called name in the header
 * block of raw, or NULL.  Only for our own release: the stored message
 * is what the MTA gave us, so a plain line walk is enough.
 */
static char *
raw_header(const unsigned char *raw, size_t len, const char *name)
{
	const char	*p = (const char *)raw, *end = p + len, *nl, *v;
	size_t		 nlen = strlen(name);
	struct sbuf	 sb = { 0 };
	bool		 in = false;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (p == nl || (nl - p == 1 && *p == '\r'))
			break;				/* end of headers */
		if (*p == ' ' || *p == '\t') {
			if (in)
				sbuf_add(&sb, p, (size_t)(nl - p));
		} else if (in)
			break;
		else if ((size_t)(nl - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			in = true;
			v = p + nlen + 1;
			sbuf_add(&sb, v, (size_t)(nl - v));
			if (sb.p == NULL)
				sbuf_add(&sb, "", 0);
		}
		p = nl + 1;
	}
	if (sb.oom || !in) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}

static void
rfc5322_date(time_t t, char *buf, size_t len)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;

	/* By hand: strftime's %a and %b follow the locale. */
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %d %s %d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * argv for one release from the submit_command template, expanded by
 * config_submit_argv (%f sender, %r recipients, %%), so the daemon's
 * config and a release agree on its meaning.  execv has no PATH: the
 * program must be absolute, and the recipients must be there.
 */
static char **
submit_argv(const char *tmpl, const char *sender, char *const *rcpts,
    size_t nrcpts)
{
	const char	 *p;
	char		**av;
	size_t		  len;
	bool		  have_r = false;

	for (p = tmpl; *p != '\0'; p += len) {
		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len == 2 && p[0] == '%' && p[1] == 'r')
			have_r = true;
	}
	if (!have_r || config_submit_argv(tmpl, sender, rcpts, nrcpts,
	    &av) != LW_OK)
		return NULL;
	if (av[0] == NULL || av[0][0] != '/') {
		config_argv_free(av);
		return NULL;
	}
	return av;
}

/* Feed the message to the submission command; LW_OK on exit status 0. */
static enum lw_err
submit(char **av, const char *hdrs, const unsigned char *raw, size_t len,
    char *err, size_t errlen)
{
	struct sigaction	 ign, old;
	enum lw_err		 e = LW_OK;
	pid_t			 pid;
	int			 p[2], st, saved = 0;

	if (pipe2(p, O_CLOEXEC) == -1) {
		errf(err, errlen, "pipe: %s", strerror(errno));
		return LW_EIO;
	}
	if ((pid = fork()) == -1) {
		errf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return LW_EIO;
	}
	if (pid == 0)
		spawn_exec(av, p[0], SPAWN_KEEP, SPAWN_KEEP);
	close(p[0]);
	/* A command that dies early must not kill us with SIGPIPE. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	if (lw_write_all(p[1], hdrs, strlen(hdrs)) != LW_OK ||
	    lw_write_all(p[1], raw, len) != LW_OK) {
		saved = errno;
		e = LW_EIO;
	}
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			errf(err, errlen, "waitpid: %s", strerror(errno));
			return LW_EIO;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		errf(err, errlen, "%s: could not run (exit 127)", av[0]);
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		errf(err, errlen, "%s exited %d", av[0], WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		errf(err, errlen, "%s killed by signal %d", av[0],
		    WTERMSIG(st));
	else if (e != LW_OK)
		errf(err, errlen, "writing to %s: %s", av[0], strerror(saved));
	else
		return LW_OK;
	return LW_EIO;
}

static enum lw_err
record_release(struct quarantine *q, const char *id,
    const struct quarantine_item *it, const char *who, char *const *to,
    size_t nto, time_t now)
{
	struct sbuf	sb = { 0 };
	size_t		i;

	sbuf_adds(&sb, RELEASED_MAGIC "\n");
	quarantine_meta_printf(&sb, "time %lld\n", (long long)now);
	quarantine_meta_field(&sb, "by", who != NULL ? who : "unknown");
	for (i = 0; i < nto; i++)
		quarantine_meta_field(&sb, "to", to[i]);
	quarantine_meta_printf(&sb, "count %u\n", it->release_count + 1);
	return quarantine_item_replace(q, id, "released", &sb);
}

enum lw_err
quarantine_record_release(struct quarantine *q, const char *id,
    const char *who, char *const *to, size_t nto)
{
	struct quarantine_item	*it;
	enum lw_err		 e;

	if (!quarantine_id_valid(id))
		return LW_EINVAL;
	if ((e = quarantine_read(q, id, &it)) != LW_OK)
		return e;
	e = record_release(q, id, it, who, to, nto, time(NULL));
	quarantine_item_free(it);
	return e;
}

/*
 * Build the release headers, count the marker up, submit; the marker
 * counts down again when the submission failed.
 */
static enum lw_err
submit_copy(struct quarantine *q, const char *id, const unsigned char *raw,
    size_t len, const char *mail_from, char *const *rcpts, size_t nto,
    const char *result, const char *submitcmd, time_t now, char *err,
    size_t errlen)
{
	struct sbuf	  hdrs = { 0 };
	const unsigned char *nl;
	char		**av = NULL, *msgid, *date, *hv = NULL, *hex;
	char		  gen[256], host[128];
	char		  key[sizeof(MARK_PREFIX) + 64];
	const char	 *eol, *cmd;
	bool		  add_msgid = false, add_date = false, marked = false;
	enum lw_err	  e;

	/* Keep the message's own line ending for the lines we add. */
	nl = memchr(raw, '\n', len);
	eol = nl != NULL && nl > raw && nl[-1] == '\r' ? "\r\n" : "\n";
	msgid = raw_header(raw, len, "Message-ID");
	date = raw_header(raw, len, "Date");
	/*
	 * The MTA adds a missing Message-ID or Date on submission, and the
	 * milter would then check the MAC against values we never saw; so
	 * we add them ourselves and MAC those.
	 */
	if (msgid == NULL) {
		if (gethostname(host, sizeof(host)) == -1 ||
		    (host[sizeof(host) - 1] = '\0', !quarantine_id_valid(host)))
			snprintf(host, sizeof(host), "localhost");
		snprintf(gen, sizeof(gen), "<%s.lurewall@%s>", id, host);
		msgid = strdup(gen);
		add_msgid = true;
	}
	if (date == NULL) {
		rfc5322_date(now, gen, sizeof(gen));
		date = strdup(gen);
		add_date = true;
	}
	if (msgid == NULL || date == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	if ((e = quarantine_release_header(q, id, msgid, date, now,
	    &hv)) != LW_OK)
		goto out;
	sbuf_adds(&hdrs, "X-Lurewall-Released: ");
	sbuf_adds(&hdrs, hv);
	sbuf_adds(&hdrs, eol);
	if (add_msgid) {
		sbuf_adds(&hdrs, "Message-ID: ");
		sbuf_adds(&hdrs, msgid);
		sbuf_adds(&hdrs, eol);
	}
	if (add_date) {
		sbuf_adds(&hdrs, "Date: ");
		sbuf_adds(&hdrs, date);
		sbuf_adds(&hdrs, eol);
	}
	/* A delayed scan's result (split PPAP); we wrote it, one line. */
	if (result != NULL && strpbrk(result, "\r\n") != NULL)
		result = NULL;
	if (result != NULL) {
		sbuf_adds(&hdrs, "X-Lurewall-Result: ");
		sbuf_adds(&hdrs, result);
		sbuf_adds(&hdrs, eol);
	}
	if (hdrs.oom) {
		e = LW_ENOMEM;
		goto out;
	}
	cmd = submitcmd != NULL && *submitcmd != '\0' ? submitcmd :
	    CONFIG_DEFAULT_SUBMIT;
	av = submit_argv(cmd, mail_from != NULL ? mail_from : "", rcpts, nto);
	if (av == NULL) {
		errf(err, errlen, "bad submit command (needs an absolute "
		    "path and %%r): %s", cmd);
		e = LW_EINVAL;
		goto out;
	}
	/*
	 * The marker before the copy leaves: the MTA may hand it back to a
	 * milter before the command exits.  A state that fails costs only
	 * the once: the HMAC still recognises the copy.
	 */
	hex = strrchr(hv, ' ');
	if (q->st != NULL && hex != NULL &&
	    mark_key(id, hex + 1, msgid, date, key)) {
		if ((e = mark(q, key, 1, result, now)) == LW_OK)
			marked = true;
		else
			log_warnx("release %s: no release-once marker (%s): "
			    "its copy is recognised by its HMAC only", id,
			    lw_strerror(e));
	}
	if ((e = submit(av, hdrs.p, raw, len, err, errlen)) != LW_OK &&
	    marked)
		(void)mark(q, key, -1, NULL, now);
out:
	config_argv_free(av);
	free(hv);
	free(msgid);
	free(date);
	free(hdrs.p);
	return e;
}

/* Words that would be options to the submit command are refused. */
static enum lw_err
check_envelope(const char *mail_from, char *const *rcpts, size_t nrcpts,
    char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < nrcpts; i++)
		if (rcpts[i][0] == '-' || rcpts[i][0] == '\0') {
			errf(err, errlen, "refusing recipient that starts "
			    "with '-' or is empty");
			return LW_EINVAL;
		}
	if (mail_from != NULL && mail_from[0] == '-') {
		errf(err, errlen, "refusing sender that starts with '-'");
		return LW_EINVAL;
	}
	return LW_OK;
}

enum lw_err
quarantine_submit(struct quarantine *q, const char *id,
    const unsigned char *raw, size_t len, const char *mail_from,
    char *const *rcpts, size_t nrcpts, const char *result,
    const char *submitcmd, char *err, size_t errlen)
{
	enum lw_err	e;

	errf(err, errlen, "%s", "");
	if (!quarantine_id_valid(id)) {
		errf(err, errlen, "invalid id");
		return LW_EINVAL;
	}
	if (nrcpts == 0) {
		errf(err, errlen, "no recipients");
		return LW_EINVAL;
	}
	if ((e = check_envelope(mail_from, rcpts, nrcpts, err, errlen)) !=
	    LW_OK)
		return e;
	return submit_copy(q, id, raw, len, mail_from, rcpts, nrcpts, result,
	    submitcmd, time(NULL), err, errlen);
}

enum lw_err
quarantine_release(struct quarantine *q, const char *id, const char *to,
    const char *submitcmd, bool force, const char *who, char *err,
    size_t errlen)
{
	struct quarantine_item	 *it = NULL;
	unsigned char		 *raw = NULL;
	size_t			  len, nto;
	char			 *const *rcpts;
	char			 *onerc[1];
	time_t			  now = time(NULL);
	enum lw_err		  e;

	errf(err, errlen, "%s", "");
	if (!quarantine_id_valid(id)) {
		errf(err, errlen, "invalid id");
		return LW_EINVAL;
	}
	if ((e = quarantine_read(q, id, &it)) != LW_OK) {
		errf(err, errlen, "%s", lw_strerror(e));
		return e;
	}
	if (it->released && !force) {
		errf(err, errlen, "already released (use --force)");
		e = LW_EEXIST;
		goto out;
	}
	if (to != NULL) {
		onerc[0] = (char *)to;
		rcpts = onerc;
		nto = 1;
	} else {
		rcpts = it->rcpts;
		nto = it->nrcpts;
	}
	if (nto == 0) {
		errf(err, errlen, "no recipients stored (use --to)");
		e = LW_EINVAL;
		goto out;
	}
	if ((e = check_envelope(it->mail_from, rcpts, nto, err, errlen)) !=
	    LW_OK)
		goto out;
	if ((e = quarantine_message(q, id, &raw, &len)) != LW_OK) {
		errf(err, errlen, "message: %s", lw_strerror(e));
		goto out;
	}
	if ((e = submit_copy(q, id, raw, len, it->mail_from, rcpts, nto,
	    it->result, submitcmd, now, err, errlen)) != LW_OK)
		goto out;
	if ((e = record_release(q, id, it, who, rcpts, nto, now)) != LW_OK)
		errf(err, errlen, "released, but recording it failed: %s",
		    e == LW_EIO ? strerror(errno) : lw_strerror(e));
out:
	free(raw);
	quarantine_item_free(it);
	return e;
}
