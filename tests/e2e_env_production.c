/* e2e_env_production.c - the pool in the production profile, through the
 * real nginx: every answer of the app carries Strict-Transport-Security,
 * the flash cookie is Secure (set and cleared), and form posts are held
 * against TODO_PUBLIC_ORIGIN. tests/run-test starts it with TODO_ENV=
 * production, TODO_ALLOW_LOCAL_DATABASE=1 (the harness's database is on
 * this machine) and TODO_PUBLIC_ORIGIN=https://todo.example.test; nginx
 * still speaks plain HTTP here, as behind a TLS-terminating proxy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"

#define ORIGIN "https://todo.example.test"
#define HSTS "max-age=31536000; includeSubDomains"

static const char *host = "127.0.0.1";
static int port;

static const char *
header(const struct http_resp *r, const char *name)
{
	static char buf[1024];

	if (http_header(r, name, buf, sizeof(buf)) == NULL)
		return NULL;
	return buf;
}

/* Some line of name's headers holds needle. */
static int
some_header_has(const struct http_resp *r, const char *name, const char *needle)
{
	const char *p = r->headers;
	size_t n = strlen(name);

	for (; p != NULL && *p != '\0'; p = strstr(p, "\r\n") != NULL ? strstr(p, "\r\n") + 2 : NULL) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':' &&
		    memmem(p, len, needle, strlen(needle)) != NULL)
			return 1;
	}
	return 0;
}

static char *
token(void)
{
	struct http_resp r;
	char *t;

	assert_int_equal(http_get(host, port, "/todos", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	t = http_form_value(r.body, "token");
	assert_non_null(t);
	http_resp_free(&r);
	return t;
}

/* POST an add form with extra headers; returns the status. */
static int
add(const char *title, const char *headers, struct http_resp *r)
{
	char body[512], *t = token();

	snprintf(body, sizeof(body), "title=%s&description=&token=%s&return_to=%%2Ftodos",
	    title, t);
	free(t);
	assert_int_equal(http_post_form(host, port, "/todos", body, headers, r), 0);
	return r->status;
}

static void
test_hsts_on_every_app_answer(void **state)
{
	static const char *const paths[] = { "/todos", "/", "/nothing-here", "/healthz" };
	struct http_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(http_get(host, port, paths[i], NULL, &r), 0);
		if (!some_header_has(&r, "Strict-Transport-Security", HSTS))
			fail_msg("GET %s (%d): no Strict-Transport-Security: %s", paths[i],
			    r.status, HSTS);
		http_resp_free(&r);
	}
}

static void
test_flash_cookie_is_secure(void **state)
{
	struct http_resp r;
	const char *c;

	(void)state;
	/* No Origin (curl): let through, as in development. */
	assert_int_equal(add("secure-cookie", NULL, &r), 303);
	c = header(&r, "Set-Cookie");
	assert_non_null(c);
	assert_non_null(strstr(c, "flash=added"));
	assert_non_null(strstr(c, "; Secure"));
	assert_non_null(strstr(c, "HttpOnly"));
	http_resp_free(&r);

	/* The list page clears it with a Secure cookie too. */
	assert_int_equal(http_get(host, port, "/todos", "Cookie: flash=added\r\n", &r), 0);
	assert_int_equal(r.status, 200);
	c = header(&r, "Set-Cookie");
	assert_non_null(c);
	assert_non_null(strstr(c, "Max-Age=0"));
	assert_non_null(strstr(c, "; Secure"));
	http_resp_free(&r);
}

static void
test_origin_is_the_public_one(void **state)
{
	struct http_resp r;
	char hdr[256];

	(void)state;
	/* The origin development would derive from Host is not it. */
	snprintf(hdr, sizeof(hdr), "Origin: http://127.0.0.1:%d\r\n", port);
	assert_int_equal(add("from-host-origin", hdr, &r), 403);
	http_resp_free(&r);
	assert_int_equal(add("trailing-slash", "Origin: " ORIGIN "/\r\n", &r), 403);
	http_resp_free(&r);
	assert_int_equal(add("public-origin", "Origin: " ORIGIN "\r\n"
	    "Sec-Fetch-Site: same-origin\r\n", &r), 303);
	http_resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hsts_on_every_app_answer),
		cmocka_unit_test(test_flash_cookie_is_secure),
		cmocka_unit_test(test_origin_is_the_public_one),
	};
	const char *p = getenv("TODO_E2E_PORT"), *env = getenv("TODO_ENV");

	if (p == NULL || env == NULL || strcmp(env, "production") != 0) {
		fprintf(stderr, "e2e_env_production: run me through make check "
		    "(tests/run-test sets TODO_ENV=production)\n");
		return 1;
	}
	port = atoi(p);
	return cmocka_run_group_tests_name("e2e_env_production", tests, NULL, NULL);
}
