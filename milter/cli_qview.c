/*
 * cli_qview.c: how `lurewall quarantine list` and `show` render items:
 * the list table (columns fitted to the terminal: COLUMNS, else the
 * tty's width, else 80), the detail view, the findings, the headers,
 * the MIME tree, and the --json lines.
 *
 * Everything an attacker wrote (subjects, addresses, details, headers)
 * is sanitized before it reaches the terminal (lw_sanitize: no control
 * characters, valid UTF-8, at most FIELD_MAX bytes) and escaped in
 * --json output.  Column widths count East Asian wide characters as two
 * (libunistring).
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unistr.h>
#include <uniwidth.h>

#include "cli_quarantine.h"
#include "cli_qview.h"
#include "json.h"
#include "lurewall.h"
#include "mime.h"
#include "quarantine.h"
#include "util.h"

#define FIELD_MAX	1024	/* bytes of attacker text we print */

/* Sanitized copy for the terminal; "-" for NULL. */
char *
qview_safe(const char *s)
{
	char	*r;

	r = lw_sanitize(s != NULL ? s : "-", strlen(s != NULL ? s : "-"),
	    FIELD_MAX);
	if (r == NULL) {
		fprintf(stderr, "lurewall: out of memory\n");
		exit(CLI_TROUBLE);
	}
	return r;
}

/* Display columns of a sanitized UTF-8 string. */
static size_t
cols(const char *s)
{
	int	w;

	w = u8_width((const uint8_t *)s, strlen(s), "UTF-8");
	return w > 0 ? (size_t)w : 0;
}

/*
 * Cut s (sanitized UTF-8) in place to at most max columns, marking a
 * cut with "..."; a wide character is never split.
 */
static void
fit(char *s, size_t max)
{
	const uint8_t	*p = (const uint8_t *)s;
	size_t		 len = strlen(s), i = 0, w = 0, keep = 0;
	ucs4_t		 uc;
	int		 n, cw;

	if (cols(s) <= max)
		return;
	if (max < 3) {
		s[0] = '\0';
		return;
	}
	while (i < len) {
		n = u8_mbtouc(&uc, p + i, len - i);
		cw = uc_width(uc, "UTF-8");
		if (cw < 0)
			cw = 1;
		if (w + (size_t)cw + 3 > max)
			break;
		w += (size_t)cw;
		i += (size_t)n;
		keep = i;
	}
	memcpy(s + keep, "...", 4);
}

/* Print s padded with blanks to width columns. */
static void
pad(FILE *f, const char *s, size_t width)
{
	size_t	w = cols(s);

	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}

static size_t
term_width(void)
{
	struct winsize	 ws;
	const char	*c = getenv("COLUMNS");
	long		 v;
	char		*end;

	if (c != NULL && *c != '\0') {
		errno = 0;
		v = strtol(c, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 20 && v <= 10000)
			return (size_t)v;
	}
	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void
print_rules_json(FILE *f, const struct quarantine_item *it)
{
	const char	*p, *c;
	char		*r;
	bool		 first = true;
	size_t		 i, j;

	fputc('[', f);
	if (it->rules != NULL && *it->rules != '\0') {
		for (p = it->rules;; p = c + 1) {
			c = strchrnul(p, ',');
			if ((r = lw_strndup(p, (size_t)(c - p))) != NULL) {
				if (!first)
					fputc(',', f);
				json_string(f, r);
				first = false;
				free(r);
			}
			if (*c == '\0')
				break;
		}
	} else {
		/* No rules line: the distinct finding rules, in order. */
		for (i = 0; i < it->nfindings; i++) {
			for (j = 0; j < i; j++)
				if (strcmp(it->findings[j].rule,
				    it->findings[i].rule) == 0)
					break;
			if (j < i)
				continue;
			if (!first)
				fputc(',', f);
			json_string(f, it->findings[i].rule);
			first = false;
		}
	}
	fputc(']', f);
}

/* pending, held or released (split PPAP items say so themselves). */
static const char *
item_state(const struct quarantine_item *it)
{
	if (it->released)
		return "released";
	if (it->state != NULL && strcmp(it->state, "pending") == 0)
		return "pending";
	return "held";
}

static void
print_item_json(FILE *f, const struct quarantine_item *it)
{
	char	ts[32];
	size_t	i;

	fputc('{', f);
	json_key(f, "id", 1);
	json_string(f, it->id);
	if (it->host != NULL) {
		json_key(f, "host", 0);
		json_string(f, it->host);
	}
	lw_time_fmt(ts, sizeof(ts), LW_TIME_UTC, it->time);
	json_key(f, "time", 0);
	json_string(f, ts);
	json_key(f, "epoch", 0);
	fprintf(f, "%lld", (long long)it->time);
	json_key(f, "qid", 0);
	json_string(f, it->qid);
	json_key(f, "client_addr", 0);
	json_string(f, it->client_addr);
	json_key(f, "client_name", 0);
	json_string(f, it->client_name);
	json_key(f, "helo", 0);
	json_string(f, it->helo);
	json_key(f, "mail_from", 0);
	json_string(f, it->mail_from);
	json_key(f, "from", 0);
	json_string(f, it->from != NULL ? it->from : it->mail_from);
	json_key(f, "from_name", 0);
	json_string(f, it->from_display);
	json_key(f, "rcpts", 0);
	json_strings(f, it->rcpts, it->nrcpts);
	json_key(f, "subject", 0);
	json_string(f, it->subject);
	json_key(f, "score", 0);
	fprintf(f, "%d", it->score);
	json_key(f, "action", 0);
	json_string(f, it->action);
	json_key(f, "rules", 0);
	print_rules_json(f, it);
	json_key(f, "findings", 0);
	fputc('[', f);
	for (i = 0; i < it->nfindings; i++)
		json_finding(f, i == 0, it->findings[i].rule,
		    it->findings[i].score, it->findings[i].part,
		    it->findings[i].detail);
	fputc(']', f);
	json_key(f, "size", 0);
	fprintf(f, "%llu", (unsigned long long)it->size);
	json_key(f, "sha256", 0);
	json_string(f, it->sha256);
	json_key(f, "state", 0);
	json_string(f, item_state(it));
	json_key(f, "expires", 0);
	if (it->expires != 0 && strcmp(item_state(it), "pending") == 0) {
		lw_time_fmt(ts, sizeof(ts), LW_TIME_UTC, it->expires);
		json_string(f, ts);
	} else
		fputs("null", f);
	if (it->reason != NULL) {
		json_key(f, "reason", 0);
		json_string(f, it->reason);
	}
	json_key(f, "observed", 0);
	fputs(it->mode != NULL && strcmp(it->mode, "observed") == 0 ?
	    "true" : "false", f);
	json_key(f, "mta_hold", 0);
	fputs(it->mta_hold ? "true" : "false", f);
	json_key(f, "released", 0);
	fputs(it->released ? "true" : "false", f);
	if (it->released) {
		lw_time_fmt(ts, sizeof(ts), LW_TIME_UTC, it->released_time);
		json_key(f, "released_time", 0);
		json_string(f, ts);
		json_key(f, "released_by", 0);
		json_string(f, it->released_by);
		json_key(f, "released_to", 0);
		json_strings(f, it->released_to, it->nreleased_to);
		json_key(f, "release_count", 0);
		fprintf(f, "%u", it->release_count);
	}
	fputs("}\n", f);
}


struct tree_out {
	FILE	*f;
};

static bool
show_part(const struct mime_part *p, void *arg)
{
	struct tree_out	*o = arg;
	char		*name, *ctype;
	unsigned	 d;

	name = p->filename != NULL ? qview_safe(p->filename) : NULL;
	ctype = qview_safe(p->ctype);
	fputs("  ", o->f);
	for (d = 0; d < p->depth && d < 32; d++)
		fputs("  ", o->f);
	fprintf(o->f, "%s %s %zu bytes%s%s%s\n",
	    *p->path != '\0' ? p->path : "-", ctype, p->body_len,
	    name != NULL ? " \"" : "", name != NULL ? name : "",
	    name != NULL ? "\"" : "");
	free(name);
	free(ctype);
	return true;
}

static void
show_findings(const struct quarantine_item *it)
{
	char	*rule, *part, *detail;
	size_t	 i;

	for (i = 0; i < it->nfindings; i++) {
		rule = qview_safe(it->findings[i].rule);
		part = qview_safe(*it->findings[i].part != '\0' ?
		    it->findings[i].part : "-");
		detail = qview_safe(it->findings[i].detail);
		printf("  %4d  %-28s %s%s%s\n", it->findings[i].score, rule,
		    part, *detail != '\0' ? ": " : "", detail);
		free(rule);
		free(part);
		free(detail);
	}
}

static void
show_headers(const unsigned char *raw, size_t len)
{
	const char	*p = (const char *)raw, *end = p + len, *nl;
	size_t		 n;
	char		*line;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		/* Folded lines keep their leading blank; tabs become ' '. */
		if ((line = lw_sanitize(p, n, 65536)) == NULL)
			exit(CLI_TROUBLE);
		puts(line);
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static void
show_line(const char *label, const char *val)
{
	char	*s = qview_safe(val);

	printf("%-12s %s\n", label, s);
	free(s);
}

static void
show_meta(const struct quarantine_item *it)
{
	char	ts[32], *a, *b, *c;
	size_t	i;

	show_line("id:", it->id);
	if (it->host != NULL)
		show_line("host:", it->host);
	lw_time_fmt(ts, sizeof(ts), LW_TIME_MINUTE, it->time);
	show_line("time:", ts);
	show_line("queue id:", it->qid);
	a = qview_safe(it->client_name);
	b = qview_safe(it->client_addr);
	c = qview_safe(it->helo);
	printf("%-12s %s [%s] helo=%s\n", "client:", a, b, c);
	free(a);
	free(b);
	free(c);
	show_line("sender:", it->mail_from != NULL && *it->mail_from == '\0' ?
	    "<>" : it->mail_from);
	printf("%-12s", "recipients:");
	for (i = 0; i < it->nrcpts; i++) {
		a = qview_safe(it->rcpts[i]);
		printf(" %s%s", a, i + 1 < it->nrcpts ? "," : "");
		free(a);
	}
	printf("%s\n", it->nrcpts == 0 ? " -" : "");
	if (it->from_display != NULL) {
		a = qview_safe(it->from_display);
		b = qview_safe(it->from);
		printf("%-12s \"%s\" <%s>\n", "from:", a, b);
		free(a);
		free(b);
	} else
		show_line("from:", it->from);
	show_line("subject:", it->subject);
	a = qview_safe(it->action);
	printf("%-12s %d (%s)\n", "score:", it->score, a);
	free(a);
	show_line("rules:", it->rules);
	show_line("state:", item_state(it));
	if (it->mode != NULL && strcmp(it->mode, "observed") == 0)
		show_line("mode:", "observed (delivered unchanged; kept to "
		    "show what enforcement would hold)");
	if (it->mta_hold)
		show_line("mta hold:", "the MTA holds the other copy under "
		    "the queue id; release and delete act on both");
	if (it->expires != 0 && strcmp(item_state(it), "pending") == 0) {
		lw_time_fmt(ts, sizeof(ts), LW_TIME_MINUTE, it->expires);
		a = qview_safe(it->on_timeout);
		printf("%-12s %s (then %s)\n", "expires:", ts, a);
		free(a);
	}
	if (it->reason != NULL)
		show_line("reason:", it->reason);
	printf("%-12s %llu bytes\n", "size:", (unsigned long long)it->size);
	show_line("sha256:", it->sha256);
	if (it->released) {
		lw_time_fmt(ts, sizeof(ts), LW_TIME_MINUTE, it->released_time);
		a = qview_safe(it->released_by);
		printf("%-12s %s by %s to", "released:", ts, a);
		free(a);
		for (i = 0; i < it->nreleased_to; i++) {
			a = qview_safe(it->released_to[i]);
			printf(" %s%s", a, i + 1 < it->nreleased_to ? "," : "");
			free(a);
		}
		printf(" (%u time%s)\n", it->release_count,
		    it->release_count == 1 ? "" : "s");
	} else
		show_line("released:", "no");
}

/*
 * Five columns of local time, as ls and mail clients do: "06:26"
 * today, "12-03" this year, "2025" before; the zone is the header.
 */
static void
fmt_short(time_t t, char *buf, size_t len)
{
	struct tm	tm, now;
	time_t		n = time(NULL);
	size_t		r;

	if (localtime_r(&t, &tm) == NULL || localtime_r(&n, &now) == NULL) {
		snprintf(buf, len, "%lld", (long long)t);
		return;
	}
	if (tm.tm_year != now.tm_year)
		r = strftime(buf, len, "%Y", &tm);
	else if (tm.tm_yday != now.tm_yday)
		r = strftime(buf, len, "%m-%d", &tm);
	else
		r = strftime(buf, len, "%H:%M", &tm);
	if (r == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* Cut s to max columns from the left ("...ner.example"). */
static void
fit_left(char *s, size_t max)
{
	size_t	len = strlen(s), i = 0;

	if (cols(s) <= max)
		return;
	if (max <= 3) {
		s[0] = '\0';
		return;
	}
	/* Whole characters off the front until the rest fits. */
	while (i < len && cols(s + i) > max - 3) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
	}
	memmove(s + 3, s + i, len - i + 1);
	memcpy(s, "...", 3);
}

/*
 * The shortest prefix length of the ids' random part (after the '-')
 * that tells every listed item apart, at least QVIEW_SHORT_MIN, as git
 * abbreviates commits; show, release and delete take it back.
 */
static size_t
short_len(struct quarantine_item **v, size_t n)
{
	const char	*a, *b;
	size_t		 len = QVIEW_SHORT_MIN, i, j, k;

	for (i = 0; i < n; i++) {
		a = qview_short(v[i]->id);
		for (j = i + 1; j < n; j++) {
			b = qview_short(v[j]->id);
			for (k = 0; a[k] != '\0' && a[k] == b[k]; k++)
				;
			if (k + 1 > len)
				len = k + 1;
		}
	}
	return len;
}

const char *
qview_short(const char *id)
{
	const char	*dash = strrchr(id, '-');

	return dash != NULL && dash[1] != '\0' ? dash + 1 : id;
}

/*
 * "Display Name @domain" (the name is the main clue for a hijack, the
 * domain says who really sent it), cut to max columns: the name gives
 * way first, then the domain from the left.
 */
static char *
from_cell(const struct quarantine_item *it, size_t max)
{
	const char	*addr = it->from != NULL ? it->from : it->mail_from;
	const char	*at = addr != NULL ? strrchr(addr, '@') : NULL;
	char		*name, *dom, *out;
	size_t		 dw, nw;

	if (addr != NULL && *addr == '\0')
		addr = "<>";
	dom = qview_safe(at != NULL ? at : addr);
	if (it->from_display != NULL && *it->from_display != '\0')
		name = qview_safe(it->from_display);
	else if (at != NULL && at > addr) {
		/* No display name: the local part stands in for it. */
		if ((out = lw_strndup(addr, (size_t)(at - addr))) == NULL) {
			fprintf(stderr, "lurewall: out of memory\n");
			exit(CLI_TROUBLE);
		}
		name = qview_safe(out);
		free(out);
	} else
		name = NULL;
	/* The name keeps 8 columns at least; the domain gives way left. */
	nw = name != NULL ? (cols(name) < 8 ? cols(name) : 8) + 1 : 0;
	if (cols(dom) + nw > max)
		fit_left(dom, max > nw ? max - nw : 0);
	dw = cols(dom);
	nw = name != NULL && max > dw ? max - dw : 0;
	if (name != NULL && nw >= 4) {
		fit(name, nw - 1);
		if (lw_asprintf(&out, "%s %s", name, dom) != LW_OK) {
			fprintf(stderr, "lurewall: out of memory\n");
			exit(CLI_TROUBLE);
		}
	} else if ((out = strdup(dom)) == NULL) {
		fprintf(stderr, "lurewall: out of memory\n");
		exit(CLI_TROUBLE);
	}
	free(name);
	free(dom);
	return out;
}

/* The rules by score, as many as fit in max columns, then "+N". */
static char *
rules_cell(const struct quarantine_item *it, size_t max)
{
	char		*all = qview_safe(it->rules != NULL && *it->rules !=
			    '\0' ? it->rules : "-"), *p, more[16];
	size_t		 n = 1, shown = 0, cut = 0, i;

	for (p = all; *p != '\0'; p++)
		n += *p == ',';
	if (strlen(all) <= max)
		return all;
	/* Keep whole rules while the rest count still fits. */
	for (i = 0; all[i] != '\0'; i++) {
		if (all[i] != ',')
			continue;
		snprintf(more, sizeof(more), "+%zu", n - shown - 1);
		if (i + strlen(more) > max)
			break;
		shown++;
		cut = i;
	}
	if (shown == 0) {
		snprintf(more, sizeof(more), "+%zu", n - 1);
		fit(all, max > strlen(more) ? max - strlen(more) : 3);
		cut = strlen(all);
	}
	snprintf(more, sizeof(more), "+%zu", n - (shown ? shown : 1));
	all[cut] = '\0';
	if (lw_asprintf(&p, "%s%s", all, more) != LW_OK) {
		fprintf(stderr, "lurewall: out of memory\n");
		exit(CLI_TROUBLE);
	}
	free(all);
	return p;
}

static void
zone_now(char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = time(NULL);

	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Z",
	    &tm) == 0)
		snprintf(buf, len, "local");
}

/* The list's state: an observe-mode copy says so before anything. */
static const char *
list_state(const struct quarantine_item *it)
{
	if (it->mode != NULL && strcmp(it->mode, "observed") == 0)
		return "observed";
	return item_state(it);
}

/* --wide: everything, one item a line, nothing cut. */
static void
list_wide(struct quarantine_item **v, size_t n)
{
	char	ts[48], *from, *name, *rcpt, *rules, *subj, *host;
	size_t	i;
	bool	hosts = false;

	for (i = 0; i < n; i++)
		hosts |= v[i]->host != NULL;
	if (n > 0)
		printf("ID  %sTIME  FROM  RCPT  SCORE  STATE  RULES  SUBJECT\n",
		    hosts ? "HOST  " : "");
	for (i = 0; i < n; i++) {
		lw_time_fmt(ts, sizeof(ts), LW_TIME_MINUTE_ZONE, v[i]->time);
		from = qview_safe(v[i]->from != NULL ? v[i]->from :
		    v[i]->mail_from != NULL && *v[i]->mail_from == '\0' ?
		    "<>" : v[i]->mail_from);
		name = v[i]->from_display != NULL ?
		    qview_safe(v[i]->from_display) : NULL;
		rcpt = qview_safe(v[i]->nrcpts ? v[i]->rcpts[0] : NULL);
		rules = qview_safe(v[i]->rules != NULL && *v[i]->rules !=
		    '\0' ? v[i]->rules : "-");
		subj = qview_safe(v[i]->subject);
		printf("%s  ", v[i]->id);
		if (hosts) {
			host = qview_safe(v[i]->host);
			printf("%s  ", host);
			free(host);
		}
		printf("%s  %s%s%s%s  %s", ts,
		    name != NULL ? "\"" : "", name != NULL ? name : "",
		    name != NULL ? "\" " : "", from, rcpt);
		if (v[i]->nrcpts > 1)
			printf(" +%zu", v[i]->nrcpts - 1);
		printf("  %d  %s  %s  %s\n", v[i]->score, list_state(v[i]),
		    rules, subj);
		free(from);
		free(name);
		free(rcpt);
		free(rules);
		free(subj);
	}
}

void
qview_list(struct quarantine_item **v, size_t n, int mode)
{
	size_t	  i, idw, width, rest, wfrom, wrules, wsubj, wstate, hostw;
	char	  ts[32], zone[32], hdr[48], *from, *rules, *subj, *t, *h;

	if (mode == QVIEW_JSON) {
		for (i = 0; i < n; i++)
			print_item_json(stdout, v[i]);
		return;
	}
	if (mode == QVIEW_WIDE) {
		list_wide(v, n);
		return;
	}
	/*
	 * ID DATE FROM SCORE STATE RULES SUBJECT, fitted to the terminal
	 * (80 columns at least): of what the fixed columns leave, FROM
	 * takes half and RULES a quarter, the subject the rest.
	 */
	width = term_width();
	if (width < 80)
		width = 80;
	idw = short_len(v, n);
	for (i = 0, wstate = 5; i < n; i++)
		if (strlen(list_state(v[i])) > wstate)
			wstate = strlen(list_state(v[i]));
	/* With a shared index, HOST after ID (cut at QVIEW_HOST_MAX). */
	for (i = 0, hostw = 0; i < n; i++)
		if (v[i]->host != NULL && cols(v[i]->host) > hostw)
			hostw = cols(v[i]->host) < 4 ? 4 : cols(v[i]->host);
	if (hostw > QVIEW_HOST_MAX)
		hostw = QVIEW_HOST_MAX;
	rest = width - (idw + 1 + 5 + 1 + 5 + 1 + wstate + 1) -
	    (hostw > 0 ? hostw + 1 : 0);
	wfrom = rest / 2 < 26 ? 26 : rest / 2 > 40 ? 40 : rest / 2;
	wrules = rest / 4 < 12 ? 12 : rest / 4 > 40 ? 40 : rest / 4;
	/* The subject keeps 10 columns: FROM, then RULES give way. */
	while (wfrom + wrules + 2 + 10 > rest && wfrom > 16)
		wfrom--;
	while (wfrom + wrules + 2 + 10 > rest && wrules > 8)
		wrules--;
	wsubj = rest > wfrom + wrules + 2 ? rest - wfrom - 1 - wrules - 1 : 1;
	if (n > 0) {
		zone_now(zone, sizeof(zone));
		pad(stdout, "ID", idw + 1);
		if (hostw > 0)
			pad(stdout, "HOST", hostw + 1);
		snprintf(hdr, sizeof(hdr), "%.5s", zone);
		pad(stdout, hdr, 5 + 1);
		pad(stdout, "FROM", wfrom + 1);
		printf("%5s ", "SCORE");
		pad(stdout, "STATE", wstate + 1);
		pad(stdout, "RULES", wrules + 1);
		puts("SUBJECT");
	}
	for (i = 0; i < n; i++) {
		printf("%-*.*s ", (int)idw, (int)idw, qview_short(v[i]->id));
		if (hostw > 0) {
			h = qview_safe(v[i]->host);
			fit(h, hostw);
			pad(stdout, h, hostw + 1);
			free(h);
		}
		fmt_short(v[i]->time, ts, sizeof(ts));
		pad(stdout, ts, 5 + 1);
		from = from_cell(v[i], wfrom);
		pad(stdout, from, wfrom + 1);
		printf("%5d ", v[i]->score);
		pad(stdout, list_state(v[i]), wstate + 1);
		rules = rules_cell(v[i], wrules);
		pad(stdout, rules, wrules + 1);
		subj = qview_safe(v[i]->subject);
		if (strcmp(list_state(v[i]), "pending") == 0) {
			/* Split PPAP: waiting for its password mail. */
			lw_time_fmt(ts, sizeof(ts), LW_TIME_MINUTE,
			    v[i]->expires);
			if (lw_asprintf(&t, "[pending until %s] %s", ts,
			    subj) != LW_OK)
				exit(CLI_TROUBLE);
			free(subj);
			subj = t;
		}
		fit(subj, wsubj);
		puts(subj);
		free(from);
		free(rules);
		free(subj);
	}
}

void
qview_show(const struct quarantine_item *it, const unsigned char *raw,
    size_t len, int mode)
{
	struct findings		 fs = { 0 };
	struct message		*msg = NULL;
	struct limits		 lim;
	struct tree_out		 o = { stdout };

	switch (mode) {
	case 'r':
		fwrite(raw, 1, len, stdout);
		break;
	case 'H':
		show_headers(raw, len);
		break;
	case 'f':
		show_findings(it);
		break;
	case 'j':
		print_item_json(stdout, it);
		break;
	default:
		show_meta(it);
		printf("findings:\n");
		show_findings(it);
		if (raw == NULL) {
			/* Another host's item: its message stays there. */
			printf("message:     kept on %s (show it there)\n",
			    it->host != NULL ? it->host : "another host");
			break;
		}
		printf("mime tree:\n");
		limits_default(&lim);
		if (mime_parse(raw, len, &lim, &fs, &msg) == LW_OK &&
		    msg != NULL) {
			mime_visit(msg, show_part, &o);
			mime_free(msg);
		} else
			printf("  (cannot parse: out of memory)\n");
		findings_free(&fs);
		break;
	}
}
