/*
 * policy_yaml.c: loading conf/policy.d/NAME.yaml into a policyset.
 *
 * Takes a policy directory; reads default.yaml first (applied on the
 * built-in policy), then each domain file as a deep copy of the default
 * (policy_copy) with the file's keys applied on top (policy_apply.c),
 * and indexes the listed domains (a domain listed twice is an error).
 *
 * Errors name file, line, column and key path; every file is read even
 * after one failed.  Bounds: file sizes, files per directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_int.h"
#include "yamlutil.h"

#define POLICY_MAX_BYTES	(4 << 20)	/* one policy file */
#define POLICY_MAX_FILES	10000

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
		lw_strv_free(v, n);
		return e;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), lw_strp_cmp);
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

/*
 * After a file's errors: the next file's go on the next line of the
 * caller's buffer (each file's yerr starts its own count).
 */
static void
next_err(struct loadctx *lc)
{
	size_t	n = strnlen(lc->err, lc->errlen);

	if (n + 2 >= lc->errlen) {
		/* Full: later files write nothing, and overwrite nothing. */
		n = n < lc->errlen ? n : lc->errlen - 1;
		lc->err += n;
		lc->errlen -= n;
		return;
	}
	lc->err[n++] = '\n';
	lc->err[n] = '\0';
	lc->err += n;
	lc->errlen -= n;
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
	enum lw_err	  e, r;

	if ((e = list_dir(dir, &names, &nnames, &lc)) != LW_OK)
		return e;
	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], "default.yaml") == 0)
			have_default = true;
	if (!have_default) {
		snprintf(err, errlen, "%s/default.yaml: missing (every policy "
		    "directory needs the default policy)", dir);
		lw_strv_free(names, nnames);
		return LW_EINVAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		lw_strv_free(names, nnames);
		return LW_ENOMEM;
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		lw_strv_free(names, nnames);
		return LW_EINTERNAL;
	}
	s->refs = 1;
	if (limits != NULL)
		s->limits = *limits;
	else
		limits_default(&s->limits);
	/*
	 * Every file is read even after one failed, each error on a line
	 * of its own (next_err), so one check-config shows them all.  A
	 * broken default.yaml leaves the domain files checked against the
	 * built-in policy.
	 */
	r = load_file(dir, "default.yaml", NULL, &s->def, &pos, &npos, &lc);
	if (r == LW_ENOMEM || r == LW_EIO) {
		e = r;
		goto out_set;
	}
	if (r != LW_OK) {
		next_err(&lc);
		if ((e = policy_builtin(&s->def)) != LW_OK)
			goto out_set;
	}
	if (nnames > 1 &&
	    (s->v = calloc(nnames - 1, sizeof(*s->v))) == NULL) {
		e = LW_ENOMEM;
		goto out_set;
	}
	for (i = 0; i < nnames; i++) {
		if (strcmp(names[i], "default.yaml") == 0)
			continue;
		e = load_file(dir, names[i], s->def, &s->v[s->n], &pos, &npos,
		    &lc);
		if (e == LW_ENOMEM)
			goto out_set;
		if (e != LW_OK) {
			if (r == LW_OK)
				r = e;
			next_err(&lc);
			continue;
		}
		s->n++;
	}
	if ((e = build_index(s, pos, npos, &lc)) != LW_OK)
		goto out_set;
	if ((e = r) != LW_OK) {
		/* The last next_err left a newline: not part of the text. */
		i = strlen(err);
		if (i > 0 && err[i - 1] == '\n')
			err[i - 1] = '\0';
		goto out_set;
	}
	free(pos);
	lw_strv_free(names, nnames);
	*out = s;
	return LW_OK;

 out_set:
	if (e == LW_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", dir);
	free(pos);
	lw_strv_free(names, nnames);
	policyset_free(s);
	return e;
}
