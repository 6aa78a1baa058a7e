/*
 * json.h: the little JSON writing the CLI needs (one object per line
 * for scripts).  Strings are sanitized to valid UTF-8 first, so
 * attacker bytes cannot break a consumer's parser.
 */
#ifndef JSON_H
#define JSON_H

#include <stdio.h>

/* Write s as a JSON string literal (NULL as null). */
void	json_string(FILE *, const char *s);
/*
 * Write s, as it is, between double quotes: '"' and '\\' escaped, the
 * control characters as \u00XX.  YAML reads it too (yamlutil.c).
 */
void	json_quote(FILE *, const char *s);
/* Write "key": (with a leading comma unless first). */
void	json_key(FILE *, const char *key, int first);
/*
 * Write one finding as {"rule":..,"score":..,"part":..,"detail":..}
 * (with a leading comma unless first): scan's and the quarantine's
 * findings read alike.
 */
void	json_finding(FILE *, int first, const char *rule, int score,
	    const char *part, const char *detail);
/* Write the n strings of v as a JSON array. */
void	json_strings(FILE *, char *const *v, size_t n);

#endif /* JSON_H */
