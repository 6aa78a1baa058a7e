/*
 * confdiff.c: what a reload changed, in one line for the log.
 *
 * Takes the running and the new configuration and policy set; returns
 * "config: KEY,... changed; policies: +NAME (FILE) -NAME ~NAME;
 * domains: +D -D" (each part only when something changed: + added,
 * - removed, ~ changed) or "nothing changed".  Works on their printed forms (config_print,
 * policyset_print), so every key either prints is compared and nothing
 * here knows their insides.  Bounds: CONFDIFF_MAX bytes of output (the
 * rest is "..."), CONFDIFF_ITEMS names per part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confdiff.h"
#include "config.h"
#include "policy.h"
#include "sbuf.h"

#define CONFDIFF_MAX	900	/* bytes of the summary */
#define CONFDIFF_ITEMS	20	/* names listed per part */

/* A printed text split into lines (pointers into buf). */
struct lines {
	char	*buf;
	char	**v;
	size_t	 n;
};

static void
lines_free(struct lines *l)
{
	free(l->buf);
	free(l->v);
}

static bool
lines_split(struct lines *l)
{
	char	*p, *nl, **nv;
	size_t	 cap = 0;

	l->v = NULL;
	l->n = 0;
	for (p = l->buf; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(l->v, cap, sizeof(*nv))) ==
			    NULL)
				return false;
			l->v = nv;
		}
		l->v[l->n++] = p;
	}
	return true;
}

/* The printed form of c (or, c NULL, of ps), split into lines. */
static bool
print_lines(const struct config *c, const struct policyset *ps,
    struct lines *l)
{
	size_t	 len;
	FILE	*f;

	l->buf = NULL;
	if ((f = open_memstream(&l->buf, &len)) == NULL)
		return false;
	if (c != NULL)
		config_print(c, f);
	else
		policyset_print(ps, f);
	if (fclose(f) != 0)
		return false;
	return lines_split(l);
}

/* "key" of "key: v", "parent.key" of an indented "  key: v". */
static void
key_of(const char *line, const char *parent, char *out, size_t len)
{
	size_t	ind = strspn(line, " "), k = strcspn(line + ind, ":");

	if (ind > 0 && *parent != '\0')
		snprintf(out, len, "%s.%.*s", parent, (int)k, line + ind);
	else
		snprintf(out, len, "%.*s", (int)k, line + ind);
}

static void
add_name(struct sbuf *b, size_t *count, const char *prefix,
    const char *name)
{
	if (*count == CONFDIFF_ITEMS)
		sbuf_add(b, " ...", 4);
	if (*count >= CONFDIFF_ITEMS) {
		(*count)++;
		return;
	}
	sbuf_add(b, prefix, strlen(prefix));
	sbuf_add(b, name, strlen(name));
	(*count)++;
}

/* The config keys whose printed line differs (same key order). */
static void
diff_config(struct sbuf *b, const struct lines *o, const struct lines *n)
{
	char	 parent[64] = "", key[160], last[160] = "";
	size_t	 i, count = 0;

	/* The first line names the file; config_print's order is fixed. */
	for (i = 1; i < o->n && i < n->n; i++) {
		if (o->v[i][0] != ' ')
			key_of(o->v[i], "", parent, sizeof(parent));
		if (strcmp(o->v[i], n->v[i]) == 0)
			continue;
		key_of(o->v[i], parent, key, sizeof(key));
		/* redis.host etc. under state: name the nested key once. */
		if (strcmp(key, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", key);
		add_name(b, &count, count == 0 ? "config: " : ",", key);
	}
	if (o->n != n->n)
		add_name(b, &count, count == 0 ? "config: " : ",", "...");
	if (count > 0)
		sbuf_add(b, " changed", 8);
}

/* One policy's block in the printed set. */
struct pblock {
	char	name[128];
	char	file[256];
	size_t	first, end;	/* lines [first, end) */
	size_t	dom;		/* its "domains:" line, or 0 */
};

static size_t
blocks(const struct lines *l, struct pblock *v, size_t max)
{
	size_t	n = 0, i;
	char	*from;

	for (i = 0; i < l->n; i++) {
		if (strncmp(l->v[i], "# policy ", 9) != 0)
			continue;
		if (n > 0)
			v[n - 1].end = i > 0 && strcmp(l->v[i - 1], "---") == 0 ?
			    i - 1 : i;
		if (n == max)
			return n;
		memset(&v[n], 0, sizeof(v[n]));
		from = strstr(l->v[i], " from ");
		snprintf(v[n].name, sizeof(v[n].name), "%.*s",
		    (int)((from != NULL ? from : l->v[i] + strlen(l->v[i])) -
		    (l->v[i] + 9)), l->v[i] + 9);
		snprintf(v[n].file, sizeof(v[n].file), "%s",
		    from != NULL ? from + 6 : "?");
		v[n].first = i;
		n++;
	}
	if (n > 0)
		v[n - 1].end = l->n;
	for (i = 0; i < n; i++)
		if (v[i].first + 1 < v[i].end &&
		    strncmp(l->v[v[i].first + 1], "domains: [", 10) == 0)
			v[i].dom = v[i].first + 1;
	return n;
}

static const struct pblock *
find_block(const struct pblock *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static bool
same_block(const struct lines *a, const struct pblock *x,
    const struct lines *b, const struct pblock *y)
{
	size_t	i;

	if (x->end - x->first != y->end - y->first)
		return false;
	/* The header names the file: a moved file is the same policy. */
	for (i = 1; i < x->end - x->first; i++)
		if (strcmp(a->v[x->first + i], b->v[y->first + i]) != 0)
			return false;
	return true;
}

/* Is "dom" (quoted as y_print_str prints it) in the domains line? */
static bool
has_domain(const char *line, const char *quoted)
{
	const char	*p = line;
	size_t		 len = strlen(quoted);

	while ((p = strstr(p, quoted)) != NULL) {
		if ((p[-1] == '[' || p[-1] == ' ') &&
		    (p[len] == ',' || p[len] == ']'))
			return true;
		p += len;
	}
	return false;
}

/* The domains the blocks of s list and no block of t does. */
static void
domains_gone(struct sbuf *b, size_t *count, const char *sign,
    const struct lines *s, const struct pblock *sv, size_t sn,
    const struct lines *t, const struct pblock *tv, size_t tn)
{
	const char	*p, *q;
	char		 dom[300];
	size_t		 i, j;
	bool		 found;

	for (i = 0; i < sn; i++) {
		if (sv[i].dom == 0)
			continue;
		for (p = s->v[sv[i].dom] + 10; *p == '"'; p = q + 3) {
			/* "a", "b"]: y_print_str quotes each; no '"' inside
			 * a domain name. */
			if ((q = strchr(p + 1, '"')) == NULL)
				break;
			snprintf(dom, sizeof(dom), "%.*s", (int)(q - p + 1),
			    p);
			for (j = 0, found = false; j < tn && !found; j++)
				found = tv[j].dom != 0 &&
				    has_domain(t->v[tv[j].dom], dom);
			if (!found) {
				/* "+example.jp": sign, the name unquoted. */
				dom[0] = *sign;
				dom[strlen(dom) - 1] = '\0';
				add_name(b, count, *count == 0 ? "domains: " :
				    " ", dom);
			}
			if (q[1] != ',')
				break;
		}
	}
}

#define MAXBLOCKS	4096

static void
diff_policies(struct sbuf *b, const struct lines *o, const struct lines *n)
{
	struct pblock	*ov, *nv;
	const struct pblock *x;
	size_t		 on, nn, i, count = 0, dcount = 0;
	char		 item[400];

	ov = calloc(MAXBLOCKS, sizeof(*ov));
	nv = calloc(MAXBLOCKS, sizeof(*nv));
	if (ov == NULL || nv == NULL) {
		b->oom = true;
		goto out;
	}
	on = blocks(o, ov, MAXBLOCKS);
	nn = blocks(n, nv, MAXBLOCKS);
	if (b->len > 0)
		sbuf_add(b, "; ", 2);
	for (i = 0; i < nn; i++) {
		if ((x = find_block(ov, on, nv[i].name)) == NULL)
			snprintf(item, sizeof(item), "+%s (%s)", nv[i].name,
			    nv[i].file);
		else if (!same_block(o, x, n, &nv[i]))
			snprintf(item, sizeof(item), "~%s", nv[i].name);
		else
			continue;
		add_name(b, &count, count == 0 ? "policies: " : " ", item);
	}
	for (i = 0; i < on; i++)
		if (find_block(nv, nn, ov[i].name) == NULL) {
			snprintf(item, sizeof(item), "-%s", ov[i].name);
			add_name(b, &count, count == 0 ? "policies: " : " ",
			    item);
		}
	if (count > 0)
		sbuf_add(b, "; ", 2);
	domains_gone(b, &dcount, "+", n, nv, nn, o, ov, on);
	domains_gone(b, &dcount, "-", o, ov, on, n, nv, nn);
	/* Drop a trailing separator. */
	while (b->len >= 2 && strcmp(b->p + b->len - 2, "; ") == 0) {
		b->len -= 2;
		b->p[b->len] = '\0';
	}
out:
	free(ov);
	free(nv);
}

char *
confdiff(const struct config *oc, const struct policyset *ops,
    const struct config *nc, const struct policyset *nps)
{
	struct lines	 ol = { 0 }, nl = { 0 }, op = { 0 }, np = { 0 };
	struct sbuf	 b = { 0 };
	char		*r = NULL;

	if (!print_lines(oc, NULL, &ol) || !print_lines(nc, NULL, &nl) ||
	    !print_lines(NULL, ops, &op) || !print_lines(NULL, nps, &np))
		goto out;
	diff_config(&b, &ol, &nl);
	diff_policies(&b, &op, &np);
	if (b.oom)
		goto out;
	if (b.len == 0)
		r = strdup("nothing changed");
	else {
		if (b.len > CONFDIFF_MAX)
			memcpy(b.p + CONFDIFF_MAX - 3, "...", 4);
		r = b.p;
		b.p = NULL;
	}
out:
	free(b.p);
	lines_free(&ol);
	lines_free(&nl);
	lines_free(&op);
	lines_free(&np);
	return r;
}
