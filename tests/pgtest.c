/* pgtest.c - see pgtest.h. */
#include "pgtest.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

PGresult *
pgtest_q(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	return res;
}

long long
pgtest_int(PGconn *c, const char *sql)
{
	PGresult *res = pgtest_q(c, sql);
	long long v;

	assert_int_equal(PQntuples(res), 1);
	v = PQgetisnull(res, 0, 0) ? -1 : strtoll(PQgetvalue(res, 0, 0),
	    NULL, 10);
	PQclear(res);
	return v;
}

const char *
pgtest_str(PGconn *c, const char *sql)
{
	static char buf[4096];
	PGresult *res = pgtest_q(c, sql);

	assert_int_equal(PQntuples(res), 1);
	snprintf(buf, sizeof(buf), "%s", PQgetisnull(res, 0, 0) ? "<NULL>" :
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	return buf;
}
