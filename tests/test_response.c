/* test_response.c - the bytes of a FastCGI response, exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

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
	};

	return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
