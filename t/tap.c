/*
 * tap.c: TAP output for the C tests.  See tap.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static int	planned = -1;
static int	count;
static int	failed;

void
plan(int n)
{
	planned = n;
	if (n > 0)
		printf("1..%d\n", n);
}

int
done_testing(void)
{
	if (planned <= 0)
		printf("1..%d\n", count);
	else if (planned != count) {
		printf("# planned %d tests but ran %d\n", planned, count);
		return 1;
	}
	return failed ? 1 : 0;
}

static bool vok(bool, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static bool
vok(bool pass, const char *fmt, va_list ap)
{
	count++;
	printf("%s %d - ", pass ? "ok" : "not ok", count);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass)
		failed++;
	fflush(stdout);
	return pass;
}

bool
ok(bool pass, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vok(pass, fmt, ap);
	va_end(ap);
	return pass;
}

bool
is_int(long long want, long long got, const char *fmt, ...)
{
	va_list	ap;
	bool	pass = want == got;

	va_start(ap, fmt);
	vok(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("    want: %lld\n#      got: %lld", want, got);
	return pass;
}

bool
is_str(const char *want, const char *got, const char *fmt, ...)
{
	va_list	ap;
	bool	pass;

	if (want == NULL || got == NULL)
		pass = want == got;
	else
		pass = strcmp(want, got) == 0;
	va_start(ap, fmt);
	vok(pass, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("    want: \"%s\"\n#      got: \"%s\"",
		    want ? want : "(null)", got ? got : "(null)");
	return pass;
}

void
diag(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
bail(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(255);
}

const char *
tap_top(void)
{
	const char	*t = getenv("LW_TOP");

	return t != NULL && *t != '\0' ? t : ".";
}

const char *
tap_corpus(void)
{
	static char	 buf[PATH_MAX];
	const char	*c = getenv("LW_CORPUS");

	if (c != NULL && *c != '\0')
		return c;
	snprintf(buf, sizeof(buf), "%s/../shared/corpus", tap_top());
	return buf;
}

void
tap_spew(const char *path, const void *d, size_t len)
{
	FILE	*f;

	if ((f = fopen(path, "wb")) == NULL || fwrite(d, 1, len, f) != len ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
}

unsigned char *
tap_slurp(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*buf = NULL;
	size_t		 cap = 0, n = 0, r;

	if ((f = fopen(path, "rb")) == NULL)
		bail("open %s: %s", path, strerror(errno));
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				bail("out of memory");
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f))
		bail("read %s", path);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

const char *
tap_tmpdir(const char *name)
{
	static char	buf[PATH_MAX];
	char		cmd[2 * PATH_MAX + 32];

	snprintf(buf, sizeof(buf), "%s/t/tmp/%s", tap_top(), name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", buf, buf);
	if (system(cmd) != 0)
		bail("cannot make %s", buf);
	return buf;
}

unsigned
tap_rnd(unsigned n)
{
	static uint64_t	x = 0x2545f4914f6cdd1dULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (unsigned)(x % n);
}
