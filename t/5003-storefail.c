/*
 * 5003-storefail: a store that cannot be made durable reports an error
 * (the milter then tempfails) and leaves nothing visible.  Tests run as
 * root, so permissions alone stop nothing: a file size limit
 * (RLIMIT_FSIZE, the write fails like on a full disk), tmp/ replaced by
 * a file (ENOTDIR), a store path under a regular file, and, when the
 * sandbox lets us mount, a full 64 KiB tmpfs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"
#include "qfill.h"

static size_t
count_items(struct quarantine *q)
{
	struct quarantine_item	**v;
	size_t			  n;

	if (quarantine_list(q, &v, &n) != LW_OK)
		return (size_t)-1;
	quarantine_items_free(v, n);
	return n;
}

static void
write_text(const char *path, const char *s)
{
	FILE	*f = fopen(path, "w");

	if (f == NULL)
		bail("%s: %s", path, strerror(errno));
	fputs(s, f);
	fclose(f);
}

int
main(void)
{
	struct quarantine	*q;
	struct qfill		 f;
	struct rlimit		 rl, old;
	const char		*top;
	char			 dir[1024], p[2400], id[QUARANTINE_ID_MAX];
	static char		 big[300000];
	size_t			 items, damaged, cleaned;

	plan(0);
	top = tap_tmpdir("5003-storefail");
	snprintf(dir, sizeof(dir), "%s/q", top);
	memset(big, 'y', sizeof(big));
	qfill_init(&f, "QID", "s@example.net", "r@example.com", NULL,
	    "fail", 11, "EMOTET_LURE", NULL);
	if (quarantine_open(dir, &q) != LW_OK)
		bail("open");

	/* 1. Writes fail part way (EFBIG), as on a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = 65536;
	setrlimit(RLIMIT_FSIZE, &rl);
	is_int(LW_EIO, quarantine_store(q, (unsigned char *)big, sizeof(big),
	    &f.env, &f.res, id), "store fails when the write fails");
	ok(errno == EFBIG, "errno tells why (%s)", strerror(errno));
	is_str("", id, "no id handed out");
	setrlimit(RLIMIT_FSIZE, &old);
	is_int(0, (long long)count_items(q), "nothing became visible");
	quarantine_verify(q, NULL, &items, &damaged, &cleaned);
	is_int(0, (long long)damaged, "nothing damaged");
	snprintf(p, sizeof(p), "rmdir '%s/tmp' 2>/dev/null", dir);
	ok(system(p) == 0, "the failed store left tmp/ empty");

	/* 2. tmp/ is not a directory any more. */
	snprintf(p, sizeof(p), "%s/tmp", dir);
	write_text(p, "not a dir");
	quarantine_close(q);
	is_int(LW_EIO, quarantine_open(dir, &q), "open refuses a store "
	    "whose tmp/ is a file");
	snprintf(p, sizeof(p), "%s/tmp", dir);
	unlink(p);
	is_int(LW_OK, quarantine_open(dir, &q), "open repairs a missing tmp/");
	is_int(LW_OK, quarantine_store(q, (unsigned char *)"a\n", 2, &f.env,
	    &f.res, id), "and stores again");
	/* tmp/ goes away under a running store: mkdirat fails */
	snprintf(p, sizeof(p), "rm -rf '%s/tmp' && echo x > '%s/tmp'", dir,
	    dir);
	if (system(p) != 0)
		bail("cannot replace tmp/");
	is_int(LW_EIO, quarantine_store(q, (unsigned char *)"b\n", 2, &f.env,
	    &f.res, id), "store fails when tmp/ was replaced (still open: "
	    "the old directory is gone)");
	quarantine_close(q);

	/* 3. The store's path runs through a regular file. */
	snprintf(p, sizeof(p), "%s/file", top);
	write_text(p, "x");
	snprintf(p, sizeof(p), "%s/file/q", top);
	is_int(LW_EIO, quarantine_open(p, &q), "open fails under a file");
	ok(errno == ENOTDIR, "with ENOTDIR (%s)", strerror(errno));

	/* 4. A full file system, where we may mount one. */
	snprintf(p, sizeof(p), "%s/mnt", top);
	mkdir(p, 0700);
	if (mount("tmpfs", p, "tmpfs", 0, "size=64k") == 0) {
		snprintf(dir, sizeof(dir), "%s/mnt/q", top);
		is_int(LW_OK, quarantine_open(dir, &q), "open on a 64k tmpfs");
		is_int(LW_EIO, quarantine_store(q, (unsigned char *)big,
		    sizeof(big), &f.env, &f.res, id), "store fails when the "
		    "disk is full");
		ok(errno == ENOSPC, "with ENOSPC (%s)", strerror(errno));
		is_int(0, (long long)count_items(q), "nothing visible");
		is_int(LW_OK, quarantine_store(q, (unsigned char *)"c\n", 2,
		    &f.env, &f.res, id), "space came back: store works");
		quarantine_close(q);
		umount(p);
	} else
		diag("no tmpfs mount here (%s): covered by RLIMIT_FSIZE above",
		    strerror(errno));
	qfill_free(&f);
	return done_testing();
}
