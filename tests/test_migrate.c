/* test_migrate.c - migrations against a real PostgreSQL: run as
 * tests/pg-harness ./test_migrate (needs DATABASE_URL). Each test works
 * in its own schema (search_path) and its own temporary sql directory. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "migrate.h"
#include "schema.h"

#ifndef TODO_SRCDIR
#define TODO_SRCDIR "."
#endif

struct fx {
	char		 dir[64];
	char		 schema[64];
	PGconn		*c;
	struct migrations *m;
};

static const char *url;
static int schema_seq;

/* ---- helpers ----------------------------------------------------------- */

/* DROP SCHEMA ... CASCADE notices are noise here. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *
connect_in(const char *schema)
{
	char opt[128];
	const char *keys[] = { "dbname", "options", NULL };
	const char *vals[] = { url, opt, NULL };
	PGconn *c;

	snprintf(opt, sizeof(opt), "-c search_path=%s", schema);
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", c ? PQerrorMessage(c) : "oom\n");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static void
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* First column of the first row of a one-row query, as a long. */
static long
query_long(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static char *
query_text(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	char *s;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	s = strdup(PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
	assert_non_null(s);
	PQclear(r);
	return s;
}

static int
table_exists(PGconn *c, const char *name)
{
	const char *p[1] = { name };
	char *s = query_text(c, "SELECT to_regclass($1) IS NOT NULL", 1, p);
	int yes = strcmp(s, "t") == 0;

	free(s);
	return yes;
}

static void
write_raw(const struct fx *f, const char *file, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, file);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
write_mig(const struct fx *f, const char *file, const char *up,
    const char *down)
{
	char text[4096];

	snprintf(text, sizeof(text), "-- migrate:up\n%s\n-- migrate:down\n%s\n",
	    up, down);
	write_raw(f, file, text);
}

static char *
read_all(const char *path)
{
	char *buf;
	FILE *fp;
	long n;

	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	assert_non_null(buf = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* SHA-256 of a file as PostgreSQL computes it: an independent check of
 * what migrate.c records. */
static char *
pg_sha256(PGconn *c, const struct fx *f, const char *file)
{
	char path[256], *text, *hex;
	const char *p[1];

	snprintf(path, sizeof(path), "%s/%s", f->dir, file);
	text = read_all(path);
	p[0] = text;
	hex = query_text(c, "SELECT encode(sha256(convert_to($1, 'UTF8')), "
	    "'hex')", 1, p);
	free(text);
	return hex;
}

static void
reload(struct fx *f)
{
	migrate_free(f->m);
	f->m = NULL;
	assert_int_equal(migrate_load(f->dir, &f->m), TD_OK);
}

static int
current(struct fx *f)
{
	int v = -1;

	assert_int_equal(migrate_current_version(f->c, &v), TD_OK);
	return v;
}

/* Capture what the module logs (log.c writes to fd 2). */
static int saved_stderr = -1;
static FILE *capture_file;

static void
capture_start(void)
{
	fflush(stderr);
	assert_non_null(capture_file = tmpfile());
	assert_true((saved_stderr = dup(STDERR_FILENO)) != -1);
	assert_true(dup2(fileno(capture_file), STDERR_FILENO) != -1);
}

/* The captured text (caller frees); also echoed for debugging. */
static char *
capture_end(void)
{
	char *buf;
	long n;

	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) != -1);
	close(saved_stderr);
	n = ftell(capture_file);
	assert_true(n >= 0);
	rewind(capture_file);
	assert_non_null(buf = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, capture_file), (size_t)n);
	fclose(capture_file);
	fputs(buf, stderr);
	return buf;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static char *
status_text(struct fx *f, enum migrate_state *state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	assert_non_null(out = open_memstream(&buf, &len));
	assert_int_equal(migrate_status(f->c, f->m, out, state), TD_OK);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* Three small migrations; 002 puts its down part first. */
static void
write_three(struct fx *f)
{
	write_mig(f, "001_a.sql", "CREATE TABLE a (x int);", "DROP TABLE a;");
	write_raw(f, "002_b.sql", "-- b\n-- migrate:down\nDROP TABLE b;\n"
	    "-- migrate:up\nCREATE TABLE b (y int);\n");
	write_mig(f, "003_seed.sql", "INSERT INTO a VALUES (1);",
	    "DELETE FROM a;");
}

/* ---- fixtures ---------------------------------------------------------- */

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char sql[128];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_migrate.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->schema, sizeof(f->schema), "tm_%d_%ld", ++schema_seq,
	    (long)getpid());
	if ((f->c = connect_in(f->schema)) == NULL)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f->schema);
	exec_ok(f->c, sql);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char sql[128], path[400];
	struct dirent *de;
	DIR *d;

	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", f->schema);
	exec_ok(f->c, sql);
	PQfinish(f->c);
	migrate_free(f->m);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", f->dir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- loading ----------------------------------------------------------- */

static void
expect_load_error(struct fx *f, const char *needle)
{
	struct migrations *m = NULL;
	char *log;

	capture_start();
	assert_int_equal(migrate_load(f->dir, &m), TD_EINVAL);
	log = capture_end();
	assert_null(m);
	assert_contains(log, needle);
	free(log);
}

static void
remove_file(struct fx *f, const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, file);
	assert_int_equal(unlink(path), 0);
}

static void
test_load_errors(void **state)
{
	struct fx *f = *state;

	/* Empty directory: nothing to do, not an error. */
	reload(f);
	assert_int_equal(migrate_latest(f->m), 0);
	write_raw(f, "README", "not a migration");
	write_raw(f, "001_a.sql~", "editor backup");
	reload(f);
	assert_int_equal(migrate_latest(f->m), 0);

	write_raw(f, "001_a.sql", "-- migrate:up\nCREATE TABLE a ();\n");
	expect_load_error(f, "001_a.sql: needs both");
	write_raw(f, "001_a.sql", "CREATE TABLE a ();\n-- migrate:down\n");
	expect_load_error(f, "001_a.sql: needs both");
	write_raw(f, "001_a.sql", "-- migrate:up\n\n-- migrate:down\nx;\n");
	expect_load_error(f, "001_a.sql: the migrate:up part is empty");
	write_raw(f, "001_a.sql", "-- migrate:up transaction:false\nx;\n"
	    "-- migrate:down\n");
	expect_load_error(f, "001_a.sql:1: options");
	write_raw(f, "001_a.sql", "-- migrate:up\nx;\n-- migrate:down\n"
	    "-- migrate:up\n");
	expect_load_error(f, "001_a.sql:4: second -- migrate:up");
	write_mig(f, "001_a.sql", "CREATE TABLE a ();", "DROP TABLE a;");
	reload(f);
	assert_int_equal(migrate_latest(f->m), 1);

	write_mig(f, "1_again.sql", "SELECT 1;", "SELECT 1;");
	expect_load_error(f, "version 1 is also used by");
	remove_file(f, "1_again.sql");

	write_mig(f, "003_c.sql", "SELECT 1;", "SELECT 1;");
	expect_load_error(f, "003_c.sql: version 2 missing");
	remove_file(f, "003_c.sql");

	write_mig(f, "002_bad name.sql", "SELECT 1;", "SELECT 1;");
	expect_load_error(f, "002_bad name.sql: migration file names");
	remove_file(f, "002_bad name.sql");
	write_mig(f, "two_b.sql", "SELECT 1;", "SELECT 1;");
	expect_load_error(f, "two_b.sql: migration file names");
	remove_file(f, "two_b.sql");

	/* libpq takes C strings: a NUL would silently cut the SQL short. */
	{
		static const char nul[] = "-- migrate:up\nSELECT 1;\0\n"
		    "-- migrate:down\nSELECT 1;\n";
		char path[256];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/002_b.sql", f->dir);
		assert_non_null(fp = fopen(path, "w"));
		assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, fp),
		    sizeof(nul) - 1);
		assert_int_equal(fclose(fp), 0);
		expect_load_error(f, "002_b.sql contains a NUL byte");
	}
}

/* ---- up, status, down -------------------------------------------------- */

static void
test_up_from_empty(void **state)
{
	struct fx *f = *state;
	static const char *const files[] = { "001_a.sql", "002_b.sql",
	    "003_seed.sql" };
	char *want, *got, v[4];
	const char *p[1] = { v };
	int i;

	write_three(f);
	reload(f);
	assert_int_equal(migrate_latest(f->m), 3);
	assert_int_equal(current(f), 0);	/* no history table yet */
	assert_false(table_exists(f->c, "schema_migrations"));

	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	assert_int_equal(current(f), 3);
	assert_true(table_exists(f->c, "a"));
	assert_true(table_exists(f->c, "b"));
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM a"), 1);
	assert_int_equal(query_long(f->c,
	    "SELECT count(*) FROM schema_migrations WHERE "
	    "applied_by = current_user AND duration_ms >= 0 AND "
	    "applied_at <= now()"), 3);
	for (i = 0; i < 3; i++) {
		snprintf(v, sizeof(v), "%d", i + 1);
		want = pg_sha256(f->c, f, files[i]);
		got = query_text(f->c, "SELECT checksum FROM schema_migrations "
		    "WHERE version = $1::int", 1, p);
		assert_string_equal(got, want);
		free(want);
		free(got);
	}
	got = query_text(f->c, "SELECT string_agg(name, ',' ORDER BY version) "
	    "FROM schema_migrations", 0, NULL);
	assert_string_equal(got, "a,b,seed");
	free(got);

	/* Again: nothing is re-run (003's INSERT would add a row). */
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM a"), 1);
	assert_int_equal(query_long(f->c,
	    "SELECT count(*) FROM schema_migrations"), 3);
}

static void
test_up_target_and_status(void **state)
{
	struct fx *f = *state;
	enum migrate_state st;
	char *out, *log;

	write_three(f);
	reload(f);

	/* No history table: all pending. */
	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_PENDING);
	assert_contains(out, "001      pending");
	assert_contains(out, "0 applied, 3 pending");
	free(out);

	assert_int_equal(migrate_up(f->c, f->m, 2), TD_OK);
	assert_int_equal(current(f), 2);
	assert_false(query_long(f->c, "SELECT count(*) FROM a") != 0);
	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_PENDING);
	assert_contains(out, "001      applied  ok");
	assert_contains(out, "002      applied  ok");
	assert_contains(out, "003      pending  -");
	assert_contains(out, "2 applied, 1 pending, 0 changed, 0 missing");
	free(out);

	capture_start();
	assert_int_equal(migrate_up(f->c, f->m, 4), TD_EINVAL);
	log = capture_end();
	assert_contains(log, "no migration 4");
	free(log);
	assert_int_equal(current(f), 2);

	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_CLEAN);
	assert_contains(out, "3 applied, 0 pending, 0 changed, 0 missing");
	free(out);
}

static void
test_down(void **state)
{
	struct fx *f = *state;
	char *log;

	write_three(f);
	reload(f);
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);

	assert_int_equal(migrate_down(f->c, f->m, 2), TD_OK);
	assert_int_equal(current(f), 1);
	assert_true(table_exists(f->c, "a"));
	assert_false(table_exists(f->c, "b"));
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM a"), 0);
	assert_int_equal(query_long(f->c,
	    "SELECT count(*) FROM schema_migrations"), 1);

	capture_start();
	assert_int_equal(migrate_down(f->c, f->m, 2), TD_EINVAL);
	assert_int_equal(migrate_down(f->c, f->m, 0), TD_EINVAL);
	log = capture_end();
	assert_contains(log, "cannot revert 2 migrations: 1 applied");
	free(log);
	assert_int_equal(current(f), 1);

	assert_int_equal(migrate_down(f->c, f->m, 1), TD_OK);
	assert_int_equal(current(f), 0);
	assert_false(table_exists(f->c, "a"));
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	assert_int_equal(current(f), 3);

	/* An empty down part cannot be reverted: refused before anything,
	 * even when it is not the newest one being reverted. */
	write_mig(f, "004_oneway.sql", "CREATE TABLE d ();", "");
	write_mig(f, "005_e.sql", "CREATE TABLE e ();", "DROP TABLE e;");
	reload(f);
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	capture_start();
	assert_int_equal(migrate_down(f->c, f->m, 2), TD_EINVAL);
	log = capture_end();
	assert_contains(log, "004_oneway.sql has an empty down part");
	free(log);
	assert_int_equal(current(f), 5);
	assert_true(table_exists(f->c, "e"));
}

/* ---- refusals ---------------------------------------------------------- */

static void
test_checksum_mismatch(void **state)
{
	struct fx *f = *state;
	enum migrate_state st;
	char *old, *new, *log, *out, path[256];
	FILE *fp;

	write_three(f);
	reload(f);
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	old = query_text(f->c, "SELECT checksum FROM schema_migrations "
	    "WHERE version = 2", 0, NULL);

	snprintf(path, sizeof(path), "%s/002_b.sql", f->dir);
	assert_non_null(fp = fopen(path, "a"));
	fputs("-- an innocent comment\n", fp);
	assert_int_equal(fclose(fp), 0);
	new = pg_sha256(f->c, f, "002_b.sql");
	assert_string_not_equal(old, new);
	write_mig(f, "004_d.sql", "CREATE TABLE d ();", "DROP TABLE d;");
	reload(f);

	capture_start();
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_ECONFLICT);
	log = capture_end();
	assert_contains(log, "002_b.sql was changed after it was applied");
	assert_contains(log, old);
	assert_contains(log, new);
	free(log);
	assert_int_equal(current(f), 3);	/* 004 not applied */
	assert_false(table_exists(f->c, "d"));

	capture_start();
	assert_int_equal(migrate_down(f->c, f->m, 1), TD_ECONFLICT);
	log = capture_end();
	free(log);
	assert_int_equal(current(f), 3);

	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_MISMATCH);
	assert_contains(out, "002      applied  CHANGED");
	assert_contains(out, new);
	assert_contains(out, "004      pending");
	free(out);
	free(old);
	free(new);
}

static void
test_missing_file(void **state)
{
	struct fx *f = *state;
	enum migrate_state st;
	char *log, *out;

	write_three(f);
	reload(f);
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	remove_file(f, "003_seed.sql");
	reload(f);

	capture_start();
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_ECONFLICT);
	assert_int_equal(migrate_down(f->c, f->m, 1), TD_ECONFLICT);
	log = capture_end();
	assert_contains(log, "migration 3 (seed) is applied but has no file");
	free(log);
	assert_int_equal(current(f), 3);

	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_MISMATCH);
	assert_contains(out, "003      applied  MISSING");
	assert_contains(out, "3 applied, 0 pending, 0 changed, 1 missing");
	free(out);
}

static void
test_broken_migration(void **state)
{
	struct fx *f = *state;
	enum migrate_state st;
	char *log, *out;

	write_mig(f, "001_a.sql", "CREATE TABLE a (x int);", "DROP TABLE a;");
	write_mig(f, "002_b.sql", "CREATE TABLE b (y int);", "DROP TABLE b;");
	write_mig(f, "003_broken.sql",
	    "CREATE TABLE c (z int);\nINSERT INTO a VALUES (1);\n"
	    "SELECT * FROM nope;", "DROP TABLE c;");
	write_mig(f, "004_d.sql", "CREATE TABLE d ();", "DROP TABLE d;");
	reload(f);

	capture_start();
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_EDB);
	log = capture_end();
	/* File, line of the error, SQLSTATE and the server's message. */
	assert_contains(log, "003_broken.sql:4: migration failed");
	assert_contains(log, "SQLSTATE 42P01");
	assert_contains(log, "relation \\\"nope\\\" does not exist");
	free(log);

	assert_int_equal(current(f), 2);	/* 001, 002 stay */
	assert_true(table_exists(f->c, "b"));
	assert_false(table_exists(f->c, "c"));	/* rolled back */
	assert_false(table_exists(f->c, "d"));	/* not attempted */
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM a"), 0);
	assert_int_equal(PQtransactionStatus(f->c), PQTRANS_IDLE);
	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_PENDING);
	assert_contains(out, "003      pending");
	free(out);

	/* Not applied, so fixing the file is fine. */
	write_mig(f, "003_broken.sql", "CREATE TABLE c (z int);",
	    "DROP TABLE c;");
	reload(f);
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	assert_int_equal(current(f), 4);

	/* A revert that fails rolls back too. */
	write_mig(f, "005_e.sql", "CREATE TABLE e ();", "DROP TABLE nope;");
	reload(f);
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	capture_start();
	assert_int_equal(migrate_down(f->c, f->m, 1), TD_EDB);
	log = capture_end();
	/* DROP errors carry no position: the file alone is named. */
	assert_contains(log, "005_e.sql: revert failed, rolled back: "
	    "SQLSTATE 42P01");
	free(log);
	assert_int_equal(current(f), 5);
	assert_true(table_exists(f->c, "e"));
}

static void
test_commit_inside_file(void **state)
{
	struct fx *f = *state;
	char *log;

	write_mig(f, "001_a.sql", "CREATE TABLE a ();\nCOMMIT;",
	    "DROP TABLE a;");
	reload(f);
	capture_start();
	assert_int_equal(migrate_up(f->c, f->m, 0), TD_EDB);
	log = capture_end();
	assert_contains(log, "001_a.sql: the up part ended the migration's "
	    "transaction");
	free(log);
	assert_int_equal(query_long(f->c,
	    "SELECT count(*) FROM schema_migrations"), 0);
}

/* ---- concurrency ------------------------------------------------------- */

/* Child: its own connection and load, then up; exit status says how. */
static void
child_up(const struct fx *f)
{
	struct migrations *m = NULL;
	PGconn *c;
	int code = 1;

	if ((c = connect_in(f->schema)) != NULL &&
	    migrate_load(f->dir, &m) == TD_OK &&
	    migrate_up(c, m, 0) == TD_OK)
		code = 0;
	/* Not PQfinish on the parent's inherited connection: _exit only. */
	migrate_free(m);
	PQfinish(c);
	_exit(code);
}

static void
test_concurrent_up(void **state)
{
	struct fx *f = *state;
	char sql[128];
	pid_t pid[2];
	long waiting = 0;
	int i, ws, tries;

	exec_ok(f->c, "CREATE TABLE applied_log (v int NOT NULL)");
	write_mig(f, "001_a.sql", "CREATE TABLE a ();\n"
	    "INSERT INTO applied_log VALUES (1);", "DROP TABLE a;");
	write_mig(f, "002_b.sql", "CREATE TABLE b ();\n"
	    "INSERT INTO applied_log VALUES (2);", "DROP TABLE b;");
	write_mig(f, "003_c.sql", "CREATE TABLE c ();\n"
	    "INSERT INTO applied_log VALUES (3);", "DROP TABLE c;");

	/* Hold the lock until both runs are queued on it, so they really
	 * race for every migration instead of running one after the other. */
	exec_ok(f->c, "BEGIN");
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)",
	    MIGRATE_LOCK_KEY);
	exec_ok(f->c, sql);
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] != -1);
		if (pid[i] == 0)
			child_up(f);
	}
	/* A bound only against a hang; the outcome never depends on it. */
	for (tries = 0; tries < 6000; tries++) {
		waiting = query_long(f->c, "SELECT count(*) FROM pg_locks "
		    "WHERE locktype = 'advisory' AND NOT granted AND database = "
		    "(SELECT oid FROM pg_database "
		    " WHERE datname = current_database())");
		if (waiting >= 2)
			break;
		usleep(10000);
	}
	exec_ok(f->c, "COMMIT");
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &ws, 0), pid[i]);
		assert_true(WIFEXITED(ws));
		assert_int_equal(WEXITSTATUS(ws), 0);
	}
	assert_int_equal(waiting, 2);
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM applied_log"),
	    3);
	assert_int_equal(query_long(f->c,
	    "SELECT count(DISTINCT v) FROM applied_log"), 3);
	assert_int_equal(query_long(f->c,
	    "SELECT count(*) FROM schema_migrations"), 3);
	assert_int_equal(current(f), 3);
}

/* ---- the real sql/ directory ------------------------------------------- */

static struct migrations *
load_real(void)
{
	const char *src = getenv("TODO_SRCDIR");
	struct migrations *m = NULL;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/sql", src != NULL && *src != '\0' ?
	    src : TODO_SRCDIR);
	assert_int_equal(migrate_load(dir, &m), TD_OK);
	return m;
}

static void
test_real_sql(void **state)
{
	struct fx *f = *state;
	enum migrate_state st;
	char *out;
	int latest;

	f->m = load_real();
	latest = migrate_latest(f->m);
	assert_true(latest >= 1);

	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	assert_int_equal(current(f), latest);
	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_CLEAN);
	free(out);

	assert_int_equal(migrate_down(f->c, f->m, 1), TD_OK);
	assert_int_equal(current(f), latest - 1);
	if (latest > 1)
		assert_int_equal(migrate_down(f->c, f->m, latest - 1), TD_OK);
	/* Every down part together leaves only the history table (and its
	 * primary key index) behind: nothing forgotten. */
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM pg_class "
	    "WHERE relnamespace = current_schema()::regnamespace"), 2);
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM pg_proc "
	    "WHERE pronamespace = current_schema()::regnamespace"), 0);

	assert_int_equal(migrate_up(f->c, f->m, 0), TD_OK);
	assert_int_equal(current(f), latest);
	out = status_text(f, &st);
	assert_int_equal(st, MIGRATE_CLEAN);
	free(out);
}

/* SQLSTATE of a statement: "" when it succeeded. Caller frees. */
static char *
sqlstate_of(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	char *s = strdup(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK ? "" : st != NULL ? st : "?");

	assert_non_null(s);
	PQclear(r);
	return s;
}

/* INSERT ... for user 1 with title and description (SQL literals). */
static void
insert_expect(PGconn *c, const char *title, const char *desc, const char *state)
{
	char sql[8192];
	char *st;

	snprintf(sql, sizeof(sql), "INSERT INTO todos (user_id, title, description) "
	    "VALUES (1, %s, %s)", title, desc);
	st = sqlstate_of(c, sql);
	if (strcmp(st, state) != 0)
		fail_msg("%.80s...: SQLSTATE \"%s\", expected \"%s\"", sql, st, state);
	free(st);
}

/* The length rules (title 1-200 characters, description at most 2000),
 * whichever way the schema writes them. */
static void
length_rules_hold(PGconn *c)
{
	insert_expect(c, "''", "NULL", "23514");
	insert_expect(c, "repeat('a', 201)", "NULL", "23514");
	insert_expect(c, "'t'", "repeat('d', 2001)", "23514");
	insert_expect(c, "repeat('\u00e9', 200)", "repeat('\u00e9', 2000)", "");
	insert_expect(c, "'t'", "NULL", "");
	insert_expect(c, "NULL", "NULL", "23502");
}

/* 006 (issue 10) writes todos' rules as plpgsql calls, so that an insert
 * does not plan them anew: the same rules and the same stored search
 * text before and after, and down brings the old definitions back. */
static void
test_006_same_rules(void **state)
{
	struct fx *f = *state;
	const char *ins = "INSERT INTO todos (user_id, title, description) VALUES "
	    "(1, 'Straße ÉCOLE İstanbul ΣΊΣΥΦΟΣ', 'Ünïcödé DESCRIPTION'), "
	    "(1, 'No description', NULL)";
	const char *same = "SELECT count(*) FROM todos a JOIN todos b "
	    "ON a.title = b.title AND a.description IS NOT DISTINCT FROM b.description "
	    "AND a.id < b.id WHERE a.search = b.search "
	    "AND a.search = lower((a.title || coalesce(' ' || a.description, '')) "
	    "COLLATE \"und-x-icu\")";
	const char *lang = "SELECT count(*) FROM pg_proc p JOIN pg_language l "
	    "ON l.oid = p.prolang WHERE p.proname = 'todo_search_text' "
	    "AND p.pronamespace = current_schema()::regnamespace AND l.lanname = ";
	char sql[512];

	f->m = load_real();
	assert_int_equal(migrate_up(f->c, f->m, 5), TD_OK);
	exec_ok(f->c, "INSERT INTO users (email, password_hash) "
	    "VALUES ('a@example.com', '$argon2id$x')");
	length_rules_hold(f->c);
	exec_ok(f->c, ins);

	assert_int_equal(migrate_up(f->c, f->m, 6), TD_OK);
	length_rules_hold(f->c);
	exec_ok(f->c, ins);
	/* Rows from before and after (two of length_rules_hold's, two of
	 * ins): the same lowered text. */
	assert_int_equal(query_long(f->c, same), 4);
	snprintf(sql, sizeof(sql), "%s'plpgsql'", lang);
	assert_int_equal(query_long(f->c, sql), 1);
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM pg_constraint "
	    "WHERE conrelid = 'todos'::regclass AND conname = 'todos_text_length'"), 1);

	assert_int_equal(migrate_down(f->c, f->m, 1), TD_OK);
	assert_int_equal(current(f), 5);
	length_rules_hold(f->c);
	snprintf(sql, sizeof(sql), "%s'sql'", lang);
	assert_int_equal(query_long(f->c, sql), 1);
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM pg_constraint "
	    "WHERE conrelid = 'todos'::regclass AND conname IN "
	    "('todos_title_length', 'todos_description_length')"), 2);
	assert_int_equal(query_long(f->c, "SELECT count(*) FROM pg_proc "
	    "WHERE proname = 'todo_text_ok' "
	    "AND pronamespace = current_schema()::regnamespace"), 0);
}

static void
test_schema_version(void **state)
{
	struct migrations *m = load_real();

	(void)state;
	/* Bump TODO_SCHEMA_VERSION in src/core/schema.h with each sql/ file. */
	assert_int_equal(TODO_SCHEMA_VERSION, migrate_latest(m));
	migrate_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_up_from_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_up_target_and_status,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksum_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_broken_migration, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_commit_inside_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_real_sql, setup, teardown),
		cmocka_unit_test_setup_teardown(test_006_same_rules, setup,
		    teardown),
		cmocka_unit_test(test_schema_version),
	};

	if ((url = getenv("DATABASE_URL")) == NULL || *url == '\0') {
		fprintf(stderr, "test_migrate: DATABASE_URL is not set; run it "
		    "as tests/pg-harness %s\n", "./test_migrate");
		return 1;
	}
	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
