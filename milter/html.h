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

/*
 * The same, without the elements a reader does not see (hidden
 * attribute; inline display:none, visibility:hidden, font-size:0): a
 * password split by a hidden span reads whole here.
 */
enum lw_err	 html_to_visible_text(const char *in, size_t len, char **out,
		    size_t *outlen);

#endif /* HTML_H */
