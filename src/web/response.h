/* response.h - status, headers and body of one response, built in the
 * request's arena and written in one piece as a FastCGI (CGI-style)
 * response: "Status: 200 OK\r\nName: value\r\n...\r\n\r\nbody".
 * A body of any size (an export) is sent instead as it is made, in
 * chunks through the same buffer (response_stream_*). The worker's writer
 * (response_wire_*) frames it as FastCGI records and ends the request in
 * the same writev(2) as the answer's last bytes. */
#ifndef TODO_RESPONSE_H
#define TODO_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct arena;
struct FCGX_Request;

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
	bool unbuffered;           /* may ask nginx not to buffer (below) */
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
 * the rest of its body (nothing once cut).
 * With r->unbuffered (the worker sets it when the request's body was read
 * whole, so the connection closes at once) an answer of at most
 * RESPONSE_UNBUFFERED_MAX bytes carries "X-Accel-Buffering: no" (nginx
 * hides it from the client): nginx passes the answer on as it reads it
 * and is done at FCGI_END_REQUEST, without its buffers' bookkeeping or a
 * read for the connection's end. A slow client cannot hold the worker
 * then: so small an answer fits in the unix socket's buffer (208 KB,
 * net.core.wmem_default), so the worker's writev completes and it closes
 * whatever nginx does next. Streamed answers (exports) stay buffered. */
#define RESPONSE_UNBUFFERED_MAX	(64 * 1024)
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

/* ---- the FastCGI records (the worker's writer) ----
 * libfcgi's output stream cuts an answer into 8 KB records, a write(2)
 * each, and ends the request (an empty FCGI_STDOUT and FCGI_END_REQUEST)
 * in a write of its own: nginx woke for each. The wire holds what a
 * response writes (up to head[] copied; a bigger piece of a response not
 * streamed, its body, by pointer: the arena keeps it to the end) and
 * sends it with the end of the request in one writev. A streamed body's
 * chunks go at once (their buffer is reused), in records of up to 64 KB.
 * The worker must then keep libfcgi from ending the request again. */
struct response_wire {
	int fd;                    /* the connection to nginx */
	int request_id;
	const struct response *r;  /* r->streamed: nothing may be held */
	const char *held;          /* a piece by pointer, after head[] */
	size_t held_len;
	bool failed;               /* a write failed: errno in err */
	int err;
	size_t n;                  /* bytes in head[] */
	char head[4096];
};

void response_wire_init(struct response_wire *w, const struct response *r,
    int fd, int request_id);
/* A response_write_fn (ctx: the wire): returns 0 or -1 (a write failed). */
int response_wire_write(void *ctx, const char *data, size_t n);
/* Sends what is held and the end of the request (an empty FCGI_STDOUT,
 * FCGI_END_REQUEST complete), the end in the last writev. 0 or -1. */
int response_wire_end(struct response_wire *w);
/* A streamed body that cannot be finished: what is held is dropped and
 * a record nginx must refuse (version 0) is sent, so that it drops the
 * client's connection rather than end the body as if whole. 0 or -1. */
int response_wire_cut(struct response_wire *w);
/* After response_wire_end or _cut: FCGX_Finish_r must not end the request
 * again. A failed write is left as the output stream's error, so that it
 * closes the connection (even one nginx asked to keep). */
void response_wire_done(const struct response_wire *w, struct FCGX_Request *fr);

#endif
