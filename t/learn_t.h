/*
 * learn_t.h: what the learner's tests share: a message parsed from
 * text (bails on failure), and the eviction of a batch past the cap
 * on any backend.
 */
#ifndef LEARN_T_H
#define LEARN_T_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "lurewall.h"
#include "mime.h"
#include "tap.h"

static struct message *
learn_t_msg(const char *raw)
{
	struct limits	 lim;
	struct findings	 fs = { 0 };
	struct message	*m;

	limits_default(&lim);
	if (mime_parse((const unsigned char *)raw, strlen(raw), &lim, &fs,
	    &m) != LW_OK)
		bail("mime_parse");
	findings_free(&fs);
	return m;
}

/*
 * One flush past the cap evicts several people at once: ten
 * correspondents learned a day apart (p0, the oldest, and p9 share a
 * display name), then five new ones in one batch with the cap at ten.
 * The five oldest go with their names; the shared name keeps p9.
 * what names the backend in the test lines.
 */
static inline void
learn_t_caps_batch(struct state *st, const char *what)
{
	const time_t		 t0 = 1780000000, day = 86400;
	struct learn_config	 c;
	struct learn_record	 r;
	struct learn_stats	 s;
	struct learn_match	*v;
	struct message		*m;
	struct learn		*l;
	char			 raw[512], addr[64];
	size_t			 n;
	int			 i, kept = 0, went = 0;

	learn_config_init(&c);
	c.max_correspondents = 10;
	if (learn_open(st, &c, &l) != LW_OK ||
	    learn_batch_start(l, 64, 1000, false) != LW_OK)
		bail("learn_open");
	for (i = 0; i < 15; i++) {
		snprintf(raw, sizeof(raw), "From: Boss <boss@ours.example>\r\n"
		    "To: %s <%c%d@d.example>\r\nMessage-ID: <cb%d@ours."
		    "example>\r\nSubject: caps %d\r\n\r\nbody\r\n",
		    i == 0 || i == 9 ? "Sato Taro" : "Someone Else",
		    i < 10 ? 'p' : 'q', i % 10, i, i);
		m = learn_t_msg(raw);
		if (learn_outbound(l, "example", m, NULL, t0 + (i < 10 ? i :
		    20) * day) != LW_OK)
			bail("learn_outbound %d", i);
		mime_free(m);
		/* Each of the ten its own write; the five new ones, one. */
		if (i < 10 && learn_flush(l, t0 + i * day) != LW_OK)
			bail("learn_flush %d", i);
	}
	ok(learn_flush(l, t0 + 20 * day) == LW_OK, "%s: caps: the batch "
	    "of five written", what);
	if (learn_stats(l, "example", t0 + 20 * day, &s) != LW_OK)
		bail("learn_stats");
	ok(s.n[LEARN_CORRESPONDENT] == 10, "%s: caps: %zu correspondents "
	    "after one round", what, s.n[LEARN_CORRESPONDENT]);
	for (i = 0; i < 15; i++) {
		snprintf(addr, sizeof(addr), "%c%d@d.example", i < 10 ? 'p' :
		    'q', i % 10);
		if (learn_get(l, "example", LEARN_CORRESPONDENT, addr,
		    t0 + 20 * day, &r) == LW_OK) {
			learn_record_free(&r);
			kept |= 1 << i;
		} else
			went |= 1 << i;
	}
	ok(went == 0x1f && kept == 0x7fe0, "%s: caps: the five oldest "
	    "went, in one round (went %#x, kept %#x)", what, (unsigned)went,
	    (unsigned)kept);
	if (learn_names(l, "example", "Sato Taro", t0 + 20 * day, &v, &n) !=
	    LW_OK)
		bail("learn_names");
	ok(n == 1 && strcmp(v[0].addr, "p9@d.example") == 0, "%s: caps: "
	    "the shared name lost the evicted one only (%zu left)", what, n);
	learn_matches_free(v, n);
	learn_close(l);
}

#endif /* LEARN_T_H */
