/* app.c - see app.h. */
#include "app.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "route.h"
#include "status_page.h"
#include "tmpl.h"
#include "todos.h"

typedef void (*handler_fn)(struct ctx *);

static const handler_fn handlers[] = {
	[ROUTE_ROOT] = NULL,           /* a redirect, answered below */
	[ROUTE_LIST] = todos_list,
	[ROUTE_CREATE] = todos_create,
	[ROUTE_EDIT] = todos_edit,
	[ROUTE_UPDATE] = todos_update,
	[ROUTE_TOGGLE] = todos_toggle,
	[ROUTE_DELETE] = todos_delete,
	[ROUTE_TOGGLE_ALL] = todos_toggle_all,
	[ROUTE_CLEAR] = todos_clear_completed,
	[ROUTE_HEALTH] = todos_health,
	[ROUTE_STATUS] = status_page_status,
	[ROUTE_METRICS] = status_page_metrics,
};

void
app_error(struct app *app, struct arena *a, struct response *resp, int status,
    const char *message)
{
	struct tv *v = tv_map(a);

	resp->status = status;
	resp->body.len = 0;
	response_header(resp, "Content-Type", "text/html; charset=utf-8");
	response_header(resp, "Cache-Control", "no-store");
	if (v != NULL) {
		tv_set_int(v, "status", status);
		tv_set_str(v, "reason", response_reason(status));
		tv_set_str(v, "message", message);
		tv_set_str(v, "static_url", app->cfg->static_url);
	}
	if (v == NULL || tmpl_render(app->tmpl, "error", v, &resp->body) != TD_OK) {
		/* Out of memory or no template: a plain page still tells. */
		buf_init(&resp->body, a);
		buf_printf(&resp->body, "<!doctype html><title>%d</title><p>%d %s</p>\n",
		    status, status, response_reason(status));
	}
}

/* This site's origin as a browser writes it: scheme://host[:port], the
 * port left out when it is the scheme's default. The host comes without
 * its port from Debian's nginx ($host), so the port is SERVER_PORT. */
static const char *
own_origin(const struct request *req, struct arena *a)
{
	const char *host = req->host, *colon = strrchr(host, ':');
	size_t hlen = strlen(host);
	bool dflt;

	if (colon != NULL && strchr(colon, ']') == NULL)
		hlen = (size_t)(colon - host);      /* drop "host:port"'s port */
	dflt = req->server_port[0] == '\0' ||
	    (strcmp(req->scheme, "http") == 0 && strcmp(req->server_port, "80") == 0) ||
	    (strcmp(req->scheme, "https") == 0 && strcmp(req->server_port, "443") == 0);
	return arena_printf(a, "%s://%.*s%s%s", req->scheme, (int)hlen, host,
	    dflt ? "" : ":", dflt ? "" : req->server_port);
}

/* A form post must come from this site: browsers say where a request comes
 * from in Sec-Fetch-Site and Origin; requests without either (old browsers,
 * curl) are let through. TODO_PUBLIC_ORIGIN, when set, is the only origin
 * accepted (use it behind proxies that change scheme or port). *expected
 * is the origin it was held against, for the log. */
static bool
same_site(const struct app *app, const struct request *req, struct arena *a,
    const char **expected)
{
	if (app->cfg->public_origin[0] != '\0')
		*expected = app->cfg->public_origin;
	else if ((*expected = own_origin(req, a)) == NULL) {
		*expected = "-";    /* out of memory */
		return false;
	}
	if (req->fetch_site != NULL && strcmp(req->fetch_site, "same-origin") != 0 &&
	    strcmp(req->fetch_site, "none") != 0)
		return false;
	if (req->origin == NULL)
		return true;
	return strcmp(req->origin, *expected) == 0;
}

int
app_handle(struct app *app, struct request *req, struct response *resp,
    struct arena *a)
{
	struct route_match m;
	const char *expected;
	struct ctx c;

	/* Before anything can answer: every page of the app gets it. */
	if (app->cfg->hsts[0] != '\0')
		response_header(resp, "Strict-Transport-Security", app->cfg->hsts);
	switch (route_match(req->method, req->path, &m)) {
	case TD_OK:
		break;
	case TD_EINVAL:
		app_error(app, a, resp, 405, "This address does not take that kind of request.");
		response_header(resp, "Allow", m.allow);
		return ROUTE_NONE;
	default:
		app_error(app, a, resp, 404, "There is nothing at this address.");
		return ROUTE_NONE;
	}
	if (strcmp(req->method, "POST") == 0 && !same_site(app, req, a, &expected)) {
		log_warn("refused cross-site %s %s: expected origin %s%s, received origin %s, sec-fetch-site %s",
		    req->method, req->path, expected,
		    app->cfg->public_origin[0] != '\0' ? " (TODO_PUBLIC_ORIGIN)" : " (from Host)",
		    req->origin ? req->origin : "-",
		    req->fetch_site ? req->fetch_site : "-");
		app_error(app, a, resp, 403, "Forms can only be sent from this site.");
		return m.route;
	}
	if (m.route == ROUTE_ROOT) {
		response_redirect(resp, 302, "/todos");
		return m.route;
	}
	c.app = app;
	c.req = req;
	c.resp = resp;
	c.arena = a;
	c.id = m.id;
	handlers[m.route](&c);
	return m.route;
}
