/*
 * lurewall.c: what every stage shares: error names, default limits,
 * the findings list and small string helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lurewall.h"
#include "util.h"

const char *
lw_strerror(enum lw_err e)
{
	switch (e) {
	case LW_OK:		return "ok";
	case LW_ENOMEM:		return "out of memory";
	case LW_EIO:		return "I/O error";
	case LW_ELIMIT:		return "limit reached";
	case LW_EMALFORMED:	return "malformed input";
	case LW_EINVAL:		return "invalid argument";
	case LW_ENOTFOUND:	return "not found";
	case LW_EEXIST:		return "already exists";
	case LW_ETIMEOUT:	return "scan budget spent";
	case LW_EINTERNAL:	return "internal error";
	}
	return "unknown error";
}

void
limits_default(struct limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_message_bytes = 64ULL << 20;
	l->memory_body_bytes = 4ULL << 20;
	l->max_header_bytes = 256ULL << 10;
	l->max_headers = 2000;
	l->mime_depth = 20;
	l->mime_parts = 1000;
	l->archive_depth = 4;
	l->archive_entries = 1000;
	l->archive_total_bytes = 256ULL << 20;
	l->archive_entry_bytes = 64ULL << 20;
	l->archive_ratio = 200;
	l->password_candidates = 64;
	l->ole_sectors = 262144;
	l->office_stream_bytes = 32ULL << 20;
	l->vba_modules = 512;
	l->pcre2_match_limit = 1000000;
	l->pcre2_depth_limit = 10000;
	l->scan_timeout_ms = 30000;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t
utf8_seqlen(const unsigned char *s, size_t left)
{
	size_t	n, i;
	unsigned c = s[0];
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls and bidi overrides are as unsafe as C0 in a log. */
	if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

char *
lw_sanitize(const char *s, size_t len, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 i = 0, j, n;

	if (s == NULL)
		return lw_strdup("");
	if (max < 4)
		max = 4;
	if ((out = malloc(max + 4)) == NULL)
		return NULL;
	o = out;
	while (i < len) {
		/*
		 * Printable ASCII, most of any detail or name: a run is
		 * copied at once, as far as max leaves room (o - out <= max
		 * holds throughout); a run cut short ends the text.
		 */
		for (j = i; j < len && p[j] >= 0x20 && p[j] < 0x7f; j++)
			;
		if (j > i) {
			n = max - (size_t)(o - out);
			if (n > j - i)
				n = j - i;
			memcpy(o, p + i, n);
			o += n;
			i += n;
			if (i < j) {
				memcpy(o, "...", 3);
				o += 3;
				break;
			}
			continue;
		}
		n = utf8_seqlen(p + i, len - i);
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			n = 0;
		if ((size_t)(o - out) + (n ? n : 1) > max) {
			memcpy(o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0) {
			*o++ = p[i] == '\t' || p[i] == '\n' ? ' ' : '?';
			i++;
		} else {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		}
	}
	*o = '\0';
	return out;
}

/* A finding whose detail, raw[0..len), is made printable and cut here. */
static enum lw_err
finding_push(struct findings *fs, const char *rule, const char *part,
    const char *raw, size_t len)
{
	struct finding	*f, *nv;

	if ((nv = lw_grow(fs->v, fs->n, &fs->cap, 16, sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	fs->v = nv;
	f = &fs->v[fs->n];
	memset(f, 0, sizeof(*f));
	f->rule = strdup(rule);
	f->part = strdup(part != NULL ? part : "");
	f->detail = lw_sanitize(raw, len, 1024);
	if (f->rule == NULL || f->part == NULL || f->detail == NULL) {
		free(f->rule);
		free(f->part);
		free(f->detail);
		return LW_ENOMEM;
	}
	fs->n++;
	return LW_OK;
}

enum lw_err
findings_addv(struct findings *fs, const char *rule, const char *part,
    const char *fmt, va_list ap)
{
	char		*raw = NULL;
	enum lw_err	 e;

	if (fmt != NULL && vasprintf(&raw, fmt, ap) < 0)
		return LW_ENOMEM;
	e = finding_push(fs, rule, part, raw ? raw : "",
	    raw ? strlen(raw) : 0);
	free(raw);
	return e;
}

enum lw_err
findings_add(struct findings *fs, const char *rule, const char *part,
    const char *fmt, ...)
{
	va_list		ap;
	enum lw_err	e;

	va_start(ap, fmt);
	e = findings_addv(fs, rule, part, fmt, ap);
	va_end(ap);
	return e;
}

enum lw_err
findings_append(struct findings *dst, const struct findings *src)
{
	size_t		i;
	enum lw_err	e;

	for (i = 0; i < src->n; i++) {
		/* As findings_add(..., "%s", detail), without printf. */
		e = finding_push(dst, src->v[i].rule, src->v[i].part,
		    src->v[i].detail, strlen(src->v[i].detail));
		if (e != LW_OK)
			return e;
		dst->v[dst->n - 1].score = src->v[i].score;
	}
	return LW_OK;
}

bool
findings_has(const struct findings *fs, const char *rule)
{
	return findings_get(fs, rule) != NULL;
}

const struct finding *
findings_get(const struct findings *fs, const char *rule)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0)
			return &fs->v[i];
	return NULL;
}

bool
findings_has_prefix(const struct findings *fs, const char *prefix)
{
	size_t	i, n = strlen(prefix);

	for (i = 0; i < fs->n; i++)
		if (strncmp(fs->v[i].rule, prefix, n) == 0)
			return true;
	return false;
}

void
findings_free(struct findings *fs)
{
	size_t	i;

	for (i = 0; i < fs->n; i++)
		FREE_ALL(fs->v[i].rule, fs->v[i].part, fs->v[i].detail);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

char *
lw_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
lw_strndup(const char *s, size_t n)
{
	return s != NULL ? strndup(s, n) : NULL;
}

/* Without printf: every zip entry and compound file stream has one. */
char *
lw_path_join(const char *base, const char *name)
{
	size_t	 bl = strlen(base), nl = strlen(name), sep = bl > 0;
	char	*out;

	if ((out = malloc(bl + sep + nl + 1)) == NULL)
		return NULL;
	memcpy(out, base, bl);
	out[bl] = '/';
	memcpy(out + bl + sep, name, nl + 1);
	return out;
}

enum lw_err
lw_asprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = vasprintf(out, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*out = NULL;
		return LW_ENOMEM;
	}
	return LW_OK;
}

void
lw_strlower(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

int
lw_strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool
lw_is_ascii(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

const unsigned char *
lw_memmem_ci(const unsigned char *d, size_t len, const char *needle)
{
	const unsigned char	*nd = (const unsigned char *)needle;
	unsigned char		 skip[256], c;
	size_t			 n = strlen(needle), i, j, s;

	if (n == 0)
		return d;
	if (n > len)
		return NULL;
	/*
	 * How far the window may move when its last byte is c: from the
	 * last place before the end where c (folded) is in the needle.
	 * Shifts are capped at 255, which is only ever shorter, so safe.
	 */
	memset(skip, n > 255 ? 255 : (int)n, sizeof(skip));
	for (j = 0; j + 1 < n; j++) {
		s = n - 1 - j > 255 ? 255 : n - 1 - j;
		skip[nd[j]] = (unsigned char)s;
		if (nd[j] >= 'a' && nd[j] <= 'z')
			skip[nd[j] - 'a' + 'A'] = (unsigned char)s;
	}
	for (i = 0; i <= len - n; i += skip[c]) {
		c = d[i + n - 1];
		if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != nd[n - 1])
			continue;
		for (j = 0; j + 1 < n; j++)
			if ((d[i + j] >= 'A' && d[i + j] <= 'Z' ?
			    d[i + j] | 0x20 : d[i + j]) != nd[j])
				break;
		if (j + 1 == n)
			return d + i;
	}
	return NULL;
}

bool
lw_strcaseeq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

bool
lw_domain_below(const char *d, const char *parent)
{
	size_t	dl = strlen(d), pl = strlen(parent);

	if (pl == 0)
		return false;
	if (dl == pl)
		return lw_strcaseeq(d, parent);
	return dl > pl && d[dl - pl - 1] == '.' &&
	    lw_strcaseeq(d + dl - pl, parent);
}

size_t
lw_utf8_cut(const char *s, size_t len)
{
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

uint64_t
lw_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
lw_cpu_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return lw_now_ms();
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
same_folded(char x, char y)
{
	return tolower((unsigned char)x) == tolower((unsigned char)y);
}

unsigned
lw_osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned	 d[LW_OSA_MAX + 1][LW_OSA_MAX + 1], v;
	size_t		 i, j;

	if (la > LW_OSA_MAX || lb > LW_OSA_MAX)
		return UINT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + !same_folded(a[i - 1], b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && same_folded(a[i - 1], b[j - 2]) &&
			    same_folded(a[i - 2], b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *
lw_suggest(const char *word, const char *const *cands, size_t n,
    size_t stride, bool *case_only)
{
	const char	*best = NULL, *c;
	unsigned	 bd = UINT_MAX, dist, max;
	size_t		 i, len = strlen(word);

	*case_only = false;
	/* A third of the word, at least one edit: "fo" is not "to". */
	max = len / 3 > 1 ? (unsigned)(len / 3) : 1;
	for (i = 0; i < n; i++) {
		c = *(const char *const *)((const char *)cands + i * stride);
		if (c == NULL)
			break;
		if ((dist = lw_osa_distance(word, len, c, strlen(c))) < bd) {
			bd = dist;
			best = c;
		}
	}
	if (best == NULL || bd > max)
		return NULL;
	*case_only = bd == 0;
	return best;
}
