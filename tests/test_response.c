/* test_response.c - the bytes of a FastCGI response, exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "config.h"
#include "response.h"
#include "tmpl.h"

/* Collects what response_send writes; fails call number fail_at (1-based). */
struct sink {
	char data[200000];
	size_t len;
	int calls;
	int fail_at;
};

static struct sink out;

static int
sink_write(void *ctx, const char *data, size_t n)
{
	struct sink *s = ctx;

	s->calls++;
	if (s->fail_at != 0 && s->calls == s->fail_at)
		return -1;
	if (n > sizeof(s->data) - s->len)
		return -1;
	memcpy(s->data + s->len, data, n);
	s->len += n;
	return 0;
}

static struct arena *arena;

static int
setup(void **state)
{
	(void)state;
	memset(&out, 0, sizeof(out));
	arena = arena_new(64 * 1024);
	return arena == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	arena_free(arena);
	arena = NULL;
	return 0;
}

/* Everything written so far must be exactly want. */
static void
expect(const char *want)
{
	size_t n = strlen(want);

	if (out.len != n || memcmp(out.data, want, n) != 0)
		fail_msg("wrote \"%.*s\"\nwant  \"%s\"", (int)out.len, out.data,
		    want);
}

static void
test_basic(void **state)
{
	struct response r;

	(void)state;
	response_init(&r, arena);
	assert_int_equal(r.status, 200);
	response_header(&r, "Content-Type", "text/html; charset=utf-8");
	response_header(&r, "Cache-Control", "no-store");
	buf_puts(&r.body, "<p>hi</p>");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 200 OK\r\n"
	    "Content-Length: 9\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n"
	    "<p>hi</p>");
}

static void
test_head(void **state)
{
	struct response r;

	(void)state;
	response_init(&r, arena);
	response_header(&r, "Content-Type", "text/plain");
	buf_puts(&r.body, "hello, world");
	assert_int_equal(response_send(&r, true, sink_write, &out), TD_OK);
	/* Same headers and length as the GET would have, no body. */
	expect("Status: 200 OK\r\n"
	    "Content-Length: 12\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n");
}

static void
test_empty(void **state)
{
	struct response r;

	(void)state;
	response_init(&r, arena);
	r.status = 404;
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

static void
test_binary_body(void **state)
{
	struct response r;
	size_t i;

	(void)state;
	response_init(&r, arena);
	/* Length counts bytes, NULs included; nothing stops at them. */
	buf_append(&r.body, "a\0b", 3);
	for (i = 0; i < 1000; i++)
		buf_puts(&r.body, "0123456789");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_int_equal(out.len, strlen("Status: 200 OK\r\nContent-Length: 10003\r\n\r\n") + 10003);
	assert_memory_equal(out.data, "Status: 200 OK\r\nContent-Length: 10003\r\n\r\na\0b0123", 46);
	assert_memory_equal(out.data + out.len - 10, "0123456789", 10);
}

static void
test_injection(void **state)
{
	struct response r;

	(void)state;
	response_init(&r, arena);
	response_header(&r, "X-Ok", "1");
	response_header(&r, "X-Bad\r\nSet-Cookie", "sid=evil");
	response_header(&r, "X-Bad", "v\r\nSet-Cookie: sid=evil");
	response_header(&r, "X-Bad", "v\nSet-Cookie: sid=evil");
	response_header(&r, "X-Bad", "v\rSet-Cookie: sid=evil");
	response_header(&r, "X-Bad\n", "v");
	response_header(&r, "\r", "v");
	response_header(&r, "X-Bad", "\n");
	response_header(&r, "Set-Cookie: sid=evil\r\nX", "v");
	response_header(&r, "X-Colon:", "v");
	response_header(&r, "X-After", "2");
	assert_true(buf_ok(&r.headers));
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 200 OK\r\n"
	    "Content-Length: 0\r\n"
	    "X-Ok: 1\r\n"
	    "X-After: 2\r\n"
	    "\r\n");
	assert_null(strstr(out.data, "evil"));
}

static void
test_redirect(void **state)
{
	struct response r;

	(void)state;
	response_init(&r, arena);
	response_redirect(&r, 303, "/todos?filter=active");
	assert_int_equal(r.status, 303);
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 303 See Other\r\n"
	    "Content-Length: 0\r\n"
	    "Location: /todos?filter=active\r\n"
	    "\r\n");

	memset(&out, 0, sizeof(out));
	response_init(&r, arena);
	response_header(&r, "Set-Cookie", "flash=saved; Path=/");
	response_redirect(&r, 302, "/");
	assert_int_equal(response_send(&r, true, sink_write, &out), TD_OK);
	expect("Status: 302 Found\r\n"
	    "Content-Length: 0\r\n"
	    "Set-Cookie: flash=saved; Path=/\r\n"
	    "Location: /\r\n"
	    "\r\n");

	/* A location that would split the response is dropped. */
	memset(&out, 0, sizeof(out));
	response_init(&r, arena);
	response_redirect(&r, 303, "/x\r\nSet-Cookie: sid=evil");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_null(strstr(out.data, "evil"));
	assert_null(strstr(out.data, "Location"));
}

static void
test_write_failure(void **state)
{
	struct response r;
	int at;

	(void)state;
	/* The status line, headers, blank line and body are the writes;
	 * a failure at any of them is reported. */
	for (at = 1; at <= 4; at++) {
		memset(&out, 0, sizeof(out));
		out.fail_at = at;
		response_init(&r, arena);
		response_header(&r, "X-A", "1");
		buf_puts(&r.body, "body");
		if (response_send(&r, false, sink_write, &out) != TD_ESYSTEM)
			fail_msg("failure of write %d not reported", at);
	}
	/* Without headers or body there are fewer writes, still checked. */
	for (at = 1; at <= 2; at++) {
		memset(&out, 0, sizeof(out));
		out.fail_at = at;
		response_init(&r, arena);
		if (response_send(&r, true, sink_write, &out) != TD_ESYSTEM)
			fail_msg("failure of write %d not reported", at);
	}
	/* HEAD never writes the body, so its failure cannot happen. */
	memset(&out, 0, sizeof(out));
	out.fail_at = 4;
	response_init(&r, arena);
	response_header(&r, "X-A", "1");
	buf_puts(&r.body, "body");
	assert_int_equal(response_send(&r, true, sink_write, &out), TD_OK);
	assert_int_equal(out.calls, 3);
}

static void
test_failed_buffer(void **state)
{
	struct response r;
	char chunk[4096];
	int i;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	response_init(&r, arena);
	/* The 64 KiB arena cannot hold this body. */
	for (i = 0; i < 40; i++)
		buf_append(&r.body, chunk, sizeof(chunk));
	assert_false(buf_ok(&r.body));
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_ENOMEM);
	/* Nothing half-made goes out. */
	assert_int_equal(out.len, 0);
}

/* How often "name:" starts a line of the written headers. */
static int
count_header(const char *name)
{
	size_t n = strlen(name), i;
	int k = 0;

	for (i = 0; i + n <= out.len; i++)
		if ((i == 0 || out.data[i - 1] == '\n') &&
		    strncmp(out.data + i, name, n) == 0)
			k++;
	return k;
}

/* Issue 11: an error page drops the headers of the answer it replaces,
 * keeps HSTS, cookies and Retry-After. */
static void
test_clear_headers(void **state)
{
	struct response r;

	(void)state;
	response_init(&r, arena);
	response_header(&r, "Strict-Transport-Security", "max-age=63072000");
	response_header(&r, "Content-Type", "text/csv");
	response_header(&r, "set-cookie", "flash=; Max-Age=0");
	response_header(&r, "Content-Disposition", "attachment; filename=\"t.csv\"");
	response_header(&r, "Retry-After", "5");
	response_header(&r, "Cache-Control", "no-store");
	response_header(&r, "Set-Cookies-Not", "x");
	response_clear_headers(&r);
	response_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 200 OK\r\n"
	    "Content-Length: 0\r\n"
	    "Strict-Transport-Security: max-age=63072000\r\n"
	    "set-cookie: flash=; Max-Age=0\r\n"
	    "Retry-After: 5\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "\r\n");
	/* Nothing set, nothing kept, or a failed buffer: empty, usable. */
	response_init(&r, arena);
	response_clear_headers(&r);
	assert_int_equal(r.headers.len, 0);
	response_header(&r, "X-A", "1");
	response_clear_headers(&r);
	assert_int_equal(r.headers.len, 0);
	r.headers.failed = true;
	response_clear_headers(&r);
	assert_true(buf_ok(&r.headers));
	assert_int_equal(r.headers.len, 0);
}

/* app_error() over a page begun (app_render's headers, a body): each
 * header once, the half page gone; app_fail(TD_ENOMEM), running out of
 * the request's memory, is a 500 (ours), the parser's 413 stays a 413. */
static void
test_error_page_replaces(void **state)
{
	static struct config cfg;
	struct tmpl_set *set = tmpl_set_new();
	struct app app = { .cfg = &cfg, .tmpl = set, .db = NULL };
	struct ctx c = { 0 };
	struct response r;
	char err[128];
	const char *page = "<p>{{status}} {{reason}}: {{message}}</p>";

	(void)state;
	assert_non_null(set);
	assert_int_equal(tmpl_add(set, "error", page, strlen(page), err,
	    sizeof(err)), TD_OK);
	cfg.arena_cap = 64 * 1024;
	response_init(&r, arena);
	response_header(&r, "Strict-Transport-Security", "max-age=1");
	response_header(&r, "Content-Type", "text/html; charset=utf-8");
	response_header(&r, "Cache-Control", "no-store");
	buf_puts(&r.body, "<p>half a page");
	c.app = &app;
	c.arena = arena;
	c.resp = &r;
	app_fail(&c, TD_ENOMEM);
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_int_equal(count_header("Content-Type:"), 1);
	assert_int_equal(count_header("Cache-Control:"), 1);
	assert_int_equal(count_header("Strict-Transport-Security:"), 1);
	assert_true(strncmp(out.data, "Status: 500 ", 12) == 0);
	assert_null(strstr(out.data, "half a page"));
	assert_non_null(strstr(out.data, "<p>500 Internal Server Error: "));

	memset(&out, 0, sizeof(out));
	response_init(&r, arena);
	app_error(&app, arena, &r, 413, "too large");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_true(strncmp(out.data, "Status: 413 ", 12) == 0);
	assert_int_equal(count_header("Content-Type:"), 1);

	/* The body ran out of memory: the error page still goes out whole. */
	memset(&out, 0, sizeof(out));
	response_init(&r, arena);
	response_header(&r, "Content-Type", "text/csv");
	r.body.failed = true;
	app_fail(&c, TD_ENOMEM);
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_true(strncmp(out.data, "Status: 500 ", 12) == 0);
	assert_int_equal(count_header("Content-Type:"), 1);
	assert_null(strstr(out.data, "text/csv"));
	tmpl_set_free(set);
}

static void
test_reasons(void **state)
{
	static const struct {
		int status;
		const char *reason;
	} want[] = {
		{ 200, "OK" }, { 302, "Found" }, { 303, "See Other" },
		{ 304, "Not Modified" }, { 400, "Bad Request" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Content" },
		{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
	};
	struct response r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(response_reason(want[i].status),
		    want[i].reason);
	assert_non_null(response_reason(299));
	assert_non_null(response_reason(-1));

	response_init(&r, arena);
	r.status = 405;
	response_header(&r, "Allow", "GET, HEAD");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 405 Method Not Allowed\r\n"
	    "Content-Length: 0\r\n"
	    "Allow: GET, HEAD\r\n"
	    "\r\n");
	/* A code without a reason of its own still makes a whole line. */
	memset(&out, 0, sizeof(out));
	response_init(&r, arena);
	r.status = 299;
	buf_puts(&r.body, "0123456789");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 299 Unknown\r\nContent-Length: 10\r\n\r\n0123456789");
}

/* ---- the FastCGI records (response_wire_*) ----
 * Over a SOCK_SEQPACKET pair each writev(2) arrives as one message, so
 * the tests see how many writes an answer took and what each held. */

static int wire_fds[2] = { -1, -1 };
static struct arena *big;

static int
wire_setup(void **state)
{
	(void)state;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, wire_fds) != 0)
		return -1;
	big = arena_new(1024 * 1024);
	return big == NULL ? -1 : 0;
}

static int
wire_teardown(void **state)
{
	(void)state;
	if (wire_fds[0] >= 0)
		close(wire_fds[0]);
	if (wire_fds[1] >= 0)
		close(wire_fds[1]);
	wire_fds[0] = wire_fds[1] = -1;
	arena_free(big);
	big = NULL;
	return 0;
}

static unsigned char msg[400000];

/* The next write's bytes; 0 when none is waiting. */
static size_t
next_message(void)
{
	ssize_t n = recv(wire_fds[1], msg, sizeof(msg), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	assert_true(n > 0);
	return (size_t)n;
}

#define WIRE_ID	0x0102	/* both bytes of the id matter */

/* msg[0..len) must be FCGI_STDOUT records (id WIRE_ID, no padding, each
 * full but the last) holding want[0..n), then with end the end of the
 * request: an empty FCGI_STDOUT and FCGI_END_REQUEST complete, status 0.
 * Returns the number of non-empty records. */
static int
expect_records(size_t len, const char *want, size_t n, bool end)
{
	static const unsigned char fin[] = {
		1, FCGI_STDOUT, 0x01, 0x02, 0, 0, 0, 0,
		1, FCGI_END_REQUEST, 0x01, 0x02, 0, 8, 0, 0,
		0, 0, 0, 0, FCGI_REQUEST_COMPLETE, 0, 0, 0,
	};
	size_t at = 0, got = 0, clen;
	int records = 0;

	while (got < n) {
		assert_true(len - at >= FCGI_HEADER_LEN);
		assert_int_equal(msg[at], FCGI_VERSION_1);
		assert_int_equal(msg[at + 1], FCGI_STDOUT);
		assert_int_equal(msg[at + 2], 0x01);
		assert_int_equal(msg[at + 3], 0x02);
		clen = (size_t)msg[at + 4] << 8 | msg[at + 5];
		assert_int_equal(msg[at + 6], 0);
		assert_true(clen > 0 && clen <= n - got);
		if (got + clen < n)
			assert_int_equal(clen, FCGI_MAX_LENGTH);
		at += FCGI_HEADER_LEN;
		assert_true(len - at >= clen);
		assert_memory_equal(msg + at, want + got, clen);
		at += clen;
		got += clen;
		records++;
	}
	if (end) {
		assert_int_equal(len - at, sizeof(fin));
		assert_memory_equal(msg + at, fin, sizeof(fin));
	} else {
		assert_int_equal(len, at);
	}
	return records;
}

/* What response_send writes, through the plain sink, for comparison. */
static const char *
plain(struct response *r, bool head, size_t *n)
{
	memset(&out, 0, sizeof(out));
	assert_int_equal(response_send(r, head, sink_write, &out), TD_OK);
	*n = out.len;
	return out.data;
}

/* r through the wire: nothing leaves before the end, then one write of
 * `records` FastCGI records with the request's end. */
static void
assert_one_write(struct response *r, bool head, int records)
{
	struct response_wire w;
	const char *want;
	size_t n;

	want = plain(r, head, &n);
	response_wire_init(&w, r, wire_fds[0], WIRE_ID);
	assert_int_equal(response_send(r, head, response_wire_write, &w), TD_OK);
	/* Held, not sent: the answer goes with the end of the request. */
	assert_int_equal(next_message(), 0);
	assert_int_equal(response_wire_end(&w), 0);
	assert_int_equal(expect_records(next_message(), want, n, true), records);
	assert_int_equal(next_message(), 0);
	assert_false(w.failed);
}

static void
test_wire_page_one_write(void **state)
{
	struct response r;
	size_t i;

	(void)state;
	response_init(&r, big);
	response_header(&r, "Content-Type", "text/html; charset=utf-8");
	for (i = 0; i < 2700; i++)
		buf_puts(&r.body, "<p>page</p");
	assert_one_write(&r, false, 1);
}

static void
test_wire_small_answers(void **state)
{
	struct response r;
	int kind;

	(void)state;
	/* A 303, a 304, a HEAD, an error page: one write each. */
	for (kind = 0; kind < 4; kind++) {
		response_init(&r, big);
		switch (kind) {
		case 0: response_redirect(&r, 303, "/todos"); break;
		case 1: response_not_modified(&r, "\"abc\""); break;
		case 2: buf_puts(&r.body, "a body HEAD leaves out"); break;
		case 3:
			r.status = 404;
			response_header(&r, "Content-Type", "text/html");
			buf_puts(&r.body, "<h1>404</h1>");
			break;
		}
		assert_one_write(&r, kind == 2, 1);
	}
}

static void
test_wire_big_body(void **state)
{
	struct response r;
	size_t i;

	(void)state;
	/* Three records of at most 65535 bytes, still one write. */
	response_init(&r, big);
	for (i = 0; i < 15000; i++)
		buf_puts(&r.body, "0123456789");
	assert_one_write(&r, false, 3);
}

static void
test_wire_streamed(void **state)
{
	struct response r;
	struct response_wire w;
	char want[20000];
	size_t i, hn, n;

	(void)state;
	response_init(&r, big);
	response_wire_init(&w, &r, wire_fds[0], WIRE_ID);
	response_set_writer(&r, false, response_wire_write, &w);
	response_header(&r, "Content-Type", "text/csv");
	assert_int_equal(response_stream_start(&r), TD_OK);
	/* The head is held until the first chunk. */
	assert_int_equal(next_message(), 0);
	hn = (size_t)snprintf(want, sizeof(want),
	    "Status: 200 OK\r\nContent-Type: text/csv\r\n\r\n");
	for (i = 0; i < 1000; i++)
		buf_puts(&r.body, "row,1,two\n");
	memcpy(want + hn, r.body.data, r.body.len);
	n = hn + r.body.len;
	/* A chunk goes at once (its buffer is reused), without the end. */
	assert_int_equal(response_stream_body(&r), TD_OK);
	assert_int_equal(expect_records(next_message(), want, n, false), 1);
	assert_int_equal(next_message(), 0);
	/* The last one goes with the end of the request. */
	buf_puts(&r.body, "last\n");
	assert_int_equal(response_send(&r, false, response_wire_write, &w), TD_OK);
	assert_int_equal(next_message(), 0);
	assert_int_equal(response_wire_end(&w), 0);
	assert_int_equal(expect_records(next_message(), "last\n", 5, true), 1);
	assert_int_equal(next_message(), 0);
}

static void
test_wire_cut(void **state)
{
	static const unsigned char bad[FCGI_HEADER_LEN] = { 0 };
	struct response r;
	struct response_wire w;

	(void)state;
	response_init(&r, big);
	response_wire_init(&w, &r, wire_fds[0], WIRE_ID);
	response_set_writer(&r, false, response_wire_write, &w);
	assert_int_equal(response_stream_start(&r), TD_OK);
	buf_puts(&r.body, "held, never sent");
	response_stream_cut(&r);
	assert_int_equal(response_send(&r, false, response_wire_write, &w), TD_OK);
	/* A version-0 record, and neither the held head nor an end. */
	assert_int_equal(response_wire_cut(&w), 0);
	assert_int_equal(next_message(), sizeof(bad));
	assert_memory_equal(msg, bad, sizeof(bad));
	assert_int_equal(next_message(), 0);
}

static void
test_wire_failure(void **state)
{
	struct response r;
	struct response_wire w;
	size_t i;

	(void)state;
	/* nginx gone: the end's write fails and says why. */
	close(wire_fds[1]);
	wire_fds[1] = -1;
	response_init(&r, big);
	for (i = 0; i < 1000; i++)
		buf_puts(&r.body, "0123456789");
	response_wire_init(&w, &r, wire_fds[0], WIRE_ID);
	assert_int_equal(response_send(&r, false, response_wire_write, &w), TD_OK);
	assert_int_equal(response_wire_end(&w), -1);
	assert_true(w.failed);
	assert_int_equal(w.err, EPIPE);
	/* Nothing more is tried. */
	assert_int_equal(response_wire_write(&w, "x", 1), -1);
	assert_int_equal(response_wire_end(&w), -1);
}

/* The records a request's start sends (FCGX_Accept_r reads them): an
 * FCGI_BEGIN_REQUEST (responder, flags), no parameters, no body. */
static void
send_request_start(int fd, bool keep)
{
	const unsigned char rec[] = {
		1, FCGI_BEGIN_REQUEST, 0x01, 0x02, 0, 8, 0, 0,
		0, FCGI_RESPONDER, keep ? FCGI_KEEP_CONN : 0, 0, 0, 0, 0, 0,
		1, FCGI_PARAMS, 0x01, 0x02, 0, 0, 0, 0,
		1, FCGI_STDIN, 0x01, 0x02, 0, 0, 0, 0,
	};

	assert_int_equal(write(fd, rec, sizeof(rec)), (ssize_t)sizeof(rec));
}

/* All the peer reads until the connection's end, into msg. */
static size_t
read_to_eof(int fd)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, msg + len, sizeof(msg) - len)) > 0)
		len += (size_t)n;
	assert_int_equal(n, 0);
	return len;
}

static void
test_wire_libfcgi_ends_nothing(void **state)
{
	struct response r;
	struct response_wire w;
	FCGX_Request fr;
	const char *want;
	size_t i, n;
	int fds[2];

	(void)state;
	assert_int_equal(FCGX_Init(), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	send_request_start(fds[1], false);
	/* As the worker: the connection is its own, libfcgi reads it. */
	assert_int_equal(FCGX_InitRequest(&fr, -1, 0), 0);
	fr.ipcFd = fds[0];
	fr.keepConnection = 1;
	assert_int_equal(FCGX_Accept_r(&fr), 0);
	assert_int_equal(fr.requestId, WIRE_ID);
	response_init(&r, big);
	for (i = 0; i < 3000; i++)
		buf_puts(&r.body, "<p>page</p");
	want = plain(&r, false, &n);
	response_wire_init(&w, &r, fr.ipcFd, fr.requestId);
	assert_int_equal(response_send(&r, false, response_wire_write, &w), TD_OK);
	assert_int_equal(response_wire_end(&w), 0);
	response_wire_done(&w, &fr);
	/* libfcgi's end of the request writes nothing more: the peer reads
	 * the records and one end, then the close (not kept: no
	 * FCGI_KEEP_CONN; detached: a plain close). */
	FCGX_Detach(&fr);
	FCGX_Finish_r(&fr);
	assert_int_equal(fr.ipcFd, -1);
	expect_records(read_to_eof(fds[1]), want, n, true);
	close(fds[1]);
}

static void
test_wire_kept_connection(void **state)
{
	struct response r;
	struct response_wire w;
	FCGX_Request fr;
	const char *want;
	size_t n;
	int fds[2], round;

	(void)state;
	/* nginx asks to keep the connection (FCGI_KEEP_CONN): kept after a
	 * whole answer; closed after a failed write. */
	assert_int_equal(FCGX_Init(), 0);
	for (round = 0; round < 2; round++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
		send_request_start(fds[1], true);
		assert_int_equal(FCGX_InitRequest(&fr, -1, 0), 0);
		fr.ipcFd = fds[0];
		fr.keepConnection = 1;
		assert_int_equal(FCGX_Accept_r(&fr), 0);
		response_init(&r, big);
		response_redirect(&r, 303, "/todos");
		want = plain(&r, false, &n);
		response_wire_init(&w, &r, fr.ipcFd, fr.requestId);
		assert_int_equal(response_send(&r, false, response_wire_write, &w), TD_OK);
		if (round == 1) {
			shutdown(fds[1], SHUT_RD);   /* the peer reads no more */
			close(fds[1]);
			assert_int_equal(response_wire_end(&w), -1);
		} else {
			assert_int_equal(response_wire_end(&w), 0);
		}
		response_wire_done(&w, &fr);
		FCGX_Finish_r(&fr);
		if (round == 0) {
			assert_int_equal(fr.ipcFd, fds[0]);
			/* One answer and its end, nothing after. */
			shutdown(fds[0], SHUT_WR);
			expect_records(read_to_eof(fds[1]), want, n, true);
			close(fds[0]);
			close(fds[1]);
		} else {
			assert_int_equal(fr.ipcFd, -1);
		}
		FCGX_Free(&fr, 0);
	}
}

static void
test_unbuffered(void **state)
{
	struct response r;
	size_t i;

	(void)state;
	memset(&out, 0, sizeof(out));
	/* A small answer asks nginx not to buffer it. */
	response_init(&r, big);
	r.unbuffered = true;
	response_header(&r, "Content-Type", "text/html");
	buf_puts(&r.body, "<p>hi</p>");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 200 OK\r\n"
	    "Content-Length: 9\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "Content-Type: text/html\r\n"
	    "\r\n"
	    "<p>hi</p>");
	memset(&out, 0, sizeof(out));
	response_init(&r, big);
	r.unbuffered = true;
	response_not_modified(&r, "\"t\"");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 304 Not Modified\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "ETag: \"t\"\r\n"
	    "Cache-Control: private, no-cache\r\n"
	    "\r\n");
	/* One that might not fit in the socket's buffer stays buffered, but
	 * not its HEAD (no body goes out). */
	response_init(&r, big);
	r.unbuffered = true;
	for (i = 0; i < RESPONSE_UNBUFFERED_MAX / 10; i++)
		buf_puts(&r.body, "0123456789");
	memset(&out, 0, sizeof(out));
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_null(strstr(out.data, "X-Accel-Buffering"));
	memset(&out, 0, sizeof(out));
	assert_int_equal(response_send(&r, true, sink_write, &out), TD_OK);
	assert_non_null(strstr(out.data, "X-Accel-Buffering: no\r\n"));
	/* Nor when the worker did not allow it (a body left unread). */
	response_init(&r, big);
	memset(&out, 0, sizeof(out));
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	assert_null(strstr(out.data, "X-Accel-Buffering"));
	/* Nor a streamed answer (an export). */
	response_init(&r, big);
	r.unbuffered = true;
	memset(&out, 0, sizeof(out));
	response_set_writer(&r, false, sink_write, &out);
	assert_int_equal(response_stream_start(&r), TD_OK);
	buf_puts(&r.body, "a,b\n");
	assert_int_equal(response_send(&r, false, sink_write, &out), TD_OK);
	expect("Status: 200 OK\r\n\r\na,b\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_page_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wire_page_one_write, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_small_answers, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_big_body, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_streamed, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_cut, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_failure, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_libfcgi_ends_nothing, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_wire_kept_connection, wire_setup, wire_teardown),
		cmocka_unit_test_setup_teardown(test_unbuffered, wire_setup, wire_teardown),
	};

	/* A write to a closed socket fails with EPIPE, as in the worker. */
	signal(SIGPIPE, SIG_IGN);

	return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
