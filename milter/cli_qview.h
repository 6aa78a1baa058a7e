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

/* The list: a table fitted to the terminal, or one JSON line each. */
void	 qview_list(struct quarantine_item **v, size_t n, bool json);

/*
 * One item: mode 'r' the raw message, 'H' its headers, 'f' the
 * findings, 'j' a JSON line, 0 the detail view with findings and MIME
 * tree.  raw may be NULL for 'f' and 'j'.
 */
void	 qview_show(const struct quarantine_item *it,
	    const unsigned char *raw, size_t len, int mode);

#endif /* CLI_QVIEW_H */
