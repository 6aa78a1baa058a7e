/*
 * argv.c: command templates -> argv, and their check (see argv.h).
 * Each word is built in an sbuf, so an expansion is bounded only by its
 * values.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "config.h"
#include "sbuf.h"

static char *
expand_word(const char *w, size_t len, argv_placeholder_fn fn, void *arg)
{
	struct sbuf	 b;
	char		 num[32];
	const char	*v;
	size_t		 i;

	sbuf_init(&b);
	for (i = 0; i < len; i++) {
		if (w[i] != '%' || i + 1 == len) {
			sbuf_add(&b, w + i, 1);
			continue;
		}
		i++;
		v = NULL;
		if (w[i] == '%')
			v = "%";
		else if (!fn(arg, w[i], num, &v)) {
			sbuf_add(&b, w + i - 1, 2);
			continue;
		}
		if (v != NULL)
			sbuf_add(&b, v, strlen(v));
	}
	return sbuf_take(&b);
}

enum lw_err
argv_expand(const char *t, argv_placeholder_fn fn, void *arg,
    char *const *list, size_t nlist, char ***argvp)
{
	const char	*p;
	char		**argv;
	size_t		  words = 0, n = 0, len, i;

	*argvp = NULL;
	for (p = t; *p != '\0'; p += strcspn(p, " \t")) {
		p += strspn(p, " \t");
		if (*p != '\0')
			words++;
	}
	if (list == NULL)
		nlist = 0;
	if (nlist > SIZE_MAX / sizeof(char *) - words - 1)
		return LW_ENOMEM;
	if ((argv = calloc(words + nlist + 1, sizeof(*argv))) == NULL)
		return LW_ENOMEM;
	for (p = t; *p != '\0'; p += len) {
		p += strspn(p, " \t");
		if ((len = strcspn(p, " \t")) == 0)
			break;
		if (list != NULL && len == 2 && p[0] == '%' && p[1] == 'r') {
			for (i = 0; i < nlist; i++)
				if ((argv[n++] = strdup(list[i])) == NULL)
					goto nomem;
			continue;
		}
		if ((argv[n++] = expand_word(p, len, fn, arg)) == NULL)
			goto nomem;
	}
	*argvp = argv;
	return LW_OK;

 nomem:
	config_argv_free(argv);
	return LW_ENOMEM;
}

struct one {
	char		 c;
	const char	*val;
};

static bool
one_placeholder(void *arg, char c, char *num, const char **val)
{
	const struct one	*o = arg;

	if (c != o->c)
		return false;
	*val = o->val;
	return true;
}

enum lw_err
argv_expand1(const char *t, char c, const char *val, char *const *list,
    size_t nlist, char ***argvp)
{
	struct one	o = { c, val };

	return argv_expand(t, one_placeholder, &o, list, nlist, argvp);
}

const char *
argv_check(const char *t, const char *allowed, bool list,
    const char *unknown)
{
	const char	*p;
	bool		 have_list = false;

	for (p = t; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			return "must be one line";
		if (*p != '%')
			continue;
		p++;
		if (*p != '%' && (*p == '\0' || strchr(allowed, *p) == NULL))
			return unknown;
		if (!list || *p != 'r')
			continue;
		if ((p - 1 != t && p[-2] != ' ' && p[-2] != '\t') ||
		    (p[1] != '\0' && p[1] != ' ' && p[1] != '\t'))
			return "%r must be a word of its own";
		have_list = true;
	}
	if (list && !have_list)
		return "needs %r (the recipients)";
	return NULL;
}
