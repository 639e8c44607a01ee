/* pgtest.h - SQL helpers for the cmocka tests that check the database
 * directly: a statement that fails fails the test, with its message. */
#ifndef TODO_PGTEST_H
#define TODO_PGTEST_H

#include <libpq-fe.h>

/* Run sql (no parameters); the result, tuples or command, for PQclear. */
PGresult *pgtest_q(PGconn *c, const char *sql);
/* The one value of a one-row result as an integer (-1 for NULL). */
long long pgtest_int(PGconn *c, const char *sql);
/* ... as text ("<NULL>" for NULL), in a static buffer. */
const char *pgtest_str(PGconn *c, const char *sql);

#endif
