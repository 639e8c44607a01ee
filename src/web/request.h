/* request.h - one HTTP request as the FastCGI server hands it over: the
 * parameters we use, copied into the request's arena and validated, the
 * query string, cookies, and the form body read with a hard bound.
 *
 * request_parse() never trusts a byte: a malformed path, query, cookie or
 * body, a body longer than allowed or shorter than CONTENT_LENGTH, gives a
 * non-TD_OK status and sets *http_status (400, 411, 413, 415) for the
 * caller to answer with. */
#ifndef TODO_REQUEST_H
#define TODO_REQUEST_H

#include <stddef.h>

#include "form.h"
#include "status.h"

struct arena;

#define USER_AGENT_MAX 256
#define IF_NONE_MATCH_MAX 1024

struct request {
	const char *method;        /* GET, POST, ... */
	const char *path;          /* percent-decoded, valid UTF-8 */
	const char *request_id;    /* from nginx's $request_id, or "-" */
	const char *host;          /* Host header, or "" */
	const char *scheme;        /* "https" when HTTPS=on, else "http" */
	const char *server_port;   /* SERVER_PORT, or "" */
	const char *remote_addr;   /* REMOTE_ADDR (the client, as nginx saw it), or "" */
	const char *origin;        /* Origin header, or NULL */
	const char *fetch_site;    /* Sec-Fetch-Site header, or NULL */
	const char *user_agent;    /* User-Agent, at most USER_AGENT_MAX code
	                            * points, printable; "" when absent */
	const char *if_none_match; /* If-None-Match, at most IF_NONE_MATCH_MAX
	                            * bytes (a longer one is left out: it only
	                            * ever makes a 304 possible), or NULL */
	const char *query_string;  /* raw, as received (it parsed) */
	struct form query;         /* parsed query string */
	struct form cookies;       /* invalid cookies are dropped, not fatal */
	struct form body;          /* urlencoded POST body */
};

/* Reads up to n bytes of the body into buf; returns the count, 0 at end,
 * -1 on error. */
typedef long (*request_read_fn)(void *ctx, char *buf, size_t n);

/* params: the FastCGI environment ("NAME=value" strings, NULL-terminated). */
enum td_status request_parse(struct request *r, struct arena *a,
    char *const *params, request_read_fn read_body, void *read_ctx,
    size_t max_body, int *http_status);

/* Value of FastCGI parameter name in params, or NULL. */
const char *request_param(char *const *params, const char *name);

#endif
