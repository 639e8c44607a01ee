/* e2e_admin.h - the end-to-end tests' own connection to the test database
 * (tests/pg-harness's: TODO_TEST_PGHOST, _PGPORT, _DBNAME, as
 * TODO_TEST_PGUSER or postgres), for what the pages cannot do or show:
 * set-up, backdating, counting rows. Any failure fails the running test. */
#ifndef TODO_TESTS_E2E_ADMIN_H
#define TODO_TESTS_E2E_ADMIN_H

#include <libpq-fe.h>

/* Connected on first use, as application_name (the first call's name
 * sticks). */
PGconn *e2e_admin(const char *application_name);
void e2e_admin_close(void);
/* Run q with up to two text parameters (p1 NULL: none; p2 NULL: one): the
 * first column of the first row, or "" when there is none, in one of four
 * static buffers used in turn. */
const char *e2e_sql(const char *q, const char *p1, const char *p2);
long e2e_sql_long(const char *q, const char *p1, const char *p2);

#endif
