/*
 * fuzz_ctx.h: the scan context every analyzer target starts from: the
 * default limits (archive_total_bytes cut to 16 MiB to keep one run
 * fast; the limits themselves are what we test), no findings, the
 * given password candidates (none when pw is NULL).
 */
#ifndef FUZZ_CTX_H
#define FUZZ_CTX_H

#include <string.h>

#include "lurewall.h"
#include "pwcand.h"
#include "analyzer.h"

struct fuzz_env {
	struct limits		 lim;
	struct findings		 fs;
	struct pwcands		 pc;
	struct scan_ctx		 ctx;
};

static inline struct scan_ctx *
fuzz_ctx(struct fuzz_env *f, char **pw, bool *kw, size_t npw)
{
	limits_default(&f->lim);
	f->lim.archive_total_bytes = 16U << 20;
	memset(&f->fs, 0, sizeof(f->fs));
	memset(&f->pc, 0, sizeof(f->pc));
	f->pc.v = pw;
	f->pc.keyword = kw;
	f->pc.n = f->pc.cap = npw;
	memset(&f->ctx, 0, sizeof(f->ctx));
	f->ctx.lim = &f->lim;
	f->ctx.fs = &f->fs;
	f->ctx.pw = &f->pc;
	f->ctx.qid = "FUZZ";
	return &f->ctx;
}

#endif
