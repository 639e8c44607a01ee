/* store.c - see store.h. The SQL lives here and only here. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "arena.h"
#include "db.h"

enum {
	S_LIST_FIRST,        /* 3 filters x 3 directions, in this order */
	S_LIST_END = S_LIST_FIRST + 9,
	S_GET = S_LIST_END,
	S_CREATE,
	S_UPDATE,
	S_TOGGLE,
	S_DELETE,
	S_TOGGLE_ALL,
	S_CLEAR,
	S_PING,
	S_COUNT
};

/* Columns of a listed row. cursor_us is exact: extract() is numeric. */
#define ROW_COLS \
	"id, title, description, completed, " \
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_iso, " \
	"(extract(epoch FROM created_at) * 1000000)::bigint AS created_us, created_at"

#define COUNTS \
	"(SELECT coalesce(sum(active), 0)::bigint AS active, " \
	"coalesce(sum(completed), 0)::bigint AS completed FROM todo_counts)"

/* One statement per filter and direction: each gets a plan that uses the
 * right index, which one statement with OR-ed conditions would not. The
 * counts, the page (one row more than shown, to know whether another page
 * follows) and whether a page lies on the other side of the cursor come
 * back together. Rows are always returned newest first. */
#define LIST_SQL(more, filter, page_cond, order) \
	"SELECT c.active, c.completed, " more " AS more, " \
	"t.id, t.title, t.description, t.completed, t.created_iso, t.created_us " \
	"FROM " COUNTS " c LEFT JOIN LATERAL (SELECT " ROW_COLS " FROM todos " \
	"WHERE " filter page_cond " ORDER BY " order " LIMIT 51) t ON true " \
	"ORDER BY t.created_at DESC, t.id DESC"

#define CURSOR "($1::timestamptz, $2::bigint)"

/* Is there a row on the far side of the cursor? Written as an ordered
 * LIMIT 1 (not EXISTS) so the planner walks the index from the cursor. */
#define NEIGHBOUR(filter, op, order) \
	"coalesce((SELECT true FROM todos WHERE " filter "(created_at, id) " op " " \
	CURSOR " ORDER BY " order " LIMIT 1), false)"

#define LIST_FIRST(filter) \
	LIST_SQL("false", filter, "true", "created_at DESC, id DESC")
#define LIST_OLDER(filter) \
	LIST_SQL(NEIGHBOUR(filter, ">=", "created_at, id"), \
	    filter, "(created_at, id) < " CURSOR, "created_at DESC, id DESC")
#define LIST_NEWER(filter) \
	LIST_SQL(NEIGHBOUR(filter, "<=", "created_at DESC, id DESC"), \
	    filter, "(created_at, id) > " CURSOR, "created_at, id")

#define F_ALL ""
#define F_ACTIVE "NOT completed AND "
#define F_COMPLETED "completed AND "

/* Reads are idempotent: retried once on a fresh connection. */
static const struct db_stmt statements[S_COUNT] = {
	{ "list_all_first", LIST_FIRST(F_ALL), 0, 1 },
	{ "list_all_older", LIST_OLDER(F_ALL), 2, 1 },
	{ "list_all_newer", LIST_NEWER(F_ALL), 2, 1 },
	{ "list_active_first", LIST_FIRST(F_ACTIVE), 0, 1 },
	{ "list_active_older", LIST_OLDER(F_ACTIVE), 2, 1 },
	{ "list_active_newer", LIST_NEWER(F_ACTIVE), 2, 1 },
	{ "list_completed_first", LIST_FIRST(F_COMPLETED), 0, 1 },
	{ "list_completed_older", LIST_OLDER(F_COMPLETED), 2, 1 },
	{ "list_completed_newer", LIST_NEWER(F_COMPLETED), 2, 1 },
	[S_GET] = { "get", "SELECT id, title, description, completed, "
	    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	    "FROM todos WHERE id = $1", 1, 1 },
	/* Idempotent on the form token (sql/003_todo_create.sql): a repeated
	 * post is a no-op, a stale form with new text still adds its todo. */
	[S_CREATE] = { "create", "SELECT todo_create($1, $2, $3::uuid)", 3, 1 },
	[S_UPDATE] = { "update", "UPDATE todos SET title = $2, description = $3, "
	    "completed = $4::boolean WHERE id = $1", 4, 1 },
	[S_TOGGLE] = { "toggle", "UPDATE todos SET completed = NOT completed "
	    "WHERE id = $1", 1, 0 },
	[S_DELETE] = { "delete", "DELETE FROM todos WHERE id = $1", 1, 1 },
	/* Toggle-all is not idempotent: never retried after a lost connection. */
	[S_TOGGLE_ALL] = { "toggle_all", "UPDATE todos SET completed = s.target FROM "
	    "(SELECT coalesce(sum(active), 0) > 0 AS target FROM todo_counts) s "
	    "WHERE todos.completed <> s.target", 0, 0 },
	[S_CLEAR] = { "clear_completed", "DELETE FROM todos WHERE completed", 0, 1 },
	[S_PING] = { "ping", "SELECT 1", 0, 1 },
};

const struct db_stmt *
store_statements(int *n)
{
	*n = S_COUNT;
	return statements;
}

static const char *
copy_value(struct arena *a, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return arena_strndup(a, PQgetvalue(res, row, col),
	    (size_t)PQgetlength(res, row, col));
}

static int64_t
int_value(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static bool
bool_value(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

/* Microseconds since the epoch as a timestamptz literal, exactly. */
static void
format_cursor_time(int64_t us, char *out, size_t outlen)
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64 "+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
}

enum td_status
store_list(struct db *db, struct arena *a, enum todo_filter f,
    enum page_dir dir, const struct page_cursor *cur, struct todo_page *out)
{
	char ts[48], id[24];
	const char *params[2] = { ts, id };
	PGresult *res = NULL;
	enum td_status rc;
	int rows, first, last, i;
	bool extra, more;

	memset(out, 0, sizeof(*out));
	if (dir != PAGE_FIRST) {
		format_cursor_time(cur->created_us, ts, sizeof(ts));
		snprintf(id, sizeof(id), "%" PRId64, cur->id);
	}
	rc = db_exec(db, S_LIST_FIRST + (int)f * 3 + (int)dir,
	    dir == PAGE_FIRST ? NULL : params, &res, NULL);
	if (rc != TD_OK)
		return rc;
	rows = PQntuples(res);
	if (rows < 1) {           /* the LEFT JOIN always yields a row */
		rc = TD_EINTERNAL;
		goto out;
	}
	out->active = int_value(res, 0, 0);
	out->completed = int_value(res, 0, 1);
	more = bool_value(res, 0, 2);
	if (PQgetisnull(res, 0, 3))
		rows = 0;               /* no todos on this page */
	extra = rows > STORE_PAGE_SIZE;
	/* Newest first; the extra row lies beyond the page: at the end when
	 * walking to older rows, at the start when walking to newer ones. */
	first = extra && dir == PAGE_NEWER ? 1 : 0;
	last = extra && dir != PAGE_NEWER ? rows - 1 : rows;
	out->has_older = dir == PAGE_NEWER ? more : extra;
	out->has_newer = dir == PAGE_NEWER ? extra : more;
	out->items = arena_calloc(a, (size_t)(last - first) + 1, sizeof(*out->items));
	if (out->items == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (i = first; i < last; i++) {
		struct todo *t = &out->items[out->n++];

		t->id = int_value(res, i, 3);
		t->title = copy_value(a, res, i, 4);
		t->description = copy_value(a, res, i, 5);
		t->completed = bool_value(res, i, 6);
		t->created_at = copy_value(a, res, i, 7);
		t->created_us = int_value(res, i, 8);
		if (t->title == NULL || t->created_at == NULL ||
		    (t->description == NULL && !PQgetisnull(res, i, 5))) {
			rc = TD_ENOMEM;
			goto out;
		}
	}
out:
	PQclear(res);
	return rc;
}

enum td_status
store_get(struct db *db, struct arena *a, int64_t id, struct todo *out)
{
	char idbuf[24];
	const char *params[1] = { idbuf };
	PGresult *res = NULL;
	enum td_status rc;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	if ((rc = db_exec(db, S_GET, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1) {
		rc = TD_ENOTFOUND;
		goto out;
	}
	out->id = int_value(res, 0, 0);
	out->title = copy_value(a, res, 0, 1);
	out->description = copy_value(a, res, 0, 2);
	out->completed = bool_value(res, 0, 3);
	out->created_at = copy_value(a, res, 0, 4);
	out->updated_at = copy_value(a, res, 0, 5);
	out->created_us = 0;
	if (out->title == NULL || out->created_at == NULL || out->updated_at == NULL)
		rc = TD_ENOMEM;
out:
	PQclear(res);
	return rc;
}

/* Run a statement whose outcome is "how many rows did it touch". */
static enum td_status
exec_count(struct db *db, int stmt, const char *const *params, long *count)
{
	PGresult *res = NULL;
	enum td_status rc;

	rc = db_exec(db, stmt, params, &res, NULL);
	if (rc != TD_OK)
		return rc;
	if (count != NULL)
		*count = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return TD_OK;
}

static enum td_status
exec_on_id(struct db *db, int stmt, int64_t id)
{
	char idbuf[24];
	const char *params[1] = { idbuf };
	enum td_status rc;
	long n = 0;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	if ((rc = exec_count(db, stmt, params, &n)) != TD_OK)
		return rc;
	return n == 0 ? TD_ENOTFOUND : TD_OK;
}

enum td_status
store_create(struct db *db, const char *title, const char *description,
    const char *token)
{
	const char *params[3] = { title, description, token };

	return exec_count(db, S_CREATE, params, NULL);
}

enum td_status
store_update(struct db *db, int64_t id, const char *title,
    const char *description, bool completed)
{
	char idbuf[24];
	const char *params[4] = { idbuf, title, description,
	    completed ? "true" : "false" };
	enum td_status rc;
	long n = 0;

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	if ((rc = exec_count(db, S_UPDATE, params, &n)) != TD_OK)
		return rc;
	return n == 0 ? TD_ENOTFOUND : TD_OK;
}

enum td_status
store_toggle(struct db *db, int64_t id)
{
	return exec_on_id(db, S_TOGGLE, id);
}

enum td_status
store_delete(struct db *db, int64_t id)
{
	return exec_on_id(db, S_DELETE, id);
}

enum td_status
store_toggle_all(struct db *db)
{
	return exec_count(db, S_TOGGLE_ALL, NULL, NULL);
}

enum td_status
store_clear_completed(struct db *db)
{
	return exec_count(db, S_CLEAR, NULL, NULL);
}

enum td_status
store_ping(struct db *db)
{
	return exec_count(db, S_PING, NULL, NULL);
}
