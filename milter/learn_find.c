/*
 * learn_find.c: what the learner knows (learn.h): the lookups the
 * rules make (names, threads, participants, domains, maturity) and the
 * admin's view (stats, each, forget), and the eviction past a cap.
 *
 * Lookups read a handful of keys, and so does stats (the counts are
 * records).  each and forget walk the organisation's keys
 * (state_each); eviction walks the age index from its oldest day and
 * stops at a bounded number of entries.  Walks collect first and
 * write after, so no write runs inside a backend's walk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"
#include "log.h"
#include "mime.h"
#include "names.h"
#include "util.h"

#define DAY		86400
#define FIND_IDS_MAX	21	/* In-Reply-To and the last 20 References */

void
learn_matches_free(struct learn_match *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].addr);
	free(v);
}

/* Read the record of letter/text and check it is that text's. */
static enum lw_err
read_text(struct learn *l, const char *org, char letter, const char *text,
    time_t now, struct lrec *lr)
{
	char		key[LEARN_KEY_BYTES];
	bool		have;
	enum lw_err	e;

	if ((e = learn_key(org, letter, text, key)) != LW_OK)
		return e;
	e = learn_read(l, key, now, lr);
	if (e != LW_OK && e != LW_ENOTFOUND)
		return e;
	/* And what is learned but not yet written (learn_batch.c). */
	have = e == LW_OK;
	if ((e = learn_batch_see(l, key, lr, &have)) != LW_OK || !have) {
		if (have)
			learn_rec_free(lr);
		return e != LW_OK ? e : LW_ENOTFOUND;
	}
	if (strcmp(lr->r.key, text) != 0) {	/* a hash collision */
		learn_rec_free(lr);
		return LW_ENOTFOUND;
	}
	lr->letter = letter;
	lr->r.kind = learn_letter_kind(letter);
	learn_org_key(org, lr->r.org);
	return LW_OK;
}

struct mset {
	struct learn_match	*v;
	size_t			 n;
};

static void
mset_free(struct mset *s)
{
	learn_matches_free(s->v, s->n);
	s->v = NULL;
	s->n = 0;
}

/* Add the people of one name index record to s. */
static enum lw_err
mset_add_rec(struct mset *s, const struct lrec *lr, bool confusable)
{
	struct learn_match	*nv;
	const char		*t;
	size_t			 i, j;

	for (i = 0; i < lr->r.nitems; i++) {
		t = lr->r.items[i].text;
		if ((t[0] != L_ACCOUNT && t[0] != L_CORR) || t[1] != ' ')
			continue;
		for (j = 0; j < s->n; j++)
			if (strcmp(s->v[j].addr, t + 2) == 0)
				break;
		if (j < s->n) {
			if (!confusable)
				s->v[j].confusable = false;
			if (lr->r.items[i].count > s->v[j].count)
				s->v[j].count = lr->r.items[i].count;
			continue;
		}
		if ((nv = reallocarray(s->v, s->n + 1, sizeof(*nv))) == NULL)
			return LW_ENOMEM;
		s->v = nv;
		memset(&nv[j], 0, sizeof(nv[j]));
		if ((nv[j].addr = strdup(t + 2)) == NULL)
			return LW_ENOMEM;
		nv[j].domain = nv[j].addr + (learn_addr_domain(nv[j].addr) -
		    nv[j].addr);
		nv[j].kind = t[0] == L_ACCOUNT ? LEARN_ACCOUNT :
		    LEARN_CORRESPONDENT;
		nv[j].count = lr->r.items[i].count;
		nv[j].confusable = confusable;
		s->n++;
	}
	return LW_OK;
}

/* t is one of the n strings of v. */
static bool
str_in(const char *t, const char *const *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i] != NULL && strcmp(v[i], t) == 0)
			return true;
	return false;
}

/*
 * The people of component i of c: its keys in the name index, then
 * its skeletons in the skeleton index and in the name index.  The
 * last is where a learned name that is its own skeleton is (learn.c,
 * plan_name_keys): a name whose key is this display name's skeleton
 * looks like it, by the skeleton's definition, so it counts as
 * confusable (an exact match found first stays exact).
 */
static enum lw_err
component_people(struct learn *l, const char *org,
    const struct name_cands *c, size_t i, time_t now, struct mset *s)
{
	const char	*exact[3] = { c->key[i], c->swap[i][0], c->swap[i][1] };
	struct lrec	 lr;
	size_t		 k;
	enum lw_err	 e;

	for (k = 0; k < 9; k++) {
		const char *t = k < 3 ? exact[k] : c->skel[i][(k - 3) % 3];
		char letter = k < 3 || k >= 6 ? L_NAME : L_SKEL;

		if (t == NULL || *t == '\0' ||
		    (k >= 6 && str_in(t, exact, 3)))
			continue;
		e = read_text(l, org, letter, t, now, &lr);
		if (e == LW_ENOTFOUND)
			continue;
		if (e != LW_OK)
			return e;
		e = mset_add_rec(s, &lr, k >= 3);
		learn_rec_free(&lr);
		if (e != LW_OK)
			return e;
	}
	return LW_OK;
}

static int
match_cmp(const void *a, const void *b)
{
	const struct learn_match	*x = a, *y = b;
	int				 c = learn_cmp_desc(x->count,
					    y->count);

	return c != 0 ? c : strcmp(x->addr, y->addr);
}

/*
 * Each match's count is its person's: the messages the record of the
 * account or correspondent counts (out and in).  The name index keeps
 * who goes by a name, not how often (learn.c, name_fresh).  A match
 * whose person is gone (expired, and its names not yet cleared) is
 * nobody.
 */
static enum lw_err
matches_count(struct learn *l, const char *org, struct mset *s, time_t now)
{
	struct lrec	lr;
	size_t		i, keep = 0;
	enum lw_err	e = LW_OK;

	for (i = 0; i < s->n; i++) {
		if (e == LW_OK && (e = read_text(l, org, s->v[i].kind ==
		    LEARN_ACCOUNT ? L_ACCOUNT : L_CORR, s->v[i].addr, now,
		    &lr)) == LW_OK) {
			s->v[i].count = lr.r.out + lr.r.in;
			learn_rec_free(&lr);
			s->v[keep++] = s->v[i];
			continue;
		}
		if (e == LW_ENOTFOUND)
			e = LW_OK;
		free(s->v[i].addr);
	}
	s->n = keep;
	return e;
}

enum lw_err
learn_names(struct learn *l, const char *org, const char *display,
    time_t now, struct learn_match **v, size_t *n)
{
	struct name_cands	 c;
	struct mset		 all = { NULL, 0 }, one = { NULL, 0 };
	size_t			 i, j, k, keep;
	enum lw_err		 e;

	*v = NULL;
	*n = 0;
	if (display == NULL || *display == '\0' ||
	    strchr(display, '@') != NULL)
		return LW_OK;
	if ((e = names_cands(display, &c)) != LW_OK)
		return e;
	for (i = 0; i < c.n; i++) {
		if ((e = component_people(l, org, &c, i, now,
		    i == 0 ? &all : &one)) != LW_OK)
			goto out;
		if (i == 0)
			continue;
		/* Every component a name of the same person. */
		for (j = keep = 0; j < all.n; j++) {
			for (k = 0; k < one.n; k++)
				if (strcmp(one.v[k].addr, all.v[j].addr) == 0)
					break;
			if (k == one.n) {
				free(all.v[j].addr);
				continue;
			}
			if (one.v[k].confusable)
				all.v[j].confusable = true;
			all.v[keep++] = all.v[j];
		}
		all.n = keep;
		mset_free(&one);
	}
	if ((e = matches_count(l, org, &all, now)) != LW_OK)
		goto out;
	if (all.n > 1)
		qsort(all.v, all.n, sizeof(*all.v), match_cmp);
	while (all.n > LEARN_NAME_ADDRS_MAX)
		free(all.v[--all.n].addr);
	*v = all.v;
	*n = all.n;
	all.v = NULL;
	all.n = 0;
out:
	mset_free(&all);
	mset_free(&one);
	names_cands_free(&c);
	return e;
}

/* The one subject-index thread sent by author, or how many there are. */
static enum lw_err
subject_thread(struct learn *l, const char *org, const struct message *msg,
    const char *author, time_t now, char tid[LEARN_HASH_HEX + 1],
    size_t *hits)
{
	struct lrec	 lr;
	char		 subj[LEARN_HASH_HEX + 1], acct[LEARN_HASH_HEX + 1];
	char		*norm, *a;
	const char	*t;
	size_t		 i;
	enum lw_err	 e;

	*hits = 0;
	if ((a = learn_addr_norm(author)) == NULL)
		return LW_OK;
	if ((norm = learn_subject_norm(msg->subject)) == NULL) {
		free(a);
		return LW_ENOMEM;
	}
	e = *norm == '\0' ? LW_ENOTFOUND : learn_hash(norm, strlen(norm),
	    subj);
	free(norm);
	if (e == LW_OK)
		e = learn_hash(a, strlen(a), acct);
	free(a);
	if (e == LW_OK)
		e = read_text(l, org, L_SUBJECT, subj, now, &lr);
	if (e != LW_OK)
		return e == LW_ENOTFOUND ? LW_OK : e;
	for (i = 0; i < lr.r.nitems; i++) {
		t = lr.r.items[i].text;
		if (strlen(t) != 2 * LEARN_HASH_HEX + 1 ||
		    strcmp(t + LEARN_HASH_HEX + 1, acct) != 0)
			continue;
		if ((*hits)++ == 0) {
			memcpy(tid, t, LEARN_HASH_HEX);
			tid[LEARN_HASH_HEX] = '\0';
		}
	}
	/* Some were forgotten: one left proves no single thread. */
	if (lr.many && *hits == 1)
		*hits = 2;
	learn_rec_free(&lr);
	return LW_OK;
}

enum lw_err
learn_thread_find(struct learn *l, const char *org,
    const struct message *msg, const char *author, time_t now,
    struct learn_record *out, enum learn_how *how)
{
	char		ids[FIND_IDS_MAX][LEARN_HASH_HEX + 1];
	char		tid[LEARN_HASH_HEX + 1];
	struct lrec	lr;
	size_t		n, i, hits;
	enum lw_err	e;

	memset(out, 0, sizeof(*out));
	*how = LEARN_NO_THREAD;
	n = learn_ids(msg->in_reply_to, ids, 1);
	n += learn_ids(msg->references, ids + n, FIND_IDS_MAX - n);
	for (i = 0; i < n; i++) {
		e = read_text(l, org, L_THREAD, ids[i], now, &lr);
		if (e == LW_ENOTFOUND)
			continue;
		if (e != LW_OK)
			return e;
		*out = lr.r;
		*how = LEARN_BY_REF;
		return LW_OK;
	}
	if (author == NULL)
		return LW_OK;
	if ((e = subject_thread(l, org, msg, author, now, tid, &hits)) !=
	    LW_OK || hits == 0)
		return e;
	if (hits > 1) {
		*how = LEARN_AMBIGUOUS;
		return LW_OK;
	}
	e = read_text(l, org, L_THREAD, tid, now, &lr);
	if (e == LW_OK) {
		*out = lr.r;
		*how = LEARN_BY_SUBJECT;
	}
	return e == LW_ENOTFOUND ? LW_OK : e;
}

static bool
in_thread(const struct learn_record *t, const char *domain)
{
	size_t	i;

	for (i = 0; i < t->nitems; i++)
		if (learn_related(domain, t->items[i].text))
			return true;
	return false;
}

/* A person of name known at domain and at one of t's domains. */
static enum lw_err
name_bridges(struct learn *l, const char *org, const struct learn_record *t,
    const char *name, const char *domain, time_t now, bool *yes)
{
	struct learn_match	*v;
	size_t			 n, i;
	bool			 here = false, there = false;
	enum lw_err		 e;

	if ((e = learn_names(l, org, name, now, &v, &n)) != LW_OK)
		return e;
	for (i = 0; i < n; i++) {
		if (v[i].confusable || v[i].kind != LEARN_CORRESPONDENT)
			continue;
		if (learn_related(v[i].domain, domain))
			here = true;
		if (in_thread(t, v[i].domain))
			there = true;
	}
	learn_matches_free(v, n);
	*yes = here && there;
	return LW_OK;
}

enum lw_err
learn_participant(struct learn *l, const char *org,
    const struct learn_record *t, const char *addr, const char *display,
    time_t now, bool *yes)
{
	struct lrec	 lr;
	const char	*domain;
	char		*a;
	size_t		 i;
	enum lw_err	 e = LW_OK;

	*yes = false;
	if ((a = learn_addr_norm(addr)) == NULL)
		return LW_OK;
	domain = learn_addr_domain(a);
	if (in_thread(t, domain)) {
		*yes = true;
		goto out;
	}
	if (display != NULL && (e = name_bridges(l, org, t, display, domain,
	    now, yes)) != LW_OK)
		goto out;
	/* The names we wrote to this very address. */
	if (*yes || (e = read_text(l, org, L_CORR, a, now, &lr)) != LW_OK) {
		if (e == LW_ENOTFOUND)
			e = LW_OK;
		goto out;
	}
	for (i = 0; i < lr.r.nitems && !*yes && e == LW_OK; i++)
		e = name_bridges(l, org, t, lr.r.items[i].text, domain, now,
		    yes);
	learn_rec_free(&lr);
out:
	free(a);
	return e;
}

enum lw_err
learn_get(struct learn *l, const char *org, enum learn_kind kind,
    const char *key, time_t now, struct learn_record *out)
{
	struct lrec	 lr;
	char		*k, *p;
	enum lw_err	 e;

	memset(out, 0, sizeof(*out));
	if (kind >= LEARN_KINDS || key == NULL || (k = strdup(key)) == NULL)
		return kind >= LEARN_KINDS || key == NULL ? LW_EINVAL :
		    LW_ENOMEM;
	for (p = k; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p | 0x20);
	e = read_text(l, org, learn_kind_letter(kind), k, now, &lr);
	free(k);
	if (e == LW_OK)
		*out = lr.r;
	return e;
}

enum lw_err
learn_domain_known(struct learn *l, const char *org, const char *domain,
    time_t now, bool *known)
{
	struct learn_record	 r;
	const char		*d;
	enum lw_err		 e;

	*known = false;
	/* The domain, then its parents while they keep a dot. */
	for (d = domain; d != NULL && strchr(d, '.') != NULL;
	    d = strchr(d, '.') + 1) {
		e = learn_get(l, org, LEARN_DOMAIN, d, now, &r);
		if (e == LW_OK) {
			learn_record_free(&r);
			*known = true;
			return LW_OK;
		}
		if (e != LW_ENOTFOUND)
			return e;
	}
	return LW_OK;
}

static bool
meta_mature(const struct learn *l, const struct lrec *m, time_t now)
{
	if (m->r.out == 0)
		return false;
	return m->r.out >= l->c.mature_messages ||
	    now - m->r.first >= (time_t)l->c.mature_days * DAY;
}

enum lw_err
learn_mature(struct learn *l, const char *org, time_t now, bool *mature)
{
	struct lrec	m;
	enum lw_err	e;

	*mature = false;
	if ((e = read_text(l, org, L_META, "", now, &m)) != LW_OK)
		return e == LW_ENOTFOUND ? LW_OK : e;
	*mature = meta_mature(l, &m, now);
	learn_rec_free(&m);
	return LW_OK;
}

/* A walk over learn keys: each record with its letter and org. */
struct walk {
	struct learn	*l;
	time_t		 now;
	enum lw_err	 (*fn)(struct walk *, const char *key, struct lrec *);
	void		*arg;
	char		 only;		/* a letter, or 0: all */
	/* collected keys */
	char		**keys;
	size_t		 nkeys;
};

static enum lw_err
walk_one(void *arg, const char *key, const struct state_val *v)
{
	struct walk	*w = arg;
	struct lrec	 lr;
	char		 org[LEARN_ORG_MAX + 1], letter;
	enum lw_err	 e;

	if (!learn_key_parse(key, org, &letter) || letter == '#' ||
	    (w->only != '\0' && letter != w->only))
		return LW_OK;
	if (!learn_rec_parse(v, &lr))
		return LW_OK;		/* damaged: skipped */
	lr.letter = letter;
	lr.r.kind = learn_letter_kind(letter);
	memcpy(lr.r.org, org, sizeof(org));
	e = w->fn(w, key, &lr);
	learn_rec_free(&lr);
	return e;
}

static enum lw_err
walk(struct walk *w, const char *org, char letter)
{
	char	prefix[LEARN_KEY_BYTES];

	w->only = letter;
	learn_prefix(org, letter, prefix);
	return state_each(w->l->st, prefix, w->now, walk_one, w);
}

static enum lw_err
walk_keep(struct walk *w, const char *key)
{
	char	**nv;

	if ((nv = reallocarray(w->keys, w->nkeys + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	w->keys = nv;
	if ((nv[w->nkeys] = strdup(key)) == NULL)
		return LW_ENOMEM;
	w->nkeys++;
	return LW_OK;
}

static void
walk_free(struct walk *w)
{
	size_t	i;

	for (i = 0; i < w->nkeys; i++)
		free(w->keys[i]);
	free(w->keys);
	w->keys = NULL;
	w->nkeys = 0;
}

struct orgset {
	char	(*v)[LEARN_ORG_MAX + 1];
	size_t	 n;
};

/* One more (each organisation is once in the list, once walked). */
static enum lw_err
orgset_add(struct orgset *o, const char *org)
{
	void	*nv;

	if (o->n == LEARN_ORGS_MAX)
		return LW_OK;
	if ((nv = reallocarray(o->v, o->n + 1, sizeof(*o->v))) == NULL)
		return LW_ENOMEM;
	o->v = nv;
	learn_org_key(org, o->v[o->n++]);
	return LW_OK;
}

/* An older store without the list: its organisations' meta records. */
static enum lw_err
orgs_one(struct walk *w, const char *key, struct lrec *lr)
{
	return orgset_add(w->arg, lr->r.org);
}

enum lw_err
learn_orgs(struct learn *l, time_t now, char (**v)[LEARN_ORG_MAX + 1],
    size_t *n)
{
	struct orgset	 o = { NULL, 0 };
	struct walk	 w = { l, now, orgs_one, &o, 0, NULL, 0 };
	struct state_val sv;
	char		*p, *nl;
	enum lw_err	 e;

	e = state_get(l->st, LEARN_ORGS_KEY, now, &sv);
	if (e == LW_OK) {
		for (p = (char *)sv.data; e == LW_OK && *p != '\0'; p = nl) {
			if ((nl = strchr(p, '\n')) != NULL)
				*nl++ = '\0';
			else
				nl = p + strlen(p);
			if (*p != '\0')
				e = orgset_add(&o, p);
		}
		state_val_free(&sv);
	} else if (e == LW_ENOTFOUND)
		e = walk(&w, NULL, L_META);
	if (e != LW_OK) {
		free(o.v);
		return e;
	}
	*v = o.v;
	*n = o.n;
	return LW_OK;
}

/* "learn:orgs" gains org unless it holds it (or LEARN_ORGS_MAX). */
static enum lw_err
orgs_append(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	const char	*org = arg, *p, *end;
	size_t		 olen = old != NULL ? old->len : 0, n = strlen(org);
	size_t		 lines = 0;

	*what = STATE_KEEP;
	for (p = old != NULL ? (const char *)old->data : ""; olen > 0 &&
	    p < (const char *)old->data + olen; p = end + 1, lines++) {
		if ((end = memchr(p, '\n', (size_t)((const char *)old->data +
		    olen - p))) == NULL)
			end = (const char *)old->data + olen;
		if ((size_t)(end - p) == n && memcmp(p, org, n) == 0)
			return LW_OK;
	}
	if (lines >= LEARN_ORGS_MAX)
		return LW_OK;
	if ((out->data = malloc(olen + n + 2)) == NULL)
		return LW_ENOMEM;
	if (olen > 0)
		memcpy(out->data, old->data, olen);
	memcpy(out->data + olen, org, n);
	out->data[olen + n] = '\n';
	out->len = olen + n + 1;
	out->expires = 0;
	*what = STATE_WRITE;
	return LW_OK;
}

enum lw_err
learn_orgs_add(struct learn *l, const char *org, time_t now)
{
	char	o[LEARN_ORG_MAX + 1];

	learn_org_key(org, o);
	return state_update(l->st, LEARN_ORGS_KEY, now, orgs_append, o);
}

/* The count "learn:ORG:#L" of letter's records (0: none yet). */
static enum lw_err
count_get(struct learn *l, const char *org, char letter, time_t now,
    size_t *n)
{
	struct state_val	 v;
	char			 key[LEARN_KEY_BYTES];
	long long		 x;
	enum lw_err		 e;

	*n = 0;
	learn_count_key(org, letter, key);
	if ((e = state_get(l->st, key, now, &v)) != LW_OK)
		return e == LW_ENOTFOUND ? LW_OK : e;
	x = strtoll((const char *)v.data, NULL, 10);
	*n = x > 0 ? (size_t)x : 0;
	state_val_free(&v);
	return LW_OK;
}

/* One organisation's counts: its meta record and four counters. */
static enum lw_err
stats_org(struct learn *l, const char *org, time_t now,
    struct learn_stats *s)
{
	struct lrec	 m;
	size_t		 k, n;
	enum lw_err	 e;

	if ((e = read_text(l, org, L_META, "", now, &m)) == LW_OK) {
		s->messages += m.r.out;
		s->replies += m.r.in;
		if (m.r.out > 0 && (s->first == 0 || m.r.first < s->first))
			s->first = m.r.first;
		if (m.r.last > s->last)
			s->last = m.r.last;
		if (meta_mature(l, &m, now))
			s->mature = true;
		learn_rec_free(&m);
	} else if (e != LW_ENOTFOUND)
		return e;
	for (k = 0; k < LEARN_KINDS; k++) {
		if ((e = count_get(l, org, learn_kind_letter(k), now, &n)) !=
		    LW_OK)
			return e;
		s->n[k] += n;
	}
	return LW_OK;
}

enum lw_err
learn_stats(struct learn *l, const char *org, time_t now,
    struct learn_stats *s)
{
	char		(*v)[LEARN_ORG_MAX + 1];
	size_t		 n, i;
	enum lw_err	 e;

	memset(s, 0, sizeof(*s));
	if (org != NULL)
		return stats_org(l, org, now, s);
	if ((e = learn_orgs(l, now, &v, &n)) != LW_OK)
		return e;
	for (i = 0; i < n && e == LW_OK; i++)
		e = stats_org(l, v[i], now, s);
	free(v);
	return e;
}

struct each_arg {
	learn_each_fn	 fn;
	void		*arg;
};

static enum lw_err
each_one(struct walk *w, const char *key, struct lrec *lr)
{
	struct each_arg	*a = w->arg;

	if (lr->r.kind >= LEARN_KINDS)
		return LW_OK;
	return a->fn(a->arg, &lr->r);
}

enum lw_err
learn_each(struct learn *l, const char *org, enum learn_kind kind,
    time_t now, learn_each_fn fn, void *arg)
{
	struct each_arg	a = { fn, arg };
	struct walk	w = { l, now, each_one, &a, 0, NULL, 0 };

	return walk(&w, org, kind < LEARN_KINDS ? learn_kind_letter(kind) :
	    '\0');
}

/* What forget and evict remove: an address, a domain, or a set. */
struct gone {
	const char	*addr;		/* this address */
	const char	*domain;	/* every address and domain at or
					   below it */
	char		**set;		/* sorted addresses */
	size_t		 nset;
};

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
gone_addr(const char *a, const struct gone *g)
{
	if (g->addr != NULL && strcmp(a, g->addr) == 0)
		return true;
	if (g->domain != NULL && strchr(a, '@') != NULL &&
	    learn_subdomain(learn_addr_domain(a), g->domain))
		return true;
	return g->nset > 0 && bsearch(&a, g->set, g->nset, sizeof(*g->set),
	    str_cmp) != NULL;
}

/* A name index item "a ADDR" / "c ADDR" of a gone address. */
static bool
gone_item(const char *text, const void *arg)
{
	return text[0] != '\0' && text[1] == ' ' && gone_addr(text + 2, arg);
}

static bool
gone_dom(const char *text, const void *arg)
{
	const struct gone	*g = arg;

	return g->domain != NULL && learn_subdomain(text, g->domain);
}

/* Which records a forget or eviction touches. */
static enum lw_err
gone_pick(struct walk *w, const char *key, struct lrec *lr)
{
	const struct gone	*g = w->arg;
	size_t			 i;
	bool			 hit = false;

	switch (lr->letter) {
	case L_ACCOUNT:
	case L_CORR:
		hit = gone_addr(lr->r.key, g);
		break;
	case L_DOMAIN:
		hit = g->domain != NULL && learn_subdomain(lr->r.key,
		    g->domain);
		break;
	case L_NAME:
	case L_SKEL:
		for (i = 0; i < lr->r.nitems && !hit; i++)
			hit = gone_item(lr->r.items[i].text, g);
		break;
	case L_THREAD:
		for (i = 0; i < lr->r.nitems && !hit; i++)
			hit = gone_dom(lr->r.items[i].text, g);
		break;
	}
	return hit ? walk_keep(w, key) : LW_OK;
}

/*
 * A set of record hashes (an eviction round's records, a forget's):
 * open addressing over at least 2n slots, the strings not copied.
 */
struct hexset {
	const char	**slot;
	size_t		  mask;
};

static bool
hexset_init(struct hexset *hs, size_t n)
{
	size_t	cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	hs->mask = cap - 1;
	return (hs->slot = calloc(cap, sizeof(*hs->slot))) != NULL;
}

static size_t
hexset_slot(const struct hexset *hs, const char *hex)
{
	uint32_t	h = 2166136261u;
	const char	*p;
	size_t		 i;

	for (p = hex; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = h & hs->mask; hs->slot[i] != NULL; i = (i + 1) & hs->mask)
		if (strcmp(hs->slot[i], hex) == 0)
			break;
	return i;
}

static bool
hexset_has(const struct hexset *hs, const char *hex)
{
	return hs->slot[hexset_slot(hs, hex)] != NULL;
}

/* Add hex; false when it was there already. */
static bool
hexset_add(struct hexset *hs, const char *hex)
{
	size_t	i = hexset_slot(hs, hex);

	if (hs->slot[i] != NULL)
		return false;
	hs->slot[i] = hex;
	return true;
}

struct drop_arg {
	const struct gone	*g;
	char			 letter;
	bool			 deleted;	/* the record went whole */
};

/*
 * A person or a domain goes whole; a thread or a name index loses the
 * items g names, and goes when none is left.
 */
static enum lw_err
drop_one(void *arg, const struct state_val *old, struct state_val *out,
    enum state_verdict *what)
{
	struct drop_arg	*d = arg;
	struct lrec	 lr;
	bool		 whole = d->letter == L_ACCOUNT ||
			    d->letter == L_CORR || d->letter == L_DOMAIN;
	enum lw_err	 e = LW_OK;

	d->deleted = false;
	*what = STATE_KEEP;
	if (old == NULL)
		return LW_OK;
	if (learn_rec_parse(old, &lr)) {
		if (!whole && learn_item_drop(&lr, d->letter == L_THREAD ?
		    gone_dom : gone_item, d->g) > 0 && lr.r.nitems > 0) {
			*what = STATE_WRITE;
			e = learn_rec_write(&lr, out);
			out->expires = old->expires;
		}
		whole = whole || lr.r.nitems == 0;
		learn_rec_free(&lr);
	} else
		whole = true;		/* damaged */
	if (whole) {
		*what = STATE_DELETE;
		d->deleted = true;
	}
	return e;
}

/*
 * A forget's records of the capped kinds: their age index entries, in
 * each organisation a record went from (a forget with no organisation
 * names every one).
 */
struct age_org {
	char		  org[LEARN_ORG_MAX + 1];
	char		  letters[4];	/* the kinds that went, or 0 */
};

struct age_gone {
	struct hexset	  hexes;	/* of the records deleted */
	struct age_org	 *orgs;
	size_t		  norgs;
	char		**keys;		/* the entries found */
	size_t		  n, cap;
};

/* Note that a record of letter in org went. */
static enum lw_err
age_gone_note(struct age_gone *ag, const char *org, char letter)
{
	struct age_org	*nv;
	size_t		 i;

	for (i = 0; i < ag->norgs; i++)
		if (strcmp(ag->orgs[i].org, org) == 0)
			break;
	if (i == ag->norgs) {
		if ((nv = reallocarray(ag->orgs, ag->norgs + 1,
		    sizeof(*nv))) == NULL)
			return LW_ENOMEM;
		ag->orgs = nv;
		memset(&nv[i], 0, sizeof(nv[i]));
		snprintf(nv[i].org, sizeof(nv[i].org), "%s", org);
		ag->norgs++;
	}
	ag->orgs[i].letters[letter == L_ACCOUNT ? 0 : letter == L_CORR ? 1 :
	    letter == L_DOMAIN ? 2 : 3] = letter;
	return LW_OK;
}

static enum lw_err
age_gone_one(void *arg, const char *key, const struct state_val *v)
{
	struct age_gone	*ag = arg;
	char		**nv;
	const char	 *hex = strrchr(key, ':') + 1;

	(void)v;
	if (!hexset_has(&ag->hexes, hex))
		return LW_OK;
	if (ag->n == ag->cap) {
		if ((nv = reallocarray(ag->keys, ag->cap ? 2 * ag->cap : 16,
		    sizeof(*nv))) == NULL)
			return LW_ENOMEM;
		ag->keys = nv;
		ag->cap = ag->cap ? 2 * ag->cap : 16;
	}
	if ((ag->keys[ag->n] = strdup(key)) == NULL)
		return LW_ENOMEM;
	ag->n++;
	return LW_OK;
}

/*
 * Delete the age index entries of letter in org whose record a forget
 * deleted: a walk of the index (an entry's day is not its record's
 * last), as the forget's own walk of the records.
 */
static enum lw_err
age_forget(struct learn *l, const char *org, char letter,
    struct age_gone *ag, time_t now)
{
	char		prefix[LEARN_KEY_BYTES], o[LEARN_ORG_MAX + 1];
	size_t		i;
	enum lw_err	e;

	learn_org_key(org, o);
	snprintf(prefix, sizeof(prefix), LEARN_PREFIX "%s:%c:%c:", o, L_AGE,
	    letter);
	ag->n = 0;
	e = state_each(l->st, prefix, now, age_gone_one, ag);
	for (i = 0; i < ag->n; i++) {
		if (e == LW_OK && (e = state_del(l->st, ag->keys[i])) ==
		    LW_ENOTFOUND)
			e = LW_OK;
		free(ag->keys[i]);
	}
	free(ag->keys);
	ag->keys = NULL;
	ag->n = ag->cap = 0;
	return e;
}

/*
 * Remove what g names from every record of org (walk collected); a
 * record of a counted kind that goes leaves its count, and its age
 * index entry goes.
 */
static enum lw_err
gone_apply(struct learn *l, const char *org, const struct gone *g,
    char letters, time_t now, size_t *changed)
{
	struct walk	w = { l, now, gone_pick, (void *)g, 0, NULL, 0 };
	struct drop_arg	d = { g, 0, false };
	struct age_gone	ag;
	char		o[LEARN_ORG_MAX + 1], ckey[LEARN_KEY_BYTES];
	size_t		i, k;
	enum lw_err	e;

	memset(&ag, 0, sizeof(ag));
	e = walk(&w, org, letters);
	if (e == LW_OK && !hexset_init(&ag.hexes, w.nkeys))
		e = LW_ENOMEM;
	for (i = 0; i < w.nkeys && e == LW_OK; i++) {
		if (!learn_key_parse(w.keys[i], o, &d.letter))
			continue;
		e = state_update(l->st, w.keys[i], now, drop_one, &d);
		if (e != LW_OK || !d.deleted ||
		    learn_letter_kind(d.letter) == LEARN_KINDS)
			continue;
		learn_count_key(o, d.letter, ckey);
		e = state_incr(l->st, ckey, -1, 0, now, NULL);
		(void)hexset_add(&ag.hexes, strrchr(w.keys[i], ':') + 1);
		if (e == LW_OK)
			e = age_gone_note(&ag, o, d.letter);
	}
	/* And their age index entries, on whatever day each is. */
	for (i = 0; i < ag.norgs && e == LW_OK; i++)
		for (k = 0; k < 4 && e == LW_OK; k++)
			if (ag.orgs[i].letters[k] != '\0')
				e = age_forget(l, ag.orgs[i].org,
				    ag.orgs[i].letters[k], &ag, now);
	if (e == LW_OK && changed != NULL)
		*changed += w.nkeys;
	FREE_ALL(ag.hexes.slot, ag.orgs);
	walk_free(&w);
	return e;
}

enum lw_err
learn_forget(struct learn *l, const char *org, const char *what,
    time_t now, size_t *removed)
{
	struct gone	 g = { NULL, NULL, NULL, 0 };
	char		*w, *p;
	size_t		 dummy = 0;
	enum lw_err	 e;

	if (removed == NULL)
		removed = &dummy;
	*removed = 0;
	if (l->readonly)
		return LW_EINVAL;
	if (what == NULL || *what == '\0' || (w = strdup(what)) == NULL)
		return what == NULL || *what == '\0' ? LW_EINVAL : LW_ENOMEM;
	for (p = w; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p | 0x20);
	if (*w == '@')
		memmove(w, w + 1, strlen(w));
	if (strchr(w, '@') != NULL)
		g.addr = w;
	else
		g.domain = w;
	e = gone_apply(l, org, &g, '\0', now, removed);
	if (e == LW_OK)
		log_info("learn: forgot %s (%zu records)", w, *removed);
	free(w);
	return e;
}

void
learn_age_key(const char *org, char letter, time_t last, const char *hex,
    char out[LEARN_KEY_BYTES])
{
	long long	 day = (long long)(last / DAY);
	size_t		 n, i;

	if (day < 0 || day > 999999 || strlen(hex) > LEARN_HASH_HEX) {
		char	o[LEARN_ORG_MAX + 1];

		/* No such time or hash: as printf has it. */
		learn_org_key(org, o);
		snprintf(out, LEARN_KEY_BYTES, LEARN_PREFIX "%s:%c:%c:%06lld:%s",
		    o, L_AGE, letter, day, hex);
		return;
	}
	/* By hand, as learn_key: a write makes two of these a record. */
	n = learn_key_head(org, out);
	out[n++] = L_AGE;
	out[n++] = ':';
	out[n++] = letter;
	out[n++] = ':';
	for (i = 6; i > 0; i--, day /= 10)
		out[n + i - 1] = (char)('0' + day % 10);
	n += 6;
	out[n++] = ':';
	memcpy(out + n, hex, strlen(hex) + 1);
}

/*
 * Eviction reads the age index from its oldest day: the entries to
 * look at, at most max, while over the cap or while their day is past
 * the kind's expiry.  Over the cap it reads up to max: some entries
 * it meets are only moved (their records were seen since), so that
 * the round still finds enough to evict.  LMDB walks it in key order
 * (oldest first); the other backends hand a sample in no order.
 */
struct age_pick {
	char		**keys;
	size_t		  n, max;
	size_t		  plen;		/* of the index prefix */
	int64_t		  over;		/* records over the cap */
	time_t		  ttl, now;
	bool		  stopped;
};

static enum lw_err
age_one(void *arg, const char *key, const struct state_val *v)
{
	struct age_pick	*a = arg;
	long long	 day = strtoll(key + a->plen, NULL, 10);
	bool		 due = (time_t)(day + 1) * DAY + a->ttl <= a->now;

	if (a->n == a->max || (a->over == 0 && !due)) {
		a->stopped = true;
		return LW_ELIMIT;	/* enough: stop the walk */
	}
	if ((a->keys[a->n] = strdup(key)) == NULL)
		return LW_ENOMEM;
	a->n++;
	return LW_OK;
}

/*
 * One eviction round, written at once: the records that go, the
 * entries moved, the index entries read, and the name index records
 * of the people among them, in one state_update_many (on LMDB one
 * transaction, one commit, where a record, its entry and each of its
 * names cost a commit apiece).  Keys: [0, nrec) the records (to evict,
 * or only to look at: a moved entry's), [nrec, nrec + nmove) the moved
 * entries' new places, [.., + nent) the entries read that go, then the
 * name index records (distinct).  New places come before the entries
 * that go, so that a backend that writes a round in parts (Redis
 * chunks, the files backend key by key) and fails between them leaves
 * a record two entries, never none; an entry read whose key is also a
 * new place stays out of the round.
 *
 * Each entry read is one of four.  Its record is gone (expired, or
 * forgotten by an older version): the record leaves the count and the
 * entry goes.  Its record was created after the entry's day: the entry
 * is an earlier life's of that key, which expired unseen; that life
 * leaves the count and the entry goes.  Its record was last seen on
 * the entry's day: the record goes, and its entry with it; checked
 * again inside the write, a record seen since it was read stays, and
 * so does its entry (the next round moves it).  Its record was seen on
 * a later day: the entry moves to that day (if the record is still
 * there inside the write), and nothing is evicted (the lazy move of
 * age_update in learn.c).  A second entry of a record met in the same
 * round (left by a round written in part) goes, counted once.
 */
struct evict_key {
	char		 key[LEARN_KEY_BYTES];
	long long	 day;		/* a record: its entry's day */
	char		*addr;		/* a record: the person, or NULL */
	bool		 went;		/* a record: the write removed it */
	bool		 check;		/* a record: only looked at */
	bool		 present;	/* a checked record: still there */
	size_t		 rec;		/* an entry or new place: its
					   record's index + 1, 0 when it
					   goes (is written) whatever */
};

struct evict_plan {
	struct evict_key *v;
	const char	**kp;		/* v's keys: state_update_many's */
	size_t		  n, cap, nrec, nent, nmove;
	struct gone	  g;		/* the people that went: names */
};

static void
evict_plan_free(struct evict_plan *ep)
{
	size_t	i;

	for (i = 0; i < ep->n; i++)
		free(ep->v[i].addr);
	FREE_ALL(ep->g.set, ep->v, ep->kp);
	memset(ep, 0, sizeof(*ep));
}

/* One more key, zeroed but for its name: false on ENOMEM. */
static bool
evict_key(struct evict_plan *ep, const char *key)
{
	struct evict_key	*nv;
	size_t			 cap;

	if (ep->n == ep->cap) {
		cap = ep->cap ? 2 * ep->cap : 64;
		if ((nv = reallocarray(ep->v, cap, sizeof(*nv))) == NULL)
			return false;
		ep->v = nv;
		ep->cap = cap;
	}
	memset(&ep->v[ep->n], 0, sizeof(ep->v[ep->n]));
	snprintf(ep->v[ep->n].key, LEARN_KEY_BYTES, "%s", key);
	ep->n++;
	return true;
}

/* The name index keys of lr's display names (the person's). */
static enum lw_err
evict_names(struct evict_plan *ep, const char *org, const struct lrec *lr)
{
	struct name_cands c;
	char		 key[LEARN_KEY_BYTES];
	size_t		 i, k, j, from = ep->nrec + ep->nent + ep->nmove;
	enum lw_err	 e = LW_OK;
	int		 which;

	for (i = 0; i < lr->r.nitems && e == LW_OK; i++) {
		if ((e = names_cands(lr->r.items[i].text, &c)) != LW_OK)
			break;
		for (k = 0; k < c.n && e == LW_OK; k++)
			for (which = 0; which < 2 && e == LW_OK; which++) {
				const char *t = which == 0 ? c.key[k] :
				    c.skel[k][0];

				if (t == NULL || *t == '\0' ||
				    (e = learn_key(org, which == 0 ? L_NAME :
				    L_SKEL, t, key)) != LW_OK)
					continue;
				for (j = from; j < ep->n; j++)
					if (strcmp(ep->v[j].key, key) == 0)
						break;
				if (j == ep->n && !evict_key(ep, key))
					e = LW_ENOMEM;
			}
		names_cands_free(&c);
	}
	return e;
}

/* The people that went (sorted, for gone_addr), once the records ran. */
static enum lw_err
evict_gone_set(struct evict_plan *ep)
{
	size_t	i;

	free(ep->g.set);
	ep->g.set = NULL;
	ep->g.nset = 0;
	if ((ep->g.set = calloc(ep->nrec + 1, sizeof(*ep->g.set))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < ep->nrec; i++)
		if (ep->v[i].went && ep->v[i].addr != NULL)
			ep->g.set[ep->g.nset++] = ep->v[i].addr;
	qsort(ep->g.set, ep->g.nset, sizeof(*ep->g.set), str_cmp);
	return LW_OK;
}

static enum lw_err
evict_step(void *arg, size_t i, const struct state_val *old,
    struct state_val *out, enum state_verdict *what)
{
	struct evict_plan	*ep = arg;
	struct drop_arg		 d = { &ep->g, L_NAME, false };
	struct lrec		 lr;
	char			 o[LEARN_ORG_MAX + 1];
	enum lw_err		 e;

	*what = STATE_KEEP;
	if (i < ep->nrec && ep->v[i].check) {
		ep->v[i].present = old != NULL;
		return LW_OK;
	}
	if (i < ep->nrec) {
		/* Still last seen on its entry's day: it goes. */
		ep->v[i].went = true;
		if (old == NULL)
			return LW_OK;	/* expired meanwhile: gone too */
		if (learn_rec_parse(old, &lr)) {
			ep->v[i].went = lr.r.last / DAY == ep->v[i].day;
			learn_rec_free(&lr);
		}			/* else damaged: it goes */
		if (ep->v[i].went)
			*what = STATE_DELETE;
		return LW_OK;
	}
	if (i < ep->nrec + ep->nmove) {
		/* A record that went meanwhile gets no new entry. */
		if (ep->v[i].rec != 0 && !ep->v[ep->v[i].rec - 1].present)
			return LW_OK;
		if ((out->data = (unsigned char *)strdup("1")) == NULL)
			return LW_ENOMEM;
		out->len = 1;
		out->expires = 0;
		*what = STATE_WRITE;
		return LW_OK;
	}
	if (i < ep->nrec + ep->nmove + ep->nent) {
		/* An evicted record's entry stays when the record did. */
		if (old != NULL && (ep->v[i].rec == 0 ||
		    ep->v[ep->v[i].rec - 1].went))
			*what = STATE_DELETE;
		return LW_OK;
	}
	if (i == ep->nrec + ep->nent + ep->nmove &&
	    (e = evict_gone_set(ep)) != LW_OK)
		return e;
	if (ep->g.nset == 0 || !learn_key_parse(ep->v[i].key, o, &d.letter))
		return LW_OK;
	return drop_one(&d, old, out, what);
}

/*
 * Read the records of the entries ahead (from the oldest) and plan
 * their round: *read_gone counts the entries whose record was already
 * gone (expired).
 */
static enum lw_err
evict_plan_make(struct learn *l, const char *org, char letter,
    const struct age_pick *a, int64_t count, uint64_t cap, time_t ttl,
    time_t now, struct evict_plan *ep, int64_t *read_gone)
{
	struct hexset	 seen = { NULL, 0 }, places = { NULL, 0 };
	struct lrec	 lr;
	char		 key[LEARN_KEY_BYTES], o[LEARN_ORG_MAX + 1], *end;
	char		(*moved)[LEARN_KEY_BYTES] = NULL;
	size_t		*rec = NULL;	/* entry i's record + 1, or 0 */
	size_t		*mrec = NULL;	/* moved entry i's record + 1 */
	long long	 day;
	size_t		 i, nent = 0, nmove = 0, k;
	int64_t		 going = 0;
	enum lw_err	 e = LW_OK;
	bool		 person = letter == L_ACCOUNT || letter == L_CORR;

	*read_gone = 0;
	learn_org_key(org, o);
	if (a->n == 0)
		return LW_OK;
	if (!hexset_init(&seen, a->n) || !hexset_init(&places, a->n) ||
	    (rec = calloc(a->n, sizeof(*rec))) == NULL ||
	    (mrec = calloc(a->n, sizeof(*mrec))) == NULL ||
	    (moved = calloc(a->n, sizeof(*moved))) == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	/* The records first (their number is known once read). */
	for (i = 0; i < a->n && e == LW_OK; i++) {
		day = strtoll(a->keys[i] + a->plen, &end, 10);
		if (*end != ':') {
			nent++;		/* damaged: it goes */
			continue;
		}
		if (count - going <= (int64_t)cap &&
		    (time_t)(day + 1) * DAY + ttl > now)
			break;
		nent++;
		if (hexset_has(&seen, end + 1))
			continue;	/* a second entry: it goes */
		snprintf(key, sizeof(key), LEARN_PREFIX "%s:%c:%s", o, letter,
		    end + 1);
		e = learn_read(l, key, now, &lr);
		if (e == LW_ENOTFOUND) {
			(void)hexset_add(&seen, end + 1);
			going++;
			(*read_gone)++;
			e = LW_OK;
			continue;
		}
		if (e != LW_OK)
			break;
		if (lr.r.first / DAY > day) {
			/* An earlier life's entry: that life went. */
			going++;
			(*read_gone)++;
			learn_rec_free(&lr);
			continue;
		}
		(void)hexset_add(&seen, end + 1);
		if (lr.r.last / DAY != day) {
			/* Seen since: its entry moves to its last day. */
			learn_age_key(org, letter, lr.r.last, end + 1,
			    moved[nmove]);
			learn_rec_free(&lr);
			if (!evict_key(ep, key)) {
				e = LW_ENOMEM;
				break;
			}
			ep->v[ep->n - 1].check = true;
			ep->nrec = ep->n;
			mrec[nmove++] = ep->n;
			continue;
		}
		going++;
		if (!evict_key(ep, key))
			e = LW_ENOMEM;
		else {
			ep->v[ep->n - 1].day = day;
			rec[i] = ep->n;
			if (person && (ep->v[ep->n - 1].addr =
			    strdup(lr.r.key)) == NULL)
				e = LW_ENOMEM;
		}
		ep->nrec = ep->n;
		learn_rec_free(&lr);
	}
	/* Then the moved entries' new places, then the entries that go. */
	for (k = 0; k < nmove && e == LW_OK; k++) {
		(void)hexset_add(&places, moved[k]);
		if (!evict_key(ep, moved[k]))
			e = LW_ENOMEM;
		else
			ep->v[ep->n - 1].rec = mrec[k];
	}
	ep->nmove = nmove;
	for (k = 0; k < nent && e == LW_OK; k++) {
		if (hexset_has(&places, a->keys[k]))
			continue;	/* a new place already: it stays */
		if (!evict_key(ep, a->keys[k]))
			e = LW_ENOMEM;
		else {
			ep->v[ep->n - 1].rec = rec[k];
			ep->nent++;
		}
	}
	/* Then the names of the people. */
	for (k = 0; k < ep->nrec && e == LW_OK; k++) {
		if (ep->v[k].addr == NULL)
			continue;
		if ((e = learn_read(l, ep->v[k].key, now, &lr)) ==
		    LW_ENOTFOUND) {
			e = LW_OK;
			continue;
		}
		if (e == LW_OK) {
			e = evict_names(ep, org, &lr);
			learn_rec_free(&lr);
		}
	}
out:
	FREE_ALL(seen.slot, places.slot, rec, mrec, moved);
	return e;
}

enum lw_err
learn_evict(struct learn *l, const char *org, char letter, uint64_t cap,
    time_t ttl, size_t max, time_t now)
{
	struct age_pick	  a = { NULL, 0, max, 0, 0, ttl, now, false };
	struct evict_plan ep;
	char		  prefix[LEARN_KEY_BYTES], ckey[LEARN_KEY_BYTES];
	char		  o[LEARN_ORG_MAX + 1];
	int64_t		  gone = 0;
	size_t		  i, count;
	enum lw_err	  e;

	memset(&ep, 0, sizeof(ep));
	/* Read, not written: a round that evicts nothing commits nothing. */
	if ((e = count_get(l, org, letter, now, &count)) != LW_OK)
		return e;
	a.over = cap > 0 && count > cap ? (int64_t)(count - cap) : 0;
	learn_org_key(org, o);
	snprintf(prefix, sizeof(prefix), LEARN_PREFIX "%s:%c:%c:", o, L_AGE,
	    letter);
	a.plen = strlen(prefix);
	if ((a.keys = calloc(max, sizeof(*a.keys))) == NULL)
		return LW_ENOMEM;
	e = state_each(l->st, prefix, now, age_one, &a);
	if (e == LW_ELIMIT && a.stopped)
		e = LW_OK;
	/* Oldest first whatever order the backend walked in. */
	qsort(a.keys, a.n, sizeof(*a.keys), str_cmp);
	if (e == LW_OK)
		e = evict_plan_make(l, org, letter, &a, (int64_t)count, cap,
		    ttl, now, &ep, &gone);
	if (e == LW_OK && ep.n > 0 &&
	    (ep.kp = calloc(ep.n, sizeof(*ep.kp))) == NULL)
		e = LW_ENOMEM;
	for (i = 0; e == LW_OK && i < ep.n; i++)
		ep.kp[i] = ep.v[i].key;
	if (e == LW_OK && ep.n > 0 &&
	    (e = state_update_many(l->st, ep.kp, ep.n, now, evict_step,
	    &ep)) == LW_OK)
		for (i = 0; i < ep.nrec; i++)
			gone += ep.v[i].went;
	if (gone > 0 && e == LW_OK) {
		learn_count_key(org, letter, ckey);
		e = state_incr(l->st, ckey, -gone, 0, now, NULL);
		log_info("learn: %s: %lld %s records evicted or expired "
		    "(cap %llu)", o, (long long)gone,
		    learn_kind_name(learn_letter_kind(letter)),
		    (unsigned long long)cap);
	}
	evict_plan_free(&ep);
	lw_strv_free(a.keys, a.n);
	return e;
}
