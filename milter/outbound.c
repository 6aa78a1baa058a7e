/*
 * outbound.c: the direction of a message.  Outbound is mail our own
 * users send: an authenticated session ({auth_authen}), a listener named
 * in outbound_daemon_names ({daemon_name}), or a client in
 * internal_networks ({client_addr}); everything else is inbound.
 */
#include <string.h>

#include "config.h"
#include "envelope.h"
#include "outbound.h"
#include "policy.h"

enum outbound_why
outbound_direction(const struct config *cfg, const struct envelope *env)
{
	size_t	i;

	if (cfg == NULL || env == NULL)
		return OUT_NONE;
	if (env->auth_authen != NULL && *env->auth_authen != '\0')
		return OUT_AUTH;
	if (env->daemon_name != NULL)
		for (i = 0; i < cfg->noutbound_daemon_names; i++)
			if (strcmp(env->daemon_name,
			    cfg->outbound_daemon_names[i]) == 0)
				return OUT_DAEMON;
	if (config_internal_addr(cfg, env->client_addr))
		return OUT_NETWORK;
	return OUT_NONE;
}

const char *
outbound_why_name(enum outbound_why w)
{
	switch (w) {
	case OUT_NONE:		return "inbound";
	case OUT_AUTH:		return "auth";
	case OUT_DAEMON:	return "daemon_name";
	case OUT_NETWORK:	return "internal_network";
	}
	return "?";
}

const char *
outbound_action_name(const struct outbound_policy *o)
{
	return o->action == OUTBOUND_TEMPFAIL ? "tempfail" : "quarantine";
}