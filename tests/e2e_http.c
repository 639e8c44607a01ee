/* e2e_http.c - end-to-end tests: real nginx in front of the real pool and a
 * real PostgreSQL, over HTTP. Run by tests/e2e-harness, which exports:
 *   TODO_E2E_PORT        nginx's port on 127.0.0.1
 *   TODO_E2E_MASTER_PID  the pool's master process
 *   TODO_E2E_WORKERS     its worker count
 *   TODO_E2E_RTPROXY_PID the round-trip counting proxy between pool and db
 *   TODO_E2E_RTPROXY_STATS  its stats file
 *   TODO_E2E_RTPROXY_CMD a shell command that starts the proxy again
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

static const char *host = "127.0.0.1";
static int port;

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
get(const char *path, const char *headers, struct http_resp *r)
{
	assert_int_equal(http_get(host, port, path, headers, r), 0);
}

static void
post(const char *path, const char *body, const char *headers, struct http_resp *r)
{
	assert_int_equal(http_post_form(host, port, path, body, headers, r), 0);
}

static const char *
header(const struct http_resp *r, const char *name)
{
	static char buf[1024];

	if (http_header(r, name, buf, sizeof(buf)) == NULL)
		return NULL;
	return buf;
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

/* Id of the newest todo whose title is exactly `title` (HTML-escaped form),
 * read from the list page's toggle form action. */
static long
id_of(const char *title_html)
{
	struct http_resp r;
	char needle[1024];
	const char *p, *li;
	long id = -1;

	get("/todos", NULL, &r);
	snprintf(needle, sizeof(needle), "<p class=\"todo-title\">%s</p>", title_html);
	p = strstr(r.body, needle);
	if (p != NULL) {
		/* Walk back to the <li> of this todo, then find its action. */
		for (li = p; li > r.body && strncmp(li, "<li class=\"todo", 15) != 0; li--)
			;
		if (sscanf(strstr(li, "action=\"/todos/") + 15, "%ld", &id) != 1)
			id = -1;
	}
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
	assert_non_null(strstr(header(&r, "Set-Cookie"), "flash=added"));
	http_resp_free(&r);

	get("/todos?filter=active", "Cookie: flash=added\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Todo added."));
	assert_non_null(strstr(r.body, "<p class=\"todo-title\">Buy milk</p>"));   /* trimmed */
	assert_non_null(strstr(r.body, "2 litres"));
	assert_non_null(strstr(r.body, "<strong>1</strong> item left"));
	/* The confirmation is shown once: its cookie is cleared. */
	assert_non_null(strstr(header(&r, "Set-Cookie"), "Max-Age=0"));
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
	char path[128], body[256];
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
	assert_string_equal(header(&r, "Location"), "/todos?filter=completed");
	http_resp_free(&r);
	get("/todos?filter=completed", NULL, &r);
	assert_non_null(strstr(r.body, ">Edited</p>"));
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	post(path, "return_to=%2Ftodos%3Ffilter%3Dactive", NULL, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos?filter=active");
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
	assert_string_equal(header(&r, "Location"), "/todos");
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
	assert_string_equal(header(&r, "Location"), "/todos?filter=completed");
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
	assert_int_equal(count(r.body, "<li class=\"todo"), 50);
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
	assert_int_equal(count(r.body, "<li class=\"todo"), 50);
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
	assert_int_equal(count(r.body, "<li class=\"todo"), 20);
	assert_non_null(strstr(r.body, ">item 001<"));
	assert_null(strstr(r.body, "rel=\"next\""));
	http_resp_free(&r);
	/* And back: the newer page of page 2 is page 1 again. */
	assert_non_null(strstr(newer, "after="));
	get(newer, NULL, &r);
	assert_int_equal(count(r.body, "<li class=\"todo"), 50);
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
	assert_int_equal(http_raw(host, port,
	    "DELETE /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
	    strlen("DELETE /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), &r, 5000), 0);
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
	const char *req = "HEAD /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	struct http_resp r;

	(void)state;
	assert_int_equal(http_raw(host, port, req, strlen(req), &r, 5000), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	http_resp_free(&r);
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
		const char *req = "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		    "Content-Type: text/plain\r\nContent-Length: 7\r\n\r\ntitle=x";
		assert_int_equal(http_raw(host, port, req, strlen(req), &r, 5000), 0);
		assert_int_equal(r.status, 415);
		http_resp_free(&r);
	}
}

static void
test_oversized_bodies(void **state)
{
	struct http_resp r;
	size_t n = 70000;
	char *body = malloc(n + 1);

	(void)state;
	memcpy(body, "title=", 6);
	memset(body + 6, 'a', n - 6);
	body[n] = '\0';
	post("/todos", body, NULL, &r);               /* over TODO_MAX_BODY */
	assert_int_equal(r.status, 413);
	http_resp_free(&r);
	free(body);
	n = 2 * 1024 * 1024;                            /* over nginx's limit */
	body = malloc(n + 1);
	memcpy(body, "title=", 6);
	memset(body + 6, 'a', n - 6);
	body[n] = '\0';
	post("/todos", body, NULL, &r);
	assert_int_equal(r.status, 413);
	http_resp_free(&r);
	free(body);
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
test_killed_worker_is_replaced(void **state)
{
	pid_t master = (pid_t)atoi(getenv("TODO_E2E_MASTER_PID"));
	int workers = atoi(getenv("TODO_E2E_WORKERS"));
	pid_t before[64], after[64];
	struct http_resp r;
	int n, i, tries, replaced = 0;

	(void)state;
	n = children(master, before, 64);
	assert_int_equal(n, workers);
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

struct rt_stats {
	long round_trips;
	long connections;
};

/* Signal the proxy and read the stats file it writes in answer. The file
 * is removed first and waited for, so each answer is to this signal (two
 * signals pending at once would be handled in signal-number order). */
static void
rt_signal(int sig, struct rt_stats *s)
{
	const char *file = getenv("TODO_E2E_RTPROXY_STATS");
	pid_t pid = (pid_t)atoi(getenv("TODO_E2E_RTPROXY_PID"));
	struct stat st;
	char key[32];
	long val;
	FILE *f;
	int tries;

	unlink(file);
	assert_int_equal(kill(pid, sig), 0);
	for (tries = 0; tries < 400 && stat(file, &st) != 0; tries++)
		sleep_ms(5);
	f = fopen(file, "r");
	assert_non_null(f);
	memset(s, 0, sizeof(*s));
	while (fscanf(f, "%31s %ld", key, &val) == 2) {
		if (strcmp(key, "round_trips") == 0)
			s->round_trips = val;
		else if (strcmp(key, "connections") == 0)
			s->connections = val;
	}
	fclose(f);
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
		cmocka_unit_test(test_cross_site_posts_refused),
		cmocka_unit_test(test_bad_encodings),
		cmocka_unit_test(test_oversized_bodies),
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_one_round_trip_per_request),
		cmocka_unit_test(test_killed_worker_is_replaced),
		cmocka_unit_test(test_reload_replaces_workers_without_failing_requests),
		cmocka_unit_test(test_database_outage_and_recovery),
	};
	const char *p = getenv("TODO_E2E_PORT");

	if (p == NULL) {
		fprintf(stderr, "e2e_http: run me through tests/e2e-harness\n");
		return 1;
	}
	port = atoi(p);
	/* system() needs SIGCHLD; the harness may have left it ignored. */
	signal(SIGCHLD, SIG_DFL);
	return cmocka_run_group_tests_name("e2e_http", tests, NULL, NULL);
}
