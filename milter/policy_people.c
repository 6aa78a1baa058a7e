/*
 * policy_people.c: the people a policy knows, from its YAML and from
 * names files: staff_names / staff_names_file (the domain's own staff)
 * and correspondents / correspondents_file (partners, each with the
 * domains they send from).  Each name is kept as written, as its
 * names_key() comparison key and as that key's lookalike skeleton.
 *
 * Names files: UTF-8 text, one entry a line, tab-separated fields; at
 * most NAMES_MAX_BYTES.  Errors name file, line, column and key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unistr.h>

#include "lookalike.h"
#include "names.h"
#include "policy.h"
#include "policy_int.h"
#include "util.h"
#include "yamlutil.h"

#define NAMES_MAX_BYTES		(16 << 20)	/* a staff/correspondents file */

static enum lw_err
person_add_name(struct person *p, const char *name, bool *empty)
{
	char	**nn, **nk, **ns, *n, *k, *s;

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
	if ((ns = reallocarray(p->skels, p->n + 1, sizeof(*ns))) == NULL)
		goto out_strings;
	p->skels = ns;
	/* NULL (ICU failed): names_person_match computes it per message. */
	s = lookalike_skeleton(k);
	p->names[p->n] = n;
	p->keys[p->n] = k;
	p->skels[p->n] = s;
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
	lw_strv_free(names, nn);
	if (e != LW_OK)
		policy_person_free(p);
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
	char		*buf = NULL, *line, *next, *f, *fnext, **dv;
	size_t		 len = 0, lineno = 0, nlen;
	bool		 empty;
	enum lw_err	 e = LW_OK;
	struct person	 who, *sv;
	struct correspondent c, *cv;

	e = lw_read_file(AT_FDCWD, path, false, NAMES_MAX_BYTES, &buf, &len);
	if (e == LW_ENOTFOUND || e == LW_EIO) {
		snprintf(lc->err, lc->errlen, "%s:1:1: %s: %s", path, key,
		    strerror(errno));
		return LW_EIO;
	}
	if (e == LW_EMALFORMED || e == LW_ELIMIT) {
		snprintf(lc->err, lc->errlen, "%s:1:1: %s: %s", path, key,
		    e == LW_ELIMIT ? "file too large" : "not a regular file");
		return LW_EINVAL;
	}
	if (e != LW_OK)
		return e;
	e = LW_OK;
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
				if (!policy_domain_norm(f + 1) || f[1] == '\0') {
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
	policy_person_free(&who);
	lw_strv_free(c.domains, c.ndomains);
	free(buf);
	return e;
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
corr_from_yaml(const struct ydoc *d, const struct ynode *n,
    const char *path, struct correspondent *c, struct loadctx *lc)
{
	static const char *const keys[] = { "names", "domains", NULL };
	const struct ynode	*names, *doms;
	char			 p[96];
	enum lw_err		 e;

	memset(c, 0, sizeof(*c));
	if ((e = y_entry(d, n, path, keys, "{names: [...], domains: [...]}",
	    lc->err, lc->errlen)) != LW_OK)
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
	if ((e = policy_get_list(d, doms, p, 'd', &c->domains, &c->ndomains, lc)) !=
	    LW_OK) {
		policy_person_free(&c->who);
		return e;
	}
	if (c->ndomains == 0) {
		policy_person_free(&c->who);
		return yerr(d, doms, p, lc->err, lc->errlen,
		    "needs at least one domain");
	}
	return LW_OK;
}

/*
 * staff_names and staff_names_file, or correspondents and
 * correspondents_file: the list and the file count as one setting, so
 * a file that sets either replaces both (corr selects which pair).
 */
enum lw_err
policy_people_apply(const struct ydoc *d, const struct ynode *root,
    struct policy *p, bool corr, struct loadctx *lc)
{
	const char		*lkey, *fkey;
	const struct ynode	*list, *file;
	struct person		*sv = NULL;
	struct correspondent	*cv = NULL;
	size_t			 nv = 0, i;
	char			*fname = NULL, path[64];
	enum lw_err		 e = LW_OK;

	lkey = corr ? "correspondents" : "staff_names";
	fkey = corr ? "correspondents_file" : "staff_names_file";
	list = y_get(root, lkey);
	file = y_get(root, fkey);
	if (list == NULL && file == NULL)
		return LW_OK;
	if (list != NULL && !y_isnull(list)) {
		if (list->kind != YNODE_SEQ)
			return yerr(d, list, lkey, lc->err, lc->errlen,
			    "expected a list, got %s", y_kindname(list));
		if (list->n > 0 && (corr ?
		    (cv = calloc(list->n, sizeof(*cv))) == NULL :
		    (sv = calloc(list->n, sizeof(*sv))) == NULL))
			return LW_ENOMEM;
		for (i = 0; i < list->n; i++) {
			snprintf(path, sizeof(path), "%s[%zu]", lkey, i);
			e = corr ?
			    corr_from_yaml(d, list->v[i], path, &cv[nv], lc) :
			    person_from_yaml(d, list->v[i], path, &sv[nv], lc);
			if (e != LW_OK)
				goto out_people;
			nv++;
		}
	}
	if (file != NULL) {
		if ((e = get_file(d, file, fkey, &fname, lc)) != LW_OK)
			goto out_people;
		if (fname != NULL && (e = names_file(fname, fkey, corr, &sv,
		    &nv, &cv, &nv, lc)) != LW_OK)
			goto out_people;
	}
	if (corr) {
		policy_corr_free(p->correspondents, p->ncorrespondents);
		free(p->correspondents_file);
		p->correspondents = cv;
		p->ncorrespondents = nv;
		p->correspondents_file = fname;
	} else {
		policy_staff_free(p->staff, p->nstaff);
		free(p->staff_names_file);
		p->staff = sv;
		p->nstaff = nv;
		p->staff_names_file = fname;
	}
	return LW_OK;

 out_people:
	free(fname);
	if (corr)
		policy_corr_free(cv, nv);
	else
		policy_staff_free(sv, nv);
	return e;
}
