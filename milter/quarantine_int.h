/*
 * quarantine_int.h: what the quarantine files (quarantine.c,
 * quarantine_meta.c, quarantine_release.c) share.  No other stage
 * includes it.
 */
#ifndef QUARANTINE_INT_H
#define QUARANTINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "lurewall.h"
#include "quarantine.h"
#include "sbuf.h"

struct envelope;
struct state;
struct qgroup;
struct quarantine_extra;
struct quarantine_item;
struct scan_result;
struct verdict;

#define QUARANTINE_META_MAX	(16u << 20)	/* metadata file bytes */
#define QUARANTINE_SECRET_LEN	32
#define META_MAGIC		"lurewall-quarantine 1"
#define RELEASED_MAGIC		"lurewall-released 1"

struct quarantine {
	char		*dir;
	int		 dirfd;
	int		 tmpfd;
	int		 newfd;
	uid_t		 uid;		/* owner of dir */
	gid_t		 gid;
	bool		 chown;		/* we are root, dir is not ours */
	unsigned char	 secret[QUARANTINE_SECRET_LEN];
	/* quarantine_set_state: borrowed, NULL when there is none. */
	struct state	*st;
	char		 host[64];
	size_t		 share_bytes;
	quarantine_notify_fn notify;	/* quarantine_set_notify */
	void		*notify_arg;
	/* Group commit of new/ (quarantine.c, sync_new). */
	pthread_mutex_t	 gc_mu;
	pthread_cond_t	 gc_cv;
	struct qgroup	*gc_open;	/* renames waiting for an fsync */
	bool		 gc_busy;	/* an fsync of new/ is running */
};

/* quarantine.c */
/* Tell the notify hook (if any) that item id changed or went. */
void		 quarantine_changed(struct quarantine *, const char *id);
/*
 * Replace one file of an item (meta, released) whole with sb, and free
 * sb: write NAME.tmp.X in the item's directory, rename it over NAME,
 * fsync the directory.  LW_ENOMEM when sb ran out of memory.
 */
enum lw_err	 quarantine_item_replace(struct quarantine *, const char *id,
		    const char *name, struct sbuf *sb);

/* quarantine_meta.c: writing */
/* "key value\n" with the value escaped; nothing when val is NULL. */
void		 quarantine_meta_field(struct sbuf *, const char *key,
		    const char *val);
/* A short formatted piece (numbers): longer ones set oom. */
void		 quarantine_meta_printf(struct sbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* The verdict's lines (score, action, rules, findings). */
void		 quarantine_meta_verdict(struct sbuf *, const struct verdict *);
/* The split PPAP fields, if x is not NULL. */
void		 quarantine_meta_extra(struct sbuf *,
		    const struct quarantine_extra *x);
/* The whole meta file of a new item; malloc'd, NULL on ENOMEM. */
char		*quarantine_meta_build(const char *id, time_t when,
		    const unsigned char *raw, size_t len,
		    const struct envelope *, const struct scan_result *,
		    const struct quarantine_extra *);
/* Lowercase hex SHA-256 of raw (all '0' if the digest failed). */
void		 quarantine_sha256_hex(const unsigned char *raw, size_t len,
		    char hex[65]);

/* quarantine_meta.c: reading */
/* The released file's lines into it; LW_EMALFORMED when unsound. */
enum lw_err	 quarantine_released_parse(const char *buf, size_t len,
		    struct quarantine_item *);

#endif /* QUARANTINE_INT_H */
