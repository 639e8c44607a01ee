/* test_arena.c - the per-request arena and the arena-backed buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"

#define CAP (64 * 1024)

static bool
aligned16(const void *p)
{
	return ((uintptr_t)p & 15) == 0;
}

static void
test_alignment(void **state)
{
	struct arena *a = arena_new(0);
	unsigned char *prev = NULL;
	size_t prevn = 0, n;

	(void)state;
	assert_non_null(a);
	/* Odd sizes, including ones that force new blocks, stay aligned
	 * and never overlap the previous allocation. */
	for (n = 0; n < 3000; n += 7) {
		unsigned char *p = arena_alloc(a, n);

		assert_non_null(p);
		assert_true(aligned16(p));
		memset(p, 0xA5, n);
		if (prev != NULL && prevn > 0)
			assert_int_equal(prev[prevn - 1], 0xA5);
		if (prev != NULL && p > prev)
			assert_true(p >= prev + prevn);
		prev = p;
		prevn = n;
	}
	assert_true(aligned16(arena_calloc(a, 3, 5)));
	assert_true(aligned16(arena_strdup(a, "x")));
	assert_true(aligned16(arena_printf(a, "%d", 1)));
	arena_free(a);
}

static void
test_used(void **state)
{
	struct arena *a = arena_new(0);

	(void)state;
	assert_int_equal(arena_used(a), 0);
	assert_non_null(arena_alloc(a, 1));
	assert_int_equal(arena_used(a), 16);
	assert_non_null(arena_alloc(a, 16));
	assert_int_equal(arena_used(a), 32);
	assert_non_null(arena_alloc(a, 17));
	assert_int_equal(arena_used(a), 64);
	/* Zero bytes still gets a distinct, usable pointer. */
	assert_non_null(arena_alloc(a, 0));
	assert_int_equal(arena_used(a), 80);
	arena_free(a);
}

static void
test_cap(void **state)
{
	struct arena *a = arena_new(CAP);
	size_t got = 0, round;
	char *p;

	(void)state;
	assert_non_null(a);
	for (round = 0; round < 3; round++) {
		got = 0;
		while ((p = arena_alloc(a, 1024)) != NULL) {
			memset(p, 'x', 1024);
			got += 1024;
			assert_true(got <= CAP);
		}
		/* 1 KiB pieces tile the blocks exactly: the whole cap is usable. */
		assert_int_equal(got, CAP);
		assert_int_equal(arena_used(a), CAP);
		assert_null(arena_alloc(a, 1));
		assert_null(arena_strdup(a, "no"));
		assert_null(arena_printf(a, "%s", "no"));
		/* Reset makes the whole cap available again. */
		arena_reset(a);
		assert_int_equal(arena_used(a), 0);
	}
	/* One allocation over the cap is refused outright. */
	assert_null(arena_alloc(a, CAP + 1));
	assert_non_null(arena_alloc(a, CAP));
	assert_null(arena_alloc(a, 1));
	assert_null(arena_alloc(a, SIZE_MAX));
	assert_null(arena_calloc(a, SIZE_MAX / 2, 4));
	arena_free(a);
}

static void
test_big(void **state)
{
	struct arena *a = arena_new(0);
	unsigned char *big, *small;
	size_t i, n = 100000;

	(void)state;
	small = arena_alloc(a, 10);
	memcpy(small, "before big", 10);
	big = arena_alloc(a, n);
	assert_non_null(big);
	assert_true(aligned16(big));
	for (i = 0; i < n; i++)
		big[i] = (unsigned char)i;
	small = arena_alloc(a, 10);
	assert_non_null(small);
	memset(small, 0xFF, 10);
	for (i = 0; i < n; i++)
		assert_int_equal(big[i], (unsigned char)i);
	assert_true(arena_used(a) >= n + 20);
	arena_reset(a);
	assert_int_equal(arena_used(a), 0);
	/* The arena is usable after dropping the oversized block. */
	big = arena_alloc(a, 3 * n);
	assert_non_null(big);
	memset(big, 1, 3 * n);
	arena_free(a);
}

static void
test_reset_reuse(void **state)
{
	struct arena *a = arena_new(CAP);
	unsigned char *p;
	int round, i;

	(void)state;
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 10; i++) {
			p = arena_alloc(a, 5000);
			assert_non_null(p);
			memset(p, 0xAA, 5000);
		}
		arena_reset(a);
		/* calloc must zero memory that earlier requests dirtied. */
		p = arena_calloc(a, 100, 40);
		assert_non_null(p);
		for (i = 0; i < 4000; i++)
			assert_int_equal(p[i], 0);
		arena_reset(a);
	}
	arena_free(a);
	arena_free(NULL);
}

static void
test_arena_realloc(void **state)
{
	struct arena *a = arena_new(0);
	char *p, *q, *other;
	size_t used;

	(void)state;
	p = arena_alloc(a, 10);
	memcpy(p, "abcdefghi", 10);
	used = arena_used(a);
	/* The newest allocation grows in place. */
	q = arena_realloc(a, p, 10, 100);
	assert_ptr_equal(q, p);
	assert_string_equal(q, "abcdefghi");
	assert_int_equal(arena_used(a), used - 16 + 112);
	memset(q + 10, 'z', 90);
	/* ... and shrinks in place, giving the bytes back. */
	q = arena_realloc(a, p, 100, 10);
	assert_ptr_equal(q, p);
	assert_int_equal(arena_used(a), used);
	assert_string_equal(q, "abcdefghi");

	/* Not the newest: copied, content kept, old neighbour untouched. */
	other = arena_strdup(a, "other");
	q = arena_realloc(a, p, 10, 40);
	assert_non_null(q);
	assert_ptr_not_equal(q, p);
	assert_string_equal(q, "abcdefghi");
	assert_string_equal(other, "other");

	/* Newest but too big for its block: copied into a new block. */
	p = arena_alloc(a, 64);
	memset(p, 'k', 63);
	p[63] = '\0';
	q = arena_realloc(a, p, 64, 40000);
	assert_non_null(q);
	assert_ptr_not_equal(q, p);
	assert_int_equal(strlen(q), 63);
	assert_int_equal(q[0], 'k');
	memset(q, 'm', 40000);

	/* NULL old behaves like alloc. */
	q = arena_realloc(a, NULL, 0, 32);
	assert_non_null(q);
	assert_true(aligned16(q));
	arena_free(a);
}

static void
test_arena_realloc_cap(void **state)
{
	struct arena *a = arena_new(CAP);
	char *p, *q;

	(void)state;
	p = arena_alloc(a, 1000);
	memset(p, 'r', 1000);
	/* Growing past the cap fails even in place, and the original stays. */
	assert_null(arena_realloc(a, p, 1000, CAP + 16));
	assert_int_equal(p[999], 'r');
	q = arena_realloc(a, p, 1000, 2000);
	assert_ptr_equal(q, p);
	assert_int_equal(q[999], 'r');
	assert_true(arena_used(a) <= CAP);
	arena_free(a);
}

static void
test_strings(void **state)
{
	struct arena *a = arena_new(0);
	char *s, *big;
	size_t i;

	(void)state;
	s = arena_strndup(a, "hello world", 5);
	assert_string_equal(s, "hello");
	s = arena_strndup(a, "ab\0cd", 5);
	assert_memory_equal(s, "ab\0cd", 6);
	s = arena_strndup(a, "", 0);
	assert_string_equal(s, "");
	s = arena_strdup(a, "caf\xc3\xa9");
	assert_string_equal(s, "caf\xc3\xa9");
	s = arena_printf(a, "%d-%s-%05.1f|%c", -42, "x", 3.14159, 'q');
	assert_string_equal(s, "-42-x-003.1|q");
	s = arena_printf(a, "%s", "");
	assert_string_equal(s, "");

	/* A result bigger than a block. */
	big = malloc(40001);
	assert_non_null(big);
	for (i = 0; i < 40000; i++)
		big[i] = (char)('a' + i % 26);
	big[40000] = '\0';
	s = arena_printf(a, "<%s>", big);
	assert_non_null(s);
	assert_int_equal(strlen(s), 40002);
	assert_int_equal(s[0], '<');
	assert_memory_equal(s + 1, big, 40000);
	assert_int_equal(s[40001], '>');
	free(big);
	arena_free(a);
}

static void
test_buf_empty(void **state)
{
	struct arena *a = arena_new(0);
	struct buf b;

	(void)state;
	buf_init(&b, a);
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 0);
	/* "always NUL-terminated when ok", even before the first append. */
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_append(&b, "", 0);
	assert_true(buf_ok(&b));
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	arena_free(a);
}

static void
test_buf_growth(void **state)
{
	struct arena *a = arena_new(0);
	struct buf b;
	char *between;
	size_t i;

	(void)state;
	buf_init(&b, a);
	buf_puts(&b, "start:");
	/* Another allocation in between forces the growth to copy. */
	between = arena_strdup(a, "between");
	for (i = 0; i < 5000; i++) {
		buf_append(&b, "0123456789", 10);
		buf_putc(&b, (char)('a' + i % 26));
	}
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 6 + 5000 * 11);
	assert_int_equal(strlen(b.data), b.len);
	assert_true(b.cap > b.len);
	assert_memory_equal(b.data, "start:", 6);
	for (i = 0; i < 5000; i++) {
		assert_memory_equal(b.data + 6 + i * 11, "0123456789", 10);
		assert_int_equal(b.data[6 + i * 11 + 10], (char)('a' + i % 26));
	}
	assert_string_equal(between, "between");
	/* Only n bytes are taken, even if more follow. */
	buf_init(&b, a);
	buf_append(&b, "abcdef", 3);
	assert_string_equal(b.data, "abc");
	buf_putc(&b, '\0');
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "abc\0", 5);
	arena_free(a);
}

/* buf_put_i64 writes what printf's PRId64 writes. */
static void
test_buf_put_i64(void **state)
{
	static const int64_t v[] = { 0, 7, -7, 10, 1709307360691420, -1000000,
	    INT64_MAX, INT64_MIN };
	struct arena *a = arena_new(0);
	struct buf b, want;
	size_t i;

	(void)state;
	buf_init(&b, a);
	buf_init(&want, a);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_put_i64(&b, v[i]);
		buf_putc(&b, ',');
		buf_printf(&want, "%" PRId64 ",", v[i]);
	}
	assert_true(buf_ok(&b));
	assert_string_equal(b.data, want.data);
	assert_int_equal(b.len, want.len);
	arena_free(a);
}

static void
test_buf_printf(void **state)
{
	struct arena *a = arena_new(0);
	struct buf b;
	char big[1000];
	size_t i;

	(void)state;
	buf_init(&b, a);
	buf_printf(&b, "%s=%d", "n", 7);
	buf_printf(&b, "%s", "");
	buf_printf(&b, ",%03u,%x", 5u, 255u);
	assert_true(buf_ok(&b));
	assert_string_equal(b.data, "n=7,005,ff");
	assert_int_equal(b.len, 10);

	memset(big, 'B', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 20; i++)
		buf_printf(&b, "[%zu%s]", i, big);
	assert_true(buf_ok(&b));
	assert_int_equal(strlen(b.data), b.len);
	assert_memory_equal(b.data, "n=7,005,ff[0BBB", 15);
	assert_int_equal(b.data[b.len - 1], ']');
	arena_free(a);
}

static void
test_buf_html(void **state)
{
	struct arena *a = arena_new(0);
	struct buf b;
	const char *in = "a&b<c>d\"e'f";

	(void)state;
	buf_init(&b, a);
	buf_append_html(&b, in, strlen(in));
	assert_string_equal(b.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f");

	buf_init(&b, a);
	buf_append_html(&b, "<<&&>>", 6);
	assert_string_equal(b.data, "&lt;&lt;&amp;&amp;&gt;&gt;");

	/* Nothing else is touched: '/', '=', '`', UTF-8, entities' text. */
	buf_init(&b, a);
	buf_append_html(&b, "x/=`caf\xc3\xa9 amp;", 14);
	assert_string_equal(b.data, "x/=`caf\xc3\xa9 amp;");

	/* Escaping stops at n. */
	buf_init(&b, a);
	buf_append_html(&b, "<b><i>", 3);
	assert_string_equal(b.data, "&lt;b&gt;");

	buf_init(&b, a);
	buf_append_html(&b, "", 0);
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 0);
	arena_free(a);
}

/* Byte-at-a-time reference for buf_append_html. */
static size_t
ref_html(char *out, const unsigned char *s, size_t n)
{
	size_t i, k = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: out[k++] = (char)s[i]; continue;
		}
		memcpy(out + k, rep, strlen(rep));
		k += strlen(rep);
	}
	out[k] = '\0';
	return k;
}

static void
test_buf_html_runs(void **state)
{
	static const char special[] = "&<>\"'";
	struct arena *a = arena_new(0);
	unsigned char in[40];
	char want[6 * sizeof(in) + 1];
	struct buf b;
	size_t n, pos, k, wn;
	unsigned seed = 1;

	(void)state;
	/* One special byte at every position of every length up to 40:
	 * runs before and after it take the word-wise and bytewise scans. */
	for (n = 1; n <= sizeof(in); n++) {
		for (pos = 0; pos < n; pos++) {
			for (k = 0; k < sizeof(special) - 1; k++) {
				memset(in, 'x', n);
				in[pos] = (unsigned char)special[k];
				wn = ref_html(want, in, n);
				buf_init(&b, a);
				buf_puts(&b, "");
				buf_append_html(&b, (const char *)in, n);
				assert_true(buf_ok(&b));
				assert_int_equal(b.len, wn);
				assert_memory_equal(b.data, want, wn + 1);
			}
		}
	}
	/* Random bytes, all 256 values, appended after earlier text. */
	for (k = 0; k < 2000; k++) {
		n = k % sizeof(in);
		for (pos = 0; pos < n; pos++) {
			seed = seed * 1103515245u + 12345u;
			in[pos] = (unsigned char)(seed >> 16);
		}
		wn = ref_html(want, in, n);
		buf_init(&b, a);
		buf_puts(&b, "pre");
		buf_append_html(&b, (const char *)in, n);
		assert_true(buf_ok(&b));
		assert_int_equal(b.len, 3 + wn);
		assert_memory_equal(b.data, "pre", 3);
		assert_memory_equal(b.data + 3, want, wn + 1);
	}
	arena_free(a);
}

/* buf_html_plain_short: texts of 8 to 64 bytes with nothing to escape
 * are copied exactly (nothing written past d + n); any other length, or
 * a special byte anywhere, is NULL. */
static void
test_buf_html_plain_short(void **state)
{
	static const char special[] = "&<>\"'";
	unsigned char in[80];
	char out[80 + 16], *e;
	size_t n, pos, k;

	(void)state;
	for (n = 0; n <= 70; n++) {
		for (pos = 0; pos < n; pos++)
			in[pos] = (unsigned char)('a' + (pos * 7 + n) % 26);
		if (n > 0)
			in[n - 1] = 0xa9;       /* a byte past ASCII: plain */
		memset(out, '#', sizeof(out));
		e = buf_html_plain_short(out, (const char *)in, n);
		if (n < 8 || n > 64) {
			assert_null(e);
			continue;
		}
		assert_ptr_equal(e, out + n);
		assert_memory_equal(out, in, n);
		assert_int_equal(out[n], '#');
		for (pos = 0; pos < n; pos++) {
			for (k = 0; k < sizeof(special) - 1; k++) {
				unsigned char was = in[pos];

				in[pos] = (unsigned char)special[k];
				memset(out, '#', sizeof(out));
				assert_null(buf_html_plain_short(out, (const char *)in, n));
				in[pos] = was;
			}
		}
	}
}

/* Sparse specials in text of every length to 300 (the one-pass path:
 * 16-byte steps, a special mid-step, the plain tail read as the last 16
 * bytes) and in texts of 5,000 and 20,000 bytes (past 4096, into a buffer
 * without the room for 6 times the text: the run-by-run path), each after
 * a few bytes already in the buffer. */
static void
test_buf_html_sparse(void **state)
{
	static const char special[] = "&<>\"'";
	struct arena *a = arena_new(0);
	static unsigned char in[20000];
	static char want[6 * sizeof(in) + 1];
	unsigned seed = 7;
	size_t n, i, wn;
	struct buf b;

	(void)state;
	for (n = 0; n <= 300 + 2; n++) {
		size_t len = n <= 300 ? n : n == 301 ? 5000 : sizeof(in);

		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 16) % 23 == 0 ? (unsigned char)special[(seed >> 8) % 5] :
			    (unsigned char)('a' + (seed >> 16) % 26);
		}
		wn = ref_html(want, in, len);
		buf_init(&b, a);
		buf_puts(&b, "pre");
		buf_append_html(&b, (const char *)in, len);
		assert_true(buf_ok(&b));
		assert_int_equal(b.len, 3 + wn);
		assert_memory_equal(b.data + 3, want, wn + 1);
	}
	arena_free(a);
}

static void
test_buf_html_cap(void **state)
{
	struct arena *a = arena_new(CAP);
	char big[4096];
	struct buf b;
	int i;

	(void)state;
	/* Escaping that outgrows the arena fails the buffer, no overflow. */
	memset(big, '<', sizeof(big));
	buf_init(&b, a);
	for (i = 0; i < 64 && buf_ok(&b); i++)
		buf_append_html(&b, big, sizeof(big));
	assert_false(buf_ok(&b));
	assert_true(b.len < CAP);
	arena_free(a);
}

static void
test_buf_reserve(void **state)
{
	struct arena *a = arena_new(CAP);
	struct buf b;
	char *data;
	int i;

	(void)state;
	buf_init(&b, a);
	assert_true(buf_reserve(&b, 1000));
	/* Exactly what was asked (plus the NUL), not rounded up. */
	assert_int_equal(b.cap, 1001);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	data = b.data;
	for (i = 0; i < 100; i++)
		buf_append(&b, "0123456789", 10);
	/* 1000 bytes fit: the data never moved. */
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.len, 1000);
	assert_true(buf_ok(&b));
	/* Past it the buffer grows as usual, contents kept. */
	buf_putc(&b, '!');
	assert_true(buf_ok(&b));
	assert_int_equal(b.len, 1001);
	assert_memory_equal(b.data + 990, "0123456789!", 12);
	/* Reserving what is already there changes nothing. */
	data = b.data;
	assert_true(buf_reserve(&b, 1));
	assert_ptr_equal(b.data, data);

	/* More than the arena's cap: the buffer is failed. */
	buf_init(&b, a);
	assert_false(buf_reserve(&b, 2 * CAP));
	assert_false(buf_ok(&b));
	buf_append(&b, "x", 1);
	assert_false(buf_ok(&b));
	arena_free(a);
}

static void
test_buf_urlenc(void **state)
{
	struct arena *a = arena_new(0);
	struct buf b;
	const char *in = "a b&c=d/\xc3\xa9~-_.+%?#";

	(void)state;
	buf_init(&b, a);
	buf_append_urlenc(&b, in, strlen(in));
	assert_string_equal(b.data, "a%20b%26c%3Dd%2F%C3%A9~-_.%2B%25%3F%23");

	buf_init(&b, a);
	buf_append_urlenc(&b, "AZaz09", 6);
	assert_string_equal(b.data, "AZaz09");

	buf_init(&b, a);
	buf_append_urlenc(&b, "\0\x7f\xff", 3);
	assert_string_equal(b.data, "%00%7F%FF");
	arena_free(a);
}

static void
test_buf_failed(void **state)
{
	struct arena *a = arena_new(CAP);
	struct buf b;
	char chunk[1000];
	size_t len, i;

	(void)state;
	memset(chunk, 'c', sizeof(chunk));
	buf_init(&b, a);
	for (i = 0; i < 200 && buf_ok(&b); i++)
		buf_append(&b, chunk, sizeof(chunk));
	assert_false(buf_ok(&b));
	assert_true(b.len < CAP);
	assert_true(arena_used(a) <= CAP);

	/* Once failed, it stays failed and nothing more is appended, even
	 * what would fit. */
	len = b.len;
	arena_reset(a);
	buf_putc(&b, 'x');
	buf_puts(&b, "y");
	buf_printf(&b, "%d", 1);
	buf_append_html(&b, "<", 1);
	buf_append_urlenc(&b, " ", 1);
	assert_false(buf_ok(&b));
	assert_int_equal(b.len, len);

	/* printf and the escapers report failure too. */
	buf_init(&b, a);
	assert_non_null(arena_alloc(a, CAP - 512));
	buf_printf(&b, "%1000d", 1);
	assert_false(buf_ok(&b));
	arena_reset(a);
	buf_init(&b, a);
	assert_non_null(arena_alloc(a, CAP - 512));
	for (i = 0; i < 300; i++)
		buf_append_html(&b, "<>", 2);
	assert_false(buf_ok(&b));
	arena_reset(a);
	buf_init(&b, a);
	assert_non_null(arena_alloc(a, CAP - 512));
	for (i = 0; i < 300; i++)
		buf_append_urlenc(&b, " ", 1);
	assert_false(buf_ok(&b));
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_used),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_arena_realloc),
		cmocka_unit_test(test_arena_realloc_cap),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_buf_empty),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_html),
		cmocka_unit_test(test_buf_html_runs),
		cmocka_unit_test(test_buf_html_plain_short),
		cmocka_unit_test(test_buf_html_sparse),
		cmocka_unit_test(test_buf_html_cap),
		cmocka_unit_test(test_buf_reserve),
		cmocka_unit_test(test_buf_urlenc),
		cmocka_unit_test(test_buf_failed),
		cmocka_unit_test(test_buf_put_i64),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
