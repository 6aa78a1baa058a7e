/*
 * cli_exit.h: the one set of exit codes of every `lurewall` verb (see
 * lurewall(8), EXIT STATUS).
 */
#ifndef CLI_EXIT_H
#define CLI_EXIT_H

#define CLI_OK		0	/* done; scan: every verdict was accept */
#define CLI_NO		1	/* scan: a message was flagged; an item
				   or sender not found, a release refused
				   or failed; reload: the reload failed */
#define CLI_TROUBLE	2	/* usage, config or I/O error */
#define CLI_DAMAGED	3	/* quarantine verify found damage */
#define CLI_PENDING	4	/* quarantine release, delete: another
				   host took the request and has not
				   confirmed it in time */

#endif /* CLI_EXIT_H */
