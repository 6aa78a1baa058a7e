/*
 * qfill.h: build an envelope and a scan result by hand for the
 * quarantine tests (the engine's own are not needed to test the store).
 */
#ifndef QFILL_H
#define QFILL_H

#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "mime.h"
#include "scan.h"
#include "verdict.h"

struct qfill {
	struct envelope		env;
	char			*rcptv[4];
	struct message		msg;
	struct verdict		v;
	struct scan_result	res;
};

/* Fill f; rcpt2 may be NULL; rule2 may be NULL. */
static inline void
qfill_init(struct qfill *f, const char *qid, const char *from,
    const char *rcpt1, const char *rcpt2, const char *subject, int score,
    const char *rule1, const char *rule2)
{
	memset(f, 0, sizeof(*f));
	f->env.qid = (char *)qid;
	f->env.client_addr = (char *)"192.0.2.7";
	f->env.client_name = (char *)"mx.example.net";
	f->env.helo = (char *)"mx.example.net";
	f->env.mail_from = (char *)from;
	f->rcptv[0] = (char *)rcpt1;
	f->rcptv[1] = (char *)rcpt2;
	f->env.rcpts = f->rcptv;
	f->env.nrcpts = rcpt2 != NULL ? 2 : 1;
	f->msg.subject = (char *)subject;
	f->msg.from.addr = (char *)from;
	f->msg.from.display = (char *)"Accounting";
	f->v.action = ACT_QUARANTINE;
	f->v.score = score;
	if (findings_add(&f->v.findings, rule1, "2/invoice.zip/doc.xls",
	    "macro %s", "AutoOpen") != LW_OK)
		abort();
	f->v.findings.v[0].score = score;
	if (rule2 != NULL) {
		if (findings_add(&f->v.findings, rule2, "2", "encrypted") !=
		    LW_OK)
			abort();
		if (asprintf(&f->v.rules, "%s,%s", rule1, rule2) < 0)
			abort();
	} else if ((f->v.rules = strdup(rule1)) == NULL)
		abort();
	f->res.msg = &f->msg;
	f->res.verdict = &f->v;
}

static inline void
qfill_free(struct qfill *f)
{
	findings_free(&f->v.findings);
	free(f->v.rules);
}

#endif
