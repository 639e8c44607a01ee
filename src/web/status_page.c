/* status_page.c - see status_page.h. */
#include "status_page.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "buf.h"
#include "config.h"
#include "counters.h"
#include "form.h"
#include "listen.h"
#include "log.h"
#include "pool.h"
#include "request.h"
#include "response.h"
#include "route.h"

#define SEPARATORS " \t,"

/* ---- who may look ------------------------------------------------------ */

/* An address as 16 bytes, IPv4 as IPv4-mapped IPv6, so that one compare
 * covers both; *bits is 128, or the prefix length given after '/'. */
static bool
parse_net(const char *s, size_t n, unsigned char out[16], int *bits)
{
	char a[INET6_ADDRSTRLEN + 8], *slash, *end;
	struct in_addr v4;
	long len = -1;
	bool is4;

	if (n == 0 || n >= sizeof(a))
		return false;
	memcpy(a, s, n);
	a[n] = '\0';
	if ((slash = strchr(a, '/')) != NULL) {
		*slash = '\0';
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			return false;
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0')
			return false;
	}
	is4 = inet_pton(AF_INET, a, &v4) == 1;
	if (is4) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, a, out) != 1)
		return false;
	if (len > (is4 ? 32 : 128))
		return false;
	*bits = len < 0 ? 128 : is4 ? (int)len + 96 : (int)len;
	return true;
}

static bool
in_net(const unsigned char addr[16], const unsigned char net[16], int bits)
{
	int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(addr, net, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (addr[full] & mask) == (net[full] & mask);
}

bool
status_allowed(const char *allow, const char *addr)
{
	unsigned char a[16], net[16];
	const char *p;
	size_t n;
	int bits;

	if (allow == NULL || addr == NULL ||
	    !parse_net(addr, strlen(addr), a, &bits) || strchr(addr, '/') != NULL)
		return false;
	for (p = allow; *p != '\0'; p += n) {
		p += strspn(p, SEPARATORS);
		n = strcspn(p, SEPARATORS);
		if (n > 0 && parse_net(p, n, net, &bits) && in_net(a, net, bits))
			return true;
	}
	return false;
}

enum td_status
status_allow_check(const char *allow, char *err, size_t errlen)
{
	unsigned char net[16];
	const char *p;
	size_t n;
	int bits;

	for (p = allow; *p != '\0'; p += n) {
		p += strspn(p, SEPARATORS);
		n = strcspn(p, SEPARATORS);
		if (n > 0 && !parse_net(p, n, net, &bits)) {
			snprintf(err, errlen, "TODO_STATUS_ALLOW: \"%.*s\" is not an "
			    "IP address or CIDR prefix (e.g. 127.0.0.1 ::1 10.0.0.0/8)",
			    (int)(n > 64 ? 64 : n), p);
			return TD_EINVAL;
		}
	}
	return TD_OK;
}

/* ---- reading the scoreboard -------------------------------------------- */

struct totals {
	struct counters c;         /* every generation's, every slot's */
	uint64_t requests;
	int busy, idle, down;
	int total;                 /* slots the pool keeps a process in */
};

/* One worker as the page shows it; its strings are printable ASCII. */
struct worker {
	pid_t pid;
	const char *state;
	int64_t started;
	uint64_t requests;
	int64_t busy_ms;           /* -1: idle */
	int last_status;
	uint64_t last_us;
	char line[128];            /* "-" when idle */
	char id[64];
};

/* Slot memory is written by another process: copy at most cap-1 bytes,
 * and only what cannot break a line, a JSON string or a terminal. */
static void
copy_clean(char *dst, size_t cap, const char *src, size_t srccap)
{
	size_t i;

	for (i = 0; i + 1 < cap && i < srccap && src[i] != '\0'; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static void
read_slot(const struct pool_slot *sl, const struct status_snapshot *s,
    struct worker *w)
{
	int64_t since;

	w->pid = sl->pid;
	w->started = __atomic_load_n(&sl->started, __ATOMIC_RELAXED);
	w->requests = sl->requests;
	w->last_status = __atomic_load_n(&sl->last_status, __ATOMIC_RELAXED);
	w->last_us = __atomic_load_n(&sl->last_us, __ATOMIC_RELAXED);
	since = __atomic_load_n(&sl->busy_since_ms, __ATOMIC_ACQUIRE);
	copy_clean(w->line, sizeof(w->line), sl->request_line,
	    sizeof(sl->request_line));
	copy_clean(w->id, sizeof(w->id), sl->request_id, sizeof(sl->request_id));
	/* The strings belong to that request only if it is still the one. */
	if (since == 0 ||
	    __atomic_load_n(&sl->busy_since_ms, __ATOMIC_ACQUIRE) != since) {
		since = 0;
		strcpy(w->line, "-");
		strcpy(w->id, "-");
	}
	w->busy_ms = since == 0 ? -1 : s->now_ms >= since ? s->now_ms - since : 0;
	/* A slot the pool is not keeping a process in (sized by demand)
	 * is stopped, not down. */
	w->state = w->pid != 0 ? (since != 0 ? "Running" : "Idle") :
	    sl->wanted ? "Down" : "Stopped";
}

/* Sized by demand: more slots than the workers always kept. */
static bool
dynamic(const struct pool_view *v)
{
	return v->n > v->stats->workers_min;
}

static void
sum_up(const struct status_snapshot *s, struct totals *t)
{
	const struct pool_view *v = s->view;
	int i, r, k;

	memset(t, 0, sizeof(*t));
	counters_sum(&t->c, v->base);
	for (i = 0; i < v->n; i++) {
		counters_sum(&t->c, &v->slots[i].counts);
		if (v->slots[i].pid == 0 && !v->slots[i].wanted)
			continue;
		t->total++;
		if (v->slots[i].pid == 0)
			t->down++;
		else if (__atomic_load_n(&v->slots[i].busy_since_ms,
		    __ATOMIC_RELAXED) != 0)
			t->busy++;
		else
			t->idle++;
	}
	for (r = 0; r < ROUTE_COUNT; r++)
		for (k = 0; k < COUNTERS_NSTATUS; k++)
			t->requests += t->c.requests[r][k];
}

static uint64_t
restarts(const struct status_snapshot *s, enum pool_restart why)
{
	return __atomic_load_n(&s->view->stats->restarts[why], __ATOMIC_RELAXED);
}

static void
iso_time(char *out, size_t cap, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", (long long)t);
}

static int64_t
since(const struct status_snapshot *s, int64_t t)
{
	return s->now > t ? s->now - t : 0;
}

/* How long the request has run, else how long the last one took (us). */
static uint64_t
duration_us(const struct worker *w)
{
	return w->busy_ms >= 0 ? (uint64_t)w->busy_ms * 1000 : w->last_us;
}

/* ---- /status ------------------------------------------------------------ */

#define KV(b, k, fmt, ...) buf_printf(b, "%-22s" fmt "\n", k ":", __VA_ARGS__)

void
status_format_text(struct buf *b, const struct status_snapshot *s)
{
	const struct pool_view *v = s->view;
	struct totals t;
	struct worker w;
	char when[32];
	int i;

	sum_up(s, &t);
	iso_time(when, sizeof(when), v->stats->started);
	KV(b, "pool", "%s", "todo-fcgi");
	KV(b, "process manager", "%s", dynamic(v) ? "dynamic" : "static");
	KV(b, "start time", "%s", when);
	KV(b, "start since", "%lld", (long long)since(s, v->stats->started));
	KV(b, "generation", "%llu", (unsigned long long)v->generation);
	KV(b, "accepted conn", "%llu", (unsigned long long)t.c.accepted);
	KV(b, "requests", "%llu", (unsigned long long)t.requests);
	KV(b, "listen queue", "%d", s->queued);
	KV(b, "listen queue len", "%d", s->backlog);
	KV(b, "idle processes", "%d", t.idle);
	KV(b, "active processes", "%d", t.busy);
	KV(b, "total processes", "%d", t.total);
	KV(b, "max active processes", "%d", v->stats->workers_peak);
	KV(b, "max processes", "%d", v->n);
	KV(b, "max children reached", "%llu",
	    (unsigned long long)v->stats->max_reached);
	KV(b, "trials undone", "%llu", (unsigned long long)v->stats->undone);
	KV(b, "slow requests", "%llu", (unsigned long long)t.c.slow);
	KV(b, "crash restarts", "%llu",
	    (unsigned long long)restarts(s, POOL_RESTART_CRASH));
	KV(b, "timeout restarts", "%llu",
	    (unsigned long long)restarts(s, POOL_RESTART_TIMEOUT));
	KV(b, "recycle restarts", "%llu",
	    (unsigned long long)restarts(s, POOL_RESTART_RECYCLE));
	KV(b, "db reconnects", "%llu", (unsigned long long)t.c.db_reconnects);
	for (i = 0; i < v->n; i++) {
		read_slot(&v->slots[i], s, &w);
		iso_time(when, sizeof(when), w.started);
		buf_puts(b, "\n************************\n");
		KV(b, "slot", "%d", i);
		KV(b, "pid", "%ld", (long)w.pid);
		KV(b, "state", "%s", w.state);
		KV(b, "start time", "%s", w.pid != 0 ? when : "-");
		KV(b, "start since", "%lld",
		    (long long)(w.pid != 0 ? since(s, w.started) : 0));
		KV(b, "requests", "%llu", (unsigned long long)w.requests);
		KV(b, "request", "%s", w.line);
		KV(b, "request id", "%s", w.id);
		KV(b, "request duration", "%llu", (unsigned long long)duration_us(&w));
		KV(b, "last status", "%d", w.last_status);
	}
}

#undef KV

/* Strings here are printable ASCII already (copy_clean). */
static void
json_str(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void
status_format_json(struct buf *b, const struct status_snapshot *s)
{
	const struct pool_view *v = s->view;
	struct totals t;
	struct worker w;
	int i;

	sum_up(s, &t);
	buf_printf(b, "{\"pool\":\"todo-fcgi\",\"process manager\":\"%s\","
	    "\"start time\":%lld,\"start since\":%lld,\"generation\":%llu,"
	    "\"accepted conn\":%llu,\"requests\":%llu,\"listen queue\":%d,"
	    "\"listen queue len\":%d,\"idle processes\":%d,"
	    "\"active processes\":%d,\"total processes\":%d,"
	    "\"max active processes\":%d,\"max processes\":%d,"
	    "\"max children reached\":%llu,\"trials undone\":%llu,"
	    "\"slow requests\":%llu,\"crash restarts\":%llu,"
	    "\"timeout restarts\":%llu,\"recycle restarts\":%llu,"
	    "\"db reconnects\":%llu,\"processes\":[",
	    dynamic(v) ? "dynamic" : "static",
	    (long long)v->stats->started, (long long)since(s, v->stats->started),
	    (unsigned long long)v->generation, (unsigned long long)t.c.accepted,
	    (unsigned long long)t.requests, s->queued, s->backlog, t.idle,
	    t.busy, t.total, v->stats->workers_peak, v->n,
	    (unsigned long long)v->stats->max_reached,
	    (unsigned long long)v->stats->undone,
	    (unsigned long long)t.c.slow,
	    (unsigned long long)restarts(s, POOL_RESTART_CRASH),
	    (unsigned long long)restarts(s, POOL_RESTART_TIMEOUT),
	    (unsigned long long)restarts(s, POOL_RESTART_RECYCLE),
	    (unsigned long long)t.c.db_reconnects);
	for (i = 0; i < v->n; i++) {
		read_slot(&v->slots[i], s, &w);
		buf_printf(b, "%s{\"slot\":%d,\"pid\":%ld,\"state\":\"%s\","
		    "\"start time\":%lld,\"start since\":%lld,\"requests\":%llu,"
		    "\"request\":", i > 0 ? "," : "", i, (long)w.pid, w.state,
		    (long long)(w.pid != 0 ? w.started : 0),
		    (long long)(w.pid != 0 ? since(s, w.started) : 0),
		    (unsigned long long)w.requests);
		json_str(b, w.line);
		buf_puts(b, ",\"request id\":");
		json_str(b, w.id);
		buf_printf(b, ",\"request duration\":%llu,\"last status\":%d}",
		    (unsigned long long)duration_us(&w), w.last_status);
	}
	buf_puts(b, "]}\n");
}

/* ---- /metrics ----------------------------------------------------------- */

void
status_label_escape(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			buf_puts(b, "\\\\");
		else if (*v == '"')
			buf_puts(b, "\\\"");
		else if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{route="..."[,key="value"]} */
static void
sample(struct buf *b, const char *name, int route, const char *key,
    const char *value)
{
	buf_printf(b, "%s{route=\"", name);
	status_label_escape(b, route_name((enum route_id)route));
	if (key != NULL) {
		buf_printf(b, "\",%s=\"", key);
		status_label_escape(b, value);
	}
	buf_puts(b, "\"} ");
}

static void
seconds(struct buf *b, uint64_t us)
{
	buf_printf(b, "%llu.%06llu\n", (unsigned long long)(us / 1000000),
	    (unsigned long long)(us % 1000000));
}

static uint64_t
route_count(const struct counters *c, int r)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < COUNTERS_NBUCKETS; i++)
		n += c->duration[r][i];
	return n;
}

/* A route or a route and status shows up with its first request. */
void
status_format_metrics(struct buf *b, const struct status_snapshot *s)
{
	const struct pool_view *v = s->view;
	const struct counters *c;
	struct totals t;
	uint64_t cum;
	int r, k;

	sum_up(s, &t);
	c = &t.c;
	head(b, "todo_requests_total", "counter",
	    "Requests answered, by route and status.");
	for (r = 0; r < ROUTE_COUNT; r++)
		for (k = 0; k < COUNTERS_NSTATUS; k++)
			if (c->requests[r][k] != 0) {
				sample(b, "todo_requests_total", r, "status",
				    counters_status_label(k));
				buf_printf(b, "%llu\n",
				    (unsigned long long)c->requests[r][k]);
			}
	head(b, "todo_request_duration_seconds", "histogram",
	    "Time from accepting a request to having sent its response, by route.");
	for (r = 0; r < ROUTE_COUNT; r++) {
		if (route_count(c, r) == 0)
			continue;
		for (cum = 0, k = 0; k < COUNTERS_NBUCKETS; k++) {
			cum += c->duration[r][k];
			sample(b, "todo_request_duration_seconds_bucket", r, "le",
			    counters_bucket_le(k));
			buf_printf(b, "%llu\n", (unsigned long long)cum);
		}
		sample(b, "todo_request_duration_seconds_sum", r, NULL, NULL);
		seconds(b, c->duration_us[r]);
		sample(b, "todo_request_duration_seconds_count", r, NULL, NULL);
		buf_printf(b, "%llu\n", (unsigned long long)cum);
	}
	head(b, "todo_db_seconds_total", "counter",
	    "Time spent in database calls, connecting included, by route.");
	for (r = 0; r < ROUTE_COUNT; r++)
		if (route_count(c, r) != 0) {
			sample(b, "todo_db_seconds_total", r, NULL, NULL);
			seconds(b, c->db_us[r]);
		}
	head(b, "todo_db_round_trips_total", "counter",
	    "Statements sent to the database, by route.");
	for (r = 0; r < ROUTE_COUNT; r++)
		if (route_count(c, r) != 0) {
			sample(b, "todo_db_round_trips_total", r, NULL, NULL);
			buf_printf(b, "%llu\n",
			    (unsigned long long)c->db_round_trips[r]);
		}
	head(b, "todo_db_reconnects_total", "counter",
	    "Database connections the workers opened again after their first.");
	buf_printf(b, "todo_db_reconnects_total %llu\n",
	    (unsigned long long)c->db_reconnects);
	head(b, "todo_accepted_total", "counter",
	    "Connections the workers accepted from nginx.");
	buf_printf(b, "todo_accepted_total %llu\n",
	    (unsigned long long)c->accepted);
	head(b, "todo_slow_requests_total", "counter",
	    "Requests that took TODO_SLOW_MS or longer.");
	buf_printf(b, "todo_slow_requests_total %llu\n",
	    (unsigned long long)c->slow);
	head(b, "todo_worker_restarts_total", "counter",
	    "Workers the master replaced, by reason.");
	buf_printf(b, "todo_worker_restarts_total{reason=\"crash\"} %llu\n"
	    "todo_worker_restarts_total{reason=\"timeout\"} %llu\n"
	    "todo_worker_restarts_total{reason=\"recycle\"} %llu\n",
	    (unsigned long long)restarts(s, POOL_RESTART_CRASH),
	    (unsigned long long)restarts(s, POOL_RESTART_TIMEOUT),
	    (unsigned long long)restarts(s, POOL_RESTART_RECYCLE));
	head(b, "todo_workers", "gauge",
	    "Worker slots of the serving generation, by state.");
	buf_printf(b, "todo_workers{state=\"busy\"} %d\n"
	    "todo_workers{state=\"idle\"} %d\n"
	    "todo_workers{state=\"down\"} %d\n", t.busy, t.idle, t.down);
	head(b, "todo_workers_max", "gauge",
	    "Most workers the pool may run (TODO_WORKERS_MAX).");
	buf_printf(b, "todo_workers_max %d\n", v->n);
	head(b, "todo_workers_max_reached_total", "counter",
	    "Times every worker was busy at the maximum with connections waiting.");
	buf_printf(b, "todo_workers_max_reached_total %llu\n",
	    (unsigned long long)v->stats->max_reached);
	head(b, "todo_workers_trials_undone_total", "counter",
	    "Changes of the pool's size by demand undone: a start that made "
	    "it no faster, or a stop that made it slower.");
	buf_printf(b, "todo_workers_trials_undone_total %llu\n",
	    (unsigned long long)v->stats->undone);
	if (s->queued >= 0) {
		head(b, "todo_listen_queue", "gauge",
		    "Connections waiting in the pool socket's accept queue.");
		buf_printf(b, "todo_listen_queue %d\n", s->queued);
		head(b, "todo_listen_queue_max", "gauge",
		    "Limit of the accept queue (the listen backlog).");
		buf_printf(b, "todo_listen_queue_max %d\n", s->backlog);
	}
	head(b, "todo_pool_generation", "gauge",
	    "Worker generation: 1 at start, one more per reload.");
	buf_printf(b, "todo_pool_generation %llu\n",
	    (unsigned long long)v->generation);
	head(b, "process_start_time_seconds", "gauge",
	    "Start time of the todo-fcgi master since the Unix epoch in seconds.");
	buf_printf(b, "process_start_time_seconds %lld\n",
	    (long long)v->stats->started);
}

/* ---- the handlers ------------------------------------------------------- */

static bool
admitted(struct ctx *c)
{
	if (status_allowed(c->app->cfg->status_allow, c->req->remote_addr))
		return true;
	log_info("refused %s from %s: not in TODO_STATUS_ALLOW", c->req->path,
	    c->req->remote_addr[0] != '\0' ? c->req->remote_addr : "-");
	app_error(c->app, c->arena, c->resp, 404, "There is nothing at this address.");
	return false;
}

static bool
snapshot(struct ctx *c, struct pool_view *v, struct status_snapshot *s)
{
	struct timespec ts;

	if (pool_scoreboard(v) != TD_OK ||
	    clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		app_error(c->app, c->arena, c->resp, 500, "No scoreboard: not running in the pool.");
		return false;
	}
	s->view = v;
	s->now = (int64_t)time(NULL);
	s->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (listen_queue(v->listen_fd, &s->queued, &s->backlog) != TD_OK)
		s->queued = s->backlog = -1;
	return true;
}

static void
finish(struct ctx *c, const char *type)
{
	if (!buf_ok(&c->resp->body)) {
		app_error(c->app, c->arena, c->resp, 500, "The page did not fit in memory.");
		return;
	}
	c->resp->status = 200;
	response_header(c->resp, "Content-Type", type);
	response_header(c->resp, "Cache-Control", "no-store");
}

void
status_page_status(struct ctx *c)
{
	struct status_snapshot s;
	struct pool_view v;
	bool json;

	if (!admitted(c) || !snapshot(c, &v, &s))
		return;
	json = form_get(&c->req->query, "json", NULL) != NULL;
	if (json)
		status_format_json(&c->resp->body, &s);
	else
		status_format_text(&c->resp->body, &s);
	finish(c, json ? "application/json" : "text/plain; charset=utf-8");
}

void
status_page_metrics(struct ctx *c)
{
	struct status_snapshot s;
	struct pool_view v;

	if (!admitted(c) || !snapshot(c, &v, &s))
		return;
	status_format_metrics(&c->resp->body, &s);
	finish(c, "text/plain; version=0.0.4; charset=utf-8");
}
