/*
 * yamlutil.c: libyaml events -> a tree of ynodes with positions, and
 * typed getters that explain what is wrong and where.
 *
 * Takes a byte buffer (or a file read up to a size bound); returns a
 * tree or an error "FILE:LINE:COL: message".  Bounds nesting depth and
 * node count; refuses aliases and multi-document streams, because a
 * config file has no use for them and they are how hostile YAML blows
 * up memory.  Ignores anchors, tags and comments.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "json.h"
#include "log.h"
#include "util.h"
#include "yamlutil.h"

static void
ynode_free(struct ynode *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nv; i++)
		ynode_free(n->v[i]);
	free(n->v);
	free(n->str);
	free(n);
}

void
ydoc_free(struct ydoc *d)
{
	if (d == NULL)
		return;
	ynode_free(d->root);
	free(d->file);
	free(d);
}

static enum lw_err
ynode_append(struct ynode *parent, struct ynode *child)
{
	struct ynode	**nv;

	if ((nv = lw_grow(parent->v, parent->nv, &parent->cap, 8,
	    sizeof(*nv))) == NULL)
		return LW_ENOMEM;
	parent->v = nv;
	parent->v[parent->nv++] = child;
	return LW_OK;
}

static void
perr(const char *name, const yaml_mark_t *m, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
perr(const char *name, const yaml_mark_t *m, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list	ap;
	int	r;

	r = snprintf(err, errlen, "%s:%zu:%zu: ", name, m->line + 1,
	    m->column + 1);
	if (r < 0 || (size_t)r >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + r, errlen - r, fmt, ap);
	va_end(ap);
}

/* Append "NAME:LINE:COL: message" to err, on its own line after the first. */
static void
addline(const char *name, unsigned *n, unsigned long line,
    unsigned long col, char *err, size_t errlen, const char *msg)
{
	size_t	off = *n > 0 ? strnlen(err, errlen) : 0;

	if (*n > 0) {
		if (errlen - off < 80)
			return;
		err[off++] = '\n';
	}
	snprintf(err + off, errlen - off, "%s:%lu:%lu: %s", name, line, col,
	    msg);
	(*n)++;
}

static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t	n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong three- and four-byte forms, surrogates, > U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/* Every byte pair a Japanese legacy encoding allows, and at least one. */
static const char *
guess_legacy(const unsigned char *p, size_t len)
{
	size_t	i;
	bool	euc = true, sjis = true, c1 = false, multi = false;

	for (i = 0; i < len && euc; i++) {
		if (p[i] < 0x80)
			continue;
		multi = true;
		if (p[i] == 0x8e && i + 1 < len && p[i + 1] >= 0xa1 &&
		    p[i + 1] <= 0xdf)
			i++;
		else if (p[i] >= 0xa1 && p[i] <= 0xfe && i + 1 < len &&
		    p[i + 1] >= 0xa1 && p[i + 1] <= 0xfe)
			i++;
		else
			euc = false;
	}
	for (i = 0; i < len && sjis; i++) {
		if (p[i] < 0x80 || (p[i] >= 0xa1 && p[i] <= 0xdf))
			continue;
		if (((p[i] >= 0x81 && p[i] <= 0x9f) || (p[i] >= 0xe0 &&
		    p[i] <= 0xfc)) && i + 1 < len && p[i + 1] >= 0x40 &&
		    p[i + 1] <= 0xfc && p[i + 1] != 0x7f) {
			c1 = c1 || p[i] <= 0x9f;
			i++;
		} else
			sjis = false;
	}
	if (!multi)
		return NULL;
	/* Shift_JIS kana and most kanji lead with 0x81-0x9f; EUC never. */
	if (euc && !c1)
		return "EUC-JP";
	if (sjis)
		return "Shift_JIS";
	return euc ? "EUC-JP" : NULL;
}

/*
 * libyaml reads UTF-8 (or UTF-16 with a BOM).  A file saved in a
 * legacy Japanese encoding gets a message that says so, at the first
 * byte that is not UTF-8.
 */
static bool
check_utf8(const char *name, const unsigned char *p, size_t len,
    char *err, size_t errlen)
{
	unsigned long	 line = 1, col = 1;
	const char	*enc;
	char		 msg[160];
	size_t		 i, n;
	unsigned	 nerr = 0;

	if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) ||
	    (p[0] == 0xfe && p[1] == 0xff)))
		return true;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_len(p + i, len - i)) == 0) {
			enc = guess_legacy(p, len);
			snprintf(msg, sizeof(msg), "not UTF-8 (%s%s): save the "
			    "file as UTF-8", enc != NULL ? "looks like " :
			    "byte ", enc != NULL ? enc : "");
			if (enc == NULL)
				snprintf(msg, sizeof(msg), "not UTF-8 (byte "
				    "0x%02x): save the file as UTF-8", p[i]);
			addline(name, &nerr, line, col, err, errlen, msg);
			return false;
		}
		if (p[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	return true;
}

/*
 * After a syntax error: full-width characters typed with a Japanese
 * input method where YAML wants ASCII, which libyaml reports lines
 * later or as something else.  Each line is looked at on its own
 * (quotes and comments skipped): U+3000 in the indentation or right
 * after a colon, U+FF1A right after a key.  Returns how many it found.
 */
static unsigned
explain_fullwidth(const char *name, const unsigned char *p, size_t len,
    char *err, size_t errlen)
{
	unsigned long	 line = 1, col;
	size_t		 i, n, keylen;
	unsigned	 nerr = 0;
	bool		 indent, sq, dq, colon, keyok;
	char		 msg[200];

	for (i = 0; i < len; line++) {
		indent = keyok = true;
		sq = dq = colon = false;
		keylen = 0;
		for (col = 1; i < len && p[i] != '\n'; i += n, col++) {
			n = utf8_len(p + i, len - i);
			if (n == 0)
				n = 1;
			if (sq || dq) {
				if ((sq && p[i] == '\'') || (dq && p[i] == '"'))
					sq = dq = false;
				else if (dq && p[i] == '\\' && i + 1 < len)
					n = 2;
				continue;
			}
			if (n == 3 && p[i] == 0xe3 && p[i + 1] == 0x80 &&
			    p[i + 2] == 0x80) {
				if (indent || (i > 0 && p[i - 1] == ':'))
					addline(name, &nerr, line, col, err,
					    errlen, indent ? "an ideographic "
					    "space (U+3000) in the indentation:"
					    " YAML indents with ASCII spaces" :
					    "an ideographic space (U+3000) "
					    "after ':': YAML needs an ASCII "
					    "space there");
				continue;
			}
			if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbc &&
			    p[i + 2] == 0x9a && !colon && keyok &&
			    keylen > 0) {
				snprintf(msg, sizeof(msg), "a full-width colon "
				    "\"\xef\xbc\x9a\" (U+FF1A) after the key "
				    "\"%.*s\": YAML needs an ASCII ':'",
				    (int)(keylen > 64 ? 64 : keylen),
				    (const char *)p + i - keylen);
				addline(name, &nerr, line, col, err, errlen,
				    msg);
				keyok = false;
				continue;
			}
			if (p[i] == '#' && (indent || p[i - 1] == ' ' ||
			    p[i - 1] == '\t')) {
				while (i < len && p[i] != '\n')
					i++;
				break;
			}
			if (indent && (p[i] == ' ' || p[i] == '\t' ||
			    (p[i] == '-' && i + 1 < len && p[i + 1] == ' ')))
				continue;
			indent = false;
			if (p[i] == '\'')
				sq = true;
			else if (p[i] == '"')
				dq = true;
			else if (p[i] == ':')
				colon = true;
			if (p[i] < 0x80 && (isalnum(p[i]) || p[i] == '_' ||
			    p[i] == '.' || p[i] == '-'))
				keylen++;
			else
				keyok = false;
		}
		if (i < len)
			i++;
	}
	return nerr;
}

enum lw_err
ydoc_parse(const char *name, const void *buf, size_t len,
    struct ydoc **out, char *err, size_t errlen)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	struct ydoc	*d;
	struct ynode	*stack[YAML_MAX_DEPTH], *n;
	size_t		 depth = 0;
	int		 ndocs = 0, done = 0;
	enum lw_err	 e = LW_OK;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return LW_ENOMEM;
	if ((d->file = strdup(name)) == NULL) {
		free(d);
		return LW_ENOMEM;
	}
	if (!check_utf8(name, buf, len, err, errlen)) {
		ydoc_free(d);
		return LW_EINVAL;
	}
	if (!yaml_parser_initialize(&p)) {
		ydoc_free(d);
		return LW_ENOMEM;
	}
	yaml_parser_set_input_string(&p, buf, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				e = LW_ENOMEM;
				goto out_parser;
			}
			if (explain_fullwidth(name, buf, len, err,
			    errlen) > 0)
				;	/* what the admin typed, not libyaml */
			else if (p.context != NULL)
				perr(name, &p.problem_mark, err, errlen,
				    "%s %s", p.problem ? p.problem :
				    "syntax error", p.context);
			else
				perr(name, &p.problem_mark, err, errlen, "%s",
				    p.problem ? p.problem : "syntax error");
			e = LW_EINVAL;
			goto out_parser;
		}
		n = NULL;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
		case YAML_NO_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				perr(name, &ev.start_mark, err, errlen,
				    "only one YAML document per file");
				e = LW_EINVAL;
			}
			break;
		case YAML_ALIAS_EVENT:
			perr(name, &ev.start_mark, err, errlen,
			    "aliases (*name) are not supported");
			e = LW_EINVAL;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (d->nnodes >= YAML_MAX_NODES) {
				perr(name, &ev.start_mark, err, errlen,
				    "more than %d nodes", YAML_MAX_NODES);
				e = LW_EINVAL;
				break;
			}
			if ((n = calloc(1, sizeof(*n))) == NULL) {
				e = LW_ENOMEM;
				break;
			}
			d->nnodes++;
			n->line = ev.start_mark.line + 1;
			n->col = ev.start_mark.column + 1;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->kind = YNODE_SCALAR;
				n->len = ev.data.scalar.length;
				n->plain = ev.data.scalar.style ==
				    YAML_PLAIN_SCALAR_STYLE;
				if ((n->str = malloc(n->len + 1)) == NULL) {
					free(n);
					e = LW_ENOMEM;
					break;
				}
				memcpy(n->str, ev.data.scalar.value, n->len);
				n->str[n->len] = '\0';
			} else
				n->kind = ev.type == YAML_MAPPING_START_EVENT ?
				    YNODE_MAP : YNODE_SEQ;
			if (depth == 0) {
				ynode_free(d->root);	/* cannot happen */
				d->root = n;
			} else if ((e = ynode_append(stack[depth - 1], n)) !=
			    LW_OK) {
				ynode_free(n);
				break;
			}
			if (n->kind == YNODE_SCALAR)
				break;
			if (depth == YAML_MAX_DEPTH) {
				perr(name, &ev.start_mark, err, errlen,
				    "nested deeper than %d", YAML_MAX_DEPTH);
				e = LW_EINVAL;
				break;
			}
			stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth == 0)		/* libyaml guarantees it */
				break;
			n = stack[--depth];
			n->n = n->kind == YNODE_MAP ? n->nv / 2 : n->nv;
			break;
		}
		yaml_event_delete(&ev);
		if (e != LW_OK)
			goto out_parser;
	}
	yaml_parser_delete(&p);
	*out = d;
	return LW_OK;

 out_parser:
	yaml_parser_delete(&p);
	ydoc_free(d);
	return e;
}

enum lw_err
ydoc_load(const char *path, size_t maxbytes, struct ydoc **out,
    char *err, size_t errlen)
{
	char		*buf;
	size_t		 len;
	enum lw_err	 e;

	e = lw_read_file(AT_FDCWD, path, false, maxbytes, &buf, &len);
	switch (e) {
	case LW_OK:
		break;
	case LW_EMALFORMED:
		snprintf(err, errlen, "%s: not a regular file", path);
		return LW_EINVAL;
	case LW_ELIMIT:
		snprintf(err, errlen, "%s: larger than %zu bytes", path,
		    maxbytes);
		return LW_EINVAL;
	case LW_ENOTFOUND:
	case LW_EIO:
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return LW_EIO;
	default:
		return e;
	}
	e = ydoc_parse(path, buf, len, out, err, errlen);
	free(buf);
	return e;
}

enum lw_err
yerr(const struct ydoc *d, const struct ynode *n, const char *path,
    char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;
	size_t	off = 0;
	int	r;

	/* The count is bookkeeping, not the document: const stays true. */
	if (((struct ydoc *)(uintptr_t)d)->nerr++ > 0) {
		off = strnlen(err, errlen);
		if (errlen - off < 80)		/* no room for a useful line */
			return LW_EINVAL;
		err[off++] = '\n';
	}
	r = snprintf(err + off, errlen - off, "%s:%lu:%lu: %s%s", d->file,
	    n != NULL ? n->line : 1, n != NULL ? n->col : 1,
	    path != NULL ? path : "", path != NULL && *path ? ": " : "");
	if (r < 0 || (size_t)r >= errlen - off)
		return LW_EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + off + r, errlen - off - r, fmt, ap);
	va_end(ap);
	return LW_EINVAL;
}

void
ywarn_renamed(const struct ydoc *d, const struct ynode *n,
    const char *old_path, const char *new_path)
{
	log_warnx("%s:%lu:%lu: %s: deprecated, use %s (the old name is "
	    "read for one more release)", d->file, n != NULL ? n->line : 1,
	    n != NULL ? n->col : 1, old_path, new_path);
}

const char *
y_hint(char *buf, size_t len, const char *word, const char *const *cands,
    size_t n, size_t stride)
{
	const char	*s;
	bool		 case_only;

	buf[0] = '\0';
	if ((s = lw_suggest(word, cands, n, stride, &case_only)) != NULL)
		snprintf(buf, len, ", did you mean \"%s\"?%s", s, case_only ?
		    " (names are case-sensitive)" : "");
	return buf;
}

/* Column (in characters) of the first U+FF1A or U+3000 in s, or 0. */
static size_t
fullwidth_at(const char *s, const char **what)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 col = 1;

	for (; *p != '\0'; p++) {
		if (p[0] == 0xef && p[1] == 0xbc && p[2] == 0x9a) {
			*what = "a full-width colon \"\xef\xbc\x9a\" (U+FF1A): "
			    "YAML needs an ASCII ':' after a key";
			return col;
		}
		if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) {
			*what = col == 1 ? "an ideographic space (U+3000) in "
			    "the indentation: YAML indents with ASCII spaces" :
			    "an ideographic space (U+3000): YAML needs ASCII "
			    "spaces";
			return col;
		}
		if ((*p & 0xc0) != 0x80)
			col++;
	}
	return 0;
}

bool
y_isnull(const struct ynode *n)
{
	if (n == NULL || n->kind != YNODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

const char *
y_kindname(const struct ynode *n)
{
	if (n == NULL || y_isnull(n))
		return "null";
	switch (n->kind) {
	case YNODE_SCALAR:
		return n->plain ? "a scalar" : "a quoted string";
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a map";
	}
	return "?";
}

static int
keycmp(const void *a, const void *b)
{
	const struct ynode *const *x = a, *const *y = b;

	return strcmp((*x)->str, (*y)->str);
}

enum lw_err
y_map(const struct ydoc *d, const struct ynode *n, const char *path,
    const char *const *keys, char *err, size_t errlen)
{
	const struct ynode	**sorted, *k;
	struct ynode		  fw;
	const char		 *what;
	char			  want[512], hint[128];
	size_t			  i, j, off, col;
	enum lw_err		  e = LW_OK;

	if (n == NULL || y_isnull(n))
		return LW_OK;
	if (n->kind != YNODE_MAP)
		return yerr(d, n, path, err, errlen, "expected a map, got %s",
		    y_kindname(n));
	for (i = 0; i < n->n; i++) {
		k = YMAP_KEY(n, i);
		if (k->kind != YNODE_SCALAR || y_isnull(k))
			return yerr(d, k, path, err, errlen,
			    "map keys must be strings, got %s",
			    y_kindname(k));
		if (keys == NULL)
			continue;
		for (j = 0; keys[j] != NULL; j++)
			if (strcmp(keys[j], k->str) == 0)
				break;
		if (keys[j] != NULL)
			continue;
		if ((col = fullwidth_at(k->str, &what)) != 0) {
			/* The column where it really is, not the key's. */
			fw = *k;
			fw.col = k->col + col - 1;
			e = yerr(d, &fw, path, err, errlen, "%s", what);
			continue;
		}
		/* The closest key, else the list to choose from. */
		off = 0;
		want[0] = '\0';
		for (j = 0; keys[j] != NULL && off < sizeof(want); j++)
			off += snprintf(want + off, sizeof(want) - off,
			    "%s%s", j ? ", " : "", keys[j]);
		if (*y_hint(hint, sizeof(hint), k->str, keys, SIZE_MAX,
		    sizeof(*keys)) != '\0')
			e = yerr(d, k, path, err, errlen,
			    "unknown key \"%.64s\"%s", k->str, hint);
		else
			e = yerr(d, k, path, err, errlen,
			    "unknown key \"%.64s\" (known: %s)", k->str,
			    want);
	}
	if (e != LW_OK)
		return e;
	/* Sort a copy so that even a huge scores: map is checked fast. */
	if (n->n < 2)
		return LW_OK;
	if ((sorted = reallocarray(NULL, n->n, sizeof(*sorted))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < n->n; i++)
		sorted[i] = YMAP_KEY(n, i);
	qsort(sorted, n->n, sizeof(*sorted), keycmp);
	for (i = 1; i < n->n; i++)
		if (strcmp(sorted[i - 1]->str, sorted[i]->str) == 0) {
			k = sorted[i]->line > sorted[i - 1]->line ||
			    (sorted[i]->line == sorted[i - 1]->line &&
			    sorted[i]->col > sorted[i - 1]->col) ?
			    sorted[i] : sorted[i - 1];
			e = yerr(d, k, path, err, errlen,
			    "key \"%.64s\" given twice", k->str);
			break;
		}
	free(sorted);
	return e;
}

const struct ynode *
y_get(const struct ynode *m, const char *key)
{
	size_t	i;

	if (m == NULL || m->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < m->n; i++)
		if (YMAP_KEY(m, i)->kind == YNODE_SCALAR &&
		    strcmp(YMAP_KEY(m, i)->str, key) == 0)
			return YMAP_VAL(m, i);
	return NULL;
}

enum lw_err
y_string(const struct ydoc *d, const struct ynode *n, const char *path,
    char **out, char *err, size_t errlen)
{
	if (n == NULL || n->kind != YNODE_SCALAR || y_isnull(n))
		return yerr(d, n, path, err, errlen,
		    "expected a string, got %s", y_kindname(n));
	if (memchr(n->str, '\0', n->len) != NULL)
		return yerr(d, n, path, err, errlen,
		    "NUL bytes are not allowed");
	if ((*out = strdup(n->str)) == NULL)
		return LW_ENOMEM;
	return LW_OK;
}

/* Quote a scalar for a message: sanitized and short. */
static const char *
shown(const struct ynode *n, char *buf, size_t len)
{
	char	*s;

	if ((s = lw_sanitize(n->str, n->len, 40)) == NULL)
		return "";
	snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}

enum lw_err
y_entry(const struct ydoc *d, const struct ynode *n, const char *path,
    const char *const *keys, const char *shape, char *err, size_t errlen)
{
	if (n->kind != YNODE_MAP)
		return yerr(d, n, path, err, errlen,
		    "expected a map %s, got %s", shape, y_kindname(n));
	return y_map(d, n, path, keys, err, errlen);
}

enum lw_err
y_choice(const struct ydoc *d, const struct ynode *n, const char *path,
    const char *const *names, int *out, char *err, size_t errlen)
{
	char		*s, want[256];
	size_t		 i, off = 0;
	enum lw_err	 e;

	if ((e = y_string(d, n, path, &s, err, errlen)) != LW_OK)
		return e;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			break;
	free(s);
	if (names[i] != NULL) {
		*out = (int)i;
		return LW_OK;
	}
	want[0] = '\0';
	for (i = 0; names[i] != NULL && off < sizeof(want); i++)
		off += snprintf(want + off, sizeof(want) - off, "%s%s",
		    i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ",
		    names[i]);
	return yerr(d, n, path, err, errlen, "expected %s", want);
}

enum lw_err
y_bool(const struct ydoc *d, const struct ynode *n, const char *path,
    bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	char	b[64];
	size_t	i;

	if (n != NULL && n->kind == YNODE_SCALAR && n->plain)
		for (i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(n->str, yes[i]) == 0) {
				*out = true;
				return LW_OK;
			}
			if (strcasecmp(n->str, no[i]) == 0) {
				*out = false;
				return LW_OK;
			}
		}
	if (n != NULL && n->kind == YNODE_SCALAR && !y_isnull(n))
		return yerr(d, n, path, err, errlen,
		    "expected true or false, got \"%s\"",
		    shown(n, b, sizeof(b)));
	return yerr(d, n, path, err, errlen,
	    "expected true or false, got %s", y_kindname(n));
}

enum lw_err
y_int(const struct ydoc *d, const struct ynode *n, const char *path,
    long long min, long long max, long long *out, char *err, size_t errlen)
{
	char		 b[64], *end;
	long long	 v;

	if (n == NULL || n->kind != YNODE_SCALAR || y_isnull(n) ||
	    !n->plain)
		return yerr(d, n, path, err, errlen,
		    "expected an integer, got %s", y_kindname(n));
	errno = 0;
	v = strtoll(n->str, &end, 10);
	if (n->len == 0 || *end != '\0' || end != n->str + n->len ||
	    n->str[0] == ' ' || errno == ERANGE)
		return yerr(d, n, path, err, errlen,
		    "expected an integer, got \"%s\"", shown(n, b, sizeof(b)));
	if (v < min || v > max)
		return yerr(d, n, path, err, errlen,
		    "%lld is out of range (%lld to %lld)", v, min, max);
	*out = v;
	return LW_OK;
}

enum lw_err
y_size(const struct ydoc *d, const struct ynode *n, const char *path,
    uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	const char	*p;
	char		 b[64];
	uint64_t	 v = 0;
	unsigned	 shift = 0, dig;

	if (n == NULL || n->kind != YNODE_SCALAR || y_isnull(n) ||
	    !n->plain)
		return yerr(d, n, path, err, errlen,
		    "expected a size (like 64M), got %s", y_kindname(n));
	p = n->str;
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		dig = *p - '0';
		if (v > (UINT64_MAX - dig) / 10)
			goto range;
		v = v * 10 + dig;
	}
	switch (*p) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	}
	if (shift != 0) {
		p++;
		if (strcmp(p, "iB") == 0)
			p += 2;
		else if (strcmp(p, "B") == 0)
			p++;
	}
	if (*p != '\0' || p != n->str + n->len)
		goto bad;
	if (v > (UINT64_MAX >> shift))
		goto range;
	v <<= shift;
	if (v < min || v > max)
		goto range;
	*out = v;
	return LW_OK;

 bad:
	return yerr(d, n, path, err, errlen,
	    "expected a size (an integer, optionally with k, M or G), "
	    "got \"%s\"", shown(n, b, sizeof(b)));
 range:
	return yerr(d, n, path, err, errlen,
	    "\"%s\" is out of range (%" PRIu64 " to %" PRIu64 " bytes)",
	    shown(n, b, sizeof(b)), min, max);
}

enum lw_err
y_strlist(const struct ydoc *d, const struct ynode *n, const char *path,
    char ***out, size_t *nout, char *err, size_t errlen)
{
	char		**v;
	char		  p[256];
	size_t		  i;
	enum lw_err	  e;

	*out = NULL;
	*nout = 0;
	if (n == NULL || y_isnull(n))
		return LW_OK;
	if (n->kind != YNODE_SEQ)
		return yerr(d, n, path, err, errlen,
		    "expected a list, got %s", y_kindname(n));
	if (n->n == 0)
		return LW_OK;
	if ((v = calloc(n->n, sizeof(*v))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < n->n; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((e = y_string(d, n->v[i], p, &v[i], err, errlen)) !=
		    LW_OK) {
			lw_strv_free(v, i);
			return e;
		}
	}
	*out = v;
	*nout = n->n;
	return LW_OK;
}

char *
y_dirname(const char *file)
{
	const char	*slash;

	if ((slash = strrchr(file, '/')) == NULL)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, slash - file);
}

char *
y_path_resolve(const char *dir, const char *path)
{
	char	*out;

	if (path[0] == '/' || dir == NULL)
		return strdup(path);
	if (asprintf(&out, "%s/%s", dir, path) == -1)
		return NULL;
	return out;
}

void
y_print_str(FILE *f, const char *s)
{
	/* A JSON string is a YAML double-quoted scalar. */
	if (s == NULL)
		fputs("~", f);
	else
		json_quote(f, s);
}
