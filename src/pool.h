/* pool.h - the master process: owns the listening socket, forks workers,
 * supervises them. Knows nothing about HTTP or the database.
 *
 *  - respawns a worker that dies, logging slot, pid and exit status/signal
 *    and the request it was serving (from its scoreboard slot);
 *  - brakes a crash loop: after `crash_limit` abnormal exits within
 *    `crash_window` seconds it delays respawns with exponential back-off
 *    (1 s doubling to 32 s) instead of forking endlessly;
 *  - a worker that returns normally (e.g. after max_requests) is replaced
 *    at once without counting as a crash;
 *  - a worker whose current request has run longer than `request_timeout`
 *    seconds gets SIGUSR2 (the worker cancels its database statement),
 *    then, a second later, SIGKILL, and is replaced;
 *  - SIGTERM/SIGINT: graceful stop. Workers get SIGTERM, finish their
 *    in-flight request and exit; any still alive after `shutdown_timeout`
 *    seconds get SIGKILL. pool_run then returns.
 *  - SIGHUP: graceful reload. Calls opts->reload (re-read settings and
 *    templates); if it succeeds, starts a new generation of workers and
 *    retires the old one gracefully (same timeout); if it fails, the old
 *    workers keep serving and the error is logged.
 */
#ifndef TODO_POOL_H
#define TODO_POOL_H

#include <stdint.h>
#include <sys/types.h>

#include "status.h"

/* One slot per worker in memory shared between master and workers. */
struct pool_slot {
	volatile pid_t pid;
	volatile int64_t busy_since_ms;   /* 0 when idle (CLOCK_MONOTONIC ms) */
	volatile uint64_t requests;       /* served by this process */
	char request_id[64];              /* of the in-flight request */
	char request_line[128];           /* "POST /todos", for the death log */
};

/* Called in the worker after fork with the listening fd; returns the
 * process exit status. The worker must call pool_worker_busy()/idle()
 * around each request so the master can time it. */
typedef int (*pool_worker_fn)(int listen_fd, struct pool_slot *slot, void *arg);
/* Called in the master on SIGHUP; TD_OK means the new settings are live. */
typedef enum td_status (*pool_reload_fn)(void *arg);

struct pool_opts {
	int listen_fd;
	int workers;               /* >= 1 */
	int request_timeout;       /* seconds; 0 = no limit */
	int shutdown_timeout;      /* seconds */
	int crash_limit;           /* default 5 */
	int crash_window;          /* seconds, default 10 */
	pool_worker_fn worker;
	pool_reload_fn reload;     /* may be NULL */
	void *arg;
};

/* Runs until SIGTERM/SIGINT; returns TD_OK after a clean stop. */
enum td_status pool_run(const struct pool_opts *opts);

/* Worker side helpers (write into the worker's own slot). */
void pool_worker_busy(struct pool_slot *slot, const char *request_id,
    const char *request_line);
void pool_worker_idle(struct pool_slot *slot);
/* True once the worker has been asked to stop (SIGTERM received). */
int pool_worker_stopping(void);

#endif
