/*
 * fuzz_etag.c - If-None-Match (etag_matches). Properties: a value that
 * matches is "*" alone (with blanks) or holds the tag's quoted part, and
 * is at most ETAG_LIST_MAX bytes; W/ on our side changes nothing (weak
 * comparison); a value that matches still matches with more tags after
 * it, and one that does not parse (it matches neither the tag nor "*"'s
 * cases) stays unmatched whatever follows.
 * The list page's tag (etag_list_page) of a page made of the input (two
 * titles and a description cut from it): a byte changed, a field's end
 * moved by one byte, "" for no description, each gives another tag (the
 * digest is XXH3-128: a collision is a 2^-128 chance, not a finding),
 * and the tag matches itself. Building and running: docs/fuzzing.md.
 */
#include <string.h>

#include "etag.h"
#include "fuzz.h"
#include "reltime.h"
#include "store.h"

#define TAG	"W/\"abcdefghijklmnopqrstuv\""
#define OPAQUE	"\"abcdefghijklmnopqrstuv\""

static char v[ETAG_LIST_MAX + 64], w[ETAG_LIST_MAX + 128];

static bool
star(const char *s)
{
	s += strspn(s, " \t");
	if (*s != '*')
		return false;
	s++;
	return s[strspn(s, " \t")] == '\0';
}

#define PAGE_MAX 4096

static char text[PAGE_MAX + 1], f0[PAGE_MAX + 1], f1[PAGE_MAX + 1], f2[PAGE_MAX + 1];

static void
page_tag(char out[ETAG_SIZE], size_t c1, size_t c2, size_t m, bool no_desc)
{
	struct todo items[2] = {
		{ .id = 7, .title = f0, .description = no_desc ? NULL : f1,
		  .created_us = 1795953300000000LL, .created_off = 3600 },
		{ .id = 3, .title = f2, .completed = true,
		  .created_us = 1795942800000000LL, .created_off = 3600 },
	};
	struct todo_page page = { .email = "a@example.com", .items = items,
	    .n = 2, .active = 1, .completed = 1, .total = 2, .now_off = 3600 };
	struct reltime_at now = { 1795953600000000LL, 3600 };

	memcpy(f0, text, c1);
	f0[c1] = '\0';
	memcpy(f1, text + c1, c2 - c1);
	f1[c2 - c1] = '\0';
	memcpy(f2, text + c2, m - c2);
	f2[m - c2] = '\0';
	/* Each text with its length, as the store hands them. */
	items[0].title_n = strlen(f0);
	items[0].description_n = no_desc ? 0 : strlen(f1);
	items[1].title_n = strlen(f2);
	etag_list_page(out, "csrf", "/todos", &page, &now);
}

static void
page_properties(const uint8_t *data, size_t size)
{
	char t[ETAG_SIZE], u[ETAG_SIZE];
	size_t m = size < PAGE_MAX ? size : PAGE_MAX, c1, c2, i, at;

	if (m == 0)
		return;
	/* Strings: NUL bytes as 0x01. */
	for (i = 0; i < m; i++)
		text[i] = data[i] != 0 ? (char)data[i] : 1;
	c1 = data[0] % (m + 1);
	c2 = c1 + data[m - 1] % (m - c1 + 1);
	page_tag(t, c1, c2, m, false);
	CHECK(strlen(t) == ETAG_SIZE - 1 && etag_matches(t, t));
	page_tag(u, c1, c2, m, false);
	CHECK(strcmp(t, u) == 0);
	/* A byte changed (never to NUL). */
	at = (size_t)data[m / 2] * 257 % m;
	text[at] ^= text[at] == 1 ? 2 : 1;
	page_tag(u, c1, c2, m, false);
	CHECK(strcmp(t, u) != 0);
	text[at] = data[at] != 0 ? (char)data[at] : 1;
	/* A field's end moved: the same bytes, cut elsewhere. */
	if (c1 > 0) {
		page_tag(u, c1 - 1, c2, m, false);
		CHECK(strcmp(t, u) != 0);
	}
	if (c2 < m) {
		page_tag(u, c1, c2 + 1, m, false);
		CHECK(strcmp(t, u) != 0);
	}
	/* No description is not "". */
	if (c1 == c2) {
		page_tag(u, c1, c2, m, true);
		CHECK(strcmp(t, u) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	bool m;

	/* A header value has no NUL: the part before it. */
	if (n > ETAG_LIST_MAX + 8)
		n = ETAG_LIST_MAX + 8;
	memcpy(v, data, n);
	v[n] = '\0';
	m = etag_matches(v, TAG);
	CHECK(m == etag_matches(v, OPAQUE));
	if (m) {
		CHECK(n <= ETAG_LIST_MAX);
		CHECK(star(v) || strstr(v, OPAQUE) != NULL);
	}
	CHECK(!etag_matches(v, NULL));
	/* More after a match: a list element, still a match (not after
	 * "*", which stands alone). */
	if (m && !star(v) && n + 8 <= ETAG_LIST_MAX) {
		memcpy(w, v, n);
		strcpy(w + n, ", \"x\"");
		CHECK(etag_matches(w, TAG));
	}
	/* The tag after a value that matches nothing of its own: a match
	 * only if the value is a list (or blank), never after garbage that
	 * holds no quote at all. */
	if (!m && n + sizeof(", " TAG) <= ETAG_LIST_MAX && memchr(v, '"', n) == NULL &&
	    v[strspn(v, " \t,")] != '\0') {
		memcpy(w, v, n);
		strcpy(w + n, ", " TAG);
		CHECK(!etag_matches(w, TAG));
	}
	page_properties(data, size);
	return 0;
}
