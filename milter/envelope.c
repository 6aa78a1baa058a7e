/*
 * envelope.c: the envelope of one message (see envelope.h).  Owns its
 * strings; bounded by what the MTA (or the command line) gave.
 */
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

void
envelope_free(struct envelope *env)
{
	size_t	i;

	if (env == NULL)
		return;
	free(env->qid);
	free(env->client_addr);
	free(env->client_name);
	free(env->helo);
	free(env->mail_from);
	for (i = 0; i < env->nrcpts; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	free(env->auth_authen);
	free(env->daemon_name);
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
