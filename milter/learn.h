/*
 * learn.h: who the organisation talks to, learned from its own mail
 * (issue 18), on the state (state.h: LMDB by default, Redis shared).
 *
 * Learned from each outbound message lurewall accepted (learn_outbound;
 * `lurewall learn import` feeds Sent folders through the same call):
 *   accounts        per internal From address: the display names it
 *                   uses (learned staff names);
 *   correspondents  per To/Cc address: the display names it is written
 *                   to with (its domain is the address's);
 *   domains         per recipient domain: messages to it, replies from
 *                   it (the organisation "exchanged mail" with it);
 *   threads         per sent Message-ID (and up to LEARN_REFS_MAX of
 *                   the ids it answers): a hash of the id, the hash of
 *                   the normalised subject, the hash of the sending
 *                   account and the participant domains.
 * A genuine inbound reply (learn_inbound_reply: it names one of our
 * threads and comes from a participant) adds its To/Cc domains to the
 * thread and its sender's display name to the correspondent.
 *
 * Kept: names, addresses, domains, SHA-256 hashes (128 bits) of
 * Message-IDs, normalised subjects and sending accounts, counts and
 * times.  Never bodies, never a subject in clear.
 *
 * Scope: every record belongs to an organisation, the name of the
 * policy that judges its mail (learn_org): outbound mail is learned
 * under its sender's policy, inbound mail looked up under each
 * recipient policy's.  Keys are "learn:ORG:K:HEX" (K one letter, HEX
 * a hash: attacker text never names a key); values are text.
 *
 * Bounds: per record at most LEARN_ITEMS_MAX names or participant
 * domains (the least recently seen go); per organisation at most
 * max_threads threads and max_correspondents of accounts,
 * correspondents and domains each: past a cap the least recently
 * seen go, by the day last seen (an age index, learn_int.h), a
 * bounded number at each write.  Threads expire thread_days after
 * last seen, everything else correspondent_days after; the next write
 * takes an expired record off its kind's count.  A message contributes at
 * most LEARN_RCPTS_MAX recipients and LEARN_REFS_MAX referenced ids.
 *
 * Thread safety: as the state; a handle is shared by every thread.
 * Errors: LW_OK, LW_ENOTFOUND, LW_EINVAL (a read-only handle asked to
 * write), LW_ENOMEM, LW_EIO and LW_ELIMIT from the state.
 */
#ifndef LEARN_H
#define LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lurewall.h"

struct envelope;
struct message;
struct policy;
struct state;

#define LEARN_ITEMS_MAX		8	/* names per address */
#define LEARN_PARTICIPANTS_MAX	32	/* domains per thread */
#define LEARN_NAME_ADDRS_MAX	16	/* addresses per learned name */
#define LEARN_SUBJECT_THREADS_MAX 16	/* threads per subject */
#define LEARN_REFS_MAX		4	/* answered ids learned per message */
#define LEARN_RCPTS_MAX		100	/* recipients learned per message */
#define LEARN_ORG_MAX		64	/* bytes of an organisation name */
#define LEARN_HASH_HEX		32	/* hex digits of a stored hash */

struct learn_config {
	bool		 enable;		/* default true */
	unsigned	 thread_days;		/* default 180 */
	unsigned	 correspondent_days;	/* default 730 */
	uint64_t	 max_threads;		/* per org, default 1000000 */
	uint64_t	 max_correspondents;	/* per org and kind, 100000 */
	unsigned	 mature_days;		/* default 14 */
	uint64_t	 mature_messages;	/* default 500 */
};

void		 learn_config_init(struct learn_config *);

enum learn_kind {
	LEARN_ACCOUNT = 0,	/* key: internal address */
	LEARN_CORRESPONDENT,	/* key: external address */
	LEARN_DOMAIN,		/* key: domain */
	LEARN_THREAD,		/* key: hex hash of a Message-ID */
	LEARN_KINDS		/* learn_each: every kind */
};

/* A display name (accounts, correspondents) or a domain (threads). */
struct learn_item {
	char		*text;
	uint64_t	 count;
	time_t		 last;
};

/* One record as read; free with learn_record_free. */
struct learn_record {
	enum learn_kind	 kind;
	char		 org[LEARN_ORG_MAX + 1];
	char		*key;
	time_t		 first;
	time_t		 last;
	uint64_t	 out;		/* messages sent by/to/in it */
	uint64_t	 in;		/* genuine replies from/in it */
	struct learn_item *items;	/* most recently seen first */
	size_t		 nitems;
	char		 subject[LEARN_HASH_HEX + 1];	/* thread */
	char		 account[LEARN_HASH_HEX + 1];	/* thread: sender */
};

void		 learn_record_free(struct learn_record *);

struct learn;

/*
 * A learner on st (the caller's; it outlives the handle).  A read-only
 * state (lurewall scan) makes a read-only learner: lookups work, every
 * write is LW_EINVAL.  c is copied; NULL: the defaults.
 */
enum lw_err	 learn_open(struct state *st, const struct learn_config *c,
		    struct learn **);
void		 learn_close(struct learn *);
bool		 learn_readonly(const struct learn *);

/*
 * Batching: l merges each message into one plan in memory, flushed in
 * one write (on LMDB one transaction, one fsync) every max_msgs
 * messages or interval_ms after the first queued one; by a writer
 * thread when thread, else by the learn_* call that finds it due.
 * Lookups through l, or (the daemon's) through any learner on the
 * state of the shared learner, see a message at once: what the batch
 * holds is looked at after the store (a reply sent a moment after the
 * message it answers finds its thread).  learn_close flushes.  A crash loses the unflushed batch (learning is advisory),
 * never a message.
 */
/*
 * A flush's cost on disk is the pages it dirties: the records of each
 * message on pages of their own (hashed keys), and the B-tree branch
 * pages above them, which the more messages a flush holds the more of
 * them share.  Below 2,048 messages a second the daemon flushes by
 * time.
 */
#define LEARN_BATCH_MSGS	2048	/* the daemon's: messages per flush */
#define LEARN_BATCH_MS		1000	/* and the longest wait */
enum lw_err	 learn_batch_start(struct learn *, size_t max_msgs,
		    unsigned interval_ms, bool thread);
/* Write what the batch holds now (no batch: nothing to do). */
enum lw_err	 learn_flush(struct learn *, time_t now);
/* Messages queued and not yet flushed. */
size_t		 learn_pending(struct learn *);

/*
 * The daemon's learner, for its life: batched, with a writer thread;
 * learn_decided on st uses it, and lookups through any learner on st
 * see what it holds.  Open after the state opens, close (it
 * flushes) before the state closes.  A read-only st: nothing.
 */
enum lw_err	 learn_shared_open(struct state *st,
		    const struct learn_config *c);
/* The same with another batch (tests: a batch that stays queued). */
enum lw_err	 learn_shared_open_batch(struct state *st,
		    const struct learn_config *c, size_t max_msgs,
		    unsigned interval_ms);
void		 learn_shared_close(void);

/* The organisation of mail judged by policy p: its name ("default"). */
const char	*learn_org(const struct policy *p);

/*
 * Learn from one outbound message that was accepted (never a held
 * lure): the account is the From: address (else env's sender), the
 * correspondents the To:/Cc: addresses with their display names plus
 * the envelope recipients (env may be NULL).  Addresses at the
 * account's own domain (or a subdomain, either way) are colleagues:
 * participants of the thread, not correspondents.
 */
enum lw_err	 learn_outbound(struct learn *, const char *org,
		    const struct message *, const struct envelope *env,
		    time_t now);

/*
 * Learn from an accepted inbound reply that named one of our threads
 * and came from a participant (the rules' HDR_KNOWN_THREAD): the
 * thread gains the reply's From/To/Cc domains, the sender's address
 * its display name, its domain a reply.  LW_ENOTFOUND when the message
 * names no thread of ours (nothing learned).
 */
enum lw_err	 learn_inbound_reply(struct learn *, const char *org,
		    const struct message *, time_t now);

/*
 * The disposition stage's call once a message is decided: outbound
 * mail delivered as its verdict said (accept or tag; never a held or
 * breaker-stopped lure, never one observe mode let through) is learned
 * under its policy's organisation, and an inbound one whose verdict
 * holds HDR_KNOWN_THREAD extends that thread.  c NULL or not enabled:
 * nothing.  Returns what was learned ("learned=outbound", "learned=reply",
 * for the log line) or NULL;
 * a failure is logged (qid may be NULL), never the message's.
 */
struct verdict;
const char	*learn_decided(struct state *, const struct learn_config *c,
		    bool outbound, bool delivered, const struct verdict *v,
		    const struct message *, const struct envelope *,
		    time_t now);

/* Lookups for the rules (hijack_learn.c) and `lurewall learn show`. */

/* A learned person whose name a display name is. */
struct learn_match {
	enum learn_kind	 kind;		/* LEARN_ACCOUNT, CORRESPONDENT */
	char		*addr;
	char		*domain;	/* of addr */
	uint64_t	 count;		/* messages with that name */
	bool		 confusable;	/* only the UTS #39 skeleton matched */
};

/*
 * The learned people whose names the display name is, as a whole
 * (names.h: every component a name of that same person; either order;
 * titles and quotes dropped; confusables by skeleton), most messages
 * first, at most LEARN_NAME_ADDRS_MAX.  *n == 0 when nobody.
 */
enum lw_err	 learn_names(struct learn *, const char *org,
		    const char *display, time_t now, struct learn_match **v,
		    size_t *n);
void		 learn_matches_free(struct learn_match *, size_t);

enum learn_how {
	LEARN_NO_THREAD = 0,
	LEARN_BY_REF,		/* In-Reply-To/References name it */
	LEARN_BY_SUBJECT,	/* subject + quoted author: exactly one */
	LEARN_AMBIGUOUS		/* subject + author: several threads */
};

/*
 * The thread of ours msg answers: the newest referenced id we learned
 * (In-Reply-To first), else the one thread whose normalised subject
 * and sending account match msg's subject and author (the address of
 * the quoted attribution line; NULL: none).  *how says which; out is
 * filled for LEARN_BY_REF and LEARN_BY_SUBJECT only.
 */
enum lw_err	 learn_thread_find(struct learn *, const char *org,
		    const struct message *msg, const char *author,
		    time_t now, struct learn_record *out,
		    enum learn_how *how);

/*
 * Is the sender (address, display name may be NULL) a participant of
 * thread t?  Yes when its domain is (or is related to) one of t's
 * domains, or when a correspondent of its name (learn_names, exact)
 * was learned both at its domain and at one of t's domains: a partner
 * writing from a second known domain.
 */
enum lw_err	 learn_participant(struct learn *, const char *org,
		    const struct learn_record *t, const char *addr,
		    const char *display, time_t now, bool *yes);

/* One record by key (address, domain or hex id); LW_ENOTFOUND. */
enum lw_err	 learn_get(struct learn *, const char *org, enum learn_kind,
		    const char *key, time_t now, struct learn_record *out);

/*
 * Did the organisation exchange mail with domain (or a parent domain
 * of it with two labels or more, or an account's domain)?
 */
enum lw_err	 learn_domain_known(struct learn *, const char *org,
		    const char *domain, time_t now, bool *known);

/*
 * Has the organisation's store learned enough to judge a first
 * contact: mature_messages outbound messages, or mature_days since the
 * first one?  Never with no message learned.
 */
enum lw_err	 learn_mature(struct learn *, const char *org, time_t now,
		    bool *mature);

/* Admin view (lurewall learn stats|show|forget|export). */

struct learn_stats {
	uint64_t	 messages;	/* outbound messages learned */
	uint64_t	 replies;	/* inbound replies learned */
	time_t		 first;		/* first message learned, 0: none */
	time_t		 last;
	size_t		 n[LEARN_KINDS];	/* live records per kind */
	bool		 mature;
};

/*
 * Counts of org (NULL: every organisation summed; mature of any): the
 * organisation's own record and its count of each kind (kept as
 * records: no walk), so a few reads whatever the store holds.  A
 * count is of the records created and not yet evicted or forgotten;
 * one that expired counts until the next eviction at its cap.
 */
enum lw_err	 learn_stats(struct learn *, const char *org, time_t now,
		    struct learn_stats *);

/*
 * The organisations that learned anything, at most LEARN_ORGS_MAX
 * (kept as a record; a store written before it had one is walked).
 * Free *v.
 */
#define LEARN_ORGS_MAX		1024
enum lw_err	 learn_orgs(struct learn *, time_t now,
		    char (**v)[LEARN_ORG_MAX + 1], size_t *n);

/*
 * Forget an address (its account or correspondent record, its names)
 * or a domain (every address at it or below, the domain record, and
 * the domain from every thread's participants; threads left with no
 * participant go) in org (NULL: every organisation).  *removed (may be
 * NULL) counts the records removed or changed.
 */
enum lw_err	 learn_forget(struct learn *, const char *org,
		    const char *what, time_t now, size_t *removed);

/* Each live record of org (NULL: all) of kind (LEARN_KINDS: all). */
typedef enum lw_err (*learn_each_fn)(void *arg, const struct learn_record *);
enum lw_err	 learn_each(struct learn *, const char *org,
		    enum learn_kind kind, time_t now, learn_each_fn,
		    void *arg);

/* "account", "correspondent", "domain", "thread". */
const char	*learn_kind_name(enum learn_kind);

/*
 * The normalised subject as hashed: reply/forward prefixes and bracket
 * tags stripped, NFKC, ASCII case folded, white space runs as one
 * space, trimmed.  Malloc'd; NULL on ENOMEM.  Exposed for tests.
 */
char		*learn_subject_norm(const char *subject);

#endif /* LEARN_H */
