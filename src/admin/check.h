/* check.h - "todoctl check": what an operator verifies before going live,
 * against DATABASE_URL as the app will use it: server version, TLS and
 * certificate verification, channel binding, direct or through a pooler,
 * round-trip time, schema status, max_connections against the pool's
 * workers, and the role's server-side timeouts against TODO_DB_TIMEOUT.
 * One line per item (ok / PROBLEM / note), or one JSON object. */
#ifndef TODO_CHECK_H
#define TODO_CHECK_H

#include "config.h"

/* Exit statuses beyond 0 all well, 1 cannot connect or error, 2 usage. */
#define CHECK_EXIT_PROBLEMS	8	/* at least one PROBLEM */

#define CHECK_USAGE \
	"  check [--hosts N] [--json]\n" \
	"                        check the database before going live\n" \
	"                        (N: app hosts running TODO_WORKERS each)\n"

/* argv[0] is the command name; cfg gives DATABASE_URL, TODO_WORKERS and
 * TODO_DB_TIMEOUT. Returns the exit status. */
int	check_main(const struct config *cfg, const char *sql_dir, int argc,
	    char **argv);

#endif
