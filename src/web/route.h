/* route.h - method + path -> route, as a table. Knows no handlers, so it
 * can be tested alone. A path that matches but with the wrong method gives
 * TD_EINVAL and the Allow header value; no match at all TD_ENOTFOUND.
 * "{id}" segments take 1 to INT64_MAX in decimal (no sign, no leading
 * zero), every id the database can hand out. HEAD is accepted wherever GET
 * is. */
#ifndef TODO_ROUTE_H
#define TODO_ROUTE_H

#include <stdint.h>

#include "status.h"

enum route_id {
	ROUTE_ROOT,          /* GET  /                        */
	ROUTE_LIST,          /* GET  /todos                   */
	ROUTE_CREATE,        /* POST /todos                   */
	ROUTE_EDIT,          /* GET  /todos/{id}/edit         */
	ROUTE_UPDATE,        /* POST /todos/{id}              */
	ROUTE_TOGGLE,        /* POST /todos/{id}/toggle       */
	ROUTE_DELETE,        /* POST /todos/{id}/delete       */
	ROUTE_TOGGLE_ALL,    /* POST /todos/toggle-all        */
	ROUTE_CLEAR,         /* POST /todos/clear-completed   */
	ROUTE_UNDO,          /* POST /todos/undo              */
	ROUTE_HEALTH,        /* GET  /healthz                 */
	ROUTE_STATUS,        /* GET  /status   (status_page.c) */
	ROUTE_METRICS,       /* GET  /metrics  (status_page.c) */
	ROUTE_SIGNUP_FORM,   /* GET  /signup                  (auth.c) */
	ROUTE_SIGNUP,        /* POST /signup                  */
	ROUTE_LOGIN_FORM,    /* GET  /login                   */
	ROUTE_LOGIN,         /* POST /login                   */
	ROUTE_LOGOUT,        /* POST /logout                  */
	ROUTE_ACCOUNT,       /* GET  /account                 (account.c) */
	ROUTE_END_SESSIONS,  /* POST /account/sessions/revoke */
	ROUTE_PASSWORD,      /* POST /account/password        */
	ROUTE_DELETE_ACCOUNT,/* POST /account/delete          */
	ROUTE_EXPORT_JSON,   /* GET  /account/export.json     */
	ROUTE_EXPORT_CSV,    /* GET  /account/export.csv      */
	ROUTE_TIME_ZONE,     /* POST /account/time-zone       */
	ROUTE_NONE,          /* no route: 404, 405, malformed request; never
	                      * returned by route_match, a label for counters */
	ROUTE_COUNT
};

struct route_match {
	enum route_id route;
	int64_t id;          /* the {id} segment, when the route has one */
	const char *allow;   /* on TD_EINVAL: value for the Allow header */
};

enum td_status route_match(const char *method, const char *path,
    struct route_match *m);
/* A route's name for logs and metric labels ("list", "toggle_all", ...;
 * "none" for ROUTE_NONE): [a-z_] only. */
const char *route_name(enum route_id route);

#endif
