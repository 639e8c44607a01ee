/* import.h - "todoctl import-sqlite FILE.db": the Python version's SQLite
 * data into the todos table, in one transaction, through COPY, merging on
 * re-runs (bookkeeping in sqlite_imported, sql/002). */
#ifndef TODO_IMPORT_H
#define TODO_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "status.h"

struct conv_tz;
struct src;

/* Exit statuses beyond 0 ok, 1 error, 2 usage (todoctl's). */
#define IMPORT_EXIT_REJECTED	6	/* some source rows were rejected */
#define IMPORT_EXIT_CONFLICT	7	/* clashes/conflicts left alone */

#define IMPORT_USAGE \
	"  import-sqlite FILE.db [--dry-run] [--no-backup] [--table NAME]\n" \
	"        [--source-timezone ZONE] [--ignore-column NAME]...\n" \
	"        [--reject-file PATH] [--summary-json PATH]\n" \
	"                        import the Python version's SQLite data\n"

/* argv[0] is the command name. Returns the exit status. */
int		 import_sqlite_main(const char *database_url, int argc,
		    char **argv);

/* Shared with verify.c. */
/* Connects (client_encoding UTF8), warns about a pooled host, checks
 * that the schema has sql/002. NULL on failure (logged). */
PGconn		*import_connect(const char *database_url, const char *appname);
/* --source-timezone NAME into tz; a bad name is explained on stderr. */
enum td_status	 import_tz_option(const char *name, struct conv_tz *tz);
/* SQLite's integrity check on the opened source; a failure is logged. */
enum td_status	 import_check_source(struct src *s, const char *file);
/* Run one statement expecting want; logs what failed. */
enum td_status	 import_exec(PGconn *c, const char *what, const char *sql,
		    ExecStatusType want, PGresult **out);

/* A progress bar on stderr when it is a terminal, at most ~10 redraws/s. */
struct progress {
	bool		 tty;
	const char	*label;
	int64_t		 total;
	struct timespec	 start, last;
};
void		 progress_start(struct progress *p, const char *label,
		    int64_t total);
void		 progress_update(struct progress *p, int64_t done);
void		 progress_end(struct progress *p);
double		 progress_elapsed(const struct progress *p);

#endif
