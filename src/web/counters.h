/* counters.h - what the workers count about the requests they serve, for
 * the status pages (status_page.h). One block per scoreboard slot (pool.h),
 * in memory shared by the whole pool: written by the slot's worker only,
 * read by every worker. Every field is a uint64_t that only grows, updated
 * and read with relaxed atomics: a reader sees each counter whole, but not
 * the block as of one instant (a request may already be in `requests` and
 * not yet in `duration`). Nothing here knows about processes. */
#ifndef TODO_COUNTERS_H
#define TODO_COUNTERS_H

#include <stdint.h>

#include "route.h"

/* Statuses counted one by one (counters_status_label); the last index is
 * every other status. */
#define COUNTERS_NSTATUS	17
/* Request duration buckets: 1 ms to 10 s, then +Inf. */
#define COUNTERS_NBUCKETS	14

struct counters {
	uint64_t requests[ROUTE_COUNT][COUNTERS_NSTATUS];
	uint64_t duration[ROUTE_COUNT][COUNTERS_NBUCKETS]; /* per bucket, not cumulative */
	uint64_t duration_us[ROUTE_COUNT];
	uint64_t db_us[ROUTE_COUNT];		/* time in db_exec */
	uint64_t db_round_trips[ROUTE_COUNT];
	uint64_t accepted;			/* connections accepted */
	uint64_t slow;				/* at least TODO_SLOW_MS */
	uint64_t db_reconnects;
};

/* One finished request. */
struct counters_request {
	enum route_id route;
	int status;
	uint64_t duration_us;
	uint64_t db_us;
	uint64_t db_round_trips;
};

/* Writer side (the slot's own worker): add to one counter, count a
 * request. */
void counters_inc(uint64_t *counter, uint64_t n);
void counters_record(struct counters *c, const struct counters_request *r);

/* Reader side: acc (private memory) += src, each counter of src read
 * atomically. */
void counters_sum(struct counters *acc, const struct counters *src);
/* The master carrying a retired generation's counts over: shared +=
 * now - then (then may be NULL: zero). */
void counters_carry(struct counters *shared, const struct counters *now,
    const struct counters *then);

int counters_status_index(int status);
/* "200", "404", ..., "other". */
const char *counters_status_label(int index);
/* Bucket i's upper bound: in microseconds (UINT64_MAX for +Inf), and as a
 * Prometheus le label ("0.001", ..., "10", "+Inf"). */
uint64_t counters_bucket_us(int i);
const char *counters_bucket_le(int i);

#endif
