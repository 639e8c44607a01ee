/* itest_tls.c - the database layer against the harness's hosted-like set-up
 * (tests/pg-harness): PostgreSQL with TLS and SCRAM reached directly with
 * sslmode=verify-full and channel_binding=require (TODO_TEST_TLS_URL), and
 * a stock PgBouncer 1.24 in transaction mode over TLS in front of it
 * (TODO_TEST_POOLER_URL), as Neon's direct and pooled endpoints are.
 * Migrations run through the pooler; the store's every statement must work
 * there at one round trip; TLS failures must be refusals that name their
 * cause, never a plain-text fallback. */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

#define TIMEOUT_MS 5000

static const char *tls_url;      /* direct, verify-full, channel binding */
static const char *pooler_url;   /* PgBouncer, verify-full */
static const char *admin_url;    /* superuser over the unix socket */
static struct arena *arena;
/* The people every store call asks as (store_people.h). */
static struct store_session me, other;
static char tmpdir[256];

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* base (a key=value string) with " key=value" appended: libpq takes the
 * last value of a repeated key. Caller frees. */
static char *
url_plus(const char *base, const char *extra)
{
	size_t n = strlen(base) + strlen(extra) + 2;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, "%s %s", base, extra);
	return s;
}

static int64_t
sql_int(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int64_t v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s: %s", sql, msg);
	}
	v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
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

/* The superuser, over the socket, in the test's database. */
static PGconn *
admin(void)
{
	PGconn *c = PQconnectdb(admin_url);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("admin connect: %s", PQerrorMessage(c));
	/* A test that failed while another admin connection held a lock
	 * leaves it held: the next TRUNCATE fails instead of hanging. */
	sql_ok(c, "SET lock_timeout = '10s'");
	return c;
}

/* Connecting must fail; returns libpq's message (static). */
static const char *
connect_fails(const char *url)
{
	static char err[1024];
	PGconn *c;

	err[0] = '\0';
	c = db_connect_once(url, 5, "itest_tls", err, sizeof(err));
	if (c != NULL) {
		PQfinish(c);
		fail_msg("connected with %s", url);
	}
	return err;
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
	/* todoctl's path through the pooler: the migrations as todo_app. */
	if ((c = db_connect_admin(pooler_url, "itest_tls", NULL)) == NULL)
		return -1;
	if (migrate_load(dir, &m) != TD_OK || migrate_up(c, m, 0) != TD_OK) {
		fprintf(stderr, "itest_tls: migrations through the pooler failed\n");
		goto out;
	}
	if ((arena = arena_new(0)) == NULL)
		goto out;
	snprintf(tmpdir, sizeof(tmpdir), "%s/itest_tls.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
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
	char cmd[512];

	(void)state;
	arena_free(arena);
	if (tmpdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "itest_tls: could not remove %s\n", tmpdir);
	}
	return 0;
}

static int
setup(void **state)
{
	PGconn *c = admin();

	(void)state;
	if (store_people_reset(c, &me, &other) != 0) {
		PQfinish(c);
		return -1;
	}
	PQfinish(c);
	arena_reset(arena);
	return 0;
}

/* ---- direct, verified TLS ---------------------------------------------- */

static void
test_direct_verified(void **state)
{
	char err[1024];
	PGconn *c;

	(void)state;
	c = db_connect_once(tls_url, 5, "itest_tls", err, sizeof(err));
	if (c == NULL)
		fail_msg("direct TLS connect: %s", err);
	assert_int_equal(PQsslInUse(c), 1);
	assert_non_null(PQsslAttribute(c, "protocol"));
	/* The SCRAM exchange was bound to the TLS channel, or libpq would
	 * have refused (channel_binding=require). */
	assert_non_null(strstr(tls_url, "channel_binding=require"));
	assert_string_equal(PQparameterStatus(c, "client_encoding"), "UTF8");
	PQfinish(c);
}

static void
test_wrong_ca(void **state)
{
	char cmd[1024], ca[512], extra[600];
	const char *err;
	char *url;

	(void)state;
	snprintf(ca, sizeof(ca), "%s/other-ca.crt", tmpdir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout '%s/other-ca.key' -out '%s' "
	    "-subj /CN=other-ca -days 1 >/dev/null 2>&1", tmpdir, ca);
	assert_int_equal(system(cmd), 0);
	snprintf(extra, sizeof(extra), "sslrootcert=%s", ca);
	url = url_plus(tls_url, extra);
	err = connect_fails(url);
	assert_non_null(strstr(err, "certificate verify failed"));
	assert_non_null(strstr(db_error_hint(err), "sslrootcert"));
	free(url);
	/* The pooler's endpoint is held to the same rule. */
	url = url_plus(pooler_url, extra);
	err = connect_fails(url);
	assert_non_null(strstr(err, "certificate verify failed"));
	free(url);
}

static void
test_wrong_host_name(void **state)
{
	const char *err;
	char *url;

	(void)state;
	/* Same server (hostaddr), but the name to verify is another one. */
	url = url_plus(tls_url, "host=db.example.com hostaddr=127.0.0.1");
	err = connect_fails(url);
	assert_non_null(strstr(err, "does not match host name"));
	assert_non_null(strstr(db_error_hint(err), "host name"));
	free(url);
}

/* A server without TLS answers the SSLRequest with 'N'. verify-full must
 * then give up, not carry on in plain text. */
static void
test_server_without_tls(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char extra[128], buf[8];
	const char *err;
	char *url;
	pid_t pid;
	int lfd, fd, status;

	(void)state;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10);
		if ((fd = accept(lfd, NULL, NULL)) >= 0 &&
		    read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
		    write(fd, "N", 1) == 1) {
			/* Anything sent now would be plain text: count it. */
			_exit(read(fd, buf, 1) > 0 ? 1 : 0);
		}
		_exit(2);
	}
	close(lfd);
	snprintf(extra, sizeof(extra), "port=%d", ntohs(sa.sin_port));
	url = url_plus(tls_url, extra);
	err = connect_fails(url);
	assert_non_null(strstr(err, "does not support SSL"));
	assert_non_null(strstr(db_error_hint(err), "never falls back"));
	free(url);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The direct connection with PGCLIENTENCODING=LATIN1 in the environment. */
static void
test_direct_encoding(void **state)
{
	const struct db_stmt *st;
	struct db *db = NULL;
	PGconn *c;
	int n;

	(void)state;
	st = store_statements(&n);
	assert_int_equal(setenv("PGCLIENTENCODING", "LATIN1", 1), 0);
	assert_int_equal(db_new(&db, tls_url, TIMEOUT_MS, st, n,
	    TODO_SCHEMA_VERSION), TD_OK);
	assert_int_equal(store_create(db, &me, "caf\xc3\xa9", NULL, NULL), TD_OK);
	unsetenv("PGCLIENTENCODING");
	c = admin();
	assert_int_equal(sql_int(c, "SELECT octet_length(title) FROM todos"), 5);
	PQfinish(c);
	db_free(db);
}

/* ---- through the pooler -------------------------------------------------- */

static struct db *
pooler_db(void)
{
	const struct db_stmt *st;
	struct db *db = NULL;
	int n;

	st = store_statements(&n);
	assert_int_equal(db_new(&db, pooler_url, TIMEOUT_MS, st, n,
	    TODO_SCHEMA_VERSION), TD_OK);
	return db;
}

/* Every statement of the store through a stock PgBouncer over TLS, each at
 * one round trip (its first use prepares it in the same pipeline). Before
 * statements were prepared on first use, the first call never returned. */
static void
test_pooler_every_statement(void **state)
{
	struct db *db = pooler_db();
	struct todo_page p;
	struct todo t;
	uint64_t rt;
	int64_t id;
	int f, i;
	PGconn *c;

	(void)state;
	assert_int_equal(store_ping(db), TD_OK);
#define ONE(call) do {							\
	rt = db_round_trips(db);					\
	call;								\
	assert_int_equal(db_round_trips(db), rt + 1);			\
} while (0)
	for (i = 0; i < 3; i++)
		ONE(assert_int_equal(store_create(db, &me, i == 0 ? "a" : i == 1 ?
		    "b" : "c", "d", NULL), TD_OK));
	c = admin();
	id = sql_int(c, "SELECT min(id) FROM todos");
	for (f = 0; f < 3; f++) {
		ONE(assert_int_equal(store_list(db, arena, &me, (enum todo_filter)f,
		    PAGE_FIRST, NULL, &p), TD_OK));
		ONE(assert_int_equal(store_list(db, arena, &me, (enum todo_filter)f,
		    PAGE_OLDER, &(struct page_cursor){ INT64_C(4102444800000000), 1 },
		    &p), TD_OK));
		ONE(assert_int_equal(store_list(db, arena, &me, (enum todo_filter)f,
		    PAGE_NEWER, &(struct page_cursor){ 0, 1 }, &p), TD_OK));
	}
	ONE(assert_int_equal(store_list(db, arena, &me, FILTER_ALL, PAGE_FIRST, NULL,
	    &p), TD_OK));
	assert_int_equal(p.n, 3);
	assert_int_equal(p.active, 3);
	ONE(assert_int_equal(store_get(db, arena, &me, id, &t, &get_now_off), TD_OK));
	assert_string_equal(t.title, "a");
	ONE(assert_int_equal(store_update(db, &me, id, "a2", NULL, false), TD_OK));
	ONE(assert_int_equal(store_toggle(db, &me, id), TD_OK));
	ONE(assert_int_equal(store_toggle_all(db, &me, NULL), TD_OK));
	assert_int_equal(sql_int(c, "SELECT count(*) FROM todos WHERE completed"), 3);
	ONE(assert_int_equal(store_clear_completed(db, &me, NULL), TD_OK));
	ONE(assert_int_equal(store_create(db, &me, "e", NULL, NULL), TD_OK));
	ONE(assert_int_equal(store_delete(db, &me, sql_int(c,
	    "SELECT max(id) FROM todos")), TD_OK));
	ONE(assert_int_equal(store_delete(db, &me, id), TD_ENOTFOUND));
	ONE(assert_int_equal(store_create(db, &me, "", NULL, NULL), TD_ECONFLICT));
#undef ONE
	assert_int_equal(sql_int(c, "SELECT count(*) FROM todos"), 0);
	PQfinish(c);
	db_free(db);
}

/* Two clients of the pooler, many statements: each gets its own answers
 * (the pooler re-prepares statements on whichever server connection). */
static void
test_pooler_two_clients(void **state)
{
	struct db *a = pooler_db(), *b = pooler_db();
	struct todo_page p;
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		assert_int_equal(store_create(i % 2 ? a : b, &me, "x", NULL, NULL), TD_OK);
		assert_int_equal(store_list(i % 2 ? b : a, arena, &me, FILTER_ALL,
		    PAGE_FIRST, NULL, &p), TD_OK);
		assert_int_equal(p.n, (size_t)i + 1);
	}
	db_free(a);
	db_free(b);
}

/* A client-side cancel travels through the pooler too: a toggle behind a
 * lock answers TD_EDB within the bound and is not applied afterwards. */
static void
test_pooler_cancel(void **state)
{
	const struct db_stmt *st;
	struct db *db = NULL;
	int64_t id, t0;
	PGconn *c;
	int n;

	(void)state;
	st = store_statements(&n);
	assert_int_equal(db_new(&db, pooler_url, 1000, st, n,
	    TODO_SCHEMA_VERSION), TD_OK);
	assert_int_equal(store_create(db, &me, "locked", NULL, NULL), TD_OK);
	c = admin();
	id = sql_int(c, "SELECT id FROM todos");
	sql_ok(c, "BEGIN");
	sql_ok(c, "LOCK TABLE todos IN ACCESS EXCLUSIVE MODE");
	t0 = mono_ms();
	assert_int_equal(store_toggle(db, &me, id), TD_EDB);
	assert_true(mono_ms() - t0 < 1000 + 1500);
	sql_ok(c, "COMMIT");
	assert_int_equal(sql_int(c, "SELECT count(*) FROM todos WHERE completed"), 0);
	assert_int_equal(store_toggle(db, &me, id), TD_OK);
	assert_int_equal(sql_int(c, "SELECT count(*) FROM todos WHERE completed"), 1);
	PQfinish(c);
	db_free(db);
}

/* A statement whose first use meets a lock fails in its Parse (parse
 * analysis locks the table), here by the role's lock_timeout as `todoctl
 * migrate up` sets it. PgBouncer keeps the name of a Parse that failed,
 * and closes a client that sends a Parse of the same name again; the
 * statement must work once the lock is gone, without a lost connection
 * (the toggle is never retried, so one would show as TD_EDB). */
static void
test_pooler_parse_fails_behind_lock(void **state)
{
	struct db *db;
	int64_t id;
	uint64_t reconnects;
	char sql[256];
	PGconn *c = admin();
	int i;

	(void)state;
	snprintf(sql, sizeof(sql), "ALTER ROLE todo_app IN DATABASE \"%s\" "
	    "SET lock_timeout = '200ms'", PQdb(c));
	sql_ok(c, sql);
	sql_ok(c, "INSERT INTO todos (user_id, title) VALUES (1, 'locked')");
	id = sql_int(c, "SELECT id FROM todos");
	/* New server sessions, which take the role's setting. */
	PQfinish(c);
	c = PQconnectdb(getenv("TODO_TEST_PGBOUNCER_ADMIN_URL"));
	if (PQstatus(c) == CONNECTION_OK)
		PQclear(PQexec(c, "RECONNECT"));
	PQfinish(c);
	c = admin();
	db = pooler_db();
	assert_int_equal(store_ping(db), TD_OK);
	reconnects = db_reconnects(db);
	sql_ok(c, "BEGIN");
	sql_ok(c, "LOCK TABLE todos IN ACCESS EXCLUSIVE MODE");
	for (i = 0; i < 2; i++) {    /* toggle's Parse fails, twice */
		assert_int_equal(store_toggle(db, &me, id), TD_EDB);
		assert_non_null(strstr(db_last_error(db), "55P03"));
	}
	sql_ok(c, "COMMIT");
	for (i = 0; i < 3; i++)
		assert_int_equal(store_toggle(db, &me, id), TD_OK);
	/* The pooler never closed the connection. */
	assert_int_equal(db_reconnects(db), reconnects);
	assert_int_equal(sql_int(c, "SELECT count(*) FROM todos WHERE completed"), 1);
	snprintf(sql, sizeof(sql), "ALTER ROLE todo_app IN DATABASE \"%s\" "
	    "RESET lock_timeout", PQdb(c));
	sql_ok(c, sql);
	PQfinish(c);
	db_free(db);
}

/* Run the built todoctl with DATABASE_URL=url and args; output to a file
 * in tmpdir; returns the exit status. */
static int
todoctl(const char *url, const char *args, char *out, size_t outlen)
{
	const char *b = getenv("TODO_BUILDDIR"), *src = getenv("TODO_SRCDIR");
	char cmd[8192], path[512];
	FILE *f;
	size_t n;
	int st;

	snprintf(path, sizeof(path), "%s/todoctl.out", tmpdir);
	snprintf(cmd, sizeof(cmd), "DATABASE_URL=\"%s\" timeout 60 '%s/todoctl' "
	    "--sql-dir '%s/sql' %s >'%s' 2>&1", url, b != NULL ? b : ".",
	    src != NULL ? src : TODO_SRCDIR, args, path);
	st = system(cmd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* todoctl's other jobs through the pooler too: the Python version's
 * SQLite file imported (COPY, merge, the identity moved) and verified, and
 * a second import that changes nothing. */
static void
test_pooler_import_and_verify(void **state)
{
	const char *src = getenv("TODO_SRCDIR");
	char out[16384], args[1024];
	PGconn *c;

	(void)state;
	snprintf(args, sizeof(args), "import-sqlite --no-backup '%s/tests/fixtures/"
	    "todo_app_local.db'", src != NULL ? src : TODO_SRCDIR);
	if (todoctl(pooler_url, args, out, sizeof(out)) != 0)
		fail_msg("import through the pooler: %s", out);
	c = admin();
	assert_int_equal(sql_int(c, "SELECT count(*) FROM todos"), 500);
	/* The identity moved past the largest imported id. */
	assert_true(sql_int(c, "SELECT nextval(pg_get_serial_sequence('todos', 'id'))") >
	    sql_int(c, "SELECT max(id) FROM todos"));
	PQfinish(c);
	snprintf(args, sizeof(args), "verify-sqlite '%s/tests/fixtures/"
	    "todo_app_local.db'", src != NULL ? src : TODO_SRCDIR);
	if (todoctl(pooler_url, args, out, sizeof(out)) != 0)
		fail_msg("verify through the pooler: %s", out);
	snprintf(args, sizeof(args), "import-sqlite --no-backup '%s/tests/fixtures/"
	    "todo_app_local.db'", src != NULL ? src : TODO_SRCDIR);
	if (todoctl(pooler_url, args, out, sizeof(out)) != 0)
		fail_msg("second import through the pooler: %s", out);
	if (todoctl(pooler_url, "migrate status", out, sizeof(out)) != 0)
		fail_msg("migrate status through the pooler: %s", out);
}

/* channel_binding=require cannot work through a self-hosted PgBouncer (no
 * SCRAM-SHA-256-PLUS): refused, with a hint that says why. */
static void
test_pooler_channel_binding(void **state)
{
	const char *err;
	char *url;

	(void)state;
	url = url_plus(pooler_url, "channel_binding=require");
	err = connect_fails(url);
	assert_non_null(strstr(err, "channel binding"));
	assert_non_null(strstr(db_error_hint(err), "PgBouncer"));
	free(url);
}

static void
test_pooler_encoding(void **state)
{
	struct db *db;
	PGconn *c;

	(void)state;
	assert_int_equal(setenv("PGCLIENTENCODING", "LATIN1", 1), 0);
	db = pooler_db();
	assert_int_equal(store_create(db, &me, "caf\xc3\xa9", NULL, NULL), TD_OK);
	unsetenv("PGCLIENTENCODING");
	c = admin();
	assert_int_equal(sql_int(c, "SELECT octet_length(title) FROM todos"), 5);
	PQfinish(c);
	db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)
		T(test_direct_verified),
		T(test_wrong_ca),
		T(test_wrong_host_name),
		T(test_server_without_tls),
		T(test_direct_encoding),
		T(test_pooler_every_statement),
		T(test_pooler_two_clients),
		T(test_pooler_cancel),
		T(test_pooler_parse_fails_behind_lock),
		T(test_pooler_channel_binding),
		T(test_pooler_import_and_verify),
		T(test_pooler_encoding),
#undef T
	};

	tls_url = getenv("TODO_TEST_TLS_URL");
	pooler_url = getenv("TODO_TEST_POOLER_URL");
	admin_url = getenv("DATABASE_URL");
	if (tls_url == NULL || pooler_url == NULL || admin_url == NULL) {
		fprintf(stderr, "itest_tls: run me through tests/pg-harness "
		    "(TODO_TEST_TLS_URL, TODO_TEST_POOLER_URL, DATABASE_URL)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
