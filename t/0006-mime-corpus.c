/*
 * 0006-mime-corpus: every message of the shared corpus parses cleanly,
 * and the shapes the analyzers rely on come out right.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "charset.h"
#include "mime.h"
#include "tap.h"

struct check {
	unsigned	 parts;
	unsigned	 attachments;
	unsigned	 texts;
	bool		 text_ok;	/* every text is valid UTF-8 */
	const char	*want_file;	/* filename looked for */
	bool		 found_file;
	const char	*want_text;	/* substring looked for in a text */
	bool		 found_text;
};

static bool
walk(const struct mime_part *mp, void *arg)
{
	struct check	*c = arg;

	c->parts++;
	if (mp->is_attachment)
		c->attachments++;
	if (mp->text != NULL) {
		c->texts++;
		if (!charset_valid_utf8(mp->text, mp->text_len) ||
		    strlen(mp->text) != mp->text_len)
			c->text_ok = false;
		if (c->want_text != NULL &&
		    strstr(mp->text, c->want_text) != NULL)
			c->found_text = true;
	}
	if (c->want_file != NULL && mp->filename != NULL &&
	    strcmp(mp->filename, c->want_file) == 0)
		c->found_file = true;
	return true;
}

static struct message *
load(const char *name, struct findings *fs)
{
	struct message	*m = NULL;
	struct limits	 lim;
	unsigned char	*raw;
	size_t		 len;
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/messages/%s", tap_corpus(), name);
	raw = tap_slurp(path, &len);
	limits_default(&lim);
	memset(fs, 0, sizeof(*fs));
	if (mime_parse(raw, len, &lim, fs, &m) != LW_OK)
		m = NULL;
	free(raw);
	return m;
}

static void
spot(const char *name, const char *file, const char *text,
    const char *display, const char *subject)
{
	struct findings	 fs;
	struct message	*m;
	struct check	 c;
	DIR		*d;
	struct dirent	*de;
	char		 dir[4096], full[512] = "";

	/* corpus names carry a description; match on the prefix */
	snprintf(dir, sizeof(dir), "%s/messages", tap_corpus());
	if ((d = opendir(dir)) == NULL)
		bail("cannot open %s", dir);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, name, strlen(name)) == 0)
			snprintf(full, sizeof(full), "%s", de->d_name);
	closedir(d);
	if ((m = load(full, &fs)) == NULL) {
		ok(false, "%s parses", name);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.text_ok = true;
	c.want_file = file;
	c.want_text = text;
	mime_visit(m, walk, &c);
	if (file != NULL)
		ok(c.found_file, "%s: attachment named %s", name, file);
	if (text != NULL)
		ok(c.found_text, "%s: text has \"%s\"", name, text);
	if (display != NULL)
		is_str(display, m->from.display, "%s: From display", name);
	if (subject != NULL)
		is_str(subject, m->subject, "%s: Subject", name);
	mime_free(m);
	findings_free(&fs);
}

int
main(void)
{
	struct findings	 fs;
	struct message	*m;
	struct check	 c;
	struct dirent	*de;
	DIR		*d;
	char		 dir[4096];
	unsigned	 n = 0;

	alarm(120);
	snprintf(dir, sizeof(dir), "%s/messages", tap_corpus());
	if ((d = opendir(dir)) == NULL)
		bail("cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".eml") == NULL)
			continue;
		n++;
		if ((m = load(de->d_name, &fs)) == NULL) {
			ok(false, "%s parses", de->d_name);
			continue;
		}
		memset(&c, 0, sizeof(c));
		c.text_ok = true;
		mime_visit(m, walk, &c);
		ok(m->root != NULL && c.parts == m->nparts && c.texts > 0 &&
		    c.text_ok && m->from.domain != NULL && m->subject != NULL &&
		    fs.n == 0,
		    "%s: %u parts, %u attachments, clean", de->d_name,
		    c.parts, c.attachments);
		if (fs.n > 0)
			diag("first finding: %s %s", fs.v[0].rule,
			    fs.v[0].detail);
		mime_free(m);
		findings_free(&fs);
	}
	closedir(d);
	ok(n >= 26, "corpus has its %u messages", n);

	spot("lure-02", "見積書_20220301.xls", "いつもお世話になっております",
	    "山田 太郎", "Re: 見積書の件");
	spot("benign-08",
	    "議事録_2022年3月1日_定例会議_取引商事株式会社_営業部.docx",
	    "議事録をお送りします", "山田 太郎",
	    "議事録（2022年3月1日 定例会議）");
	spot("lure-13", "Contract_signed.pdf", "the signed contract", NULL,
	    "Re: contract");
	spot("lure-06", "member_list.xlsm", NULL,
	    "yamada@torihiki.example.ne.jp", "Member list");
	spot("lure-11", NULL, "パスワード：１２３４", NULL, NULL);
	spot("lure-07", NULL, NULL, "佐藤 花子 (経理部)", NULL);
	spot("benign-01", "契約書ドラフト.zip", "パスワード：Tk9#m2Lp", NULL,
	    NULL);
	spot("benign-04", NULL, "shared folders and audit logs", NULL, NULL);
	return done_testing();
}
