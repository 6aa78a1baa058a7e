/*
 * mailbox.h: the messages of an exported mail folder, one at a time,
 * for `lurewall learn import`.
 *
 * Takes a path: an mbox file (From_ lines; mboxrd and mboxo quoting
 * both read, ">From " and ">>From " lose one '>'), a Maildir (cur/ and
 * new/, in delivery order), a directory of message files (.eml or any
 * name; an mbox among them is split too), or one message file; or, for
 * tests and the fuzzer, bytes in memory.  Returns each message as raw
 * RFC 5322 bytes that the mailbox owns until the next call.
 *
 * Bounds (struct mailbox_limits): bytes kept of one message (the rest
 * is read and dropped; the message comes back marked truncated, its
 * headers intact), messages per mailbox (then LW_ELIMIT), and a wall
 * clock deadline (then LW_ETIMEOUT), checked between messages and at
 * every read.  A line, however long, is never held whole; a directory
 * listing holds at most as many names as messages allowed.
 *
 * Ignores: Content-Length (mboxcl/mboxcl2 files are split at From_
 * lines, which their writers also quote), compressed folders, Maildir++
 * subfolders (name .Sent itself), symlinks inside a directory, and
 * anything before the first From_ line of an mbox (there is none: a
 * file is an mbox only when it starts with one).
 */
#ifndef MAILBOX_H
#define MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lurewall.h"

#define MAILBOX_MESSAGE_BYTES_DEFAULT	((uint64_t)64 << 20)
#define MAILBOX_MESSAGES_DEFAULT	10000000u

struct mailbox_limits {
	uint64_t	 message_bytes;	/* kept of one message: 64 MiB */
	uint64_t	 messages;	/* per mailbox: 10,000,000 */
	uint64_t	 deadline_ms;	/* lw_now_ms() past it: stop; 0: none */
};

void		 mailbox_limits_default(struct mailbox_limits *);

enum mailbox_kind {
	MAILBOX_MBOX = 0,
	MAILBOX_MAILDIR,
	MAILBOX_DIRECTORY,
	MAILBOX_MESSAGE
};

/* Why an entry gave no message (a named reason for the summary). */
enum mailbox_skip {
	MAILBOX_SKIP_NONE = 0,
	MAILBOX_SKIP_EMPTY,		/* "empty": no bytes at all */
	MAILBOX_SKIP_NOT_MAIL,		/* "not_mail": no header field first */
	MAILBOX_SKIP_NOT_FILE,		/* "not_file": a directory entry that
					   is no regular file (symlink,
					   subdirectory, FIFO) */
	MAILBOX_SKIP_UNREADABLE		/* "unreadable": open/read failed;
					   err holds errno */
};
#define MAILBOX_SKIP_COUNT	5

struct mailbox_msg {
	const unsigned char *data;	/* NUL-terminated beyond len; NULL
					   when skip is set */
	size_t		 len;
	uint64_t	 bytes;		/* the message's size as read */
	bool		 truncated;	/* bytes > len: the rest dropped */
	enum mailbox_skip skip;
	int		 err;		/* errno for MAILBOX_SKIP_UNREADABLE */
	const char	*where;		/* "Sent.mbox:12", "Maildir/cur/..." */
};

struct mailbox;

/*
 * Open path (see above for what it may be).  Returns LW_OK,
 * LW_ENOTFOUND (no such path), LW_EMALFORMED (a file that is neither
 * an mbox nor a message), LW_EINVAL (neither file nor directory),
 * LW_ETIMEOUT (past the deadline already), LW_EIO (errno kept) or
 * LW_ENOMEM.  The limits are copied.
 */
enum lw_err	 mailbox_open(const char *path, const struct mailbox_limits *,
		    struct mailbox **);
/*
 * The same over len bytes at p (not copied: they must outlive the
 * mailbox); name is used in where.  Garbage is a message with skip
 * MAILBOX_SKIP_NOT_MAIL, not an error.
 */
enum lw_err	 mailbox_open_mem(const void *p, size_t len, const char *name,
		    const struct mailbox_limits *, struct mailbox **);

/*
 * The next message or skipped entry into *m.  Returns LW_OK,
 * LW_ENOTFOUND at the end, LW_ELIMIT past limits.messages (or a
 * directory with more entries than that), LW_ETIMEOUT past the
 * deadline, LW_EIO (reading the mbox itself failed; errno kept) or
 * LW_ENOMEM.  After anything but LW_OK only mailbox_close is useful.
 */
enum lw_err	 mailbox_next(struct mailbox *, struct mailbox_msg *m);

enum mailbox_kind mailbox_kind(const struct mailbox *);
const char	*mailbox_kind_name(enum mailbox_kind);
const char	*mailbox_skip_name(enum mailbox_skip);
/* How far it got: bytes of an mbox or message, entries of a directory. */
void		 mailbox_progress(const struct mailbox *, uint64_t *done,
		    uint64_t *total);
void		 mailbox_close(struct mailbox *);

/*
 * The length of a message's header block, its blank line included
 * (all of it when there is none): what learning from a message reads.
 */
size_t		 mailbox_header_len(const unsigned char *p, size_t len);
/*
 * An RFC 5322 Date: value ("Mon, 1 Dec 2026 09:00:00 +0900"; RFC 822's
 * two-digit years and zone names too, an unknown zone as UTC) as a
 * time; 0 when it does not parse (NULL too).
 */
time_t		 mailbox_date(const char *value);

#endif /* MAILBOX_H */
