/*
 * 5006-meta-corpus: replays t/corpus/quarantine/ (seeds and any crash
 * the fuzzer t/fuzz/fuzz_quarantine.c ever found) through the metadata
 * reader: each file parses or is refused, never crashes.  The seeds
 * named meta-* are real items and must parse.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "quarantine.h"
#include "tap.h"

int
main(void)
{
	struct quarantine_item	*it;
	struct dirent		*de;
	char			 dir[1024], path[2048];
	unsigned char		*buf;
	size_t			 len, n = 0;
	enum lw_err		 e;
	DIR			*d;

	plan(0);
	snprintf(dir, sizeof(dir), "%s/t/corpus/quarantine", tap_top());
	if ((d = opendir(dir)) == NULL)
		bail("cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf = tap_slurp(path, &len);
		it = NULL;
		e = quarantine_meta_parse((char *)buf, len, &it);
		if (strncmp(de->d_name, "meta-", 5) == 0)
			is_int(LW_OK, e, "%s parses", de->d_name);
		else
			ok(e == LW_OK || e == LW_EMALFORMED,
			    "%s: parsed or refused", de->d_name);
		ok((e == LW_OK) == (it != NULL), "%s: item iff ok",
		    de->d_name);
		quarantine_item_free(it);
		free(buf);
		n++;
	}
	closedir(d);
	ok(n >= 5, "%zu corpus files", n);
	return done_testing();
}
