/* test_config.c - defaults, environment, env file, validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char *const names[] = {
	"DATABASE_URL", "TODO_LISTEN", "TODO_SOCKET_MODE", "TODO_SOCKET_GROUP",
	"TODO_BACKLOG", "TODO_WORKERS", "TODO_MAX_REQUESTS",
	"TODO_REQUEST_TIMEOUT", "TODO_SHUTDOWN_TIMEOUT", "TODO_MAX_BODY",
	"TODO_ARENA_CAP", "TODO_SLOW_MS", "TODO_DB_CONNECT_TIMEOUT",
	"TODO_TEMPLATE_DIR", "TODO_STATIC_URL", "TODO_SQL_DIR",
	"TODO_PUBLIC_ORIGIN", "TODO_LOG_LEVEL",
};

/* Env file of the test in flight, removed by teardown. */
static char envpath[64];

static int
clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (unsetenv(names[i]) != 0)
			return -1;
	envpath[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	if (envpath[0] != '\0')
		unlink(envpath);
	return clear_env(state);
}

/* Write text to a fresh temporary file; returns its path. */
static const char *
env_file(const char *text)
{
	size_t n = strlen(text);
	int fd;

	snprintf(envpath, sizeof(envpath), "/tmp/test_config.XXXXXX");
	fd = mkstemp(envpath);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
	return envpath;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* config_load must fail with TD_EINVAL and name the variable. */
static void
bad_env(const char *name, const char *value)
{
	struct config c;
	char err[256] = "";

	assert_int_equal(setenv(name, value, 1), 0);
	if (config_load(&c, NULL, err, sizeof(err)) != TD_EINVAL)
		fail_msg("%s=\"%s\" was accepted", name, value);
	if (strstr(err, name) == NULL)
		fail_msg("error \"%s\" does not name %s", err, name);
	assert_int_equal(unsetenv(name), 0);
}

static void
good_env(const char *name, const char *value, struct config *c)
{
	char err[256] = "";

	assert_int_equal(setenv(name, value, 1), 0);
	if (config_load(c, NULL, err, sizeof(err)) != TD_OK)
		fail_msg("%s=\"%s\" refused: %s", name, value, err);
	assert_int_equal(unsetenv(name), 0);
}

static void
test_defaults(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	memset(&c, 0x55, sizeof(c));
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), TD_OK);
	assert_string_equal(c.database_url, "");
	assert_string_equal(c.listen, "127.0.0.1:9000");
	assert_int_equal(c.socket_mode, 0660);
	assert_string_equal(c.socket_group, "");
	assert_int_equal(c.backlog, 128);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.max_requests, 10000);
	assert_int_equal(c.request_timeout, 30);
	assert_int_equal(c.shutdown_timeout, 10);
	assert_int_equal(c.max_body, 65536);
	assert_int_equal(c.arena_cap, 8388608);
	assert_int_equal(c.slow_ms, 500);
	assert_int_equal(c.db_connect_timeout, 5);
	assert_true(ends_with(c.template_dir, "/templates"));
	assert_string_equal(c.static_url, "/static");
	assert_true(ends_with(c.sql_dir, "/sql"));
	assert_string_equal(c.public_origin, "");
	assert_string_equal(c.log_level, "info");
}

static void
test_env_overrides(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(setenv("DATABASE_URL", "postgresql:///todo?host=/run/pg", 1), 0);
	assert_int_equal(setenv("TODO_LISTEN", "unix:/run/todo/fcgi.sock", 1), 0);
	assert_int_equal(setenv("TODO_SOCKET_MODE", "0600", 1), 0);
	assert_int_equal(setenv("TODO_SOCKET_GROUP", "www-data", 1), 0);
	assert_int_equal(setenv("TODO_BACKLOG", "65535", 1), 0);
	assert_int_equal(setenv("TODO_WORKERS", "256", 1), 0);
	assert_int_equal(setenv("TODO_MAX_REQUESTS", "0", 1), 0);
	assert_int_equal(setenv("TODO_REQUEST_TIMEOUT", "0", 1), 0);
	assert_int_equal(setenv("TODO_SHUTDOWN_TIMEOUT", "3600", 1), 0);
	assert_int_equal(setenv("TODO_MAX_BODY", "1024", 1), 0);
	assert_int_equal(setenv("TODO_ARENA_CAP", "65536", 1), 0);
	assert_int_equal(setenv("TODO_SLOW_MS", "0", 1), 0);
	assert_int_equal(setenv("TODO_DB_CONNECT_TIMEOUT", "120", 1), 0);
	assert_int_equal(setenv("TODO_TEMPLATE_DIR", "/srv/t", 1), 0);
	assert_int_equal(setenv("TODO_STATIC_URL", "/s", 1), 0);
	assert_int_equal(setenv("TODO_SQL_DIR", "/srv/sql", 1), 0);
	assert_int_equal(setenv("TODO_PUBLIC_ORIGIN", "https://todo.example.com", 1), 0);
	assert_int_equal(setenv("TODO_LOG_LEVEL", "debug", 1), 0);
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), TD_OK);
	assert_string_equal(c.database_url, "postgresql:///todo?host=/run/pg");
	assert_string_equal(c.listen, "unix:/run/todo/fcgi.sock");
	assert_int_equal(c.socket_mode, 0600);
	assert_string_equal(c.socket_group, "www-data");
	assert_int_equal(c.backlog, 65535);
	assert_int_equal(c.workers, 256);
	assert_int_equal(c.max_requests, 0);
	assert_int_equal(c.request_timeout, 0);
	assert_int_equal(c.shutdown_timeout, 3600);
	assert_int_equal(c.max_body, 1024);
	assert_int_equal(c.arena_cap, 65536);
	assert_int_equal(c.slow_ms, 0);
	assert_int_equal(c.db_connect_timeout, 120);
	assert_string_equal(c.template_dir, "/srv/t");
	assert_string_equal(c.static_url, "/s");
	assert_string_equal(c.sql_dir, "/srv/sql");
	assert_string_equal(c.public_origin, "https://todo.example.com");
	assert_string_equal(c.log_level, "debug");

	/* Every log level, the socket mode's edges. */
	good_env("TODO_LOG_LEVEL", "warn", &c);
	assert_string_equal(c.log_level, "warn");
	good_env("TODO_LOG_LEVEL", "error", &c);
	assert_string_equal(c.log_level, "error");
	good_env("TODO_SOCKET_MODE", "777", &c);
	assert_int_equal(c.socket_mode, 0777);
	good_env("TODO_SOCKET_MODE", "0", &c);
	assert_int_equal(c.socket_mode, 0);
	/* An empty string setting is allowed (DATABASE_URL: libpq defaults). */
	good_env("TODO_STATIC_URL", "", &c);
	assert_string_equal(c.static_url, "");
}

static void
test_env_file(void **state)
{
	struct config c;
	char err[256] = "";
	const char *path;

	(void)state;
	path = env_file(
	    "# settings for todo-fcgi\n"
	    "\n"
	    "   # indented comment\n"
	    "TODO_WORKERS=8\n"
	    "export TODO_BACKLOG=512\n"
	    "TODO_LISTEN = \"unix:/run/todo.sock\"\n"
	    "TODO_STATIC_URL='/assets'\n"
	    "TODO_PUBLIC_ORIGIN=\"https://a.example\"   \r\n"
	    "TODO_SOCKET_MODE=0640\n"
	    "\tTODO_LOG_LEVEL=warn\n"
	    "PATH=/nope\n"
	    "PGHOST=/run/postgresql\n"
	    "lowercase=ignored\n"
	    "TODO_SLOW_MS=100\n"
	    "TODO_SLOW_MS=250\n"
	    "DATABASE_URL=dbname=todo host=/tmp\n"
	    "TODO_SQL_DIR=/last/line/without/newline");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), TD_OK);
	assert_int_equal(c.workers, 8);
	assert_int_equal(c.backlog, 512);
	assert_string_equal(c.listen, "unix:/run/todo.sock");
	assert_string_equal(c.static_url, "/assets");
	assert_string_equal(c.public_origin, "https://a.example");
	assert_int_equal(c.socket_mode, 0640);
	assert_string_equal(c.log_level, "warn");
	/* The last line in the file wins. */
	assert_int_equal(c.slow_ms, 250);
	assert_string_equal(c.database_url, "dbname=todo host=/tmp");
	assert_string_equal(c.sql_dir, "/last/line/without/newline");
	/* Unset ones keep their defaults. */
	assert_int_equal(c.max_body, 65536);
	/* The file never touches the process environment. */
	assert_null(getenv("TODO_WORKERS"));
	assert_non_null(getenv("PATH"));
	assert_string_not_equal(getenv("PATH"), "/nope");
}

static void
test_env_wins(void **state)
{
	struct config c;
	char err[256] = "";
	const char *path;

	(void)state;
	path = env_file("TODO_WORKERS=8\nTODO_MAX_BODY=2048\n");
	assert_int_equal(setenv("TODO_WORKERS", "3", 1), 0);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), TD_OK);
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.max_body, 2048);
	/* Even an empty environment value beats the file. */
	assert_int_equal(setenv("TODO_MAX_BODY", "", 1), 0);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "TODO_MAX_BODY"));
}

/* A file that must be refused with "path:line" and text in err. */
static void
bad_file(const char *text, int line, const char *needle)
{
	struct config c;
	char err[512] = "", where[128];
	const char *path = env_file(text);

	assert_int_equal(config_load(&c, path, err, sizeof(err)), TD_EINVAL);
	if (line > 0) {
		snprintf(where, sizeof(where), "%s:%d:", path, line);
		if (strstr(err, where) == NULL)
			fail_msg("error \"%s\" lacks \"%s\"", err, where);
	}
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	unlink(envpath);
	envpath[0] = '\0';
}

static void
test_env_file_errors(void **state)
{
	struct config c;
	char err[256] = "";
	char longline[5000];

	(void)state;
	bad_file("# ok\nTODO_WORKERS=2\nTODO_WROKERS=3\n", 3, "TODO_WROKERS");
	bad_file("TODO_=1\n", 1, "TODO_");
	bad_file("\n\nexport TODO_NOPE=1\n", 3, "TODO_NOPE");
	bad_file("TODO_WORKERS=2\njust some words\n", 2, "NAME=VALUE");
	/* Bad values from the file name the variable too. */
	bad_file("TODO_WORKERS=many\n", 0, "TODO_WORKERS");
	bad_file("TODO_SOCKET_MODE=0888\n", 0, "TODO_SOCKET_MODE");
	bad_file("TODO_LOG_LEVEL=\"loud\"\n", 0, "TODO_LOG_LEVEL");

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "FOO=", 4);
	bad_file(longline, 1, "too long");

	/* A missing file is an error that names it. */
	assert_int_not_equal(config_load(&c, "/nonexistent/todo.env", err,
	    sizeof(err)), TD_OK);
	assert_non_null(strstr(err, "/nonexistent/todo.env"));
}

static void
test_invalid_values(void **state)
{
	char big[600];

	(void)state;
	bad_env("TODO_WORKERS", "");
	bad_env("TODO_WORKERS", "abc");
	bad_env("TODO_WORKERS", "4x");
	bad_env("TODO_WORKERS", "4 ");
	bad_env("TODO_WORKERS", "4.0");
	bad_env("TODO_WORKERS", "0");
	bad_env("TODO_WORKERS", "257");
	bad_env("TODO_WORKERS", "-1");
	bad_env("TODO_WORKERS", "0x10");
	bad_env("TODO_WORKERS", "99999999999999999999999");
	bad_env("TODO_WORKERS", "4294967300");
	bad_env("TODO_BACKLOG", "65536");
	bad_env("TODO_MAX_REQUESTS", "-1");
	bad_env("TODO_MAX_REQUESTS", "1000000001");
	bad_env("TODO_REQUEST_TIMEOUT", "3601");
	bad_env("TODO_SHUTDOWN_TIMEOUT", "0");
	bad_env("TODO_MAX_BODY", "1023");
	bad_env("TODO_MAX_BODY", "16777217");
	bad_env("TODO_ARENA_CAP", "65535");
	bad_env("TODO_ARENA_CAP", "268435457");
	bad_env("TODO_SLOW_MS", "3600001");
	bad_env("TODO_DB_CONNECT_TIMEOUT", "0");
	bad_env("TODO_DB_CONNECT_TIMEOUT", "121");

	bad_env("TODO_SOCKET_MODE", "");
	bad_env("TODO_SOCKET_MODE", "0680");
	bad_env("TODO_SOCKET_MODE", "8");
	bad_env("TODO_SOCKET_MODE", "01000");
	bad_env("TODO_SOCKET_MODE", "-1");
	bad_env("TODO_SOCKET_MODE", "rw-rw----");
	bad_env("TODO_SOCKET_MODE", "0x1ff");

	bad_env("TODO_LOG_LEVEL", "");
	bad_env("TODO_LOG_LEVEL", "verbose");
	bad_env("TODO_LOG_LEVEL", "warning");
	bad_env("TODO_LOG_LEVEL", "info ");

	/* Strings longer than their field are refused, not truncated. */
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[0] = '/';
	bad_env("TODO_TEMPLATE_DIR", big);
	bad_env("TODO_LISTEN", big);
	big[256] = '\0';
	bad_env("TODO_STATIC_URL", big);
	big[64] = '\0';
	bad_env("TODO_SOCKET_GROUP", big);
}

static void
test_limits_accepted(void **state)
{
	struct config c;
	char big[256];

	(void)state;
	good_env("TODO_MAX_BODY", "16777216", &c);
	assert_int_equal(c.max_body, 16777216);
	good_env("TODO_ARENA_CAP", "268435456", &c);
	assert_int_equal(c.arena_cap, 268435456);
	good_env("TODO_MAX_REQUESTS", "1000000000", &c);
	assert_int_equal(c.max_requests, 1000000000);
	good_env("TODO_WORKERS", "1", &c);
	assert_int_equal(c.workers, 1);
	/* The longest string that fits. */
	memset(big, 's', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	good_env("TODO_STATIC_URL", big, &c);
	assert_string_equal(c.static_url, big);
}

/* An unparsable DATABASE_URL must be refused with a message that shows
 * no part of the value (it may hold a password). */
static void
bad_url(const char *url, const char *secret)
{
	struct config c;
	char err[512] = "";

	assert_int_equal(setenv("DATABASE_URL", url, 1), 0);
	if (config_load(&c, NULL, err, sizeof(err)) != TD_EINVAL)
		fail_msg("DATABASE_URL \"%s\" was accepted", url);
	assert_non_null(strstr(err, "DATABASE_URL"));
	assert_non_null(strstr(err, "not shown"));
	if (strstr(err, secret) != NULL)
		fail_msg("error \"%s\" shows \"%s\"", err, secret);
	assert_int_equal(unsetenv("DATABASE_URL"), 0);
}

static void
test_database_url(void **state)
{
	struct config c;
	char err[512] = "";
	const char *path;

	(void)state;
	/* A bad percent-escape in the password: libpq's own message would
	 * quote it. */
	bad_url("postgresql://u:pa%zzss@host/db", "zzss");
	bad_url("postgresql://u:pa%zzss@host/db", "pa%");
	bad_url("postgres://u:hunter2@host:5432/db?sslmode=nope%zz",
	    "hunter2");
	bad_url("postgresql://u:hunter2@host/db?nosuchoption=1", "hunter2");
	bad_url("host=db password='hunter2", "hunter2");
	bad_url("host=db password=hunter2 nosuchkey=1", "hunter2");
	bad_url("hunter2", "hunter2");

	/* The same from an env file. */
	path = env_file("DATABASE_URL=postgresql://u:pa%zzss@host/db\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "DATABASE_URL"));
	assert_null(strstr(err, "zzss"));

	/* Good URIs, key=value strings and empty (libpq's PG* defaults). */
	good_env("DATABASE_URL", "postgresql://u:pa%20ss@host:5433/db"
	    "?sslmode=require&connect_timeout=3", &c);
	assert_string_equal(c.database_url, "postgresql://u:pa%20ss@host:5433"
	    "/db?sslmode=require&connect_timeout=3");
	good_env("DATABASE_URL", "postgres://localhost/todo", &c);
	good_env("DATABASE_URL", "postgresql:///todo?host=/run/postgresql", &c);
	good_env("DATABASE_URL", "host=localhost port=5432 dbname=todo "
	    "user=u password='pa ss'", &c);
	assert_string_equal(c.database_url, "host=localhost port=5432 "
	    "dbname=todo user=u password='pa ss'");
	good_env("DATABASE_URL", "dbname=todo", &c);
	good_env("DATABASE_URL", "", &c);
	assert_string_equal(c.database_url, "");
}

static void
test_small_err_buffer(void **state)
{
	struct config c;
	char err[8];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(setenv("TODO_WORKERS", "nope", 1), 0);
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), TD_EINVAL);
	/* Truncated, still terminated, nothing written past the end (ASan). */
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_env_overrides, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_env_file, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_env_wins, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_env_file_errors, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_values, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_limits_accepted, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_small_err_buffer, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_database_url, clear_env, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
