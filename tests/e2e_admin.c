/* e2e_admin.c - see e2e_admin.h. */
#include "e2e_admin.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

static PGconn *conn;
static const char *app_name = "e2e-admin";

PGconn *
e2e_admin(const char *application_name)
{
	char ci[1024];
	const char *user = getenv("TODO_TEST_PGUSER");

	if (application_name != NULL && conn == NULL)
		app_name = application_name;
	if (conn != NULL)
		return conn;
	assert_non_null(getenv("TODO_TEST_PGHOST"));
	assert_non_null(getenv("TODO_TEST_DBNAME"));
	snprintf(ci, sizeof(ci), "host=%s port=%s dbname=%s user=%s "
	    "connect_timeout=10 application_name=%s",
	    getenv("TODO_TEST_PGHOST"), getenv("TODO_TEST_PGPORT"),
	    getenv("TODO_TEST_DBNAME"), user != NULL ? user : "postgres", app_name);
	conn = PQconnectdb(ci);
	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("admin connection: %s", PQerrorMessage(conn));
	return conn;
}

void
e2e_admin_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
}

const char *
e2e_sql(const char *q, const char *p1, const char *p2)
{
	static char vals[4][4096];
	static int next;
	const char *params[2] = { p1, p2 };
	char *val = vals[next++ % 4];
	PGresult *r = PQexecParams(e2e_admin(NULL), q, p1 == NULL ? 0 :
	    p2 == NULL ? 1 : 2, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(val, sizeof(vals[0]), "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("admin: %s: %s", q, val);
	}
	val[0] = '\0';
	if (PQntuples(r) > 0 && PQnfields(r) > 0)
		snprintf(val, sizeof(vals[0]), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return val;
}

long
e2e_sql_long(const char *q, const char *p1, const char *p2)
{
	return atol(e2e_sql(q, p1, p2));
}
