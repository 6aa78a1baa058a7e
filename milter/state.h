/*
 * state.h: everything that outlives one message, behind one interface
 * (issue 14 "one seam for state", issue 17 "shared state").
 *
 * A state is a map of keys (strings of at most STATE_KEY_MAX bytes, no
 * NUL) to values (bytes, at most STATE_VALUE_MAX), each with an expiry
 * (an absolute time, 0 = never).  Callers name their keys with a
 * namespace prefix ("outbreak:", "pending:", "claim:", "released:",
 * "quarantine:"), so one state holds every store and a backend never
 * knows what a value means.  Time is passed in (now), so tests inject
 * it; a key whose expiry is <= now reads as absent everywhere, whatever
 * the backend has not yet swept.
 *
 * Backends:
 *   lmdb    an embedded LMDB environment (the default): crash-safe,
 *           readers never block the writer, several processes (the
 *           daemon writes while the CLI reads).  state_lmdb.c.
 *   redis   a Redis server through hiredis, shared by several hosts.
 *           Claims and counters are atomic on the server (Lua), so two
 *           hosts never claim one item twice.  state_redis.c.
 *   files   one small file per key in a directory, flock(2) between
 *           processes.  No database needed.  state_files.c.
 *
 * Thread safety: one struct state is shared by every thread of a
 * process; each backend does its own locking.  Errors: LW_OK,
 * LW_ENOTFOUND (no such key, or expired), LW_EEXIST (add on a present
 * key), LW_ELIMIT (the database is full, or a value too big: logged by
 * the backend), LW_EINVAL (bad key), LW_EIO (the backend failed or is
 * unreachable: the caller falls back or applies on_error), LW_ENOMEM.
 */
#ifndef STATE_H
#define STATE_H

#include <sys/types.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lurewall.h"

#define STATE_KEY_MAX		400		/* bytes; LMDB allows 511 */
#define STATE_VALUE_MAX		(64u << 20)	/* bytes of one value */
#define STATE_LIST_MAX		100000		/* items of one list */
#define STATE_PATH_DEFAULT	"state"		/* in quarantine_dir */
#define STATE_MAP_SIZE_DEFAULT	((uint64_t)1 << 30)	/* 1 GiB */
#define STATE_REDIS_PREFIX	"lurewall:"
#define STATE_REDIS_TIMEOUT_MS	2000
#define STATE_HOST_MAX		63		/* bytes of host_name */
#define STATE_SHARE_DEFAULT	((size_t)10 << 20)	/* pending_bytes */
/*
 * The namespaces state_each walks: the split-PPAP pending items (for
 * every message with a password in it), the quarantine index
 * ("quarantine:HOST:ID"), outbreak records, learned relationships
 * ("learn:ORG:LETTER:..."), the metrics' minutes.  redis keeps an
 * index of the keys under each, written with each key
 * (state_redis_each.c), so a walk is a few round trips whatever else
 * the server holds, never a scan of it; lmdb and files walk a prefix
 * cheaply anyway.  A walk of any other prefix may cost a scan.
 */
#define STATE_NS_PENDING	"pending:"
#define STATE_NS_QUARANTINE	"quarantine:"
#define STATE_NS_OUTBREAK	"outbreak:"
#define STATE_NS_LEARN		"learn:"
#define STATE_NS_METRICS	"metrics:"
/*
 * The counts' namespace: the outbreak breaker's per-sender records.
 * state_put_lazy may write its keys without waiting for the disk; lmdb
 * keeps them in a second environment (state_lmdb.c) and writes them
 * durably at most STATE_LAZY_MS later.  Every other key is durable when
 * its call returns, on every backend.
 */
#define STATE_NS_COUNTS		"outbreak:"
#define STATE_LAZY_MS		1000
/*
 * Where lmdb reads the boot's identity (Linux): a counts environment
 * written in another boot is discarded (the durable copy is current to
 * within STATE_LAZY_MS).  Tests point it elsewhere to play a reboot;
 * unreadable: no lazy writes at all.
 */
extern const char *state_boot_id_path;

enum state_backend {
	STATE_LMDB = 0,
	STATE_REDIS,
	STATE_FILES
};

struct state_redis_config {
	char		*host;		/* default 127.0.0.1 */
	unsigned	 port;		/* default 6379 */
	char		*socket;	/* a unix socket instead of host/port */
	unsigned	 db;
	char		*username;	/* Redis 6 ACL user, NULL: none */
	char		*password;	/* or read from password_file */
	char		*password_file;
	char		*key_prefix;	/* default "lurewall:" */
	unsigned	 timeout_ms;	/* connect and command; default 2000 */
	/*
	 * The most bytes of one pending split-PPAP message put on the
	 * server, so that another host can open it; 0: none.
	 */
	size_t		 pending_bytes;
};

struct state_config {
	enum state_backend backend;
	char		*path;		/* lmdb, files: a directory */
	char		*owner_of;	/* root-made files get its owner */
	uint64_t	 map_size;	/* lmdb: bytes */
	char		*host_name;	/* this host in shared keys */
	struct state_redis_config redis;
};

/* One value as read: malloc'd bytes (NUL-terminated beyond len). */
struct state_val {
	unsigned char	*data;
	size_t		 len;
	time_t		 expires;	/* 0: never */
};

/* What a state_update callback decided. */
enum state_verdict {
	STATE_KEEP = 0,		/* write nothing */
	STATE_WRITE,		/* store out (and out_expires) */
	STATE_DELETE		/* remove the key */
};

/*
 * A read-modify-write step.  old is NULL when the key is absent (or
 * expired).  On STATE_WRITE the callback fills *out with malloc'd bytes
 * (the backend frees them) and *expires.  Under Redis it may run more
 * than once (optimistic retry): it must not have side effects beyond
 * arg that a second run would repeat wrongly.  Return an error to abort.
 */
typedef enum lw_err (*state_update_fn)(void *arg, const struct state_val *old,
    struct state_val *out, enum state_verdict *what);

/* state_update_many's step: i is the index of the key in keys. */
typedef enum lw_err (*state_update_many_fn)(void *arg, size_t i,
    const struct state_val *old, struct state_val *out,
    enum state_verdict *what);

/* One backend's health: up is false when it cannot be reached. */
typedef void (*state_health_fn)(void *arg, const char *backend, bool up);

/* Called once per live key under a prefix; a non-LW_OK return stops. */
typedef enum lw_err (*state_each_fn)(void *arg, const char *key,
    const struct state_val *);

struct state;

struct state_ops {
	const char	*name;
	enum lw_err	(*get)(struct state *, const char *key, time_t now,
			    struct state_val *);
	enum lw_err	(*put)(struct state *, const char *key,
			    const void *val, size_t len, time_t expires,
			    time_t now);
	enum lw_err	(*add)(struct state *, const char *key,
			    const void *val, size_t len, time_t expires,
			    time_t now);
	enum lw_err	(*del)(struct state *, const char *key);
	enum lw_err	(*take)(struct state *, const char *key, time_t now,
			    struct state_val *);
	enum lw_err	(*incr)(struct state *, const char *key,
			    int64_t delta, time_t expires, time_t now,
			    int64_t *out);
	enum lw_err	(*update)(struct state *, const char *key, time_t now,
			    state_update_fn, void *arg);
	/*
	 * Optional (NULL: update): the same, for a STATE_NS_COUNTS key,
	 * allowed to reach the disk up to STATE_LAZY_MS later.
	 */
	enum lw_err	(*update_lazy)(struct state *, const char *key,
			    time_t now, state_update_fn, void *arg);
	/* Optional: make every lazy write durable now. */
	enum lw_err	(*sync)(struct state *);
	/* Optional (NULL: one state_update per key). */
	enum lw_err	(*update_many)(struct state *,
			    const char *const *keys, size_t n, time_t now,
			    state_update_many_fn, void *arg);
	enum lw_err	(*each)(struct state *, const char *prefix,
			    time_t now, state_each_fn, void *arg);
	enum lw_err	(*push)(struct state *, const char *key,
			    const void *val, size_t len, size_t max_items,
			    time_t expires, time_t now);
	enum lw_err	(*pop)(struct state *, const char *key, time_t now,
			    struct state_val *);
	/* Optional (NULL: state_pop every STATE_POP_POLL_MS). */
	enum lw_err	(*pop_wait)(struct state *, const char *key,
			    unsigned wait_ms, struct state_val *);
	enum lw_err	(*sweep)(struct state *, time_t now, size_t *removed);
	void		(*close)(struct state *);
	/*
	 * Only a state made of others (the fallback): reports each part's
	 * health.  Its own calls are not counted as errors; its parts' are.
	 */
	void		(*health)(struct state *, time_t now,
			    state_health_fn, void *arg);
	/*
	 * Optional (NULL: state_add of the claim lk, then state_get):
	 * one try at state_lock_get on a state without a dirlock.  Claim
	 * lk (the value "1", expiring at lock_exp, real time lock_now)
	 * and read key: LW_OK with *got the read's result (and v filled
	 * when LW_OK), LW_EEXIST when lk is held (v untouched), else the
	 * claim's error.
	 */
	enum lw_err	(*lock_get)(struct state *, const char *key,
			    const char *lk, time_t lock_exp, time_t lock_now,
			    time_t now, struct state_val *, enum lw_err *got);
	/*
	 * Optional (NULL: state_put, state_put_lazy or state_del, then
	 * state_del of lk): state_put_unlock on a state without a
	 * dirlock.  val NULL removes key.  lk goes whatever the write did.
	 */
	enum lw_err	(*put_unlock)(struct state *, const char *key,
			    const char *lk, const void *val, size_t len,
			    time_t expires, time_t now, bool lazy);
};

struct state {
	const struct state_ops *ops;
	void		*priv;
	bool		 readonly;
	bool		 shared;	/* other hosts see it (redis) */
	/*
	 * lmdb, files: state_lock takes this (in priv; state_close frees
	 * it); NULL: a claim key "lock:KEY" and polling (redis).
	 */
	struct state_dirlock *dirlock;
};

/* Defaults for every field (backend lmdb, path NULL). */
void		 state_config_init(struct state_config *);
void		 state_config_free(struct state_config *);
/* Its strings (the password wiped first); the struct stays. */
void		 state_redis_config_free(struct state_redis_config *);
/* "lmdb", "redis", "files" -> *out; false when unknown. */
bool		 state_backend_parse(const char *, enum state_backend *out);
const char	*state_backend_name(enum state_backend);

/*
 * Open the configured state.  readonly: the CLI's look (writes fail
 * with LW_EINVAL; a missing lmdb or files directory is LW_ENOTFOUND,
 * never created).  The daemon opens it after dropping privileges.
 */
enum lw_err	 state_open(const struct state_config *, bool readonly,
		    struct state **);
void		 state_close(struct state *);

/*
 * The daemon's state: state_open, and for redis a local LMDB state in
 * path behind it (state_fallback_open), so the host works on alone
 * while the server is away.  The CLI uses state_open: it shows the
 * shared state or says it cannot.
 */
enum lw_err	 state_open_daemon(const struct state_config *,
		    struct state **);
/*
 * Calls go to primary; those that fail with LW_EIO (unreachable) go to
 * local, logged once a minute.  Takes ownership of both.
 */
enum lw_err	 state_fallback_open(struct state *primary,
		    struct state *local, struct state **);

/* One backend each; state_open picks. */
enum lw_err	 state_files_open(const struct state_config *, bool readonly,
		    struct state **);
enum lw_err	 state_lmdb_open(const struct state_config *, bool readonly,
		    struct state **);
enum lw_err	 state_redis_open(const struct state_config *, bool readonly,
		    struct state **);

/* The value of key, or LW_ENOTFOUND; free with state_val_free. */
enum lw_err	 state_get(struct state *, const char *key, time_t now,
		    struct state_val *);
/* Store (replace) key.  expires <= now (and not 0) deletes it. */
enum lw_err	 state_put(struct state *, const char *key, const void *val,
		    size_t len, time_t expires, time_t now);
/*
 * state_put for a count (a STATE_NS_COUNTS key; others: state_put):
 * as soon as it returns every thread and process sharing the state
 * reads the new value, and a crash of this process loses nothing, but
 * a crash of the whole system (power, kernel) may undo the writes of
 * the last STATE_LAZY_MS (lmdb: about one second; redis and files
 * write at once).  state_sync makes them durable now; state_close
 * does too.
 */
enum lw_err	 state_put_lazy(struct state *, const char *key,
		    const void *val, size_t len, time_t expires, time_t now);
enum lw_err	 state_sync(struct state *);
/*
 * Store key only when absent (or expired): LW_EEXIST otherwise.  This
 * is the claim: of several threads, processes or hosts adding the same
 * key, exactly one gets LW_OK.  Unclaim with state_del.
 */
enum lw_err	 state_add(struct state *, const char *key, const void *val,
		    size_t len, time_t expires, time_t now);
/* Remove key; LW_ENOTFOUND when it was absent. */
enum lw_err	 state_del(struct state *, const char *key);
/* Read and remove key at once: of several takers exactly one gets it. */
enum lw_err	 state_take(struct state *, const char *key, time_t now,
		    struct state_val *);
/*
 * Add delta to the integer counter key (absent: 0) and return the new
 * value in *out (may be NULL).  expires applies when the counter is
 * created; an existing counter keeps its expiry.
 */
enum lw_err	 state_incr(struct state *, const char *key, int64_t delta,
		    time_t expires, time_t now, int64_t *out);
/* Atomic read-modify-write of one key (see state_update_fn). */
enum lw_err	 state_update(struct state *, const char *key, time_t now,
		    state_update_fn, void *arg);
/*
 * A read-modify-write of several distinct keys, fn called with each
 * key's index in keys: LMDB runs them in one transaction (one commit
 * for all, all or nothing); Redis WATCHes and reads them in one round
 * trip and writes them in one MULTI ... EXEC, retried whole (fn again
 * on every key) when another client changed one: all or nothing per
 * 1024 keys, a few round trips for a learner's batch; files key by key
 * (each atomic alone).  The learner writes its batches this way.
 */
enum lw_err	 state_update_many(struct state *, const char *const *keys,
		    size_t n, time_t now, state_update_many_fn, void *arg);
/* Every live key starting with prefix, in no promised order. */
enum lw_err	 state_each(struct state *, const char *prefix, time_t now,
		    state_each_fn, void *arg);
/*
 * Append val to the list key (a queue), keeping at most max_items (the
 * oldest go first; 0 means STATE_LIST_MAX); expires is the list's.
 * state_pop removes and returns the oldest item, LW_ENOTFOUND if none.
 */
enum lw_err	 state_push(struct state *, const char *key, const void *val,
		    size_t len, size_t max_items, time_t expires, time_t now);
enum lw_err	 state_pop(struct state *, const char *key, time_t now,
		    struct state_val *);
/*
 * state_pop, waiting up to wait_ms (at most STATE_POP_WAIT_MAX) for an
 * item while the list is empty; LW_ENOTFOUND when none came.  redis
 * blocks on the server (BLPOP on a connection of its own: the pool's
 * stay free); the others look every STATE_POP_POLL_MS.  The daemon's
 * consumer of remote commands waits this way, never long, so that it
 * stops promptly.
 */
#define STATE_POP_POLL_MS	100
#define STATE_POP_WAIT_MAX	60000
enum lw_err	 state_pop_wait(struct state *, const char *key,
		    unsigned wait_ms, struct state_val *);
/*
 * Hold key's lock against every thread, process (and, with Redis,
 * host) sharing the state, waiting at most wait_secs (then LW_EIO with
 * errno EAGAIN).  lmdb and files: a process mutex and flock(2) on the
 * directory's "lock" file, one lock for all keys (no fsync, nothing
 * written); redis: the claim "lock:KEY" (state_add), which expires
 * after STATE_LOCK_TTL seconds so a crashed holder blocks nobody long.
 * One lock per thread at a time.
 */
#define STATE_LOCK_TTL		10
enum lw_err	 state_lock(struct state *, const char *key,
		    unsigned wait_secs);
void		 state_unlock(struct state *, const char *key);
/*
 * state_lock, then state_get of key into v (its result in *got) as
 * one step: redis sends the claim and the read in one round trip
 * (when the claim fails, the read is dropped and the claim retried as
 * state_lock does).  Returns state_lock's result; v is filled only when
 * that is LW_OK and *got is LW_OK.
 */
enum lw_err	 state_lock_get(struct state *, const char *key,
		    unsigned wait_secs, time_t now, struct state_val *v,
		    enum lw_err *got);
/*
 * Write key (state_put, or state_put_lazy when lazy; val NULL:
 * state_del, an absent key is no error) and release its lock as one
 * step: redis sends both (and the index writes) in one MULTI ... EXEC.
 * The lock goes even when the write fails.
 */
enum lw_err	 state_put_unlock(struct state *, const char *key,
		    const void *val, size_t len, time_t expires, time_t now,
		    bool lazy);
/*
 * Ask each backend of st whether it answers (a read of
 * STATE_HEALTH_KEY) and tell fn: one call for lmdb or files, two for
 * redis with its local fallback ("redis", then "lmdb").  Failed calls
 * of every state are counted in the metrics
 * (lurewall_state_errors_total{backend, kind}, metrics.h).
 */
#define STATE_HEALTH_KEY	"health:probe"
void		 state_health(struct state *, time_t now, state_health_fn,
		    void *arg);
/* Remove expired keys (Redis expires them itself). */
enum lw_err	 state_sweep(struct state *, time_t now, size_t *removed);
const char	*state_name(const struct state *);

void		 state_val_free(struct state_val *);

/*
 * True when s is a usable host_name: 1..STATE_HOST_MAX letters, digits,
 * '.', '-' or '_' (it becomes part of keys: "pending:HOST:ID").
 */
bool		 state_host_ok(const char *s);
/* True when other hosts share st (redis, with or without fallback). */
bool		 state_shared(const struct state *st);

/* For the backends: state_update_many's step as a state_update_fn. */
struct state_many {
	state_update_many_fn	 fn;
	void			*arg;
	size_t			 i;
};
enum lw_err	 state_many_step(void *arg, const struct state_val *old,
		    struct state_val *out, enum state_verdict *what);

/*
 * For a state made of others (the fallback): one try of the ops
 * lock_get and put_unlock on its part st, through the claim key lk
 * (the ops' defaults when st has none, whatever st's own locks).
 */
enum lw_err	 state_part_lock_get(struct state *st, const char *key,
		    const char *lk, time_t lock_exp, time_t lock_now,
		    time_t now, struct state_val *, enum lw_err *got);
enum lw_err	 state_part_put_unlock(struct state *st, const char *key,
		    const char *lk, const void *val, size_t len,
		    time_t expires, time_t now, bool lazy);

/* For the backends: key and value checks, the list encoding. */
bool		 state_key_ok(const char *key);
void		 state_give_dir_away(const char *path, const char *owner_of);
/*
 * A backend's open: a struct state on ops with a zeroed private part
 * of privsize bytes in st->priv.  state_free frees both (a backend's
 * close frees what its priv points to first).
 */
enum lw_err	 state_new(const struct state_ops *, size_t privsize,
		    bool readonly, struct state **);
void		 state_free(struct state *);
/*
 * The directory of a backend on disk (lmdb, files; the outbreak file
 * store): made 0700 unless readonly (given away when root makes it, see
 * state_give_dir_away), then it must be one.  LW_EINVAL for no path,
 * LW_ENOTFOUND when absent, else LW_EIO (errno).  Its stat in *sb.
 */
struct stat;
enum lw_err	 state_dir_prepare(const char *path, const char *owner_of,
		    bool readonly, struct stat *sb);
/* The lmdb and files lock: mutex + flock on DIR/lock, as state_lock. */
struct state_dirlock {
	pthread_mutex_t	 mu;
	int		 fd;		/* >= 0 while held */
	char		*path;		/* DIR/lock */
	uid_t		 uid;		/* root-made lock file goes to them */
	gid_t		 gid;
};
enum lw_err	 state_dirlock_init(struct state_dirlock *, const char *dir,
		    uid_t, gid_t);
void		 state_dirlock_free(struct state_dirlock *);
enum lw_err	 state_dirlock_take(struct state_dirlock *, unsigned wait_secs);
void		 state_dirlock_drop(struct state_dirlock *);
bool		 state_expired(time_t expires, time_t now);
/*
 * True at most once a minute for one *last (kept under mu): whether to
 * log a degraded state again (once a minute, never per message).
 */
bool		 state_log_due(pthread_mutex_t *mu, time_t *last);
/* A list value: items as 4-byte big-endian length + bytes. */
enum lw_err	 state_list_push(const struct state_val *old,
		    const void *val, size_t len, size_t max_items,
		    struct state_val *out);
enum lw_err	 state_list_pop(const struct state_val *old,
		    struct state_val *item, struct state_val *rest);

#endif /* STATE_H */
