/*
 * fuzz_route.c - the router (route_match) against the table route.h
 * documents. Input: a method (GET, HEAD, POST, PUT or the input's own
 * bytes up to a NUL, chosen by the first byte), then the path. Properties:
 * a match is a route whose path, with "{id}" written as the matched id in
 * decimal, is exactly the path asked for (so the id is in 1..INT64_MAX and
 * its decimal form is in the path, no sign, no leading zero); the method
 * is the route's (HEAD for GET); a wrong method gives the Allow value of
 * the routes the path has; TD_ENOTFOUND only when no route has the path.
 * route_name is [a-z_]+. Building and running: docs/fuzzing.md.
 */
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "route.h"

/* route.h's table, written out again: the oracle. */
static const struct {
	enum route_id route;
	const char *method;
	const char *pattern;    /* "%" PRId64 where route.h has {id} */
} table[] = {
	{ ROUTE_ROOT, "GET", "/" },
	{ ROUTE_LIST, "GET", "/todos" },
	{ ROUTE_CREATE, "POST", "/todos" },
	{ ROUTE_EDIT, "GET", "/todos/%" PRId64 "/edit" },
	{ ROUTE_UPDATE, "POST", "/todos/%" PRId64 },
	{ ROUTE_TOGGLE, "POST", "/todos/%" PRId64 "/toggle" },
	{ ROUTE_DELETE, "POST", "/todos/%" PRId64 "/delete" },
	{ ROUTE_TOGGLE_ALL, "POST", "/todos/toggle-all" },
	{ ROUTE_CLEAR, "POST", "/todos/clear-completed" },
	{ ROUTE_HEALTH, "GET", "/healthz" },
	{ ROUTE_STATUS, "GET", "/status" },
	{ ROUTE_METRICS, "GET", "/metrics" },
	{ ROUTE_SIGNUP_FORM, "GET", "/signup" },
	{ ROUTE_SIGNUP, "POST", "/signup" },
	{ ROUTE_LOGIN_FORM, "GET", "/login" },
	{ ROUTE_LOGIN, "POST", "/login" },
	{ ROUTE_LOGOUT, "POST", "/logout" },
	{ ROUTE_ACCOUNT, "GET", "/account" },
	{ ROUTE_END_SESSIONS, "POST", "/account/sessions/revoke" },
	{ ROUTE_PASSWORD, "POST", "/account/password" },
	{ ROUTE_DELETE_ACCOUNT, "POST", "/account/delete" },
	{ ROUTE_EXPORT_JSON, "GET", "/account/export.json" },
	{ ROUTE_EXPORT_CSV, "GET", "/account/export.csv" },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

/* Table entry i's path with id written in: no format from a table
 * (-Wformat-nonliteral). */
static void
fill(size_t i, int64_t id, char *out, size_t outlen)
{
	const char *pct = strchr(table[i].pattern, '%');

	snprintf(out, outlen, "%.*s%" PRId64 "%s",
	    (int)(pct - table[i].pattern), table[i].pattern, id,
	    pct + strlen("%" PRId64));
}

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT" };

/* Does table entry i have this path? Its id when it has one: the digits
 * in the path where the pattern has its id, re-read without route.c. */
static bool
has_path(size_t i, const char *path, int64_t *id)
{
	const char *pct = strchr(table[i].pattern, '%'), *rest, *d;
	char again[64];
	size_t pre;
	uint64_t v = 0;

	if (pct == NULL)
		return strcmp(table[i].pattern, path) == 0;
	pre = (size_t)(pct - table[i].pattern);
	rest = pct + strlen("%" PRId64);
	if (strncmp(path, table[i].pattern, pre) != 0)
		return false;
	d = path + pre;
	if (*d < '1' || *d > '9')
		return false;
	for (; *d >= '0' && *d <= '9'; d++) {
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(*d - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	if (strcmp(d, rest) != 0)
		return false;
	/* The id written back is the path: one spelling per id. */
	fill(i, (int64_t)v, again, sizeof(again));
	CHECK(strcmp(again, path) == 0);
	*id = (int64_t)v;
	return true;
}

static void
check(const char *method, const char *path)
{
	struct route_match m;
	enum td_status rc;
	const char *name, *want_allow;
	bool head = strcmp(method, "HEAD") == 0, get = false, post = false;
	size_t i, hit = NTABLE;
	int64_t id = 0, hit_id = 0;

	memset(&m, 0, sizeof(m));
	rc = route_match(method, path, &m);
	for (i = 0; i < NTABLE; i++) {
		if (!has_path(i, path, &id))
			continue;
		if (hit == NTABLE && (strcmp(table[i].method, method) == 0 ||
		    (head && strcmp(table[i].method, "GET") == 0))) {
			hit = i;
			hit_id = id;
		}
		if (strcmp(table[i].method, "GET") == 0)
			get = true;
		else
			post = true;
	}
	if (hit < NTABLE) {
		CHECK(rc == TD_OK);
		CHECK(m.route == table[hit].route);
		if (strchr(table[hit].pattern, '%') != NULL) {
			char again[64];

			CHECK(m.id >= 1 && m.id == hit_id);
			fill(hit, m.id, again, sizeof(again));
			CHECK(strcmp(again, path) == 0);
		}
		name = route_name(m.route);
		CHECK(name != NULL && *name != '\0');
		CHECK(strspn(name, "abcdefghijklmnopqrstuvwxyz_") == strlen(name));
		CHECK(strcmp(name, "none") != 0);
		return;
	}
	if (!get && !post) {
		CHECK(rc == TD_ENOTFOUND);
		return;
	}
	CHECK(rc == TD_EINVAL);
	want_allow = get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : "POST";
	CHECK(m.allow != NULL && strcmp(m.allow, want_allow) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *path;
	const char *method;
	size_t i;

	if (size == 0)
		return 0;
	if ((buf = malloc(size)) == NULL)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (data[0] < 4 * 60) {
		method = methods[data[0] % 4];
		path = buf;
	} else {
		/* The method is the input up to its first NUL. */
		method = buf;
		path = buf + strlen(buf);
		if ((size_t)(path - buf) < size - 1)
			path++;
	}
	check(method, path);
	/* Names of every route, including ROUTE_NONE's. */
	for (i = 0; i < ROUTE_COUNT - 1; i++) {
		const char *n = route_name((enum route_id)i);

		CHECK(n != NULL && *n != '\0' &&
		    strspn(n, "abcdefghijklmnopqrstuvwxyz_") == strlen(n));
	}
	free(buf);
	return 0;
}
