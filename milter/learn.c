/*
 * learn.c: learning from the organisation's own mail (learn.h): the
 * handle, and the two writers, learn_outbound and learn_inbound_reply.
 *
 * One message becomes a plan: a list of records to touch (its account,
 * each correspondent, their names in the name indexes, each domain,
 * its threads, its subject, the organisation's counts), merged by key.
 * Unbatched, the plan is written at once by one state_update_many (on
 * LMDB one transaction, one commit).  Batched (learn_batch.c: the
 * daemon, `learn import`), the message's plan merges into the batch's,
 * which one writer flushes every LEARN_BATCH_MSGS messages or second:
 * a record many messages touch is read and written once per flush.  A
 * record created by a write counts toward its kind's cap
 * ("learn:ORG:#L"); past the cap the least recently seen go
 * (learn_evict in learn_find.c).
 *
 * Takes the parsed message (From, To, Cc, Subject, Message-ID,
 * In-Reply-To, References) and the envelope recipients; bounded by
 * LEARN_RCPTS_MAX recipients, LEARN_REFS_MAX answered ids and
 * PLAN_ITEMS_MAX items added to one record per message (a batch keeps
 * each record's most recently seen).  Ignores bodies,
 * Bcc headers, Sender: and Reply-To:.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "hijack.h"
#include "learn_int.h"
#include "log.h"
#include "mime.h"
#include "names.h"
#include "policy.h"
#include "util.h"
#include "verdict.h"

#define DAY		86400
#define NAME_BYTES	256	/* of a display name kept */

/* One message being added to a plan. */
struct pctx {
	const struct learn_config *c;
	struct plan		*pl;
	const char		*org;
	time_t			 now;
};

void
learn_config_init(struct learn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enable = true;
	c->thread_days = 180;
	c->correspondent_days = 730;
	c->max_threads = 1000000;
	c->max_correspondents = 100000;
	c->mature_days = 14;
	c->mature_messages = 500;
}

enum lw_err
learn_open(struct state *st, const struct learn_config *c,
    struct learn **out)
{
	struct learn	*l;

	if (st == NULL)
		return LW_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return LW_ENOMEM;
	l->st = st;
	if (c != NULL)
		l->c = *c;
	else
		learn_config_init(&l->c);
	l->readonly = st->readonly;
	*out = l;
	return LW_OK;
}

void
learn_close(struct learn *l)
{
	learn_batch_free(l);
	free(l);
}

bool
learn_readonly(const struct learn *l)
{
	return l->readonly;
}

const char *
learn_org(const struct policy *p)
{
	return p != NULL && p->name != NULL ? p->name : "default";
}

/* The subject after its reply/forward prefixes and bracket tags. */
char *
learn_subject_norm(const char *subject)
{
	struct hijack_prefix	 pre[HIJACK_MAX_PREFIXES];
	char			*nf, *out, *p, *q, *c;
	size_t			 n, i;
	bool			 space = false;

	if (subject == NULL)
		subject = "";
	n = hijack_prefixes(subject, pre, HIJACK_MAX_PREFIXES);
	if ((nf = names_nfkc(subject, strlen(subject))) == NULL)
		return NULL;
	p = nf;
	/* Each prefix ends at a colon (NFKC made full-width ones ASCII). */
	for (i = 0; i < n && (c = strchr(p, ':')) != NULL; i++)
		p = c + 1;
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '[' && (c = strchr(p, ']')) != NULL)
			p = c + 1;
		else if (strncmp(p, "【", strlen("【")) == 0 &&
		    (c = strstr(p, "】")) != NULL)
			p = c + strlen("】");
		else
			break;
	}
	if ((out = malloc(strlen(p) + 1)) == NULL) {
		free(nf);
		return NULL;
	}
	for (q = out; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			space = q != out;
			continue;
		}
		if (space)
			*q++ = ' ';
		space = false;
		*q++ = *p >= 'A' && *p <= 'Z' ? (char)(*p | 0x20) : *p;
	}
	*q = '\0';
	free(nf);
	return out;
}

static void
mut_clear(struct mut *m)
{
	free(m->text);
	learn_items_free(m->items, m->nitems);
}

void
learn_plan_free(struct plan *pl)
{
	FREE_EACH(pl->v, pl->n, mut_clear);
	free(pl->slot);
	memset(pl, 0, sizeof(*pl));
}

/* FNV-1a of a key: the slot of the plan's hash index. */
static size_t
key_slot(const char *key, size_t nslot)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h & (nslot - 1));
}

/* Room for one more record: the index at most half full. */
static enum lw_err
plan_grow(struct plan *pl)
{
	struct mut	*nv;
	size_t		*ns, nslot, i, s;

	if (pl->n == pl->cap) {
		if ((nv = reallocarray(pl->v, pl->cap ? pl->cap * 2 : 16,
		    sizeof(*nv))) == NULL)
			return LW_ENOMEM;
		pl->v = nv;
		pl->cap = pl->cap ? pl->cap * 2 : 16;
	}
	if (pl->n + 1 <= pl->nslot / 2)
		return LW_OK;
	nslot = pl->nslot ? pl->nslot * 2 : 64;
	if ((ns = calloc(nslot, sizeof(*ns))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < pl->n; i++) {
		for (s = key_slot(pl->v[i].key, nslot); ns[s] != 0;
		    s = (s + 1) & (nslot - 1))
			;
		ns[s] = i + 1;
	}
	free(pl->slot);
	pl->slot = ns;
	pl->nslot = nslot;
	return LW_OK;
}

/* The record key in pl, or the slot where it goes (*m NULL). */
static size_t
plan_find(const struct plan *pl, const char *key, struct mut **m)
{
	size_t	s;

	*m = NULL;
	for (s = key_slot(key, pl->nslot); pl->slot[s] != 0;
	    s = (s + 1) & (pl->nslot - 1))
		if (strcmp(pl->v[pl->slot[s] - 1].key, key) == 0) {
			*m = &pl->v[pl->slot[s] - 1];
			break;
		}
	return s;
}

const struct mut *
learn_plan_get(const struct plan *pl, const char *key)
{
	struct mut	*m;

	if (pl->n == 0)
		return NULL;
	(void)plan_find(pl, key, &m);
	return m;
}

/* The record letter/text in the plan, added when new. */
static enum lw_err
plan_mut(struct pctx *cx, char letter, const char *text, struct mut **out)
{
	struct plan	*pl = cx->pl;
	struct mut	*m;
	char		 key[LEARN_KEY_BYTES];
	size_t		 s;
	enum lw_err	 e;

	if ((e = learn_key(cx->org, letter, text, key)) != LW_OK ||
	    (e = plan_grow(pl)) != LW_OK)
		return e;
	s = plan_find(pl, key, out);
	if (*out != NULL)
		return LW_OK;
	m = &pl->v[pl->n];
	memset(m, 0, sizeof(*m));
	memcpy(m->key, key, sizeof(key));
	m->letter = letter;
	learn_org_key(cx->org, m->org);
	m->first = m->last = cx->now;
	if ((m->text = strdup(text)) == NULL)
		return LW_ENOMEM;
	pl->slot[s] = ++pl->n;
	switch (letter) {
	case L_THREAD:
		m->ttl = (time_t)cx->c->thread_days * DAY;
		m->max_items = LEARN_PARTICIPANTS_MAX;
		break;
	case L_NAME:
	case L_SKEL:
		m->ttl = (time_t)cx->c->correspondent_days * DAY;
		m->max_items = LEARN_NAME_ADDRS_MAX;
		break;
	case L_SUBJECT:
		m->ttl = (time_t)cx->c->thread_days * DAY;
		m->max_items = LEARN_SUBJECT_THREADS_MAX;
		break;
	case L_META:
		m->ttl = 0;
		break;
	default:
		m->ttl = (time_t)cx->c->correspondent_days * DAY;
		m->max_items = LEARN_ITEMS_MAX;
		break;
	}
	*out = m;
	return LW_OK;
}

/*
 * Add n of text, seen at last, to m's items, PLAN_ITEMS_MAX at most.
 * Full, a newcomer takes the place of the least recently seen item
 * (fewest counts among equals) when it was seen later: within one
 * message (all seen at once) the first ones count; in a batch's merge
 * the later messages' items replace the earlier ones', so that the
 * record keeps its most recently seen, as message by message: a
 * record keeps fewer items than PLAN_ITEMS_MAX, so none it would keep
 * is lost here.
 */
_Static_assert(LEARN_ITEMS_MAX <= PLAN_ITEMS_MAX &&
    LEARN_PARTICIPANTS_MAX <= PLAN_ITEMS_MAX &&
    LEARN_NAME_ADDRS_MAX <= PLAN_ITEMS_MAX &&
    LEARN_SUBJECT_THREADS_MAX <= PLAN_ITEMS_MAX,
    "a batch keeps at least the items a record keeps");
static enum lw_err
mut_item_add(struct mut *m, const char *text, uint64_t n, time_t last)
{
	struct learn_item	*nv;
	size_t			 i, old = 0;
	char			*t;

	for (i = 0; i < m->nitems; i++) {
		if (strcmp(m->items[i].text, text) == 0) {
			m->items[i].count += n;
			if (last > m->items[i].last)
				m->items[i].last = last;
			return LW_OK;
		}
		if (m->items[i].last < m->items[old].last ||
		    (m->items[i].last == m->items[old].last &&
		    m->items[i].count < m->items[old].count))
			old = i;
	}
	if (m->nitems == PLAN_ITEMS_MAX) {
		if (last < m->items[old].last || (last == m->items[old].last &&
		    n <= m->items[old].count))
			return LW_OK;	/* bounded: the newer ones stay */
		if ((t = strdup(text)) == NULL)
			return LW_ENOMEM;
		free(m->items[old].text);
		m->items[old].text = t;
		m->items[old].count = n;
		m->items[old].last = last;
		return LW_OK;
	}
	if ((nv = reallocarray(m->items, m->nitems + 1, sizeof(*nv))) ==
	    NULL)
		return LW_ENOMEM;
	m->items = nv;
	if ((nv[m->nitems].text = strdup(text)) == NULL)
		return LW_ENOMEM;
	nv[m->nitems].count = n;
	nv[m->nitems].last = last;
	m->nitems++;
	return LW_OK;
}

/* text among m's items: one message counts it once. */
static enum lw_err
mut_item(struct pctx *cx, struct mut *m, const char *text)
{
	size_t	i;

	for (i = 0; i < m->nitems; i++)
		if (strcmp(m->items[i].text, text) == 0)
			return LW_OK;
	return mut_item_add(m, text, 1, cx->now);
}

enum lw_err
learn_plan_merge(struct plan *dst, const struct plan *src)
{
	const struct mut	*a;
	struct mut		*m;
	size_t			 i, j, s;
	enum lw_err		 e;

	for (i = 0; i < src->n; i++) {
		a = &src->v[i];
		if ((e = plan_grow(dst)) != LW_OK)
			return e;
		s = plan_find(dst, a->key, &m);
		if (m == NULL) {
			m = &dst->v[dst->n];
			*m = *a;
			m->items = NULL;
			m->nitems = 0;
			m->out = m->in = 0;
			if ((m->text = strdup(a->text)) == NULL)
				return LW_ENOMEM;
			dst->slot[s] = ++dst->n;
		} else {
			m->existing = m->existing && a->existing;
			if (a->first < m->first)
				m->first = a->first;
			if (a->last > m->last)
				m->last = a->last;
			if (m->subject[0] == '\0')
				memcpy(m->subject, a->subject,
				    sizeof(a->subject));
			if (m->account[0] == '\0')
				memcpy(m->account, a->account,
				    sizeof(a->account));
		}
		m->out += a->out;
		m->in += a->in;
		for (j = 0; j < a->nitems; j++)
			if ((e = mut_item_add(m, a->items[j].text,
			    a->items[j].count, a->items[j].last)) != LW_OK)
				return e;
	}
	dst->msgs += src->msgs;
	return LW_OK;
}

/* A display name worth learning: a name, not an address. */
static bool
learnable_name(const char *display)
{
	return display != NULL && *display != '\0' &&
	    strchr(display, '@') == NULL &&
	    strlen(display) <= NAMES_MAX_DISPLAY;
}

/*
 * The name keys of recent display names, as plan_names uses them:
 * names_cands costs some 11,000 instructions a name or more (NFKC,
 * case folding, UTS #39 skeletons), and an account's own name comes
 * with each message it sends, a partner's with each message to it.
 * Direct-mapped by FNV-1a, NAME_SLOTS names under one mutex (message
 * threads plan at once).  Bounded: names shorter than NAME_TEXT bytes
 * whose keys and skeletons take at most NAME_KEYS bytes, some 5 MiB
 * at most, usually a tenth of that.
 */
#define NAME_SLOTS	4096
#define NAME_TEXT	128
#define NAME_KEYS	1024

struct name_slot {
	char	*display;		/* NULL: empty */
	size_t	 n;
	char	*key[NAMES_MAX_COMPONENTS];	/* names_cands' key[i] */
	char	*skel[NAMES_MAX_COMPONENTS];	/* and skel[i][0] */
};

static struct name_slot	name_cache[NAME_SLOTS];
static pthread_mutex_t	name_mu = PTHREAD_MUTEX_INITIALIZER;

static void
name_slot_clear(struct name_slot *ns)
{
	size_t	i;

	for (i = 0; i < NAMES_MAX_COMPONENTS; i++) {
		free(ns->key[i]);
		free(ns->skel[i]);
	}
	free(ns->display);
	memset(ns, 0, sizeof(*ns));
}

/* ns becomes display's (too long, or a failed copy: empty). */
static void
name_slot_fill(struct name_slot *ns, const char *display,
    const struct name_cands *c)
{
	size_t	i, bytes = 0;

	name_slot_clear(ns);
	if (strlen(display) >= NAME_TEXT)
		return;
	for (i = 0; i < c->n; i++)
		bytes += (c->key[i] != NULL ? strlen(c->key[i]) : 0) +
		    (c->skel[i][0] != NULL ? strlen(c->skel[i][0]) : 0);
	if (bytes > NAME_KEYS)
		return;
	for (i = 0; i < c->n; i++)
		if ((c->key[i] != NULL &&
		    (ns->key[i] = strdup(c->key[i])) == NULL) ||
		    (c->skel[i][0] != NULL &&
		    (ns->skel[i] = strdup(c->skel[i][0])) == NULL)) {
			name_slot_clear(ns);
			return;
		}
	if ((ns->display = strdup(display)) == NULL) {
		name_slot_clear(ns);
		return;
	}
	ns->n = c->n;
}

/*
 * Component i's key and skeleton (may be NULL) in the name indexes.
 * A key that is its own skeleton (most names in Han and kana, Latin
 * ones without m, l or digits that look like letters) gets no
 * skeleton record: the lookup reads the name index under each
 * skeleton too (learn_find.c, component_people), where it finds this
 * one.  That is a record fewer on a page of its own for such a name
 * in each message.
 */
static enum lw_err
plan_name_keys(struct pctx *cx, const char *key, const char *skel,
    const char *item)
{
	struct mut	*m;
	enum lw_err	 e;

	if (key == NULL || *key == '\0')
		return LW_OK;
	if ((e = plan_mut(cx, L_NAME, key, &m)) == LW_OK)
		e = mut_item(cx, m, item);
	if (e == LW_OK && skel != NULL && strcmp(skel, key) != 0 &&
	    (e = plan_mut(cx, L_SKEL, skel, &m)) == LW_OK)
		e = mut_item(cx, m, item);
	return e;
}

/*
 * The display name of addr (kind letter 'a' or 'c') in the name
 * indexes: each component's key, and its skeleton for confusables.
 */
static enum lw_err
plan_names(struct pctx *cx, char kind, const char *addr,
    const char *display)
{
	struct name_cands	 c;
	struct name_slot	*ns;
	char			 item[400];
	size_t			 i;
	enum lw_err		 e = LW_OK;
	bool			 hit;

	if (!learnable_name(display))
		return LW_OK;
	snprintf(item, sizeof(item), "%c %s", kind, addr);
	ns = &name_cache[key_slot(display, NAME_SLOTS)];
	pthread_mutex_lock(&name_mu);
	if ((hit = ns->display != NULL && strcmp(ns->display, display) == 0))
		for (i = 0; i < ns->n && e == LW_OK; i++)
			e = plan_name_keys(cx, ns->key[i], ns->skel[i], item);
	pthread_mutex_unlock(&name_mu);
	if (hit)
		return e;
	if ((e = names_cands(display, &c)) != LW_OK)
		return e;
	for (i = 0; i < c.n && e == LW_OK; i++)
		e = plan_name_keys(cx, c.key[i], c.skel[i][0], item);
	if (e == LW_OK) {
		pthread_mutex_lock(&name_mu);
		name_slot_fill(ns, display, &c);
		pthread_mutex_unlock(&name_mu);
	}
	names_cands_free(&c);
	return e;
}

/* One more message sent to (or reply from) the record letter/text. */
static enum lw_err
plan_count(struct pctx *cx, char letter, const char *text, bool reply,
    struct mut **m)
{
	enum lw_err	e;

	if ((e = plan_mut(cx, letter, text, m)) != LW_OK)
		return e;
	if (reply)
		(*m)->in = 1;
	else
		(*m)->out = 1;
	return LW_OK;
}

/* An address record with its display name kept (cut to NAME_BYTES). */
static enum lw_err
plan_person(struct pctx *cx, char kind, const char *addr,
    const char *display, bool reply)
{
	struct mut	*m;
	char		*name;
	size_t		 len;
	enum lw_err	 e;

	if ((e = plan_count(cx, kind, addr, reply, &m)) != LW_OK ||
	    !learnable_name(display))
		return e;
	len = lw_utf8_cut(display, strlen(display) > NAME_BYTES ?
	    NAME_BYTES : strlen(display));
	if ((name = strndup(display, len)) == NULL)
		return LW_ENOMEM;
	e = mut_item(cx, m, name);
	free(name);
	if (e == LW_OK)
		e = plan_names(cx, kind, addr, display);
	return e;
}

static enum lw_err
plan_domain(struct pctx *cx, const char *domain, bool reply)
{
	struct mut	*m;

	return plan_count(cx, L_DOMAIN, domain, reply, &m);
}

/* Recipients as learned: lowercased, with the To/Cc display names. */
struct rcpts {
	char		*addr[LEARN_RCPTS_MAX];
	char		*display[LEARN_RCPTS_MAX];
	size_t		 n;
};

static void
rcpts_free(struct rcpts *r)
{
	lw_strv_clear(r->addr, r->n);
	lw_strv_clear(r->display, r->n);
	r->n = 0;
}

static enum lw_err
rcpts_add(struct rcpts *r, const char *addr, const char *display)
{
	char	*a;
	size_t	 i;

	if (r->n == LEARN_RCPTS_MAX || (a = learn_addr_norm(addr)) == NULL)
		return LW_OK;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->addr[i], a) == 0) {
			if (r->display[i] == NULL && display != NULL &&
			    (r->display[i] = strdup(display)) == NULL) {
				free(a);
				return LW_ENOMEM;
			}
			free(a);
			return LW_OK;
		}
	r->addr[r->n] = a;
	r->display[r->n] = NULL;
	if (display != NULL && (r->display[r->n] = strdup(display)) == NULL) {
		free(a);
		return LW_ENOMEM;
	}
	r->n++;
	return LW_OK;
}

/* To: and Cc: (every such header), then the envelope's recipients. */
static enum lw_err
rcpts_collect(const struct message *msg, const struct envelope *env,
    struct rcpts *r)
{
	struct address	 a[LEARN_RCPTS_MAX];
	size_t		 i, j, n;
	enum lw_err	 e = LW_OK;

	for (i = 0; i < msg->nhdrs && e == LW_OK; i++) {
		if (!lw_strcaseeq(msg->hdrs[i].name, "To") &&
		    !lw_strcaseeq(msg->hdrs[i].name, "Cc"))
			continue;
		n = address_parse(msg->hdrs[i].value, a, LEARN_RCPTS_MAX);
		for (j = 0; j < n; j++) {
			if (e == LW_OK)
				e = rcpts_add(r, a[j].addr, a[j].display);
			address_free(&a[j]);
		}
	}
	for (i = 0; env != NULL && i < env->nrcpts && e == LW_OK; i++)
		e = rcpts_add(r, env->rcpts[i], NULL);
	return e;
}

/* The thread records of msg: its own id and the ids it answers. */
static enum lw_err
plan_threads(struct pctx *cx, const struct message *msg,
    const char *account, char *const *doms, size_t ndoms, bool reply)
{
	char		 ids[1 + 2 * LEARN_REFS_MAX][LEARN_HASH_HEX + 1];
	char		 subj[LEARN_HASH_HEX + 1] = "", acct[LEARN_HASH_HEX + 1];
	char		 item[2 * LEARN_HASH_HEX + 2], *norm;
	struct mut	*m;
	size_t		 n = 0, own = 0, i, j;
	enum lw_err	 e;

	if (!reply) {
		own = learn_ids(msg->message_id, ids, 1);
		n = own;
		if ((norm = learn_subject_norm(msg->subject)) == NULL)
			return LW_ENOMEM;
		e = *norm != '\0' ? learn_hash(norm, strlen(norm), subj) :
		    LW_OK;
		free(norm);
		if (e != LW_OK || (e = learn_hash(account, strlen(account),
		    acct)) != LW_OK)
			return e;
	}
	n += learn_ids(msg->in_reply_to, ids + n, 1);
	n += learn_ids(msg->references, ids + n, LEARN_REFS_MAX);
	for (i = 0; i < n; i++) {
		if ((e = plan_mut(cx, L_THREAD, ids[i], &m)) != LW_OK)
			return e;
		if (reply) {
			m->in = 1;
			m->existing = true;	/* only threads of ours */
		} else {
			m->out = 1;
			memcpy(m->account, acct, sizeof(acct));
			memcpy(m->subject, subj, sizeof(subj));
		}
		for (j = 0; j < ndoms; j++)
			if ((e = mut_item(cx, m, doms[j])) != LW_OK)
				return e;
	}
	/*
	 * The subject index: threads this message starts (it answers
	 * nothing), by their sender.  A reply in the thread is no second
	 * thread of that subject.
	 */
	if (own > 0 && n == own && subj[0] != '\0') {
		snprintf(item, sizeof(item), "%s %s", ids[0], acct);
		if ((e = plan_mut(cx, L_SUBJECT, subj, &m)) != LW_OK)
			return e;
		if ((e = mut_item(cx, m, item)) != LW_OK)
			return e;
	}
	return LW_OK;
}

static void
doms_add(char **doms, size_t *n, const char *d)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp(doms[i], d) == 0)
			return;
	if (*n < LEARN_PARTICIPANTS_MAX)
		doms[(*n)++] = (char *)d;
}


enum lw_err
learn_mut_apply(const struct mut *m, struct lrec *lr, bool created)
{
	if (created) {
		if ((lr->r.key = strdup(m->text)) == NULL)
			return LW_ENOMEM;
		lr->r.first = m->first;
	}
	if (m->first < lr->r.first)
		lr->r.first = m->first;
	if (m->last > lr->r.last)
		lr->r.last = m->last;
	lr->r.out += m->out;
	lr->r.in += m->in;
	if (m->subject[0] != '\0' && lr->r.subject[0] == '\0')
		memcpy(lr->r.subject, m->subject, sizeof(m->subject));
	if (m->account[0] != '\0' && lr->r.account[0] == '\0')
		memcpy(lr->r.account, m->account, sizeof(m->account));
	return learn_items_merge(lr, m->items, m->nitems, m->max_items);
}

/*
 * A name index record that has each of m's items already, each seen
 * within the last eighth of the record's expiry, and was itself: left
 * as it is.  Its items only say which people go by a name; how many
 * messages each took is the person's record's (learn_names reads it
 * there), so rewriting the record for each message only moved a count
 * nobody reads, and cost a page of its own per name and message.  An
 * association in use is rewritten at least every eighth of its expiry
 * (three months of the default two years), and the record expires an
 * eighth later than others (apply_one), so a name is kept at least as
 * long after it was last used as its person, and the least recently
 * seen of a full record still go first, to that precision.
 */
static bool
name_fresh(const struct mut *m, const struct lrec *lr)
{
	time_t	refresh = m->ttl / 8;
	size_t	i, k;

	if ((m->letter != L_NAME && m->letter != L_SKEL) || refresh <= 0 ||
	    lr->r.last + refresh < m->last)
		return false;
	for (k = 0; k < m->nitems; k++) {
		for (i = 0; i < lr->r.nitems; i++)
			if (strcmp(lr->r.items[i].text, m->items[k].text) == 0)
				break;
		if (i == lr->r.nitems ||
		    lr->r.items[i].last + refresh < m->items[k].last)
			return false;
	}
	return true;
}

static enum lw_err
apply_one(void *arg, size_t i, const struct state_val *old,
    struct state_val *out, enum state_verdict *what)
{
	struct plan	*pl = arg;
	struct mut	*m = &pl->v[i];
	struct lrec	 lr;
	enum lw_err	 e;

	m->created = old == NULL || !learn_rec_parse(old, &lr);
	m->written = false;
	if (m->created && m->existing) {
		m->created = false;
		*what = STATE_KEEP;
		return LW_OK;
	}
	if (!m->created && name_fresh(m, &lr)) {
		m->new_last = lr.r.last;
		learn_rec_free(&lr);
		*what = STATE_KEEP;
		return LW_OK;
	}
	if (m->created)
		memset(&lr, 0, sizeof(lr));
	e = learn_mut_apply(m, &lr, m->created);
	if (e == LW_OK)
		e = learn_rec_write(&lr, out);
	/*
	 * Expiry runs from the last time seen, not from now; a name
	 * index record's an eighth longer, as its last seen may be that
	 * old (name_fresh).
	 */
	out->expires = m->ttl > 0 ? lr.r.last + m->ttl +
	    (m->letter == L_NAME || m->letter == L_SKEL ? m->ttl / 8 : 0) : 0;
	m->new_last = lr.r.last;
	m->written = e == LW_OK;
	learn_rec_free(&lr);
	*what = STATE_WRITE;
	return e;
}

static bool
capped(char letter)
{
	return letter == L_ACCOUNT || letter == L_CORR || letter == L_DOMAIN ||
	    letter == L_THREAD;
}

/* The age index's new entries: one per record the write created. */
struct age_plan {
	char		(*keys)[LEARN_KEY_BYTES];
	size_t		  n;
};

static enum lw_err
age_step(void *arg, size_t i, const struct state_val *old,
    struct state_val *out, enum state_verdict *what)
{
	(void)arg;
	(void)i;
	(void)old;
	if ((out->data = (unsigned char *)strdup("1")) == NULL)
		return LW_ENOMEM;
	out->len = 1;
	out->expires = 0;
	*what = STATE_WRITE;
	return LW_OK;
}

/*
 * Each record of a capped kind the write created gets its entry in
 * the age index (learn_find.c's eviction reads it oldest first), on
 * the day it was created.  A record seen again later keeps that entry:
 * the entry moves to the record's last day only when eviction reaches
 * it (learn_evict), so that a message's write touches no entry of the
 * records it only updates.  Moving each record's entry at once cost a
 * deleted entry on a random page of the index and a new one per record
 * and day: some 2,000 keys of every 256 messages, a quarter of the
 * pages an on-disk flush wrote.  An entry never expires: while its
 * record lives it has to be there, and once the record expired (or
 * went to a forget) eviction meets it, takes the record off the count
 * and deletes it.
 */
static enum lw_err
age_update(struct learn *l, const struct plan *pl, time_t now)
{
	struct age_plan	 ap = { NULL, 0 };
	const char	*hex, **keys = NULL;
	size_t		 i;
	enum lw_err	 e = LW_OK;

	if ((ap.keys = calloc(pl->n, sizeof(*ap.keys))) == NULL ||
	    (keys = calloc(pl->n, sizeof(*keys))) == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	for (i = 0; i < pl->n; i++) {
		const struct mut *m = &pl->v[i];

		if (!m->written || !m->created || !capped(m->letter))
			continue;
		hex = strrchr(m->key, ':') + 1;
		learn_age_key(m->org, m->letter, m->new_last, hex,
		    ap.keys[ap.n]);
		keys[ap.n] = ap.keys[ap.n];
		ap.n++;
	}
	if (ap.n > 0)
		e = state_update_many(l->st, keys, ap.n, now, age_step, &ap);
out:
	FREE_ALL(ap.keys, keys);
	return e;
}

/* What a write touched and created, per organisation and capped kind. */
struct touched {
	char		 org[LEARN_ORG_MAX + 1];
	char		 letter;
	time_t		 ttl;
	int64_t		 created;
	size_t		 written;
};

/* The groups of pl's written records of capped kinds. */
static enum lw_err
touched_collect(const struct plan *pl, struct touched **out, size_t *n)
{
	struct touched	*tv = NULL, *ntv;
	size_t		 i, k, nt = 0;

	for (i = 0; i < pl->n; i++) {
		const struct mut *m = &pl->v[i];

		if (!m->written || !capped(m->letter))
			continue;
		for (k = 0; k < nt; k++)
			if (tv[k].letter == m->letter &&
			    strcmp(tv[k].org, m->org) == 0)
				break;
		if (k == nt) {
			if ((ntv = reallocarray(tv, nt + 1, sizeof(*tv))) ==
			    NULL) {
				free(tv);
				return LW_ENOMEM;
			}
			tv = ntv;
			memset(&tv[k], 0, sizeof(tv[k]));
			memcpy(tv[k].org, m->org, sizeof(tv[k].org));
			tv[k].letter = m->letter;
			tv[k].ttl = m->ttl;
			nt++;
		}
		tv[k].written++;
		if (m->created)
			tv[k].created++;
	}
	*out = tv;
	*n = nt;
	return LW_OK;
}

enum lw_err
learn_plan_write(struct learn *l, struct plan *pl, time_t now)
{
	const char	**keys;
	size_t		  i;
	enum lw_err	  e;

	if (pl->n == 0)
		return LW_OK;
	if ((keys = calloc(pl->n, sizeof(*keys))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < pl->n; i++)
		keys[i] = pl->v[i].key;
	e = state_update_many(l->st, keys, pl->n, now, apply_one, pl);
	free(keys);
	return e;
}

enum lw_err
learn_plan_count(struct learn *l, const struct learn_config *c,
    struct plan *pl, time_t now)
{
	struct touched		*tv = NULL;
	char			 ckey[LEARN_KEY_BYTES];
	uint64_t		 cap;
	size_t			 i, k, nt = 0, max;
	enum lw_err		 e = LW_OK;

	/* A new organisation: its name in the list for stats. */
	for (i = 0; i < pl->n && e == LW_OK; i++)
		if (pl->v[i].created && pl->v[i].letter == L_META)
			e = learn_orgs_add(l, pl->v[i].org, now);
	if (e == LW_OK)
		e = age_update(l, pl, now);
	if (e == LW_OK)
		e = touched_collect(pl, &tv, &nt);
	for (k = 0; k < nt && e == LW_OK; k++) {
		learn_count_key(tv[k].org, tv[k].letter, ckey);
		if (tv[k].created > 0 && (e = state_incr(l->st, ckey,
		    tv[k].created, 0, now, NULL)) != LW_OK)
			break;
		/*
		 * Eviction, bounded: a few entries more than this write
		 * created, so the store keeps up with what it learns.
		 */
		cap = tv[k].letter == L_THREAD ? c->max_threads :
		    c->max_correspondents;
		max = LEARN_EVICT_MIN + 2 * (size_t)tv[k].created;
		e = learn_evict(l, tv[k].org, tv[k].letter, cap, tv[k].ttl,
		    max, now);
	}
	free(tv);
	return e;
}

enum lw_err
learn_plan_run(struct learn *l, const struct learn_config *c,
    struct plan *pl, time_t now)
{
	enum lw_err	e;

	if ((e = learn_plan_write(l, pl, now)) != LW_OK)
		return e;
	return learn_plan_count(l, c, pl, now);
}

static enum lw_err
outbound_mail(struct learn *l, const struct learn_config *c, const char *org,
    const struct message *msg, const struct envelope *env, time_t now)
{
	struct plan	 pl = { .msgs = 1 };
	struct pctx	 cx = { c, &pl, org, now };
	struct rcpts	 r;
	struct mut	*m;
	char		*acct, *doms[LEARN_PARTICIPANTS_MAX];
	const char	*adom;
	size_t		 nd = 0, i;
	enum lw_err	 e;

	if (l->readonly)
		return LW_EINVAL;
	if (!c->enable || msg == NULL)
		return LW_OK;
	acct = learn_addr_norm(msg->from.addr);
	if (acct == NULL && env != NULL)
		acct = learn_addr_norm(env->mail_from);
	if (acct == NULL)
		return LW_OK;		/* no account: nothing to learn */
	adom = learn_addr_domain(acct);
	memset(&r, 0, sizeof(r));
	if ((e = rcpts_collect(msg, env, &r)) != LW_OK)
		goto out;
	doms_add(doms, &nd, adom);
	for (i = 0; i < r.n; i++)
		doms_add(doms, &nd, learn_addr_domain(r.addr[i]));
	if ((e = plan_mut(&cx, L_META, "", &m)) != LW_OK)
		goto out;
	m->out = 1;
	if ((e = plan_person(&cx, L_ACCOUNT, acct, msg->from.display,
	    false)) != LW_OK || (e = plan_domain(&cx, adom, false)) != LW_OK)
		goto out;
	for (i = 0; i < r.n && e == LW_OK; i++) {
		/* Colleagues are participants, not correspondents. */
		if (learn_related(learn_addr_domain(r.addr[i]), adom))
			continue;
		e = plan_person(&cx, L_CORR, r.addr[i], r.display[i], false);
		if (e == LW_OK)
			e = plan_domain(&cx, learn_addr_domain(r.addr[i]),
			    false);
	}
	if (e == LW_OK)
		e = plan_threads(&cx, msg, acct, doms, nd, false);
	if (e == LW_OK)
		e = learn_submit(l, c, &pl, now);
out:
	if (e != LW_OK && e != LW_ENOMEM)
		log_warnx("learn: outbound mail of %s not learned: %s", acct,
		    lw_strerror(e));
	learn_plan_free(&pl);
	rcpts_free(&r);
	free(acct);
	return e;
}

enum lw_err
learn_outbound(struct learn *l, const char *org, const struct message *msg,
    const struct envelope *env, time_t now)
{
	return outbound_mail(l, &l->c, org, msg, env, now);
}

static enum lw_err
inbound_reply(struct learn *l, const struct learn_config *c, const char *org,
    const struct message *msg, time_t now)
{
	struct plan		 pl = { .msgs = 1 };
	struct pctx		 cx = { c, &pl, org, now };
	struct learn_record	 t;
	struct rcpts		 r;
	struct mut		*m;
	enum learn_how		 how;
	char			*from, *doms[LEARN_PARTICIPANTS_MAX];
	size_t			 nd = 0, i;
	enum lw_err		 e;

	if (l->readonly)
		return LW_EINVAL;
	if (!c->enable || msg == NULL ||
	    (from = learn_addr_norm(msg->from.addr)) == NULL)
		return LW_OK;
	memset(&r, 0, sizeof(r));
	if ((e = learn_thread_find(l, org, msg, NULL, now, &t, &how)) !=
	    LW_OK)
		goto out;
	if (how != LEARN_BY_REF) {
		e = LW_ENOTFOUND;
		goto out;
	}
	learn_record_free(&t);
	if ((e = rcpts_collect(msg, NULL, &r)) != LW_OK)
		goto out;
	doms_add(doms, &nd, learn_addr_domain(from));
	for (i = 0; i < r.n; i++)
		doms_add(doms, &nd, learn_addr_domain(r.addr[i]));
	if ((e = plan_mut(&cx, L_META, "", &m)) != LW_OK)
		goto out;
	m->in = 1;
	if ((e = plan_person(&cx, L_CORR, from, msg->from.display, true)) ==
	    LW_OK && (e = plan_domain(&cx, learn_addr_domain(from), true)) ==
	    LW_OK && (e = plan_threads(&cx, msg, from, doms, nd, true)) ==
	    LW_OK)
		e = learn_submit(l, c, &pl, now);
out:
	learn_plan_free(&pl);
	rcpts_free(&r);
	free(from);
	return e;
}

enum lw_err
learn_inbound_reply(struct learn *l, const char *org,
    const struct message *msg, time_t now)
{
	return inbound_reply(l, &l->c, org, msg, now);
}

const char *
learn_decided(struct state *st, const struct learn_config *c, bool outbound,
    bool delivered, const struct verdict *v, const struct message *msg,
    const struct envelope *env, time_t now)
{
	struct learn	*l;
	const char	*what = NULL;
	enum lw_err	 e;

	if (st == NULL || c == NULL || !c->enable || st->readonly ||
	    v == NULL || msg == NULL || !delivered || v->action > ACT_TAG)
		return NULL;
	if (!outbound && !findings_has(&v->findings, "HDR_KNOWN_THREAD"))
		return NULL;
	/* The daemon's learner batches; else one of our own, at once. */
	if ((l = learn_shared(st)) == NULL && learn_open(st, c, &l) != LW_OK)
		return NULL;
	e = outbound ? outbound_mail(l, c, learn_org(v->policy), msg, env,
	    now) : inbound_reply(l, c, learn_org(v->policy), msg, now);
	if (l != learn_shared(st))
		learn_close(l);
	if (e == LW_OK)
		what = outbound ? "learned=outbound" : "learned=reply";
	else
		log_msg(LOG_WARNING, env != NULL ? env->qid : NULL,
		    "learn: %s mail not learned: %s", outbound ? "outbound" :
		    "reply", lw_strerror(e));
	return what;
}
