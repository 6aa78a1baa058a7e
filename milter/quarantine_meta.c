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

/* Set a string field once; a duplicate key is damage. */
static enum lw_err
set_once(char **field, char *val)
{
	if (*field != NULL) {
		free(val);
		return LW_EMALFORMED;
	}
	*field = val;
	return LW_OK;
}

static enum lw_err
parse_finding(struct quarantine_item *it, const char *v, size_t n)
{
	struct quarantine_finding	*nf, f = { 0 };
	const char			*fld[4], *p, *end = v + n;
	size_t				 fl[4], k = 0;
	long long			 sc;
	char				*num;
	bool				 oom = false;

	fld[0] = v;
	for (p = v; p < end && k < 4; p++)
		if (*p == '\t') {
			fl[k] = (size_t)(p - fld[k]);
			if (++k == 4)
				return LW_EMALFORMED;
			fld[k] = p + 1;
		}
	if (k != 3)
		return LW_EMALFORMED;
	fl[3] = (size_t)(end - fld[3]);
	f.rule = unesc(fld[0], fl[0], &oom);
	num = unesc(fld[1], fl[1], &oom);
	f.part = unesc(fld[2], fl[2], &oom);
	f.detail = unesc(fld[3], fl[3], &oom);
	if (f.rule == NULL || num == NULL || f.part == NULL ||
	    f.detail == NULL || !parse_ll(num, INT_MIN, INT_MAX, &sc) ||
	    (nf = reallocarray(it->findings, it->nfindings + 1,
	    sizeof(*nf))) == NULL) {
		free(f.rule);
		free(num);
		free(f.part);
		free(f.detail);
		return oom ? LW_ENOMEM : LW_EMALFORMED;
	}
	free(num);
	f.score = (int)sc;
	it->findings = nf;
	it->findings[it->nfindings++] = f;
	return LW_OK;
}

static enum lw_err
meta_line(struct quarantine_item *it, const char *key, size_t klen,
    const char *v, size_t vlen, unsigned *seen)
{
	char		*val;
	long long	 n;
	bool		 oom = false;
	enum lw_err	 e = LW_OK;
	size_t		 i;

#define KEY(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
	if (KEY("finding"))
		return parse_finding(it, v, vlen);
	if ((val = unesc(v, vlen, &oom)) == NULL)
		return oom ? LW_ENOMEM : LW_EMALFORMED;
	if (KEY("id")) {
		if ((*seen & 1) || !quarantine_id_valid(val))
			e = LW_EMALFORMED;
		else
			memcpy(it->id, val, strlen(val) + 1);
		*seen |= 1;
		free(val);
	} else if (KEY("time")) {
		if ((*seen & 2) || !parse_ll(val, 0, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->time = (time_t)n;
		*seen |= 2;
		free(val);
	} else if (KEY("size")) {
		if ((*seen & 4) || !parse_ll(val, 0, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->size = (uint64_t)n;
		*seen |= 4;
		free(val);
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
		free(val);
	} else if (KEY("score")) {
		if ((*seen & 16) || !parse_ll(val, INT_MIN, INT_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->score = (int)n;
		*seen |= 16;
		free(val);
	} else if (KEY("rcpt")) {
		if (!str_push(&it->rcpts, &it->nrcpts, val)) {
			free(val);
			e = LW_ENOMEM;
		}
	} else if (KEY("qid"))
		e = set_once(&it->qid, val);
	else if (KEY("client_addr"))
		e = set_once(&it->client_addr, val);
	else if (KEY("client_name"))
		e = set_once(&it->client_name, val);
	else if (KEY("helo"))
		e = set_once(&it->helo, val);
	else if (KEY("mail_from"))
		e = set_once(&it->mail_from, val);
	else if (KEY("from"))
		e = set_once(&it->from, val);
	else if (KEY("from_display"))
		e = set_once(&it->from_display, val);
	else if (KEY("subject"))
		e = set_once(&it->subject, val);
	else if (KEY("action"))
		e = set_once(&it->action, val);
	else if (KEY("rules"))
		e = set_once(&it->rules, val);
	else if (KEY("state"))
		e = set_once(&it->state, val);
	else if (KEY("on_timeout"))
		e = set_once(&it->on_timeout, val);
	else if (KEY("reason"))
		e = set_once(&it->reason, val);
	else if (KEY("message_id"))
		e = set_once(&it->message_id, val);
	else if (KEY("result"))
		e = set_once(&it->result, val);
	else if (KEY("mode"))
		e = set_once(&it->mode, val);
	else if (KEY("mta_hold")) {
		it->mta_hold = strcmp(val, "yes") == 0;
		free(val);
	}
	else if (KEY("expires")) {
		if (it->expires != 0 || !parse_ll(val, 1, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->expires = (time_t)n;
		free(val);
	} else
		free(val);	/* a newer writer's key: keep going */
#undef KEY
	return e;
}

static enum lw_err
released_line(struct quarantine_item *it, const char *key, size_t klen,
    const char *v, size_t vlen, unsigned *seen)
{
	char		*val;
	long long	 n;
	bool		 oom = false;
	enum lw_err	 e = LW_OK;

#define KEY(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
	if ((val = unesc(v, vlen, &oom)) == NULL)
		return oom ? LW_ENOMEM : LW_EMALFORMED;
	if (KEY("time")) {
		if (!parse_ll(val, 0, INT64_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->released_time = (time_t)n;
		*seen |= 1;
		free(val);
	} else if (KEY("count")) {
		if (!parse_ll(val, 1, UINT_MAX, &n))
			e = LW_EMALFORMED;
		else
			it->release_count = (unsigned)n;
		free(val);
	} else if (KEY("by")) {
		free(it->released_by);
		it->released_by = val;
	} else if (KEY("to")) {
		if (!str_push(&it->released_to, &it->nreleased_to, val)) {
			free(val);
			e = LW_ENOMEM;
		}
	} else
		free(val);
#undef KEY
	return e;
}

typedef enum lw_err (*line_fn)(struct quarantine_item *, const char *,
    size_t, const char *, size_t, unsigned *);

/* Split buf into "key value" lines after the magic line. */
static enum lw_err
parse_lines(const char *buf, size_t len, const char *magic,
    struct quarantine_item *it, line_fn fn, unsigned *seen)
{
	const char	*p = buf, *end = buf + len, *nl, *sp;
	size_t		 mlen = strlen(magic);
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
		e = fn(it, p, (size_t)(sp - p), sp + 1, (size_t)(nl - sp - 1),
		    seen);
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
