/*
 * config.c: conf/lurewall.yaml -> struct config.
 *
 * Takes the path of the daemon's config file; returns a struct config
 * with every key resolved (defaults filled in, relative paths made
 * relative to the config file's directory) or an error naming file,
 * line, column and key path.  Bounds the file to CONFIG_MAX_BYTES.
 * Every key is optional; unknown keys are errors, so a typo never
 * silently keeps a default.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "duration.h"
#include "outbreak.h"
#include "util.h"
#include "yamlutil.h"

#define CONFIG_MAX_BYTES	(1 << 20)
#define CONFIG_MAX_NETWORKS	10000	/* internal_networks entries */
#define CONFIG_MAX_DAEMONS	100	/* outbound_daemon_names entries */

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "mail", LOG_MAIL },
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

enum limit_type {
	LT_SIZE,	/* uint64_t, k/M/G suffixes */
	LT_UINT,	/* unsigned */
	LT_U32,		/* uint32_t */
	LT_MSEC		/* unsigned milliseconds, written as a duration */
};

/*
 * One entry per field of struct limits.  Keys carry no max_ prefix (a
 * limit is a maximum); old is the name a key had before, still read for
 * one release with a warning naming the new key.  scan_timeout_ms, the
 * old name of scan_timeout, was a bare count of milliseconds.
 */
static const struct {
	const char	*name;
	const char	*old;
	size_t		 off;
	enum limit_type	 type;
	uint64_t	 min;
	uint64_t	 max;
} limit_keys[] = {
#define L(k, o, f, t, lo, hi)	{ #k, o, offsetof(struct limits, f), t, lo, hi }
	L(message_bytes, "max_message_bytes", max_message_bytes, LT_SIZE, 1024,
	    1ULL << 40),
	L(memory_body_bytes, NULL, memory_body_bytes, LT_SIZE, 0, 1ULL << 40),
	L(header_bytes, "max_header_bytes", max_header_bytes, LT_SIZE, 998,
	    1ULL << 30),
	L(headers, "max_headers", max_headers, LT_UINT, 1, 1000000),
	L(mime_depth, NULL, mime_depth, LT_UINT, 1, 1000),
	L(mime_parts, NULL, mime_parts, LT_UINT, 1, 1000000),
	L(archive_depth, NULL, archive_depth, LT_UINT, 0, 100),
	L(archive_entries, NULL, archive_entries, LT_UINT, 1, 10000000),
	L(archive_total_bytes, NULL, archive_total_bytes, LT_SIZE, 1,
	    1ULL << 40),
	L(archive_entry_bytes, NULL, archive_entry_bytes, LT_SIZE, 1,
	    1ULL << 40),
	L(archive_ratio, NULL, archive_ratio, LT_UINT, 1, 1000000),
	L(password_candidates, NULL, password_candidates, LT_UINT, 0, 100000),
	L(ole_sectors, NULL, ole_sectors, LT_UINT, 1, 1U << 30),
	L(office_stream_bytes, NULL, office_stream_bytes, LT_SIZE, 1,
	    1ULL << 40),
	L(vba_modules, NULL, vba_modules, LT_UINT, 1, 1000000),
	L(pcre2_match_limit, NULL, pcre2_match_limit, LT_U32, 1, UINT32_MAX),
	L(pcre2_depth_limit, NULL, pcre2_depth_limit, LT_U32, 1, UINT32_MAX),
	L(scan_timeout, "scan_timeout_ms", scan_timeout_ms, LT_MSEC, 1,
	    24ULL * 3600 * 1000),
#undef L
};
#define NLIMITS	(sizeof(limit_keys) / sizeof(limit_keys[0]))

static const char *const top_keys[] = {
	"socket", "user", "pidfile", "syslog_facility", "on_error",
	"quarantine_dir", "policy_dir", "submit_command", "limits",
	"outbound_daemon_names", "internal_networks", "alert_command",
	"outbreak_dir", "state", "metrics", "authserv_id", "notice_dir",
	"on_quarantine_command", "mta", "hold_release_command",
	"hold_delete_command", "hold_flush_command", "mta_queue_dir",
	"learn", NULL
};

static const char *const state_keys[] = {
	"backend", "path", "map_size", "host_name", "redis", NULL
};

static const char *const redis_keys[] = {
	"host", "port", "socket", "db", "username", "password",
	"password_file", "key_prefix", "timeout", "pending_bytes", NULL
};

static const char *const metrics_keys[] = { "listen", NULL };

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	lw_strv_free(c->outbound_daemon_names, c->noutbound_daemon_names);
	state_config_free(&c->state);
	FREE_ALL(c->file, c->socket, c->user, c->pidfile,
	    c->syslog_facility_name, c->quarantine_dir, c->policy_dir,
	    c->submit_command, c->internal_networks, c->alert_command,
	    c->outbreak_dir, c->metrics_listen, c->authserv_id, c->notice_dir,
	    c->on_quarantine_command, c->hold_release_command,
	    c->hold_delete_command, c->hold_flush_command, c->mta_queue_dir);
	free(c);
}

/* Replace *slot with the string at key (if present). */
static enum lw_err
get_str(const struct ydoc *d, const struct ynode *root, const char *key,
    char **slot, bool nullable, char *err, size_t errlen)
{
	const struct ynode	*n;
	char			*s;
	enum lw_err		 e;

	if ((n = y_get(root, key)) == NULL)
		return LW_OK;
	if (nullable && y_isnull(n)) {
		free(*slot);
		*slot = NULL;
		return LW_OK;
	}
	if ((e = y_string(d, n, key, &s, err, errlen)) != LW_OK)
		return e;
	if (*s == '\0') {
		free(s);
		return yerr(d, n, key, err, errlen, "must not be empty");
	}
	free(*slot);
	*slot = s;
	return LW_OK;
}

/* A path key: resolved against the config file's directory. */
static enum lw_err
get_path(const struct ydoc *d, const struct ynode *root, const char *key,
    const char *dir, char **slot, bool nullable, char *err, size_t errlen)
{
	char		*s = NULL, *r;
	enum lw_err	 e;

	if (y_get(root, key) == NULL)
		return LW_OK;
	if ((e = get_str(d, root, key, &s, nullable, err, errlen)) != LW_OK)
		return e;
	free(*slot);
	*slot = NULL;
	if (s == NULL)
		return LW_OK;
	r = y_path_resolve(dir, s);
	free(s);
	if (r == NULL)
		return LW_ENOMEM;
	*slot = r;
	return LW_OK;
}

/* unix:PATH and local:PATH resolve like paths; inet ones stay. */
static enum lw_err
resolve_socket(const char *dir, char **sock)
{
	const char	*p = *sock;
	char		*r;
	size_t		 plen;

	if (strncmp(p, "unix:", 5) == 0)
		plen = 5;
	else if (strncmp(p, "local:", 6) == 0)
		plen = 6;
	else if (strchr(p, ':') == NULL)
		plen = 0;
	else
		return LW_OK;
	if (p[plen] == '/')
		return LW_OK;
	if (asprintf(&r, "%.*s%s/%s", (int)plen, p, dir, p + plen) == -1)
		return LW_ENOMEM;
	free(*sock);
	*sock = r;
	return LW_OK;
}

static bool
socket_ok(const char *s)
{
	const char	*at;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0)
		return strchr(s, ':')[1] != '\0';
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		s = strchr(s, ':') + 1;
		if (*s < '0' || *s > '9')
			return false;
		at = strchr(s, '@');
		return strspn(s, "0123456789") == (size_t)(at != NULL ?
		    at - s : (ptrdiff_t)strlen(s)) && (at == NULL ||
		    at[1] != '\0');
	}
	return strchr(s, ':') == NULL;
}

static enum lw_err
load_limits(const struct ydoc *d, const struct ynode *n, struct limits *l,
    char *err, size_t errlen)
{
	const char	*keys[2 * NLIMITS + 1], *name;
	const struct ynode *v;
	char		 path[128], newpath[128];
	uint64_t	 u;
	long long	 ll;
	size_t		 i, k = 0;
	enum lw_err	 e, r;
	bool		 old;

	for (i = 0; i < NLIMITS; i++) {
		keys[k++] = limit_keys[i].name;
		if (limit_keys[i].old != NULL)
			keys[k++] = limit_keys[i].old;
	}
	keys[k] = NULL;
	if ((r = y_map(d, n, "limits", keys, err, errlen)) != LW_OK &&
	    (r != LW_EINVAL || n->kind != YNODE_MAP))
		return r;
	for (i = 0; i < NLIMITS; i++) {
		name = limit_keys[i].name;
		snprintf(newpath, sizeof(newpath), "limits.%s", name);
		old = false;
		if ((v = y_get(n, name)) == NULL && limit_keys[i].old != NULL &&
		    (v = y_get(n, limit_keys[i].old)) != NULL) {
			name = limit_keys[i].old;
			old = true;
		} else if (v != NULL && limit_keys[i].old != NULL &&
		    y_get(n, limit_keys[i].old) != NULL) {
			r = yerr(d, y_get(n, limit_keys[i].old), newpath, err,
			    errlen, "given twice, also as %s",
			    limit_keys[i].old);
			continue;
		}
		if (v == NULL)
			continue;
		snprintf(path, sizeof(path), "limits.%s", name);
		if (old)
			ywarn_renamed(d, v, path, newpath);
		if (limit_keys[i].type == LT_SIZE) {
			if ((e = y_size(d, v, path, limit_keys[i].min,
			    limit_keys[i].max, &u, err, errlen)) != LW_OK) {
				r = e;	/* every bad limit is reported */
				continue;
			}
			*(uint64_t *)((char *)l + limit_keys[i].off) = u;
			continue;
		}
		if (limit_keys[i].type == LT_MSEC && !old) {
			if (v->kind != YNODE_SCALAR || !v->plain ||
			    strlen(v->str) != v->len ||
			    !duration_parse(v->str, 0, limit_keys[i].max, &u) ||
			    u < limit_keys[i].min) {
				r = yerr(d, v, path, err, errlen,
				    "expected a duration like 500ms, 30s, 2m "
				    "or 1h, at most 24h");
				continue;
			}
			*(unsigned *)((char *)l + limit_keys[i].off) =
			    (unsigned)u;
			continue;
		}
		if ((e = y_int(d, v, path, (long long)limit_keys[i].min,
		    (long long)limit_keys[i].max, &ll, err, errlen)) != LW_OK) {
			r = e;
			continue;
		}
		if (limit_keys[i].type == LT_U32)
			*(uint32_t *)((char *)l + limit_keys[i].off) = ll;
		else
			*(unsigned *)((char *)l + limit_keys[i].off) = ll;
	}
	if (l->memory_body_bytes > l->max_message_bytes)
		l->memory_body_bytes = l->max_message_bytes;
	return r;
}

static enum lw_err
load_networks(const struct ydoc *d, const struct ynode *n, struct config *c,
    char *err, size_t errlen)
{
	struct lw_cidr	*v;
	char		 path[64], *s;
	size_t		 i;
	enum lw_err	 e;

	if (n->kind != YNODE_SEQ)
		return yerr(d, n, "internal_networks", err, errlen,
		    "expected a list of networks (ADDR/BITS), got %s",
		    y_kindname(n));
	if (n->n > CONFIG_MAX_NETWORKS)
		return yerr(d, n, "internal_networks", err, errlen,
		    "at most %d networks", CONFIG_MAX_NETWORKS);
	if ((v = calloc(n->n + 1, sizeof(*v))) == NULL)
		return LW_ENOMEM;
	for (i = 0; i < n->n; i++) {
		snprintf(path, sizeof(path), "internal_networks[%zu]", i);
		if ((e = y_string(d, n->v[i], path, &s, err, errlen)) !=
		    LW_OK) {
			free(v);
			return e;
		}
		if (!config_cidr_parse(s, &v[i])) {
			e = yerr(d, n->v[i], path, err, errlen, "\"%s\" is not "
			    "an IPv4 or IPv6 network (ADDR/BITS)", s);
			free(s);
			free(v);
			return e;
		}
		free(s);
	}
	free(c->internal_networks);
	c->internal_networks = v;
	c->ninternal_networks = n->n;
	return LW_OK;
}

static enum lw_err
load_daemon_names(const struct ydoc *d, const struct ynode *n,
    struct config *c, char *err, size_t errlen)
{
	char		**v;
	size_t		  nv, i;
	enum lw_err	  e;

	if ((e = y_strlist(d, n, "outbound_daemon_names", &v, &nv, err,
	    errlen)) != LW_OK)
		return e;
	for (i = 0; i < nv; i++)
		if (*v[i] == '\0' || strpbrk(v[i], " \t\r\n") != NULL ||
		    nv > CONFIG_MAX_DAEMONS) {
			lw_strv_free(v, nv);
			return yerr(d, nv > CONFIG_MAX_DAEMONS ? n : n->v[i],
			    "outbound_daemon_names", err, errlen,
			    nv > CONFIG_MAX_DAEMONS ? "too many names" :
			    "a name is one word");
		}
	lw_strv_free(c->outbound_daemon_names, c->noutbound_daemon_names);
	c->outbound_daemon_names = v;
	c->noutbound_daemon_names = nv;
	return LW_OK;
}

static enum lw_err
load_alert(const struct ydoc *d, const struct ynode *root, const char *dir,
    struct config *c, char *err, size_t errlen)
{
	const struct ynode	*n = y_get(root, "alert_command");
	const char		*why;
	char			*prog;
	size_t			 w;
	enum lw_err		 e;

	if (n == NULL)
		return LW_OK;
	if ((e = get_str(d, root, "alert_command", &c->alert_command, true,
	    err, errlen)) != LW_OK || c->alert_command == NULL)
		return e;
	if ((why = outbreak_alert_check(c->alert_command)) != NULL)
		return yerr(d, n, "alert_command", err, errlen, "%s", why);
	w = strspn(c->alert_command, " \t");
	if (c->alert_command[w] == '/')
		return LW_OK;
	/* A relative program resolves like any other path. */
	if ((prog = y_path_resolve(dir, c->alert_command + w)) == NULL)
		return LW_ENOMEM;
	free(c->alert_command);
	c->alert_command = prog;
	return LW_OK;
}

/* "2s", "500ms" or a bare number of milliseconds, up to 10 minutes. */
static bool
timeout_parse(const char *s, unsigned *ms)
{
	uint64_t	 v;

	if (!duration_parse(s, DURATION_MS, 600000, &v) || v == 0)
		return false;
	*ms = (unsigned)v;
	return true;
}

static enum lw_err
load_redis(const struct ydoc *d, const struct ynode *n, const char *dir,
    struct state_redis_config *r, char *err, size_t errlen)
{
	const struct ynode	*v;
	char			*s = NULL;
	long long		 ll;
	bool			 good;
	enum lw_err		 e;

	if ((e = y_map(d, n, "state.redis", redis_keys, err, errlen)) !=
	    LW_OK)
		return e;
	if ((e = get_str(d, n, "host", &r->host, true, err, errlen)) !=
	    LW_OK ||
	    (e = get_path(d, n, "socket", dir, &r->socket, true, err,
	    errlen)) != LW_OK ||
	    (e = get_str(d, n, "username", &r->username, true, err,
	    errlen)) != LW_OK ||
	    (e = get_str(d, n, "password", &r->password, true, err,
	    errlen)) != LW_OK ||
	    (e = get_path(d, n, "password_file", dir, &r->password_file,
	    true, err, errlen)) != LW_OK ||
	    (e = get_str(d, n, "key_prefix", &r->key_prefix, false, err,
	    errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "port")) != NULL) {
		if ((e = y_int(d, v, "state.redis.port", 1, 65535, &ll, err,
		    errlen)) != LW_OK)
			return e;
		r->port = (unsigned)ll;
	}
	if ((v = y_get(n, "db")) != NULL) {
		if ((e = y_int(d, v, "state.redis.db", 0, 65535, &ll, err,
		    errlen)) != LW_OK)
			return e;
		r->db = (unsigned)ll;
	}
	if ((v = y_get(n, "pending_bytes")) != NULL) {
		uint64_t	pb;

		if ((e = y_size(d, v, "state.redis.pending_bytes", 0,
		    STATE_VALUE_MAX, &pb, err, errlen)) != LW_OK)
			return e;
		r->pending_bytes = (size_t)pb;
	}
	if ((v = y_get(n, "timeout")) != NULL) {
		if ((e = y_string(d, v, "state.redis.timeout", &s, err,
		    errlen)) != LW_OK)
			return e;
		good = timeout_parse(s, &r->timeout_ms);
		free(s);
		if (!good)
			return yerr(d, v, "state.redis.timeout", err, errlen,
			    "expected a duration like 2s or 500ms (at most "
			    "600s)");
	}
	if (r->password != NULL && r->password_file != NULL)
		return yerr(d, y_get(n, "password_file"),
		    "state.redis.password_file", err, errlen,
		    "give password or password_file, not both");
	if (r->username != NULL && r->password == NULL &&
	    r->password_file == NULL)
		return yerr(d, y_get(n, "username"), "state.redis.username",
		    err, errlen, "a username needs a password");
	return LW_OK;
}

/* state: {backend, path, map_size, redis: {...}} (see state.h). */
static enum lw_err
load_state(const struct ydoc *d, const struct ynode *n, const char *dir,
    struct config *c, char *err, size_t errlen)
{
	const struct ynode	*v;
	char			*s = NULL, *parent;
	enum lw_err		 e;

	if (n != NULL) {
		if ((e = y_map(d, n, "state", state_keys, err, errlen)) !=
		    LW_OK)
			return e;
		if ((v = y_get(n, "backend")) != NULL) {
			if ((e = y_string(d, v, "state.backend", &s, err,
			    errlen)) != LW_OK)
				return e;
			if (!state_backend_parse(s, &c->state.backend)) {
				free(s);
				return yerr(d, v, "state.backend", err,
				    errlen, "expected lmdb, redis or files");
			}
			free(s);
		}
		if ((e = get_path(d, n, "path", dir, &c->state.path, false,
		    err, errlen)) != LW_OK)
			return e;
		if ((v = y_get(n, "map_size")) != NULL &&
		    (e = y_size(d, v, "state.map_size", 1 << 20, 1ULL << 40,
		    &c->state.map_size, err, errlen)) != LW_OK)
			return e;
		if ((e = get_str(d, n, "host_name", &c->state.host_name,
		    false, err, errlen)) != LW_OK)
			return e;
		if (c->state.host_name != NULL &&
		    !state_host_ok(c->state.host_name))
			return yerr(d, y_get(n, "host_name"), "state.host_name",
			    err, errlen, "expected 1 to 63 letters, digits, "
			    "'.', '-' or '_'");
		if ((v = y_get(n, "redis")) != NULL &&
		    (e = load_redis(d, v, dir, &c->state.redis, err,
		    errlen)) != LW_OK)
			return e;
	}
	/*
	 * Default: beside quarantine_dir, not inside it: LMDB keeps its
	 * files open for writing, and the quarantine's file system must
	 * stay free to be remounted read-only under a running daemon.
	 */
	if (c->state.path == NULL) {
		if ((parent = y_dirname(c->quarantine_dir)) == NULL)
			return LW_ENOMEM;
		e = lw_asprintf(&c->state.path, "%s%s%s", parent,
		    strcmp(parent, "/") == 0 ? "" : "/", CONFIG_STATE_SUBDIR);
		free(parent);
		if (e != LW_OK)
			return e;
	}
	/* This host in shared keys: its name, cut to what a key takes. */
	if (c->state.host_name == NULL) {
		char	host[256];

		if (gethostname(host, sizeof(host)) == -1)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		host[strspn(host, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")] = '\0';
		host[STATE_HOST_MAX] = '\0';
		if (host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		if ((c->state.host_name = strdup(host)) == NULL)
			return LW_ENOMEM;
	}
	/* Files root makes (the CLI) go to the quarantine's owner. */
	free(c->state.owner_of);
	if ((c->state.owner_of = strdup(c->quarantine_dir)) == NULL)
		return LW_ENOMEM;
	return LW_OK;
}

/* HOST:PORT or [V6ADDR]:PORT, port 0..65535 (0: any, for tests). */
static bool
listen_ok(const char *s)
{
	const char	*port;
	size_t		 hl;

	if (s[0] == '[') {
		hl = strcspn(s + 1, "]");
		if (hl == 0 || s[1 + hl] != ']' || s[2 + hl] != ':')
			return false;
		port = s + hl + 3;
	} else {
		if ((port = strrchr(s, ':')) == NULL || port == s ||
		    memchr(s, ':', port - s) != NULL)
			return false;
		port++;
	}
	return *port != '\0' && strspn(port, "0123456789") == strlen(port) &&
	    strlen(port) <= 5 && atoi(port) <= 65535;
}

static enum lw_err
load_metrics(const struct ydoc *d, const struct ynode *n, struct config *c,
    char *err, size_t errlen)
{
	const struct ynode	*v;
	char			*s = NULL;
	enum lw_err		 e;

	if (y_isnull(n))
		return LW_OK;
	if ((e = y_map(d, n, "metrics", metrics_keys, err, errlen)) != LW_OK)
		return e;
	if ((v = y_get(n, "listen")) == NULL || y_isnull(v))
		return LW_OK;
	if ((e = y_string(d, v, "metrics.listen", &s, err, errlen)) != LW_OK)
		return e;
	if (!listen_ok(s)) {
		free(s);
		return yerr(d, v, "metrics.listen", err, errlen, "expected "
		    "HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9787");
	}
	free(c->metrics_listen);
	c->metrics_listen = s;
	return LW_OK;
}

/*
 * The loaders of config_fill, one per key or group of keys.  Each
 * returns LW_EINVAL after yerr() and leaves the default in place, so
 * the next one still runs and the admin sees every error at once.
 */
struct fill {
	struct config		*c;
	const struct ydoc	*d;
	const struct ynode	*root;
	const char		*dir;
	char			*err;
	size_t			 errlen;
};

static enum lw_err
fill_socket(struct fill *f)
{
	enum lw_err	e;

	if ((e = get_str(f->d, f->root, "socket", &f->c->socket, false,
	    f->err, f->errlen)) != LW_OK)
		return e;
	if (!socket_ok(f->c->socket))
		return yerr(f->d, y_get(f->root, "socket"), "socket", f->err,
		    f->errlen, "expected unix:/path, local:/path, "
		    "inet:PORT@HOST or inet6:PORT@HOST");
	return resolve_socket(f->dir, &f->c->socket);
}

static enum lw_err
fill_paths(struct fill *f)
{
	struct config	*c = f->c;
	enum lw_err	 e, r = LW_OK;

	if ((e = get_str(f->d, f->root, "user", &c->user, true, f->err,
	    f->errlen)) != LW_OK)
		r = e;
	if ((e = get_path(f->d, f->root, "pidfile", f->dir, &c->pidfile, true,
	    f->err, f->errlen)) != LW_OK && r != LW_ENOMEM)
		r = e;
	if ((e = get_path(f->d, f->root, "quarantine_dir", f->dir,
	    &c->quarantine_dir, false, f->err, f->errlen)) != LW_OK &&
	    r != LW_ENOMEM)
		r = e;
	if ((e = get_path(f->d, f->root, "policy_dir", f->dir,
	    &c->policy_dir, false, f->err, f->errlen)) != LW_OK &&
	    r != LW_ENOMEM)
		r = e;
	if ((e = get_path(f->d, f->root, "outbreak_dir", f->dir,
	    &c->outbreak_dir, false, f->err, f->errlen)) != LW_OK &&
	    r != LW_ENOMEM)
		r = e;
	return r;
}

static enum lw_err
fill_facility(struct fill *f)
{
	const struct ynode	*n;
	char			*s;
	size_t			 i;
	enum lw_err		 e;

	if ((n = y_get(f->root, "syslog_facility")) == NULL)
		return LW_OK;
	if ((e = y_string(f->d, n, "syslog_facility", &s, f->err,
	    f->errlen)) != LW_OK)
		return e;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(s, facilities[i].name) == 0)
			break;
	free(s);
	if (i == sizeof(facilities) / sizeof(facilities[0]))
		return yerr(f->d, n, "syslog_facility", f->err, f->errlen,
		    "expected mail, daemon, user or local0 to local7");
	f->c->syslog_facility = facilities[i].facility;
	free(f->c->syslog_facility_name);
	if ((f->c->syslog_facility_name = strdup(facilities[i].name)) == NULL)
		return LW_ENOMEM;
	return LW_OK;
}

static enum lw_err
fill_on_error(struct fill *f)
{
	const struct ynode	*n;
	char			*s;
	enum lw_err		 e = LW_OK;

	if ((n = y_get(f->root, "on_error")) == NULL)
		return LW_OK;
	if ((e = y_string(f->d, n, "on_error", &s, f->err, f->errlen)) !=
	    LW_OK)
		return e;
	if (strcmp(s, "tempfail") == 0)
		f->c->on_error = ONERR_TEMPFAIL;
	else if (strcmp(s, "accept") == 0)
		f->c->on_error = ONERR_ACCEPT;
	else
		e = yerr(f->d, n, "on_error", f->err, f->errlen,
		    "expected tempfail or accept");
	free(s);
	return e;
}

static enum lw_err
fill_submit(struct fill *f)
{
	struct config		*c = f->c;
	const struct ynode	*n;
	const char		*why;
	char			*prog;
	size_t			 w;
	enum lw_err		 e;

	if ((n = y_get(f->root, "submit_command")) == NULL)
		return LW_OK;
	if ((e = get_str(f->d, f->root, "submit_command", &c->submit_command,
	    false, f->err, f->errlen)) != LW_OK)
		return e;
	if ((why = argv_check(c->submit_command, "fr", true,
	    "unknown placeholder (use %f, %r or %%)")) != NULL)
		return yerr(f->d, n, "submit_command", f->err, f->errlen, "%s",
		    why);
	/* A relative program resolves like any other path. */
	w = strspn(c->submit_command, " \t");
	if (c->submit_command[w] == '/')
		return LW_OK;
	if (strchr(c->submit_command + w, '%') != NULL &&
	    strcspn(c->submit_command + w, "%") <
	    strcspn(c->submit_command + w, " \t"))
		return yerr(f->d, n, "submit_command", f->err, f->errlen,
		    "the program must be a path");
	if ((prog = y_path_resolve(f->dir, c->submit_command + w)) == NULL)
		return LW_ENOMEM;
	free(c->submit_command);
	c->submit_command = prog;
	return LW_OK;
}

static enum lw_err
fill_outbound(struct fill *f)
{
	const struct ynode	*n;
	enum lw_err		 e, r = LW_OK;

	if ((n = y_get(f->root, "internal_networks")) != NULL &&
	    !y_isnull(n))
		r = load_networks(f->d, n, f->c, f->err, f->errlen);
	if ((n = y_get(f->root, "outbound_daemon_names")) != NULL &&
	    !y_isnull(n) && (e = load_daemon_names(f->d, n, f->c, f->err,
	    f->errlen)) != LW_OK && r != LW_ENOMEM)
		r = e;
	if ((e = load_alert(f->d, f->root, f->dir, f->c, f->err,
	    f->errlen)) != LW_OK && r != LW_ENOMEM)
		r = e;
	return r;
}

static enum lw_err
fill_metrics(struct fill *f)
{
	const struct ynode	*n;

	if ((n = y_get(f->root, "metrics")) == NULL)
		return LW_OK;
	return load_metrics(f->d, n, f->c, f->err, f->errlen);
}

static enum lw_err
fill_state(struct fill *f)
{
	return load_state(f->d, y_get(f->root, "state"), f->dir, f->c, f->err,
	    f->errlen);
}

static enum lw_err
fill_learn(struct fill *f)
{
	return config_learn_load(f->d, y_get(f->root, "learn"), &f->c->learn,
	    f->err, f->errlen);
}

static enum lw_err
fill_limits(struct fill *f)
{
	return load_limits(f->d, y_get(f->root, "limits"), &f->c->limits,
	    f->err, f->errlen);
}

/* An argv template (no shell): its program absolute or resolved. */
static enum lw_err
load_command(struct fill *f, const char *key, char **slot)
{
	char		*prog;
	size_t		 w;
	enum lw_err	 e;

	if ((e = get_str(f->d, f->root, key, slot, true, f->err,
	    f->errlen)) != LW_OK || *slot == NULL)
		return e;
	w = strspn(*slot, " \t");
	if ((*slot)[w] == '\0')
		return yerr(f->d, y_get(f->root, key), key, f->err, f->errlen,
		    "no program");
	if ((*slot)[w] == '/')
		return LW_OK;
	if ((prog = y_path_resolve(f->dir, *slot + w)) == NULL)
		return LW_ENOMEM;
	free(*slot);
	*slot = prog;
	return LW_OK;
}

/* authserv_id, notice_dir, on_quarantine_command (issue 19). */
static enum lw_err
fill_notices(struct fill *f)
{
	struct config	*c = f->c;
	enum lw_err	 e, r = LW_OK;

	if ((e = get_str(f->d, f->root, "authserv_id", &c->authserv_id, true,
	    f->err, f->errlen)) != LW_OK)
		r = e;
	else if (c->authserv_id != NULL && (c->authserv_id[0] == '\0' ||
	    strpbrk(c->authserv_id, " \t;()\r\n") != NULL))
		r = yerr(f->d, y_get(f->root, "authserv_id"), "authserv_id",
		    f->err, f->errlen, "one token, as the MTA writes it "
		    "(e.g. mx.example.co.jp)");
	if ((e = get_path(f->d, f->root, "notice_dir", f->dir, &c->notice_dir,
	    false, f->err, f->errlen)) != LW_OK && r != LW_ENOMEM)
		r = e;
	if (c->notice_dir == NULL && (c->notice_dir = y_path_resolve(f->dir,
	    CONFIG_DEFAULT_NOTICEDIR)) == NULL)
		return LW_ENOMEM;
	if ((e = load_command(f, "on_quarantine_command",
	    &c->on_quarantine_command)) != LW_OK && r != LW_ENOMEM)
		r = e;
	return r;
}

/*
 * mta: postfix (the default) or sendmail, and what releases, flushes
 * and deletes the MTA's held copy; the defaults follow mta.
 */
static enum lw_err
fill_mta(struct fill *f)
{
	struct config	*c = f->c;
	char		*s = NULL;
	enum lw_err	 e, r = LW_OK;

	if ((e = get_str(f->d, f->root, "mta", &s, true, f->err,
	    f->errlen)) != LW_OK)
		r = e;
	else if (s == NULL || strcmp(s, "postfix") == 0)
		c->mta = MTA_POSTFIX;
	else if (strcmp(s, "sendmail") == 0)
		c->mta = MTA_SENDMAIL;
	else
		r = yerr(f->d, y_get(f->root, "mta"), "mta", f->err,
		    f->errlen, "expected postfix or sendmail");
	free(s);
	if ((e = load_command(f, "hold_release_command",
	    &c->hold_release_command)) != LW_OK && r != LW_ENOMEM)
		r = e;
	if ((e = load_command(f, "hold_delete_command",
	    &c->hold_delete_command)) != LW_OK && r != LW_ENOMEM)
		r = e;
	if ((e = load_command(f, "hold_flush_command",
	    &c->hold_flush_command)) != LW_OK && r != LW_ENOMEM)
		r = e;
	if ((e = get_path(f->d, f->root, "mta_queue_dir", f->dir,
	    &c->mta_queue_dir, false, f->err, f->errlen)) != LW_OK &&
	    r != LW_ENOMEM)
		r = e;
	if (c->hold_release_command == NULL &&
	    (c->hold_release_command = strdup(c->mta == MTA_POSTFIX ?
	    CONFIG_PF_HOLD_RELEASE : CONFIG_SM_HOLD_RELEASE)) == NULL)
		return LW_ENOMEM;
	if (c->hold_flush_command == NULL &&
	    (c->hold_flush_command = strdup(c->mta == MTA_POSTFIX ?
	    CONFIG_PF_HOLD_FLUSH : CONFIG_SM_HOLD_FLUSH)) == NULL)
		return LW_ENOMEM;
	if (c->hold_delete_command == NULL && c->mta == MTA_POSTFIX &&
	    (c->hold_delete_command = strdup(CONFIG_PF_HOLD_DELETE)) == NULL)
		return LW_ENOMEM;
	if (c->mta_queue_dir == NULL &&
	    (c->mta_queue_dir = strdup(CONFIG_SM_QUEUE_DIR)) == NULL)
		return LW_ENOMEM;
	return r;
}

enum lw_err
config_hold_argv(const char *t, const char *qid, char ***argvp)
{
	size_t	i;

	if (qid == NULL || *qid == '\0' || strlen(qid) > 64)
		return LW_EINVAL;
	for (i = 0; qid[i] != '\0'; i++)
		if (!((qid[i] >= '0' && qid[i] <= '9') ||
		    (qid[i] >= 'A' && qid[i] <= 'Z') ||
		    (qid[i] >= 'a' && qid[i] <= 'z')))
			return LW_EINVAL;
	/* The MTA's hold commands: %q, the queue id. */
	return argv_expand1(t, 'q', qid, NULL, 0, argvp);
}

static enum lw_err (*const fillers[])(struct fill *) = {
	fill_socket, fill_paths, fill_facility, fill_on_error, fill_submit,
	fill_outbound, fill_state, fill_metrics, fill_notices, fill_mta,
	fill_learn, fill_limits,
};

static enum lw_err
config_fill(struct config *c, const struct ydoc *d, const char *dir,
    char *err, size_t errlen)
{
	struct fill	 f = { c, d, d->root, dir, err, errlen };
	size_t		 i;
	enum lw_err	 e, r;

	/* Unknown keys first; the known ones are still checked. */
	if ((r = y_map(d, d->root, NULL, top_keys, err, errlen)) != LW_OK &&
	    r != LW_EINVAL)
		return r;
	if (d->root != NULL && d->root->kind != YNODE_MAP)
		return r;
	for (i = 0; i < sizeof(fillers) / sizeof(fillers[0]); i++) {
		e = fillers[i](&f);
		if (e != LW_OK && e != LW_EINVAL)
			return e;	/* out of memory: stop at once */
		if (e != LW_OK)
			r = e;
	}
	/* Default: beside the held messages, owned by the same user. */
	if (r == LW_OK && c->outbreak_dir == NULL &&
	    lw_asprintf(&c->outbreak_dir, "%s/%s", c->quarantine_dir,
	    CONFIG_OUTBREAK_SUBDIR) != LW_OK)
		return LW_ENOMEM;
	return r;
}

enum lw_err
config_load(const char *path, struct config **out, char *err, size_t errlen)
{
	struct config	*c;
	struct ydoc	*d = NULL;
	char		*dir = NULL, abs[PATH_MAX];
	enum lw_err	 e;

	if (realpath(path, abs) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return LW_EIO;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LW_ENOMEM;
	limits_default(&c->limits);
	state_config_init(&c->state);
	learn_config_init(&c->learn);
	c->syslog_facility = LOG_MAIL;
	c->on_error = ONERR_TEMPFAIL;
	if ((c->file = strdup(abs)) == NULL ||
	    (dir = y_dirname(abs)) == NULL ||
	    (c->socket = strdup(CONFIG_DEFAULT_SOCKET)) == NULL ||
	    (c->syslog_facility_name = strdup("mail")) == NULL ||
	    (c->quarantine_dir = strdup(CONFIG_DEFAULT_QDIR)) == NULL ||
	    (c->policy_dir = y_path_resolve(dir, CONFIG_DEFAULT_POLICYDIR)) ==
	    NULL ||
	    (c->submit_command = strdup(CONFIG_DEFAULT_SUBMIT)) == NULL) {
		e = LW_ENOMEM;
		goto out_config;
	}
	if ((e = ydoc_load(path, CONFIG_MAX_BYTES, &d, err, errlen)) != LW_OK)
		goto out_config;
	if ((e = config_fill(c, d, dir, err, errlen)) != LW_OK)
		goto out_doc;
	ydoc_free(d);
	free(dir);
	*out = c;
	return LW_OK;

 out_doc:
	ydoc_free(d);
 out_config:
	if (e == LW_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	free(dir);
	config_free(c);
	return e;
}

static void
print_kv(FILE *f, const char *key, const char *val)
{
	fprintf(f, "%s: ", key);
	y_print_str(f, val);
	fputc('\n', f);
}

void
config_print(const struct config *c, FILE *f)
{
	size_t		i;
	unsigned	ms;
	const char	*base = (const char *)&c->limits;

	fprintf(f, "# %s\n", c->file);
	print_kv(f, "socket", c->socket);
	print_kv(f, "user", c->user);
	print_kv(f, "pidfile", c->pidfile);
	print_kv(f, "syslog_facility", c->syslog_facility_name);
	print_kv(f, "on_error", c->on_error == ONERR_ACCEPT ? "accept" :
	    "tempfail");
	print_kv(f, "quarantine_dir", c->quarantine_dir);
	print_kv(f, "policy_dir", c->policy_dir);
	print_kv(f, "submit_command", c->submit_command);
	fputs("outbound_daemon_names: [", f);
	for (i = 0; i < c->noutbound_daemon_names; i++) {
		fputs(i ? ", " : "", f);
		y_print_str(f, c->outbound_daemon_names[i]);
	}
	fputs("]\ninternal_networks: [", f);
	for (i = 0; i < c->ninternal_networks; i++) {
		char	buf[INET6_ADDRSTRLEN];

		if (inet_ntop(c->internal_networks[i].af,
		    c->internal_networks[i].addr, buf, sizeof(buf)) == NULL)
			strcpy(buf, "?");
		fprintf(f, "%s\"%s/%u\"", i ? ", " : "", buf,
		    c->internal_networks[i].bits);
	}
	fputs("]\n", f);
	print_kv(f, "alert_command", c->alert_command);
	print_kv(f, "outbreak_dir", c->outbreak_dir);
	print_kv(f, "authserv_id", c->authserv_id);
	print_kv(f, "notice_dir", c->notice_dir);
	print_kv(f, "on_quarantine_command", c->on_quarantine_command);
	print_kv(f, "mta", c->mta == MTA_POSTFIX ? "postfix" : "sendmail");
	print_kv(f, "hold_release_command", c->hold_release_command);
	print_kv(f, "hold_flush_command", c->hold_flush_command);
	print_kv(f, "hold_delete_command", c->hold_delete_command);
	print_kv(f, "mta_queue_dir", c->mta_queue_dir);
	fprintf(f, "state:\n  backend: %s\n",
	    state_backend_name(c->state.backend));
	fputs("  ", f);
	print_kv(f, "path", c->state.path);
	fprintf(f, "  map_size: %" PRIu64 "\n", c->state.map_size);
	fputs("  ", f);
	print_kv(f, "host_name", c->state.host_name);
	fputs("  redis:\n    ", f);
	print_kv(f, "host", c->state.redis.host != NULL ?
	    c->state.redis.host : "127.0.0.1");
	fprintf(f, "    port: %u\n    ", c->state.redis.port);
	print_kv(f, "socket", c->state.redis.socket);
	fprintf(f, "    db: %u\n    ", c->state.redis.db);
	print_kv(f, "username", c->state.redis.username);
	/* Never the password itself. */
	fprintf(f, "    password: %s\n    ",
	    c->state.redis.password != NULL ? "\"(set)\"" : "null");
	print_kv(f, "password_file", c->state.redis.password_file);
	fputs("    ", f);
	print_kv(f, "key_prefix", c->state.redis.key_prefix != NULL ?
	    c->state.redis.key_prefix : STATE_REDIS_PREFIX);
	fprintf(f, "    timeout: %ums\n", c->state.redis.timeout_ms);
	fprintf(f, "    pending_bytes: %zu\n", c->state.redis.pending_bytes);
	config_learn_print(&c->learn, f);
	fprintf(f, "metrics:\n  listen: ");
	y_print_str(f, c->metrics_listen);
	fputc('\n', f);
	fprintf(f, "limits:\n");
	for (i = 0; i < NLIMITS; i++) {
		fprintf(f, "  %s: ", limit_keys[i].name);
		switch (limit_keys[i].type) {
		case LT_SIZE:
			fprintf(f, "%" PRIu64 "\n",
			    *(const uint64_t *)(base + limit_keys[i].off));
			break;
		case LT_UINT:
			fprintf(f, "%u\n",
			    *(const unsigned *)(base + limit_keys[i].off));
			break;
		case LT_MSEC:
			ms = *(const unsigned *)(base + limit_keys[i].off);
			if (ms % 1000 == 0)
				fprintf(f, "%us\n", ms / 1000);
			else
				fprintf(f, "%ums\n", ms);
			break;
		case LT_U32:
			fprintf(f, "%" PRIu32 "\n",
			    *(const uint32_t *)(base + limit_keys[i].off));
			break;
		}
	}
}

void
config_argv_free(char **argv)
{
	size_t	i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

enum lw_err
config_submit_argv(const char *t, const char *sender,
    char *const *rcpts, size_t nrcpts, char ***argvp)
{
	static char *const	none[1] = { NULL };

	/* %f, the envelope sender; %r, the recipients. */
	return argv_expand1(t, 'f', sender != NULL ? sender : "",
	    rcpts != NULL ? rcpts : none, rcpts != NULL ? nrcpts : 0, argvp);
}
