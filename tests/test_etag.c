/* test_etag.c - conditional requests (etag.h): If-None-Match parsing
 * (lists, W/, *, spaces, empty elements, oversize, garbage), the list
 * page's tag changing with each thing the page shows and only with those
 * (on a page longer than the digest's buffer too),
 * the build identity, the If-None-Match request field and the 304
 * response (no body, no Content-Length, the 200's validator headers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "etag.h"
#include "reltime.h"
#include "request.h"
#include "response.h"
#include "store.h"

#define S 1000000LL
#define NOON_Z (1795953600LL * S)     /* 2026-11-29T12:00:00Z */

/* ---- If-None-Match ---- */

#define TAG "W/\"abcdefghijklmnopqrstuv\""
#define OPAQUE "\"abcdefghijklmnopqrstuv\""

static void
test_match_one(void **state)
{
	(void)state;
	assert_true(etag_matches(TAG, TAG));
	/* Weak comparison: W/ on either side or none. */
	assert_true(etag_matches(OPAQUE, TAG));
	assert_true(etag_matches(TAG, OPAQUE));
	assert_true(etag_matches(OPAQUE, OPAQUE));
	assert_true(etag_matches("  " TAG "\t", TAG));
	assert_false(etag_matches("W/\"abcdefghijklmnopqrstuw\"", TAG));
	assert_false(etag_matches("\"abcdefghijklmnopqrstu\"", TAG));
	assert_false(etag_matches("\"abcdefghijklmnopqrstuvw\"", TAG));
	assert_false(etag_matches(NULL, TAG));
	assert_false(etag_matches("", TAG));
	assert_false(etag_matches("   ", TAG));
}

static void
test_match_list(void **state)
{
	(void)state;
	assert_true(etag_matches("\"x\", " TAG, TAG));
	assert_true(etag_matches(TAG ",\"x\"", TAG));
	assert_true(etag_matches("W/\"x\" ,\t" OPAQUE " , \"y\"", TAG));
	/* Empty list elements are allowed (RFC 9110 5.6.1). */
	assert_true(etag_matches(", ," TAG ",,", TAG));
	assert_false(etag_matches("\"x\", \"y\"", TAG));
	assert_false(etag_matches(",", TAG));
	/* Obs-text is legal in someone else's tag. */
	assert_true(etag_matches("\"\xc3\xa9t\xc3\xa9\", " TAG, TAG));
}

static void
test_match_star(void **state)
{
	(void)state;
	assert_true(etag_matches("*", TAG));
	assert_true(etag_matches(" * ", TAG));
	/* "*" stands alone; in a list it is garbage. */
	assert_false(etag_matches("*, " TAG, TAG));
	assert_false(etag_matches(TAG ", *", TAG));
	assert_false(etag_matches("**", TAG));
	assert_false(etag_matches("\"*\"", TAG));
}

static void
test_match_garbage(void **state)
{
	(void)state;
	/* A value that does not parse whole matches nothing, even when the
	 * tag is in it. */
	assert_false(etag_matches("abcdefghijklmnopqrstuv", TAG));
	assert_false(etag_matches(TAG " x", TAG));
	assert_false(etag_matches(TAG " " TAG, TAG));
	assert_false(etag_matches(TAG ", junk", TAG));
	assert_false(etag_matches("junk, " TAG, TAG));
	assert_false(etag_matches("w/" OPAQUE, TAG));          /* W/ is case-sensitive */
	assert_false(etag_matches("W/ " OPAQUE, TAG));
	assert_false(etag_matches("W" OPAQUE, TAG));
	assert_false(etag_matches("\"abcdefghijklmnopqrstuv", TAG));
	assert_false(etag_matches("\"a\"b\", " TAG, TAG));
	assert_false(etag_matches("\"a b\", " TAG, TAG));       /* SP is not etagc */
	assert_false(etag_matches("\"a\x7f\", " TAG, TAG));
	assert_false(etag_matches("\"a\tb\", " TAG, TAG));
	assert_false(etag_matches(TAG ";", TAG));
	assert_false(etag_matches("'abcdefghijklmnopqrstuv'", TAG));
}

static void
test_match_bounded(void **state)
{
	char v[ETAG_LIST_MAX + 2];
	size_t pad = ETAG_LIST_MAX - strlen(", " TAG);

	(void)state;
	/* Exactly ETAG_LIST_MAX bytes: empty elements, then the tag. */
	memset(v, ',', pad);
	strcpy(v + pad, ", " TAG);
	assert_int_equal(strlen(v), ETAG_LIST_MAX);
	assert_true(etag_matches(v, TAG));
	/* One more byte: never. */
	memset(v, ',', pad + 1);
	strcpy(v + pad + 1, ", " TAG);
	assert_false(etag_matches(v, TAG));
}

/* ---- the list page's tag ---- */

static struct todo items[2];
static struct todo_page page;
static struct reltime_at now;
static const char *csrf, *view;

static void
base(void)
{
	static const unsigned char zero[ETAG_BUILD_BYTES];

	etag_set_build(zero);
	memset(items, 0, sizeof(items));
	items[0] = (struct todo){ .id = 7, .title = "Buy milk",
	    .description = "two litres", .completed = false,
	    .created_us = NOON_Z - 5 * 60 * S, .created_off = 3600 };
	items[1] = (struct todo){ .id = 3, .title = "Call mum",
	    .description = NULL, .completed = true,
	    .created_us = NOON_Z - 3 * 3600 * S, .created_off = 3600 };
	page = (struct todo_page){ .email = "a@example.com", .items = items,
	    .n = 2, .active = 1, .completed = 1, .has_older = false,
	    .has_newer = false, .before = 0, .total = 2, .now_off = 3600 };
	now = (struct reltime_at){ NOON_Z, 3600 };
	csrf = "csrf-token-one";
	view = "/todos";
}

/* The tag of the page as the store hands it: each text with its length
 * (store_search_check takes them from the answer). */
static void
page_tag(char out[ETAG_SIZE])
{
	size_t i;

	for (i = 0; i < page.n; i++) {
		items[i].title_n = items[i].title != NULL ? strlen(items[i].title) : 0;
		items[i].description_n = items[i].description != NULL ?
		    strlen(items[i].description) : 0;
	}
	etag_list_page(out, csrf, view, &page, &now);
}

static const char *
tag(void)
{
	static char out[ETAG_SIZE];

	page_tag(out);
	return out;
}

static void
test_tag_form(void **state)
{
	const char *t;
	size_t i;

	(void)state;
	base();
	t = tag();
	assert_int_equal(strlen(t), ETAG_SIZE - 1);
	assert_memory_equal(t, "W/\"", 3);
	assert_int_equal(t[ETAG_SIZE - 2], '"');
	for (i = 3; i < ETAG_SIZE - 2; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", t[i]));
	/* 16 bytes in base64url: the last character holds the last byte's
	 * low 2 bits and 4 zero bits. */
	assert_non_null(strchr("AQgw", t[ETAG_SIZE - 3]));
	assert_true(etag_matches(t, t));
}

/* Each change alone gives another tag; undone, the first one again. */
#define CHANGES(what) do {                                      \
	char before[ETAG_SIZE];                                 \
	base();                                                 \
	strcpy(before, tag());                                  \
	what;                                                   \
	assert_string_not_equal(tag(), before);                 \
	base();                                                 \
	assert_string_equal(tag(), before);                     \
} while (0)

static void
test_tag_changes(void **state)
{
	static const unsigned char other[ETAG_BUILD_BYTES] = { 1 };

	(void)state;
	CHANGES(etag_set_build(other));
	CHANGES(csrf = "csrf-token-two");
	CHANGES(view = "/todos?filter=active");
	CHANGES(view = "/todos?q=milk");
	CHANGES(view = "/todos?before=1795953000000000_7");
	CHANGES(view = "/todos?after=1795953000000000_7");
	CHANGES(page.email = "b@example.com");
	CHANGES(page.n = 1);
	CHANGES(page.n = 0);
	CHANGES(page.active = 2);
	CHANGES(page.completed = 0);
	CHANGES(page.total = 3);
	CHANGES(page.before = 50);
	CHANGES(page.has_older = true);
	CHANGES(page.has_newer = true);
	CHANGES(page.now_off = 7200);
	CHANGES(items[0].id = 8);
	CHANGES(items[1].id = 4);
	CHANGES(items[0].title = "Buy milk!");
	CHANGES(items[0].description = "two litres ");
	CHANGES(items[0].description = NULL);
	CHANGES(items[1].description = "");      /* "" is not NULL */
	CHANGES(items[0].completed = true);
	CHANGES(items[1].completed = false);
	CHANGES(items[0].created_us += 1);
	CHANGES(items[0].created_off = 7200);
	/* The fields must not run into each other. */
	CHANGES((items[0].title = "Buy milktwo", items[0].description = " litres"));
	/* The clock, once the wording moves: "5 minutes ago" -> "6 ...". */
	CHANGES(now.us += 60 * S);
	/* The wording against now in another zone ("yesterday"). */
	CHANGES((now.us = NOON_Z + 10 * 3600 * S, now.off_s = 7 * 3600));
}

static void
test_tag_steady(void **state)
{
	char before[ETAG_SIZE];

	(void)state;
	base();
	strcpy(before, tag());
	/* Seconds pass, the words stay: the same tag (else no 304 ever). */
	now.us += 30 * S;
	assert_string_equal(tag(), before);
	/* What the digest reads is the page, not where it lies. */
	base();
	view = strdup("/todos");
	assert_string_equal(tag(), before);
	free((void *)view);
	/* updated_* and the UTC text are not shown on the list. */
	base();
	items[0].updated_us = 42;
	items[0].created_at = "2026-11-29T11:55:00Z";
	assert_string_equal(tag(), before);
}

/* Two descriptions of 12,000 bytes: more than the digest's buffer takes
 * at once (etag.c), so the tag is of a chain of digests. A byte changed
 * anywhere, before, across or after the buffer's end, changes the tag. */
#define LONG 12000

static char long_a[LONG + 2], long_b[LONG + 2];

static void
long_base(void)
{
	base();
	memset(long_a, 'a', LONG);
	memset(long_b, 'b', LONG);
	items[0].description = long_a;
	items[1].description = long_b;
}

static void
test_tag_long_page(void **state)
{
	char first[ETAG_SIZE], t[ETAG_SIZE];
	size_t i, j;

	(void)state;
	long_base();
	page_tag(first);
	for (j = 0; j < 2; j++) {
		char *d = j == 0 ? long_a : long_b;

		for (i = 0; i < LONG; i++) {
			d[i] = 'x';
			page_tag(t);
			assert_string_not_equal(t, first);
			d[i] = j == 0 ? 'a' : 'b';
		}
	}
	page_tag(t);
	assert_string_equal(t, first);
	/* Fields after the long ones, and the first one. */
	items[1].title = "Call dad";
	page_tag(t);
	assert_string_not_equal(t, first);
	long_base();
	csrf = "csrf-token-two";
	page_tag(t);
	assert_string_not_equal(t, first);
	/* One byte moved from one description to the other. */
	long_base();
	long_a[LONG - 1] = '\0';
	long_b[LONG] = 'b';
	page_tag(t);
	assert_string_not_equal(t, first);
	long_b[LONG] = '\0';
}

/* ---- the build identity ---- */

static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_build_id(void **state)
{
	char dir[] = "/tmp/test_etag.XXXXXX", err[256], path[512], cmd[600];
	unsigned char a[ETAG_BUILD_BYTES], b[ETAG_BUILD_BYTES];

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "list.html", "<p>{{x}}</p>");
	put(dir, "head.html", "<title>");
	assert_int_equal(etag_build_id(dir, "/static", a, err, sizeof(err)), TD_OK);
	assert_int_equal(etag_build_id(dir, "/static", b, err, sizeof(err)), TD_OK);
	assert_memory_equal(a, b, sizeof(a));
	/* Not templates: no change. */
	put(dir, ".list.html.swp", "junk");
	put(dir, "notes.txt", "junk");
	assert_int_equal(etag_build_id(dir, "/static", b, err, sizeof(err)), TD_OK);
	assert_memory_equal(a, b, sizeof(a));
	/* A template's text, a new template, the static URL: a change. */
	put(dir, "list.html", "<p>{{x}}</p>\n");
	assert_int_equal(etag_build_id(dir, "/static", b, err, sizeof(err)), TD_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	put(dir, "list.html", "<p>{{x}}</p>");
	put(dir, "more.html", "");
	assert_int_equal(etag_build_id(dir, "/static", b, err, sizeof(err)), TD_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	snprintf(path, sizeof(path), "%s/more.html", dir);
	unlink(path);
	assert_int_equal(etag_build_id(dir, "/static", b, err, sizeof(err)), TD_OK);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(etag_build_id(dir, "/assets", b, err, sizeof(err)), TD_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Text moved from one file's end to the next one's start. */
	put(dir, "list.html", "<p>{{x}}</p><title>");
	put(dir, "head.html", "");
	assert_int_equal(etag_build_id(dir, "/static", b, err, sizeof(err)), TD_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	/* No directory: an error that says which. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_not_equal(etag_build_id(path, "/static", b, err, sizeof(err)), TD_OK);
	assert_non_null(strstr(err, "missing"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the request field and the 304 ---- */

static long
no_body(void *ctx, char *buf, size_t n)
{
	(void)ctx; (void)buf; (void)n;
	return 0;
}

static void
test_request_field(void **state)
{
	struct arena *a = arena_new(1 << 20);
	char *big = malloc(IF_NONE_MATCH_MAX + 32);
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/todos",
	    "HTTP_IF_NONE_MATCH=" TAG, NULL };
	struct request r;
	int http;

	(void)state;
	assert_non_null(a);
	assert_non_null(big);
	assert_int_equal(request_parse(&r, a, params, no_body, NULL, 1024, &http), TD_OK);
	assert_non_null(r.if_none_match);
	assert_string_equal(r.if_none_match, TAG);
	params[2] = NULL;
	assert_int_equal(request_parse(&r, a, params, no_body, NULL, 1024, &http), TD_OK);
	assert_null(r.if_none_match);
	/* Too long, or not UTF-8: left out, not a 400 (it only ever allows a
	 * 304). */
	strcpy(big, "HTTP_IF_NONE_MATCH=");
	memset(big + strlen(big), ',', IF_NONE_MATCH_MAX + 1);
	big[strlen("HTTP_IF_NONE_MATCH=") + IF_NONE_MATCH_MAX + 1] = '\0';
	params[2] = big;
	assert_int_equal(request_parse(&r, a, params, no_body, NULL, 1024, &http), TD_OK);
	assert_int_equal(http, 200);
	assert_null(r.if_none_match);
	big[strlen(big) - 1] = '\0';
	assert_int_equal(request_parse(&r, a, params, no_body, NULL, 1024, &http), TD_OK);
	assert_non_null(r.if_none_match);
	params[2] = "HTTP_IF_NONE_MATCH=\"\xff\xfe\"";
	assert_int_equal(request_parse(&r, a, params, no_body, NULL, 1024, &http), TD_OK);
	assert_int_equal(http, 200);
	free(big);
	arena_free(a);
}

static char sent[4096];
static size_t sent_len;

static int
sink(void *ctx, const char *data, size_t n)
{
	(void)ctx;
	assert_true(sent_len + n < sizeof(sent));
	memcpy(sent + sent_len, data, n);
	sent_len += n;
	sent[sent_len] = '\0';
	return 0;
}

static void
test_not_modified(void **state)
{
	struct arena *a = arena_new(1 << 20);
	struct response r;

	(void)state;
	assert_non_null(a);
	/* The 200: validator headers instead of no-store. */
	response_init(&r, a);
	response_etag(&r, TAG);
	assert_true(response_has_header(&r, "cache-control"));
	assert_true(response_has_header(&r, "ETag"));
	assert_false(response_has_header(&r, "Cache"));
	assert_false(response_has_header(&r, "Content-Type"));
	buf_puts(&r.body, "<p>page</p>");
	sent_len = 0;
	assert_int_equal(response_send(&r, false, sink, NULL), TD_OK);
	assert_string_equal(sent, "Status: 200 OK\r\nContent-Length: 11\r\n"
	    "ETag: " TAG "\r\nCache-Control: private, no-cache\r\n\r\n<p>page</p>");
	/* The 304: the same headers, no body, no Content-Length, even when a
	 * body was begun. */
	response_init(&r, a);
	response_header(&r, "Strict-Transport-Security", "max-age=63072000");
	buf_puts(&r.body, "begun");
	response_not_modified(&r, TAG);
	sent_len = 0;
	assert_int_equal(response_send(&r, false, sink, NULL), TD_OK);
	assert_string_equal(sent, "Status: 304 Not Modified\r\n"
	    "Strict-Transport-Security: max-age=63072000\r\n"
	    "ETag: " TAG "\r\nCache-Control: private, no-cache\r\n\r\n");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_one),
		cmocka_unit_test(test_match_list),
		cmocka_unit_test(test_match_star),
		cmocka_unit_test(test_match_garbage),
		cmocka_unit_test(test_match_bounded),
		cmocka_unit_test(test_tag_form),
		cmocka_unit_test(test_tag_changes),
		cmocka_unit_test(test_tag_steady),
		cmocka_unit_test(test_tag_long_page),
		cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_request_field),
		cmocka_unit_test(test_not_modified),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
