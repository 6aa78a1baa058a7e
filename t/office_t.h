/*
 * office_t.h: shared by the office stage's tests (t/20NN-*.c): run
 * office_scan on a buffer and look at the findings.
 */
#ifndef OFFICE_T_H
#define OFFICE_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "office.h"
#include "scan.h"
#include "tap.h"

static struct limits	 ot_lim;

static inline enum ft_kind
ot_kind(const unsigned char *d, size_t n)
{
	if (n >= 8 && memcmp(d, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
		return FT_OLE2;
	if (n >= 4 && memcmp(d, "PK\3\4", 4) == 0)
		return FT_OOXML;
	if (n >= 5 && memcmp(d, "{\\rtf", 5) == 0)
		return FT_RTF;
	return FT_UNKNOWN;
}

/* Scan d as the file at part path; findings go to fs (emptied first). */
static inline enum lw_err
ot_scan(const char *part, const unsigned char *d, size_t n,
    struct findings *fs)
{
	struct scan_ctx	 ctx;

	findings_free(fs);
	memset(fs, 0, sizeof(*fs));
	if (ot_lim.ole_sectors == 0)
		limits_default(&ot_lim);
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &ot_lim;
	ctx.fs = fs;
	ctx.deadline_ms = lw_now_ms() + 20000;
	return office_scan(&ctx, part, d, n, ot_kind(d, n), 0);
}

static inline enum lw_err
ot_scan_file(const char *file, struct findings *fs)
{
	unsigned char	*d;
	size_t		 n;
	enum lw_err	 e;
	const char	*base = strrchr(file, '/');

	d = tap_slurp(file, &n);
	e = ot_scan(base ? base + 1 : file, d, n, fs);
	free(d);
	return e;
}

/* The first finding of rule whose detail contains sub (NULL: any). */
static inline const struct finding *
ot_find(const struct findings *fs, const char *rule, const char *sub)
{
	size_t	 i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rule, rule) == 0 &&
		    (sub == NULL || strstr(fs->v[i].detail, sub) != NULL))
			return &fs->v[i];
	return NULL;
}

static inline void
ot_dump(const struct findings *fs)
{
	size_t	 i;

	for (i = 0; i < fs->n; i++)
		diag("  %s [%s] %s", fs->v[i].rule, fs->v[i].part,
		    fs->v[i].detail);
}

static inline int
ot_run(const char *cmd)
{
	int	 r = system(cmd);

	if (r != 0)
		diag("command failed (%d): %s", r, cmd);
	return r;
}

#endif /* OFFICE_T_H */
