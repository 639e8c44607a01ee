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
	"        [--owner EMAIL] [--user-map FILE.csv]\n" \
	"                        import the Python version's SQLite data\n" \
	"                        (into EMAIL's account; a user_id column:\n" \
	"                        source_user_id,email lines in FILE.csv)\n"

/* argv[0] is the command name. Returns the exit status. */
int		 import_sqlite_main(const char *database_url, int argc,
		    char **argv);

/* Shared with verify.c. */
/* Connects (client_encoding UTF8), warns about a pooled host, checks
 * that the schema has sql/004 (todos.user_id). NULL on failure (logged). */
PGconn		*import_connect(const char *database_url, const char *appname);
/* --source-timezone NAME into tz; a bad name is explained on stderr. */
enum td_status	 import_tz_option(const char *name, struct conv_tz *tz);
/* SQLite's integrity check on the opened source; a failure is logged. */
enum td_status	 import_check_source(struct src *s, const char *file);
/* Run one statement expecting want; logs what failed. */
enum td_status	 import_exec(PGconn *c, const char *what, const char *sql,
		    ExecStatusType want, PGresult **out);

/* --user-map, --ignore-column and the source's user_id column agree;
 * *use: owners come from that column. Refusals are logged. */
struct src_info;
struct owners;
bool		 import_ignored(const char *const *ignore, int nignore,
		    const char *col);
enum td_status	 import_user_column(const struct src_info *info,
		    bool has_map, bool ignored, bool *use);
void		 import_report_owners(const struct owners *ow,
		    const char *map_path, bool use);

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
