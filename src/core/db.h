/* db.h - one worker's PostgreSQL connection: opened after fork,
 * each statement prepared on its first use (in the same round trip as its
 * first execution), checked for liveness before each use without a round
 * trip, and re-opened after a database restart or network cut. Works
 * through a transaction-mode pooler (PgBouncer >= 1.21, Neon's pooled
 * endpoint): only protocol-level prepared statements, no session state.
 *
 * Every db_exec is bounded by the timeout given to db_new (TODO_DB_TIMEOUT):
 * connecting included. Past it the statement is cancelled, and the call
 * fails with TD_EDB unless the server's answer to the cancel shows that the
 * statement had completed. While the database is unreachable db_exec fails
 * fast with TD_EDB (reconnects are retried with capped, jittered back-off),
 * so pages answer 503 at once instead of queueing behind timeouts. */
#ifndef TODO_DB_H
#define TODO_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "status.h"

struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	int idempotent;   /* safe to re-run once on a fresh connection */
	int binary;       /* results in binary format (the caller decodes) */
};

struct db;

/* conninfo: a libpq connection string or URI. timeout_ms: the bound of one
 * db_exec. stmts must outlive db. min_schema: the schema version the caller
 * was built for (0 = no check). */
enum td_status db_new(struct db **out, const char *conninfo, int timeout_ms,
    const struct db_stmt *stmts, int nstmts, int min_schema);
void db_free(struct db *db);

/* Open the connection now unless it is open, as db_exec would: bounded by
 * the timeout, failures logged and retried with the same back-off by the
 * next call. A worker calls it before it takes requests, so that none
 * waits on TLS and authentication while other workers could serve it. */
enum td_status db_connect_now(struct db *db);

/* Run prepared statement `stmt` (an index into stmts): one round trip once
 * connected. *res is set only on TD_OK (caller PQclear()s it). A statement
 * error sets *sqlstate and maps by db_status_of(); a lost, unavailable or
 * too slow database gives TD_EDB; a schema older than min_schema
 * TD_ESCHEMA. A lost connection is retried once for idempotent statements,
 * and so are serialization failures and deadlocks (40001, 40P01). */
enum td_status db_exec(struct db *db, int stmt, const char *const *params,
    PGresult **res, const char **sqlstate);
/* db_exec for a result of any size: each row goes to row_fn as it
 * arrives (libpq's single-row mode), so the memory held is one row's
 * (res, row: valid during the call only). row_fn returns 0 for more, else
 * the rest of the rows are read and dropped. Same round trip, timeout and
 * errors as db_exec, but once a row was handed on the statement is never
 * sent again: an error then comes after some rows, and the caller must
 * treat what it got as cut short. */
typedef int (*db_row_fn)(void *ctx, const PGresult *res, int row);
enum td_status db_exec_rows(struct db *db, int stmt, const char *const *params,
    db_row_fn row_fn, void *ctx, const char **sqlstate);
/* Whether the last db_exec sent its statement a second time because the
 * connection was lost while waiting for the first answer: the first may
 * have committed, so a write can find its work already done. (A FATAL
 * received as the answer, or a serialization failure, means the first did
 * not commit: not counted.) */
bool db_last_resent(const struct db *db);

/* The status a SQLSTATE maps to: class 22 (bad data) TD_EINVAL, 23
 * (constraint) TD_ECONFLICT; unavailability (08, 25006 read-only, 40, 53,
 * 55P03 lock timeout, 57 cancel/shutdown) TD_EDB; anything else is a bug in
 * our SQL: TD_EINTERNAL. */
enum td_status db_status_of(const char *sqlstate);

/* A one-line hint for a libpq connection error message (TLS, channel
 * binding, authentication, pooler), for the log. */
const char *db_error_hint(const char *libpq_message);

/* For the worker's SIGUSR2 handler (the pool's watchdog): cancel the
 * statement in flight on this process's connection. Async-signal-safe. */
void db_cancel_from_signal(void);

/* Statements sent to the server since db_new (tests and logs). */
uint64_t db_round_trips(const struct db *db);
/* Microseconds spent in db_exec since db_new, connecting included. */
uint64_t db_time_us(const struct db *db);
/* Connections opened since db_new after the first one. */
uint64_t db_reconnects(const struct db *db);
/* Last error text (connection or statement), for the log. */
const char *db_last_error(const struct db *db);

/* One-off admin connection (todoctl, start-up checks): connects with the
 * same parameters as workers. On failure prints nothing; returns NULL and
 * writes libpq's message into err. */
PGconn *db_connect_once(const char *conninfo, int connect_timeout,
    const char *application_name, char *err, size_t errlen);

/* Connection for todoctl: db_connect_once's defaults, a 15 s timeout,
 * client_encoding UTF8. Failures are logged with host, port, database and
 * user (never the password) and a hint; a "-pooler" host is warned about
 * with pooler_note. NULL on failure. */
PGconn *db_connect_admin(const char *conninfo, const char *application_name,
    const char *pooler_note);

/* Server-side timeouts for the app's role, derived from TODO_DB_TIMEOUT
 * so that the server gives up on a statement before the client does:
 * statement_timeout = db_timeout - 0.5 s (at least 0.5 s), lock_timeout =
 * half of that, idle_in_transaction_session_timeout = 60 s. They are set
 * with ALTER ROLE ... IN DATABASE ... SET (which a transaction pooler
 * passes through, unlike startup options) by `todoctl migrate up`. */
struct db_server_timeouts {
	int statement_ms;
	int lock_ms;
	int idle_in_transaction_ms;
};
void db_server_timeouts(int db_timeout_s, struct db_server_timeouts *out);

/* Apply them to the connected role in the current database (ALTER ROLE
 * CURRENT_USER IN DATABASE ... SET); they take effect in new sessions.
 * Failures are logged. */
enum td_status db_apply_server_timeouts(PGconn *c, int db_timeout_s);

/* todoctl's long transactions (migrations, import, verify) lift the
 * role's statement and lock timeouts for themselves: the equivalent of
 * SET LOCAL, as one statement (PQexecParams), fine through a pooler. */
#define DB_NO_TIMEOUTS_SQL \
	"SELECT set_config('statement_timeout', '0', true), " \
	"set_config('lock_timeout', '0', true)"

#endif
