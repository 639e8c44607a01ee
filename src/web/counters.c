/* counters.c - see counters.h. */
#include "counters.h"

#include <stddef.h>

/* The block is walked as one array of counters by the sums below. */
_Static_assert(sizeof(struct counters) % sizeof(uint64_t) == 0,
    "struct counters must hold uint64_t counters only");
#define NCOUNTERS (sizeof(struct counters) / sizeof(uint64_t))

static const int statuses[COUNTERS_NSTATUS - 1] = {
	200, 302, 303, 304, 400, 403, 404, 405, 409, 413, 414, 415, 422, 429,
	500, 503,
};
static const char *const status_labels[COUNTERS_NSTATUS] = {
	"200", "302", "303", "304", "400", "403", "404", "405", "409", "413",
	"414", "415", "422", "429", "500", "503", "other",
};

static const uint64_t bucket_us[COUNTERS_NBUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, UINT64_MAX,
};
static const char *const bucket_le[COUNTERS_NBUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5", "5", "10", "+Inf",
};

/* One writer per counter, so no read-modify-write instruction is needed;
 * the atomic store keeps readers from seeing half a value. */
void
counters_inc(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n,
	    __ATOMIC_RELAXED);
}

void
counters_record(struct counters *c, const struct counters_request *r)
{
	unsigned route = (unsigned)r->route < ROUTE_COUNT ? r->route : ROUTE_NONE;
	int b;

	for (b = 0; b < COUNTERS_NBUCKETS - 1; b++)
		if (r->duration_us <= bucket_us[b])
			break;
	counters_inc(&c->requests[route][counters_status_index(r->status)], 1);
	counters_inc(&c->duration[route][b], 1);
	counters_inc(&c->duration_us[route], r->duration_us);
	counters_inc(&c->db_us[route], r->db_us);
	counters_inc(&c->db_round_trips[route], r->db_round_trips);
}

void
counters_sum(struct counters *acc, const struct counters *src)
{
	uint64_t *a = (uint64_t *)acc;
	const uint64_t *s = (const uint64_t *)src;
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		a[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void
counters_carry(struct counters *shared, const struct counters *now,
    const struct counters *then)
{
	uint64_t *d = (uint64_t *)shared;
	const uint64_t *n = (const uint64_t *)now, *t = (const uint64_t *)then;
	uint64_t v;
	size_t i;

	for (i = 0; i < NCOUNTERS; i++) {
		v = n[i] - (t != NULL ? t[i] : 0);
		if (v != 0)
			counters_inc(&d[i], v);
	}
}

int
counters_status_index(int status)
{
	int i;

	for (i = 0; i < COUNTERS_NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return COUNTERS_NSTATUS - 1;
}

const char *
counters_status_label(int index)
{
	return index >= 0 && index < COUNTERS_NSTATUS ? status_labels[index] :
	    "other";
}

uint64_t
counters_bucket_us(int i)
{
	return i >= 0 && i < COUNTERS_NBUCKETS ? bucket_us[i] : UINT64_MAX;
}

const char *
counters_bucket_le(int i)
{
	return i >= 0 && i < COUNTERS_NBUCKETS ? bucket_le[i] : "+Inf";
}
