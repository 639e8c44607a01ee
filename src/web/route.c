/* route.c - see route.h. */
#include "route.h"

#include <stdbool.h>
#include <string.h>

struct route {
	const char *method;
	const char *pattern;   /* "{id}" matches a whole numeric segment */
	enum route_id id;
};

static const struct route routes[] = {
	{ "GET",  "/",                       ROUTE_ROOT },
	{ "GET",  "/todos",                  ROUTE_LIST },
	{ "POST", "/todos",                  ROUTE_CREATE },
	{ "POST", "/todos/toggle-all",       ROUTE_TOGGLE_ALL },
	{ "POST", "/todos/clear-completed",  ROUTE_CLEAR },
	{ "POST", "/todos/undo",             ROUTE_UNDO },
	{ "GET",  "/todos/{id}/edit",        ROUTE_EDIT },
	{ "POST", "/todos/{id}",             ROUTE_UPDATE },
	{ "POST", "/todos/{id}/toggle",      ROUTE_TOGGLE },
	{ "POST", "/todos/{id}/delete",      ROUTE_DELETE },
	{ "GET",  "/healthz",                ROUTE_HEALTH },
	{ "GET",  "/status",                 ROUTE_STATUS },
	{ "GET",  "/metrics",                ROUTE_METRICS },
	{ "GET",  "/signup",                 ROUTE_SIGNUP_FORM },
	{ "POST", "/signup",                 ROUTE_SIGNUP },
	{ "GET",  "/login",                  ROUTE_LOGIN_FORM },
	{ "POST", "/login",                  ROUTE_LOGIN },
	{ "POST", "/logout",                 ROUTE_LOGOUT },
	{ "GET",  "/account",                ROUTE_ACCOUNT },
	{ "POST", "/account/sessions/revoke", ROUTE_END_SESSIONS },
	{ "POST", "/account/password",       ROUTE_PASSWORD },
	{ "POST", "/account/delete",         ROUTE_DELETE_ACCOUNT },
	{ "GET",  "/account/export.json",    ROUTE_EXPORT_JSON },
	{ "GET",  "/account/export.csv",     ROUTE_EXPORT_CSV },
	{ "POST", "/account/time-zone",      ROUTE_TIME_ZONE },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Parse one "{id}" segment at *p; advances *p past it. Every id the
 * identity column can hand out (1..INT64_MAX) is addressable. */
static bool
match_id(const char **p, int64_t *id)
{
	const char *s = *p;
	int64_t v = 0;
	int d;

	if (*s < '1' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		d = *s - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;   /* past INT64_MAX: no such id */
		v = v * 10 + d;
		s++;
	}
	if (*s != '\0' && *s != '/')
		return false;
	*p = s;
	*id = v;
	return true;
}

static bool
match_path(const char *pattern, const char *path, int64_t *id)
{
	while (*pattern != '\0') {
		if (strncmp(pattern, "{id}", 4) == 0) {
			if (!match_id(&path, id))
				return false;
			pattern += 4;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *path == '\0';
}

enum td_status
route_match(const char *method, const char *path, struct route_match *m)
{
	static const char *const allow_for[] = {
		[0] = NULL,
		[1] = "GET, HEAD",     /* GET only */
		[2] = "POST",          /* POST only */
		[3] = "GET, HEAD, POST",
	};
	bool head = strcmp(method, "HEAD") == 0;
	unsigned allow = 0;
	int64_t id = 0;
	size_t i;

	for (i = 0; i < NROUTES; i++) {
		if (!match_path(routes[i].pattern, path, &id))
			continue;
		if (strcmp(routes[i].method, method) == 0 ||
		    (head && strcmp(routes[i].method, "GET") == 0)) {
			m->route = routes[i].id;
			m->id = id;
			m->allow = NULL;
			return TD_OK;
		}
		allow |= strcmp(routes[i].method, "GET") == 0 ? 1 : 2;
	}
	if (allow == 0)
		return TD_ENOTFOUND;
	m->allow = allow_for[allow];
	return TD_EINVAL;
}

const char *
route_name(enum route_id route)
{
	static const char *const names[ROUTE_COUNT] = {
		[ROUTE_ROOT] = "root",
		[ROUTE_LIST] = "list",
		[ROUTE_CREATE] = "create",
		[ROUTE_EDIT] = "edit",
		[ROUTE_UPDATE] = "update",
		[ROUTE_TOGGLE] = "toggle",
		[ROUTE_DELETE] = "delete",
		[ROUTE_TOGGLE_ALL] = "toggle_all",
		[ROUTE_CLEAR] = "clear_completed",
		[ROUTE_UNDO] = "undo",
		[ROUTE_HEALTH] = "health",
		[ROUTE_STATUS] = "status",
		[ROUTE_METRICS] = "metrics",
		[ROUTE_SIGNUP_FORM] = "signup_form",
		[ROUTE_SIGNUP] = "signup",
		[ROUTE_LOGIN_FORM] = "login_form",
		[ROUTE_LOGIN] = "login",
		[ROUTE_LOGOUT] = "logout",
		[ROUTE_ACCOUNT] = "account",
		[ROUTE_END_SESSIONS] = "end_sessions",
		[ROUTE_PASSWORD] = "password",
		[ROUTE_DELETE_ACCOUNT] = "delete_account",
		[ROUTE_EXPORT_JSON] = "export_json",
		[ROUTE_EXPORT_CSV] = "export_csv",
		[ROUTE_TIME_ZONE] = "time_zone",
		[ROUTE_NONE] = "none",
	};

	return (unsigned)route < ROUTE_COUNT ? names[route] : "none";
}
