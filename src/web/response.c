/* response.c - see response.h. */
#include "response.h"

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

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
	r->head = r->streamed = r->cut = r->unbuffered = false;
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

/* v in decimal at p; returns the end. */
static char *
put_dec(char *p, unsigned long long v)
{
	char d[20];
	size_t n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = d[--n];
	return p;
}

static char *
put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit)	put_str((p), (lit), sizeof(lit) - 1)

enum td_status
response_send(struct response *r, bool head, response_write_fn write_fn,
    void *ctx)
{
	/* Every part bounded: 8 + 11 + 1 + 22 + 2 + 16 + 20 + 2 + 23. */
	char line[128], *p = line;
	const char *reason;

	/* A cut (here too) is the worker's to handle: it drops the
	 * connection (r->cut). */
	if (r->streamed) {
		if (!r->cut)
			(void)response_stream_body(r);
		return TD_OK;
	}
	if (!buf_ok(&r->headers) || !buf_ok(&r->body))
		return TD_ENOMEM;
	/* By hand, not snprintf: a few dozen instructions, not a thousand. */
	reason = response_reason(r->status);
	p = PUT_LIT(p, "Status: ");
	if (r->status < 0)
		*p++ = '-';
	p = put_dec(p, r->status < 0 ? 0ULL - (unsigned long long)r->status :
	    (unsigned long long)r->status);
	*p++ = ' ';
	p = put_str(p, reason, strlen(reason));
	p = PUT_LIT(p, "\r\n");
	/* A 304 has no body, and a Content-Length would have to be the
	 * 200's (RFC 9110 8.6), which was never rendered. */
	if (r->status != 304) {
		p = PUT_LIT(p, "Content-Length: ");
		p = put_dec(p, r->body.len);
		p = PUT_LIT(p, "\r\n");
	}
	if (r->unbuffered && r->headers.len + (head || r->status == 304 ? 0 :
	    r->body.len) <= RESPONSE_UNBUFFERED_MAX - sizeof(line))
		p = PUT_LIT(p, "X-Accel-Buffering: no\r\n");
	if (write_fn(ctx, line, (size_t)(p - line)) != 0 ||
	    (r->headers.len > 0 && write_fn(ctx, r->headers.data, r->headers.len) != 0) ||
	    write_fn(ctx, "\r\n", 2) != 0)
		return TD_ESYSTEM;
	if (!head && r->status != 304 && r->body.len > 0 && write_fn(ctx, r->body.data, r->body.len) != 0)
		return TD_ESYSTEM;
	return TD_OK;
}

/* ---- the FastCGI records ---- */

/* Records of a writev: 8 x 64 KB, so a body the arena holds (not
 * streamed) leaves in one writev, and iov[] stays on the stack. */
#define WIRE_RECORDS	8

void
response_wire_init(struct response_wire *w, const struct response *r, int fd,
    int request_id)
{
	w->fd = fd;
	w->request_id = request_id;
	w->r = r;
	w->held = NULL;
	w->held_len = 0;
	w->failed = false;
	w->err = 0;
	w->n = 0;
}

static void
record_header(unsigned char *h, int type, int id, size_t len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;                  /* no padding */
	h[7] = 0;
}

static int
writev_all(struct response_wire *w, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt > 0) {
		if ((n = writev(w->fd, iov, cnt)) < 0) {
			if (errno == EINTR)
				continue;
			w->failed = true;
			w->err = errno;
			return -1;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* a then b as FCGI_STDOUT records of up to 65535 bytes; end: the end of
 * the request after them, in the last writev. */
static int
wire_send(struct response_wire *w, const char *a, size_t an, const char *b,
    size_t bn, bool end)
{
	unsigned char hdr[WIRE_RECORDS][FCGI_HEADER_LEN];
	/* An empty FCGI_STDOUT (end of the stream), FCGI_END_REQUEST with
	 * application status 0 and FCGI_REQUEST_COMPLETE. */
	unsigned char fin[FCGI_HEADER_LEN + sizeof(FCGI_EndRequestRecord)] = { 0 };
	struct iovec iov[WIRE_RECORDS * 3 + 1];
	size_t take, h, t;
	int cnt, k;

	if (w->failed)
		return -1;
	do {
		for (cnt = 0, k = 0; k < WIRE_RECORDS && an + bn > 0; k++) {
			take = an + bn > FCGI_MAX_LENGTH ? FCGI_MAX_LENGTH : an + bn;
			h = an < take ? an : take;
			t = take - h;
			record_header(hdr[k], FCGI_STDOUT, w->request_id, take);
			iov[cnt++] = (struct iovec){ hdr[k], FCGI_HEADER_LEN };
			if (h > 0) {
				iov[cnt++] = (struct iovec){ (void *)(uintptr_t)a, h };
				a += h;
				an -= h;
			}
			if (t > 0) {
				iov[cnt++] = (struct iovec){ (void *)(uintptr_t)b, t };
				b += t;
				bn -= t;
			}
		}
		if (end && an + bn == 0) {
			record_header(fin, FCGI_STDOUT, w->request_id, 0);
			record_header(fin + FCGI_HEADER_LEN, FCGI_END_REQUEST,
			    w->request_id, sizeof(FCGI_EndRequestBody));
			fin[FCGI_HEADER_LEN * 2 + 4] = FCGI_REQUEST_COMPLETE;
			iov[cnt++] = (struct iovec){ fin, sizeof(fin) };
		}
		if (cnt > 0 && writev_all(w, iov, cnt) != 0)
			return -1;
	} while (an + bn > 0);
	return 0;
}

int
response_wire_write(void *ctx, const char *data, size_t n)
{
	struct response_wire *w = ctx;
	int rc;

	if (w->failed)
		return -1;
	if (w->held != NULL) {
		rc = wire_send(w, w->head, w->n, w->held, w->held_len, false);
		w->n = 0;
		w->held = NULL;
		w->held_len = 0;
		if (rc != 0)
			return -1;
	}
	if (n <= sizeof(w->head) - w->n) {
		memcpy(w->head + w->n, data, n);
		w->n += n;
		return 0;
	}
	/* Not streamed: the piece is the headers or the body, which stay in
	 * the arena to the end (response_send's status line always fits). */
	if (w->r != NULL && !w->r->streamed) {
		w->held = data;
		w->held_len = n;
		return 0;
	}
	rc = wire_send(w, w->head, w->n, data, n, false);
	w->n = 0;
	return rc;
}

int
response_wire_end(struct response_wire *w)
{
	int rc = wire_send(w, w->head, w->n, w->held, w->held_len, true);

	w->n = 0;
	w->held = NULL;
	w->held_len = 0;
	return rc;
}

int
response_wire_cut(struct response_wire *w)
{
	unsigned char bad[FCGI_HEADER_LEN] = { 0 };
	struct iovec iov = { bad, sizeof(bad) };

	w->n = 0;
	w->held = NULL;
	w->held_len = 0;
	if (w->failed)
		return -1;
	return writev_all(w, &iov, 1);
}

/* libfcgi 2.4.2 (fcgiapp.c): FCGX_Finish_r closes err, then out, with
 * FCGX_FClose, which for a stream already closed (wasFCloseCalled) writes
 * nothing and returns EOF if the stream has an error; EOF from either
 * closes the connection. These are FCGX_Stream's public fields. */
void
response_wire_done(const struct response_wire *w, struct FCGX_Request *fr)
{
	FCGX_Stream *s[2] = { fr->out, fr->err };
	int i;

	for (i = 0; i < 2; i++) {
		if (s[i] == NULL)
			continue;
		s[i]->wasFCloseCalled = 1;
		s[i]->isClosed = 1;
		s[i]->rdNext = s[i]->stop = s[i]->wrNext;
	}
	if (w->failed && fr->out != NULL && fr->out->FCGI_errno == 0)
		fr->out->FCGI_errno = w->err != 0 ? w->err : EIO;
}
