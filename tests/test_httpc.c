/* test_httpc.c - the HTTP test client against a canned-answer server
 * running in a child process on loopback. */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "httpc.h"

#define HOST	"127.0.0.1"

static int srv_port;
static pid_t srv_pid = -1;

static const char form_html[] =
    "<html><body><form method=post action=/todos>\n"
    "<input name=\"csrfx\" value=\"decoy\">\n"
    "<inputs name=\"csrf\" value=\"not-an-input\">\n"
    "<INPUT type=\"hidden\" name=\"csrf\"\n"
    "  value=\"a&amp;b&quot;c&#39;d&lt;e&gt;f&amp;amp;\">\n"
    "<input value='v2' name='other'/>\n"
    "<input type=hidden name=bare value=plain>\n"
    "<input name=\"empty\">\n"
    "</form></body></html>\n";

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
reply(int fd, const char *s)
{
	(void)write_all(fd, s, strlen(s));
}

/* Answer one connection according to the request path. */
static void
serve(int fd)
{
	static char req[1 << 20];
	char resp[(1 << 20) + 256], *hend, *cl;
	size_t len = 0, want;
	ssize_t n;
	int hlen;

	for (;;) {
		if (len + 1 >= sizeof(req))
			return;
		if ((n = read(fd, req + len, sizeof(req) - 1 - len)) <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if ((hend = strstr(req, "\r\n\r\n")) != NULL)
			break;
	}
	want = (size_t)(hend + 4 - req);
	if ((cl = strcasestr(req, "\r\nContent-Length:")) != NULL && cl < hend)
		want += strtoul(cl + 17, NULL, 10);
	if (strncmp(req, "POST /early ", 12) == 0) {
		/* Answer before reading an oversized body, like nginx. */
		reply(fd, "HTTP/1.1 413 Payload Too Large\r\n"
		    "Content-Length: 3\r\nConnection: close\r\n\r\nbig");
		return;
	}
	while (len < want && len + 1 < sizeof(req)) {
		if ((n = read(fd, req + len, sizeof(req) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}

	if (strncmp(req, "GET /cl ", 8) == 0)
		reply(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "X-Mixed-Case:   Yes  \r\nContent-Length: 11\r\n\r\n"
		    "hello world");
	else if (strncmp(req, "GET /chunked ", 13) == 0)
		reply(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n5\r\nhello\r\n1;ext=\"x\"\r\n \r\n00005\r\nworld\r\n"
		    "0\r\nX-Trailer: t\r\n\r\n");
	else if (strncmp(req, "GET /eof ", 9) == 0)
		(void)write_all(fd, "HTTP/1.0 200 OK\r\n\r\nuntil\0close", 30);
	else if (strncmp(req, "GET /cookies ", 13) == 0)
		reply(fd, "HTTP/1.1 303 See Other\r\nLocation: /\r\n"
		    "Set-Cookie: a=1; HttpOnly\r\nset-cookie: b=2\r\n"
		    "SET-COOKIE:c=3\r\nX-Set-Cookie: no\r\n"
		    "Content-Length: 0\r\n\r\n");
	else if (strncmp(req, "GET /session ", 13) == 0)
		reply(fd, "HTTP/1.1 303 See Other\r\nLocation: /todos\r\n"
		    "Set-Cookie: presession=; Max-Age=0; Path=/; HttpOnly\r\n"
		    "Set-Cookie: session=abc_-DEF ; Max-Age=2592000; Path=/; "
		    "HttpOnly;SameSite=Lax\r\n"
		    "Set-Cookie: __Host-session=x; Path=/; Secure\r\n"
		    "Set-Cookie: sessionx=no\r\nSet-Cookie: flash=1\r\n"
		    "X-Set-Cookie: flash=3\r\nset-cookie: flash=2; Max-Age = 5 \r\n"
		    "Content-Length: 0\r\n\r\n");
	else if (strncmp(req, "GET /form ", 10) == 0) {
		hlen = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/html\r\nContent-Length: %zu\r\n\r\n%s",
		    strlen(form_html), form_html);
		(void)write_all(fd, resp, (size_t)hlen);
	} else if (strncmp(req, "POST /echo ", 11) == 0 ||
	    strncmp(req, "GET /echo ", 10) == 0) {
		hlen = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %zu\r\n\r\n", len);
		memcpy(resp + hlen, req, len);
		(void)write_all(fd, resp, (size_t)hlen + len);
	} else if (strncmp(req, "GET /short ", 11) == 0)
		reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
	else if (strncmp(req, "GET /long ", 10) == 0)
		reply(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nlonger");
	else if (strncmp(req, "GET /badchunk ", 14) == 0)
		reply(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "\r\nzz\r\nhello\r\n0\r\n\r\n");
	else if (strncmp(req, "GET /cutchunk ", 14) == 0)
		reply(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "\r\n5\r\nhello\r\n");
	else if (strncmp(req, "GET /continue ", 14) == 0)
		reply(fd, "HTTP/1.1 100 Continue\r\n\r\n"
		    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
	else if (strncmp(req, "GET /garbage ", 13) == 0)
		reply(fd, "NOT HTTP AT ALL\r\n\r\n");
	else if (strncmp(req, "GET /hang ", 10) == 0) {
		/* Say nothing until the client gives up (or 5 s pass). */
		while (read(fd, req, sizeof(req)) > 0)
			;
	}
	else
		reply(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

/* Close the way nginx does: stop writing, drain what the client still
 * sends, so it sees our answer rather than a reset. */
static void
linger_close(int fd)
{
	char buf[65536];

	if (shutdown(fd, SHUT_WR) == 0)
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	close(fd);
}

static int
group_setup(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct timeval tv = { 5, 0 };
	int lfd, fd;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	srv_port = ntohs(sin.sin_port);
	if ((srv_pid = fork()) == -1)
		return -1;
	if (srv_pid == 0) {
		for (;;) {
			if ((fd = accept(lfd, NULL, NULL)) == -1) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			/* One stuck client must not stall the whole run. */
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			serve(fd);
			linger_close(fd);
		}
	}
	close(lfd);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
	}
	return 0;
}

static void
test_content_length(void **state)
{
	struct http_resp r;
	char buf[64], tiny[3];

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/cl", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 11);
	assert_string_equal(r.body, "hello world");
	assert_string_equal(http_header(&r, "content-type", buf, sizeof(buf)),
	    "text/plain");
	assert_string_equal(http_header(&r, "CONTENT-LENGTH", buf,
	    sizeof(buf)), "11");
	/* Values are trimmed both sides. */
	assert_string_equal(http_header(&r, "x-mixed-case", buf, sizeof(buf)),
	    "Yes");
	assert_null(http_header(&r, "x-mixed", buf, sizeof(buf)));
	assert_null(http_header(&r, "Content-Type", tiny, sizeof(tiny)));
	assert_int_equal(http_header_count(&r, "Content-Type"), 1);
	http_resp_free(&r);
	assert_null(r.body);
	assert_null(r.headers);
}

static void
test_chunked(void **state)
{
	struct http_resp r;
	char buf[64];

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/chunked", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 11);
	assert_string_equal(r.body, "hello world");
	assert_string_equal(http_header(&r, "transfer-encoding", buf,
	    sizeof(buf)), "chunked");
	http_resp_free(&r);
}

static void
test_until_eof(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/eof", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.headers, "");
	/* Binary-safe: the NUL is part of the body. */
	assert_int_equal(r.body_len, 11);
	assert_memory_equal(r.body, "until\0close", 11);
	http_resp_free(&r);
}

static void
test_set_cookies(void **state)
{
	struct http_resp r;
	char buf[64];

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/cookies", NULL, &r), 0);
	assert_int_equal(r.status, 303);
	assert_int_equal(r.body_len, 0);
	assert_string_equal(r.body, "");
	assert_int_equal(http_header_count(&r, "Set-Cookie"), 3);
	assert_int_equal(http_header_count(&r, "Cookie"), 0);
	assert_string_equal(http_header(&r, "set-cookie", buf, sizeof(buf)),
	    "a=1; HttpOnly");
	assert_string_equal(http_header(&r, "Location", buf, sizeof(buf)),
	    "/");
	http_resp_free(&r);
}

static void
test_cookies_by_name(void **state)
{
	struct http_resp r;
	char buf[128], line[128], tiny[4];

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/session", NULL, &r), 0);
	assert_int_equal(r.status, 303);
	assert_string_equal(http_cookie_value(&r, "session", buf, sizeof(buf)),
	    "abc_-DEF");
	assert_string_equal(http_set_cookie(&r, "session", line, sizeof(line)),
	    "session=abc_-DEF ; Max-Age=2592000; Path=/; HttpOnly;SameSite=Lax");
	/* A deletion sets the value "". */
	assert_string_equal(http_cookie_value(&r, "presession", buf,
	    sizeof(buf)), "");
	assert_string_equal(http_cookie_value(&r, "__Host-session", buf,
	    sizeof(buf)), "x");
	assert_string_equal(http_cookie_value(&r, "sessionx", buf,
	    sizeof(buf)), "no");
	/* Names match whole; the last line wins; only Set-Cookie counts. */
	assert_null(http_set_cookie(&r, "sess", buf, sizeof(buf)));
	assert_null(http_set_cookie(&r, "Session", buf, sizeof(buf)));
	assert_null(http_set_cookie(&r, "Location", buf, sizeof(buf)));
	assert_string_equal(http_cookie_value(&r, "flash", buf, sizeof(buf)),
	    "2");
	assert_null(http_set_cookie(&r, "session", tiny, sizeof(tiny)));
	assert_null(http_cookie_value(&r, "session", tiny, sizeof(tiny)));
	/* The value needs room, the line does not. */
	assert_string_equal(http_cookie_value(&r, "__Host-session", tiny,
	    sizeof(tiny)), "x");
	assert_string_equal(http_cookie_value(&r, "sessionx", tiny,
	    sizeof(tiny)), "no");

	assert_string_equal(http_cookie_attr(line, "max-age", buf,
	    sizeof(buf)), "2592000");
	assert_string_equal(http_cookie_attr(line, "Path", buf, sizeof(buf)),
	    "/");
	assert_string_equal(http_cookie_attr(line, "httponly", buf,
	    sizeof(buf)), "");
	assert_string_equal(http_cookie_attr(line, "SameSite", buf,
	    sizeof(buf)), "Lax");
	assert_null(http_cookie_attr(line, "Secure", buf, sizeof(buf)));
	assert_null(http_cookie_attr(line, "Max", buf, sizeof(buf)));
	assert_null(http_cookie_attr(line, "session", buf, sizeof(buf)));
	assert_null(http_cookie_attr(line, "Max-Age", tiny, sizeof(tiny)));
	assert_string_equal(http_cookie_attr("flash=2; Max-Age = 5 ",
	    "Max-Age", buf, sizeof(buf)), "5");
	assert_string_equal(http_cookie_attr("a=1; Secure", "secure", buf,
	    sizeof(buf)), "");
	assert_null(http_cookie_attr("a=1", "a", buf, sizeof(buf)));
	assert_null(http_cookie_attr("", "Path", buf, sizeof(buf)));
	http_resp_free(&r);
}

static void
test_urlencode(void **state)
{
	char *s;

	(void)state;
	s = http_urlencode("a b&c=d/\xc3\xa9~-._+%\"\n");
	assert_non_null(s);
	assert_string_equal(s, "a+b%26c%3Dd%2F%C3%A9~-._%2B%25%22%0A");
	free(s);
	s = http_urlencode("");
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void
test_form_value(void **state)
{
	struct http_resp r;
	char *v;

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/form", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, strlen(form_html));

	v = http_form_value(r.body, "csrf");
	assert_non_null(v);
	assert_string_equal(v, "a&b\"c'd<e>f&amp;");
	free(v);
	v = http_form_value(r.body, "other");
	assert_non_null(v);
	assert_string_equal(v, "v2");
	free(v);
	v = http_form_value(r.body, "bare");
	assert_non_null(v);
	assert_string_equal(v, "plain");
	free(v);
	v = http_form_value(r.body, "empty");
	assert_non_null(v);
	assert_string_equal(v, "");
	free(v);
	assert_null(http_form_value(r.body, "missing"));
	assert_null(http_form_value(r.body, "csr"));
	/* Cut-off markup must not read past the end. */
	assert_null(http_form_value("<input name=\"x", "x"));
	assert_null(http_form_value("<input", "x"));
	http_resp_free(&r);
}

static void
test_post_form_request(void **state)
{
	struct http_resp r;
	char expect[256];

	(void)state;
	assert_int_equal(http_post_form(HOST, srv_port, "/echo", "a=1&b=%20",
	    "Cookie: s=1\r\n", &r), 0);
	assert_int_equal(r.status, 200);
	snprintf(expect, sizeof(expect), "POST /echo HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nConnection: close\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: 9\r\nCookie: s=1\r\n\r\na=1&b=%%20", srv_port);
	assert_string_equal(r.body, expect);
	assert_int_equal(r.body_len, strlen(expect));
	http_resp_free(&r);

	assert_int_equal(http_get(HOST, srv_port, "/echo", NULL, &r), 0);
	snprintf(expect, sizeof(expect), "GET /echo HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", srv_port);
	assert_string_equal(r.body, expect);
	http_resp_free(&r);
}

static void
test_raw_bytes_exact(void **state)
{
	static const char req[] = "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 4\r\nConnection: close\r\n\r\n\xff\xfe\0%";
	struct http_resp r;

	(void)state;
	assert_int_equal(http_raw(HOST, srv_port, req, sizeof(req) - 1, &r,
	    5000), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, sizeof(req) - 1);
	assert_memory_equal(r.body, req, sizeof(req) - 1);
	http_resp_free(&r);
}

static void
test_interim_response(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(http_get(HOST, srv_port, "/continue", NULL, &r), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body, "ok");
	http_resp_free(&r);
}

static void
test_bad_answers(void **state)
{
	static const char *const paths[] = {
		"/short", "/long", "/badchunk", "/cutchunk", "/garbage",
	};
	struct http_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		memset(&r, 0x55, sizeof(r));
		assert_int_equal(http_get(HOST, srv_port, paths[i], NULL, &r),
		    -1);
		/* A failed call leaves nothing to free. */
		assert_null(r.headers);
		assert_null(r.body);
		assert_int_equal(r.status, 0);
	}
}

static void
test_early_answer(void **state)
{
	const size_t n = 2 * 1024 * 1024;
	struct http_resp r;
	char *body;

	(void)state;
	body = malloc(n + 1);
	assert_non_null(body);
	memset(body, 'x', n);
	body[n] = '\0';
	assert_int_equal(http_post_form(HOST, srv_port, "/early", body, NULL,
	    &r), 0);
	assert_int_equal(r.status, 413);
	assert_string_equal(r.body, "big");
	http_resp_free(&r);
	free(body);
}

static void
test_timeout(void **state)
{
	static const char req[] = "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_resp r;
	struct timespec t0, t1;
	long ms;

	(void)state;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	assert_int_equal(http_raw(HOST, srv_port, req, sizeof(req) - 1, &r,
	    200), -1);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	assert_null(r.body);
	/* Far above 200 ms on purpose: only proves the timeout, not the
	 * server's own 5 s give-up, ended the call. */
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 4000);
}

static void
test_connect_refused(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct http_resp r;
	int fd, port;

	(void)state;
	/* A port that was just free and is not listening now. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	assert_int_equal(http_get(HOST, port, "/", NULL, &r), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_until_eof),
		cmocka_unit_test(test_set_cookies),
		cmocka_unit_test(test_cookies_by_name),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_form_value),
		cmocka_unit_test(test_post_form_request),
		cmocka_unit_test(test_raw_bytes_exact),
		cmocka_unit_test(test_interim_response),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_early_answer),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_connect_refused),
	};

	return cmocka_run_group_tests_name("httpc", tests, group_setup,
	    group_teardown);
}
