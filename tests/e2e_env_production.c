/* e2e_env_production.c - the pool in the production profile, through the
 * real nginx: every answer of the app carries Strict-Transport-Security,
 * the flash cookie is Secure (set and cleared), form posts are held
 * against TODO_PUBLIC_ORIGIN, and the session and pre-session cookies are
 * __Host- cookies (Secure, HttpOnly, SameSite=Lax, Path=/, no Domain).
 * The tests run signed in as one person the group setup signs up. tests/run-test starts it with TODO_ENV=
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
#include <strings.h>
#include <unistd.h>

#include "httpc.h"

#define ORIGIN "https://todo.example.test"
#define HSTS "max-age=31536000; includeSubDomains"

static const char *host = "127.0.0.1";
static int port;

/* The production profile's cookie names (docs/accounts.md). */
#define SESSION "__Host-session"
#define PRESESSION "__Host-presession"

/* The person signed up by signup_setup: their session cookie (as a Cookie
 * line) and the csrf_token of their forms. */
static char cookie[128], csrf[64];
static char email[128], password[128];    /* urlencoded */
/* The sign-up's answers, for test_host_cookies. */
static char presession_line[512], session_line[512];

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

	assert_int_equal(http_get(host, port, "/todos", cookie, &r), 0);
	assert_int_equal(r.status, 200);
	t = http_form_value(r.body, "token");
	assert_non_null(t);
	http_resp_free(&r);
	return t;
}

/* POST an add form, signed in, with extra headers; returns the status. */
static int
add(const char *title, const char *headers, struct http_resp *r)
{
	char body[512], hdr[1024], *t = token();

	snprintf(body, sizeof(body), "title=%s&description=&token=%s&return_to=%%2Ftodos"
	    "&csrf_token=%s", title, t, csrf);
	snprintf(hdr, sizeof(hdr), "%s%s", cookie, headers != NULL ? headers : "");
	free(t);
	assert_int_equal(http_post_form(host, port, "/todos", body, hdr, r), 0);
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
		assert_int_equal(http_get(host, port, paths[i], cookie, &r), 0);
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
	char line[512], hdr[256];
	const char *c;

	(void)state;
	/* No Origin (curl): let through, as in development. */
	assert_int_equal(add("secure-cookie", NULL, &r), 303);
	c = http_set_cookie(&r, "flash", line, sizeof(line));
	assert_non_null(c);
	assert_non_null(strstr(c, "flash=added"));
	assert_non_null(strstr(c, "; Secure"));
	assert_non_null(strstr(c, "HttpOnly"));
	http_resp_free(&r);

	/* The list page clears it with a Secure cookie too. */
	snprintf(hdr, sizeof(hdr), "%.*s; flash=added\r\n", (int)strlen(cookie) - 2, cookie);
	assert_int_equal(http_get(host, port, "/todos", hdr, &r), 0);
	assert_int_equal(r.status, 200);
	c = http_set_cookie(&r, "flash", line, sizeof(line));
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

/* A __Host- cookie as a browser requires it: Secure, Path=/, no Domain;
 * and HttpOnly, SameSite=Lax, the Max-Age given. */
static void
assert_host_cookie(const char *line, const char *max_age)
{
	char v[64];

	if (http_cookie_attr(line, "Secure", v, sizeof(v)) == NULL)
		fail_msg("not Secure: %s", line);
	if (http_cookie_attr(line, "HttpOnly", v, sizeof(v)) == NULL)
		fail_msg("not HttpOnly: %s", line);
	if (http_cookie_attr(line, "SameSite", v, sizeof(v)) == NULL ||
	    strcasecmp(v, "Lax") != 0)
		fail_msg("not SameSite=Lax: %s", line);
	if (http_cookie_attr(line, "Path", v, sizeof(v)) == NULL || strcmp(v, "/") != 0)
		fail_msg("not Path=/: %s", line);
	if (http_cookie_attr(line, "Domain", v, sizeof(v)) != NULL)
		fail_msg("a Domain (a __Host- cookie has none): %s", line);
	if (max_age != NULL && (http_cookie_attr(line, "Max-Age", v, sizeof(v)) == NULL ||
	    strcmp(v, max_age) != 0))
		fail_msg("not Max-Age=%s: %s", max_age, line);
}

/* Sign in again as the tests' person, as a new browser: the answer. */
static void
login(struct http_resp *r)
{
	char pre[64], body[512], hdr[160], *v;

	assert_int_equal(http_get(host, port, "/login", NULL, r), 0);
	assert_int_equal(r->status, 200);
	assert_non_null(http_cookie_value(r, PRESESSION, pre, sizeof(pre)));
	v = http_form_value(r->body, "csrf_token");
	assert_non_null(v);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s", email,
	    password, v);
	free(v);
	http_resp_free(r);
	snprintf(hdr, sizeof(hdr), "Cookie: " PRESESSION "=%s\r\n", pre);
	assert_int_equal(http_post_form(host, port, "/login", body, hdr, r), 0);
}

static void
test_host_cookies(void **state)
{
	struct http_resp r;
	char line[512], v[64], hdr[160], body[128], *t;

	(void)state;
	assert_host_cookie(presession_line, "3600");
	assert_host_cookie(session_line, NULL);
	/* Sign-in sets the same; nothing under the development names. */
	login(&r);
	assert_int_equal(r.status, 303);
	assert_non_null(http_set_cookie(&r, SESSION, line, sizeof(line)));
	assert_host_cookie(line, NULL);
	assert_null(http_set_cookie(&r, "session", line, sizeof(line)));
	assert_non_null(http_cookie_value(&r, SESSION, v, sizeof(v)));
	assert_int_equal(strlen(v), 43);
	http_resp_free(&r);
	/* The development name signs nobody in here. */
	snprintf(hdr, sizeof(hdr), "Cookie: session=%s\r\n", v);
	assert_int_equal(http_get(host, port, "/todos", hdr, &r), 0);
	assert_int_equal(r.status, 303);
	assert_non_null(header(&r, "Location"));
	assert_int_equal(strncmp(header(&r, "Location"), "/login", 6), 0);
	http_resp_free(&r);
	/* Signing out clears it under the same rules (a browser ignores a
	 * __Host- deletion without Secure). */
	snprintf(hdr, sizeof(hdr), "Cookie: " SESSION "=%s\r\n", v);
	assert_int_equal(http_get(host, port, "/todos", hdr, &r), 0);
	assert_int_equal(r.status, 200);
	t = http_form_value(r.body, "csrf_token");
	assert_non_null(t);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "csrf_token=%s", t);
	free(t);
	assert_int_equal(http_post_form(host, port, "/logout", body, hdr, &r), 0);
	assert_int_equal(r.status, 303);
	assert_non_null(http_set_cookie(&r, SESSION, line, sizeof(line)));
	assert_host_cookie(line, "0");
	assert_string_equal(http_cookie_value(&r, SESSION, v, sizeof(v)), "");
	http_resp_free(&r);
	/* The tests' own session is another one: still signed in. */
	assert_int_equal(http_get(host, port, "/todos", cookie, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
}

/* Sign up the person the tests run as, keeping the Set-Cookie lines. */
static int
signup_setup(void **state)
{
	struct http_resp r;
	char pre[64], pre_csrf[64], body[512], hdr[160], val[64], *v;
	int ok;

	(void)state;
	if (http_get(host, port, "/signup", NULL, &r) != 0)
		return -1;
	v = http_form_value(r.body != NULL ? r.body : "", "csrf_token");
	ok = r.status == 200 && v != NULL && strlen(v) < sizeof(pre_csrf) &&
	    http_cookie_value(&r, PRESESSION, pre, sizeof(pre)) != NULL &&
	    http_set_cookie(&r, PRESESSION, presession_line,
	    sizeof(presession_line)) != NULL;
	if (ok)
		strcpy(pre_csrf, v);
	free(v);
	http_resp_free(&r);
	if (!ok) {
		fprintf(stderr, "e2e_env_production: GET /signup set no " PRESESSION
		    " cookie or form token\n");
		return -1;
	}
	snprintf(email, sizeof(email), "e2e-production-%ld%%40example.test",
	    (long)getpid());
	snprintf(password, sizeof(password), "correct+horse+battery+staple+%ld",
	    (long)getpid());
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s", email,
	    password, pre_csrf);
	snprintf(hdr, sizeof(hdr), "Cookie: " PRESESSION "=%s\r\n", pre);
	if (http_post_form(host, port, "/signup", body, hdr, &r) != 0)
		return -1;
	ok = r.status == 303 && http_cookie_value(&r, SESSION, val, sizeof(val)) != NULL &&
	    strlen(val) == 43 && http_set_cookie(&r, SESSION, session_line,
	    sizeof(session_line)) != NULL;
	if (!ok)
		fprintf(stderr, "e2e_env_production: POST /signup answered %d "
		    "without a " SESSION " cookie: %.300s\n", r.status, r.body);
	http_resp_free(&r);
	if (!ok)
		return -1;
	snprintf(cookie, sizeof(cookie), "Cookie: " SESSION "=%s\r\n", val);
	if (http_get(host, port, "/todos", cookie, &r) != 0)
		return -1;
	v = http_form_value(r.body, "csrf_token");
	ok = r.status == 200 && v != NULL && strlen(v) < sizeof(csrf);
	if (ok)
		strcpy(csrf, v);
	free(v);
	http_resp_free(&r);
	return ok ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hsts_on_every_app_answer),
		cmocka_unit_test(test_flash_cookie_is_secure),
		cmocka_unit_test(test_origin_is_the_public_one),
		cmocka_unit_test(test_host_cookies),
	};
	const char *p = getenv("TODO_E2E_PORT"), *env = getenv("TODO_ENV");

	if (p == NULL || env == NULL || strcmp(env, "production") != 0) {
		fprintf(stderr, "e2e_env_production: run me through make check "
		    "(tests/run-test sets TODO_ENV=production)\n");
		return 1;
	}
	port = atoi(p);
	return cmocka_run_group_tests_name("e2e_env_production", tests,
	    signup_setup, NULL);
}
