/*
 * envelope.c: the envelope of one message (see envelope.h).  Owns its
 * strings; bounded by what the MTA (or the command line) gave.
 */
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "util.h"

void
envelope_free(struct envelope *env)
{
	if (env == NULL)
		return;
	FREE_ALL(env->qid, env->client_addr, env->client_name, env->helo,
	    env->mail_from, env->auth_authen, env->daemon_name);
	lw_strv_free(env->rcpts, env->nrcpts);
	memset(env, 0, sizeof(*env));
}

enum lw_err
envelope_add_rcpt(struct envelope *env, const char *rcpt)
{
	char	**nv, *dup;

	if ((dup = strdup(rcpt)) == NULL)
		return LW_ENOMEM;
	if ((nv = reallocarray(env->rcpts, env->nrcpts + 1,
	    sizeof(*nv))) == NULL) {
		free(dup);
		return LW_ENOMEM;
	}
	env->rcpts = nv;
	env->rcpts[env->nrcpts++] = dup;
	return LW_OK;
}
