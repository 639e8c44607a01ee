/* itest_startup.c - todo-fcgi's start-up checks, run as a real process:
 * a bad setting names its variable, a broken template names file and line,
 * an unmigrated database is refused with what to run, an unparsable
 * DATABASE_URL is refused without being shown, --help/--version. */
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

static char bin[4096], ctl[4096], tdir[4096];

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_bad_setting_names_variable),
		cmocka_unit_test(test_broken_template_names_file_and_line),
		cmocka_unit_test(test_unmigrated_database_refused),
		cmocka_unit_test(test_bad_database_url_refused),
	};
	const char *b = getenv("TODO_BUILDDIR"), *s = getenv("TODO_SRCDIR");

	if (b == NULL || s == NULL || getenv("DATABASE_URL") == NULL) {
		fprintf(stderr, "itest_startup: run me through make check (tests/pg-harness)\n");
		return 1;
	}
	snprintf(bin, sizeof(bin), "%s/todo-fcgi", b);
	snprintf(ctl, sizeof(ctl), "%s/todoctl", b);
	snprintf(tdir, sizeof(tdir), "%s/templates", s);
	return cmocka_run_group_tests_name("startup", tests, NULL, NULL);
}
