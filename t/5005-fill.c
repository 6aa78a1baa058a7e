/*
 * 5005-fill: puts three known items into a quarantine store through the
 * store API, for the CLI shell tests (t/501x-*.sh), which must not
 * depend on the scanner.  With LW_QDIR set it fills that directory and
 * prints "NAME ID" per item (recent, mid, old); without it, it is a TAP
 * test of itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"
#include "qfill.h"

static const char recent_msg[] =
    "Return-Path: <billing@partner.example>\r\n"
    "From: Partner Billing <billing@partner.example>\r\n"
    "To: alice@example.com, bob@example.com\r\n"
    "Subject: =?UTF-8?B?6KuL5rGC5pu444Gu44GU6YCB5LuY?=\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <inv-4711@partner.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "\r\n"
    "Please open the attached invoice.\r\n";

static const char mid_msg[] =
    "From: hr@evil.example\n"
    "To: carol@example.org\n"
    "Subject: \x1b[31mred\x1b[0m salary\n"
    "\n"
    "No Message-ID, no Date, LF line ends.\n";

static const char old_msg[] =
    "From: old@old.example\n"
    "To: alice@example.com\n"
    "Subject: old one\n"
    "Message-ID: <old@old.example>\n"
    "Date: Mon, 1 Jan 2001 00:00:00 +0000\n"
    "\n"
    "old\n";

/* Store the three items; names and ids go to out (when not NULL). */
static int
fill(struct quarantine *q, FILE *out)
{
	struct qfill	f;
	char		id[QUARANTINE_ID_MAX];
	time_t		now = time(NULL);
	int		bad = 0;

	qfill_init(&f, "4Rq1X2", "billing@partner.example",
	    "alice@example.com", "bob@example.com",
	    "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8\xe3\x81\xae\xe3\x81\x94"
	    "\xe9\x80\x81\xe4\xbb\x98 \xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8"
	    "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8\xe8\xab\x8b\xe6\xb1\x82"
	    "\xe6\x9b\xb8\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8\xe8\xab\x8b"
	    "\xe6\xb1\x82\xe6\x9b\xb8\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8"
	    "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8 END",
	    17, "OFFICE_VBA_AUTOEXEC", "ARCHIVE_ENCRYPTED");
	f.msg.from.display = (char *)"Partner Billing";
	if (quarantine_store_at(q, (const unsigned char *)recent_msg,
	    sizeof(recent_msg) - 1, &f.env, &f.res, now - 3600, id) != LW_OK)
		bad++;
	else if (out != NULL)
		fprintf(out, "recent %s\n", id);
	qfill_free(&f);

	qfill_init(&f, "5Sr2Y3", "hr@evil.example", "carol@example.org", NULL,
	    "\x1b[31mred\x1b[0m salary\nX-Injected: yes", 12, "EMOTET_LURE",
	    NULL);
	f.msg.from.display = NULL;
	if (quarantine_store_at(q, (const unsigned char *)mid_msg,
	    sizeof(mid_msg) - 1, &f.env, &f.res, now - 3 * 86400, id) != LW_OK)
		bad++;
	else if (out != NULL)
		fprintf(out, "mid %s\n", id);
	qfill_free(&f);

	qfill_init(&f, "6Ts3Z4", "old@old.example", "alice@example.com", NULL,
	    "old one", 10, "FILE_EXECUTABLE", NULL);
	if (quarantine_store_at(q, (const unsigned char *)old_msg,
	    sizeof(old_msg) - 1, &f.env, &f.res, now - 40 * 86400, id) != LW_OK)
		bad++;
	else if (out != NULL)
		fprintf(out, "old %s\n", id);
	qfill_free(&f);
	return bad;
}

int
main(void)
{
	struct quarantine	 *q;
	struct quarantine_item	**v;
	const char		 *qdir = getenv("LW_QDIR");
	char			  path[1024];
	size_t			  n;

	if (qdir != NULL) {
		if (quarantine_open(qdir, &q) != LW_OK) {
			fprintf(stderr, "5005-fill: cannot open %s\n", qdir);
			return 2;
		}
		if (fill(q, stdout) != 0)
			return 2;
		quarantine_close(q);
		return 0;
	}
	plan(0);
	snprintf(path, sizeof(path), "%s/q", tap_tmpdir("5005-fill"));
	is_int(LW_OK, quarantine_open(path, &q), "open");
	is_int(0, fill(q, NULL), "fill stores three items");
	is_int(LW_OK, quarantine_list(q, &v, &n), "list");
	is_int(3, (long long)n, "three items listed");
	if (n == 3) {
		is_str("4Rq1X2", v[0]->qid, "recent first");
		is_str("6Ts3Z4", v[2]->qid, "old last");
	}
	quarantine_items_free(v, n);
	quarantine_close(q);
	return done_testing();
}
