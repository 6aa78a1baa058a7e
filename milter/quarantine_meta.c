/*
 * quarantine_meta.c: an item's metadata files, written and read.
 *
 * meta and released are "key value" lines after a magic line, values
 * escaped (backslash, CR, LF, TAB and other control bytes as \\ \r \n
 * \t \xHH), so attacker text can never forge a line; bytes >= 0x80 are
 * kept as they came.  The reader takes at most QUARANTINE_META_MAX
 * bytes and refuses any line it cannot parse (LW_EMALFORMED): a file in
 * the store could be damaged or planted (t/fuzz/fuzz_quarantine.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bytes.h"
#include "lurewall.h"
#include "envelope.h"
#include "mime.h"
#include "quarantine.h"
#include "quarantine_int.h"
#include "scan.h"
#include "util.h"
#include "verdict.h"

void quarantine_meta_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

void
quarantine_meta_printf(struct sbuf *sb, const char *fmt, ...)
{
	char	buf[128];
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(buf)) {
		sb->oom = true;		/* only used for short numbers */
		return;
	}
	sbuf_add(sb, buf, (size_t)r);
}

/* Escape a value so it fits on one line with no TAB in it. */
static void
sb_esc(struct sbuf *sb, const char *s)
{
	static const char	hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			 e[4];

	for (; *p != '\0'; p++) {
		if (*p == '\\')
			sbuf_add(sb, "\\\\", 2);
		else if (*p == '\n')
			sbuf_add(sb, "\\n", 2);
		else if (*p == '\r')
			sbuf_add(sb, "\\r", 2);
		else if (*p == '\t')
			sbuf_add(sb, "\\t", 2);
		else if (*p < 0x20 || *p == 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[*p >> 4];
			e[3] = hex[*p & 15];
			sbuf_add(sb, e, 4);
		} else
			sbuf_add(sb, p, 1);
	}
}

void
quarantine_meta_field(struct sbuf *sb, const char *key, const char *val)
{
	if (val == NULL)
		return;
	sbuf_adds(sb, key);
	sbuf_add(sb, " ", 1);
	sb_esc(sb, val);
	sbuf_add(sb, "\n", 1);
}

static const char *
action_name(enum lw_action a)
{
	switch (a) {
	case ACT_ACCEPT:	return "accept";
	case ACT_TAG:		return "tag";
	case ACT_QUARANTINE:	return "quarantine";
	case ACT_REJECT:	return "reject";
	case ACT_TEMPFAIL:	return "tempfail";
	}
	return "unknown";
}

void
quarantine_sha256_hex(const unsigned char *raw, size_t len, char hex[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned	mdlen = 0, i;

	if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		memset(hex, '0', 64);	/* verify will then report it */
		hex[64] = '\0';
		return;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The split PPAP fields of x, as metadata lines. */
void
quarantine_meta_extra(struct sbuf *sb, const struct quarantine_extra *x)
{
	if (x == NULL)
		return;
	quarantine_meta_field(sb, "state", x->state);
	if (x->expires != 0)
		quarantine_meta_printf(sb, "expires %lld\n", (long long)x->expires);
	quarantine_meta_field(sb, "on_timeout", x->on_timeout);
	quarantine_meta_field(sb, "reason", x->reason);
	quarantine_meta_field(sb, "message_id", x->message_id);
	quarantine_meta_field(sb, "result", x->result);
	quarantine_meta_field(sb, "mode", x->mode);
	if (x->mta_hold)
		quarantine_meta_printf(sb, "mta_hold yes\n");
}

/* The verdict's lines: score, action, rules, findings. */
void
quarantine_meta_verdict(struct sbuf *sb, const struct verdict *v)
{
	size_t	i;

	quarantine_meta_printf(sb, "score %d\n", v->score);
	quarantine_meta_field(sb, "action", action_name(v->action));
	quarantine_meta_field(sb, "rules", v->rules);
	for (i = 0; i < v->findings.n; i++) {
		const struct finding *f = &v->findings.v[i];

		sbuf_adds(sb, "finding ");
		sb_esc(sb, f->rule != NULL ? f->rule : "");
		quarantine_meta_printf(sb, "\t%d\t", f->score);
		sb_esc(sb, f->part != NULL ? f->part : "");
		sbuf_add(sb, "\t", 1);
		sb_esc(sb, f->detail != NULL ? f->detail : "");
		sbuf_add(sb, "\n", 1);
	}
}

char *
quarantine_meta_build(const char *id, time_t when, const unsigned char *raw,
    size_t len, const struct envelope *env, const struct scan_result *res,
    const struct quarantine_extra *x)
{
	struct sbuf		 sb = { 0 };
	const struct verdict	*v = res != NULL ? res->verdict : NULL;
	const struct message	*m = res != NULL ? res->msg : NULL;
	char			 hex[65];
	size_t			 i;

	sbuf_adds(&sb, META_MAGIC "\n");
	quarantine_meta_field(&sb, "id", id);
	quarantine_meta_printf(&sb, "time %lld\n", (long long)when);
	if (env != NULL) {
		quarantine_meta_field(&sb, "qid", env->qid);
		quarantine_meta_field(&sb, "client_addr", env->client_addr);
		quarantine_meta_field(&sb, "client_name", env->client_name);
		quarantine_meta_field(&sb, "helo", env->helo);
		quarantine_meta_field(&sb, "mail_from", env->mail_from);
		for (i = 0; i < env->nrcpts; i++)
			quarantine_meta_field(&sb, "rcpt", env->rcpts[i]);
	}
	if (m != NULL) {
		quarantine_meta_field(&sb, "from", m->from.addr);
		quarantine_meta_field(&sb, "from_display", m->from.display);
		quarantine_meta_field(&sb, "subject", m->subject);
	}
	if (v != NULL)
		quarantine_meta_verdict(&sb, v);
	quarantine_meta_printf(&sb, "size %llu\n", (unsigned long long)len);
	quarantine_sha256_hex(raw, len, hex);
	quarantine_meta_field(&sb, "sha256", hex);
	quarantine_meta_extra(&sb, x);
	if (sb.oom) {
		free(sb.p);
		return NULL;
	}
	return sb.p;
}

/* ---- reading metadata ---- */

/* Undo sb_esc on s[0..n); NULL on a bad escape, a NUL, or ENOMEM. */
static char *
unesc(const char *s, size_t n, bool *oom)
{
	char	*out, *o;
	size_t	 i;
	int	 h, l;

	if ((out = malloc(n + 1)) == NULL) {
		*oom = true;
		return NULL;
	}
	o = out;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || s[i] == '\t')
			goto bad;
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i == n)
			goto bad;
		switch (s[i]) {
		case '\\':	*o++ = '\\'; break;
		case 'n':	*o++ = '\n'; break;
		case 'r':	*o++ = '\r'; break;
		case 't':	*o++ = '\t'; break;
		case 'x':
			if (n - i < 3 || (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0 || (h == 0 && l == 0))
				goto bad;
			*o++ = (char)(h << 4 | l);
			i += 2;
			break;
		default:
			goto bad;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static bool
parse_ll(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
str_push(char ***v, size_t *n, char *s)
{
	char	**nv;

	if ((nv = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return false;
	nv[(*n)++] = s;
	*v = nv;
	return true;
}

/* Take a string field (*val becomes NULL) once; a duplicate is damage. */
static enum lw_err
set_once(char **field, char **val)
{
	if (*field != NULL)
		return LW_EMALFORMED;
	*field = *val;
	*val = NULL;
	return LW_OK;
}

/* Push *val onto a string vector, taking it. */
static enum lw_err
push(char ***v, size_t *n, char **val)
{
	if (!str_push(v, n, *val))
		return LW_ENOMEM;
	*val = NULL;
	return LW_OK;
}

/* A number key: a duplicate (dup) or a value outside [min, max] is damage. */
static enum lw_err
num_key(const char *val, long long min, long long max, bool dup,
    long long *n)
{
	return !dup && parse_ll(val, min, max, n) ? LW_OK : LW_EMALFORMED;
}

/* "finding RULE\tSCORE\tPART\tDETAIL": takes f[0], f[2] and f[3]. */
static enum lw_err
parse_finding(struct quarantine_item *it, char **f, size_t nf)
{
	struct quarantine_finding	*v;
	long long			 sc;

	if (nf != 4 || !parse_ll(f[1], INT_MIN, INT_MAX, &sc))
		return LW_EMALFORMED;
	if ((v = reallocarray(it->findings, it->nfindings + 1,
	    sizeof(*v))) == NULL)
		return LW_ENOMEM;
	it->findings = v;
	v[it->nfindings++] = (struct quarantine_finding){ .rule = f[0],
	    .score = (int)sc, .part = f[2], .detail = f[3] };
	f[0] = f[2] = f[3] = NULL;
	return LW_OK;
}

#define KEY(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)

/* A line of the metadata: f[0..nf-1] its value's fields. */
static enum lw_err
meta_line(struct quarantine_item *it, const char *key, size_t klen,
    char **f, size_t nf, unsigned *seen)
{
	const char	*val = f[0];
	long long	 n;
	enum lw_err	 e = LW_OK;
	size_t		 i;

	if (KEY("finding"))
		return parse_finding(it, f, nf);
	if (nf != 1)
		return LW_EMALFORMED;
	if (KEY("id")) {
		if ((*seen & 1) || !quarantine_id_valid(val))
			e = LW_EMALFORMED;
		else
			memcpy(it->id, val, strlen(val) + 1);
		*seen |= 1;
	} else if (KEY("time")) {
		if ((e = num_key(val, 0, INT64_MAX, *seen & 2, &n)) == LW_OK)
			it->time = (time_t)n;
		*seen |= 2;
	} else if (KEY("size")) {
		if ((e = num_key(val, 0, INT64_MAX, *seen & 4, &n)) == LW_OK)
			it->size = (uint64_t)n;
		*seen |= 4;
	} else if (KEY("sha256")) {
		for (i = 0; val[i] != '\0'; i++)
			if (hexval((unsigned char)val[i]) < 0 ||
			    (val[i] >= 'A' && val[i] <= 'F'))
				break;
		if ((*seen & 8) || i != 64 || val[i] != '\0')
			e = LW_EMALFORMED;
		else
			memcpy(it->sha256, val, 65);
		*seen |= 8;
	} else if (KEY("score")) {
		if ((e = num_key(val, INT_MIN, INT_MAX, *seen & 16, &n)) ==
		    LW_OK)
			it->score = (int)n;
		*seen |= 16;
	} else if (KEY("rcpt"))
		e = push(&it->rcpts, &it->nrcpts, &f[0]);
	else if (KEY("qid"))
		e = set_once(&it->qid, &f[0]);
	else if (KEY("client_addr"))
		e = set_once(&it->client_addr, &f[0]);
	else if (KEY("client_name"))
		e = set_once(&it->client_name, &f[0]);
	else if (KEY("helo"))
		e = set_once(&it->helo, &f[0]);
	else if (KEY("mail_from"))
		e = set_once(&it->mail_from, &f[0]);
	else if (KEY("from"))
		e = set_once(&it->from, &f[0]);
	else if (KEY("from_display"))
		e = set_once(&it->from_display, &f[0]);
	else if (KEY("subject"))
		e = set_once(&it->subject, &f[0]);
	else if (KEY("action"))
		e = set_once(&it->action, &f[0]);
	else if (KEY("rules"))
		e = set_once(&it->rules, &f[0]);
	else if (KEY("state"))
		e = set_once(&it->state, &f[0]);
	else if (KEY("on_timeout"))
		e = set_once(&it->on_timeout, &f[0]);
	else if (KEY("reason"))
		e = set_once(&it->reason, &f[0]);
	else if (KEY("message_id"))
		e = set_once(&it->message_id, &f[0]);
	else if (KEY("result"))
		e = set_once(&it->result, &f[0]);
	else if (KEY("mode"))
		e = set_once(&it->mode, &f[0]);
	else if (KEY("mta_hold"))
		it->mta_hold = strcmp(val, "yes") == 0;
	else if (KEY("expires")) {
		if ((e = num_key(val, 1, INT64_MAX, it->expires != 0, &n)) ==
		    LW_OK)
			it->expires = (time_t)n;
	}
	/* else a newer writer's key: keep going */
	return e;
}

/* A line of a release record, as meta_line. */
static enum lw_err
released_line(struct quarantine_item *it, const char *key, size_t klen,
    char **f, size_t nf, unsigned *seen)
{
	long long	n;
	enum lw_err	e = LW_OK;

	if (nf != 1)
		return LW_EMALFORMED;
	if (KEY("time")) {
		if ((e = num_key(f[0], 0, INT64_MAX, false, &n)) == LW_OK)
			it->released_time = (time_t)n;
		*seen |= 1;
	} else if (KEY("count")) {
		if ((e = num_key(f[0], 1, UINT_MAX, false, &n)) == LW_OK)
			it->release_count = (unsigned)n;
	} else if (KEY("by")) {
		free(it->released_by);
		it->released_by = f[0];
		f[0] = NULL;
	} else if (KEY("to"))
		e = push(&it->released_to, &it->nreleased_to, &f[0]);
	return e;
}
#undef KEY

#define FIELDS_MAX	4	/* a finding's */

typedef enum lw_err (*line_fn)(struct quarantine_item *, const char *,
    size_t, char **, size_t, unsigned *);

/*
 * The value v..end of a line: up to FIELDS_MAX tab-separated escaped
 * fields, unescaped into f[0..*nf-1]; on an error none are kept.
 */
static enum lw_err
unesc_fields(const char *v, const char *end, char **f, size_t *nf)
{
	const char	*tab;
	bool		 oom = false;

	for (*nf = 0; *nf < FIELDS_MAX; v = tab + 1) {
		if ((tab = memchr(v, '\t', (size_t)(end - v))) == NULL)
			tab = end;
		if ((f[*nf] = unesc(v, (size_t)(tab - v), &oom)) == NULL)
			break;
		if (++*nf, tab == end)
			return LW_OK;
	}
	while (*nf > 0)
		free(f[--*nf]);
	return oom ? LW_ENOMEM : LW_EMALFORMED;
}

/*
 * Split buf into "key value" lines after the magic line; fn gets each
 * value's fields and may take them (setting them NULL), the rest are
 * freed here.
 */
static enum lw_err
parse_lines(const char *buf, size_t len, const char *magic,
    struct quarantine_item *it, line_fn fn, unsigned *seen)
{
	const char	*p = buf, *end = buf + len, *nl, *sp;
	size_t		 mlen = strlen(magic), nf;
	char		*f[FIELDS_MAX];
	enum lw_err	 e;

	if (len < mlen + 1 || memcmp(buf, magic, mlen) != 0 ||
	    buf[mlen] != '\n')
		return LW_EMALFORMED;
	p += mlen + 1;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return LW_EMALFORMED;	/* torn last line */
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL ||
		    sp == p)
			return LW_EMALFORMED;
		if ((e = unesc_fields(sp + 1, nl, f, &nf)) != LW_OK)
			return e;
		e = fn(it, p, (size_t)(sp - p), f, nf, seen);
		while (nf > 0)
			free(f[--nf]);
		if (e != LW_OK)
			return e;
		p = nl + 1;
	}
	return LW_OK;
}

void
quarantine_item_free(struct quarantine_item *it)
{
	size_t	i;

	if (it == NULL)
		return;
	lw_strv_free(it->rcpts, it->nrcpts);
	lw_strv_free(it->released_to, it->nreleased_to);
	for (i = 0; i < it->nfindings; i++)
		FREE_ALL(it->findings[i].rule, it->findings[i].part,
		    it->findings[i].detail);
	FREE_ALL(it->qid, it->client_addr, it->client_name, it->helo,
	    it->mail_from, it->from, it->from_display, it->subject,
	    it->action, it->rules, it->findings, it->released_by, it->state,
	    it->on_timeout, it->reason, it->message_id, it->mode, it->result,
	    it->host);
	free(it);
}

enum lw_err
quarantine_meta_parse(const char *buf, size_t len,
    struct quarantine_item **out)
{
	struct quarantine_item	*it;
	unsigned		 seen = 0;
	enum lw_err		 e;

	*out = NULL;
	if (len > QUARANTINE_META_MAX)
		return LW_EMALFORMED;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return LW_ENOMEM;
	e = parse_lines(buf, len, META_MAGIC, it, meta_line, &seen);
	if (e == LW_OK && (seen & 15) != 15)	/* id time size sha256 */
		e = LW_EMALFORMED;
	if (e != LW_OK) {
		quarantine_item_free(it);
		return e;
	}
	*out = it;
	return LW_OK;
}

enum lw_err
quarantine_released_parse(const char *buf, size_t len,
    struct quarantine_item *it)
{
	unsigned	seen = 0;
	enum lw_err	e;

	e = parse_lines(buf, len, RELEASED_MAGIC, it, released_line, &seen);
	if (e == LW_OK && !(seen & 1))
		e = LW_EMALFORMED;
	return e;
}
