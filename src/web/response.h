/* response.h - status, headers and body of one response, built in the
 * request's arena and written in one piece as a FastCGI (CGI-style)
 * response: "Status: 200 OK\r\nName: value\r\n...\r\n\r\nbody".
 * A body of any size (an export) is sent instead as it is made, in
 * chunks through the same buffer (response_stream_*). */
#ifndef TODO_RESPONSE_H
#define TODO_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct arena;

/* The worker's writer: returns 0 or -1. */
typedef int (*response_write_fn)(void *ctx, const char *data, size_t n);

struct response {
	int status;
	struct buf headers;        /* "Name: value\r\n" lines */
	struct buf body;           /* streamed: the chunk not sent yet */
	response_write_fn write_fn;  /* response_set_writer(); NULL: none */
	void *write_ctx;
	bool head;                 /* a HEAD request: no body goes out */
	bool streamed;             /* the head went out (response_stream_start) */
	bool cut;                  /* streamed, and the body cannot be finished */
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
 * head: leave the body out (HEAD requests). A streamed response: sends
 * the rest of its body (nothing once cut). */
enum td_status response_send(struct response *r, bool head,
    response_write_fn write_fn, void *ctx);

/* ---- streaming (a body too big to hold: the exports) ----
 * The worker sets its writer before the handler runs. The handler sets
 * status and headers, calls response_stream_start() once it knows the
 * answer is a 200 (nothing sent before can still become an error page),
 * then appends to r->body and calls response_stream_body() whenever it
 * holds a chunk: the chunk is sent and the buffer reused, so the memory is
 * one chunk's whatever the body's size. response_send() sends the last. */
void response_set_writer(struct response *r, bool head,
    response_write_fn write_fn, void *ctx);
/* Sends the head now, without Content-Length: the end of the FastCGI
 * stream ends the body (nginx passes it on chunked). TD_EINVAL without a
 * writer; a failed write cuts (below). */
enum td_status response_stream_start(struct response *r);
/* Sends r->body and empties it (nothing for HEAD). A failed write or a
 * body the arena could not hold cuts the response. */
enum td_status response_stream_body(struct response *r);
/* The body cannot be finished (its data failed after the head went out):
 * nothing more is sent, and the worker drops the connection instead of
 * ending the request, so that nginx drops the client's (no last chunk):
 * a cut body never reads as a whole one. */
void response_stream_cut(struct response *r);

#endif
