/* app.h - what a worker needs to answer requests, the dispatch from a
 * parsed request to its handler, and what every handler shares:
 *   request -> route -> origin check -> session or pre-session cookie ->
 *   CSRF check (POST) -> handler (todos.c, auth.c, account.c) -> response.
 *
 * Each route is public (health, status, the root redirect), a sign-in page
 * (pre-session cookie and its form token), or needs a session: signed out,
 * a GET of such a page is sent to /login?return_to=..., a POST to /login,
 * and nothing changes. A POST with a session cookie but without its form
 * token (csrf_token) answers 403 before any handler runs. Whether the
 * session is still good is decided by the handler's one SQL statement
 * (store.h); TD_ENOSESSION from it goes to app_fail like any failure. */
#ifndef TODO_APP_H
#define TODO_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "randpool.h"
#include "session.h"
#include "status.h"
#include "store.h"

struct arena;
struct config;
struct db;
struct request;
struct response;
struct tmpl_set;
struct tv;

struct app {
	const struct config *cfg;
	const struct tmpl_set *tmpl;   /* compiled before fork, read-only */
	struct db *db;                 /* this worker's connection */
	struct randpool rand;          /* this worker's, made after fork */
};

/* Everything a handler sees. */
struct ctx {
	struct app *app;
	struct request *req;
	struct response *resp;
	struct arena *arena;
	int64_t id;                    /* {id} of the route, if any */
	/* The session cookie's hash and limits, for the store; NULL when no
	 * well-formed session cookie came. */
	const struct store_session *who;
	/* The form token every form of the page carries: bound to the
	 * session, or on the sign-in pages to the pre-session. */
	char csrf[CSRF_TOKEN_LEN + 1];
};

/* Returns the route that answered (route.h's enum route_id), ROUTE_NONE
 * when none matched: the label the request is counted under. */
int app_handle(struct app *app, struct request *req, struct response *resp,
    struct arena *a);
/* An error page (4xx/5xx) with a short message for the user. */
void app_error(struct app *app, struct arena *a, struct response *resp,
    int status, const char *message);

/* ---- for handlers ---- */

/* The page for a failed store call: 404, 409, 503 + Retry-After, 500, or,
 * for TD_ENOSESSION, the way to the sign-in page. */
void app_fail(struct ctx *c, enum td_status rc);
/* Values every page has: page_title, static_url, csrf_token. NULL when out
 * of memory. */
struct tv *app_page_values(struct ctx *c, const char *page_title);
/* Render template name with v as an HTML page (no-store). */
void app_render(struct ctx *c, int status, const char *name, struct tv *v);
/* A confirmation for the next page (a code of app.c's table), then 303
 * to `to`. */
void app_redirect(struct ctx *c, const char *flash, const char *to);
/* A confirmation with what its message and the next page need. It travels
 * in the flash cookie, so it comes back from the client: read strictly,
 * and only ever changes what the person's own page says or focuses (the
 * batch goes into the Undo form only; undo is checked in SQL). */
struct flash {
	const char *code;      /* of app.c's table; NULL: none */
	long count;            /* < 0: none */
	int64_t batch;         /* the Undo form's batch; 0: no Undo */
	int64_t focus;         /* the todo to focus; 0: none */
	const char *title;     /* "deleted": the todo's title; NULL: none */
};
void app_redirect_flash(struct ctx *c, const struct flash *f, const char *to);
/* Show the pending confirmation, if any, as "flash" (and its Undo batch as
 * "undo_batch"), and clear it. */
void app_take_flash(struct ctx *c, struct tv *v);
/* The same, and *out (code NULL when there was none, or it was not one
 * this app writes). */
void app_take_flash_into(struct ctx *c, struct tv *v, struct flash *out);
/* Whether a flash cookie came (then the page shows it and clears it). */
bool app_flash_pending(const struct ctx *c);
/* Set (token != NULL) or clear the session cookie. */
void app_session_cookie(struct ctx *c, const char *token);
/* Clear the pre-session cookie (after a sign-in or sign-up). */
void app_clear_presession(struct ctx *c);

#endif
