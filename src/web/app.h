/* app.h - what a worker needs to answer requests, and the dispatch from a
 * parsed request to its handler:
 *   request -> CSRF check -> route -> handler (todos.c) -> response. */
#ifndef TODO_APP_H
#define TODO_APP_H

#include <stdint.h>

struct arena;
struct config;
struct db;
struct request;
struct response;
struct tmpl_set;

struct app {
	const struct config *cfg;
	const struct tmpl_set *tmpl;   /* compiled before fork, read-only */
	struct db *db;                 /* this worker's connection */
};

/* Everything a handler sees. */
struct ctx {
	struct app *app;
	struct request *req;
	struct response *resp;
	struct arena *arena;
	int64_t id;                    /* {id} of the route, if any */
};

/* Returns the route that answered (route.h's enum route_id), ROUTE_NONE
 * when none matched: the label the request is counted under. */
int app_handle(struct app *app, struct request *req, struct response *resp,
    struct arena *a);
/* An error page (4xx/5xx) with a short message for the user. */
void app_error(struct app *app, struct arena *a, struct response *resp,
    int status, const char *message);

#endif
