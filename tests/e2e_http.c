/* e2e_http.c - end-to-end tests: real nginx in front of the real pool and a
 * real PostgreSQL, over HTTP. Run by tests/e2e-harness, which exports:
 *   TODO_E2E_PORT        nginx's port on 127.0.0.1
 *   TODO_E2E_MASTER_PID  the pool's master process
 *   TODO_E2E_WORKERS     its worker count
 *   TODO_E2E_RTPROXY_PID the round-trip counting proxy between pool and db
 *   TODO_E2E_RTPROXY_STATS  its stats file
 *   TODO_E2E_RTPROXY_CMD a shell command that starts the proxy again
 *   TODO_E2E_RTPROXY_PIDFILE  the proxy's current pid (after a restart too)
 *   TODO_E2E_MODE        direct (app -> proxy -> PostgreSQL) or pooler
 *                        (app -> proxy -> PgBouncer -> PostgreSQL)
 *   TODO_E2E_POOLER_RESTART_CMD  pooler mode: restarts PgBouncer
 *   TODO_DB_TIMEOUT      the app's bound of one database call (seconds)
 * and from tests/pg-harness TODO_TEST_PGHOST, TODO_TEST_PGPORT and
 * TODO_TEST_DBNAME: the fault tests' admin connection (superuser over the
 * unix socket, straight to PostgreSQL).
 *
 * Every test runs signed in as one person that the group setup signs up:
 * each request carries the session cookie, each form post its csrf_token
 * (docs/accounts.md). What signed-out requests get, and what one person
 * can do to another's todos, is e2e_accounts.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "e2e_admin.h"
#include "httpc.h"
#include "rtstats.h"

static const char *host = "127.0.0.1";
static int port;

/* The person every request is made as: the session cookie's value and the
 * csrf_token of its forms (set once by signup_setup). */
#define SESSION_COOKIE "session"
static char session[64], csrf[64];

/* headers (NULL or whole lines) with the session cookie added: into the
 * request's Cookie line when it has one, else as a line of its own. */
static void
with_session(const char *headers, char *out, size_t outlen)
{
	const char *c = headers != NULL ? strstr(headers, "Cookie: ") : NULL;
	int n;

	if (c != NULL && (c == headers || c[-1] == '\n'))
		n = snprintf(out, outlen, "%.*sCookie: " SESSION_COOKIE "=%s; %s",
		    (int)(c - headers), headers, session, c + 8);
	else
		n = snprintf(out, outlen, "Cookie: " SESSION_COOKIE "=%s\r\n%s",
		    session, headers != NULL ? headers : "");
	if (n < 0 || (size_t)n >= outlen)
		abort();
}

/* body with the csrf_token field added (malloc'd). Children call it too:
 * it aborts rather than asserts. */
static char *
with_csrf(const char *body)
{
	char *b;

	if (asprintf(&b, "%s%scsrf_token=%s", body, body[0] != '\0' ? "&" : "",
	    csrf) < 0)
		abort();
	return b;
}

/* A form post or a page as the signed-in person; never asserts. */
static int
http_as(const char *path, const char *body, const char *headers,
    struct http_resp *r)
{
	char hdr[4096], *b;
	int rc;

	with_session(headers, hdr, sizeof(hdr));
	if (body == NULL)
		return http_get(host, port, path, hdr, r);
	b = with_csrf(body);
	rc = http_post_form(host, port, path, b, hdr, r);
	free(b);
	return rc;
}

/* A raw request (method and path, extra header lines) as the signed-in
 * person, for what the helpers cannot send. */
static int
raw_as(const char *method, const char *path, const char *headers,
    const char *body, struct http_resp *r)
{
	char req[4096];
	int n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nCookie: " SESSION_COOKIE "=%s\r\n%s\r\n%s",
	    method, path, session, headers, body);
	assert_true(n > 0 && (size_t)n < sizeof(req));
	return http_raw(host, port, req, (size_t)n, r, 5000);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
get(const char *path, const char *headers, struct http_resp *r)
{
	assert_int_equal(http_as(path, NULL, headers, r), 0);
}

static void
post(const char *path, const char *body, const char *headers, struct http_resp *r)
{
	assert_int_equal(http_as(path, body, headers, r), 0);
}

static const char *
header(const struct http_resp *r, const char *name)
{
	static char buf[1024];

	if (http_header(r, name, buf, sizeof(buf)) == NULL)
		return NULL;
	return buf;
}

/* The Set-Cookie line of the flash cookie (other cookies may come first). */
static const char *
flash_cookie(const struct http_resp *r)
{
	static char buf[512];

	return http_set_cookie(r, "flash", buf, sizeof(buf));
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* A fresh add-form token from the list page. */
static char *
token(void)
{
	struct http_resp r;
	char *t;

	get("/todos", NULL, &r);
	assert_int_equal(r.status, 200);
	t = http_form_value(r.body, "token");
	assert_non_null(t);
	assert_int_equal(strlen(t), 36);
	http_resp_free(&r);
	return t;
}

/* Add a todo through the form; returns nothing, asserts the 303. */
static void
add(const char *title_enc)
{
	struct http_resp r;
	char body[4096];
	char *t = token();

	snprintf(body, sizeof(body), "title=%s&description=&token=%s&return_to=%%2Ftodos", title_enc, t);
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	free(t);
}

/* Id of the first (newest) todo on a list page whose title is exactly
 * `title_html` (HTML-escaped), from its title's <p id="t-ID">; -1 if none. */
static long
title_id(const char *html, const char *title_html)
{
	char needle[1024];
	const char *p = html;
	long id;
	int end;

	snprintf(needle, sizeof(needle), "\">%s</p>", title_html);
	while ((p = strstr(p, "<p id=\"t-")) != NULL) {
		p += strlen("<p id=\"t-");
		end = 0;
		if (sscanf(p, "%ld%n", &id, &end) == 1 &&
		    strncmp(p + end, needle, strlen(needle)) == 0)
			return id;
	}
	return -1;
}

/* Id of the newest todo whose title is exactly `title` (HTML-escaped form). */
static long
id_of(const char *title_html)
{
	struct http_resp r;
	long id;

	get("/todos", NULL, &r);
	id = title_id(r.body, title_html);
	http_resp_free(&r);
	return id;
}

static void
clear_all(void)
{
	struct http_resp r;

	/* Complete everything, then clear: an empty list for the next test. */
	for (;;) {
		get("/todos", NULL, &r);
		if (strstr(r.body, "Mark all as complete") == NULL) {
			http_resp_free(&r);
			break;
		}
		http_resp_free(&r);
		post("/todos/toggle-all", "", NULL, &r);
		http_resp_free(&r);
	}
	post("/todos/clear-completed", "", NULL, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

static void
test_root_redirects(void **state)
{
	struct http_resp r;

	(void)state;
	get("/", NULL, &r);
	assert_int_equal(r.status, 302);
	assert_string_equal(header(&r, "Location"), "/todos");
	http_resp_free(&r);
}

static void
test_list_page_and_headers(void **state)
{
	struct http_resp r;

	(void)state;
	get("/todos", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(header(&r, "Content-Type"), "text/html"));
	assert_non_null(header(&r, "X-Request-ID"));
	assert_non_null(strstr(header(&r, "Content-Security-Policy"), "default-src 'none'"));
	assert_non_null(strstr(r.body, "<label for=\"title-new\">Title</label>"));
	assert_non_null(strstr(r.body, "/static/app.css"));
	/* No inline scripts or styles: the CSP can stay strict. */
	assert_null(strstr(r.body, "<script"));
	assert_null(strstr(r.body, "style="));
	http_resp_free(&r);

	get("/static/app.css", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(header(&r, "Content-Type"), "text/css"));
	http_resp_free(&r);
}

static void
test_create_redirects_with_confirmation(void **state)
{
	struct http_resp r;
	char body[256];
	char *t = token();

	(void)state;
	clear_all();
	snprintf(body, sizeof(body), "title=++Buy+milk++&description=2+litres&token=%s&return_to=%%2Ftodos%%3Ffilter%%3Dactive", t);
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos?filter=active");
	assert_non_null(flash_cookie(&r));
	assert_non_null(strstr(flash_cookie(&r), "flash=added"));
	http_resp_free(&r);

	get("/todos?filter=active", "Cookie: flash=added\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Todo added."));
	assert_true(title_id(r.body, "Buy milk") > 0);                 /* trimmed */
	assert_non_null(strstr(r.body, "2 litres"));
	assert_non_null(strstr(r.body, "<strong>1</strong> item left"));
	/* The confirmation is shown once: its cookie is cleared. */
	assert_non_null(flash_cookie(&r));
	assert_non_null(strstr(flash_cookie(&r), "Max-Age=0"));
	http_resp_free(&r);
	free(t);
}

static void
test_double_submit_creates_one(void **state)
{
	struct http_resp r;
	char body[256];
	char *t = token();
	int i;

	(void)state;
	clear_all();
	snprintf(body, sizeof(body), "title=Only+once&token=%s", t);
	for (i = 0; i < 3; i++) {
		post("/todos", body, NULL, &r);
		assert_int_equal(r.status, 303);
		http_resp_free(&r);
	}
	get("/todos", NULL, &r);
	assert_int_equal(count(r.body, ">Only once</p>"), 1);
	http_resp_free(&r);
	/* The same (stale) form sent with other text is a new todo, not a
	 * repeat: it must not vanish. */
	snprintf(body, sizeof(body), "title=Typed+after+Back&token=%s", t);
	for (i = 0; i < 2; i++) {       /* and that one, sent twice, is one */
		post("/todos", body, NULL, &r);
		assert_int_equal(r.status, 303);
		http_resp_free(&r);
	}
	get("/todos", NULL, &r);
	assert_int_equal(count(r.body, ">Only once</p>"), 1);
	assert_int_equal(count(r.body, ">Typed after Back</p>"), 1);
	http_resp_free(&r);
	free(t);

	/* A damaged token is refused, not ignored. */
	post("/todos", "title=x&token=not-a-token", NULL, &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
}

static void
test_validation(void **state)
{
	struct http_resp r;
	char body[8192], *p;
	int i;

	(void)state;
	clear_all();
	post("/todos", "title=+++&description=keep+me", NULL, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "Please enter a title."));
	assert_non_null(strstr(r.body, ">keep me</textarea>"));   /* input kept */
	assert_non_null(strstr(r.body, "aria-invalid=\"true\""));
	http_resp_free(&r);

	/* 200 two-byte characters are 200 characters: accepted. */
	p = body + sprintf(body, "title=");
	for (i = 0; i < 200; i++)
		p += sprintf(p, "%%C3%%A9");
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	/* 201 are not. */
	sprintf(p, "x");
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "201 characters"));
	http_resp_free(&r);

	p = body + sprintf(body, "title=ok&description=");
	memset(p, 'd', 2001);
	p[2001] = '\0';
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "at most 2000"));
	http_resp_free(&r);
	p[2000] = '\0';
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

static void
test_escaping_and_sql_text(void **state)
{
	struct http_resp r;

	(void)state;
	clear_all();
	add("%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E+%26+%27q%27");
	add("%27)%3B+DROP+TABLE+todos%3B+--");
	get("/todos", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "<script>alert"));
	assert_non_null(strstr(r.body, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
	assert_non_null(strstr(r.body, "&#39;); DROP TABLE todos; --"));
	assert_non_null(strstr(r.body, "<strong>2</strong> items left"));
	http_resp_free(&r);
}

static void
test_edit_update_toggle_delete(void **state)
{
	struct http_resp r;
	char path[128], body[256], want[128];
	long id;

	(void)state;
	clear_all();
	add("Edit+me");
	id = id_of("Edit me");
	assert_true(id > 0);

	snprintf(path, sizeof(path), "/todos/%ld/edit?return_to=%%2Ftodos%%3Ffilter%%3Dcompleted", id);
	get(path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "value=\"Edit me\""));
	assert_non_null(strstr(r.body, "href=\"/todos?filter=completed\""));
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/todos/%ld", id);
	post(path, "title=&description=x", NULL, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "Please enter a title."));
	http_resp_free(&r);

	snprintf(body, sizeof(body), "title=Edited&description=&completed=on&return_to=%%2Ftodos%%3Ffilter%%3Dcompleted");
	post(path, body, NULL, &r);
	assert_int_equal(r.status, 303);
	snprintf(want, sizeof(want), "/todos?filter=completed#edit-%ld", id);   /* issue 9 */
	assert_string_equal(header(&r, "Location"), want);
	http_resp_free(&r);
	get("/todos?filter=completed", NULL, &r);
	assert_non_null(strstr(r.body, ">Edited</p>"));
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	post(path, "return_to=%2Ftodos%3Ffilter%3Dactive", NULL, &r);
	assert_int_equal(r.status, 303);
	snprintf(want, sizeof(want), "/todos?filter=active#done-%ld", id);
	assert_string_equal(header(&r, "Location"), want);
	http_resp_free(&r);
	get("/todos?filter=active", NULL, &r);
	assert_non_null(strstr(r.body, ">Edited</p>"));
	http_resp_free(&r);
	get("/todos?filter=completed", NULL, &r);
	assert_null(strstr(r.body, ">Edited</p>"));
	http_resp_free(&r);

	/* An open redirect through return_to is not possible. */
	post(path, "return_to=https%3A%2F%2Fevil.example%2F", NULL, &r);
	assert_int_equal(r.status, 303);
	snprintf(want, sizeof(want), "/todos#done-%ld", id);
	assert_string_equal(header(&r, "Location"), want);
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/todos/%ld/delete", id);
	post(path, "", NULL, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	post(path, "", NULL, &r);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/todos/%ld/edit", id);
	get(path, NULL, &r);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	post(path, "", NULL, &r);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
}

static void
test_toggle_all_and_clear_completed(void **state)
{
	struct http_resp r;

	(void)state;
	clear_all();
	add("a");
	add("b");
	post("/todos/toggle-all", "", NULL, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	get("/todos", NULL, &r);
	assert_non_null(strstr(r.body, "<strong>0</strong> items left, <strong>2</strong> completed"));
	assert_non_null(strstr(r.body, "Mark all as active"));
	http_resp_free(&r);
	post("/todos/toggle-all", "", NULL, &r);
	http_resp_free(&r);
	get("/todos", NULL, &r);
	assert_non_null(strstr(r.body, "<strong>2</strong> items left, <strong>0</strong> completed"));
	http_resp_free(&r);
	post("/todos/toggle-all", "", NULL, &r);
	http_resp_free(&r);
	post("/todos/clear-completed", "return_to=%2Ftodos%3Ffilter%3Dcompleted", NULL, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos?filter=completed#undo");
	http_resp_free(&r);
	get("/todos", NULL, &r);
	assert_non_null(strstr(r.body, "<strong>0</strong> items left, <strong>0</strong> completed"));
	http_resp_free(&r);
}

static void
test_filters(void **state)
{
	struct http_resp r;
	char path[64];

	(void)state;
	clear_all();
	add("open+one");
	add("done+one");
	snprintf(path, sizeof(path), "/todos/%ld/toggle", id_of("done one"));
	post(path, "", NULL, &r);
	http_resp_free(&r);
	get("/todos?filter=active", NULL, &r);
	assert_non_null(strstr(r.body, ">open one<"));
	assert_null(strstr(r.body, ">done one<"));
	assert_non_null(strstr(r.body, "href=\"/todos?filter=active\" aria-current=\"page\""));
	http_resp_free(&r);
	get("/todos?filter=completed", NULL, &r);
	assert_null(strstr(r.body, ">open one<"));
	assert_non_null(strstr(r.body, ">done one<"));
	http_resp_free(&r);
	get("/todos?filter=bogus", NULL, &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	get("/todos?before=12_x", NULL, &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
}

static void
test_pagination(void **state)
{
	struct http_resp r;
	char body[128], url[256], *newer;
	int i;

	(void)state;
	clear_all();
	for (i = 1; i <= 120; i++) {
		snprintf(body, sizeof(body), "title=item+%03d", i);
		post("/todos", body, NULL, &r);
		assert_int_equal(r.status, 303);
		http_resp_free(&r);
	}
	get("/todos", NULL, &r);
	assert_int_equal(count(r.body, "<li id=\"todo-"), 50);
	assert_non_null(strstr(r.body, ">item 120<"));     /* newest first */
	assert_non_null(strstr(r.body, ">item 071<"));
	assert_null(strstr(r.body, ">item 070<"));
	assert_null(strstr(r.body, "rel=\"prev\""));
	assert_non_null(strstr(r.body, "rel=\"next\""));
	/* Follow the "Older" link. */
	{
		const char *p = strstr(r.body, "rel=\"next\"");
		const char *h;

		for (h = p; h > r.body && strncmp(h, "href=\"", 6) != 0; h--)
			;
		sscanf(h + 6, "%255[^\"]", url);
	}
	http_resp_free(&r);
	assert_non_null(strstr(url, "before="));
	get(url, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(count(r.body, "<li id=\"todo-"), 50);
	assert_non_null(strstr(r.body, ">item 070<"));
	assert_non_null(strstr(r.body, ">item 021<"));
	assert_non_null(strstr(r.body, "rel=\"prev\""));
	{
		const char *p = strstr(r.body, "rel=\"prev\"");
		const char *h;

		for (h = p; h > r.body && strncmp(h, "href=\"", 6) != 0; h--)
			;
		newer = malloc(256);
		sscanf(h + 6, "%255[^\"]", newer);
		p = strstr(r.body, "rel=\"next\"");
		for (h = p; h > r.body && strncmp(h, "href=\"", 6) != 0; h--)
			;
		sscanf(h + 6, "%255[^\"]", url);
	}
	http_resp_free(&r);
	get(url, NULL, &r);
	assert_int_equal(count(r.body, "<li id=\"todo-"), 20);
	assert_non_null(strstr(r.body, ">item 001<"));
	assert_null(strstr(r.body, "rel=\"next\""));
	http_resp_free(&r);
	/* And back: the newer page of page 2 is page 1 again. */
	assert_non_null(strstr(newer, "after="));
	get(newer, NULL, &r);
	assert_int_equal(count(r.body, "<li id=\"todo-"), 50);
	assert_non_null(strstr(r.body, ">item 120<"));
	assert_non_null(strstr(r.body, ">item 071<"));
	http_resp_free(&r);
	free(newer);
	clear_all();
}

static void
test_not_found_and_methods(void **state)
{
	static const char *const missing[] = {
		"/nope", "/todos/abc/edit", "/todos/999999999/edit",
		"/todos/123456789012345678901234/edit", "/todos/0/edit", "/todos/",
	};
	struct http_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		get(missing[i], NULL, &r);
		assert_int_equal(r.status, 404);
		assert_non_null(strstr(r.body, "404"));
		http_resp_free(&r);
	}
	get("/todos/toggle-all", NULL, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "POST");
	http_resp_free(&r);
	assert_int_equal(raw_as("DELETE", "/todos", "", "", &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD, POST");
	http_resp_free(&r);
	post("/todos/abc/toggle", "", NULL, &r);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);

	/* The largest id is routed and looked up (the todo's own 404); one
	 * past it is no address at all (the router's). */
	get("/todos/9223372036854775807/edit", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "There is no such todo"));
	http_resp_free(&r);
	post("/todos/9223372036854775807/toggle", "", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "There is no such todo"));
	http_resp_free(&r);
	get("/todos/9223372036854775808/edit", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "There is nothing at this address"));
	http_resp_free(&r);
}

static void
test_head_request(void **state)
{
	struct http_resp r;

	(void)state;
	assert_int_equal(raw_as("HEAD", "/todos", "", "", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	http_resp_free(&r);
}

/* Bytes in nginx's error log now (TODO_E2E_NGINX_LOG): where a test's
 * own lines start. */
static long
nginx_log_size(void)
{
	const char *path = getenv("TODO_E2E_NGINX_LOG");
	struct stat st;

	assert_non_null(path);
	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

/* nginx's error log from byte from on must hold no word on the upstream
 * (a record after the end, a premature close, an unexpected record). */
static void
expect_no_upstream_errors(long from)
{
	const char *path = getenv("TODO_E2E_NGINX_LOG");
	char line[2048];
	FILE *f;

	assert_non_null(path);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, from, SEEK_SET), 0);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "upstream") != NULL || strstr(line, "FastCGI") != NULL)
			fail_msg("nginx: %s", line);
	fclose(f);
}

/* Content-Length, present and equal to the body's length. */
static void
expect_whole(const struct http_resp *r)
{
	const char *cl = header(r, "Content-Length");

	assert_non_null(cl);
	assert_int_equal(strtoul(cl, NULL, 10), r->body_len);
}

/*
 * The worker ends each request in the writev of its answer's last bytes
 * (response_wire_*), and asks nginx not to buffer a small answer
 * (X-Accel-Buffering): every kind of answer arrives whole, and nginx
 * finds nothing amiss in the records.
 */
static void
test_answers_arrive_whole(void **state)
{
	char etag[128], hdr[256];
	struct http_resp r;
	long from = nginx_log_size();
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		get("/todos", NULL, &r);                    /* a page */
		assert_int_equal(r.status, 200);
		expect_whole(&r);
		assert_non_null(strstr(r.body, "</html>"));
		assert_non_null(http_header(&r, "ETag", etag, sizeof(etag)));
		/* Asked of nginx (response.h), never shown to the client. */
		assert_null(header(&r, "X-Accel-Buffering"));
		http_resp_free(&r);

		snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", etag);
		get("/todos", hdr, &r);                     /* a 304 */
		assert_int_equal(r.status, 304);
		assert_int_equal(r.body_len, 0);
		http_resp_free(&r);

		post("/todos", "title=arrives+whole", NULL, &r);  /* a 303 */
		assert_int_equal(r.status, 303);
		assert_non_null(header(&r, "Location"));
		http_resp_free(&r);

		assert_int_equal(raw_as("HEAD", "/todos", "", "", &r), 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, 0);
		assert_non_null(header(&r, "Content-Length"));
		http_resp_free(&r);

		get("/nope", NULL, &r);                     /* an error page */
		assert_int_equal(r.status, 404);
		expect_whole(&r);
		http_resp_free(&r);

		get("/healthz", NULL, &r);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
	}
	/* nginx logs as it goes; a moment for the last answer's close. */
	sleep_ms(200);
	expect_no_upstream_errors(from);
}

static void
test_cross_site_posts_refused(void **state)
{
	struct http_resp r;
	char hdr[128];

	(void)state;
	post("/todos", "title=evil", "Origin: http://evil.example\r\n", &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);
	post("/todos", "title=evil", "Sec-Fetch-Site: cross-site\r\n", &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);
	post("/todos/clear-completed", "", "Origin: null\r\n", &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);
	/* Same origin is fine. */
	snprintf(hdr, sizeof(hdr), "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n", port);
	post("/todos/clear-completed", "", hdr, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

static void
test_bad_encodings(void **state)
{
	struct http_resp r;

	(void)state;
	get("/todos?filter=%zz", NULL, &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	post("/todos", "title=%C3%28", NULL, &r);      /* invalid UTF-8 */
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	post("/todos", "title=a%00b", NULL, &r);       /* NUL byte */
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	post("/todos", "title=%ED%A0%80", NULL, &r);   /* surrogate */
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	post("/todos", "title=abc%", NULL, &r);        /* truncated escape */
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	get("/todos%FF", NULL, &r);
	assert_true(r.status == 400 || r.status == 404);
	http_resp_free(&r);
	{
		char *body = with_csrf("title=x"), hdr[128];

		snprintf(hdr, sizeof(hdr), "Content-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n", strlen(body));
		assert_int_equal(raw_as("POST", "/todos", hdr, body, &r), 0);
		assert_int_equal(r.status, 415);
		http_resp_free(&r);
		free(body);
	}
}

static void
test_oversized_bodies(void **state)
{
	/* Each over TODO_MAX_BODY: 70,000 bytes; 900 KiB, more than the socket
	 * to the worker holds, so nginx is still sending it when the 413 is
	 * ready and the worker must read the rest before closing (else
	 * nginx's write fails and the answer is its own 502); 2 MiB, over
	 * nginx's own limit. */
	static const size_t sizes[] = { 70000, 900 * 1024, 2 * 1024 * 1024 };
	struct http_resp r;
	size_t i, n;
	char *body;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		body = malloc(n + 1);
		assert_non_null(body);
		memcpy(body, "title=", 6);
		memset(body + 6, 'a', n - 6);
		body[n] = '\0';
		post("/todos", body, NULL, &r);
		if (r.status != 413)
			fail_msg("a body of %zu bytes answered %d, not 413", n, r.status);
		http_resp_free(&r);
		free(body);
	}
}

static void
test_healthz(void **state)
{
	struct http_resp r;

	(void)state;
	get("/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	http_resp_free(&r);
}

/* ---- the pool: workers, round trips, database outages ---- */

static int
children(pid_t master, pid_t *out, int max)
{
	char path[64], buf[1024];
	FILE *f;
	int n = 0;
	long pid;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		char *p = buf, *end;

		while (n < max && (pid = strtol(p, &end, 10)) > 0 && end != p) {
			out[n++] = (pid_t)pid;
			p = end;
		}
	}
	fclose(f);
	return n;
}

static void
rt_signal(int sig, struct rt_stats *s)
{
	assert_int_equal(rt_stats_signal(sig, s), 0);
}

static void
rt_read(struct rt_stats *s)
{
	rt_signal(SIGUSR1, s);
}

static void
rt_reset(void)
{
	struct rt_stats s;

	rt_signal(SIGUSR2, &s);
	assert_int_equal(s.round_trips, 0);
}

static void
test_killed_worker_is_replaced(void **state)
{
	pid_t master = (pid_t)atoi(getenv("TODO_E2E_MASTER_PID"));
	int workers = atoi(getenv("TODO_E2E_WORKERS"));
	pid_t before[64], after[64];
	struct http_resp r;
	struct rt_stats s;
	int n, i, tries, replaced = 0;

	(void)state;
	n = children(master, before, 64);
	assert_int_equal(n, workers);
	rt_reset();
	assert_int_equal(kill(before[0], SIGKILL), 0);
	for (tries = 0; tries < 100 && !replaced; tries++) {
		sleep_ms(50);
		n = children(master, after, 64);
		if (n != workers)
			continue;
		replaced = 1;
		for (i = 0; i < n; i++)
			if (after[i] == before[0])
				replaced = 0;
	}
	assert_true(replaced);
	/* The new worker connects to the database before it takes a
	 * request: nobody waits on its connect. */
	for (tries = 0; tries < 200; tries++) {
		rt_read(&s);
		if (s.connections > 0)
			break;
		sleep_ms(50);
	}
	assert_int_equal(s.connections, 1);
	for (i = 0; i < 2 * workers; i++) {
		get("/todos", NULL, &r);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
	}
}

/* SIGHUP replaces every worker; no request fails meanwhile. */
static void
test_reload_replaces_workers_without_failing_requests(void **state)
{
	pid_t master = (pid_t)atoi(getenv("TODO_E2E_MASTER_PID"));
	int workers = atoi(getenv("TODO_E2E_WORKERS"));
	pid_t before[64], now[64];
	struct http_resp r;
	int n, i, j, tries, fresh = 0;

	(void)state;
	assert_int_equal(children(master, before, 64), workers);
	assert_int_equal(kill(master, SIGHUP), 0);
	for (tries = 0; tries < 200 && !fresh; tries++) {
		get("/todos", NULL, &r);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
		n = children(master, now, 64);
		fresh = n == workers;
		for (i = 0; i < n && fresh; i++)
			for (j = 0; j < workers; j++)
				if (now[i] == before[j])
					fresh = 0;
		if (!fresh)
			sleep_ms(20);
	}
	assert_true(fresh);
	for (i = 0; i < 2 * workers; i++) {
		get("/todos", NULL, &r);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
	}
}

/* Every worker connected and prepared, so that the counts below contain
 * requests only (connection set-up is excluded by the requirement). */
static void
warm_up(void)
{
	struct rt_stats s;
	struct http_resp r;
	int round, i;

	for (round = 0; round < 50; round++) {
		rt_reset();
		for (i = 0; i < 10; i++) {
			get("/healthz", NULL, &r);
			http_resp_free(&r);
		}
		rt_read(&s);
		if (s.connections == 0)
			return;
	}
	fail_msg("workers kept opening new database connections");
}

static long
trips_of(const char *method, const char *path, const char *body, int expect)
{
	struct rt_stats s;
	struct http_resp r;

	rt_reset();
	if (strcmp(method, "GET") == 0)
		get(path, NULL, &r);
	else
		post(path, body, NULL, &r);
	assert_int_equal(r.status, expect);
	http_resp_free(&r);
	rt_read(&s);
	assert_int_equal(s.connections, 0);
	return s.round_trips;
}

static void
test_one_round_trip_per_request(void **state)
{
	char path[64], body[128], *t;
	long id, other;

	(void)state;
	clear_all();
	add("counted");
	add("other");
	id = id_of("counted");
	other = id_of("other");
	assert_true(id > 0 && other > 0);
	t = token();
	warm_up();
	assert_int_equal(trips_of("GET", "/todos", NULL, 200), 1);
	assert_int_equal(trips_of("GET", "/todos?filter=active", NULL, 200), 1);
	snprintf(body, sizeof(body), "title=new+one&token=%s", t);
	assert_int_equal(trips_of("POST", "/todos", body, 303), 1);
	assert_int_equal(trips_of("POST", "/todos", "title=", 422), 1);
	snprintf(path, sizeof(path), "/todos/%ld/edit", id);
	assert_int_equal(trips_of("GET", path, NULL, 200), 1);
	snprintf(path, sizeof(path), "/todos/%ld", id);
	assert_int_equal(trips_of("POST", path, "title=renamed", 303), 1);
	assert_int_equal(trips_of("POST", path, "title=", 422), 1);
	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	assert_int_equal(trips_of("POST", path, "", 303), 1);
	snprintf(path, sizeof(path), "/todos/%ld/delete", other);
	assert_int_equal(trips_of("POST", path, "", 303), 1);
	assert_int_equal(trips_of("POST", "/todos/toggle-all", "", 303), 1);
	assert_int_equal(trips_of("POST", "/todos/clear-completed", "", 303), 1);
	assert_int_equal(trips_of("GET", "/healthz", NULL, 200), 1);
	/* Requests that never need the database make no round trip. */
	assert_int_equal(trips_of("GET", "/nope", NULL, 404), 0);
	assert_int_equal(trips_of("GET", "/", NULL, 302), 0);
	free(t);
}

static void
test_database_outage_and_recovery(void **state)
{
	pid_t pid = (pid_t)atoi(getenv("TODO_E2E_RTPROXY_PID"));
	const char *restart = getenv("TODO_E2E_RTPROXY_CMD");
	struct http_resp r;
	int i, ok = 0;

	(void)state;
	/* The database "goes away": the proxy stops and refuses connections. */
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
		sleep_ms(20);
	get("/todos", NULL, &r);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "database is not answering"));
	assert_non_null(header(&r, "Retry-After"));
	http_resp_free(&r);
	get("/healthz", NULL, &r);
	assert_int_equal(r.status, 503);
	http_resp_free(&r);
	/* It comes back; the app recovers by itself within its back-off. */
	assert_int_equal(system(restart), 0);
	for (i = 0; i < 100 && !ok; i++) {
		get("/healthz", NULL, &r);
		ok = r.status == 200;
		http_resp_free(&r);
		if (!ok)
			sleep_ms(100);
	}
	assert_true(ok);
	for (i = 0; i < 20; i++) {
		get("/todos", NULL, &r);
		if (r.status != 200)
			ok = 0;
		http_resp_free(&r);
		if (!ok) {
			sleep_ms(250);   /* another worker still in its back-off */
			ok = 1;
			i--;
			continue;
		}
	}
}

/* ---- faults: locks, terminated backends, a read-only database, outages
 * under writes, a pooler restart. Each runs in both modes (direct and
 * through PgBouncer) unless it cannot apply to one; an admin connection
 * (superuser over the unix socket, straight to PostgreSQL) makes the fault
 * and reads what was stored. Every loop is bounded by count and time; the
 * bounds are behaviour (answered, recovered), not performance. ---- */

#define FAULT_BOUND_MS 3000      /* recovery after a fault ends */
#define OUTAGE_MS 10000          /* the database gone, under writes */
#define NOT_ANSWERING "The database is not answering right now"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
pooler_mode(void)
{
	const char *m = getenv("TODO_E2E_MODE");

	return m != NULL && strcmp(m, "pooler") == 0;
}

static int
workers(void)
{
	return atoi(getenv("TODO_E2E_WORKERS"));
}

/* The proxy's current pid: a restart (TODO_E2E_RTPROXY_CMD) writes the
 * new one into the pid file, so TODO_E2E_RTPROXY_PID may be stale. */
static pid_t
proxy_pid(void)
{
	FILE *f = fopen(getenv("TODO_E2E_RTPROXY_PIDFILE"), "r");
	long pid = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

/* pid exists and is not a zombie: a proxy restarted by
 * TODO_E2E_RTPROXY_CMD is nobody's child, and its zombie waits for init,
 * which may reap it late. */
static int
running(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int alive = 1;

	if (kill(pid, 0) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		alive = p[1] == ' ' && p[2] != 'Z';
	fclose(f);
	return alive;
}

/* A random form token (UUID version 4), as the add form would carry.
 * Children call it too: it aborts rather than asserts. */
static void
new_token(char out[37])
{
	unsigned char r[16];
	FILE *f = fopen("/dev/urandom", "r");

	if (f == NULL || fread(r, 1, sizeof(r), f) != sizeof(r))
		abort();
	fclose(f);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* One request that may fail: status -1 is no answer within the client's
 * 5 s (HTTP_TIMEOUT_MS, above TODO_DB_TIMEOUT + the cancel's grace): a
 * hang. Never asserts, so children may use it. */
struct answer {
	int status;
	int retry_after;           /* has a Retry-After header */
	int not_answering;         /* the 503 page's text */
	int64_t t0, t1;            /* sent, answered (monotonic ms) */
};

static void
ask(const char *path, const char *body, struct answer *a)
{
	struct http_resp r;
	char buf[64];
	int rc;

	memset(a, 0, sizeof(*a));
	a->t0 = now_ms();
	rc = http_as(path, body, NULL, &r);
	a->t1 = now_ms();
	if (rc != 0) {
		a->status = -1;
		return;
	}
	a->status = r.status;
	a->retry_after = http_header(&r, "Retry-After", buf, sizeof(buf)) != NULL;
	a->not_answering = r.body != NULL && strstr(r.body, NOT_ANSWERING) != NULL;
	http_resp_free(&r);
}

/* The answer of a database-backed page that cannot reach its data. */
static void
assert_unavailable(const struct answer *a)
{
	assert_int_equal(a->status, 503);
	assert_true(a->retry_after);
	assert_true(a->not_answering);
}

/* A request in the background (a child process), to be answered while
 * the test does something else. */
struct bg {
	pid_t pid;
	int fd;
};

static void
bg_ask(struct bg *b, const char *path, const char *body)
{
	struct answer a;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	b->pid = fork();
	assert_true(b->pid >= 0);
	if (b->pid == 0) {
		close(p[0]);
		ask(path, body, &a);
		_exit(write(p[1], &a, sizeof(a)) == (ssize_t)sizeof(a) ? 0 : 1);
	}
	close(p[1]);
	b->fd = p[0];
}

/* Wait for a child for at most ms, then kill it; its exit status or -1. */
static int
reap(pid_t pid, int ms)
{
	int64_t end = now_ms() + ms;
	int st;

	while (now_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void
bg_wait(struct bg *b, struct answer *a)
{
	struct pollfd pfd = { b->fd, POLLIN, 0 };

	memset(a, 0, sizeof(*a));
	a->status = -1;
	/* The child's own client gives up after 5 s. */
	if (poll(&pfd, 1, 8000) == 1 && read(b->fd, a, sizeof(*a)) != (ssize_t)sizeof(*a))
		a->status = -1;
	close(b->fd);
	assert_int_equal(reap(b->pid, 2000), 0);
	b->pid = 0;
}

/* ---- the admin connection ---- */

#define admin() e2e_admin("e2e-admin")
/* sql with at most one text parameter (e2e_admin.c). */
#define admin_sql(q, param) e2e_sql(q, param, NULL)

static long
titles(const char *title)
{
	return atol(admin_sql("SELECT count(*) FROM todos WHERE title = $1", title));
}

/* What Neon does when a compute suspends: every session of the database
 * but ours is ended (57P01). Returns how many were. */
static long
terminate_backends(void)
{
	return atol(admin_sql("SELECT count(*) FROM (SELECT "
	    "pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
	    "current_database() AND pid <> pg_backend_pid()) t", NULL));
}

/* ---- a writer: a child that adds todos, each with a unique title and a
 * fresh form token, and records every answer ---- */

struct wrec {
	int n, status, retry_after;
	int64_t t0, t1;
	char token[37];
};

struct writer {
	pid_t pid;
	int stop;                  /* closing it stops the child */
	char file[64];
	const char *tag;
};

static struct writer the_writer;

static void
writer_start(struct writer *w, const char *tag, int pause_ms)
{
	struct pollfd pfd;
	struct answer a;
	struct wrec rec;
	char body[256];
	int64_t end;
	int p[2], fd;
	FILE *out;

	w->tag = tag;
	snprintf(w->file, sizeof(w->file), "/tmp/e2e-writer.XXXXXX");
	assert_true((fd = mkstemp(w->file)) >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	w->pid = fork();
	assert_true(w->pid >= 0);
	if (w->pid == 0) {
		close(p[1]);
		out = fdopen(fd, "w");
		end = now_ms() + 60000;
		for (rec.n = 0; rec.n < 5000 && now_ms() < end; rec.n++) {
			pfd = (struct pollfd){ p[0], POLLIN, 0 };
			if (poll(&pfd, 1, 0) != 0)
				break;      /* closed: stop */
			new_token(rec.token);
			snprintf(body, sizeof(body), "title=%s+%d&description=&token=%s",
			    tag, rec.n, rec.token);
			ask("/todos", body, &a);
			rec.status = a.status;
			rec.retry_after = a.retry_after;
			rec.t0 = a.t0;
			rec.t1 = a.t1;
			if (fwrite(&rec, sizeof(rec), 1, out) != 1)
				_exit(1);
			fflush(out);
			sleep_ms(pause_ms);
		}
		_exit(fclose(out) == 0 ? 0 : 1);
	}
	close(fd);
	close(p[0]);
	w->stop = p[1];
}

/* Stop the writer; its records (malloc'd) and their number. */
static int
writer_stop(struct writer *w, struct wrec **recs)
{
	struct stat st;
	FILE *f;
	int n;

	close(w->stop);
	assert_int_equal(reap(w->pid, 10000), 0);
	w->pid = 0;
	f = fopen(w->file, "r");
	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	n = (int)(st.st_size / (off_t)sizeof(**recs));
	*recs = calloc((size_t)n + 1, sizeof(**recs));
	assert_int_equal(fread(*recs, sizeof(**recs), (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(w->file);
	return n;
}

/* Check a writer's records against what is stored. A 303 must be stored
 * exactly once (no acknowledged write lost); a 503 must not be stored (a
 * failed write is never applied later), unless the request was in flight
 * while the connection was cut (cut_from..cut_to): its statement may have
 * committed on the server while the answer was lost, which no client can
 * tell. The app answers 503 then, and the 503 page asks to try again: a
 * retry of the same form after recovery must be acknowledged and leave
 * exactly one todo (the form token makes the create idempotent). Nothing
 * else may be answered. Returns the number of 303s. */
static int
check_writes(const struct writer *w, const struct wrec *recs, int n,
    int64_t cut_from, int64_t cut_to, int *in_doubt_applied)
{
	char title[128], body[256];
	struct answer a;
	int i, acked = 0, failed = 0, doubt = 0, doubt_applied = 0;
	long c;

	for (i = 0; i < n; i++) {
		snprintf(title, sizeof(title), "%s %d", w->tag, recs[i].n);
		c = titles(title);
		if (recs[i].status == 303) {
			acked++;
			if (c != 1)
				fail_msg("%s: answered 303, stored %ld times", title, c);
			continue;
		}
		if (recs[i].status != 503 || !recs[i].retry_after)
			fail_msg("%s: answered %d%s (sent %lld ms after the cut began)",
			    title, recs[i].status, recs[i].retry_after ? "" :
			    " without Retry-After", (long long)(recs[i].t0 - cut_from));
		failed++;
		if (recs[i].t0 < cut_to && recs[i].t1 > cut_from) {
			doubt++;
			doubt_applied += c != 0;
			if (c > 1)
				fail_msg("%s: in flight at the cut, stored %ld times", title, c);
			snprintf(body, sizeof(body), "title=%s+%d&description=&token=%s",
			    w->tag, recs[i].n, recs[i].token);
			ask("/todos", body, &a);
			assert_int_equal(a.status, 303);
			assert_int_equal(titles(title), 1);
			continue;
		}
		if (c != 0)
			fail_msg("%s: answered 503 (sent %lld ms after the cut began, "
			    "answered in %lld ms) but stored %ld time(s)", title,
			    (long long)(recs[i].t0 - cut_from),
			    (long long)(recs[i].t1 - recs[i].t0), c);
	}
	/* And nothing stored that no request asked for twice. */
	snprintf(title, sizeof(title), "%s %%", w->tag);
	assert_int_equal(atol(admin_sql("SELECT count(*) - count(DISTINCT title) "
	    "FROM todos WHERE title LIKE $1", title)), 0);
	print_message("%s: %d writes, %d acknowledged, %d failed (503); %d in "
	    "flight at the cut (%lld ms), %d of them applied\n", w->tag, n, acked,
	    failed, doubt, (long long)(cut_to - cut_from), doubt_applied);
	if (in_doubt_applied != NULL)
		*in_doubt_applied = doubt_applied;
	return acked;
}

/* After a fault ended at `from`: GET /todos until it answers 200, then
 * until 2 x workers answers in a row are 200 (every worker is back). Each
 * answer before that must be a 503 with Retry-After, never a 502 or no
 * answer. Both within FAULT_BOUND_MS. Returns ms to the first 200. */
static long
recovers(int64_t from, const char *what)
{
	struct answer a;
	int64_t first = 0;
	int run = 0, i;

	for (i = 0; i < 1000 && run < 2 * workers(); i++) {
		ask("/todos", NULL, &a);
		if (a.status == 200) {
			if (first == 0)
				first = a.t1;
			run++;
			continue;
		}
		if (a.status != 503)
			fail_msg("%s: GET /todos answered %d while recovering", what, a.status);
		assert_unavailable(&a);
		run = 0;
		if (now_ms() - from > FAULT_BOUND_MS)
			fail_msg("%s: not recovered %d ms after the fault ended", what,
			    FAULT_BOUND_MS);
		sleep_ms(20);
	}
	assert_true(first != 0);
	print_message("%s: first 200 %lld ms after the fault ended\n", what,
	    (long long)(first - from));
	return (long)(first - from);
}

/* Undo what a fault test may leave behind when it fails half-way: an
 * open lock (the admin connection), a writer, a read-only database. */
static int
fault_teardown(void **state)
{
	(void)state;
	if (the_writer.pid > 0) {
		kill(the_writer.pid, SIGKILL);
		waitpid(the_writer.pid, NULL, 0);
		close(the_writer.stop);
		unlink(the_writer.file);
		the_writer.pid = 0;
	}
	e2e_admin_close();
	return 0;
}

/* a. Writes stuck behind a lock are cancelled (the role's lock_timeout,
 * else the app's TODO_DB_TIMEOUT): 503, and they are not applied after the
 * lock goes; then the same writes work on every worker. The workers'
 * connections are fresh first (as after a compute resumed), so each write
 * is prepared (Parse) on its first use behind the lock: a prepared
 * statement that failed to prepare must not spoil the connection (through
 * a pooler it is the pooler's bookkeeping too). */
static void
test_write_behind_lock_fails_cleanly(void **state)
{
	char path[64], body[16][256], tok[37], idstr[32], title[64];
	int nw = workers(), i;
	struct answer a, h;
	struct bg b[16];
	long id;

	(void)state;
	assert_true(nw <= 16);
	clear_all();
	add("Stuck+behind+a+lock");
	id = id_of("Stuck behind a lock");
	assert_true(id > 0);
	snprintf(idstr, sizeof(idstr), "%ld", id);
	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	for (i = 0; i < nw; i++) {
		new_token(tok);
		snprintf(body[i], sizeof(body[i]),
		    "title=Added+behind+a+lock+%d&description=&token=%s", i, tok);
	}
	assert_true(terminate_backends() >= 1);
	recovers(now_ms(), "fresh connections");

	admin_sql("BEGIN", NULL);
	admin_sql("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE", NULL);
	/* One toggle per worker, all waiting for the lock; the health check
	 * is answered as soon as a worker is free again. */
	for (i = 0; i < nw; i++)
		bg_ask(&b[i], path, "");
	sleep_ms(100);
	ask("/healthz", NULL, &h);
	assert_true(h.status == 200 || h.status == 503);
	for (i = 0; i < nw; i++) {
		bg_wait(&b[i], &a);
		assert_unavailable(&a);
	}
	for (i = 0; i < nw; i++)                /* one add per worker */
		bg_ask(&b[i], "/todos", body[i]);
	for (i = 0; i < nw; i++) {
		bg_wait(&b[i], &a);
		assert_unavailable(&a);
	}
	ask("/todos", NULL, &a);                /* the list is behind it too */
	assert_unavailable(&a);
	ask("/healthz", NULL, &h);
	assert_true(h.status == 200 || h.status == 503);
	admin_sql("COMMIT", NULL);

	/* None of the writes was applied, not even after the lock went. */
	sleep_ms(200);
	assert_string_equal(admin_sql("SELECT completed FROM todos WHERE id = $1", idstr), "f");
	assert_string_equal(admin_sql("SELECT count(*) FROM todos WHERE title LIKE "
	    "'Added behind a lock %'", NULL), "0");
	/* And they work now, on every worker: each toggle once (it is never
	 * retried, so a spoilt connection would show as a 503), each add
	 * once (the same form sent again, as the 503 page asks). */
	for (i = 0; i < 2 * nw; i++) {
		ask(path, "", &a);
		if (a.status != 303)
			fail_msg("toggle %d after the lock went answered %d", i + 1, a.status);
		assert_string_equal(admin_sql("SELECT completed FROM todos WHERE id = $1",
		    idstr), i % 2 == 0 ? "t" : "f");
	}
	for (i = 0; i < nw; i++) {
		ask("/todos", body[i], &a);
		assert_int_equal(a.status, 303);
		snprintf(title, sizeof(title), "Added behind a lock %d", i);
		assert_int_equal(titles(title), 1);
	}
	clear_all();
}

/* b. Every backend terminated (Neon suspending a compute, an admin, a
 * failover): the app notices the closed connections before it uses them
 * and reconnects, so pages work again at once. Through PgBouncer the
 * server connections are the pooler's: it may hand one that it has not
 * yet seen closed to a client, which then loses its connection; the app
 * retries idempotent statements once, but one 503 per worker is allowed
 * there. */
static void
test_terminated_backends_reconnect(void **state)
{
	char body[256], tok[37];
	struct answer a;
	int i, n503 = 0, allowed = pooler_mode() ? workers() : 0;

	(void)state;
	clear_all();
	for (i = 0; i < 2 * workers(); i++) {   /* every worker connected */
		ask("/todos", NULL, &a);
		assert_int_equal(a.status, 200);
	}
	assert_true(terminate_backends() >= 1);
	for (i = 0; i < 4 * workers(); i++) {
		ask("/todos", NULL, &a);
		if (a.status == 503) {
			assert_unavailable(&a);
			n503++;
			continue;
		}
		assert_int_equal(a.status, 200);
	}
	if (n503 > allowed)
		fail_msg("%d answers of 503 after the backends were terminated "
		    "(%d allowed in %s mode)", n503, allowed,
		    pooler_mode() ? "pooler" : "direct");
	/* A create right after a termination is stored, once. */
	assert_true(terminate_backends() >= 1);
	new_token(tok);
	snprintf(body, sizeof(body), "title=After+terminate&description=&token=%s", tok);
	for (i = 0; i <= allowed; i++) {
		ask("/todos", body, &a);
		if (a.status != 503)
			break;
		assert_unavailable(&a);
		n503++;
	}
	assert_int_equal(a.status, 303);
	assert_true(n503 <= allowed * 2);
	assert_int_equal(titles("After terminate"), 1);
	clear_all();
}

static int read_only_set;

static void
set_read_only(int on)
{
	char sql[512], *id;

	id = PQescapeIdentifier(admin(), getenv("TODO_TEST_DBNAME"),
	    strlen(getenv("TODO_TEST_DBNAME")));
	assert_non_null(id);
	snprintf(sql, sizeof(sql), on ? "ALTER DATABASE %s SET "
	    "default_transaction_read_only = on" : "ALTER DATABASE %s RESET "
	    "default_transaction_read_only", id);
	PQfreemem(id);
	admin_sql(sql, NULL);
	read_only_set = on;
	/* New sessions take it: end the current ones. */
	terminate_backends();
}

static int
read_only_teardown(void **state)
{
	if (read_only_set)
		set_read_only(0);
	return fault_teardown(state);
}

/* e. A read-only database (a Neon read replica, a compute over its
 * storage quota): pages are read, writes answer 503 with Retry-After (not
 * 400: the request was fine). */
static void
test_read_only_database(void **state)
{
	char body[256], tok[37];
	struct answer a;
	int i, ok = 0;

	(void)state;
	clear_all();
	add("Read+before");
	set_read_only(1);
	/* Terminated backends: see test_terminated_backends_reconnect. */
	for (i = 0; i < 4 * workers() && ok < 2 * workers(); i++) {
		ask("/todos", NULL, &a);
		if (a.status != 200 && pooler_mode() && i < workers()) {
			assert_unavailable(&a);
			continue;
		}
		assert_int_equal(a.status, 200);
		ok++;
	}
	for (i = 0; i < 2 * workers(); i++) {
		new_token(tok);
		snprintf(body, sizeof(body), "title=Read+only+%d&description=&token=%s", i, tok);
		ask("/todos", body, &a);
		assert_unavailable(&a);
	}
	assert_string_equal(admin_sql("SELECT count(*) FROM todos WHERE title LIKE 'Read only %'", NULL), "0");
	set_read_only(0);
	/* Writable again, at once (the app's connection was ended). */
	new_token(tok);
	snprintf(body, sizeof(body), "title=Written+after&description=&token=%s", tok);
	for (i = 0; i < 1 + (pooler_mode() ? workers() : 0); i++) {
		ask("/todos", body, &a);
		if (a.status != 503)
			break;
	}
	assert_int_equal(a.status, 303);
	assert_int_equal(titles("Written after"), 1);
	clear_all();
}

/* c. The database gone for OUTAGE_MS (the proxy killed: no route to it)
 * under a writer: every answer meanwhile is a 503 with Retry-After, never
 * a 502 or a hang; once it is back the app recovers by itself within
 * FAULT_BOUND_MS; no acknowledged write is lost and no failed one is
 * applied. */
static void
test_outage_under_writes(void **state)
{
	const char *restart = getenv("TODO_E2E_RTPROXY_CMD");
	struct wrec *recs;
	struct answer a;
	int64_t cut_from, cut_to, back, end;
	pid_t pid = proxy_pid();
	int i, n, acked_before = 0, acked_after = 0, pages = 0;

	(void)state;
	clear_all();
	writer_start(&the_writer, "outage", 20);
	sleep_ms(500);
	cut_from = now_ms();
	assert_int_equal(kill(pid, SIGTERM), 0);
	for (i = 0; i < 500 && running(pid); i++)
		sleep_ms(10);
	assert_false(running(pid));
	cut_to = now_ms();
	end = cut_from + OUTAGE_MS;
	for (i = 0; i < 2000 && now_ms() < end; i++) {
		ask(i % 4 == 3 ? "/healthz" : "/todos", NULL, &a);
		if (a.status != 503)
			fail_msg("%s answered %d %lld ms into the outage",
			    i % 4 == 3 ? "/healthz" : "/todos", a.status,
			    (long long)(a.t0 - cut_from));
		if (i % 4 != 3)
			assert_unavailable(&a);
		pages++;
		sleep_ms(50);
	}
	assert_true(pages > 10);
	back = now_ms();
	assert_int_equal(system(restart), 0);
	recovers(back, "outage");
	sleep_ms(1000);                         /* the writer goes on */
	n = writer_stop(&the_writer, &recs);
	for (i = 0; i < n; i++) {
		if (recs[i].status == 303 && recs[i].t1 < cut_from)
			acked_before++;
		if (recs[i].status == 303 && recs[i].t0 > back)
			acked_after++;
		/* Between the cut and the restart nothing can succeed. */
		if (recs[i].t0 > cut_to && recs[i].t1 < back)
			assert_int_equal(recs[i].status, 503);
	}
	assert_true(acked_before > 0);
	assert_true(acked_after > 0);
	check_writes(&the_writer, recs, n, cut_from, cut_to, NULL);
	free(recs);
	clear_all();
}

/* d. PgBouncer restarted (Neon restarts its pooler): idle, then under a
 * light writer. Pooler mode only: in direct mode there is no pooler (the
 * harness shares PostgreSQL with other tests, so restarting PostgreSQL
 * itself is left to bench/faults, which has a private cluster). */
static void
test_pooler_restart(void **state)
{
	const char *restart = getenv("TODO_E2E_POOLER_RESTART_CMD");
	struct wrec *recs;
	struct answer a;
	int64_t cut_from, cut_to;
	int i, n;

	(void)state;
	if (!pooler_mode()) {
		skip();
		return;
	}
	assert_non_null(restart);
	clear_all();
	for (i = 0; i < 2 * workers(); i++) {   /* every worker connected */
		ask("/todos", NULL, &a);
		assert_int_equal(a.status, 200);
	}
	assert_int_equal(system(restart), 0);
	recovers(now_ms(), "pooler restart, idle");

	writer_start(&the_writer, "pooler", 50);
	sleep_ms(500);
	cut_from = now_ms();
	assert_int_equal(system(restart), 0);
	cut_to = now_ms();
	recovers(cut_to, "pooler restart, under writes");
	sleep_ms(1000);
	n = writer_stop(&the_writer, &recs);
	assert_true(check_writes(&the_writer, recs, n, cut_from, cut_to, NULL) > 0);
	free(recs);
	clear_all();
}

/* ---- the status pages: /status and /metrics (status_page.c) ---- */

/* A status page's body (asserting 200 and the headers the page needs). */
static char *
status_get(const char *path, const char *type)
{
	struct http_resp r;
	char *body;

	get(path, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(header(&r, "Content-Type"));
	assert_string_equal(header(&r, "Content-Type"), type);
	assert_non_null(header(&r, "Cache-Control"));
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	body = strdup(r.body);
	assert_non_null(body);
	http_resp_free(&r);
	return body;
}

/* A sample's value on a /metrics page (name and labels as written);
 * 0 when it is not there yet (a series appears with its first count). */
static long long
sample_of(const char *page, const char *sample)
{
	char key[256];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", sample);
	if ((p = strstr(page, key)) == NULL)
		return 0;
	return atoll(p + strlen(key));
}

static void
test_status_page_shows_the_pool(void **state)
{
	int workers = atoi(getenv("TODO_E2E_WORKERS"));
	char line[64], *b;

	(void)state;
	b = status_get("/status", "text/plain; charset=utf-8");
	assert_int_equal(strncmp(b, "pool:                 todo-fcgi\n", 32), 0);
	snprintf(line, sizeof(line), "\ntotal processes:      %d\n", workers);
	assert_non_null(strstr(b, line));
	/* One block per worker; this request's is running. */
	assert_int_equal(count(b, "\n************************\n"), (size_t)workers);
	assert_true(count(b, "\nstate:                Running\n") >= 1);
	assert_non_null(strstr(b, "\nrequest:              GET /status\n"));
	/* The pool's unix socket: its queue is known (sock_diag). */
	assert_non_null(strstr(b, "\nlisten queue:         0\n"));
	assert_non_null(strstr(b, "\nlisten queue len:     128\n"));
	free(b);
	b = status_get("/status?json", "application/json");
	assert_int_equal(strncmp(b, "{\"pool\":\"todo-fcgi\",", 19), 0);
	snprintf(line, sizeof(line), "\"total processes\":%d,", workers);
	assert_non_null(strstr(b, line));
	free(b);
}

/* Counters grow by exactly the requests made: three lists, and the
 * /metrics request before them. */
static void
test_metrics_count_requests(void **state)
{
	static const char list_ok[] = "todo_requests_total{route=\"list\",status=\"200\"}",
	    list_n[] = "todo_request_duration_seconds_count{route=\"list\"}",
	    list_inf[] = "todo_request_duration_seconds_bucket{route=\"list\",le=\"+Inf\"}",
	    metrics_ok[] = "todo_requests_total{route=\"metrics\",status=\"200\"}",
	    type[] = "text/plain; version=0.0.4; charset=utf-8";
	struct http_resp r;
	char *a, *b;
	int i;

	(void)state;
	a = status_get("/metrics", type);
	for (i = 0; i < 3; i++) {
		get("/todos", NULL, &r);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
	}
	b = status_get("/metrics", type);
	assert_int_equal(sample_of(b, list_ok) - sample_of(a, list_ok), 3);
	assert_int_equal(sample_of(b, list_n) - sample_of(a, list_n), 3);
	assert_int_equal(sample_of(b, list_inf), sample_of(b, list_n));
	assert_int_equal(sample_of(b, metrics_ok) - sample_of(a, metrics_ok), 1);
	/* Every request is accepted before it is answered. */
	assert_true(sample_of(b, "todo_accepted_total") -
	    sample_of(a, "todo_accepted_total") >= 4);
	assert_non_null(strstr(b, "\n# TYPE todo_request_duration_seconds histogram\n"));
	assert_non_null(strstr(b, "\ntodo_worker_restarts_total{reason=\"crash\"} "));
	assert_non_null(strstr(b, "\ntodo_listen_queue 0\n"));
	assert_true(sample_of(b, "process_start_time_seconds") > 1600000000);
	free(a);
	free(b);
}

/* The pages come from shared memory: no database round trip. */
static void
test_status_pages_make_no_round_trips(void **state)
{
	char pid[32];

	(void)state;
	/* The fault tests restarted the proxy: rt_signal must reach this one. */
	snprintf(pid, sizeof(pid), "%ld", (long)proxy_pid());
	setenv("TODO_E2E_RTPROXY_PID", pid, 1);
	warm_up();
	assert_int_equal(trips_of("GET", "/status", NULL, 200), 0);
	assert_int_equal(trips_of("GET", "/status?json", NULL, 200), 0);
	assert_int_equal(trips_of("GET", "/metrics", NULL, 200), 0);
}

/* Sign up the person every test runs as (a new one each run): GET
 * /signup for the pre-session cookie and its form's token, POST /signup,
 * then the list page for the session's form token. */
static int
signup_setup(void **state)
{
	struct http_resp r;
	char pre[64], pre_csrf[64], email[128], body[512], hdr[128], *v;
	int ok;

	(void)state;
	if (http_get(host, port, "/signup", NULL, &r) != 0)
		return -1;
	v = http_form_value(r.body != NULL ? r.body : "", "csrf_token");
	ok = r.status == 200 && v != NULL && strlen(v) < sizeof(pre_csrf) &&
	    http_cookie_value(&r, "pre" SESSION_COOKIE, pre, sizeof(pre)) != NULL;
	if (ok)
		strcpy(pre_csrf, v);
	free(v);
	http_resp_free(&r);
	if (!ok) {
		fprintf(stderr, "e2e_http: GET /signup gave no pre-session cookie "
		    "and form token\n");
		return -1;
	}
	snprintf(email, sizeof(email), "e2e-http-%ld%%40example.test", (long)getpid());
	snprintf(body, sizeof(body), "email=%s&password=correct+horse+battery+"
	    "staple+%ld&csrf_token=%s", email, (long)getpid(), pre_csrf);
	snprintf(hdr, sizeof(hdr), "Cookie: pre" SESSION_COOKIE "=%s\r\n", pre);
	if (http_post_form(host, port, "/signup", body, hdr, &r) != 0)
		return -1;
	ok = r.status == 303 && http_cookie_value(&r, SESSION_COOKIE, session,
	    sizeof(session)) != NULL && strlen(session) == 43;
	if (!ok)
		fprintf(stderr, "e2e_http: POST /signup answered %d without a "
		    "session cookie: %.300s\n", r.status, r.body);
	http_resp_free(&r);
	if (!ok)
		return -1;
	if (http_as("/todos", NULL, NULL, &r) != 0)
		return -1;
	v = http_form_value(r.body, "csrf_token");
	ok = r.status == 200 && v != NULL && strlen(v) < sizeof(csrf);
	if (ok)
		strcpy(csrf, v);
	free(v);
	http_resp_free(&r);
	if (!ok)
		fprintf(stderr, "e2e_http: signed up, but the list page has no "
		    "csrf_token\n");
	return ok ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_redirects),
		cmocka_unit_test(test_list_page_and_headers),
		cmocka_unit_test(test_create_redirects_with_confirmation),
		cmocka_unit_test(test_double_submit_creates_one),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_escaping_and_sql_text),
		cmocka_unit_test(test_edit_update_toggle_delete),
		cmocka_unit_test(test_toggle_all_and_clear_completed),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_not_found_and_methods),
		cmocka_unit_test(test_head_request),
		cmocka_unit_test(test_answers_arrive_whole),
		cmocka_unit_test(test_cross_site_posts_refused),
		cmocka_unit_test(test_bad_encodings),
		cmocka_unit_test(test_oversized_bodies),
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_one_round_trip_per_request),
		cmocka_unit_test(test_killed_worker_is_replaced),
		cmocka_unit_test(test_reload_replaces_workers_without_failing_requests),
		cmocka_unit_test(test_database_outage_and_recovery),
		cmocka_unit_test_teardown(test_write_behind_lock_fails_cleanly, fault_teardown),
		cmocka_unit_test_teardown(test_terminated_backends_reconnect, fault_teardown),
		cmocka_unit_test_teardown(test_read_only_database, read_only_teardown),
		cmocka_unit_test_teardown(test_outage_under_writes, fault_teardown),
		cmocka_unit_test_teardown(test_pooler_restart, fault_teardown),
		cmocka_unit_test(test_status_page_shows_the_pool),
		cmocka_unit_test(test_metrics_count_requests),
		cmocka_unit_test(test_status_pages_make_no_round_trips),
	};
	const char *p = getenv("TODO_E2E_PORT");

	if (p == NULL) {
		fprintf(stderr, "e2e_http: run me through tests/e2e-harness\n");
		return 1;
	}
	port = atoi(p);
	/* system() needs SIGCHLD; the harness may have left it ignored. */
	signal(SIGCHLD, SIG_DFL);
	return cmocka_run_group_tests_name("e2e_http", tests, signup_setup, NULL);
}
