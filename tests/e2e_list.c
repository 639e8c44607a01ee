/* e2e_list.c - the list page end to end (issue 9): search through nginx
 * and the pool (the query kept in every link and form), hostile queries,
 * the pager's position, the redirect away from an emptied page, and the
 * person's time zone in every <time datetime>; issue 10: the page's
 * weight, and conditional requests (the list page's ETag and the 304
 * through nginx).
 *
 * Run by tests/e2e-harness (TODO_E2E_PORT) under tests/pg-harness
 * (TODO_TEST_PGHOST, TODO_TEST_PGPORT, TODO_TEST_DBNAME for the admin
 * connection, which adds many todos at once and moves them in time).
 * Every person is new, so the tests share nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "e2e_admin.h"
#include "httpc.h"

#define SESSION		"session"
#define PRESESSION	"presession"

static const char *host = "127.0.0.1";
static int port;

static const char *
header(const struct http_resp *r, const char *name)
{
	static char buf[2048];

	return http_header(r, name, buf, sizeof(buf));
}

static const char *
enc(const char *s)
{
	static char bufs[4][16384];
	static int next;
	char *e = http_urlencode(s), *b = bufs[next++ % 4];

	assert_non_null(e);
	assert_true(strlen(e) < sizeof(bufs[0]));
	strcpy(b, e);
	free(e);
	return b;
}

/* ---- the admin connection ---- */

#define admin() e2e_admin("e2e-list")
#define sql(q, p1, p2) e2e_sql(q, p1, p2)

/* ---- people ---- */

struct person {
	char email[128];
	char session[64];
	char csrf[64];
};

static int people;

static void
as(const struct person *p, const char *path, const char *body,
    const char *cookie, struct http_resp *r)
{
	char hdr[512];

	hdr[0] = '\0';
	if (cookie != NULL)
		snprintf(hdr, sizeof(hdr), "Cookie: %s\r\n", cookie);
	else if (p != NULL)
		snprintf(hdr, sizeof(hdr), "Cookie: " SESSION "=%s\r\n", p->session);
	if (body == NULL)
		assert_int_equal(http_get(host, port, path, hdr, r), 0);
	else
		assert_int_equal(http_post_form(host, port, path, body, hdr, r), 0);
}

static void
get_as(const struct person *p, const char *path, struct http_resp *r)
{
	as(p, path, NULL, NULL, r);
}

static void
post_as(const struct person *p, const char *path, const char *fields,
    struct http_resp *r)
{
	char body[8192];

	snprintf(body, sizeof(body), "%s%scsrf_token=%s", fields,
	    fields[0] != '\0' ? "&" : "", p->csrf);
	as(p, path, body, NULL, r);
}

/* p's email and the test password through form `path` (/signup or
 * /login, as a browser: its pre-session cookie and csrf_token): p ends up
 * signed in, with its session and the list page's csrf_token. */
static void
enter(struct person *p, const char *path)
{
	struct http_resp r;
	char body[1024], cookie[128], pre[64];
	char *v;

	get_as(NULL, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(http_cookie_value(&r, PRESESSION, pre, sizeof(pre)));
	v = http_form_value(r.body, "csrf_token");
	assert_non_null(v);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(p->email), enc("correct horse battery staple"), v);
	free(v);
	http_resp_free(&r);
	snprintf(cookie, sizeof(cookie), PRESESSION "=%s", pre);
	as(NULL, path, body, cookie, &r);
	if (r.status != 303)
		fail_msg("%s answered %d: %.300s", path, r.status, r.body);
	assert_non_null(http_cookie_value(&r, SESSION, p->session, sizeof(p->session)));
	http_resp_free(&r);
	get_as(p, "/todos", &r);
	assert_int_equal(r.status, 200);
	v = http_form_value(r.body, "csrf_token");
	assert_non_null(v);
	snprintf(p->csrf, sizeof(p->csrf), "%s", v);
	free(v);
	http_resp_free(&r);
}

/* A new person, signed up (through the sign-up form) and signed in. */
static void
signup(struct person *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->email, sizeof(p->email), "list-%ld-%d@example.test",
	    (long)getpid(), ++people);
	enter(p, "/signup");
}

static void
add(const struct person *p, const char *title, const char *description)
{
	struct http_resp r;
	char fields[4096];

	snprintf(fields, sizeof(fields), "title=%s&description=%s", enc(title),
	    enc(description != NULL ? description : ""));
	post_as(p, "/todos", fields, &r);
	if (r.status != 303)
		fail_msg("adding \"%s\" answered %d: %.300s", title, r.status, r.body);
	http_resp_free(&r);
}

/* n todos of p's, "Item 1" (oldest) to "Item n", a minute apart. */
static void
add_many(const struct person *p, int n)
{
	char count[16];

	snprintf(count, sizeof(count), "%d", n);
	sql("INSERT INTO todos (user_id, title, created_at, updated_at) "
	    "SELECT u.id, 'Item ' || g, now() - (($2::int - g) * interval '1 minute'), now() "
	    "FROM users u, generate_series(1, $2::int) g WHERE u.email = $1",
	    p->email, count);
}

/* The number of times needle occurs in hay. */
static int
occurrences(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* The href of the first <a ... rel="rel">, entities decoded (&amp;). */
static const char *
link_rel(const char *html, const char *rel)
{
	static char out[1024];
	char want[64];
	const char *a, *h, *e;
	size_t i, j;

	snprintf(want, sizeof(want), "rel=\"%s\"", rel);
	if ((a = strstr(html, want)) == NULL)
		return NULL;
	while (a > html && strncmp(a, "<a ", 3) != 0)
		a--;
	assert_non_null(h = strstr(a, "href=\""));
	h += 6;
	assert_non_null(e = strchr(h, '"'));
	for (i = 0, j = 0; h + i < e && j + 1 < sizeof(out); i++) {
		if (strncmp(h + i, "&amp;", 5) == 0) {
			out[j++] = '&';
			i += 4;
		} else {
			out[j++] = h[i];
		}
	}
	out[j] = '\0';
	return out;
}

/* ---- tests ---- */

static void
test_search_through_nginx_keeps_q(void **state)
{
	struct person me, other;
	struct http_resp r;
	char path[256];
	int forms, kept;

	(void)state;
	signup(&me);
	signup(&other);
	add(&me, "École trip", NULL);
	add(&me, "Buy bread", "for the école picnic");
	add(&me, "Water plants", NULL);
	add(&me, "100% sure", NULL);
	add(&me, "a_b", NULL);
	add(&other, "École of another person", NULL);
	/* case-insensitive beyond ASCII, in the title or the description */
	snprintf(path, sizeof(path), "/todos?q=%s", enc("ÉCOLE"));
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "École trip"));
	assert_non_null(strstr(r.body, "Buy bread"));
	assert_null(strstr(r.body, "Water plants"));
	assert_null(strstr(r.body, "another person"));
	assert_non_null(strstr(r.body, "Results for “ÉCOLE”"));
	assert_non_null(strstr(r.body, "value=\"ÉCOLE\""));
	assert_non_null(strstr(r.body, "<a href=\"/todos\">Clear search</a>"));
	/* every form's return_to and every filter link keep q */
	forms = occurrences(r.body, "name=\"return_to\"");
	kept = occurrences(r.body, "name=\"return_to\" value=\"/todos?q=%C3%89COLE\"");
	assert_true(forms >= 2);        /* the add form, the list's form */
	assert_int_equal(kept, forms);
	assert_non_null(strstr(r.body, "href=\"/todos?filter=active&amp;q=%C3%89COLE\""));
	assert_non_null(strstr(r.body, "href=\"/todos?filter=completed&amp;q=%C3%89COLE\""));
	assert_non_null(strstr(r.body, "return_to=%2Ftodos%3Fq%3D%25C3%2589COLE"));
	http_resp_free(&r);
	/* a toggle from the results comes back to them */
	snprintf(path, sizeof(path), "return_to=%s", enc("/todos?q=%C3%89COLE"));
	post_as(&me, "/todos/toggle-all", path, &r);
	assert_int_equal(r.status, 303);
	assert_non_null(strstr(header(&r, "Location"), "/todos?q=%C3%89COLE"));
	http_resp_free(&r);
	/* % and _ are plain characters */
	snprintf(path, sizeof(path), "/todos?q=%s", enc("%"));
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "100% sure"));
	assert_null(strstr(r.body, "Water plants"));
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/todos?q=%s", enc("_"));
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "a_b"));
	assert_null(strstr(r.body, "Water plants"));
	http_resp_free(&r);
	/* the filter and the search together; no match says so */
	snprintf(path, sizeof(path), "/todos?filter=active&q=%s", enc("école"));
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "No todos match “école”."));
	assert_non_null(strstr(r.body, "<input type=\"hidden\" name=\"filter\" value=\"active\">"));
	http_resp_free(&r);
	/* markup in q is text */
	snprintf(path, sizeof(path), "/todos?q=%s", enc("<b>\"x\"</b>"));
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "<b>\"x\"</b>"));
	assert_non_null(strstr(r.body, "&lt;b&gt;"));
	http_resp_free(&r);
}

static void
assert_4xx_page(const struct person *p, const char *path, int status)
{
	struct http_resp r;

	get_as(p, path, &r);
	if (r.status != status)
		fail_msg("GET %.80s... answered %d, not %d", path, r.status, status);
	if (status == 400)
		assert_non_null(strstr(r.body, "<title>"));
	http_resp_free(&r);
}

static void
test_hostile_queries_are_4xx_pages(void **state)
{
	static char path[12 * 1024];
	struct person me;
	size_t i;

	(void)state;
	signup(&me);
	add(&me, "Something", NULL);
	/* 201 characters: one too many */
	strcpy(path, "/todos?q=");
	for (i = 0; i < 201; i++)
		strcat(path, "x");
	assert_4xx_page(&me, path, 400);
	/* 200 two-byte characters are fine */
	strcpy(path, "/todos?q=");
	for (i = 0; i < 200; i++)
		strcat(path, "%C3%A9");
	assert_4xx_page(&me, path, 200);
	/* 4 KB: the app's own 400 */
	strcpy(path, "/todos?q=");
	for (i = 0; i < 4000; i++)
		strcat(path, "y");
	assert_4xx_page(&me, path, 400);
	/* invalid UTF-8, a NUL, a lone continuation byte, a bad escape */
	assert_4xx_page(&me, "/todos?q=%FF", 400);
	assert_4xx_page(&me, "/todos?q=a%00b", 400);
	assert_4xx_page(&me, "/todos?q=%80", 400);
	assert_4xx_page(&me, "/todos?q=%zz", 400);
	/* 10 KB: nginx's request line limit (8 KB) answers first, 414; never
	 * a 5xx */
	{
		struct http_resp r;

		strcpy(path, "/todos?q=");
		for (i = 0; i < 10 * 1024; i++)
			strcat(path, "z");
		get_as(&me, path, &r);
		assert_true(r.status >= 400 && r.status < 500);
		http_resp_free(&r);
	}
	/* blank is no search */
	assert_4xx_page(&me, "/todos?q=+++", 200);
}

static void
test_pager_position_and_total(void **state)
{
	struct person me;
	struct http_resp r;
	char older[1024], path[1200];

	(void)state;
	signup(&me);
	add_many(&me, 120);
	get_as(&me, "/todos", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "1–50 of 120"));
	assert_non_null(link_rel(r.body, "next"));
	snprintf(older, sizeof(older), "%s", link_rel(r.body, "next"));
	http_resp_free(&r);
	get_as(&me, older, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "51–100 of 120"));
	assert_non_null(strstr(r.body, "Item 70"));
	/* newer from page 3 comes back to 51-100 */
	snprintf(path, sizeof(path), "%s", link_rel(r.body, "next"));
	http_resp_free(&r);
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "101–120 of 120"));
	snprintf(path, sizeof(path), "%s", link_rel(r.body, "prev"));
	http_resp_free(&r);
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "51–100 of 120"));
	http_resp_free(&r);
	/* a search pages the same way, with q in the links */
	get_as(&me, "/todos?q=item+1", &r);     /* 1, 10-19, 100-120: 32 */
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "rel=\"next\""));
	http_resp_free(&r);
	get_as(&me, "/todos?q=ITEM", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "1–50 of 120"));
	snprintf(path, sizeof(path), "%s", link_rel(r.body, "next"));
	assert_non_null(strstr(path, "q=ITEM"));
	http_resp_free(&r);
	get_as(&me, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "51–100 of 120"));
	http_resp_free(&r);
}

static void
test_emptied_page_redirects_to_nearest(void **state)
{
	struct person me;
	struct http_resp r;
	char older[1024], after[1024];
	const char *loc;

	(void)state;
	signup(&me);
	add_many(&me, 60);
	get_as(&me, "/todos", &r);
	assert_int_equal(r.status, 200);
	snprintf(older, sizeof(older), "%s", link_rel(r.body, "next"));
	http_resp_free(&r);
	/* the second page's ten todos go */
	sql("DELETE FROM todos WHERE user_id = (SELECT id FROM users WHERE email = $1) "
	    "AND title IN ('Item 1','Item 2','Item 3','Item 4','Item 5','Item 6',"
	    "'Item 7','Item 8','Item 9','Item 10')", me.email, NULL);
	get_as(&me, older, &r);
	assert_int_equal(r.status, 303);
	loc = header(&r, "Location");
	assert_non_null(loc);
	/* the newer side of the cursor, its own row (Item 11) included: the
	 * last page that has todos */
	assert_non_null(strstr(loc, "after="));
	snprintf(after, sizeof(after), "%s", loc);
	http_resp_free(&r);
	get_as(&me, after, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, ">Item 11<"));
	assert_non_null(strstr(r.body, ">Item 60<"));
	assert_null(strstr(r.body, "rel=\"next\""));
	http_resp_free(&r);
	/* everything goes: both go to the first page, which stays */
	sql("DELETE FROM todos WHERE user_id = (SELECT id FROM users WHERE email = $1)",
	    me.email, NULL);
	get_as(&me, older, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos");
	http_resp_free(&r);
	get_as(&me, after, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos");
	http_resp_free(&r);
	get_as(&me, "/todos", &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
}

static void
test_time_zone_in_datetime(void **state)
{
	struct person me;
	struct http_resp r;

	(void)state;
	signup(&me);
	add(&me, "When was this", NULL);
	get_as(&me, "/todos", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "+00:00\" title=\""));
	assert_non_null(strstr(r.body, ">just now</time>"));
	http_resp_free(&r);
	get_as(&me, "/account", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<select id=\"time_zone\" name=\"time_zone\""));
	assert_non_null(strstr(r.body, "<option selected>UTC</option>"));
	assert_non_null(strstr(r.body, "<option>Asia/Kolkata</option>"));
	http_resp_free(&r);
	post_as(&me, "/account/time-zone", "time_zone=Asia%2FKolkata", &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/account");
	http_resp_free(&r);
	assert_string_equal(sql("SELECT time_zone FROM users WHERE email = $1", me.email, NULL),
	    "Asia/Kolkata");
	get_as(&me, "/todos", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "+05:30\" title=\""));
	assert_null(strstr(r.body, "+00:00\" title=\""));
	http_resp_free(&r);
	get_as(&me, "/account", &r);
	assert_non_null(strstr(r.body, "<option selected>Asia/Kolkata</option>"));
	assert_non_null(strstr(r.body, "+05:30"));
	http_resp_free(&r);
	/* unknown names: 422 with the reason, nothing changed */
	post_as(&me, "/account/time-zone", "time_zone=Mars%2FOlympus_Mons", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "not a time zone we know"));
	http_resp_free(&r);
	post_as(&me, "/account/time-zone", "time_zone=%27%3B+drop", &r);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	assert_string_equal(sql("SELECT time_zone FROM users WHERE email = $1", me.email, NULL),
	    "Asia/Kolkata");
	/* an alias PostgreSQL knows is saved, and offered back selected */
	post_as(&me, "/account/time-zone", "time_zone=US%2FPacific", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	get_as(&me, "/account", &r);
	assert_non_null(strstr(r.body, "<option selected>US/Pacific</option>"));
	assert_int_equal(occurrences(r.body, "<option selected>"), 1);
	http_resp_free(&r);
	/* a day-old todo in a negative zone */
	post_as(&me, "/account/time-zone", "time_zone=America%2FNew_York", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	sql("UPDATE todos SET created_at = '2026-07-04 16:00:00+00' WHERE user_id = "
	    "(SELECT id FROM users WHERE email = $1)", me.email, NULL);
	get_as(&me, "/todos", &r);
	assert_non_null(strstr(r.body, "datetime=\"2026-07-04T12:00:00-04:00\" "
	    "title=\"4 Jul 2026, 12:00\""));
	http_resp_free(&r);
}

/* Issue 10: the list page of bench/run's and bench/callgrind's 50 todos
 * (52-character titles, a description on every third, every fifth done,
 * a minute apart), first page, no flash, weighs at most 30,000 bytes. A
 * size, not a time: the markup may not grow back (it was 54,528 bytes). */
static void
test_page_weight(void **state)
{
	struct person me;
	struct http_resp r;

	(void)state;
	signup(&me);
	sql("INSERT INTO todos (user_id, title, description, completed, created_at, updated_at) "
	    "SELECT u.id, 'Todo number ' || g || ': buy milk, call Bob, write the report', "
	    "CASE WHEN g % 3 = 0 THEN 'Details for todo ' || g || ', a line of text.' END, "
	    "g % 5 = 0, now() - ((50 - g) * interval '1 minute'), now() - ((50 - g) * interval '1 minute') "
	    "FROM users u, generate_series(1, 50) g WHERE u.email = $1", me.email, NULL);
	get_as(&me, "/todos", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(occurrences(r.body, "<li id=\"todo-"), 50);
	assert_int_equal(occurrences(r.body, "<time datetime="), 50);
	assert_int_equal(occurrences(r.body, ", a line of text."), 16);
	assert_int_equal(occurrences(r.body, "aria-pressed=\"true\""), 10);
	assert_null(strstr(r.body, "class=\"flash"));
	/* The add form's token (formatted by hand): a random UUID, version 4,
	 * 8-4-4-4-12 lowercase hex digits. */
	{
		char *tok = http_form_value(r.body, "token");
		size_t i;

		assert_non_null(tok);
		assert_int_equal(strlen(tok), 36);
		for (i = 0; i < 36; i++)
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(tok[i], '-');
			else
				assert_non_null(strchr("0123456789abcdef", tok[i]));
		assert_int_equal(tok[14], '4');
		assert_non_null(strchr("89ab", tok[19]));
		free(tok);
	}
	print_message("the list page with 50 todos: %zu bytes\n", r.body_len);
	if (r.body_len > 30000)
		fail_msg("the list page with 50 todos is %zu bytes, over 30,000", r.body_len);
	http_resp_free(&r);
}

/* ---- conditional requests (etag.h) ---- */

/* GET path as p, with If-None-Match inm (NULL: none) and more cookies
 * (NULL: none) after the session's. */
static void
get_if(const struct person *p, const char *path, const char *inm,
    const char *cookies, struct http_resp *r)
{
	char hdr[1024];

	snprintf(hdr, sizeof(hdr), "Cookie: " SESSION "=%s%s%s\r\n%s%s%s",
	    p->session, cookies != NULL ? "; " : "", cookies != NULL ? cookies : "",
	    inm != NULL ? "If-None-Match: " : "", inm != NULL ? inm : "",
	    inm != NULL ? "\r\n" : "");
	assert_int_equal(http_get(host, port, path, hdr, r), 0);
}

/* p's page at path: 200 with a weak ETag and "private, no-cache";
 * the tag into out. */
static const char *
etag_of(const struct person *p, const char *path, char out[64])
{
	struct http_resp r;
	const char *t;

	get_if(p, path, NULL, NULL, &r);
	if (r.status != 200)
		fail_msg("GET %s answered %d", path, r.status);
	t = header(&r, "ETag");
	if (t == NULL)
		fail_msg("GET %s: no ETag", path);
	assert_true(strlen(t) < 64);
	assert_memory_equal(t, "W/\"", 3);
	snprintf(out, 64, "%s", t);
	assert_int_equal(http_header_count(&r, "ETag"), 1);
	assert_int_equal(http_header_count(&r, "Cache-Control"), 1);
	assert_string_equal(header(&r, "Cache-Control"), "private, no-cache");
	http_resp_free(&r);
	return out;
}

/* GET path as p with If-None-Match inm: 304 with tag; or (expect_200)
 * the page with another tag (into fresh, when not NULL). */
static void
expect_304_of(const struct person *p, const char *path, const char *inm,
    const char *tag)
{
	struct http_resp r;

	get_if(p, path, inm, NULL, &r);
	if (r.status != 304)
		fail_msg("GET %s with If-None-Match %s answered %d", path, inm, r.status);
	assert_int_equal(r.body_len, 0);
	assert_non_null(header(&r, "ETag"));
	assert_string_equal(header(&r, "ETag"), tag);
	assert_string_equal(header(&r, "Cache-Control"), "private, no-cache");
	assert_null(header(&r, "Set-Cookie"));
	http_resp_free(&r);
}

static void
expect_304(const struct person *p, const char *path, const char *tag)
{
	expect_304_of(p, path, tag, tag);
}

static void
expect_200(const struct person *p, const char *path, const char *tag,
    char *fresh)
{
	struct http_resp r;

	get_if(p, path, tag, NULL, &r);
	if (r.status != 200)
		fail_msg("GET %s with If-None-Match %s answered %d, not 200", path,
		    tag, r.status);
	assert_true(r.body_len > 0);
	assert_non_null(header(&r, "ETag"));
	assert_string_not_equal(header(&r, "ETag"), tag);
	if (fresh != NULL)
		snprintf(fresh, 64, "%s", header(&r, "ETag"));
	http_resp_free(&r);
}

static const char *
id_of(const struct person *p, const char *title)
{
	static char id[32];

	snprintf(id, sizeof(id), "%s", sql("SELECT id FROM todos WHERE user_id = "
	    "(SELECT id FROM users WHERE email = $1) AND title = $2", p->email, title));
	return id;
}

/* A form post as p that must be taken (303). */
static void
write_as(const struct person *p, const char *path, const char *fields)
{
	struct http_resp r;

	post_as(p, path, fields, &r);
	if (r.status != 303)
		fail_msg("POST %s answered %d: %.300s", path, r.status, r.body);
	http_resp_free(&r);
}

static void
test_conditional_get(void **state)
{
	struct person me;
	struct http_resp r;
	char tag[64], again[64], list[160];

	(void)state;
	signup(&me);
	add(&me, "Buy milk", "two litres");
	etag_of(&me, "/todos", tag);
	/* The same page, the same tag, though each rendering has a fresh
	 * add form token: what makes the tag weak. */
	assert_string_equal(etag_of(&me, "/todos", again), tag);
	expect_304(&me, "/todos", tag);
	/* Weak comparison: the tag without W/ (nginx's gzip leaves W/ on),
	 * in a list, with spaces. */
	expect_304_of(&me, "/todos", tag + 2, tag);
	snprintf(list, sizeof(list), "\"other\" ,  %s, W/\"x\"", tag);
	expect_304_of(&me, "/todos", list, tag);
	expect_304_of(&me, "/todos", "*", tag);
	/* Garbage never matches: the page, with its tag. */
	snprintf(list, sizeof(list), "%s junk", tag);
	expect_200(&me, "/todos", list, NULL);
	snprintf(list, sizeof(list), "%.20s", tag);
	expect_200(&me, "/todos", list, NULL);
	/* The 304 is all headers: nginx passes it on without a body or a
	 * Content-Length of its own. */
	get_if(&me, "/todos", tag, NULL, &r);
	assert_int_equal(r.status, 304);
	assert_null(header(&r, "Content-Length"));
	assert_null(strstr(r.headers, "Transfer-Encoding"));
	http_resp_free(&r);
}

static void
test_etag_changes_with_each_write(void **state)
{
	struct person me;
	char tag[64], next[64], fields[512], path[128];
	const char *id, *batch;

	(void)state;
	signup(&me);
	add(&me, "Buy milk", NULL);
	etag_of(&me, "/todos", tag);
	/* Each write: the old tag gets the page (200) with a new tag, and
	 * the new tag its 304. */
#define AFTER_WRITE() do {                                      \
	expect_200(&me, "/todos", tag, next);                   \
	expect_304(&me, "/todos", next);                        \
	snprintf(tag, sizeof(tag), "%s", next);                 \
} while (0)
	add(&me, "Water plants", NULL);
	AFTER_WRITE();
	id = id_of(&me, "Buy milk");
	snprintf(fields, sizeof(fields), "return_to=%%2Ftodos");
	snprintf(path, sizeof(path), "/todos/%s/toggle", id);
	write_as(&me, path, fields);
	AFTER_WRITE();
	snprintf(fields, sizeof(fields), "title=Buy+oat+milk&description=&completed=on");
	snprintf(path, sizeof(path), "/todos/%s", id);
	write_as(&me, path, fields);
	AFTER_WRITE();
	/* Only the description, from none to some. */
	snprintf(fields, sizeof(fields), "title=Buy+oat+milk&description=two&completed=on");
	write_as(&me, path, fields);
	AFTER_WRITE();
	snprintf(path, sizeof(path), "/todos/%s/delete", id);
	write_as(&me, path, "return_to=%2Ftodos");
	AFTER_WRITE();
	batch = sql("SELECT max(batch)::text FROM todo_trash WHERE user_id = "
	    "(SELECT id FROM users WHERE email = $1)", me.email, NULL);
	snprintf(fields, sizeof(fields), "batch=%s", batch);
	write_as(&me, "/todos/undo", fields);
	AFTER_WRITE();
	/* The person's time zone: every time on the page moves. */
	write_as(&me, "/account/time-zone", "time_zone=Asia%2FKolkata");
	AFTER_WRITE();
	/* A change made elsewhere (another browser, todoctl) too. */
	sql("UPDATE todos SET title = 'Water the plants' WHERE user_id = "
	    "(SELECT id FROM users WHERE email = $1)", me.email, NULL);
	AFTER_WRITE();
	write_as(&me, "/todos/toggle-all", "");
	AFTER_WRITE();
	write_as(&me, "/todos/clear-completed", "");
	AFTER_WRITE();
#undef AFTER_WRITE
}

static void
test_etag_is_per_person_and_view(void **state)
{
	struct person me, other;
	char tag[64], t2[64], path[256];
	struct http_resp r;

	(void)state;
	signup(&me);
	signup(&other);
	/* The same todos on both lists, and all of them active. */
	add(&me, "Buy milk", NULL);
	add(&other, "Buy milk", NULL);
	sql("UPDATE todos SET created_at = '2026-07-04 16:00:00+00' WHERE user_id IN "
	    "(SELECT id FROM users WHERE email IN ($1, $2))", me.email, other.email);
	etag_of(&me, "/todos", tag);
	/* Another person's tag never matches. */
	expect_200(&other, "/todos", tag, NULL);
	etag_of(&other, "/todos", t2);
	expect_200(&me, "/todos", t2, NULL);
	/* Nor another view of the same rows: filter, search, cursor. */
	expect_200(&me, "/todos?filter=active", tag, NULL);
	expect_200(&me, "/todos?q=milk", tag, NULL);
	expect_200(&me, "/todos?q=MILK", tag, NULL);
	expect_200(&me, "/todos?before=4102444800000000_1", tag, NULL);
	etag_of(&me, "/todos?q=milk", t2);
	expect_200(&me, "/todos?q=MILK", t2, NULL);
	expect_304(&me, "/todos?q=milk", t2);
	/* An equivalent address is the same view: one canonical URL. */
	expect_304(&me, "/todos?filter=all", tag);
	expect_304(&me, "/todos?q=+", tag);
	/* Signed out, a tag gets the way to sign in, not a 304. */
	snprintf(path, sizeof(path), "If-None-Match: %s\r\n", tag);
	assert_int_equal(http_get(host, port, "/todos", path, &r), 0);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

/* p signs out and in again: a new session, so a new csrf_token. */
static void
sign_out_and_in(struct person *p)
{
	write_as(p, "/logout", "");
	enter(p, "/login");
}

static void
test_no_etag_unless_plain_page(void **state)
{
	struct person me;
	struct http_resp r;
	char tag[64], old_csrf[64];

	(void)state;
	signup(&me);
	add(&me, "Buy milk", NULL);
	etag_of(&me, "/todos", tag);
	/* A pending flash is shown once: that page has no tag, is not
	 * stored, and is never a 304. */
	get_if(&me, "/todos", tag, "flash=added", &r);
	assert_int_equal(r.status, 200);
	assert_null(header(&r, "ETag"));
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	assert_non_null(strstr(r.body, "role=\"status\""));
	http_resp_free(&r);
	/* A flash cookie this app does not write is cleared all the same. */
	get_if(&me, "/todos", tag, "flash=bogus", &r);
	assert_int_equal(r.status, 200);
	assert_null(header(&r, "ETag"));
	http_resp_free(&r);
	/* A rejected form shown again (422), an error page, a redirect. */
	post_as(&me, "/todos", "title=+", &r);
	assert_int_equal(r.status, 422);
	assert_null(header(&r, "ETag"));
	assert_string_equal(header(&r, "Cache-Control"), "no-store");
	http_resp_free(&r);
	get_if(&me, "/todos?filter=bogus", tag, NULL, &r);
	assert_int_equal(r.status, 400);
	assert_null(header(&r, "ETag"));
	http_resp_free(&r);
	get_if(&me, "/todos?before=1_1", tag, NULL, &r);
	assert_int_equal(r.status, 303);
	assert_null(header(&r, "ETag"));
	http_resp_free(&r);
	/* The edit page keeps no-store. */
	snprintf(old_csrf, sizeof(old_csrf), "/todos/%s/edit", id_of(&me, "Buy milk"));
	get_if(&me, old_csrf, tag, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(header(&r, "ETag"));
	http_resp_free(&r);
	/* Signing out and in: a new csrf_token on the page, a new tag. */
	expect_304(&me, "/todos", tag);
	snprintf(old_csrf, sizeof(old_csrf), "%s", me.csrf);
	sign_out_and_in(&me);
	assert_string_not_equal(me.csrf, old_csrf);
	expect_200(&me, "/todos", tag, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_through_nginx_keeps_q),
		cmocka_unit_test(test_hostile_queries_are_4xx_pages),
		cmocka_unit_test(test_pager_position_and_total),
		cmocka_unit_test(test_emptied_page_redirects_to_nearest),
		cmocka_unit_test(test_time_zone_in_datetime),
		cmocka_unit_test(test_page_weight),
		cmocka_unit_test(test_conditional_get),
		cmocka_unit_test(test_etag_changes_with_each_write),
		cmocka_unit_test(test_etag_is_per_person_and_view),
		cmocka_unit_test(test_no_etag_unless_plain_page),
	};
	const char *p = getenv("TODO_E2E_PORT");
	int rc;

	if (p == NULL) {
		fprintf(stderr, "e2e_list: run me through tests/e2e-harness\n");
		return 1;
	}
	port = atoi(p);
	rc = cmocka_run_group_tests_name("e2e_list", tests, NULL, NULL);
	e2e_admin_close();
	return rc;
}
