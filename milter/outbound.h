/*
 * outbound.h: the direction of a message (issue 11): is it mail our own
 * users send?  The breaker (outbreak.h) counts only outbound mail.
 */
#ifndef OUTBOUND_H
#define OUTBOUND_H

struct config;
struct envelope;
struct outbound_policy;

/*
 * Why a message is outbound: OUT_AUTH ({auth_authen} set), OUT_DAEMON
 * ({daemon_name} in outbound_daemon_names), OUT_NETWORK ({client_addr}
 * in internal_networks); OUT_NONE means inbound.  Checked in that order.
 */
enum outbound_why {
	OUT_NONE = 0,
	OUT_AUTH,
	OUT_DAEMON,
	OUT_NETWORK
};

enum outbound_why outbound_direction(const struct config *,
		    const struct envelope *);
const char	*outbound_why_name(enum outbound_why);
/*
 * The policy's outbound.action as written in the policy file ("quarantine",
 * "tempfail"): the word the breaker's log lines and alerts use.
 */
const char	*outbound_action_name(const struct outbound_policy *);

#endif /* OUTBOUND_H */
