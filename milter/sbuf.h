/*
 * sbuf.h: a growing byte string for the decoders (mime, charset, html,
 * address) and the quarantine's metadata writer.
 *
 * Errors are sticky: after a failed allocation every later append is a
 * no-op and oom stays set, so a decoder checks once at the end instead
 * of after every byte.  p is always NUL-terminated once anything was
 * added (or after sbuf_finish).
 */
#ifndef SBUF_H
#define SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

static inline bool
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t	 cap;
	char	*np;

	if (b->oom)
		return false;
	if (n < b->cap - b->len)	/* room for n bytes and the NUL */
		return true;
	if (n > SIZE_MAX / 2 - b->len - 1) {
		b->oom = true;
		return false;
	}
	cap = b->cap ? b->cap : 64;
	while (cap - b->len <= n)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static inline void
sbuf_add(struct sbuf *b, const void *s, size_t n)
{
	if (!sbuf_reserve(b, n))
		return;
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
sbuf_addc(struct sbuf *b, int c)
{
	char	ch = (char)c;

	sbuf_add(b, &ch, 1);
}

static inline void
sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Append code point cp as UTF-8 (invalid ones as U+FFFD). */
static inline void
sbuf_addcp(struct sbuf *b, uint32_t cp)
{
	char	u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		sbuf_addc(b, (int)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(b, u, 4);
	}
}

/* Make sure p is a (possibly empty) string; false on ENOMEM. */
static inline bool
sbuf_finish(struct sbuf *b)
{
	if (!sbuf_reserve(b, 0))
		return false;
	b->p[b->len] = '\0';
	return true;
}

static inline void
sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

static inline void sbuf_vaddf(struct sbuf *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static inline void
sbuf_vaddf(struct sbuf *b, const char *fmt, va_list ap)
{
	char	*s;
	int	 n;

	if ((n = vasprintf(&s, fmt, ap)) < 0) {
		b->oom = true;
		return;
	}
	sbuf_add(b, s, (size_t)n);
	free(s);
}

static inline void sbuf_addf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static inline void
sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	sbuf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* The string (malloc'd; "" when nothing was added), NULL on ENOMEM. */
static inline char *
sbuf_take(struct sbuf *b)
{
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	return b->p != NULL ? b->p : strdup("");
}

static inline void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

#endif /* SBUF_H */
