/*
 * fuzz_learn.c: libFuzzer target for the learner's text parsers
 * (learn_rec.c): a stored record value as the state hands it back
 * (damaged, truncated, from a newer lurewall), and the same bytes as an
 * In-Reply-To/References value and as a subject.  Checks the contract:
 * a record that parses writes back to text that parses to the same key,
 * times, counts and items; touching an item keeps the bound; at most
 * max ids come back; a subject normalises without a fault.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
roundtrip(const struct lrec *a)
{
	struct state_val	 v;
	struct lrec		 b;
	size_t			 i;

	if (learn_rec_write(a, &v) != LW_OK)
		return;
	if (!learn_rec_parse(&v, &b))
		abort();
	if (strcmp(a->r.key, b.r.key) != 0 || a->r.first != b.r.first ||
	    a->r.last != b.r.last || a->r.out != b.r.out ||
	    a->r.in != b.r.in || a->r.nitems != b.r.nitems)
		abort();
	for (i = 0; i < a->r.nitems; i++)
		/* A CR in an item is written as a space: same length. */
		if (a->r.items[i].count != b.r.items[i].count ||
		    strlen(a->r.items[i].text) != strlen(b.r.items[i].text))
			abort();
	learn_rec_free(&b);
	state_val_free(&v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_val	 v = { (unsigned char *)data, size, 0 };
	struct lrec		 lr;
	struct learn_item	 x = { (char *)"x", 1, 1 };
	char			 ids[4][LEARN_HASH_HEX + 1], *s, *norm;

	if (learn_rec_parse(&v, &lr)) {
		roundtrip(&lr);
		if (learn_items_merge(&lr, &x, 1, 3) == LW_OK &&
		    lr.r.nitems > 3 && lr.r.nitems > 0)
			abort();
		learn_rec_free(&lr);
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (learn_ids(s, ids, 4) > 4)
		abort();
	/* NFKC may grow it: only no crash, no leak. */
	norm = learn_subject_norm(s);
	free(norm);
	free(s);
	return 0;
}
