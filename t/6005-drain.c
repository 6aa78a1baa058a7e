/*
 * 6005-drain: the count of callbacks a stop waits for (drain.c): the
 * door closes, a wait ends when the last one leaves, at the bound, or
 * at drain_cut; the test gate holds until its FIFO is written.  Each
 * wait that must be woken runs in a thread the test joins: no sleeps.
 * The cut case runs in a child (the count and the door are the
 * process's, and a cut stays cut).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "drain.h"
#include "tap.h"

struct waiter {
	pthread_t	 tid;
	unsigned	 secs;
	unsigned	 left;
	enum drain_end	 end;
};

static void *
waiter_run(void *arg)
{
	struct waiter	*w = arg;

	w->end = drain_wait(w->secs, &w->left);
	return NULL;
}

static void
waiter_start(struct waiter *w, unsigned secs)
{
	w->secs = secs;
	w->left = 99;
	if (pthread_create(&w->tid, NULL, waiter_run, w) != 0)
		bail("pthread_create");
}

/* The child: two inside, a wait cut short; 0 when all went as said. */
static int
cut_case(void)
{
	struct waiter	w;

	if (!drain_enter() || !drain_enter() || drain_close() != 2)
		return 1;
	waiter_start(&w, 3600);
	drain_cut();
	pthread_join(w.tid, NULL);
	if (w.end != DRAIN_CUT || w.left != 2)
		return 2;
	/* Cut stays cut: a later wait does not block either. */
	if (drain_wait(3600, &w.left) != DRAIN_CUT)
		return 3;
	return 0;
}

static void *
gate_run(void *arg)
{
	drain_gate(arg);
	return NULL;
}

int
main(void)
{
	struct waiter	 w;
	pthread_t	 tid;
	unsigned	 left = 99;
	pid_t		 pid;
	int		 st, fd;
	char		 fifo[4096];

	/* Before anything is counted, with no thread yet: fork the cut. */
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0)
		_exit(cut_case());
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "a second signal cuts the wait short, "
	    "with the count left (child status %d)", WEXITSTATUS(st));

	/* Open: callbacks come and go. */
	ok(drain_enter(), "open: enter");
	ok(drain_enter(), "open: enter again");
	drain_leave();
	is_int(1, drain_close(), "close: one still inside");
	ok(!drain_enter(), "closed: a callback that starts now is refused");
	is_int(DRAIN_TIMEOUT, drain_wait(0, &left), "a bound of 0 s passes");
	is_int(1, left, "and says how many are left");

	/* The last one out wakes the waiter. */
	waiter_start(&w, 3600);
	drain_leave();
	pthread_join(w.tid, NULL);
	is_int(DRAIN_DONE, w.end, "the last one out ends the wait");
	is_int(0, w.left, "none left");
	is_int(DRAIN_DONE, drain_wait(0, &left), "nothing inside: done at once");
	ok(!drain_enter(), "still closed");

	/* Without the variable the gate is open. */
	drain_init();
	drain_gate("Q0");
	ok(1, "no LUREWALL_TEST_EOM_GATE: the gate does not hold");

	/* With it: held until the FIFO is written. */
	snprintf(fifo, sizeof(fifo), "%s/gate", tap_tmpdir("6005-drain"));
	if (mkfifo(fifo, 0600) == -1)
		bail("mkfifo %s", fifo);
	setenv("LUREWALL_TEST_EOM_GATE", fifo, 1);
	drain_init();
	if (pthread_create(&tid, NULL, gate_run, "Q1") != 0)
		bail("pthread_create");
	/* Blocks until the gate opens the FIFO to read. */
	if ((fd = open(fifo, O_WRONLY)) == -1)
		bail("open %s", fifo);
	ok(write(fd, "x", 1) == 1, "the test writes to the gate");
	close(fd);
	pthread_join(tid, NULL);
	ok(1, "the gate lets the callback go once written");
	return done_testing();
}
