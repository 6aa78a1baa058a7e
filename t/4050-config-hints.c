/*
 * 4050-config-hints: configuration errors that help (issue 20).  Every
 * error of lurewall.yaml is reported, each with file, line, column and
 * key; unknown keys and rule names get "did you mean" (a case hint
 * too); full-width colons and ideographic spaces are found where they
 * are, not where libyaml trips two lines later; a Shift_JIS or EUC-JP
 * file is named as such.  Full-width text where it belongs (quoted,
 * comments, values) still loads.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "tap.h"

static const char *dir;

static const char *
put(const char *name, const char *text, size_t len)
{
	static char	 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fwrite(text, 1, len, f) != len ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
	return path;
}

/* Load text; the error must contain each of want (NULL-terminated). */
static void
bad(const char *text, const char *what, int nlines, ...)
{
	struct config	*c = NULL;
	char		 err[2048];
	const char	*p = put("bad.yaml", text, strlen(text)), *w, *s;
	enum lw_err	 e;
	va_list		 ap;
	int		 n = 1;
	bool		 all = true;

	e = config_load(p, &c, err, sizeof(err));
	if (e == LW_OK) {
		config_free(c);
		ok(false, "%s: loaded", what);
		return;
	}
	for (s = err; (s = strchr(s, '\n')) != NULL; s++)
		n++;
	va_start(ap, nlines);
	while ((w = va_arg(ap, const char *)) != NULL)
		if (strstr(err, w) == NULL) {
			diag("missing: %s", w);
			all = false;
		}
	va_end(ap);
	if (!ok(e == LW_EINVAL && all && n == nlines, "%s", what))
		diag("got %d line(s), want %d:\n%s", n, nlines, err);
}

static void
good(const char *text, const char *what)
{
	struct config	*c = NULL;
	char		 err[1024];
	enum lw_err	 e;

	e = config_load(put("good.yaml", text, strlen(text)), &c, err,
	    sizeof(err));
	if (!ok(e == LW_OK, "%s", what))
		diag("%s", err);
	config_free(c);
}

int
main(void)
{
	struct config		*c = NULL;
	struct policyset	*ps = NULL;
	char			 err[1024], pdir[PATH_MAX];
	/* "テスト" in Shift_JIS and in EUC-JP */
	static const char	 sjis[] = "# \x83\x65\x83\x58\x83\x67\n"
				    "socket: unix:/x\n";
	static const char	 euc[] = "socket: unix:/x\n"
				    "# \xa5\xc6\xa5\xb9\xa5\xc8\n";
	static const char	 latin1[] = "socket: unix:/x \xe9t\xe9\n";
	enum lw_err		 e;

	dir = tap_tmpdir("4050-config-hints");

	/* Every error, not only the first. */
	bad("sokcet: unix:/x\nfoo: 1\nlimits:\n  mime_depht: 3\n"
	    "  max_headers: many\non_error: maybe\n", "all five errors", 5,
	    "bad.yaml:1:1: unknown key \"sokcet\", did you mean \"socket\"?",
	    "bad.yaml:2:1: unknown key \"foo\" (known: socket,",
	    "bad.yaml:4:3: limits: unknown key \"mime_depht\", did you mean "
	    "\"mime_depth\"?",
	    "bad.yaml:5:16: limits.max_headers: expected an integer",
	    "bad.yaml:6:11: on_error: expected tempfail or accept", NULL);
	bad("limits:\n  Mime_Depth: 3\n", "case hint", 1,
	    ":2:3: limits: unknown key \"Mime_Depth\", did you mean "
	    "\"mime_depth\"? (names are case-sensitive)", NULL);

	/* Full-width characters, where they are. */
	bad("user: nobody\nsocket\xef\xbc\x9aunix:/x\non_error: accept\n",
	    "full-width colon after a key", 1,
	    "bad.yaml:2:7: a full-width colon \"\xef\xbc\x9a\" (U+FF1A) after "
	    "the key \"socket\": YAML needs an ASCII ':'", NULL);
	bad("limits:\n\xe3\x80\x80\xe3\x80\x80mime_depth: 5\n",
	    "ideographic space in the indentation", 1,
	    "bad.yaml:2:1: an ideographic space (U+3000) in the "
	    "indentation", NULL);
	bad("limits:\n  mime_depth\xe3\x80\x80: 5\n",
	    "ideographic space inside a key", 1,
	    "bad.yaml:2:13: limits: an ideographic space (U+3000): YAML "
	    "needs ASCII spaces", NULL);
	bad("socket:\xe3\x80\x80unix:/x\nuser: nobody\n",
	    "ideographic space after a colon", 1,
	    "bad.yaml:1:8: an ideographic space (U+3000) after ':'", NULL);
	bad("user: nobody\non_error\xef\xbc\x9a accept\n"
	    "socket\xef\xbc\x9a unix:/x\n", "two full-width colons, both", 2,
	    "bad.yaml:2:9: a full-width colon", "bad.yaml:3:7: a full-width "
	    "colon", NULL);
	good("# \xe8\xa8\xad\xe5\xae\x9a\xef\xbc\x9a\xe3\x80\x80x\n"
	    "user: \"\xe5\x90\x8d\xef\xbc\x9a\xe3\x80\x80x\"\n"
	    "pidfile: /run/\xe5\x90\x8d\xef\xbc\x9a\n",
	    "full-width colon and space in a comment, a quoted value and a "
	    "value load");

	/* Not UTF-8. */
	e = config_load(put("sjis.yaml", sjis, sizeof(sjis) - 1), &c, err,
	    sizeof(err));
	ok(e == LW_EINVAL && strstr(err, "sjis.yaml:1:3: not UTF-8 (looks "
	    "like Shift_JIS): save the file as UTF-8") != NULL,
	    "Shift_JIS named, at the first byte that is not UTF-8: %s", err);
	e = config_load(put("euc.yaml", euc, sizeof(euc) - 1), &c, err,
	    sizeof(err));
	ok(e == LW_EINVAL && strstr(err, "euc.yaml:2:3: not UTF-8 (looks "
	    "like EUC-JP)") != NULL, "EUC-JP named: %s", err);
	e = config_load(put("latin1.yaml", latin1, sizeof(latin1) - 1), &c,
	    err, sizeof(err));
	ok(e == LW_EINVAL && strstr(err, "latin1.yaml:1:17: not UTF-8 (byte "
	    "0xe9)") != NULL, "anything else: the byte: %s", err);

	/* Rule names in a policy: did you mean, case. */
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	if (mkdir(pdir, 0700) != 0)
		bail("mkdir %s", pdir);
	put("policy.d/default.yaml", "scores:\n  office_vba: 5\n", 24);
	e = policy_load_dir(pdir, NULL, &ps, err, sizeof(err));
	ok(e == LW_EINVAL && strstr(err, "default.yaml:2:3: scores.office_vba:"
	    " unknown rule (neither built-in nor defined under rules:), did "
	    "you mean \"OFFICE_VBA\"? (names are case-sensitive)") != NULL,
	    "rule name: case hint: %s", err);
	put("policy.d/default.yaml", "scores:\n  EMOTET_LUER: 5\n", 25);
	e = policy_load_dir(pdir, NULL, &ps, err, sizeof(err));
	ok(e == LW_EINVAL && strstr(err, "did you mean \"EMOTET_LURE\"?") !=
	    NULL, "rule name: did you mean: %s", err);
	put("policy.d/default.yaml", "tresholds:\n  tag: 5\n", 20);
	e = policy_load_dir(pdir, NULL, &ps, err, sizeof(err));
	ok(e == LW_EINVAL && strstr(err, "default.yaml:1:1: unknown key "
	    "\"tresholds\", did you mean \"thresholds\"?") != NULL,
	    "policy key: did you mean: %s", err);
	return done_testing();
}
