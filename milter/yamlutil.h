/*
 * yamlutil.h: a small document tree over libyaml's event parser, for
 * the config and the policies.  Every node keeps its line and column,
 * and the typed getters write errors as "FILE:LINE:COL: key.path:
 * message", so an admin can go straight to the wrong spot.
 *
 * Bounds: input size (caller's maxbytes), nesting depth (YAML_MAX_DEPTH)
 * and node count (YAML_MAX_NODES).  Aliases are refused (they are the
 * "billion laughs" shape and a config does not need them); only one
 * document per file.  Anchors and tags are ignored.
 */
#ifndef YAMLUTIL_H
#define YAMLUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lurewall.h"
#include "util.h"	/* lw_strv_free for y_strlist */

#define YAML_MAX_DEPTH	64
#define YAML_MAX_NODES	1000000

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP
};

struct ynode {
	enum ynode_kind	  kind;
	unsigned long	  line;		/* 1-based */
	unsigned long	  col;		/* 1-based */
	char		 *str;		/* scalar: NUL-terminated text */
	size_t		  len;		/* scalar: bytes (may hold a NUL) */
	bool		  plain;	/* scalar written without quotes */
	struct ynode	**v;		/* seq: items; map: key, value, ... */
	size_t		  n;		/* seq: items; map: pairs */
	size_t		  nv;		/* slots used in v */
	size_t		  cap;		/* slots allocated in v */
};

struct ydoc {
	char		*file;		/* as given, for error messages */
	struct ynode	*root;		/* NULL: empty document */
	size_t		 nnodes;
	unsigned	 nerr;		/* yerr calls so far (see yerr) */
};

/* Map pair i of a YNODE_MAP. */
#define YMAP_KEY(m, i)	((m)->v[2 * (i)])
#define YMAP_VAL(m, i)	((m)->v[2 * (i) + 1])

/*
 * Parse buf (name is used in messages only) or read path (at most
 * maxbytes).  On LW_EINVAL err holds "FILE:LINE:COL: message"; on
 * LW_EIO errno is set and err says what failed.
 */
enum lw_err	 ydoc_parse(const char *name, const void *buf, size_t len,
		    struct ydoc **out, char *err, size_t errlen);
enum lw_err	 ydoc_load(const char *path, size_t maxbytes,
		    struct ydoc **out, char *err, size_t errlen);
void		 ydoc_free(struct ydoc *);

/*
 * Write "FILE:LINE:COL: path: message" (path may be NULL or "") for
 * node n (NULL: line 1, column 1) and return LW_EINVAL.  The errors of
 * one document add up: from the second on, each is appended to err on
 * a line of its own (as far as errlen allows), so a loader that goes on
 * after an LW_EINVAL reports every error of the file at once.
 */
enum lw_err	 yerr(const struct ydoc *, const struct ynode *n,
		    const char *path, char *err, size_t errlen,
		    const char *fmt, ...)
		    __attribute__((format(printf, 6, 7)));

/*
 * A key under its old name: log a warning in yerr's form, naming the
 * new key ("FILE:LINE:COL: limits.max_headers: deprecated, use
 * limits.headers"); the old name keeps working for one release.
 */
void		 ywarn_renamed(const struct ydoc *, const struct ynode *n,
		    const char *old_path, const char *new_path);

/* A plain ~, null, Null, NULL or empty scalar. */
bool		 y_isnull(const struct ynode *);

/*
 * n must be a map whose keys are scalars from keys (NULL-terminated; a
 * NULL keys allows any key), each at most once.  A null node counts as
 * an empty map.  Every unknown key is reported, with the known key it
 * is closest to ("did you mean") and, when a full-width colon or an
 * ideographic space (U+3000) hides in it, where that is.
 */
enum lw_err	 y_map(const struct ydoc *, const struct ynode *n,
		    const char *path, const char *const *keys,
		    char *err, size_t errlen);
/* The value of key in map m (NULL when absent or m is not a map). */
/*
 * An entry of a list that must be a map (null is not) of those keys:
 * shape shows its form in the complaint ("{name, where, ...}").
 */
enum lw_err	 y_entry(const struct ydoc *, const struct ynode *n,
		    const char *path, const char *const *keys,
		    const char *shape, char *err, size_t errlen);
const struct ynode *y_get(const struct ynode *m, const char *key);

/* A scalar as a malloc'd string (no NUL bytes inside). */
enum lw_err	 y_string(const struct ydoc *, const struct ynode *n,
		    const char *path, char **out, char *err, size_t errlen);
/*
 * A string that is one of names (NULL-terminated): its index in *out;
 * else "expected A, B or C".
 */
enum lw_err	 y_choice(const struct ydoc *, const struct ynode *n,
		    const char *path, const char *const *names, int *out,
		    char *err, size_t errlen);
/* true/false (yes/no, on/off), unquoted. */
enum lw_err	 y_bool(const struct ydoc *, const struct ynode *n,
		    const char *path, bool *out, char *err, size_t errlen);
/* A decimal integer in [min, max], unquoted. */
enum lw_err	 y_int(const struct ydoc *, const struct ynode *n,
		    const char *path, long long min, long long max,
		    long long *out, char *err, size_t errlen);
/*
 * A byte size in [min, max]: an integer with an optional suffix k, M
 * or G (also K, m, g; optionally followed by "B" or "iB"), powers of
 * 1024.
 */
enum lw_err	 y_size(const struct ydoc *, const struct ynode *n,
		    const char *path, uint64_t min, uint64_t max,
		    uint64_t *out, char *err, size_t errlen);
/*
 * A sequence of scalars as a malloc'd array of malloc'd strings (free
 * with lw_strv_free).
 */
enum lw_err	 y_strlist(const struct ydoc *, const struct ynode *n,
		    const char *path, char ***out, size_t *nout,
		    char *err, size_t errlen);

/*
 * Files named in a config resolve against the directory of the file
 * that names them.  y_dirname: malloc'd directory part of file ("." if
 * none); y_path_resolve: path itself when absolute, else dir/path.
 */
char		*y_dirname(const char *file);
char		*y_path_resolve(const char *dir, const char *path);

/* Print s as a YAML double-quoted scalar (NULL prints ~). */
void		 y_print_str(FILE *, const char *s);

/*
 * ", did you mean \"X\"?" (with a note when only the case differs) for
 * word among cands (see lw_suggest), or "" when nothing is close; into
 * buf, which is returned.
 */
const char	*y_hint(char *buf, size_t len, const char *word,
		    const char *const *cands, size_t n, size_t stride);

/* Human name of a node's kind ("a string", "a list", "a map"). */
const char	*y_kindname(const struct ynode *);

#endif /* YAMLUTIL_H */
