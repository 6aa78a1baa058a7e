/*
 * policy_print.c: check-config's view of the policies: each resolved
 * policy (inheritance applied) as YAML that loads back to the same
 * policy, default first, "---" between them.
 */
#include <stdio.h>

#include "policy.h"
#include "policy_int.h"
#include "rules_custom.h"
#include "yamlutil.h"

static void
print_list(FILE *f, const char *key, char *const *v, size_t n)
{
	size_t	i;

	fprintf(f, "%s: [", key);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		y_print_str(f, v[i]);
	}
	fputs("]\n", f);
}

static void
print_inline_list(FILE *f, char *const *v, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		y_print_str(f, v[i]);
	}
	fputc(']', f);
}

void
policy_print(const struct policy *p, FILE *f)
{
	static const char *const wheres[] = { "subject", "from_name",
	    "from_addr", "body", "header" };
	size_t	i;

	fprintf(f, "# policy %s from %s\n", p->name, p->file);
	print_list(f, "domains", p->domains, p->ndomains);
	fprintf(f, "thresholds:\n  tag: %d\n  quarantine: %d\n"
	    "  reject: %d\n", p->th_tag, p->th_quarantine, p->th_reject);
	fputs("scores:\n", f);
	for (i = 0; i < p->nscores; i++)
		fprintf(f, "  %s: %d\n", p->scores[i].rule,
		    p->scores[i].score);
	fprintf(f, "mode: %s\n", policy_mode_names[p->mode]);
	allow_print(f, &p->allow);
	fprintf(f, "notify:\n  recipients: %s\n  digest: %s\n  admin: ",
	    p->notify.recipients ? "true" : "false",
	    p->notify.digest ? "true" : "false");
	y_print_str(f, p->notify.admin);
	fputs("\n  from: ", f);
	y_print_str(f, p->notify.from);
	fprintf(f, "\nlanguage: %s\ntag:\n  subject_prefix:\n",
	    policy_lang_names[p->language]);
	for (i = 0; i < LANG_N; i++) {
		fprintf(f, "    %s: ", policy_lang_names[i]);
		y_print_str(f, p->prefixes[i]);
		fputc('\n', f);
	}
	fprintf(f, "  headers: %s\n  always_header: %s\n",
	    p->tag_headers ? "true" : "false",
	    p->always_header ? "true" : "false");
	fputs("reject_text: ", f);
	y_print_str(f, p->reject_text);
	fprintf(f, "\nquarantine:\n  then: %s\n",
	    policy_then_names[p->quarantine_then]);
	if (p->split_wait > 0)
		fprintf(f, "split_password:\n  wait: %us\n  on_timeout: %s\n",
		    p->split_wait, policy_timeout_names[p->split_on_timeout]);
	print_list(f, "macro_senders", p->macro_senders, p->nmacro_senders);
	print_list(f, "trusted_senders", p->trusted_senders,
	    p->ntrusted_senders);
	print_list(f, "trusted_template_hosts", p->trusted_template_hosts,
	    p->ntrusted_template_hosts);
	print_list(f, "internal_domains", p->internal_domains,
	    p->ninternal_domains);
	print_list(f, "reply_prefixes", p->reply_prefixes,
	    p->nreply_prefixes);
	fprintf(f, "# %zu people, from staff_names and staff_names_file\n",
	    p->nstaff);
	fputs(p->nstaff ? "staff_names:\n" : "staff_names: []\n", f);
	for (i = 0; i < p->nstaff; i++) {
		fputs("  - ", f);
		print_inline_list(f, p->staff[i].names, p->staff[i].n);
		fputc('\n', f);
	}
	fputs("staff_names_file: ", f);
	y_print_str(f, p->staff_names_file);
	fputc('\n', f);
	fprintf(f, "# %zu correspondents, from correspondents and "
	    "correspondents_file\n", p->ncorrespondents);
	fputs(p->ncorrespondents ? "correspondents:\n" :
	    "correspondents: []\n", f);
	for (i = 0; i < p->ncorrespondents; i++) {
		fputs("  - {names: ", f);
		print_inline_list(f, p->correspondents[i].who.names,
		    p->correspondents[i].who.n);
		fputs(", domains: ", f);
		print_inline_list(f, p->correspondents[i].domains,
		    p->correspondents[i].ndomains);
		fputs("}\n", f);
	}
	fputs("correspondents_file: ", f);
	y_print_str(f, p->correspondents_file);
	fputc('\n', f);
	fprintf(f, "outbound:\n  window: %u\n  max_lures: %u\n"
	    "  max_new_rcpts: %u\n  action: %s\n", p->outbound.window,
	    p->outbound.max_lures, p->outbound.max_new_rcpts,
	    policy_action_names[p->outbound.action]);
	fputs(p->nrules ? "rules:\n" : "rules: []\n", f);
	for (i = 0; i < p->nrules; i++) {
		fprintf(f, "  - name: %s\n    where: ", p->rules[i].name);
		if (p->rules[i].where == WHERE_HEADER)
			fprintf(f, "\"header:%s\"\n", p->rules[i].header);
		else
			fprintf(f, "%s\n", wheres[p->rules[i].where]);
		fputs("    pattern: ", f);
		y_print_str(f, p->rules[i].pattern);
		fprintf(f, "\n    caseless: %s\n    score: %d\n",
		    p->rules[i].caseless ? "true" : "false",
		    p->rules[i].score);
	}
}

void
policyset_print(const struct policyset *s, FILE *f)
{
	size_t	i;

	policy_print(s->def, f);
	for (i = 0; i < s->n; i++) {
		fputs("---\n", f);
		policy_print(s->v[i], f);
	}
}
