/*
 * cli_outbreak.c: `lurewall outbreak list [--json]` and `lurewall
 * outbreak clear SENDER`, on the breaker's store in the config's state
 * (state:, see outbreak.h; the old outbreak_dir when the state cannot
 * be opened, as the daemon does).  The daemon reads the store for every
 * outbound message, so a clear takes effect with the next message; no
 * signal or restart is needed.
 *
 * list prints the tripped senders (sender, trip time, reason, counts,
 * held messages), one line each, or one JSON object a line with
 * --json; sender keys are attacker text and printed sanitized.  Exit
 * codes: 0 ok, 1 clear found no tripped sender of that name, 2 usage,
 * config or store error.
 */
#include <getopt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_exit.h"
#include "cli_outbreak.h"
#include "cli_verb.h"
#include "config.h"
#include "json.h"
#include "outbreak.h"
#include "state.h"
#include "util.h"

/* The verbs' context: the store and the config and state under it. */
struct outbreak_cli {
	struct config		*cfg;
	struct state		*state;
	struct outbreak_store	*st;
};

static int
cmd_list(int argc, char **argv, void *ctx)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct outbreak_store	*st = ((struct outbreak_cli *)ctx)->st;
	struct outbreak_record	*v;
	char			 when[64], *s;
	size_t			 n, i, shown = 0;
	bool			 json = false;
	int			 ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			return cli_usage();
		json = true;
	}
	if (optind != argc)
		return cli_usage();
	if (outbreak_list(st, time(NULL), &v, &n) != LW_OK) {
		fprintf(stderr, "lurewall: outbreak list: %s\n",
		    strerror(errno));
		return CLI_TROUBLE;
	}
	for (i = 0; i < n; i++) {
		if (v[i].tripped == 0)
			continue;
		lw_time_fmt(when, sizeof(when), LW_TIME_LOCAL, v[i].tripped);
		if (json) {
			fputc('{', stdout);
			json_key(stdout, "sender", 1);
			json_string(stdout, v[i].sender);
			json_key(stdout, "tripped", 0);
			printf("%lld", (long long)v[i].tripped);
			json_key(stdout, "tripped_at", 0);
			json_string(stdout, when);
			json_key(stdout, "reason", 0);
			json_string(stdout, v[i].reason);
			json_key(stdout, "lures", 0);
			printf("%u", v[i].trip_lures);
			json_key(stdout, "new_rcpts", 0);
			printf("%u", v[i].trip_new_rcpts);
			json_key(stdout, "held", 0);
			printf("%u", v[i].held);
			json_key(stdout, "last", 0);
			printf("%lld}\n", (long long)v[i].last);
			continue;
		}
		if (shown++ == 0)
			printf("%-24s %-10s %6s %9s %5s  %s\n", "TRIPPED",
			    "REASON", "LURES", "NEW_RCPTS", "HELD", "SENDER");
		s = lw_sanitize(v[i].sender, strlen(v[i].sender), 200);
		printf("%-24s %-10s %6u %9u %5u  %s\n", when, v[i].reason,
		    v[i].trip_lures, v[i].trip_new_rcpts, v[i].held,
		    s != NULL ? s : "?");
		free(s);
	}
	/* An empty table reads like a failure: say it is good news. */
	if (!json && shown == 0)
		printf("no sender is tripped: outbound mail flows\n");
	outbreak_records_free(v, n);
	return fflush(stdout) == 0 ? CLI_OK : CLI_TROUBLE;
}

static int
cmd_clear(int argc, char **argv, void *ctx)
{
	struct outbreak_store	*st = ((struct outbreak_cli *)ctx)->st;
	char	*key, *s;
	bool	 found = false;
	int	 rc;

	if (argc != 2 || *argv[1] == '\0')
		return cli_usage();
	/* Keys are stored lowercased, as outbreak_sender_key makes them. */
	if ((key = strndup(argv[1], OUTBREAK_SENDER_MAX)) == NULL) {
		fprintf(stderr, "lurewall: out of memory\n");
		return CLI_TROUBLE;
	}
	lw_strlower(key);
	s = lw_sanitize(key, strlen(key), 200);
	if (outbreak_clear(st, key, time(NULL), &found) != LW_OK) {
		fprintf(stderr, "lurewall: outbreak clear: %s\n",
		    strerror(errno));
		rc = CLI_TROUBLE;
	} else if (!found) {
		fprintf(stderr, "lurewall: %s: not tripped\n",
		    s != NULL ? s : "?");
		rc = CLI_NO;
	} else {
		printf("cleared %s\n", s != NULL ? s : "?");
		rc = CLI_OK;
	}
	free(s);
	free(key);
	return rc;
}

const struct cli_verb	cli_outbreak_verbs[] = {
	{ "list", cmd_list, "list [--json]", NULL },
	{ "clear", cmd_clear, "clear SENDER", NULL },
	{ NULL, NULL, NULL, NULL }
};

static void
outbreak_cli_close(void *ctx)
{
	struct outbreak_cli	*c = ctx;

	outbreak_close(c->st);
	state_close(c->state);
	config_free(c->cfg);
	free(c);
}

static void *
outbreak_cli_open(const char *config_path)
{
	struct outbreak_cli	*c;
	struct config		*cfg;
	enum lw_err		 e;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fprintf(stderr, "lurewall: out of memory\n");
		return NULL;
	}
	if ((c->cfg = cfg = cli_config(config_path)) == NULL) {
		free(c);
		return NULL;
	}
	/* Where the daemon counts: the state, else (as it does) the files. */
	if ((e = state_open(&cfg->state, false, &c->state)) == LW_OK) {
		if (outbreak_migrate(cfg->outbreak_dir, c->state, NULL) !=
		    LW_OK)
			fprintf(stderr, "lurewall: copying %s into the state "
			    "failed\n", cfg->outbreak_dir);
		e = outbreak_state_open(c->state, &c->st);
	} else {
		fprintf(stderr, "lurewall: state %s: %s; using outbreak_dir\n",
		    cfg->state.backend == STATE_REDIS ? "(redis)" :
		    cfg->state.path, lw_strerror(e));
		c->state = NULL;
		e = outbreak_file_open(cfg->outbreak_dir, &c->st);
	}
	if (e != LW_OK) {
		fprintf(stderr, "lurewall: outbreak store: %s: %s\n",
		    lw_strerror(e), strerror(errno));
		outbreak_cli_close(c);
		return NULL;
	}
	return c;
}

const struct cli_group_ops	cli_outbreak_ops = { outbreak_cli_open,
	outbreak_cli_close };
