/* store.c - see store.h. The SQL lives here and only here. */
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "randpool.h"

enum {
	S_LIST_FIRST,        /* 3 filters x 3 directions, in this order */
	S_LIST_END = S_LIST_FIRST + 9,
	/* The same for a search: by the trigram index (a query with a run of
	 * three letters or digits), or by the person's rows in order. */
	S_SEARCH_FIRST = S_LIST_END,
	S_SCAN_FIRST = S_SEARCH_FIRST + 9,
	S_GET = S_SCAN_FIRST + 9,
	S_CREATE,
	S_UPDATE,
	S_TOGGLE,
	S_DELETE,
	S_TOGGLE_ALL,
	S_CLEAR,
	S_UNDO,
	S_PING,
	S_ACCOUNT,
	S_SET_TIME_ZONE,
	S_CREDENTIALS,
	S_SET_PASSWORD,
	S_END_OTHERS,
	S_DELETE_ACCOUNT,
	S_EXPORT,
	S_END_SESSION,
	S_LOGIN_LOOKUP,
	S_LOGIN_FAILED,
	S_SESSION_START,
	S_SIGNUP,
	S_SESSION_PICK,
	S_COUNT
};

/* The session check every signed-in statement starts with: $1 the cookie
 * token's SHA-256, $2 idle and $3 absolute limit, $4 the touch interval (all
 * seconds). "me" has one row when the session is good, none otherwise; so
 * every statement below yields no row, or touches no todo, for a stranger.
 * session_touch() (sql/004) runs only when last_seen is stale. */
#define SECS(n) "$" #n "::integer * interval '1 second'"
#define SESSION \
	"WITH me AS MATERIALIZED (SELECT x.user_id, u.email, u.time_zone, " \
	"CASE WHEN x.last_seen < now() - " SECS(4) " THEN session_touch(x.hash) END AS touched " \
	"FROM sessions x JOIN users u ON u.id = x.user_id " \
	"WHERE x.hash = $1::bytea AND u.disabled_at IS NULL " \
	"AND x.last_seen > now() - " SECS(2) " AND x.created_at > now() - " SECS(3) ") "
#define ME "(SELECT user_id FROM me)"
/* A write's answer: was the session good, and how many rows it changed. */
#define WRITE_RESULT(cte) \
	" SELECT (SELECT count(*) FROM me), (SELECT count(*) FROM " cte ")"

#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* A listed row's own columns. The page statements answer in binary
 * (db_stmt.binary): created_at arrives as PostgreSQL's int8 microseconds,
 * no text to format in SQL or to parse in C. */
#define ROW_COLS "id, title, description, completed, created_at"

/* The zone's offset from UTC at an instant, in seconds: the local wall
 * time's epoch minus the instant's. reltime.c formats with it. */
#define TZ_OFFSET_IN(zone, ts) \
	"(extract(epoch FROM (" ts ") AT TIME ZONE " zone ") - extract(epoch FROM " ts "))::integer"
#define TZ_OFFSET(ts) TZ_OFFSET_IN("u.time_zone", ts)
/* A page's answer: one page row, then a row per todo, in the same four
 * columns. A todo row: its key (ROW_KEY_BYTES of bytea: id, completed,
 * created_at and its wall time in the person's zone, from which C takes
 * the offset, each in its binary send form), title, description; column
 * 3 NULL. The page row: column 0 NULL, the person's email as its title,
 * and the page's values packed into column 3, an int8[] of PAGE_VALUES
 * (their counts, whether a page lies on the other side of the cursor,
 * how many rows lie before the page, the matches of a search (NULL for
 * the list: the counts give it), the zone's offset now). The page's
 * values are not repeated on 51 rows, no todo row carries a column per
 * page value (13 columns had 7 NULLs a row), and a row's four fixed-width
 * values are one cell (7 columns were 357 cells a page, libpq allocates
 * and copies each, and C asks for each by a call): fewer cells for
 * PostgreSQL to send and libpq to parse. */
#define PAGE_ROW(more, before, total) \
	"SELECT NULL::bytea, me.email, NULL::text, " \
	"ARRAY[coalesce(c.active, 0), coalesce(c.completed, 0), " \
	"(" more ")::boolean::integer, (" before ")::bigint, (" total ")::bigint, " \
	TZ_OFFSET_IN("me.time_zone", "now()") "]::bigint[] "
#define TODO_ROW \
	"SELECT int8send(t.id) || boolsend(t.completed) || timestamptz_send(t.created_at) || " \
	"timestamp_send(t.created_at AT TIME ZONE me.time_zone), t.title, t.description, " \
	"NULL::bigint[] "
/* int8, bool, timestamptz (int8), timestamp (int8) */
#define ROW_KEY_BYTES (8 + 1 + 8 + 8)

/* One statement per filter and direction: each gets a plan that uses the
 * right index, which one statement with OR-ed conditions would not. The
 * person, their counts, the page (one row more than shown, to know whether
 * another page follows), whether a page lies on the other side of the
 * cursor, how many rows lie before the page (the pager's "51-100"), the
 * number of matches of a search (NULL for the list: the counts give it),
 * and the zone's offsets (now, and at each row) come back together. There
 * is no outer ORDER BY to pay for: store_search finds the page row and
 * puts the todos newest first. */
#define LIST_SQL(more, before, total, filter, page_cond, order) \
	SESSION PAGE_ROW(more, before, total) \
	"FROM me LEFT JOIN todo_counts c ON c.user_id = me.user_id " \
	"UNION ALL " TODO_ROW "FROM me CROSS JOIN LATERAL (SELECT " ROW_COLS " FROM todos " \
	"WHERE user_id = me.user_id AND " filter page_cond " ORDER BY " order " LIMIT 51) t"

#define CURSOR "($5::timestamptz, $6::bigint)"

/* Is there a row on the far side of the cursor? Written as an ordered
 * LIMIT 1 (not EXISTS) so the planner walks the index from the cursor. */
#define NEIGHBOUR(filter, op, order) \
	"coalesce((SELECT true FROM todos WHERE user_id = me.user_id AND " filter \
	"(created_at, id) " op " " CURSOR " ORDER BY " order " LIMIT 1), false)"
/* Rows of the list on the newer side of the cursor (for older pages, the
 * cursor's own row too): an index range, cheap near the top of the list
 * where people page. */
#define NEWER_COUNT(filter, op) \
	"(SELECT count(*) FROM todos WHERE user_id = me.user_id AND " filter \
	"(created_at, id) " op " " CURSOR ")"

#define LIST_FIRST(filter) \
	LIST_SQL("false", "0", "NULL::bigint", filter, "true", "created_at DESC, id DESC")
#define LIST_OLDER(filter) \
	LIST_SQL(NEIGHBOUR(filter, ">=", "created_at, id"), NEWER_COUNT(filter, ">="), \
	    "NULL::bigint", filter, "(created_at, id) < " CURSOR, "created_at DESC, id DESC")
#define LIST_NEWER(filter) \
	LIST_SQL(NEIGHBOUR(filter, "<=", "created_at DESC, id DESC"), NEWER_COUNT(filter, ">"), \
	    "NULL::bigint", filter, "(created_at, id) > " CURSOR, "created_at, id")

#define F_ALL ""
#define F_ACTIVE "NOT completed AND "
#define F_COMPLETED "completed AND "

/* Is row t in the list filter named by text parameter p ('all', 'active',
 * 'completed')? */
#define IN_FILTER(t, p) \
	"(" p "::text = 'all' OR " t ".completed = (" p "::text = 'completed'))"
/* ... and on the page it was acted on: in filter p and matching search
 * q (a text parameter with LIKE's escapes, NULL: no search). */
#define IN_VIEW(t, p, q) \
	"(" IN_FILTER(t, p) " AND (" q "::text IS NULL OR " t ".search LIKE " PATTERN(q) "))"
/* The id of the person's todo next to the one in (one-row) CTE src in
 * the view of filter p and search q, in list order: the next older, else
 * the next newer; NULL when none is left. src's own row is never it
 * (strict comparisons). src's key is read by scalar subqueries so that it
 * bounds the index scan; joined to src, the scan walked the person's
 * whole list to the far end (bench/explain: 6 ms for the oldest of 10,000). */
#define SRC_KEY(src) "((SELECT created_at FROM " src "), (SELECT id FROM " src "))"
#define NEAREST(src, p, q) \
	"coalesce((SELECT n.id FROM todos n WHERE n.user_id = " ME \
	" AND " IN_VIEW("n", p, q) " AND (n.created_at, n.id) < " SRC_KEY(src) \
	" ORDER BY n.created_at DESC, n.id DESC LIMIT 1), " \
	"(SELECT n.id FROM todos n WHERE n.user_id = " ME \
	" AND " IN_VIEW("n", p, q) " AND (n.created_at, n.id) > " SRC_KEY(src) \
	" ORDER BY n.created_at, n.id LIMIT 1))"
/* Deleted rows go to the trash under batch b (a CTE), from CTE d. */
#define TO_TRASH(d, b) \
	"INSERT INTO todo_trash (user_id, batch, id, title, description, completed, " \
	"created_at, updated_at, form_token) SELECT " d ".user_id, " b ".batch, " d ".id, " \
	d ".title, " d ".description, " d ".completed, " d ".created_at, " d ".updated_at, " \
	d ".form_token FROM " d ", " b
/* Every write into the trash also empties it, so it needs no cron job:
 * the person's batches past the undo window (parameter w, seconds), and
 * at most n expired rows of other people's, oldest first, skipping rows a
 * concurrent sweep holds. (Two CTEs on disjoint rows: one statement must
 * not delete a row twice.) A stranger's statement sweeps nothing. */
#define TRASH_SWEEP(w, n) \
	", swept_mine AS (DELETE FROM todo_trash WHERE user_id = " ME \
	" AND deleted_at < now() - " SECS(w) " RETURNING 1)" \
	", swept AS (DELETE FROM todo_trash WHERE (user_id, batch, id) IN (" \
	"SELECT user_id, batch, id FROM todo_trash WHERE deleted_at < now() - " SECS(w) \
	" AND user_id <> " ME " ORDER BY deleted_at LIMIT $" #n "::integer " \
	"FOR UPDATE SKIP LOCKED) RETURNING 1)"
/* Undo marks its trash rows restored instead of dropping them: a marked
 * row is past every window (so it is never restored twice and is swept
 * like an expired one), and an undo resent after a lost connection can
 * still tell what the first attempt restored. */
#define RESTORED "'-infinity'::timestamptz"
/* ---- search ----
 * The query ($5 on a first page, $7 after a cursor) comes with LIKE's
 * escapes in place (store_list adds them) and is lowered here like the
 * indexed text (sql/005). The pattern is put back to the default collation:
 * with ICU's it would not match the index's, and the index would not be
 * used. The matches are found once (m), then counted, with the position
 * of the page, and the page taken from them. */
#define PATTERN(q) "('%' || lower(" q " COLLATE \"und-x-icu\") || '%') COLLATE \"default\""
/* By the trigram index: only for a query with a run of three letters or
 * digits (pg_trgm finds no trigram in a shorter one and would read the
 * whole index: 5 s on 1.1 million todos, docs/performance.md). */
#define MATCH_TRGM(q) "search LIKE " PATTERN(q)
/* By the person's rows: "|| ''" keeps the planner off the trigram index. */
#define MATCH_SCAN(q) "(search || '') LIKE " PATTERN(q)
#define CUR_GT "(created_at, id) > " CURSOR
#define CUR_GE "(created_at, id) >= " CURSOR
#define SEARCH_SQL(match, filter, counts, more, before, page_cond, order) \
	SESSION ", m AS MATERIALIZED (SELECT id, created_at FROM todos " \
	"WHERE user_id = " ME " AND " filter match ") " \
	PAGE_ROW(more, before, "n.total") \
	"FROM me LEFT JOIN todo_counts c ON c.user_id = me.user_id " \
	"CROSS JOIN (SELECT count(*) AS total, " counts " FROM m) n " \
	"UNION ALL " TODO_ROW "FROM me CROSS JOIN LATERAL (SELECT " ROW_COLS " FROM " \
	"(SELECT id FROM m WHERE " page_cond " ORDER BY " order " LIMIT 51) p " \
	"JOIN todos USING (id)) t"
#define SEARCH_FIRST(match, filter) \
	SEARCH_SQL(match("$5"), filter, "0 AS gt", "false", "0", "true", \
	    "created_at DESC, id DESC")
#define SEARCH_OLDER(match, filter) \
	SEARCH_SQL(match("$7"), filter, "count(*) FILTER (WHERE " CUR_GE ") AS ge", \
	    "n.ge > 0", "n.ge", "(created_at, id) < " CURSOR, "created_at DESC, id DESC")
#define SEARCH_NEWER(match, filter) \
	SEARCH_SQL(match("$7"), filter, "count(*) FILTER (WHERE " CUR_GT ") AS gt", \
	    "n.total > n.gt", "n.gt", CUR_GT, "created_at, id")
#define SEARCH_STATEMENTS(kind, match) \
	{ kind "_all_first", SEARCH_FIRST(match, F_ALL), 5, 1, 1 }, \
	{ kind "_all_older", SEARCH_OLDER(match, F_ALL), 7, 1, 1 }, \
	{ kind "_all_newer", SEARCH_NEWER(match, F_ALL), 7, 1, 1 }, \
	{ kind "_active_first", SEARCH_FIRST(match, F_ACTIVE), 5, 1, 1 }, \
	{ kind "_active_older", SEARCH_OLDER(match, F_ACTIVE), 7, 1, 1 }, \
	{ kind "_active_newer", SEARCH_NEWER(match, F_ACTIVE), 7, 1, 1 }, \
	{ kind "_completed_first", SEARCH_FIRST(match, F_COMPLETED), 5, 1, 1 }, \
	{ kind "_completed_older", SEARCH_OLDER(match, F_COMPLETED), 7, 1, 1 }, \
	{ kind "_completed_newer", SEARCH_NEWER(match, F_COMPLETED), 7, 1, 1 }

/* Reads are idempotent: retried once on a fresh connection (so is the
 * session touch they may do). */
static const struct db_stmt statements[S_COUNT] = {
	{ "list_all_first", LIST_FIRST(F_ALL), 4, 1, 1 },
	{ "list_all_older", LIST_OLDER(F_ALL), 6, 1, 1 },
	{ "list_all_newer", LIST_NEWER(F_ALL), 6, 1, 1 },
	{ "list_active_first", LIST_FIRST(F_ACTIVE), 4, 1, 1 },
	{ "list_active_older", LIST_OLDER(F_ACTIVE), 6, 1, 1 },
	{ "list_active_newer", LIST_NEWER(F_ACTIVE), 6, 1, 1 },
	{ "list_completed_first", LIST_FIRST(F_COMPLETED), 4, 1, 1 },
	{ "list_completed_older", LIST_OLDER(F_COMPLETED), 6, 1, 1 },
	{ "list_completed_newer", LIST_NEWER(F_COMPLETED), 6, 1, 1 },
	SEARCH_STATEMENTS("search", MATCH_TRGM),
	SEARCH_STATEMENTS("scan", MATCH_SCAN),
	/* Columns 7-11: created and updated (UTC microseconds and the
	 * person's offset then), the offset now: the edit page's times. */
	[S_GET] = { "get", SESSION "SELECT me.email, t.id, t.title, t.description, "
	    "t.completed, " ISO("t.created_at") ", " ISO("t.updated_at") ", "
	    "(extract(epoch FROM t.created_at) * 1000000)::bigint, " TZ_OFFSET("t.created_at") ", "
	    "(extract(epoch FROM t.updated_at) * 1000000)::bigint, " TZ_OFFSET("t.updated_at") ", "
	    TZ_OFFSET("now()") " "
	    "FROM me JOIN users u ON u.id = me.user_id "
	    "LEFT JOIN todos t ON t.id = $5 AND t.user_id = me.user_id", 5, 1, 0 },
	/* Idempotent on the form token (sql/004's todo_create): a repeated
	 * post is a no-op, a stale form with new text still adds its todo.
	 * store_create() always sends one (see there). */
	[S_CREATE] = { "create", SESSION
	    "SELECT todo_create(me.user_id, $5, $6, $7::uuid) FROM me", 7, 1, 0 },
	[S_UPDATE] = { "update", SESSION ", t AS (UPDATE todos SET title = $6, "
	    "description = $7, completed = $8::boolean WHERE id = $5 AND user_id = " ME
	    " RETURNING 1)" WRITE_RESULT("t"), 8, 1, 0 },
	/* $6, $7: the filter and search of the page it was toggled on.
	 * Column 3: the todo, or the one next to it when it left that view. */
	[S_TOGGLE] = { "toggle", SESSION ", t AS (UPDATE todos SET completed = NOT completed "
	    "WHERE id = $5 AND user_id = " ME " RETURNING id, completed, created_at, search)"
	    WRITE_RESULT("t") ", (SELECT CASE WHEN " IN_VIEW("t", "$6", "$7") " THEN t.id ELSE "
	    NEAREST("t", "$6", "$7") " END FROM t)", 7, 0, 0 },
	/* $6 filter, $7 undo window, $8 sweep bound, $9 search. Columns 2-4: the batch,
	 * the title, the todo next to it. Resent after a lost connection, the
	 * delete finds the todo gone: "prev" finds the batch the first
	 * attempt put it in (a fresh delete of an id in the trash is told
	 * "not found" by store.c: the resend is what makes it an answer). */
	[S_DELETE] = { "delete", SESSION ", d AS (DELETE FROM todos "
	    "WHERE id = $5 AND user_id = " ME " RETURNING *), "
	    "b AS MATERIALIZED (SELECT nextval('todo_trash_batch_seq') AS batch "
	    "WHERE EXISTS (SELECT 1 FROM d)), "
	    "ins AS (" TO_TRASH("d", "b") " RETURNING batch), "
	    "prev AS (SELECT batch, title, id, created_at FROM todo_trash WHERE user_id = " ME
	    " AND id = $5 AND deleted_at > now() - " SECS(7) " ORDER BY batch DESC LIMIT 1), "
	    "s AS (SELECT coalesce((SELECT id FROM d), (SELECT id FROM prev)) AS id, "
	    "coalesce((SELECT created_at FROM d), (SELECT created_at FROM prev)) AS created_at)"
	    TRASH_SWEEP(7, 8)
	    WRITE_RESULT("ins") ", coalesce((SELECT batch FROM ins), (SELECT batch FROM prev)), "
	    "coalesce((SELECT title FROM d), (SELECT title FROM prev)), "
	    NEAREST("s", "$6", "$9"), 9, 1, 0 },
	/* Toggle-all is not idempotent: never retried after a lost connection.
	 * Column 2: the state the todos were set to. */
	[S_TOGGLE_ALL] = { "toggle_all", SESSION ", g AS (SELECT coalesce((SELECT c.active "
	    "FROM todo_counts c WHERE c.user_id = " ME "), 0) > 0 AS target), "
	    "t AS (UPDATE todos SET completed = g.target FROM g WHERE todos.user_id = " ME
	    " AND todos.completed <> g.target RETURNING 1)" WRITE_RESULT("t")
	    ", (SELECT target FROM g)", 4, 0, 0 },
	/* $5 undo window, $6 sweep bound. Column 2: the batch (one for all). */
	[S_CLEAR] = { "clear_completed", SESSION ", d AS (DELETE FROM todos "
	    "WHERE user_id = " ME " AND completed RETURNING *), "
	    "b AS MATERIALIZED (SELECT nextval('todo_trash_batch_seq') AS batch "
	    "WHERE EXISTS (SELECT 1 FROM d)), "
	    "ins AS (" TO_TRASH("d", "b") " RETURNING 1)"
	    TRASH_SWEEP(5, 6) WRITE_RESULT("ins") ", (SELECT batch FROM b)", 6, 1, 0 },
	/* $5 batch, $6 undo window. Back into todos with the same ids, texts,
	 * times and form tokens (a token taken meanwhile by a new todo is
	 * dropped: it only guards against a double post of the add form).
	 * Columns 1-2: restored now, the newest of them; 3-4: restored by an
	 * earlier attempt (only a resend may report those). */
	[S_UNDO] = { "undo", SESSION ", r AS (UPDATE todo_trash SET deleted_at = " RESTORED
	    " WHERE user_id = " ME " AND batch = $5 AND deleted_at > now() - " SECS(6)
	    " RETURNING *), "
	    "i AS (INSERT INTO todos (id, user_id, title, description, completed, created_at, "
	    "updated_at, form_token) SELECT r.id, r.user_id, r.title, r.description, "
	    "r.completed, r.created_at, r.updated_at, CASE WHEN NOT EXISTS (SELECT 1 FROM todos "
	    "x WHERE x.form_token = r.form_token) THEN r.form_token END FROM r "
	    "RETURNING id, created_at), "
	    "done AS (SELECT id, created_at FROM todo_trash WHERE user_id = " ME
	    " AND batch = $5 AND deleted_at = " RESTORED ")"
	    WRITE_RESULT("i") ", (SELECT id FROM i ORDER BY created_at DESC, id DESC LIMIT 1), "
	    "(SELECT count(*) FROM done), "
	    "(SELECT id FROM done ORDER BY created_at DESC, id DESC LIMIT 1)", 6, 1, 0 },
	[S_PING] = { "ping", "SELECT 1", 0, 1, 0 },
	/* The zone names come once, on the asking session's row. */
	[S_ACCOUNT] = { "account", SESSION "SELECT me.email, " ISO("u.created_at") ", "
	    "coalesce(c.active, 0), coalesce(c.completed, 0), " ISO("x.created_at") ", "
	    ISO("x.last_seen") ", x.user_agent, x.hash = $1::bytea, u.time_zone, "
	    TZ_OFFSET("now()") ", " US("u.created_at") ", " TZ_OFFSET("u.created_at") ", "
	    US("x.created_at") ", " TZ_OFFSET("x.created_at") ", "
	    US("x.last_seen") ", " TZ_OFFSET("x.last_seen") ", "
	    "CASE WHEN x.hash = $1::bytea THEN (SELECT string_agg(name, E'\\n' ORDER BY name) "
	    "FROM time_zone_names) END "
	    "FROM me JOIN users u ON u.id = me.user_id "
	    "LEFT JOIN todo_counts c ON c.user_id = me.user_id "
	    "JOIN sessions x ON x.user_id = me.user_id "
	    "WHERE x.last_seen > now() - " SECS(2) " AND x.created_at > now() - " SECS(3)
	    " ORDER BY x.hash = $1::bytea DESC, x.last_seen DESC LIMIT 50", 4, 1, 0 },
	/* Only a zone PostgreSQL knows: the answer's second column is 0
	 * otherwise. */
	[S_SET_TIME_ZONE] = { "set_time_zone", SESSION ", z AS (SELECT name FROM "
	    "pg_timezone_names WHERE name = $5 LIMIT 1), t AS (UPDATE users SET time_zone = "
	    "(SELECT name FROM z) WHERE id = " ME " AND EXISTS (SELECT 1 FROM z) RETURNING 1)"
	    WRITE_RESULT("t"), 5, 1, 0 },
	[S_CREDENTIALS] = { "credentials", SESSION "SELECT me.user_id, me.email, "
	    "u.password_hash FROM me JOIN users u ON u.id = me.user_id", 4, 1, 0 },
	/* Only if the hash is still the one the password was checked against:
	 * of two concurrent changes, one wins and the other is told. */
	[S_SET_PASSWORD] = { "set_password", SESSION ", u AS (UPDATE users "
	    "SET password_hash = $6 WHERE id = " ME " AND password_hash = $5 RETURNING id), "
	    "d AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM u) "
	    "AND hash <> $1::bytea RETURNING 1) "
	    "SELECT (SELECT count(*) FROM me), (SELECT count(*) FROM u), "
	    "(SELECT count(*) FROM d)", 6, 0, 0 },
	[S_END_OTHERS] = { "end_other_sessions", SESSION ", t AS (DELETE FROM sessions "
	    "WHERE user_id = " ME " AND hash <> $1::bytea RETURNING 1)" WRITE_RESULT("t"), 4, 1, 0 },
	/* The cascade takes the todos, their counts and the sessions. */
	[S_DELETE_ACCOUNT] = { "delete_account", SESSION ", t AS (DELETE FROM users "
	    "WHERE id = " ME " AND password_hash = $5 RETURNING 1)" WRITE_RESULT("t"), 5, 1, 0 },
	/* First a row with a NULL todo (the session is good), then the todos
	 * oldest first, read backwards off (user_id, created_at DESC, id DESC):
	 * rows stream from the first, where a join ordered as a whole sorted
	 * all of them first (on disk past work_mem). The branches are not
	 * parallel (the CTE scan forbids it), so Append returns them in turn. */
	[S_EXPORT] = { "export", SESSION "SELECT NULL::bigint, NULL::text, NULL::text, "
	    "NULL::boolean, NULL::text, NULL::text FROM me UNION ALL "
	    "(SELECT t.id, t.title, t.description, t.completed, " ISO("t.created_at") ", "
	    ISO("t.updated_at") " FROM todos t WHERE t.user_id = " ME " "
	    "ORDER BY t.created_at, t.id)", 4, 1, 0 },
	[S_END_SESSION] = { "end_session", "DELETE FROM sessions WHERE hash = $1::bytea", 1, 1, 0 },
	[S_LOGIN_LOOKUP] = { "login_lookup", "SELECT login_wait($1, $2, $3, $4, $5), "
	    "u.id, u.password_hash, u.disabled_at IS NOT NULL "
	    "FROM (SELECT 1) one LEFT JOIN users u ON u.email = $1", 5, 1, 0 },
	/* Not retried: a failure must not count twice. */
	[S_LOGIN_FAILED] = { "login_failed", "SELECT login_failed($1, $2, $3)", 3, 0, 0 },
	[S_SESSION_START] = { "session_start",
	    "SELECT session_start($1, $2::bytea, $3, $4::bytea, $5, $6, $7)", 7, 0, 0 },
	[S_SIGNUP] = { "signup", "SELECT signup($1, $2, $3::bytea, $4)", 4, 0, 0 },
	/* $1: the candidates' hashes, hex, comma-separated. */
	[S_SESSION_PICK] = { "session_pick", "SELECT c.i FROM "
	    "unnest(string_to_array($1, ',')) WITH ORDINALITY AS c(h, i) "
	    "JOIN sessions x ON x.hash = decode(c.h, 'hex') "
	    "JOIN users u ON u.id = x.user_id WHERE u.disabled_at IS NULL "
	    "AND x.last_seen > now() - " SECS(2) " AND x.created_at > now() - " SECS(3)
	    " ORDER BY c.i LIMIT 1", 3, 1, 0 },
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

/* "%d" of v into out (12 bytes hold any int and the NUL). */
static void
put_int(char out[12], int v)
{
	char tmp[12], *p = tmp + sizeof(tmp);
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

	*--p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	memcpy(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
store_session_init(struct store_session *s, const unsigned char hash[32],
    int idle_s, int max_s, int touch_s)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	s->hash[0] = '\\';
	s->hash[1] = 'x';
	for (i = 0; i < 32; i++) {
		s->hash[2 + 2 * i] = hex[hash[i] >> 4];
		s->hash[3 + 2 * i] = hex[hash[i] & 15];
	}
	s->hash[66] = '\0';
	/* (by hand: three snprintf were most of a request's session set-up) */
	put_int(s->idle, idle_s);
	put_int(s->max, max_s);
	put_int(s->touch, touch_s);
}

/* The session's four parameters, then up to four of the statement's. */
#define MAX_PARAMS 10
static void
with_session(const char *params[MAX_PARAMS], const struct store_session *who)
{
	params[0] = who->hash;
	params[1] = who->idle;
	params[2] = who->max;
	params[3] = who->touch;
}

/* q with LIKE's escape character before %, _ and \ (into the arena). */
static const char *
like_escape(struct arena *a, const char *q)
{
	size_t n = strlen(q), i, j = 0;
	char *out = arena_alloc(a, 2 * n + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
			out[j++] = '\\';
		out[j++] = q[i];
	}
	out[j] = '\0';
	return out;
}

/* Does pg_trgm find a trigram in q? Surely when q has three ASCII letters
 * or digits in a row, whatever the database's locale. */
static bool
has_trigram(const char *q)
{
	int run = 0;

	for (; *q != '\0'; q++) {
		unsigned char ch = (unsigned char)*q;

		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9');

		run = alnum ? run + 1 : 0;
		if (run >= 3)
			return true;
	}
	return false;
}

static int32_t
int32_value(const PGresult *res, int row, int col)
{
	return (int32_t)strtol(PQgetvalue(res, row, col), NULL, 10);
}

/* ---- binary results (db_stmt.binary): network byte order ---- */

/* Type OIDs (pg_type.h, stable across releases). */
enum { BOOLOID = 16, BYTEAOID = 17, INT8OID = 20, INT4OID = 23, TEXTOID = 25,
	TIMESTAMPOID = 1114, TIMESTAMPTZOID = 1184, INT8ARRAYOID = 1016 };
/* PostgreSQL's timestamps count from 2000-01-01, Unix's from 1970. */
#define PG_EPOCH_US INT64_C(946684800000000)

/* (memcpy and a byte swap: one load and a bswap, inlined) */
static inline uint64_t
be_u64(const char *v)
{
	uint64_t x;

	memcpy(&x, v, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

static uint32_t
be_u32(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Does the answer have the columns (and types) the decoding below reads?
 * A schema or statement change that breaks this is an error, never a
 * misread. */
static bool
has_types(const PGresult *res, const Oid *types, int n)
{
	int i;

	if (PQnfields(res) != n)
		return false;
	for (i = 0; i < n; i++)
		if (PQftype(res, i) != types[i] || PQfformat(res, i) != 1)
			return false;
	return true;
}

static int
newest_first(const void *x, const void *y)
{
	const struct todo *a = x, *b = y;

	if (a->created_us != b->created_us)
		return a->created_us < b->created_us ? 1 : -1;
	return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

/* The page row's int8[] (PAGE_ROW), binary (array_send): dimensions,
 * flags, element type, then per dimension its length and lower bound,
 * then each element as a length (-1: NULL) and its 8 bytes. */
enum { PV_ACTIVE, PV_COMPLETED, PV_MORE, PV_BEFORE, PV_TOTAL, PV_NOW_OFF, PAGE_VALUES };

static bool
page_values(const PGresult *res, int row, int col, int64_t v[PAGE_VALUES],
    bool null[PAGE_VALUES])
{
	const char *p = PQgetvalue(res, row, col);
	int len = PQgetlength(res, row, col), i;

	if (len < 20 || be_u32(p) != 1 || be_u32(p + 8) != INT8OID ||
	    be_u32(p + 12) != PAGE_VALUES)
		return false;
	p += 20;
	len -= 20;
	for (i = 0; i < PAGE_VALUES; i++) {
		if (len < 4)
			return false;
		null[i] = be_u32(p) == UINT32_MAX;
		v[i] = 0;
		if (!null[i]) {
			if (be_u32(p) != 8 || len < 12)
				return false;
			v[i] = (int64_t)be_u64(p + 4);
			p += 8;
			len -= 8;
		}
		p += 4;
		len -= 4;
	}
	return len == 0;
}

enum td_status
store_search_check(struct db *db, struct arena *a, const struct store_session *who,
    const char *q, enum todo_filter f, enum page_dir dir,
    const struct page_cursor *cur, struct todo_page *out, store_page_fn fn,
    void *ctx, bool *done, void **keep)
{
	static const Oid types[] = { BYTEAOID, TEXTOID, TEXTOID, INT8ARRAYOID };
	char ts[48], id[24];
	const char *params[MAX_PARAMS];
	int64_t pv[PAGE_VALUES];
	bool pnull[PAGE_VALUES];
	PGresult *res = NULL;
	enum td_status rc;
	int rows, i, n, pr, stmt;
	bool extra, more, search = q != NULL && *q != '\0';
	size_t kept, k;

	*done = false;
	if (keep != NULL)
		*keep = NULL;
	memset(out, 0, sizeof(*out));
	with_session(params, who);
	if (dir != PAGE_FIRST) {
		format_cursor_time(cur->created_us, ts, sizeof(ts));
		snprintf(id, sizeof(id), "%" PRId64, cur->id);
		params[4] = ts;
		params[5] = id;
	}
	stmt = S_LIST_FIRST + (int)f * 3 + (int)dir;
	if (search) {
		if ((params[dir == PAGE_FIRST ? 4 : 6] = like_escape(a, q)) == NULL)
			return TD_ENOMEM;
		stmt += (has_trigram(q) ? S_SEARCH_FIRST : S_SCAN_FIRST) - S_LIST_FIRST;
	}
	rc = db_exec(db, stmt, params, &res, NULL);
	if (rc != TD_OK)
		return rc;
	rows = PQntuples(res);
	if (rows < 1) {           /* no session: "me" is empty */
		rc = TD_ENOSESSION;
		goto out;
	}
	for (pr = 0; pr < rows && PQgetisnull(res, pr, 3); pr++)
		;
	if (!has_types(res, types, (int)(sizeof(types) / sizeof(types[0]))) || pr == rows ||
	    PQgetisnull(res, pr, 1) || !page_values(res, pr, 3, pv, pnull) ||
	    pnull[PV_ACTIVE] || pnull[PV_COMPLETED] || pnull[PV_MORE] ||
	    pnull[PV_BEFORE] || pnull[PV_NOW_OFF]) {
		log_error("store: %s answered without its page row or with unexpected columns",
		    statements[stmt].name);
		rc = TD_EDB;
		goto out;
	}
	out->email = PQgetvalue(res, pr, 1);
	out->active = pv[PV_ACTIVE];
	out->completed = pv[PV_COMPLETED];
	more = pv[PV_MORE] != 0;
	out->before = pv[PV_BEFORE];
	if (!pnull[PV_TOTAL])
		out->total = pv[PV_TOTAL];
	else
		out->total = f == FILTER_ALL ? out->active + out->completed :
		    f == FILTER_ACTIVE ? out->active : out->completed;
	out->now_off = (int32_t)pv[PV_NOW_OFF];
	extra = rows - 1 > STORE_PAGE_SIZE;
	out->has_older = dir == PAGE_NEWER ? more : extra;
	out->has_newer = dir == PAGE_NEWER ? extra : more;
	/* Not zeroed: each row is written whole below (a compound literal
	 * zeroes the fields a list page leaves unset). */
	out->items = arena_alloc(a, (size_t)rows * sizeof(*out->items));
	if (out->items == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (i = 0, n = 0; i < rows; i++) {
		struct todo *t = &out->items[n];
		const char *key, *title, *desc;

		if (i == pr)
			continue;
		/* The key's length says it is there (NULL has length 0); an
		 * empty text is told from NULL by asking. The strings point
		 * into the answer until copied below. */
		key = PQgetvalue(res, i, 0);
		title = PQgetvalue(res, i, 1);
		desc = PQgetvalue(res, i, 2);
		if (PQgetlength(res, i, 0) != ROW_KEY_BYTES ||
		    (title[0] == '\0' && PQgetisnull(res, i, 1))) {
			log_error("store: %s answered a todo with NULLs",
			    statements[stmt].name);
			rc = TD_EDB;
			goto out;
		}
		if (desc[0] == '\0' && PQgetisnull(res, i, 2))
			desc = NULL;
		*t = (struct todo){
			.id = (int64_t)be_u64(key),
			.title = title,
			.title_n = (size_t)PQgetlength(res, i, 1),
			.description = desc,
			.description_n = desc != NULL ? (size_t)PQgetlength(res, i, 2) : 0,
			.completed = key[8] != 0,
			.created_us = (int64_t)be_u64(key + 9) + PG_EPOCH_US,
		};
		t->created_off = (int32_t)(((int64_t)be_u64(key + 17) + PG_EPOCH_US -
		    t->created_us) / 1000000);
		n++;
	}
	rows = n;
	/* Newest first (the statements leave the order to us); the extra row
	 * lies beyond the page: the oldest when walking to older rows, the
	 * newest when walking to newer ones. */
	for (i = 1; i < rows; i++)
		if (newest_first(&out->items[i - 1], &out->items[i]) > 0)
			break;
	if (i < rows)
		qsort(out->items, (size_t)rows, sizeof(*out->items), newest_first);
	kept = extra ? (size_t)rows - 1 : (size_t)rows;
	if (extra && dir == PAGE_NEWER)
		memmove(out->items, out->items + 1, kept * sizeof(*out->items));
	out->n = kept;
	/* Walking newer, "before" counted every row past the cursor, the
	 * page's among them (the extra row is newer than the page). */
	if (dir == PAGE_NEWER)
		out->before -= (int64_t)out->n;
	if (out->before < 0)
		out->before = 0;
	if (fn != NULL && fn(ctx, out)) {
		*done = true;
		goto out;
	}
	if (keep != NULL) {         /* the caller frees the answer */
		*keep = res;
		return TD_OK;
	}
	/* Copied out of the answer: the email, each title and description
	 * (one allocation a todo). */
	out->email = arena_strdup(a, out->email);
	for (k = 0; k < out->n; k++) {
		struct todo *t = &out->items[k];
		size_t tl = t->title_n, dl = t->description_n;
		char *c = arena_alloc(a, tl + dl + 2);

		if (c == NULL || out->email == NULL) {
			rc = TD_ENOMEM;
			goto out;
		}
		memcpy(c, t->title, tl + 1);
		t->title = c;
		if (t->description != NULL) {
			memcpy(c + tl + 1, t->description, dl + 1);
			t->description = c + tl + 1;
		}
	}
out:
	PQclear(res);
	return rc;
}

enum td_status
store_search(struct db *db, struct arena *a, const struct store_session *who,
    const char *q, enum todo_filter f, enum page_dir dir,
    const struct page_cursor *cur, struct todo_page *out)
{
	bool done;

	return store_search_check(db, a, who, q, f, dir, cur, out, NULL, NULL, &done, NULL);
}

void
store_answer_free(void *answer)
{
	PQclear(answer);
}

enum td_status
store_list(struct db *db, struct arena *a, const struct store_session *who,
    enum todo_filter f, enum page_dir dir, const struct page_cursor *cur,
    struct todo_page *out)
{
	return store_search(db, a, who, NULL, f, dir, cur, out);
}

/* A todo from columns col.. (id, title, description, completed, created,
 * updated) of a row. */
static enum td_status
todo_from_row(struct arena *a, const PGresult *res, int row, int col,
    struct todo *out)
{
	out->id = int_value(res, row, col);
	out->title = copy_value(a, res, row, col + 1);
	out->description = copy_value(a, res, row, col + 2);
	out->completed = bool_value(res, row, col + 3);
	out->created_at = copy_value(a, res, row, col + 4);
	out->updated_at = copy_value(a, res, row, col + 5);
	out->created_us = 0;
	if (out->title == NULL || out->created_at == NULL || out->updated_at == NULL ||
	    (out->description == NULL && !PQgetisnull(res, row, col + 2)))
		return TD_ENOMEM;
	return TD_OK;
}

enum td_status
store_get(struct db *db, struct arena *a, const struct store_session *who,
    int64_t id, struct todo *out, int32_t *now_off)
{
	char idbuf[24];
	const char *params[MAX_PARAMS];
	PGresult *res = NULL;
	enum td_status rc;

	with_session(params, who);
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	params[4] = idbuf;
	if ((rc = db_exec(db, S_GET, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1)
		rc = TD_ENOSESSION;
	else if (PQgetisnull(res, 0, 1))
		rc = TD_ENOTFOUND;       /* no such todo, or someone else's */
	else if ((rc = todo_from_row(a, res, 0, 1, out)) == TD_OK) {
		out->created_us = int_value(res, 0, 7);
		out->created_off = (int32_t)int_value(res, 0, 8);
		out->updated_us = int_value(res, 0, 9);
		out->updated_off = (int32_t)int_value(res, 0, 10);
		*now_off = (int32_t)int_value(res, 0, 11);
	}
	PQclear(res);
	return rc;
}

/* Run a signed-in write: column 0 says whether the session was good,
 * column 1 (if wanted) how many rows the write changed. */
static enum td_status
exec_write(struct db *db, int stmt, const char *const *params, long *count)
{
	PGresult *res = NULL;
	enum td_status rc;

	if ((rc = db_exec(db, stmt, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1 || int_value(res, 0, 0) == 0)
		rc = TD_ENOSESSION;
	else if (count != NULL)
		*count = (long)int_value(res, 0, 1);
	PQclear(res);
	return rc;
}

/* A random UUID (version 4) as text, into out. */
static const char *
random_uuid(char out[UUID_TEXT_LEN + 1])
{
	unsigned char r[16];

	randombytes_buf(r, sizeof(r));
	uuid_v4_text(r, out);
	return out;
}

enum td_status
store_create(struct db *db, const struct store_session *who, const char *title,
    const char *description, const char *token)
{
	const char *params[MAX_PARAMS];
	char fresh[UUID_TEXT_LEN + 1];
	PGresult *res = NULL;
	enum td_status rc;

	with_session(params, who);
	params[4] = title;
	params[5] = description;
	/* Without a token todo_create() inserts every time it runs, and db.c
	 * runs "create" again when the connection is lost before the answer:
	 * the todo would be added twice. So a create without the form's
	 * token gets one of its own, made here and not in SQL (a retry would
	 * make a new one there), and a retry of it is a no-op. */
	params[6] = token != NULL ? token : random_uuid(fresh);
	if ((rc = db_exec(db, S_CREATE, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1)
		rc = TD_ENOSESSION;
	PQclear(res);
	return rc;
}

enum td_status
store_update(struct db *db, const struct store_session *who, int64_t id,
    const char *title, const char *description, bool completed)
{
	char idbuf[24];
	const char *params[MAX_PARAMS];
	enum td_status rc;
	long n = 0;

	with_session(params, who);
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	params[4] = idbuf;
	params[5] = title;
	params[6] = description;
	params[7] = completed ? "true" : "false";
	if ((rc = exec_write(db, S_UPDATE, params, &n)) != TD_OK)
		return rc;
	return n == 0 ? TD_ENOTFOUND : TD_OK;
}

static const char *const filter_param[] = { "all", "active", "completed" };

/* Run a signed-in write that reports more than a count: *res holds its one
 * row (caller PQclear()s) when TD_OK; out->count from column 1. */
static enum td_status
exec_change(struct db *db, int stmt, const char *const *params,
    PGresult **res, struct store_change *out)
{
	enum td_status rc;

	memset(out, 0, sizeof(*out));
	*res = NULL;
	if ((rc = db_exec(db, stmt, params, res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(*res) != 1 || int_value(*res, 0, 0) == 0) {
		PQclear(*res);
		*res = NULL;
		return TD_ENOSESSION;
	}
	out->count = (long)int_value(*res, 0, 1);
	return TD_OK;
}

enum td_status
store_toggle_change(struct db *db, struct arena *a,
    const struct store_session *who, int64_t id, enum todo_filter f,
    const char *q, struct store_change *out)
{
	char idbuf[24];
	const char *params[MAX_PARAMS];
	PGresult *res;
	enum td_status rc;

	with_session(params, who);
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	params[4] = idbuf;
	params[5] = filter_param[f];
	params[6] = NULL;
	if (q != NULL && (params[6] = like_escape(a, q)) == NULL)
		return TD_ENOMEM;
	if ((rc = exec_change(db, S_TOGGLE, params, &res, out)) != TD_OK)
		return rc;
	out->focus = int_value(res, 0, 2);
	PQclear(res);
	return out->count == 0 ? TD_ENOTFOUND : TD_OK;
}

enum td_status
store_toggle(struct db *db, const struct store_session *who, int64_t id)
{
	struct store_change ch;

	return store_toggle_change(db, NULL, who, id, FILTER_ALL, NULL, &ch);
}

enum td_status
store_delete_change(struct db *db, struct arena *a,
    const struct store_session *who, int64_t id, enum todo_filter f,
    const char *q, struct store_change *out)
{
	char idbuf[24], window[12], sweep[12];
	const char *params[MAX_PARAMS];
	PGresult *res;
	enum td_status rc;

	with_session(params, who);
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	snprintf(window, sizeof(window), "%d", STORE_UNDO_WINDOW_S);
	snprintf(sweep, sizeof(sweep), "%d", STORE_TRASH_SWEEP);
	params[4] = idbuf;
	params[5] = filter_param[f];
	params[6] = window;
	params[7] = sweep;
	params[8] = NULL;
	if (q != NULL && (params[8] = like_escape(a, q)) == NULL)
		return TD_ENOMEM;
	if ((rc = exec_change(db, S_DELETE, params, &res, out)) != TD_OK)
		return rc;
	/* Sent again after a lost connection, the delete finds no row when
	 * the first attempt took it: what was asked for is done, and the
	 * trash says under which batch (if the first attempt is what put it
	 * there; a todo gone otherwise still answers done, without Undo). The
	 * session was checked by this attempt, so a stranger still learns
	 * nothing: an id that never existed answers the same. */
	if (out->count == 0 && !db_last_resent(db)) {
		rc = TD_ENOTFOUND;
	} else {
		out->count = 1;
		out->batch = int_value(res, 0, 2);
		out->focus = int_value(res, 0, 4);
		if (a != NULL && !PQgetisnull(res, 0, 3) &&
		    (out->title = copy_value(a, res, 0, 3)) == NULL)
			rc = TD_ENOMEM;
	}
	PQclear(res);
	return rc;
}

enum td_status
store_delete(struct db *db, const struct store_session *who, int64_t id)
{
	struct store_change ch;

	return store_delete_change(db, NULL, who, id, FILTER_ALL, NULL, &ch);
}

enum td_status
store_toggle_all_change(struct db *db, const struct store_session *who,
    struct store_change *out)
{
	const char *params[MAX_PARAMS];
	PGresult *res;
	enum td_status rc;

	with_session(params, who);
	if ((rc = exec_change(db, S_TOGGLE_ALL, params, &res, out)) != TD_OK)
		return rc;
	out->completed = bool_value(res, 0, 2);
	PQclear(res);
	return TD_OK;
}

enum td_status
store_toggle_all(struct db *db, const struct store_session *who, long *changed)
{
	struct store_change ch;
	enum td_status rc = store_toggle_all_change(db, who, &ch);

	if (rc == TD_OK && changed != NULL)
		*changed = ch.count;
	return rc;
}

enum td_status
store_clear_change(struct db *db, const struct store_session *who,
    struct store_change *out)
{
	char window[12], sweep[12];
	const char *params[MAX_PARAMS];
	PGresult *res;
	enum td_status rc;

	with_session(params, who);
	snprintf(window, sizeof(window), "%d", STORE_UNDO_WINDOW_S);
	snprintf(sweep, sizeof(sweep), "%d", STORE_TRASH_SWEEP);
	params[4] = window;
	params[5] = sweep;
	if ((rc = exec_change(db, S_CLEAR, params, &res, out)) != TD_OK)
		return rc;
	out->batch = int_value(res, 0, 2);
	/* Resent and nothing left to clear: the first attempt may have
	 * cleared them, and which batch was its is not known for sure (the
	 * person's latest may be another tab's): say neither. */
	if (out->count == 0 && db_last_resent(db))
		out->count = -1;
	PQclear(res);
	return TD_OK;
}

enum td_status
store_clear_completed(struct db *db, const struct store_session *who,
    long *changed)
{
	struct store_change ch;
	enum td_status rc = store_clear_change(db, who, &ch);

	if (rc == TD_OK && changed != NULL)
		*changed = ch.count < 0 ? 0 : ch.count;
	return rc;
}

enum td_status
store_undo(struct db *db, const struct store_session *who, int64_t batch,
    struct store_change *out)
{
	char batchbuf[24], window[12];
	const char *params[MAX_PARAMS];
	PGresult *res;
	enum td_status rc;

	with_session(params, who);
	snprintf(batchbuf, sizeof(batchbuf), "%" PRId64, batch);
	snprintf(window, sizeof(window), "%d", STORE_UNDO_WINDOW_S);
	params[4] = batchbuf;
	params[5] = window;
	if ((rc = exec_change(db, S_UNDO, params, &res, out)) != TD_OK)
		return rc;
	if (out->count > 0) {
		out->focus = int_value(res, 0, 2);
	} else if (db_last_resent(db) && int_value(res, 0, 3) > 0) {
		/* The first attempt restored the batch and lost its answer. */
		out->count = (long)int_value(res, 0, 3);
		out->focus = int_value(res, 0, 4);
	} else {
		rc = TD_ENOTFOUND;   /* unknown, someone else's, expired, undone */
	}
	PQclear(res);
	return rc;
}

enum td_status
store_ping(struct db *db)
{
	PGresult *res = NULL;
	enum td_status rc = db_exec(db, S_PING, NULL, &res, NULL);

	if (rc == TD_OK)
		PQclear(res);
	return rc;
}

/* ---- accounts ---- */

enum td_status
store_account(struct db *db, struct arena *a, const struct store_session *who,
    struct account *out)
{
	const char *params[MAX_PARAMS];
	PGresult *res = NULL;
	enum td_status rc;
	int rows, i;

	memset(out, 0, sizeof(*out));
	with_session(params, who);
	if ((rc = db_exec(db, S_ACCOUNT, params, &res, NULL)) != TD_OK)
		return rc;
	/* The asking session is always among the rows when it is good. */
	if ((rows = PQntuples(res)) < 1) {
		rc = TD_ENOSESSION;
		goto out;
	}
	out->email = copy_value(a, res, 0, 0);
	out->created_at = copy_value(a, res, 0, 1);
	out->active = int_value(res, 0, 2);
	out->completed = int_value(res, 0, 3);
	out->time_zone = copy_value(a, res, 0, 8);
	out->now_off = int32_value(res, 0, 9);
	out->created_us = int_value(res, 0, 10);
	out->created_off = int32_value(res, 0, 11);
	out->time_zones = PQgetisnull(res, 0, 16) ? "" : copy_value(a, res, 0, 16);
	out->sessions = arena_calloc(a, (size_t)rows, sizeof(*out->sessions));
	if (out->email == NULL || out->created_at == NULL || out->sessions == NULL ||
	    out->time_zone == NULL || out->time_zones == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (i = 0; i < rows; i++) {
		struct session_info *si = &out->sessions[out->nsessions++];

		si->created_at = copy_value(a, res, i, 4);
		si->last_seen = copy_value(a, res, i, 5);
		si->user_agent = copy_value(a, res, i, 6);
		si->current = bool_value(res, i, 7);
		si->created_us = int_value(res, i, 12);
		si->created_off = int32_value(res, i, 13);
		si->last_seen_us = int_value(res, i, 14);
		si->last_seen_off = int32_value(res, i, 15);
		if (si->created_at == NULL || si->last_seen == NULL || si->user_agent == NULL) {
			rc = TD_ENOMEM;
			goto out;
		}
	}
out:
	PQclear(res);
	return rc;
}

enum td_status
store_set_time_zone(struct db *db, const struct store_session *who,
    const char *name)
{
	const char *params[MAX_PARAMS];
	enum td_status rc;
	long n = 0;

	with_session(params, who);
	params[4] = name;
	if ((rc = exec_write(db, S_SET_TIME_ZONE, params, &n)) != TD_OK)
		return rc;
	return n == 0 ? TD_EINVAL : TD_OK;
}

enum td_status
store_credentials(struct db *db, struct arena *a,
    const struct store_session *who, struct account *out)
{
	const char *params[MAX_PARAMS];
	PGresult *res = NULL;
	enum td_status rc;

	memset(out, 0, sizeof(*out));
	with_session(params, who);
	if ((rc = db_exec(db, S_CREDENTIALS, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1) {
		rc = TD_ENOSESSION;
	} else {
		out->user_id = int_value(res, 0, 0);
		out->email = copy_value(a, res, 0, 1);
		out->password_hash = copy_value(a, res, 0, 2);
		if (out->email == NULL || out->password_hash == NULL)
			rc = TD_ENOMEM;
	}
	PQclear(res);
	return rc;
}

enum td_status
store_set_password(struct db *db, const struct store_session *who,
    const char *old_hash, const char *new_hash, long *ended)
{
	const char *params[MAX_PARAMS];
	PGresult *res = NULL;
	enum td_status rc;

	with_session(params, who);
	params[4] = old_hash;
	params[5] = new_hash;
	if ((rc = db_exec(db, S_SET_PASSWORD, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1 || int_value(res, 0, 0) == 0)
		rc = TD_ENOSESSION;
	else if (int_value(res, 0, 1) == 0)
		rc = TD_ECONFLICT;
	else if (ended != NULL)
		*ended = (long)int_value(res, 0, 2);
	PQclear(res);
	return rc;
}

enum td_status
store_end_other_sessions(struct db *db, const struct store_session *who,
    long *ended)
{
	const char *params[MAX_PARAMS];

	with_session(params, who);
	return exec_write(db, S_END_OTHERS, params, ended);
}

enum td_status
store_delete_account(struct db *db, const struct store_session *who,
    const char *old_hash)
{
	const char *params[MAX_PARAMS];
	enum td_status rc;
	long n = 0;

	with_session(params, who);
	params[4] = old_hash;
	if ((rc = exec_write(db, S_DELETE_ACCOUNT, params, &n)) != TD_OK)
		return rc;
	return n == 0 ? TD_ECONFLICT : TD_OK;
}

enum td_status
store_export(struct db *db, struct arena *a, const struct store_session *who,
    struct todo **items, size_t *n)
{
	const char *params[MAX_PARAMS];
	PGresult *res = NULL;
	enum td_status rc;
	int rows, i;

	*items = NULL;
	*n = 0;
	with_session(params, who);
	if ((rc = db_exec(db, S_EXPORT, params, &res, NULL)) != TD_OK)
		return rc;
	/* Row 0 is the session's (a NULL todo), then the todos. */
	if ((rows = PQntuples(res) - 1) < 0) {
		rc = TD_ENOSESSION;
		goto out;
	}
	if ((*items = arena_calloc(a, (size_t)rows + 1, sizeof(**items))) == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (i = 0; i < rows && rc == TD_OK; i++) {
		rc = todo_from_row(a, res, i + 1, 0, &(*items)[i]);
		*n = (size_t)i + 1;
	}
out:
	PQclear(res);
	return rc;
}

/* store_export_each: the session's row comes first, a NULL todo. */
struct export_rows {
	store_export_fn fn;
	void *ctx;
	bool me;
};

static int
export_row(void *ctx, const PGresult *res, int row)
{
	struct export_rows *x = ctx;
	struct todo t;

	x->me = true;
	if (PQgetisnull(res, row, 0))
		return 0;                /* signed in, no todos */
	memset(&t, 0, sizeof(t));
	t.id = int_value(res, row, 0);
	t.title = PQgetvalue(res, row, 1);
	t.description = PQgetisnull(res, row, 2) ? NULL : PQgetvalue(res, row, 2);
	t.completed = bool_value(res, row, 3);
	t.created_at = PQgetvalue(res, row, 4);
	t.updated_at = PQgetvalue(res, row, 5);
	return x->fn(x->ctx, &t);
}

enum td_status
store_export_each(struct db *db, const struct store_session *who,
    store_export_fn fn, void *ctx)
{
	const char *params[MAX_PARAMS];
	struct export_rows x = { fn, ctx, false };
	enum td_status rc;

	with_session(params, who);
	if ((rc = db_exec_rows(db, S_EXPORT, params, export_row, &x, NULL)) != TD_OK)
		return rc;
	return x.me ? TD_OK : TD_ENOSESSION;
}

enum td_status
store_end_session(struct db *db, const struct store_session *who)
{
	const char *params[1] = { who->hash };
	PGresult *res = NULL;
	enum td_status rc = db_exec(db, S_END_SESSION, params, &res, NULL);

	if (rc == TD_OK)
		PQclear(res);
	return rc;
}

enum td_status
store_login_lookup(struct db *db, struct arena *a, const char *email,
    const char *addr, const struct login_limits *lim, int *wait_s,
    int64_t *user_id, const char **password_hash, bool *disabled)
{
	char window[12], max_email[12], max_addr[12];
	const char *params[5] = { email, addr, window, max_email, max_addr };
	PGresult *res = NULL;
	enum td_status rc;

	snprintf(window, sizeof(window), "%d", lim->window_s);
	snprintf(max_email, sizeof(max_email), "%d", lim->max_email);
	snprintf(max_addr, sizeof(max_addr), "%d", lim->max_addr);
	*wait_s = 0;
	*user_id = 0;
	*password_hash = NULL;
	*disabled = false;
	if ((rc = db_exec(db, S_LOGIN_LOOKUP, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1) {
		rc = TD_EINTERNAL;
		goto out;
	}
	*wait_s = (int)int_value(res, 0, 0);
	if (!PQgetisnull(res, 0, 1)) {
		*user_id = int_value(res, 0, 1);
		*password_hash = copy_value(a, res, 0, 2);
		*disabled = bool_value(res, 0, 3);
		if (*password_hash == NULL)
			rc = TD_ENOMEM;
	}
out:
	PQclear(res);
	return rc;
}

enum td_status
store_login_failed(struct db *db, const char *email, const char *addr,
    const struct login_limits *lim)
{
	char window[12];
	const char *params[3] = { email, addr, window };
	PGresult *res = NULL;
	enum td_status rc;

	snprintf(window, sizeof(window), "%d", lim->window_s);
	if ((rc = db_exec(db, S_LOGIN_FAILED, params, &res, NULL)) == TD_OK)
		PQclear(res);
	return rc;
}

enum td_status
store_session_start(struct db *db, int64_t user_id,
    const struct store_session *new_session, const char *user_agent,
    const struct store_session *old, const char *new_password_hash)
{
	char uid[24];
	const char *params[7] = { uid, new_session->hash, user_agent,
	    old != NULL ? old->hash : NULL, new_password_hash,
	    new_session->idle, new_session->max };
	PGresult *res = NULL;
	enum td_status rc;

	snprintf(uid, sizeof(uid), "%" PRId64, user_id);
	if ((rc = db_exec(db, S_SESSION_START, params, &res, NULL)) == TD_OK)
		PQclear(res);
	return rc;
}

enum td_status
store_signup(struct db *db, const char *email, const char *password_hash,
    const struct store_session *new_session, const char *user_agent)
{
	const char *params[4] = { email, password_hash, new_session->hash,
	    user_agent };
	PGresult *res = NULL;
	enum td_status rc;

	if ((rc = db_exec(db, S_SIGNUP, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		rc = TD_ECONFLICT;       /* the email is taken */
	PQclear(res);
	return rc;
}

enum td_status
store_session_pick(struct db *db, struct arena *a,
    const struct store_session *cands, size_t n, int *pick)
{
	const char *params[3];
	PGresult *res = NULL;
	enum td_status rc;
	char *list;
	size_t i;

	*pick = -1;
	if (n == 0)
		return TD_OK;
	/* Each hash as 64 hex digits (store_session has "\\x" before them). */
	if ((list = arena_alloc(a, n * 65)) == NULL)
		return TD_ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(list + i * 65, cands[i].hash + 2, 64);
		list[i * 65 + 64] = i + 1 < n ? ',' : '\0';
	}
	params[0] = list;
	params[1] = cands[0].idle;
	params[2] = cands[0].max;
	if ((rc = db_exec(db, S_SESSION_PICK, params, &res, NULL)) != TD_OK)
		return rc;
	if (PQntuples(res) == 1)
		*pick = atoi(PQgetvalue(res, 0, 0)) - 1;
	PQclear(res);
	if (*pick >= (int)n)
		*pick = -1;
	return TD_OK;
}
