/*
 * policy.c: conf/policy.d/NAME.yaml -> an immutable, refcounted policyset.
 *
 * Takes a policy directory; returns every policy resolved: default.yaml
 * first (built-in defaults under it), then each domain file as a deep
 * copy of the default with the file's keys applied on top.  Maps
 * (thresholds, scores, tag, quarantine) thus merge key by key, lists
 * and scalars replace.  staff_names and staff_names_file count as one
 * setting (a domain that sets either replaces both), and so do
 * correspondents and correspondents_file.
 *
 * Errors name file, line, column and key path.  Bounds: file sizes,
 * custom rules per policy, pattern length, files per directory.  Custom
 * rule patterns are compiled here once, shared read-only by the milter
 * threads (each match brings its own match data).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unistr.h>

#include "names.h"
#include "policy.h"
#include "rules.h"
#include "rules_custom.h"
#include "yamlutil.h"

#define POLICY_MAX_BYTES	(4 << 20)	/* one policy file */
#define NAMES_MAX_BYTES		(16 << 20)	/* a staff/correspondents file */
#define POLICY_MAX_FILES	10000
#define POLICY_MAX_RULES	1000
#define PATTERN_MAX		4096
#define RULENAME_MAX		64
#define SCORE_MIN		(-10000)
#define SCORE_MAX		10000
#define THRESHOLD_MAX		1000000
#define OUTBOUND_WINDOW_MAX	(7 * 24 * 3600)	/* seconds */
#define OUTBOUND_COUNT_MAX	100000

#define DEFAULT_REJECT_TEXT \
	"5.7.1 Message rejected by lurewall: suspected malware lure"

static const char *const default_reply_prefixes[] = {
	"Re", "RE", "Fw", "FW", "Fwd", "返信", "転送"
};

static const char *const policy_keys[] = {
	"domains", "thresholds", "scores", "tag", "reject_text", "quarantine",
	"macro_senders", "internal_domains", "staff_names",
	"staff_names_file", "correspondents", "correspondents_file",
	"reply_prefixes", "trusted_senders", "rules",
	"outbound", "split_password", "language",
	NULL
};

const char *const policy_lang_names[LANG_N] = { "en", "ja" };

/* What one load needs to report errors and find files. */
struct loadctx {
	char		*err;
	size_t		 errlen;
	const char	*policy_dir;	/* of the file being loaded */
};

/* Freeing */

static void
person_free(struct person *p)
{
	y_strlist_free(p->names, p->n);
	y_strlist_free(p->keys, p->n);
	memset(p, 0, sizeof(*p));
}

static void
staff_free(struct person *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		person_free(&v[i]);
	free(v);
}

static void
corr_free(struct correspondent *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		person_free(&v[i].who);
		y_strlist_free(v[i].domains, v[i].ndomains);
	}
	free(v);
}

static void
scores_free(struct score_entry *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].rule);
	free(v);
}

static void
policy_free(struct policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	free(p->name);
	free(p->file);
	y_strlist_free(p->domains, p->ndomains);
	scores_free(p->scores, p->nscores);
	free(p->subject_prefix);
	for (i = 0; i < LANG_N; i++)
		free(p->prefixes[i]);
	free(p->reject_text);
	y_strlist_free(p->internal_domains, p->ninternal_domains);
	staff_free(p->staff, p->nstaff);
	free(p->staff_names_file);
	corr_free(p->correspondents, p->ncorrespondents);
	free(p->correspondents_file);
	y_strlist_free(p->reply_prefixes, p->nreply_prefixes);
	y_strlist_free(p->trusted_senders, p->ntrusted_senders);
	y_strlist_free(p->macro_senders, p->nmacro_senders);
	rules_custom_free(p->rules, p->nrules);
	free(p);
}

static void
policyset_free(struct policyset *s)
{
	size_t	i;

	policy_free(s->def);
	for (i = 0; i < s->n; i++)
		policy_free(s->v[i]);
	free(s->v);
	free(s->index);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct policyset *
policyset_ref(struct policyset *s)
{
	pthread_mutex_lock(&s->lock);
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	return s;
}

void
policyset_unref(struct policyset *s)
{
	unsigned	left;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	left = --s->refs;
	pthread_mutex_unlock(&s->lock);
	if (left == 0)
		policyset_free(s);
}

/* Copying (a domain policy starts as a copy of the default) */

static enum lw_err
strlist_copy(char *const *src, size_t n, char ***out)
{
	char	**v;
	size_t	  i;

	*out = NULL;
	if (n == 0)
		return LW_OK;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < n; i++)
		if ((v[i] = strdup(src[i])) == NULL) {
			y_strlist_free(v, i);
			return LW_ENOMEM;
		}
	*out = v;
	return LW_OK;
}

static enum lw_err
person_copy(const struct person *src, struct person *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (strlist_copy(src->names, src->n, &dst->names) != LW_OK)
		return LW_ENOMEM;
	if (strlist_copy(src->keys, src->n, &dst->keys) != LW_OK) {
		y_strlist_free(dst->names, src->n);
		dst->names = NULL;
		return LW_ENOMEM;
	}
	dst->n = src->n;
	return LW_OK;
}

static enum lw_err
policy_copy(const struct policy *s, struct policy **out)
{
	struct policy	*p;
	size_t		 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LW_ENOMEM;
	p->th_tag = s->th_tag;
	p->th_quarantine = s->th_quarantine;
	p->th_reject = s->th_reject;
	p->tag_headers = s->tag_headers;
	p->quarantine_then = s->quarantine_then;
	p->split_wait = s->split_wait;
	p->split_on_timeout = s->split_on_timeout;
	p->outbound = s->outbound;
	p->language = s->language;
	for (i = 0; i < LANG_N; i++)
		if (s->prefixes[i] != NULL &&
		    (p->prefixes[i] = strdup(s->prefixes[i])) == NULL)
			goto out_policy;
	if ((s->subject_prefix != NULL &&
	    (p->subject_prefix = strdup(s->subject_prefix)) == NULL) ||
	    (p->reject_text = strdup(s->reject_text)) == NULL ||
	    (s->staff_names_file != NULL &&
	    (p->staff_names_file = strdup(s->staff_names_file)) == NULL) ||
	    (s->correspondents_file != NULL &&
	    (p->correspondents_file = strdup(s->correspondents_file)) ==
	    NULL))
		goto out_policy;
	if ((p->scores = calloc(s->nscores, sizeof(*p->scores))) == NULL)
		goto out_policy;
	for (; p->nscores < s->nscores; p->nscores++) {
		p->scores[p->nscores].score = s->scores[p->nscores].score;
		if ((p->scores[p->nscores].rule =
		    strdup(s->scores[p->nscores].rule)) == NULL)
			goto out_policy;
	}
	if (strlist_copy(s->internal_domains, s->ninternal_domains,
	    &p->internal_domains) != LW_OK)
		goto out_policy;
	p->ninternal_domains = s->ninternal_domains;
	if (strlist_copy(s->reply_prefixes, s->nreply_prefixes,
	    &p->reply_prefixes) != LW_OK)
		goto out_policy;
	p->nreply_prefixes = s->nreply_prefixes;
	if (strlist_copy(s->trusted_senders, s->ntrusted_senders,
	    &p->trusted_senders) != LW_OK)
		goto out_policy;
	p->ntrusted_senders = s->ntrusted_senders;
	if (strlist_copy(s->macro_senders, s->nmacro_senders,
	    &p->macro_senders) != LW_OK)
		goto out_policy;
	p->nmacro_senders = s->nmacro_senders;
	if (s->nstaff > 0 &&
	    (p->staff = calloc(s->nstaff, sizeof(*p->staff))) == NULL)
		goto out_policy;
	for (; p->nstaff < s->nstaff; p->nstaff++)
		if (person_copy(&s->staff[p->nstaff], &p->staff[p->nstaff]) !=
		    LW_OK)
			goto out_policy;
	if (s->ncorrespondents > 0 && (p->correspondents =
	    calloc(s->ncorrespondents, sizeof(*p->correspondents))) == NULL)
		goto out_policy;
	for (i = 0; i < s->ncorrespondents; i++) {
		if (person_copy(&s->correspondents[i].who,
		    &p->correspondents[i].who) != LW_OK)
			goto out_policy;
		p->ncorrespondents++;
		if (strlist_copy(s->correspondents[i].domains,
		    s->correspondents[i].ndomains,
		    &p->correspondents[i].domains) != LW_OK)
			goto out_policy;
		p->correspondents[i].ndomains = s->correspondents[i].ndomains;
	}
	if (s->nrules > 0 &&
	    (p->rules = calloc(s->nrules, sizeof(*p->rules))) == NULL)
		goto out_policy;
	for (i = 0; i < s->nrules; i++) {
		struct custom_rule	*d = &p->rules[i];
		const struct custom_rule *r = &s->rules[i];

		p->nrules++;
		d->where = r->where;
		d->score = r->score;
		d->caseless = r->caseless;
		if ((d->name = strdup(r->name)) == NULL ||
		    (d->pattern = strdup(r->pattern)) == NULL ||
		    (r->header != NULL &&
		    (d->header = strdup(r->header)) == NULL) ||
		    (d->re = pcre2_code_copy(r->re)) == NULL)
			goto out_policy;
	}
	*out = p;
	return LW_OK;

 out_policy:
	policy_free(p);
	return LW_ENOMEM;
}

/* Scores: sorted by rule name so that policy_score can bsearch. */

static int
score_cmp(const void *a, const void *b)
{
	return strcmp(((const struct score_entry *)a)->rule,
	    ((const struct score_entry *)b)->rule);
}

static struct score_entry *
score_find(const struct policy *p, const char *rule)
{
	struct score_entry	key;

	if (p->nscores == 0)
		return NULL;
	key.rule = (char *)rule;
	return bsearch(&key, p->scores, p->nscores, sizeof(key), score_cmp);
}

static enum lw_err
score_set(struct policy *p, const char *rule, int score)
{
	struct score_entry	*e, *nv;
	size_t			 i;
	char			*r;

	if ((e = score_find(p, rule)) != NULL) {
		e->score = score;
		return LW_OK;
	}
	if ((r = strdup(rule)) == NULL)
		return LW_ENOMEM;
	if ((nv = reallocarray(p->scores, p->nscores + 1, sizeof(*nv))) ==
	    NULL) {
		free(r);
		return LW_ENOMEM;
	}
	p->scores = nv;
	for (i = p->nscores; i > 0 && strcmp(nv[i - 1].rule, rule) > 0; i--)
		nv[i] = nv[i - 1];
	nv[i].rule = r;
	nv[i].score = score;
	p->nscores++;
	return LW_OK;
}

int
policy_score(const struct policy *p, const char *rule)
{
	const struct score_entry	*e;
	const struct rule_def		*d;

	if (p != NULL && (e = score_find(p, rule)) != NULL)
		return e->score;
	if ((d = rules_find(rule)) != NULL)
		return d->score;
	return 0;
}

/* The built-in policy that default.yaml is applied on. */
static enum lw_err
policy_builtin(struct policy **out)
{
	struct policy	*p;
	size_t		 n;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LW_ENOMEM;
	p->th_tag = 5;
	p->th_quarantine = 10;
	p->th_reject = 50;
	p->tag_headers = true;
	p->quarantine_then = QTHEN_DISCARD;
	p->outbound.window = 600;
	p->outbound.max_lures = 3;
	p->outbound.max_new_rcpts = 200;
	p->outbound.action = OUTBOUND_HOLD;
	if ((p->reject_text = strdup(DEFAULT_REJECT_TEXT)) == NULL)
		goto out_policy;
	if ((p->scores = calloc(rules_nbuiltin, sizeof(*p->scores))) == NULL)
		goto out_policy;
	for (; p->nscores < rules_nbuiltin; p->nscores++) {
		p->scores[p->nscores].score = rules_builtin[p->nscores].score;
		if ((p->scores[p->nscores].rule =
		    strdup(rules_builtin[p->nscores].name)) == NULL)
			goto out_policy;
	}
	qsort(p->scores, p->nscores, sizeof(*p->scores), score_cmp);
	n = sizeof(default_reply_prefixes) / sizeof(default_reply_prefixes[0]);
	if (strlist_copy((char *const *)default_reply_prefixes, n,
	    &p->reply_prefixes) != LW_OK)
		goto out_policy;
	p->nreply_prefixes = n;
	*out = p;
	return LW_OK;

 out_policy:
	policy_free(p);
	return LW_ENOMEM;
}

/* Validation of single values */

/* Lowercase a domain in place; false when it is not a domain name. */
static bool
domain_norm(char *s)
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
	if (!domain_norm(at + 1) || at[1] == '\0')
		return false;
	lw_strlower(s);
	return true;
}

/* A list of domains (or of addresses when addrs). */
static enum lw_err
get_list(const struct ydoc *d, const struct ynode *n, const char *path,
    int kind, char ***out, size_t *nout, struct loadctx *lc)
{
	char		**v, p[128];
	size_t		  nv, i;
	enum lw_err	  e;

	if ((e = y_strlist(d, n, path, &v, &nv, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	for (i = 0; i < nv; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (kind == 'd' && !domain_norm(v[i]))
			e = yerr(d, n->v[i], p, lc->err, lc->errlen,
			    "not a domain name");
		else if (kind == 'a' && !addr_norm(v[i]))
			e = yerr(d, n->v[i], p, lc->err, lc->errlen,
			    "expected user@domain or @domain");
		else if (kind == 's' && *v[i] == '\0')
			e = yerr(d, n->v[i], p, lc->err, lc->errlen,
			    "must not be empty");
		if (e != LW_OK) {
			y_strlist_free(v, nv);
			return e;
		}
	}
	*out = v;
	*nout = nv;
	return LW_OK;
}

/* Persons: names and their names_key() keys */

static enum lw_err
person_add_name(struct person *p, const char *name, bool *empty)
{
	char	**nn, **nk, *n, *k;

	*empty = false;
	if ((n = strdup(name)) == NULL)
		return LW_ENOMEM;
	if ((k = names_key(name)) == NULL) {
		free(n);
		return LW_ENOMEM;
	}
	if (*k == '\0') {
		free(n);
		free(k);
		*empty = true;
		return LW_OK;
	}
	if ((nn = reallocarray(p->names, p->n + 1, sizeof(*nn))) == NULL)
		goto out_strings;
	p->names = nn;
	if ((nk = reallocarray(p->keys, p->n + 1, sizeof(*nk))) == NULL)
		goto out_strings;
	p->keys = nk;
	p->names[p->n] = n;
	p->keys[p->n] = k;
	p->n++;
	return LW_OK;

 out_strings:
	free(n);
	free(k);
	return LW_ENOMEM;
}

/* A YAML name or list of names into one person. */
static enum lw_err
person_from_yaml(const struct ydoc *d, const struct ynode *n,
    const char *path, struct person *p, struct loadctx *lc)
{
	char		**names, ip[160];
	size_t		  nn, i;
	bool		  empty;
	enum lw_err	  e = LW_OK;

	memset(p, 0, sizeof(*p));
	if (n != NULL && n->kind == YNODE_SCALAR && !y_isnull(n)) {
		if ((names = calloc(1, sizeof(*names))) == NULL)
			return LW_ENOMEM;
		nn = 1;
		if ((e = y_string(d, n, path, &names[0], lc->err,
		    lc->errlen)) != LW_OK) {
			free(names);
			return e;
		}
	} else if ((e = y_strlist(d, n, path, &names, &nn, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	if (nn == 0)
		return yerr(d, n, path, lc->err, lc->errlen,
		    "expected a name or a list of names");
	for (i = 0; i < nn; i++) {
		if ((e = person_add_name(p, names[i], &empty)) != LW_OK)
			break;
		if (empty) {
			snprintf(ip, sizeof(ip), "%s[%zu]", path, i);
			e = yerr(d, n->kind == YNODE_SEQ ? n->v[i] : n,
			    n->kind == YNODE_SEQ ? ip : path, lc->err,
			    lc->errlen, "name is empty once normalized");
			break;
		}
	}
	y_strlist_free(names, nn);
	if (e != LW_OK)
		person_free(p);
	return e;
}

/*
 * Names files: UTF-8 text, one entry a line, fields separated by tabs,
 * blank lines and lines starting with '#' ignored, CR LF accepted.
 * Staff: every field is an alias of the same person.  Correspondents:
 * fields starting with '@' are the correspondent's domains, the others
 * its names; at least one of each.
 */
static enum lw_err
names_file(const char *path, const char *key, bool corr,
    struct person **staffp, size_t *nstaffp,
    struct correspondent **corrp, size_t *ncorrp, struct loadctx *lc)
{
	struct stat	 st;
	char		*buf = NULL, *line, *next, *f, *fnext, **dv;
	size_t		 len = 0, lineno = 0, nlen;
	ssize_t		 r;
	int		 fd;
	bool		 empty;
	enum lw_err	 e = LW_OK;
	struct person	 who, *sv;
	struct correspondent c, *cv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(lc->err, lc->errlen, "%s:1:1: %s: %s", path, key,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return LW_EIO;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > NAMES_MAX_BYTES) {
		close(fd);
		snprintf(lc->err, lc->errlen, "%s:1:1: %s: %s", path, key,
		    S_ISREG(st.st_mode) ? "file too large" :
		    "not a regular file");
		return LW_EINVAL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return LW_ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		snprintf(lc->err, lc->errlen, "%s:1:1: %s: NUL bytes are not "
		    "allowed", path, key);
		return LW_EINVAL;
	}
	memset(&who, 0, sizeof(who));
	memset(&c, 0, sizeof(c));
	for (line = buf; line != NULL && e == LW_OK; line = next) {
		lineno++;
		if ((next = memchr(line, '\n', len - (line - buf))) != NULL)
			*next++ = '\0';
		nlen = strlen(line);
		if (nlen > 0 && line[nlen - 1] == '\r')
			line[--nlen] = '\0';
		if (u8_check((const uint8_t *)line, nlen) != NULL) {
			snprintf(lc->err, lc->errlen,
			    "%s:%zu:1: %s: not valid UTF-8", path, lineno, key);
			e = LW_EINVAL;
			break;
		}
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		for (f = line; f != NULL && e == LW_OK; f = fnext) {
			if ((fnext = strchr(f, '\t')) != NULL)
				*fnext++ = '\0';
			f += strspn(f, " ");
			nlen = strlen(f);
			while (nlen > 0 && f[nlen - 1] == ' ')
				f[--nlen] = '\0';
			if (*f == '\0')
				continue;
			if (corr && *f == '@') {
				if (!domain_norm(f + 1) || f[1] == '\0') {
					snprintf(lc->err, lc->errlen,
					    "%s:%zu:%zu: %s: not a domain "
					    "name", path, lineno,
					    (size_t)(f - line) + 1, key);
					e = LW_EINVAL;
					break;
				}
				if ((dv = reallocarray(c.domains,
				    c.ndomains + 1, sizeof(*dv))) == NULL) {
					e = LW_ENOMEM;
					break;
				}
				c.domains = dv;
				if ((c.domains[c.ndomains] = strdup(f + 1)) ==
				    NULL) {
					e = LW_ENOMEM;
					break;
				}
				c.ndomains++;
				continue;
			}
			if ((e = person_add_name(&who, f, &empty)) != LW_OK)
				break;
			if (empty) {
				snprintf(lc->err, lc->errlen,
				    "%s:%zu:%zu: %s: name is empty once "
				    "normalized", path, lineno,
				    (size_t)(f - line) + 1, key);
				e = LW_EINVAL;
			}
		}
		if (e != LW_OK)
			break;
		if (corr && (who.n == 0 || c.ndomains == 0)) {
			snprintf(lc->err, lc->errlen, "%s:%zu:1: %s: need "
			    "at least one name and one @domain", path, lineno,
			    key);
			e = LW_EINVAL;
			break;
		}
		if (who.n == 0)
			continue;
		if (corr) {
			if ((cv = reallocarray(*corrp, *ncorrp + 1,
			    sizeof(*cv))) == NULL) {
				e = LW_ENOMEM;
				break;
			}
			*corrp = cv;
			c.who = who;
			cv[(*ncorrp)++] = c;
		} else {
			if ((sv = reallocarray(*staffp, *nstaffp + 1,
			    sizeof(*sv))) == NULL) {
				e = LW_ENOMEM;
				break;
			}
			*staffp = sv;
			sv[(*nstaffp)++] = who;
		}
		memset(&who, 0, sizeof(who));
		memset(&c, 0, sizeof(c));
	}
	person_free(&who);
	y_strlist_free(c.domains, c.ndomains);
	free(buf);
	return e;
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
	enum lw_err	 e;

	if ((e = y_map(d, n, "thresholds", keys, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	for (i = 0; keys[i] != NULL; i++) {
		if (y_get(n, keys[i]) == NULL)
			continue;
		snprintf(path, sizeof(path), "thresholds.%s", keys[i]);
		if ((e = y_int(d, y_get(n, keys[i]), path, 1, THRESHOLD_MAX,
		    &v, lc->err, lc->errlen)) != LW_OK)
			return e;
		*slot[i] = (int)v;
	}
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
 * tag.subject_prefix: one text for every language, or a map by
 * language ({en: "[SUSPICIOUS]", ja: "[要注意]"}) merged key by key;
 * the policy's language picks one (resolve_language).
 */
static enum lw_err
apply_tag(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	static const char *const keys[] = { "subject_prefix", "headers",
	    NULL };
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
	if ((v = y_get(n, "headers")) != NULL)
		return y_bool(d, v, "tag.headers", &p->tag_headers, lc->err,
		    lc->errlen);
	return LW_OK;
}

static enum lw_err
apply_language(const struct ydoc *d, const struct ynode *n,
    struct policy *p, struct loadctx *lc)
{
	char		*s;
	size_t		 i;
	enum lw_err	 e;

	if ((e = y_string(d, n, "language", &s, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	for (i = 0; i < LANG_N; i++)
		if (strcmp(s, policy_lang_names[i]) == 0)
			break;
	free(s);
	if (i == LANG_N)
		return yerr(d, n, "language", lc->err, lc->errlen,
		    "expected en or ja");
	p->language = (enum policy_lang)i;
	return LW_OK;
}

/* The prefix of the policy's language, once the file is applied. */
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
	char			*s;
	enum lw_err		 e;

	if ((e = y_map(d, n, "quarantine", keys, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	if ((v = y_get(n, "then")) == NULL)
		return LW_OK;
	if ((e = y_string(d, v, "quarantine.then", &s, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	if (strcmp(s, "discard") == 0)
		p->quarantine_then = QTHEN_DISCARD;
	else if (strcmp(s, "reject") == 0)
		p->quarantine_then = QTHEN_REJECT;
	else if (strcmp(s, "hold") == 0)
		p->quarantine_then = QTHEN_HOLD;
	else
		e = yerr(d, v, "quarantine.then", lc->err, lc->errlen,
		    "expected discard, reject or hold");
	free(s);
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
	if ((e = y_string(d, v, "split_password.on_timeout", &s, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	if (strcmp(s, "release-tagged") == 0)
		p->split_on_timeout = SPLIT_RELEASE_TAGGED;
	else if (strcmp(s, "keep") == 0)
		p->split_on_timeout = SPLIT_KEEP;
	else if (strcmp(s, "release") == 0)
		p->split_on_timeout = SPLIT_RELEASE;
	else
		e = yerr(d, v, "split_password.on_timeout", lc->err,
		    lc->errlen, "expected release-tagged, keep or release");
	free(s);
	return e;
}

/* "90", "90s", "10m", "2h", "1d" -> seconds in [1, OUTBOUND_WINDOW_MAX]. */
static enum lw_err
get_duration(const struct ydoc *d, const struct ynode *v, const char *path,
    unsigned *out, struct loadctx *lc)
{
	unsigned long long	 n = 0, mul = 1;
	const char		*s;
	size_t			 i;

	if (v->kind != YNODE_SCALAR || !v->plain)
		return yerr(d, v, path, lc->err, lc->errlen,
		    "expected a duration like 600, 90s, 10m, 2h or 1d");
	s = v->str;
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 12; i++)
		n = n * 10 + (unsigned)(s[i] - '0');
	if (i > 0 && s[i] != '\0' && s[i + 1] == '\0') {
		switch (s[i]) {
		case 's': mul = 1; i++; break;
		case 'm': mul = 60; i++; break;
		case 'h': mul = 3600; i++; break;
		case 'd': mul = 86400; i++; break;
		}
	}
	if (i == 0 || s[i] != '\0' || v->len != i)
		return yerr(d, v, path, lc->err, lc->errlen,
		    "expected a duration like 600, 90s, 10m, 2h or 1d");
	if (n == 0 || n > OUTBOUND_WINDOW_MAX / mul)
		return yerr(d, v, path, lc->err, lc->errlen,
		    "must be 1s to 7d");
	*out = (unsigned)(n * mul);
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
	char			*s;
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
	if ((e = y_string(d, v, "outbound.action", &s, lc->err,
	    lc->errlen)) != LW_OK)
		return e;
	if (strcmp(s, "hold") == 0)
		p->outbound.action = OUTBOUND_HOLD;
	else if (strcmp(s, "tempfail") == 0)
		p->outbound.action = OUTBOUND_TEMPFAIL;
	else
		e = yerr(d, v, "outbound.action", lc->err, lc->errlen,
		    "expected hold or tempfail");
	free(s);
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
	if ((e = get_list(d, n, key, kind, &v, &nv, lc)) != LW_OK)
		return e;
	y_strlist_free(*field, *nfield);
	*field = v;
	*nfield = nv;
	return LW_OK;
}

/* A path key relative to the policy file. */
static enum lw_err
get_file(const struct ydoc *d, const struct ynode *n, const char *key,
    char **out, struct loadctx *lc)
{
	char		*s;
	enum lw_err	 e;

	*out = NULL;
	if (y_isnull(n))
		return LW_OK;
	if ((e = y_string(d, n, key, &s, lc->err, lc->errlen)) != LW_OK)
		return e;
	if (*s == '\0') {
		free(s);
		return yerr(d, n, key, lc->err, lc->errlen,
		    "must not be empty");
	}
	*out = y_path_resolve(lc->policy_dir, s);
	free(s);
	return *out == NULL ? LW_ENOMEM : LW_OK;
}

static enum lw_err
apply_staff(const struct ydoc *d, const struct ynode *root,
    struct policy *p, struct loadctx *lc)
{
	const struct ynode	*list, *file;
	struct person		*v = NULL;
	size_t			 nv = 0, i;
	char			*fname = NULL, path[64];
	enum lw_err		 e = LW_OK;

	list = y_get(root, "staff_names");
	file = y_get(root, "staff_names_file");
	if (list == NULL && file == NULL)
		return LW_OK;
	if (list != NULL && !y_isnull(list)) {
		if (list->kind != YNODE_SEQ)
			return yerr(d, list, "staff_names", lc->err,
			    lc->errlen, "expected a list, got %s",
			    y_kindname(list));
		if (list->n > 0 &&
		    (v = calloc(list->n, sizeof(*v))) == NULL)
			return LW_ENOMEM;
		for (i = 0; i < list->n; i++) {
			snprintf(path, sizeof(path), "staff_names[%zu]", i);
			if ((e = person_from_yaml(d, list->v[i], path, &v[nv],
			    lc)) != LW_OK)
				goto out_staff;
			nv++;
		}
	}
	if (file != NULL) {
		if ((e = get_file(d, file, "staff_names_file", &fname, lc)) !=
		    LW_OK)
			goto out_staff;
		if (fname != NULL && (e = names_file(fname,
		    "staff_names_file", false, &v, &nv, NULL, NULL, lc)) !=
		    LW_OK)
			goto out_staff;
	}
	staff_free(p->staff, p->nstaff);
	free(p->staff_names_file);
	p->staff = v;
	p->nstaff = nv;
	p->staff_names_file = fname;
	return LW_OK;

 out_staff:
	free(fname);
	staff_free(v, nv);
	return e;
}

static enum lw_err
corr_from_yaml(const struct ydoc *d, const struct ynode *n,
    const char *path, struct correspondent *c, struct loadctx *lc)
{
	static const char *const keys[] = { "names", "domains", NULL };
	const struct ynode	*names, *doms;
	char			 p[96];
	enum lw_err		 e;

	memset(c, 0, sizeof(*c));
	if (n->kind != YNODE_MAP)
		return yerr(d, n, path, lc->err, lc->errlen,
		    "expected a map {names: [...], domains: [...]}, got %s",
		    y_kindname(n));
	if ((e = y_map(d, n, path, keys, lc->err, lc->errlen)) != LW_OK)
		return e;
	names = y_get(n, "names");
	doms = y_get(n, "domains");
	if (names == NULL || doms == NULL)
		return yerr(d, n, path, lc->err, lc->errlen,
		    "needs both names and domains");
	snprintf(p, sizeof(p), "%s.names", path);
	if ((e = person_from_yaml(d, names, p, &c->who, lc)) != LW_OK)
		return e;
	snprintf(p, sizeof(p), "%s.domains", path);
	if ((e = get_list(d, doms, p, 'd', &c->domains, &c->ndomains, lc)) !=
	    LW_OK) {
		person_free(&c->who);
		return e;
	}
	if (c->ndomains == 0) {
		person_free(&c->who);
		return yerr(d, doms, p, lc->err, lc->errlen,
		    "needs at least one domain");
	}
	return LW_OK;
}

static enum lw_err
apply_correspondents(const struct ydoc *d, const struct ynode *root,
    struct policy *p, struct loadctx *lc)
{
	const struct ynode	*list, *file;
	struct correspondent	*v = NULL;
	size_t			 nv = 0, i;
	char			*fname = NULL, path[64];
	enum lw_err		 e = LW_OK;

	list = y_get(root, "correspondents");
	file = y_get(root, "correspondents_file");
	if (list == NULL && file == NULL)
		return LW_OK;
	if (list != NULL && !y_isnull(list)) {
		if (list->kind != YNODE_SEQ)
			return yerr(d, list, "correspondents", lc->err,
			    lc->errlen, "expected a list, got %s",
			    y_kindname(list));
		if (list->n > 0 &&
		    (v = calloc(list->n, sizeof(*v))) == NULL)
			return LW_ENOMEM;
		for (i = 0; i < list->n; i++) {
			snprintf(path, sizeof(path), "correspondents[%zu]", i);
			if ((e = corr_from_yaml(d, list->v[i], path, &v[nv],
			    lc)) != LW_OK)
				goto out_corr;
			nv++;
		}
	}
	if (file != NULL) {
		if ((e = get_file(d, file, "correspondents_file", &fname,
		    lc)) != LW_OK)
			goto out_corr;
		if (fname != NULL && (e = names_file(fname,
		    "correspondents_file", true, NULL, NULL, &v, &nv, lc)) !=
		    LW_OK)
			goto out_corr;
	}
	corr_free(p->correspondents, p->ncorrespondents);
	free(p->correspondents_file);
	p->correspondents = v;
	p->ncorrespondents = nv;
	p->correspondents_file = fname;
	return LW_OK;

 out_corr:
	free(fname);
	corr_free(v, nv);
	return e;
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
	if (n->kind != YNODE_MAP)
		return yerr(d, n, path, lc->err, lc->errlen,
		    "expected a map {name, where, pattern, score}, got %s",
		    y_kindname(n));
	if ((e = y_map(d, n, path, keys, lc->err, lc->errlen)) != LW_OK)
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

static enum lw_err
apply_rules(const struct ydoc *d, const struct ynode *n, struct policy *p,
    struct loadctx *lc)
{
	struct custom_rule	*v = NULL;
	size_t			 nv = 0, i, j;
	char			 path[64];
	enum lw_err		 e = LW_OK;

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
	for (i = 0; v != NULL && i < n->n; i++) {
		snprintf(path, sizeof(path), "rules[%zu]", i);
		if ((e = rule_from_yaml(d, n->v[i], path, &v[nv], lc)) !=
		    LW_OK)
			goto out_rules;
		nv++;
		for (j = 0; j < i; j++)
			if (strcmp(v[j].name, v[i].name) == 0) {
				snprintf(path, sizeof(path), "rules[%zu].name",
				    i);
				e = yerr(d, y_get(n->v[i], "name"), path,
				    lc->err, lc->errlen, "%s is already "
				    "defined by rules[%zu]", v[i].name, j);
				goto out_rules;
			}
	}
	/* A custom rule's score goes into the scores table. */
	for (i = 0; i < nv; i++)
		if ((e = score_set(p, v[i].name, v[i].score)) != LW_OK)
			goto out_rules;
	rules_custom_free(p->rules, p->nrules);
	p->rules = v;
	p->nrules = nv;
	return LW_OK;

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
	char			 path[96];
	long long		 v;
	size_t			 i;
	enum lw_err		 e;

	if ((e = y_map(d, n, "scores", NULL, lc->err, lc->errlen)) != LW_OK)
		return e;
	for (i = 0; !y_isnull(n) && i < n->n; i++) {
		k = YMAP_KEY(n, i);
		snprintf(path, sizeof(path), "scores.%.64s", k->str);
		/* A typo must not silently score 0. */
		if (rules_find(k->str) == NULL && !has_rule(p, k->str) &&
		    !has_rule(def, k->str))
			return yerr(d, k, path, lc->err, lc->errlen,
			    "unknown rule (neither built-in nor defined "
			    "under rules:)");
		if ((e = y_int(d, YMAP_VAL(n, i), path, SCORE_MIN, SCORE_MAX,
		    &v, lc->err, lc->errlen)) != LW_OK)
			return e;
		if ((e = score_set(p, k->str, (int)v)) != LW_OK)
			return e;
	}
	return LW_OK;
}

/*
 * Apply the keys of one file to p (the built-in policy for default.yaml,
 * a copy of the default for a domain file).  def is NULL for
 * default.yaml.
 */
static enum lw_err
policy_apply(const struct ydoc *d, struct policy *p,
    const struct policy *def, struct loadctx *lc)
{
	const struct ynode	*root = d->root, *n;
	enum lw_err		 e;

	if (root != NULL && root->kind != YNODE_MAP && !y_isnull(root))
		return yerr(d, root, NULL, lc->err, lc->errlen,
		    "a policy file is a map of keys, got %s",
		    y_kindname(root));
	if ((e = y_map(d, root, NULL, policy_keys, lc->err, lc->errlen)) !=
	    LW_OK)
		return e;
	n = y_get(root, "domains");
	if (def == NULL && n != NULL)
		return yerr(d, n, "domains", lc->err, lc->errlen,
		    "default.yaml covers every domain no other file lists; "
		    "put domains in a file of their own");
	if (def != NULL) {
		if (n == NULL)
			return yerr(d, root, "domains", lc->err, lc->errlen,
			    "missing: a domain policy must list the recipient "
			    "domains it covers");
		if ((e = apply_list(d, root, "domains", 'd', &p->domains,
		    &p->ndomains, lc)) != LW_OK)
			return e;
		if (p->ndomains == 0)
			return yerr(d, n, "domains", lc->err, lc->errlen,
			    "must list at least one domain");
	}
	if ((n = y_get(root, "thresholds")) != NULL &&
	    (e = apply_thresholds(d, n, p, lc)) != LW_OK)
		return e;
	if ((n = y_get(root, "language")) != NULL &&
	    (e = apply_language(d, n, p, lc)) != LW_OK)
		return e;
	if ((n = y_get(root, "tag")) != NULL &&
	    (e = apply_tag(d, n, p, lc)) != LW_OK)
		return e;
	if ((e = resolve_language(p)) != LW_OK)
		return e;
	if ((n = y_get(root, "reject_text")) != NULL &&
	    (e = apply_reject_text(d, n, p, lc)) != LW_OK)
		return e;
	if ((n = y_get(root, "quarantine")) != NULL &&
	    (e = apply_quarantine(d, n, p, lc)) != LW_OK)
		return e;
	if ((n = y_get(root, "split_password")) != NULL &&
	    (e = apply_split_password(d, n, p, lc)) != LW_OK)
		return e;
	if ((n = y_get(root, "outbound")) != NULL &&
	    (e = apply_outbound(d, n, p, lc)) != LW_OK)
		return e;
	if ((e = apply_list(d, root, "macro_senders", 'a', &p->macro_senders,
	    &p->nmacro_senders, lc)) != LW_OK ||
	    (e = apply_list(d, root, "trusted_senders", 'a',
	    &p->trusted_senders, &p->ntrusted_senders, lc)) != LW_OK ||
	    (e = apply_list(d, root, "internal_domains", 'd',
	    &p->internal_domains, &p->ninternal_domains, lc)) != LW_OK ||
	    (e = apply_list(d, root, "reply_prefixes", 's',
	    &p->reply_prefixes, &p->nreply_prefixes, lc)) != LW_OK)
		return e;
	if ((e = apply_staff(d, root, p, lc)) != LW_OK ||
	    (e = apply_correspondents(d, root, p, lc)) != LW_OK)
		return e;
	/* Rules before scores: scores may name the rules just defined. */
	if ((n = y_get(root, "rules")) != NULL &&
	    (e = apply_rules(d, n, p, lc)) != LW_OK)
		return e;
	if ((n = y_get(root, "scores")) != NULL &&
	    (e = apply_scores(d, n, p, def, lc)) != LW_OK)
		return e;
	return LW_OK;
}

/* Loading a directory */

/* Where each domain was listed, to report a duplicate precisely. */
struct dompos {
	const char	*domain;
	struct policy	*policy;
	unsigned long	 line, col;
	size_t		 seq;		/* load order */
	size_t		 idx;		/* in the file's domains list */
};

static enum lw_err
load_file(const char *dir, const char *fname, const struct policy *def,
    struct policy **out, struct dompos **pos, size_t *npos,
    struct loadctx *lc)
{
	struct ydoc		*d = NULL;
	struct policy		*p = NULL;
	struct dompos		*np;
	const struct ynode	*dn;
	char			*path;
	size_t			 i;
	enum lw_err		 e;

	if ((path = y_path_resolve(dir, fname)) == NULL)
		return LW_ENOMEM;
	lc->policy_dir = dir;
	if ((e = ydoc_load(path, POLICY_MAX_BYTES, &d, lc->err,
	    lc->errlen)) != LW_OK)
		goto out_path;
	e = def == NULL ? policy_builtin(&p) : policy_copy(def, &p);
	if (e != LW_OK)
		goto out_doc;
	free(p->name);
	free(p->file);
	p->file = path;
	path = NULL;
	if ((p->name = strndup(fname, strlen(fname) - 5)) == NULL) {
		e = LW_ENOMEM;
		goto out_policy;
	}
	if ((e = policy_apply(d, p, def, lc)) != LW_OK)
		goto out_policy;
	if (p->ndomains > 0) {
		dn = y_get(d->root, "domains");
		if ((np = reallocarray(*pos, *npos + p->ndomains,
		    sizeof(*np))) == NULL) {
			e = LW_ENOMEM;
			goto out_policy;
		}
		*pos = np;
		for (i = 0; i < p->ndomains; i++) {
			np[*npos].domain = p->domains[i];
			np[*npos].policy = p;
			np[*npos].line = dn->v[i]->line;
			np[*npos].col = dn->v[i]->col;
			np[*npos].seq = *npos;
			np[*npos].idx = i;
			(*npos)++;
		}
	}
	ydoc_free(d);
	*out = p;
	return LW_OK;

 out_policy:
	policy_free(p);
 out_doc:
	ydoc_free(d);
 out_path:
	free(path);
	return e;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_policy_name(const char *n)
{
	size_t	len = strlen(n);

	return n[0] != '.' && len > 5 && strcmp(n + len - 5, ".yaml") == 0;
}

/* Sorted *.yaml names of dir. */
static enum lw_err
list_dir(const char *dir, char ***out, size_t *nout, struct loadctx *lc)
{
	DIR		 *dp;
	struct dirent	 *de;
	char		**v = NULL, **nv;
	size_t		  n = 0;
	enum lw_err	  e = LW_OK;

	if ((dp = opendir(dir)) == NULL) {
		snprintf(lc->err, lc->errlen, "%s: %s", dir, strerror(errno));
		return LW_EIO;
	}
	while ((de = readdir(dp)) != NULL) {
		if (!is_policy_name(de->d_name))
			continue;
		if (n == POLICY_MAX_FILES) {
			snprintf(lc->err, lc->errlen, "%s: more than %d "
			    "policy files", dir, POLICY_MAX_FILES);
			e = LW_EINVAL;
			break;
		}
		if ((nv = reallocarray(v, n + 1, sizeof(*v))) == NULL) {
			e = LW_ENOMEM;
			break;
		}
		v = nv;
		if ((v[n] = strdup(de->d_name)) == NULL) {
			e = LW_ENOMEM;
			break;
		}
		n++;
	}
	closedir(dp);
	if (e != LW_OK) {
		y_strlist_free(v, n);
		return e;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), strp_cmp);
	*out = v;
	*nout = n;
	return LW_OK;
}

static int
dompos_cmp(const void *a, const void *b)
{
	const struct dompos	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->domain, y->domain)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort every listed domain; a domain listed twice is an error. */
static enum lw_err
build_index(struct policyset *s, struct dompos *pos, size_t npos,
    struct loadctx *lc)
{
	struct policy_domain	*ix;
	const struct dompos	*a, *b;
	size_t			 i;

	if (npos == 0)
		return LW_OK;
	qsort(pos, npos, sizeof(*pos), dompos_cmp);
	for (i = 1; i < npos; i++) {
		a = &pos[i - 1];
		b = &pos[i];
		if (strcmp(a->domain, b->domain) != 0)
			continue;
		snprintf(lc->err, lc->errlen, "%s:%lu:%lu: domains[%zu]: "
		    "%s is listed twice (also at %s:%lu:%lu)",
		    b->policy->file, b->line, b->col, b->idx, b->domain,
		    a->policy->file, a->line, a->col);
		return LW_EINVAL;
	}
	if ((ix = calloc(npos, sizeof(*ix))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < npos; i++) {
		ix[i].domain = pos[i].domain;
		ix[i].policy = pos[i].policy;
	}
	s->index = ix;
	s->nindex = npos;
	return LW_OK;
}

enum lw_err
policy_load_dir(const char *dir, const struct limits *limits,
    struct policyset **out, char *err, size_t errlen)
{
	struct loadctx	 lc = { err, errlen, dir };
	struct policyset *s;
	struct dompos	*pos = NULL;
	char		**names = NULL;
	size_t		  nnames = 0, npos = 0, i;
	bool		  have_default = false;
	enum lw_err	  e;

	if ((e = list_dir(dir, &names, &nnames, &lc)) != LW_OK)
		return e;
	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], "default.yaml") == 0)
			have_default = true;
	if (!have_default) {
		snprintf(err, errlen, "%s/default.yaml: missing (every policy "
		    "directory needs the default policy)", dir);
		y_strlist_free(names, nnames);
		return LW_EINVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		y_strlist_free(names, nnames);
		return LW_ENOMEM;
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		y_strlist_free(names, nnames);
		return LW_EINTERNAL;
	}
	s->refs = 1;
	if (limits != NULL)
		s->limits = *limits;
	else
		limits_default(&s->limits);
	if ((e = load_file(dir, "default.yaml", NULL, &s->def, &pos, &npos,
	    &lc)) != LW_OK)
		goto out_set;
	if (nnames > 1 &&
	    (s->v = calloc(nnames - 1, sizeof(*s->v))) == NULL) {
		e = LW_ENOMEM;
		goto out_set;
	}
	for (i = 0; i < nnames; i++) {
		if (strcmp(names[i], "default.yaml") == 0)
			continue;
		if ((e = load_file(dir, names[i], s->def, &s->v[s->n], &pos,
		    &npos, &lc)) != LW_OK)
			goto out_set;
		s->n++;
	}
	if ((e = build_index(s, pos, npos, &lc)) != LW_OK)
		goto out_set;
	free(pos);
	y_strlist_free(names, nnames);
	*out = s;
	return LW_OK;

 out_set:
	if (e == LW_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", dir);
	free(pos);
	y_strlist_free(names, nnames);
	policyset_free(s);
	return e;
}

static int
domain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy_domain *)a)->domain,
	    ((const struct policy_domain *)b)->domain);
}

const struct policy *
policyset_for_domain(const struct policyset *s, const char *domain)
{
	struct policy_domain	 key, *hit;
	char			 buf[256], *d;
	size_t			 len;

	if (domain == NULL || s->nindex == 0)
		return s->def;
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return s->def;
	memcpy(buf, domain, len);
	buf[len] = '\0';
	lw_strlower(buf);
	/* The exact domain, then each parent, longest first. */
	for (d = buf; d != NULL && *d != '\0'; ) {
		key.domain = d;
		if ((hit = bsearch(&key, s->index, s->nindex, sizeof(key),
		    domain_cmp)) != NULL)
			return hit->policy;
		if ((d = strchr(d, '.')) != NULL)
			d++;
	}
	return s->def;
}

bool
policy_addr_listed(char *const *list, size_t n, const char *addr)
{
	const char	*at;
	size_t		 i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		if (list[i][0] == '@') {
			if (strcasecmp(list[i] + 1, at + 1) == 0)
				return true;
		} else if (strcasecmp(list[i], addr) == 0)
			return true;
	}
	return false;
}

/* check-config: the resolved policy as YAML */

static void
print_list(FILE *f, const char *key, char *const *v, size_t n)
{
	size_t	i;

	fprintf(f, "%s: [", key);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		y_print_str(f, v[i]);
	}
	fputs("]\n", f);
}

static void
print_inline_list(FILE *f, char *const *v, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		y_print_str(f, v[i]);
	}
	fputc(']', f);
}

void
policy_print(const struct policy *p, FILE *f)
{
	static const char *const wheres[] = { "subject", "from_name",
	    "from_addr", "body", "header" };
	static const char *const thens[] = { "discard", "reject", "hold" };
	static const char *const timeouts[] = { "release-tagged", "keep",
	    "release" };
	size_t	i;

	fprintf(f, "# policy %s from %s\n", p->name, p->file);
	print_list(f, "domains", p->domains, p->ndomains);
	fprintf(f, "thresholds:\n  tag: %d\n  quarantine: %d\n"
	    "  reject: %d\n", p->th_tag, p->th_quarantine, p->th_reject);
	fputs("scores:\n", f);
	for (i = 0; i < p->nscores; i++)
		fprintf(f, "  %s: %d\n", p->scores[i].rule,
		    p->scores[i].score);
	fprintf(f, "language: %s\ntag:\n  subject_prefix:\n",
	    policy_lang_names[p->language]);
	for (i = 0; i < LANG_N; i++) {
		fprintf(f, "    %s: ", policy_lang_names[i]);
		y_print_str(f, p->prefixes[i]);
		fputc('\n', f);
	}
	fprintf(f, "  headers: %s\n", p->tag_headers ? "true" : "false");
	fputs("reject_text: ", f);
	y_print_str(f, p->reject_text);
	fprintf(f, "\nquarantine:\n  then: %s\n",
	    thens[p->quarantine_then]);
	if (p->split_wait > 0)
		fprintf(f, "split_password:\n  wait: %us\n  on_timeout: %s\n",
		    p->split_wait, timeouts[p->split_on_timeout]);
	print_list(f, "macro_senders", p->macro_senders, p->nmacro_senders);
	print_list(f, "trusted_senders", p->trusted_senders,
	    p->ntrusted_senders);
	print_list(f, "internal_domains", p->internal_domains,
	    p->ninternal_domains);
	print_list(f, "reply_prefixes", p->reply_prefixes,
	    p->nreply_prefixes);
	fprintf(f, "# %zu people, from staff_names and staff_names_file\n",
	    p->nstaff);
	fputs(p->nstaff ? "staff_names:\n" : "staff_names: []\n", f);
	for (i = 0; i < p->nstaff; i++) {
		fputs("  - ", f);
		print_inline_list(f, p->staff[i].names, p->staff[i].n);
		fputc('\n', f);
	}
	fputs("staff_names_file: ", f);
	y_print_str(f, p->staff_names_file);
	fputc('\n', f);
	fprintf(f, "# %zu correspondents, from correspondents and "
	    "correspondents_file\n", p->ncorrespondents);
	fputs(p->ncorrespondents ? "correspondents:\n" :
	    "correspondents: []\n", f);
	for (i = 0; i < p->ncorrespondents; i++) {
		fputs("  - {names: ", f);
		print_inline_list(f, p->correspondents[i].who.names,
		    p->correspondents[i].who.n);
		fputs(", domains: ", f);
		print_inline_list(f, p->correspondents[i].domains,
		    p->correspondents[i].ndomains);
		fputs("}\n", f);
	}
	fputs("correspondents_file: ", f);
	y_print_str(f, p->correspondents_file);
	fputc('\n', f);
	fprintf(f, "outbound:\n  window: %u\n  max_lures: %u\n"
	    "  max_new_rcpts: %u\n  action: %s\n", p->outbound.window,
	    p->outbound.max_lures, p->outbound.max_new_rcpts,
	    p->outbound.action == OUTBOUND_TEMPFAIL ? "tempfail" : "hold");
	fputs(p->nrules ? "rules:\n" : "rules: []\n", f);
	for (i = 0; i < p->nrules; i++) {
		fprintf(f, "  - name: %s\n    where: ", p->rules[i].name);
		if (p->rules[i].where == WHERE_HEADER)
			fprintf(f, "\"header:%s\"\n", p->rules[i].header);
		else
			fprintf(f, "%s\n", wheres[p->rules[i].where]);
		fputs("    pattern: ", f);
		y_print_str(f, p->rules[i].pattern);
		fprintf(f, "\n    caseless: %s\n    score: %d\n",
		    p->rules[i].caseless ? "true" : "false",
		    p->rules[i].score);
	}
}
