/*
 * 5303-learn-batch: a batch (learn_batch.c) teaches what the same
 * messages teach one at a time.  A busy record (one display name that
 * a hundred messages of a batch write to a hundred addresses) keeps
 * its most recently seen items, as message by message, not the first
 * PLAN_ITEMS_MAX of the batch; a message's own items stay bounded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "mime.h"
#include "state.h"
#include "learn_t.h"
#include "tap.h"

#define NOW	((time_t)1780000000)
#define BUSY	100		/* messages to one name, in one batch */

static struct state *
open_lmdb(const char *dir)
{
	struct state_config	 c;
	struct state		*st;

	state_config_init(&c);
	if ((c.path = strdup(dir)) == NULL || state_open(&c, false, &st) !=
	    LW_OK)
		bail("state_open %s", dir);
	state_config_free(&c);
	return st;
}

static void
send_raw(struct learn *l, const char *raw, time_t now)
{
	struct message	*m = learn_t_msg(raw);

	if (learn_outbound(l, "example", m, NULL, now) != LW_OK)
		bail("learn_outbound");
	mime_free(m);
}

/* Who the display name is: the addresses, sorted, comma-separated. */
static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *
who(struct learn *l, const char *display, time_t now)
{
	static char		 buf[4096];
	struct learn_match	*v;
	char			*s[LEARN_NAME_ADDRS_MAX];
	size_t			 n, i;

	if (learn_names(l, "example", display, now, &v, &n) != LW_OK)
		bail("learn_names");
	for (i = 0; i < n; i++)
		s[i] = v[i].addr;
	qsort(s, n, sizeof(*s), str_cmp);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i > 0 ? "," : "", s[i]);
	learn_matches_free(v, n);
	return buf;
}

/* BUSY messages, each to a new address of the display name "Sales". */
static void
busy(struct learn *l)
{
	char	raw[512];
	int	i;

	for (i = 0; i < BUSY; i++) {
		snprintf(raw, sizeof(raw), "From: boss@ours.example\r\n"
		    "To: Sales Desk <s%03d@d%03d.example>\r\n"
		    "Message-ID: <busy%d@ours.example>\r\nSubject: order %d\r\n"
		    "\r\nb\r\n", i, i, i, i);
		send_raw(l, raw, NOW + i);
	}
}

static void
item_cap(void)
{
	struct state	*one = open_lmdb(tap_tmpdir("5303-one"));
	struct state	*bat = open_lmdb(tap_tmpdir("5303-batch"));
	struct learn	*l1, *lb;
	char		 want[4096], raw[8192];
	const char	*got;
	int		 i;

	if (learn_open(one, NULL, &l1) != LW_OK || learn_open(bat, NULL,
	    &lb) != LW_OK || learn_batch_start(lb, 1000, 3600 * 1000, false) !=
	    LW_OK)
		bail("learn_open");
	busy(l1);
	busy(lb);
	if (learn_flush(lb, NOW + BUSY) != LW_OK)
		bail("learn_flush");
	snprintf(want, sizeof(want), "%s", who(l1, "Sales Desk", NOW + BUSY));
	got = who(lb, "Sales Desk", NOW + BUSY);
	ok(strstr(want, "s099@d099.example") != NULL, "one at a time: the "
	    "name's newest address is kept");
	ok(strstr(got, "s099@d099.example") != NULL, "batched: the name's "
	    "newest address is kept too (%s)", got);
	is_str(want, got, "batched: the name's addresses are those message "
	    "by message");

	/*
	 * One message to more addresses of one name than PLAN_ITEMS_MAX:
	 * bounded per message, the first ones count (the record keeps
	 * LEARN_NAME_ADDRS_MAX of them).
	 */
	snprintf(raw, sizeof(raw), "From: boss@ours.example\r\nTo: ");
	for (i = 0; i < 90; i++)
		snprintf(raw + strlen(raw), sizeof(raw) - strlen(raw),
		    "%sHelp Desk <h%03d@x.example>", i > 0 ? ",\r\n " : "", i);
	snprintf(raw + strlen(raw), sizeof(raw) - strlen(raw), "\r\n"
	    "Message-ID: <wide@ours.example>\r\nSubject: wide\r\n\r\nb\r\n");
	send_raw(l1, raw, NOW + 200);
	send_raw(lb, raw, NOW + 200);
	if (learn_flush(lb, NOW + 200) != LW_OK)
		bail("learn_flush");
	snprintf(want, sizeof(want), "%s", who(l1, "Help Desk", NOW + 200));
	got = who(lb, "Help Desk", NOW + 200);
	ok(strstr(got, "h000@x.example") != NULL &&
	    strstr(got, "h089@x.example") == NULL, "one wide message: its "
	    "first addresses count (%s)", got);
	is_str(want, got, "one wide message: the same batched and not");
	learn_close(l1);
	learn_close(lb);
	state_close(one);
	state_close(bat);
}

int
main(void)
{
	item_cap();
	return done_testing();
}
