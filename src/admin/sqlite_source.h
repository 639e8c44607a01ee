/* sqlite_source.h - the Python version's SQLite file, read safely: opened
 * read-only inside one read transaction (every read below sees the same
 * snapshot), backed up with SQLite's backup API, checked with
 * PRAGMA integrity_check, its todo table and columns discovered rather
 * than assumed, rows streamed in id order. Errors are logged (log.h). */
#ifndef TODO_SQLITE_SOURCE_H
#define TODO_SQLITE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "status.h"

#define SRC_MAX_COLS	64
#define SRC_NAME_MAX	128

struct src;

struct src_info {
	char		 table[SRC_NAME_MAX];
	int		 ncols;
	char		 cols[SRC_MAX_COLS][SRC_NAME_MAX];	/* as declared */
	bool		 known[SRC_MAX_COLS];	/* one of conv_col_names */
	bool		 has[CONV_NCOLS];	/* description may be missing */
	int		 user_col;	/* the user_id column's index, or -1:
					   a list per person (issue 8) */
	int64_t		 rows;
	char		 alembic[64];		/* "" when there is none */
};

/* TD_ENOTFOUND when path does not exist; never creates or writes it.
 * Its schema is not trusted (defensive mode, trusted_schema off, no
 * extension loading). */
enum td_status	 src_open(const char *path, struct src **out);
void		 src_close(struct src *s);

/* Copy the snapshot to "<path>.bak-<UTC timestamp>[-N]" (a new file,
 * never overwriting one, written only through the descriptor that made
 * it); the name chosen is written to out. TD_ECONFLICT when the name is
 * taken by anything but a regular file (a symbolic link: not followed). */
enum td_status	 src_backup(struct src *s, const char *path, char *out,
		    size_t outlen);
/* TD_ECONFLICT with SQLite's first complaint in msg when not "ok". */
enum td_status	 src_integrity(struct src *s, char *msg, size_t msglen);
/* table NULL: "todo", else "todos". TD_EINVAL when a required column
 * (id, title, completed, created_at, updated_at) is missing. */
enum td_status	 src_discover(struct src *s, const char *table,
		    struct src_info *info);

/* Rows in id order. Values borrow from SQLite until the next call;
 * *done is set after the last row. Title and description come as text
 * (numbers in their SQLite text form); others keep their storage class. */
enum td_status	 src_rows_begin(struct src *s, const struct src_info *info);
enum td_status	 src_next(struct src *s, struct conv_value v[CONV_NCOLS],
		    bool *done);
/* The current row's user_id (CONV_NULL when there is no such column);
 * borrowed like src_next's values. */
enum td_status	 src_user(struct src *s, struct conv_value *out);

#endif
