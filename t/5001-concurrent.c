/*
 * 5001-concurrent: eight threads store at once into one struct
 * quarantine while another thread lists and reads every item it sees;
 * no reader ever meets a torn item, and every store lands.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"
#include "qfill.h"

#define WRITERS		8
#define PER_WRITER	40

static struct quarantine	*q;
static atomic_int		 writers_left = WRITERS;
static atomic_int		 store_errors;
static atomic_int		 torn;
static atomic_int		 lists;

static void *
writer(void *arg)
{
	struct qfill	 f;
	char		 id[QUARANTINE_ID_MAX], *msg;
	size_t		 len, i;
	int		 k, w = (int)(intptr_t)arg;

	qfill_init(&f, "QID", "s@example.net", "r@example.com", NULL,
	    "concurrent", 11, "EMOTET_LURE", NULL);
	for (k = 0; k < PER_WRITER; k++) {
		/* sizes vary so a torn read would show in the SHA-256 */
		len = 1000 + (size_t)(w * 977 + k * 131) % 50000;
		if ((msg = malloc(len)) == NULL)
			abort();
		for (i = 0; i < len; i++)
			msg[i] = (char)('a' + (i + (size_t)w) % 26);
		if (quarantine_store(q, (unsigned char *)msg, len, &f.env,
		    &f.res, id) != LW_OK)
			atomic_fetch_add(&store_errors, 1);
		free(msg);
	}
	qfill_free(&f);
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

static void *
reader(void *arg)
{
	struct quarantine_item	**v;
	unsigned char		 *raw;
	size_t			  n, i, len;

	do {
		if (quarantine_list(q, &v, &n) != LW_OK) {
			atomic_fetch_add(&torn, 1);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (quarantine_message(q, v[i]->id, &raw, &len) !=
			    LW_OK || len != v[i]->size)
				atomic_fetch_add(&torn, 1);
			free(raw);
		}
		quarantine_items_free(v, n);
		atomic_fetch_add(&lists, 1);
	} while (atomic_load(&writers_left) > 0);
	return NULL;
}

int
main(void)
{
	pthread_t		 w[WRITERS], r;
	struct quarantine_item	**v;
	char			 dir[1024];
	size_t			 n, items, damaged, cleaned;
	int			 i;

	plan(0);
	snprintf(dir, sizeof(dir), "%s/q", tap_tmpdir("5001-concurrent"));
	if (quarantine_open(dir, &q) != LW_OK)
		bail("open %s", dir);
	pthread_create(&r, NULL, reader, NULL);
	for (i = 0; i < WRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i);
	for (i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(r, NULL);
	is_int(0, atomic_load(&store_errors), "every store succeeded");
	is_int(0, atomic_load(&torn), "no reader saw a torn item");
	ok(atomic_load(&lists) > 0, "the reader listed %d times meanwhile",
	    atomic_load(&lists));
	is_int(LW_OK, quarantine_list(q, &v, &n), "final list");
	is_int(WRITERS * PER_WRITER, (long long)n, "all items are there");
	quarantine_items_free(v, n);
	is_int(LW_OK, quarantine_verify(q, NULL, &items, &damaged, &cleaned),
	    "verify");
	is_int(0, (long long)damaged, "none damaged");
	is_int(0, (long long)cleaned, "nothing left in tmp/");
	quarantine_close(q);
	return done_testing();
}
