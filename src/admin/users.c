/* users.c - todoctl user ... and assign-unowned (see users.h). */
#include "users.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "email.h"
#include "log.h"
#include "migrate.h"
#include "password.h"

#define USERS_SCHEMA	4	/* sql/004_accounts.sql */
/* Room for one byte over the limit, so password_check() names it. */
#define PW_BUF		(PASSWORD_MAX_BYTES + 2)
#define UTC_TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

struct uopts {
	const char	*email;
	bool		 password_stdin;
	bool		 json;
	bool		 yes;
};

/* ---- SQL ------------------------------------------------------------ */

/* One statement is one transaction: where a command writes more than one
 * thing, the writes are data-modifying CTEs of a single statement. */
static const char sql_add[] =
    "INSERT INTO users (email, password_hash) VALUES ($1, $2) "
    "ON CONFLICT (email) DO NOTHING RETURNING id";

/* A session counts while it is within TODO_SESSION_IDLE and _MAX. */
static const char sql_list[] =
    "SELECT u.email, " UTC_TS("u.created_at") " AS created_at, "
    UTC_TS("u.disabled_at") " AS disabled_at, "
    "coalesce(c.active + c.completed, 0) AS todos, "
    "(SELECT count(*) FROM sessions s WHERE s.user_id = u.id "
    "AND s.last_seen > now() - $1::integer * interval '1 second' "
    "AND s.created_at > now() - $2::integer * interval '1 second') "
    "AS sessions "
    "FROM users u LEFT JOIN todo_counts c ON c.user_id = u.id "
    "ORDER BY u.created_at, u.id";

static const char sql_list_json[] =
    "SELECT coalesce(json_agg(json_build_object('email', l.email, "
    "'created_at', l.created_at, 'disabled', l.disabled_at IS NOT NULL, "
    "'disabled_at', l.disabled_at, 'todos', l.todos, "
    "'sessions', l.sessions) ORDER BY l.created_at, l.email), '[]') "
    "FROM (%s) l";

static const char sql_unowned[] =
    "SELECT count(*) FROM todos WHERE user_id IS NULL";

/* The old row (o) tells whether it was disabled already; an earlier
 * disabled_at is kept. */
static const char sql_disable[] =
    "WITH u AS (UPDATE users n SET disabled_at = coalesce(o.disabled_at, "
    "now()) FROM users o WHERE o.id = n.id AND n.email = $1 "
    "RETURNING n.id, " UTC_TS("o.disabled_at") " AS since), "
    "s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u) "
    "RETURNING 1) "
    "SELECT u.since, (SELECT count(*) FROM s) FROM u";

static const char sql_enable[] =
    "UPDATE users n SET disabled_at = NULL FROM users o "
    "WHERE o.id = n.id AND n.email = $1 "
    "RETURNING o.disabled_at IS NOT NULL";

/* The sign-in throttle's count for the address goes too: a reset often
 * follows a lock-out. */
static const char sql_reset[] =
    "WITH u AS (UPDATE users SET password_hash = $2 WHERE email = $1 "
    "RETURNING id, disabled_at IS NOT NULL AS disabled), "
    "s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u) "
    "RETURNING 1), "
    "f AS (DELETE FROM login_failures WHERE key = 'email:' || $1::text "
    "AND EXISTS (SELECT 1 FROM u) RETURNING 1) "
    "SELECT u.disabled, (SELECT count(*) FROM s) FROM u";

static const char sql_counts[] =
    "SELECT (SELECT count(*) FROM todos WHERE user_id = $1), "
    "(SELECT count(*) FROM sessions WHERE user_id = $1)";

static const char sql_delete[] = "DELETE FROM users WHERE id = $1";

/* Giving a todo an owner is not an edit: updated_at is put back after
 * todos_touch() (sql/001) moved it, as the import does, so a later
 * import-sqlite --owner of the same account finds the rows unchanged. */
static const char sql_assign_take[] =
    "CREATE TEMP TABLE assign_unowned ON COMMIT DROP AS "
    "SELECT id, updated_at FROM todos WHERE user_id IS NULL FOR UPDATE";
static const char sql_assign[] =
    "UPDATE todos t SET user_id = $1 FROM assign_unowned a "
    "WHERE t.id = a.id";
static const char sql_assign_fix[] =
    "UPDATE todos t SET updated_at = a.updated_at FROM assign_unowned a "
    "WHERE t.id = a.id AND t.updated_at IS DISTINCT FROM a.updated_at";

static const char sql_disabled[] =
    "SELECT disabled_at IS NOT NULL FROM users WHERE id = $1";

/* PQexecParams, text parameters; logs what failed. */
static enum td_status
xparams(PGconn *c, const char *what, const char *sql, int n,
    const char *const *params, ExecStatusType want, PGresult **out)
{
	PGresult *res;

	*out = NULL;
	if ((res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0)) ==
	    NULL) {
		log_error("%s: %s", what, PQerrorMessage(c));
		return TD_EDB;
	}
	if (PQresultStatus(res) != want) {
		log_error("%s: %s", what, PQresultErrorMessage(res));
		PQclear(res);
		return TD_EDB;
	}
	*out = res;
	return TD_OK;
}

static enum td_status
xcmd(PGconn *c, const char *what, const char *sql, ExecStatusType want)
{
	PGresult *res;
	enum td_status rc;

	rc = xparams(c, what, sql, 0, NULL, want, &res);
	PQclear(res);
	return rc;
}

PGconn *
users_connect(const char *database_url, const char *appname)
{
	PGconn *c;
	int version = 0;

	if ((c = db_connect_admin(database_url, appname, "this works (one "
	    "transaction per command)")) == NULL)
		return NULL;
	if (migrate_current_version(c, &version) != TD_OK)
		goto fail;
	if (version < USERS_SCHEMA) {
		log_error("the database schema is at version %d, accounts need "
		    "%d: run 'todoctl migrate up' first", version,
		    USERS_SCHEMA);
		goto fail;
	}
	return c;
fail:
	PQfinish(c);
	return NULL;
}

enum td_status
users_lookup(PGconn *c, const char *email, bool lock, int64_t *id,
    char *norm)
{
	char addr[EMAIL_MAX_BYTES + 1];
	const char *why, *p[1] = { addr };
	PGresult *res;
	enum td_status rc;

	if (email_normalize(email, addr, sizeof(addr), &why) != TD_OK) {
		log_error("no account has the email address '%s': it is not "
		    "one (%s)", email, why);
		return TD_ENOTFOUND;
	}
	if ((rc = xparams(c, "looking up the account", lock ?
	    "SELECT id FROM users WHERE email = $1 FOR KEY SHARE" :
	    "SELECT id FROM users WHERE email = $1", 1, p, PGRES_TUPLES_OK,
	    &res)) != TD_OK)
		return rc;
	if (PQntuples(res) == 0) {
		log_error("no account has the email address %s ('todoctl user "
		    "list' lists them)", addr);
		PQclear(res);
		return TD_ENOTFOUND;
	}
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (norm != NULL)
		memcpy(norm, addr, strlen(addr) + 1);
	return TD_OK;
}

/* ---- reading a password --------------------------------------------- */

static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
	caught = sig;
}

/* One line from fd, byte by byte so that nothing after it is consumed;
 * the newline (and a \r before it) is dropped. Bytes past size - 1 are
 * read and dropped, *len then says size - 1 (over any limit we check).
 * *eof: the input ended before any byte. -1 with errno on a read error or
 * a caught signal (EINTR). */
static int
read_line(int fd, char *buf, size_t size, size_t *len, bool *eof)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	*eof = false;
	for (;;) {
		if ((r = read(fd, &ch, 1)) == -1) {
			if (errno == EINTR && caught == 0)
				continue;
			return -1;
		}
		if (r == 0) {
			*eof = n == 0;
			break;
		}
		if (ch == '\n')
			break;
		if (n < size - 1)
			buf[n++] = ch;
	}
	if (n > 0 && n < size - 1 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* Like readpassphrase(3): the prompt on standard error, echo off while
 * reading standard input (a terminal); a signal restores the terminal
 * first and is then delivered. */
static enum td_status
ask_hidden(const char *prompt, char *buf, size_t size, size_t *len)
{
	static const int sigs[] = { SIGINT, SIGHUP, SIGQUIT, SIGTERM };
	struct sigaction sa, old[4];
	struct termios saved, quiet;
	bool eof;
	size_t i;
	int r, err;

	if (tcgetattr(STDIN_FILENO, &saved) == -1) {
		log_error("reading the terminal's settings: %s",
		    strerror(errno));
		return TD_ESYSTEM;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns */
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	fputs(prompt, stderr);
	fflush(stderr);
	r = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	if (r == 0)
		r = read_line(STDIN_FILENO, buf, size, len, &eof);
	err = errno;
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	fputc('\n', stderr);
	for (i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	if (caught != 0) {
		sodium_memzero(buf, size);
		raise(caught);
		return TD_ESYSTEM;	/* the signal was ignored */
	}
	if (r == -1) {
		log_error("reading the password: %s", strerror(err));
		return TD_ESYSTEM;
	}
	return TD_OK;
}

/* The new password into pw (PW_BUF bytes), checked against the policy.
 * Returns an exit status. */
static int
new_password(const struct uopts *o, const char *email, char *pw,
    size_t *len)
{
	char again[PW_BUF];
	const char *why;
	size_t len2;
	enum td_status rc;
	bool eof, same;

	if (o->password_stdin) {
		if (read_line(STDIN_FILENO, pw, PW_BUF, len, &eof) == -1) {
			log_error("reading the password from standard input: "
			    "%s", strerror(errno));
			return EXIT_ERROR;
		}
		if (eof) {
			log_error("--password-stdin: standard input is empty");
			return USERS_EXIT_REFUSED;
		}
	} else {
		if (isatty(STDIN_FILENO) != 1) {
			log_error("standard input is not a terminal to ask "
			    "for the password on: give it as the first line "
			    "of standard input with --password-stdin");
			return EXIT_USAGE;
		}
		fprintf(stderr, "New password for %s (at least %d "
		    "characters; not shown)\n", email, PASSWORD_MIN_CHARS);
		if (ask_hidden("Password: ", pw, PW_BUF, len) != TD_OK)
			return EXIT_ERROR;
		if (ask_hidden("Again: ", again, sizeof(again), &len2) !=
		    TD_OK) {
			sodium_memzero(pw, PW_BUF);
			return EXIT_ERROR;
		}
		same = *len == len2 && sodium_memcmp(pw, again, len2) == 0;
		sodium_memzero(again, sizeof(again));
		if (!same) {
			log_error("the two passwords differ: nothing changed");
			return USERS_EXIT_REFUSED;
		}
	}
	if ((rc = password_check(pw, *len, email, &why)) != TD_OK) {
		if (rc == TD_EINVAL)
			log_error("password refused: %s", why);
		else
			log_error("cannot check the password: %s", why);
		return rc == TD_EINVAL ? USERS_EXIT_REFUSED : EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Hash of a new password (asked or read, checked). An exit status. */
static int
new_hash(const struct uopts *o, const char *email,
    char hash[crypto_pwhash_STRBYTES])
{
	char pw[PW_BUF];
	size_t len = 0;
	int code;

	if ((code = new_password(o, email, pw, &len)) == EXIT_OK &&
	    password_hash(pw, len, hash) != TD_OK) {
		log_error("hashing the password failed (out of memory?)");
		code = EXIT_ERROR;
	}
	sodium_memzero(pw, sizeof(pw));
	return code;
}

/* ---- the commands --------------------------------------------------- */

static int
lookup_status(enum td_status rc)
{
	return rc == TD_ENOTFOUND ? USERS_EXIT_NO_ACCOUNT : EXIT_ERROR;
}

static int
user_add(PGconn *c, const struct uopts *o)
{
	char addr[EMAIL_MAX_BYTES + 1], hash[crypto_pwhash_STRBYTES];
	const char *why, *p[2] = { addr, hash };
	PGresult *res = NULL;
	int code;

	if (email_normalize(o->email, addr, sizeof(addr), &why) != TD_OK) {
		log_error("'%s' is refused as an email address: %s", o->email,
		    why);
		return USERS_EXIT_REFUSED;
	}
	/* Before asking for a password: say at once that it is taken. */
	if (xparams(c, "looking up the address", "SELECT 1 FROM users WHERE "
	    "email = $1", 1, p, PGRES_TUPLES_OK, &res) != TD_OK)
		return EXIT_ERROR;
	code = PQntuples(res) > 0 ? USERS_EXIT_TAKEN : EXIT_OK;
	PQclear(res);
	if (code == EXIT_OK && (code = new_hash(o, addr, hash)) == EXIT_OK) {
		if (xparams(c, "creating the account", sql_add, 2, p,
		    PGRES_TUPLES_OK, &res) != TD_OK)
			code = EXIT_ERROR;
		else if (PQntuples(res) == 0)
			code = USERS_EXIT_TAKEN;	/* just now */
		else
			printf("created account %s (id %s)\n", addr,
			    PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (code == USERS_EXIT_TAKEN)
		log_error("an account with the email address %s exists "
		    "already", addr);
	sodium_memzero(hash, sizeof(hash));
	return code;
}

static void
json_or_text(PGresult *res, bool json)
{
	int i, n = PQntuples(res);

	if (json) {
		printf("%s\n", PQgetvalue(res, 0, 0));
		return;
	}
	printf("%-32s %-20s %-8s %8s %8s\n", "EMAIL", "CREATED", "STATUS",
	    "TODOS", "SESSIONS");
	for (i = 0; i < n; i++)
		printf("%-32s %-20s %-8s %8s %8s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetisnull(res, i, 2) ? "active" :
		    "disabled", PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
}

static int
user_list(PGconn *c, const struct config *cfg, const struct uopts *o)
{
	char idle[16], max[16], sql[sizeof(sql_list) + sizeof(sql_list_json)];
	const char *p[2] = { idle, max };
	PGresult *res;
	long long unowned;
	int n;

	snprintf(idle, sizeof(idle), "%d", cfg->session_idle);
	snprintf(max, sizeof(max), "%d", cfg->session_max);
	if (o->json)
		snprintf(sql, sizeof(sql), sql_list_json, sql_list);
	if (xparams(c, "listing the accounts", o->json ? sql : sql_list, 2,
	    p, PGRES_TUPLES_OK, &res) != TD_OK)
		return EXIT_ERROR;
	json_or_text(res, o->json);
	n = PQntuples(res);
	PQclear(res);
	if (o->json)
		return EXIT_OK;
	if (xparams(c, "counting todos without an owner", sql_unowned, 0,
	    NULL, PGRES_TUPLES_OK, &res) != TD_OK)
		return EXIT_ERROR;
	unowned = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	printf("%d account%s", n, n == 1 ? "" : "s");
	if (unowned > 0)
		printf("; %lld todo%s without an owner (shown to nobody: "
		    "todoctl assign-unowned EMAIL)", unowned, unowned == 1 ?
		    "" : "s");
	printf("\n");
	return EXIT_OK;
}

/* The address as stored, or the exit status of a failed lookup. */
static int
normalized(const char *email, char addr[EMAIL_MAX_BYTES + 1])
{
	const char *why;

	if (email_normalize(email, addr, EMAIL_MAX_BYTES + 1, &why) ==
	    TD_OK)
		return EXIT_OK;
	log_error("no account has the email address '%s': it is not one "
	    "(%s)", email, why);
	return USERS_EXIT_NO_ACCOUNT;
}

static int
no_account(const char *addr)
{
	log_error("no account has the email address %s ('todoctl user list' "
	    "lists them)", addr);
	return USERS_EXIT_NO_ACCOUNT;
}

static int
user_disable(PGconn *c, const struct uopts *o)
{
	char addr[EMAIL_MAX_BYTES + 1];
	const char *p[1] = { addr };
	PGresult *res;
	int code;

	if ((code = normalized(o->email, addr)) != EXIT_OK)
		return code;
	if (xparams(c, "disabling the account", sql_disable, 1, p,
	    PGRES_TUPLES_OK, &res) != TD_OK)
		return EXIT_ERROR;
	if (PQntuples(res) == 0)
		code = no_account(addr);
	else if (!PQgetisnull(res, 0, 0))
		printf("%s was disabled already (since %s); %s session(s) "
		    "ended\n", addr, PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1));
	else
		printf("disabled %s: no sign-in; %s session(s) ended\n", addr,
		    PQgetvalue(res, 0, 1));
	PQclear(res);
	return code;
}

static int
user_enable(PGconn *c, const struct uopts *o)
{
	char addr[EMAIL_MAX_BYTES + 1];
	const char *p[1] = { addr };
	PGresult *res;
	int code;

	if ((code = normalized(o->email, addr)) != EXIT_OK)
		return code;
	if (xparams(c, "enabling the account", sql_enable, 1, p,
	    PGRES_TUPLES_OK, &res) != TD_OK)
		return EXIT_ERROR;
	if (PQntuples(res) == 0)
		code = no_account(addr);
	else
		printf(strcmp(PQgetvalue(res, 0, 0), "t") == 0 ?
		    "enabled %s: sign-in works again\n" :
		    "%s was not disabled: nothing changed\n", addr);
	PQclear(res);
	return code;
}

static int
user_reset_password(PGconn *c, const struct uopts *o)
{
	char addr[EMAIL_MAX_BYTES + 1], hash[crypto_pwhash_STRBYTES];
	const char *p[2] = { addr, hash };
	PGresult *res;
	enum td_status rc;
	int64_t id;
	int code;

	/* Unknown address: say so before asking for a password. */
	if ((rc = users_lookup(c, o->email, false, &id, addr)) != TD_OK)
		return lookup_status(rc);
	if ((code = new_hash(o, addr, hash)) != EXIT_OK)
		return code;
	if (xparams(c, "setting the password", sql_reset, 2, p,
	    PGRES_TUPLES_OK, &res) != TD_OK)
		code = EXIT_ERROR;
	else if (PQntuples(res) == 0)
		code = no_account(addr);	/* deleted meanwhile */
	else {
		printf("new password set for %s; %s session(s) ended\n", addr,
		    PQgetvalue(res, 0, 1));
		if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			printf("the account is still disabled: todoctl user "
			    "enable %s\n", addr);
	}
	PQclear(res);
	sodium_memzero(hash, sizeof(hash));
	return code;
}

/* The person types the address again. An exit status. */
static int
confirm_delete(const char *addr, const char *todos, const char *sessions)
{
	char line[512], typed[EMAIL_MAX_BYTES + 1];
	const char *why;
	size_t len;
	bool eof;

	if (isatty(STDIN_FILENO) != 1) {
		log_error("user delete: standard input is not a terminal to "
		    "confirm on: add --yes to delete %s without asking", addr);
		return EXIT_USAGE;
	}
	fprintf(stderr, "This deletes the account %s with its %s todo(s) and "
	    "ends its %s session(s). It cannot be undone.\n"
	    "Type the email address to confirm: ", addr, todos, sessions);
	fflush(stderr);
	if (read_line(STDIN_FILENO, line, sizeof(line), &len, &eof) == -1) {
		log_error("reading the confirmation: %s", strerror(errno));
		return EXIT_ERROR;
	}
	if (email_normalize(line, typed, sizeof(typed), &why) != TD_OK ||
	    strcmp(typed, addr) != 0) {
		log_error("the address typed is not %s: nothing deleted",
		    addr);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

static int
user_delete(PGconn *c, const struct uopts *o)
{
	char addr[EMAIL_MAX_BYTES + 1], idbuf[24], todos[24], sessions[24];
	const char *p[1] = { idbuf };
	PGresult *res = NULL;
	enum td_status rc;
	int64_t id;
	int code;

	if ((rc = users_lookup(c, o->email, false, &id, addr)) != TD_OK)
		return lookup_status(rc);
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	if (!o->yes) {
		if (xparams(c, "counting the account's todos", sql_counts, 1,
		    p, PGRES_TUPLES_OK, &res) != TD_OK)
			return EXIT_ERROR;
		code = confirm_delete(addr, PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1));
		PQclear(res);
		res = NULL;
		if (code != EXIT_OK)
			return code;
	}
	/* Locked first: FOR UPDATE also blocks a todo insert for the
	 * account (its foreign key check takes FOR KEY SHARE), so the count
	 * printed is what the cascade deletes. */
	code = EXIT_ERROR;
	if (xcmd(c, "BEGIN", "BEGIN", PGRES_COMMAND_OK) != TD_OK ||
	    xcmd(c, "lifting the timeouts", DB_NO_TIMEOUTS_SQL,
	    PGRES_TUPLES_OK) != TD_OK)
		goto out;
	if (xparams(c, "locking the account", "SELECT 1 FROM users WHERE "
	    "id = $1 FOR UPDATE", 1, p, PGRES_TUPLES_OK, &res) != TD_OK)
		goto out;
	if (PQntuples(res) == 0) {
		code = no_account(addr);	/* deleted meanwhile */
		goto out;
	}
	PQclear(res);
	if (xparams(c, "counting the account's todos", sql_counts, 1, p,
	    PGRES_TUPLES_OK, &res) != TD_OK)
		goto out;
	snprintf(todos, sizeof(todos), "%s", PQgetvalue(res, 0, 0));
	snprintf(sessions, sizeof(sessions), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (xparams(c, "deleting the account", sql_delete, 1, p,
	    PGRES_COMMAND_OK, &res) != TD_OK)
		goto out;
	PQclear(res);
	res = NULL;
	if (xcmd(c, "COMMIT", "COMMIT", PGRES_COMMAND_OK) != TD_OK)
		goto out;
	printf("deleted account %s with its %s todo(s); %s session(s) "
	    "ended\n", addr, todos, sessions);
	code = EXIT_OK;
out:
	PQclear(res);
	if (code != EXIT_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
		(void)xcmd(c, "ROLLBACK", "ROLLBACK", PGRES_COMMAND_OK);
	return code;
}

/* ---- dispatch ------------------------------------------------------- */

enum { OPT_PWSTDIN = 1, OPT_JSON = 2, OPT_YES = 4 };

static const struct sub {
	const char	*name;
	bool		 email;		/* takes EMAIL */
	int		 opts;		/* OPT_* allowed */
} subs[] = {
	{ "add", true, OPT_PWSTDIN },
	{ "list", false, OPT_JSON },
	{ "disable", true, 0 },
	{ "enable", true, 0 },
	{ "reset-password", true, OPT_PWSTDIN },
	{ "delete", true, OPT_YES },
};

static void
users_usage(FILE *f)
{
	fputs("usage:\n" USERS_USAGE, f);
}

/* argv[0] is the subcommand. -1: help printed; else an exit status. */
static int
parse_user_opts(const struct sub *sc, int argc, char **argv,
    struct uopts *o)
{
	static const struct option longopts[] = {
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, given = 0;

	memset(o, 0, sizeof(*o));
	optind = 0;	/* glibc: start over for the subcommand */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o->password_stdin = true;
			given |= OPT_PWSTDIN;
			break;
		case 'j':
			o->json = true;
			given |= OPT_JSON;
			break;
		case 'y':
			o->yes = true;
			given |= OPT_YES;
			break;
		case 'h':
			users_usage(stdout);
			return -1;
		default:
			users_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((given & ~sc->opts) != 0) {
		fprintf(stderr, "todoctl: user %s: an option it does not "
		    "take\n", sc->name);
		users_usage(stderr);
		return EXIT_USAGE;
	}
	if (argc - optind != (sc->email ? 1 : 0)) {
		fprintf(stderr, "todoctl: user %s takes %s\n", sc->name,
		    sc->email ? "one EMAIL" : "no argument");
		users_usage(stderr);
		return EXIT_USAGE;
	}
	o->email = sc->email ? argv[optind] : NULL;
	return EXIT_OK;
}

int
users_main(const struct config *cfg, const char *database_url, int argc,
    char **argv)
{
	const struct sub *sc = NULL;
	struct uopts o;
	PGconn *c;
	size_t i;
	int code;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		users_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			sc = &subs[i];
	if (sc == NULL) {
		fprintf(stderr, "todoctl: user: unknown command '%s'\n",
		    argv[1]);
		users_usage(stderr);
		return EXIT_USAGE;
	}
	if ((code = parse_user_opts(sc, argc - 1, argv + 1, &o)) != EXIT_OK)
		return code < 0 ? EXIT_OK : code;
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return EXIT_ERROR;
	}
	if ((c = users_connect(database_url, "todoctl-user")) == NULL)
		return EXIT_ERROR;
	switch (sc - subs) {
	case 0:
		code = user_add(c, &o);
		break;
	case 1:
		code = user_list(c, cfg, &o);
		break;
	case 2:
		code = user_disable(c, &o);
		break;
	case 3:
		code = user_enable(c, &o);
		break;
	case 4:
		code = user_reset_password(c, &o);
		break;
	default:
		code = user_delete(c, &o);
		break;
	}
	PQfinish(c);
	fflush(stdout);
	return code;
}

int
assign_unowned_main(const char *database_url, int argc, char **argv)
{
	char addr[EMAIL_MAX_BYTES + 1], idbuf[24], count[24];
	const char *p[1] = { idbuf };
	PGresult *res = NULL;
	PGconn *c;
	int64_t id;
	int code = EXIT_ERROR;
	enum td_status rc;
	bool note;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		fputs("usage:\n" ASSIGN_USAGE, stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "todoctl: assign-unowned takes one EMAIL\n"
		    "usage:\n" ASSIGN_USAGE);
		return EXIT_USAGE;
	}
	if ((c = users_connect(database_url, "todoctl-user")) == NULL)
		return EXIT_ERROR;
	/* Many rows, maybe: the role's short timeouts are for the app. The
	 * account is held (FOR KEY SHARE) until the commit. */
	if (xcmd(c, "BEGIN", "BEGIN", PGRES_COMMAND_OK) != TD_OK ||
	    xcmd(c, "lifting the timeouts", DB_NO_TIMEOUTS_SQL,
	    PGRES_TUPLES_OK) != TD_OK)
		goto out;
	if ((rc = users_lookup(c, argv[1], true, &id, addr)) != TD_OK) {
		code = lookup_status(rc);
		goto out;
	}
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long)id);
	if (xcmd(c, "finding the todos without an owner", sql_assign_take,
	    PGRES_COMMAND_OK) != TD_OK ||
	    xparams(c, "assigning the todos", sql_assign, 1, p,
	    PGRES_COMMAND_OK, &res) != TD_OK)
		goto out;
	snprintf(count, sizeof(count), "%s", PQcmdTuples(res));
	PQclear(res);
	res = NULL;
	if (xcmd(c, "restoring updated_at", sql_assign_fix,
	    PGRES_COMMAND_OK) != TD_OK)
		goto out;
	if (xparams(c, "reading the account", sql_disabled, 1, p,
	    PGRES_TUPLES_OK, &res) != TD_OK)
		goto out;
	note = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	res = NULL;
	if (xcmd(c, "COMMIT", "COMMIT", PGRES_COMMAND_OK) != TD_OK)
		goto out;
	printf("%s todo(s) without an owner now belong to %s\n", count,
	    addr);
	if (note)
		printf("note: %s is disabled (todoctl user enable %s)\n", addr,
		    addr);
	code = EXIT_OK;
out:
	PQclear(res);
	if (code != EXIT_OK && PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) != PQTRANS_IDLE)
		(void)xcmd(c, "ROLLBACK", "ROLLBACK", PGRES_COMMAND_OK);
	PQfinish(c);
	fflush(stdout);
	return code;
}
