/* db.c - see db.h. */
#include "db.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 800
/* Neon advises 10-15 s: a suspended compute may take a while to wake. */
#define ADMIN_CONNECT_TIMEOUT 15

struct db {
	PGconn *conn;              /* in pipeline mode, non-blocking */
	char *conninfo;
	int timeout_ms;            /* TODO_DB_TIMEOUT: bound of one db_exec */
	const struct db_stmt *stmts;
	int nstmts;
	unsigned char *prepared;   /* per statement: prepared on this conn */
	unsigned *parse_failures;  /* per statement: names spoilt by a failed Parse */
	int min_schema;
	int cancelled;             /* the statement in flight was cancelled */
	bool resent;               /* the last db_exec sent its statement again
	                            * after losing the connection */
	pid_t cancel_pid;          /* child sending a cancel, or -1 */
	int64_t retry_at_ms;       /* no reconnect attempt before this */
	int backoff_ms;
	uint64_t round_trips;
	uint64_t time_us;          /* spent in db_exec, connecting included */
	uint64_t connects;         /* connections opened */
	/* db_exec_rows: where the rows go as they arrive, and how many went
	 * (a statement that handed rows on is never sent again). */
	db_row_fn row_fn;
	void *row_ctx;
	bool rows_stopped;         /* row_fn said no more: the rest is dropped */
	uint64_t rows_handed;
	char sqlstate[6];
	char error[512];
};

static void drop_connection(struct db *db);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_error(struct db *db, const char *what, const char *detail)
{
	size_t n;

	snprintf(db->error, sizeof(db->error), "%s: %s", what,
	    detail != NULL ? detail : "");
	n = strlen(db->error);
	while (n > 0 && (db->error[n - 1] == '\n' || db->error[n - 1] == ' '))
		db->error[--n] = '\0';
}

/* Our defaults come first so that values in the URL win; client_encoding
 * comes after the URL so that nothing (PGCLIENTENCODING=LATIN1, a URL
 * parameter) can make libpq re-encode our UTF-8. GSSAPI encryption is off
 * by default: Neon and most servers do not offer it, and trying it costs a
 * negotiation and Kerberos' memory. A network cut (no FIN, no RST) is
 * noticed by TCP keepalives on an idle connection and by tcp_user_timeout
 * on a statement in flight, instead of after the kernel's ~15 minutes of
 * retransmissions. Fills keys/vals (room for CONNECT_KEYS entries). */
#define CONNECT_KEYS 10
static void
connect_params(const char *conninfo, const char *timeout,
    const char *application_name, const char **keys, const char **vals)
{
	int n = 0;

#define P(k, v) do { keys[n] = (k); vals[n++] = (v); } while (0)
	P("connect_timeout", timeout);
	P("application_name", application_name);
	P("gssencmode", "disable");
	P("keepalives_idle", "30");
	P("keepalives_interval", "10");
	P("keepalives_count", "3");
	P("tcp_user_timeout", "15000");
	if (conninfo != NULL && conninfo[0] != '\0')
		P("dbname", conninfo);     /* expanded: a URL or key=value */
	P("client_encoding", "UTF8");
#undef P
	keys[n] = NULL;
	vals[n] = NULL;
}

/* A connection with our defaults; NULL only when out of memory. */
static PGconn *
connect_with_defaults(const char *conninfo, int connect_timeout,
    const char *application_name)
{
	const char *keys[CONNECT_KEYS], *vals[CONNECT_KEYS];
	char timeout[16];

	snprintf(timeout, sizeof(timeout), "%d", connect_timeout);
	connect_params(conninfo, timeout, application_name, keys, vals);
	return PQconnectdbParams(keys, vals, 1);
}

PGconn *
db_connect_once(const char *conninfo, int connect_timeout,
    const char *application_name, char *err, size_t errlen)
{
	PGconn *conn = connect_with_defaults(conninfo, connect_timeout,
	    application_name);

	if (conn == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

const char *
db_error_hint(const char *msg)
{
	static const struct {
		const char *needle;
		const char *hint;
	} hints[] = {
		{ "certificate verify failed", "the server's certificate is not "
		  "signed by a CA in sslrootcert (for Neon: sslrootcert=/etc/ssl/"
		  "certs/ca-certificates.crt); the connection was refused, not "
		  "downgraded" },
		{ "does not match host name", "the server's certificate is for "
		  "another host name: connect by the name in the certificate" },
		{ "server does not support SSL", "the server does not offer TLS; "
		  "with sslmode=verify-full the client never falls back to plain "
		  "text" },
		{ "root certificate file", "sslmode=verify-full needs a CA file: "
		  "set sslrootcert (for Neon: /etc/ssl/certs/ca-certificates.crt)" },
		{ "channel binding", "channel_binding=require needs a server that "
		  "offers SCRAM-SHA-256-PLUS over TLS; a self-hosted PgBouncer does "
		  "not (Neon's proxy does): drop it for such a pooler" },
		{ "password authentication failed", "check the user and password "
		  "in DATABASE_URL" },
		{ "unsupported startup parameter", "a transaction pooler refuses "
		  "startup options (options=-c ...): remove them from DATABASE_URL" },
	};
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (msg != NULL && strstr(msg, hints[i].needle) != NULL)
			return hints[i].hint;
	return "check DATABASE_URL and that the database is up";
}

/* "host=... port=... dbname=... user=..." of a connection: never the
 * password, which an error message must not show. */
static void
describe_conn(PGconn *c, char *buf, size_t size)
{
	snprintf(buf, size, "host=%s port=%s dbname=%s user=%s",
	    PQhost(c) ? PQhost(c) : "", PQport(c) ? PQport(c) : "",
	    PQdb(c) ? PQdb(c) : "", PQuser(c) ? PQuser(c) : "");
}

PGconn *
db_connect_admin(const char *conninfo, const char *application_name,
    const char *pooler_note)
{
	PQconninfoOption *opts;
	char *perr = NULL, where[512], msg[512];
	const char *host;
	PGconn *c;
	size_t n;

	/* libpq's parse error quotes the string, password included. */
	if (conninfo != NULL && conninfo[0] != '\0') {
		if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
			PQfreemem(perr);
			log_error("DATABASE_URL is not a valid libpq connection string or URI");
			return NULL;
		}
		PQconninfoFree(opts);
	}
	if ((c = connect_with_defaults(conninfo, ADMIN_CONNECT_TIMEOUT,
	    application_name)) == NULL) {
		log_error("cannot allocate a database connection");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		describe_conn(c, where, sizeof(where));
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		for (n = strlen(msg); n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '); n--)
			msg[n - 1] = '\0';
		log_error("cannot connect to the database (%s): %s", where, msg);
		log_error("hint: %s", db_error_hint(msg));
		goto fail;
	}
	host = PQhost(c);
	if (pooler_note != NULL && host != NULL && strstr(host, "-pooler") != NULL)
		log_warn("DATABASE_URL points at a pooled endpoint: %s", pooler_note);
	return c;
fail:
	PQfinish(c);
	return NULL;
}

enum td_status
db_new(struct db **out, const char *conninfo, int timeout_ms,
    const struct db_stmt *stmts, int nstmts, int min_schema)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return TD_ENOMEM;
	db->conninfo = strdup(conninfo != NULL ? conninfo : "");
	db->prepared = calloc((size_t)nstmts + 1, 1);
	db->parse_failures = calloc((size_t)nstmts + 1, sizeof(unsigned));
	if (db->conninfo == NULL || db->prepared == NULL ||
	    db->parse_failures == NULL) {
		free(db->conninfo);
		free(db->prepared);
		free(db->parse_failures);
		free(db);
		return TD_ENOMEM;
	}
	db->timeout_ms = timeout_ms;
	db->stmts = stmts;
	db->nstmts = nstmts;
	db->min_schema = min_schema;
	db->cancel_pid = -1;
	*out = db;
	return TD_OK;
}

static void reap_canceller(struct db *db, int wait);

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	drop_connection(db);
	reap_canceller(db, 1);
	free(db->prepared);
	free(db->parse_failures);
	free(db->conninfo);
	free(db);
}

uint64_t
db_round_trips(const struct db *db)
{
	return db->round_trips;
}

uint64_t
db_time_us(const struct db *db)
{
	return db->time_us;
}

uint64_t
db_reconnects(const struct db *db)
{
	return db->connects > 1 ? db->connects - 1 : 0;
}

const char *
db_last_error(const struct db *db)
{
	return db->error;
}

/* ---- cancelling ---------------------------------------------------------
 * PQcancel() opens a new connection to the server and waits for it to close,
 * with no time limit: against a hung server it would hang the worker. So a
 * short-lived child sends it, killed by its own alarm; the worker goes on
 * waiting for its statement's answer, but only until its own deadline. */

#define CANCEL_CHILD_S 2      /* the child's alarm */
#define CANCEL_GRACE_MS 1000  /* how long an answer to a cancel may take */

static void
reap_canceller(struct db *db, int wait)
{
	if (db->cancel_pid <= 0)
		return;
	if (wait)
		kill(db->cancel_pid, SIGKILL);
	if (waitpid(db->cancel_pid, NULL, wait ? 0 : WNOHANG) != 0)
		db->cancel_pid = -1;
}

static void
cancel_statement(struct db *db)
{
	PGcancel *cancel;
	char err[256];
	pid_t pid;

	reap_canceller(db, 1);
	if ((cancel = PQgetCancel(db->conn)) == NULL)
		return;
	pid = fork();
	if (pid == 0) {
		int sent;

		signal(SIGALRM, SIG_DFL);
		alarm(CANCEL_CHILD_S);
		sent = PQcancel(cancel, err, sizeof(err)) == 1;
		PQfreeCancel(cancel);   /* the child's copy: valgrind's exit check */
		_exit(sent ? 0 : 1);
	}
	if (pid < 0)
		log_warn("cannot fork to cancel a statement: %s", strerror(errno));
	db->cancel_pid = pid;
	PQfreeCancel(cancel);
}

/* The watchdog's path (db_cancel_from_signal): the cancel object of the
 * worker's one connection, swapped with the signal blocked. */
static PGcancel *volatile signal_cancel;

static void
set_signal_cancel(PGcancel *c)
{
	sigset_t block, old;
	PGcancel *prev;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	prev = signal_cancel;
	signal_cancel = c;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (prev != NULL)
		PQfreeCancel(prev);
}

void
db_cancel_from_signal(void)
{
	char err[256];

	/* PQcancel is documented as safe to call from a signal handler. */
	if (signal_cancel != NULL)
		(void)PQcancel(signal_cancel, err, sizeof(err));
}

static void
drop_connection(struct db *db)
{
	if (db->conn != NULL) {
		set_signal_cancel(NULL);
		PQfinish(db->conn);
		db->conn = NULL;
	}
	memset(db->prepared, 0, (size_t)db->nstmts);
}

/* ---- waiting, bounded ---------------------------------------------------- */

static int
remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait for events on the connection's socket until the deadline: 1 ready,
 * 0 timed out, -1 the connection is broken. EINTR (the worker's signals)
 * only re-computes the time left. */
static int
wait_socket(PGconn *conn, short events, int64_t deadline)
{
	struct pollfd pfd;
	int n;

	for (;;) {
		if ((pfd.fd = PQsocket(conn)) < 0)
			return -1;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, remaining_ms(deadline));
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Send what libpq has buffered: 1 sent, 0 timed out, -1 broken. Input is
 * consumed while waiting, as libpq asks, so a server blocked on writing
 * its answers cannot deadlock against us. */
static int
flush_by(PGconn *conn, int64_t deadline)
{
	int w, f;

	while ((f = PQflush(conn)) == 1) {
		if ((w = wait_socket(conn, POLLIN | POLLOUT, deadline)) <= 0)
			return w;
		if (PQconsumeInput(conn) != 1)
			return -1;
	}
	return f == 0 ? 1 : -1;
}

enum wait_result { WAIT_OK, WAIT_TIMEOUT, WAIT_BROKEN };

/* The next result of the pipeline, waiting at most until *deadline. The
 * first time the deadline passes the statement is cancelled and the wait
 * extended by CANCEL_GRACE_MS for the server to answer; WAIT_TIMEOUT only
 * when even that answer does not come. */
static enum wait_result
next_result(struct db *db, int64_t *deadline, PGresult **out)
{
	int w;

	*out = NULL;
	while (PQisBusy(db->conn)) {
		if ((w = wait_socket(db->conn, POLLIN, *deadline)) < 0)
			return WAIT_BROKEN;
		if (w == 0) {
			if (db->cancelled)
				return WAIT_TIMEOUT;
			db->cancelled = 1;
			cancel_statement(db);
			*deadline = now_ms() + CANCEL_GRACE_MS;
			continue;
		}
		if (PQconsumeInput(db->conn) != 1)
			return WAIT_BROKEN;
	}
	*out = PQgetResult(db->conn);
	return PQstatus(db->conn) == CONNECTION_OK ? WAIT_OK : WAIT_BROKEN;
}

/* db_exec_rows: hand r's rows to row_fn (a single-row result, or the
 * whole one if single-row mode was refused). */
static void
hand_rows(struct db *db, const PGresult *r)
{
	int i, n = PQntuples(r);

	for (i = 0; i < n && !db->rows_stopped; i++) {
		db->rows_handed++;
		if (db->row_fn(db->row_ctx, r, i) != 0)
			db->rows_stopped = true;
	}
}

/* Collect the answers to n commands sent in one pipeline with a Sync:
 * res[i] gets command i's result (PGRES_PIPELINE_ABORTED after an earlier
 * error). On anything but WAIT_OK the connection is unusable. With
 * rows (db_exec_rows), the last command's rows go to row_fn one at a time
 * as they arrive and res[n - 1] is the (empty) end of its result. */
static enum wait_result
collect(struct db *db, int n, PGresult **res, int64_t deadline, bool rows)
{
	enum wait_result w;
	PGresult *r;
	int i;

	for (i = 0; i < n; i++)
		res[i] = NULL;
	for (i = 0; i <= n; i++) {
		/* Refused (0) only if results had begun: then they come
		 * whole, and hand_rows() takes them all the same. */
		if (rows && i == n - 1)
			(void)PQsetSingleRowMode(db->conn);
		if ((w = next_result(db, &deadline, &r)) != WAIT_OK)
			return w;
		while (rows && i == n - 1 && r != NULL &&
		    PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
			hand_rows(db, r);
			PQclear(r);
			if ((w = next_result(db, &deadline, &r)) != WAIT_OK) {
				PQclear(r);
				return w;
			}
		}
		if (rows && i == n - 1 && r != NULL &&
		    PQresultStatus(r) == PGRES_TUPLES_OK)
			hand_rows(db, r);
		if (r == NULL)
			return WAIT_BROKEN;
		if (i == n) {              /* the Sync */
			w = PQresultStatus(r) == PGRES_PIPELINE_SYNC ? WAIT_OK : WAIT_BROKEN;
			PQclear(r);
			return w;
		}
		res[i] = r;
		/* Each command's results end with a NULL. */
		if ((w = next_result(db, &deadline, &r)) != WAIT_OK)
			return w;
		if (r != NULL) {
			PQclear(r);
			return WAIT_BROKEN;
		}
	}
	return WAIT_BROKEN;
}

static void
clear_results(PGresult **res, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		PQclear(res[i]);
		res[i] = NULL;
	}
}

/* ---- connecting ---------------------------------------------------------- */

/* Open the connection without blocking past the deadline (libpq's own
 * connect_timeout counts per host and in whole seconds). */
static enum td_status
open_connection(struct db *db, int64_t deadline)
{
	const char *keys[CONNECT_KEYS], *vals[CONNECT_KEYS];
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	char timeout[16];
	int w;

	snprintf(timeout, sizeof(timeout), "%d",
	    db->timeout_ms < 2000 ? 2 : db->timeout_ms / 1000);
	connect_params(db->conninfo, timeout, "todo-fcgi", keys, vals);
	if ((db->conn = PQconnectStartParams(keys, vals, 1)) == NULL) {
		set_error(db, "connect", "out of memory");
		return TD_ENOMEM;
	}
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED || PQstatus(db->conn) == CONNECTION_BAD)
			goto fail;
		w = wait_socket(db->conn, st == PGRES_POLLING_READING ? POLLIN :
		    POLLOUT, deadline);
		if (w == 0) {
			set_error(db, "connect", "timed out");
			goto out;
		}
		st = PQconnectPoll(db->conn);
	}
	if (PQenterPipelineMode(db->conn) != 1 || PQsetnonblocking(db->conn, 1) != 0)
		goto fail;
	set_signal_cancel(PQgetCancel(db->conn));
	return TD_OK;
fail:
	set_error(db, "connect", PQerrorMessage(db->conn));
out:
	PQfinish(db->conn);
	db->conn = NULL;
	return TD_EDB;
}

/* The schema version, read once per connection (one round trip): against
 * an older schema the statements would fail on missing tables, and that
 * must read as "migrate first", not as a broken database. */
static enum td_status
check_schema(struct db *db, int64_t deadline)
{
	PGresult *res = NULL;
	const char *state;
	int version = 0;

	if (db->min_schema <= 0)
		return TD_OK;
	if (PQsendQueryParams(db->conn,
	    "SELECT coalesce(max(version), 0) FROM schema_migrations",
	    0, NULL, NULL, NULL, NULL, 0) != 1 || PQpipelineSync(db->conn) != 1)
		goto broken;
	db->round_trips++;
	if (flush_by(db->conn, deadline) != 1 ||
	    collect(db, 1, &res, deadline, false) != WAIT_OK)
		goto broken;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		version = atoi(PQgetvalue(res, 0, 0));
	else if ((state = PQresultErrorField(res, PG_DIAG_SQLSTATE)) == NULL ||
	    strcmp(state, "42P01") != 0) {     /* 42P01: no history table yet */
		set_error(db, "schema version", PQresultErrorMessage(res));
		PQclear(res);
		return TD_EDB;
	}
	PQclear(res);
	if (version < db->min_schema) {
		snprintf(db->error, sizeof(db->error),
		    "database schema is at version %d, this build needs %d: run `todoctl migrate up`",
		    version, db->min_schema);
		return TD_ESCHEMA;
	}
	return TD_OK;
broken:
	PQclear(res);
	set_error(db, "schema version", PQerrorMessage(db->conn));
	return TD_EDB;
}

/* A connection that has become readable while idle was closed by the
 * server (restart, admin termination, idle timeout): find out without a
 * round trip. */
static int
connection_alive(struct db *db)
{
	struct pollfd pfd;
	int i;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return 0;
	for (i = 0; i < 4; i++) {
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0)
			return 0;
		if (poll(&pfd, 1, 0) <= 0)
			return 1;          /* nothing pending: alive */
		if (PQconsumeInput(db->conn) != 1 ||
		    PQstatus(db->conn) != CONNECTION_OK)
			return 0;
	}
	return PQstatus(db->conn) == CONNECTION_OK;
}

static enum td_status
ensure_connected(struct db *db, int64_t deadline)
{
	enum td_status rc;

	if (db->conn != NULL && connection_alive(db))
		return TD_OK;
	if (db->conn != NULL) {
		log_warn("database connection lost: %s; reconnecting",
		    PQerrorMessage(db->conn));
		drop_connection(db);
		db->retry_at_ms = 0;      /* first attempt right away */
	}
	if (now_ms() < db->retry_at_ms)
		return TD_EDB;
	if ((rc = open_connection(db, deadline)) == TD_OK &&
	    (rc = check_schema(db, deadline)) == TD_OK) {
		db->connects++;
		db->backoff_ms = 0;
		db->retry_at_ms = 0;
		return TD_OK;
	}
	drop_connection(db);
	/* Capped exponential back-off with "equal jitter" drawn from the
	 * system's CSPRNG, so the workers of a pool (forked from one parent:
	 * rand() would repeat itself in each) spread their attempts. The cap
	 * keeps recovery under a second once the database is back. */
	db->backoff_ms = db->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    (db->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : db->backoff_ms * 2);
	db->retry_at_ms = now_ms() + db->backoff_ms / 2 +
	    (int64_t)randombytes_uniform((uint32_t)db->backoff_ms / 2 + 1);
	if (rc == TD_ESCHEMA)
		log_error("%s", db->error);
	else
		log_error("database unavailable: %s (hint: %s)", db->error,
		    db_error_hint(db->error));
	return rc;
}

/* ---- statements ---------------------------------------------------------- */

static int
sqlstate_is(const char *state, const char *prefix)
{
	return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

enum td_status
db_status_of(const char *state)
{
	if (sqlstate_is(state, "22"))
		return TD_EINVAL;          /* data exception: bad input */
	if (sqlstate_is(state, "23"))
		return TD_ECONFLICT;       /* integrity constraint */
	if (sqlstate_is(state, "08") ||    /* connection exception */
	    sqlstate_is(state, "25006") || /* read-only transaction */
	    sqlstate_is(state, "40") ||    /* serialization, deadlock */
	    sqlstate_is(state, "53") ||    /* insufficient resources */
	    sqlstate_is(state, "55P03") || /* lock_timeout */
	    sqlstate_is(state, "57"))      /* cancel, shutdown, cannot connect */
		return TD_EDB;
	return TD_EINTERNAL;               /* our SQL is wrong: a bug */
}

/* A failed statement: the connection stays usable. The error text names
 * the statement and the SQLSTATE, never the values (an error message may
 * quote them). */
static enum td_status
statement_failed(struct db *db, int stmt, const PGresult *r,
    const char **sqlstate)
{
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", s != NULL ? s : "");
	if (sqlstate != NULL)
		*sqlstate = db->sqlstate;
	snprintf(db->error, sizeof(db->error), "statement %s failed with SQLSTATE %s",
	    db->stmts[stmt].name, db->sqlstate);
	return db_status_of(db->sqlstate);
}

/* The name statement stmt is prepared under. A Parse can fail (parse
 * analysis waits for the table's lock, and lock_timeout fires); PostgreSQL
 * then has no such statement, but PgBouncer (max_prepared_statements)
 * remembers the name and closes a client that sends a Parse of it again.
 * So each failed Parse moves the statement to a new name. */
static const char *
statement_name(const struct db *db, int stmt, char *buf, size_t size)
{
	if (db->parse_failures[stmt] == 0)
		return db->stmts[stmt].name;
	snprintf(buf, size, "%s_%u", db->stmts[stmt].name, db->parse_failures[stmt]);
	return buf;
}

/* The server ended the session while answering (pg_terminate_backend,
 * a restart, Neon suspending the compute: FATAL 57P01..57P03): the
 * statement's transaction did not commit. Reached when that answer came
 * before the liveness poll could see the closed socket (e.g. through a
 * proxy that relays the close a moment later). */
static bool
server_ended_session(const struct db *db)
{
	return PQstatus(db->conn) == CONNECTION_BAD ||
	    strncmp(db->sqlstate, "57P0", 4) == 0;
}

/* After server_ended_session(): reconnect on the next attempt, and say
 * whether this statement gets one (idempotent ones, once), as after a
 * lost connection. */
static bool
retry_after_end(struct db *db, const struct db_stmt *st, int attempt)
{
	/* Only a FATAL 57P0x says the transaction did not commit; a
	 * connection that just broke says nothing. */
	bool unknown = strncmp(db->sqlstate, "57P0", 4) != 0;

	log_warn("database session ended by the server during %s (%s); reconnecting",
	    st->name, db->sqlstate);
	drop_connection(db);
	db->retry_at_ms = 0;
	if (attempt != 0 || !st->idempotent || db->rows_handed > 0)
		return false;
	db->resent = unknown;
	return true;
}

static enum td_status
exec_statement(struct db *db, int stmt, const char *const *params,
    PGresult **res, const char **sqlstate)
{
	const struct db_stmt *st;
	PGresult *r[2] = { NULL, NULL }, *result;
	enum wait_result w;
	enum td_status rc;
	int64_t deadline;
	char namebuf[80];
	const char *name;
	int attempt, n, failed;

	*res = NULL;
	if (sqlstate != NULL)
		*sqlstate = NULL;
	if (stmt < 0 || stmt >= db->nstmts)
		return TD_EINVAL;
	st = &db->stmts[stmt];
	deadline = now_ms() + db->timeout_ms;
	db->resent = false;
	reap_canceller(db, 0);
	for (attempt = 0; attempt < 2; attempt++) {
		if ((rc = ensure_connected(db, deadline)) != TD_OK)
			return rc;
		/* A statement is prepared on its first use on this
		 * connection, in the same pipeline as its execution: one round
		 * trip either way, and each batch stays small (a stock
		 * PgBouncer over TLS stalls on large pipelined batches). */
		n = 0;
		name = statement_name(db, stmt, namebuf, sizeof(namebuf));
		if (!db->prepared[stmt] && PQsendPrepare(db->conn, name,
		    st->sql, st->nparams, NULL) == 1)
			n++;
		failed = (!db->prepared[stmt] && n == 0) ||
		    PQsendQueryPrepared(db->conn, name, st->nparams, params,
		    NULL, NULL, st->binary ? 1 : 0) != 1 || PQpipelineSync(db->conn) != 1;
		n++;
		db->round_trips++;
		db->cancelled = 0;
		if (failed || flush_by(db->conn, deadline) != 1)
			w = WAIT_BROKEN;
		else
			w = collect(db, n, r, deadline, db->row_fn != NULL);
		if (w != WAIT_OK) {
			clear_results(r, 2);
			if (w == WAIT_TIMEOUT)
				set_error(db, st->name, "no answer within TODO_DB_TIMEOUT, even to a cancel");
			else
				set_error(db, st->name, PQerrorMessage(db->conn));
			log_warn("database connection lost during %s: %s",
			    st->name, db->error);
			drop_connection(db);
			db->retry_at_ms = 0;
			/* Only statements that are safe to run twice are
			 * retried: the first attempt may have been executed.
			 * A timeout is not retried: its time is spent. */
			if (!st->idempotent || w == WAIT_TIMEOUT ||
			    db->rows_handed > 0)
				return TD_EDB;
			db->resent = true;
			continue;
		}
		if (n == 2) {
			if (PQresultStatus(r[0]) != PGRES_COMMAND_OK) {
				rc = statement_failed(db, stmt, r[0], sqlstate);
				clear_results(r, 2);
				if (server_ended_session(db)) {
					if (retry_after_end(db, st, attempt))
						continue;
					return TD_EDB;
				}
				db->parse_failures[stmt]++;
				return rc;
			}
			db->prepared[stmt] = 1;
		}
		result = r[n - 1];
		r[n - 1] = NULL;
		clear_results(r, 2);
		if (PQresultStatus(result) == PGRES_TUPLES_OK ||
		    PQresultStatus(result) == PGRES_COMMAND_OK) {
			*res = result;    /* after a cancel too: it did run */
			return TD_OK;
		}
		rc = statement_failed(db, stmt, result, sqlstate);
		PQclear(result);
		if (server_ended_session(db)) {
			if (retry_after_end(db, st, attempt))
				continue;
			return TD_EDB;
		}
		/* A serialization failure or deadlock rolled everything back:
		 * an idempotent statement gets one more go. */
		if (attempt == 0 && st->idempotent && !db->cancelled &&
		    db->rows_handed == 0 && (strcmp(db->sqlstate, "40001") == 0 ||
		    strcmp(db->sqlstate, "40P01") == 0))
			continue;
		return rc;
	}
	return rc;
}

bool
db_last_resent(const struct db *db)
{
	return db->resent;
}

enum td_status
db_connect_now(struct db *db)
{
	return ensure_connected(db, now_ms() + db->timeout_ms);
}

/* db_exec timed, for the status pages' database time. */
enum td_status
db_exec(struct db *db, int stmt, const char *const *params, PGresult **res,
    const char **sqlstate)
{
	struct timespec t0, t1;
	enum td_status rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = exec_statement(db, stmt, params, res, sqlstate);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	db->time_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000);
	return rc;
}

enum td_status
db_exec_rows(struct db *db, int stmt, const char *const *params,
    db_row_fn row_fn, void *ctx, const char **sqlstate)
{
	PGresult *res = NULL;
	enum td_status rc;

	db->row_fn = row_fn;
	db->row_ctx = ctx;
	db->rows_stopped = false;
	db->rows_handed = 0;
	rc = db_exec(db, stmt, params, &res, sqlstate);
	db->row_fn = NULL;
	db->row_ctx = NULL;
	PQclear(res);
	return rc;
}

void
db_server_timeouts(int db_timeout_s, struct db_server_timeouts *out)
{
	int ms = db_timeout_s * 1000 - 500;

	out->statement_ms = ms < 500 ? 500 : ms;
	out->lock_ms = out->statement_ms / 2;
	out->idle_in_transaction_ms = 60000;
}

enum td_status
db_apply_server_timeouts(PGconn *c, int db_timeout_s)
{
	struct db_server_timeouts t;
	char v[3][24];
	const char *params[3] = { v[0], v[1], v[2] };
	PGresult *res, *r;
	int i;

	db_server_timeouts(db_timeout_s, &t);
	snprintf(v[0], sizeof(v[0]), "%dms", t.statement_ms);
	snprintf(v[1], sizeof(v[1]), "%dms", t.lock_ms);
	snprintf(v[2], sizeof(v[2]), "%dms", t.idle_in_transaction_ms);
	/* current_database(): behind a pooler the name the client used may
	 * be an alias of the real one. */
	res = PQexecParams(c, "SELECT format('ALTER ROLE CURRENT_USER IN DATABASE %I "
	    "SET %s = %L', current_database(), s.name, s.value) "
	    "FROM (VALUES ('statement_timeout', $1::text), ('lock_timeout', $2), "
	    "('idle_in_transaction_session_timeout', $3)) s(name, value)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("cannot set the role's timeouts: %s", PQresultErrorMessage(res));
		PQclear(res);
		return TD_EDB;
	}
	for (i = 0; i < PQntuples(res); i++) {
		r = PQexec(c, PQgetvalue(res, i, 0));
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_error("cannot set the role's timeouts: %s",
			    PQresultErrorMessage(r));
			PQclear(r);
			PQclear(res);
			return TD_EDB;
		}
		PQclear(r);
	}
	PQclear(res);
	log_info("role timeouts for new sessions: statement_timeout=%s "
	    "lock_timeout=%s idle_in_transaction_session_timeout=%s",
	    v[0], v[1], v[2]);
	return TD_OK;
}
