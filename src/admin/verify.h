/* verify.h - "todoctl verify-sqlite FILE.db": every source row, converted
 * by the import's rules, compared with PostgreSQL's todos by a per-row
 * hash of a canonical form and its owner; names each missing, extra or
 * different row and the columns that differ, and checks the id
 * generator. */
#ifndef TODO_VERIFY_H
#define TODO_VERIFY_H

/* Exit statuses beyond 0 identical, 1 error, 2 usage. */
#define VERIFY_EXIT_DIFFERENT	5	/* rows missing, extra or different,
					   or the id generator is behind */
#define VERIFY_EXIT_REJECTED	6	/* identical, but some source rows
					   break the import rules */

#define VERIFY_USAGE \
	"  verify-sqlite FILE.db [--table NAME] [--source-timezone ZONE]\n" \
	"        [--ignore-column NAME]... [--max-report N]\n" \
	"        [--owner EMAIL] [--user-map FILE.csv]\n" \
	"                        compare the SQLite data with PostgreSQL\n" \
	"                        (owners too, given as for the import)\n"

/* argv[0] is the command name. Returns the exit status. */
int	verify_sqlite_main(const char *database_url, int argc, char **argv);

#endif
