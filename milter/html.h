/*
 * html.h: HTML -> plain text for the analyzers (private to mime.c).
 */
#ifndef HTML_H
#define HTML_H

#include "lurewall.h"

/*
 * Reduce UTF-8 HTML to text: tags dropped, script/style/comments
 * dropped, line breaks kept for block elements, entities decoded.
 * *out is malloc'd and NUL-terminated.  Fails only on ENOMEM.
 */
enum lw_err	 html_to_text(const char *in, size_t len, char **out,
		    size_t *outlen);

#endif /* HTML_H */
