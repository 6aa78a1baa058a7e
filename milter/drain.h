/*
 * drain.h: the callbacks still using the shared stores when the daemon
 * stops, counted so the stores outlive them (see drain.c).
 */
#ifndef DRAIN_H
#define DRAIN_H

#include <stdbool.h>

/* How drain_wait ended. */
enum drain_end {
	DRAIN_DONE,		/* nothing in progress any more */
	DRAIN_TIMEOUT,		/* the bound passed first */
	DRAIN_CUT		/* drain_cut: stop waiting at once */
};

/*
 * A callback that uses the stores calls drain_enter first; false: the
 * daemon is stopping, answer tempfail and touch nothing.  On true it
 * calls drain_leave when it no longer uses any store.
 */
bool		 drain_enter(void);
void		 drain_leave(void);
/*
 * The daemon, once smfi_main returned: close the door (every later
 * drain_enter is false) and say how many are in progress.
 */
unsigned	 drain_close(void);
/*
 * Wait until nothing is in progress, at most secs seconds, or until
 * drain_cut; *left: how many were still in progress at the end.
 */
enum drain_end	 drain_wait(unsigned secs, unsigned *left);
/* A second stop signal: drain_wait returns DRAIN_CUT at once. */
void		 drain_cut(void);
/*
 * For the test suite only: with LUREWALL_TEST_EOM_GATE naming a FIFO,
 * block (logged) until a writer opens it and writes one byte or closes
 * it.  Without the variable, nothing.  drain_init reads the variable
 * once, at start-up.
 */
void		 drain_init(void);
void		 drain_gate(const char *qid);

#endif /* DRAIN_H */
