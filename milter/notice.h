/*
 * notice.h: the mails lurewall itself writes about held messages: a
 * notice to a recipient or the admin when a message is quarantined,
 * and the digest of `lurewall quarantine digest`.  Texts come from
 * admin-editable templates in the config's notice_dir (notice.LANG.txt,
 * digest.LANG.txt; LANG the policy's language), else built-in ones.
 * A template is a "Subject: ..." line, a blank line and the body, with
 * %{name} fields (see lurewall.yaml(5)).
 *
 * A notice never carries the lure's attachments or links: only its
 * date, sender, subject and rules, with the sender and subject
 * sanitized and defanged ("example[.]com", "hxxp[:]//").  Subjects are
 * RFC 2047 encoded when not ASCII; the body goes out as base64 UTF-8.
 * Each one carries "X-Lurewall-Notice: TIME; HMAC" (the quarantine's
 * secret over its Message-ID and TIME), by which lurewall-milter
 * recognises its own notices and passes them unscanned and unheld.
 */
#ifndef NOTICE_H
#define NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lurewall.h"

struct config;

#define NOTICE_HEADER		"X-Lurewall-Notice"
#define NOTICE_MAX_AGE		(7 * 86400)	/* a notice older is rescanned */
#define NOTICE_MAX_ITEMS	500		/* items listed in one digest */

enum notice_kind {
	NOTICE_RCPT = 0,	/* to a recipient: your message was held */
	NOTICE_ADMIN,		/* to the admin: a message was held */
	NOTICE_DIGEST		/* to a recipient: what is held for you */
};

/* One held message as a notice shows it (raw text; notice.c cleans). */
struct notice_item {
	const char	*id;		/* quarantine id */
	time_t		 when;
	const char	*sender;	/* envelope sender, "" null */
	const char	*from;		/* From: address */
	const char	*subject;	/* decoded Subject */
	const char	*rules;		/* "RULE1,RULE2" */
	int		 score;
	const char	*rcpts;		/* "a@x, b@y" */
};

/*
 * Compose one mail (malloc'd, CRLF-free LF text for sendmail -i) of
 * kind in language lang ("en" or "ja") from the config's templates:
 * From: from, To: to, about items[0..n) (one, but for a digest).
 */
enum lw_err	 notice_compose(const struct config *, enum notice_kind,
		    const char *lang, const char *from, const char *to,
		    const struct notice_item *items, size_t n, time_t now,
		    char **out, size_t *outlen);

/*
 * Submit msg to the recipient to through the config's submit_command
 * with the null envelope sender.  detach: return at once (the daemon;
 * the command is bounded in time by a waiter process), else wait and
 * return LW_EIO when it failed.
 */
enum lw_err	 notice_send(const struct config *, const char *to,
		    const char *msg, size_t len, bool detach);

/*
 * True when hdrval, an X-Lurewall-Notice value, was made with this
 * quarantine's secret for message_id and is at most NOTICE_MAX_AGE old.
 */
bool		 notice_verify(const struct config *, const char *hdrval,
		    const char *message_id, time_t now);

/*
 * on_quarantine_command: split on blanks, no shell; in a word %i the
 * quarantine id, %q the MTA queue id, %s the score, %R the rules, %f
 * the envelope sender, %F the From: address, %a the action
 * (discard|reject|hold), %%; a word that is exactly %r becomes one
 * word per recipient.  Run detached, bounded in time.
 */
void		 notice_hook(const char *tmpl, const struct notice_item *,
		    const char *action, const char *qid, char *const *rcpts,
		    size_t nrcpts);

/* "example.com" -> "example[.]com", "http://" -> "hxxp[:]//" (malloc'd). */
char		*notice_defang(const char *s);

#endif /* NOTICE_H */
