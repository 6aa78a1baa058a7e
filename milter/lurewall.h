/*
 * lurewall.h: what every stage shares: error codes, resource limits and
 * the list of findings that analyzers append to.
 *
 * Errors come in three kinds and are never mixed (see STYLE.md):
 * internal errors (LW_ENOMEM, LW_EIO, ...) mean no trustworthy verdict
 * and the caller applies the config's on_error; limits and malformed
 * input are findings, not failures: a stage records MIME_LIMIT,
 * ARCHIVE_LIMIT, OFFICE_MALFORMED, ... and returns LW_OK.
 */
#ifndef LUREWALL_H
#define LUREWALL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_VERSION	"0.1.0"

enum lw_err {
	LW_OK = 0,
	LW_ENOMEM,		/* allocation failed */
	LW_EIO,			/* read/write/fsync failed; errno is set */
	LW_ELIMIT,		/* a bound was hit (callers turn it into a finding) */
	LW_EMALFORMED,		/* input does not parse */
	LW_EINVAL,		/* bad argument or configuration */
	LW_ENOTFOUND,		/* no such item */
	LW_EEXIST,		/* item exists already */
	LW_ETIMEOUT,		/* scan budget spent */
	LW_EINTERNAL		/* anything else that leaves no verdict */
};

const char	*lw_strerror(enum lw_err);

/*
 * Every bound the engine enforces.  Defaults (limits_default) are
 * documented in lurewall.yaml(5); the config's limits: map overrides
 * them one by one.
 */
struct limits {
	uint64_t	 max_message_bytes;	/* 64 MiB; >= Postfix's 10240000 */
	uint64_t	 memory_body_bytes;	/* milter spills body to a temp file past 4 MiB */
	uint64_t	 max_header_bytes;	/* one header field: 256 KiB */
	unsigned	 max_headers;		/* header fields per message: 2000 */
	unsigned	 mime_depth;		/* multipart/message nesting: 20 */
	unsigned	 mime_parts;		/* parts per message: 1000 */
	unsigned	 archive_depth;		/* zip in zip: 4 */
	unsigned	 archive_entries;	/* entries per archive: 1000 */
	uint64_t	 archive_total_bytes;	/* inflated per message: 256 MiB */
	uint64_t	 archive_entry_bytes;	/* inflated per entry: 64 MiB */
	unsigned	 archive_ratio;		/* inflated/compressed per entry: 200 */
	unsigned	 password_candidates;	/* tried per message: 64 */
	unsigned	 ole_sectors;		/* sectors per compound file: 262144 */
	uint64_t	 office_stream_bytes;	/* one OLE2 stream / OOXML part: 32 MiB */
	unsigned	 vba_modules;		/* modules per VBA project: 512 */
	uint32_t	 pcre2_match_limit;	/* 1000000 */
	uint32_t	 pcre2_depth_limit;	/* 10000 */
	unsigned	 scan_timeout_ms;	/* wall clock per message: 30000 */
};

void	 limits_default(struct limits *);

/*
 * One finding: a named rule (MIME_*, ARCHIVE_*, FILE_*, OFFICE_*, HDR_*,
 * BODY_*, EMOTET_LURE, SCAN_*, or a policy's custom rule), the part it
 * was found in ("2", "2/invoice.zip/doc.xls", "" for the whole message)
 * and a human-readable detail (already escaped: printable UTF-8, no
 * control characters).  The score is filled in by verdict_judge() from
 * the policy; analyzers leave it 0.
 */
struct finding {
	char		*rule;
	char		*part;
	char		*detail;
	int		 score;
};

struct findings {
	struct finding	*v;
	size_t		 n;
	size_t		 cap;
};

/* Append a finding; detail is printf-formatted and sanitized. */
enum lw_err	 findings_add(struct findings *, const char *rule,
		    const char *part, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
enum lw_err	 findings_addv(struct findings *, const char *rule,
		    const char *part, const char *fmt, va_list)
		    __attribute__((format(printf, 4, 0)));
/* Copy every finding of src to the end of dst. */
enum lw_err	 findings_append(struct findings *dst,
		    const struct findings *src);
bool		 findings_has(const struct findings *, const char *rule);
/* The first finding of rule, or NULL. */
const struct finding *findings_get(const struct findings *,
		    const char *rule);
/* True when some finding's rule starts with prefix ("OFFICE_VBA"). */
bool		 findings_has_prefix(const struct findings *,
		    const char *prefix);
void		 findings_free(struct findings *);

/*
 * Make attacker text safe for a detail or a log line: invalid UTF-8 and
 * control characters become '?', output is cut at max bytes (on a
 * character boundary) with "..." appended.  Returns a malloc'd string or
 * NULL on ENOMEM.
 */
char		*lw_sanitize(const char *s, size_t len, size_t max);

/* Small helpers shared by every stage. */
char		*lw_strdup(const char *);		/* NULL-safe */
char		*lw_strndup(const char *, size_t);
/* "base/name", or name when base is empty (malloc'd; NULL on ENOMEM). */
char		*lw_path_join(const char *base, const char *name);
enum lw_err	 lw_asprintf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 lw_strlower(char *);			/* ASCII only */
bool		 lw_strcaseeq(const char *, const char *);	/* ASCII */
/*
 * qsort/bsearch order (strcmp) of items whose first member is a C
 * string: char * arrays, and structs keyed by their first member.
 */
int		 lw_strp_cmp(const void *, const void *);
/* d is parent or a subdomain of it (ASCII case-insensitive). */
bool		 lw_domain_below(const char *d, const char *parent);
bool		 lw_is_ascii(const char *);	/* no byte >= 0x80 */
/*
 * The first place in d[0..len) where needle occurs, each byte of d
 * ASCII-folded to lower case and compared with needle's as they are
 * (write needles in lower case: an upper-case letter never matches);
 * NULL when none.  Linear, and most bytes are skipped (Horspool): the
 * text scanners' keyword searches over whole attachments.
 */
const unsigned char *lw_memmem_ci(const unsigned char *d, size_t len,
		    const char *needle);
/* len cut back so that s[0..len) ends on a UTF-8 character boundary. */
size_t		 lw_utf8_cut(const char *s, size_t len);
/*
 * Optimal string alignment distance of a[0..la) and b[0..lb): inserts,
 * deletes, substitutions and swaps of two neighbours, ASCII case
 * folded.  Longer than LW_OSA_MAX bytes is never close: UINT_MAX.  For
 * "did you mean" hints and look-alike domains.
 */
#define LW_OSA_MAX	63	/* a DNS label */
unsigned	 lw_osa_distance(const char *a, size_t la, const char *b,
		    size_t lb);
/*
 * "Did you mean": the candidate closest to word (edit distance, ASCII
 * case folded), or NULL when none is close.  cands is an array of n
 * entries stride bytes apart, each starting with a const char * (a
 * plain string array: stride sizeof(char *); a NULL entry ends it
 * early).  *case_only: word differs from it only in case.
 */
const char	*lw_suggest(const char *word, const char *const *cands,
		    size_t n, size_t stride, bool *case_only);
/* Monotonic clock in milliseconds. */
uint64_t	 lw_now_ms(void);
/* CPU time of the calling thread: what a key derivation really costs. */
uint64_t	 lw_cpu_ms(void);

#endif /* LUREWALL_H */
