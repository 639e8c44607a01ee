/* itest_startup.c - todo-fcgi's start-up checks, run as a real process:
 * a bad setting names its variable, a broken template names file and line,
 * an unmigrated database is refused with what to run, an unparsable
 * DATABASE_URL is refused without being shown, --help/--version, and the
 * rules of TODO_ENV=staging|production (todo-fcgi --check, todoctl). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char bin[4096], ctl[4096], tdir[4096], cdir[4096];

/* Run `env... prog args` with a timeout; capture stdout+stderr. */
static int
run_prog(const char *prog, const char *env, const char *args, char *out,
    size_t outlen)
{
	char cmd[12288];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "env %s timeout 20 '%s' %s 2>&1", env, prog, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The same for todo-fcgi. */
static int
run(const char *env, const char *args, char *out, size_t outlen)
{
	return run_prog(bin, env, args, out, outlen);
}

static void
test_help_and_version(void **state)
{
	char out[16384];

	(void)state;
	assert_int_equal(run("", "--version", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "todo-fcgi "));
	assert_int_equal(run("", "--help", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "TODO_WORKERS"));
	assert_int_equal(run("", "--no-such-option", out, sizeof(out)), 2);
}

static void
test_bad_setting_names_variable(void **state)
{
	char out[16384], env[8192];

	(void)state;
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_WORKERS=many", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "TODO_WORKERS"));
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_SOCKET_MODE=999", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "TODO_SOCKET_MODE"));
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s'", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 0);
}

static void
test_broken_template_names_file_and_line(void **state)
{
	char out[16384], env[8192], dir[] = "/tmp/itest_startup.XXXXXX", path[4200];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/page.html", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("<p>one</p>\n<p>two</p>\n{{#items}}\n<li>{{name}}</li>\n", f);
	fclose(f);
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s'", dir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "page.html:3"));
	unlink(path);
	rmdir(dir);
}

static void
test_unmigrated_database_refused(void **state)
{
	char out[16384], env[8192];

	(void)state;
	/* DATABASE_URL (from tests/pg-harness) is a fresh, empty database. */
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_LISTEN=127.0.0.1:0", tdir);
	assert_int_equal(run(env, "", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "todoctl migrate up"));
}

/* A DATABASE_URL libpq cannot parse stops start-up once, with a message
 * that does not show it: libpq's own error would quote the password. */
static void
test_bad_database_url_refused(void **state)
{
	static const char *const urls[] = {
		"postgresql://u:pa%zzss@127.0.0.1/db",
		"host=127.0.0.1 password=pa%zzss nosuchkey=1",
	};
	char out[16384], env[8192];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' "
		    "TODO_LISTEN=127.0.0.1:0 DATABASE_URL='%s'", tdir, urls[i]);
		/* The pool itself and its --check, before forking anything. */
		assert_int_equal(run(env, "", out, sizeof(out)), 1);
		assert_non_null(strstr(out, "DATABASE_URL is not a valid"));
		assert_null(strstr(out, "zzss"));
		assert_int_equal(run(env, "--check", out, sizeof(out)), 1);
		assert_non_null(strstr(out, "DATABASE_URL is not a valid"));
		assert_null(strstr(out, "zzss"));
		/* todoctl reads the same settings table. */
		assert_int_equal(run_prog(ctl, env, "migrate status", out,
		    sizeof(out)), 1);
		assert_non_null(strstr(out, "DATABASE_URL is not a valid"));
		assert_null(strstr(out, "zzss"));
	}
}

/* A URL that passes the strict profiles (never connected to: --check). */
#define NEON_URL "postgresql://todo_app:hunter2@ep-x-123456.eu-central-1.aws.neon.tech/neondb" \
	"?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"

/* `todo-fcgi --check` with TODO_ENV=production and more settings must
 * exit 1 and say every needle (NULL-terminated). */
static void
production_refused(const char *settings, const char *args, ...)
{
	char out[16384], env[8192];
	const char *n;
	va_list ap;
	int rc;

	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_LISTEN=127.0.0.1:0 "
	    "TODO_ENV=production %s", tdir, settings);
	if ((rc = run(env, args, out, sizeof(out))) != 1)
		fail_msg("exit %d, not 1, for %s %s:\n%s", rc, settings, args, out);
	va_start(ap, args);
	while ((n = va_arg(ap, const char *)) != NULL)
		if (strstr(out, n) == NULL) {
			va_end(ap);
			fail_msg("%s %s: no \"%s\" in:\n%s", settings, args, n, out);
		}
	va_end(ap);
	if (strstr(out, "hunter2") != NULL)
		fail_msg("%s: the password shows in:\n%s", settings, out);
}

static void
test_production_refusals(void **state)
{
	(void)state;
	/* The origin: every rejection names TODO_PUBLIC_ORIGIN. */
	production_refused("DATABASE_URL='" NEON_URL "' "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com/app", "--check",
	    "TODO_PUBLIC_ORIGIN", "has a path (/app)", NULL);
	production_refused("DATABASE_URL='" NEON_URL "' "
	    "TODO_PUBLIC_ORIGIN=todo.example.com", "--check",
	    "TODO_PUBLIC_ORIGIN", "has no scheme", NULL);
	production_refused("DATABASE_URL='" NEON_URL "' "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com:99999", "--check",
	    "TODO_PUBLIC_ORIGIN", "bad port", NULL);
	production_refused("DATABASE_URL='" NEON_URL "' "
	    "TODO_PUBLIC_ORIGIN=http://todo.example.com", "--check",
	    "TODO_PUBLIC_ORIGIN", "not an https:// origin",
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com", NULL);
	production_refused("DATABASE_URL='" NEON_URL "'", "--check",
	    "TODO_PUBLIC_ORIGIN is not set", NULL);
	/* The pool itself, not only --check. */
	production_refused("DATABASE_URL='" NEON_URL "' "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com/app", "",
	    "TODO_PUBLIC_ORIGIN", NULL);

	/* The database. */
	production_refused("DATABASE_URL= TODO_PUBLIC_ORIGIN=https://todo.example.com",
	    "--check", "DATABASE_URL is not set", "sslmode=verify-full", NULL);
	production_refused("DATABASE_URL='postgresql://u:hunter2@db.example.com/todo?sslmode=require' "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com", "--check",
	    "DATABASE_URL uses sslmode=require", "sslmode=verify-full", NULL);
	/* pg-harness's own DATABASE_URL is a unix socket. */
	production_refused("TODO_PUBLIC_ORIGIN=https://todo.example.com", "--check",
	    "DATABASE_URL points at a database on this machine",
	    "TODO_ALLOW_LOCAL_DATABASE=1", NULL);
	production_refused("TODO_PUBLIC_ORIGIN=https://todo.example.com "
	    "TODO_ALLOW_LOCAL_DATABASE=yes", "--check",
	    "TODO_ALLOW_LOCAL_DATABASE", NULL);
	production_refused("DATABASE_URL='" NEON_URL "' "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com TODO_LOG_LEVEL=debug",
	    "--check", "TODO_LOG_LEVEL", "debug is refused in production", NULL);
}

/* Started as root: staging and production refuse to serve without
 * TODO_USER; with it the pool switches user before touching the database
 * (here: the schema check that follows is refused, as the fresh database
 * is not migrated, but only after the switch). */
static void
test_root_dropped_or_refused(void **state)
{
	char out[16384], env[8192], sock[128], dir[] = "/tmp/itest_root.XXXXXX";

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/root.sock", dir);
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_ENV=production "
	    "TODO_ALLOW_LOCAL_DATABASE=1 TODO_PUBLIC_ORIGIN=https://todo.example.com "
	    "TODO_LISTEN=unix:%s", tdir, sock);
	assert_int_equal(run(env, "", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "refusing to serve as root in production"));
	assert_non_null(strstr(out, "TODO_USER"));
	unlink(sock);

	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_USER=nobody "
	    "TODO_LISTEN=unix:%s", tdir, sock);
	assert_int_equal(run(env, "", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "switched to user nobody"));
	assert_true(strstr(out, "switched to user") < strstr(out, "todoctl migrate up"));
	unlink(sock);

	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_USER=no_such_user_x "
	    "TODO_LISTEN=unix:%s", tdir, sock);
	assert_int_equal(run(env, "", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "there is no user no_such_user_x"));
	unlink(sock);
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_USER=root "
	    "TODO_LISTEN=unix:%s", tdir, sock);
	assert_int_equal(run(env, "", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "is root"));
	unlink(sock);
	rmdir(dir);
}

static void
test_production_accepted(void **state)
{
	char out[16384], env[8192];

	(void)state;
	/* The override lets the harness's local database through; a
	 * trailing slash is fixed with a warning that says so. */
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_ENV=production "
	    "TODO_ALLOW_LOCAL_DATABASE=1 TODO_PUBLIC_ORIGIN=HTTPS://Todo.Example.com:443/", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "TODO_ENV=production"));
	assert_non_null(strstr(out, "level=warn"));
	assert_non_null(strstr(out, "normalised to \\\"https://todo.example.com\\\""));
	assert_non_null(strstr(out, "trailing slash removed"));
	/* Staging: the same rules. */
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_ENV=staging "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "TODO_ALLOW_LOCAL_DATABASE=1"));
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_ENV=staging "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com TODO_ALLOW_LOCAL_DATABASE=1", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "TODO_ENV=staging"));
}

/* The files make install ships pass --check as they are. */
static void
test_shipped_env_files_check(void **state)
{
	static const char *const files[] = {
		"development.env", "staging.env.example", "production.env.example",
	};
	static const char *const envs[] = { "development", "staging", "production" };
	char out[16384], env[8192], args[4608], want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(env, sizeof(env), "-u DATABASE_URL TODO_TEMPLATE_DIR='%s'", tdir);
		snprintf(args, sizeof(args), "--env-file '%s/%s' --check", cdir, files[i]);
		if (run(env, args, out, sizeof(out)) != 0)
			fail_msg("%s: %s", files[i], out);
		snprintf(want, sizeof(want), "TODO_ENV=%s", envs[i]);
		assert_non_null(strstr(out, want));
	}
}

static void
test_unknown_setting_suggested(void **state)
{
	char out[16384], env[8192], path[] = "/tmp/itest_startup.env.XXXXXX", args[128];
	int fd;

	(void)state;
	/* In the environment: a warning, the pool still starts (--check: 0). */
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s' TODO_WORKER=8", tdir);
	assert_int_equal(run(env, "--check", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "unknown setting TODO_WORKER (did you mean TODO_WORKERS?)"));
	/* In an env file: an error, with the same hint. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "TODO_WROKERS=8\n", 15), 15);
	close(fd);
	snprintf(env, sizeof(env), "TODO_TEMPLATE_DIR='%s'", tdir);
	snprintf(args, sizeof(args), "--env-file %s --check", path);
	assert_int_equal(run(env, args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, ":1: unknown setting TODO_WROKERS (did you mean TODO_WORKERS?)"));
	unlink(path);
}

/* todoctl reads the same table, so the same rules. */
static void
test_todoctl_production_rules(void **state)
{
	char out[16384], env[8192];

	(void)state;
	snprintf(env, sizeof(env), "TODO_ENV=production TODO_PUBLIC_ORIGIN=https://todo.example.com "
	    "DATABASE_URL='postgresql://u:hunter2@db.example.com/todo'");
	assert_int_equal(run_prog(ctl, env, "migrate status", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "DATABASE_URL sets no sslmode"));
	assert_null(strstr(out, "hunter2"));
	/* Past the rules: the harness's fresh database has every migration
	 * pending. */
	snprintf(env, sizeof(env), "TODO_ENV=production TODO_ALLOW_LOCAL_DATABASE=1 "
	    "TODO_PUBLIC_ORIGIN=https://todo.example.com TODO_SQL_DIR='%s/sql'",
	    getenv("TODO_SRCDIR"));
	if (run_prog(ctl, env, "migrate status", out, sizeof(out)) != 3)
		fail_msg("todoctl migrate status: %s", out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_bad_setting_names_variable),
		cmocka_unit_test(test_broken_template_names_file_and_line),
		cmocka_unit_test(test_unmigrated_database_refused),
		cmocka_unit_test(test_bad_database_url_refused),
		cmocka_unit_test(test_production_refusals),
		cmocka_unit_test(test_production_accepted),
		cmocka_unit_test(test_shipped_env_files_check),
		cmocka_unit_test(test_unknown_setting_suggested),
		cmocka_unit_test(test_todoctl_production_rules),
		cmocka_unit_test(test_root_dropped_or_refused),
	};
	const char *b = getenv("TODO_BUILDDIR"), *s = getenv("TODO_SRCDIR");

	if (b == NULL || s == NULL || getenv("DATABASE_URL") == NULL) {
		fprintf(stderr, "itest_startup: run me through make check (tests/pg-harness)\n");
		return 1;
	}
	snprintf(bin, sizeof(bin), "%s/todo-fcgi", b);
	snprintf(ctl, sizeof(ctl), "%s/todoctl", b);
	snprintf(tdir, sizeof(tdir), "%s/templates", s);
	snprintf(cdir, sizeof(cdir), "%s/config", s);
	return cmocka_run_group_tests_name("startup", tests, NULL, NULL);
}
