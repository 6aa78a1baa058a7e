/*
 * 3001-hijack-signs: the HDR_/BODY_ signs and EMOTET_LURE on messages
 * built by hand (mirrors of the corpus lures and benign mails, and the
 * false positives issue 5 names), under the corpus scenario's policy;
 * the policy's custom rules and trusted_senders.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lurewall.h"
#include "hijack.h"
#include "mime.h"
#include "names.h"
#include "policy.h"
#include "rules_custom.h"
#include "analyzer.h"

/* Keeps scan.o out of the link; the timeout test sets it. */
static bool	test_expired;

bool
scan_expired(struct scan_ctx *ctx)
{
	return test_expired;
}

static char *
xstrdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		bail("strdup");
	return d;
}

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		bail("calloc");
	return p;
}

static void
set_addr(struct address *a, const char *display, const char *addr)
{
	const char	*at;

	a->display = xstrdup(display);
	a->addr = xstrdup(addr);
	if (addr != NULL && (at = strrchr(addr, '@')) != NULL) {
		a->domain = xstrdup(at + 1);
		lw_strlower(a->domain);
	}
}

static struct mime_part *
text_part(const char *path, const char *text, bool html)
{
	struct mime_part	*mp = xcalloc(1, sizeof(*mp));

	mp->path = xstrdup(path);
	mp->ctype = xstrdup(html ? "text/html" : "text/plain");
	mp->text = xstrdup(text);
	mp->text_len = strlen(text);
	mp->is_html = html;
	return mp;
}

/* A message as mime.c would hand it over: one text/plain body. */
static struct message *
mk(const char *display, const char *addr, const char *subject,
    const char *irt, const char *body)
{
	struct message	*m = xcalloc(1, sizeof(*m));

	set_addr(&m->from, display, addr);
	m->subject = xstrdup(subject);
	m->in_reply_to = xstrdup(irt);
	m->references = xstrdup(irt);
	m->root = text_part("", body != NULL ? body : "", false);
	m->nparts = 1;
	return m;
}

static void
mk_hdr(struct message *m, const char *name, const char *value)
{
	struct header	*h;

	h = reallocarray(m->hdrs, m->nhdrs + 1, sizeof(*h));
	if (h == NULL)
		bail("reallocarray");
	m->hdrs = h;
	h[m->nhdrs].name = xstrdup(name);
	h[m->nhdrs].value = xstrdup(value);
	m->nhdrs++;
}

/* Turn the body into multipart/mixed and add a child. */
static struct mime_part *
mk_child(struct message *m, struct mime_part *child)
{
	struct mime_part	*root = m->root, **v;

	if (root->nchild == 0 && root->text != NULL) {
		m->root = xcalloc(1, sizeof(*m->root));
		m->root->path = xstrdup("");
		m->root->ctype = xstrdup("multipart/mixed");
		free(root->path);
		root->path = xstrdup("1");
		m->root->child = xcalloc(1, sizeof(*v));
		m->root->child[0] = root;
		m->root->nchild = 1;
		root = m->root;
	}
	v = reallocarray(root->child, root->nchild + 1, sizeof(*v));
	if (v == NULL)
		bail("reallocarray");
	root->child = v;
	v[root->nchild++] = child;
	m->nparts++;
	return child;
}

static void	mk_free(struct message *);

static void
part_free(struct mime_part *mp)
{
	size_t	i;

	if (mp == NULL)
		return;
	for (i = 0; i < mp->nchild; i++)
		part_free(mp->child[i]);
	free(mp->child);
	mk_free(mp->inner);
	free(mp->path);
	free(mp->ctype);
	free(mp->text);
	free(mp->filename);
	free(mp);
}

static void
addr_free(struct address *a)
{
	free(a->display);
	free(a->addr);
	free(a->domain);
}

static void
mk_free(struct message *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	addr_free(&m->from);
	addr_free(&m->sender);
	addr_free(&m->reply_to);
	free(m->subject);
	free(m->in_reply_to);
	free(m->references);
	part_free(m->root);
	free(m);
}

/* The corpus scenario (scenario-policy.yaml), built by hand. */
static char	*sato[] = { "佐藤 花子", "Hanako Sato" };
static char	*suzuki[] = { "鈴木 一郎", "Ichiro Suzuki" };
static char	*keiri[] = { "経理部" };
static char	*yamada[] = { "山田 太郎", "Taro Yamada" };
static char	*smith[] = { "John Smith" };
static char	*weber[] = { "Klaus Weber" };
static char	*d_torihiki[] = { "torihiki.example.ne.jp" };
static char	*d_partner[] = { "partner.example.com" };
static char	*d_lieferant[] = { "lieferant.example.de" };
static char	*d_internal[] = { "example.co.jp" };
static struct person staff[3];
static struct correspondent corr[3];
static struct policy scenario;

static void
person_init(struct person *who, char **names, size_t n)
{
	size_t	i;

	who->names = names;
	who->n = n;
	who->keys = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		if ((who->keys[i] = names_key(names[i])) == NULL)
			bail("names_key");
}

static void
person_free(struct person *who)
{
	size_t	i;

	for (i = 0; i < who->n; i++)
		free(who->keys[i]);
	free(who->keys);
}

static void
scenario_init(void)
{
	person_init(&staff[0], sato, 2);
	person_init(&staff[1], suzuki, 2);
	person_init(&staff[2], keiri, 1);
	person_init(&corr[0].who, yamada, 2);
	corr[0].domains = d_torihiki;
	corr[0].ndomains = 1;
	person_init(&corr[1].who, smith, 1);
	corr[1].domains = d_partner;
	corr[1].ndomains = 1;
	person_init(&corr[2].who, weber, 1);
	corr[2].domains = d_lieferant;
	corr[2].ndomains = 1;
	scenario.name = "example.co.jp";
	scenario.domains = d_internal;
	scenario.ndomains = 1;
	scenario.internal_domains = d_internal;
	scenario.ninternal_domains = 1;
	scenario.staff = staff;
	scenario.nstaff = 3;
	scenario.correspondents = corr;
	scenario.ncorrespondents = 3;
}

static struct findings	last;

/*
 * Scan m under p with an optional payload finding among the content
 * findings; the rules found, comma-separated, in order.
 */
static const char *
scan(const struct message *m, const struct policy *p, const char *payload)
{
	static char		 buf[1024];
	struct limits		 lim;
	struct findings		 content = { 0 }, fs = { 0 };
	struct scan_ctx		 ctx;
	size_t			 i;

	limits_default(&lim);
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &fs;
	ctx.msg = m;
	findings_free(&last);
	if (payload != NULL &&
	    findings_add(&content, payload, "2", "test payload") != LW_OK)
		bail("findings_add");
	if (hijack_scan(&ctx, m, p, &content, &last) != LW_OK)
		bail("hijack_scan failed");
	buf[0] = '\0';
	for (i = 0; i < last.n; i++) {
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, last.v[i].rule);
		if (strcmp(last.v[i].part, "") != 0)
			diag("finding %s has part %s", last.v[i].rule,
			    last.v[i].part);
		if (getenv("HIJACK_VERBOSE") != NULL)
			diag("%s: %s", last.v[i].rule, last.v[i].detail);
	}
	findings_free(&content);
	findings_free(&fs);
	return buf;
}

static const char *
detail(const char *rule)
{
	size_t	i;

	for (i = 0; i < last.n; i++)
		if (strcmp(last.v[i].rule, rule) == 0)
			return last.v[i].detail;
	return "";
}

/* Check scan(m) == want, then free m. */
static void	expect(struct message *, const struct policy *, const char *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

static void
expect(struct message *m, const struct policy *p, const char *payload,
    const char *want, const char *fmt, ...)
{
	const char	*got = scan(m, p, payload);
	char		 what[256];
	va_list		 ap;
	size_t		 i;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!is_str(want, got, "%s", what))
		for (i = 0; i < last.n; i++)
			diag("  %s: %s", last.v[i].rule, last.v[i].detail);
	mk_free(m);
}

#define WROTE_SATO \
	"> On Mon, 21 Feb 2022 at 16:02, Hanako Sato <sato@example.co.jp> " \
	"wrote:\r\n> Hi Taro,\r\n>\r\n> thanks for the call today.\r\n" \
	"> Best regards,\r\n> Hanako\r\n"
#define OUTLOOK_SATO_YAMADA \
	"-----Original Message-----\r\n" \
	"From: 佐藤 花子 <sato@example.co.jp>\r\n" \
	"Sent: Tuesday, February 22, 2022 10:15 AM\r\n" \
	"To: 山田 太郎 <yamada@torihiki.example.ne.jp>\r\n" \
	"Subject: 見積書の件\r\n\r\n山田様\r\n\r\n" \
	"いつもお世話になっております。\r\n\r\n佐藤\r\n"
#define VON_SATO_WEBER \
	"-----Ursprüngliche Nachricht-----\r\n" \
	"Von: Hanako Sato <sato@example.co.jp>\r\n" \
	"Gesendet: Montag, 21. Februar 2022 09:12\r\n" \
	"An: Klaus Weber <k.weber@lieferant.example.de>\r\n" \
	"Betreff: Lieferplan Q2\r\n\r\n" \
	"Sehr geehrter Herr Weber,\r\nanbei unsere Bestellung für Q2.\r\n"

#define SPOOF	"HDR_DISPLAY_NAME_SPOOF"
#define INTNAME	"HDR_INTERNAL_NAME_EXTERNAL"
#define FOREIGN	"HDR_FOREIGN_REPLY_PREFIX"
#define FAKE	"HDR_FAKE_REPLY"
#define QUOTED	"BODY_QUOTED_THREAD_FOREIGN"
#define LURE	"EMOTET_LURE"

static void
corpus_lures(void)
{
	expect(mk("Taro Yamada", "info@shop-kobayashi.example",
	    "RE: quarterly figures", NULL,
	    "Hi Hanako,\r\n\r\nplease find the figures attached.\r\n\r\n"
	    "Regards,\r\nTaro\r\n\r\n" WROTE_SATO), &scenario, "OFFICE_VBA",
	    SPOOF "," FAKE "," QUOTED "," LURE, "lure-01");
	expect(mk("山田 太郎", "kaikei@ns1.fudosan-oka.example",
	    "Re: 見積書の件", NULL,
	    "佐藤様\r\n\r\n見積書を添付いたします。\r\n\r\n山田\r\n\r\n"
	    OUTLOOK_SATO_YAMADA), &scenario, "OFFICE_VBA_AUTOEXEC",
	    SPOOF "," FAKE "," QUOTED "," LURE, "lure-02");
	expect(mk("山田 太郎", "yamada.t@mail.kagu-select.example",
	    "Re: 請求書の送付", NULL,
	    "佐藤様\r\n\r\nパスワード：8462\r\n\r\n" OUTLOOK_SATO_YAMADA),
	    &scenario, "OFFICE_VBA", SPOOF "," FAKE "," QUOTED "," LURE,
	    "lure-03");
	expect(mk("Taro Yamada", "t.yamada@hostingpanel.example",
	    "Re: Invoice 2022-0301", NULL,
	    "Hello,\r\n\r\nPassword: abc123\r\n\r\nThanks,\r\nTaro\r\n\r\n"
	    WROTE_SATO), &scenario, "OFFICE_VBA",
	    SPOOF "," FAKE "," QUOTED "," LURE, "lure-04");
	expect(mk("山田 太郎", "noreply@cdn-asset22.example",
	    "資料送付のご案内", NULL,
	    "佐藤様\r\n\r\n解凍パスワードは次の通りです。\r\nKx7P2q\r\n"),
	    &scenario, "OFFICE_VBA", SPOOF "," LURE, "lure-05");
	expect(mk("yamada@torihiki.example.ne.jp",
	    "office@kanazawa-print.example", "Member list", NULL,
	    "Dear Hanako,\r\n\r\nplease review the attached list.\r\n"),
	    &scenario, "OFFICE_VBA", SPOOF "," LURE, "lure-06");
	ok(strstr(detail(SPOOF), "yamada@torihiki.example.ne.jp") != NULL,
	    "lure-06: the detail names the address in the display name");
	expect(mk("佐藤 花子 (経理部)", "sato.hanako@webmail-free.example",
	    "経費精算フォーム更新のお知らせ", NULL,
	    "各位\r\n\r\nお疲れ様です。経理部の佐藤です。\r\n\r\n--\r\n"
	    "株式会社エグザンプル 経理部\r\n佐藤 花子 <sato@example.co.jp>"
	    "\r\n"), &scenario, "OFFICE_VBA", INTNAME "," LURE, "lure-07");
	expect(mk("Klaus Weber", "buchhaltung@autohaus-lind.example",
	    "Re: AW: Lieferplan Q2", NULL,
	    "Hallo Frau Sato,\r\n\r\nanbei die Kalkulation.\r\n\r\n"
	    VON_SATO_WEBER), &scenario, "OFFICE_XLM",
	    SPOOF "," FOREIGN "," FAKE "," QUOTED "," LURE, "lure-08");
	ok(strstr(detail(FOREIGN), "AW") != NULL &&
	    strstr(detail(FOREIGN), "Re") == NULL,
	    "lure-08: the detail names AW, not Re");
	expect(mk("Hanako Sato", "sato@hm-dental-clinic.example",
	    "Fwd: RE: monthly report", NULL,
	    "Hi,\r\n\r\nsending the report again, the previous one "
	    "bounced.\r\nArchive password is below:\r\n\r\nQw3rty\r\n"),
	    &scenario, "OFFICE_XLM", INTNAME "," FAKE "," LURE, "lure-09");
	expect(mk("山田 太郎", "yamada@ymd-trading.example",
	    "RE: RE: 見積書の件", NULL,
	    "佐藤様\r\n\r\n修正版を送ります。\r\n\r\n" OUTLOOK_SATO_YAMADA),
	    &scenario, "OFFICE_VBA", SPOOF "," FAKE "," QUOTED "," LURE,
	    "lure-10");
	expect(mk("山田 太郎", "info@yoga-studio-mirai.example",
	    "返信: プレゼン資料", NULL,
	    "佐藤様\r\n\r\nパスワード：１２３４\r\n"), &scenario,
	    "OFFICE_VBA", SPOOF "," FAKE "," LURE, "lure-11");
	expect(mk("Delivery Service", "notice@parcel-track.example",
	    "Delivery failed", NULL,
	    "Dear customer,\r\n\r\nyour parcel could not be delivered.\r\n"),
	    &scenario, "FILE_EXECUTABLE", "", "lure-12: no hijack sign");
	expect(mk("Taro Yamada", "admin@old-wp-blog.example", "Re: contract",
	    NULL, "Hanako,\r\n\r\nthe signed contract.\r\n\r\nTaro\r\n\r\n"
	    WROTE_SATO), &scenario, "OFFICE_VBA",
	    SPOOF "," FAKE "," QUOTED "," LURE, "lure-13");
	expect(mk("Accounts", "accounts@billing-center.example",
	    "Calculation", NULL, "Please enable content.\r\n"), &scenario,
	    "OFFICE_VBA", "", "lure-14: no hijack sign");
	expect(mk("Klaus Weber", "k.weber@praxis-sonne.example",
	    "WG: Auftrag 4471", NULL,
	    "Guten Tag,\r\n\r\nKennwort: Sn4kP9\r\n\r\n" VON_SATO_WEBER),
	    &scenario, "OFFICE_VBA", SPOOF "," FOREIGN "," QUOTED "," LURE,
	    "lure-15: WG is foreign, a forward is no fake reply");
	expect(mk("Taro Yamada", "yamada@sakura-hoiku.example", "Re: budget",
	    NULL, "Hello Hanako,\r\n\r\nPW：m7Rt5vX\r\n\r\n" WROTE_SATO),
	    &scenario, "OFFICE_VBA", SPOOF "," FAKE "," QUOTED "," LURE,
	    "lure-16");
}

static void
corpus_benign(void)
{
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "契約書ドラフトの送付", NULL,
	    "佐藤様\r\n\r\nパスワード：Tk9#m2Lp\r\n\r\n--\r\n"
	    "取引商事株式会社 営業部\r\n山田 太郎\r\n"), &scenario,
	    "ARCHIVE_ENCRYPTED", "", "benign-01");
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "売上集計表の送付", NULL, "パスワードは別途お送りいたします。"),
	    &scenario, "ARCHIVE_ENCRYPTED", "", "benign-02a");
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "【パスワード】売上集計表の送付",
	    "<30bd5e5e29e028c0cfc5@torihiki.example.ne.jp>",
	    "パスワード：h8Vq3XwZ\r\n"), &scenario, NULL, "", "benign-02b");
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "Re: 集計表の更新について",
	    "<42949cdb1c5c405aeba4@example.co.jp>",
	    "佐藤様\r\n\r\n集計表を更新しました。\r\n\r\n山田\r\n\r\n"
	    "> 山田様\r\n> 集計表の更新版をお送りいただけますでしょうか。"
	    "\r\n> 佐藤\r\n"), &scenario, NULL, "", "benign-03");
	expect(mk("Example Cloud", "news@news.example.com",
	    "Example Cloud News - March 2022", NULL,
	    "New features this month.\r\n"), &scenario, NULL, "",
	    "benign-04");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "Slides for Thursday", NULL, "Hi Hanako,\r\n"), &scenario, NULL,
	    "", "benign-05");
	expect(mk("鈴木 一郎", "suzuki@example.co.jp", "来週の会議資料", NULL,
	    "皆さん\r\n"), &scenario, NULL, "",
	    "benign-06: a colleague from the internal domain");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "Price list 2022", NULL, "Password: Ju7e!2022\r\n"), &scenario,
	    "ARCHIVE_ENCRYPTED", "", "benign-07");
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "議事録（2022年3月1日 定例会議）", NULL, "佐藤様\r\n"), &scenario,
	    NULL, "", "benign-08");
	expect(mk("Klaus Weber", "k.weber@lieferant.example.de",
	    "AW: Lieferplan Q2", "<3cf8d941d57bf808ca27@example.co.jp>",
	    "Hallo Frau Sato,\r\n\r\n" VON_SATO_WEBER), &scenario, NULL,
	    FOREIGN, "benign-09: AW is foreign to the scenario policy");
}

static void
false_positives(void)
{
	struct policy		 aw = scenario, nokeiri = scenario;
	static char		*aw_prefixes[] = { "Re", "AW:", "Fw",
				    " WG" };
	struct message		*m;
	struct mime_part	*inner;

	aw.reply_prefixes = aw_prefixes;
	aw.nreply_prefixes = 4;
	nokeiri.nstaff = 2;

	expect(mk("Klaus Weber", "k.weber@lieferant.example.de",
	    "AW: Lieferplan Q2", "<3cf8d941d57bf808ca27@example.co.jp>",
	    "Hallo Frau Sato,\r\n\r\n" VON_SATO_WEBER), &aw, "OFFICE_VBA", "",
	    "German partner's AW: under a policy that expects AW");
	expect(mk("Klaus Weber", "k.weber@lieferant.example.de",
	    "AW: Lieferplan Q2", NULL, "Hallo Frau Sato,\r\n"), &aw, NULL,
	    FAKE, "AW: without In-Reply-To is still a fake reply");

	m = mk("Alice", "alice@lists.example.org", "Re: [users] upgrade",
	    NULL, "I had the same problem.\r\n");
	mk_hdr(m, "List-Id", "Users <users.lists.example.org>");
	expect(m, &scenario, NULL, FAKE,
	    "mailing list reply without In-Reply-To: HDR_FAKE_REPLY only");

	expect(mk("John Smith", "john.smith@partner.example.com",
	    "FW: order confirmation", NULL,
	    "Hanako, see below.\r\n\r\n"
	    "________________________________\r\n"
	    "From: Sales <sales@vendor.example>\r\n"
	    "Sent: Monday, February 21, 2022 9:00 AM\r\n"
	    "To: John Smith <john.smith@partner.example.com>\r\n"
	    "Subject: order confirmation\r\n\r\nThank you.\r\n"),
	    &scenario, NULL, "", "Outlook forward FW: (no In-Reply-To)");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "FW: RE: order confirmation", NULL,
	    "-----Original Message-----\r\n"
	    "From: Sales <sales@vendor.example>\r\n"
	    "Sent: Monday, February 21, 2022 9:00 AM\r\n"
	    "To: John Smith <john.smith@partner.example.com>\r\n"
	    "Subject: RE: order confirmation\r\n\r\nThank you.\r\n"),
	    &scenario, NULL, "", "Outlook forward of a reply: FW: RE:");
	expect(mk("Klaus Weber", "k.weber@lieferant.example.de",
	    "WG: Lieferplan Q2", NULL, "zur Info\r\n\r\n" VON_SATO_WEBER),
	    &aw, NULL, "", "Outlook forward WG: from the partner");
	ok(strcmp(scan(m = mk("Klaus Weber", "k.weber@lieferant.example.de",
	    "WG: Lieferplan Q2", NULL, "zur Info\r\n\r\n" VON_SATO_WEBER),
	    &scenario, NULL), FOREIGN) == 0,
	    "WG: under the default prefixes: foreign, never a fake reply");
	mk_free(m);

	expect(mk("鈴木 一郎", "suzuki@example.co.jp", "Re: Lieferplan Q2",
	    "<x@example.co.jp>", "FYI\r\n\r\n"
	    "-----Original Message-----\r\n"
	    "From: Sales <sales@vendor.example>\r\n"
	    "Sent: Monday, February 21, 2022 9:00 AM\r\n"
	    "To: Other <other@third.example>\r\n"
	    "Subject: offer\r\n"), &scenario, "OFFICE_VBA", "",
	    "colleague from the internal domain forwarding others' thread");
	expect(mk("佐藤 花子", "sato@example.co.jp", "資料", NULL, "x\r\n"),
	    &scenario, NULL, "", "staff name from the internal domain");
	expect(mk("Hanako Sato", "sato@mail.example.co.jp", "資料", NULL,
	    "x\r\n"), &scenario, NULL, "",
	    "staff name from an internal subdomain");
	expect(mk("Support Team", "support@vendor.example", "Your ticket",
	    NULL, "Hello\r\n"), &scenario, "OFFICE_VBA", "",
	    "a plain display name");
	expect(mk("佐藤 花子 via DocuSign", "dse@docusign.example",
	    "Please sign", NULL, "Review and sign.\r\n"), &scenario, NULL, "",
	    "\"佐藤 花子 via DocuSign\" from a service");
	expect(mk("John Smith (via Google Docs)",
	    "comments-noreply@docs.example", "Comment", NULL, "x\r\n"),
	    &scenario, NULL, "", "\"John Smith (via Google Docs)\"");
	expect(mk("経理部", "keiri@torihiki.example.ne.jp", "請求書", NULL,
	    "x\r\n"), &nokeiri, NULL, "",
	    "a vendor's own 経理部 when 経理部 is not a staff name");
	expect(mk("取引商事 経理部", "keiri@torihiki.example.ne.jp", "請求書",
	    NULL, "x\r\n"), &scenario, NULL, "",
	    "a vendor's 取引商事 経理部 is not the staff name 経理部");
	ok(strcmp(scan(m = mk("経理部", "keiri@torihiki.example.ne.jp",
	    "請求書", NULL, "x\r\n"), &scenario, NULL), INTNAME) == 0,
	    "bare 経理部 from outside when 経理部 is a staff name");
	mk_free(m);
	expect(mk("yamada@torihiki.example.ne.jp",
	    "yamada@torihiki.example.ne.jp", "見積書", NULL, "x\r\n"),
	    &scenario, NULL, "",
	    "display name (decoded ISO-2022-JP) holds an address of the "
	    "same domain");
	expect(mk("山田 太郎 (yamada@torihiki.example.ne.jp)",
	    "yamada@mail.torihiki.example.ne.jp", "見積書", NULL, "x\r\n"),
	    &scenario, NULL, "",
	    "name plus own address, sent from a subdomain");
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "Re: 見積書の件", "<a@example.co.jp>",
	    "佐藤様\r\n\r\n承知しました。\r\n\r\n" OUTLOOK_SATO_YAMADA),
	    &scenario, "OFFICE_VBA", "",
	    "partner's honest reply quoting a thread they were part of");
	expect(mk("Taro Yamada", "yamada@torihiki.example.ne.jp",
	    "Re: quarterly figures", "<a@example.co.jp>",
	    "Here they are.\r\n\r\n" WROTE_SATO), &scenario, "OFFICE_VBA", "",
	    "partner's honest reply quoting only our author (wrote:)");
	expect(mk("Bob", "bob@third.example", "Re: quarterly figures",
	    "<a@example.co.jp>", "Here they are.\r\n\r\n" WROTE_SATO),
	    &scenario, NULL, "",
	    "a reply with In-Reply-To quoting only its addressee");

	/* A quote that lives in an attached message is not this thread. */
	m = mk("Bob", "bob@third.example", "Fwd: RE: offer", NULL,
	    "see attached\r\n");
	inner = xcalloc(1, sizeof(*inner));
	inner->path = xstrdup("2");
	inner->ctype = xstrdup("message/rfc822");
	inner->inner = mk("Sales", "sales@vendor.example", "RE: offer", NULL,
	    "thanks\r\n\r\n" VON_SATO_WEBER);
	mk_child(m, inner);
	expect(m, &scenario, NULL, "",
	    "forward of a reply as an attached message");
}

static void
name_forms(void)
{
	expect(mk("\xef\xbc\xa8\xef\xbd\x81\xef\xbd\x8e\xef\xbd\x81\xef\xbd"
	    "\x8b\xef\xbd\x8f\xe3\x80\x80\xef\xbc\xb3\xef\xbd\x81\xef\xbd"
	    "\x94\xef\xbd\x8f", "x@evil.example", "x", NULL, "x"), &scenario,
	    NULL, INTNAME, "full-width Hanako Sato with ideographic space");
	expect(mk("佐藤\xe3\x80\x80花子 様", "x@evil.example", "x", NULL, "x"),
	    &scenario, NULL, INTNAME, "佐藤　花子 様");
	expect(mk("SATO Hanako", "x@evil.example", "x", NULL, "x"), &scenario,
	    NULL, INTNAME, "swapped SATO Hanako");
	expect(mk("Suzuki, Ichiro", "x@evil.example", "x", NULL, "x"),
	    &scenario, NULL, INTNAME, "Suzuki, Ichiro");
	expect(mk("山田太郎様", "x@evil.example", "x", NULL, "x"), &scenario,
	    NULL, SPOOF, "山田太郎様 from an unrelated domain");
	expect(mk("yamada\xef\xbc\xa0torihiki.example.ne.jp",
	    "x@evil.example", "x", NULL, "x"), &scenario, NULL, SPOOF,
	    "full-width ＠ in the display name");
	expect(mk("Taro <yamada@torihiki.example.ne.jp>", "x@evil.example",
	    "x", NULL, "x"), &scenario, NULL, SPOOF,
	    "address in angle brackets in the display name");
	expect(mk("(yamada@torihiki.example.ne.jp)", "x@evil.example", "x",
	    NULL, "x"), &scenario, NULL, SPOOF,
	    "address in parentheses in the display name");
	expect(mk("John Smith", "john@partner.example.com.evil.example", "x",
	    NULL, "x"), &scenario, NULL, SPOOF,
	    "a look-alike domain is not the correspondent's");
}

static void
other_signs(void)
{
	struct policy	 pol = scenario;
	static char	*only_re[] = { "Re", "AW" };
	struct message	*m;

	m = mk("John Smith", "john.smith@partner.example.com", "Prices",
	    NULL, "x\r\n");
	set_addr(&m->reply_to, NULL, "collect@evil.example");
	expect(m, &scenario, NULL, "HDR_REPLYTO_MISMATCH",
	    "Reply-To of another domain");
	m = mk("John Smith", "john.smith@partner.example.com", "Prices",
	    NULL, "x\r\n");
	set_addr(&m->reply_to, NULL, "sales@crm.partner.example.com");
	expect(m, &scenario, "OFFICE_VBA", "",
	    "Reply-To of a subdomain; a mismatch never makes EMOTET_LURE");
	m = mk("John Smith", "john.smith@partner.example.com", "Prices",
	    NULL, "x\r\n");
	set_addr(&m->reply_to, NULL, "collect@evil.example");
	expect(m, &scenario, "OFFICE_VBA", "HDR_REPLYTO_MISMATCH",
	    "Reply-To mismatch with a macro: no EMOTET_LURE");

	pol.reply_prefixes = only_re;
	pol.nreply_prefixes = 2;
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "Fwd: x", NULL, "---------- Forwarded message ---------\r\n"
	    "From: A <a@partner.example.com>\r\nDate: Mon\r\n"), &pol, NULL,
	    FOREIGN, "policy reply_prefixes [Re, AW]: Fwd is foreign");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "\xef\xbc\xa1\xef\xbc\xb7\xef\xbc\x9a x", "<a@b.example>", "x"),
	    &scenario, NULL, FOREIGN, "full-width ＡＷ： is AW");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "[EXT] Re[2]: x", "<a@b.example>", "x"), &scenario, NULL, "",
	    "[EXT] Re[2]: is an expected prefix");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "Fwd: x", NULL, "see attachment\r\n"), &scenario, NULL, "",
	    "Fwd: with nothing forwarded is still no fake reply");
	expect(mk("John Smith", "john.smith@partner.example.com",
	    "Re: x", "   ", "x"), &scenario, NULL, FAKE,
	    "a blank In-Reply-To is none");

	/* Quote forms. */
	expect(mk("X", "x@evil.example", "x", NULL,
	    "ご確認ください。\r\n\r\n"
	    "差出人\xef\xbc\x9a 佐藤 花子 <sato@example.co.jp>\r\n"
	    "送信日時\xef\xbc\x9a 2022年2月22日 10:15\r\n"
	    "宛先\xef\xbc\x9a 山田 太郎 <yamada@torihiki.example.ne.jp>\r\n"
	    "件名\xef\xbc\x9a 見積書の件\r\n"), &scenario, "OFFICE_XLM",
	    QUOTED "," LURE, "Outlook's Japanese reply header");
	ok(strstr(detail(QUOTED), "torihiki.example.ne.jp") != NULL &&
	    strstr(detail(QUOTED), "example.co.jp") != NULL,
	    "the detail names the quoted participants");
	expect(mk("X", "x@evil.example", "x", "<a@b.example>",
	    "ok\r\n\r\n"
	    "From: 佐藤 花子 <sato@example.co.jp>\r\n"
	    "Sent: Tuesday\r\n"
	    "To: 山田 太郎 <yamada@torihiki.example.ne.jp>,\r\n"
	    "    John Smith <john.smith@partner.example.com>\r\n"
	    "Subject: 見積書の件\r\n"), &scenario, NULL, QUOTED,
	    "quoted To: names recipients: foreign despite In-Reply-To");
	expect(mk("X", "x@partner.example.com", "x", NULL,
	    "ok\r\n\r\n"
	    "From: 佐藤 花子 <sato@example.co.jp>\r\n"
	    "Sent: Tuesday\r\n"
	    "To: 山田 太郎 <yamada@torihiki.example.ne.jp>,\r\n"
	    "    John Smith <john.smith@partner.example.com>\r\n"
	    "Subject: 見積書の件\r\n"), &scenario, NULL, "",
	    "a participant on a wrapped To: line");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "ok\r\n\r\n2022年2月21日(月) 16:02 佐藤 花子 <sato@example.co.jp>"
	    "\xef\xbc\x9a\r\n> 山田様\r\n"), &scenario, NULL, QUOTED,
	    "Gmail's Japanese quote header");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "ok\r\n\r\nOn Mon, 21 Feb 2022 at 16:02, Hanako Sato\r\n"
	    "<sato@example.co.jp> wrote:\r\n> hi\r\n"), &scenario, NULL,
	    QUOTED, "wrote: line wrapped after the name");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "ok\r\n\r\nOn Mon, 21 Feb 2022, Hanako Sato <sato@example.co.jp>"
	    "\r\nwrote:\r\n> hi\r\n"), &scenario, NULL, QUOTED,
	    "wrote: alone on the next line");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "ok\r\n\r\nsato@example.co.jp さんのメッセージ:\r\n> hi\r\n"),
	    &scenario, NULL, QUOTED, "... のメッセージ:");
	expect(mk("X", "x@evil.example", "Re: x", NULL,
	    "ok\r\n\r\n> 山田様\r\n> よろしく\r\n"), &scenario, NULL, FAKE,
	    "a quote naming nobody proves nothing");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "From: Tokyo\r\nTo: Osaka <info@travel.example>\r\n"),
	    &scenario, NULL, QUOTED,
	    "From/To block with an address counts as a quoted header");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "To: all staff <all@example.co.jp>\r\nplease read\r\n"),
	    &scenario, NULL, "", "a To: line alone is no header block");
	expect(mk("X", "x@evil.example", "x", NULL,
	    "Contact: sales@example.co.jp\r\n"), &scenario, NULL, "",
	    "addresses outside quote headers are not participants");

	/* The quote in the HTML alternative only. */
	m = mk("X", "x@evil.example", "x", NULL, "plain text, no quote");
	mk_child(m, text_part("2", "reply\n-----Original Message-----\n"
	    "From: Hanako Sato [mailto:sato@example.co.jp]\nSent: Monday\n"
	    "To: Klaus Weber\nSubject: x\n", true));
	expect(m, &scenario, "OFFICE_VBA", QUOTED "," LURE,
	    "quote in the HTML part (mailto: form)");

	/* Fake forward of a reply and attached messages. */
	expect(mk("X", "x@evil.example", "FW: RE: x", NULL, "see file\r\n"),
	    &scenario, NULL, FAKE, "FW: RE: forwarding nothing");
}

static void
payloads(void)
{
	const char *const yes[] = {
		"OFFICE_VBA", "OFFICE_VBA_AUTOEXEC", "OFFICE_XLM",
		"OFFICE_XLM_AUTOEXEC", "FILE_EXECUTABLE", "FILE_SCRIPT",
		"FILE_SHORTCUT", "ARCHIVE_PASSWORD_UNKNOWN"
	};
	const char *const no[] = {
		"ARCHIVE_ENCRYPTED", "ARCHIVE_PASSWORD_IN_MESSAGE",
		"FILE_TYPE_MISMATCH", "OFFICE_ENCRYPTED", "ARCHIVE_NESTED"
	};
	size_t	 i;
	char	 want[128];

	snprintf(want, sizeof(want), "%s,%s", INTNAME, LURE);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		expect(mk("Hanako Sato", "x@evil.example", "x", NULL, "x"),
		    &scenario, yes[i], want, "EMOTET_LURE with %s", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		expect(mk("Hanako Sato", "x@evil.example", "x", NULL, "x"),
		    &scenario, no[i], INTNAME, "no EMOTET_LURE with %s",
		    no[i]);
	expect(mk("John Smith", "john.smith@partner.example.com", "Re: x",
	    NULL, "x"), &scenario, "OFFICE_VBA", FAKE,
	    "HDR_FAKE_REPLY with a macro: no EMOTET_LURE");
	expect(mk("John Smith", "x@evil.example", "AW: x", "<a@b.example>",
	    "x"), &scenario, "OFFICE_VBA", SPOOF "," FOREIGN "," LURE,
	    "two strong signs: one EMOTET_LURE");
}

static pcre2_code *
compile(const char *pattern)
{
	pcre2_code	*re;
	int		 err;
	PCRE2_SIZE	 off;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
	if (re == NULL)
		bail("pcre2_compile %s", pattern);
	return re;
}

static void
custom_rules(void)
{
	struct policy		 pol = scenario;
	struct custom_rule	 r[6];
	static char		*trusted[] = { "@shop-kobayashi.example",
				    "someone@other.example" };
	struct message		*m;
	struct mime_part	*inner;
	size_t			 i;

	memset(r, 0, sizeof(r));
	r[0].name = "LOCAL_INVOICE_SUBJECT";
	r[0].where = WHERE_SUBJECT;
	r[0].re = compile("請求書|invoice");
	r[1].name = "LOCAL_DELIVERY_NAME";
	r[1].where = WHERE_FROM_NAME;
	r[1].re = compile("^Delivery");
	r[2].name = "LOCAL_FREEMAIL";
	r[2].where = WHERE_FROM_ADDR;
	r[2].re = compile("@webmail-free\\.example$");
	r[3].name = "LOCAL_PASSWORD_LINE";
	r[3].where = WHERE_BODY;
	r[3].re = compile("(?m)^パスワード[:：]");
	r[4].name = "LOCAL_MAILER";
	r[4].where = WHERE_HEADER;
	r[4].header = "X-Mailer";
	r[4].re = compile("PHPMailer");
	r[5].name = "LOCAL_BACKTRACK";
	r[5].where = WHERE_SUBJECT;
	r[5].re = compile("^(\\w+\\s?)*!!$");
	pol.rules = r;
	pol.nrules = 6;

	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "請求書の送付", NULL, "x\r\n"), &pol, NULL,
	    "LOCAL_INVOICE_SUBJECT", "custom rule on the decoded subject");
	ok(strstr(detail("LOCAL_INVOICE_SUBJECT"), "請求書") != NULL,
	    "the detail shows the matched text");
	expect(mk("Delivery Service", "notice@parcel-track.example",
	    "Parcel", NULL, "x"), &pol, NULL, "LOCAL_DELIVERY_NAME",
	    "custom rule on the display name");
	expect(mk("佐藤 花子", "sato.hanako@webmail-free.example",
	    "x", NULL, "x"), &pol, "OFFICE_VBA",
	    INTNAME ",LOCAL_FREEMAIL," LURE,
	    "custom rule on the address, beside the signs");
	m = mk("X", "x@a.example", "x", NULL, "ファイルを送ります。");
	mk_child(m, text_part("2", "ご確認ください。\nパスワード：1234\n",
	    false));
	expect(m, &pol, NULL, "LOCAL_PASSWORD_LINE",
	    "custom rule on the second text part");
	m = mk("X", "x@a.example", "x", NULL, "fwd");
	inner = xcalloc(1, sizeof(*inner));
	inner->path = xstrdup("2");
	inner->ctype = xstrdup("message/rfc822");
	inner->inner = mk("Y", "y@b.example", "y", NULL, "パスワード:1\n");
	mk_child(m, inner);
	expect(m, &pol, NULL, "LOCAL_PASSWORD_LINE",
	    "custom body rule sees attached messages' text");
	m = mk("X", "x@a.example", "x", NULL, "x");
	mk_hdr(m, "Received", "from PHPMailer");
	mk_hdr(m, "x-mailer", "PHPMailer 6.0");
	expect(m, &pol, NULL, "LOCAL_MAILER",
	    "custom rule on a named header (case-insensitive name)");
	expect(mk("X", "x@a.example", "x", NULL, "x"), &pol, NULL, "",
	    "no custom rule matches");
	expect(mk("X", "x@a.example",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", NULL, "x"),
	    &pol, NULL, "SCAN_ERROR",
	    "a custom rule past the pcre2 match limit is SCAN_ERROR");
	ok(strstr(detail("SCAN_ERROR"), "LOCAL_BACKTRACK") != NULL,
	    "the SCAN_ERROR detail names the rule");
	expect(mk("X", "x@a.example", "invoice \xff\xfe", NULL, "x"), &pol,
	    NULL, "LOCAL_INVOICE_SUBJECT",
	    "invalid UTF-8 in the subject still matches");

	/* trusted_senders: signs skipped, custom rules kept. */
	pol.trusted_senders = trusted;
	pol.ntrusted_senders = 2;
	expect(mk("Taro Yamada", "info@Shop-Kobayashi.example",
	    "RE: invoice", NULL, "x\r\n\r\n" WROTE_SATO), &pol,
	    "OFFICE_VBA", "LOCAL_INVOICE_SUBJECT",
	    "trusted @domain: no hijack sign, no EMOTET_LURE, custom rule");
	expect(mk("Taro Yamada", "Someone@other.example", "RE: x", NULL,
	    "x"), &pol, "OFFICE_VBA", "", "trusted address");
	expect(mk("Taro Yamada", "someone@sub.other.example", "RE: x", NULL,
	    "x"), &pol, "OFFICE_VBA", SPOOF "," FAKE "," LURE,
	    "a trusted address does not trust its domain");
	expect(mk("Taro Yamada", "info@x.shop-kobayashi.example", "RE: x",
	    NULL, "x"), &pol, NULL, SPOOF "," FAKE,
	    "@domain trusts that domain only");

	test_expired = true;
	expect(mk("山田 太郎", "yamada@torihiki.example.ne.jp",
	    "請求書の送付", NULL, "x\r\n"), &pol, NULL, "",
	    "custom rules stop when the scan budget is spent");
	test_expired = false;

	for (i = 0; i < 6; i++)
		pcre2_code_free(r[i].re);
}

static void
robustness(void)
{
	struct message	*m;
	char		*body;
	size_t		 i, len = 0, cap = 3 * 1024 * 1024;

	m = mk(NULL, NULL, NULL, NULL, NULL);
	expect(m, &scenario, "OFFICE_VBA", "", "empty message");
	m = mk("Hanako Sato", "no-at-sign", "Re: x", NULL, "x");
	expect(m, &scenario, NULL, FAKE, "From without a domain");
	m = mk("\xff\xfe\xfd", "x@evil.example", "\xff Re: x", NULL,
	    "\xff\xfe> \xc3\r\n");
	expect(m, &scenario, NULL, "", "invalid UTF-8 everywhere");

	/* 3 MiB of quoted header lines naming many domains. */
	if ((body = malloc(cap)) == NULL)
		bail("malloc");
	for (i = 0; len + 200 < cap; i++)
		len += (size_t)snprintf(body + len, cap - len,
		    "> From: a <a@d%zu.example>\r\n> To: b <b@e%zu.example>"
		    "\r\n>\r\n", i, i);
	m = mk("X", "x@evil.example", "x", NULL, body);
	free(body);
	expect(m, &scenario, NULL, QUOTED, "huge quote: bounded, still seen");

	test_expired = true;
	m = mk("Hanako Sato", "x@evil.example", "x", NULL, WROTE_SATO);
	expect(m, &scenario, NULL, INTNAME,
	    "scan budget spent: header signs only, body skipped");
	test_expired = false;
}

int
main(void)
{
	scenario_init();
	corpus_lures();
	corpus_benign();
	false_positives();
	name_forms();
	other_signs();
	payloads();
	custom_rules();
	robustness();
	findings_free(&last);
	person_free(&staff[0]);
	person_free(&staff[1]);
	person_free(&staff[2]);
	person_free(&corr[0].who);
	person_free(&corr[1].who);
	person_free(&corr[2].who);
	return done_testing();
}
