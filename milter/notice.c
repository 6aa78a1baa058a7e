/*
 * notice.c: notices and digests (see notice.h).  Takes the config (its
 * notice_dir, submit_command and quarantine_dir, whose secret file
 * keys the X-Lurewall-Notice MAC), a kind, a language and the items;
 * returns a complete message.  Bounds: a template is read up to
 * NOTICE_TEMPLATE_MAX bytes; a digest lists at most NOTICE_MAX_ITEMS;
 * every attacker-written value is sanitized, defanged and cut to
 * NOTICE_FIELD_MAX bytes.  The submit command runs without a shell,
 * bounded by NOTICE_TIMEOUT seconds.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "argv.h"
#include "config.h"
#include "log.h"
#include "notice.h"
#include "sbuf.h"
#include "spawn.h"

#define NOTICE_TEMPLATE_MAX	65536
#define NOTICE_FIELD_MAX	200
#define NOTICE_TIMEOUT		60
#define NOTICE_KEY_LEN		32

static const char *const kind_files[] = { "notice", "admin", "digest" };

/* Used when the admin's template is missing: short and English. */
#define BUILTIN_RCPT \
	"Subject: [lurewall] A message to you is held: %{subject}\n\n" \
	"A message to you was held as a suspected malware lure.\n" \
	"Date: %{date}\nFrom: %{from}\nSubject: %{subject}\n" \
	"Why: %{rules} (score %{score})\nID: %{id}\n" \
	"To have it released, ask %{contact}, quoting the ID.\n"
#define BUILTIN_ADMIN \
	"Subject: [lurewall] Held: %{subject}\n\n" \
	"Date: %{date}\nFrom: %{from}\nSubject: %{subject}\n" \
	"Recipients: %{rcpts}\nWhy: %{rules} (score %{score})\nID: %{id}\n" \
	"lurewall quarantine show %{id}\n"
#define BUILTIN_DIGEST \
	"Subject: [lurewall] %{count} message(s) to you are held\n\n" \
	"%{items}\n\nTo have one released, ask %{contact}, quoting its ID.\n"
static const char *const builtin[] = {
	BUILTIN_RCPT, BUILTIN_ADMIN, BUILTIN_DIGEST
};

char *
notice_defang(const char *s)
{
	struct sbuf	 b;
	size_t		 i, n = strlen(s);

	sbuf_init(&b);
	for (i = 0; i < n; i++) {
		if (strncasecmp(s + i, "http", 4) == 0) {
			sbuf_add(&b, s[i] == 'H' ? "HXXP" : "hxxp", 4);
			i += 3;
		} else if (strncmp(s + i, "://", 3) == 0) {
			sbuf_add(&b, "[:]//", 5);
			i += 2;
		} else if (s[i] == '.' && i > 0 && i + 1 < n &&
		    isalnum((unsigned char)s[i - 1]) &&
		    isalnum((unsigned char)s[i + 1]))
			sbuf_add(&b, "[.]", 3);
		else
			sbuf_add(&b, s + i, 1);
	}
	return sbuf_take(&b);
}

/* Attacker text for a notice: one line, bounded, defanged. */
static char *
clean(const char *s)
{
	char	*c, *d;

	if ((c = lw_sanitize(s != NULL ? s : "", s != NULL ? strlen(s) : 0,
	    NOTICE_FIELD_MAX)) == NULL)
		return NULL;
	d = notice_defang(c);
	free(c);
	return d;
}

static char *
read_template(const struct config *cfg, enum notice_kind kind,
    const char *lang)
{
	char	 path[4096], *buf;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s.%s.txt",
	    cfg->notice_dir != NULL ? cfg->notice_dir : ".",
	    kind_files[kind], lang);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("notice template %s (using the built-in text)",
		    path);
		return strdup(builtin[kind]);
	}
	if ((buf = malloc(NOTICE_TEMPLATE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < NOTICE_TEMPLATE_MAX &&
	    (n = read(fd, buf + len, NOTICE_TEMPLATE_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if (strncmp(buf, "Subject:", 8) != 0 || strstr(buf, "\n\n") == NULL) {
		log_warnx("notice template %s: not \"Subject: ...\", a blank "
		    "line and the body (using the built-in text)", path);
		free(buf);
		return strdup(builtin[kind]);
	}
	return buf;
}

struct field {
	const char	*name;
	const char	*value;
};

/* Replace %{name} in t with the values (unknown names stay as they are). */
static char *
fill(const char *t, const struct field *f, size_t nf)
{
	struct sbuf	 b;
	const char	*p, *e;
	size_t		 i, n;

	sbuf_init(&b);
	for (p = t; *p != '\0'; ) {
		if (p[0] != '%' || p[1] != '{' ||
		    (e = strchr(p + 2, '}')) == NULL) {
			sbuf_add(&b, p, 1);
			p++;
			continue;
		}
		n = (size_t)(e - (p + 2));
		for (i = 0; i < nf; i++)
			if (strlen(f[i].name) == n &&
			    strncmp(f[i].name, p + 2, n) == 0)
				break;
		if (i == nf)
			sbuf_add(&b, p, (size_t)(e + 1 - p));
		else
			sbuf_add(&b, f[i].value, strlen(f[i].value));
		p = e + 1;
	}
	return sbuf_take(&b);
}

/* RFC 2047: =?UTF-8?B?...?= words of at most 45 input bytes each. */
static void
encode_subject(struct sbuf *b, const char *s)
{
	unsigned char	 out[64];
	size_t		 n = strlen(s), i, take;
	bool		 ascii = true;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			ascii = false;
	if (ascii && n <= 900) {
		sbuf_add(b, s, n);
		return;
	}
	for (i = 0; i < n; i += take) {
		take = n - i > 45 ? 45 : n - i;
		/* Never split a UTF-8 sequence across two words. */
		while (take > 0 && i + take < n &&
		    ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		if (take == 0)
			take = n - i > 45 ? 45 : n - i;
		EVP_EncodeBlock(out, (const unsigned char *)s + i, (int)take);
		if (i > 0)
			sbuf_add(b, "\n ", 2);
		sbuf_addf(b, "=?UTF-8?B?%s?=", out);
	}
}

static void
encode_body(struct sbuf *b, const char *s)
{
	unsigned char	 out[80];
	size_t		 n = strlen(s), i, take;

	for (i = 0; i < n; i += take) {
		take = n - i > 57 ? 57 : n - i;
		EVP_EncodeBlock(out, (const unsigned char *)s + i, (int)take);
		sbuf_addf(b, "%s\n", out);
	}
}

static bool
load_key(const struct config *cfg, unsigned char key[NOTICE_KEY_LEN])
{
	char	 path[4096];
	ssize_t	 n;
	int	 fd;

	if (cfg->quarantine_dir == NULL)
		return false;
	snprintf(path, sizeof(path), "%s/secret", cfg->quarantine_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, key, NOTICE_KEY_LEN);
	close(fd);
	return n == NOTICE_KEY_LEN;
}

/* hex HMAC-SHA256 over "lurewall-notice", message_id and time. */
static bool
notice_mac(const struct config *cfg, const char *message_id, long long t,
    char hex[65])
{
	unsigned char	 key[NOTICE_KEY_LEN], mac[32];
	unsigned int	 maclen = 0;
	char		*data;
	int		 len;
	size_t		 i;
	bool		 ok;

	if (!load_key(cfg, key))
		return false;
	len = asprintf(&data, "lurewall-notice%c%s%c%lld", 0, message_id, 0,
	    t);
	ok = len > 0 && HMAC(EVP_sha256(), key, sizeof(key),
	    (unsigned char *)data, (size_t)len, mac, &maclen) != NULL &&
	    maclen == sizeof(mac);
	if (len > 0)
		free(data);
	OPENSSL_cleanse(key, sizeof(key));
	for (i = 0; ok && i < sizeof(mac); i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return ok;
}

bool
notice_verify(const struct config *cfg, const char *hdrval,
    const char *message_id, time_t now)
{
	char		 want[65], got[65], mid[1024];
	long long	 t;
	size_t		 n;

	if (hdrval == NULL || message_id == NULL)
		return false;
	while (*hdrval == ' ' || *hdrval == '\t')
		hdrval++;
	if (sscanf(hdrval, "%lld; %64[0-9a-f]", &t, got) != 2 ||
	    strlen(got) != 64)
		return false;
	if (t > (long long)now + 300 || (long long)now - t > NOTICE_MAX_AGE)
		return false;
	/* The Message-ID as the MTA gives it: unfolded, trimmed. */
	while (*message_id == ' ' || *message_id == '\t' ||
	    *message_id == '\r' || *message_id == '\n')
		message_id++;
	n = strcspn(message_id, " \t\r\n");
	if (n == 0 || n >= sizeof(mid))
		return false;
	memcpy(mid, message_id, n);
	mid[n] = '\0';
	if (!notice_mac(cfg, mid, t, want))
		return false;
	return CRYPTO_memcmp(want, got, 64) == 0;
}

enum lw_err
notice_compose(const struct config *cfg, enum notice_kind kind,
    const char *lang, const char *from, const char *to,
    const struct notice_item *items, size_t n, time_t now, char **out,
    size_t *outlen)
{
	struct sbuf	 b, list;
	struct field	 f[10];
	struct tm	 tm;
	unsigned char	 rnd[8];
	char		*t = NULL, *text = NULL, *body, *subj, *c[4], date[64];
	char		 mid[256], mac[65], when[32], score[16], count[16];
	const char	*dom;
	size_t		 i, k;
	bool		 ja = strcmp(lang, "ja") == 0;

	*out = NULL;
	if (n == 0 || (kind != NOTICE_DIGEST && n != 1))
		return LW_EINVAL;
	if (n > NOTICE_MAX_ITEMS)
		n = NOTICE_MAX_ITEMS;
	if ((t = read_template(cfg, kind, lang)) == NULL)
		return LW_ENOMEM;
	memset(c, 0, sizeof(c));
	sbuf_init(&list);
	for (i = 0; i < n; i++) {
		const struct notice_item	*it = &items[i];

		for (k = 0; k < 4; k++)
			free(c[k]);
		c[0] = clean(it->from != NULL && *it->from != '\0' ?
		    it->from : it->sender);
		c[1] = clean(it->subject);
		c[2] = clean(it->rules);
		c[3] = clean(it->rcpts);
		localtime_r(&it->when, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		snprintf(score, sizeof(score), "%d", it->score);
		if (kind == NOTICE_DIGEST)
			sbuf_addf(&list, ja ? "- %s  差出人: %s\n  件名: %s\n"
			    "  理由: %s  ID: %s\n" : "- %s  from: %s\n"
			    "  subject: %s\n  why: %s  ID: %s\n", when,
			    c[0] ? c[0] : "", c[1] ? c[1] : "",
			    c[2] ? c[2] : "", it->id);
	}
	snprintf(count, sizeof(count), "%zu", n);
	k = 0;
	f[k++] = (struct field){ "date", when };
	f[k++] = (struct field){ "from", c[0] ? c[0] : "" };
	f[k++] = (struct field){ "subject", c[1] ? c[1] : "" };
	f[k++] = (struct field){ "rules", c[2] ? c[2] : "" };
	f[k++] = (struct field){ "rcpts", c[3] ? c[3] : "" };
	f[k++] = (struct field){ "score", score };
	f[k++] = (struct field){ "id", items[0].id };
	f[k++] = (struct field){ "contact", from };
	f[k++] = (struct field){ "count", count };
	body = sbuf_take(&list);
	f[k++] = (struct field){ "items", body != NULL ? body : "" };
	text = fill(t, f, k);
	free(body);
	for (i = 0; i < 4; i++)
		free(c[i]);
	free(t);
	if (text == NULL)
		return LW_ENOMEM;

	/* "Subject: ..." up to the first newline, then the body. */
	subj = text + 8;
	subj += strspn(subj, " \t");
	body = strstr(text, "\n\n");
	*strchr(text, '\n') = '\0';
	body += 2;
	if ((dom = strrchr(from, '@')) == NULL)
		dom = "@localhost";
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(text);
		return LW_EINTERNAL;
	}
	snprintf(mid, sizeof(mid), "<lurewall-notice.%lld.%02x%02x%02x%02x"
	    "%02x%02x%02x%02x%s>", (long long)now, rnd[0], rnd[1], rnd[2],
	    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], dom);
	if (!notice_mac(cfg, mid, (long long)now, mac)) {
		log_warnx("notice: cannot read the quarantine secret in %s",
		    cfg->quarantine_dir != NULL ? cfg->quarantine_dir : "-");
		free(text);
		return LW_EIO;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	sbuf_init(&b);
	sbuf_addf(&b, "%s: %lld; %s\n", NOTICE_HEADER, (long long)now, mac);
	sbuf_addf(&b, "From: %s\nTo: %s\nSubject: ", from, to);
	encode_subject(&b, subj);
	sbuf_addf(&b, "\nDate: %s\nMessage-ID: %s\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Auto-Submitted: auto-generated\n\n", date, mid);
	encode_body(&b, body);
	free(text);
	if ((*out = sbuf_take(&b)) == NULL)
		return LW_ENOMEM;
	*outlen = strlen(*out);
	return LW_OK;
}

enum lw_err
notice_send(const struct config *cfg, const char *to, const char *msg,
    size_t len, bool detach)
{
	char		*rcpt[1], **argv;
	int		 rc;
	enum lw_err	 e;

	rcpt[0] = (char *)to;
	if ((e = config_submit_argv(cfg->submit_command != NULL ?
	    cfg->submit_command : CONFIG_DEFAULT_SUBMIT, "", rcpt, 1,
	    &argv)) != LW_OK)
		return e;
	if (argv[0] == NULL || argv[0][0] != '/') {
		config_argv_free(argv);
		return LW_EINVAL;
	}
	rc = spawn_run(argv, msg, len, detach, NOTICE_TIMEOUT);
	config_argv_free(argv);
	if (rc != 0) {
		log_warnx("notice to %s: submit command %s (status %d)", to,
		    rc == -1 ? "could not run" : "failed", rc);
		return LW_EIO;
	}
	return LW_OK;
}

struct hook_arg {
	const struct notice_item *it;
	const char	*action;
	const char	*qid;
};

/* on_quarantine_command's placeholders; %r, the recipients, is a word. */
static bool
hook_placeholder(void *arg, char c, char *num, const char **val)
{
	const struct hook_arg	*h = arg;

	switch (c) {
	case 'i': *val = h->it->id; break;
	case 'q': *val = h->qid; break;
	case 's': snprintf(num, 32, "%d", h->it->score); *val = num; break;
	case 'R': *val = h->it->rules; break;
	case 'f': *val = h->it->sender; break;
	case 'F': *val = h->it->from; break;
	case 'a': *val = h->action; break;
	default: return false;
	}
	return true;
}

void
notice_hook(const char *t, const struct notice_item *it, const char *action,
    const char *qid, char *const *rcpts, size_t nrcpts)
{
	static char *const	 none[1] = { NULL };
	struct hook_arg		 h = { it, action, qid };
	char			**argv = NULL;

	if (t == NULL)
		return;
	if (argv_expand(t, hook_placeholder, &h, rcpts != NULL ? rcpts : none,
	    rcpts != NULL ? nrcpts : 0, &argv) != LW_OK)
		goto nomem;
	if (argv[0] == NULL || argv[0][0] != '/')
		log_warnx("on_quarantine_command: not an absolute program");
	else if (spawn_run(argv, "", 0, true, NOTICE_TIMEOUT) != 0)
		log_warnx("on_quarantine_command: could not start %s",
		    argv[0]);
	config_argv_free(argv);
	return;
 nomem:
	log_warnx("on_quarantine_command: out of memory");
	config_argv_free(argv);
}
