/*
 * learn.c: learning from the organisation's own mail (learn.h): the
 * handle, and the two writers, learn_outbound and learn_inbound_reply.
 *
 * One message becomes a plan: a list of records to touch (its account,
 * each correspondent, their names in the name indexes, each domain,
 * its threads, its subject, the organisation's counts), merged by key,
 * then written by one state_update_many (on LMDB one transaction, one
 * commit).  A record created by the plan counts toward its kind's cap
 * ("learn:ORG:#L"); past the cap the least recently seen tenth goes
 * (learn_evict in learn_find.c).
 *
 * Takes the parsed message (From, To, Cc, Subject, Message-ID,
 * In-Reply-To, References) and the envelope recipients; bounded by
 * LEARN_RCPTS_MAX recipients and LEARN_REFS_MAX answered ids.  Ignores
 * bodies, Bcc headers, Sender: and Reply-To:.
 */
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
#define PLAN_ITEMS_MAX	LEARN_PARTICIPANTS_MAX

/* One record to touch. */
struct mut {
	char		 key[LEARN_KEY_BYTES];
	char		 letter;
	char		*text;		/* its k line */
	char		*items[PLAN_ITEMS_MAX];	/* to count once more */
	size_t		 nitems;
	size_t		 max_items;
	uint64_t	 out, in;	/* to add */
	time_t		 ttl;
	char		 subject[LEARN_HASH_HEX + 1];
	char		 account[LEARN_HASH_HEX + 1];
	bool		 existing;	/* touch only, never create */
	bool		 created;	/* set by the write */
};

struct plan {
	struct learn	*l;
	const char	*org;
	time_t		 now;
	struct mut	*v;
	size_t		 n;
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
plan_free(struct plan *pl)
{
	size_t	i, j;

	for (i = 0; i < pl->n; i++) {
		free(pl->v[i].text);
		for (j = 0; j < pl->v[i].nitems; j++)
			free(pl->v[i].items[j]);
	}
	free(pl->v);
	pl->v = NULL;
	pl->n = 0;
}

/* The record letter/text in the plan, added when new. */
static enum lw_err
plan_mut(struct plan *pl, char letter, const char *text, struct mut **out)
{
	struct mut	*nv, *m;
	char		 key[LEARN_KEY_BYTES];
	size_t		 i;
	enum lw_err	 e;

	if ((e = learn_key(pl->org, letter, text, key)) != LW_OK)
		return e;
	for (i = 0; i < pl->n; i++)
		if (strcmp(pl->v[i].key, key) == 0) {
			*out = &pl->v[i];
			return LW_OK;
		}
	if ((nv = reallocarray(pl->v, pl->n + 1, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	pl->v = nv;
	m = &nv[pl->n];
	memset(m, 0, sizeof(*m));
	memcpy(m->key, key, sizeof(key));
	m->letter = letter;
	if ((m->text = strdup(text)) == NULL)
		return LW_ENOMEM;
	pl->n++;
	switch (letter) {
	case L_THREAD:
		m->ttl = (time_t)pl->l->c.thread_days * DAY;
		m->max_items = LEARN_PARTICIPANTS_MAX;
		break;
	case L_NAME:
	case L_SKEL:
		m->ttl = (time_t)pl->l->c.correspondent_days * DAY;
		m->max_items = LEARN_NAME_ADDRS_MAX;
		break;
	case L_SUBJECT:
		m->ttl = (time_t)pl->l->c.thread_days * DAY;
		m->max_items = LEARN_SUBJECT_THREADS_MAX;
		break;
	case L_META:
		m->ttl = 0;
		break;
	default:
		m->ttl = (time_t)pl->l->c.correspondent_days * DAY;
		m->max_items = LEARN_ITEMS_MAX;
		break;
	}
	*out = m;
	return LW_OK;
}

static enum lw_err
mut_item(struct mut *m, const char *text)
{
	return lw_strset_add(m->items, &m->nitems, PLAN_ITEMS_MAX, text);
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
 * The display name of addr (kind letter 'a' or 'c') in the name
 * indexes: each component's key, and its skeleton for confusables.
 */
static enum lw_err
plan_names(struct plan *pl, char kind, const char *addr,
    const char *display)
{
	struct name_cands	 c;
	struct mut		*m;
	char			 item[400];
	size_t			 i;
	enum lw_err		 e;

	if (!learnable_name(display))
		return LW_OK;
	if ((e = names_cands(display, &c)) != LW_OK)
		return e;
	snprintf(item, sizeof(item), "%c %s", kind, addr);
	for (i = 0; i < c.n && e == LW_OK; i++) {
		if (c.key[i] == NULL || *c.key[i] == '\0')
			continue;
		if ((e = plan_mut(pl, L_NAME, c.key[i], &m)) == LW_OK)
			e = mut_item(m, item);
		if (e == LW_OK && c.skel[i][0] != NULL &&
		    (e = plan_mut(pl, L_SKEL, c.skel[i][0], &m)) == LW_OK)
			e = mut_item(m, item);
	}
	names_cands_free(&c);
	return e;
}

/* One more message sent to (or reply from) the record letter/text. */
static enum lw_err
plan_count(struct plan *pl, char letter, const char *text, bool reply,
    struct mut **m)
{
	enum lw_err	e;

	if ((e = plan_mut(pl, letter, text, m)) != LW_OK)
		return e;
	if (reply)
		(*m)->in = 1;
	else
		(*m)->out = 1;
	return LW_OK;
}

/* An address record with its display name kept (cut to NAME_BYTES). */
static enum lw_err
plan_person(struct plan *pl, char kind, const char *addr,
    const char *display, bool reply)
{
	struct mut	*m;
	char		*name;
	size_t		 len;
	enum lw_err	 e;

	if ((e = plan_count(pl, kind, addr, reply, &m)) != LW_OK ||
	    !learnable_name(display))
		return e;
	len = lw_utf8_cut(display, strlen(display) > NAME_BYTES ?
	    NAME_BYTES : strlen(display));
	if ((name = strndup(display, len)) == NULL)
		return LW_ENOMEM;
	e = mut_item(m, name);
	free(name);
	if (e == LW_OK)
		e = plan_names(pl, kind, addr, display);
	return e;
}

static enum lw_err
plan_domain(struct plan *pl, const char *domain, bool reply)
{
	struct mut	*m;

	return plan_count(pl, L_DOMAIN, domain, reply, &m);
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
	size_t	i;

	for (i = 0; i < r->n; i++) {
		free(r->addr[i]);
		free(r->display[i]);
	}
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
plan_threads(struct plan *pl, const struct message *msg,
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
		if ((e = plan_mut(pl, L_THREAD, ids[i], &m)) != LW_OK)
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
			if ((e = mut_item(m, doms[j])) != LW_OK)
				return e;
	}
	/*
	 * The subject index: threads this message starts (it answers
	 * nothing), by their sender.  A reply in the thread is no second
	 * thread of that subject.
	 */
	if (own > 0 && n == own && subj[0] != '\0') {
		snprintf(item, sizeof(item), "%s %s", ids[0], acct);
		if ((e = plan_mut(pl, L_SUBJECT, subj, &m)) != LW_OK)
			return e;
		if ((e = mut_item(m, item)) != LW_OK)
			return e;
	}
	return LW_OK;
}

static enum lw_err
apply_one(void *arg, size_t i, const struct state_val *old,
    struct state_val *out, enum state_verdict *what)
{
	struct plan	*pl = arg;
	struct mut	*m = &pl->v[i];
	struct lrec	 lr;
	size_t		 j;
	enum lw_err	 e = LW_OK;

	m->created = old == NULL || !learn_rec_parse(old, &lr);
	if (m->created && m->existing) {
		m->created = false;
		*what = STATE_KEEP;
		return LW_OK;
	}
	if (m->created) {
		memset(&lr, 0, sizeof(lr));
		if ((lr.r.key = strdup(m->text)) == NULL)
			return LW_ENOMEM;
		lr.r.first = pl->now;
	}
	if (pl->now < lr.r.first)
		lr.r.first = pl->now;
	if (pl->now > lr.r.last)
		lr.r.last = pl->now;
	lr.r.out += m->out;
	lr.r.in += m->in;
	if (m->subject[0] != '\0' && lr.r.subject[0] == '\0')
		memcpy(lr.r.subject, m->subject, sizeof(m->subject));
	if (m->account[0] != '\0' && lr.r.account[0] == '\0')
		memcpy(lr.r.account, m->account, sizeof(m->account));
	for (j = 0; j < m->nitems && e == LW_OK; j++)
		e = learn_item_touch(&lr, m->items[j], 1, pl->now,
		    m->max_items);
	if (e == LW_OK)
		e = learn_rec_write(&lr, out);
	/* Expiry runs from the last time seen, not from now. */
	out->expires = m->ttl > 0 ? lr.r.last + m->ttl : 0;
	learn_rec_free(&lr);
	*what = STATE_WRITE;
	return e;
}

/* Write the plan; count what it created toward the caps. */
static enum lw_err
plan_run(struct plan *pl)
{
	static const char	 capped[] = { L_ACCOUNT, L_CORR, L_DOMAIN,
				    L_THREAD };
	const char		**keys;
	char			 ckey[LEARN_KEY_BYTES];
	int64_t			 n[sizeof(capped)] = { 0 }, total;
	uint64_t		 cap;
	size_t			 i, k;
	enum lw_err		 e;

	if (pl->n == 0)
		return LW_OK;
	if ((keys = calloc(pl->n, sizeof(*keys))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < pl->n; i++)
		keys[i] = pl->v[i].key;
	e = state_update_many(pl->l->st, keys, pl->n, pl->now, apply_one, pl);
	free(keys);
	if (e != LW_OK)
		return e;
	for (i = 0; i < pl->n; i++)
		for (k = 0; k < sizeof(capped); k++)
			if (pl->v[i].created && pl->v[i].letter == capped[k])
				n[k]++;
	for (k = 0; k < sizeof(capped) && e == LW_OK; k++) {
		if (n[k] == 0)
			continue;
		learn_prefix(pl->org, capped[k], ckey);
		ckey[strlen(ckey) - 2] = '#';	/* "learn:ORG:#L" */
		ckey[strlen(ckey) - 1] = capped[k];
		if ((e = state_incr(pl->l->st, ckey, n[k], 0, pl->now,
		    &total)) != LW_OK)
			break;
		cap = capped[k] == L_THREAD ? pl->l->c.max_threads :
		    pl->l->c.max_correspondents;
		if (cap > 0 && (uint64_t)total > cap)
			e = learn_evict(pl->l, pl->org, capped[k], cap,
			    pl->now);
	}
	return e;
}

/* Participant domains: the account's and every recipient's. */
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
learn_outbound(struct learn *l, const char *org, const struct message *msg,
    const struct envelope *env, time_t now)
{
	struct plan	 pl = { l, org, now, NULL, 0 };
	struct rcpts	 r;
	struct mut	*m;
	char		*acct, *doms[LEARN_PARTICIPANTS_MAX];
	const char	*adom;
	size_t		 nd = 0, i;
	enum lw_err	 e;

	if (l->readonly)
		return LW_EINVAL;
	if (!l->c.enable || msg == NULL)
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
	if ((e = plan_mut(&pl, L_META, "", &m)) != LW_OK)
		goto out;
	m->out = 1;
	if ((e = plan_person(&pl, L_ACCOUNT, acct, msg->from.display,
	    false)) != LW_OK || (e = plan_domain(&pl, adom, false)) != LW_OK)
		goto out;
	for (i = 0; i < r.n && e == LW_OK; i++) {
		/* Colleagues are participants, not correspondents. */
		if (learn_related(learn_addr_domain(r.addr[i]), adom))
			continue;
		e = plan_person(&pl, L_CORR, r.addr[i], r.display[i], false);
		if (e == LW_OK)
			e = plan_domain(&pl, learn_addr_domain(r.addr[i]),
			    false);
	}
	if (e == LW_OK)
		e = plan_threads(&pl, msg, acct, doms, nd, false);
	if (e == LW_OK)
		e = plan_run(&pl);
out:
	if (e != LW_OK && e != LW_ENOMEM)
		log_warnx("learn: outbound mail of %s not learned: %s", acct,
		    lw_strerror(e));
	plan_free(&pl);
	rcpts_free(&r);
	free(acct);
	return e;
}

enum lw_err
learn_inbound_reply(struct learn *l, const char *org,
    const struct message *msg, time_t now)
{
	struct plan		 pl = { l, org, now, NULL, 0 };
	struct learn_record	 t;
	struct rcpts		 r;
	struct mut		*m;
	enum learn_how		 how;
	char			*from, *doms[LEARN_PARTICIPANTS_MAX];
	size_t			 nd = 0, i;
	enum lw_err		 e;

	if (l->readonly)
		return LW_EINVAL;
	if (!l->c.enable || msg == NULL ||
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
	if ((e = plan_mut(&pl, L_META, "", &m)) != LW_OK)
		goto out;
	m->in = 1;
	if ((e = plan_person(&pl, L_CORR, from, msg->from.display, true)) ==
	    LW_OK && (e = plan_domain(&pl, learn_addr_domain(from), true)) ==
	    LW_OK && (e = plan_threads(&pl, msg, from, doms, nd, true)) ==
	    LW_OK)
		e = plan_run(&pl);
out:
	plan_free(&pl);
	rcpts_free(&r);
	free(from);
	return e;
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
	if (learn_open(st, c, &l) != LW_OK)
		return NULL;
	e = outbound ? learn_outbound(l, learn_org(v->policy), msg, env, now) :
	    learn_inbound_reply(l, learn_org(v->policy), msg, now);
	learn_close(l);
	if (e == LW_OK)
		what = outbound ? "learned=outbound" : "learned=reply";
	else
		log_msg(LOG_WARNING, env != NULL ? env->qid : NULL,
		    "learn: %s mail not learned: %s", outbound ? "outbound" :
		    "reply", lw_strerror(e));
	return what;
}
