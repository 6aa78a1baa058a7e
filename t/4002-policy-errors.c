/*
 * 4002-policy-errors: every kind of policy error names file, line,
 * column and key path, returns LW_EINVAL (LW_EIO for a missing names
 * file) and leaves *out untouched.  Run under ASan, a failed load must
 * also leave nothing allocated.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "policy.h"

static const char	*dir;

struct errcase {
	const char	*what;
	const char	*def;		/* default.yaml, NULL: none */
	const char	*fname;		/* a second file, or NULL */
	const char	*ftext;
	const char	*errfile;	/* the file the error names */
	const char	*want;		/* what follows "DIR/errfile" */
};

static const struct errcase cases[] = {
	{ "unknown top key", "thresholds: {tag: 1}\nfoo: 2\n", NULL, NULL,
	    "default.yaml", ":2:1: unknown key \"foo\"" },
	{ "unknown nested key", "tag:\n  prefix: x\n", NULL, NULL,
	    "default.yaml", ":2:3: tag: unknown key \"prefix\"" },
	{ "map wanted", "thresholds: [1]\n", NULL, NULL,
	    "default.yaml", ":1:13: thresholds: expected a map, got a list" },
	{ "integer wanted", "thresholds:\n  tag: five\n", NULL, NULL,
	    "default.yaml", ":2:8: thresholds.tag: expected an integer, got "
	    "\"five\"" },
	{ "threshold range", "thresholds:\n  tag: 0\n", NULL, NULL,
	    "default.yaml", ":2:8: thresholds.tag: 0 is out of range" },
	{ "bool wanted", "tag: {headers: maybe}\n", NULL, NULL,
	    "default.yaml", ":1:16: tag.headers: expected true or false, "
	    "got \"maybe\"" },
	{ "list wanted", "reply_prefixes: Re\n", NULL, NULL,
	    "default.yaml", ":1:17: reply_prefixes: expected a list, got a "
	    "scalar" },
	{ "string wanted in list", "reply_prefixes: [Re, [AW]]\n", NULL,
	    NULL, "default.yaml", ":1:22: reply_prefixes[1]: expected a "
	    "string, got a list" },
	{ "bad quarantine.then", "quarantine: {then: bounce}\n", NULL, NULL,
	    "default.yaml", ":1:20: quarantine.then: expected discard, "
	    "reject or hold" },
	{ "thresholds out of order", "thresholds: {tag: 20, quarantine: "
	    "10}\n", NULL, NULL, "default.yaml", ":1:13: thresholds: need tag "
	    "<= quarantine <= reject, have 20, 10, 50" },
	{ "thresholds out of order with inherited values",
	    "thresholds: {tag: 5, quarantine: 10, reject: 50}\n",
	    "a.yaml", "domains: [a.example]\nthresholds: {quarantine: 60}\n",
	    "a.yaml", ":2:13: thresholds: need tag <= quarantine <= reject, "
	    "have 5, 60, 50" },
	{ "unknown rule in scores", "scores:\n  OFFICE_VBA: 3\n"
	    "  OFFICE_VBS: 4\n", NULL, NULL, "default.yaml",
	    ":3:3: scores.OFFICE_VBS: unknown rule" },
	{ "another domain's rule in scores", "{}\n", "a.yaml",
	    "domains: [a.example]\nscores: {B_RULE: 1}\n", "a.yaml",
	    ":2:10: scores.B_RULE: unknown rule" },
	{ "score not an integer", "scores: {OFFICE_VBA: high}\n", NULL, NULL,
	    "default.yaml", ":1:22: scores.OFFICE_VBA: expected an integer" },
	{ "score out of range", "scores: {OFFICE_VBA: 99999999}\n", NULL,
	    NULL, "default.yaml", ":1:22: scores.OFFICE_VBA: 99999999 is out "
	    "of range" },
	{ "reject_text with CR LF",
	    "reject_text: \"5.7.1 no\\r\\nRCPT TO:<x>\"\n", NULL, NULL,
	    "default.yaml", ":1:14: reject_text: CR and LF are not allowed" },
	{ "reject_text block scalar with LF", "reject_text: |\n  a\n  b\n",
	    NULL, NULL, "default.yaml", ":1:14: reject_text: CR and LF are "
	    "not allowed" },
	{ "reject_text not ASCII", "reject_text: \"5.7.1 拒否\"\n", NULL,
	    NULL, "default.yaml", ":1:14: reject_text: only printable ASCII "
	    "is allowed (byte 7 is 0xe6)" },
	{ "reject_text with a lone %", "reject_text: 5.7.1 100% spam\n",
	    NULL, NULL, "default.yaml", ":1:14: reject_text: write % as %%" },
	{ "subject_prefix with a control character",
	    "tag: {subject_prefix: \"a\\tb\"}\n", NULL, NULL, "default.yaml",
	    ":1:23: tag.subject_prefix: control characters are not allowed" },
	/* The language names end in NULL: the known list stops there. */
	{ "subject_prefix in an unknown language",
	    "tag: {subject_prefix: {en: x, fr: y}}\n", NULL, NULL,
	    "default.yaml", ":1:31: tag.subject_prefix: unknown key \"fr\" "
	    "(known: en, ja)" },
	{ "bad regex", "rules:\n  - name: BAD_RE\n    where: body\n"
	    "    pattern: '(unclosed'\n    score: 1\n", NULL, NULL,
	    "default.yaml", ":4:14: rules[0].pattern: bad pattern at offset "
	    "9: missing closing parenthesis" },
	{ "bad regex in a domain file", "{}\n", "a.yaml",
	    "domains: [a.example]\nrules:\n  - {name: OK_RE, where: subject, "
	    "pattern: 'ok', score: 1}\n  - {name: BAD_RE, where: subject, "
	    "pattern: 'a{2,1}', score: 1}\n", "a.yaml",
	    ":4:45: rules[1].pattern: bad pattern at offset 5: numbers out of "
	    "order in {} quantifier" },
	{ "rule name syntax", "rules:\n  - {name: lower, where: body, "
	    "pattern: x, score: 1}\n", NULL, NULL, "default.yaml",
	    ":2:12: rules[0].name: must match [A-Z][A-Z0-9_]*" },
	{ "rule named like a built-in", "rules:\n  - {name: OFFICE_VBA, "
	    "where: body, pattern: x, score: 1}\n", NULL, NULL,
	    "default.yaml", ":2:12: rules[0].name: OFFICE_VBA is a built-in "
	    "rule" },
	{ "rule where", "rules:\n  - {name: R, where: attachment, pattern: "
	    "x, score: 1}\n", NULL, NULL, "default.yaml", ":2:22: "
	    "rules[0].where: expected subject, from_name, from_addr, body or "
	    "header:NAME" },
	{ "rule header name", "rules:\n  - {name: R, where: \"header:a b\", "
	    "pattern: x, score: 1}\n", NULL, NULL, "default.yaml", ":2:22: "
	    "rules[0].where: expected subject" },
	{ "rule missing pattern", "rules:\n  - {name: R, where: body, score: "
	    "1}\n", NULL, NULL, "default.yaml", ":2:5: rules[0]: missing key "
	    "\"pattern\"" },
	{ "rule unknown key", "rules:\n  - {name: R, where: body, pattern: x, "
	    "score: 1, flags: i}\n", NULL, NULL, "default.yaml", ":2:50: "
	    "rules[0]: unknown key \"flags\"" },
	{ "rule defined twice", "rules:\n  - {name: R, where: body, pattern: "
	    "x, score: 1}\n  - {name: R, where: subject, pattern: y, score: "
	    "1}\n", NULL, NULL, "default.yaml", ":3:12: rules[1].name: R is "
	    "already defined by rules[0]" },
	{ "rules not a list", "rules: {name: R}\n", NULL, NULL,
	    "default.yaml", ":1:8: rules: expected a list, got a map" },
	{ "domain listed in two files", "{}\n", "b.yaml",
	    "domains: [y.example, X.Example]\n", "b.yaml",
	    ":1:22: domains[1]: x.example is listed twice (also at " },
	{ "domain listed twice in one file", "{}\n", "a.yaml",
	    "domains:\n  - a.example\n  - A.EXAMPLE\n", "a.yaml",
	    ":3:5: domains[1]: a.example is listed twice (also at " },
	{ "missing default.yaml", NULL, "a.yaml", "domains: [a.example]\n",
	    "default.yaml", ": missing" },
	{ "domains in default.yaml", "domains: [x.example]\n", NULL, NULL,
	    "default.yaml", ":1:10: domains: default.yaml covers every "
	    "domain" },
	{ "domain file without domains", "{}\n", "a.yaml",
	    "thresholds: {tag: 3}\n", "a.yaml", ":1:1: domains: missing" },
	{ "domain file with no domain", "{}\n", "a.yaml", "domains: []\n",
	    "a.yaml", ":1:10: domains: must list at least one domain" },
	{ "bad domain", "{}\n", "a.yaml", "domains: [\"a b.example\"]\n",
	    "a.yaml", ":1:11: domains[0]: not a domain name" },
	{ "bad internal domain", "internal_domains: [\"@\"]\n", NULL, NULL,
	    "default.yaml", ":1:20: internal_domains[0]: not a domain name" },
	{ "bad macro sender", "macro_senders: [nobody]\n", NULL, NULL,
	    "default.yaml", ":1:17: macro_senders[0]: expected user@domain "
	    "or @domain" },
	{ "bad trusted sender", "trusted_senders: [\"a@\"]\n", NULL, NULL,
	    "default.yaml", ":1:19: trusted_senders[0]: expected user@domain "
	    "or @domain" },
	{ "staff entry is a map", "staff_names:\n  - {name: x}\n", NULL,
	    NULL, "default.yaml", ":2:5: staff_names[0]: expected a list, "
	    "got a map" },
	{ "staff entry empty list", "staff_names:\n  - []\n", NULL, NULL,
	    "default.yaml", ":2:5: staff_names[0]: expected a name or a list "
	    "of names" },
	{ "staff alias not a string", "staff_names:\n  - [a, {b: c}]\n",
	    NULL, NULL, "default.yaml", ":2:9: staff_names[0][1]: expected "
	    "a string, got a map" },
	{ "correspondent without domains", "correspondents:\n"
	    "  - {names: [A B]}\n", NULL, NULL, "default.yaml", ":2:5: "
	    "correspondents[0]: needs both names and domains" },
	{ "correspondent bad domain", "correspondents:\n"
	    "  - {names: [A B], domains: [\"x y\"]}\n", NULL, NULL,
	    "default.yaml", ":2:30: correspondents[0].domains[0]: not a "
	    "domain name" },
	{ "correspondent unknown key", "correspondents:\n"
	    "  - {names: [A], domains: [a.example], domain: b}\n", NULL, NULL,
	    "default.yaml", ":2:40: correspondents[0]: unknown key "
	    "\"domain\"" },
	{ "staff_names_file missing", "staff_names_file: nope.txt\n", NULL,
	    NULL, "nope.txt", ":1:1: staff_names_file: No such file" },
	{ "staff_names_file not UTF-8", "staff_names_file: staff.txt\n",
	    "staff.txt", "A B\n\xff\xfe\n", "staff.txt", ":2:1: "
	    "staff_names_file: not valid UTF-8" },
	{ "correspondents_file line without a domain",
	    "correspondents_file: corr.txt\n", "corr.txt",
	    "# c\nA B\t@a.example\nC D\tE F\n", "corr.txt", ":3:1: "
	    "correspondents_file: need at least one name and one @domain" },
	{ "correspondents_file bad domain",
	    "correspondents_file: corr.txt\n", "corr.txt",
	    "A B\t@a..example\n", "corr.txt", ":1:5: correspondents_file: not "
	    "a domain name" },
	{ "staff_names_file wrong type", "staff_names_file: [a]\n", NULL,
	    NULL, "default.yaml", ":1:19: staff_names_file: expected a "
	    "string, got a list" },
	{ "syntax error", "thresholds: {tag: 1\n", NULL, NULL,
	    "default.yaml", ":2:1: did not find expected ',' or '}'" },
	{ "tab indentation", "thresholds:\n\ttag: 1\n", NULL, NULL,
	    "default.yaml", ":2:1: found character that cannot start any "
	    "token" },
	{ "duplicate key", "reject_text: a\nreject_text: b\n", NULL, NULL,
	    "default.yaml", ":2:1: key \"reject_text\" given twice" },
	{ "duplicate score key", "scores:\n  OFFICE_VBA: 1\n  OFFICE_VBA: "
	    "2\n", NULL, NULL, "default.yaml", ":3:3: scores: key "
	    "\"OFFICE_VBA\" given twice" },
	{ "alias", "reply_prefixes: &p [Re]\ninternal_domains: *p\n", NULL,
	    NULL, "default.yaml", ":2:19: aliases" },
	{ "two documents", "{}\n---\n{}\n", NULL, NULL, "default.yaml",
	    ":2:1: only one YAML document per file" },
	{ "top level is a list", "- a\n", NULL, NULL, "default.yaml",
	    ":1:1: a policy file is a map of keys, got a list" },
	{ "non-string key", "? [a]\n: 1\n", NULL, NULL, "default.yaml",
	    ":1:3: map keys must be strings, got a list" },
};

static void
put(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
}

int
main(void)
{
	struct policyset	*s, *sentinel = (struct policyset *)&dir;
	const struct errcase	*c;
	char			 err[1024], want[PATH_MAX + 512], name[32];
	static char		 big[8192];
	size_t			 i;
	enum lw_err		 e;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		snprintf(name, sizeof(name), "4002-%zu", i);
		dir = tap_tmpdir(name);
		if (c->def != NULL)
			put("default.yaml", c->def);
		if (c->fname != NULL)
			put(c->fname, c->ftext);
		/* The one case that needs a third file. */
		if (strcmp(c->what, "domain listed in two files") == 0)
			put("a.yaml", "domains: [x.example]\n");
		s = sentinel;
		err[0] = '\0';
		e = policy_load_dir(dir, NULL, &s, err, sizeof(err));
		snprintf(want, sizeof(want), "%s/%s%s", dir, c->errfile,
		    c->want);
		if (!ok(e != LW_OK && strncmp(err, want, strlen(want)) == 0,
		    "%s", c->what))
			diag("got %d \"%s\"\n# want \"%s\"", e, err, want);
		ok(s == sentinel, "%s: *out untouched", c->what);
		if (e == LW_OK && s != sentinel)
			policyset_unref(s);
		if (strstr(c->what, "missing") != NULL &&
		    strstr(c->what, "file") != NULL)
			is_int(LW_EIO, e, "%s: LW_EIO", c->what);
		else
			is_int(LW_EINVAL, e, "%s: LW_EINVAL", c->what);
	}

	/*
	 * Every error of every file, one a line, in file order: a broken
	 * default.yaml (two sections), a domain file with three (a bad
	 * threshold, a bad rule, an unknown score), a good file, and one
	 * more broken file.  The good rule's score is no error.
	 */
	dir = tap_tmpdir("4002-all");
	put("default.yaml", "thresholds:\n  tag: five\n  quarantine: -1\n"
	    "tag: {headers: maybe}\n");
	put("a.yaml", "domains: [a.example]\nthresholds: {reject: 0}\n"
	    "rules:\n  - {name: GOOD, where: subject, pattern: x, score: 1}\n"
	    "  - {name: BAD, where: nowhere, pattern: x, score: 1}\n"
	    "  - {name: GOOD, where: subject, pattern: y, score: 1}\n"
	    "scores: {GOOD: 3, OFICE_VBA: 2}\n");
	put("b.yaml", "domains: [b.example]\n");
	put("c.yaml", "domains: [c.example]\nbogus: 1\n");
	s = sentinel;
	e = policy_load_dir(dir, NULL, &s, big, sizeof(big));
	is_int(LW_EINVAL, e, "several files: LW_EINVAL");
	ok(s == sentinel, "several files: *out untouched");
	{
		static const char *const lines[] = {
			"default.yaml:2:8: thresholds.tag: expected an integer",
			"default.yaml:3:15: thresholds.quarantine: -1 is out "
			    "of range",
			"default.yaml:4:16: tag.headers: expected true or false",
			"a.yaml:2:22: thresholds.reject: 0 is out of range",
			"a.yaml:5:",
			"a.yaml:6:12: rules[2].name: GOOD is already defined "
			    "by rules[0]",
			"a.yaml:7:19: scores.OFICE_VBA: unknown rule",
			"c.yaml:2:1: unknown key \"bogus\"",
		};
		char	*p = big, *nl;
		size_t	 k, n = 0, dl = strlen(dir);

		for (k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
			nl = p != NULL ? strchr(p, '\n') : NULL;
			if (!ok(p != NULL && strncmp(p, dir, dl) == 0 &&
			    p[dl] == '/' && strncmp(p + dl + 1, lines[k],
			    strlen(lines[k])) == 0, "line %zu: %s", k + 1,
			    lines[k]))
				diag("got \"%.*s\"", p == NULL ? 0 :
				    nl != NULL ? (int)(nl - p) : (int)strlen(p),
				    p == NULL ? "" : p);
			p = nl != NULL ? nl + 1 : NULL;
			n++;
		}
		ok(p == NULL, "and nothing more (%zu lines)", n);
		ok(strstr(big, "b.yaml") == NULL, "the good file is not named");
		ok(strstr(big, "scores.GOOD") == NULL,
		    "a score for a good rule beside a bad one is no error");
	}

	dir = tap_tmpdir("4002-nodir");
	snprintf(want, sizeof(want), "%s/none", dir);
	e = policy_load_dir(want, NULL, &s, err, sizeof(err));
	ok(e == LW_EIO && strncmp(err, want, strlen(want)) == 0,
	    "missing directory: LW_EIO naming it");
	return done_testing();
}
