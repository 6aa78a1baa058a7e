/*
 * learn_int.h: what learn.c (writing), learn_find.c (lookups, admin
 * view) and learn_rec.c (keys and the record's text form) share.  No
 * other stage includes it.
 */
#ifndef LEARN_INT_H
#define LEARN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "learn.h"
#include "state.h"

#define LEARN_PREFIX		"learn:"
#define LEARN_KEY_BYTES		(sizeof(LEARN_PREFIX) + LEARN_ORG_MAX + \
				    LEARN_HASH_HEX + 24)
#define LEARN_DAY		86400
#define LEARN_RECORD_MAX	(256u << 10)	/* bytes of one value read */

/*
 * The letter of each record kind in a key: the four of enum learn_kind
 * and the indexes behind them.
 */
#define L_ACCOUNT	'a'
#define L_CORR		'c'
#define L_DOMAIN	'd'
#define L_THREAD	't'
#define L_NAME		'n'	/* names_key -> "a ADDR" / "c ADDR" items */
#define L_SKEL		'x'	/* skeleton of a names_key -> the same */
#define L_SUBJECT	'j'	/* subject hash -> "TID ACCOUNT" items */
#define L_META		'm'	/* one per org: out = messages, in =
				   replies, first, last */
#define L_AGE		'z'	/* "z:L:DAY:HEX": the age index of the
				   capped kinds, oldest day first */

struct learn_batch;
struct lrec;

struct learn {
	struct state		*st;
	struct learn_config	 c;
	bool			 readonly;
	struct learn_batch	*batch;	/* NULL: each message at once */
};

/*
 * One record a plan touches: what to add to it.  A plan is one
 * message's (unbatched) or the merge of a batch's messages (keys met
 * again add up: counts, items, first/last).
 */
#define PLAN_ITEMS_MAX	64	/* items added to one record per message;
				   a batch's: the most recently seen */

struct mut {
	char			 key[LEARN_KEY_BYTES];
	char			 letter;
	char			 org[LEARN_ORG_MAX + 1];
	char			*text;		/* its k line */
	struct learn_item	*items;		/* to count once more each */
	size_t			 nitems;
	size_t			 max_items;
	uint64_t		 out, in;	/* to add */
	time_t			 first, last;	/* of the messages */
	time_t			 ttl;
	char			 subject[LEARN_HASH_HEX + 1];
	char			 account[LEARN_HASH_HEX + 1];
	bool			 existing;	/* touch only, never create */
	bool			 created;	/* set by the write */
	bool			 written;	/* set by the write */
	time_t			 new_last;	/* after it */
};

struct plan {
	struct mut		*v;
	size_t			 n, cap;
	size_t			*slot;		/* hash index: 1 + index */
	size_t			 nslot;
	size_t			 msgs;		/* messages merged */
};

void		 learn_plan_free(struct plan *);
/* The record key in pl, NULL when pl does not touch it. */
const struct mut *learn_plan_get(const struct plan *pl, const char *key);
/*
 * What the write of m will do to lr (created: lr is zeroed, no record
 * yet): the counts, times and items added as the write adds them.
 */
enum lw_err	 learn_mut_apply(const struct mut *m, struct lrec *lr,
		    bool created);
/*
 * The record key as lookups see it: *lr as read from the state (*have
 * false: absent), with what the batch of l, else the daemon's batched
 * learner on l's state, holds for key and has not written yet (queued,
 * or being written) applied; *have true when *lr then holds a record.
 * Bounded: a hash lookup in each of the two plans, under the batch's
 * lock; without the lock when nothing is held.  Between the records'
 * commit and the writer's next take of the lock (microseconds: the
 * batch stops being seen right after its write, before its counts
 * and eviction) a lookup may see a batch twice; the rules ask whether
 * a record is there, its counts only show in a finding's detail.
 */
enum lw_err	 learn_batch_see(struct learn *, const char *key,
		    struct lrec *lr, bool *have);
/* Add one message's plan to a batch's (what both touch adds up). */
enum lw_err	 learn_plan_merge(struct plan *dst, const struct plan *src);
/*
 * A message's plan, learned: written at once (no batch), else merged
 * into the batch (learn_batch.c), flushed when due.
 */
enum lw_err	 learn_submit(struct learn *, const struct learn_config *,
		    struct plan *, time_t now);
/* learn_close's: stop the writer, flush, free (no batch: nothing). */
void		 learn_batch_free(struct learn *);
/* The daemon's batched learner when it learns on st, else NULL. */
struct learn	*learn_shared(const struct state *st);
/*
 * Write pl (state_update_many: on LMDB one transaction), count what it
 * created toward the caps and evict past them; now is the write's time.
 */
enum lw_err	 learn_plan_run(struct learn *, const struct learn_config *,
		    struct plan *pl, time_t now);
/* learn_plan_run in two: the records' write, then the rest. */
enum lw_err	 learn_plan_write(struct learn *, struct plan *pl,
		    time_t now);
enum lw_err	 learn_plan_count(struct learn *, const struct learn_config *,
		    struct plan *pl, time_t now);

/* A record of any letter; kind and org are set by the reader. */
struct lrec {
	char			 letter;
	struct learn_record	 r;
	bool			 many;	/* L_SUBJECT: items were dropped */
};

/* The organisation's name as it stands in keys ("default" for NULL). */
void		 learn_org_key(const char *org, char out[LEARN_ORG_MAX + 1]);
/* 128 bits of SHA-256 of len bytes, as LEARN_HASH_HEX hex digits. */
enum lw_err	 learn_hash(const void *p, size_t len,
		    char hex[LEARN_HASH_HEX + 1]);
/* "learn:ORG:" into out (ORG as learn_org_key); its length. */
size_t		 learn_key_head(const char *org, char out[LEARN_KEY_BYTES]);
/* "learn:ORG:L:HEX" for text (hashed); L_META: "learn:ORG:m". */
enum lw_err	 learn_key(const char *org, char letter, const char *text,
		    char key[LEARN_KEY_BYTES]);
/* "learn:ORG:L:" (org NULL: "learn:"; letter 0: "learn:ORG:"). */
void		 learn_prefix(const char *org, char letter,
		    char out[LEARN_KEY_BYTES]);
/* "learn:ORG:#L": how many records of letter ORG keeps. */
void		 learn_count_key(const char *org, char letter,
		    char out[LEARN_KEY_BYTES]);
/* The list of organisations that learned anything, one a line. */
#define LEARN_ORGS_KEY		"learn:orgs"
/* "learn:orgs" gains org (a new organisation's first write). */
enum lw_err	 learn_orgs_add(struct learn *, const char *org, time_t now);
/* The org and letter a key names; false when it is no learn key. */
bool		 learn_key_parse(const char *key, char org[LEARN_ORG_MAX + 1],
		    char *letter);
enum learn_kind	 learn_letter_kind(char letter);	/* LEARN_KINDS: index */
char		 learn_kind_letter(enum learn_kind);

/*
 * qsort's order for "most first": -1 when a > b.  Items sort by last
 * seen then count, name matches by count, each with their text last.
 */
static inline int
learn_cmp_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

/* The n items of v, their text and v. */
void		 learn_items_free(struct learn_item *v, size_t n);
/* A value into *lr (zeroed first); false when damaged. */
bool		 learn_rec_parse(const struct state_val *v, struct lrec *lr);
/* lr as text, malloc'd into out->data. */
enum lw_err	 learn_rec_write(const struct lrec *lr, struct state_val *out);
void		 learn_rec_free(struct lrec *lr);
/*
 * Add the n items of v (their counts, seen at their last) to lr's,
 * most recent first, keeping at most max: the least recently seen go
 * (lr->many records that some went).
 */
enum lw_err	 learn_items_merge(struct lrec *lr,
		    const struct learn_item *v, size_t n, size_t max);
/* Remove the items pred says; how many went. */
size_t		 learn_item_drop(struct lrec *lr,
		    bool (*pred)(const char *text, const void *arg),
		    const void *arg);

/* d equal to parent or below it (ASCII case-insensitive). */
bool		 learn_subdomain(const char *d, const char *parent);
bool		 learn_related(const char *a, const char *b);
/* The lowercased address, or NULL (no '@', too long, ENOMEM). */
char		*learn_addr_norm(const char *addr);
/* The domain of a normalised address (after the last '@'). */
const char	*learn_addr_domain(const char *addr);

/*
 * The Message-IDs in a header value (In-Reply-To, References), last
 * first, at most max, each hashed; returns how many.
 */
size_t		 learn_ids(const char *value, char (*hex)[LEARN_HASH_HEX + 1],
		    size_t max);

/* Read one record; LW_ENOTFOUND when absent or damaged. */
enum lw_err	 learn_read(struct learn *, const char *key, time_t now,
		    struct lrec *out);

/*
 * The age index entry of the record of letter with hash hex, on the
 * day of time t: "learn:ORG:z:L:DAY:HEX", DAY six digits (days since
 * 1970), so that LMDB walks it oldest first.  A record's one entry is
 * on a day at or before the day it was last seen (the day it was
 * created, until eviction moves it).
 */
void		 learn_age_key(const char *org, char letter, time_t t,
		    const char *hex, char out[LEARN_KEY_BYTES]);
#define LEARN_EVICT_MIN		64	/* entries read per write, at least */

/*
 * Bounded eviction, at each write of letter's records in org: the age
 * index read from its oldest day, at most max entries; while the count
 * is over cap the least recently seen records go (their names with
 * them), and records past their expiry leave the count.  Logged when
 * any went.
 */
enum lw_err	 learn_evict(struct learn *, const char *org, char letter,
		    uint64_t cap, time_t ttl, size_t max, time_t now);

#endif /* LEARN_INT_H */
