/*
 * msgbuf.c: a bounded copy of one message for the scan.
 *
 * Takes header fields and body chunks in the order the MTA sends them
 * and keeps them as one wire-format message.  Memory holds at most
 * mem_max bytes; past that everything moves to a temporary file that is
 * unlinked as soon as it is created (nothing to clean up after a crash)
 * and mmap'd read-only when the scan asks for the data.  Bytes beyond
 * max are counted and dropped, never buffered: a padded message costs
 * us max bytes, and the truncated flag lets the engine record
 * MIME_LIMIT.  No knowledge of MIME or libmilter here.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msgbuf.h"
#include "util.h"

static const unsigned char	empty[1];

static size_t
clamp(uint64_t v)
{
	return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

enum lw_err
msgbuf_init(struct msgbuf *mb, uint64_t mem_max, uint64_t max,
    const char *tmpdir)
{
	const char	*d = tmpdir;

	memset(mb, 0, sizeof(*mb));
	mb->fd = -1;
	mb->mem_max = clamp(mem_max);
	mb->max = clamp(max);
	if (d == NULL || *d == '\0')
		d = getenv("TMPDIR");
	if (d == NULL || *d == '\0')
		d = "/var/tmp";
	if ((mb->tmpdir = strdup(d)) == NULL)
		return LW_ENOMEM;
	return LW_OK;
}

void
msgbuf_free(struct msgbuf *mb)
{
	if (mb->map != NULL)
		munmap(mb->map, mb->maplen);
	if (mb->fd != -1)
		close(mb->fd);
	free(mb->buf);
	free(mb->tmpdir);
	memset(mb, 0, sizeof(*mb));
	mb->fd = -1;
}

bool
msgbuf_spilled(const struct msgbuf *mb)
{
	return mb->fd != -1;
}

/* Move what memory holds into a fresh unlinked file. */
static enum lw_err
spill(struct msgbuf *mb)
{
	char		*path = NULL;
	enum lw_err	 e;
	int		 fd;

	if (lw_asprintf(&path, "%s/lurewall.XXXXXX", mb->tmpdir) != LW_OK)
		return LW_ENOMEM;
	fd = mkstemp(path);
	if (fd == -1) {
		free(path);
		return LW_EIO;
	}
	/* Unlinked at once: the file lives exactly as long as the fd. */
	unlink(path);
	free(path);
	if ((e = lw_write_all(fd, mb->buf, mb->len)) != LW_OK) {
		close(fd);
		return e;
	}
	free(mb->buf);
	mb->buf = NULL;
	mb->cap = 0;
	mb->fd = fd;
	return LW_OK;
}

static enum lw_err
mem_append(struct msgbuf *mb, const void *p, size_t len)
{
	size_t		 need, cap;
	unsigned char	*nb;

	need = mb->len + len;		/* len <= mem_max - mb->len */
	if (need > mb->cap) {
		cap = mb->cap ? mb->cap : 8192;
		while (cap < need)
			cap = cap > mb->mem_max / 2 ? mb->mem_max : cap * 2;
		if ((nb = realloc(mb->buf, cap)) == NULL)
			return LW_ENOMEM;
		mb->buf = nb;
		mb->cap = cap;
	}
	memcpy(mb->buf + mb->len, p, len);
	return LW_OK;
}

enum lw_err
msgbuf_append(struct msgbuf *mb, const void *p, size_t len)
{
	enum lw_err	e;
	size_t		keep = len;

	if (mb->map != NULL)		/* msgbuf_data was called */
		return LW_EINVAL;
	mb->seen += len;
	if (keep > mb->max - mb->len) {	/* invariant: mb->len <= mb->max */
		keep = mb->max - mb->len;
		mb->truncated = true;
	}
	if (keep > 0) {
		/* In memory: invariant mb->len <= mb->mem_max. */
		if (mb->fd == -1 && keep > mb->mem_max - mb->len &&
		    (e = spill(mb)) != LW_OK)
			return e;
		if (mb->fd != -1)
			e = lw_write_all(mb->fd, p, keep);
		else
			e = mem_append(mb, p, keep);
		if (e != LW_OK)
			return e;
		mb->len += keep;
	}
	return keep < len ? LW_ELIMIT : LW_OK;
}

enum lw_err
msgbuf_add_header(struct msgbuf *mb, const char *name, const char *value,
    bool space)
{
	const char	*s, *nl;
	enum lw_err	 e;

	if ((e = msgbuf_append(mb, name, strlen(name))) != LW_OK ||
	    (e = msgbuf_append(mb, ": ", space ? 2 : 1)) != LW_OK)
		return e;
	/* Folded values may come with bare LF line ends; make them CRLF. */
	for (s = value; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		if (nl > s && nl[-1] == '\r')
			e = msgbuf_append(mb, s, (size_t)(nl + 1 - s));
		else if ((e = msgbuf_append(mb, s, (size_t)(nl - s))) ==
		    LW_OK)
			e = msgbuf_append(mb, "\r\n", 2);
		if (e != LW_OK)
			return e;
	}
	if ((e = msgbuf_append(mb, s, strlen(s))) != LW_OK)
		return e;
	return msgbuf_append(mb, "\r\n", 2);
}

enum lw_err
msgbuf_end_headers(struct msgbuf *mb)
{
	return msgbuf_append(mb, "\r\n", 2);
}

enum lw_err
msgbuf_data(struct msgbuf *mb, const unsigned char **p, size_t *len)
{
	void	*m;

	*len = mb->len;
	if (mb->fd == -1) {
		*p = mb->buf != NULL ? mb->buf : empty;
		return LW_OK;
	}
	if (mb->map == NULL) {
		if (mb->len == 0) {
			*p = empty;
			return LW_OK;
		}
		m = mmap(NULL, mb->len, PROT_READ, MAP_PRIVATE, mb->fd, 0);
		if (m == MAP_FAILED)
			return LW_EIO;
		mb->map = m;
		mb->maplen = mb->len;
	}
	*p = mb->map;
	return LW_OK;
}
