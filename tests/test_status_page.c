/* test_status_page.c - /status and /metrics from a synthetic scoreboard:
 * the exact text of a small case, cumulative histogram buckets, label
 * escaping, JSON, and who may see the pages (TODO_STATUS_ALLOW). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "counters.h"
#include "pool.h"
#include "request.h"
#include "response.h"
#include "route.h"
#include "status_page.h"
#include "tmpl.h"

/* A pool of two slots in generation 2: slot 0 busy on GET /status, slot 1
 * waiting for its respawn; one request carried over from generation 1. */
struct board {
	struct pool_stats stats;
	struct counters base;
	struct pool_slot slots[2];
	struct pool_view view;
	struct status_snapshot snap;
};

static void
record(struct counters *c, enum route_id route, int status, uint64_t us,
    uint64_t db_us, uint64_t trips)
{
	struct counters_request r = { route, status, us, db_us, trips };

	counters_record(c, &r);
}

static struct board *
board_new(void)
{
	struct board *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->stats.started = 1700000000;
	b->stats.generation = 2;
	b->stats.restarts[POOL_RESTART_CRASH] = 1;
	b->stats.restarts[POOL_RESTART_RECYCLE] = 2;
	b->stats.workers_min = 2;       /* a fixed pool of two */
	b->stats.workers = 2;
	b->stats.workers_peak = 2;

	record(&b->base, ROUTE_LIST, 200, 500, 300, 1);
	b->base.accepted = 1;

	b->slots[0].pid = 101;
	b->slots[0].wanted = 1;
	b->slots[0].started = 1700000100;
	b->slots[0].requests = 7;
	b->slots[0].last_status = 200;
	b->slots[0].last_us = 2500;
	b->slots[0].busy_since_ms = 98500;
	strcpy(b->slots[0].request_line, "GET /status");
	strcpy(b->slots[0].request_id, "abc");
	record(&b->slots[0].counts, ROUTE_LIST, 200, 1000, 400, 1);
	b->slots[0].counts.accepted = 2;
	b->slots[0].counts.db_reconnects = 1;

	b->slots[1].pid = 0;            /* down: wanted, not running */
	b->slots[1].wanted = 1;
	record(&b->slots[1].counts, ROUTE_CREATE, 303, 1200000, 1100000, 1);
	record(&b->slots[1].counts, ROUTE_NONE, 404, 20, 0, 0);
	b->slots[1].counts.accepted = 2;
	b->slots[1].counts.slow = 1;

	b->view.stats = &b->stats;
	b->view.base = &b->base;
	b->view.slots = b->slots;
	b->view.n = 2;
	b->view.generation = 2;
	b->view.listen_fd = -1;
	b->snap.view = &b->view;
	b->snap.now = 1700003600;
	b->snap.now_ms = 100000;
	b->snap.queued = 3;
	b->snap.backlog = 128;
	return b;
}

struct fx {
	struct arena *a;
	struct board *b;
	struct buf out;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || (fx->a = arena_new(1 << 20)) == NULL)
		return -1;
	fx->b = board_new();
	buf_init(&fx->out, fx->a);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	arena_free(fx->a);
	free(fx->b);
	free(fx);
	return 0;
}

/* Line by line, so that a failure names the first line that differs. */
static void
assert_text(const char *got, const char *want)
{
	int line = 1;

	while (*got != '\0' && *want != '\0') {
		size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");

		if (g != w || memcmp(got, want, g) != 0)
			fail_msg("line %d:\n got: %.*s\nwant: %.*s", line, (int)g,
			    got, (int)w, want);
		got += g + (got[g] == '\n');
		want += w + (want[w] == '\n');
		line++;
	}
	if (*got != '\0' || *want != '\0')
		fail_msg("line %d: got %s, want %s", line,
		    *got != '\0' ? got : "(end)", *want != '\0' ? want : "(end)");
}

#define BUCKETS(route, a, b, c, d, e, f, g, h, i, j, k, l, m, n) \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.001\"} " a "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.0025\"} " b "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.005\"} " c "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.01\"} " d "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.025\"} " e "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.05\"} " f "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.1\"} " g "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.25\"} " h "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"0.5\"} " i "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"1\"} " j "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"2.5\"} " k "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"5\"} " l "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"10\"} " m "\n" \
	"todo_request_duration_seconds_bucket{route=\"" route "\",le=\"+Inf\"} " n "\n"

static void
test_metrics_exact(void **state)
{
	struct fx *fx = *state;
	static const char want[] =
	    "# HELP todo_requests_total Requests answered, by route and status.\n"
	    "# TYPE todo_requests_total counter\n"
	    "todo_requests_total{route=\"list\",status=\"200\"} 2\n"
	    "todo_requests_total{route=\"create\",status=\"303\"} 1\n"
	    "todo_requests_total{route=\"none\",status=\"404\"} 1\n"
	    "# HELP todo_request_duration_seconds Time from accepting a request to having sent its response, by route.\n"
	    "# TYPE todo_request_duration_seconds histogram\n"
	    BUCKETS("list", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2")
	    "todo_request_duration_seconds_sum{route=\"list\"} 0.001500\n"
	    "todo_request_duration_seconds_count{route=\"list\"} 2\n"
	    BUCKETS("create", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "1", "1", "1", "1")
	    "todo_request_duration_seconds_sum{route=\"create\"} 1.200000\n"
	    "todo_request_duration_seconds_count{route=\"create\"} 1\n"
	    BUCKETS("none", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1", "1")
	    "todo_request_duration_seconds_sum{route=\"none\"} 0.000020\n"
	    "todo_request_duration_seconds_count{route=\"none\"} 1\n"
	    "# HELP todo_db_seconds_total Time spent in database calls, connecting included, by route.\n"
	    "# TYPE todo_db_seconds_total counter\n"
	    "todo_db_seconds_total{route=\"list\"} 0.000700\n"
	    "todo_db_seconds_total{route=\"create\"} 1.100000\n"
	    "todo_db_seconds_total{route=\"none\"} 0.000000\n"
	    "# HELP todo_db_round_trips_total Statements sent to the database, by route.\n"
	    "# TYPE todo_db_round_trips_total counter\n"
	    "todo_db_round_trips_total{route=\"list\"} 2\n"
	    "todo_db_round_trips_total{route=\"create\"} 1\n"
	    "todo_db_round_trips_total{route=\"none\"} 0\n"
	    "# HELP todo_db_reconnects_total Database connections the workers opened again after their first.\n"
	    "# TYPE todo_db_reconnects_total counter\n"
	    "todo_db_reconnects_total 1\n"
	    "# HELP todo_accepted_total Connections the workers accepted from nginx.\n"
	    "# TYPE todo_accepted_total counter\n"
	    "todo_accepted_total 5\n"
	    "# HELP todo_slow_requests_total Requests that took TODO_SLOW_MS or longer.\n"
	    "# TYPE todo_slow_requests_total counter\n"
	    "todo_slow_requests_total 1\n"
	    "# HELP todo_worker_restarts_total Workers the master replaced, by reason.\n"
	    "# TYPE todo_worker_restarts_total counter\n"
	    "todo_worker_restarts_total{reason=\"crash\"} 1\n"
	    "todo_worker_restarts_total{reason=\"timeout\"} 0\n"
	    "todo_worker_restarts_total{reason=\"recycle\"} 2\n"
	    "# HELP todo_workers Worker slots of the serving generation, by state.\n"
	    "# TYPE todo_workers gauge\n"
	    "todo_workers{state=\"busy\"} 1\n"
	    "todo_workers{state=\"idle\"} 0\n"
	    "todo_workers{state=\"down\"} 1\n"
	    "# HELP todo_workers_max Most workers the pool may run (TODO_WORKERS_MAX).\n"
	    "# TYPE todo_workers_max gauge\n"
	    "todo_workers_max 2\n"
	    "# HELP todo_workers_max_reached_total Times every worker was busy at the maximum with connections waiting.\n"
	    "# TYPE todo_workers_max_reached_total counter\n"
	    "todo_workers_max_reached_total 0\n"
	    "# HELP todo_workers_trials_undone_total Changes of the pool's size by demand undone: a start that made it no faster, or a stop that made it slower.\n"
	    "# TYPE todo_workers_trials_undone_total counter\n"
	    "todo_workers_trials_undone_total 0\n"
	    "# HELP todo_listen_queue Connections waiting in the pool socket's accept queue.\n"
	    "# TYPE todo_listen_queue gauge\n"
	    "todo_listen_queue 3\n"
	    "# HELP todo_listen_queue_max Limit of the accept queue (the listen backlog).\n"
	    "# TYPE todo_listen_queue_max gauge\n"
	    "todo_listen_queue_max 128\n"
	    "# HELP todo_pool_generation Worker generation: 1 at start, one more per reload.\n"
	    "# TYPE todo_pool_generation gauge\n"
	    "todo_pool_generation 2\n"
	    "# HELP process_start_time_seconds Start time of the todo-fcgi master since the Unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds 1700000000\n";

	status_format_metrics(&fx->out, &fx->b->snap);
	assert_true(buf_ok(&fx->out));
	assert_text(fx->out.data, want);
}

/* An unknown listen queue is left out rather than shown as -1. */
static void
test_metrics_no_listen_queue(void **state)
{
	struct fx *fx = *state;

	fx->b->snap.queued = fx->b->snap.backlog = -1;
	status_format_metrics(&fx->out, &fx->b->snap);
	assert_null(strstr(fx->out.data, "todo_listen_queue"));
	assert_non_null(strstr(fx->out.data, "todo_pool_generation 2\n"));
}

/* The value of `name{route="r",le="le"}` in text; -1 if absent. */
static long long
bucket(const char *text, const char *route, const char *le)
{
	char key[160];
	const char *p;

	snprintf(key, sizeof(key),
	    "todo_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} ", route, le);
	if ((p = strstr(text, key)) == NULL)
		return -1;
	return atoll(p + strlen(key));
}

/* Buckets are cumulative, le is inclusive, +Inf equals _count. */
static void
test_histogram_cumulative(void **state)
{
	struct fx *fx = *state;
	static const uint64_t us[] = {
		0, 999, 1000, 1001, 2500, 4999, 10000, 10001, 99999, 250000,
		500001, 1000000, 2500000, 5000001, 10000000, 10000001, 3600000000ULL,
	};
	static const long long want[COUNTERS_NBUCKETS] = {
		3, 5, 6, 7, 8, 8, 9, 10, 10, 12, 13, 13, 15, 17,
	};
	struct counters c;
	struct pool_slot slot;
	struct pool_stats stats;
	struct pool_view v;
	struct status_snapshot s;
	char needle[96];
	long long prev = 0, n;
	size_t i;
	int k;

	memset(&c, 0, sizeof(c));
	memset(&slot, 0, sizeof(slot));
	memset(&stats, 0, sizeof(stats));
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
		record(&slot.counts, ROUTE_EDIT, 200, us[i], 0, 1);
	slot.pid = 5;
	memset(&v, 0, sizeof(v));
	v.stats = &stats;
	v.base = &c;
	v.slots = &slot;
	v.n = 1;
	memset(&s, 0, sizeof(s));
	s.view = &v;
	s.queued = s.backlog = -1;
	status_format_metrics(&fx->out, &s);
	for (k = 0; k < COUNTERS_NBUCKETS; k++) {
		n = bucket(fx->out.data, "edit", counters_bucket_le(k));
		assert_true(n >= prev);
		if (n != want[k])
			fail_msg("le=%s: %lld, want %lld", counters_bucket_le(k), n,
			    want[k]);
		prev = n;
	}
	assert_int_equal(prev, (long long)(sizeof(us) / sizeof(us[0])));
	snprintf(needle, sizeof(needle),
	    "todo_request_duration_seconds_count{route=\"edit\"} %lld\n", prev);
	assert_non_null(strstr(fx->out.data, needle));
	/* Only routes with requests appear. */
	assert_null(strstr(fx->out.data, "route=\"list\""));
	assert_int_equal(counters_bucket_us(COUNTERS_NBUCKETS - 1), UINT64_MAX);
}

static void
test_label_escaping(void **state)
{
	struct fx *fx = *state;

	status_label_escape(&fx->out, "plain");
	buf_putc(&fx->out, '|');
	status_label_escape(&fx->out, "a\\b\"c\nd");
	buf_putc(&fx->out, '|');
	status_label_escape(&fx->out, "\\\\\"\n");
	buf_putc(&fx->out, '|');
	status_label_escape(&fx->out, "");
	assert_string_equal(fx->out.data,
	    "plain|a\\\\b\\\"c\\nd|\\\\\\\\\\\"\\n|");
}

static void
test_status_text_exact(void **state)
{
	struct fx *fx = *state;
	static const char want[] =
	    "pool:                 todo-fcgi\n"
	    "process manager:      static\n"
	    "start time:           2023-11-14T22:13:20Z\n"
	    "start since:          3600\n"
	    "generation:           2\n"
	    "accepted conn:        5\n"
	    "requests:             4\n"
	    "listen queue:         3\n"
	    "listen queue len:     128\n"
	    "idle processes:       0\n"
	    "active processes:     1\n"
	    "total processes:      2\n"
	    "max active processes: 2\n"
	    "max processes:        2\n"
	    "max children reached: 0\n"
	    "trials undone:        0\n"
	    "slow requests:        1\n"
	    "crash restarts:       1\n"
	    "timeout restarts:     0\n"
	    "recycle restarts:     2\n"
	    "db reconnects:        1\n"
	    "\n"
	    "************************\n"
	    "slot:                 0\n"
	    "pid:                  101\n"
	    "state:                Running\n"
	    "start time:           2023-11-14T22:15:00Z\n"
	    "start since:          3500\n"
	    "requests:             7\n"
	    "request:              GET /status\n"
	    "request id:           abc\n"
	    "request duration:     1500000\n"
	    "last status:          200\n"
	    "\n"
	    "************************\n"
	    "slot:                 1\n"
	    "pid:                  0\n"
	    "state:                Down\n"
	    "start time:           -\n"
	    "start since:          0\n"
	    "requests:             0\n"
	    "request:              -\n"
	    "request id:           -\n"
	    "request duration:     0\n"
	    "last status:          0\n";

	status_format_text(&fx->out, &fx->b->snap);
	assert_true(buf_ok(&fx->out));
	assert_text(fx->out.data, want);
}

/* Sized by demand: a slot without a wanted process is Stopped, not Down,
 * and not counted in the total. */
static void
test_status_dynamic_pool(void **state)
{
	struct fx *fx = *state;

	fx->b->stats.workers_min = 1;
	fx->b->stats.max_reached = 3;
	fx->b->stats.undone = 5;
	fx->b->slots[1].wanted = 0;
	status_format_text(&fx->out, &fx->b->snap);
	assert_non_null(strstr(fx->out.data, "process manager:      dynamic\n"));
	assert_non_null(strstr(fx->out.data, "total processes:      1\n"));
	assert_non_null(strstr(fx->out.data, "max processes:        2\n"));
	assert_non_null(strstr(fx->out.data, "max children reached: 3\n"));
	assert_non_null(strstr(fx->out.data, "trials undone:        5\n"));
	assert_non_null(strstr(fx->out.data, "state:                Stopped\n"));
	assert_null(strstr(fx->out.data, "Down"));
	buf_init(&fx->out, fx->a);
	status_format_metrics(&fx->out, &fx->b->snap);
	assert_non_null(strstr(fx->out.data, "todo_workers{state=\"down\"} 0\n"));
	assert_non_null(strstr(fx->out.data, "todo_workers_max_reached_total 3\n"));
	assert_non_null(strstr(fx->out.data, "todo_workers_trials_undone_total 5\n"));
}

/* Slot memory is another process's: control characters, quotes and
 * bytes past ASCII never reach the page as they are; a request line that
 * fills its buffer is cut, not run on. */
static void
test_status_request_line_cleaned(void **state)
{
	struct fx *fx = *state;
	struct pool_slot *s = &fx->b->slots[0];

	strcpy(s->request_line, "GET /a\"b\\c\n\r\x01\xc3\xa9");
	status_format_text(&fx->out, &fx->b->snap);
	assert_non_null(strstr(fx->out.data,
	    "\nrequest:              GET /a\"b\\c?????\n"));
	buf_init(&fx->out, fx->a);
	status_format_json(&fx->out, &fx->b->snap);
	assert_non_null(strstr(fx->out.data,
	    "\"request\":\"GET /a\\\"b\\\\c?????\""));
	memset(s->request_line, 'x', sizeof(s->request_line));
	buf_init(&fx->out, fx->a);
	status_format_text(&fx->out, &fx->b->snap);
	assert_non_null(strstr(fx->out.data, "xxx\nrequest id:"));
	/* Idle: no request shown, the last one's duration instead. */
	s->busy_since_ms = 0;
	buf_init(&fx->out, fx->a);
	status_format_text(&fx->out, &fx->b->snap);
	assert_non_null(strstr(fx->out.data, "state:                Idle\n"));
	assert_non_null(strstr(fx->out.data, "request:              -\n"));
	assert_non_null(strstr(fx->out.data, "request duration:     2500\n"));
	assert_non_null(strstr(fx->out.data, "idle processes:       1\n"));
}

static void
test_status_json(void **state)
{
	struct fx *fx = *state;

	status_format_json(&fx->out, &fx->b->snap);
	assert_true(buf_ok(&fx->out));
	assert_string_equal(fx->out.data,
	    "{\"pool\":\"todo-fcgi\",\"process manager\":\"static\","
	    "\"start time\":1700000000,\"start since\":3600,\"generation\":2,"
	    "\"accepted conn\":5,\"requests\":4,\"listen queue\":3,"
	    "\"listen queue len\":128,\"idle processes\":0,"
	    "\"active processes\":1,\"total processes\":2,"
	    "\"max active processes\":2,\"max processes\":2,"
	    "\"max children reached\":0,\"trials undone\":0,"
	    "\"slow requests\":1,\"crash restarts\":1,\"timeout restarts\":0,"
	    "\"recycle restarts\":2,\"db reconnects\":1,\"processes\":["
	    "{\"slot\":0,\"pid\":101,\"state\":\"Running\","
	    "\"start time\":1700000100,\"start since\":3500,\"requests\":7,"
	    "\"request\":\"GET /status\",\"request id\":\"abc\","
	    "\"request duration\":1500000,\"last status\":200},"
	    "{\"slot\":1,\"pid\":0,\"state\":\"Down\",\"start time\":0,"
	    "\"start since\":0,\"requests\":0,\"request\":\"-\","
	    "\"request id\":\"-\",\"request duration\":0,\"last status\":0}]}\n");
}

static void
test_allowed(void **state)
{
	const char *dflt = "127.0.0.1 ::1";

	(void)state;
	assert_true(status_allowed(dflt, "127.0.0.1"));
	assert_true(status_allowed(dflt, "::1"));
	assert_true(status_allowed(dflt, "0:0:0:0:0:0:0:1"));
	assert_true(status_allowed(dflt, "::ffff:127.0.0.1"));
	assert_false(status_allowed(dflt, "127.0.0.2"));
	assert_false(status_allowed(dflt, "10.0.0.1"));
	assert_false(status_allowed(dflt, "::2"));
	assert_false(status_allowed(dflt, ""));
	assert_false(status_allowed(dflt, NULL));
	assert_false(status_allowed(dflt, "unix:"));
	assert_false(status_allowed(dflt, "localhost"));
	assert_false(status_allowed(dflt, "127.0.0.1/8"));
	assert_false(status_allowed(dflt, " 127.0.0.1"));
	assert_false(status_allowed("", "127.0.0.1"));
	assert_false(status_allowed(NULL, "127.0.0.1"));
	/* Prefixes, commas, an IPv6 network. */
	assert_true(status_allowed("10.0.0.0/8", "10.200.3.4"));
	assert_false(status_allowed("10.0.0.0/8", "11.0.0.1"));
	assert_true(status_allowed("192.168.1.128/25", "192.168.1.200"));
	assert_false(status_allowed("192.168.1.128/25", "192.168.1.127"));
	assert_true(status_allowed("::1,10.1.2.3", "10.1.2.3"));
	assert_true(status_allowed(" , 2001:db8::/32 ,", "2001:db8:ffff::7"));
	assert_false(status_allowed("2001:db8::/32", "2001:db9::7"));
	assert_true(status_allowed("0.0.0.0/0", "203.0.113.9"));
	assert_false(status_allowed("0.0.0.0/0", "2001:db8::1"));
	assert_true(status_allowed("::/0", "2001:db8::1"));
	/* A bad entry is skipped (status_allow_check refuses it at start). */
	assert_true(status_allowed("nonsense 127.0.0.1", "127.0.0.1"));
}

static void
test_allow_check(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(status_allow_check("127.0.0.1 ::1", err, sizeof(err)), TD_OK);
	assert_int_equal(status_allow_check("", err, sizeof(err)), TD_OK);
	assert_int_equal(status_allow_check("10.0.0.0/8, fd00::/8", err, sizeof(err)), TD_OK);
	assert_int_equal(status_allow_check("localhost", err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "TODO_STATUS_ALLOW: \"localhost\" is not"));
	assert_int_equal(status_allow_check("127.0.0.1/33", err, sizeof(err)), TD_EINVAL);
	assert_int_equal(status_allow_check("::1/129", err, sizeof(err)), TD_EINVAL);
	assert_int_equal(status_allow_check("10.0.0.0/", err, sizeof(err)), TD_EINVAL);
	assert_int_equal(status_allow_check("10.0.0.0/-1", err, sizeof(err)), TD_EINVAL);
	assert_int_equal(status_allow_check("10.0.0.0/8x", err, sizeof(err)), TD_EINVAL);
	assert_int_equal(status_allow_check("1.2.3.4 1.2.3", err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "\"1.2.3\""));
}

/* Through the app: a client outside TODO_STATUS_ALLOW gets the 404 of an
 * unknown address, for both pages; one inside gets past the check (here,
 * outside a pool, to the 500 of a missing scoreboard). */
static void
test_handler_access(void **state)
{
	static const char *const paths[] = { "/status", "/metrics" };
	struct fx *fx = *state;
	struct config cfg;
	struct app app;
	struct request req;
	struct response resp;
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.status_allow, "127.0.0.1 ::1");
	strcpy(cfg.static_url, "/static");
	app.cfg = &cfg;
	app.tmpl = NULL;
	app.db = NULL;
	for (i = 0; i < 2; i++) {
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.path = paths[i];
		req.remote_addr = "203.0.113.9";
		response_init(&resp, fx->a);
		assert_int_equal(app_handle(&app, &req, &resp, fx->a),
		    i == 0 ? ROUTE_STATUS : ROUTE_METRICS);
		assert_int_equal(resp.status, 404);
		assert_non_null(strstr(resp.body.data, "404"));
		req.remote_addr = "";
		response_init(&resp, fx->a);
		app_handle(&app, &req, &resp, fx->a);
		assert_int_equal(resp.status, 404);
		req.remote_addr = "127.0.0.1";
		response_init(&resp, fx->a);
		app_handle(&app, &req, &resp, fx->a);
		assert_int_equal(resp.status, 500);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_no_listen_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram_cumulative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_text_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_dynamic_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_request_line_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_json, setup, teardown),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_allow_check),
		cmocka_unit_test_setup_teardown(test_handler_access, setup, teardown),
	};

	return cmocka_run_group_tests_name("status_page", tests, NULL, NULL);
}
