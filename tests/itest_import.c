/* itest_import.c - todoctl import-sqlite and verify-sqlite against a real
 * PostgreSQL (tests/pg-harness gives DATABASE_URL), with SQLite files the
 * tests write themselves. Runs the built todoctl: $TODO_TODOCTL, else
 * $TODO_BUILDDIR/todoctl, else argv[1], else ./todoctl. Migrations come
 * from $TODO_SRCDIR/sql (default ./sql). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgtest.h"
#include <sqlite3.h>

#include "route.h"

static char todoctl[PATH_MAX];
static char sqldir[PATH_MAX];
static char tmpdir[] = "/tmp/itest_import.XXXXXX";
static PGconn *pg;
static int serial;

static const char python_ddl[] =
    "CREATE TABLE todo (\n"
    "\tid INTEGER NOT NULL, \n"
    "\ttitle VARCHAR NOT NULL, \n"
    "\tdescription VARCHAR, \n"
    "\tcompleted BOOLEAN NOT NULL, \n"
    "\tcreated_at DATETIME NOT NULL, \n"
    "\tupdated_at DATETIME NOT NULL, \n"
    "\tPRIMARY KEY (id)\n);\n"
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));\n"
    "INSERT INTO alembic_version VALUES ('3f2a9c1d7b44');\n";

/* ---- helpers -------------------------------------------------------- */

static void
sq(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sqlite: %s", err);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A new SQLite file in the Python version's format with n plain rows. */
static void
make_db(char *path, size_t len, int n)
{
	char sql[512];

	snprintf(path, len, "%s/src%d.db", tmpdir, ++serial);
	sq(path, python_ddl);
	snprintf(sql, sizeof(sql), "WITH RECURSIVE c(x) AS (SELECT 1 UNION "
	    "ALL SELECT x + 1 FROM c WHERE x < %d) INSERT INTO todo SELECT x, "
	    "'title ' || x, CASE WHEN x %% 3 = 0 THEN NULL ELSE 'd' || x END, "
	    "x %% 2, '2025-03-01 10:00:00.123456', "
	    "'2025-03-02 11:00:00.000001' FROM c", n);
	if (n > 0)
		sq(path, sql);
}


/* Run todoctl with args; stdout+stderr go to out (a path). With
 * pause_after > 0, kill it with SIGKILL once the test hook stops it. */
static int
run(const char *out, long pause_after, const char *const *args)
{
	const char *argv[32];
	char pa[32];
	pid_t pid;
	int st, fd, i, n = 0;

	argv[n++] = todoctl;
	for (i = 0; args[i] != NULL && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(125);
		if (pause_after > 0) {
			snprintf(pa, sizeof(pa), "%ld", pause_after);
			setenv("TODO_IMPORT_TEST_PAUSE_AFTER", pa, 1);
		} else
			unsetenv("TODO_IMPORT_TEST_PAUSE_AFTER");
		execv(todoctl, (char *const *)argv);
		_exit(126);
	}
	if (pause_after > 0) {
		assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
		assert_true(WIFSTOPPED(st));
		assert_int_equal(kill(pid, SIGKILL), 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static char *
slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
out_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s/%s-%d.out", tmpdir, what, ++serial);
}

#define RUN(out, ...) run((out), 0, (const char *const[]){ __VA_ARGS__, NULL })

static int
reset(void **state)
{
	(void)state;
	PQclear(pgtest_q(pg, "TRUNCATE todos, sqlite_imported, users, sessions, "
	    "todo_counts, todo_trash; "
	    "ALTER TABLE todos ALTER COLUMN id RESTART WITH 1"));
	return 0;
}

/* ---- tests ---------------------------------------------------------- */

static void
t_fixture(void **state)
{
	const char *fx = getenv("TODO_FIXTURE"), *src = getenv("TODO_SRCDIR");
	char db[PATH_MAX], out[PATH_MAX], cmd[4 * PATH_MAX + 64], def[PATH_MAX];
	struct stat stb;

	(void)state;
	/* The Python version's own file, kept in the tree (a copy of
	 * shared/fixtures/todo_app_local.db) so this test always runs. */
	if (fx == NULL || *fx == '\0') {
		snprintf(def, sizeof(def), "%s/tests/fixtures/todo_app_local.db",
		    src != NULL ? src : ".");
		fx = def;
	}
	assert_int_equal(stat(fx, &stb), 0);
	snprintf(db, sizeof(db), "%s/fixture.db", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod u+w '%s'", fx, db,
	    db);
	assert_int_equal(system(cmd), 0);
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db), 0);
	assert_non_null(strstr(slurp(out), "alembic revision: 3f2a9c1d7b44"));
	assert_non_null(strstr(slurp(out), "backup: "));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 500);
	/* No --owner: nobody's, so nobody's counts. */
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todo_counts"), 0);
	assert_non_null(strstr(slurp(out), "500 todos imported without an "
	    "owner: assign them with todoctl assign-unowned EMAIL"));
	out_path(out, sizeof(out), "verify");
	assert_int_equal(RUN(out, "verify-sqlite", db), 0);
	assert_non_null(strstr(slurp(out), "IDENTICAL"));
	/* The app's next todo gets a fresh id. */
	assert_int_equal(pgtest_int(pg, "INSERT INTO todos (title) VALUES ('new') "
	    "RETURNING id"), 501);
	/* The source file itself is untouched and the backup is a copy. */
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s' && ls '%s'.bak-* "
	    ">/dev/null", fx, db, db);
	assert_int_equal(system(cmd), 0);
}

static void
t_hostile(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], rej[PATH_MAX], *r;
	char title200[201], title201[202], sql[8192];

	(void)state;
	memset(title200, 'x', 200);
	title200[0] = ' ';		/* padding counts */
	title200[200] = '\0';
	memset(title201, 'y', 201);
	title201[201] = '\0';
	make_db(db, sizeof(db), 0);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO todo VALUES "
	    "(1, 'emoji \xF0\x9F\x98\x80 caf\xC3\xA9', '', 0, "
	    "'2025-03-01 10:00:00.000000', '2025-03-01 10:00:00.000000'),"
	    "(2, '<script>alert(1)</script> &amp;', NULL, 1, "
	    "'2025-03-01T10:00:00Z', '2025-03-01T12:00:00+02:00'),"
	    "(3, 'Robert''); DROP TABLE todos;--', 'a\\b\\\\c', 'true', "
	    "'2025-03-01', 1740823200),"
	    "(4, '\\N', 'tab\there' || char(10) || 'nl' || char(13) || 'cr', "
	    "'false', 1740823200123, '2025-03-01 10:00'),"
	    "(5, '  padded  ', '   ', 1, '2025-03-01 10:00:00.5', "
	    "'2025-03-01 10:00:00.5'),"
	    "(6, '%s', NULL, 0, '2025-03-01 10:00:00', '2025-03-01 10:00:00'),"
	    "(7, '%s', NULL, 0, '2025-03-01 10:00:00', '2025-03-01 10:00:00'),"
	    "(8, '', NULL, 0, '2025-03-01 10:00:00', '2025-03-01 10:00:00'),"
	    "(9, CAST(x'41C328' AS TEXT), NULL, 0, '2025-03-01', '2025-03-01'),"
	    "(10, CAST(x'410042' AS TEXT), NULL, 0, '2025-03-01', "
	    "'2025-03-01'),"
	    "(11, 'bad date', NULL, 0, 'yesterday', '2025-03-01'),"
	    "(12, 'bad bool', NULL, 2, '2025-03-01', '2025-03-01'),"
	    "(9223372036854775806, 'huge id', NULL, 0, '2025-03-01', "
	    "'2025-03-01'),"
	    "(9223372036854775807, 'too huge', NULL, 0, '2025-03-01', "
	    "'2025-03-01'),"
	    "(13, 'desc NUL', CAST(x'6100' AS TEXT), 0, '2025-03-01', "
	    "'2025-03-01'),"
	    "(14, 'ms epoch', NULL, 1, 1740823200123, 1740823200),"
	    "(15, 'micro', NULL, 0, '2025-03-01 10:00:00.1234567', "
	    "'2025-03-01')",
	    title200, title201);
	sq(db, sql);
	snprintf(rej, sizeof(rej), "%s/hostile.rejects", tmpdir);
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--reject-file", rej), 6);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 8);

	/* Byte for byte. */
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 1"),
	    "emoji \xF0\x9F\x98\x80 caf\xC3\xA9");
	assert_string_equal(pgtest_str(pg, "SELECT description FROM todos WHERE id = 1"),
	    "");
	assert_string_equal(pgtest_str(pg, "SELECT description FROM todos WHERE id = 2"),
	    "<NULL>");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 2"),
	    "<script>alert(1)</script> &amp;");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 3"),
	    "Robert'); DROP TABLE todos;--");
	assert_string_equal(pgtest_str(pg, "SELECT description FROM todos WHERE id = 3"),
	    "a\\b\\\\c");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 4"),
	    "\\N");
	assert_string_equal(pgtest_str(pg, "SELECT description FROM todos WHERE id = 4"),
	    "tab\there\nnl\rcr");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 5"),
	    "  padded  ");
	assert_string_equal(pgtest_str(pg, "SELECT description FROM todos WHERE id = 5"),
	    "   ");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 6"),
	    title200);
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = "
	    "9223372036854775806"), "huge id");
	/* Booleans and every time format, in UTC. */
	PQclear(pgtest_q(pg, "SET TimeZone = 'UTC'"));
	assert_string_equal(pgtest_str(pg, "SELECT format('%s|%s|%s', completed, "
	    "created_at, updated_at) FROM todos WHERE id = 2"),
	    "t|2025-03-01 10:00:00+00|2025-03-01 10:00:00+00");
	assert_string_equal(pgtest_str(pg, "SELECT format('%s|%s|%s', completed, "
	    "created_at, updated_at) FROM todos WHERE id = 3"),
	    "t|2025-03-01 00:00:00+00|2025-03-01 10:00:00+00");
	assert_string_equal(pgtest_str(pg, "SELECT format('%s|%s|%s', completed, "
	    "created_at, updated_at) FROM todos WHERE id = 4"),
	    "f|2025-03-01 10:00:00.123+00|2025-03-01 10:00:00+00");
	assert_string_equal(pgtest_str(pg, "SELECT format('%s|%s', created_at, "
	    "updated_at) FROM todos WHERE id = 5"),
	    "2025-03-01 10:00:00.5+00|2025-03-01 10:00:00.5+00");
	/* The id generator moved past the largest id. */
	assert_int_equal(pgtest_int(pg, "SELECT pg_sequence_last_value('todos_id_seq')"),
	    9223372036854775806LL);

	r = slurp(rej);
	assert_non_null(strstr(r, "source_id\tcolumn\treason\tvalue\n"));
	assert_non_null(strstr(r, "7\ttitle\ttitle is over 200 characters\t"
	    "yyyy"));
	assert_non_null(strstr(r, "8\ttitle\ttitle is empty\t\n"));
	assert_non_null(strstr(r, "9\ttitle\tinvalid UTF-8\tA\\xC3(\n"));
	assert_non_null(strstr(r, "10\ttitle\tcontains a NUL byte\t"
	    "A\\x00B\n"));
	assert_non_null(strstr(r, "11\tcreated_at\tunreadable date\t"
	    "yesterday\n"));
	assert_non_null(strstr(r, "12\tcompleted\tboolean is neither 0/1 nor "
	    "true/false\t2\n"));
	assert_non_null(strstr(r, "9223372036854775807\tid\t"));
	assert_non_null(strstr(r, "13\tdescription\tcontains a NUL byte\t"
	    "a\\x00\n"));
	assert_non_null(strstr(r, "15\tcreated_at\tdate has more than "
	    "microsecond precision\t"));
	assert_non_null(strstr(slurp(out), "rejected rows and conflicts are "
	    "listed in"));

	/* Verify agrees: identical except for the rejected rows. */
	out_path(out, sizeof(out), "verify");
	assert_int_equal(RUN(out, "verify-sqlite", db), 6);
	assert_non_null(strstr(slurp(out), "rejected  id=9: title: invalid "
	    "UTF-8"));
	/* And a second run changes nothing. */
	out_path(out, sizeof(out), "import2");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--reject-file", rej), 6);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 8);
}

/* The todo's pages answer for id: the router takes it back unchanged. */
static void
addressable(long long id)
{
	struct route_match m;
	char path[64];

	snprintf(path, sizeof(path), "/todos/%lld/edit", id);
	if (route_match("GET", path, &m) != TD_OK)
		fail_msg("GET %s: not routed", path);
	assert_int_equal(m.route, ROUTE_EDIT);
	assert_int_equal(m.id, id);
	snprintf(path, sizeof(path), "/todos/%lld/toggle", id);
	if (route_match("POST", path, &m) != TD_OK)
		fail_msg("POST %s: not routed", path);
	assert_int_equal(m.id, id);
}

/* Every id the import writes or the identity hands out afterwards can be
 * addressed; the others are rejected with a reason. */
static void
t_ids(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], rej[PATH_MAX], *r;
	long long id;
	PGresult *res;

	(void)state;
	/* The identity's whole range is what the router takes. */
	assert_string_equal(pgtest_str(pg, "SELECT format('%s|%s|%s|%s', seqmin, "
	    "seqmax, seqincrement, seqcycle) FROM pg_sequence WHERE "
	    "seqrelid = pg_get_serial_sequence('todos', 'id')::regclass"),
	    "1|9223372036854775807|1|f");

	make_db(db, sizeof(db), 0);
	sq(db, "INSERT INTO todo VALUES "
	    "(0, 'zero', NULL, 0, '2025-03-01', '2025-03-01'),"
	    "(-5, 'negative', NULL, 0, '2025-03-01', '2025-03-01'),"
	    "(7, 'seven', NULL, 0, '2025-03-01', '2025-03-01'),"
	    "(1000000000000000000, '10^18', NULL, 0, '2025-03-01', "
	    "'2025-03-01')");
	snprintf(rej, sizeof(rej), "%s/ids.rejects", tmpdir);
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--reject-file", rej), 6);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 2);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE id < 1"), 0);
	r = slurp(rej);
	assert_non_null(strstr(r, "\n0\tid\tid is 0 or negative: the app's "
	    "ids start at 1\t0\n"));
	assert_non_null(strstr(r, "\n-5\tid\tid is 0 or negative: the app's "
	    "ids start at 1\t-5\n"));
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = "
	    "1000000000000000000"), "10^18");
	addressable(1000000000000000000LL);
	/* The identity moved past 10^18: the app's next todo is reachable
	 * too (the 18-digit router could not reach it). */
	id = pgtest_int(pg, "INSERT INTO todos (title) VALUES ('after 10^18') "
	    "RETURNING id");
	assert_int_equal(id, 1000000000000000001LL);
	addressable(id);

	/* The top of the range, through the merge path. INT64_MAX itself
	 * is refused: the generator would have nothing left to hand out. */
	sq(db, "INSERT INTO todo VALUES "
	    "(9223372036854775806, 'top - 1', NULL, 0, '2025-03-01', "
	    "'2025-03-01'),"
	    "(9223372036854775807, 'top', NULL, 0, '2025-03-01', "
	    "'2025-03-01')");
	out_path(out, sizeof(out), "import2");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--reject-file", rej), 6);
	assert_non_null(strstr(slurp(rej), "\n9223372036854775807\tid\tid is "
	    "the largest bigint"));
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = "
	    "9223372036854775806"), "top - 1");
	addressable(9223372036854775806LL);
	/* The last id the identity hands out is still addressable; after
	 * it the insert fails instead of wrapping or going negative. */
	id = pgtest_int(pg, "INSERT INTO todos (title) VALUES ('last') RETURNING id");
	assert_int_equal(id, INT64_MAX);
	addressable(id);
	res = PQexec(pg, "INSERT INTO todos (title) VALUES ('one more')");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE),
	    "2200H");	/* sequence_generator_limit_exceeded */
	PQclear(res);

	/* Past INT64_MAX SQLite stores a REAL; in a column without integer
	 * affinity an id may be text. Both are refused, not rounded. */
	make_db(db, sizeof(db), 0);
	sq(db, "CREATE TABLE todos (id NUMERIC, title VARCHAR NOT NULL, "
	    "description VARCHAR, completed BOOLEAN NOT NULL, "
	    "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL); "
	    "INSERT INTO todos VALUES "
	    "('9223372036854775808', 'over', NULL, 0, '2025-03-01', "
	    "'2025-03-01'),"
	    "('12abc', 'text', NULL, 0, '2025-03-01', '2025-03-01'),"
	    "(1e19, 'real', NULL, 0, '2025-03-01', '2025-03-01')");
	out_path(out, sizeof(out), "import3");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--table", "todos", "--reject-file", rej), 6);
	r = slurp(rej);
	assert_non_null(strstr(r, "\n9.2233720368547758e+18 (REAL)\tid\t"
	    "id is not an integer\t"));
	assert_non_null(strstr(r, "\n1e+19 (REAL)\tid\tid is not an "
	    "integer\t"));
	assert_non_null(strstr(r, "\n12abc\tid\tid is not an integer\t"));
	/* 7, 10^18 and 10^18 + 1, INT64_MAX - 1 and INT64_MAX: nothing new. */
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 5);
}

static void
t_timezone(void **state)
{
	char db[PATH_MAX], out[PATH_MAX];

	(void)state;
	make_db(db, sizeof(db), 0);
	sq(db, "INSERT INTO todo VALUES (1, 'x', NULL, 0, "
	    "'2025-07-15 12:00:00', '2025-01-15 12:00:00Z')");
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--source-timezone", "Europe/Berlin"), 0);
	assert_non_null(strstr(slurp(out), "read as Europe/Berlin"));
	PQclear(pgtest_q(pg, "SET TimeZone = 'UTC'"));
	assert_string_equal(pgtest_str(pg, "SELECT format('%s|%s', created_at, "
	    "updated_at) FROM todos"),
	    "2025-07-15 10:00:00+00|2025-01-15 12:00:00+00");
	out_path(out, sizeof(out), "verify");
	/* Under another zone rule the rows differ. */
	assert_int_equal(RUN(out, "verify-sqlite", db), 5);
	assert_non_null(strstr(slurp(out), "different id=1: created_at"));
	assert_int_equal(RUN(out, "verify-sqlite", db, "--source-timezone",
	    "Europe/Berlin"), 0);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--source-timezone", "Mars/Olympus"), 2);
}

static void
t_kill(void **state)
{
	char db[PATH_MAX], out[PATH_MAX];

	(void)state;
	/* First import killed mid-COPY (the fast path). */
	make_db(db, sizeof(db), 5000);
	out_path(out, sizeof(out), "killed");
	assert_int_equal(run(out, 2000, (const char *const[]){
	    "import-sqlite", db, "--no-backup", NULL }), 128 + SIGKILL);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM sqlite_imported"), 0);
	assert_int_equal(pgtest_int(pg, "SELECT coalesce(sum(active + completed), 0) "
	    "FROM todo_counts"), 0);
	out_path(out, sizeof(out), "rerun");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 5000);

	/* A re-sync killed mid-COPY (the merge path): nothing changes. */
	sq(db, "UPDATE todo SET title = 'changed' WHERE id <= 10; "
	    "INSERT INTO todo VALUES (6000, 'new', NULL, 0, '2025-03-01', "
	    "'2025-03-01')");
	out_path(out, sizeof(out), "killed2");
	assert_int_equal(run(out, 3000, (const char *const[]){
	    "import-sqlite", db, "--no-backup", NULL }), 128 + SIGKILL);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 5000);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE title = "
	    "'changed'"), 0);
	out_path(out, sizeof(out), "rerun2");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE title = "
	    "'changed'"), 10);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 5001);
	assert_int_equal(RUN(out, "verify-sqlite", db), 0);
}

static void
t_rerun_noop(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], json[PATH_MAX];
	long long before;

	(void)state;
	make_db(db, sizeof(db), 300);
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	before = pgtest_int(pg, "SELECT sum(xmin::text::bigint) FROM todos");
	snprintf(json, sizeof(json), "%s/noop.json", tmpdir);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--summary-json", json), 0);
	assert_non_null(strstr(slurp(json), "\"read\":300,\"imported\":0,"
	    "\"updated\":0,\"unchanged\":300,\"rejected\":0,\"conflicts\":0"));
	/* Not a single row was rewritten. */
	assert_int_equal(pgtest_int(pg, "SELECT sum(xmin::text::bigint) FROM todos"),
	    before);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE user_id IS "
	    "NULL"), 300);
	/* Dry run: reports, writes nothing. */
	sq(db, "INSERT INTO todo VALUES (301, 'n', NULL, 0, '2025-03-01', "
	    "'2025-03-01')");
	assert_int_equal(RUN(out, "import-sqlite", db, "--dry-run",
	    "--summary-json", json), 0);
	assert_non_null(strstr(slurp(out), "DRY RUN: rolled back"));
	assert_non_null(strstr(slurp(json), "\"imported\":1,"));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 300);
}

static void
t_verify_catches(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], *o;

	(void)state;
	make_db(db, sizeof(db), 50);
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	PQclear(pgtest_q(pg, "UPDATE todos SET title = 'changed' WHERE id = 3; "
	    "DELETE FROM todos WHERE id = 4; "
	    "UPDATE todos SET description = '' WHERE id = 6"));
	sq(db, "UPDATE todo SET completed = 1 - completed WHERE id = 7; "
	    "INSERT INTO todo VALUES (60, 'added', NULL, 0, '2025-03-01', "
	    "'2025-03-01')");
	PQclear(pgtest_q(pg, "INSERT INTO todos (title) VALUES ('app')"));
	out_path(out, sizeof(out), "verify");
	assert_int_equal(RUN(out, "verify-sqlite", db), 5);
	o = slurp(out);
	assert_non_null(strstr(o, "different id=3: title, updated_at"));
	assert_non_null(strstr(o, "missing   id=4"));
	/* NULL vs "" is a difference. */
	assert_non_null(strstr(o, "different id=6: description, updated_at"));
	assert_non_null(strstr(o, "different id=7: completed"));
	assert_non_null(strstr(o, "missing   id=60"));
	assert_non_null(strstr(o, "extra     id=51"));
	/* An id generator left behind is caught too. */
	PQclear(pgtest_q(pg, "SELECT setval('todos_id_seq', 10)"));
	assert_int_equal(RUN(out, "verify-sqlite", db), 5);
	assert_non_null(strstr(slurp(out), "id generator: BEHIND"));
}

static void
t_app_rows_survive(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], rej[PATH_MAX], json[PATH_MAX], *o;

	(void)state;
	make_db(db, sizeof(db), 20);
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	/* The app creates a todo (id 21) and edits one. */
	assert_int_equal(pgtest_int(pg, "INSERT INTO todos (title) VALUES "
	    "('made in the app') RETURNING id"), 21);
	PQclear(pgtest_q(pg, "UPDATE todos SET title = 'edited in the app' WHERE id = 6"));
	PQclear(pgtest_q(pg, "DELETE FROM todos WHERE id = 8"));
	/* Meanwhile the old app wrote to SQLite. */
	sq(db, "INSERT INTO todo VALUES (21, 'made in sqlite', NULL, 0, "
	    "'2025-03-01', '2025-03-01'); "
	    "INSERT INTO todo VALUES (22, 'also new', NULL, 0, '2025-03-01', "
	    "'2025-03-01'); "
	    "UPDATE todo SET title = 'changed in sqlite', "
	    "updated_at = '2025-04-01 00:00:00.000000' WHERE id IN (5, 6); "
	    "UPDATE todo SET title = 'same updated_at' WHERE id = 9; "
	    "UPDATE todo SET title = 'gone' WHERE id = 8;");
	snprintf(rej, sizeof(rej), "%s/app.rejects", tmpdir);
	snprintf(json, sizeof(json), "%s/app.json", tmpdir);
	out_path(out, sizeof(out), "merge");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--reject-file", rej, "--summary-json", json), 7);
	assert_non_null(strstr(slurp(json), "\"read\":22,\"imported\":1,"
	    "\"updated\":2,\"unchanged\":16,\"rejected\":0,\"conflicts\":3"));
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 21"),
	    "made in the app");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 22"),
	    "also new");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 6"),
	    "edited in the app");
	assert_string_equal(pgtest_str(pg, "SELECT title FROM todos WHERE id = 5"),
	    "changed in sqlite");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE id = 8"), 0);
	/* updated_at is the source's, even where it did not change. */
	PQclear(pgtest_q(pg, "SET TimeZone = 'UTC'"));
	assert_string_equal(pgtest_str(pg, "SELECT updated_at FROM todos WHERE id = 5"),
	    "2025-04-01 00:00:00+00");
	assert_string_equal(pgtest_str(pg, "SELECT updated_at FROM todos WHERE id = 9"),
	    "2025-03-02 11:00:00.000001+00");
	o = slurp(rej);
	assert_non_null(strstr(o, "21\t-\tconflict: the id exists in "
	    "PostgreSQL but was never imported"));
	assert_non_null(strstr(o, "6\t-\tconflict: changed in SQLite and "
	    "edited in the app"));
	assert_non_null(strstr(o, "8\t-\tconflict: changed in SQLite but "
	    "deleted in the app"));
	assert_non_null(strstr(slurp(out), "id 21: conflict"));
	/* The next app insert still gets a fresh id. */
	assert_int_equal(pgtest_int(pg, "INSERT INTO todos (title) VALUES ('next') "
	    "RETURNING id"), 23);
}

static void
t_extra_column(void **state)
{
	char db[PATH_MAX], out[PATH_MAX];

	(void)state;
	make_db(db, sizeof(db), 5);
	sq(db, "ALTER TABLE todo ADD COLUMN user_id VARCHAR NOT NULL "
	    "DEFAULT 'u1'; ALTER TABLE todo ADD COLUMN extra INTEGER");
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--ignore-column", "user_id"), 1);
	assert_non_null(strstr(slurp(out), "column extra has no place"));
	/* A user_id column is a list per person: --user-map, or the loss
	 * accepted in so many words. */
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--ignore-column", "extra"), 1);
	assert_non_null(strstr(slurp(out), "has a user_id column: the todos "
	    "belong to different people. Map them to accounts with "
	    "--user-map"));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);
	sq(db, "ALTER TABLE todo DROP COLUMN extra");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--ignore-column", "nope", "--ignore-column", "user_id"), 1);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--ignore-column", "user_id"), 0);
	assert_non_null(strstr(slurp(out), "user_id: ignored"));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 5);
}

/* An account made in SQL (todoctl user add has its own test). */
static long long
add_user(const char *email)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO users (email, password_hash) "
	    "VALUES ('%s', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA') "
	    "RETURNING id", email);
	return pgtest_int(pg, sql);
}

static long long
owned_by(const char *email)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM todos t JOIN users u "
	    "ON u.id = t.user_id WHERE u.email = '%s'", email);
	return pgtest_int(pg, sql);
}

static void
t_owner(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], json[PATH_MAX], *o;

	(void)state;
	add_user("ann@example.org");
	add_user("bob@example.org");
	make_db(db, sizeof(db), 10);
	/* An unknown account: exit 9, nothing written. */
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--owner", "nobody@example.org"), 9);
	assert_non_null(strstr(slurp(out), "--owner: no account has the "
	    "email address nobody@example.org"));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);

	/* The address as typed, normalised. */
	snprintf(json, sizeof(json), "%s/owner.json", tmpdir);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--owner", " Ann@EXAMPLE.org ", "--summary-json", json), 0);
	assert_non_null(strstr(slurp(out), "owner: ann@example.org"));
	assert_null(strstr(slurp(out), "without an owner"));
	assert_non_null(strstr(slurp(json), "\"unowned\":0,"));
	assert_non_null(strstr(slurp(json), "\"owner\":\"ann@example.org\""));
	assert_int_equal(owned_by("ann@example.org"), 10);
	assert_int_equal(pgtest_int(pg, "SELECT active + completed FROM todo_counts c "
	    "JOIN users u ON u.id = c.user_id WHERE u.email = "
	    "'ann@example.org'"), 10);

	/* Verify compares the owner. */
	out_path(out, sizeof(out), "verify");
	assert_int_equal(RUN(out, "verify-sqlite", db, "--owner",
	    "ann@example.org"), 0);
	assert_int_equal(RUN(out, "verify-sqlite", db, "--owner",
	    "bob@example.org"), 5);
	assert_non_null(strstr(slurp(out), "different id=1: owner (expected "
	    "bob@example.org, is ann@example.org)"));
	assert_int_equal(RUN(out, "verify-sqlite", db), 5);
	assert_non_null(strstr(slurp(out), "different id=2: owner (expected "
	    "nobody, is ann@example.org)"));
	assert_int_equal(RUN(out, "verify-sqlite", db, "--owner",
	    "carol@example.org"), 9);

	/* A re-run with the same owner changes nothing; a new row gets
	 * the owner too. */
	sq(db, "INSERT INTO todo VALUES (11, 'new', NULL, 0, '2025-03-01', "
	    "'2025-03-01')");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--owner", "ann@example.org", "--summary-json", json), 0);
	assert_non_null(strstr(slurp(json), "\"imported\":1,\"updated\":0,"
	    "\"unchanged\":10,"));
	assert_int_equal(owned_by("ann@example.org"), 11);
	/* Another owner on a re-run: the import's own rows move (the
	 * owner is part of what is imported). */
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--owner", "bob@example.org", "--summary-json", json), 0);
	assert_non_null(strstr(slurp(json), "\"updated\":11,"));
	assert_int_equal(owned_by("bob@example.org"), 11);

	/* Without an owner, then assigned: a re-run leaves them alone,
	 * one with --owner of the same account agrees. */
	PQclear(pgtest_q(pg, "TRUNCATE todos, sqlite_imported"));
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	o = slurp(out);
	assert_non_null(strstr(o, "owner: none"));
	assert_non_null(strstr(o, "11 todos imported without an owner: "
	    "assign them with todoctl assign-unowned EMAIL"));
	assert_int_equal(RUN(out, "assign-unowned", "ann@example.org"), 0);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--summary-json", json), 0);
	assert_non_null(strstr(slurp(json), "\"unchanged\":11,"));
	assert_non_null(strstr(slurp(json), "\"unowned\":0,"));
	assert_int_equal(owned_by("ann@example.org"), 11);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--owner", "ann@example.org", "--summary-json", json), 0);
	assert_non_null(strstr(slurp(json), "\"updated\":0,\"unchanged\":11,"));
	assert_int_equal(RUN(out, "verify-sqlite", db, "--owner",
	    "ann@example.org"), 0);
}

/* A source with a user_id column: some deployments had one list per
 * person in one file. */
static void
t_user_map(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], map[PATH_MAX], rej[PATH_MAX];
	char bad[PATH_MAX], *r;
	FILE *f;

	(void)state;
	add_user("ann@example.org");
	add_user("bob@example.org");
	add_user("carol@example.org");
	make_db(db, sizeof(db), 0);
	sq(db, "ALTER TABLE todo ADD COLUMN user_id VARCHAR; "
	    "INSERT INTO todo VALUES "
	    "(1, 'ann 1', NULL, 0, '2025-03-01', '2025-03-01', 'u-ann'),"
	    "(2, 'bob 1', NULL, 1, '2025-03-01', '2025-03-01', 'u,bob'),"
	    "(3, 'ann 2', NULL, 0, '2025-03-01', '2025-03-01', 'u-ann'),"
	    "(4, 'stranger', NULL, 0, '2025-03-01', '2025-03-01', 'u-eve'),"
	    "(5, 'nobody''s', NULL, 0, '2025-03-01', '2025-03-01', NULL),"
	    "(6, 'integer id', NULL, 0, '2025-03-01', '2025-03-01', 42)");
	snprintf(map, sizeof(map), "%s/users.csv", tmpdir);
	assert_non_null(f = fopen(map, "w"));
	fputs("source_user_id,email\r\n"
	    "u-ann,Ann@Example.org\r\n"
	    "\n"
	    "\"u,bob\", bob@example.org\n"
	    "42,carol@example.org\n", f);
	fclose(f);

	/* No --user-map: refused, and it says what to do. */
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--owner", "ann@example.org"), 1);
	assert_non_null(strstr(slurp(out), "--user-map FILE.csv"));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);

	snprintf(rej, sizeof(rej), "%s/map.rejects", tmpdir);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--user-map", map, "--reject-file", rej), 6);
	assert_non_null(strstr(slurp(out), "1 todos imported without an "
	    "owner"));
	assert_int_equal(owned_by("ann@example.org"), 2);
	assert_int_equal(owned_by("bob@example.org"), 1);
	assert_int_equal(owned_by("carol@example.org"), 1);
	assert_string_equal(pgtest_str(pg, "SELECT coalesce(user_id::text, 'none') "
	    "FROM todos WHERE id = 5"), "none");
	/* The unmapped row is rejected with its reason, never dropped
	 * silently. */
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE id = 4"), 0);
	r = slurp(rej);
	assert_non_null(strstr(r, "\n4\tuser_id\tuser_id is not in the user "
	    "map (--user-map)\tu-eve\n"));

	/* --owner adds the owner of rows without a user_id (a re-run). */
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--user-map", map, "--owner", "carol@example.org",
	    "--reject-file", rej), 6);
	assert_int_equal(owned_by("carol@example.org"), 2);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE user_id IS "
	    "NULL"), 0);

	/* Verify by the same rules. */
	out_path(out, sizeof(out), "verify");
	assert_int_equal(RUN(out, "verify-sqlite", db, "--user-map", map,
	    "--owner", "carol@example.org"), 6);
	assert_non_null(strstr(slurp(out), "rejected  id=4: user_id: user_id "
	    "is not in the user map (--user-map) (value: u-eve)"));
	assert_int_equal(RUN(out, "verify-sqlite", db, "--user-map", map), 5);
	assert_non_null(strstr(slurp(out), "different id=5: owner (expected "
	    "nobody, is carol@example.org)"));
	PQclear(pgtest_q(pg, "UPDATE todos SET user_id = (SELECT id FROM users WHERE "
	    "email = 'bob@example.org') WHERE id = 1"));
	assert_int_equal(RUN(out, "verify-sqlite", db, "--user-map", map,
	    "--owner", "carol@example.org"), 5);
	/* (todos_touch() moved updated_at too) */
	assert_non_null(strstr(slurp(out), "different id=1: updated_at, owner "
	    "(expected ann@example.org, is bob@example.org)"));

	/* Every address of the map must be an account. */
	snprintf(bad, sizeof(bad), "%s/bad.csv", tmpdir);
	assert_non_null(f = fopen(bad, "w"));
	fputs("u-ann,ann@example.org\nu,bob,dave@example.org\n", f);
	fclose(f);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--user-map", bad), 1);
	assert_non_null(strstr(slurp(out), "line 2: not source_user_id,email"));
	assert_non_null(f = fopen(bad, "w"));
	fputs("u-ann,ann@example.org\nu-dave,dave@example.org\n", f);
	fclose(f);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--user-map", bad), 9);
	assert_non_null(strstr(slurp(out), "line 2: no account has the email "
	    "address dave@example.org"));
	assert_int_equal(RUN(out, "verify-sqlite", db, "--user-map", bad), 9);
	/* A map for a source without user_id is a mistake. */
	make_db(db, sizeof(db), 2);
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--user-map", map), 1);
	assert_non_null(strstr(slurp(out), "has no user_id column"));
}

/* One account for everything, in so many words. */
static void
t_user_column_ignored(void **state)
{
	char db[PATH_MAX], out[PATH_MAX];

	(void)state;
	add_user("ann@example.org");
	make_db(db, sizeof(db), 4);
	sq(db, "ALTER TABLE todo ADD COLUMN user_id VARCHAR NOT NULL "
	    "DEFAULT 'x'");
	out_path(out, sizeof(out), "import");
	assert_int_equal(RUN(out, "import-sqlite", db, "--no-backup",
	    "--ignore-column", "user_id", "--owner", "ann@example.org"), 0);
	assert_non_null(strstr(slurp(out), "user_id: ignored"));
	assert_int_equal(owned_by("ann@example.org"), 4);
	assert_int_equal(RUN(out, "verify-sqlite", db, "--ignore-column",
	    "user_id", "--owner", "ann@example.org"), 0);
}

/* A symbolic link planted at the backup's name (each name the next few
 * seconds could give) is refused, not followed: its target is untouched,
 * and nothing is imported (issue 11). */
static void
t_backup_symlink(void **state)
{
	char db[PATH_MAX], out[PATH_MAX], target[PATH_MAX];
	char link[4][PATH_MAX + 64], stamp[32], cmd[3 * PATH_MAX + 128];
	struct tm tm;
	time_t now = time(NULL);
	int i;
	FILE *f;

	(void)state;
	make_db(db, sizeof(db), 3);
	snprintf(target, sizeof(target), "%s/precious-%d", tmpdir, ++serial);
	assert_non_null(f = fopen(target, "w"));
	fputs("precious\n", f);
	assert_int_equal(fclose(f), 0);
	for (i = 0; i < 4; i++) {
		time_t t = now + i;

		assert_non_null(gmtime_r(&t, &tm));
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(link[i], sizeof(link[i]), "%s.bak-%s", db, stamp);
		/* Every other one dangles: O_CREAT would make its target. */
		if (i % 2 == 0)
			assert_int_equal(symlink(target, link[i]), 0);
		else {
			snprintf(cmd, sizeof(cmd), "%s-made", target);
			assert_int_equal(symlink(cmd, link[i]), 0);
		}
	}
	out_path(out, sizeof(out), "symlink");
	assert_int_not_equal(RUN(out, "import-sqlite", db), 0);
	if (strstr(slurp(out), "refusing to write the backup") == NULL ||
	    strstr(slurp(out), "a symbolic link") == NULL)
		fail_msg("not refused: %s", slurp(out));
	assert_string_equal(slurp(target), "precious\n");
	snprintf(cmd, sizeof(cmd), "%s-made", target);
	assert_int_equal(access(cmd, F_OK), -1);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);
	/* Only the links are there: no other backup was made. */
	snprintf(cmd, sizeof(cmd), "test $(ls -d '%s'.bak-* | wc -l) -eq 4", db);
	assert_int_equal(system(cmd), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(unlink(link[i]), 0);
	/* With the name free again, the backup is a plain new file. */
	out_path(out, sizeof(out), "symlink-ok");
	assert_int_equal(RUN(out, "import-sqlite", db), 0);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 3);
	snprintf(cmd, sizeof(cmd), "test -f \"$(ls -d '%s'.bak-*)\" && "
	    "! test -L \"$(ls -d '%s'.bak-*)\"", db, db);
	assert_int_equal(system(cmd), 0);
}

/* A schema is code the file's author wrote: a function that is not
 * innocuous in a column the import reads is refused ("unsafe use"), and
 * views and triggers that use one do not stop a plain table being read
 * (issue 11). */
static void
t_untrusted_schema(void **state)
{
	char db[PATH_MAX], out[PATH_MAX];

	(void)state;
	/* title computed by json(), which SQLite does not mark innocuous. */
	snprintf(db, sizeof(db), "%s/src%d.db", tmpdir, ++serial);
	sq(db, "CREATE TABLE todo (id INTEGER NOT NULL, raw VARCHAR, "
	    "title VARCHAR GENERATED ALWAYS AS (json(raw)) VIRTUAL, "
	    "description VARCHAR, completed BOOLEAN NOT NULL, "
	    "created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, "
	    "PRIMARY KEY (id));"
	    "INSERT INTO todo (id, raw, completed, created_at, updated_at) "
	    "VALUES (1, '\"from json\"', 0, '2025-03-01 10:00:00.000000', "
	    "'2025-03-01 10:00:00.000000');");
	out_path(out, sizeof(out), "unsafe");
	assert_int_not_equal(RUN(out, "import-sqlite", db, "--no-backup"), 0);
	if (strstr(slurp(out), "unsafe use of json()") == NULL)
		fail_msg("not refused as unsafe: %s", slurp(out));
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);

	/* A view and a trigger using it: never run by reading the table. */
	make_db(db, sizeof(db), 2);
	sq(db, "CREATE VIEW v AS SELECT json(title) FROM todo;"
	    "CREATE TRIGGER tr AFTER INSERT ON todo BEGIN "
	    "UPDATE todo SET title = json(NEW.title) WHERE id = NEW.id; END;");
	out_path(out, sizeof(out), "trigger");
	assert_int_equal(RUN(out, "import-sqlite", db), 0);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 2);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_fixture, reset),
		cmocka_unit_test_setup(t_hostile, reset),
		cmocka_unit_test_setup(t_ids, reset),
		cmocka_unit_test_setup(t_timezone, reset),
		cmocka_unit_test_setup(t_kill, reset),
		cmocka_unit_test_setup(t_rerun_noop, reset),
		cmocka_unit_test_setup(t_verify_catches, reset),
		cmocka_unit_test_setup(t_app_rows_survive, reset),
		cmocka_unit_test_setup(t_extra_column, reset),
		cmocka_unit_test_setup(t_owner, reset),
		cmocka_unit_test_setup(t_user_map, reset),
		cmocka_unit_test_setup(t_user_column_ignored, reset),
		cmocka_unit_test_setup(t_backup_symlink, reset),
		cmocka_unit_test_setup(t_untrusted_schema, reset),
	};
	const char *s, *url;
	char out[PATH_MAX];
	int rc;

	if ((url = getenv("DATABASE_URL")) == NULL || *url == '\0') {
		fprintf(stderr, "itest_import: DATABASE_URL is not set; run it "
		    "as tests/pg-harness %s\n", argv[0]);
		return 77;
	}
	if ((s = getenv("TODO_TODOCTL")) != NULL && *s != '\0')
		snprintf(todoctl, sizeof(todoctl), "%s", s);
	else if ((s = getenv("TODO_BUILDDIR")) != NULL && *s != '\0')
		snprintf(todoctl, sizeof(todoctl), "%s/todoctl", s);
	else
		snprintf(todoctl, sizeof(todoctl), "%s",
		    argc > 1 ? argv[1] : "./todoctl");
	s = getenv("TODO_SRCDIR");
	snprintf(sqldir, sizeof(sqldir), "%s/sql", s != NULL && *s != '\0' ?
	    s : ".");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if ((pg = PQconnectdb(url)) == NULL || PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "itest_import: %s", PQerrorMessage(pg));
		return 1;
	}
	snprintf(out, sizeof(out), "%s/migrate.out", tmpdir);
	setenv("TODO_SQL_DIR", sqldir, 1);
	if ((rc = run(out, 0, (const char *const[]){ "migrate", "up",
	    NULL })) != 0) {
		fprintf(stderr, "itest_import: %s migrate up failed (%d)\n",
		    todoctl, rc);
		return 1;
	}
	rc = cmocka_run_group_tests_name("import", tests, NULL, NULL);
	PQfinish(pg);
	if (rc == 0 && getenv("TODO_KEEP_TMP") == NULL) {
		snprintf(out, sizeof(out), "rm -rf '%s'", tmpdir);
		if (system(out) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return rc;
}
