/* migrate.h - schema migrations from files sql/NNN_name.sql, each with a
 * "-- migrate:up" and a "-- migrate:down" part, recorded in the table
 * schema_migrations with a SHA-256 of the file.
 *
 * Every migration runs in its own transaction that first takes the
 * transaction-scoped advisory lock MIGRATE_LOCK_KEY, so concurrent runs
 * (also through a transaction-mode pooler) apply each file once. Before any
 * change, every applied migration must still have its file, unchanged.
 * Progress and errors go to the log (log.h), errors naming the file; only
 * migrate_status writes to a stream. */
#ifndef TODO_MIGRATE_H
#define TODO_MIGRATE_H

#include <stdio.h>

#include <libpq-fe.h>

#include "status.h"

/* "todomigr" in ASCII: shows up in pg_locks as classid/objid. */
#define MIGRATE_LOCK_KEY 8390035060554295154LL

struct migrations;

/* Read every NNN_name.sql in dir: versions must run 1, 2, ... without
 * duplicates or gaps. TD_EINVAL names the offending file. */
enum td_status	 migrate_load(const char *dir, struct migrations **out);
void		 migrate_free(struct migrations *m);
/* Highest version among the files (0 when there are none). */
int		 migrate_latest(const struct migrations *m);

/* Apply pending migrations up to target (0 = latest). TD_ECONFLICT when an
 * applied file changed or is missing, TD_EDB when a migration failed (the
 * ones before it stay applied), TD_EINVAL for a target past the last file. */
enum td_status	 migrate_up(PGconn *c, const struct migrations *m, int target);
/* Revert the n highest applied versions, newest first, one per transaction. */
enum td_status	 migrate_down(PGconn *c, const struct migrations *m, int n);

enum migrate_state {
	MIGRATE_CLEAN,		/* everything applied and unchanged */
	MIGRATE_PENDING,	/* some files not applied yet */
	MIGRATE_MISMATCH,	/* an applied file changed or is missing */
};
/* One line per migration on out; *state is the worst finding. */
enum td_status	 migrate_status(PGconn *c, const struct migrations *m,
		    FILE *out, enum migrate_state *state);

/* The totals migrate_status prints, without printing (todoctl check). */
struct migrate_counts {
	int	 applied;
	int	 pending;	/* files not applied yet */
	int	 changed;	/* applied, but the file's checksum differs */
	int	 missing;	/* applied, but no file */
};
enum td_status	 migrate_count(PGconn *c, const struct migrations *m,
		    struct migrate_counts *n);

/* Highest applied version; 0 when schema_migrations does not exist. */
enum td_status	 migrate_current_version(PGconn *c, int *version);

#endif
