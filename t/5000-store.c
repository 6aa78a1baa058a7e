/*
 * 5000-store: the quarantine store round trip: open creates the layout
 * with private modes and the secret; an item with hostile text reads
 * back field for field; list is newest first; delete; bad ids refused;
 * damaged metadata is reported, not trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"
#include "qfill.h"

static const char raw[] =
    "From: Accounting <billing@example.net>\r\n"
    "To: alice@example.com\r\n"
    "Subject: =?UTF-8?B?6KuL5rGC5pu4?=\r\n"
    "Message-ID: <abc@example.net>\r\n"
    "\r\n"
    "body\x00with NUL\r\n";

static mode_t
mode_of(const char *dir, const char *name)
{
	struct stat	st;
	char		path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static void
write_text(const char *path, const char *text)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		bail("%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

int
main(void)
{
	struct quarantine	*q, *q2;
	struct quarantine_item	*it, **v;
	struct qfill		 f;
	const char		*dir;
	char			 qdir[1024], id[QUARANTINE_ID_MAX],
				 id2[QUARANTINE_ID_MAX], id3[QUARANTINE_ID_MAX],
				 path[2048];
	const char		*hostile = "Re: invoice\r\nX-Evil: 1\t\\x41\x1b[31m"
				    " \xe8\xab\x8b\xe6\xb1\x82";
	unsigned char		*m;
	size_t			 n, len, items, damaged, cleaned;
	char			*buf;

	plan(0);
	dir = tap_tmpdir("5000-store");
	snprintf(qdir, sizeof(qdir), "%s/q", dir);
	umask(022);

	is_int(LW_OK, quarantine_open(qdir, &q), "open creates the store");
	is_int(0700, mode_of(qdir, "."), "directory is 0700");
	is_int(0700, mode_of(qdir, "new"), "new/ is 0700");
	is_int(0700, mode_of(qdir, "tmp"), "tmp/ is 0700");
	is_int(0600, mode_of(qdir, "secret"), "secret is 0600");
	snprintf(path, sizeof(path), "%s/secret", qdir);
	{
		struct stat st;
		ok(stat(path, &st) == 0 && st.st_size == 32,
		    "secret holds 32 bytes");
	}

	qfill_init(&f, "4XyZ12", "billing@example.net", "alice@example.com",
	    "bob@example.com", hostile, 17, "OFFICE_VBA_AUTOEXEC",
	    "ARCHIVE_ENCRYPTED");
	is_int(LW_OK, quarantine_store_at(q, (const unsigned char *)raw,
	    sizeof(raw) - 1, &f.env, &f.res, 1700000000, id),
	    "store an item");
	ok(quarantine_id_valid(id), "its id is valid: %s", id);
	ok(strncmp(id, "20231114T221320-", 16) == 0, "id starts with time");
	snprintf(path, sizeof(path), "new/%s", id);
	is_int(0700, mode_of(qdir, path), "item dir is 0700");
	snprintf(path, sizeof(path), "new/%s/message", id);
	is_int(0600, mode_of(qdir, path), "message is 0600");
	snprintf(path, sizeof(path), "new/%s/meta", id);
	is_int(0600, mode_of(qdir, path), "meta is 0600");

	is_int(LW_OK, quarantine_read(q, id, &it), "read it back");
	is_str(id, it->id, "id");
	is_int(1700000000, (long long)it->time, "time");
	is_str("4XyZ12", it->qid, "qid");
	is_str("192.0.2.7", it->client_addr, "client addr");
	is_str("mx.example.net", it->helo, "helo");
	is_str("billing@example.net", it->mail_from, "envelope sender");
	is_int(2, (long long)it->nrcpts, "two recipients");
	is_str("bob@example.com", it->nrcpts == 2 ? it->rcpts[1] : NULL,
	    "second recipient");
	is_str(hostile, it->subject, "hostile subject survives exactly");
	is_str("Accounting", it->from_display, "from display");
	is_int(17, it->score, "score");
	is_str("quarantine", it->action, "action");
	is_str("OFFICE_VBA_AUTOEXEC,ARCHIVE_ENCRYPTED", it->rules, "rules");
	is_int(2, (long long)it->nfindings, "two findings");
	is_str("2/invoice.zip/doc.xls", it->findings[0].part, "part path");
	is_str("macro AutoOpen", it->findings[0].detail, "detail");
	is_int(17, it->findings[0].score, "finding score");
	is_int(sizeof(raw) - 1, (long long)it->size, "size");
	{
		unsigned char md[32];
		unsigned mdlen, i;
		char hex[65];

		EVP_Digest(raw, sizeof(raw) - 1, md, &mdlen, EVP_sha256(),
		    NULL);
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		is_str(hex, it->sha256, "sha256 of the message");
	}
	ok(!it->released, "not released");
	quarantine_item_free(it);

	is_int(LW_OK, quarantine_message(q, id, &m, &len), "message back");
	ok(len == sizeof(raw) - 1 && memcmp(m, raw, len) == 0,
	    "message bytes exactly as stored (NUL included)");
	free(m);

	/* meta lines: attacker CR/LF never starts a line of its own */
	snprintf(path, sizeof(path), "%s/new/%s/meta", qdir, id);
	buf = (char *)tap_slurp(path, &len);
	ok(strstr(buf, "\nX-Evil") == NULL && strstr(buf, "\x1b") == NULL,
	    "CR, LF and ESC are escaped in the metadata file");
	free(buf);

	/* a second and third item, older and newer */
	is_int(LW_OK, quarantine_store_at(q, (const unsigned char *)"a\n", 2,
	    NULL, NULL, 1600000000, id2), "store with no envelope or result");
	is_int(LW_OK, quarantine_store_at(q, (const unsigned char *)"b\n", 2,
	    &f.env, &f.res, 1800000000, id3), "store a newer one");
	is_int(LW_OK, quarantine_list(q, &v, &n), "list");
	is_int(3, (long long)n, "three items");
	if (n == 3) {
		is_str(id3, v[0]->id, "newest first");
		is_str(id, v[1]->id, "then the middle one");
		is_str(id2, v[2]->id, "oldest last");
		ok(v[2]->subject == NULL && v[2]->nrcpts == 0,
		    "missing fields stay NULL");
	}
	quarantine_items_free(v, n);

	/* bad ids */
	ok(!quarantine_id_valid("../secret"), "'../secret' is refused");
	ok(!quarantine_id_valid("a/b"), "'a/b' is refused");
	ok(!quarantine_id_valid(".hidden"), "'.hidden' is refused");
	ok(!quarantine_id_valid(""), "empty id is refused");
	ok(!quarantine_id_valid("-rf"), "'-rf' is refused");
	is_int(LW_EINVAL, quarantine_read(q, "../secret", &it),
	    "read refuses a path id");
	is_int(LW_EINVAL, quarantine_delete(q, "x/../../y"),
	    "delete refuses a path id");
	is_int(LW_ENOTFOUND, quarantine_read(q, "20990101T000000Z-00", &it),
	    "unknown id: not found");

	/* a second open reuses the same secret */
	is_int(LW_OK, quarantine_open(qdir, &q2), "reopen");
	{
		char *h1, *h2;
		quarantine_release_header(q, id, "<a@b>", "d", 0, &h1);
		quarantine_release_header(q2, id, "<a@b>", "d", 0, &h2);
		is_str(h1, h2, "same secret after reopen");
		free(h1);
		free(h2);
	}
	quarantine_close(q2);

	/* delete */
	is_int(LW_OK, quarantine_delete(q, id2), "delete");
	is_int(LW_ENOTFOUND, quarantine_read(q, id2, &it), "gone");
	is_int(LW_ENOTFOUND, quarantine_delete(q, id2), "delete twice: not found");

	/* damaged metadata: reported by verify, skipped by list */
	snprintf(path, sizeof(path), "%s/new/%s/meta", qdir, id3);
	write_text(path, "lurewall-quarantine 1\nid broken\\q\n");
	is_int(LW_EMALFORMED, quarantine_read(q, id3, &it),
	    "a bad escape is malformed");
	is_int(LW_OK, quarantine_list(q, &v, &n), "list with a damaged item");
	is_int(1, (long long)n, "the damaged item is left out");
	quarantine_items_free(v, n);
	is_int(LW_OK, quarantine_verify(q, NULL, &items, &damaged, &cleaned),
	    "verify");
	is_int(2, (long long)items, "verify saw two items");
	is_int(1, (long long)damaged, "and one damaged");

	/* a changed message byte is caught by its SHA-256 */
	quarantine_delete(q, id3);
	snprintf(path, sizeof(path), "%s/new/%s/message", qdir, id);
	buf = (char *)tap_slurp(path, &len);
	buf[0] = 'f';
	{
		FILE *fp = fopen(path, "w");
		fwrite(buf, 1, len, fp);
		fclose(fp);
	}
	free(buf);
	quarantine_verify(q, NULL, &items, &damaged, &cleaned);
	is_int(1, (long long)damaged, "a modified message is damaged");

	/* parser edge cases */
	{
		static const char *bad[] = {
			"",
			"lurewall-quarantine 2\n",
			"lurewall-quarantine 1\nid x\n",
			"lurewall-quarantine 1\nid a\ntime 1\nsize 1\n"
			    "sha256 00\n",
			"lurewall-quarantine 1\nid a\nid a\n",
			"lurewall-quarantine 1\nid a\ntime 1\nsize 1\nsha256 "
			    "0000000000000000000000000000000000000000000000000000"
			    "000000000000\nsubject torn",
			"lurewall-quarantine 1\nfinding A\t1\tp\n",
			"lurewall-quarantine 1\nsubject a\\x00b\n",
			"lurewall-quarantine 1\nscore 99999999999\n",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			it = NULL;
			is_int(LW_EMALFORMED, quarantine_meta_parse(bad[i],
			    strlen(bad[i]), &it), "bad metadata %zu refused", i);
			ok(it == NULL, "no item for bad metadata %zu", i);
		}
	}

	qfill_free(&f);
	quarantine_close(q);
	return done_testing();
}
