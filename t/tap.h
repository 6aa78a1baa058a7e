/*
 * tap.h: minimal TAP producer for the C unit tests (after rra's
 * c-tap-harness).  prove reads the output.
 */
#ifndef TAP_H
#define TAP_H

#include <stdbool.h>
#include <stddef.h>

void	plan(int n);			/* 0: plan printed by done_testing */
int	done_testing(void);		/* prints plan if needed; exit code */
bool	ok(bool pass, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
bool	is_int(long long want, long long got, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
bool	is_str(const char *want, const char *got, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
	    __attribute__((noreturn));

/* $LW_TOP (repo top; "." when unset) and ../shared/corpus beside it. */
const char *tap_top(void);
const char *tap_corpus(void);
/* Read a whole file (malloc'd, NUL-terminated); bail on failure. */
unsigned char *tap_slurp(const char *path, size_t *len);
/* Write len bytes of d to path (created or truncated); bail on failure. */
void tap_spew(const char *path, const void *d, size_t len);
/* A fresh directory under t/tmp for this test; removed by nobody. */
const char *tap_tmpdir(const char *name);

/*
 * A reproducible pseudo-random number in [0, n) (xorshift64, one fixed
 * seed): the random inputs of the tests that compare a fast reader
 * with the one it replaced.
 */
unsigned tap_rnd(unsigned n);

#endif
