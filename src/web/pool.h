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
 *  - SIGUSR1: reopen the log file (log_reopen) and pass the signal on to
 *    the workers, which reopen theirs between requests.
 *  - sized by demand when workers_max > workers (php-fpm's dynamic mode):
 *    `workers` are started and always kept; when every worker is busy and
 *    the listen queue is not empty, the master starts more (as many as
 *    wait, doubling the pool at most, up to the knee once a start there
 *    gained under half of linear; past it 1, 2, 4, ... up to a quarter)
 *    up to `workers_max`, each start on trial: kept only if the pool then
 *    finishes requests faster (measured once each new worker has served five:
 *    half a second when the difference is clear, two when not), else
 *    undone and held (5 s, doubling while undone in a row). After a start
 *    undone, or at the maximum,
 *    it tries stopping some (an eighth) and keeps them stopped while the
 *    pool stays as fast: the pool settles where the cores, not the
 *    workers, are the limit. When fewer are needed (the most busy at once
 *    over the last `idle_timeout` seconds, plus one spare), it stops one
 *    idle worker per second, gracefully, down to `workers`. A slot without
 *    a wanted process is "Stopped", not "Down".
 *  - SIGHUP: graceful reload. Calls opts->reload (re-read settings and
 *    templates); if it succeeds, starts a new generation of workers and
 *    retires the old one gracefully (same timeout); if it fails, the old
 *    workers keep serving and the error is logged.
 *
 * The scoreboard: one mapping per generation (struct pool_slot per worker,
 * plus the counts of the generations before it) and one pool-wide struct
 * pool_stats, both shared memory the master creates. A slot's `counts`
 * (counters.h) are written by its worker only and kept when the worker is
 * replaced (recycle, crash, watchdog). On reload the new generation's
 * `base` starts as the old generation's total, and what the old one
 * still serves while draining is added when it is gone: every counter
 * grows for the life of the master. Readers tolerate tearing: each value
 * is read whole, but not all of them at one instant.
 */
#ifndef TODO_POOL_H
#define TODO_POOL_H

#include <stdint.h>
#include <sys/types.h>

#include "counters.h"
#include "status.h"

/* One slot per worker in memory shared between master and workers. All
 * but `counts` describes the process now in the slot and is cleared when
 * another one takes its place. */
struct pool_slot {
	volatile pid_t pid;
	volatile int wanted;              /* the master keeps a process here */
	volatile int64_t busy_since_ms;   /* 0 when idle (CLOCK_MONOTONIC ms) */
	volatile uint64_t requests;       /* served by this process */
	int64_t started;                  /* its start, Unix time in seconds */
	int last_status;                  /* of its last request (0: none) */
	uint64_t last_us;                 /* how long that one took */
	char request_id[64];              /* of the in-flight request */
	char request_line[128];           /* "POST /todos", for the death log */
	struct counters counts;           /* the slot's: kept across respawns */
};

/* Why the master replaced a worker (a reload or stop is not counted). */
enum pool_restart {
	POOL_RESTART_CRASH,      /* died: a signal or a non-zero exit */
	POOL_RESTART_TIMEOUT,    /* killed by the request watchdog */
	POOL_RESTART_RECYCLE,    /* returned 0: max_requests reached */
	POOL_NRESTART
};

/* Counted by the master alone, for its whole life. */
struct pool_stats {
	int64_t started;                  /* Unix time in seconds */
	uint64_t generation;              /* 1, then one more per reload */
	uint64_t restarts[POOL_NRESTART];
	int workers_min;                  /* always kept */
	volatile int workers;             /* wanted processes now */
	volatile int workers_peak;        /* the most at once */
	uint64_t grown, shrunk;           /* workers started, stopped by demand */
	uint64_t max_reached;             /* ticks at workers_max with a queue */
	uint64_t undone;                  /* changes by demand undone: a start
	                                   * that made the pool no faster, a
	                                   * stop that made it slower */
};

/* A worker's read-only view of the scoreboard of its generation. */
struct pool_view {
	const struct pool_stats *stats;
	const struct counters *base;      /* earlier generations' counts */
	const struct pool_slot *slots;    /* this generation's workers */
	int n;
	uint64_t generation;              /* this generation's number */
	int listen_fd;                    /* the pool's socket */
};

/* Called in the worker after fork with the listening fd; returns the
 * process exit status. The worker must call pool_worker_busy()/idle()
 * around each request so the master can time it (busy()/ready() around
 * other work that keeps it from taking requests, such as connecting). */
typedef int (*pool_worker_fn)(int listen_fd, struct pool_slot *slot, void *arg);
/* Called in the master on SIGHUP; TD_OK means the new settings are live. */
typedef enum td_status (*pool_reload_fn)(void *arg);

struct pool_opts {
	int listen_fd;
	int workers;               /* >= 1: started, and the least kept */
	int workers_max;           /* 0 or workers: a fixed pool; else the most */
	int idle_timeout;          /* seconds of less demand before shrinking */
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
/* Idle again after work that was not a request (connecting before the
 * first): as pool_worker_idle, but no request is counted. */
void pool_worker_ready(struct pool_slot *slot);
/* The last request's status and duration, for the status page. */
void pool_worker_result(struct pool_slot *slot, int status,
    uint64_t duration_us);
/* In a worker: its generation's scoreboard. TD_ENOTFOUND outside one. */
enum td_status pool_scoreboard(struct pool_view *v);
/* True once the worker has been asked to stop (SIGTERM received). */
int pool_worker_stopping(void);

#endif
