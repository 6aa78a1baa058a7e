/*
 * confdiff.h: what a reload changed (confdiff.c), for the daemon's
 * "reloaded" log line.
 */
#ifndef CONFDIFF_H
#define CONFDIFF_H

struct config;
struct policyset;

/*
 * One line: "config: KEY,... changed; policies: +NAME (FILE) -NAME
 * ~NAME; domains: +D -D", or "nothing changed".  Malloc'd; NULL when
 * out of memory.
 */
char	*confdiff(const struct config *oldc, const struct policyset *oldps,
	    const struct config *newc, const struct policyset *newps);

#endif /* CONFDIFF_H */
