/* store.h - all SQL of the app. Every function is one prepared statement,
 * so one round trip to PostgreSQL. Results are copied into the arena. */
#ifndef TODO_STORE_H
#define TODO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct arena;
struct db;
struct db_stmt;

#define STORE_PAGE_SIZE 50

enum todo_filter { FILTER_ALL, FILTER_ACTIVE, FILTER_COMPLETED };
/* Keyset pagination: the first page, the page older than a cursor, or the
 * page newer than a cursor. A cursor is the (created_at, id) of a row. */
enum page_dir { PAGE_FIRST, PAGE_OLDER, PAGE_NEWER };

struct page_cursor {
	int64_t created_us;   /* microseconds since the Unix epoch */
	int64_t id;
};

struct todo {
	int64_t id;
	const char *title;
	const char *description;   /* NULL when the column is NULL */
	bool completed;
	const char *created_at;    /* ISO 8601, UTC, to the second */
	const char *updated_at;
	int64_t created_us;        /* for cursors */
};

struct todo_page {
	struct todo *items;        /* newest first */
	size_t n;
	int64_t active;            /* of the whole list, not the page */
	int64_t completed;
	bool has_older;
	bool has_newer;
};

/* The statement table to hand to db_new(). */
const struct db_stmt *store_statements(int *n);

enum td_status store_list(struct db *db, struct arena *a, enum todo_filter f,
    enum page_dir dir, const struct page_cursor *cur, struct todo_page *out);
enum td_status store_get(struct db *db, struct arena *a, int64_t id,
    struct todo *out);
/* token: the add form's one-time token (uuid text) or NULL. A second call
 * with the same token creates nothing and still succeeds. */
enum td_status store_create(struct db *db, const char *title,
    const char *description, const char *token);
enum td_status store_update(struct db *db, int64_t id, const char *title,
    const char *description, bool completed);
enum td_status store_toggle(struct db *db, int64_t id);
enum td_status store_delete(struct db *db, int64_t id);
/* Complete every todo, or, when all are complete already, reopen all. */
enum td_status store_toggle_all(struct db *db);
enum td_status store_clear_completed(struct db *db);
enum td_status store_ping(struct db *db);

#endif
