/* response.h - status, headers and body of one response, built in the
 * request's arena and written in one piece as a FastCGI (CGI-style)
 * response: "Status: 200 OK\r\nName: value\r\n...\r\n\r\nbody". */
#ifndef TODO_RESPONSE_H
#define TODO_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct arena;

struct response {
	int status;
	struct buf headers;        /* "Name: value\r\n" lines */
	struct buf body;
};

void response_init(struct response *r, struct arena *a);
/* Adds a header; a name or value holding CR, LF or NUL is dropped (and
 * logged) so nothing from a request can split the response. */
void response_header(struct response *r, const char *name, const char *value);
/* For an error page, which replaces the answer begun so far: drops the
 * headers set before it but those that hold for any answer or record
 * what was done (Strict-Transport-Security, Set-Cookie, Retry-After). */
void response_clear_headers(struct response *r);
/* Whether a header of that name (any case) was set. */
bool response_has_header(const struct response *r, const char *name);
/* A page the browser may keep and must revalidate each time: ETag and
 * Cache-Control "private, no-cache" (instead of app_render's no-store). */
void response_etag(struct response *r, const char *etag);
/* 304 Not Modified for a matching If-None-Match: the same ETag and
 * Cache-Control as the 200, no body (response_send() sends no
 * Content-Length for it: RFC 9110 8.6 would want the 200's). */
void response_not_modified(struct response *r, const char *etag);
/* 3xx with Location; location must be a path on this site. */
void response_redirect(struct response *r, int status, const char *location);
const char *response_reason(int status);

/* Writes the whole response through write_fn (returns 0 or -1).
 * head: leave the body out (HEAD requests). */
typedef int (*response_write_fn)(void *ctx, const char *data, size_t n);
enum td_status response_send(struct response *r, bool head,
    response_write_fn write_fn, void *ctx);

#endif
