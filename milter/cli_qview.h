/*
 * cli_qview.h: rendering of quarantine items for `lurewall quarantine
 * list` and `show` (cli_qview.c).  Output goes to stdout; on ENOMEM the
 * process exits with CLI_TROUBLE, as the CLI does.
 */
#ifndef CLI_QVIEW_H
#define CLI_QVIEW_H

#include <stdbool.h>
#include <stddef.h>

struct quarantine_item;

/* Sanitized copy for the terminal; "-" for NULL.  Malloc'd. */
char	*qview_safe(const char *);

/*
 * The list: QVIEW_TABLE a table fitted to the terminal (80 columns at
 * least: short id, the host (items from the shared index), date, From
 * name and domain, score, state, rules, subject), QVIEW_WIDE everything
 * on one line an item, QVIEW_JSON one JSON line each.
 */
#define QVIEW_TABLE	0
#define QVIEW_WIDE	1
#define QVIEW_JSON	2
#define QVIEW_SHORT_MIN	6	/* characters of a short id at least */
#define QVIEW_HOST_MAX	10	/* columns of the HOST cell at most */
void	 qview_list(struct quarantine_item **v, size_t n, int mode);

/* The part of an id a short id is a prefix of (its random part). */
const char *qview_short(const char *id);

/*
 * One item: mode 'r' the raw message, 'H' its headers, 'f' the
 * findings, 'j' a JSON line, 0 the detail view with findings and MIME
 * tree.  raw may be NULL for 'f' and 'j'.
 */
void	 qview_show(const struct quarantine_item *it,
	    const unsigned char *raw, size_t len, int mode);

#endif /* CLI_QVIEW_H */
