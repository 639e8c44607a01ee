/* itest_store.c - store.c and db.c against a real PostgreSQL: run as
 * tests/pg-harness ./itest_store (needs DATABASE_URL). The restart tests
 * also need TODO_TEST_PGCTL, which pg-harness sets only for a private
 * cluster (tests/run-test unsets TODO_TEST_PGHOST for this test); without
 * it they are skipped. Every test starts from an empty todos table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "arena.h"
#include "db.h"
#include "migrate.h"
#include "schema.h"
#include "store.h"
#include "store_people.h"

/* store_get's offset now (the edit page's), unused here. */
static int32_t get_now_off;

#ifndef TODO_SRCDIR
#define TODO_SRCDIR "."
#endif

#define CONNECT_TIMEOUT 5
#define WAIT_MS 10000		/* bound of every polling loop */

static const char *url;
static struct db *sdb;		/* shared by the plain store tests */
static struct arena *arena;
static PGconn *admin;		/* the test's own connection, per test */
/* Made afresh by setup() (store_people.h): "me" asks in every test;
 * "other" owns what "me" must not see. */
static struct store_session me, other;

/* ---- helpers ----------------------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fail_msg("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A poll interval, not an assertion: every wait is a bounded loop. */
static void
nap(void)
{
	const struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Expected FATAL and "does not exist, skipping" notices are noise. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *
connect_admin(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", c ? PQerrorMessage(c) : "oom\n");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static void
sql_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s: %s", sql, msg);
	}
	PQclear(r);
}

static int64_t
sql_int(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int64_t v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    PQgetisnull(r, 0, 0)) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s: not one value: %s", sql, msg);
	}
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* Every value of the first column, as integers; *n their number. */
static int64_t *
sql_ids(PGconn *c, const char *sql, size_t *n)
{
	PGresult *r = PQexec(c, sql);
	int64_t *ids;
	int i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		fail_msg("%s failed", sql);
	}
	*n = (size_t)PQntuples(r);
	ids = calloc(*n + 1, sizeof(*ids));
	assert_non_null(ids);
	for (i = 0; i < PQntuples(r); i++)
		ids[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	PQclear(r);
	return ids;
}

/* DATABASE_URL (a URI or key=value string) with dbname and/or
 * application_name replaced, as a key=value string. Caller frees. */
static char *
conninfo_with(const char *dbname, const char *appname)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *out;
	size_t len = 1, n;
	const char *v;

	opts = PQconninfoParse(url, &err);
	if (opts == NULL)
		fail_msg("DATABASE_URL: %s", err ? err : "oom");
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL)
			len += strlen(o->keyword) + 2 * strlen(o->val) + 4;
	len += (dbname ? 2 * strlen(dbname) : 0) +
	    (appname ? 2 * strlen(appname) : 0) + 64;
	out = calloc(1, len);
	assert_non_null(out);
	for (o = opts; o->keyword != NULL; o++) {
		v = o->val;
		if (strcmp(o->keyword, "dbname") == 0 && dbname != NULL)
			v = dbname;
		else if (strcmp(o->keyword, "application_name") == 0 &&
		    appname != NULL)
			v = appname;
		if (v == NULL)
			continue;
		n = strlen(out);
		snprintf(out + n, len - n, "%s%s='", n ? " " : "", o->keyword);
		for (; *v != '\0'; v++) {
			n = strlen(out);
			snprintf(out + n, len - n, "%s%c",
			    *v == '\'' || *v == '\\' ? "\\" : "", *v);
		}
		n = strlen(out);
		snprintf(out + n, len - n, "'");
	}
	PQconninfoFree(opts);
	return out;
}

static struct db *
open_db(const char *conninfo, int min_schema)
{
	const struct db_stmt *st;
	struct db *db = NULL;
	int n;

	st = store_statements(&n);
	assert_int_equal(db_new(&db, conninfo, CONNECT_TIMEOUT * 1000, st, n,
	    min_schema), TD_OK);
	return db;
}

/* A db whose backend is findable in pg_stat_activity by its name. */
static struct db *
open_named_db(const char *appname)
{
	char *ci = conninfo_with(NULL, appname);
	struct db *db = open_db(ci, TODO_SCHEMA_VERSION);

	free(ci);
	return db;
}

static int
stmt_index(const char *name)
{
	const struct db_stmt *st;
	int i, n;

	st = store_statements(&n);
	for (i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return i;
	fail_msg("no statement %s", name);
	return -1;
}

static int64_t
id_of(const char *title)
{
	const char *p[1] = { title };
	PGresult *r = PQexecParams(admin, "SELECT id FROM todos WHERE title = $1",
	    1, NULL, p, NULL, NULL, 0);
	int64_t id;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		fail_msg("no single todo titled %s", title);
	}
	id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

static void
list(struct db *db, enum todo_filter f, enum page_dir dir,
    const struct page_cursor *cur, struct todo_page *p)
{
	assert_int_equal(store_list(db, arena, &me, f, dir, cur, p), TD_OK);
}

/* The backend pid of the one connection named appname. */
static int64_t
backend_pid(const char *appname)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT pid FROM pg_stat_activity "
	    "WHERE application_name = '%s'", appname);
	return sql_int(admin, sql);
}

/* pg_terminate_backend() only signals: wait until the process (and with
 * it its socket) is gone, so that the app's side sees the close. */
static void
terminate_backend(int64_t pid)
{
	char sql[128];
	int64_t deadline = mono_ms() + WAIT_MS;

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)::int",
	    (long long)pid);
	assert_int_equal(sql_int(admin, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity "
	    "WHERE pid = %lld", (long long)pid);
	while (sql_int(admin, sql) != 0 ||
	    (kill((pid_t)pid, 0) == 0 || errno != ESRCH)) {
		if (mono_ms() > deadline)
			fail_msg("backend %lld still there", (long long)pid);
		nap();
	}
}

static void
create_ok(struct db *db, const char *title)
{
	assert_int_equal(store_create(db, &me, title, NULL, NULL), TD_OK);
}

/* ---- fixtures ---------------------------------------------------------- */

static int
group_setup(void **state)
{
	const char *src = getenv("TODO_SRCDIR");
	struct migrations *m = NULL;
	char dir[512];
	PGconn *c;
	int rc = -1;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sql", src != NULL && *src != '\0' ?
	    src : TODO_SRCDIR);
	if ((c = connect_admin(url)) == NULL)
		return -1;
	if (migrate_load(dir, &m) != TD_OK ||
	    migrate_up(c, m, 0) != TD_OK) {
		fprintf(stderr, "itest_store: migrations from %s failed\n", dir);
		goto out;
	}
	sdb = open_db(url, TODO_SCHEMA_VERSION);
	if ((arena = arena_new(0)) == NULL)
		goto out;
	rc = 0;
out:
	migrate_free(m);
	PQfinish(c);
	return rc;
}

static int
group_teardown(void **state)
{
	(void)state;
	db_free(sdb);
	arena_free(arena);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	if ((admin = connect_admin(url)) == NULL)
		return -1;
	if (store_people_reset(admin, &me, &other) != 0)
		return -1;
	arena_reset(arena);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	PQfinish(admin);
	admin = NULL;
	return 0;
}

/* ---- listing ----------------------------------------------------------- */

static void
test_empty_then_create(void **state)
{
	struct todo_page p;
	struct todo t;

	(void)state;
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.active, 0);
	assert_int_equal(p.completed, 0);
	assert_false(p.has_older);
	assert_false(p.has_newer);

	create_ok(sdb, "first");
	assert_int_equal(store_create(sdb, &me, "second", "with <b>text</b>", NULL),
	    TD_OK);
	create_ok(sdb, "third");
	assert_int_equal(store_toggle(sdb, &me, id_of("second")), TD_OK);

	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.active, 2);
	assert_int_equal(p.completed, 1);
	assert_false(p.has_older);
	assert_false(p.has_newer);
	/* Newest first. */
	assert_string_equal(p.items[0].title, "third");
	assert_string_equal(p.items[1].title, "second");
	assert_string_equal(p.items[2].title, "first");
	assert_null(p.items[0].description);
	assert_string_equal(p.items[1].description, "with <b>text</b>");
	assert_false(p.items[0].completed);
	assert_true(p.items[1].completed);
	assert_int_equal(p.items[2].id, id_of("first"));
	assert_true(p.items[0].created_us >= p.items[1].created_us);
	/* Binary timestamps: the database's clock, in Unix microseconds
	 * (within a minute of ours), and UTC's offset. */
	assert_true(llabs(p.items[0].created_us - (int64_t)time(NULL) * 1000000) < 60000000);
	assert_int_equal(p.items[0].created_off, 0);
	assert_int_equal(p.now_off, 0);

	assert_int_equal(store_get(sdb, arena, &me, id_of("second"), &t, &get_now_off), TD_OK);
	assert_string_equal(t.title, "second");
	assert_string_equal(t.description, "with <b>text</b>");
	assert_true(t.completed);
	assert_int_equal(store_get(sdb, arena, &me, 999999, &t, &get_now_off), TD_ENOTFOUND);
}

static void
test_filters(void **state)
{
	struct todo_page p;
	size_t i;

	(void)state;
	create_ok(sdb, "a");
	create_ok(sdb, "b");
	create_ok(sdb, "c");
	create_ok(sdb, "d");
	create_ok(sdb, "e");
	assert_int_equal(store_toggle(sdb, &me, id_of("b")), TD_OK);
	assert_int_equal(store_toggle(sdb, &me, id_of("d")), TD_OK);

	list(sdb, FILTER_ACTIVE, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.items[0].title, "e");
	assert_string_equal(p.items[1].title, "c");
	assert_string_equal(p.items[2].title, "a");
	for (i = 0; i < p.n; i++)
		assert_false(p.items[i].completed);
	/* Counts are of the whole list whatever the filter. */
	assert_int_equal(p.active, 3);
	assert_int_equal(p.completed, 2);

	list(sdb, FILTER_COMPLETED, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.items[0].title, "d");
	assert_string_equal(p.items[1].title, "b");
	for (i = 0; i < p.n; i++)
		assert_true(p.items[i].completed);
	assert_int_equal(p.active, 3);
	assert_int_equal(p.completed, 2);
	assert_false(p.has_older);
	assert_false(p.has_newer);

	/* Toggling back moves a row between the filters and the counts. */
	assert_int_equal(store_toggle(sdb, &me, id_of("d")), TD_OK);
	list(sdb, FILTER_COMPLETED, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.active, 4);
	assert_int_equal(p.completed, 1);
}

static struct page_cursor
cursor_of(const struct todo *t)
{
	struct page_cursor c = { t->created_us, t->id };

	return c;
}

/* Walk f's pages to the end and back again, checking every id against
 * want (the same rows as ordered by the database itself). */
static void
walk(enum todo_filter f, const int64_t *want, size_t nwant, int64_t active,
    int64_t completed)
{
	struct page_cursor *cur;
	struct todo_page p;
	size_t got = 0, start = 0, i, pages = 0;

	assert_true(nwant > 0);
	cur = calloc(nwant, sizeof(*cur));
	assert_non_null(cur);

	/* To older pages. */
	list(sdb, f, PAGE_FIRST, NULL, &p);
	assert_false(p.has_newer);
	for (;;) {
		assert_true(++pages <= nwant / STORE_PAGE_SIZE + 1);
		start = got;
		assert_int_equal(p.n, nwant - start < STORE_PAGE_SIZE ?
		    nwant - start : STORE_PAGE_SIZE);
		assert_int_equal(p.active, active);
		assert_int_equal(p.completed, completed);
		for (i = 0; i < p.n; i++) {
			assert_int_equal(p.items[i].id, want[got]);
			if (f != FILTER_ALL)
				assert_int_equal(p.items[i].completed,
				    f == FILTER_COMPLETED);
			cur[got++] = cursor_of(&p.items[i]);
		}
		assert_int_equal(p.has_older, got < nwant);
		if (!p.has_older)
			break;
		list(sdb, f, PAGE_OLDER, &cur[got - 1], &p);
		assert_true(p.has_newer);
	}
	assert_int_equal(got, nwant);

	/* Past either end: an empty page that still points back. */
	list(sdb, f, PAGE_OLDER, &cur[nwant - 1], &p);
	assert_int_equal(p.n, 0);
	assert_false(p.has_older);
	assert_true(p.has_newer);
	list(sdb, f, PAGE_NEWER, &cur[0], &p);
	assert_int_equal(p.n, 0);
	assert_true(p.has_older);
	assert_false(p.has_newer);

	/* Back to newer pages from the last page's first row: the same pages
	 * as on the way down, since every page but the last is full. */
	while (start > 0) {
		list(sdb, f, PAGE_NEWER, &cur[start], &p);
		assert_true(start >= STORE_PAGE_SIZE);
		start -= STORE_PAGE_SIZE;
		assert_int_equal(p.n, STORE_PAGE_SIZE);
		for (i = 0; i < p.n; i++)
			assert_int_equal(p.items[i].id, want[start + i]);
		assert_true(p.has_older);
		assert_int_equal(p.has_newer, start > 0);
		assert_int_equal(p.active, active);
	}
	free(cur);
}

static void
test_pagination(void **state)
{
	int64_t *want;
	size_t n;

	(void)state;
	/* 130 rows; g 30..110 share one created_at, so both page boundaries
	 * (50 and 100) fall among equal timestamps and only the id orders
	 * them. Timestamps carry microseconds, and one row predates 1970
	 * (a negative cursor). */
	sql_ok(admin, "INSERT INTO todos (user_id, title, completed, created_at) "
	    "SELECT 1, 'p' || g, g % 3 = 0, timestamptz '2024-03-01 12:00:00.5+00' "
	    "+ CASE WHEN g BETWEEN 30 AND 110 THEN 0 ELSE g END "
	    "* interval '1234567 microseconds' FROM generate_series(1, 130) g");
	sql_ok(admin, "INSERT INTO todos (user_id, title, created_at) "
	    "VALUES (1, 'old', '1969-12-31 23:59:59.25+00')");
	assert_int_equal(sql_int(admin, "SELECT count(DISTINCT created_at) "
	    "FROM todos"), 130 - 81 + 1 + 1);

	want = sql_ids(admin, "SELECT id FROM todos "
	    "ORDER BY created_at DESC, id DESC", &n);
	assert_int_equal(n, 131);
	assert_int_equal(want[130], id_of("old"));
	walk(FILTER_ALL, want, n, 88, 43);
	free(want);

	want = sql_ids(admin, "SELECT id FROM todos WHERE NOT completed "
	    "ORDER BY created_at DESC, id DESC", &n);
	assert_int_equal(n, 88);
	walk(FILTER_ACTIVE, want, n, 88, 43);
	free(want);

	want = sql_ids(admin, "SELECT id FROM todos WHERE completed "
	    "ORDER BY created_at DESC, id DESC", &n);
	assert_int_equal(n, 43);
	walk(FILTER_COMPLETED, want, n, 88, 43);
	free(want);
}

/* ---- writes ------------------------------------------------------------ */

static void
test_create_token(void **state)
{
	const char *tok = "6f1c7d0e-93a4-4b58-9c1e-2f0a5b7c8d90";
	struct todo_page p;

	(void)state;
	/* The same form sent again: one todo. */
	assert_int_equal(store_create(sdb, &me, "once", NULL, tok), TD_OK);
	assert_int_equal(store_create(sdb, &me, "once", NULL, tok), TD_OK);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.items[0].title, "once");
	assert_int_equal(p.active, 1);
	/* The same token with other text: a stale form used for a new todo,
	 * which must not be dropped. Sending it again is a repeat. */
	assert_int_equal(store_create(sdb, &me, "once again", "x", tok), TD_OK);
	assert_int_equal(store_create(sdb, &me, "once again", "x", tok), TD_OK);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.active, 2);

	assert_int_equal(store_create(sdb, &me, "twice", NULL, NULL), TD_OK);
	assert_int_equal(store_create(sdb, &me, "twice", NULL, NULL), TD_OK);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.active, 4);

	/* Not a uuid: a statement error, not a conflict. */
	assert_int_equal(store_create(sdb, &me, "bad", NULL, "nope"), TD_EINVAL);
}

static void
test_not_found(void **state)
{
	(void)state;
	create_ok(sdb, "here");
	assert_int_equal(store_update(sdb, &me, 999999, "x", NULL, false),
	    TD_ENOTFOUND);
	assert_int_equal(store_toggle(sdb, &me, 999999), TD_ENOTFOUND);
	assert_int_equal(store_delete(sdb, &me, 999999), TD_ENOTFOUND);
	assert_int_equal(store_delete(sdb, &me, id_of("here")), TD_OK);
	assert_int_equal(store_delete(sdb, &me, 1), TD_ENOTFOUND);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos"), 0);
}

static void
test_update_timestamps(void **state)
{
	struct todo_page p;
	struct todo t;
	int64_t id;

	(void)state;
	create_ok(sdb, "before");
	id = id_of("before");
	/* Back-date the row: an update must keep created_at and replace
	 * updated_at (the todos_touch trigger). */
	sql_ok(admin, "UPDATE todos SET created_at = '2000-01-02 03:04:05+00', "
	    "updated_at = '2000-01-02 03:04:05+00'");
	assert_int_equal(store_update(sdb, &me, id, "after", "desc", true), TD_OK);
	assert_int_equal(store_get(sdb, arena, &me, id, &t, &get_now_off), TD_OK);
	assert_string_equal(t.title, "after");
	assert_string_equal(t.description, "desc");
	assert_true(t.completed);
	assert_string_equal(t.created_at, "2000-01-02T03:04:05Z");
	assert_string_not_equal(t.updated_at, "2000-01-02T03:04:05Z");
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos "
	    "WHERE updated_at > now() - interval '1 hour'"), 1);

	/* NULL clears the description; the counts follow completed. */
	assert_int_equal(store_update(sdb, &me, id, "after", NULL, false), TD_OK);
	assert_int_equal(store_get(sdb, arena, &me, id, &t, &get_now_off), TD_OK);
	assert_null(t.description);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.active, 1);
	assert_int_equal(p.completed, 0);
}

static void
assert_all(bool completed, size_t n)
{
	struct todo_page p;
	size_t i;

	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, n);
	for (i = 0; i < p.n; i++)
		assert_int_equal(p.items[i].completed, completed);
	assert_int_equal(p.active, completed ? 0 : (int64_t)n);
	assert_int_equal(p.completed, completed ? (int64_t)n : 0);
}

static void
test_toggle_all(void **state)
{
	(void)state;
	assert_int_equal(store_toggle_all(sdb, &me, NULL), TD_OK);   /* empty list */
	create_ok(sdb, "x");
	create_ok(sdb, "y");
	create_ok(sdb, "z");
	assert_int_equal(store_toggle(sdb, &me, id_of("y")), TD_OK);
	/* One is complete, two active: complete all. */
	assert_int_equal(store_toggle_all(sdb, &me, NULL), TD_OK);
	assert_all(true, 3);
	/* All complete: reopen all. */
	assert_int_equal(store_toggle_all(sdb, &me, NULL), TD_OK);
	assert_all(false, 3);
	assert_int_equal(store_toggle_all(sdb, &me, NULL), TD_OK);
	assert_all(true, 3);
}

static void
test_clear_completed(void **state)
{
	struct todo_page p;

	(void)state;
	assert_int_equal(store_clear_completed(sdb, &me, NULL), TD_OK);   /* nothing */
	create_ok(sdb, "k1");
	create_ok(sdb, "c1");
	create_ok(sdb, "k2");
	create_ok(sdb, "c2");
	assert_int_equal(store_toggle(sdb, &me, id_of("c1")), TD_OK);
	assert_int_equal(store_toggle(sdb, &me, id_of("c2")), TD_OK);
	assert_int_equal(store_clear_completed(sdb, &me, NULL), TD_OK);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.items[0].title, "k2");
	assert_string_equal(p.items[1].title, "k1");
	assert_int_equal(p.active, 2);
	assert_int_equal(p.completed, 0);
}

static void
test_constraints(void **state)
{
	char title[202], desc[2002], wide[2 * 200 + 1];
	size_t i;

	(void)state;
	memset(title, 'a', 201);
	title[201] = '\0';
	/* store.c maps integrity violations (SQLSTATE 23xxx, here the CHECK
	 * on title length, 23514) to TD_ECONFLICT. */
	assert_int_equal(store_create(sdb, &me, title, NULL, NULL), TD_ECONFLICT);
	assert_int_equal(store_create(sdb, &me, "", NULL, NULL), TD_ECONFLICT);
	memset(desc, 'd', 2001);
	desc[2001] = '\0';
	assert_int_equal(store_create(sdb, &me, "t", desc, NULL), TD_ECONFLICT);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos"), 0);

	/* The limits are in characters: 200 two-byte characters fit. */
	title[200] = '\0';
	assert_int_equal(store_create(sdb, &me, title, NULL, NULL), TD_OK);
	for (i = 0; i < 200; i++)
		memcpy(wide + 2 * i, "\xc3\xa9", 2);
	wide[400] = '\0';
	assert_int_equal(store_create(sdb, &me, wide, NULL, NULL), TD_OK);
	assert_int_equal(store_update(sdb, &me, id_of(wide), "", NULL, false),
	    TD_ECONFLICT);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos"), 2);
	/* A failed statement leaves the connection usable. */
	assert_int_equal(store_ping(sdb), TD_OK);
}


/* ---- undo -------------------------------------------------------------- */

/* The person's todos, every column, as one text (to compare before a
 * delete and after its undo). Caller frees. */
static char *
snapshot(int64_t user)
{
	char sql[256];
	PGresult *r;
	char *s;

	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(t::text, '|' ORDER BY id), '') "
	    "FROM todos t WHERE user_id = %lld", (long long)user);
	r = PQexec(admin, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		fail_msg("%s failed", sql);
	}
	s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	assert_non_null(s);
	return s;
}

static void
counts_are(int64_t active, int64_t completed)
{
	struct todo_page p;

	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.active, active);
	assert_int_equal(p.completed, completed);
	/* The kept counts are the real ones. */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE user_id = 1 "
	    "AND NOT completed"), active);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE user_id = 1 "
	    "AND completed"), completed);
}

/* Delete, then undo: the todo comes back exactly (id, texts, state, both
 * times, form token), once; the batch is the person's only. */
static void
test_undo_delete(void **state)
{
	struct store_change ch, u;
	int64_t a, b, c;
	char *before, *after;

	(void)state;
	create_ok(sdb, "a");
	assert_int_equal(store_create(sdb, &me, "b", "the b", "0b0b0b0b-0000-4000-8000-000000000000"), TD_OK);
	create_ok(sdb, "c");
	a = id_of("a");
	b = id_of("b");
	c = id_of("c");
	assert_int_equal(store_toggle(sdb, &me, b), TD_OK);
	sql_ok(admin, "UPDATE todos SET updated_at = updated_at + interval '1 hour' WHERE title = 'b'");
	before = snapshot(1);

	assert_int_equal(store_delete_change(sdb, arena, &me, b, FILTER_ALL, NULL, &ch), TD_OK);
	assert_int_equal(ch.count, 1);
	assert_true(ch.batch > 0);
	assert_string_equal(ch.title, "b");
	assert_int_equal(ch.focus, a);          /* the next older */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash"), 1);
	counts_are(2, 0);

	/* Not someone else's to undo: nothing happens. */
	assert_int_equal(store_undo(sdb, &other, ch.batch, &u), TD_ENOTFOUND);
	assert_int_equal(store_undo(sdb, &me, ch.batch + 1000, &u), TD_ENOTFOUND);
	counts_are(2, 0);

	assert_int_equal(store_undo(sdb, &me, ch.batch, &u), TD_OK);
	assert_int_equal(u.count, 1);
	assert_int_equal(u.focus, b);
	after = snapshot(1);
	assert_string_equal(before, after);
	counts_are(2, 1);
	/* A second click restores nothing and fails nothing. */
	assert_int_equal(store_undo(sdb, &me, ch.batch, &u), TD_ENOTFOUND);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos"), 3);
	counts_are(2, 1);
	free(before);
	free(after);

	/* The newest deleted: the next newer does not exist, the next older
	 * is taken; the oldest: the next newer. */
	assert_int_equal(store_delete_change(sdb, arena, &me, c, FILTER_ALL, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, b);
	assert_int_equal(store_delete_change(sdb, arena, &me, a, FILTER_ALL, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, b);
	/* The last one: none left. */
	assert_int_equal(store_delete_change(sdb, arena, &me, b, FILTER_ALL, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, 0);
	/* Gone, and not resent: not found, no batch. */
	assert_int_equal(store_delete_change(sdb, arena, &me, b, FILTER_ALL, NULL, &ch), TD_ENOTFOUND);
	assert_int_equal(store_delete_change(sdb, arena, &other, c, FILTER_ALL, NULL, &ch), TD_ENOTFOUND);
	/* In the trash: c, a and b; b's first batch, restored, was swept by
	 * the next delete. */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash WHERE user_id = 1"), 3);
}

/* "Next to it" is within the page's filter. */
static void
test_nearest_in_filter(void **state)
{
	struct store_change ch;
	int64_t a1, c1, a2, c2, a3;

	(void)state;
	create_ok(sdb, "a1");
	create_ok(sdb, "c1");
	create_ok(sdb, "a2");
	create_ok(sdb, "c2");
	create_ok(sdb, "a3");
	a1 = id_of("a1");
	c1 = id_of("c1");
	a2 = id_of("a2");
	c2 = id_of("c2");
	a3 = id_of("a3");
	assert_int_equal(store_toggle(sdb, &me, c1), TD_OK);
	assert_int_equal(store_toggle(sdb, &me, c2), TD_OK);
	/* Toggled where it stays in view: itself. */
	assert_int_equal(store_toggle_change(sdb, arena, &me, a2, FILTER_ALL, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, a2);
	assert_int_equal(store_toggle_change(sdb, arena, &me, a2, FILTER_ALL, NULL, &ch), TD_OK);
	/* Completed on the Active page: the next older active one. */
	assert_int_equal(store_toggle_change(sdb, arena, &me, a2, FILTER_ACTIVE, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, a1);
	/* Reopened on the Completed page: the next older completed (a2,
	 * completed now); for c1 none is older: the next newer, a2. */
	assert_int_equal(store_toggle_change(sdb, arena, &me, c2, FILTER_COMPLETED, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, a2);
	assert_int_equal(store_toggle_change(sdb, arena, &me, c1, FILTER_COMPLETED, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, a2);
	/* Now active: a1, c1, c2, a3; completed: a2. Deleting a3 on the
	 * Active page skips nothing: c2 is active now. */
	assert_int_equal(store_delete_change(sdb, arena, &me, a3, FILTER_ACTIVE, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, c2);
	assert_int_equal(store_delete_change(sdb, arena, &me, a1, FILTER_COMPLETED, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, a2);
	assert_int_equal(store_delete_change(sdb, arena, &me, a2, FILTER_COMPLETED, NULL, &ch), TD_OK);
	assert_int_equal(ch.focus, 0);
}

/* ... and within the page's search: a todo that does not match is not
 * "next to it" there. */
static void
test_nearest_in_search(void **state)
{
	struct store_change ch;
	int64_t pie, tart;

	(void)state;
	create_ok(sdb, "Apple pie");
	create_ok(sdb, "banana");
	create_ok(sdb, "APPLE tart");
	create_ok(sdb, "cherry");
	pie = id_of("Apple pie");
	tart = id_of("APPLE tart");
	/* Toggled on the results for "apple": it still matches, itself. */
	assert_int_equal(store_toggle_change(sdb, arena, &me, tart, FILTER_ALL, "apple",
	    &ch), TD_OK);
	assert_int_equal(ch.focus, tart);
	assert_int_equal(store_toggle_change(sdb, arena, &me, tart, FILTER_ALL, "apple",
	    &ch), TD_OK);                      /* open again */
	/* Done on the Active results: the next older active match, not
	 * banana (which is next to it in the whole list). */
	assert_int_equal(store_toggle_change(sdb, arena, &me, tart, FILTER_ACTIVE, "apple",
	    &ch), TD_OK);
	assert_int_equal(ch.focus, pie);
	assert_int_equal(store_delete_change(sdb, arena, &me, tart, FILTER_ALL, "apple",
	    &ch), TD_OK);
	assert_int_equal(ch.focus, pie);
	/* LIKE's wildcards in the search are literal: nothing matches "a%e". */
	assert_int_equal(store_delete_change(sdb, arena, &me, pie, FILTER_ALL, "a%e",
	    &ch), TD_OK);
	assert_int_equal(ch.focus, 0);
}

/* Clear completed goes to the trash as one batch; undo brings all back. */
static void
test_undo_clear_completed(void **state)
{
	struct store_change ch, u;
	char *before, *after;

	(void)state;
	assert_int_equal(store_clear_change(sdb, &me, &ch), TD_OK);
	assert_int_equal(ch.count, 0);
	assert_int_equal(ch.batch, 0);          /* nothing to undo */
	create_ok(sdb, "k1");
	create_ok(sdb, "c1");
	create_ok(sdb, "c2");
	create_ok(sdb, "c3");
	assert_int_equal(store_toggle(sdb, &me, id_of("c1")), TD_OK);
	assert_int_equal(store_toggle(sdb, &me, id_of("c2")), TD_OK);
	assert_int_equal(store_toggle(sdb, &me, id_of("c3")), TD_OK);
	assert_int_equal(store_create(sdb, &other, "theirs done", NULL, NULL), TD_OK);
	assert_int_equal(store_toggle(sdb, &other, id_of("theirs done")), TD_OK);
	before = snapshot(1);

	assert_int_equal(store_clear_change(sdb, &me, &ch), TD_OK);
	assert_int_equal(ch.count, 3);
	assert_true(ch.batch > 0);
	assert_int_equal(sql_int(admin, "SELECT count(DISTINCT batch) FROM todo_trash"), 1);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash"), 3);
	counts_are(1, 0);
	assert_int_equal(store_undo(sdb, &me, ch.batch, &u), TD_OK);
	assert_int_equal(u.count, 3);
	assert_int_equal(u.focus, id_of("c3"));  /* the newest restored */
	after = snapshot(1);
	assert_string_equal(before, after);
	counts_are(1, 3);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE title = 'theirs done'"), 1);
	free(before);
	free(after);

	/* Toggle-all says what it did. */
	assert_int_equal(store_toggle_all_change(sdb, &me, &ch), TD_OK);
	assert_int_equal(ch.count, 1);
	assert_true(ch.completed);
	assert_int_equal(store_toggle_all_change(sdb, &me, &ch), TD_OK);
	assert_int_equal(ch.count, 4);
	assert_false(ch.completed);
}

/* Past the window a batch cannot be undone; the next write into the trash
 * sweeps the person's expired batches and a bounded number of anyone's. */
static void
test_undo_window_and_sweep(void **state)
{
	struct store_change ch, u;
	char sql[256];

	(void)state;
	create_ok(sdb, "old");
	create_ok(sdb, "new");
	assert_int_equal(store_delete_change(sdb, arena, &me, id_of("old"), FILTER_ALL, NULL, &ch), TD_OK);
	/* Just inside the window it still can be; make it just past. */
	snprintf(sql, sizeof(sql), "UPDATE todo_trash SET deleted_at = now() - "
	    "interval '%d seconds' - interval '1 second'", STORE_UNDO_WINDOW_S);
	sql_ok(admin, sql);
	assert_int_equal(store_undo(sdb, &me, ch.batch, &u), TD_ENOTFOUND);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos"), 1);
	counts_are(1, 0);

	/* 150 expired rows of someone else's, 1 expired of mine (above). */
	snprintf(sql, sizeof(sql), "INSERT INTO todo_trash (user_id, batch, deleted_at, id, "
	    "title, completed, created_at, updated_at) SELECT 2, 1000000 + g, now() - "
	    "interval '%d seconds' * 2, 1000000 + g, 'x', false, now(), now() "
	    "FROM generate_series(1, 150) g", STORE_UNDO_WINDOW_S);
	sql_ok(admin, sql);
	/* A fresh one of theirs stays. */
	sql_ok(admin, "INSERT INTO todo_trash (user_id, batch, id, title, completed, "
	    "created_at, updated_at) VALUES (2, 2000000, 2000000, 'fresh', false, now(), now())");
	assert_int_equal(store_delete_change(sdb, arena, &me, id_of("new"), FILTER_ALL, NULL, &ch), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash WHERE user_id = 1"), 1);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash WHERE user_id = 2"),
	    150 - STORE_TRASH_SWEEP + 1);
	assert_int_equal(store_clear_change(sdb, &me, &ch), TD_OK);   /* sweeps too */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash WHERE user_id = 2"), 1);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash WHERE title = 'fresh'"), 1);
	/* An account's trash goes with it. */
	sql_ok(admin, "DELETE FROM users WHERE id = 1");
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_trash WHERE user_id = 1"), 0);
}

/* ---- round trips ------------------------------------------------------- */

static void
test_round_trips(void **state)
{
	struct db *db = open_named_db("itest_rt");
	struct store_change ch;
	struct todo_page p;
	struct todo t;
	uint64_t rt;
	int64_t id;

	(void)state;
	assert_int_equal(db_round_trips(db), 0);
	/* The first call connects and prepares every statement (plus the
	 * schema check) in one pipelined round trip, then runs: 2. */
	list(db, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(db_round_trips(db), 2);

#define ONE(call) do {							\
	rt = db_round_trips(db);					\
	call;								\
	assert_int_equal(db_round_trips(db), rt + 1);			\
} while (0)
	ONE(assert_int_equal(store_create(db, &me, "rt", NULL, NULL), TD_OK));
	id = id_of("rt");
	ONE(list(db, FILTER_ACTIVE, PAGE_FIRST, NULL, &p));
	ONE(assert_int_equal(store_get(db, arena, &me, id, &t, &get_now_off), TD_OK));
	ONE(assert_int_equal(store_update(db, &me, id, "rt", "d", false), TD_OK));
	ONE(assert_int_equal(store_toggle(db, &me, id), TD_OK));
	ONE(assert_int_equal(store_toggle_all(db, &me, NULL), TD_OK));
	ONE(list(db, FILTER_COMPLETED, PAGE_OLDER,
	    &(struct page_cursor){ p.items[0].created_us, id }, &p));
	ONE(assert_int_equal(store_clear_completed(db, &me, NULL), TD_OK));
	ONE(assert_int_equal(store_ping(db), TD_OK));
	/* Failures cost one round trip too, and no reconnect. */
	ONE(assert_int_equal(store_delete(db, &me, id), TD_OK));
	ONE(assert_int_equal(store_delete(db, &me, id), TD_ENOTFOUND));
	ONE(assert_int_equal(store_undo(db, &me, sql_int(admin,
	    "SELECT max(batch) FROM todo_trash"), &ch), TD_OK));
	ONE(assert_int_equal(store_undo(db, &me, INT64_MAX, &ch), TD_ENOTFOUND));
	ONE(assert_int_equal(store_create(db, &me, "", NULL, NULL), TD_ECONFLICT));
#undef ONE
	db_free(db);
}

/* ---- reconnects -------------------------------------------------------- */

static void
test_terminated_backend(void **state)
{
	struct db *db = open_named_db("itest_term");
	struct todo_page p;
	int64_t pid, pid2;
	uint64_t rt;

	(void)state;
	create_ok(sdb, "survivor");
	assert_int_equal(store_ping(db), TD_OK);
	pid = backend_pid("itest_term");

	/* What Neon does when a compute suspends: the backend ends with
	 * FATAL 57P01 while the app's connection is idle. */
	terminate_backend(pid);
	rt = db_round_trips(db);
	list(db, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.items[0].title, "survivor");
	/* Reconnect + prepare + the list: the dead connection was noticed
	 * before sending (a failed send and a retry would make 3). */
	assert_int_equal(db_round_trips(db), rt + 2);
	pid2 = backend_pid("itest_term");
	assert_true(pid2 != pid);

	/* A statement that is never retried works too: nothing was sent on
	 * the dead connection. */
	terminate_backend(pid2);
	assert_int_equal(store_toggle_all(db, &me, NULL), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos "
	    "WHERE completed"), 1);
	db_free(db);
}

static const char *
pgctl(void)
{
	const char *c = getenv("TODO_TEST_PGCTL");

	return c != NULL && *c != '\0' ? c : NULL;
}

static void
run_pgctl(const char *args)
{
	char cmd[2048];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null", pgctl(), args);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("%s: exit %d", cmd, rc);
}

static void
test_server_restart(void **state)
{
	struct db *db;
	struct todo_page p;
	uint64_t rt;

	(void)state;
	if (pgctl() == NULL)
		skip();   /* shared cluster: not ours to restart */
	db = open_named_db("itest_restart");
	create_ok(sdb, "kept");
	assert_int_equal(store_ping(db), TD_OK);
	PQfinish(admin);
	admin = NULL;

	run_pgctl("restart -m fast -w");
	rt = db_round_trips(db);
	list(db, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.items[0].title, "kept");
	assert_int_equal(db_round_trips(db), rt + 2);   /* re-prepared */
	db_free(db);
	/* The shared one reconnects as well. */
	assert_int_equal(store_ping(sdb), TD_OK);
	admin = connect_admin(url);
	assert_non_null(admin);
}

static void
test_server_down(void **state)
{
	struct db *db;
	int64_t t0, deadline;
	enum td_status rc;

	(void)state;
	if (pgctl() == NULL)
		skip();
	db = open_named_db("itest_down");
	assert_int_equal(store_ping(db), TD_OK);
	PQfinish(admin);
	admin = NULL;

	run_pgctl("stop -m fast -w");
	/* Down: a fast TD_EDB, not a hang. connect_timeout is 5 s; a refused
	 * connection must not come near it. */
	t0 = mono_ms();
	assert_int_equal(store_ping(db), TD_EDB);
	assert_true(mono_ms() - t0 < 3000);
	assert_true(strlen(db_last_error(db)) > 0);
	/* Inside the back-off nothing is tried at all. */
	t0 = mono_ms();
	assert_int_equal(store_ping(db), TD_EDB);
	assert_int_equal(store_create(db, &me, "lost", NULL, NULL), TD_EDB);
	assert_true(mono_ms() - t0 < 3000);

	run_pgctl("start -w");
	/* Back within the back-off cap (0.8 s) and a connect once it is up
	 * again: recovery stays under a second and a half even on a loaded
	 * machine. */
	t0 = mono_ms();
	deadline = t0 + WAIT_MS;
	while ((rc = store_ping(db)) != TD_OK && mono_ms() < deadline) {
		assert_int_equal(rc, TD_EDB);
		nap();
	}
	assert_int_equal(rc, TD_OK);
	assert_true(mono_ms() - t0 < 1500);
	create_ok(db, "back");
	admin = connect_admin(url);
	assert_non_null(admin);
	assert_int_equal(id_of("back"), 1);
	db_free(db);
}


/* ---- bounded waits and honest errors ------------------------------------ */

/* PGCLIENTENCODING=LATIN1 must not make libpq re-encode our UTF-8. */
static void
test_client_encoding(void **state)
{
	struct db *db;
	char sql[128];

	(void)state;
	assert_int_equal(setenv("PGCLIENTENCODING", "LATIN1", 1), 0);
	db = open_named_db("itest_enc");
	create_ok(db, "caf\xc3\xa9");
	unsetenv("PGCLIENTENCODING");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM todos WHERE "
	    "title = 'caf' || chr(233)");
	assert_int_equal(sql_int(admin, sql), 1);
	assert_int_equal(sql_int(admin, "SELECT octet_length(title) FROM todos"), 5);
	db_free(db);
}

/* A db whose every call is bounded by timeout_ms. */
static struct db *
open_db_timeout(const char *appname, int timeout_ms)
{
	char *ci = conninfo_with(NULL, appname);
	const struct db_stmt *st;
	struct db *db = NULL;
	int n;

	st = store_statements(&n);
	assert_int_equal(db_new(&db, ci, timeout_ms, st, n, TODO_SCHEMA_VERSION),
	    TD_OK);
	free(ci);
	return db;
}

/* A toggle stuck behind a table lock: TD_EDB once the client's bound has
 * passed (the statement is cancelled), and the toggle is NOT applied when
 * the lock goes away. No server-side timeout is set here: this is the
 * client's own bound at work. */
static void
test_lock_wait_cancelled(void **state)
{
	struct db *db = open_db_timeout("itest_lock", 1000);
	int64_t id, t0, took;

	(void)state;
	create_ok(sdb, "locked");
	id = id_of("locked");
	assert_int_equal(store_ping(db), TD_OK);
	sql_ok(admin, "BEGIN");
	sql_ok(admin, "LOCK TABLE todos IN ACCESS EXCLUSIVE MODE");
	t0 = mono_ms();
	assert_int_equal(store_toggle(db, &me, id), TD_EDB);
	took = mono_ms() - t0;
	/* Bounded: the timeout plus at most the grace for the cancel. */
	assert_true(took >= 900);
	assert_true(took < 1000 + 1500);
	assert_non_null(strstr(db_last_error(db), "57014"));
	sql_ok(admin, "COMMIT");
	/* Not applied later, and the connection is still good. */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE completed"), 0);
	assert_int_equal(store_toggle(db, &me, id), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE completed"), 1);
	db_free(db);
}

/* The server-side lock_timeout, as `todoctl migrate up` sets it for the
 * role: SQLSTATE 55P03, mapped to "unavailable", before the client's
 * bound. */
static void
test_server_lock_timeout(void **state)
{
	struct db *db;
	char sql[256];
	int64_t id;

	(void)state;
	create_ok(sdb, "locked");
	id = id_of("locked");
	snprintf(sql, sizeof(sql), "ALTER ROLE CURRENT_USER IN DATABASE \"%s\" "
	    "SET lock_timeout = '200ms'", PQdb(admin));
	sql_ok(admin, sql);
	db = open_db_timeout("itest_lockto", 5000);
	assert_int_equal(store_ping(db), TD_OK);
	sql_ok(admin, "BEGIN");
	sql_ok(admin, "LOCK TABLE todos IN ACCESS EXCLUSIVE MODE");
	assert_int_equal(store_toggle(db, &me, id), TD_EDB);
	assert_non_null(strstr(db_last_error(db), "55P03"));
	assert_non_null(strstr(db_last_error(db), "toggle"));
	sql_ok(admin, "ROLLBACK");
	snprintf(sql, sizeof(sql), "ALTER ROLE CURRENT_USER IN DATABASE \"%s\" "
	    "RESET lock_timeout", PQdb(admin));
	sql_ok(admin, sql);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE completed"), 0);
	db_free(db);
}

/* A read-only database (a Neon read-only branch, a standby after a
 * failover) is unavailable for writes, not "bad input"; reads work. */
static void
test_read_only(void **state)
{
	struct db *db;
	struct todo_page p;
	char sql[256];
	const char *sqlstate = NULL;
	PGresult *res = NULL;

	(void)state;
	create_ok(sdb, "kept");
	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" SET "
	    "default_transaction_read_only = on", PQdb(admin));
	sql_ok(admin, sql);
	db = open_named_db("itest_ro");
	assert_int_equal(store_create(db, &me, "new", NULL, NULL), TD_EDB);
	assert_int_equal(db_exec(db, stmt_index("toggle_all"), NULL, &res,
	    &sqlstate), TD_EDB);
	assert_null(res);
	assert_string_equal(sqlstate, "25006");
	list(db, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 1);
	/* A stale "last seen" cannot be written now: the page still shows. */
	sql_ok(admin, "UPDATE sessions SET last_seen = now() - interval '1 hour' WHERE user_id = 1");
	list(db, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 1);
	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" RESET "
	    "default_transaction_read_only", PQdb(admin));
	sql_ok(admin, sql);
	db_free(db);
}

/* SQLSTATE classes to statuses (db.h). */
static void
test_status_of(void **state)
{
	(void)state;
	assert_int_equal(db_status_of("22P02"), TD_EINVAL);
	assert_int_equal(db_status_of("23505"), TD_ECONFLICT);
	assert_int_equal(db_status_of("25006"), TD_EDB);
	assert_int_equal(db_status_of("40001"), TD_EDB);
	assert_int_equal(db_status_of("40P01"), TD_EDB);
	assert_int_equal(db_status_of("53300"), TD_EDB);
	assert_int_equal(db_status_of("55P03"), TD_EDB);
	assert_int_equal(db_status_of("57014"), TD_EDB);
	assert_int_equal(db_status_of("57P01"), TD_EDB);
	assert_int_equal(db_status_of("57P03"), TD_EDB);
	assert_int_equal(db_status_of("08006"), TD_EDB);
	assert_int_equal(db_status_of("42P01"), TD_EINTERNAL);
	assert_int_equal(db_status_of("25P02"), TD_EINTERNAL);
	assert_int_equal(db_status_of(""), TD_EINTERNAL);
}

/* ---- schema guard ------------------------------------------------------ */

static void
test_schema_guard(void **state)
{
	char name[128], sql[256];
	PGresult *res = NULL;
	const char *sqlstate;
	struct db *db;
	char *ci;
	PGconn *c;

	(void)state;
	/* A brand-new database: no schema_migrations at all (version 0). */
	snprintf(name, sizeof(name), "%s_v0", PQdb(admin));
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", name);
	sql_ok(admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	sql_ok(admin, sql);
	ci = conninfo_with(name, "itest_v0");
	db = open_db(ci, TODO_SCHEMA_VERSION);
	assert_int_equal(db_exec(db, stmt_index("ping"), NULL, &res, &sqlstate),
	    TD_ESCHEMA);
	assert_null(res);
	assert_non_null(strstr(db_last_error(db), "todoctl migrate up"));
	db_free(db);

	/* A history table without rows is version 0 as well. */
	assert_non_null(c = connect_admin(ci));
	sql_ok(c, "CREATE TABLE schema_migrations (version integer)");
	PQfinish(c);
	db = open_db(ci, TODO_SCHEMA_VERSION);
	assert_int_equal(db_exec(db, stmt_index("ping"), NULL, &res, &sqlstate),
	    TD_ESCHEMA);
	assert_non_null(strstr(db_last_error(db), "todoctl migrate up"));
	db_free(db);
	free(ci);
	snprintf(sql, sizeof(sql), "DROP DATABASE \"%s\" WITH (FORCE)", name);
	sql_ok(admin, sql);

	/* The migrated database, but a build that needs a newer schema. */
	db = open_db(url, TODO_SCHEMA_VERSION + 1);
	assert_int_equal(store_ping(db), TD_ESCHEMA);
	assert_non_null(strstr(db_last_error(db), "todoctl migrate up"));
	db_free(db);
	/* min_schema 0 skips the check. */
	db = open_db(url, 0);
	assert_int_equal(store_ping(db), TD_OK);
	db_free(db);
}


/* In a child: hold a lock on every todo, and once the backend of
 * application "itest_fatal" waits for it, end that backend; with
 * wait_again, release only when a new backend of it waits again. Returns
 * the child's pid once the lock is held. */
static pid_t
lock_and_terminate(int wait_again)
{
	int fds[2];
	char ok;
	pid_t child;

	assert_int_equal(pipe(fds), 0);
	if ((child = fork()) == 0) {
		static const char *const waiting = "SELECT pg_terminate_backend(pid) "
		    "FROM pg_stat_activity WHERE application_name = 'itest_fatal' "
		    "AND wait_event_type = 'Lock'";
		PGconn *c = connect_admin(url);
		int64_t deadline = mono_ms() + WAIT_MS;
		int step = 0;

		close(fds[0]);
		if (c == NULL || PQresultStatus(PQexec(c, "BEGIN")) != PGRES_COMMAND_OK ||
		    PQresultStatus(PQexec(c, "SELECT id FROM todos FOR UPDATE")) != PGRES_TUPLES_OK ||
		    write(fds[1], "k", 1) != 1)
			_exit(1);
		/* step 0: end the waiting backend; 1: see the new one wait.
		 * Inside a transaction pg_stat_activity is read once and
		 * cached: clear that snapshot before each look. */
		while (mono_ms() < deadline && step < (wait_again ? 2 : 1)) {
			PGresult *r;

			PQclear(PQexec(c, "SELECT pg_stat_clear_snapshot()"));
			r = PQexec(c, step == 0 ? waiting :
			    "SELECT pid FROM pg_stat_activity WHERE application_name = "
			    "'itest_fatal' AND wait_event_type = 'Lock'");

			if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
				step++;
			else
				nap();
			PQclear(r);
		}
		PQexec(c, "COMMIT");
		_exit(step == (wait_again ? 2 : 1) ? 0 : 1);
	}
	assert_true(child > 0);
	close(fds[1]);
	assert_int_equal(read(fds[0], &ok, 1), 1);
	close(fds[0]);
	return child;
}

static void
child_succeeded(pid_t child)
{
	int status;

	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The server ends the session while a statement waits (pg_terminate_backend
 * of a backend blocked on a lock): the FATAL comes back as the statement's
 * answer, before the closed socket can be seen. Nothing was committed, so
 * an idempotent statement is run again on a new connection and succeeds;
 * a non-idempotent one answers TD_EDB and is not applied. */
static void
test_terminated_while_waiting(void **state)
{
	struct db *db = open_named_db("itest_fatal");
	pid_t child;
	int64_t id;

	(void)state;
	create_ok(sdb, "waiting");
	id = id_of("waiting");
	assert_int_equal(store_ping(db), TD_OK);
	child = lock_and_terminate(1);
	assert_int_equal(store_update(db, &me, id, "after", NULL, false), TD_OK);
	child_succeeded(child);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE title = 'after'"), 1);

	assert_int_equal(store_ping(db), TD_OK);
	child = lock_and_terminate(0);
	assert_int_equal(store_toggle(db, &me, id), TD_EDB);
	child_succeeded(child);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE completed"), 0);
	db_free(db);
}

/* ---- an answer lost after the commit ----------------------------------- */

/*
 * A proxy on a unix socket in front of the server's, in a child process.
 * Armed (a byte on its control socket, acknowledged), it closes the next
 * connection the server answers on instead of passing the answer on, and
 * says so ('d'). The server answers a statement's Sync only after its
 * implicit transaction committed, so the statement is done and the app
 * sees a lost connection: what a network cut at the wrong moment does.
 */
struct dropper {
	pid_t pid;
	int ctl;            /* the test's end of the control socket */
	char dir[64];       /* the proxy's socket directory (a libpq host) */
	char port[16];
};

#define DROP_CONNS 8

static int
unix_socket_at(const char *path, int listening)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if (listening ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, DROP_CONNS) != 0 :
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *b, ssize_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, (size_t)n)) <= 0)
			return -1;
		b += w;
		n -= w;
	}
	return 0;
}

/* The proxy's loop; returns when the test closes the control socket. */
static void
dropper_run(int ctl, int lfd, const char *upstream)
{
	int fd[DROP_CONNS][2], i, j, k, armed = 0;
	struct pollfd pfd[2 + 2 * DROP_CONNS];
	char buf[65536];
	ssize_t n;

	for (i = 0; i < DROP_CONNS; i++)
		fd[i][0] = fd[i][1] = -1;
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = ctl, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < DROP_CONNS; i++)
			for (j = 0; j < 2; j++)
				pfd[2 + 2 * i + j] = (struct pollfd){
				    .fd = fd[i][j], .events = POLLIN };
		if (poll(pfd, 2 + 2 * DROP_CONNS, -1) < 0)
			_exit(1);
		if (pfd[0].revents != 0) {
			if (read(ctl, buf, 1) != 1)
				return;
			armed = 1;
			if (write(ctl, "k", 1) != 1)
				_exit(1);
		}
		if (pfd[1].revents & POLLIN) {
			for (i = 0; i < DROP_CONNS && fd[i][0] >= 0; i++)
				;
			if (i == DROP_CONNS ||
			    (fd[i][0] = accept(lfd, NULL, NULL)) < 0 ||
			    (fd[i][1] = unix_socket_at(upstream, 0)) < 0)
				_exit(1);
		}
		for (i = 0; i < DROP_CONNS; i++)
			for (j = 0; j < 2; j++) {
				if (fd[i][j] < 0 || pfd[2 + 2 * i + j].revents == 0)
					continue;
				n = read(fd[i][j], buf, sizeof(buf));
				/* j == 1: the server's answer. */
				if (n > 0 && !(j == 1 && armed) &&
				    write_all(fd[i][!j], buf, n) == 0)
					continue;
				if (n > 0 && j == 1 && armed) {
					armed = 0;
					if (write(ctl, "d", 1) != 1)
						_exit(1);
				}
				for (k = 0; k < 2; k++) {
					close(fd[i][k]);
					fd[i][k] = -1;
				}
				break;
			}
	}
}

static void
dropper_start(struct dropper *d)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *port = "5432";
	char upstream[256], path[128];
	int sv[2], lfd;

	assert_non_null(opts = PQconninfoParse(url, NULL));
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0 && o->val != NULL)
			host = o->val;
		if (strcmp(o->keyword, "port") == 0 && o->val != NULL)
			port = o->val;
	}
	if (host == NULL || host[0] != '/')
		fail_msg("DATABASE_URL's host is not a unix socket directory");
	snprintf(upstream, sizeof(upstream), "%s/.s.PGSQL.%s", host, port);
	snprintf(d->port, sizeof(d->port), "%s", port);
	PQconninfoFree(opts);
	snprintf(d->dir, sizeof(d->dir), "/tmp/itest_drop.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(path, sizeof(path), "%s/.s.PGSQL.%s", d->dir, d->port);
	assert_true((lfd = unix_socket_at(path, 1)) >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if ((d->pid = fork()) == 0) {
		close(sv[0]);
		dropper_run(sv[1], lfd, upstream);
		_exit(0);
	}
	assert_true(d->pid > 0);
	close(sv[1]);
	close(lfd);
	d->ctl = sv[0];
}

static void
dropper_arm(struct dropper *d)
{
	char c = 0;

	assert_int_equal(write(d->ctl, "a", 1), 1);
	assert_int_equal(read(d->ctl, &c, 1), 1);
	assert_int_equal(c, 'k');
}

/* The armed proxy dropped a connection on the server's answer. */
static void
dropper_dropped(struct dropper *d)
{
	struct pollfd p = { .fd = d->ctl, .events = POLLIN };
	char c = 0;

	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(read(d->ctl, &c, 1), 1);
	assert_int_equal(c, 'd');
}

static void
dropper_stop(struct dropper *d)
{
	char path[128];
	int status;

	close(d->ctl);
	assert_int_equal(waitpid(d->pid, &status, 0), d->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(path, sizeof(path), "%s/.s.PGSQL.%s", d->dir, d->port);
	unlink(path);
	rmdir(d->dir);
}

/* The first attempt of a create without a token and of a delete commits,
 * its answer is lost, db.c sends it again: the todo is added once, and
 * the delete says the todo is deleted (issue 11). */
static void
test_answer_lost_after_commit(void **state)
{
	struct dropper d;
	struct db *db;
	char *ci, *proxied;
	int64_t id, theirs;
	size_t len;

	(void)state;
	dropper_start(&d);
	ci = conninfo_with(NULL, "itest_drop");
	len = strlen(ci) + sizeof(d.dir) + 16;
	assert_non_null(proxied = malloc(len));
	snprintf(proxied, len, "%s host='%s'", ci, d.dir);   /* the last wins */
	db = open_db(proxied, TODO_SCHEMA_VERSION);
	free(proxied);
	free(ci);
	assert_int_equal(store_ping(db), TD_OK);
	assert_false(db_last_resent(db));

	dropper_arm(&d);
	assert_int_equal(store_create(db, &me, "once", NULL, NULL), TD_OK);
	dropper_dropped(&d);
	assert_true(db_last_resent(db));
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos "
	    "WHERE title = 'once'"), 1);

	id = id_of("once");
	dropper_arm(&d);
	assert_int_equal(store_delete(db, &me, id), TD_OK);
	dropper_dropped(&d);
	assert_true(db_last_resent(db));
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos"), 0);

	/* The resent delete names the batch the first attempt made, and a
	 * resent undo reports the first attempt's restore. */
	{
		struct store_change ch, u;
		int64_t again;

		assert_int_equal(store_create(db, &me, "again", NULL, NULL), TD_OK);
		again = id_of("again");
		dropper_arm(&d);
		assert_int_equal(store_delete_change(db, arena, &me, again, FILTER_ALL, NULL, &ch), TD_OK);
		dropper_dropped(&d);
		assert_true(db_last_resent(db));
		assert_int_equal(ch.batch, sql_int(admin, "SELECT batch FROM todo_trash "
		    "WHERE title = 'again'"));
		assert_string_equal(ch.title, "again");
		dropper_arm(&d);
		assert_int_equal(store_undo(db, &me, ch.batch, &u), TD_OK);
		dropper_dropped(&d);
		assert_true(db_last_resent(db));
		assert_int_equal(u.count, 1);
		assert_int_equal(u.focus, again);
		assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE title = 'again'"), 1);
		/* Answered at once, a second undo is too late. */
		assert_int_equal(store_undo(db, &me, ch.batch, &u), TD_ENOTFOUND);
		assert_false(db_last_resent(db));
		assert_int_equal(store_delete(db, &me, again), TD_OK);
	}

	/* Answered at once, a delete of a todo that is gone, or is
	 * someone else's, is still not found. */
	assert_int_equal(store_delete(db, &me, id), TD_ENOTFOUND);
	assert_false(db_last_resent(db));
	assert_int_equal(store_create(db, &other, "theirs", NULL, NULL), TD_OK);
	theirs = id_of("theirs");
	assert_int_equal(store_delete(db, &me, theirs), TD_ENOTFOUND);
	/* Sent again, someone else's todo is still left alone. */
	dropper_arm(&d);
	assert_int_equal(store_delete(db, &me, theirs), TD_OK);
	dropper_dropped(&d);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos "
	    "WHERE title = 'theirs'"), 1);
	db_free(db);
	dropper_stop(&d);
}

/* ---- accounts ---------------------------------------------------------- */

/* Another person's todo is, to every statement, a todo that does not
 * exist; toggle-all and clear-completed stay within the asker's list. */
static void
test_isolation(void **state)
{
	struct todo_page p;
	struct todo t;
	int64_t theirs;
	long n = -1;

	(void)state;
	assert_int_equal(store_create(sdb, &other, "theirs", "private", NULL), TD_OK);
	assert_int_equal(store_create(sdb, &other, "theirs done", NULL, NULL), TD_OK);
	assert_int_equal(store_toggle(sdb, &other, id_of("theirs done")), TD_OK);
	create_ok(sdb, "mine");
	theirs = id_of("theirs");
	assert_int_equal(store_get(sdb, arena, &me, theirs, &t, &get_now_off), TD_ENOTFOUND);
	assert_int_equal(store_update(sdb, &me, theirs, "x", NULL, true), TD_ENOTFOUND);
	assert_int_equal(store_toggle(sdb, &me, theirs), TD_ENOTFOUND);
	assert_int_equal(store_delete(sdb, &me, theirs), TD_ENOTFOUND);
	assert_int_equal(store_toggle_all(sdb, &me, &n), TD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_clear_completed(sdb, &me, &n), TD_OK);
	assert_int_equal(n, 1);
	/* Theirs untouched, and their counts too. */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE user_id = 2 "
	    "AND title = 'theirs' AND description = 'private' AND NOT completed"), 1);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE user_id = 2"), 2);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.active + p.completed, 0);
	assert_string_equal(p.email, "me@example.org");
	assert_int_equal(store_list(sdb, arena, &other, FILTER_ALL, PAGE_FIRST, NULL, &p), TD_OK);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.active, 1);
	assert_int_equal(p.completed, 1);
	/* Unowned todos (from before accounts) are nobody's page. */
	sql_ok(admin, "INSERT INTO todos (title) VALUES ('unowned')");
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 0);
}

/* Unknown, idle, too old, disabled: TD_ENOSESSION, nothing changes. */
static void
test_session_check(void **state)
{
	struct store_session stranger, strict;
	unsigned char h[32];
	struct todo_page p;
	int64_t id;

	(void)state;
	create_ok(sdb, "kept");
	id = id_of("kept");
	memset(h, 9, sizeof(h));
	store_session_init(&stranger, h, 604800, 2592000, 300);
	assert_int_equal(store_list(sdb, arena, &stranger, FILTER_ALL, PAGE_FIRST, NULL, &p),
	    TD_ENOSESSION);
	assert_int_equal(store_toggle(sdb, &stranger, id), TD_ENOSESSION);
	assert_int_equal(store_delete(sdb, &stranger, id), TD_ENOSESSION);
	assert_int_equal(store_create(sdb, &stranger, "x", NULL, NULL), TD_ENOSESSION);
	assert_int_equal(store_clear_completed(sdb, &stranger, NULL), TD_ENOSESSION);

	/* Idle for an hour: fine with a day's limit, over a 30 min one. */
	sql_ok(admin, "UPDATE sessions SET last_seen = now() - interval '1 hour' WHERE user_id = 1");
	memset(h, 1, sizeof(h));
	store_session_init(&strict, h, 1800, 2592000, 300);
	assert_int_equal(store_toggle(sdb, &strict, id), TD_ENOSESSION);
	/* ... and the good check writes last seen (stale past TOUCH). */
	assert_int_equal(store_toggle(sdb, &me, id), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions WHERE user_id = 1 "
	    "AND last_seen > now() - interval '1 minute'"), 1);
	/* Absolute age. */
	sql_ok(admin, "UPDATE sessions SET created_at = now() - interval '31 days' WHERE user_id = 1");
	assert_int_equal(store_toggle(sdb, &me, id), TD_ENOSESSION);
	sql_ok(admin, "UPDATE sessions SET created_at = now() WHERE user_id = 1");
	/* A disabled account. */
	sql_ok(admin, "UPDATE users SET disabled_at = now() WHERE id = 1");
	assert_int_equal(store_toggle(sdb, &me, id), TD_ENOSESSION);
	sql_ok(admin, "UPDATE users SET disabled_at = NULL WHERE id = 1");
	/* One toggle went through in all of that. */
	assert_int_equal(sql_int(admin, "SELECT completed::int FROM todos WHERE title = 'kept'"), 1);
}

/* "Last seen" is written only when older than the touch interval. */
static void
test_session_touch(void **state)
{
	struct todo_page p;

	(void)state;
	sql_ok(admin, "UPDATE sessions SET last_seen = now() - interval '100 seconds' WHERE user_id = 1");
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);   /* touch is 300 s */
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions WHERE user_id = 1 "
	    "AND last_seen < now() - interval '99 seconds'"), 1);
	sql_ok(admin, "UPDATE sessions SET last_seen = now() - interval '400 seconds' WHERE user_id = 1");
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions WHERE user_id = 1 "
	    "AND last_seen > now() - interval '10 seconds'"), 1);
}

static void
test_login_throttle(void **state)
{
	const struct login_limits lim = { 60, 3, 5 };
	const char *hash;
	int64_t uid;
	bool disabled;
	int wait, i;

	(void)state;
	assert_int_equal(store_login_lookup(sdb, arena, "me@example.org", "10.0.0.1",
	    &lim, &wait, &uid, &hash, &disabled), TD_OK);
	assert_int_equal(wait, 0);
	assert_int_equal(uid, 1);
	assert_string_equal(hash, "$argon2id$x");
	assert_false(disabled);
	assert_int_equal(store_login_lookup(sdb, arena, "nobody@example.org", "10.0.0.1",
	    &lim, &wait, &uid, &hash, &disabled), TD_OK);
	assert_int_equal(uid, 0);
	assert_null(hash);
	/* Three failures for one email: that email waits, others do not. */
	for (i = 0; i < 3; i++)
		assert_int_equal(store_login_failed(sdb, "me@example.org", "10.0.0.1", &lim), TD_OK);
	assert_int_equal(store_login_lookup(sdb, arena, "me@example.org", "10.0.0.2",
	    &lim, &wait, &uid, &hash, &disabled), TD_OK);
	assert_in_range(wait, 55, 60);
	assert_int_equal(store_login_lookup(sdb, arena, "other@example.org", "10.0.0.1",
	    &lim, &wait, &uid, &hash, &disabled), TD_OK);
	assert_int_equal(wait, 0);
	/* Five from one address, over several emails: the address waits. */
	assert_int_equal(store_login_failed(sdb, "a@example.org", "10.0.0.1", &lim), TD_OK);
	assert_int_equal(store_login_failed(sdb, "b@example.org", "10.0.0.1", &lim), TD_OK);
	assert_int_equal(store_login_lookup(sdb, arena, "other@example.org", "10.0.0.1",
	    &lim, &wait, &uid, &hash, &disabled), TD_OK);
	assert_in_range(wait, 55, 60);
	/* A window that has passed counts from 1 again. */
	sql_ok(admin, "UPDATE login_failures SET first_at = now() - interval '61 seconds'");
	assert_int_equal(store_login_lookup(sdb, arena, "me@example.org", "10.0.0.1",
	    &lim, &wait, &uid, &hash, &disabled), TD_OK);
	assert_int_equal(wait, 0);
	assert_int_equal(store_login_failed(sdb, "me@example.org", "10.0.0.1", &lim), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT failures FROM login_failures "
	    "WHERE key = 'email:me@example.org'"), 1);
}

/* Sign-up and sign-in: a taken email changes nothing; a new session
 * replaces the browser's old one, forgets the failures, may re-hash. */
static void
test_signup_and_session_start(void **state)
{
	const struct login_limits lim = { 60, 3, 5 };
	struct store_session fresh, again;
	unsigned char h[32];
	struct todo_page p;

	(void)state;
	memset(h, 3, sizeof(h));
	store_session_init(&fresh, h, 604800, 2592000, 300);
	assert_int_equal(store_signup(sdb, "me@example.org", "$argon2id$y", &fresh, "ua"),
	    TD_ECONFLICT);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions"), 2);
	assert_int_equal(store_signup(sdb, "new@example.org", "$argon2id$y", &fresh,
	    "Mozilla <b>"), TD_OK);
	assert_int_equal(store_list(sdb, arena, &fresh, FILTER_ALL, PAGE_FIRST, NULL, &p), TD_OK);
	assert_string_equal(p.email, "new@example.org");

	assert_int_equal(store_login_failed(sdb, "me@example.org", "10.0.0.1", &lim), TD_OK);
	memset(h, 4, sizeof(h));
	store_session_init(&again, h, 604800, 2592000, 300);
	assert_int_equal(store_session_start(sdb, 1, &again, "ua2", &me, "$argon2id$z"), TD_OK);
	assert_int_equal(store_list(sdb, arena, &me, FILTER_ALL, PAGE_FIRST, NULL, &p),
	    TD_ENOSESSION);              /* the old one is gone */
	assert_int_equal(store_list(sdb, arena, &again, FILTER_ALL, PAGE_FIRST, NULL, &p), TD_OK);
	assert_string_equal(p.email, "me@example.org");
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM login_failures "
	    "WHERE key = 'email:me@example.org'"), 0);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM users "
	    "WHERE id = 1 AND password_hash = '$argon2id$z'"), 1);
}

static void
test_account_changes(void **state)
{
	struct store_session second;
	struct account acct;
	unsigned char h[32];
	struct todo *items;
	size_t n;
	long ended = -1;

	(void)state;
	memset(h, 5, sizeof(h));
	store_session_init(&second, h, 604800, 2592000, 300);
	sql_ok(admin, "INSERT INTO sessions (hash, user_id, user_agent) "
	    "VALUES (decode(repeat('05', 32), 'hex'), 1, 'phone')");
	assert_int_equal(store_account(sdb, arena, &me, &acct), TD_OK);
	assert_string_equal(acct.email, "me@example.org");
	assert_int_equal(acct.nsessions, 2);
	assert_true(acct.sessions[0].current);
	assert_false(acct.sessions[1].current);
	assert_string_equal(acct.sessions[1].user_agent, "phone");

	/* A password change against a stale hash changes nothing. */
	assert_int_equal(store_set_password(sdb, &me, "$argon2id$stale", "$argon2id$new",
	    &ended), TD_ECONFLICT);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions WHERE user_id = 1"), 2);
	assert_int_equal(store_set_password(sdb, &me, "$argon2id$x", "$argon2id$new",
	    &ended), TD_OK);
	assert_int_equal(ended, 1);
	assert_int_equal(store_toggle(sdb, &second, 1), TD_ENOSESSION);

	sql_ok(admin, "INSERT INTO sessions (hash, user_id) "
	    "VALUES (decode(repeat('05', 32), 'hex'), 1)");
	assert_int_equal(store_end_other_sessions(sdb, &me, &ended), TD_OK);
	assert_int_equal(ended, 1);

	create_ok(sdb, "first");
	create_ok(sdb, "second, \"quoted\"");
	assert_int_equal(store_create(sdb, &other, "not mine", NULL, NULL), TD_OK);
	assert_int_equal(store_export(sdb, arena, &me, &items, &n), TD_OK);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].title, "first");
	assert_string_equal(items[1].title, "second, \"quoted\"");

	assert_int_equal(store_delete_account(sdb, &me, "$argon2id$x"), TD_ECONFLICT);
	assert_int_equal(store_delete_account(sdb, &me, "$argon2id$new"), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todos WHERE title <> 'not mine'"), 0);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM todo_counts WHERE user_id = 1"), 0);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions WHERE user_id = 1"), 0);
	assert_int_equal(store_export(sdb, arena, &me, &items, &n), TD_ENOSESSION);
	assert_int_equal(store_end_session(sdb, &other), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM sessions"), 0);
}

/* ---- search, pager position, time zones (issue 9) ---- */

static void
search(const struct store_session *who, const char *q, enum todo_filter f,
    enum page_dir dir, const struct page_cursor *cur, struct todo_page *p)
{
	assert_int_equal(store_search(sdb, arena, who, q, f, dir, cur, p), TD_OK);
}

/* The titles of a page, "|"-joined, newest first. */
static const char *
titles(const struct todo_page *p)
{
	static char out[4096];
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < p->n; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "|" : "",
		    p->items[i].title);
	return out;
}

static void
test_search_matches(void **state)
{
	const char *mine[] = { "École trip", "back\\slash", "a_b", "axb", "100% done",
		"50 percent", "Plain" };
	struct todo_page p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		create_ok(sdb, mine[i]);
	assert_int_equal(store_create(sdb, &me, "Groceries", "for the ÉCOLE picnic", NULL), TD_OK);
	assert_int_equal(store_create(sdb, &other, "école secrète", "not yours", NULL), TD_OK);
	/* Case-insensitive beyond ASCII, title or description; by the
	 * trigram index ("COLE") and by the rows ("éc") alike. */
	search(&me, "ÉCOLE", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "Groceries|École trip");
	assert_int_equal(p.total, 2);
	search(&me, "éc", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "Groceries|École trip");
	assert_int_equal(p.total, 2);
	/* another person's todos never match, whatever the path */
	search(&me, "secrète", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.total, 0);
	search(&me, "yours", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 0);
	search(&other, "école", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "école secrète");
	/* %, _ and \ are plain characters */
	search(&me, "%", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "100% done");
	search(&me, "0%", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "100% done");
	search(&me, "a_b", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "a_b");
	search(&me, "_", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "a_b");
	search(&me, "\\", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "back\\slash");
	search(&me, "k\\s", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "back\\slash");
	/* no search: the list */
	search(&me, "", FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 8);
	assert_int_equal(p.total, 8);
	/* with the filter */
	assert_int_equal(store_toggle(sdb, &me, id_of("École trip")), TD_OK);
	search(&me, "école", FILTER_COMPLETED, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "École trip");
	assert_int_equal(p.total, 1);
	search(&me, "ÉCOLE", FILTER_ACTIVE, PAGE_FIRST, NULL, &p);
	assert_string_equal(titles(&p), "Groceries");
	assert_int_equal(p.total, 1);
	assert_int_equal(p.active, 7);       /* the counts stay the whole list's */
	assert_int_equal(p.completed, 1);
	/* a stranger gets no rows */
	{
		struct store_session stranger;
		unsigned char h[32];

		memset(h, 9, sizeof(h));
		store_session_init(&stranger, h, 604800, 2592000, 300);
		assert_int_equal(store_search(sdb, arena, &stranger, "école", FILTER_ALL,
		    PAGE_FIRST, NULL, &p), TD_ENOSESSION);
	}
}

/* 120 todos of me's, "Item 1" (oldest) to "Item 120", a minute apart. */
static void
add_items(int n)
{
	char q[256];

	snprintf(q, sizeof(q), "INSERT INTO todos (user_id, title, completed, created_at, updated_at) "
	    "SELECT 1, 'Item ' || g, g %% 2 = 0, now() - ((%d - g) * interval '1 minute'), now() "
	    "FROM generate_series(1, %d) g", n, n);
	sql_ok(admin, q);
}

static struct page_cursor
last_of(const struct todo_page *p)
{
	struct page_cursor c = { p->items[p->n - 1].created_us, p->items[p->n - 1].id };

	return c;
}

static struct page_cursor
first_of(const struct todo_page *p)
{
	struct page_cursor c = { p->items[0].created_us, p->items[0].id };

	return c;
}

static void
test_pager_position(void **state)
{
	const char *qs[] = { NULL, "ITEM", "it" };   /* list, trigram, rows */
	struct todo_page p1, p2, p3, back;
	struct page_cursor c;
	size_t i;

	(void)state;
	add_items(120);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		search(&me, qs[i], FILTER_ALL, PAGE_FIRST, NULL, &p1);
		assert_int_equal(p1.n, 50);
		assert_int_equal(p1.before, 0);
		assert_int_equal(p1.total, 120);
		c = last_of(&p1);
		search(&me, qs[i], FILTER_ALL, PAGE_OLDER, &c, &p2);
		assert_int_equal(p2.n, 50);
		assert_int_equal(p2.before, 50);
		assert_int_equal(p2.total, 120);
		assert_string_equal(p2.items[0].title, "Item 70");
		assert_true(p2.has_older && p2.has_newer);
		c = last_of(&p2);
		search(&me, qs[i], FILTER_ALL, PAGE_OLDER, &c, &p3);
		assert_int_equal(p3.n, 20);
		assert_int_equal(p3.before, 100);
		assert_false(p3.has_older);
		/* back: the page newer than page 3 is page 2 again */
		c = first_of(&p3);
		search(&me, qs[i], FILTER_ALL, PAGE_NEWER, &c, &back);
		assert_int_equal(back.n, 50);
		assert_int_equal(back.before, 50);
		assert_string_equal(back.items[0].title, "Item 70");
		assert_true(back.has_newer && back.has_older);
	}
	/* filtered: 60 active (odd items), the second page starts at 51 */
	search(&me, "item", FILTER_ACTIVE, PAGE_FIRST, NULL, &p1);
	assert_int_equal(p1.total, 60);
	c = last_of(&p1);
	search(&me, "item", FILTER_ACTIVE, PAGE_OLDER, &c, &p2);
	assert_int_equal(p2.before, 50);
	assert_int_equal(p2.n, 10);
	assert_int_equal(p2.total, 60);
	list(sdb, FILTER_ACTIVE, PAGE_OLDER, &c, &p2);
	assert_int_equal(p2.before, 50);
	assert_int_equal(p2.total, 60);
	/* a narrower search counts its own matches: 1, 10-19, 100-120 */
	search(&me, "item 1", FILTER_ALL, PAGE_FIRST, NULL, &p1);
	assert_int_equal(p1.total, 32);
	assert_int_equal(p1.n, 32);
	assert_false(p1.has_older);
}

static void
test_time_zone(void **state)
{
	struct account acct;
	struct todo_page p;

	(void)state;
	sql_ok(admin, "INSERT INTO todos (user_id, title, created_at, updated_at) VALUES "
	    "(1, 'summer', '2026-07-01 12:00:00+00', now()), "
	    "(1, 'winter', '2026-01-01 12:00:00+00', now())");
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.items[0].created_off, 0);
	assert_int_equal(p.now_off, 0);
	assert_int_equal(store_account(sdb, arena, &me, &acct), TD_OK);
	assert_string_equal(acct.time_zone, "UTC");
	assert_non_null(strstr(acct.time_zones, "\nEurope/Paris\n"));
	assert_null(strstr(acct.time_zones, "posix/"));
	/* a known zone: offsets per instant, DST included */
	assert_int_equal(store_set_time_zone(sdb, &me, "Europe/Paris"), TD_OK);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_string_equal(p.items[0].title, "summer");
	assert_int_equal(p.items[0].created_off, 7200);
	assert_int_equal(p.items[1].created_off, 3600);
	assert_int_equal(store_set_time_zone(sdb, &me, "America/St_Johns"), TD_OK);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &p);
	assert_int_equal(p.items[0].created_off, -(2 * 3600 + 1800));
	assert_int_equal(p.items[1].created_off, -(3 * 3600 + 1800));
	assert_int_equal(store_account(sdb, arena, &me, &acct), TD_OK);
	assert_string_equal(acct.time_zone, "America/St_Johns");
	assert_true(acct.now_off == -(2 * 3600 + 1800) || acct.now_off == -(3 * 3600 + 1800));
	/* unknown names change nothing */
	assert_int_equal(store_set_time_zone(sdb, &me, "Mars/Olympus_Mons"), TD_EINVAL);
	assert_int_equal(store_set_time_zone(sdb, &me, ""), TD_EINVAL);
	assert_int_equal(store_set_time_zone(sdb, &me, "europe/paris'--"), TD_EINVAL);
	assert_int_equal(store_account(sdb, arena, &me, &acct), TD_OK);
	assert_string_equal(acct.time_zone, "America/St_Johns");
	/* one person's zone is theirs only */
	assert_int_equal(store_set_time_zone(sdb, &other, "Asia/Tokyo"), TD_OK);
	assert_int_equal(sql_int(admin, "SELECT count(*) FROM users WHERE time_zone = 'Asia/Tokyo'"), 1);
	assert_int_equal(store_account(sdb, arena, &me, &acct), TD_OK);
	assert_string_equal(acct.time_zone, "America/St_Johns");
}

/* store_search_check's look: the page before its strings are copied
 * (the list page's 304 digests it there), then either the end (done) or
 * the same page as store_list's, its strings copied out of the answer. */
struct seen {
	int calls;
	bool answer;
	size_t n;
	char first[64];
	const char *first_ptr;
};

static bool
look(void *ctx, const struct todo_page *page)
{
	struct seen *s = ctx;

	s->calls++;
	s->n = page->n;
	if (page->n > 0) {
		snprintf(s->first, sizeof(s->first), "%s", page->items[0].title);
		s->first_ptr = page->items[0].title;
	}
	return s->answer;
}

static void
test_search_check(void **state)
{
	struct seen s = { 0, true, 0, "", NULL };
	struct todo_page p, q;
	bool done = false;

	(void)state;
	create_ok(sdb, "older");
	assert_int_equal(store_create(sdb, &me, "newest", "its text", NULL), TD_OK);
	assert_int_equal(store_search_check(sdb, arena, &me, NULL, FILTER_ALL, PAGE_FIRST,
	    NULL, &p, look, &s, &done, NULL), TD_OK);
	assert_true(done);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.first, "newest");

	s = (struct seen){ 0, false, 0, "", NULL };
	assert_int_equal(store_search_check(sdb, arena, &me, NULL, FILTER_ALL, PAGE_FIRST,
	    NULL, &p, look, &s, &done, NULL), TD_OK);
	assert_false(done);
	assert_int_equal(s.calls, 1);
	list(sdb, FILTER_ALL, PAGE_FIRST, NULL, &q);
	assert_int_equal(p.n, q.n);
	assert_string_equal(p.email, q.email);
	assert_int_equal(p.active, q.active);
	assert_string_equal(p.items[0].title, "newest");
	assert_string_equal(p.items[0].description, "its text");
	assert_null(p.items[1].description);
	assert_string_equal(p.items[1].title, "older");
	/* copied out of the answer, which is gone */
	assert_ptr_not_equal(p.items[0].title, s.first_ptr);
	/* Kept: not copied, valid until the answer is freed; none kept
	 * after a look that ends it. */
	{
		void *answer = &s;

		s = (struct seen){ 0, false, 0, "", NULL };
		assert_int_equal(store_search_check(sdb, arena, &me, NULL, FILTER_ALL,
		    PAGE_FIRST, NULL, &p, look, &s, &done, &answer), TD_OK);
		assert_non_null(answer);
		assert_ptr_equal(p.items[0].title, s.first_ptr);
		assert_string_equal(p.items[0].title, "newest");
		assert_string_equal(p.items[0].description, "its text");
		store_answer_free(answer);
		s.answer = true;
		assert_int_equal(store_search_check(sdb, arena, &me, NULL, FILTER_ALL,
		    PAGE_FIRST, NULL, &p, look, &s, &done, &answer), TD_OK);
		assert_true(done);
		assert_null(answer);
		store_answer_free(NULL);
	}
	/* another person: their own list, empty */
	s.calls = 0;
	assert_int_equal(store_search_check(sdb, arena, &other, NULL, FILTER_ALL,
	    PAGE_FIRST, NULL, &p, look, &s, &done, NULL), TD_OK);
	assert_int_equal(s.calls, 1);
	assert_int_equal(p.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_empty_then_create),
		T(test_filters),
		T(test_pagination),
		T(test_create_token),
		T(test_not_found),
		T(test_update_timestamps),
		T(test_toggle_all),
		T(test_clear_completed),
		T(test_constraints),
		T(test_undo_delete),
		T(test_nearest_in_filter),
		T(test_nearest_in_search),
		T(test_undo_clear_completed),
		T(test_undo_window_and_sweep),
		T(test_round_trips),
		T(test_terminated_backend),
		T(test_schema_guard),
		T(test_client_encoding),
		T(test_lock_wait_cancelled),
		T(test_server_lock_timeout),
		T(test_read_only),
		T(test_status_of),
		T(test_terminated_while_waiting),
		T(test_answer_lost_after_commit),
		T(test_isolation),
		T(test_session_check),
		T(test_session_touch),
		T(test_login_throttle),
		T(test_signup_and_session_start),
		T(test_account_changes),
		T(test_server_restart),
		T(test_server_down),
		T(test_search_matches),
		T(test_pager_position),
		T(test_time_zone),
		T(test_search_check),
#undef T
	};

	if ((url = getenv("DATABASE_URL")) == NULL || *url == '\0') {
		fprintf(stderr, "itest_store: DATABASE_URL is not set; run it "
		    "as tests/pg-harness %s\n", "./itest_store");
		return 1;
	}
	return cmocka_run_group_tests_name("store", tests, group_setup,
	    group_teardown);
}
