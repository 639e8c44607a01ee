/* store.h - all SQL of the app. Every function is one prepared statement,
 * so one round trip to PostgreSQL. Results are copied into the arena.
 *
 * Every statement of a signed-in page starts with the session check (a
 * WITH over sessions and users, which also writes "last seen" when it is
 * older than TODO_SESSION_TOUCH): the check costs no round trip of its
 * own, and every statement that touches todos is scoped by the session's
 * person in SQL. A session that is unknown, idle too long, too old, or
 * whose account is disabled gives TD_ENOSESSION and changes nothing. */
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

/* Who asks: the session cookie's hash and the session limits, as text for
 * the statements' first four parameters. */
struct store_session {
	char hash[2 + 64 + 1];     /* "\\x" and 64 hex digits: bytea input */
	char idle[12], max[12], touch[12];
};
void store_session_init(struct store_session *s, const unsigned char hash[32],
    int idle_s, int max_s, int touch_s);

struct todo {
	int64_t id;
	const char *title;
	const char *description;   /* NULL when the column is NULL */
	size_t title_n;            /* their lengths, known from the answer: */
	size_t description_n;      /* list pages only (store_search*), else 0 */
	bool completed;
	const char *created_at;    /* ISO 8601, UTC, to the second (store_get,
	                            * store_export; NULL on list pages) */
	const char *updated_at;
	int64_t created_us;        /* for cursors */
	int32_t created_off;       /* the person's UTC offset then, in seconds
	                            * (store_list/store_search/store_get) */
	int64_t updated_us;        /* store_get only */
	int32_t updated_off;
};

struct todo_page {
	const char *email;         /* who is signed in */
	struct todo *items;        /* newest first */
	size_t n;
	int64_t active;            /* of the whole list, not the page */
	int64_t completed;
	bool has_older;
	bool has_newer;
	int64_t before;            /* rows of the list (or matches) newer than
	                            * the page: the pager's "51-100" */
	int64_t total;             /* rows of the list, or matches of a search */
	int32_t now_off;           /* the person's UTC offset now, in seconds */
};

/* The statement table to hand to db_new(). */
const struct db_stmt *store_statements(int *n);

enum td_status store_list(struct db *db, struct arena *a,
    const struct store_session *who, enum todo_filter f, enum page_dir dir,
    const struct page_cursor *cur, struct todo_page *out);
/* The same for a search: the todos whose title or description contains q
 * (valid UTF-8, case-insensitive in any language; %, _ and \\ are plain
 * characters). q NULL or "" is store_list. */
#define STORE_QUERY_MAX 200     /* code points of q */
enum td_status store_search(struct db *db, struct arena *a,
    const struct store_session *who, const char *q, enum todo_filter f,
    enum page_dir dir, const struct page_cursor *cur, struct todo_page *out);
/* A look at the page before its strings are copied into the arena (the
 * list page's ETag: a 304 needs no copies). fn (or NULL) gets the page
 * with its email, titles and descriptions in the database's answer;
 * true: that is all (*done, and out's strings are gone), false: on as
 * store_search. keep NULL: the strings are copied into the arena; else
 * they are not, and stay valid until store_answer_free(*keep) (the page
 * rendered at once: no copies). */
typedef bool (*store_page_fn)(void *ctx, const struct todo_page *page);
enum td_status store_search_check(struct db *db, struct arena *a,
    const struct store_session *who, const char *q, enum todo_filter f,
    enum page_dir dir, const struct page_cursor *cur, struct todo_page *out,
    store_page_fn fn, void *ctx, bool *done, void **keep);
/* NULL is nothing to free. */
void store_answer_free(void *answer);
/* *now_off: the person's UTC offset now, for times relative to now. */
enum td_status store_get(struct db *db, struct arena *a,
    const struct store_session *who, int64_t id, struct todo *out,
    int32_t *now_off);
/* token: the add form's one-time token (uuid text) or NULL. A second call
 * with the same token creates nothing and still succeeds. NULL: a fresh
 * token is used, so that a retry after a lost connection adds nothing. */
enum td_status store_create(struct db *db, const struct store_session *who,
    const char *title, const char *description, const char *token);
enum td_status store_update(struct db *db, const struct store_session *who,
    int64_t id, const char *title, const char *description, bool completed);
enum td_status store_toggle(struct db *db, const struct store_session *who,
    int64_t id);
/* TD_ENOTFOUND: no such todo of the person's; but TD_OK when the delete
 * was sent again after a lost connection (db_last_resent()) and found the
 * todo gone: the first attempt may have deleted it. */
enum td_status store_delete(struct db *db, const struct store_session *who,
    int64_t id);
/* Complete every todo of the person, or, when all are complete already,
 * reopen all. *changed (may be NULL): how many todos changed. */
enum td_status store_toggle_all(struct db *db, const struct store_session *who,
    long *changed);
enum td_status store_clear_completed(struct db *db,
    const struct store_session *who, long *changed);

/* ---- undo, and what a write reports for the next page ----
 * A delete or "clear completed" moves the rows to todo_trash under a new
 * batch number; store_undo() moves a batch back (same ids, texts, times)
 * while it is younger than STORE_UNDO_WINDOW_S. The same statements that
 * fill the trash empty it: the person's expired batches, and up to
 * STORE_TRASH_SWEEP expired rows of anyone's (docs/accounts.md, "Undo"). */
#define STORE_UNDO_WINDOW_S 600
#define STORE_TRASH_SWEEP 100

struct store_change {
	long count;            /* todos changed, moved to the trash or restored */
	bool completed;        /* toggle-all: the state they were set to */
	int64_t batch;         /* delete, clear: the undo batch; 0: none */
	int64_t focus;         /* the todo to come back to (fragment); 0: none */
	const char *title;     /* delete: the deleted todo's title (arena) */
};

/* The toggle; focus: the todo itself, or when it left the page's view
 * (filter f, search q: NULL for none; a is needed only with q), the todo
 * next to it there (next older, else next newer). */
enum td_status store_toggle_change(struct db *db, struct arena *a,
    const struct store_session *who, int64_t id, enum todo_filter f,
    const char *q, struct store_change *out);
/* The delete, into the trash; focus: the todo next to it in the view of
 * filter f and search q (NULL: none). Resent after a lost connection and
 * finding the todo gone, TD_OK with the batch the first attempt made
 * (found in the trash), like store_delete. */
enum td_status store_delete_change(struct db *db, struct arena *a,
    const struct store_session *who, int64_t id, enum todo_filter f,
    const char *q, struct store_change *out);
enum td_status store_toggle_all_change(struct db *db,
    const struct store_session *who, struct store_change *out);
/* Resent after a lost connection and finding nothing completed: TD_OK
 * with count -1 (unknown: the first attempt may have cleared them). */
enum td_status store_clear_change(struct db *db,
    const struct store_session *who, struct store_change *out);
/* Restore a batch of the person's within the window; focus: the newest
 * restored todo. TD_ENOTFOUND: no such batch of theirs, expired, or
 * restored already (except when resent after a lost connection: the first
 * attempt's restore is reported). */
enum td_status store_undo(struct db *db, const struct store_session *who,
    int64_t batch, struct store_change *out);

/* ---- accounts ---- */

struct session_info {
	const char *created_at;    /* ISO 8601 UTC */
	const char *last_seen;
	const char *user_agent;
	bool current;              /* the session asking */
	int64_t created_us, last_seen_us;     /* for reltime.h */
	int32_t created_off, last_seen_off;   /* UTC offsets in the zone */
};

struct account {
	int64_t user_id;
	const char *email;
	const char *created_at;
	const char *password_hash; /* store_credentials() only */
	int64_t active, completed;
	struct session_info *sessions;   /* current first, then by last seen */
	size_t nsessions;
	const char *time_zone;     /* IANA name, store_account() only */
	const char *time_zones;    /* the names to offer, "\n"-separated */
	int32_t now_off;           /* UTC offset in time_zone now, seconds */
	int64_t created_us;
	int32_t created_off;
};

/* The account page: the person and their live sessions. */
enum td_status store_account(struct db *db, struct arena *a,
    const struct store_session *who, struct account *out);
/* Set the person's time zone; TD_EINVAL when PostgreSQL does not know
 * the name (pg_timezone_names). */
enum td_status store_set_time_zone(struct db *db, const struct store_session *who,
    const char *name);
/* id, email and password hash, to check a password before a change. */
enum td_status store_credentials(struct db *db, struct arena *a,
    const struct store_session *who, struct account *out);
/* Replace the password hash, if it is still old_hash, and end every other
 * session. TD_ECONFLICT when the hash changed meanwhile. */
enum td_status store_set_password(struct db *db, const struct store_session *who,
    const char *old_hash, const char *new_hash, long *ended);
/* End every session of the person but this one. */
enum td_status store_end_other_sessions(struct db *db,
    const struct store_session *who, long *ended);
/* Delete the account (its todos and sessions with it) if its password hash
 * is still old_hash. */
enum td_status store_delete_account(struct db *db,
    const struct store_session *who, const char *old_hash);
/* Every todo of the person, oldest first, with created and updated times,
 * copied into the arena: all of them at once (tests, tools). */
enum td_status store_export(struct db *db, struct arena *a,
    const struct store_session *who, struct todo **items, size_t *n);
/* The same, one todo at a time to fn as its row arrives from PostgreSQL
 * (db_exec_rows): the memory is one row's, whatever the number of todos.
 * The todo's strings are valid during the call only. fn returns 0 for
 * more; else no more todos are handed (the rest is read and dropped).
 * TD_ENOSESSION before any todo. An error after some todos means the
 * ones handed were not all: the caller must not present them as all. */
typedef int (*store_export_fn)(void *ctx, const struct todo *t);
enum td_status store_export_each(struct db *db, const struct store_session *who,
    store_export_fn fn, void *ctx);
/* Several cookies of the session's name came (another app on the same host
 * may use the name, with a more specific path or a parent domain): which of
 * cands (same limits) is a live session here. *pick is its index, -1 when
 * none is. Only then does a request cost a second round trip. */
enum td_status store_session_pick(struct db *db, struct arena *a,
    const struct store_session *cands, size_t n, int *pick);
/* Sign-out: delete the session with this hash (no check: it is the
 * caller's own cookie; an unknown hash is fine). */
enum td_status store_end_session(struct db *db, const struct store_session *who);

/* Sign-in, step 1: *wait_s > 0 when sign-ins for this email or from this
 * address are throttled (seconds until they may be tried again). Else the
 * account, if the email has one: *user_id 0 when not; the hash in arena. */
struct login_limits {
	int window_s, max_email, max_addr;
};
enum td_status store_login_lookup(struct db *db, struct arena *a,
    const char *email, const char *addr, const struct login_limits *lim,
    int *wait_s, int64_t *user_id, const char **password_hash, bool *disabled);
/* Count a failed sign-in against the email and the address. */
enum td_status store_login_failed(struct db *db, const char *email,
    const char *addr, const struct login_limits *lim);
/* Sign-in, step 2: a new session (hash), the browser's old one ended
 * (old: NULL when none), the email's failures forgotten, the password
 * re-hashed (new_password_hash: NULL to keep it). */
enum td_status store_session_start(struct db *db, int64_t user_id,
    const struct store_session *new_session, const char *user_agent,
    const struct store_session *old, const char *new_password_hash);
/* Sign-up: account and first session in one statement; TD_ECONFLICT when
 * the email is taken. */
enum td_status store_signup(struct db *db, const char *email,
    const char *password_hash, const struct store_session *new_session,
    const char *user_agent);

enum td_status store_ping(struct db *db);

#endif
