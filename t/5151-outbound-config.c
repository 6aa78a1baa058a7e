/*
 * 5151-outbound-config: what makes a message outbound (auth, daemon
 * name, internal networks in IPv4 and IPv6), the config keys and their
 * errors with file and line, the policy's outbound: map (defaults,
 * durations, inheritance, errors), which findings are lure-like, and
 * the alert command: placeholders expand inside one argument each, a
 * hostile sender arrives as one literal argument, and a slow command
 * does not block the caller.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "config.h"
#include "outbound.h"
#include "outbreak.h"
#include "policy.h"
#include "scan.h"
#include "verdict.h"

static const char	*dir;

static const char *
put(const char *name, const char *text)
{
	static char	 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
	return path;
}

static struct config *
conf(const char *text)
{
	struct config	*c = NULL;
	char		 err[512];

	if (config_load(put("c.yaml", text), &c, err, sizeof(err)) != LW_OK) {
		diag("%s", err);
		return NULL;
	}
	return c;
}

static void
conf_bad(const char *text, const char *want, const char *what)
{
	struct config	*c = NULL;
	char		 err[512];
	enum lw_err	 e;

	e = config_load(put("c.yaml", text), &c, err, sizeof(err));
	if (!ok(e == LW_EINVAL && strstr(err, want) != NULL, "config error: %s",
	    what))
		diag("got %d \"%s\", want \"%s\"", e, e ? err : "", want);
	if (e == LW_OK)
		config_free(c);
}

static struct policyset *
pol(const char *def, const char *dom)
{
	struct policyset	*ps = NULL;
	char			 err[512], sub[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/p", dir);
	mkdir(sub, 0700);
	put("p/default.yaml", def);
	if (dom != NULL)
		put("p/corp.yaml", dom);
	else
		unlink(put("p/corp.yaml", ""));
	if (policy_load_dir(sub, NULL, &ps, err, sizeof(err)) != LW_OK) {
		diag("%s", err);
		return NULL;
	}
	return ps;
}

static void
pol_bad(const char *def, const char *want, const char *what)
{
	struct policyset	*ps = NULL;
	char			 err[512], sub[PATH_MAX];
	enum lw_err		 e;

	snprintf(sub, sizeof(sub), "%s/p", dir);
	put("p/default.yaml", def);
	unlink(put("p/corp.yaml", ""));
	e = policy_load_dir(sub, NULL, &ps, err, sizeof(err));
	if (!ok(e == LW_EINVAL && strstr(err, want) != NULL, "policy error: %s",
	    what))
		diag("got %d \"%s\", want \"%s\"", e, e ? err : "", want);
	if (e == LW_OK)
		policyset_unref(ps);
}

static enum outbound_why
dir_of(const struct config *c, const char *auth, const char *daemon,
    const char *addr)
{
	struct envelope	env;

	memset(&env, 0, sizeof(env));
	env.auth_authen = (char *)auth;
	env.daemon_name = (char *)daemon;
	env.client_addr = (char *)addr;
	return outbound_direction(c, &env);
}

static bool
lure_of(const char *rule, int score)
{
	struct verdict	v;
	bool		b;

	memset(&v, 0, sizeof(v));
	if (findings_add(&v.findings, rule, "2", "x") != LW_OK)
		bail("findings_add");
	v.findings.v[0].score = score;
	b = outbreak_lure_like(&v, NULL);
	findings_free(&v.findings);
	return b;
}

int
main(void)
{
	struct config		*c;
	struct policyset	*ps;
	const struct policy	*p;
	struct envelope		 env;
	struct outbreak_alert	 al;
	char			 text[3 * PATH_MAX + 128], path[PATH_MAX], **argv;
	char			*k;
	const char		*hostile = "x\"; $(touch /tmp/pwned) 'y' `z`;"
				    "@corp.example";
	unsigned char		*got;
	size_t			 len;
	uint64_t		 t;
	int			 i;

	dir = tap_tmpdir("5151-outbound-config");

	/* Direction */
	c = conf("quarantine_dir: q\n"
	    "outbound_daemon_names: [ORIGINATING]\n"
	    "internal_networks: [127.0.0.0/8, 192.0.2.128/25, 10.1.2.3,\n"
	    "    \"2001:db8::/32\", \"fe80::1\"]\n");
	if (c == NULL)
		bail("config does not load");
	is_int(OUT_AUTH, dir_of(c, "alice", NULL, "203.0.113.9"),
	    "{auth_authen} set: outbound");
	is_int(OUT_DAEMON, dir_of(c, NULL, "ORIGINATING", "203.0.113.9"),
	    "{daemon_name} ORIGINATING: outbound");
	is_int(OUT_NONE, dir_of(c, NULL, "smtpd", "203.0.113.9"),
	    "other daemon, outside address: inbound");
	is_int(OUT_NONE, dir_of(c, "", NULL, "203.0.113.9"),
	    "empty {auth_authen} is no login");
	is_int(OUT_NETWORK, dir_of(c, NULL, NULL, "127.0.0.1"),
	    "127.0.0.1 in 127.0.0.0/8");
	is_int(OUT_NETWORK, dir_of(c, NULL, NULL, "192.0.2.200"),
	    "192.0.2.200 in 192.0.2.128/25");
	is_int(OUT_NONE, dir_of(c, NULL, NULL, "192.0.2.127"),
	    "192.0.2.127 not in 192.0.2.128/25");
	is_int(OUT_NETWORK, dir_of(c, NULL, NULL, "10.1.2.3"),
	    "a host entry matches itself");
	is_int(OUT_NONE, dir_of(c, NULL, NULL, "10.1.2.4"),
	    "and nothing else");
	is_int(OUT_NETWORK, dir_of(c, NULL, NULL, "2001:db8:ffff::1"),
	    "IPv6 in 2001:db8::/32");
	is_int(OUT_NETWORK, dir_of(c, NULL, NULL, "IPv6:2001:db8::5"),
	    "Postfix's IPv6: prefix");
	is_int(OUT_NONE, dir_of(c, NULL, NULL, "2001:db9::1"),
	    "2001:db9::1 outside");
	is_int(OUT_NETWORK, dir_of(c, NULL, NULL, "::ffff:127.0.0.2"),
	    "IPv4-mapped IPv6 counts as IPv4");
	is_int(OUT_NONE, dir_of(c, NULL, NULL, "not-an-address"),
	    "garbage address: inbound");
	is_int(OUT_NONE, dir_of(c, NULL, NULL, NULL), "no address: inbound");
	snprintf(path, sizeof(path), "%s/q/outbreak", dir);
	ok(c->outbreak_dir != NULL && strstr(c->outbreak_dir, path) != NULL,
	    "outbreak_dir defaults to quarantine_dir/outbreak");
	ok(c->alert_command == NULL, "no alert_command by default");
	config_free(c);

	/* Config errors name file, line and key */
	conf_bad("internal_networks:\n  - 10.0.0.0/8\n  - 300.1.1.1/8\n",
	    "c.yaml:3:5: internal_networks[1]: \"300.1.1.1/8\" is not",
	    "bad IPv4 network with line and column");
	conf_bad("internal_networks: [10.0.0.0/33]\n", "10.0.0.0/33",
	    "prefix too long");
	conf_bad("internal_networks: [\"2001:db8::/129\"]\n", "is not",
	    "IPv6 prefix too long");
	conf_bad("internal_networks: [10.0.0.0/]\n", "is not",
	    "empty prefix");
	conf_bad("internal_networks: 10.0.0.0/8\n", "expected a list",
	    "not a list");
	conf_bad("outbound_daemon_names: [\"two words\"]\n", "one word",
	    "daemon name with a blank");
	conf_bad("alert_command: /bin/echo %q\n", "unknown placeholder",
	    "unknown alert placeholder");
	conf_bad("alert_command: \"%s/bin\"\n", "the program must be a path",
	    "placeholder in the program");
	c = conf("alert_command: bin/alert --sender=%s %r %l %n %w %a %t %%\n"
	    "outbreak_dir: state\n");
	ok(c != NULL && c->alert_command[0] == '/' &&
	    strstr(c->alert_command, "/bin/alert --sender=%s") != NULL,
	    "a relative alert program resolves against the config dir");
	ok(c != NULL && c->outbreak_dir[0] == '/' &&
	    strstr(c->outbreak_dir, "/state") != NULL,
	    "outbreak_dir resolves against the config dir");

	/* Alert argv: one argument per word, placeholders inside it */
	memset(&al, 0, sizeof(al));
	al.sender = hostile;
	al.reason = "lures";
	al.action = "quarantine";
	al.lures = 3;
	al.new_rcpts = 17;
	al.window = 600;
	al.tripped = 1700000000;
	if (c == NULL || outbreak_alert_argv(c->alert_command, &al, &argv) !=
	    LW_OK)
		bail("outbreak_alert_argv");
	snprintf(text, sizeof(text), "--sender=%s", hostile);
	is_str(text, argv[1], "hostile sender is one literal argument");
	is_str("lures", argv[2], "%%r reason");
	is_str("3", argv[3], "%%l lures");
	is_str("17", argv[4], "%%n new recipients");
	is_str("600", argv[5], "%%w window");
	is_str("quarantine", argv[6], "%%a action");
	is_str("1700000000", argv[7], "%%t trip time");
	is_str("%", argv[8], "%%%% a percent sign");
	ok(argv[9] == NULL, "nothing more");
	config_argv_free(argv);
	config_free(c);

	/* The alert runs detached, argv intact, without blocking us */
	snprintf(path, sizeof(path), "%s/argv.out", dir);
	snprintf(text, sizeof(text), "#!/bin/sh\n"
	    "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > %s.tmp\n"
	    "mv %s.tmp %s\nsleep 3\n", path, path, path);
	put("alert.sh", text);
	snprintf(text, sizeof(text), "%s/alert.sh", dir);
	chmod(text, 0755);
	c = conf("alert_command: alert.sh %s %r\n");
	if (c == NULL)
		bail("alert config");
	t = lw_now_ms();
	outbreak_alert(c, "QID1", &al);
	ok(lw_now_ms() - t < 1500, "outbreak_alert returns at once (%llu ms)",
	    (unsigned long long)(lw_now_ms() - t));
	for (i = 0; i < 100 && access(path, F_OK) != 0; i++)
		usleep(100000);
	got = tap_slurp(path, &len);
	snprintf(text, sizeof(text), "%s\nlures\n", hostile);
	is_str(text, got != NULL ? (char *)got : "", "the command got the "
	    "sender and reason as separate literal arguments");
	free(got);
	ok(access("/tmp/pwned", F_OK) != 0, "no shell ran the sender's $()");
	config_free(c);

	/* Sender keys */
	memset(&env, 0, sizeof(env));
	env.mail_from = "Alice@Corp.Example";
	k = outbreak_sender_key(&env);
	is_str("alice@corp.example", k, "key: envelope sender, lowercased");
	free(k);
	env.auth_authen = "ALICE";
	k = outbreak_sender_key(&env);
	is_str("alice", k, "key: the login wins");
	free(k);
	env.auth_authen = NULL;
	env.mail_from = "";
	ok(outbreak_sender_key(&env) == NULL, "null sender: no key");

	/* Lure-like findings */
	ok(lure_of("EMOTET_LURE", 10), "EMOTET_LURE is lure-like");
	ok(lure_of("OFFICE_VBA", 10), "OFFICE_VBA is lure-like");
	ok(lure_of("OFFICE_VBA_AUTOEXEC", 3), "OFFICE_VBA_AUTOEXEC too");
	ok(lure_of("OFFICE_XLM", 10), "OFFICE_XLM is lure-like");
	ok(lure_of("FILE_EXECUTABLE", 10), "FILE_EXECUTABLE is lure-like");
	ok(lure_of("FILE_SCRIPT", 10), "FILE_SCRIPT is lure-like");
	ok(lure_of("FILE_SHORTCUT", 10), "FILE_SHORTCUT is lure-like");
	ok(!lure_of("OFFICE_VBA", 0), "a macro scored 0 (macro_senders) is not");
	ok(!lure_of("ARCHIVE_ENCRYPTED", 1), "a password zip alone is not");
	ok(!lure_of("HDR_FAKE_REPLY", 1), "a header sign alone is not");

	/* Policy: defaults, durations, inheritance */
	ps = pol("{}\n", NULL);
	if (ps == NULL)
		bail("default policy");
	p = policyset_default(ps);
	is_int(600, p->outbound.window, "default window 10m");
	is_int(3, p->outbound.max_lures, "default max_lures 3");
	is_int(200, p->outbound.max_new_rcpts, "default max_new_rcpts 200");
	is_int(OUTBOUND_QUARANTINE, p->outbound.action, "default action quarantine");
	policyset_unref(ps);
	ps = pol("outbound: {window: 2h, max_lures: 5}\n",
	    "domains: [corp.example]\noutbound: {action: tempfail, "
	    "max_new_rcpts: 0}\n");
	if (ps == NULL)
		bail("outbound policy");
	is_int(7200, policyset_default(ps)->outbound.window, "window 2h");
	p = policyset_for_domain(ps, "corp.example");
	is_int(7200, p->outbound.window, "a domain inherits the window");
	is_int(5, p->outbound.max_lures, "and max_lures");
	is_int(0, p->outbound.max_new_rcpts, "and sets max_new_rcpts 0");
	is_int(OUTBOUND_TEMPFAIL, p->outbound.action, "and action tempfail");
	policyset_unref(ps);
	ps = pol("outbound: {window: 90}\n", NULL);
	ok(ps != NULL && policyset_default(ps)->outbound.window == 90,
	    "a bare number is seconds");
	policyset_unref(ps);
	ps = pol("outbound: {window: 1d}\n", NULL);
	ok(ps != NULL && policyset_default(ps)->outbound.window == 86400, "window 1d");
	policyset_unref(ps);
	pol_bad("outbound: {window: 0}\n", "outbound.window: must be 1s to 7d",
	    "window 0");
	pol_bad("outbound: {window: 8d}\n", "must be 1s to 7d", "window 8d");
	pol_bad("outbound: {window: 10x}\n", "expected a duration",
	    "window 10x");
	pol_bad("outbound: {window: \"10m\"}\n", "expected a duration",
	    "quoted window");
	pol_bad("outbound: {max_lures: -1}\n", "outbound.max_lures",
	    "negative max_lures");
	pol_bad("outbound: {action: bounce}\n", "expected quarantine or tempfail",
	    "bad action");
	pol_bad("outbound: {windw: 10m}\n", "windw", "unknown nested key");
	return done_testing();
}
