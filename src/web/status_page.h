/* status_page.h - the pool's own pages, read from the scoreboard (pool.h)
 * without a database round trip:
 *   GET /status   like php-fpm's status page: "key: value" lines for the
 *                 pool, then one block per worker; ?json: the same as JSON
 *   GET /metrics  the Prometheus text exposition format 0.0.4
 * Only clients whose REMOTE_ADDR is in TODO_STATUS_ALLOW see them; anyone
 * else gets the 404 of an address that does not exist. nginx should
 * restrict both locations too (README). */
#ifndef TODO_STATUS_PAGE_H
#define TODO_STATUS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct buf;
struct ctx;
struct pool_view;

/* The route handlers (app.c). */
void status_page_status(struct ctx *c);
void status_page_metrics(struct ctx *c);

/* allow: TODO_STATUS_ALLOW, addresses and CIDR prefixes separated by
 * blanks or commas. True when addr is one of them or inside one; an
 * IPv4-mapped IPv6 address (::ffff:127.0.0.1) counts as its IPv4 one. */
bool status_allowed(const char *allow, const char *addr);
/* The list's syntax (start-up, reload, --check): TD_EINVAL and a message
 * naming the bad entry. */
enum td_status status_allow_check(const char *allow, char *err,
    size_t errlen);

/* What a page is made from; the handlers fill it from pool_scoreboard()
 * and listen_queue(), the tests from a scoreboard of their own. */
struct status_snapshot {
	const struct pool_view *view;
	int64_t now;               /* Unix time, seconds */
	int64_t now_ms;            /* CLOCK_MONOTONIC, as busy_since_ms */
	int queued;                /* listen queue; -1: unknown */
	int backlog;               /* its limit; -1: unknown */
};

void status_format_text(struct buf *out, const struct status_snapshot *s);
void status_format_json(struct buf *out, const struct status_snapshot *s);
void status_format_metrics(struct buf *out, const struct status_snapshot *s);
/* A Prometheus label value: \, " and newline escaped as \\, \" and \n. */
void status_label_escape(struct buf *out, const char *value);

#endif
