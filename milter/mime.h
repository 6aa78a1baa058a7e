/*
 * mime.h: raw RFC 5322 message -> tree of decoded MIME parts.
 *
 * Takes the whole message as bytes (headers, blank line, body; CRLF or
 * LF).  Returns a struct message that owns everything it points to.
 * Bounds: limits.mime_depth, limits.mime_parts, limits.max_headers,
 * limits.max_header_bytes; past them the parser records MIME_LIMIT and
 * keeps what it has.  Garbled input (bad base64, missing boundaries,
 * NUL bytes, unknown charsets) is handled the way mail clients do and
 * noted as MIME_MALFORMED; only ENOMEM is an error.
 */
#ifndef MIME_H
#define MIME_H

#include "lurewall.h"

struct header {
	char		*name;		/* as received, e.g. "Subject" */
	char		*value;		/* unfolded (CRLF+WSP -> WSP), raw bytes,
					   leading whitespace removed, not decoded */
};

struct address {
	char		*display;	/* display name decoded to UTF-8, or NULL */
	char		*addr;		/* local@domain as written, or NULL */
	char		*domain;	/* lowercased domain of addr, or NULL */
};

struct message;

struct mime_part {
	char		*path;		/* "1", "2", "2.1": 1-based indices of
					   multipart children; "" for a
					   single-part message body.  The
					   inner message of part "3": its
					   multipart root is "3", children
					   "3.1", "3.2"; a single-part inner
					   body is "3.1" (as IMAP numbers) */
	char		*ctype;		/* lowercased "type/subtype";
					   "text/plain" when missing */
	char		*charset;	/* lowercased, or NULL */
	char		*filename;	/* UTF-8 (RFC 2231 / 2047 / raw
					   8-bit decoded), from Content-
					   Disposition filename or Content-
					   Type name, or NULL */
	char		*disposition;	/* lowercased "attachment"/"inline"/NULL */
	char		*cte;		/* lowercased transfer encoding or NULL */
	struct header	*hdrs;
	size_t		 nhdrs;
	unsigned char	*body;		/* transfer-decoded bytes (NUL-
					   terminated for convenience);
					   NULL for containers (multipart,
					   parsed message/rfc822) */
	size_t		 body_len;
	char		*text;		/* text/plain and text/html parts
					   without a filename: UTF-8 text
					   (HTML reduced to text, entities
					   decoded); else NULL */
	size_t		 text_len;
	char		*vtext;		/* HTML: the text a reader sees
					   (hidden elements dropped) when it
					   differs from text; else NULL */
	size_t		 vtext_len;
	bool		 is_html;
	bool		 is_attachment;	/* a leaf that is not body text:
					   has a filename, is
					   disposition attachment, or is
					   not text/ *; analyzers look at
					   these */
	struct mime_part **child;	/* multipart children */
	size_t		 nchild;
	struct message	*inner;		/* message/rfc822: parsed message */
	unsigned	 depth;
};

struct message {
	struct header	*hdrs;
	size_t		 nhdrs;
	char		*subject;	/* decoded UTF-8 (RFC 2047, raw 8-bit
					   as UTF-8/CP932 guess), or NULL */
	struct address	 from;		/* first From mailbox */
	struct address	 sender;
	struct address	 reply_to;	/* first Reply-To mailbox */
	char		*message_id;	/* raw header values or NULL */
	char		*in_reply_to;
	char		*references;
	struct mime_part *root;
	unsigned	 nparts;	/* parts in this tree, inner included */
	size_t		 header_bytes;	/* length of the header block */
};

/*
 * Parse raw into *out.  Findings (MIME_MALFORMED, MIME_LIMIT) go to fs
 * with the part path they concern.  Returns LW_OK (even for garbage) or
 * LW_ENOMEM.
 */
enum lw_err	 mime_parse(const unsigned char *raw, size_t len,
		    const struct limits *, struct findings *fs,
		    struct message **out);
void		 mime_free(struct message *);

/* First header of that name (case-insensitive), raw value, or NULL. */
const char	*mime_header(const struct message *, const char *name);
const char	*mime_part_header(const struct mime_part *, const char *name);

/*
 * Visit every part in document order, entering message/rfc822 inner
 * messages.  Stops early when cb returns false.
 */
typedef bool	(*mime_visit_fn)(const struct mime_part *, void *arg);
void		 mime_visit(const struct message *, mime_visit_fn, void *arg);

/*
 * Parse an address-list header value (From, Reply-To: RFC 5322 with
 * quoted strings, comments, groups, RFC 2047 display names) into up to
 * max addresses.  Returns how many were filled; caller frees each with
 * address_free().
 */
size_t		 address_parse(const char *value, struct address *out,
		    size_t max);
void		 address_free(struct address *);

#endif /* MIME_H */
