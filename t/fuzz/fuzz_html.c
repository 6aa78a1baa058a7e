/*
 * fuzz_html.c: libFuzzer target for HTML, SVG and script behaviour
 * (html_behaviour.c) and the visible text of HTML (html.c).
 */
#include <stdlib.h>
#include <string.h>

#include "lurewall.h"
#include "html.h"
#include "html_behaviour.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	char	 why[160], *t;
	size_t	 n;

	(void)html_behaviour(data, len, HB_HTML, why, sizeof(why));
	(void)html_behaviour(data, len, HB_SVG, why, sizeof(why));
	(void)html_behaviour(data, len, HB_TEXT, why, sizeof(why));
	if (html_to_visible_text((const char *)data, len, &t, &n) == LW_OK)
		free(t);
	return 0;
}
