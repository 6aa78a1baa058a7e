/*
 * policy_apply.c: the keys of one policy file, read, checked and merged
 * into a policy (policy_apply); policy_yaml.c loads the files.
 *
 * Maps (thresholds, scores, tag, quarantine) merge key by key, lists
 * and scalars replace.  The people keys are read by policy_people.c.
 *
 * Errors name file, line, column and key path; every key is checked
 * even after one failed.  Bounds: custom rules per policy, pattern
 * length.  Custom rule patterns are compiled here once, shared
 * read-only by the milter threads (each match brings its own match
 * data: rules_custom.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duration.h"
#include "policy.h"
#include "policy_int.h"
#include "rules.h"
#include "rules_custom.h"
#include "yamlutil.h"

#define POLICY_MAX_RULES	1000
#define PATTERN_MAX		4096
#define RULENAME_MAX		64
#define SCORE_MIN		(-10000)
#define SCORE_MAX		10000
#define THRESHOLD_MAX		1000000
#define OUTBOUND_WINDOW_MAX	(7 * 24 * 3600)	/* seconds */
#define OUTBOUND_COUNT_MAX	100000

static const char *const policy_keys[] = {
	"domains", "thresholds", "scores", "tag", "reject_text", "quarantine",
	"macro_senders", "internal_domains", "staff_names",
	"staff_names_file", "correspondents", "correspondents_file",
	"reply_prefixes", "trusted_senders", "trusted_template_hosts",
	"rules",
	"outbound", "split_password", "language", "mode", "allow", "notify",
	NULL
};

const char *const policy_lang_names[LANG_N + 1] = { "en", "ja", NULL };
const char *const policy_then_names[] = { "discard", "reject", "hold",
    NULL };
const char *const policy_timeout_names[] = { "release-tagged", "keep",
    "release", NULL };
const char *const policy_action_names[] = { "quarantine", "tempfail",
    NULL };
const char *const policy_mode_names[] = { "enforce", "observe", NULL };

/* Validation of single values */

/* Lowercase a domain in place; false when it is not a domain name. */
bool
policy_domain_norm(char *s)
{
	size_t	len;
	char	*c;

	if (*s == '@')
		memmove(s, s + 1, strlen(s));
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0 || len > 253 || s[0] == '.' || strstr(s, "..") != NULL)
		return false;
	for (c = s; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
		else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' &&
		    *c <= '9') || *c == '-' || *c == '.' || *c == '_' ||
		    (unsigned char)*c >= 0x80))
			return false;
	}
	return true;
}

/* "user@domain" or "@domain", lowercased in place. */
static bool
addr_norm(char *s)
{
	char	*at;

	if ((at = strrchr(s, '@')) == NULL || strpbrk(s, " \t\r\n<>") != NULL)
		return false;
	if (!policy_domain_norm(at + 1) || at[1] == '\0')
		return false;
	lw_strlower(s);
	return true;
}

/* A list of domains (or of addresses when addrs). */
enum lw_err
policy_get_list(const struct ydoc *d, const struct ynode *n,
    const char *path, int kind, char ***out, size_t *nout,
    struct loadctx *lc)
{
	char		**v, p[128];
	size_t		  nv, i;
	enum lw_err	  e;

	if ((e = y_strlist(d, n, path, &v, &nv, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	for (i = 0; i < nv; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (kind == 'd' && !policy_domain_norm(v[i]))
			e = yerr(d, n->v[i], p, lc->err, lc->errlen,
			    "not a domain name");
		else if (kind == 'a' && !addr_norm(v[i]))
			e = yerr(d, n->v[i], p, lc->err, lc->errlen,
			    "expected user@domain or @domain");
		else if (kind == 's' && *v[i] == '\0')
			e = yerr(d, n->v[i], p, lc->err, lc->errlen,
			    "must not be empty");
		if (e != LW_OK) {
			lw_strv_free(v, nv);
			return e;
		}
	}
	*out = v;
	*nout = nv;
	return LW_OK;
}

/* Applying one file's keys */

static enum lw_err
apply_thresholds(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	static const char *const keys[] = { "tag", "quarantine", "reject",
	    NULL };
	int		*slot[3] = { &p->th_tag, &p->th_quarantine,
	    &p->th_reject };
	char		 path[64];
	long long	 v;
	size_t		 i;
	enum lw_err	 e, r = LW_OK;

	if ((e = y_map(d, n, "thresholds", keys, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	for (i = 0; keys[i] != NULL; i++) {
		if (y_get(n, keys[i]) == NULL)
			continue;
		snprintf(path, sizeof(path), "thresholds.%s", keys[i]);
		if ((e = y_int(d, y_get(n, keys[i]), path, 1, THRESHOLD_MAX,
		    &v, lc->err, lc->errlen)) != LW_OK) {
			r = e;		/* the next key has its say too */
			continue;
		}
		*slot[i] = (int)v;
	}
	if (r != LW_OK)
		return r;
	if (p->th_tag > p->th_quarantine || p->th_quarantine > p->th_reject)
		return yerr(d, n, "thresholds", lc->err, lc->errlen,
		    "need tag <= quarantine <= reject, have %d, %d, %d "
		    "(with inherited values)", p->th_tag, p->th_quarantine,
		    p->th_reject);
	return LW_OK;
}

/* One subject prefix: NULL for ~ or "", no control characters. */
static enum lw_err
get_prefix(const struct ydoc *d, const struct ynode *v, const char *path,
    char **out, struct loadctx *lc)
{
	char		*s = NULL;
	const char	*c;
	enum lw_err	 e;

	if (!y_isnull(v) && (e = y_string(d, v, path, &s, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	for (c = s; c != NULL && *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			free(s);
			return yerr(d, v, path, lc->err, lc->errlen,
			    "control characters are not allowed");
		}
	if (s != NULL && *s == '\0') {
		free(s);
		s = NULL;
	}
	*out = s;
	return LW_OK;
}

/*
 * The prefix of the policy's language: set again whenever tag: or
 * language: changes one of the two.
 */
static enum lw_err
resolve_language(struct policy *p)
{
	const char	*s = p->prefixes[p->language];

	free(p->subject_prefix);
	p->subject_prefix = NULL;
	if (s != NULL && (p->subject_prefix = strdup(s)) == NULL)
		return LW_ENOMEM;
	return LW_OK;
}

/*
 * tag.subject_prefix: one text for every language, or a map by
 * language ({en: "[SUSPICIOUS]", ja: "[要注意]"}) merged key by key;
 * the policy's language picks one (resolve_language).
 */
static enum lw_err
apply_tag(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	static const char *const keys[] = { "subject_prefix", "headers",
	    "always_header", NULL };
	const struct ynode	*v, *l;
	char			*s, path[64];
	size_t			 i;
	enum lw_err		 e;

	if ((e = y_map(d, n, "tag", keys, lc->err, lc->errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "subject_prefix")) != NULL &&
	    v->kind == YNODE_MAP) {
		if ((e = y_map(d, v, "tag.subject_prefix", policy_lang_names,
		    lc->err, lc->errlen)) != LW_OK)
			return e;
		for (i = 0; i < LANG_N; i++) {
			if ((l = y_get(v, policy_lang_names[i])) == NULL)
				continue;
			snprintf(path, sizeof(path), "tag.subject_prefix.%s",
			    policy_lang_names[i]);
			if ((e = get_prefix(d, l, path, &s, lc)) != LW_OK)
				return e;
			free(p->prefixes[i]);
			p->prefixes[i] = s;
		}
	} else if (v != NULL) {
		if ((e = get_prefix(d, v, "tag.subject_prefix", &s, lc)) !=
		    LW_OK)
			return e;
		for (i = 0; i < LANG_N; i++) {
			free(p->prefixes[i]);
			p->prefixes[i] = NULL;
			if (s != NULL && (p->prefixes[i] = strdup(s)) == NULL) {
				free(s);
				return LW_ENOMEM;
			}
		}
		free(s);
	}
	if (v != NULL && (e = resolve_language(p)) != LW_OK)
		return e;
	if ((v = y_get(n, "always_header")) != NULL &&
	    (e = y_bool(d, v, "tag.always_header", &p->always_header,
	    lc->err, lc->errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "headers")) != NULL)
		return y_bool(d, v, "tag.headers", &p->tag_headers, lc->err,
		    lc->errlen);
	return LW_OK;
}

static enum lw_err
apply_mode(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	int		 i;
	enum lw_err	 e;

	if ((e = y_choice(d, n, "mode", policy_mode_names, &i, lc->err,
	    lc->errlen)) == LW_OK)
		p->mode = (enum policy_mode)i;
	return e;
}

/* An address for notify.admin / notify.from: user@domain, or ~. */
static enum lw_err
get_notify_addr(const struct ydoc *d, const struct ynode *v, const char *path,
    char **out, struct loadctx *lc)
{
	char		*s = NULL, *at;
	size_t		 i;
	enum lw_err	 e;

	if (!y_isnull(v)) {
		if ((e = y_string(d, v, path, &s, lc->err, lc->errlen)) !=
		    LW_OK)
			return e;
		at = strrchr(s, '@');
		for (i = 0; s[i] != '\0'; i++)
			if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f ||
			    strchr("<>\"(),;:\\", s[i]) != NULL)
				break;
		if (at == NULL || at == s || at[1] == '\0' ||
		    s[i] != '\0') {
			free(s);
			return yerr(d, v, path, lc->err, lc->errlen,
			    "expected user@domain");
		}
	}
	free(*out);
	*out = s;
	return LW_OK;
}

/* notify: who hears of a quarantined message (issue 19). */
static enum lw_err
apply_notify(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	static const char *const keys[] = { "recipients", "digest", "admin",
	    "from", NULL };
	const struct ynode	*v;
	enum lw_err		 e;

	if ((e = y_map(d, n, "notify", keys, lc->err, lc->errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "recipients")) != NULL &&
	    (e = y_bool(d, v, "notify.recipients", &p->notify.recipients,
	    lc->err, lc->errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "digest")) != NULL &&
	    (e = y_bool(d, v, "notify.digest", &p->notify.digest, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "admin")) != NULL &&
	    (e = get_notify_addr(d, v, "notify.admin", &p->notify.admin,
	    lc)) != LW_OK)
		return e;
	if ((v = y_get(n, "from")) != NULL &&
	    (e = get_notify_addr(d, v, "notify.from", &p->notify.from,
	    lc)) != LW_OK)
		return e;
	if ((p->notify.recipients || p->notify.digest ||
	    p->notify.admin != NULL) && p->notify.from == NULL)
		return yerr(d, n, "notify.from", lc->err, lc->errlen,
		    "missing: notices need a From: address "
		    "(e.g. postmaster@your.domain)");
	return LW_OK;
}

static enum lw_err
apply_language(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	int		 i;
	enum lw_err	 e;

	if ((e = y_choice(d, n, "language", policy_lang_names, &i, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	p->language = (enum policy_lang)i;
	return resolve_language(p);
}

static enum lw_err
apply_reject_text(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	char		*s;
	size_t		 i;
	enum lw_err	 e;

	if ((e = y_string(d, n, "reject_text", &s, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	/* It goes into an SMTP reply line: printable ASCII only. */
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			e = yerr(d, n, "reject_text", lc->err, lc->errlen,
			    "CR and LF are not allowed (one reply line)");
		else if ((unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e)
			e = yerr(d, n, "reject_text", lc->err, lc->errlen,
			    "only printable ASCII is allowed (byte %zu is "
			    "0x%02x)", i + 1, (unsigned char)s[i]);
		else if (s[i] == '%' && s[i + 1] != '%')
			e = yerr(d, n, "reject_text", lc->err, lc->errlen,
			    "write %% as %%%% (libmilter formats the text)");
		else if (s[i] == '%')
			i++;
		if (e != LW_OK)
			break;
	}
	if (e == LW_OK && (i == 0 || i > 400))
		e = yerr(d, n, "reject_text", lc->err, lc->errlen,
		    "must be 1 to 400 characters");
	if (e != LW_OK) {
		free(s);
		return e;
	}
	free(p->reject_text);
	p->reject_text = s;
	return LW_OK;
}

static enum lw_err
apply_quarantine(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	static const char *const keys[] = { "then", NULL };
	const struct ynode	*v;
	int			 i;
	enum lw_err		 e;

	if ((e = y_map(d, n, "quarantine", keys, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	if ((v = y_get(n, "then")) == NULL)
		return LW_OK;
	if ((e = y_choice(d, v, "quarantine.then", policy_then_names, &i,
	    lc->err, lc->errlen)) == LW_OK)
		p->quarantine_then = (enum quarantine_then)i;
	return e;
}

/* "90", "90s", "30m", "2h", "1d" -> seconds; -1 when malformed. */
static long long
duration(const char *s)
{
	long long	 v = 0, mul = 1;
	const char	*p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > SPLIT_WAIT_MAX)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
	case 's':	mul = 1; break;
	case 'm':	mul = 60; break;
	case 'h':	mul = 3600; break;
	case 'd':	mul = 86400; break;
	default:	return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (v > SPLIT_WAIT_MAX / mul)
		return -1;
	return v * mul;
}

/*
 * split_password: {wait: 30m, on_timeout: release-tagged|keep|release}.
 * Present enables it (wait 30m unless set); merges key by key like the
 * other maps; wait 0 turns an inherited one off.
 */
static enum lw_err
apply_split_password(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	static const char *const keys[] = { "wait", "on_timeout", NULL };
	const struct ynode	*v;
	long long		 secs;
	char			*s;
	int			 i;
	enum lw_err		 e;

	if (y_isnull(n)) {
		if (p->split_wait == 0)
			p->split_wait = SPLIT_WAIT_DEFAULT;
		return LW_OK;
	}
	if ((e = y_map(d, n, "split_password", keys, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	if (p->split_wait == 0)
		p->split_wait = SPLIT_WAIT_DEFAULT;
	if ((v = y_get(n, "wait")) != NULL) {
		if ((e = y_string(d, v, "split_password.wait", &s, lc->err,
		    lc->errlen)) != LW_OK)
			return e;
		secs = duration(s);
		free(s);
		if (secs < 0)
			return yerr(d, v, "split_password.wait", lc->err,
			    lc->errlen, "expected a duration like 90s, 30m, "
			    "2h or 1d (at most 30d; 0 turns it off)");
		p->split_wait = (unsigned)secs;
	}
	if ((v = y_get(n, "on_timeout")) == NULL)
		return LW_OK;
	if ((e = y_choice(d, v, "split_password.on_timeout",
	    policy_timeout_names, &i, lc->err, lc->errlen)) == LW_OK)
		p->split_on_timeout = (enum split_timeout)i;
	return e;
}

/* "90", "90s", "10m", "2h", "1d" -> seconds in [1, OUTBOUND_WINDOW_MAX]. */
static enum lw_err
get_duration(const struct ydoc *d, const struct ynode *v, const char *path,
    unsigned *out, struct loadctx *lc)
{
	uint64_t	 ms;

	if (v->kind != YNODE_SCALAR || !v->plain || strlen(v->str) != v->len ||
	    !duration_parse(v->str, DURATION_SEC, UINT64_MAX, &ms) ||
	    ms % 1000 != 0)
		return yerr(d, v, path, lc->err, lc->errlen,
		    "expected a duration like 600, 90s, 10m, 2h or 1d");
	if (ms == 0 || ms / 1000 > OUTBOUND_WINDOW_MAX)
		return yerr(d, v, path, lc->err, lc->errlen,
		    "must be 1s to 7d");
	*out = (unsigned)(ms / 1000);
	return LW_OK;
}

static enum lw_err
apply_outbound(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	static const char *const keys[] = { "window", "max_lures",
	    "max_new_rcpts", "action", NULL };
	const struct ynode	*v;
	long long		 ll;
	int			 i;
	enum lw_err		 e;

	if ((e = y_map(d, n, "outbound", keys, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	if ((v = y_get(n, "window")) != NULL &&
	    (e = get_duration(d, v, "outbound.window", &p->outbound.window,
	    lc)) != LW_OK)
		return e;
	if ((v = y_get(n, "max_lures")) != NULL) {
		if ((e = y_int(d, v, "outbound.max_lures", 0,
		    OUTBOUND_COUNT_MAX, &ll, lc->err, lc->errlen)) != LW_OK)
			return e;
		p->outbound.max_lures = (unsigned)ll;
	}
	if ((v = y_get(n, "max_new_rcpts")) != NULL) {
		if ((e = y_int(d, v, "outbound.max_new_rcpts", 0,
		    OUTBOUND_COUNT_MAX, &ll, lc->err, lc->errlen)) != LW_OK)
			return e;
		p->outbound.max_new_rcpts = (unsigned)ll;
	}
	if ((v = y_get(n, "action")) == NULL)
		return LW_OK;
	/*
	 * "hold" was this action's name until quarantine.then: hold (the
	 * MTA's hold queue) made it mean two things; read for one release.
	 */
	if (v->kind == YNODE_SCALAR && strlen(v->str) == v->len &&
	    strcmp(v->str, "hold") == 0) {
		ywarn_renamed(d, v, "outbound.action: hold",
		    "outbound.action: quarantine");
		p->outbound.action = OUTBOUND_QUARANTINE;
		return LW_OK;
	}
	if ((e = y_choice(d, v, "outbound.action", policy_action_names, &i,
	    lc->err, lc->errlen)) == LW_OK)
		p->outbound.action = (enum outbound_action)i;
	return e;
}

/* Replace a list field when the file sets it. */
static enum lw_err
apply_list(const struct ydoc *d, const struct ynode *root, const char *key,
    int kind, char ***field, size_t *nfield, struct loadctx *lc)
{
	const struct ynode	*n;
	char			**v;
	size_t			  nv;
	enum lw_err		  e;

	if ((n = y_get(root, key)) == NULL)
		return LW_OK;
	if ((e = policy_get_list(d, n, key, kind, &v, &nv, lc)) != LW_OK)
		return e;
	lw_strv_free(*field, *nfield);
	*field = v;
	*nfield = nv;
	return LW_OK;
}

static bool
rulename_ok(const char *s)
{
	size_t	i;

	if (*s < 'A' || *s > 'Z')
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return i <= RULENAME_MAX;
}

static bool
fieldname_ok(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ':')
			return false;
	return i > 0 && i <= 76;
}

static enum lw_err
rule_from_yaml(const struct ydoc *d, const struct ynode *n,
    const char *path, struct custom_rule *r, struct loadctx *lc)
{
	static const char *const keys[] = { "name", "where", "pattern",
	    "score", "caseless", NULL };
	static const struct {
		const char	*name;
		enum rule_where	 where;
	} wheres[] = {
		{ "subject", WHERE_SUBJECT },
		{ "from_name", WHERE_FROM_NAME },
		{ "from_addr", WHERE_FROM_ADDR },
		{ "body", WHERE_BODY },
	};
	const struct ynode	*v;
	const char		*miss = NULL;
	char			 p[96], *w = NULL;
	PCRE2_UCHAR		 msg[256];
	PCRE2_SIZE		 off;
	long long		 score;
	uint32_t		 opts;
	size_t			 i;
	int			 code;
	enum lw_err		 e;

	memset(r, 0, sizeof(*r));
	if ((e = y_entry(d, n, path, keys, "{name, where, pattern, score}",
	    lc->err, lc->errlen)) != LW_OK)
		return e;
	for (i = 0; keys[i] != NULL && miss == NULL; i++)
		if (y_get(n, keys[i]) == NULL && strcmp(keys[i], "caseless"))
			miss = keys[i];
	if (miss != NULL)
		return yerr(d, n, path, lc->err, lc->errlen,
		    "missing key \"%s\"", miss);

	v = y_get(n, "name");
	snprintf(p, sizeof(p), "%s.name", path);
	if ((e = y_string(d, v, p, &r->name, lc->err, lc->errlen)) != LW_OK)
		goto out_rule;
	if (!rulename_ok(r->name)) {
		e = yerr(d, v, p, lc->err, lc->errlen,
		    "must match [A-Z][A-Z0-9_]* (at most %d characters)",
		    RULENAME_MAX);
		goto out_rule;
	}
	if (rules_find(r->name) != NULL) {
		e = yerr(d, v, p, lc->err, lc->errlen,
		    "%s is a built-in rule; give a custom rule its own name",
		    r->name);
		goto out_rule;
	}

	v = y_get(n, "where");
	snprintf(p, sizeof(p), "%s.where", path);
	if ((e = y_string(d, v, p, &w, lc->err, lc->errlen)) != LW_OK)
		goto out_rule;
	for (i = 0; i < sizeof(wheres) / sizeof(wheres[0]); i++)
		if (strcmp(w, wheres[i].name) == 0)
			break;
	if (i < sizeof(wheres) / sizeof(wheres[0]))
		r->where = wheres[i].where;
	else if (strncasecmp(w, "header:", 7) == 0 && fieldname_ok(w + 7)) {
		r->where = WHERE_HEADER;
		if ((r->header = strdup(w + 7)) == NULL) {
			e = LW_ENOMEM;
			goto out_rule;
		}
	} else {
		e = yerr(d, v, p, lc->err, lc->errlen, "expected subject, "
		    "from_name, from_addr, body or header:NAME");
		goto out_rule;
	}

	if ((v = y_get(n, "caseless")) != NULL) {
		snprintf(p, sizeof(p), "%s.caseless", path);
		if ((e = y_bool(d, v, p, &r->caseless, lc->err, lc->errlen)) !=
		    LW_OK)
			goto out_rule;
	}

	v = y_get(n, "score");
	snprintf(p, sizeof(p), "%s.score", path);
	if ((e = y_int(d, v, p, SCORE_MIN, SCORE_MAX, &score, lc->err,
	    lc->errlen)) != LW_OK)
		goto out_rule;
	r->score = (int)score;

	v = y_get(n, "pattern");
	snprintf(p, sizeof(p), "%s.pattern", path);
	if ((e = y_string(d, v, p, &r->pattern, lc->err, lc->errlen)) !=
	    LW_OK)
		goto out_rule;
	if (*r->pattern == '\0' || strlen(r->pattern) > PATTERN_MAX) {
		e = yerr(d, v, p, lc->err, lc->errlen,
		    "must be 1 to %d bytes", PATTERN_MAX);
		goto out_rule;
	}
	/* Headers need not be valid UTF-8: match what is valid. */
	opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
	    (r->caseless ? PCRE2_CASELESS : 0);
	if ((r->re = pcre2_compile((PCRE2_SPTR)r->pattern,
	    PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL)) == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		e = yerr(d, v, p, lc->err, lc->errlen,
		    "bad pattern at offset %zu: %s", (size_t)off,
		    (char *)msg);
		goto out_rule;
	}
	free(w);
	return LW_OK;

 out_rule:
	free(w);
	rules_custom_clear(r);
	return e;
}

static bool
has_name(const struct custom_rule *v, size_t nv, const char *name)
{
	size_t	i;

	for (i = 0; i < nv; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

/* The index of the first entry of the rules: list named name. */
static size_t
first_named(const struct ynode *n, const char *name)
{
	const struct ynode	*k;
	size_t			 i;

	for (i = 0; i < n->n; i++)
		if ((k = y_get(n->v[i], "name")) != NULL &&
		    k->kind == YNODE_SCALAR && strcmp(k->str, name) == 0)
			return i;
	return 0;
}

static enum lw_err
apply_rules(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	struct custom_rule	*v = NULL;
	size_t			 nv = 0, i;
	char			 path[64];
	enum lw_err		 e = LW_OK, r = LW_OK;

	if (!y_isnull(n)) {
		if (n->kind != YNODE_SEQ)
			return yerr(d, n, "rules", lc->err, lc->errlen,
			    "expected a list, got %s", y_kindname(n));
		if (n->n > POLICY_MAX_RULES)
			return yerr(d, n, "rules", lc->err, lc->errlen,
			    "more than %d rules", POLICY_MAX_RULES);
		if (n->n > 0 && (v = calloc(n->n, sizeof(*v))) == NULL)
			return LW_ENOMEM;
	}
	/*
	 * A bad rule is reported and left out, and the next one read: the
	 * good ones still go in, so scores: naming them is no error more.
	 */
	for (i = 0; v != NULL && i < n->n; i++) {
		snprintf(path, sizeof(path), "rules[%zu]", i);
		if ((e = rule_from_yaml(d, n->v[i], path, &v[nv], lc)) !=
		    LW_OK) {
			if (e == LW_ENOMEM)
				goto out_rules;
			r = e;
			continue;
		}
		if (has_name(v, nv, v[nv].name)) {
			snprintf(path, sizeof(path), "rules[%zu].name", i);
			r = yerr(d, y_get(n->v[i], "name"), path, lc->err,
			    lc->errlen, "%s is already defined by rules[%zu]",
			    v[nv].name, first_named(n, v[nv].name));
			rules_custom_clear(&v[nv]);
			continue;
		}
		nv++;
	}
	/* A custom rule's score goes into the scores table. */
	for (i = 0; i < nv; i++)
		if ((e = policy_score_set(p, v[i].name, v[i].score)) != LW_OK)
			goto out_rules;
	rules_custom_free(p->rules, p->nrules);
	p->rules = v;
	p->nrules = nv;
	return r;

 out_rules:
	rules_custom_free(v, nv);
	return e;
}

static bool
has_rule(const struct policy *p, const char *name)
{
	size_t	i;

	for (i = 0; p != NULL && i < p->nrules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return true;
	return false;
}

static enum lw_err
apply_scores(const struct ydoc *d, const struct ynode *n, struct policy *p,
    const struct policy *def, struct loadctx *lc)
{
	const struct ynode	*k;
	char			 path[96], hint[128];
	long long		 v;
	size_t			 i;
	enum lw_err		 e, r = LW_OK;

	if ((e = y_map(d, n, "scores", NULL, lc->err, lc->errlen)) != LW_OK)
		return e;
	for (i = 0; !y_isnull(n) && i < n->n; i++) {
		k = YMAP_KEY(n, i);
		snprintf(path, sizeof(path), "scores.%.64s", k->str);
		/* A typo must not silently score 0. */
		if (rules_find(k->str) == NULL && !has_rule(p, k->str) &&
		    !has_rule(def, k->str)) {
			r = yerr(d, k, path, lc->err, lc->errlen,
			    "unknown rule (neither built-in nor defined "
			    "under rules:)%s", y_hint(hint, sizeof(hint),
			    k->str, &rules_builtin[0].name, rules_nbuiltin,
			    sizeof(rules_builtin[0])));
			continue;
		}
		if ((e = y_int(d, YMAP_VAL(n, i), path, SCORE_MIN, SCORE_MAX,
		    &v, lc->err, lc->errlen)) != LW_OK) {
			r = e;
			continue;
		}
		if ((e = policy_score_set(p, k->str, (int)v)) != LW_OK)
			return e;
	}
	return r;
}

static enum lw_err
apply_allow(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	return allow_parse(d, n, &p->allow, lc->err, lc->errlen);
}

/* The sections of one key each, in the order they are applied. */
static const struct {
	const char	*key;
	enum lw_err	(*apply)(const struct ydoc *, const struct ynode *,
			    struct policy *, struct loadctx *);
} sections[] = {
	{ "thresholds", apply_thresholds },
	{ "mode", apply_mode },
	{ "notify", apply_notify },
	{ "allow", apply_allow },
	{ "language", apply_language },
	{ "tag", apply_tag },
	{ "reject_text", apply_reject_text },
	{ "quarantine", apply_quarantine },
	{ "split_password", apply_split_password },
	{ "outbound", apply_outbound },
};

/*
 * Apply the keys of one file to p (the built-in policy for default.yaml,
 * a copy of the default for a domain file).  def is NULL for
 * default.yaml.
 */
enum lw_err
policy_apply(const struct ydoc *d, struct policy *p,
    const struct policy *def, struct loadctx *lc)
{
	const struct ynode	*root = d->root, *n = NULL;
	size_t			 i;
	enum lw_err		 e, r;

	if (root != NULL && root->kind != YNODE_MAP && !y_isnull(root))
		return yerr(d, root, NULL, lc->err, lc->errlen,
		    "a policy file is a map of keys, got %s",
		    y_kindname(root));
	/*
	 * Every section is applied even after one failed, so that one
	 * check-config shows every error of the file (yerr appends each on
	 * a line of its own); only running out of memory stops at once.
	 * KEEP records the first error and goes on.
	 */
#define KEEP(call)							\
	do {								\
		if ((e = (call)) == LW_ENOMEM)				\
			return e;					\
		if (e != LW_OK && r == LW_OK)				\
			r = e;						\
	} while (0)
	r = LW_OK;
	KEEP(y_map(d, root, NULL, policy_keys, lc->err, lc->errlen));
	n = y_get(root, "domains");
	if (def == NULL && n != NULL)
		KEEP(yerr(d, n, "domains", lc->err, lc->errlen,
		    "default.yaml covers every domain no other file lists; "
		    "put domains in a file of their own"));
	if (def != NULL) {
		if (n == NULL)
			KEEP(yerr(d, root, "domains", lc->err, lc->errlen,
			    "missing: a domain policy must list the recipient "
			    "domains it covers"));
		else if ((e = apply_list(d, root, "domains", 'd', &p->domains,
		    &p->ndomains, lc)) != LW_OK)
			KEEP(e);
		else if (p->ndomains == 0)
			KEEP(yerr(d, n, "domains", lc->err, lc->errlen,
			    "must list at least one domain"));
	}
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if ((n = y_get(root, sections[i].key)) != NULL)
			KEEP(sections[i].apply(d, n, p, lc));
	KEEP(apply_list(d, root, "macro_senders", 'a', &p->macro_senders,
	    &p->nmacro_senders, lc));
	KEEP(apply_list(d, root, "trusted_senders", 'a', &p->trusted_senders,
	    &p->ntrusted_senders, lc));
	KEEP(apply_list(d, root, "trusted_template_hosts", 'd',
	    &p->trusted_template_hosts, &p->ntrusted_template_hosts, lc));
	KEEP(apply_list(d, root, "internal_domains", 'd',
	    &p->internal_domains, &p->ninternal_domains, lc));
	KEEP(apply_list(d, root, "reply_prefixes", 's', &p->reply_prefixes,
	    &p->nreply_prefixes, lc));
	KEEP(policy_people_apply(d, root, p, false, lc));
	KEEP(policy_people_apply(d, root, p, true, lc));
	/* Rules before scores: scores may name the rules just defined. */
	if ((n = y_get(root, "rules")) != NULL)
		KEEP(apply_rules(d, n, p, lc));
	if ((n = y_get(root, "scores")) != NULL)
		KEEP(apply_scores(d, n, p, def, lc));
#undef KEEP
	return r;
}
