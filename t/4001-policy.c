/*
 * 4001-policy: the shipped policies load and agree with rules.c; domain
 * files inherit from default.yaml (maps key by key, lists replace);
 * lookups by domain; scores; names files; the corpus scenario policy.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "policy.h"
#include "rules.h"
#include "rules_custom.h"
#include "yamlutil.h"

static char	dir[PATH_MAX];

static void
put(const char *name, const char *text)
{
	char	 path[PATH_MAX * 2];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail("cannot write %s", path);
}

static void
copy(const char *from, const char *to)
{
	unsigned char	*b;
	size_t		 len;

	b = tap_slurp(from, &len);
	put(to, (char *)b);
	free(b);
}

static struct policyset *
load(const char *what)
{
	struct policyset	*s = NULL;
	char			 err[1024];
	enum lw_err		 e;

	e = policy_load_dir(dir, NULL, &s, err, sizeof(err));
	if (!is_int(LW_OK, e, "%s loads", what))
		diag("%s", err);
	return e == LW_OK ? s : NULL;
}

static const struct person *
find_person(const struct person *v, size_t n, const char *name)
{
	size_t	i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < v[i].n; j++)
			if (strcmp(v[i].names[j], name) == 0)
				return &v[i];
	return NULL;
}

static bool
has(char *const *v, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* policy_print is YAML that parses again; returns the score of rule. */
static void
print_check(const struct policy *p, const char *rule, const char *what)
{
	struct ydoc	*d;
	char		*buf, err[512];
	size_t		 len;
	FILE		*f;

	f = open_memstream(&buf, &len);
	policy_print(p, f);
	fclose(f);
	if (!is_int(LW_OK, ydoc_parse("print", buf, len, &d, err,
	    sizeof(err)), "%s: policy_print output parses", what)) {
		diag("%s", err);
		free(buf);
		return;
	}
	ok(y_get(y_get(d->root, "scores"), rule) != NULL &&
	    atoi(y_get(y_get(d->root, "scores"), rule)->str) ==
	    policy_score(p, rule), "%s: printed score of %s", what, rule);
	ydoc_free(d);
	free(buf);
}

static void
shipped(void)
{
	struct policyset	*s;
	struct ydoc		*d;
	const struct ynode	*sc, *v;
	char			 path[PATH_MAX], err[512];
	size_t			 i, bad = 0;

	snprintf(dir, sizeof(dir), "%s/conf/policy.d", tap_top());
	if ((s = load("shipped conf/policy.d")) == NULL)
		return;
	is_int(5, policyset_default(s)->th_tag, "shipped tag threshold 5");
	is_int(10, policyset_default(s)->th_quarantine, "shipped quarantine 10");
	is_int(50, policyset_default(s)->th_reject, "shipped reject 50");
	is_str("[SUSPICIOUS]", policyset_default(s)->subject_prefix, "subject prefix");
	ok(policyset_default(s)->tag_headers, "tag headers on");
	is_str("5.7.1 Message rejected by lurewall: suspected malware lure",
	    policyset_default(s)->reject_text, "reject_text");
	is_int(QTHEN_DISCARD, policyset_default(s)->quarantine_then, "then discard");
	is_int(7, policyset_default(s)->nreply_prefixes, "7 reply prefixes");
	ok(has(policyset_default(s)->reply_prefixes, 7, "返信") &&
	    has(policyset_default(s)->reply_prefixes, 7, "Fwd"), "返信 and Fwd expected");
	is_int(0, policyset_count(s), "the .sample file is not loaded");
	is_str("default", policyset_default(s)->name, "name");
	policyset_unref(s);

	/* default.yaml lists every built-in rule with rules.c's score. */
	snprintf(path, sizeof(path), "%s/conf/policy.d/default.yaml",
	    tap_top());
	if (ydoc_load(path, 1 << 20, &d, err, sizeof(err)) != LW_OK)
		bail("%s", err);
	sc = y_get(d->root, "scores");
	ok(sc != NULL && sc->kind == YNODE_MAP, "default.yaml has scores:");
	for (i = 0; i < rules_nbuiltin; i++) {
		v = y_get(sc, rules_builtin[i].name);
		if (v == NULL || atoi(v->str) != rules_builtin[i].score) {
			diag("%s: rules.c %d, default.yaml %s",
			    rules_builtin[i].name, rules_builtin[i].score,
			    v ? v->str : "(missing)");
			bad++;
		}
	}
	is_int(0, bad, "default.yaml scores == rules.c (%zu rules)",
	    rules_nbuiltin);
	is_int(rules_nbuiltin, sc->n, "default.yaml names no other rule");
	ydoc_free(d);
}

int
main(void)
{
	struct policyset	*s;
	const struct policy	*p, *def;
	const struct person	*who;
	char			 path[PATH_MAX * 2];

	shipped();

	/* The sample domain policy, copied to a name that loads. */
	snprintf(dir, sizeof(dir), "%s", tap_tmpdir("4001-sample"));
	snprintf(path, sizeof(path), "%s/conf/policy.d/default.yaml",
	    tap_top());
	copy(path, "default.yaml");
	snprintf(path, sizeof(path),
	    "%s/conf/policy.d/example.co.jp.yaml.sample", tap_top());
	copy(path, "example.co.jp.yaml");
	if ((s = load("sample domain policy")) != NULL) {
		p = policyset_for_domain(s, "example.co.jp");
		is_str("example.co.jp", p->name, "sample covers example.co.jp");
		is_int(4, p->th_tag, "sample tag 4");
		is_int(10, p->th_quarantine, "sample inherits quarantine 10");
		is_int(2, policy_score(p, "INVOICE_URGENT"),
		    "scores: overrides a custom rule's own score");
		is_int(1, policy_score(p, "XMAILER_BULK"),
		    "custom rule score from rules:");
		is_int(10, policy_score(p, "FILE_ONENOTE"), "FILE_ONENOTE 10");
		is_int(0, policy_score(p, "HDR_REPLYTO_MISMATCH"),
		    "a score set to 0");
		is_int(10, policy_score(p, "OFFICE_VBA"),
		    "other scores inherited");
		is_str("[要注意]", p->subject_prefix, "UTF-8 prefix");
		ok(p->tag_headers, "tag.headers inherited (map merge)");
		is_int(QTHEN_HOLD, p->quarantine_then, "then hold");
		is_int(2, p->nrules, "two custom rules");
		ok(p->nrules == 2 && p->rules[0].caseless &&
		    !p->rules[1].caseless, "caseless per rule");
		ok(p->nrules == 2 && p->rules[1].where == WHERE_HEADER &&
		    strcmp(p->rules[1].header, "X-Mailer") == 0,
		    "header:X-Mailer");
		ok(policy_addr_listed(p->macro_senders, p->nmacro_senders,
		    "Keiri@KEIRI.partner.example.com"), "@domain listed");
		ok(!policy_addr_listed(p->macro_senders, p->nmacro_senders,
		    "x@partner.example.com"), "parent of @domain is not");
		ok(policy_addr_listed(p->trusted_senders,
		    p->ntrusted_senders, "NEWSLETTER@vendor.example.net"),
		    "address listed, case-insensitive");
		ok(!policy_addr_listed(p->trusted_senders,
		    p->ntrusted_senders, "other@vendor.example.net"),
		    "other address not listed");
		is_int(9, p->nreply_prefixes, "reply_prefixes replaced");
		print_check(p, "INVOICE_URGENT", "sample");
		print_check(policyset_default(s), "EMOTET_LURE", "default");
		policyset_unref(s);
	}

	/* Inheritance, lookups and names files. */
	snprintf(dir, sizeof(dir), "%s", tap_tmpdir("4001-inherit"));
	put("default.yaml",
	    "thresholds: {tag: 6, quarantine: 12, reject: 40}\n"
	    "scores: {OFFICE_VBA: 11, DEF_RULE: 2}\n"
	    "tag: {subject_prefix: \"[X]\", headers: false}\n"
	    "quarantine: {then: reject}\n"
	    "internal_domains: [Example.COM]\n"
	    "reply_prefixes: [Re]\n"
	    "staff_names: [Boss]\n"
	    "rules:\n"
	    "  - {name: DEF_RULE, where: body, pattern: 'x+', score: 1}\n");
	put("a.yaml",
	    "domains: [a.example, Sub.B.Example.]\n"
	    "thresholds: {reject: 90}\n"
	    "scores: {FILE_SCRIPT: 20, DEF_RULE: 0}\n"
	    "tag: {headers: true}\n"
	    "reply_prefixes: [Re, AW]\n"
	    "staff_names_file: names/staff.txt\n"
	    "correspondents_file: names/corr.txt\n");
	put("b.yaml",
	    "domains: [b.example]\n"
	    "rules:\n"
	    "  - {name: B_ONLY, where: \"header:List-Id\", pattern: '^<', "
	    "score: 3}\n"
	    "scores: {DEF_RULE: 5}\n"
	    "tag: {subject_prefix: ~}\n");
	put("notes.txt", "not a policy\n");
	put(".hidden.yaml", "garbage: [\n");
	put("c.yaml.bak", "garbage: [\n");
	snprintf(path, sizeof(path), "%s/names", dir);
	if (mkdir(path, 0755) != 0)
		bail("mkdir %s", path);
	put("names/staff.txt",
	    "# staff of a.example\n"
	    "佐藤 花子\tHanako Sato\r\n"
	    "\n"
	    "  \t# indented comment\n"
	    "経理部\n"
	    "Ichiro Suzuki \t 鈴木 一郎\n");
	put("names/corr.txt",
	    "# names<TAB>@domains\n"
	    "山田 太郎\tTaro Yamada\t@Torihiki.example.ne.jp\n"
	    "Klaus Weber\t@lieferant.example.de\t@lieferant.example.com\n");
	if ((s = load("inheritance set")) != NULL) {
		def = policyset_default(s);
		p = policyset_for_domain(s, "a.example");
		is_str("a", p->name, "a.example -> a.yaml");
		is_int(6, p->th_tag, "tag threshold inherited");
		is_int(12, p->th_quarantine, "quarantine inherited");
		is_int(90, p->th_reject, "reject overridden");
		is_int(20, policy_score(p, "FILE_SCRIPT"), "score overridden");
		is_int(11, policy_score(p, "OFFICE_VBA"),
		    "default.yaml score kept");
		is_int(10, policy_score(p, "FILE_EXECUTABLE"),
		    "built-in score kept");
		is_int(0, policy_score(p, "DEF_RULE"),
		    "default's custom rule re-scored");
		is_int(1, p->nrules, "rules inherited (not set)");
		is_str("[X]", p->subject_prefix, "prefix kept (tag merges)");
		ok(p->tag_headers, "headers overridden");
		is_int(QTHEN_REJECT, p->quarantine_then, "quarantine inherited");
		ok(p->ninternal_domains == 1 &&
		    strcmp(p->internal_domains[0], "example.com") == 0,
		    "internal_domains inherited, lowercased");
		ok(p->nreply_prefixes == 2 && has(p->reply_prefixes, 2, "AW"),
		    "reply_prefixes replaced");
		is_int(3, p->nstaff, "staff from file replaces inline staff");
		ok(find_person(p->staff, p->nstaff, "Boss") == NULL,
		    "default's staff not kept");
		who = find_person(p->staff, p->nstaff, "Hanako Sato");
		ok(who != NULL && who->n == 2 &&
		    strcmp(who->names[0], "佐藤 花子") == 0,
		    "aliases on one line are one person (CRLF ok)");
		ok(who != NULL && who->keys != NULL && who->keys[1] != NULL,
		    "names have keys");
		who = find_person(p->staff, p->nstaff, "鈴木 一郎");
		ok(who != NULL && who->n == 2 &&
		    strcmp(who->names[0], "Ichiro Suzuki") == 0,
		    "fields trimmed");
		snprintf(path, sizeof(path), "%s/names/staff.txt", dir);
		is_str(path, p->staff_names_file,
		    "staff_names_file relative to the policy file");
		is_int(2, p->ncorrespondents, "two correspondents from file");
		if (p->ncorrespondents == 2) {
			ok(p->correspondents[0].who.n == 2 &&
			    p->correspondents[0].ndomains == 1 &&
			    strcmp(p->correspondents[0].domains[0],
			    "torihiki.example.ne.jp") == 0,
			    "names and @domain (lowercased)");
			ok(p->correspondents[1].ndomains == 2,
			    "two domains");
		}

		p = policyset_for_domain(s, "SUB.b.example");
		is_str("a", p->name, "exact match, case-insensitive");
		p = policyset_for_domain(s, "x.sub.b.example.");
		is_str("a", p->name, "longest listed parent");
		p = policyset_for_domain(s, "b.example");
		is_str("b", p->name, "b.example -> b.yaml");
		p = policyset_for_domain(s, "c.b.example");
		is_str("b", p->name, "parent b.example");
		ok(policyset_for_domain(s, "example") == def, "tld -> default");
		ok(policyset_for_domain(s, "xa.example") == def,
		    "no substring match");
		ok(policyset_for_domain(s, "a.example.org") == def,
		    "no suffix-less match");
		ok(policyset_for_domain(s, NULL) == def, "NULL -> default");
		ok(policyset_for_domain(s, "") == def, "\"\" -> default");

		p = policyset_for_domain(s, "b.example");
		is_int(1, p->nstaff, "staff inherited");
		ok(p->subject_prefix == NULL, "prefix cleared with ~");
		ok(!p->tag_headers, "headers inherited");
		is_int(1, p->nrules, "rules replaced");
		is_int(3, policy_score(p, "B_ONLY"), "own rule scored");
		is_int(5, policy_score(p, "DEF_RULE"),
		    "may score default's rule");
		is_int(2, policy_score(def, "DEF_RULE"),
		    "default: scores: beats rule's score");
		is_int(0, policy_score(def, "B_ONLY"),
		    "other policy's rule: 0 in default");
		is_int(0, policy_score(def, "NO_SUCH_RULE"), "unknown: 0");
		is_int(2, policyset_count(s), "two domain policies (others ignored)");

		/* Refcount: the set outlives its loader's reference. */
		policyset_ref(s);
		policyset_unref(s);
		is_int(1, policyset_refcount(s), "ref/unref");
		policyset_unref(s);
	}

	/* The corpus scenario policy next to the shipped default.yaml. */
	snprintf(dir, sizeof(dir), "%s", tap_tmpdir("4001-scenario"));
	snprintf(path, sizeof(path), "%s/conf/policy.d/default.yaml",
	    tap_top());
	copy(path, "default.yaml");
	snprintf(path, sizeof(path), "%s/scenario-policy.yaml", tap_corpus());
	copy(path, "scenario.yaml");
	if ((s = load("corpus scenario-policy.yaml")) != NULL) {
		p = policyset_for_domain(s, "example.co.jp");
		is_str("scenario", p->name, "example.co.jp -> scenario");
		is_int(3, p->nstaff, "three staff entries");
		who = find_person(p->staff, p->nstaff, "Hanako Sato");
		ok(who != NULL && who->n == 2 &&
		    strcmp(who->names[0], "佐藤 花子") == 0,
		    "佐藤 花子 = Hanako Sato");
		ok(find_person(p->staff, p->nstaff, "経理部") != NULL,
		    "経理部 (a plain string entry)");
		is_int(3, p->ncorrespondents, "three correspondents");
		ok(p->ncorrespondents == 3 &&
		    strcmp(p->correspondents[2].who.names[0],
		    "Klaus Weber") == 0 &&
		    strcmp(p->correspondents[2].domains[0],
		    "lieferant.example.de") == 0, "Klaus Weber's domain");
		ok(has(p->internal_domains, p->ninternal_domains,
		    "example.co.jp"), "internal domain");
		is_int(10, policy_score(p, "OFFICE_VBA"),
		    "shipped scores inherited");
		is_int(7, p->nreply_prefixes, "reply_prefixes inherited");
		policyset_unref(s);
	}
	return done_testing();
}
