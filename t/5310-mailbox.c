/*
 * 5310-mailbox: the reader behind `lurewall learn import`: an mbox
 * split at From_ lines (mboxrd and mboxo quoting, CRLF, the separator's
 * blank line dropped, unquoted "From " body lines kept), a Maildir in
 * delivery order, a directory of .eml files and an mbox among them,
 * entries that are no mail (named skips), and every bound: bytes per
 * message, messages, the deadline.  Inputs are written here.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailbox.h"
#include "tap.h"

static const char *dir;

static void
put(const char *name, const char *text)
{
	char	 path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(text, 1, strlen(text), f) != strlen(text) ||
	    fclose(f) != 0)
		bail("write %s: %s", path, strerror(errno));
}

static void
sub(const char *name)
{
	char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0700) == -1)
		bail("mkdir %s: %s", path, strerror(errno));
}

static const char *
at(const char *name)
{
	static char	path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static struct mailbox *
must_open(const char *name, const struct mailbox_limits *lim)
{
	struct mailbox	*mb;
	enum lw_err	 e;

	if ((e = mailbox_open(at(name), lim, &mb)) != LW_OK)
		bail("open %s: %s", name, lw_strerror(e));
	return mb;
}

/*
 * Every entry of the mailbox, one line each ("msg:<bytes>" with the
 * text, "skip:<reason>"), and the end code.
 */
static char *
drain(struct mailbox *mb, enum lw_err *end, size_t *n)
{
	struct mailbox_msg	 m;
	static char		 out[300000];
	size_t			 o = 0;

	*n = 0;
	out[0] = '\0';
	while ((*end = mailbox_next(mb, &m)) == LW_OK) {
		(*n)++;
		if (m.skip != MAILBOX_SKIP_NONE)
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "[skip:%s]", mailbox_skip_name(m.skip));
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "[%s%.*s]", m.truncated ? "cut:" : "",
			    (int)m.len, (const char *)m.data);
		if (o >= sizeof(out))
			bail("drain: too much");
	}
	return out;
}

static void
mbox_cases(void)
{
	struct mailbox_limits	 lim;
	struct mailbox		*mb;
	enum lw_err		 e;
	size_t			 n;
	const char		*s;
	uint64_t		 done, total;

	mailbox_limits_default(&lim);
	put("rd.mbox",
	    "From a@corp.example Mon Dec  1 09:00:00 2026\n"
	    "Subject: one\n\nbody\n>From quoted\n>>From twice\n"
	    ">not from\nFrom unquoted, no blank line 10:00\n"
	    "\nFrom no time on this line\n\n\n"
	    "From a@corp.example Mon Dec  1 09:05:00 2026\n"
	    "Subject: two\n\nend\n\n");
	mb = must_open("rd.mbox", &lim);
	is_str("mbox", mailbox_kind_name(mailbox_kind(mb)), "mbox: kind");
	s = drain(mb, &e, &n);
	is_str("[Subject: one\n\nbody\nFrom quoted\n>From twice\n"
	    ">not from\nFrom unquoted, no blank line 10:00\n"
	    "\nFrom no time on this line\n\n]"
	    "[Subject: two\n\nend\n]", s,
	    "mbox: split at From_ lines, one '>' unquoted, the "
	    "separator's blank line dropped, body From lines kept");
	is_int(LW_ENOTFOUND, e, "mbox: ends with LW_ENOTFOUND");
	mailbox_progress(mb, &done, &total);
	ok(done == total && total > 0, "mbox: progress at the end is "
	    "the whole file (%llu/%llu)", (unsigned long long)done,
	    (unsigned long long)total);
	mailbox_close(mb);

	put("crlf.mbox",
	    "From - Tue Jan 01 00:00:00 2019\r\nSubject: a\r\n\r\nx\r\n"
	    "\r\nFrom - Tue Jan 01 00:01:00 2019\r\nSubject: b\r\n\r\ny\r\n");
	mb = must_open("crlf.mbox", &lim);
	s = drain(mb, &e, &n);
	is_str("[Subject: a\r\n\r\nx\r\n][Subject: b\r\n\r\ny\r\n]", s,
	    "mbox with CRLF (Thunderbird's From - lines)");
	mailbox_close(mb);

	lim.message_bytes = 16;
	mb = must_open("crlf.mbox", &lim);
	s = drain(mb, &e, &n);
	is_str("[cut:Subject: a\r\n\r\nx\r][cut:Subject: b\r\n\r\ny\r]", s,
	    "message_bytes: each message cut, marked, the next one found");
	mailbox_close(mb);

	mailbox_limits_default(&lim);
	lim.messages = 1;
	mb = must_open("crlf.mbox", &lim);
	s = drain(mb, &e, &n);
	is_int(1, (long long)n, "messages 1: one message");
	is_int(LW_ELIMIT, e, "messages 1: then LW_ELIMIT");
	mailbox_close(mb);
	lim.messages = 2;
	mb = must_open("crlf.mbox", &lim);
	(void)drain(mb, &e, &n);
	is_int(LW_ENOTFOUND, e, "messages 2 of 2: the end, not the limit");
	mailbox_close(mb);

	mailbox_limits_default(&lim);
	lim.deadline_ms = 1;	/* long past */
	is_int(LW_ETIMEOUT, mailbox_open(at("crlf.mbox"), &lim, &mb),
	    "a deadline in the past: opening an mbox reads nothing");
}

static void
file_cases(void)
{
	struct mailbox_limits	 lim;
	struct mailbox		*mb;
	enum lw_err		 e;
	size_t			 n;
	char			*big;
	const char		*s;

	mailbox_limits_default(&lim);
	put("one.eml", "Return-Path: <a@b>\nSubject: x\n\nFrom here on\n");
	mb = must_open("one.eml", &lim);
	is_str("message", mailbox_kind_name(mailbox_kind(mb)), "eml: kind");
	s = drain(mb, &e, &n);
	is_str("[Return-Path: <a@b>\nSubject: x\n\nFrom here on\n]", s,
	    "eml: the whole file, as it is");
	mailbox_close(mb);

	put("junk.txt", "this is no mail\n");
	is_int(LW_EMALFORMED, mailbox_open(at("junk.txt"), &lim, &mb),
	    "a file that is neither mbox nor message: LW_EMALFORMED");
	put("empty.mbox", "");
	mb = must_open("empty.mbox", &lim);
	(void)drain(mb, &e, &n);
	ok(n == 0 && e == LW_ENOTFOUND, "an empty file: an empty mbox");
	mailbox_close(mb);
	is_int(LW_ENOTFOUND, mailbox_open(at("nonesuch"), &lim, &mb),
	    "no such path: LW_ENOTFOUND");
	is_int(LW_EINVAL, mailbox_open("/dev/null", &lim, &mb),
	    "a device: LW_EINVAL");

	/* A 200 KiB header line: read in pieces, kept whole. */
	if ((big = malloc(300000)) == NULL)
		bail("malloc");
	memcpy(big, "From x@y Mon Dec  1 09:00:00 2026\nX-Long: ", 42);
	memset(big + 42, 'a', 200000);
	memcpy(big + 200042, "\n\n>From b\n", 11);
	put("long.mbox", big);
	mb = must_open("long.mbox", &lim);
	s = drain(mb, &e, &n);
	ok(n == 1 && strlen(s) == 2 + 8 + 200000 + 2 + 7 &&
	    strcmp(s + strlen(s) - 11, "a\n\nFrom b\n]") == 0,
	    "a line longer than the read buffer is kept whole");
	mailbox_close(mb);
	free(big);
	if (mailbox_open_mem("\x01\x02", 2, "mem", &lim, &mb) != LW_OK)
		bail("open mem");
	s = drain(mb, &e, &n);
	is_str("[skip:not_mail]", s, "memory garbage: one not_mail skip");
	mailbox_close(mb);
}

static void
dir_cases(void)
{
	struct mailbox_limits	 lim;
	struct mailbox		*mb;
	enum lw_err		 e;
	size_t			 n;
	const char		*s;
	char			 link[1024];
	int			 i;

	mailbox_limits_default(&lim);
	sub("Maildir");
	sub("Maildir/cur");
	sub("Maildir/new");
	sub("Maildir/tmp");
	put("Maildir/cur/1700000002.M1.host:2,S", "Subject: second\n\n");
	put("Maildir/new/1700000001.M1.host", "Subject: first\n\n");
	put("Maildir/new/1700000003.M1.host", "Subject: third\n\n");
	put("Maildir/tmp/1700000000.M1.host", "Subject: in tmp\n\n");
	put("Maildir/cur/.hidden", "Subject: hidden\n\n");
	mb = must_open("Maildir", &lim);
	is_str("Maildir", mailbox_kind_name(mailbox_kind(mb)),
	    "Maildir: kind");
	s = drain(mb, &e, &n);
	is_str("[Subject: first\n\n][Subject: second\n\n]"
	    "[Subject: third\n\n]", s,
	    "Maildir: cur/ and new/ in delivery order; tmp/ and dot files "
	    "not read");
	is_int(LW_ENOTFOUND, e, "Maildir: the end");
	mailbox_close(mb);

	/* Of 3: two, then the limit; past the deadline: nothing. */
	for (i = 0; i < 2; i++) {
		mailbox_limits_default(&lim);
		if (i == 0)
			lim.messages = 2;
		else
			lim.deadline_ms = 1;	/* long past */
		mb = must_open("Maildir", &lim);
		(void)drain(mb, &e, &n);
		is_int(i == 0 ? 2 : 0, (long long)n, "Maildir, %s: count",
		    i == 0 ? "messages 2" : "past the deadline");
		is_int(i == 0 ? LW_ELIMIT : LW_ETIMEOUT, e, "Maildir, %s: end",
		    i == 0 ? "messages 2" : "past the deadline");
		mailbox_close(mb);
	}
	mailbox_limits_default(&lim);

	sub("eml");
	sub("eml/subdir");
	put("eml/a.eml", "Subject: a\n\n");
	put("eml/b.eml", "");
	put("eml/c.mbox", "From x@y Mon Dec  1 09:00:00 2026\nSubject: c1\n\n"
	    "\nFrom x@y Mon Dec  1 09:00:01 2026\nSubject: c2\n\n");
	put("eml/d.txt", "README: nothing here\n\n");
	put("eml/e.txt", "not mail\n");
	snprintf(link, sizeof(link), "%s/eml/f.eml", dir);
	if (symlink(at("eml/a.eml"), link) == -1)
		bail("symlink: %s", strerror(errno));
	snprintf(link, sizeof(link), "%s/eml/g.fifo", dir);
	if (mkfifo(link, 0600) == -1)
		bail("mkfifo: %s", strerror(errno));
	mb = must_open("eml", &lim);
	is_str("directory", mailbox_kind_name(mailbox_kind(mb)),
	    "directory: kind");
	s = drain(mb, &e, &n);
	is_str("[Subject: a\n\n][skip:empty][Subject: c1\n\n]"
	    "[Subject: c2\n][README: nothing here\n\n][skip:not_mail]"
	    "[skip:not_file][skip:not_file][skip:not_file]", s,
	    "directory: files in name order, an mbox among them split, "
	    "symlink, FIFO (no hang) and subdirectory skipped by name");
	is_int(LW_ENOTFOUND, e, "directory: the end");
	mailbox_close(mb);
}

static void
date_cases(void)
{
	static const unsigned char	 crlf[] = "A: 1\r\nB: 2\r\n\r\nbody";
	static const unsigned char	 lf[] = "A: 1\n\nbody\n";

	/* 2026-12-01 00:00:00 UTC */
	is_int(1796083200, (long long)mailbox_date(
	    "Tue, 1 Dec 2026 09:00:00 +0900"), "Date: with a numeric zone");
	is_int(1796083200, (long long)mailbox_date("1 Dec 2026 00:00 GMT"),
	    "Date: without weekday and seconds, GMT");
	is_int(1796083200, (long long)mailbox_date(" 30 Nov 26 19:00:00 EST"),
	    "Date: two-digit year, RFC 822 zone");
	is_int(1796083200, (long long)mailbox_date("1 dec 2026 00:00:00 XYZ"),
	    "Date: an unknown zone as UTC, month in any case");
	is_int(0, (long long)mailbox_date("32 Dec 2026 00:00:00 +0000"),
	    "Date: day 32 does not parse");
	is_int(0, (long long)mailbox_date("1 Foo 2026 00:00"),
	    "Date: no such month");
	is_int(0, (long long)mailbox_date("yesterday"), "Date: prose");
	is_int(0, (long long)mailbox_date(NULL), "Date: none");
	is_int(sizeof(crlf) - 1 - 4, (long long)mailbox_header_len(crlf,
	    sizeof(crlf) - 1), "header block with CRLF, blank line in");
	is_int(6, (long long)mailbox_header_len(lf, sizeof(lf) - 1),
	    "header block with LF");
	is_int(1, (long long)mailbox_header_len(lf + 5, sizeof(lf) - 6),
	    "a message that starts with its blank line");
	is_int(4, (long long)mailbox_header_len(lf, 4),
	    "no blank line: all of it");
}

int
main(void)
{
	alarm(60);
	date_cases();
	dir = tap_tmpdir("5310-mailbox");
	mbox_cases();
	file_cases();
	dir_cases();
	return done_testing();
}
