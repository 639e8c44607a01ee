/* bench/statements.c - print the app's prepared statements, one a line:
 * name, a tab, the SQL. bench/search builds it against libtodo.a to
 * measure exactly what store.c sends. */
#include <stdio.h>

#include "db.h"
#include "store.h"

int
main(void)
{
	const struct db_stmt *s;
	int n, i;

	s = store_statements(&n);
	for (i = 0; i < n; i++)
		printf("%s\t%s\n", s[i].name, s[i].sql);
	return 0;
}
