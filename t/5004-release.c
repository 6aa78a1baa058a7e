/*
 * 5004-release: release through a fake submission command that records
 * its argv and stdin.  The message goes out unchanged after one added
 * X-Lurewall-Released line (plus Message-ID/Date when missing), to the
 * original envelope; the header's HMAC verifies and a tampered one does
 * not; a second release refuses unless forced; failures are reported
 * and not recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"
#include "qfill.h"

static const char raw_a[] =
    "From: Billing <billing@partner.example>\r\n"
    "To: alice@example.com\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID:\r\n <inv-4711@partner.example>\r\n"
    "Subject: invoice\r\n"
    "\r\n"
    "body\r\n";

static const char raw_b[] =
    "From: hr@evil.example\n"
    "Subject: no ids\n"
    "\n"
    "body\n";

static char	work[1024], script[1100], argvf[1100], stdinf[1100];

static char *
slurp_or_null(const char *path)
{
	size_t	len;

	if (access(path, F_OK) != 0)
		return NULL;
	return (char *)tap_slurp(path, &len);
}

/* The value of the first line "X-Lurewall-Released: VALUE\r?\n". */
static char *
released_value(const char *out)
{
	const char	*p = "X-Lurewall-Released: ";
	size_t		 n;

	if (out == NULL || strncmp(out, p, strlen(p)) != 0)
		return NULL;
	out += strlen(p);
	n = strcspn(out, "\r\n");
	return strndup(out, n);
}

/* Value of header name in the submitted text (first occurrence). */
static char *
hdr(const char *out, const char *name)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof(pat), "\n%s: ", name);
	if ((p = strstr(out, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	return strndup(p, strcspn(p, "\r\n"));
}

int
main(void)
{
	struct quarantine	*q, *q2;
	struct quarantine_item	*it;
	struct qfill		 f;
	char			 dir[1100], id_a[QUARANTINE_ID_MAX],
				 id_b[QUARANTINE_ID_MAX], id_c[QUARANTINE_ID_MAX],
				 tmpl[1300], err[512], *out, *args, *val, *bad;
	FILE			*fp;

	plan(0);
	snprintf(work, sizeof(work), "%s", tap_tmpdir("5004-release"));
	snprintf(dir, sizeof(dir), "%s/q", work);
	snprintf(script, sizeof(script), "%s/fake-sendmail", work);
	snprintf(argvf, sizeof(argvf), "%s/argv", work);
	snprintf(stdinf, sizeof(stdinf), "%s/stdin", work);
	if ((fp = fopen(script, "w")) == NULL)
		bail("cannot write %s", script);
	fprintf(fp, "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\n"
	    "cat > '%s'\nexit ${FAKE_EXIT:-0}\n", argvf, stdinf);
	fclose(fp);
	chmod(script, 0755);
	snprintf(tmpl, sizeof(tmpl), "%s -G -i -f %%f -- %%r",
	    script);

	if (quarantine_open(dir, &q) != LW_OK)
		bail("open");
	qfill_init(&f, "QA", "billing@partner.example", "alice@example.com",
	    "bob@example.com", "invoice", 17, "OFFICE_VBA_AUTOEXEC", NULL);
	quarantine_store(q, (const unsigned char *)raw_a, sizeof(raw_a) - 1,
	    &f.env, &f.res, id_a);
	qfill_free(&f);

	/* 1. first release */
	is_int(LW_OK, quarantine_release(q, id_a, NULL, tmpl, false,
	    "tester (uid 0)", err, sizeof(err)), "release: %s", err);
	args = slurp_or_null(argvf);
	is_str("-G\n-i\n-f\nbilling@partner.example\n--\nalice@example.com\n"
	    "bob@example.com\n", args, "argv: original sender and recipients, "
	    "no shell");
	free(args);
	out = slurp_or_null(stdinf);
	val = released_value(out);
	ok(val != NULL, "first line is X-Lurewall-Released");
	ok(out != NULL && strlen(out) > sizeof(raw_a) - 1 &&
	    strcmp(out + strlen(out) - (sizeof(raw_a) - 1), raw_a) == 0,
	    "the stored message follows unchanged");
	ok(out != NULL && strstr(out, "\r\n") - out ==
	    (long)strcspn(out, "\r\n"), "the added line ends in CRLF like the "
	    "message");
	ok(val != NULL && strncmp(val, id_a, strlen(id_a)) == 0 &&
	    val[strlen(id_a)] == ';', "header value starts with the id");
	ok(quarantine_release_verify(q, val, "<inv-4711@partner.example>",
	    "Tue, 14 Nov 2023 22:13:20 +0000"), "HMAC verifies");
	ok(quarantine_release_verify(q, val,
	    "\r\n <inv-4711@partner.example>",
	    " Tue, 14 Nov 2023 22:13:20 +0000"),
	    "HMAC verifies with the MTA's leading space and folding");
	if (quarantine_open(dir, &q2) == LW_OK) {
		ok(quarantine_release_verify(q2, val,
		    "<inv-4711@partner.example>",
		    "Tue, 14 Nov 2023 22:13:20 +0000"),
		    "another opener of the store (the daemon) verifies too");
		quarantine_close(q2);
	}
	ok(!quarantine_release_verify(q, val, "<other@partner.example>",
	    "Tue, 14 Nov 2023 22:13:20 +0000"), "another Message-ID fails");
	ok(!quarantine_release_verify(q, val, "<inv-4711@partner.example>",
	    "Wed, 15 Nov 2023 22:13:20 +0000"), "another Date fails");
	if (val != NULL) {
		bad = strdup(val);
		bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
		ok(!quarantine_release_verify(q, bad,
		    "<inv-4711@partner.example>",
		    "Tue, 14 Nov 2023 22:13:20 +0000"),
		    "a changed HMAC digit fails");
		bad[0] = bad[0] == '1' ? '2' : '1';
		strcpy(bad + strlen(bad) - 1, val + strlen(val) - 1);
		ok(!quarantine_release_verify(q, bad,
		    "<inv-4711@partner.example>",
		    "Tue, 14 Nov 2023 22:13:20 +0000"),
		    "another id with the same HMAC fails");
		free(bad);
	}
	ok(!quarantine_release_verify(q, "", "", ""), "empty value fails");
	ok(!quarantine_release_verify(q, "x; y; z", "", ""), "junk fails");
	ok(!quarantine_release_verify(q, NULL, NULL, NULL), "NULL fails");
	free(val);
	free(out);

	is_int(LW_OK, quarantine_read(q, id_a, &it), "read after release");
	ok(it->released, "recorded as released");
	is_str("tester (uid 0)", it->released_by, "who");
	ok(it->released_time > 0, "when");
	is_int(2, (long long)it->nreleased_to, "to whom");
	is_int(1, it->release_count, "count 1");
	quarantine_item_free(it);

	/* 2. second release refuses, --force works, --to */
	unlink(argvf);
	is_int(LW_EEXIST, quarantine_release(q, id_a, NULL, tmpl, false,
	    "tester", err, sizeof(err)), "a second release refuses");
	ok(strstr(err, "--force") != NULL, "and says how: %s", err);
	ok(access(argvf, F_OK) != 0, "the command did not run");
	is_int(LW_OK, quarantine_release(q, id_a, "carol@example.org", tmpl,
	    true, "tester", err, sizeof(err)), "--force --to releases again");
	args = slurp_or_null(argvf);
	is_str("-G\n-i\n-f\nbilling@partner.example\n--\ncarol@example.org\n",
	    args, "argv has only the --to address");
	free(args);
	quarantine_read(q, id_a, &it);
	is_int(2, it->release_count, "count 2");
	is_str("carol@example.org", it->nreleased_to == 1 ?
	    it->released_to[0] : NULL, "recorded to carol");
	quarantine_item_free(it);

	/* 3. missing Message-ID and Date are added and MAC'd, LF kept */
	qfill_init(&f, "QB", "", "dave@example.com", NULL, "no ids", 12,
	    "EMOTET_LURE", NULL);
	quarantine_store(q, (const unsigned char *)raw_b, sizeof(raw_b) - 1,
	    &f.env, &f.res, id_b);
	qfill_free(&f);
	is_int(LW_OK, quarantine_release(q, id_b, NULL, tmpl, false, "t",
	    err, sizeof(err)), "release without Message-ID/Date: %s", err);
	args = slurp_or_null(argvf);
	is_str("-G\n-i\n-f\n\n--\ndave@example.com\n", args,
	    "null sender goes out as \"\" (sendmail's null sender)");
	free(args);
	out = slurp_or_null(stdinf);
	val = released_value(out);
	{
		char *mid = out ? hdr(out, "Message-ID") : NULL;
		char *date = out ? hdr(out, "Date") : NULL;

		ok(mid != NULL && date != NULL, "Message-ID and Date added");
		ok(strstr(out, "\r") == NULL, "LF line ends kept");
		ok(strcmp(out + strlen(out) - (sizeof(raw_b) - 1), raw_b) == 0,
		    "message follows unchanged");
		ok(quarantine_release_verify(q, val, mid, date),
		    "HMAC covers the added Message-ID and Date");
		free(mid);
		free(date);
	}
	free(val);
	free(out);

	/* 4. failures */
	quarantine_delete(q, id_b);
	qfill_init(&f, "QC", "x@example.net", "eve@example.com", NULL, "f",
	    12, "EMOTET_LURE", NULL);
	quarantine_store(q, (const unsigned char *)raw_b, sizeof(raw_b) - 1,
	    &f.env, &f.res, id_c);
	qfill_free(&f);
	setenv("FAKE_EXIT", "75", 1);
	is_int(LW_EIO, quarantine_release(q, id_c, NULL, tmpl, false, "t", err,
	    sizeof(err)), "a failing submit command is an error");
	ok(strstr(err, "exited 75") != NULL, "which says so: %s", err);
	unsetenv("FAKE_EXIT");
	quarantine_read(q, id_c, &it);
	ok(!it->released, "a failed release is not recorded");
	quarantine_item_free(it);
	is_int(LW_EINVAL, quarantine_release(q, id_c, NULL, "sendmail -i %r",
	    false, "t", err, sizeof(err)), "a relative command is refused");
	snprintf(tmpl, sizeof(tmpl), "%s -i -f %%f", script);
	is_int(LW_EINVAL, quarantine_release(q, id_c, NULL, tmpl, false, "t",
	    err, sizeof(err)), "a template without %%r is refused");
	snprintf(tmpl, sizeof(tmpl), "%s -G -i -f %%f -- %%r", script);
	is_int(LW_EINVAL, quarantine_release(q, id_c, "-oQ/tmp", tmpl, false,
	    "t", err, sizeof(err)), "a recipient that looks like an option is "
	    "refused");
	snprintf(tmpl, sizeof(tmpl), "%s/nonexistent -i %%r", work);
	is_int(LW_EIO, quarantine_release(q, id_c, NULL, tmpl, false, "t", err,
	    sizeof(err)), "a missing command fails");
	is_int(LW_ENOTFOUND, quarantine_release(q, "20200101T000000-00000000",
	    NULL, tmpl, false, "t", err, sizeof(err)), "unknown id");
	is_int(LW_EINVAL, quarantine_release(q, "../x", NULL, tmpl, false, "t",
	    err, sizeof(err)), "path id refused");
	quarantine_close(q);
	return done_testing();
}
