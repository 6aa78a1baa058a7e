/*
 * hijack.c: thread-hijack signs, the policy's custom rules and
 * EMOTET_LURE.  The quoted thread is read by hijack_quote.c, the custom
 * rules are matched by rules_custom.c; this file decides the signs.
 *
 * Takes the parsed message (decoded subject and display names, raw
 * header values, body text of the text parts), one recipient policy
 * and the policy-independent content findings; appends this policy's
 * findings to out (part "" for all of them).
 *
 * Signs:
 *  HDR_DISPLAY_NAME_SPOOF      the display name holds an address (also
 *                              full-width, after NFKC) of a domain other
 *                              than the From domain, or is a known
 *                              correspondent's name sent from outside
 *                              that correspondent's domains.
 *  HDR_INTERNAL_NAME_EXTERNAL  the display name is a staff name and the
 *                              From domain is not internal.
 *  HDR_LOOKALIKE_DOMAIN        the From or Reply-To domain looks like an
 *                              internal or a correspondent's domain
 *                              (lookalike.c: skeleton, IDNA, one edit).
 *  HDR_FOREIGN_REPLY_PREFIX    a subject prefix outside reply_prefixes.
 *  HDR_FAKE_REPLY              a reply prefix, no In-Reply-To, no
 *                              References, no Thread-Index, no list.
 *  BODY_QUOTED_THREAD_FOREIGN  the body quotes a thread whose named
 *                              participants do not include the From
 *                              domain.
 *  HDR_REPLYTO_MISMATCH        Reply-To and From domains differ.
 *  HDR_THREAD_HIJACK, HDR_KNOWN_THREAD, HDR_FIRST_CONTACT, and the
 *  name signs on learned names: hijack_learn.c, from what the
 *  organisation's own mail taught (learn.h).
 *
 * Decisions (documented in lurewall-policy(5) too):
 *  - A domain "matches" another when equal or a subdomain of it, in
 *    either direction: mail.partner.example is partner.example.  So an
 *    internal domain's subdomains are internal.  Without
 *    internal_domains the policy's own domains: are the internal ones.
 *  - trusted_senders (From address or @domain) skip every HDR_/BODY_
 *    sign and hence EMOTET_LURE; custom rules still run, because an
 *    admin who writes a rule means it for everyone.
 *  - A forward prefix never makes HDR_FAKE_REPLY; a reply prefix under
 *    a forward ("Fwd: RE: x") does when nothing was forwarded (no
 *    quote, no header block, no attached message): a forward of a reply
 *    that carries no reply is not one.
 *  - BODY_QUOTED_THREAD_FOREIGN needs addresses in the quote's header
 *    lines (From:/To:/Cc: blocks, "... wrote:" lines); a quote that
 *    names nobody proves nothing.  When the quote names only authors
 *    ("On ..., X <x@d> wrote:") the sender need not appear in it, so an
 *    honest reply is recognised by its In-Reply-To/References; a quoted
 *    To:/Cc: line names the thread's recipients, and then the sender
 *    must be among the participants.  Senders from an internal domain
 *    are exempt: colleagues forward other people's threads all day.
 *  - Threads (thread.c): an Outlook conversation (Thread-Index) and
 *    list traffic (List-Id with List-Post, ezmlm's Mailing-List) are
 *    threaded like a message
 *    with In-Reply-To; a Reply-To that is the list's posting address
 *    (or at its domain) is no mismatch.  A genuine-looking thread (our
 *    Message-ID in In-Reply-To/References or a Thread-Index, and a quote
 *    whose attribution names a recipient) keeps
 *    HDR_FOREIGN_REPLY_PREFIX but it is no strong sign for
 *    EMOTET_LURE: a real foreign-language reply with an attachment is
 *    no lure.  A stolen thread looks the same, so the name and quote
 *    signs still count.
 *  - A pcre2 match or depth limit in a custom rule is SCAN_ERROR.
 *
 * Bounds: the first SUBJECT_PREFIX_BYTES of the subject,
 * DISPLAY_ADDR_BYTES of the display name; the quote's bounds are in
 * hijack_quote.c, the custom rules' in rules_custom.c.
 *
 * Ignores: quotes inside attached messages (they are the forwarded
 * message, not this one's thread), HTML structure (mime.c reduced it to
 * text), and Sender:.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "hijack.h"
#include "hijack_int.h"
#include "learn.h"
#include "lookalike.h"
#include "mime.h"
#include "names.h"
#include "policy.h"
#include "rules_custom.h"
#include "analyzer.h"
#include "thread.h"

#define SUBJECT_PREFIX_BYTES	512
#define DISPLAY_ADDR_BYTES	4096
#define TAG_MAX_BYTES		64

/*
 * Every reply and forward prefix we recognise: Latin ones in lowercase
 * ASCII (compared case-insensitively), others as clients write them.
 */
static const struct {
	const char	*tok;
	bool		 forward;
} prefix_tab[] = {
	{ "re", false }, { "aw", false }, { "sv", false }, { "vs", false },
	{ "antw", false }, { "r", false }, { "rif", false }, { "odp", false },
	{ "ynt", false }, { "res", false }, { "atb", false },
	{ "vá", false }, { "Vá", false }, { "VÁ", false },
	{ "rép", false }, { "Rép", false }, { "RÉP", false },
	{ "Ответ", false }, { "ответ", false }, { "ОТВЕТ", false },
	{ "Отв", false }, { "отв", false }, { "ОТВ", false },
	{ "ΑΠ", false }, { "Απ", false }, { "απ", false },
	{ "ΣΧΕΤ", false }, { "Σχετ", false }, { "σχετ", false },
	{ "返信", false }, { "回复", false }, { "答复", false },
	{ "回覆", false }, { "답장", false }, { "회신", false },
	{ "fw", true }, { "fwd", true }, { "wg", true }, { "tr", true },
	{ "rv", true }, { "i", true }, { "doorst", true }, { "pd", true },
	{ "enc", true }, { "vl", true }, { "vb", true }, { "továbbítás", true },
	{ "İLT", true }, { "İlt", true }, { "Пересл", true },
	{ "пересл", true }, { "ΠΡΘ", true }, { "Πρθ", true },
	{ "転送", true }, { "转发", true }, { "轉寄", true }, { "전달", true },
};

/* Expected when the policy sets no reply_prefixes (case-insensitive). */
static const char *const default_prefixes[] = {
	"Re", "Fw", "Fwd", "返信", "転送"
};

static const char *const strong_signs[] = {
	"HDR_DISPLAY_NAME_SPOOF", "HDR_INTERNAL_NAME_EXTERNAL",
	"HDR_LOOKALIKE_DOMAIN", "HDR_FOREIGN_REPLY_PREFIX",
	"BODY_QUOTED_THREAD_FOREIGN", "HDR_THREAD_HIJACK"
};

/* A first contact is a sign only with these (prefixes of rules). */
static const char *const first_contact_payloads[] = {
	"OFFICE_VBA", "OFFICE_XLM", "FILE_SCRIPT", "ARCHIVE_PASSWORD_UNKNOWN"
};

/* Rules, or prefixes of rules (OFFICE_VBA_AUTOEXEC is a macro too). */
static const char *const payloads[] = {
	"FILE_EXECUTABLE", "FILE_SCRIPT", "FILE_SHORTCUT",
	"FILE_HTML_SMUGGLING", "OFFICE_REMOTE_TEMPLATE",
	"ARCHIVE_PASSWORD_UNKNOWN", "OFFICE_VBA", "OFFICE_XLM"
};

static bool
nonblank(const char *s)
{
	if (s == NULL)
		return false;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return true;
	return false;
}

/* Same organisation: equal, or one a subdomain of the other. */
static bool
domain_related(const char *a, const char *b)
{
	return lw_domain_below(a, b) || lw_domain_below(b, a);
}

static bool
domain_listed(const char *d, char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (list[i] != NULL && lw_domain_below(d, list[i]))
			return true;
	return false;
}

static bool
internal_known(const struct policy *p)
{
	return p->ninternal_domains > 0 || p->ndomains > 0;
}

static bool
internal(const struct policy *p, const char *d)
{
	if (p->ninternal_domains > 0)
		return domain_listed(d, p->internal_domains,
		    p->ninternal_domains);
	return domain_listed(d, p->domains, p->ndomains);
}

/*
 * trusted_senders: "user@dom" or "@dom", case-insensitive (the same
 * test as policy_addr_listed, kept here so the stage stands alone).
 */
static bool
trusted(const struct policy *p, const char *addr)
{
	const char	*at;
	size_t		 i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return false;
	for (i = 0; i < p->ntrusted_senders; i++) {
		const char *t = p->trusted_senders[i];

		if (t == NULL)
			continue;
		if (t[0] == '@' ? lw_strcaseeq(t + 1, at + 1) :
		    lw_strcaseeq(t, addr))
			return true;
	}
	return false;
}

static bool
ascii_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


/*
 * Which prefix_tab entry starts s?  -1 when none; *tl gets its length.
 * A Latin prefix must be a whole word: "Reminder:" is no "Re".
 */
static int
prefix_lookup(const char *s, size_t *tl)
{
	char	low[8];
	size_t	k, n, best = 0;
	int	idx = -1;

	if (ascii_alpha((unsigned char)s[0])) {
		for (n = 0; ascii_alpha((unsigned char)s[n]); n++) {
			if (n == sizeof(low) - 1)
				return -1;
			low[n] = (char)((unsigned char)s[n] | 0x20);
		}
		low[n] = '\0';
		/* "Vá": a Latin word that goes on past ASCII. */
		if ((unsigned char)s[n] < 0x80) {
			for (k = 0; k < sizeof(prefix_tab) /
			    sizeof(prefix_tab[0]); k++)
				if (strcmp(low, prefix_tab[k].tok) == 0) {
					*tl = n;
					return (int)k;
				}
			return -1;
		}
	}
	/* The longest token that starts s: "Ответ" before "Отв". */
	for (k = 0; k < sizeof(prefix_tab) / sizeof(prefix_tab[0]); k++) {
		n = strlen(prefix_tab[k].tok);
		if (n > best && !lw_is_ascii(prefix_tab[k].tok) &&
		    strncmp(s, prefix_tab[k].tok, n) == 0) {
			best = n;
			idx = (int)k;
		}
	}
	if (idx >= 0)
		*tl = best;
	return idx;
}

size_t
hijack_prefixes(const char *subject, struct hijack_prefix *out,
    size_t max)
{
	const char	*c, *close;
	char		*s, cl;
	size_t		 n = 0, len, i = 0, j, d, k, tl = 0, tags = 0;
	int		 idx;

	if (subject == NULL)
		return 0;
	len = strlen(subject);
	if (len > SUBJECT_PREFIX_BYTES)
		len = lw_utf8_cut(subject, SUBJECT_PREFIX_BYTES);
	/* NFKC: full-width letters and colons are the same prefix. */
	if ((s = names_nfkc(subject, len)) == NULL)
		return 0;
	while (n < max) {
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		/* "[EXT]", "【外部】": a tag, not the subject. */
		close = s[i] == '[' ? "]" :
		    strncmp(s + i, "【", strlen("【")) == 0 ? "】" : NULL;
		if (close != NULL) {
			if (++tags > 8 || (c = strstr(s + i, close)) == NULL ||
			    (size_t)(c - (s + i)) > TAG_MAX_BYTES)
				break;
			i = (size_t)(c - s) + strlen(close);
			continue;
		}
		if ((idx = prefix_lookup(s + i, &tl)) < 0)
			break;
		/* Repeats: Re[2]:, Re(2):, Re^2: */
		j = i + tl;
		if (s[j] == '[' || s[j] == '(' || s[j] == '^') {
			cl = s[j] == '[' ? ']' : s[j] == '(' ? ')' : '\0';
			d = ++j;
			while (s[j] >= '0' && s[j] <= '9' && j - d < 4)
				j++;
			if (j == d || (cl != '\0' && s[j++] != cl))
				break;
		}
		/* French style "TR :" */
		for (k = 0; k < 2 && s[j] == ' '; k++)
			j++;
		if (s[j] != ':')
			break;
		if (tl >= sizeof(out[n].tok))
			tl = sizeof(out[n].tok) - 1;
		memcpy(out[n].tok, s + i, tl);
		out[n].tok[tl] = '\0';
		out[n].forward = prefix_tab[idx].forward;
		n++;
		i = j + 1;
	}
	free(s);
	return n;
}

/* The display name holds an address of another domain. */
static enum lw_err
display_address(const struct message *msg, struct findings *out,
    bool *hit)
{
	char		 addr[ADDR_MAX + 1], dom[DOMAIN_MAX + 1], *s;
	const char	*disp = msg->from.display;
	size_t		 len, pos = 0;
	enum lw_err	 e = LW_OK;

	len = strlen(disp);
	if (len > DISPLAY_ADDR_BYTES)
		len = lw_utf8_cut(disp, DISPLAY_ADDR_BYTES);
	/* NFKC: "yamada＠torihiki.example" is an address too. */
	if ((s = names_nfkc(disp, len)) == NULL)
		return LW_ENOMEM;
	while (hijack_next_addr(s, strlen(s), &pos, addr, dom))
		if (!domain_related(dom, msg->from.domain)) {
			e = findings_add(out, "HDR_DISPLAY_NAME_SPOOF", "",
			    "display name shows %s, sent from %s", addr,
			    msg->from.addr);
			*hit = true;
			break;
		}
	free(s);
	return e;
}

/*
 * The display name is a correspondent's name (every component some
 * correspondent's) and some component's correspondents do not include
 * the From domain.
 */
static enum lw_err
display_correspondent(const struct message *msg, const struct policy *p,
    const struct name_cands *c, struct findings *out)
{
	const struct correspondent	*cr, *bad = NULL;
	size_t				 i, j;
	bool				 nomem = false, any, fits;
	bool				 confusable = false;
	enum names_match		 m;

	for (i = 0; i < c->n; i++) {
		any = fits = false;
		cr = NULL;
		for (j = 0; j < p->ncorrespondents; j++) {
			m = names_person_match(&p->correspondents[j].who, c,
			    i, &nomem);
			if (m == NAMES_NO)
				continue;
			if (m == NAMES_CONFUSABLE)
				confusable = true;
			any = true;
			cr = &p->correspondents[j];
			if (domain_listed(msg->from.domain, cr->domains,
			    cr->ndomains))
				fits = true;
		}
		if (nomem)
			return LW_ENOMEM;
		if (!any)
			return LW_OK;
		if (!fits && bad == NULL)
			bad = cr;
	}
	if (bad == NULL)
		return LW_OK;
	return findings_add(out, "HDR_DISPLAY_NAME_SPOOF", "",
	    "display name \"%s\" is correspondent %s of %s%s, sent from %s",
	    msg->from.display, bad->who.n > 0 ? bad->who.names[0] : "?",
	    bad->ndomains > 0 ? bad->domains[0] : "?", confusable ?
	    " (with confusable letters)" : "", msg->from.addr);
}

/* Every component of the display name is a staff name. */
static enum lw_err
display_staff(const struct message *msg, const struct policy *p,
    const struct name_cands *c, struct findings *out)
{
	const struct person	*first = NULL;
	size_t			 i, j;
	bool			 nomem = false, any, confusable = false;
	enum names_match	 m;

	if (!internal_known(p) || internal(p, msg->from.domain))
		return LW_OK;
	for (i = 0; i < c->n; i++) {
		any = false;
		for (j = 0; j < p->nstaff && !any; j++)
			if ((m = names_person_match(&p->staff[j], c, i,
			    &nomem)) != NAMES_NO) {
				any = true;
				if (m == NAMES_CONFUSABLE)
					confusable = true;
				if (first == NULL)
					first = &p->staff[j];
			}
		if (nomem)
			return LW_ENOMEM;
		if (!any)
			return LW_OK;
	}
	if (first == NULL)
		return LW_OK;
	return findings_add(out, "HDR_INTERNAL_NAME_EXTERNAL", "",
	    "display name \"%s\" is staff %s%s, sent from %s",
	    msg->from.display, first->n > 0 ? first->names[0] : "?",
	    confusable ? " (with confusable letters)" : "", msg->from.addr);
}

static enum lw_err
display_signs(const struct message *msg, const struct policy *p,
    struct findings *out)
{
	struct name_cands	 c;
	bool			 spoof = false;
	enum lw_err		 e;

	if (msg->from.display == NULL || *msg->from.display == '\0' ||
	    msg->from.domain == NULL || msg->from.addr == NULL)
		return LW_OK;
	if ((e = display_address(msg, out, &spoof)) != LW_OK)
		return e;
	if ((e = names_cands(msg->from.display, &c)) != LW_OK)
		return e;
	if (c.n > 0) {
		if (!spoof)
			e = display_correspondent(msg, p, &c, out);
		if (e == LW_OK)
			e = display_staff(msg, p, &c, out);
	}
	names_cands_free(&c);
	return e;
}

/*
 * A reply that belongs to a thread: In-Reply-To or References, an
 * Outlook conversation (Thread-Index, often without In-Reply-To), or
 * list traffic (the list is the thread).
 */
static bool
threaded_msg(const struct message *msg, const struct thread_info *ti)
{
	return nonblank(msg->in_reply_to) || nonblank(msg->references) ||
	    ti->outlook || ti->list;
}

/* thread_info's test of Message-ID domains: one of ours. */
static bool
ours(const char *domain, const void *arg)
{
	return internal(arg, domain);
}

/*
 * HDR_LOOKALIKE_DOMAIN: the From (or Reply-To) domain looks like one of
 * ours or a correspondent's without being it (lookalike.c).
 */
static enum lw_err
lookalike_sign(const struct message *msg, const struct policy *p,
    struct findings *out)
{
	const char	*cand[2] = { msg->from.domain, msg->reply_to.domain };
	char		 why[600];
	size_t		 c, i, j;

	for (c = 0; c < 2; c++) {
		if (cand[c] == NULL || internal(p, cand[c]))
			continue;
		for (i = 0; i < p->ncorrespondents; i++)
			if (domain_listed(cand[c], p->correspondents[i].domains,
			    p->correspondents[i].ndomains))
				break;
		if (i < p->ncorrespondents)
			continue;
		for (i = 0; i < p->ninternal_domains + p->ndomains; i++) {
			const char *k = i < p->ninternal_domains ?
			    p->internal_domains[i] :
			    p->domains[i - p->ninternal_domains];

			if (k != NULL && lookalike_domain(cand[c], k, why,
			    sizeof(why)))
				return findings_add(out, "HDR_LOOKALIKE_DOMAIN",
				    "", "%s %s: %s, ours", c == 0 ? "From" :
				    "Reply-To", cand[c], why);
		}
		for (i = 0; i < p->ncorrespondents; i++)
			for (j = 0; j < p->correspondents[i].ndomains; j++) {
				const char *k = p->correspondents[i].domains[j];

				if (k != NULL && lookalike_domain(cand[c], k,
				    why, sizeof(why)))
					return findings_add(out,
					    "HDR_LOOKALIKE_DOMAIN", "",
					    "%s %s: %s, a correspondent's",
					    c == 0 ? "From" : "Reply-To",
					    cand[c], why);
			}
	}
	return LW_OK;
}

/* Is this prefix one the policy expects (case-insensitive)? */
static enum lw_err
prefix_expected(const struct policy *p, const char *tok, bool *yes)
{
	const char	*want;
	char		*nf;
	size_t		 i, n, len;
	bool		 dflt = p->nreply_prefixes == 0;

	*yes = false;
	n = dflt ? sizeof(default_prefixes) / sizeof(default_prefixes[0]) :
	    p->nreply_prefixes;
	for (i = 0; i < n && !*yes; i++) {
		want = dflt ? default_prefixes[i] : p->reply_prefixes[i];
		if (want == NULL)
			continue;
		if ((nf = names_nfkc(want, strlen(want))) == NULL)
			return LW_ENOMEM;
		/* "AW:" and " AW" in the policy mean AW. */
		len = strlen(nf);
		while (len > 0 && (nf[len - 1] == ':' || nf[len - 1] == ' '))
			nf[--len] = '\0';
		*yes = lw_strcaseeq(nf + strspn(nf, " "), tok);
		free(nf);
	}
	return LW_OK;
}

static enum lw_err
subject_signs(const struct message *msg, const struct policy *p,
    const struct quote *q, const struct thread_info *ti, bool known,
    struct findings *out)
{
	struct hijack_prefix	 pre[HIJACK_MAX_PREFIXES];
	char			 foreign[HIJACK_MAX_PREFIXES * 18] = "";
	const char		*reply = NULL;
	size_t			 n, i, j;
	bool			 yes, seen, threaded;
	enum lw_err		 e;

	/* A reply in one of our threads from a participant is genuine. */
	if (known)
		return LW_OK;
	n = hijack_prefixes(msg->subject, pre, HIJACK_MAX_PREFIXES);
	for (i = 0; i < n; i++) {
		if (!pre[i].forward && reply == NULL)
			reply = pre[i].tok;
		if ((e = prefix_expected(p, pre[i].tok, &yes)) != LW_OK)
			return e;
		for (j = 0, seen = false; j < i && !seen; j++)
			seen = lw_strcaseeq(pre[j].tok, pre[i].tok);
		if (yes || seen)
			continue;
		if (foreign[0] != '\0')
			strcat(foreign, ", ");
		strcat(foreign, pre[i].tok);
		strcat(foreign, ":");
	}
	if (foreign[0] != '\0' && (e = findings_add(out,
	    "HDR_FOREIGN_REPLY_PREFIX", "", "subject prefix %s not expected%s",
	    foreign, thread_genuine(ti) ? " (a genuine-looking thread: no "
	    "lure sign)" : "")) != LW_OK)
		return e;

	threaded = threaded_msg(msg, ti);
	if (reply == NULL || threaded)
		return LW_OK;
	if (!pre[0].forward)
		return findings_add(out, "HDR_FAKE_REPLY", "",
		    "reply prefix %s: without In-Reply-To or References",
		    reply);
	if (!q->quoted && !q->inner)
		return findings_add(out, "HDR_FAKE_REPLY", "",
		    "forward of a reply (%s: %s:) that forwards nothing, "
		    "without In-Reply-To or References", pre[0].tok, reply);
	return LW_OK;
}

static enum lw_err
quote_sign(const struct message *msg, const struct policy *p,
    const struct quote *q, const struct thread_info *ti,
    struct findings *out)
{
	char		 list[4 * (DOMAIN_MAX + 2) + 8] = "";
	const char	*d = msg->from.domain;
	size_t		 i;
	bool		 threaded;

	if (d == NULL || q->ndom == 0 || internal(p, d))
		return LW_OK;
	for (i = 0; i < q->ndom; i++)
		if (domain_related(d, q->dom[i]))
			return LW_OK;
	/* List traffic whose quote names the list: every member is in it. */
	for (i = 0; ti->list && ti->list_post[0] != '\0' && i < q->ndom; i++)
		if (domain_related(q->dom[i], strrchr(ti->list_post, '@') + 1))
			return LW_OK;
	threaded = threaded_msg(msg, ti);
	if (!q->recipients && threaded)
		return LW_OK;
	for (i = 0; i < q->ndom && i < 4; i++) {
		if (i > 0)
			strcat(list, ", ");
		strcat(list, q->dom[i]);
	}
	if (q->ndom > 4)
		strcat(list, ", ...");
	return findings_add(out, "BODY_QUOTED_THREAD_FOREIGN", "",
	    "sender %s quotes a thread of %s", d, list);
}

static enum lw_err
replyto_sign(const struct message *msg, const struct thread_info *ti,
    struct findings *out)
{
	if (msg->reply_to.domain == NULL || msg->from.domain == NULL ||
	    domain_related(msg->reply_to.domain, msg->from.domain))
		return LW_OK;
	/* A list that sets Reply-To to itself. */
	if (thread_list_address(ti, msg->reply_to.addr))
		return LW_OK;
	return findings_add(out, "HDR_REPLYTO_MISMATCH", "",
	    "Reply-To %s, From %s", msg->reply_to.addr != NULL ?
	    msg->reply_to.addr : msg->reply_to.domain, msg->from.addr);
}

/* The first content finding whose rule starts with one of v[n]. */
static const char *
payload_of(const struct findings *content, const char *const *v, size_t n)
{
	size_t	i, j;

	for (j = 0; j < content->n; j++)
		for (i = 0; i < n; i++)
			if (strncmp(content->v[j].rule, v[i], strlen(v[i])) ==
			    0)
				return content->v[j].rule;
	return NULL;
}

/*
 * A strong hijack sign in out and a payload among the content findings;
 * or a first contact with a macro, a script or an archive left closed.
 */
static enum lw_err
emotet(const struct findings *content, bool genuine, struct findings *out)
{
	const char	*sign = NULL, *payload = NULL;
	size_t		 i;

	if (content == NULL)
		return LW_OK;
	for (i = 0; i < sizeof(strong_signs) / sizeof(strong_signs[0]); i++) {
		/* A genuine-looking thread: its prefix proves nothing. */
		if (genuine && strcmp(strong_signs[i],
		    "HDR_FOREIGN_REPLY_PREFIX") == 0)
			continue;
		if (findings_has(out, strong_signs[i])) {
			sign = strong_signs[i];
			break;
		}
	}
	if (sign != NULL)
		payload = payload_of(content, payloads,
		    sizeof(payloads) / sizeof(payloads[0]));
	else if (findings_has(out, "HDR_FIRST_CONTACT")) {
		sign = "HDR_FIRST_CONTACT";
		payload = payload_of(content, first_contact_payloads,
		    sizeof(first_contact_payloads) /
		    sizeof(first_contact_payloads[0]));
	}
	if (payload == NULL)
		return LW_OK;
	return findings_add(out, "EMOTET_LURE", "", "%s with %s", sign,
	    payload);
}

enum lw_err
hijack_scan(struct scan_ctx *ctx, const struct message *msg,
    const struct policy *p, const struct findings *content,
    struct findings *out)
{
	struct quote		 q;
	struct thread_info	 ti;
	bool			 trust, known = false;
	enum lw_err		 e;

	if (msg == NULL || p == NULL)
		return LW_OK;
	memset(&q, 0, sizeof(q));
	memset(&ti, 0, sizeof(ti));
	trust = trusted(p, msg->from.addr);
	if (!trust) {
		if ((e = display_signs(msg, p, out)) != LW_OK)
			goto out;
		if ((e = lookalike_sign(msg, p, out)) != LW_OK)
			goto out;
		if ((e = hijack_quote_scan(ctx, msg->root, &q)) != LW_OK)
			goto out;
		if ((e = hijack_learn_signs(ctx, msg, learn_org(p), &q, out,
		    &known)) != LW_OK)
			goto out;
		if ((e = thread_info(ctx, msg, ours, p, &ti)) != LW_OK)
			goto out;
		if ((e = subject_signs(msg, p, &q, &ti, known, out)) != LW_OK)
			goto out;
		if ((e = quote_sign(msg, p, &q, &ti, out)) != LW_OK)
			goto out;
		if ((e = replyto_sign(msg, &ti, out)) != LW_OK)
			goto out;
	}
	if ((e = rules_custom_scan(ctx, msg, p, out)) != LW_OK)
		goto out;
	if (!trust)
		e = emotet(content, thread_genuine(&ti), out);
out:
	hijack_quote_free(&q);
	return e;
}
