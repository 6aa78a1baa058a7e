/*
 * splitppap_t.h: what the split PPAP C tests (5100, 5101) share: a
 * text file writer, an envelope, a fake submit command that keeps
 * each message it gets as DIR/out/N.eml, and the corpus pair
 * benign-02a (the zip) and benign-02b (its password mail).
 */
#ifndef SPLITPPAP_T_H
#define SPLITPPAP_T_H

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "lurewall.h"
#include "runtime.h"
#include "scan.h"
#include "splitppap.h"
#include "verdict.h"
#include "tap.h"

static inline void
sp_write_text(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		bail("%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static inline void
sp_env_init(struct envelope *env, const char *from, const char *rcpt,
    const char *qid)
{
	memset(env, 0, sizeof(*env));
	env->mail_from = strdup(from);
	env->qid = strdup(qid);
	if (env->mail_from == NULL || env->qid == NULL ||
	    envelope_add_rcpt(env, rcpt) != LW_OK)
		bail("out of memory");
}

/* DIR/submit, a submit_command template for it in tmpl. */
static inline void
sp_submit_setup(const char *dir, char *tmpl, size_t len)
{
	char	path[1100], script[2048];

	snprintf(path, sizeof(path), "%s/out", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/submit", dir);
	snprintf(script, sizeof(script), "#!/bin/sh\n"
	    "f=%s/out/$$.$(date +%%s%%N)\n"
	    "cat >\"$f.tmp\" && mv \"$f.tmp\" \"$f.eml\"\n", dir);
	sp_write_text(path, script);
	chmod(path, 0700);
	snprintf(tmpl, len, "%s/submit -f %%f -- %%r", dir);
}

/* How many messages the fake submit command got. */
static inline size_t
sp_count_outputs(const char *dir)
{
	struct dirent	*de;
	char		 path[1100];
	size_t		 n = 0;
	DIR		*d;

	snprintf(path, sizeof(path), "%s/out", dir);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".eml") != NULL)
			n++;
	closedir(d);
	return n;
}

static inline void
sp_load_pair(unsigned char **a, size_t *lena, unsigned char **b,
    size_t *lenb)
{
	char	path[1200];

	snprintf(path, sizeof(path), "%s/messages/benign-02a-ppap-aes-xlsx.eml",
	    tap_corpus());
	*a = tap_slurp(path, lena);
	snprintf(path, sizeof(path),
	    "%s/messages/benign-02b-ppap-password-mail.eml", tap_corpus());
	*b = tap_slurp(path, lenb);
}

/*
 * Scan raw as the daemon would and hand it to splitppap_eom on q at time
 * now; *rules (may be NULL) gets the verdict's rules.
 */
static inline enum lw_err
sp_eom(struct quarantine *q, const struct limits *lim,
    const struct policyset *ps, const char *submit,
    const unsigned char *raw, size_t len, const char *from,
    const char *rcpt, const char *qid, time_t now,
    struct splitppap_result *out, char **rules)
{
	struct splitppap_env	se;
	struct runtime		rt;
	struct scan_result	res;
	struct envelope		env;
	enum lw_err		e;

	sp_env_init(&env, from, rcpt, qid);
	if (scan_message(runtime_view(&rt, lim, ps), raw, len, &env,
	    &res) != LW_OK)
		bail("scan failed");
	memset(&se, 0, sizeof(se));
	se.q = q;
	se.rt = &rt;
	se.submit = submit;
	se.now = now;
	e = splitppap_eom(&se, raw, len, &env, &res, out);
	if (rules != NULL)
		*rules = lw_strdup(res.verdict->rules);
	scan_result_free(&res);
	envelope_free(&env);
	return e;
}

#endif /* SPLITPPAP_T_H */
