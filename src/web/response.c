/* response.c - see response.h. */
#include "response.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "log.h"

/* Most pages fit: growing the body by doubling cost a dozen
 * reallocations (and copies) per page. */
#define RESPONSE_BODY_HINT	(64 * 1024)

void
response_init(struct response *r, struct arena *a)
{
	r->status = 200;
	r->write_fn = NULL;
	r->write_ctx = NULL;
	r->head = r->streamed = r->cut = false;
	buf_init(&r->headers, a);
	buf_init(&r->body, a);
	/* Only a hint: an arena too small for it fails later, if at all. */
	if (!buf_reserve(&r->body, RESPONSE_BODY_HINT))
		buf_init(&r->body, a);
}

static bool
header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

void
response_header(struct response *r, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value) || strchr(name, ':') != NULL) {
		log_error("refused unsafe response header %s", name);
		return;
	}
	buf_puts(&r->headers, name);
	buf_append(&r->headers, ": ", 2);
	buf_puts(&r->headers, value);
	buf_append(&r->headers, "\r\n", 2);
}

/* HSTS holds for every answer; a cookie set or cleared records what the
 * request did (a new session, a sign-out); Retry-After is set for the
 * error page itself, just before it. */
static const char *const kept_headers[] = {
	"Strict-Transport-Security", "Set-Cookie", "Retry-After",
};

static bool
kept(const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t i, k;

	if (colon == NULL)
		return false;
	k = (size_t)(colon - line);
	for (i = 0; i < sizeof(kept_headers) / sizeof(kept_headers[0]); i++)
		if (strlen(kept_headers[i]) == k &&
		    strncasecmp(line, kept_headers[i], k) == 0)
			return true;
	return false;
}

void
response_clear_headers(struct response *r)
{
	char *p, *w, *end, *nl;
	size_t n;

	if (!buf_ok(&r->headers)) {
		buf_init(&r->headers, r->headers.arena);
		return;
	}
	if (r->headers.len == 0)
		return;
	p = w = r->headers.data;
	end = p + r->headers.len;
	/* In place: the kept lines move up over the dropped ones. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (kept(p, n)) {
			memmove(w, p, n);
			w += n;
		}
		p += n;
	}
	r->headers.len = (size_t)(w - r->headers.data);
	r->headers.data[r->headers.len] = '\0';
}

bool
response_has_header(const struct response *r, const char *name)
{
	const char *p, *end, *nl;
	size_t k = strlen(name);

	if (!buf_ok(&r->headers) || r->headers.len == 0)
		return false;
	for (p = r->headers.data, end = p + r->headers.len; p < end; p = nl + 1) {
		if ((size_t)(end - p) > k && p[k] == ':' && strncasecmp(p, name, k) == 0)
			return true;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
	}
	return false;
}

void
response_etag(struct response *r, const char *etag)
{
	response_header(r, "ETag", etag);
	response_header(r, "Cache-Control", "private, no-cache");
}

void
response_not_modified(struct response *r, const char *etag)
{
	r->status = 304;
	r->body.len = 0;
	response_etag(r, etag);
}

void
response_redirect(struct response *r, int status, const char *location)
{
	r->status = status;
	response_header(r, "Location", location);
}

const char *
response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

void
response_set_writer(struct response *r, bool head, response_write_fn write_fn,
    void *ctx)
{
	r->head = head;
	r->write_fn = write_fn;
	r->write_ctx = ctx;
}

void
response_stream_cut(struct response *r)
{
	r->cut = true;
	r->body.len = 0;
}

enum td_status
response_stream_start(struct response *r)
{
	char line[64];
	int n;

	if (r->write_fn == NULL || r->streamed)
		return TD_EINVAL;
	if (!buf_ok(&r->headers))
		return TD_ENOMEM;     /* nothing sent: still an error page */
	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", r->status,
	    response_reason(r->status));
	if (n < 0 || (size_t)n >= sizeof(line))
		return TD_EINVAL;
	r->streamed = true;
	if (r->write_fn(r->write_ctx, line, (size_t)n) != 0 ||
	    (r->headers.len > 0 &&
	    r->write_fn(r->write_ctx, r->headers.data, r->headers.len) != 0) ||
	    r->write_fn(r->write_ctx, "\r\n", 2) != 0) {
		response_stream_cut(r);
		return TD_ESYSTEM;
	}
	return TD_OK;
}

enum td_status
response_stream_body(struct response *r)
{
	if (!r->streamed || r->cut)
		return TD_EINVAL;
	if (!buf_ok(&r->body)) {
		response_stream_cut(r);
		return TD_ENOMEM;
	}
	if (!r->head && r->body.len > 0 &&
	    r->write_fn(r->write_ctx, r->body.data, r->body.len) != 0) {
		response_stream_cut(r);
		return TD_ESYSTEM;
	}
	r->body.len = 0;
	r->body.data[0] = '\0';
	return TD_OK;
}

enum td_status
response_send(struct response *r, bool head, response_write_fn write_fn,
    void *ctx)
{
	char line[128];
	int n;

	/* A cut (here too) is the worker's to handle: it drops the
	 * connection (r->cut). */
	if (r->streamed) {
		if (!r->cut)
			(void)response_stream_body(r);
		return TD_OK;
	}
	if (!buf_ok(&r->headers) || !buf_ok(&r->body))
		return TD_ENOMEM;
	/* A 304 has no body, and a Content-Length would have to be the
	 * 200's (RFC 9110 8.6), which was never rendered. */
	if (r->status == 304)
		n = snprintf(line, sizeof(line), "Status: 304 %s\r\n",
		    response_reason(304));
	else
		n = snprintf(line, sizeof(line), "Status: %d %s\r\nContent-Length: %zu\r\n",
		    r->status, response_reason(r->status), r->body.len);
	if (n < 0 || (size_t)n >= sizeof(line))
		return TD_EINVAL;
	if (write_fn(ctx, line, (size_t)n) != 0 ||
	    (r->headers.len > 0 && write_fn(ctx, r->headers.data, r->headers.len) != 0) ||
	    write_fn(ctx, "\r\n", 2) != 0)
		return TD_ESYSTEM;
	if (!head && r->status != 304 && r->body.len > 0 && write_fn(ctx, r->body.data, r->body.len) != 0)
		return TD_ESYSTEM;
	return TD_OK;
}
