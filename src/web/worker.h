/* worker.h - one worker process: opens its own database connection after
 * fork, then accepts FastCGI requests one at a time until told to stop or
 * recycled after max_requests. Each request gets the arena fresh. */
#ifndef TODO_WORKER_H
#define TODO_WORKER_H

struct config;
struct pool_slot;
struct tmpl_set;

/* What the master hands each worker (read-only after fork). */
struct worker_env {
	struct config *cfg;
	struct tmpl_set *tmpl;
};

/* A pool_worker_fn: arg is a struct worker_env. Returns the exit status. */
int worker_main(int listen_fd, struct pool_slot *slot, void *arg);

#endif
