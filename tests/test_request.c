/* test_request.c - FastCGI parameters and body into a struct request. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "form.h"
#include "request.h"

#define MAX_BODY 4096

/* A body in memory, handed out at most chunk bytes per call. */
struct reader {
	const char *data;
	size_t len;
	size_t pos;
	size_t chunk;      /* 0: as much as asked for */
	int fail;          /* return -1 instead of data */
	int calls;
};

static long
mem_read(void *ctx, char *buf, size_t n)
{
	struct reader *r = ctx;
	size_t k = r->len - r->pos;

	r->calls++;
	if (r->fail)
		return -1;
	if (k > n)
		k = n;
	if (r->chunk != 0 && k > r->chunk)
		k = r->chunk;
	memcpy(buf, r->data + r->pos, k);
	r->pos += k;
	return (long)k;
}

static struct arena *arena;

static int
setup(void **state)
{
	(void)state;
	arena = arena_new(1024 * 1024);
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

static enum td_status
parse(struct request *r, char *const *params, struct reader *rd,
    int *http_status)
{
	struct reader none = { "", 0, 0, 0, 0, 0 };

	/* Each case is a request of its own. */
	arena_reset(arena);
	return request_parse(r, arena, params, mem_read,
	    rd != NULL ? rd : &none, MAX_BODY, http_status);
}

/* A POST of body with the given Content-Length and Content-Type. */
static enum td_status
post(struct request *r, const char *cl, const char *ct, struct reader *rd,
    int *http_status)
{
	char clp[128], ctp[256];
	char *params[] = {
		"REQUEST_METHOD=POST", "REQUEST_URI=/todos", "HTTP_HOST=h",
		clp, ctp, NULL,
	};

	snprintf(clp, sizeof(clp), "CONTENT_LENGTH=%s", cl);
	snprintf(ctp, sizeof(ctp), "CONTENT_TYPE=%s", ct);
	if (ct == NULL)
		params[4] = NULL;
	if (cl == NULL)
		params[3] = "X=1";
	return parse(r, params, rd, http_status);
}

static void
test_get_query(void **state)
{
	struct request r;
	int st = 0;
	size_t len;
	char *params[] = {
		"GATEWAY_INTERFACE=CGI/1.1",
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/todos?filter=active&q=a+b%20c&empty",
		"QUERY_STRING=filter=active&q=a+b%20c&empty",
		"HTTP_HOST=todo.example.com",
		"REQUEST_ID=0123456789abcdef0123456789abcdef",
		"CONTENT_LENGTH=",
		NULL,
	};

	(void)state;
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_int_equal(st, 200);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/todos");
	assert_string_equal(r.host, "todo.example.com");
	assert_string_equal(r.scheme, "http");
	assert_string_equal(r.request_id, "0123456789abcdef0123456789abcdef");
	assert_null(r.origin);
	assert_null(r.fetch_site);
	assert_int_equal(r.query.n, 3);
	assert_string_equal(form_get(&r.query, "filter", NULL), "active");
	assert_string_equal(form_get(&r.query, "q", &len), "a b c");
	assert_int_equal(len, 5);
	assert_string_equal(form_get(&r.query, "empty", NULL), "");
	assert_int_equal(r.body.n, 0);
	assert_int_equal(r.cookies.n, 0);
	/* As received, for the sign-in page's return_to. */
	assert_string_equal(r.query_string, "filter=active&q=a+b%20c&empty");
	assert_string_equal(r.user_agent, "");
}

static void
test_path_decoding(void **state)
{
	struct request r;
	int st = 0;
	char *params[] = {
		"REQUEST_METHOD=HEAD",
		"REQUEST_URI=/caf%C3%A9/a+b%2Fc",
		"HTTP_ORIGIN=https://todo.example.com",
		"HTTP_SEC_FETCH_SITE=same-origin",
		NULL,
	};
	char *noqs[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/todos?filter=completed", NULL,
	};

	(void)state;
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_int_equal(st, 200);
	assert_string_equal(r.method, "HEAD");
	/* '+' is only a space in forms, not in paths. */
	assert_string_equal(r.path, "/caf\xc3\xa9/a+b/c");
	assert_string_equal(r.host, "");
	assert_string_equal(r.origin, "https://todo.example.com");
	assert_string_equal(r.fetch_site, "same-origin");
	assert_int_equal(r.query.n, 0);

	/* Without QUERY_STRING the query comes from the URI. */
	assert_int_equal(parse(&r, noqs, NULL, &st), TD_OK);
	assert_string_equal(r.path, "/todos");
	assert_string_equal(form_get(&r.query, "filter", NULL), "completed");
}

/* A GET of uri (and query string qs) that must be refused with status. */
static void
bad_get(const char *uri, const char *qs, int status)
{
	struct request r;
	char up[8192], qp[8192];
	char *params[] = { "REQUEST_METHOD=GET", up, qp, NULL };
	int st = 0;

	snprintf(up, sizeof(up), "REQUEST_URI=%s", uri);
	snprintf(qp, sizeof(qp), "QUERY_STRING=%s", qs);
	if (qs == NULL)
		params[2] = NULL;
	if (parse(&r, params, NULL, &st) == TD_OK)
		fail_msg("accepted uri \"%s\" qs \"%s\"", uri, qs ? qs : "(none)");
	if (st != status)
		fail_msg("uri \"%s\": status %d, want %d", uri, st, status);
}

static void
test_bad_uri(void **state)
{
	struct request r;
	int st = 0;
	char *nomethod[] = { "REQUEST_URI=/", NULL };
	char *nouri[] = { "REQUEST_METHOD=GET", NULL };
	char longuri[5000];

	(void)state;
	bad_get("/todos%2", NULL, 400);
	bad_get("/todos%", NULL, 400);
	bad_get("/a%zz", NULL, 400);
	bad_get("/a%00b", NULL, 400);
	bad_get("/a%C3%28", NULL, 400);
	bad_get("/a\xff", NULL, 400);
	bad_get("/ok", "a=%G1", 400);
	bad_get("/ok", "a=%", 400);
	bad_get("/ok", "a=%00", 400);
	bad_get("/ok", "a=%ED%A0%80", 400);
	bad_get("/ok?a=%4", NULL, 400);
	bad_get("todos", NULL, 400);
	bad_get("", NULL, 400);
	bad_get("http://evil/", NULL, 400);
	assert_int_not_equal(parse(&r, nomethod, NULL, &st), TD_OK);
	assert_int_equal(st, 400);
	assert_int_not_equal(parse(&r, nouri, NULL, &st), TD_OK);
	assert_int_equal(st, 400);

	memset(longuri, 'a', sizeof(longuri) - 1);
	longuri[sizeof(longuri) - 1] = '\0';
	longuri[0] = '/';
	bad_get(longuri, NULL, 414);
}

static void
test_bad_headers(void **state)
{
	struct request r;
	int st = 0;
	char *badhost[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_HOST=\xff\xfe", NULL,
	};
	char *badorigin[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_ORIGIN=a\xc0\xaf", NULL,
	};
	char *longhost, hp[] = "HTTP_HOST=";
	char *longp[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", NULL, NULL };

	(void)state;
	assert_int_not_equal(parse(&r, badhost, NULL, &st), TD_OK);
	assert_int_equal(st, 400);
	assert_int_not_equal(parse(&r, badorigin, NULL, &st), TD_OK);
	assert_int_equal(st, 400);

	longhost = calloc(1, sizeof(hp) + 9000);
	assert_non_null(longhost);
	memcpy(longhost, hp, sizeof(hp) - 1);
	memset(longhost + sizeof(hp) - 1, 'h', 9000);
	longp[2] = longhost;
	assert_int_not_equal(parse(&r, longp, NULL, &st), TD_OK);
	assert_int_equal(st, 400);
	free(longhost);
}

static void
test_post_form(void **state)
{
	const char *body = "title=Buy+milk+%26+eggs&done=1&return_to=%2Ftodos%3Ffilter%3Dactive";
	struct reader rd = { body, strlen(body), 0, 0, 0, 0 };
	struct request r;
	char cl[32];
	int st = 0;

	(void)state;
	snprintf(cl, sizeof(cl), "%zu", strlen(body));
	assert_int_equal(post(&r, cl, "application/x-www-form-urlencoded", &rd,
	    &st), TD_OK);
	assert_int_equal(st, 200);
	assert_string_equal(r.method, "POST");
	assert_int_equal(r.body.n, 3);
	assert_string_equal(form_get(&r.body, "title", NULL), "Buy milk & eggs");
	assert_string_equal(form_get(&r.body, "done", NULL), "1");
	assert_string_equal(form_get(&r.body, "return_to", NULL),
	    "/todos?filter=active");
	assert_int_equal(rd.pos, rd.len);

	/* One byte per read, a charset parameter, odd capitalisation. */
	rd.pos = 0;
	rd.chunk = 1;
	assert_int_equal(post(&r, cl,
	    "Application/X-WWW-Form-URLEncoded; charset=UTF-8", &rd, &st), TD_OK);
	assert_int_equal(st, 200);
	assert_string_equal(form_get(&r.body, "title", NULL), "Buy milk & eggs");

	/* UTF-8 text is fine. */
	rd.data = "title=caf%C3%A9+\xe2\x82\xac";
	rd.len = strlen(rd.data);
	rd.pos = 0;
	rd.chunk = 0;
	snprintf(cl, sizeof(cl), "%zu", rd.len);
	assert_int_equal(post(&r, cl, "application/x-www-form-urlencoded", &rd,
	    &st), TD_OK);
	assert_string_equal(form_get(&r.body, "title", NULL),
	    "caf\xc3\xa9 \xe2\x82\xac");

	/* No body at all: an empty form, Content-Type not needed. */
	rd.pos = 0;
	rd.calls = 0;
	assert_int_equal(post(&r, "0", NULL, &rd, &st), TD_OK);
	assert_int_equal(st, 200);
	assert_int_equal(r.body.n, 0);
	assert_int_equal(post(&r, NULL, NULL, &rd, &st), TD_OK);
	assert_int_equal(r.body.n, 0);
}

/* A POST that must be refused with rc (if not TD_OK) and status. */
static void
bad_post(const char *body, const char *cl, const char *ct, int status)
{
	struct reader rd = { body, strlen(body), 0, 0, 0, 0 };
	struct request r;
	int st = 0;

	if (post(&r, cl, ct, &rd, &st) == TD_OK)
		fail_msg("accepted body \"%.40s\" cl \"%s\" ct \"%s\"", body,
		    cl ? cl : "(none)", ct ? ct : "(none)");
	if (st != status)
		fail_msg("body \"%.40s\" cl \"%s\": status %d, want %d", body,
		    cl ? cl : "(none)", st, status);
}

static void
test_post_length(void **state)
{
	const char *form = "application/x-www-form-urlencoded";
	struct reader rd = { "a=1", 3, 0, 0, 0, 0 };
	struct request r;
	char cl[32];
	int st = 0;

	(void)state;
	/* Over the limit: refused before reading a byte. */
	snprintf(cl, sizeof(cl), "%d", MAX_BODY + 1);
	assert_int_equal(post(&r, cl, form, &rd, &st), TD_ETOOBIG);
	assert_int_equal(st, 413);
	assert_int_equal(rd.calls, 0);
	bad_post("a=1", "99999999999", form, 413);
	bad_post("a=1", "18446744073709551615", form, 413);

	/* Shorter and longer than announced. */
	bad_post("a=1", "4", form, 400);
	bad_post("a=1", "100", form, 400);
	bad_post("a=12", "3", form, 400);
	bad_post("a=1&b=2", "1", form, 400);

	/* Not a decimal number of bytes. */
	bad_post("a=1", "-1", form, 400);
	bad_post("a=1", "abc", form, 400);
	bad_post("a=1", "1e3", form, 400);
	bad_post("a=1", "3abc", form, 400);
	bad_post("a=1", "+3", form, 400);
	bad_post("a=1", "0x3", form, 400);
	bad_post("a=1", "3 ", form, 400);
	bad_post("a=1", " 3", form, 400);
	bad_post("a=1", " -1", form, 400);
	bad_post("a=1", "\t3", form, 400);
	bad_post("a=1", "18446744073709551616", form, 400);
	bad_post("a=1", "99999999999999999999999", form, 400);

	/* A read error. */
	rd.pos = 0;
	rd.fail = 1;
	assert_int_not_equal(post(&r, "3", form, &rd, &st), TD_OK);
	assert_int_equal(st, 400);
}

static void
test_post_content_type(void **state)
{
	(void)state;
	bad_post("a=1", "3", NULL, 415);
	bad_post("a=1", "3", "", 415);
	bad_post("a=1", "3", "text/plain", 415);
	bad_post("a=1", "3", "multipart/form-data; boundary=x", 415);
	bad_post("a=1", "3", "application/json", 415);
	bad_post("a=1", "3", "application/x-www-form-urlencodedx", 415);
	bad_post("a=1", "3", "application/x-www-form", 415);
}

static void
test_post_bad_body(void **state)
{
	const char *form = "application/x-www-form-urlencoded";
	char many[1024];
	size_t i, n = 0;

	(void)state;
	bad_post("t=\xff", "3", form, 400);
	bad_post("t=%FF", "5", form, 400);
	bad_post("t=%C0%AF", "8", form, 400);
	bad_post("t=%zz", "5", form, 400);
	bad_post("t=%00", "5", form, 400);
	bad_post("=1", "2", form, 400);
	/* A NUL byte in the body. */
	{
		struct reader rd = { "t=a\0b", 5, 0, 0, 0, 0 };
		struct request r;
		int st = 0;

		assert_int_not_equal(post(&r, "5", form, &rd, &st), TD_OK);
		assert_int_equal(st, 400);
	}
	/* More fields than any of our forms has. */
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "k=%zu&",
		    i % 10);
	{
		struct reader rd = { many, n, 0, 0, 0, 0 };
		struct request r;
		char cl[32];
		int st = 0;

		snprintf(cl, sizeof(cl), "%zu", n);
		assert_int_not_equal(post(&r, cl, form, &rd, &st), TD_OK);
		assert_true(st == 400 || st == 413);
	}
}

static void
test_body_over_arena(void **state)
{
	struct arena *small = arena_new(64 * 1024);
	char *body = malloc(100000);
	struct reader rd = { body, 100000, 0, 0, 0, 0 };
	char *params[] = {
		"REQUEST_METHOD=POST", "REQUEST_URI=/todos",
		"CONTENT_TYPE=application/x-www-form-urlencoded",
		"CONTENT_LENGTH=100000", NULL,
	};
	struct request r;
	int st = 0;

	(void)state;
	assert_non_null(small);
	assert_non_null(body);
	memset(body, 'a', 100000);
	/* Allowed by max_body, but more than the arena may hold. */
	assert_int_not_equal(request_parse(&r, small, params, mem_read, &rd,
	    1000000, &st), TD_OK);
	assert_int_equal(st, 413);
	free(body);
	arena_free(small);
}

static void
test_get_body_ignored(void **state)
{
	struct reader rd = { "junk\xff", 5, 0, 0, 0, 0 };
	struct request r;
	int st = 0;
	char *params[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/", "CONTENT_LENGTH=5",
		"CONTENT_TYPE=text/plain", NULL,
	};

	(void)state;
	assert_int_equal(parse(&r, params, &rd, &st), TD_OK);
	assert_int_equal(st, 200);
	assert_int_equal(r.body.n, 0);
}

static void
test_cookies(void **state)
{
	struct request r;
	int st = 0;
	char *good[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/",
		"HTTP_COOKIE=flash=created; sid=\"abc\" ; n=a+b%21", NULL,
	};
	char *bad[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/todos?x=1",
		"HTTP_COOKIE=flash=%zz; other=1", NULL,
	};
	char *badutf[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/",
		"HTTP_COOKIE=a=\xff", NULL,
	};
	char *issue[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/",
		"HTTP_COOKIE=other=%zz; flash=added", NULL,
	};

	(void)state;
	assert_int_equal(parse(&r, good, NULL, &st), TD_OK);
	assert_int_equal(r.cookies.n, 3);
	assert_string_equal(form_get(&r.cookies, "flash", NULL), "created");
	assert_string_equal(form_get(&r.cookies, "sid", NULL), "abc");
	assert_string_equal(form_get(&r.cookies, "n", NULL), "a+b!");

	/* A malformed cookie is dropped alone; the request goes on. */
	assert_int_equal(parse(&r, bad, NULL, &st), TD_OK);
	assert_int_equal(st, 200);
	assert_int_equal(r.cookies.n, 1);
	assert_null(form_get(&r.cookies, "flash", NULL));
	assert_string_equal(form_get(&r.cookies, "other", NULL), "1");
	assert_string_equal(r.path, "/todos");
	assert_string_equal(form_get(&r.query, "x", NULL), "1");
	assert_int_equal(parse(&r, badutf, NULL, &st), TD_OK);
	assert_int_equal(r.cookies.n, 0);
	assert_int_equal(parse(&r, issue, NULL, &st), TD_OK);
	assert_int_equal(r.cookies.n, 1);
	assert_string_equal(form_get(&r.cookies, "flash", NULL), "added");
}

/* Parses "HTTP_COOKIE=" + hdr. */
static enum td_status
parse_cookie(struct request *r, const char *hdr)
{
	static char param[80000];
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/todos", param,
	    NULL };
	int st = 0;
	enum td_status rc;

	assert_true(strlen(hdr) + 12 < sizeof(param));
	snprintf(param, sizeof(param), "HTTP_COOKIE=%s", hdr);
	rc = parse(r, params, NULL, &st);
	if (rc == TD_OK)
		assert_int_equal(st, 200);
	return rc;
}

/* n foreign cookies "_fN=" with size bytes of value each, then tail. */
static char *
foreign_cookies(size_t n, size_t size, const char *tail)
{
	static char hdr[76000];
	size_t i, len = 0;

	hdr[0] = '\0';
	for (i = 0; i < n; i++) {
		assert_true(len + size + 200 < sizeof(hdr));
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "_f%zu=", i);
		memset(hdr + len, 'v', size);
		len += size;
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len, "; ");
	}
	snprintf(hdr + len, sizeof(hdr) - len, "%s", tail);
	return hdr;
}

static void
test_many_cookies(void **state)
{
	struct request r;
	const char *session = "session=0123456789012345678901234567890123456789abc";

	(void)state;
	/* More foreign cookies than a form may have fields, then the app's:
	 * the app's are still found (a browser keeps up to 180 a host). */
	assert_int_equal(parse_cookie(&r, foreign_cookies(100, 20,
	    "session=0123456789012345678901234567890123456789abc; flash=added")),
	    TD_OK);
	assert_int_equal(r.cookies.n, 102);
	assert_string_equal(form_get(&r.cookies, "session", NULL), session + 8);
	assert_string_equal(form_get(&r.cookies, "flash", NULL), "added");
	assert_int_equal(parse_cookie(&r, foreign_cookies(200, 0,
	    "other=%zz; session=0123456789012345678901234567890123456789abc")),
	    TD_OK);
	assert_string_equal(form_get(&r.cookies, "session", NULL), session + 8);
	/* Past MAX_COOKIES (256) the first ones are kept, not none. */
	assert_int_equal(parse_cookie(&r, foreign_cookies(300, 0, "last=1")),
	    TD_OK);
	assert_int_equal(r.cookies.n, 256);
	assert_string_equal(form_get(&r.cookies, "_f0", NULL), "");
	assert_non_null(form_get(&r.cookies, "_f255", NULL));
	assert_null(form_get(&r.cookies, "_f256", NULL));
	assert_null(form_get(&r.cookies, "last", NULL));
	/* A header over 8 KiB (larger than any other header we take, but
	 * within what nginx passes on) is read whole. */
	assert_int_equal(parse_cookie(&r, foreign_cookies(200, 100, session)),
	    TD_OK);
	assert_int_equal(r.cookies.n, 201);
	assert_string_equal(form_get(&r.cookies, "session", NULL), session + 8);
	/* Past 32 KiB: the cookies that fit whole are kept, none cut. */
	assert_int_equal(parse_cookie(&r, foreign_cookies(200, 350, session)),
	    TD_OK);
	assert_true(r.cookies.n > 80 && r.cookies.n < 100);
	assert_int_equal(strlen(form_get(&r.cookies, "_f0", NULL)), 350);
	assert_int_equal(strlen(r.cookies.fields[r.cookies.n - 1].val), 350);
	assert_null(form_get(&r.cookies, "session", NULL));
}

static void
check_request_id(const char *param, const char *want)
{
	struct request r;
	int st = 0;
	char *params[] = {
		"REQUEST_METHOD=GET", "REQUEST_URI=/", (char *)param, NULL,
	};

	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.request_id, want);
}

static void
test_request_id(void **state)
{
	char id64[100] = "REQUEST_ID=", id65[100] = "REQUEST_ID=";

	(void)state;
	check_request_id("REQUEST_ID=abc-DEF_1.2", "abc-DEF_1.2");
	check_request_id("X=1", "-");
	check_request_id("REQUEST_ID=", "-");
	check_request_id("REQUEST_ID=a b", "-");
	check_request_id("REQUEST_ID=a\"b", "-");
	check_request_id("REQUEST_ID=a\nlevel=error", "-");
	check_request_id("REQUEST_ID=caf\xc3\xa9", "-");
	check_request_id("REQUEST_ID=a=b", "-");
	memset(id64 + 11, 'f', 64);
	memset(id65 + 11, 'f', 65);
	check_request_id(id64, id64 + 11);
	check_request_id(id65, "-");
}

/* The User-Agent is kept for the account page: bounded, printable, valid
 * UTF-8 (anything else a '?'), never a reason to refuse the request. */
static void
test_user_agent(void **state)
{
	char long_ua[1200];
	struct request r;
	int st = 0;
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", NULL, NULL };

	(void)state;
	params[2] = "HTTP_USER_AGENT=Mozilla/5.0 (X11; Linux) <b>\xc3\xa9</b>";
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.user_agent, "Mozilla/5.0 (X11; Linux) <b>\xc3\xa9</b>");
	/* Controls, a stray continuation byte, a cut sequence, DEL. */
	params[2] = "HTTP_USER_AGENT=a\tb\x80" "c\xe2\x82" "d\x7f";
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.user_agent, "a?b?c??d?");
	/* At most USER_AGENT_MAX code points (here 2-byte ones). */
	strcpy(long_ua, "HTTP_USER_AGENT=");
	for (size_t i = 0; i < 300; i++)
		strcat(long_ua, "\xc3\xa9");
	params[2] = long_ua;
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_int_equal(strlen(r.user_agent), 2 * USER_AGENT_MAX);
	assert_int_equal(strncmp(r.user_agent, "\xc3\xa9\xc3\xa9", 4), 0);
}

static void
test_scheme(void **state)
{
	struct request r;
	int st = 0;
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", NULL, NULL };

	(void)state;
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.scheme, "http");
	params[2] = "HTTPS=on";
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.scheme, "https");
	params[2] = "HTTPS=ON";
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.scheme, "https");
	params[2] = "HTTPS=";
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.scheme, "http");
	params[2] = "HTTPS=off";
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.scheme, "http");
}

static void
test_param(void **state)
{
	char *params[] = {
		"HTTP_HOSTNAME=wrong",
		"HTTP_HOST=right",
		"EMPTY=",
		"NOEQUALS",
		"A=b=c",
		"HTTP_HOST=second",
		NULL,
	};
	char *none[] = { NULL };

	(void)state;
	assert_string_equal(request_param(params, "HTTP_HOST"), "right");
	assert_string_equal(request_param(params, "HTTP_HOSTNAME"), "wrong");
	assert_string_equal(request_param(params, "EMPTY"), "");
	assert_string_equal(request_param(params, "A"), "b=c");
	assert_null(request_param(params, "NOEQUALS"));
	assert_null(request_param(params, "HTTP"));
	assert_null(request_param(params, "HTTP_HOS"));
	assert_null(request_param(params, "MISSING"));
	assert_null(request_param(params, "http_host"));
	assert_null(request_param(none, "HTTP_HOST"));
	assert_null(request_param(NULL, "HTTP_HOST"));
}

/* request_parse() files the parameters in one pass: the first of a name
 * wins, a longer or shorter name is another parameter, and a name that
 * runs past any known one (no '=' within it) is skipped, not misread. */
static void
test_params_filed_once(void **state)
{
	char longname[80];
	char *params[] = {
		"HTTP_HOSTNAME=wrong.example",
		"HTTP_HOS=wrong.example",
		longname,
		"REQUEST_METHOD=GET",
		"HTTP_HOST=right.example",
		"REQUEST_URI=/todos?x=1",
		"SERVER_PORT=8080",
		"REMOTE_ADDR=192.0.2.7",
		"HTTP_COOKIE=a=1",
		"HTTP_USER_AGENT=first",
		"HTTP_HOST=second.example",
		"REQUEST_METHOD=POST",
		"SERVER_PORT=9090",
		"HTTP_USER_AGENT=second",
		"HTTP_COOKIE=a=2",
		"HTTPS",
		"HTTPS=on",
		NULL,
	};
	struct request r;
	int st;

	(void)state;
	memset(longname, 'H', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[40] = '=';
	assert_int_equal(parse(&r, params, NULL, &st), TD_OK);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.host, "right.example");
	assert_string_equal(r.path, "/todos");
	assert_string_equal(r.query_string, "x=1");
	assert_string_equal(r.server_port, "8080");
	assert_string_equal(r.remote_addr, "192.0.2.7");
	assert_string_equal(r.user_agent, "first");
	assert_string_equal(form_get(&r.cookies, "a", NULL), "1");
	assert_string_equal(r.scheme, "https");
}

/* Every parameter request_parse() reads is found among what nginx sends
 * (fastcgi_params and the site's own), whatever stands before it: the
 * names of the same length (SCRIPT_NAME, REMOTE_PORT, SERVER_ADDR,
 * HTTP_ACCEPT, DOCUMENT_URI, REQUEST_SCHEME, ...) are other parameters. */
static void
test_params_all_known(void **state)
{
	static char body[] = "a=1&b=2";
	char *params[] = {
		"QUERY_STRING_X=no", "SCRIPT_NAME=/todos", "DOCUMENT_URI=/todos",
		"DOCUMENT_ROOT=/srv", "SERVER_PROTOCOL=HTTP/1.1",
		"REQUEST_SCHEME=https", "GATEWAY_INTERFACE=CGI/1.1",
		"SERVER_SOFTWARE=nginx", "REMOTE_PORT=5555", "SERVER_ADDR=10.0.0.1",
		"SERVER_NAME=todo", "REDIRECT_STATUS=200", "HTTP_ACCEPT=*/*",
		"HTTP_ACCEPT_LANGUAGE=en", "HTTP_CONNECTION=close", "HTTP_REFERER=x",
		"HTTP_SEC_FETCH_MODE=navigate", "HTTP_SEC_FETCH_DEST=document",
		"HTTP_IF_MODIFIED_SINCE=never", "HTTP_CACHE_CONTROL=max-age=0",
		"HTTP_X_FORWARDED=1", "HTTP_DNT=1", "HTTPX=on",
		"CONTENT_TYPE=application/x-www-form-urlencoded",
		"CONTENT_LENGTH=7",
		"QUERY_STRING=q=1",
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/todos?q=1",
		"HTTP_HOST=h.example",
		"HTTP_ORIGIN=https://h.example",
		"HTTP_SEC_FETCH_SITE=same-origin",
		"HTTP_USER_AGENT=agent",
		"HTTP_IF_NONE_MATCH=W/\"t\"",
		"SERVER_PORT=443",
		"REMOTE_ADDR=192.0.2.9",
		"HTTPS=on",
		"HTTP_COOKIE=c=3",
		"REQUEST_ID=abc",
		NULL,
	};
	struct reader rd = { body, sizeof(body) - 1, 0, 0, 0, 0 };
	struct request r;
	int st;

	(void)state;
	assert_int_equal(parse(&r, params, &rd, &st), TD_OK);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/todos");
	assert_string_equal(r.query_string, "q=1");
	assert_string_equal(r.host, "h.example");
	assert_string_equal(r.origin, "https://h.example");
	assert_string_equal(r.fetch_site, "same-origin");
	assert_string_equal(r.user_agent, "agent");
	assert_string_equal(r.if_none_match, "W/\"t\"");
	assert_string_equal(r.server_port, "443");
	assert_string_equal(r.remote_addr, "192.0.2.9");
	assert_string_equal(r.scheme, "https");
	assert_string_equal(form_get(&r.cookies, "c", NULL), "3");
	assert_string_equal(r.request_id, "abc");
	assert_string_equal(form_get(&r.body, "b", NULL), "2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_query),
		cmocka_unit_test(test_path_decoding),
		cmocka_unit_test(test_bad_uri),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_post_form),
		cmocka_unit_test(test_post_length),
		cmocka_unit_test(test_post_content_type),
		cmocka_unit_test(test_post_bad_body),
		cmocka_unit_test(test_body_over_arena),
		cmocka_unit_test(test_get_body_ignored),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_many_cookies),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_scheme),
		cmocka_unit_test(test_user_agent),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_params_filed_once),
		cmocka_unit_test(test_params_all_known),
	};

	return cmocka_run_group_tests_name("request", tests, setup, teardown);
}
