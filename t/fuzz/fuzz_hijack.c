/*
 * fuzz_hijack.c: libFuzzer target for the hijack stage's parsers: the
 * name keys and components (names.c), the subject prefix stack, and
 * hijack_scan on a message made of the input (display name, address,
 * subject, body separated by NUL bytes) under a small policy, which
 * drives the quote parser.
 *
 *   make fuzz FUZZ_TARGETS=hijack FUZZ_SECONDS=60
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "hijack.h"
#include "mime.h"
#include "names.h"
#include "policy.h"
#include "analyzer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Not linking scan.o: no deadline here. */
bool
scan_expired(struct scan_ctx *ctx)
{
	return false;
}

static char	*names_a[] = { "佐藤 花子", "Hanako Sato" };
static char	*names_b[] = { "Taro Yamada" };
static char	*doms_b[] = { "torihiki.example.ne.jp" };
static char	*internal[] = { "example.co.jp" };
static char	*prefixes[] = { "Re", "AW:" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hijack_prefix	 pre[HIJACK_MAX_PREFIXES];
	struct name_cands	 c;
	struct person		 staff = { names_a, NULL, 2, NULL };
	struct correspondent	 corr = { { names_b, NULL, 1, NULL }, doms_b, 1 };
	struct policy		 p;
	struct message		 m;
	struct mime_part	 root;
	struct findings		 out = { 0 }, content = { 0 };
	struct limits		 lim;
	struct scan_ctx		 ctx;
	char			*s, *f[4], *k, *at;
	size_t			 i, n, off;
	bool			 nomem = false;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	free(names_key(s));
	(void)hijack_prefixes(s, pre, HIJACK_MAX_PREFIXES);
	if ((k = names_nfkc(s, size)) != NULL)
		free(k);
	if (names_cands(s, &c) == LW_OK) {
		for (i = 0; i < c.n; i++)
			(void)names_person_is(&staff, &c, i, &nomem);
		names_cands_free(&c);
	}

	for (n = 0, off = 0; n < 4; n++) {
		f[n] = s + (off < size ? off : size);
		off += strlen(f[n]) + 1;
	}
	memset(&p, 0, sizeof(p));
	p.internal_domains = internal;
	p.ninternal_domains = 1;
	p.staff = &staff;
	p.nstaff = 1;
	p.correspondents = &corr;
	p.ncorrespondents = 1;
	p.reply_prefixes = prefixes;
	p.nreply_prefixes = size % 2;
	memset(&m, 0, sizeof(m));
	memset(&root, 0, sizeof(root));
	m.from.display = f[0];
	m.from.addr = f[1];
	if ((at = strrchr(f[1], '@')) != NULL)
		m.from.domain = at + 1;
	m.subject = f[2];
	root.path = "";
	root.ctype = "text/plain";
	root.text = f[3];
	root.text_len = strlen(f[3]);
	m.root = &root;
	limits_default(&lim);
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim = &lim;
	ctx.fs = &content;
	(void)findings_add(&content, "OFFICE_VBA", "2", "fuzz");
	(void)hijack_scan(&ctx, &m, &p, &content, &out);
	findings_free(&out);
	findings_free(&content);
	free(s);
	return 0;
}
