/*
 * fuzz_etag.c - If-None-Match (etag_matches). Properties: a value that
 * matches is "*" alone (with blanks) or holds the tag's quoted part, and
 * is at most ETAG_LIST_MAX bytes; W/ on our side changes nothing (weak
 * comparison); a value that matches still matches with more tags after
 * it, and one that does not parse (it matches neither the tag nor "*"'s
 * cases) stays unmatched whatever follows. Building and running:
 * docs/fuzzing.md.
 */
#include <string.h>

#include "etag.h"
#include "fuzz.h"

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
	return 0;
}
