/*
 * mailbox.c: split an exported mail folder into messages (mailbox.h).
 *
 * One reader serves every source: a stream of bytes (a file descriptor
 * read in CHUNK pieces, or memory) cut into lines that are never held
 * whole: a piece ends at a newline or where the buffer ends.  An mbox
 * stream is split at From_ lines; a message stream is one message.  A
 * directory (Maildir or plain) is a sorted list of names, each opened
 * as a stream in turn.
 *
 * An mbox From_ line, as mutt and Thunderbird write it, follows a
 * blank line (or starts the file) and carries a time ("hh:mm"); the
 * blank line before it belongs to the separator, not to the message.
 * A "From " line without a time or without the blank line is body text
 * that a careless writer left unquoted.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mailbox.h"
#include "util.h"

#define CHUNK		(64u << 10)	/* read size; longest line piece */
#define WHERE_MAX	(PATH_MAX + 32)

struct stream {
	int		 fd;		/* -1: memory */
	unsigned char	*buf;		/* CHUNK buffer, or the memory */
	size_t		 off;		/* next unread byte */
	size_t		 len;		/* bytes in buf */
	size_t		 cap;
	bool		 eof;		/* nothing more to read into buf */
	bool		 open;
	bool		 mbox;		/* split at From_ lines */
	bool		 done;		/* the one message has been read */
	enum mailbox_skip skip;		/* memory: what the bytes are not */
	uint64_t	 pos;		/* bytes consumed */
	uint64_t	 size;		/* file size when opened */
	unsigned	 nmsg;		/* messages begun in this stream */
	char		 name[WHERE_MAX];
};

struct mailbox {
	enum mailbox_kind kind;
	struct mailbox_limits lim;
	char		*path;
	int		 dfd;		/* directories: the directory */
	char		**names;	/* directories: sorted entries */
	size_t		 nnames;
	size_t		 next;
	bool		 cut;		/* more entries than lim.messages */
	struct stream	 st;
	unsigned char	*fdbuf;		/* the CHUNK buffer for files */
	unsigned char	*msg;		/* the message being returned */
	size_t		 msglen;
	size_t		 msgcap;
	uint64_t	 msgbytes;	/* its size as read */
	bool		 truncated;
	unsigned char	 pending[2];	/* a blank line held back (mbox) */
	size_t		 npending;
	uint64_t	 count;		/* messages and skips returned */
	char		 where[WHERE_MAX];
};

void
mailbox_limits_default(struct mailbox_limits *lim)
{
	lim->message_bytes = MAILBOX_MESSAGE_BYTES_DEFAULT;
	lim->messages = MAILBOX_MESSAGES_DEFAULT;
	lim->deadline_ms = 0;
}

const char *
mailbox_kind_name(enum mailbox_kind k)
{
	switch (k) {
	case MAILBOX_MBOX:
		return "mbox";
	case MAILBOX_MAILDIR:
		return "Maildir";
	case MAILBOX_DIRECTORY:
		return "directory";
	case MAILBOX_MESSAGE:
		return "message";
	}
	return "?";
}

const char *
mailbox_skip_name(enum mailbox_skip s)
{
	switch (s) {
	case MAILBOX_SKIP_NONE:
		return "none";
	case MAILBOX_SKIP_EMPTY:
		return "empty";
	case MAILBOX_SKIP_NOT_MAIL:
		return "not_mail";
	case MAILBOX_SKIP_NOT_FILE:
		return "not_file";
	case MAILBOX_SKIP_UNREADABLE:
		return "unreadable";
	}
	return "?";
}

enum mailbox_kind
mailbox_kind(const struct mailbox *mb)
{
	return mb->kind;
}

static bool
past_deadline(const struct mailbox *mb)
{
	return mb->lim.deadline_ms != 0 && lw_now_ms() > mb->lim.deadline_ms;
}

/*
 * Read more into the stream's buffer, first moving the unread rest to
 * its start.  Memory streams have nothing more (and are never written).
 */
static enum lw_err
stream_fill(struct mailbox *mb)
{
	struct stream	*st = &mb->st;
	ssize_t		 r;

	if (st->fd == -1) {
		st->eof = true;
		return LW_OK;
	}
	if (st->off > 0) {
		memmove(st->buf, st->buf + st->off, st->len - st->off);
		st->len -= st->off;
		st->off = 0;
	}
	if (past_deadline(mb))
		return LW_ETIMEOUT;
	for (;;) {
		r = read(st->fd, st->buf + st->len, st->cap - st->len);
		if (r >= 0)
			break;
		if (errno != EINTR)
			return LW_EIO;
	}
	if (r == 0)
		st->eof = true;
	st->len += (size_t)r;
	return LW_OK;
}

/*
 * Peek at the next piece of the current line: up to and including its
 * newline (*eol), or the whole buffer when the line is longer than
 * that, or what is left at the end.  LW_ENOTFOUND at the end.
 */
static enum lw_err
stream_peek(struct mailbox *mb, const unsigned char **p, size_t *n,
    bool *eol)
{
	struct stream		*st = &mb->st;
	const unsigned char	*nl;
	size_t			 avail;
	enum lw_err		 e;

	for (;;) {
		avail = st->len - st->off;
		nl = avail > 0 ? memchr(st->buf + st->off, '\n', avail) : NULL;
		if (nl != NULL) {
			*n = (size_t)(nl - (st->buf + st->off)) + 1;
			*eol = true;
			break;
		}
		if (st->eof || avail == st->cap) {
			*n = avail;
			*eol = false;
			break;
		}
		if ((e = stream_fill(mb)) != LW_OK)
			return e;
	}
	*p = st->buf + st->off;
	return *n > 0 ? LW_OK : LW_ENOTFOUND;
}

static void
stream_consume(struct stream *st, size_t n)
{
	st->off += n;
	st->pos += n;
}

/* Consume the rest of the current line (its first piece is peeked). */
static enum lw_err
stream_skip_line(struct mailbox *mb)
{
	const unsigned char	*p;
	size_t			 n;
	bool			 eol;
	enum lw_err		 e;

	do {
		if ((e = stream_peek(mb, &p, &n, &eol)) != LW_OK)
			return e == LW_ENOTFOUND ? LW_OK : e;
		stream_consume(&mb->st, n);
	} while (!eol);
	return LW_OK;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * 0: not a From_ line; 1: "From " and a sender; 2: and a time (hh:mm)
 * as every mbox writer puts in its date.
 */
static int
from_line(const unsigned char *p, size_t n)
{
	size_t	i;

	if (n < 6 || memcmp(p, "From ", 5) != 0 || p[5] == ' ' ||
	    p[5] == '\t' || p[5] == '\r' || p[5] == '\n')
		return 0;
	for (i = 6; n >= 5 && i <= n - 5; i++)
		if (is_digit(p[i]) && is_digit(p[i + 1]) && p[i + 2] == ':' &&
		    is_digit(p[i + 3]) && is_digit(p[i + 4]))
			return 2;
	return 1;
}

/* A header field's first line: a field name, optional blanks, ':'. */
static bool
header_line(const unsigned char *p, size_t n)
{
	size_t	i = 0;

	while (i < n && p[i] > ' ' && p[i] < 0x7f && p[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < n && p[i] == ':';
}

static bool
blank_line(const unsigned char *p, size_t n, bool eol)
{
	return eol && (n == 1 || (n == 2 && p[0] == '\r'));
}

/*
 * Keep n more bytes of the message, up to lim.message_bytes: past it
 * the message is marked truncated and the bytes only counted.
 */
static enum lw_err
msg_append(struct mailbox *mb, const unsigned char *p, size_t n)
{
	uint64_t	 max = mb->lim.message_bytes;
	size_t		 cap, need;
	unsigned char	*nb;

	mb->msgbytes += n;
	if (mb->truncated)
		return LW_OK;
	if (n > max - mb->msglen) {	/* invariant: msglen <= max */
		n = (size_t)(max - mb->msglen);
		mb->truncated = true;
	}
	need = mb->msglen + n + 1;	/* and a NUL */
	if (need > mb->msgcap) {
		cap = mb->msgcap > 0 ? mb->msgcap : 8192;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if ((nb = realloc(mb->msg, cap)) == NULL)
			return LW_ENOMEM;
		mb->msg = nb;
		mb->msgcap = cap;
	}
	memcpy(mb->msg + mb->msglen, p, n);
	mb->msglen += n;
	mb->msg[mb->msglen] = '\0';
	return LW_OK;
}

static enum lw_err
msg_flush_pending(struct mailbox *mb)
{
	size_t	n = mb->npending;

	mb->npending = 0;
	return n > 0 ? msg_append(mb, mb->pending, n) : LW_OK;
}

static void
msg_reset(struct mailbox *mb)
{
	mb->msglen = 0;
	mb->msgbytes = 0;
	mb->truncated = false;
	mb->npending = 0;
	if (mb->msg != NULL)
		mb->msg[0] = '\0';
}

/*
 * One message of an mbox stream, which stands at a From_ line: read to
 * the next From_ line (left for the next call) or the end.  Quoted
 * ">From " lines (any number of '>') lose one '>'.
 */
static enum lw_err
mbox_message(struct mailbox *mb)
{
	struct stream		*st = &mb->st;
	const unsigned char	*p;
	size_t			 n, cut;
	bool			 eol, bol = true, after_blank = false;
	enum lw_err		 e;

	if ((e = stream_peek(mb, &p, &n, &eol)) != LW_OK)
		return e;
	if ((e = stream_skip_line(mb)) != LW_OK)
		return e;
	st->nmsg++;
	msg_reset(mb);
	for (;;) {
		if ((e = stream_peek(mb, &p, &n, &eol)) == LW_ENOTFOUND)
			break;
		if (e != LW_OK)
			return e;
		cut = 0;
		if (bol) {
			if (after_blank && from_line(p, n) == 2)
				break;
			if (blank_line(p, n, eol)) {
				/* Held back: the last one is the separator's. */
				if ((e = msg_flush_pending(mb)) != LW_OK)
					return e;
				memcpy(mb->pending, p, n);
				mb->npending = n;
				stream_consume(st, n);
				after_blank = true;
				continue;
			}
			after_blank = false;
			if ((e = msg_flush_pending(mb)) != LW_OK)
				return e;
			while (cut < n && p[cut] == '>')
				cut++;
			cut = cut > 0 && n - cut >= 5 &&
			    memcmp(p + cut, "From ", 5) == 0 ? 1 : 0;
		}
		if ((e = msg_append(mb, p + cut, n - cut)) != LW_OK)
			return e;
		stream_consume(st, n);
		bol = eol;
	}
	mb->npending = 0;
	return LW_OK;
}

/* The one message of a message stream: every byte, as it is. */
static enum lw_err
whole_message(struct mailbox *mb)
{
	struct stream		*st = &mb->st;
	const unsigned char	*p;
	size_t			 n;
	bool			 eol;
	enum lw_err		 e;

	msg_reset(mb);
	st->nmsg++;
	st->done = true;
	for (;;) {
		if ((e = stream_peek(mb, &p, &n, &eol)) == LW_ENOTFOUND)
			return LW_OK;
		if (e != LW_OK)
			return e;
		if ((e = msg_append(mb, p, n)) != LW_OK)
			return e;
		stream_consume(st, n);
	}
}

static void
stream_close(struct mailbox *mb)
{
	struct stream	*st = &mb->st;

	if (st->fd != -1)
		close(st->fd);
	st->fd = -1;
	st->open = false;
}

/*
 * Start a stream on fd (-1: the memory p, len) and tell what it is
 * from its first line: an mbox, a message, or nothing (*skip).
 */
static enum lw_err
stream_start(struct mailbox *mb, int fd, const void *p, size_t len,
    uint64_t size, const char *name, enum mailbox_skip *skip)
{
	struct stream		*st = &mb->st;
	const unsigned char	*q;
	size_t			 n;
	bool			 eol;
	enum lw_err		 e;

	memset(st, 0, sizeof(*st));
	st->fd = fd;
	st->open = true;
	st->size = size;
	if (fd == -1) {
		st->buf = (unsigned char *)p;	/* read only: see stream_fill */
		st->len = st->cap = len;
		st->eof = true;
	} else {
		st->buf = mb->fdbuf;
		st->cap = CHUNK;
	}
	snprintf(st->name, sizeof(st->name), "%s", name);
	*skip = MAILBOX_SKIP_NONE;
	e = stream_peek(mb, &q, &n, &eol);
	if (e == LW_ENOTFOUND) {
		*skip = MAILBOX_SKIP_EMPTY;
		return LW_OK;
	}
	if (e != LW_OK)
		return e;
	if (from_line(q, n) > 0)
		st->mbox = true;
	else if (!header_line(q, n))
		*skip = MAILBOX_SKIP_NOT_MAIL;
	st->skip = *skip;
	return LW_OK;
}

/* Is there a message left in the open stream?  (An error says yes.) */
static bool
stream_more(struct mailbox *mb)
{
	const unsigned char	*p;
	size_t			 n;
	bool			 eol;

	if (!mb->st.mbox)
		return !mb->st.done;
	return stream_peek(mb, &p, &n, &eol) != LW_ENOTFOUND;
}

/* The next message of the open stream; LW_ENOTFOUND when it is done. */
static enum lw_err
stream_next(struct mailbox *mb, struct mailbox_msg *m)
{
	struct stream	*st = &mb->st;
	enum lw_err	 e;

	if (!st->mbox && st->done)
		return LW_ENOTFOUND;
	if (st->skip != MAILBOX_SKIP_NONE) {
		st->done = true;
		m->skip = st->skip;
		m->where = st->name;
		return LW_OK;
	}
	e = st->mbox ? mbox_message(mb) : whole_message(mb);
	if (e != LW_OK)
		return e;
	if (st->mbox)
		snprintf(mb->where, sizeof(mb->where), "%.*s:%u",
		    (int)sizeof(st->name) - 16, st->name, st->nmsg);
	else
		snprintf(mb->where, sizeof(mb->where), "%s", st->name);
	m->where = mb->where;
	m->bytes = mb->msgbytes;
	m->truncated = mb->truncated;
	if (mb->msgbytes == 0) {
		m->skip = MAILBOX_SKIP_EMPTY;
		return LW_OK;
	}
	m->data = mb->msg;
	m->len = mb->msglen;
	return LW_OK;
}

static int
entry_cmp(const void *a, const void *b)
{
	const char	*x = *(char *const *)a, *y = *(char *const *)b;
	const char	*sx = strchr(x, '/'), *sy = strchr(y, '/');

	/* Maildir: cur/ and new/ merged by name (delivery time first). */
	return strcmp(sx != NULL ? sx + 1 : x, sy != NULL ? sy + 1 : y);
}

/* Add the visible entries of sub ("" for the directory itself). */
static enum lw_err
list_dir(struct mailbox *mb, const char *sub)
{
	struct dirent	*de;
	DIR		*d;
	char		**nv, *name;
	size_t		 cap = mb->nnames;
	int		 fd, saved;

	fd = *sub != '\0' ? openat(mb->dfd, sub, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC) : dup(mb->dfd);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
		errno = saved;
		return LW_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (mb->nnames >= mb->lim.messages) {
			mb->cut = true;
			break;
		}
		if (mb->nnames == cap) {
			cap = cap > 0 ? cap * 2 : 256;
			if ((nv = reallocarray(mb->names, cap,
			    sizeof(*nv))) == NULL)
				goto out_nomem;
			mb->names = nv;
		}
		if (lw_asprintf(&name, "%s%s%s", sub, *sub != '\0' ? "/" : "",
		    de->d_name) != LW_OK)
			goto out_nomem;
		mb->names[mb->nnames++] = name;
	}
	closedir(d);
	return LW_OK;

out_nomem:
	closedir(d);
	return LW_ENOMEM;
}

static bool
has_dir(int dfd, const char *name)
{
	struct stat	st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

static enum lw_err
open_dir(struct mailbox *mb)
{
	enum lw_err	e;

	if ((mb->dfd = open(mb->path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return LW_EIO;
	if (has_dir(mb->dfd, "cur") && has_dir(mb->dfd, "new")) {
		mb->kind = MAILBOX_MAILDIR;
		if ((e = list_dir(mb, "cur")) != LW_OK ||
		    (e = list_dir(mb, "new")) != LW_OK)
			return e;
	} else {
		mb->kind = MAILBOX_DIRECTORY;
		if ((e = list_dir(mb, "")) != LW_OK)
			return e;
	}
	qsort(mb->names, mb->nnames, sizeof(*mb->names), entry_cmp);
	return LW_OK;
}

static enum lw_err
mailbox_new(const struct mailbox_limits *lim, const char *path,
    struct mailbox **out)
{
	struct mailbox	*mb;

	*out = NULL;
	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return LW_ENOMEM;
	mb->lim = *lim;
	mb->dfd = -1;
	mb->st.fd = -1;
	if ((mb->path = strdup(path)) == NULL) {
		free(mb);
		return LW_ENOMEM;
	}
	*out = mb;
	return LW_OK;
}

enum lw_err
mailbox_open(const char *path, const struct mailbox_limits *lim,
    struct mailbox **out)
{
	struct mailbox		*mb;
	struct stat		 sb;
	enum mailbox_skip	 skip;
	enum lw_err		 e;
	int			 fd, saved;

	*out = NULL;
	if (stat(path, &sb) == -1)
		return errno == ENOENT || errno == ENOTDIR ? LW_ENOTFOUND :
		    LW_EIO;
	if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
		return LW_EINVAL;
	if ((e = mailbox_new(lim, path, &mb)) != LW_OK)
		return e;
	if (S_ISDIR(sb.st_mode)) {
		e = open_dir(mb);
		if (e == LW_OK && (mb->fdbuf = malloc(CHUNK)) == NULL)
			e = LW_ENOMEM;
		goto out;
	}
	if ((mb->fdbuf = malloc(CHUNK)) == NULL) {
		e = LW_ENOMEM;
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		e = LW_EIO;
		goto out;
	}
	e = stream_start(mb, fd, NULL, 0, (uint64_t)sb.st_size, path, &skip);
	if (e == LW_OK && skip == MAILBOX_SKIP_NOT_MAIL)
		e = LW_EMALFORMED;
	if (e == LW_OK && skip == MAILBOX_SKIP_EMPTY)
		stream_close(mb);	/* an empty folder: no message */
	mb->kind = mb->st.mbox || skip == MAILBOX_SKIP_EMPTY ?
	    MAILBOX_MBOX : MAILBOX_MESSAGE;
out:
	if (e != LW_OK) {
		saved = errno;
		mailbox_close(mb);
		errno = saved;
		return e;
	}
	*out = mb;
	return LW_OK;
}

enum lw_err
mailbox_open_mem(const void *p, size_t len, const char *name,
    const struct mailbox_limits *lim, struct mailbox **out)
{
	struct mailbox		*mb;
	enum mailbox_skip	 skip;
	enum lw_err		 e;

	if ((e = mailbox_new(lim, name, &mb)) != LW_OK)
		return e;
	if ((e = stream_start(mb, -1, p, len, len, name, &skip)) != LW_OK) {
		mailbox_close(mb);
		return e;
	}
	/* Garbage comes back as one skipped message (see mailbox_next). */
	mb->kind = mb->st.mbox || skip == MAILBOX_SKIP_EMPTY ?
	    MAILBOX_MBOX : MAILBOX_MESSAGE;
	if (skip == MAILBOX_SKIP_EMPTY)
		stream_close(mb);
	*out = mb;
	return LW_OK;
}

/*
 * Open the next directory entry as a stream.  An entry that gives no
 * message fills *m as a skip and sets *skipped.
 */
static enum lw_err
entry_open(struct mailbox *mb, const char *name, struct mailbox_msg *m,
    bool *skipped)
{
	struct stat		 sb;
	enum mailbox_skip	 skip = MAILBOX_SKIP_NONE;
	enum lw_err		 e;
	int			 fd;

	*skipped = false;
	snprintf(mb->where, sizeof(mb->where), "%s/%s", mb->path, name);
	/* O_NONBLOCK: a FIFO among the files must not hang the import. */
	fd = openat(mb->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		m->err = errno;
		skip = errno == ELOOP ? MAILBOX_SKIP_NOT_FILE :
		    MAILBOX_SKIP_UNREADABLE;
	} else if (fstat(fd, &sb) == -1) {
		m->err = errno;
		skip = MAILBOX_SKIP_UNREADABLE;
		close(fd);
	} else if (!S_ISREG(sb.st_mode)) {
		skip = MAILBOX_SKIP_NOT_FILE;
		close(fd);
	} else {
		e = stream_start(mb, fd, NULL, 0, (uint64_t)sb.st_size,
		    mb->where, &skip);
		if (e == LW_EIO) {
			m->err = errno;
			skip = MAILBOX_SKIP_UNREADABLE;
		} else if (e != LW_OK) {
			stream_close(mb);
			return e;
		}
		if (skip != MAILBOX_SKIP_NONE)
			stream_close(mb);
	}
	if (skip != MAILBOX_SKIP_NONE) {
		m->skip = skip;
		m->where = mb->where;
		*skipped = true;
	}
	return LW_OK;
}

enum lw_err
mailbox_next(struct mailbox *mb, struct mailbox_msg *m)
{
	enum lw_err	e;
	bool		skipped;

	memset(m, 0, sizeof(*m));
	if (past_deadline(mb))
		return LW_ETIMEOUT;
	for (;;) {
		if (mb->st.open) {
			if (mb->count >= mb->lim.messages && stream_more(mb))
				return LW_ELIMIT;
			e = stream_next(mb, m);
			if (e == LW_OK) {
				mb->count++;
				return LW_OK;
			}
			if (e != LW_ENOTFOUND)
				return e;
			stream_close(mb);
		}
		if (mb->kind != MAILBOX_MAILDIR &&
		    mb->kind != MAILBOX_DIRECTORY)
			return LW_ENOTFOUND;
		if (mb->next == mb->nnames)
			return mb->cut ? LW_ELIMIT : LW_ENOTFOUND;
		if (mb->count >= mb->lim.messages)
			return LW_ELIMIT;
		e = entry_open(mb, mb->names[mb->next++], m, &skipped);
		if (e != LW_OK)
			return e;
		if (skipped) {
			mb->count++;
			return LW_OK;
		}
	}
}

void
mailbox_progress(const struct mailbox *mb, uint64_t *done, uint64_t *total)
{
	if (mb->kind == MAILBOX_MAILDIR || mb->kind == MAILBOX_DIRECTORY) {
		*done = mb->next;
		*total = mb->nnames;
	} else {
		*done = mb->st.pos;
		*total = mb->st.size;
	}
}

size_t
mailbox_header_len(const unsigned char *p, size_t len)
{
	const unsigned char	*q = p, *nl;

	for (;;) {
		/* q is at the start of a line. */
		if (q < p + len && *q == '\n')
			return (size_t)(q - p) + 1;
		if (len - (size_t)(q - p) >= 2 && q[0] == '\r' && q[1] == '\n')
			return (size_t)(q - p) + 2;
		if ((nl = memchr(q, '\n', len - (size_t)(q - p))) == NULL)
			return len;
		q = nl + 1;
	}
}

time_t
mailbox_date(const char *s)
{
	static const char	 months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const struct { const char *name; int hours; } zones[] = {
		{ "GMT", 0 }, { "UT", 0 }, { "UTC", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
		{ "JST", 9 },
	};
	struct tm	 tm;
	char		 mon[4], zone[6];
	const char	*m;
	int		 d, y, h, mi, sec = 0, n = 0, off = 0, z;
	size_t		 i;
	time_t		 t;

	if (s == NULL)
		return 0;
	if ((m = strchr(s, ',')) != NULL && m - s < 16)
		s = m + 1;
	if (sscanf(s, " %d %3s %d %d:%d%n", &d, mon, &y, &h, &mi, &n) != 5)
		return 0;
	s += n;
	if (*s == ':' && sscanf(s, ":%d%n", &sec, &n) == 1)
		s += n;
	if (sscanf(s, " %5s", zone) == 1) {
		if ((zone[0] == '+' || zone[0] == '-') &&
		    sscanf(zone + 1, "%4d", &z) == 1 && strlen(zone) == 5)
			off = (zone[0] == '-' ? -1 : 1) *
			    (z / 100 * 3600 + z % 100 * 60);
		else
			for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
				if (strcasecmp(zone, zones[i].name) == 0)
					off = zones[i].hours * 3600;
	}
	for (i = 0; mon[0] != '\0' && i < 12; i++)
		if (strncasecmp(mon, months + 3 * i, 3) == 0)
			break;
	if (y >= 0 && y < 50)
		y += 2000;
	else if (y >= 50 && y < 1000)
		y += 1900;
	if (i == 12 || d < 1 || d > 31 || y < 1970 || y > 9999 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = d;
	tm.tm_mon = (int)i;
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	return t - off;
}

void
mailbox_close(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	stream_close(mb);
	if (mb->dfd != -1)
		close(mb->dfd);
	lw_strv_free(mb->names, mb->nnames);
	FREE_ALL(mb->fdbuf, mb->msg, mb->path);
	free(mb);
}
