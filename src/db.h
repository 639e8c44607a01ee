/* db.h - one worker's PostgreSQL connection: opened lazily after fork,
 * every statement prepared once per connection (in one pipelined round
 * trip), checked for liveness before each use without a round trip, and
 * re-opened after a database restart or network cut.
 *
 * While the database is unreachable db_exec() fails fast with TD_EDB
 * (reconnects are retried with capped exponential back-off), so pages can
 * answer 503 at once instead of queueing behind connect timeouts. */
#ifndef TODO_DB_H
#define TODO_DB_H

#include <stdint.h>

#include <libpq-fe.h>

#include "status.h"

struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	int idempotent;   /* safe to re-run once on a fresh connection */
};

struct db;

/* conninfo: a libpq connection string or URI. stmts must outlive db.
 * min_schema: the schema version the caller was built for (0 = no check). */
enum td_status db_new(struct db **out, const char *conninfo,
    int connect_timeout, const struct db_stmt *stmts, int nstmts,
    int min_schema);
void db_free(struct db *db);

/* Run prepared statement `stmt` (an index into stmts): one round trip once
 * connected. *res is set only on TD_OK (caller PQclear()s it). A statement
 * error (constraint, ...) gives TD_EINVAL with *sqlstate set; a lost or
 * unavailable database TD_EDB; a schema older than min_schema TD_ECONFLICT. */
enum td_status db_exec(struct db *db, int stmt, const char *const *params,
    PGresult **res, const char **sqlstate);

/* Statements sent to the server since db_new (tests and logs). */
uint64_t db_round_trips(const struct db *db);
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

#endif
