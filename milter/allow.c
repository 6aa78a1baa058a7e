/*
 * allow.c: a policy's allow: list (see allow.h): parse, copy, print,
 * match.  Takes the envelope's client address, login and sender, the
 * From: address and the raw header block; reads only the
 * Authentication-Results fields above the second Received: (at most
 * ALLOW_AR_FIELDS of them, each at most ALLOW_AR_BYTES unfolded).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "allow.h"
#include "rules.h"
#include "util.h"
#include "yamlutil.h"

#define ALLOW_AR_FIELDS	32
#define ALLOW_AR_BYTES	8192

static const char *const kind_keys[] = {
	"network", "authenticated", "sender", "sender_domain"
};
static const char *const verified_names[] = { "none", "dkim", "dmarc" };

static void
entry_free(struct allow_entry *e)
{
	FREE_ALL(e->name, e->value);
	lw_strv_free(e->rules, e->nrules);
}

void
allow_free(struct allow_list *l)
{
	FREE_EACH(l->v, l->n, entry_free);
	memset(l, 0, sizeof(*l));
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool
valid_domain(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.')
			return false;
	return true;
}

static enum lw_err
entry_parse(const struct ydoc *d, const struct ynode *n, const char *path,
    struct allow_entry *e, char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "network",
	    "authenticated", "sender", "sender_domain", "verified", "skip",
	    NULL };
	const struct ynode	*v, *which = NULL;
	char			 p[128], *s, *at;
	size_t			 i, k;
	enum lw_err		 r;

	memset(e, 0, sizeof(*e));
	if (n->kind != YNODE_MAP)
		return yerr(d, n, path, err, errlen, "expected a map "
		    "{name: ..., network|authenticated|sender|sender_domain: "
		    "..., skip: [...]}, got %s", y_kindname(n));
	if ((r = y_map(d, n, path, keys, err, errlen)) != LW_OK)
		return r;
	snprintf(p, sizeof(p), "%s.name", path);
	if ((v = y_get(n, "name")) == NULL)
		return yerr(d, n, p, err, errlen, "missing: each entry has a "
		    "name (the verdict log says allowed=NAME)");
	if ((r = y_string(d, v, p, &e->name, err, errlen)) != LW_OK)
		return r;
	for (i = 0; e->name[i] != '\0'; i++)
		if (!isalnum((unsigned char)e->name[i]) &&
		    strchr("-_.@", e->name[i]) == NULL)
			return yerr(d, v, p, err, errlen, "letters, digits and "
			    "- _ . @ only");
	if (i == 0 || i > 64)
		return yerr(d, v, p, err, errlen, "1 to 64 characters");
	for (k = 0; k < sizeof(kind_keys) / sizeof(kind_keys[0]); k++) {
		if ((v = y_get(n, kind_keys[k])) == NULL)
			continue;
		if (which != NULL)
			return yerr(d, v, path, err, errlen, "one of network, "
			    "authenticated, sender or sender_domain per "
			    "entry");
		which = v;
		e->kind = (enum allow_kind)k;
	}
	if (which == NULL)
		return yerr(d, n, path, err, errlen, "missing: network, "
		    "authenticated, sender or sender_domain");
	snprintf(p, sizeof(p), "%s.%s", path, kind_keys[e->kind]);
	if ((r = y_string(d, which, p, &e->value, err, errlen)) != LW_OK)
		return r;
	s = e->value;
	switch (e->kind) {
	case ALLOW_NETWORK:
		if (!config_cidr_parse(s, &e->net))
			return yerr(d, which, p, err, errlen,
			    "expected an address or ADDRESS/BITS");
		break;
	case ALLOW_AUTHENTICATED:
		if (*s == '\0')
			return yerr(d, which, p, err, errlen,
			    "a login name, or \"*\" for any");
		break;
	case ALLOW_SENDER:
		lower(s);
		at = strrchr(s, '@');
		if (at == NULL || !valid_domain(at + 1))
			return yerr(d, which, p, err, errlen,
			    "expected user@domain or @domain");
		break;
	case ALLOW_SENDER_DOMAIN:
		lower(s);
		if (!valid_domain(s))
			return yerr(d, which, p, err, errlen,
			    "not a domain name");
		break;
	}
	snprintf(p, sizeof(p), "%s.verified", path);
	if ((v = y_get(n, "verified")) != NULL) {
		if ((r = y_string(d, v, p, &s, err, errlen)) != LW_OK)
			return r;
		for (k = 0; k < 3; k++)
			if (strcmp(s, verified_names[k]) == 0)
				break;
		free(s);
		if (k == 3)
			return yerr(d, v, p, err, errlen,
			    "expected dkim, dmarc or none");
		e->verified = (enum allow_verified)k;
		if (e->verified != AVER_NONE && e->kind != ALLOW_SENDER &&
		    e->kind != ALLOW_SENDER_DOMAIN)
			return yerr(d, v, p, err, errlen, "only for sender "
			    "and sender_domain");
	}
	snprintf(p, sizeof(p), "%s.%s", path, kind_keys[e->kind]);
	if (e->kind == ALLOW_SENDER_DOMAIN && e->verified == AVER_NONE)
		return yerr(d, which, p, err, errlen, "a From: domain is "
		    "forged at will: add verified: dkim or verified: dmarc");
	snprintf(p, sizeof(p), "%s.skip", path);
	if ((v = y_get(n, "skip")) == NULL)
		return yerr(d, n, p, err, errlen, "missing: the rules this "
		    "entry skips: [all], [hijack] or rule names");
	if (v->kind == YNODE_SCALAR) {
		if ((e->rules = calloc(1, sizeof(*e->rules))) == NULL)
			return LW_ENOMEM;
		if ((r = y_string(d, v, p, &e->rules[0], err, errlen)) !=
		    LW_OK)
			return r;
		e->nrules = 1;
	} else if ((r = y_strlist(d, v, p, &e->rules, &e->nrules, err,
	    errlen)) != LW_OK)
		return r;
	if (e->nrules == 0)
		return yerr(d, v, p, err, errlen, "must name at least one: "
		    "all, hijack or a rule");
	for (i = 0; i < e->nrules; i++) {
		if (strcmp(e->rules[i], "all") == 0)
			e->skip |= ALLOW_SKIP_ALL;
		else if (strcmp(e->rules[i], "hijack") == 0)
			e->skip |= ALLOW_SKIP_HIJACK;
		else if (rules_find(e->rules[i]) == NULL)
			return yerr(d, v->kind == YNODE_SEQ ? v->v[i] : v, p,
			    err, errlen, "%s: not all, hijack or a built-in "
			    "rule", e->rules[i]);
	}
	return LW_OK;
}

enum lw_err
allow_parse(const struct ydoc *d, const struct ynode *n,
    struct allow_list *out, char *err, size_t errlen)
{
	struct allow_list	 l = { NULL, 0 };
	char			 p[32];
	size_t			 i, j;
	enum lw_err		 r;

	if (y_isnull(n)) {
		allow_free(out);
		return LW_OK;
	}
	if (n->kind != YNODE_SEQ)
		return yerr(d, n, "allow", err, errlen, "expected a list, "
		    "got %s", y_kindname(n));
	if (n->n > ALLOW_MAX)
		return yerr(d, n, "allow", err, errlen, "at most %d entries",
		    ALLOW_MAX);
	if (n->n > 0 && (l.v = calloc(n->n, sizeof(*l.v))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < n->n; i++) {
		snprintf(p, sizeof(p), "allow[%zu]", i);
		r = entry_parse(d, n->v[i], p, &l.v[i], err, errlen);
		l.n = i + 1;
		if (r != LW_OK)
			goto out_list;
		for (j = 0; j < i; j++)
			if (strcmp(l.v[j].name, l.v[i].name) == 0) {
				r = yerr(d, n->v[i], p, err, errlen,
				    "name %s is used twice", l.v[i].name);
				goto out_list;
			}
	}
	allow_free(out);
	*out = l;
	return LW_OK;

 out_list:
	allow_free(&l);
	return r;
}

enum lw_err
allow_copy(const struct allow_list *s, struct allow_list *out)
{
	struct allow_list	 l = { NULL, 0 };
	size_t			 i, j;

	if (s->n > 0 && (l.v = calloc(s->n, sizeof(*l.v))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < s->n; i++, l.n++) {
		struct allow_entry	*e = &l.v[i];

		*e = s->v[i];
		e->name = strdup(s->v[i].name);
		e->value = strdup(s->v[i].value);
		e->rules = calloc(s->v[i].nrules, sizeof(*e->rules));
		e->nrules = 0;
		if (e->name == NULL || e->value == NULL || e->rules == NULL)
			goto out_nomem;
		for (j = 0; j < s->v[i].nrules; j++, e->nrules++)
			if ((e->rules[j] = strdup(s->v[i].rules[j])) == NULL)
				goto out_nomem;
	}
	*out = l;
	return LW_OK;

 out_nomem:
	l.n++;
	allow_free(&l);
	return LW_ENOMEM;
}

void
allow_print(FILE *f, const struct allow_list *l)
{
	size_t	i, j;

	if (l->n == 0) {
		fputs("allow: []\n", f);
		return;
	}
	fputs("allow:\n", f);
	for (i = 0; i < l->n; i++) {
		const struct allow_entry	*e = &l->v[i];

		fputs("  - name: ", f);
		y_print_str(f, e->name);
		fprintf(f, "\n    %s: ", kind_keys[e->kind]);
		y_print_str(f, e->value);
		if (e->verified != AVER_NONE)
			fprintf(f, "\n    verified: %s",
			    verified_names[e->verified]);
		fputs("\n    skip: [", f);
		for (j = 0; j < e->nrules; j++) {
			fputs(j ? ", " : "", f);
			y_print_str(f, e->rules[j]);
		}
		fputs("]\n", f);
	}
}

bool
allow_is_hijack(const char *rule)
{
	return strncmp(rule, "HDR_", 4) == 0 ||
	    strncmp(rule, "BODY_", 5) == 0 ||
	    strcmp(rule, "EMOTET_LURE") == 0;
}

bool
allow_skips(const struct allow_entry *e, const char *rule)
{
	size_t	i;

	if (e->skip & ALLOW_SKIP_ALL)
		return true;
	if ((e->skip & ALLOW_SKIP_HIJACK) && allow_is_hijack(rule))
		return true;
	for (i = 0; i < e->nrules; i++)
		if (strcmp(e->rules[i], rule) == 0)
			return true;
	return false;
}

/* domain equals d or is a subdomain of it. */
static bool
domain_within(const char *domain, const char *d)
{
	size_t	n = strlen(domain), m = strlen(d);

	if (n == m)
		return strcasecmp(domain, d) == 0;
	return n > m && domain[n - m - 1] == '.' &&
	    strcasecmp(domain + n - m, d) == 0;
}

/* Strip (comments), bounded nesting; in place. */
static void
strip_comments(char *s)
{
	char	*w = s;
	int	 depth = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && depth > 0 && s[1] != '\0') {
			s++;
			continue;
		}
		if (*s == '(') {
			depth++;
			*w++ = ' ';
			continue;
		}
		if (*s == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth == 0)
			*w++ = *s;
	}
	*w = '\0';
}

/* One resinfo ("dkim=pass header.d=x"): does it vouch for domain? */
static enum allow_verified
resinfo(char *r, const char *domain)
{
	enum allow_verified	 got = AVER_NONE;
	bool			 dkim = false, dmarc = false, match = false;
	char			*tok, *save = NULL, *v;

	for (tok = strtok_r(r, " \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (strcasecmp(tok, "dkim=pass") == 0)
			dkim = true;
		else if (strcasecmp(tok, "dmarc=pass") == 0)
			dmarc = true;
		else if (strncasecmp(tok, "header.d=", 9) == 0)
			match |= strcasecmp(tok + 9, domain) == 0;
		else if (strncasecmp(tok, "header.i=", 9) == 0) {
			v = strrchr(tok + 9, '@');
			match |= v != NULL && strcasecmp(v + 1, domain) == 0;
		} else if (strncasecmp(tok, "header.from=", 12) == 0)
			match |= strcasecmp(tok + 12, domain) == 0;
	}
	if (match && dmarc)
		got = AVER_DMARC;
	else if (match && dkim)
		got = AVER_DKIM;
	return got;
}

enum allow_verified
allow_authres(const unsigned char *raw, size_t len, const char *authserv_id,
    const char *domain, enum allow_verified want)
{
	const unsigned char	*p = raw, *end = raw + len, *f, *eol;
	enum allow_verified	 best = AVER_NONE, r;
	unsigned		 received = 0, fields = 0;
	char			*buf, *res, *save = NULL, *id;
	size_t			 n;

	if (authserv_id == NULL || domain == NULL)
		return AVER_NONE;
	if ((buf = malloc(ALLOW_AR_BYTES + 1)) == NULL)
		return AVER_NONE;
	while (p < end && *p != '\r' && *p != '\n') {
		/* One field: its first line and its continuations. */
		f = p;
		do {
			eol = memchr(p, '\n', (size_t)(end - p));
			p = eol != NULL ? eol + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
		if (strncasecmp((const char *)f, "Received:", 9) == 0 &&
		    ++received >= 2)
			break;
		if (strncasecmp((const char *)f, "Authentication-Results:",
		    23) != 0 || (size_t)(p - f) - 23 > ALLOW_AR_BYTES)
			continue;
		if (++fields > ALLOW_AR_FIELDS)
			break;
		n = (size_t)(p - f) - 23;
		memcpy(buf, f + 23, n);
		buf[n] = '\0';
		for (res = buf; *res != '\0'; res++)
			if (*res == '\r' || *res == '\n' || *res == '\0')
				*res = ' ';
		strip_comments(buf);
		/* authserv-id [version] ; resinfo ; ... */
		res = strtok_r(buf, ";", &save);
		if (res == NULL)
			continue;
		id = strtok_r(res, " \t", &res);
		if (id == NULL || strcasecmp(id, authserv_id) != 0)
			continue;
		while ((res = strtok_r(NULL, ";", &save)) != NULL)
			if ((r = resinfo(res, domain)) > best)
				best = r;
		save = NULL;
	}
	free(buf);
	/* dmarc satisfies a dkim requirement too; not the reverse. */
	if (want == AVER_DMARC && best != AVER_DMARC)
		return AVER_NONE;
	return best;
}

static bool
addr_matches(const char *pattern, const char *addr)
{
	const char	*at;

	if (addr == NULL)
		return false;
	if (pattern[0] == '@') {
		at = strrchr(addr, '@');
		return at != NULL && strcasecmp(at, pattern) == 0;
	}
	return strcasecmp(pattern, addr) == 0;
}

static const char *
addr_domain(const char *addr)
{
	const char	*at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return NULL;
	return at + 1;
}

static bool
verified_for(const struct allow_entry *e, const struct allow_input *in,
    const char *domain)
{
	if (e->verified == AVER_NONE)
		return true;
	return allow_authres(in->raw, in->len, in->authserv_id, domain,
	    e->verified) >= e->verified;
}

static bool
entry_matches(const struct allow_entry *e, const struct allow_input *in)
{
	const char	*fd;

	switch (e->kind) {
	case ALLOW_NETWORK:
		return in->client_addr != NULL &&
		    config_cidr_contains(&e->net, in->client_addr);
	case ALLOW_AUTHENTICATED:
		return in->auth_authen != NULL && *in->auth_authen != '\0' &&
		    (strcmp(e->value, "*") == 0 ||
		    strcasecmp(e->value, in->auth_authen) == 0);
	case ALLOW_SENDER:
		return addr_matches(e->value, in->mail_from) &&
		    verified_for(e, in, addr_domain(in->mail_from));
	case ALLOW_SENDER_DOMAIN:
		/* The From: domain, which the DKIM/DMARC pass must cover. */
		fd = addr_domain(in->from_addr);
		return fd != NULL && domain_within(fd, e->value) &&
		    (verified_for(e, in, fd) ||
		    (strcasecmp(fd, e->value) != 0 &&
		    verified_for(e, in, e->value)));
	}
	return false;
}

const struct allow_entry *
allow_match(const struct allow_list *l, const struct allow_input *in)
{
	size_t	i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (entry_matches(&l->v[i], in))
			return &l->v[i];
	return NULL;
}
