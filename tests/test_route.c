/* test_route.c - the route table: methods, paths, {id}, Allow values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "route.h"

/* A match that must succeed with route r and id. */
static void
ok(const char *method, const char *path, enum route_id r, int64_t id)
{
	struct route_match m;

	memset(&m, 0xEE, sizeof(m));
	if (route_match(method, path, &m) != TD_OK)
		fail_msg("%s %s: no match", method, path);
	assert_int_equal(m.route, r);
	assert_int_equal(m.id, id);
	assert_null(m.allow);
}

/* A path that exists, but not for this method. */
static void
wrong_method(const char *method, const char *path, const char *allow)
{
	struct route_match m;

	memset(&m, 0, sizeof(m));
	if (route_match(method, path, &m) != TD_EINVAL)
		fail_msg("%s %s: expected TD_EINVAL", method, path);
	assert_non_null(m.allow);
	assert_string_equal(m.allow, allow);
}

static void
not_found(const char *method, const char *path)
{
	struct route_match m;

	memset(&m, 0, sizeof(m));
	if (route_match(method, path, &m) != TD_ENOTFOUND)
		fail_msg("%s %s: expected TD_ENOTFOUND", method, path);
}

static void
test_table(void **state)
{
	(void)state;
	ok("GET", "/", ROUTE_ROOT, 0);
	ok("GET", "/todos", ROUTE_LIST, 0);
	ok("POST", "/todos", ROUTE_CREATE, 0);
	ok("GET", "/todos/42/edit", ROUTE_EDIT, 42);
	ok("POST", "/todos/42", ROUTE_UPDATE, 42);
	ok("POST", "/todos/42/toggle", ROUTE_TOGGLE, 42);
	ok("POST", "/todos/42/delete", ROUTE_DELETE, 42);
	ok("POST", "/todos/toggle-all", ROUTE_TOGGLE_ALL, 0);
	ok("POST", "/todos/clear-completed", ROUTE_CLEAR, 0);
	ok("POST", "/todos/undo", ROUTE_UNDO, 0);
	ok("GET", "/healthz", ROUTE_HEALTH, 0);
}

static void
test_head(void **state)
{
	(void)state;
	ok("HEAD", "/", ROUTE_ROOT, 0);
	ok("HEAD", "/todos", ROUTE_LIST, 0);
	ok("HEAD", "/todos/7/edit", ROUTE_EDIT, 7);
	ok("HEAD", "/healthz", ROUTE_HEALTH, 0);
	/* HEAD is GET without a body, never a POST. */
	wrong_method("HEAD", "/todos/7", "POST");
	wrong_method("HEAD", "/todos/toggle-all", "POST");
	wrong_method("HEAD", "/todos/7/delete", "POST");
}

static void
test_wrong_method(void **state)
{
	(void)state;
	wrong_method("POST", "/", "GET, HEAD");
	wrong_method("PUT", "/", "GET, HEAD");
	wrong_method("POST", "/healthz", "GET, HEAD");
	wrong_method("POST", "/todos/3/edit", "GET, HEAD");
	wrong_method("DELETE", "/todos", "GET, HEAD, POST");
	wrong_method("PUT", "/todos", "GET, HEAD, POST");
	wrong_method("GET", "/todos/toggle-all", "POST");
	wrong_method("GET", "/todos/clear-completed", "POST");
	wrong_method("GET", "/todos/undo", "POST");
	wrong_method("GET", "/todos/5", "POST");
	wrong_method("DELETE", "/todos/5", "POST");
	wrong_method("GET", "/todos/5/toggle", "POST");
	wrong_method("GET", "/todos/5/delete", "POST");
	/* Methods are case-sensitive (RFC 9110 9.1). */
	wrong_method("get", "/todos", "GET, HEAD, POST");
	wrong_method("", "/", "GET, HEAD");
}

static void
test_not_found(void **state)
{
	(void)state;
	not_found("GET", "");
	not_found("GET", "/nope");
	not_found("GET", "/todo");
	not_found("GET", "/todosx");
	not_found("GET", "/todos/");
	not_found("POST", "/todos/");
	not_found("GET", "//");
	not_found("GET", "/healthz/");
	not_found("POST", "/todos/5/");
	not_found("GET", "/todos/5/edit/");
	not_found("POST", "/todos/5/toggle/");
	not_found("POST", "/todos/5/toggle/x");
	not_found("GET", "/todos/5/edits");
	not_found("POST", "/todos/toggle-all/");
	not_found("POST", "/todos/5/6");
	not_found("GET", "/TODOS");
	not_found("GET", "/todos?x=1");
}

static void
test_ids(void **state)
{
	char path[64];

	(void)state;
	ok("POST", "/todos/1", ROUTE_UPDATE, 1);
	ok("POST", "/todos/9/toggle", ROUTE_TOGGLE, 9);
	ok("POST", "/todos/10/delete", ROUTE_DELETE, 10);
	ok("GET", "/todos/123456789/edit", ROUTE_EDIT, 123456789);
	/* Every id the identity can hand out, up to INT64_MAX. */
	ok("POST", "/todos/999999999999999999", ROUTE_UPDATE,
	    INT64_C(999999999999999999));
	ok("POST", "/todos/100000000000000000/toggle", ROUTE_TOGGLE,
	    INT64_C(100000000000000000));
	ok("POST", "/todos/1000000000000000000", ROUTE_UPDATE,
	    INT64_C(1000000000000000000));
	ok("POST", "/todos/1000000000000000001/delete", ROUTE_DELETE,
	    INT64_C(1000000000000000001));
	ok("POST", "/todos/9223372036854775806", ROUTE_UPDATE, INT64_MAX - 1);
	ok("POST", "/todos/9223372036854775807", ROUTE_UPDATE, INT64_MAX);
	ok("GET", "/todos/9223372036854775807/edit", ROUTE_EDIT, INT64_MAX);
	ok("HEAD", "/todos/9223372036854775807/edit", ROUTE_EDIT, INT64_MAX);
	ok("POST", "/todos/9223372036854775807/toggle", ROUTE_TOGGLE,
	    INT64_MAX);
	ok("POST", "/todos/9223372036854775807/delete", ROUTE_DELETE,
	    INT64_MAX);

	not_found("POST", "/todos/0");
	not_found("POST", "/todos/007");
	not_found("POST", "/todos/01/toggle");
	not_found("POST", "/todos/-1");
	not_found("POST", "/todos/+1");
	not_found("POST", "/todos/1a");
	not_found("POST", "/todos/a1");
	not_found("POST", "/todos/1.5");
	not_found("POST", "/todos/1%32");
	not_found("POST", "/todos/ 1");
	not_found("POST", "/todos//toggle");
	not_found("GET", "/todos//edit");
	not_found("POST", "/todos/00");
	not_found("POST", "/todos/09223372036854775807");
	not_found("GET", "/todos/0/edit");
	not_found("GET", "/todos/1a/edit");
	not_found("POST", "/todos/-9223372036854775808");

	/* Past INT64_MAX: refused, never wrapped or clamped. */
	not_found("POST", "/todos/9223372036854775808");
	not_found("GET", "/todos/9223372036854775808/edit");
	not_found("POST", "/todos/9223372036854775809/toggle");
	not_found("POST", "/todos/9223372036854775810");
	not_found("POST", "/todos/9999999999999999999");
	not_found("POST", "/todos/18446744073709551615");
	not_found("POST", "/todos/18446744073709551616");
	not_found("POST", "/todos/92233720368547758070");
	not_found("POST", "/todos/10000000000000000000");
	not_found("POST", "/todos/99999999999999999999999999999999/delete");

	/* Every length from 1 to 19 digits, and 20 refused. */
	for (int n = 1; n <= 20; n++) {
		int64_t want = 0;

		memset(path, 0, sizeof(path));
		memcpy(path, "/todos/", 7);
		for (int i = 0; i < n; i++) {
			path[7 + i] = '8';
			if (i < 19)   /* 20 eights do not fit */
				want = want * 10 + 8;
		}
		if (n <= 19)
			ok("POST", path, ROUTE_UPDATE, want);
		else
			not_found("POST", path);
	}
}

/* The status pages: GET (and HEAD) only, exact paths; every route has a
 * metric label of [a-z_] and they are all different. */
static void
test_status_pages(void **state)
{
	int i, j;
	const char *n;

	(void)state;
	ok("GET", "/status", ROUTE_STATUS, 0);
	ok("HEAD", "/status", ROUTE_STATUS, 0);
	ok("GET", "/metrics", ROUTE_METRICS, 0);
	ok("HEAD", "/metrics", ROUTE_METRICS, 0);
	wrong_method("POST", "/status", "GET, HEAD");
	wrong_method("POST", "/metrics", "GET, HEAD");
	not_found("GET", "/status/");
	not_found("GET", "/statuss");
	not_found("GET", "/metrics/");
	not_found("GET", "/Metrics");
	assert_string_equal(route_name(ROUTE_LIST), "list");
	assert_string_equal(route_name(ROUTE_STATUS), "status");
	assert_string_equal(route_name(ROUTE_METRICS), "metrics");
	assert_string_equal(route_name(ROUTE_NONE), "none");
	assert_string_equal(route_name((enum route_id)-1), "none");
	assert_string_equal(route_name(ROUTE_COUNT), "none");
	for (i = 0; i < ROUTE_COUNT; i++) {
		n = route_name((enum route_id)i);
		assert_non_null(n);
		assert_true(n[0] != '\0');
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz_"), strlen(n));
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, route_name((enum route_id)j));
	}
}

/* The account routes (docs/accounts.md): exact paths, their methods. */
static void
test_account_routes(void **state)
{
	(void)state;
	ok("GET", "/signup", ROUTE_SIGNUP_FORM, 0);
	ok("POST", "/signup", ROUTE_SIGNUP, 0);
	ok("GET", "/login", ROUTE_LOGIN_FORM, 0);
	ok("HEAD", "/login", ROUTE_LOGIN_FORM, 0);
	ok("POST", "/login", ROUTE_LOGIN, 0);
	ok("POST", "/logout", ROUTE_LOGOUT, 0);
	ok("GET", "/account", ROUTE_ACCOUNT, 0);
	ok("POST", "/account/sessions/revoke", ROUTE_END_SESSIONS, 0);
	ok("POST", "/account/password", ROUTE_PASSWORD, 0);
	ok("POST", "/account/delete", ROUTE_DELETE_ACCOUNT, 0);
	ok("GET", "/account/export.json", ROUTE_EXPORT_JSON, 0);
	ok("GET", "/account/export.csv", ROUTE_EXPORT_CSV, 0);
	/* Sign-out changes state: never a GET (a link or an image could
	 * sign people out). */
	wrong_method("GET", "/logout", "POST");
	wrong_method("PUT", "/login", "GET, HEAD, POST");
	wrong_method("GET", "/account/delete", "POST");
	wrong_method("POST", "/account", "GET, HEAD");
	not_found("GET", "/account/");
	not_found("GET", "/account/export.xml");
	not_found("GET", "/Login");
	not_found("POST", "/account/sessions");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_wrong_method),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_status_pages),
		cmocka_unit_test(test_account_routes),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
