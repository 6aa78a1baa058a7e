/*
 * html_behaviour.h: what an HTML, SVG or JavaScript attachment does
 * when it is opened in a browser, judged by the techniques lures use
 * (HTML smuggling, redirects to Windows search and protocol handlers,
 * script in SVG) rather than by the mere presence of a script.
 */
#ifndef HTML_BEHAVIOUR_H
#define HTML_BEHAVIOUR_H

#include <stddef.h>

enum htmlb {
	HTMLB_NONE = 0,		/* no script at all */
	HTMLB_SCRIPT,		/* script, none of the lure techniques */
	HTMLB_LURE		/* smuggling, handler redirect, SVG script */
};

/* What the data is to be read as. */
enum hb_mode {
	HB_HTML,		/* an HTML page */
	HB_SVG,			/* an SVG image: any script is a lure */
	HB_TEXT			/* script or plain text: smuggling only, a
				   handler named in text is no redirect */
};

/*
 * Judge data.  why gets a short reason for HTMLB_LURE and HTMLB_SCRIPT
 * (whysz > 0).
 */
enum htmlb	 html_behaviour(const unsigned char *data, size_t len,
		    enum hb_mode, char *why, size_t whysz);

#endif /* HTML_BEHAVIOUR_H */
