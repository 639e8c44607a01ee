/* itest_users.c - todoctl user ... and assign-unowned as a real process
 * against the database tests/pg-harness made: every command's success,
 * an unknown address (9), a taken one (10), refused passwords (11),
 * --password-stdin, the prompt on a terminal (a pty: asked twice without
 * echo), disable and reset-password ending sessions, delete cascading,
 * assign-unowned. Runs $TODO_BUILDDIR/todoctl with $TODO_SRCDIR/sql. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgtest.h"

#include "password.h"

#define EXIT_USAGE	2
#define EXIT_NO_ACCOUNT	9
#define EXIT_TAKEN	10
#define EXIT_REFUSED	11

#define GOOD_PW		"correct horse battery"

static char todoctl[PATH_MAX], sqldir[PATH_MAX];
static char out[1 << 16];
static PGconn *pg;
static bool stdout_only;	/* run(): standard error to /dev/null */

/* ---- helpers -------------------------------------------------------- */


/* todoctl args with input on standard input (NULL: /dev/null); stdout
 * and stderr into out. Returns the exit status. */
static int
run(const char *input, const char *const *args)
{
	const char *argv[16];
	int in[2], o[2], st, n = 0, i;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	argv[n++] = todoctl;
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(o), 0);
	if ((pid = fork()) == 0) {
		if (input == NULL) {
			close(in[0]);
			in[0] = open("/dev/null", O_RDONLY);
		}
		if (dup2(in[0], 0) == -1 || dup2(o[1], 1) == -1)
			_exit(125);
		if (stdout_only)
			o[1] = open("/dev/null", O_WRONLY);
		if (o[1] == -1 || dup2(o[1], 2) == -1)
			_exit(125);
		close(in[1]);
		close(o[0]);
		execv(todoctl, (char *const *)argv);
		_exit(126);
	}
	assert_true(pid > 0);
	close(in[0]);
	close(o[1]);
	if (input != NULL)
		assert_int_equal(write(in[1], input, strlen(input)),
		    (ssize_t)strlen(input));
	close(in[1]);
	while ((r = read(o[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(o[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN(input, ...) run((input), (const char *const[]){ __VA_ARGS__, NULL })

/* todoctl on a pseudo-terminal: each line of answers is written after
 * its prompt appears (prompts[i]). Returns the exit status; the
 * terminal's output in out. */
static int
run_tty(const char *const *prompts, const char *const *answers,
    const char *const *args)
{
	const char *argv[16];
	struct pollfd pfd;
	size_t len = 0;
	ssize_t r;
	pid_t pid;
	int m, st, n = 0, i, k = 0;

	argv[n++] = todoctl;
	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if ((pid = forkpty(&m, NULL, NULL, NULL)) == 0) {
		execv(todoctl, (char *const *)argv);
		_exit(126);
	}
	assert_true(pid > 0);
	out[0] = '\0';
	for (;;) {
		pfd.fd = m;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20000) <= 0)
			fail_msg("todoctl on a pty: no output; so far: %s", out);
		if ((r = read(m, out + len, sizeof(out) - 1 - len)) <= 0)
			break;		/* EIO: the child closed it */
		len += (size_t)r;
		out[len] = '\0';
		if (prompts[k] != NULL && answers[k] != NULL &&
		    strstr(out, prompts[k]) != NULL) {
			/* Only once echo is off, like a person typing. */
			usleep(100000);
			assert_true(write(m, answers[k], strlen(answers[k])) >
			    0);
			k++;
		}
	}
	close(m);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
has(const char *s)
{
	if (strstr(out, s) == NULL)
		fail_msg("expected \"%s\" in:\n%s", s, out);
}

static long long
user_id(const char *email)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT coalesce((SELECT id FROM users "
	    "WHERE email = '%s'), 0)", email);
	return pgtest_int(pg, sql);
}

/* n sessions for email. */
static void
sessions_for(const char *email, int n)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO sessions (hash, user_id) "
	    "SELECT sha256(convert_to(u.email || g, 'UTF8')), u.id FROM users "
	    "u, generate_series(1, %d) g WHERE u.email = '%s'", n, email);
	PQclear(pgtest_q(pg, sql));
}

static long long
count_sessions(const char *email)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sessions s JOIN "
	    "users u ON u.id = s.user_id WHERE u.email = '%s'", email);
	return pgtest_int(pg, sql);
}

static void
add(const char *email)
{
	assert_int_equal(RUN(GOOD_PW "\n", "user", "add", email,
	    "--password-stdin"), 0);
}

static int
reset(void **state)
{
	(void)state;
	PQclear(pgtest_q(pg, "TRUNCATE todos, users, sessions, login_failures, "
	    "todo_counts, todo_trash"));
	return 0;
}

/* ---- tests ---------------------------------------------------------- */

static void
t_add(void **state)
{
	char hash[256];

	(void)state;
	/* One line of stdin; its \r\n goes, nothing else is trimmed. */
	assert_int_equal(RUN(GOOD_PW "\r\nsecond line\n", "user", "add",
	    " Ann@Example.ORG", "--password-stdin"), 0);
	has("created account ann@example.org");
	snprintf(hash, sizeof(hash), "%s", pgtest_str(pg, "SELECT password_hash FROM "
	    "users WHERE email = 'ann@example.org'"));
	assert_true(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) ==
	    0);
	assert_true(password_verify(hash, GOOD_PW, strlen(GOOD_PW)));
	assert_string_equal(pgtest_str(pg, "SELECT disabled_at IS NULL FROM users"),
	    "t");

	/* Taken, whatever the case. */
	assert_int_equal(RUN(GOOD_PW "\n", "user", "add", "ANN@example.org",
	    "--password-stdin"), EXIT_TAKEN);
	has("an account with the email address ann@example.org exists");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM users"), 1);
}

static void
t_add_refused(void **state)
{
	(void)state;
	/* password_check()'s reason is printed. */
	assert_int_equal(RUN("password123\n", "user", "add", "bob@example.org",
	    "--password-stdin"), EXIT_REFUSED);
	has("password refused: ");
	has("too common");
	assert_int_equal(RUN("Sunshine2024!\n", "user", "add",
	    "bob@example.org", "--password-stdin"), EXIT_REFUSED);
	assert_int_equal(RUN("short\n", "user", "add", "bob@example.org",
	    "--password-stdin"), EXIT_REFUSED);
	assert_int_equal(RUN("bob@example.org\n", "user", "add",
	    "bob@example.org", "--password-stdin"), EXIT_REFUSED);
	assert_int_equal(RUN("", "user", "add", "bob@example.org",
	    "--password-stdin"), EXIT_REFUSED);
	has("standard input is empty");
	assert_int_equal(RUN(GOOD_PW "\n", "user", "add", "not an address",
	    "--password-stdin"), EXIT_REFUSED);
	has("is refused as an email address");
	/* No terminal to ask on and no --password-stdin. */
	assert_int_equal(RUN(NULL, "user", "add", "bob@example.org"),
	    EXIT_USAGE);
	has("--password-stdin");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM users"), 0);
}

static void
t_add_tty(void **state)
{
	(void)state;
	/* Asked twice, not echoed. */
	assert_int_equal(run_tty((const char *const[]){ "Password: ",
	    "Again: ", NULL }, (const char *const[]){ "tty pass phrase one\n",
	    "tty pass phrase one\n", NULL }, (const char *const[]){ "user",
	    "add", "tty@example.org", NULL }), 0);
	has("created account tty@example.org");
	assert_null(strstr(out, "tty pass phrase"));
	assert_true(password_verify(pgtest_str(pg, "SELECT password_hash FROM users "
	    "WHERE email = 'tty@example.org'"), "tty pass phrase one", 19));
	/* The two entries differ: nothing is created. */
	assert_int_equal(run_tty((const char *const[]){ "Password: ",
	    "Again: ", NULL }, (const char *const[]){ "tty pass phrase one\n",
	    "tty pass phrase two\n", NULL }, (const char *const[]){ "user",
	    "add", "tty2@example.org", NULL }), EXIT_REFUSED);
	has("the two passwords differ");
	assert_int_equal(user_id("tty2@example.org"), 0);
}

static void
t_list(void **state)
{
	PGresult *res;
	const char *p[1];

	(void)state;
	add("ann@example.org");
	add("bob@example.org");
	PQclear(pgtest_q(pg, "INSERT INTO todos (user_id, title, completed) SELECT id, "
	    "'t' || g, g % 2 = 0 FROM users, generate_series(1, 3) g "
	    "WHERE email = 'ann@example.org'; "
	    "INSERT INTO todos (title) VALUES ('nobody''s')"));
	sessions_for("ann@example.org", 2);
	sessions_for("bob@example.org", 1);
	/* Past TODO_SESSION_IDLE: not active. */
	PQclear(pgtest_q(pg, "UPDATE sessions SET last_seen = now() - interval '30 days' "
	    "WHERE user_id = (SELECT id FROM users WHERE email = "
	    "'bob@example.org')"));
	assert_int_equal(RUN(NULL, "user", "disable", "bob@example.org"), 0);
	assert_int_equal(RUN(NULL, "user", "list"), 0);
	has("EMAIL");
	assert_non_null(strstr(out, "ann@example.org"));
	has("active ");
	has("disabled");
	has("2 accounts; 1 todo without an owner");
	stdout_only = true;
	assert_int_equal(RUN(NULL, "user", "list", "--json"), 0);
	stdout_only = false;
	/* PostgreSQL reads it back. */
	p[0] = out;
	res = PQexecParams(pg, "SELECT json_array_length($1::json), "
	    "$1::json->0->>'email', $1::json->0->>'todos', "
	    "$1::json->0->>'sessions', $1::json->0->>'disabled', "
	    "$1::json->1->>'disabled', $1::json->1->>'sessions'", 1, NULL, p,
	    NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "2");
	assert_string_equal(PQgetvalue(res, 0, 1), "ann@example.org");
	assert_string_equal(PQgetvalue(res, 0, 2), "3");
	assert_string_equal(PQgetvalue(res, 0, 3), "2");
	assert_string_equal(PQgetvalue(res, 0, 4), "false");
	assert_string_equal(PQgetvalue(res, 0, 5), "true");
	assert_string_equal(PQgetvalue(res, 0, 6), "0");
	PQclear(res);
}

static void
t_unknown(void **state)
{
	(void)state;
	add("ann@example.org");
	assert_int_equal(RUN(NULL, "user", "disable", "eve@example.org"),
	    EXIT_NO_ACCOUNT);
	has("no account has the email address eve@example.org");
	assert_int_equal(RUN(NULL, "user", "enable", "eve@example.org"),
	    EXIT_NO_ACCOUNT);
	assert_int_equal(RUN(GOOD_PW "\n", "user", "reset-password",
	    "eve@example.org", "--password-stdin"), EXIT_NO_ACCOUNT);
	assert_int_equal(RUN(NULL, "user", "delete", "eve@example.org",
	    "--yes"), EXIT_NO_ACCOUNT);
	assert_int_equal(RUN(NULL, "assign-unowned", "eve@example.org"),
	    EXIT_NO_ACCOUNT);
	assert_int_equal(RUN(NULL, "user", "disable", "no address"),
	    EXIT_NO_ACCOUNT);
	has("it is not one");
	/* Usage errors. */
	assert_int_equal(RUN(NULL, "user"), EXIT_USAGE);
	assert_int_equal(RUN(NULL, "user", "frob"), EXIT_USAGE);
	assert_int_equal(RUN(NULL, "user", "disable"), EXIT_USAGE);
	assert_int_equal(RUN(NULL, "user", "list", "--yes"), EXIT_USAGE);
	assert_int_equal(RUN(NULL, "user", "disable", "a@b.c", "d@e.f"),
	    EXIT_USAGE);
	assert_int_equal(RUN(NULL, "assign-unowned"), EXIT_USAGE);
	assert_int_equal(RUN(NULL, "user", "--help"), 0);
	has("reset-password");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM users WHERE disabled_at "
	    "IS NULL"), 1);
}

static void
t_disable(void **state)
{
	(void)state;
	add("ann@example.org");
	add("bob@example.org");
	sessions_for("ann@example.org", 3);
	sessions_for("bob@example.org", 2);
	assert_int_equal(RUN(NULL, "user", "disable", "Ann@example.org"), 0);
	has("disabled ann@example.org: no sign-in; 3 session(s) ended");
	assert_int_equal(count_sessions("ann@example.org"), 0);
	assert_int_equal(count_sessions("bob@example.org"), 2);
	assert_string_equal(pgtest_str(pg, "SELECT disabled_at IS NOT NULL FROM users "
	    "WHERE email = 'ann@example.org'"), "t");
	/* Again: the first time is kept. */
	assert_int_equal(RUN(NULL, "user", "disable", "ann@example.org"), 0);
	has("was disabled already (since ");
	assert_int_equal(RUN(NULL, "user", "enable", "ann@example.org"), 0);
	has("enabled ann@example.org");
	assert_string_equal(pgtest_str(pg, "SELECT disabled_at IS NULL FROM users "
	    "WHERE email = 'ann@example.org'"), "t");
	assert_int_equal(RUN(NULL, "user", "enable", "ann@example.org"), 0);
	has("was not disabled");
}

static void
t_reset_password(void **state)
{
	(void)state;
	add("ann@example.org");
	add("bob@example.org");
	sessions_for("ann@example.org", 2);
	sessions_for("bob@example.org", 1);
	PQclear(pgtest_q(pg, "INSERT INTO login_failures VALUES "
	    "('email:ann@example.org', 5, now())"));
	assert_int_equal(RUN("password\n", "user", "reset-password",
	    "ann@example.org", "--password-stdin"), EXIT_REFUSED);
	assert_int_equal(count_sessions("ann@example.org"), 2);
	assert_int_equal(RUN("a new pass phrase\n", "user", "reset-password",
	    "ann@example.org", "--password-stdin"), 0);
	has("new password set for ann@example.org; 2 session(s) ended");
	assert_int_equal(count_sessions("ann@example.org"), 0);
	assert_int_equal(count_sessions("bob@example.org"), 1);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM login_failures"), 0);
	assert_true(password_verify(pgtest_str(pg, "SELECT password_hash FROM users "
	    "WHERE email = 'ann@example.org'"), "a new pass phrase", 17));
	assert_false(password_verify(pgtest_str(pg, "SELECT password_hash FROM users "
	    "WHERE email = 'ann@example.org'"), GOOD_PW, strlen(GOOD_PW)));
	/* A disabled account stays disabled, and it says so. */
	assert_int_equal(RUN(NULL, "user", "disable", "bob@example.org"), 0);
	assert_int_equal(RUN("another pass phrase\n", "user",
	    "reset-password", "bob@example.org", "--password-stdin"), 0);
	has("still disabled");
}

static void
t_delete(void **state)
{
	(void)state;
	add("ann@example.org");
	add("bob@example.org");
	PQclear(pgtest_q(pg, "INSERT INTO todos (user_id, title) SELECT u.id, 'x' FROM "
	    "users u, generate_series(1, 3) WHERE u.email = "
	    "'ann@example.org'; INSERT INTO todos (user_id, title) SELECT "
	    "id, 'bob' FROM users WHERE email = 'bob@example.org'"));
	sessions_for("ann@example.org", 2);
	sessions_for("bob@example.org", 1);
	/* No terminal to confirm on, no --yes: refused, nothing deleted. */
	assert_int_equal(RUN(NULL, "user", "delete", "ann@example.org"),
	    EXIT_USAGE);
	has("--yes");
	assert_true(user_id("ann@example.org") > 0);
	/* On a terminal: the address must be typed. */
	assert_int_equal(run_tty((const char *const[]){ "to confirm: ", NULL },
	    (const char *const[]){ "bob@example.org\n", NULL },
	    (const char *const[]){ "user", "delete", "ann@example.org",
	    NULL }), 1);
	has("nothing deleted");
	assert_true(user_id("ann@example.org") > 0);
	assert_int_equal(run_tty((const char *const[]){ "to confirm: ", NULL },
	    (const char *const[]){ "Ann@example.org\n", NULL },
	    (const char *const[]){ "user", "delete", "ann@example.org",
	    NULL }), 0);
	has("deleted account ann@example.org with its 3 todo(s); 2 "
	    "session(s) ended");
	assert_int_equal(user_id("ann@example.org"), 0);
	/* The cascade: todos, sessions, counts. Bob's untouched. */
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 1);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todo_counts"), 1);
	assert_int_equal(RUN(NULL, "user", "delete", "bob@example.org",
	    "--yes"), 0);
	has("deleted account bob@example.org with its 1 todo(s); 1 "
	    "session(s) ended");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos"), 0);
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM users"), 0);
}

static void
t_assign_unowned(void **state)
{
	(void)state;
	add("ann@example.org");
	PQclear(pgtest_q(pg, "INSERT INTO todos (title, completed, updated_at) SELECT "
	    "'old ' || g, g = 1, '2025-01-01 00:00:00+00' FROM "
	    "generate_series(1, 4) g; INSERT INTO todos (user_id, title) "
	    "SELECT id, 'mine' FROM users"));
	assert_int_equal(RUN(NULL, "assign-unowned", " ANN@example.org "), 0);
	has("4 todo(s) without an owner now belong to ann@example.org");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE user_id IS "
	    "NULL"), 0);
	/* Counts follow; updated_at is not an edit's. */
	assert_string_equal(pgtest_str(pg, "SELECT format('%s/%s', active, completed) "
	    "FROM todo_counts"), "4/1");
	assert_int_equal(pgtest_int(pg, "SELECT count(*) FROM todos WHERE title LIKE "
	    "'old %' AND updated_at = '2025-01-01 00:00:00+00'"), 4);
	assert_int_equal(RUN(NULL, "assign-unowned", "ann@example.org"), 0);
	has("0 todo(s) without an owner");
	/* A disabled account gets them, with a note. */
	PQclear(pgtest_q(pg, "INSERT INTO todos (title) VALUES ('late')"));
	assert_int_equal(RUN(NULL, "user", "disable", "ann@example.org"), 0);
	assert_int_equal(RUN(NULL, "assign-unowned", "ann@example.org"), 0);
	has("note: ann@example.org is disabled");
}

/* --help and the man page: the exit statuses are listed. */
static void
t_help(void **state)
{
	(void)state;
	assert_int_equal(RUN(NULL, "--help"), 0);
	has("  9  user, assign-unowned");
	has("  10  user add: ");
	has("  11  user add, user reset-password: ");
	has("user delete EMAIL [--yes]");
	has("import-sqlite FILE.db");
	has("[--owner EMAIL] [--user-map FILE.csv]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_add, reset),
		cmocka_unit_test_setup(t_add_refused, reset),
		cmocka_unit_test_setup(t_add_tty, reset),
		cmocka_unit_test_setup(t_list, reset),
		cmocka_unit_test_setup(t_unknown, reset),
		cmocka_unit_test_setup(t_disable, reset),
		cmocka_unit_test_setup(t_reset_password, reset),
		cmocka_unit_test_setup(t_delete, reset),
		cmocka_unit_test_setup(t_assign_unowned, reset),
		cmocka_unit_test(t_help),
	};
	const char *b = getenv("TODO_BUILDDIR"), *s = getenv("TODO_SRCDIR");
	const char *url = getenv("DATABASE_URL");
	int rc;

	if (b == NULL || s == NULL || url == NULL || *url == '\0') {
		fprintf(stderr, "itest_users: run me through make check "
		    "(tests/pg-harness)\n");
		return 1;
	}
	snprintf(todoctl, sizeof(todoctl), "%s/todoctl", b);
	snprintf(sqldir, sizeof(sqldir), "%s/sql", s);
	setenv("TODO_SQL_DIR", sqldir, 1);
	/* Sessions count as active for 7 days. */
	setenv("TODO_SESSION_IDLE", "604800", 1);
	if ((pg = PQconnectdb(url)) == NULL || PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "itest_users: %s", PQerrorMessage(pg));
		return 1;
	}
	if ((rc = RUN(NULL, "migrate", "up")) != 0) {
		fprintf(stderr, "itest_users: migrate up failed (%d): %s\n",
		    rc, out);
		return 1;
	}
	rc = cmocka_run_group_tests_name("users", tests, NULL, NULL);
	PQfinish(pg);
	return rc;
}
