/* itest_check.c - `todoctl check` as a real process against the database
 * tests/pg-harness made (a unix socket, as superuser): pending migrations
 * and then a clean schema, the JSON report (parsed by PostgreSQL), a
 * direct connection, TLS named as missing, the role's timeouts, --hosts,
 * a connection failure without the password. With TODO_TEST_TLS_URL and
 * TODO_TEST_POOLER_URL set (the harness's TLS and PgBouncer), also a
 * verified certificate and a detected pooler; skipped otherwise.
 *
 * The tests share one database and run in order: migrations are applied
 * by test_migrated_schema_ok. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "migrate.h"

#define EXIT_PROBLEMS 8

/* TODO_DB_TIMEOUT=3 for every run: expected 2500, 1250 and 60000 ms;
 * TODO_WORKERS is the default, 4. */
#define BASE_ENV "-u TODO_WORKERS TODO_DB_TIMEOUT=3 TODO_LOG_LEVEL=info"

static char ctl[4096], fcgi[4096], sqldir[4096], tdir[4096];
static const char *url;
static PGconn *conn;

/* Run `env BASE_ENV env... todoctl args`; stdout (and stderr when
 * with_stderr) into out. Returns the exit status. */
static int
run(const char *env, const char *args, bool with_stderr, char *out,
    size_t outlen)
{
	char cmd[16384];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "env " BASE_ENV " TODO_SQL_DIR='%s' %s "
	    "timeout 60 '%s' %s %s", sqldir, env, ctl, args,
	    with_stderr ? "2>&1" : "2>/dev/null");
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The mark ("ok", "note", "PROBLEM") of the report line for item name,
 * and its text in text; NULL when there is no such line. */
static const char *
line_of(const char *out, const char *name, char *text, size_t size)
{
	static const char *const marks[] = { "ok", "note", "PROBLEM" };
	const char *line, *p, *nl;
	size_t i, ml, nlen = strlen(name);

	for (line = out; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		for (i = 0; i < 3; i++) {
			ml = strlen(marks[i]);
			if (strncmp(line, marks[i], ml) != 0 || line[ml] != ' ')
				continue;
			for (p = line + ml; *p == ' '; p++)
				continue;
			if (strncmp(p, name, nlen) != 0 ||
			    strncmp(p + nlen, "  ", 2) != 0)
				continue;
			for (p += nlen; *p == ' '; p++)
				continue;
			snprintf(text, size, "%.*s", (int)(nl - p), p);
			return marks[i];
		}
		if (*nl == '\0')
			break;
	}
	return NULL;
}

static void
assert_mark(const char *out, const char *name, const char *want,
    const char *text_has)
{
	char text[1024];
	const char *mark = line_of(out, name, text, sizeof(text));

	if (mark == NULL)
		fail_msg("no line for %s in:\n%s", name, out);
	if (strcmp(mark, want) != 0)
		fail_msg("%s is %s, want %s: %s", name, mark, want, text);
	if (text_has != NULL && strstr(text, text_has) == NULL)
		fail_msg("%s: '%s' lacks '%s'", name, text, text_has);
}

static void
exec_ok(const char *sql)
{
	PGresult *r = PQexec(conn, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* One boolean/text answer from PostgreSQL about a JSON document. */
static char *
json_query(const char *sql, const char *json)
{
	const char *params[1] = { json };
	PGresult *r = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
	char *v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s\non: %s", sql, PQresultErrorMessage(r), json);
	v = strdup(PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
	PQclear(r);
	assert_non_null(v);
	return v;
}

static void
assert_json(const char *json, const char *sql, const char *want)
{
	char *got = json_query(sql, json);

	if (strcmp(got, want) != 0)
		fail_msg("%s gave %s, want %s, on:\n%s", sql, got, want, json);
	free(got);
}

/* Role settings in this database only: the harness drops it after. */
static void
role_set(const char *settings)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "DO $$ BEGIN EXECUTE format("
	    "$f$ALTER ROLE %%I IN DATABASE %%I %s$f$, current_user, "
	    "current_database()); END $$", settings);
	exec_ok(sql);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_pending_before_migrate(void **state)
{
	char out[32768], text[1024];

	(void)state;
	assert_int_equal(run("", "check", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "schema", "PROBLEM", "pending");
	assert_mark(out, "schema", "PROBLEM", "todoctl migrate up");
	assert_mark(out, "connection", "ok", "direct");
	/* A unix socket has no TLS: named, and counted. */
	assert_mark(out, "tls", "PROBLEM", "not in use");
	assert_mark(out, "certificate", "PROBLEM", "NOT verified");
	assert_mark(out, "channel binding", "note", "not required");
	/* A slow machine (sanitizers) may make it a note, never a problem. */
	assert_non_null(line_of(out, "round trip", text, sizeof(text)));
	assert_string_not_equal(line_of(out, "round trip", text,
	    sizeof(text)), "PROBLEM");
	assert_non_null(strstr(text, " ms (median of 5 SELECT 1)"));
	assert_mark(out, "server", "ok", "PostgreSQL ");
	assert_non_null(strstr(out, "todoctl check: host="));
	assert_non_null(strstr(out, " problems"));
}

static void
test_migrated_schema_ok(void **state)
{
	struct migrations *m = NULL;
	char out[32768], want[64];

	(void)state;
	assert_int_equal(migrate_load(sqldir, &m), TD_OK);
	assert_int_equal(migrate_up(conn, m, 0), TD_OK);
	snprintf(want, sizeof(want), "%d of %d migrations applied",
	    migrate_latest(m), migrate_latest(m));
	migrate_free(m);
	/* Still problems (TLS, timeouts), but not the schema. */
	assert_int_equal(run("", "check", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "schema", "ok", want);
}

static void
test_changed_file_reported(void **state)
{
	char dir[] = "/tmp/itest_check.XXXXXX", cmd[16384], out[32768],
	    opt[4200];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp '%s'/*.sql '%s' && "
	    "echo '-- edited' >> '%s/001_create_todos.sql'", sqldir, dir, dir);
	assert_int_equal(system(cmd), 0);
	/* --sql-dir, todoctl's global option, wins over TODO_SQL_DIR. */
	snprintf(opt, sizeof(opt), "--sql-dir '%s' check", dir);
	assert_int_equal(run("", opt, false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "schema", "PROBLEM", "1 changed");
	assert_mark(out, "schema", "PROBLEM", "todoctl migrate status");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_json(void **state)
{
	char out[32768], *problems;

	(void)state;
	assert_int_equal(run("", "check --json", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	/* PostgreSQL's parser: an error fails the test. */
	assert_json(out, "SELECT $1::jsonb ?& ARRAY['target', "
	    "'server_version', 'server_version_num', 'tls', "
	    "'channel_binding', 'connection', 'cancel_key_pid', "
	    "'backend_pid', 'round_trip_ms', 'schema', 'connections', "
	    "'timeouts', 'notes', 'problems']", "t");
	assert_json(out, "SELECT jsonb_typeof($1::jsonb->'problems')",
	    "array");
	assert_json(out, "SELECT jsonb_array_length($1::jsonb->'problems') "
	    "> 0", "t");
	assert_json(out, "SELECT $1::jsonb->>'connection'", "direct");
	assert_json(out, "SELECT $1::jsonb#>>'{tls,in_use}'", "false");
	assert_json(out, "SELECT $1::jsonb#>>'{tls,verified}'", "no");
	assert_json(out, "SELECT $1::jsonb#>>'{schema,pending}'", "0");
	assert_json(out, "SELECT jsonb_typeof($1::jsonb->'round_trip_ms')",
	    "number");
	assert_json(out, "SELECT $1::jsonb#>>'{connections,workers}'", "4");
	assert_json(out, "SELECT $1::jsonb#>>"
	    "'{timeouts,statement_timeout,expected_ms}'", "2500");
	assert_json(out, "SELECT ($1::jsonb#>>'{cancel_key_pid}') = "
	    "($1::jsonb#>>'{backend_pid}')", "t");
	/* Every problem is a string naming its item. */
	problems = json_query("SELECT string_agg(p, '|') FROM "
	    "jsonb_array_elements_text($1::jsonb->'problems') p", out);
	assert_non_null(strstr(problems, "tls: not in use"));
	free(problems);
}

static void
test_role_timeouts(void **state)
{
	char out[32768];

	(void)state;
	/* Unbounded: flagged with the fix. */
	role_set("SET statement_timeout = 0");
	assert_int_equal(run("", "check", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "statement_timeout", "PROBLEM", "0 (unbounded)");
	assert_mark(out, "statement_timeout", "PROBLEM",
	    "ALTER ROLE ... IN DATABASE ... SET");
	/* Bounded but not what TODO_DB_TIMEOUT=3 asks for. */
	role_set("SET statement_timeout = '10s'");
	assert_int_equal(run("", "check", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "statement_timeout", "PROBLEM",
	    "10000 ms, expected 2500 ms");
	/* The right values in any unit; each run is a new connection. */
	role_set("SET statement_timeout = '2500ms'");
	role_set("SET lock_timeout = 1250");
	role_set("SET idle_in_transaction_session_timeout = '1min'");
	assert_int_equal(run("", "check", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "statement_timeout", "ok", "2500 ms");
	assert_mark(out, "lock_timeout", "ok", "1250 ms");
	assert_mark(out, "idle_in_transaction_session_timeout", "ok",
	    "60000 ms");
	/* Another TODO_DB_TIMEOUT expects other values. */
	assert_int_equal(run("TODO_DB_TIMEOUT=10", "check", false, out,
	    sizeof(out)), EXIT_PROBLEMS);
	assert_mark(out, "statement_timeout", "PROBLEM",
	    "expected 9500 ms for TODO_DB_TIMEOUT=10");
	role_set("RESET ALL");
}

static void
test_hosts(void **state)
{
	char out[32768];

	(void)state;
	assert_int_equal(run("", "check --hosts 10000", false, out,
	    sizeof(out)), EXIT_PROBLEMS);
	assert_mark(out, "connections", "PROBLEM",
	    "40000 needed (4 workers x 10000 hosts)");
	assert_int_equal(run("", "check --hosts 1", false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_mark(out, "connections", "ok", "4 needed (4 workers x 1 host)");
	assert_int_equal(run("", "check --hosts 0", true, out, sizeof(out)),
	    2);
	assert_int_equal(run("", "check --hosts x", true, out, sizeof(out)),
	    2);
	assert_int_equal(run("", "check extra", true, out, sizeof(out)), 2);
	assert_int_equal(run("", "check --help", false, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--hosts N"));
	assert_int_equal(run("", "--help", false, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "8  check"));
}

static void
test_env_file(void **state)
{
	char path[] = "/tmp/itest_check_env.XXXXXX", out[32768], opt[4200];
	FILE *f;
	int fd;

	(void)state;
	/* The file brings TODO_WORKERS (unset in the environment); the
	 * environment's TODO_DB_TIMEOUT=3 wins over the file's. */
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("TODO_WORKERS=7\nTODO_DB_TIMEOUT=9\n", f);
	fclose(f);
	snprintf(opt, sizeof(opt), "--env-file '%s' check --json", path);
	assert_int_equal(run("", opt, false, out, sizeof(out)),
	    EXIT_PROBLEMS);
	assert_json(out, "SELECT $1::jsonb#>>'{connections,workers}'", "7");
	assert_json(out, "SELECT $1::jsonb#>>"
	    "'{timeouts,statement_timeout,expected_ms}'", "2500");
	unlink(path);
}

static void
test_cannot_connect(void **state)
{
	char out[32768];

	(void)state;
	assert_int_equal(run("DATABASE_URL='host=127.0.0.1 port=1 "
	    "user=nobody password=sekrit dbname=x'", "check", true, out,
	    sizeof(out)), 1);
	assert_non_null(strstr(out, "cannot connect"));
	assert_non_null(strstr(out, "port=1"));
	assert_null(strstr(out, "sekrit"));
	/* A URL libpq cannot parse: its message would quote the password. */
	assert_int_equal(run("DATABASE_URL='postgresql://u:sek%zzrit@h/db'",
	    "check --json", true, out, sizeof(out)), 1);
	assert_null(strstr(out, "zzrit"));
}

static void
test_fcgi_check_points_here(void **state)
{
	char cmd[16384], out[4096];
	FILE *p;
	size_t n;

	(void)state;
	snprintf(cmd, sizeof(cmd), "env TODO_TEMPLATE_DIR='%s' timeout 20 "
	    "'%s' --check 2>&1", tdir, fcgi);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "settings and templates only"));
	assert_non_null(strstr(out, "not tested"));
	assert_non_null(strstr(out, "todoctl check"));
}

static void
test_tls_verified(void **state)
{
	const char *tls = getenv("TODO_TEST_TLS_URL");
	char env[8192], out[32768];

	(void)state;
	if (tls == NULL || *tls == '\0')
		skip();
	snprintf(env, sizeof(env), "DATABASE_URL='%s'", tls);
	(void)run(env, "check", false, out, sizeof(out));
	assert_mark(out, "tls", "ok", "TLS");
	assert_mark(out, "certificate", "ok", "verified");
	(void)run(env, "check --json", false, out, sizeof(out));
	assert_json(out, "SELECT $1::jsonb#>>'{tls,in_use}'", "true");
	assert_json(out, "SELECT $1::jsonb#>>'{tls,verified}'", "full");
}

static void
test_pooler_detected(void **state)
{
	const char *pooler = getenv("TODO_TEST_POOLER_URL");
	char env[8192], out[32768];

	(void)state;
	if (pooler == NULL || *pooler == '\0')
		skip();
	snprintf(env, sizeof(env), "DATABASE_URL='%s'", pooler);
	(void)run(env, "check", false, out, sizeof(out));
	assert_mark(out, "connection", "note", "pooler");
	assert_mark(out, "connections", "note", "pool size");
	(void)run(env, "check --json", false, out, sizeof(out));
	assert_json(out, "SELECT $1::jsonb->>'connection'", "pooler");
}

static int
setup(void **state)
{
	(void)state;
	conn = PQconnectdb(url);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "itest_check: %s", PQerrorMessage(conn));
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	PQfinish(conn);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_before_migrate),
		cmocka_unit_test(test_migrated_schema_ok),
		cmocka_unit_test(test_changed_file_reported),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_role_timeouts),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_cannot_connect),
		cmocka_unit_test(test_fcgi_check_points_here),
		cmocka_unit_test(test_tls_verified),
		cmocka_unit_test(test_pooler_detected),
	};
	const char *b = getenv("TODO_BUILDDIR"), *s = getenv("TODO_SRCDIR");

	url = getenv("DATABASE_URL");
	if (b == NULL || s == NULL || url == NULL) {
		fprintf(stderr, "itest_check: run me through make check "
		    "(tests/pg-harness)\n");
		return 1;
	}
	snprintf(ctl, sizeof(ctl), "%s/todoctl", b);
	snprintf(fcgi, sizeof(fcgi), "%s/todo-fcgi", b);
	snprintf(sqldir, sizeof(sqldir), "%s/sql", s);
	snprintf(tdir, sizeof(tdir), "%s/templates", s);
	return cmocka_run_group_tests_name("check", tests, setup, teardown);
}
