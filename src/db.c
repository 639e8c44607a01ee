/* db.c - see db.h. */
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 4000
/* Neon advises 10-15 s: a suspended compute may take a while to wake. */
#define ADMIN_CONNECT_TIMEOUT 15

struct db {
	PGconn *conn;
	char *conninfo;
	int connect_timeout;
	const struct db_stmt *stmts;
	int nstmts;
	int min_schema;
	int64_t retry_at_ms;       /* no reconnect attempt before this */
	int backoff_ms;
	uint64_t round_trips;
	char sqlstate[6];
	char error[512];
};

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

/* A connection with our defaults; NULL only when out of memory. */
static PGconn *
connect_with_defaults(const char *conninfo, int connect_timeout,
    const char *application_name)
{
	/* Our defaults come first so that values in the URL win. GSSAPI
	 * encryption is off by default: Neon and most servers do not offer
	 * it, and trying it costs a negotiation and Kerberos' memory. A
	 * network cut (no FIN, no RST) is noticed by TCP keepalives on an
	 * idle connection and by tcp_user_timeout on a statement in flight,
	 * instead of after the kernel's ~15 minutes of retransmissions. */
	const char *keys[] = { "connect_timeout", "application_name",
	    "gssencmode", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "tcp_user_timeout", "dbname", NULL };
	char timeout[16];
	const char *vals[9];

	snprintf(timeout, sizeof(timeout), "%d", connect_timeout);
	vals[0] = timeout;
	vals[1] = application_name;
	vals[2] = "disable";
	vals[3] = "30";
	vals[4] = "10";
	vals[5] = "3";
	vals[6] = "15000";
	vals[7] = conninfo != NULL && conninfo[0] != '\0' ? conninfo : NULL;
	vals[8] = NULL;
	if (vals[7] == NULL)
		keys[7] = NULL;
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
		log_error("hint: check DATABASE_URL");
		goto fail;
	}
	if (PQsetClientEncoding(c, "UTF8") != 0) {
		log_error("cannot set client_encoding UTF8: %s", PQerrorMessage(c));
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
db_new(struct db **out, const char *conninfo, int connect_timeout,
    const struct db_stmt *stmts, int nstmts, int min_schema)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return TD_ENOMEM;
	db->conninfo = strdup(conninfo != NULL ? conninfo : "");
	if (db->conninfo == NULL) {
		free(db);
		return TD_ENOMEM;
	}
	db->connect_timeout = connect_timeout;
	db->stmts = stmts;
	db->nstmts = nstmts;
	db->min_schema = min_schema;
	*out = db;
	return TD_OK;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

uint64_t
db_round_trips(const struct db *db)
{
	return db->round_trips;
}

const char *
db_last_error(const struct db *db)
{
	return db->error;
}

static void
drop_connection(struct db *db)
{
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

/* Read the schema version and prepare every statement in one pipeline:
 * one round trip however many statements there are. The version comes
 * first: against an older schema the prepares fail (missing tables), and
 * that must read as "migrate first", not as a broken database. */
static enum td_status
prepare_all(struct db *db)
{
	PGresult *res;
	const char *state;
	int i, ok, check = db->min_schema > 0, version = 0;

	if (PQenterPipelineMode(db->conn) != 1)
		goto fail;
	if (check && PQsendQueryParams(db->conn,
	    "SELECT coalesce(max(version), 0) FROM schema_migrations",
	    0, NULL, NULL, NULL, NULL, 0) != 1)
		goto fail;
	for (i = 0; i < db->nstmts; i++)
		if (PQsendPrepare(db->conn, db->stmts[i].name, db->stmts[i].sql,
		    db->stmts[i].nparams, NULL) != 1)
			goto fail;
	if (PQpipelineSync(db->conn) != 1)
		goto fail;
	db->round_trips++;

	for (i = -check; i < db->nstmts; i++) {
		res = PQgetResult(db->conn);
		if (res == NULL)
			goto fail;
		ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK;
		state = ok ? NULL : PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (i < 0 && ok)
			version = atoi(PQgetvalue(res, 0, 0));
		else if (i < 0 && state != NULL && strcmp(state, "42P01") == 0)
			version = 0;         /* no history table yet */
		else if (!ok) {
			set_error(db, i >= 0 ? db->stmts[i].name :
			    "schema version", PQresultErrorMessage(res));
			PQclear(res);
			return TD_EDB;   /* the caller drops the connection */
		}
		PQclear(res);
		if (i < 0 && version < db->min_schema) {
			snprintf(db->error, sizeof(db->error),
			    "database schema is at version %d, this build needs %d: run `todoctl migrate up`",
			    version, db->min_schema);
			return TD_ECONFLICT;   /* the rest is dropped with it */
		}
		/* Each command's results end with a NULL. */
		if ((res = PQgetResult(db->conn)) != NULL) {
			PQclear(res);
			goto fail;
		}
	}
	res = PQgetResult(db->conn);
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (PQexitPipelineMode(db->conn) != 1)
		goto fail;
	return TD_OK;
fail:
	set_error(db, "prepare", PQerrorMessage(db->conn));
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
ensure_connected(struct db *db)
{
	enum td_status rc;
	int64_t now;

	if (db->conn != NULL && connection_alive(db))
		return TD_OK;
	if (db->conn != NULL) {
		log_warn("database connection lost: %s; reconnecting",
		    PQerrorMessage(db->conn));
		drop_connection(db);
		db->retry_at_ms = 0;      /* first attempt right away */
	}
	now = now_ms();
	if (now < db->retry_at_ms)
		return TD_EDB;
	db->conn = db_connect_once(db->conninfo, db->connect_timeout,
	    "todo-fcgi", db->error, sizeof(db->error));
	if (db->conn == NULL) {
		rc = TD_EDB;
		goto backoff;
	}
	if ((rc = prepare_all(db)) != TD_OK) {
		drop_connection(db);
		goto backoff;
	}
	db->backoff_ms = 0;
	db->retry_at_ms = 0;
	return TD_OK;
backoff:
	/* Exponential back-off with jitter so a pool of workers does not
	 * reconnect in lock step. */
	db->backoff_ms = db->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    (db->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : db->backoff_ms * 2);
	db->retry_at_ms = now_ms() + db->backoff_ms / 2 +
	    rand() % (db->backoff_ms / 2 + 1);
	log_error("database unavailable: %s", db->error);
	return rc;
}

enum td_status
db_exec(struct db *db, int stmt, const char *const *params, PGresult **res,
    const char **sqlstate)
{
	enum td_status rc;
	PGresult *r;
	int attempt;

	*res = NULL;
	if (sqlstate != NULL)
		*sqlstate = NULL;
	if (stmt < 0 || stmt >= db->nstmts)
		return TD_EINVAL;
	for (attempt = 0; attempt < 2; attempt++) {
		if ((rc = ensure_connected(db)) != TD_OK)
			return rc;
		db->round_trips++;
		r = PQexecPrepared(db->conn, db->stmts[stmt].name,
		    db->stmts[stmt].nparams, params, NULL, NULL, 0);
		if (r != NULL && (PQresultStatus(r) == PGRES_TUPLES_OK ||
		    PQresultStatus(r) == PGRES_COMMAND_OK)) {
			*res = r;
			return TD_OK;
		}
		if (PQstatus(db->conn) == CONNECTION_OK) {
			/* The statement failed; the connection is fine. */
			set_error(db, db->stmts[stmt].name,
			    r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
			if (sqlstate != NULL && r != NULL) {
				const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

				snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
				    s != NULL ? s : "");
				*sqlstate = db->sqlstate;
			}
			PQclear(r);
			return TD_EINVAL;
		}
		set_error(db, db->stmts[stmt].name, PQerrorMessage(db->conn));
		PQclear(r);
		log_warn("database connection lost during %s: %s",
		    db->stmts[stmt].name, db->error);
		drop_connection(db);
		db->retry_at_ms = 0;
		/* Only statements that are safe to run twice are retried: the
		 * first attempt may have been executed before the loss. */
		if (!db->stmts[stmt].idempotent)
			break;
	}
	return TD_EDB;
}

void
db_server_timeouts(int db_timeout_s, struct db_server_timeouts *out)
{
	int ms = db_timeout_s * 1000 - 500;

	out->statement_ms = ms < 500 ? 500 : ms;
	out->lock_ms = out->statement_ms / 2;
	out->idle_in_transaction_ms = 60000;
}
