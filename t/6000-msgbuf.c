/*
 * 6000-msgbuf: the milter's bounded message copy: header assembly,
 * append, spill to an unlinked temp file, the max cap and its
 * truncation flag.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgbuf.h"
#include "tap.h"

static int
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool
data_is(struct msgbuf *mb, const void *want, size_t wlen)
{
	const unsigned char	*p;
	size_t			 len;

	if (msgbuf_data(mb, &p, &len) != LW_OK)
		return false;
	return len == wlen && memcmp(p, want, len) == 0;
}

static void
test_assembly(const char *tmp)
{
	struct msgbuf	mb;
	const char	*want = "Subject: hi\r\nX-Folded: a\r\n\tb\r\n"
			    "X-Crlf: c\r\n d\r\nX-Empty:\r\nX-Eaten: e\r\n\r\n"
			    "body\r\n";

	is_int(LW_OK, msgbuf_init(&mb, 1 << 20, 1 << 20, tmp), "init");
	is_int(LW_OK, msgbuf_add_header(&mb, "Subject", " hi", false),
	    "header");
	is_int(LW_OK, msgbuf_add_header(&mb, "X-Folded", " a\n\tb",
	    false),
	    "folded header with bare LF");
	is_int(LW_OK, msgbuf_add_header(&mb, "X-Crlf", " c\r\n d", false),
	    "folded header with CRLF");
	is_int(LW_OK, msgbuf_add_header(&mb, "X-Empty", "", false),
	    "empty value");
	is_int(LW_OK, msgbuf_add_header(&mb, "X-Eaten", "e", true),
	    "the space an MTA ate is put back");
	is_int(LW_OK, msgbuf_end_headers(&mb), "end of headers");
	is_int(LW_OK, msgbuf_append(&mb, "body\r\n", 6), "body");
	ok(!msgbuf_spilled(&mb), "small message stays in memory");
	ok(!mb.truncated, "not truncated");
	ok(data_is(&mb, want, strlen(want)),
	    "wire format: Name:value CRLF, blank line, body");
	msgbuf_free(&mb);
}

static void
test_spill(const char *tmp)
{
	struct msgbuf	 mb;
	unsigned char	*big;
	size_t		 i, n = 300000;
	bool		 all = true;

	big = malloc(n);
	for (i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	is_int(LW_OK, msgbuf_init(&mb, 4096, 1 << 20, tmp), "init spill");
	for (i = 0; i < n; i += 1000)
		all &= msgbuf_append(&mb, big + i, 1000) == LW_OK;
	ok(all, "every chunk appended");
	ok(msgbuf_spilled(&mb), "spilled past memory_body_bytes");
	ok(mb.buf == NULL, "memory copy released after the spill");
	is_int(0, count_entries(tmp), "spill file is unlinked");
	ok(data_is(&mb, big, n), "mmap'd spill holds the exact bytes");
	is_int(LW_EINVAL, msgbuf_append(&mb, "x", 1),
	    "no appends after the data is mapped");
	msgbuf_free(&mb);

	/* memory limit 0: the first byte goes to the file */
	is_int(LW_OK, msgbuf_init(&mb, 0, 100, tmp), "init mem 0");
	is_int(LW_OK, msgbuf_append(&mb, "abc", 3), "append");
	ok(msgbuf_spilled(&mb), "spilled at once");
	ok(data_is(&mb, "abc", 3), "spill data");
	msgbuf_free(&mb);
	free(big);
}

static void
test_cap(const char *tmp)
{
	struct msgbuf	mb;
	char		buf[100];

	memset(buf, 'a', sizeof(buf));
	is_int(LW_OK, msgbuf_init(&mb, 1 << 20, 50, tmp), "init cap 50");
	is_int(LW_OK, msgbuf_append(&mb, buf, 40), "40 bytes fit");
	is_int(LW_ELIMIT, msgbuf_append(&mb, buf, 40), "80 do not");
	ok(mb.truncated, "truncated flag set");
	is_int(50, (long long)mb.len, "kept exactly max bytes");
	is_int(80, (long long)mb.seen, "seen counts every byte offered");
	is_int(LW_ELIMIT, msgbuf_append(&mb, buf, 1), "later bytes dropped");
	is_int(LW_OK, msgbuf_append(&mb, buf, 0), "empty append is fine");
	is_int(81, (long long)mb.seen, "still counted");
	ok(data_is(&mb, buf, 50), "data is the first max bytes");
	msgbuf_free(&mb);

	/* the cap also holds when the copy lives in a file */
	is_int(LW_OK, msgbuf_init(&mb, 10, 30, tmp), "init spill+cap");
	is_int(LW_OK, msgbuf_append(&mb, buf, 20), "20 bytes");
	ok(msgbuf_spilled(&mb), "spilled");
	is_int(LW_ELIMIT, msgbuf_append(&mb, buf, 20), "cap in the file");
	is_int(30, (long long)mb.len, "file holds max bytes");
	ok(data_is(&mb, buf, 30), "file data");
	msgbuf_free(&mb);

	/* a header cut in the middle still leaves a bounded copy */
	is_int(LW_OK, msgbuf_init(&mb, 1 << 20, 8, tmp), "init cap 8");
	is_int(LW_ELIMIT, msgbuf_add_header(&mb, "Subject", " long one",
	    false),
	    "header over the cap");
	ok(data_is(&mb, "Subject:", 8), "cut at the cap");
	msgbuf_free(&mb);

	is_int(LW_OK, msgbuf_init(&mb, 1 << 20, 0, tmp), "init cap 0");
	is_int(LW_ELIMIT, msgbuf_append(&mb, "x", 1), "cap 0 keeps nothing");
	ok(data_is(&mb, "", 0), "empty data");
	msgbuf_free(&mb);
}

static void
test_errors(const char *tmp)
{
	struct msgbuf	mb;
	char		dir[4096];

	if (snprintf(dir, sizeof(dir), "%s/missing", tmp) >= (int)sizeof(dir))
		bail("path too long");
	is_int(LW_OK, msgbuf_init(&mb, 4, 100, dir), "init bad tmpdir");
	is_int(LW_OK, msgbuf_append(&mb, "ab", 2), "in memory first");
	is_int(LW_EIO, msgbuf_append(&mb, "cdefgh", 6),
	    "spill into a missing directory is an internal error");
	msgbuf_free(&mb);
	ok(mb.fd == -1 && mb.buf == NULL, "freed buffer is empty");
	is_int(LW_OK, msgbuf_init(&mb, 4, 100, tmp), "re-init after free");
	is_int(LW_OK, msgbuf_append(&mb, "abcdefgh", 8), "spills fine");
	ok(data_is(&mb, "abcdefgh", 8), "data");
	msgbuf_free(&mb);
}

int
main(void)
{
	const char	*tmp;

	plan(0);
	tmp = tap_tmpdir("6000-msgbuf");
	test_assembly(tmp);
	test_spill(tmp);
	test_cap(tmp);
	test_errors(tmp);
	return done_testing();
}
