/*
 * thread.h: what a message's headers and quote say about the thread it
 * belongs to: a mailing list's, an Outlook conversation, a reply to our
 * own mail.  Part of the hijack stage (it shares hijack_quote.c's
 * address scanner): the hijack signs use it so that genuine replies and
 * list traffic are not taken for fake replies (issue 16).
 */
#ifndef THREAD_H
#define THREAD_H

#include <stdbool.h>

#include "lurewall.h"

struct message;
struct scan_ctx;

#define THREAD_ADDR_MAX	320	/* hijack_int.h's ADDR_MAX */

struct thread_info {
	bool	 list;		/* List-Id and List-Post: list traffic */
	char	 list_post[THREAD_ADDR_MAX + 1];	/* its mailto address,
						   lowercase, or "" */
	bool	 outlook;	/* Thread-Index: an Outlook conversation */
	bool	 refs_ours;	/* In-Reply-To/References name a Message-ID
				   of one of our domains */
	bool	 quotes_rcpt;	/* a quote's attribution ("X <x@d> wrote:",
				   a quoted From: line) names an address
				   this message is sent to (To/Cc) */
};

/* Is domain one of ours (the caller's policy decides)? */
typedef bool	(*thread_ours_fn)(const char *domain, const void *arg);

/*
 * Fill ti for msg.  ours judges Message-ID domains.  LW_OK or
 * LW_ENOMEM; polls scan_expired (ctx may be NULL).
 */
enum lw_err	 thread_info(struct scan_ctx *, const struct message *,
		    thread_ours_fn ours, const void *arg,
		    struct thread_info *);

/*
 * A thread that looks genuine: it names our Message-ID (or is an
 * Outlook conversation) and quotes a recipient.  A stolen thread looks
 * the same: this only lifts the reply-prefix signs.
 */
bool		 thread_genuine(const struct thread_info *);

/* Is addr (any case) the list's posting address or at its domain? */
bool		 thread_list_address(const struct thread_info *,
		    const char *addr);

#endif /* THREAD_H */
