/*
 * 4000-config: conf/lurewall.yaml loads; defaults, relative paths,
 * limits with size suffixes, the submit_command template, and errors
 * that name file, line, column and key path.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tap.h"
#include "config.h"
#include "yamlutil.h"

static const char *dir;

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

/* Load text as a config; expect an error starting with want. */
static void
bad(const char *text, const char *want, const char *what)
{
	struct config	*c = NULL;
	char		 err[512], full[512];
	const char	*p = put("bad.yaml", text);
	enum lw_err	 e;

	e = config_load(p, &c, err, sizeof(err));
	snprintf(full, sizeof(full), "%s%s", p, want);
	if (!ok(e == LW_EINVAL && strncmp(err, full, strlen(full)) == 0,
	    "error: %s", what))
		diag("got %d \"%s\", want prefix \"%s\"", e,
		    e ? err : "", full);
	if (e == LW_OK)
		config_free(c);
}

int
main(void)
{
	struct config	*c;
	struct ydoc	*d;
	char		 err[512], path[PATH_MAX], real[PATH_MAX], **argv;
	char		*rcpts[] = { "a@example.jp", "b@example.jp" };
	char		*buf;
	size_t		 len;
	FILE		*f;
	enum lw_err	 e;

	/* The shipped production sample. */
	snprintf(path, sizeof(path), "%s/conf/lurewall.yaml", tap_top());
	e = config_load(path, &c, err, sizeof(err));
	if (!is_int(LW_OK, e, "shipped conf/lurewall.yaml loads"))
		bail("%s", err);
	is_str("unix:/var/spool/postfix/lurewall/lurewall.sock", c->socket,
	    "shipped socket");
	is_str("lurewall", c->user, "shipped user");
	is_str("/var/lib/lurewall/quarantine", c->quarantine_dir,
	    "shipped quarantine_dir");
	snprintf(path, sizeof(path), "%s/conf", tap_top());
	if (realpath(path, real) == NULL)
		bail("realpath %s", path);
	strcat(real, "/policy.d");
	is_str(real, c->policy_dir, "policy_dir resolves against conf/");
	ok(c->file[0] == '/', "file is absolute");
	is_int(LOG_MAIL, c->syslog_facility, "facility mail");
	is_int(ONERR_TEMPFAIL, c->on_error, "on_error tempfail");
	is_int(64LL << 20, (long long)c->limits.max_message_bytes,
	    "max_message_bytes 64M");
	is_int(256 << 10, (long long)c->limits.max_header_bytes,
	    "max_header_bytes 256k");
	is_int(30000, c->limits.scan_timeout_ms, "scan_timeout_ms");
	config_free(c);

	dir = tap_tmpdir("4000-config");
	if (realpath(dir, real) == NULL)
		bail("realpath %s", dir);

	/* Empty file: every default. */
	e = config_load(put("empty.yaml", ""), &c, err, sizeof(err));
	if (!is_int(LW_OK, e, "empty config loads"))
		diag("%s", err);
	else {
		struct limits	l;

		limits_default(&l);
		ok(memcmp(&l, &c->limits, sizeof(l)) == 0,
		    "limits default to limits_default()");
		is_str(CONFIG_DEFAULT_SOCKET, c->socket, "default socket");
		ok(c->user == NULL && c->pidfile == NULL,
		    "no user, no pidfile by default");
		is_str(CONFIG_DEFAULT_SUBMIT, c->submit_command,
		    "default submit_command");
		snprintf(path, sizeof(path), "%s/policy.d", real);
		is_str(path, c->policy_dir, "default policy_dir next to it");
		config_free(c);
	}

	/* Relative paths, sizes, every enum. */
	e = config_load(put("rel.yaml",
	    "socket: unix:run/lw.sock\n"
	    "pidfile: run/lw.pid\n"
	    "quarantine_dir: ../q\n"
	    "policy_dir: /etc/lurewall/policy.d\n"
	    "syslog_facility: local3\n"
	    "on_error: accept\n"
	    "user: ~\n"
	    "submit_command: bin/fake-sendmail -f %f %r\n"
	    "limits:\n"
	    "  max_message_bytes: 100MiB\n"
	    "  memory_body_bytes: 1k\n"
	    "  archive_total_bytes: 2G\n"
	    "  mime_depth: 7\n"
	    "  pcre2_match_limit: 4000000000\n"
	    "  scan_timeout_ms: 1500\n"), &c, err, sizeof(err));
	if (!is_int(LW_OK, e, "config with relative paths loads"))
		diag("%s", err);
	else {
		snprintf(path, sizeof(path), "unix:%s/run/lw.sock", real);
		is_str(path, c->socket, "unix: socket resolved");
		snprintf(path, sizeof(path), "%s/run/lw.pid", real);
		is_str(path, c->pidfile, "pidfile resolved");
		snprintf(path, sizeof(path), "%s/../q", real);
		is_str(path, c->quarantine_dir, "quarantine_dir resolved");
		is_str("/etc/lurewall/policy.d", c->policy_dir,
		    "absolute path kept");
		is_int(LOG_LOCAL3, c->syslog_facility, "local3");
		is_str("local3", c->syslog_facility_name, "facility name");
		is_int(ONERR_ACCEPT, c->on_error, "on_error accept");
		ok(c->user == NULL, "user: ~ is none");
		is_int(100LL << 20, (long long)c->limits.max_message_bytes,
		    "100MiB");
		is_int(1024, (long long)c->limits.memory_body_bytes, "1k");
		is_int(2LL << 30, (long long)c->limits.archive_total_bytes,
		    "2G");
		is_int(7, c->limits.mime_depth, "mime_depth");
		is_int(4000000000LL, c->limits.pcre2_match_limit,
		    "uint32 limit");
		is_int(1500, c->limits.scan_timeout_ms, "scan_timeout_ms");
		is_int(1000, c->limits.archive_entries, "others default");
		snprintf(path, sizeof(path), "%s/bin/fake-sendmail -f %%f %%r",
		    real);
		is_str(path, c->submit_command, "submit program resolved");

		/* The argv expander release uses. */
		if (is_int(LW_OK, config_submit_argv(c->submit_command, "s%x@example.com",
		    rcpts, 2, &argv), "submit argv")) {
			snprintf(path, sizeof(path), "%s/bin/fake-sendmail",
			    real);
			is_str(path, argv[0], "argv[0]");
			is_str("-f", argv[1], "argv[1]");
			is_str("s%x@example.com", argv[2], "%%f expanded");
			is_str("a@example.jp", argv[3], "%%r first");
			is_str("b@example.jp", argv[4], "%%r second");
			ok(argv[5] == NULL, "argv ends");
			config_argv_free(argv);
		}
		if (is_int(LW_OK, config_submit_argv(c->submit_command, NULL, rcpts, 1,
		    &argv), "submit argv, null sender")) {
			is_str("", argv[2], "null sender is \"\"");
			ok(argv[4] == NULL, "one rcpt");
			config_argv_free(argv);
		}

		/* config_print is YAML that parses again. */
		f = open_memstream(&buf, &len);
		config_print(c, f);
		fclose(f);
		e = ydoc_parse("print", buf, len, &d, err, sizeof(err));
		if (is_int(LW_OK, e, "config_print output parses"))
			ok(strcmp(y_get(d->root, "socket")->str,
			    c->socket) == 0 && strcmp(y_get(y_get(d->root,
			    "limits"), "mime_depth")->str, "7") == 0,
			    "printed values");
		else
			diag("%s", err);
		ydoc_free(d);
		free(buf);
		config_free(c);
	}
	{
		char	*r1[] = { "x@y" };

		e = config_load(put("pct.yaml",
		    "submit_command: /bin/echo 100%% -f%f -- %r\n"), &c,
		    err, sizeof(err));
		if (is_int(LW_OK, e, "%%%% and %%f inside a word")) {
			config_submit_argv(c->submit_command, "me@x", r1, 1, &argv);
			is_str("100%", argv[1], "%%%% is %%");
			is_str("-fme@x", argv[2], "%%f inside a word");
			config_argv_free(argv);
			config_free(c);
		} else
			diag("%s", err);
	}

	/* Errors: file, line, column, key path. */
	bad("socket: x\nfoo: 1\n", ":2:1: unknown key \"foo\"",
	    "unknown top key");
	bad("limits:\n  mime_depht: 3\n", ":2:3: limits: unknown key "
	    "\"mime_depht\"", "unknown limits key");
	bad("limits: [1, 2]\n", ":1:9: limits: expected a map, got a list",
	    "limits not a map");
	bad("limits:\n  mime_depth: deep\n", ":2:15: limits.mime_depth: "
	    "expected an integer, got \"deep\"", "integer wanted");
	bad("limits:\n  mime_depth: \"7\"\n", ":2:15: limits.mime_depth: "
	    "expected an integer, got a quoted string", "quoted integer");
	bad("limits:\n  mime_depth: 0\n", ":2:15: limits.mime_depth: 0 is "
	    "out of range", "integer range");
	bad("limits:\n  max_message_bytes: 12X\n", ":2:22: "
	    "limits.max_message_bytes: expected a size", "bad size suffix");
	bad("limits:\n  max_message_bytes: 99999999999G\n", ":2:22: "
	    "limits.max_message_bytes: \"99999999999G\" is out of range",
	    "size out of range");
	bad("limits:\n  scan_timeout_ms: 5s\n", ":2:20: "
	    "limits.scan_timeout_ms: expected an integer", "no suffix on ms");
	bad("syslog_facility: local9\n", ":1:18: syslog_facility: expected "
	    "mail, daemon, user or local0 to local7", "bad facility");
	bad("on_error: reject\n", ":1:11: on_error: expected tempfail or "
	    "accept", "bad on_error");
	bad("learn:\n  enable: maybe\n", ":2:11: learn.enable: ",
	    "learn.enable not a boolean");
	bad("learn:\n  thread_expiry: 12h\n", ":2:18: learn.thread_expiry: "
	    "expected whole days", "learn.thread_expiry in hours");
	bad("learn:\n  max_threads: 0\n", ":2:16: learn.max_threads: ",
	    "learn.max_threads 0");
	bad("learn:\n  mature_mesages: 5\n", ":2:3: learn: unknown key "
	    "\"mature_mesages\"", "learn: a misspelt key");
	bad("socket: [a]\n", ":1:9: socket: expected a string, got a list",
	    "socket wrong type");
	bad("socket: tcp:25\n", ":1:9: socket: expected unix:", "bad socket");
	bad("socket: \"\"\n", ":1:9: socket: must not be empty",
	    "empty socket");
	bad("submit_command: /usr/sbin/sendmail -f %f\n", ":1:17: "
	    "submit_command: needs %r", "submit without %r");
	bad("submit_command: /usr/sbin/sendmail -f %s %r\n", ":1:17: "
	    "submit_command: unknown placeholder", "submit with %s");
	bad("submit_command: /usr/sbin/sendmail --%r\n", ":1:17: "
	    "submit_command: %r must be a word of its own", "%r glued");
	bad("quarantine_dir: /a\nquarantine_dir: /b\n", ":2:1: key "
	    "\"quarantine_dir\" given twice", "duplicate key");
	bad("socket: &a x\npidfile: *a\n", ":2:10: aliases", "alias refused");
	bad("socket: [x\n", ":2:1: did not find expected ',' or ']'",
	    "syntax error has a position");
	bad("- a\n- b\n", ":1:1: expected a map, got a list",
	    "top level not a map");

	/* state: (issue 17) */
	e = config_load(put("state1.yaml", "quarantine_dir: /var/q\n"), &c,
	    err, sizeof(err));
	ok(e == LW_OK && c->state.backend == STATE_LMDB &&
	    strcmp(c->state.path, "/var/state") == 0 &&
	    strcmp(c->state.owner_of, "/var/q") == 0 &&
	    c->state.map_size == (uint64_t)1 << 30 &&
	    state_host_ok(c->state.host_name) &&
	    c->state.redis.pending_bytes == STATE_SHARE_DEFAULT,
	    "state: lmdb in state beside quarantine_dir, 1G map, this "
	    "host's name, 10M shared pending bytes by default");
	if (e == LW_OK)
		config_free(c);
	e = config_load(put("state2.yaml", "state:\n  backend: redis\n"
	    "  map_size: 64M\n  redis:\n    host: 10.0.0.5\n    port: 6380\n"
	    "    db: 2\n    username: lw\n    password: pw\n"
	    "    key_prefix: \"mx:\"\n    timeout: 500ms\n"
	    "    pending_bytes: 2M\n  host_name: mx-2.example\n"), &c, err,
	    sizeof(err));
	ok(e == LW_OK && c->state.backend == STATE_REDIS &&
	    c->state.map_size == 64 << 20 &&
	    strcmp(c->state.redis.host, "10.0.0.5") == 0 &&
	    c->state.redis.port == 6380 && c->state.redis.db == 2 &&
	    strcmp(c->state.redis.username, "lw") == 0 &&
	    strcmp(c->state.redis.password, "pw") == 0 &&
	    strcmp(c->state.redis.key_prefix, "mx:") == 0 &&
	    c->state.redis.timeout_ms == 500 &&
	    c->state.redis.pending_bytes == 2 << 20 &&
	    strcmp(c->state.host_name, "mx-2.example") == 0,
	    "state.redis: every key read");
	if (e == LW_OK)
		config_free(c);
	bad("state:\n  backend: sqlite\n", ":2:12: state.backend: expected "
	    "lmdb, redis or files", "unknown state backend");
	bad("state:\n  redis:\n    timeout: soon\n", ":3:14: "
	    "state.redis.timeout: expected a duration", "bad redis timeout");
	bad("state:\n  redis:\n    pasword: x\n", ":3:5: state.redis: "
	    "unknown key \"pasword\"", "misspelt redis key");
	bad("state:\n  host_name: \"mx 1\"\n", ":2:14: state.host_name: "
	    "expected 1 to 63 letters", "a host_name with a blank");
	bad("state:\n  redis:\n    username: lw\n", ":3:15: "
	    "state.redis.username: a username needs a password",
	    "username without password");

	e = config_load("/nonexistent/lurewall.yaml", &c, err, sizeof(err));
	ok(e == LW_EIO && strstr(err, "/nonexistent/lurewall.yaml") != NULL,
	    "missing file: LW_EIO naming it");
	return done_testing();
}
