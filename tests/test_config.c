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

/* Variables the tests set that are not settings. */
static const char *const extra_names[] = {
	"TODO_WORKER", "TODO_DATABASE_URL", "TODO_NOTHING_LIKE_IT", "TODO_Workers",
};

/* Env file of the test in flight, removed by teardown. */
static char envpath[64];

static int
clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; config_setting_name(i) != NULL; i++)
		if (unsetenv(config_setting_name(i)) != 0)
			return -1;
	for (i = 0; i < sizeof(extra_names) / sizeof(extra_names[0]); i++)
		if (unsetenv(extra_names[i]) != 0)
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
	/* The development profile: no rules, nothing added. */
	assert_int_equal(c.env, ENV_DEVELOPMENT);
	assert_int_equal(c.allow_local_database, 0);
	assert_false(c.cookie_secure);
	assert_string_equal(c.hsts, "");
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
	assert_int_equal(setenv("TODO_ARENA_CAP", "4194304", 1), 0);
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
	assert_int_equal(c.arena_cap, 4194304);
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
	/* Issue 11: room for the largest page the app renders (the list
	 * page, 50 todos of the longest title and description, all escaped). */
	bad_env("TODO_ARENA_CAP", "65536");
	bad_env("TODO_ARENA_CAP", "4194303");
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

/* ---- environments (TODO_ENV) ---- */

#define NEON_URL "postgresql://todo_app:hunter2@ep-x-123456-pooler.eu-central-1.aws.neon.tech/neondb" \
	"?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt&channel_binding=require"
#define HSTS "max-age=31536000; includeSubDomains"

static const char *const strict_envs[] = { "staging", "production" };

/* $TODO_SRCDIR, saved by main(). */
static char *srcdir;

/* What config_load wrote to stderr (its warnings), from load_logged(). */
static char logged[16384];

static enum td_status
load_logged(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = tmpfile();
	enum td_status rc;
	int saved;
	size_t n;

	assert_non_null(f);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_not_equal(dup2(fileno(f), 2), -1);
	rc = config_load(c, path, err, errlen);
	assert_int_not_equal(dup2(saved, 2), -1);
	close(saved);
	rewind(f);
	n = fread(logged, 1, sizeof(logged) - 1, f);
	logged[n] = '\0';
	fclose(f);
	return rc;
}

static void
set(const char *name, const char *value)
{
	assert_int_equal(setenv(name, value, 1), 0);
}

static void
unset(const char *name)
{
	assert_int_equal(unsetenv(name), 0);
}

static void
expect_ok(struct config *c)
{
	char err[1024] = "";

	if (load_logged(c, NULL, err, sizeof(err)) != TD_OK)
		fail_msg("refused: %s", err);
}

/* config_load must refuse, with every needle (NULL-terminated) in err. */
static void
expect_refused(const char *first, ...)
{
	struct config c;
	char err[1024] = "";
	const char *n;
	va_list ap;

	if (load_logged(&c, NULL, err, sizeof(err)) != TD_EINVAL)
		fail_msg("accepted; expected an error with \"%s\"", first);
	va_start(ap, first);
	for (n = first; n != NULL; n = va_arg(ap, const char *))
		if (strstr(err, n) == NULL) {
			va_end(ap);
			fail_msg("error \"%s\" lacks \"%s\"", err, n);
		}
	va_end(ap);
}

/* TODO_WORKERS is a fixed pool; TODO_WORKERS_MIN/MAX size it by demand. */
static void
test_pool_size(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	expect_ok(&c);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.workers_max, 4);     /* fixed */
	assert_int_equal(c.workers_idle_timeout, 10);
	set("TODO_WORKERS", "3");
	expect_ok(&c);
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.workers_max, 3);
	set("TODO_WORKERS_MAX", "12");
	expect_ok(&c);
	assert_int_equal(c.workers, 3);         /* kept: TODO_WORKERS */
	assert_int_equal(c.workers_max, 12);
	set("TODO_WORKERS_MIN", "2");
	expect_ok(&c);
	assert_int_equal(c.workers, 2);         /* TODO_WORKERS_MIN wins */
	assert_int_equal(c.workers_max, 12);
	set("TODO_WORKERS_MIN", "20");
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "TODO_WORKERS_MAX (12)"));
	assert_non_null(strstr(err, "TODO_WORKERS_MIN"));
	unset("TODO_WORKERS_MIN");
	bad_env("TODO_WORKERS_MAX", "257");
	bad_env("TODO_WORKERS_IDLE_TIMEOUT", "0");
	unset("TODO_WORKERS_MAX");
	unset("TODO_WORKERS");
}

static void
test_profiles(void **state)
{
	struct config c;

	(void)state;
	set("DATABASE_URL", NEON_URL);
	set("TODO_PUBLIC_ORIGIN", "https://todo.example.com");

	set("TODO_ENV", "production");
	expect_ok(&c);
	assert_int_equal(c.env, ENV_PRODUCTION);
	assert_string_equal(config_env_name(c.env), "production");
	assert_int_equal(c.workers, 8);         /* the profile's default */
	assert_true(c.cookie_secure);
	assert_string_equal(c.hsts, HSTS);
	assert_string_equal(c.log_level, "info");
	/* A profile default is only a default. */
	set("TODO_WORKERS", "3");
	expect_ok(&c);
	assert_int_equal(c.workers, 3);
	unset("TODO_WORKERS");
	/* Quieter than info is fine. */
	set("TODO_LOG_LEVEL", "warn");
	expect_ok(&c);
	assert_string_equal(c.log_level, "warn");

	set("TODO_ENV", "staging");
	set("TODO_LOG_LEVEL", "debug");         /* staging may debug */
	expect_ok(&c);
	assert_int_equal(c.env, ENV_STAGING);
	assert_string_equal(config_env_name(c.env), "staging");
	assert_int_equal(c.workers, 4);
	assert_true(c.cookie_secure);          /* HTTPS only, like production */
	assert_string_equal(c.hsts, "");
	assert_string_equal(c.log_level, "debug");

	set("TODO_ENV", "development");
	expect_ok(&c);
	assert_int_equal(c.env, ENV_DEVELOPMENT);
	assert_false(c.cookie_secure);
	assert_string_equal(c.hsts, "");

	bad_env("TODO_ENV", "prod");
	bad_env("TODO_ENV", "Production");
	bad_env("TODO_ENV", "");
	bad_env("TODO_ALLOW_LOCAL_DATABASE", "yes");
	bad_env("TODO_ALLOW_LOCAL_DATABASE", "2");
	bad_env("TODO_ALLOW_LOCAL_DATABASE", "01");
	bad_env("TODO_ALLOW_LOCAL_DATABASE", "");
}

/* Development takes any database, TLS or not, and any origin. */
static void
test_development_has_no_rules(void **state)
{
	struct config c;

	(void)state;
	set("DATABASE_URL", "postgresql://u:pw@db.example.com/todo?sslmode=disable");
	set("TODO_PUBLIC_ORIGIN", "http://todo.example.com");
	set("TODO_LOG_LEVEL", "debug");
	expect_ok(&c);
	unset("DATABASE_URL");
	unset("TODO_PUBLIC_ORIGIN");
	expect_ok(&c);
}

static void
test_strict_database(void **state)
{
	static const char *const local[] = {
		"postgresql:///todo",
		"postgresql:///todo?host=/run/postgresql",
		"postgresql://%2Frun%2Fpostgresql/todo",
		"host=/tmp dbname=todo",
		"dbname=todo",
		"postgresql://localhost/todo",
		"postgresql://LocalHost:5433/todo?sslmode=verify-full",
		"postgresql://127.0.0.1/todo?sslmode=disable",
		"postgresql://[::1]/todo",
		"host=localhost hostaddr=127.0.0.1 sslmode=verify-full",
		"host=db.example.com hostaddr=127.0.0.2 sslmode=require",
		"postgresql://localhost,127.0.0.1/todo",
	};
	struct config c;
	size_t e, i;

	(void)state;
	for (e = 0; e < 2; e++) {
		unset("TODO_ALLOW_LOCAL_DATABASE");
		set("TODO_ENV", strict_envs[e]);
		set("TODO_PUBLIC_ORIGIN", "https://todo.example.com");

		unset("DATABASE_URL");
		expect_refused("DATABASE_URL is not set", strict_envs[e],
		    "sslmode=verify-full", NULL);
		set("DATABASE_URL", "");
		expect_refused("DATABASE_URL is not set", NULL);

		set("DATABASE_URL", "postgresql://u:hunter2@db.example.com/todo");
		expect_refused("DATABASE_URL sets no sslmode", strict_envs[e],
		    "sslmode=verify-full&sslrootcert=", NULL);
		set("DATABASE_URL", "postgresql://u:hunter2@db.example.com/todo?sslmode=require");
		expect_refused("DATABASE_URL uses sslmode=require", "needs sslmode=verify-full", NULL);
		set("DATABASE_URL", "postgresql://u:hunter2@db.example.com/todo?sslmode=verify-ca");
		expect_refused("DATABASE_URL uses sslmode=verify-ca", NULL);
		set("DATABASE_URL", "host=db.example.com password=hunter2 sslmode=prefer");
		expect_refused("DATABASE_URL uses sslmode=prefer", NULL);
		/* A remote host among local ones needs TLS too. */
		set("DATABASE_URL", "postgresql://localhost,db.example.com/todo");
		expect_refused("DATABASE_URL sets no sslmode", NULL);

		for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
			struct config c2;
			char err[1024] = "";

			set("DATABASE_URL", local[i]);
			if (load_logged(&c2, NULL, err, sizeof(err)) != TD_EINVAL)
				fail_msg("%s: local DATABASE_URL %s accepted", strict_envs[e], local[i]);
			if (strstr(err, "DATABASE_URL points at a database on this machine") == NULL ||
			    strstr(err, "TODO_ALLOW_LOCAL_DATABASE=1") == NULL)
				fail_msg("%s: error \"%s\" for %s", strict_envs[e], err, local[i]);
		}

		/* The override: a local database, TLS or not. */
		set("TODO_ALLOW_LOCAL_DATABASE", "1");
		for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
			set("DATABASE_URL", local[i]);
			expect_ok(&c);
			assert_int_equal(c.allow_local_database, 1);
		}
		/* It lifts nothing for a remote database. */
		set("DATABASE_URL", "postgresql://u:hunter2@db.example.com/todo?sslmode=require");
		expect_refused("DATABASE_URL uses sslmode=require", NULL);
		set("DATABASE_URL", "postgresql://localhost,db.example.com/todo");
		expect_refused("DATABASE_URL sets no sslmode", NULL);
		/* Nor a missing one. */
		unset("DATABASE_URL");
		expect_refused("DATABASE_URL is not set", NULL);
		set("TODO_ALLOW_LOCAL_DATABASE", "0");
		set("DATABASE_URL", "postgresql://localhost/todo?sslmode=verify-full");
		expect_refused("TODO_ALLOW_LOCAL_DATABASE=1", NULL);

		/* What passes: Neon's form, a key=value string. */
		set("DATABASE_URL", NEON_URL);
		expect_ok(&c);
		set("DATABASE_URL", "host=db.example.com dbname=todo sslmode=verify-full");
		expect_ok(&c);
		set("DATABASE_URL", "postgresql://localhost,db.example.com/todo?sslmode=verify-full");
		expect_ok(&c);
	}
}

/* No refusal shows DATABASE_URL: it may hold a password. */
static void
test_strict_database_secret(void **state)
{
	struct config c;
	char err[1024] = "";

	(void)state;
	set("TODO_ENV", "production");
	set("TODO_PUBLIC_ORIGIN", "https://todo.example.com");
	set("DATABASE_URL", "postgresql://u:hunter2@db.example.com/todo?sslmode=require");
	assert_int_equal(load_logged(&c, NULL, err, sizeof(err)), TD_EINVAL);
	assert_null(strstr(err, "hunter2"));
	assert_null(strstr(logged, "hunter2"));
	set("DATABASE_URL", "host=localhost password=hunter2");
	assert_int_equal(load_logged(&c, NULL, err, sizeof(err)), TD_EINVAL);
	assert_null(strstr(err, "hunter2"));
	assert_null(strstr(logged, "hunter2"));
}

static void
test_strict_origin(void **state)
{
	struct config c;
	size_t e;

	(void)state;
	set("DATABASE_URL", NEON_URL);
	for (e = 0; e < 2; e++) {
		set("TODO_ENV", strict_envs[e]);
		unset("TODO_PUBLIC_ORIGIN");
		expect_refused("TODO_PUBLIC_ORIGIN is not set", strict_envs[e],
		    "https://", NULL);
		set("TODO_PUBLIC_ORIGIN", "");
		expect_refused("TODO_PUBLIC_ORIGIN is not set", NULL);
		set("TODO_PUBLIC_ORIGIN", "http://todo.example.com");
		expect_refused("TODO_PUBLIC_ORIGIN (environment)",
		    "\"http://todo.example.com\" is not an https:// origin",
		    "set TODO_PUBLIC_ORIGIN=https://todo.example.com", NULL);
		set("TODO_PUBLIC_ORIGIN", "HTTP://Todo.example.com:80/");
		expect_refused("\"http://todo.example.com\" is not an https:// origin", NULL);
		set("TODO_PUBLIC_ORIGIN", "https://todo.example.com:8443");
		expect_ok(&c);
		assert_string_equal(c.public_origin, "https://todo.example.com:8443");
	}
}

static void
test_production_log_level(void **state)
{
	struct config c;
	char err[1024] = "";
	const char *path;

	(void)state;
	set("DATABASE_URL", NEON_URL);
	set("TODO_PUBLIC_ORIGIN", "https://todo.example.com");
	set("TODO_ENV", "production");
	set("TODO_LOG_LEVEL", "debug");
	expect_refused("TODO_LOG_LEVEL (environment)", "debug is refused in production",
	    "info", NULL);
	unset("TODO_LOG_LEVEL");
	path = env_file("TODO_LOG_LEVEL=debug\n");
	assert_int_equal(load_logged(&c, path, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "TODO_LOG_LEVEL (env file)"));
	set("TODO_LOG_LEVEL", "error");
	expect_ok(&c);
}

/* An origin that normalises to want, with a warning holding note (or no
 * warning when note is NULL). */
static void
origin_normalised(const char *value, const char *want, const char *note)
{
	struct config c;
	char err[512] = "";

	set("TODO_PUBLIC_ORIGIN", value);
	if (load_logged(&c, NULL, err, sizeof(err)) != TD_OK)
		fail_msg("TODO_PUBLIC_ORIGIN=\"%s\" refused: %s", value, err);
	if (strcmp(c.public_origin, want) != 0)
		fail_msg("\"%s\" became \"%s\", want \"%s\"", value, c.public_origin, want);
	if (note == NULL && strstr(logged, "TODO_PUBLIC_ORIGIN") != NULL)
		fail_msg("\"%s\" warned: %s", value, logged);
	if (note != NULL && (strstr(logged, "level=warn") == NULL ||
	    strstr(logged, "TODO_PUBLIC_ORIGIN (environment)") == NULL ||
	    strstr(logged, note) == NULL))
		fail_msg("\"%s\": no warning with \"%s\" in: %s", value, note, logged);
	unset("TODO_PUBLIC_ORIGIN");
}

static void
test_origin_normalised(void **state)
{
	struct config c;
	char err[512] = "";
	const char *path;

	(void)state;
	origin_normalised("https://todo.example.com/", "https://todo.example.com",
	    "trailing slash removed");
	origin_normalised("HTTPS://Todo.Example.COM", "https://todo.example.com",
	    "lower-cased");
	origin_normalised("https://todo.example.com:443", "https://todo.example.com",
	    "default port :443 removed");
	origin_normalised("http://todo.example.com:80", "http://todo.example.com",
	    "default port :80 removed");
	origin_normalised("HTTPS://TODO.example.com:443/", "https://todo.example.com",
	    "trailing slash removed, default port :443 removed, lower-cased");
	origin_normalised("https://todo.example.com:08443", "https://todo.example.com:8443",
	    "port rewritten");
	origin_normalised("https://[2001:DB8::1]:8443/", "https://[2001:db8::1]:8443",
	    "lower-cased");
	/* Already as a browser writes them: kept, no warning. */
	origin_normalised("https://todo.example.com", "https://todo.example.com", NULL);
	origin_normalised("http://127.0.0.1:8080", "http://127.0.0.1:8080", NULL);
	origin_normalised("http://todo.example.com:443", "http://todo.example.com:443", NULL);
	origin_normalised("https://todo.example.com:80", "https://todo.example.com:80", NULL);
	origin_normalised("https://[::1]:8443", "https://[::1]:8443", NULL);
	origin_normalised("https://xn--tdo-qoa.example", "https://xn--tdo-qoa.example", NULL);
	origin_normalised("", "", NULL);

	/* From an env file, the warning says so. */
	path = env_file("TODO_PUBLIC_ORIGIN=https://todo.example.com/\n");
	assert_int_equal(load_logged(&c, path, err, sizeof(err)), TD_OK);
	assert_string_equal(c.public_origin, "https://todo.example.com");
	assert_non_null(strstr(logged, "TODO_PUBLIC_ORIGIN (env file)"));
	assert_non_null(strstr(logged, "trailing slash removed"));
}

/* An origin refused with a message that names the setting, quotes the
 * value and says what is wrong (needle). */
static void
origin_refused(const char *value, const char *needle)
{
	struct config c;
	char err[512] = "", quoted[300];

	set("TODO_PUBLIC_ORIGIN", value);
	if (load_logged(&c, NULL, err, sizeof(err)) != TD_EINVAL)
		fail_msg("TODO_PUBLIC_ORIGIN=\"%s\" accepted as \"%s\"", value, c.public_origin);
	snprintf(quoted, sizeof(quoted), "\"%s\"", value);
	if (strstr(err, "TODO_PUBLIC_ORIGIN (environment)") == NULL ||
	    strstr(err, quoted) == NULL || strstr(err, needle) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", value, err, needle);
	unset("TODO_PUBLIC_ORIGIN");
}

static void
test_origin_refused(void **state)
{
	char big[300];

	(void)state;
	origin_refused("todo.example.com", "has no scheme");
	origin_refused("//todo.example.com", "has no scheme");
	origin_refused("todo.example.com:443", "has no scheme");
	origin_refused("ftp://todo.example.com", "not an http:// or https:// origin");
	origin_refused(" https://todo.example.com", "not an http:// or https:// origin");
	origin_refused("https://todo.example.com/app", "has a path (/app)");
	origin_refused("https://todo.example.com//", "has a path");
	origin_refused("https://todo.example.com/?a=1", "has a path");
	origin_refused("https://todo.example.com?a=1", "has a query (?a=1)");
	origin_refused("https://todo.example.com#top", "has a fragment (#top)");
	origin_refused("https://user:pw@todo.example.com", "has user information");
	origin_refused("https://user@todo.example.com/", "has user information");
	origin_refused("https://todo.example.com:", "has a bad port ()");
	origin_refused("https://todo.example.com:0", "has a bad port (0)");
	origin_refused("https://todo.example.com:65536", "has a bad port (65536)");
	origin_refused("https://todo.example.com:99999999999999999999", "has a bad port");
	origin_refused("https://todo.example.com:8o80", "has a bad port (8o80)");
	origin_refused("https://todo.example.com:-1", "has a bad port");
	origin_refused("https://todo.example.com:443:443", "has a bad port");
	origin_refused("https://", "has no host");
	origin_refused("https://:8443", "has no host");
	origin_refused("https://[]", "has no host");
	origin_refused("https://[::1", "without its closing ]");
	origin_refused("https://[::1]x", "not a port");
	origin_refused("https://[::g]", "a character a host cannot have");
	origin_refused("https://t\xc3\xb6" "do.example.com", "punycode");
	origin_refused("https://todo example.com", "a character a host cannot have");
	origin_refused("https://todo_example.com", "a character a host cannot have");
	origin_refused("https://todo.example.com\\", "a character a host cannot have");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "https://", 8);
	origin_refused(big, "TODO_PUBLIC_ORIGIN");
}

static void
test_unknown_environment_warns(void **state)
{
	struct config c;
	const char *line, *eol;

	(void)state;
	set("TODO_WORKER", "8");
	set("TODO_DATABASE_URL", "postgresql:///todo");
	set("TODO_Workers", "2");
	set("TODO_NOTHING_LIKE_IT", "1");
	set("TODO_WORKERS", "3");
	expect_ok(&c);
	/* Ignored, not applied. */
	assert_int_equal(c.workers, 3);
	assert_string_equal(c.database_url, "");
	assert_non_null(strstr(logged, "unknown setting TODO_WORKER (did you mean TODO_WORKERS?)"));
	assert_non_null(strstr(logged, "unknown setting TODO_DATABASE_URL (did you mean DATABASE_URL?)"));
	assert_non_null(strstr(logged, "unknown setting TODO_Workers (did you mean TODO_WORKERS?)"));
	/* Nothing close: one line for all such, without a wrong guess. */
	line = strstr(logged, "unknown TODO_* variable");
	assert_non_null(line);
	eol = strchr(line, '\n');
	assert_non_null(eol);
	assert_non_null(memmem(line, (size_t)(eol - line), "TODO_NOTHING_LIKE_IT", 20));
	assert_null(memmem(line, (size_t)(eol - line), "did you mean", 12));
	assert_non_null(memmem(line, (size_t)(eol - line), "--help", 6));
	assert_null(strstr(eol, "unknown TODO_* variable"));
	/* Known settings are not warned about. */
	assert_null(strstr(logged, "unknown setting TODO_WORKERS "));
	assert_null(strstr(logged, "unknown setting TODO_WORKERS,"));
	/* A warning, even when the settings are refused: it may be why. */
	set("TODO_WORKERS", "none");
	{
		char err[512] = "";

		assert_int_equal(load_logged(&c, NULL, err, sizeof(err)), TD_EINVAL);
		assert_non_null(strstr(logged, "did you mean TODO_WORKERS?"));
	}
}

static void
test_env_file_suggests(void **state)
{
	struct config c;
	char err[512] = "";
	const char *path;

	(void)state;
	bad_file("TODO_WORKERS=2\nTODO_WROKERS=3\n", 2,
	    "unknown setting TODO_WROKERS (did you mean TODO_WORKERS?)");
	bad_file("TODO_PUBLIC_ORGIN=https://a.example\n", 1,
	    "unknown setting TODO_PUBLIC_ORGIN (did you mean TODO_PUBLIC_ORIGIN?)");
	bad_file("TODO_DATABASE_URL=x\n", 1, "(did you mean DATABASE_URL?)");
	bad_file("TODO_LOGLEVEL=info\n", 1, "(did you mean TODO_LOG_LEVEL?)");
	bad_file("TODO_ALLOW_LOCAL_DB=1\n", 1, "unknown setting TODO_ALLOW_LOCAL_DB");
	path = env_file("TODO_XYZZY=1\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), TD_EINVAL);
	assert_non_null(strstr(err, "unknown setting TODO_XYZZY"));
	assert_null(strstr(err, "did you mean"));
}

/* TODO_ENV from a file picks the file's profile; the environment wins. */
static void
test_env_from_file(void **state)
{
	struct config c;
	char err[1024] = "";
	const char *path;

	(void)state;
	path = env_file("TODO_ENV=production\n"
	    "DATABASE_URL=" NEON_URL "\n"
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com\n");
	if (load_logged(&c, path, err, sizeof(err)) != TD_OK)
		fail_msg("refused: %s", err);
	assert_int_equal(c.env, ENV_PRODUCTION);
	assert_int_equal(c.workers, 8);
	assert_true(c.cookie_secure);
	set("TODO_ENV", "development");
	assert_int_equal(load_logged(&c, path, err, sizeof(err)), TD_OK);
	assert_int_equal(c.env, ENV_DEVELOPMENT);
	assert_int_equal(c.workers, 4);
	assert_false(c.cookie_secure);
}

/* Session lifetimes: defaults, and touch < idle <= max. */
static void
test_session_settings(void **state)
{
	struct config c;

	(void)state;
	good_env("TODO_SESSION_TOUCH", "300", &c);
	assert_int_equal(c.session_idle, 7 * 86400);
	assert_int_equal(c.session_max, 30 * 86400);
	assert_int_equal(c.session_touch, 300);
	bad_env("TODO_SESSION_TOUCH", "604800");     /* = idle */
	bad_env("TODO_SESSION_IDLE", "2592001");     /* > max */
	bad_env("TODO_SESSION_MAX", "604799");       /* < idle */
	bad_env("TODO_SESSION_IDLE", "59");
	good_env("TODO_SESSION_IDLE", "2592000", &c); /* = max */
	assert_int_equal(c.session_idle, c.session_max);
}

/* Sign-in throttling: defaults and ranges. No rule ties them together:
 * an address limit below the email limit is a choice (one client then
 * meets its own limit first), not a mistake. */
static void
test_login_settings(void **state)
{
	struct config c;

	(void)state;
	good_env("TODO_LOGIN_WINDOW", "900", &c);
	assert_int_equal(c.login_window, 900);
	assert_int_equal(c.login_max_failures, 5);
	assert_int_equal(c.login_max_address_failures, 50);
	bad_env("TODO_LOGIN_WINDOW", "0");
	bad_env("TODO_LOGIN_WINDOW", "86401");
	bad_env("TODO_LOGIN_MAX_FAILURES", "0");
	bad_env("TODO_LOGIN_MAX_FAILURES", "1001");
	bad_env("TODO_LOGIN_MAX_ADDRESS_FAILURES", "0");
	bad_env("TODO_LOGIN_MAX_ADDRESS_FAILURES", "100001");
	bad_env("TODO_LOGIN_MAX_FAILURES", "5x");
	good_env("TODO_LOGIN_WINDOW", "1", &c);
	assert_int_equal(c.login_window, 1);
	good_env("TODO_LOGIN_WINDOW", "86400", &c);
	assert_int_equal(c.login_window, 86400);
	good_env("TODO_LOGIN_MAX_FAILURES", "1000", &c);
	assert_int_equal(c.login_max_failures, 1000);
	good_env("TODO_LOGIN_MAX_ADDRESS_FAILURES", "1", &c);
	assert_int_equal(c.login_max_address_failures, 1);
	good_env("TODO_LOGIN_MAX_ADDRESS_FAILURES", "100000", &c);
	assert_int_equal(c.login_max_address_failures, 100000);
}

/* The files in config/: every setting of the table documented ("# NAME: ...") and
 * shown as a line ("NAME=..." or "#NAME=..."), and each file loads as
 * its profile. */
static void
test_shipped_env_files(void **state)
{
	static const struct {
		const char *file;
		enum config_env env;
	} files[] = {
		{ "development.env", ENV_DEVELOPMENT },
		{ "staging.env.example", ENV_STAGING },
		{ "production.env.example", ENV_PRODUCTION },
	};
	size_t f, i;

	(void)state;
	if (srcdir == NULL)
		fail_msg("TODO_SRCDIR is not set: run me through make check");
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char path[4096], text[32768], doc[128], line[128], cline[128];
		struct config c;
		char err[1024] = "";
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "%s/config/%s", srcdir, files[f].file);
		fp = fopen(path, "r");
		if (fp == NULL)
			fail_msg("%s: cannot open", path);
		n = fread(text + 1, 1, sizeof(text) - 2, fp);
		fclose(fp);
		text[0] = '\n';             /* so every line starts after a \n */
		text[n + 1] = '\0';
		assert_true(n < sizeof(text) - 2);
		for (i = 0; config_setting_name(i) != NULL; i++) {
			const char *name = config_setting_name(i);

			snprintf(doc, sizeof(doc), "\n# %s: ", name);
			snprintf(line, sizeof(line), "\n%s=", name);
			snprintf(cline, sizeof(cline), "\n#%s=", name);
			if (strstr(text, doc) == NULL)
				fail_msg("%s does not document %s (no \"# %s: ...\" line)",
				    path, name, name);
			if (strstr(text, line) == NULL && strstr(text, cline) == NULL)
				fail_msg("%s has no %s= or #%s= line", path, name, name);
		}
		if (load_logged(&c, path, err, sizeof(err)) != TD_OK)
			fail_msg("%s: %s", path, err);
		assert_int_equal(c.env, files[f].env);
		if (strstr(logged, "level=warn") != NULL && strstr(logged, path) != NULL)
			fail_msg("%s: warned: %s", path, logged);
	}
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
		cmocka_unit_test_setup_teardown(test_pool_size, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_development_has_no_rules, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_strict_database, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_strict_database_secret, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_strict_origin, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_production_log_level, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_origin_normalised, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_origin_refused, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_environment_warns, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_env_file_suggests, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_env_from_file, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_session_settings, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_login_settings, clear_env, teardown),
		cmocka_unit_test_setup_teardown(test_shipped_env_files, clear_env, teardown),
	};

	/* make check's own TODO_* variables would be warned about in every
	 * test; test_shipped_env_files() keeps the one it needs. */
	if ((srcdir = getenv("TODO_SRCDIR")) != NULL)
		srcdir = strdup(srcdir);
	unsetenv("TODO_SRCDIR");
	unsetenv("TODO_BUILDDIR");
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
