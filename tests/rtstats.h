/* rtstats.h - what tests/rtproxy counted, for the end-to-end tests: the
 * proxy between the pool and the database (TODO_E2E_RTPROXY_PID) writes
 * its counts to TODO_E2E_RTPROXY_STATS when signalled (SIGUSR1: read,
 * SIGUSR2: read and reset). */
#ifndef TODO_RTSTATS_H
#define TODO_RTSTATS_H

struct rt_stats {
	long round_trips;
	long connections;
};

/* Signal the proxy and read the file it writes in answer. The file is
 * removed first and waited for (at most 2 s), so each answer is to this
 * signal (two pending signals would be handled in signal-number order).
 * 0, or -1 when the proxy did not answer. */
int rt_stats_signal(int sig, struct rt_stats *s);

#endif
