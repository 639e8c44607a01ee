/* test_form.c - strict form, query string and Cookie header decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "form.h"
#include "status.h"

static int
setup(void **state)
{
	struct arena *a = arena_new(0);

	if (a == NULL)
		return -1;
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* Literals with their exact length, so they may hold NULs. */
#define L(lit)	(lit), (sizeof(lit) - 1)

/* form_decode must succeed with exactly want (and its NUL terminator). */
#define DEC_OK(lit, plus, want) do {					\
	char *o_ = (char *)"sentinel";					\
	size_t l_ = 12345;						\
	assert_int_equal(form_decode(a, L(lit), (plus), &o_, &l_), TD_OK); \
	assert_non_null(o_);						\
	assert_int_equal(l_, sizeof(want) - 1);				\
	assert_memory_equal(o_, (want), sizeof(want));			\
} while (0)

/* form_decode must fail with err and leave no output behind. */
#define DEC_ERR(lit, plus, err) do {					\
	char *o_ = (char *)"sentinel";					\
	size_t l_ = 12345;						\
	assert_int_equal(form_decode(a, L(lit), (plus), &o_, &l_), (err)); \
	assert_null(o_);						\
	assert_int_equal(l_, 0);					\
} while (0)

/* Field i of f is exactly key=val. */
static void
check_field(const struct form *f, size_t i, const char *key, const char *val)
{
	assert_true(i < f->n);
	assert_string_equal(f->fields[i].key, key);
	assert_string_equal(f->fields[i].val, val);
	assert_int_equal(f->fields[i].key_len, strlen(key));
	assert_int_equal(f->fields[i].val_len, strlen(val));
}

static void
test_decode_valid(void **state)
{
	struct arena *a = *state;

	DEC_OK("", 0, "");
	DEC_OK("hello", 0, "hello");
	DEC_OK("a%20b", 0, "a b");
	DEC_OK("%41%42%43", 0, "ABC");
	DEC_OK("%2f%2F", 0, "//");
	/* Hex digits in either case, even within one escape. */
	DEC_OK("%c3%A9", 0, "\xc3\xa9");
	DEC_OK("%C3%a9", 0, "\xc3\xa9");
	DEC_OK("%e2%82%AC", 0, "\xe2\x82\xac");
	DEC_OK("%F0%9F%98%80", 0, "\xf0\x9f\x98\x80");
	DEC_OK("%25", 0, "%");                  /* no double decoding */
	DEC_OK("%2541", 0, "%41");
	/* Raw UTF-8 passes through. */
	DEC_OK("caf\xc3\xa9", 0, "caf\xc3\xa9");
}

static void
test_decode_invalid(void **state)
{
	struct arena *a = *state;

	DEC_ERR("%zz", 0, TD_EINVAL);
	DEC_ERR("%4", 0, TD_EINVAL);
	DEC_ERR("%4g", 0, TD_EINVAL);
	DEC_ERR("%g4", 0, TD_EINVAL);
	DEC_ERR("abc%", 0, TD_EINVAL);          /* trailing % */
	DEC_ERR("abc%4", 0, TD_EINVAL);
	DEC_ERR("%%41", 0, TD_EINVAL);
	DEC_ERR("% 41", 0, TD_EINVAL);
	DEC_ERR("%+1", 1, TD_EINVAL);           /* '+' is no hex digit */
	DEC_ERR("%-1", 0, TD_EINVAL);           /* strtol would take this */
	DEC_ERR("%x1", 0, TD_EINVAL);
	/* NUL, escaped or raw. */
	DEC_ERR("%00", 0, TD_EINVAL);
	DEC_ERR("a%00b", 0, TD_EINVAL);
	DEC_ERR("a\0b", 0, TD_EINVAL);
	/* Valid escapes, invalid UTF-8 after decoding. */
	DEC_ERR("%C3%28", 0, TD_EINVAL);
	DEC_ERR("%ED%A0%80", 0, TD_EINVAL);     /* surrogate */
	DEC_ERR("%C0%AF", 0, TD_EINVAL);        /* overlong '/' */
	DEC_ERR("%C0%80", 0, TD_EINVAL);        /* overlong NUL */
	DEC_ERR("%F4%90%80%80", 0, TD_EINVAL);  /* > U+10FFFF */
	DEC_ERR("%FF", 0, TD_EINVAL);
	DEC_ERR("%E2%82", 0, TD_EINVAL);        /* truncated */
	DEC_ERR("\xc3", 0, TD_EINVAL);          /* raw invalid */
	DEC_ERR("%C3\xa9" "x\xc3", 0, TD_EINVAL);
}

static void
test_decode_mixed_raw_escaped(void **state)
{
	struct arena *a = *state;

	/* A sequence split between an escape and a raw byte is still one. */
	DEC_OK("%C3\xa9", 0, "\xc3\xa9");
}

static void
test_decode_plus(void **state)
{
	struct arena *a = *state;

	DEC_OK("a+b", 1, "a b");
	DEC_OK("a+b", 0, "a+b");
	DEC_OK("++", 1, "  ");
	DEC_OK("%2B", 1, "+");                  /* an escaped '+' stays '+' */
	DEC_OK("%2b+%20", 1, "+  ");
}

static void
test_decode_null_len_and_bounds(void **state)
{
	struct arena *a = *state;
	char *o = NULL;

	/* out_len may be NULL. */
	assert_int_equal(form_decode(a, "x%41", 4, 0, &o, NULL), TD_OK);
	assert_string_equal(o, "xA");
	/* Only n bytes are read: the escape is cut off by n. */
	assert_int_equal(form_decode(a, "ab%41", 4, 0, &o, NULL), TD_EINVAL);
	assert_int_equal(form_decode(a, "ab%41", 2, 0, &o, NULL), TD_OK);
	assert_string_equal(o, "ab");
}

static void
test_decode_enomem(void **state)
{
	struct arena *a = arena_new(64);
	char big[200], *o = NULL;
	size_t len = 99;

	(void)state;
	assert_non_null(a);
	memset(big, 'x', sizeof(big));
	assert_int_equal(form_decode(a, big, sizeof(big), 0, &o, &len),
	    TD_ENOMEM);
	assert_null(o);
	/* What fits still works. */
	assert_int_equal(form_decode(a, big, 10, 0, &o, &len), TD_OK);
	assert_int_equal(len, 10);
	arena_free(a);
}

static void
test_decode_returns_unused_space(void **state)
{
	struct arena *a = *state;
	char *o;
	size_t before;

	/* 300 bytes of escapes decode to 100: the surplus is given back. */
	char in[301];
	size_t i;

	for (i = 0; i < 100; i++)
		memcpy(in + 3 * i, "%41", 3);
	in[300] = '\0';
	arena_reset(a);
	before = arena_used(a);
	assert_int_equal(form_decode(a, in, 300, 0, &o, NULL), TD_OK);
	assert_int_equal(strlen(o), 100);
	assert_true(arena_used(a) - before < 150);
}

static void
test_parse_basic(void **state)
{
	struct arena *a = *state;
	struct form f;
	size_t len;

	assert_int_equal(form_parse(a, L("a=1&b=two+words&c=%C3%A9"), 10, &f),
	    TD_OK);
	assert_int_equal(f.n, 3);
	check_field(&f, 0, "a", "1");
	check_field(&f, 1, "b", "two words");
	check_field(&f, 2, "c", "\xc3\xa9");
	assert_string_equal(form_get(&f, "b", &len), "two words");
	assert_int_equal(len, 9);
	assert_string_equal(form_get(&f, "c", NULL), "\xc3\xa9");
	assert_null(form_get(&f, "d", &len));
	assert_null(form_get(&f, "", NULL));
	assert_null(form_get(&f, "a=", NULL));
	assert_null(form_get(NULL, "a", NULL));
}

static void
test_parse_keys_decoded(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse(a, L("first+name=Ann&x%5By%5D=1&%3D=eq"),
	    10, &f), TD_OK);
	assert_int_equal(f.n, 3);
	check_field(&f, 0, "first name", "Ann");
	check_field(&f, 1, "x[y]", "1");
	check_field(&f, 2, "=", "eq");
	/* Only the first '=' splits. */
	assert_int_equal(form_parse(a, L("q=a=b==c"), 10, &f), TD_OK);
	check_field(&f, 0, "q", "a=b==c");
	/* '+' in a key or value is a space, '%2B' a plus. */
	assert_int_equal(form_parse(a, L("a+b=c%2Bd"), 10, &f), TD_OK);
	check_field(&f, 0, "a b", "c+d");
}

static void
test_parse_duplicates_first_wins(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse(a, L("id=1&id=2&x=&id=3"), 10, &f), TD_OK);
	assert_int_equal(f.n, 4);
	assert_string_equal(form_get(&f, "id", NULL), "1");
	check_field(&f, 1, "id", "2");
	check_field(&f, 3, "id", "3");
	/* A duplicate's empty first value still wins. */
	assert_int_equal(form_parse(a, L("x=&x=2"), 10, &f), TD_OK);
	assert_string_equal(form_get(&f, "x", NULL), "");
}

static void
test_parse_empty_pairs(void **state)
{
	struct arena *a = *state;
	struct form f = { (struct form_field *)1, 99 };

	assert_int_equal(form_parse(a, NULL, 0, 10, &f), TD_OK);
	assert_int_equal(f.n, 0);
	assert_null(f.fields);
	assert_int_equal(form_parse(a, L(""), 10, &f), TD_OK);
	assert_int_equal(f.n, 0);
	assert_int_equal(form_parse(a, L("&&&"), 10, &f), TD_OK);
	assert_int_equal(f.n, 0);
	assert_int_equal(form_parse(a, L("&a=1&&b=2&"), 10, &f), TD_OK);
	assert_int_equal(f.n, 2);
	check_field(&f, 0, "a", "1");
	check_field(&f, 1, "b", "2");
	/* Empty pairs do not count against max_fields. */
	assert_int_equal(form_parse(a, L("&&a=1&&&&"), 1, &f), TD_OK);
	assert_int_equal(f.n, 1);
}

static void
test_parse_missing_eq(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse(a, L("flag&a=1&other"), 10, &f), TD_OK);
	assert_int_equal(f.n, 3);
	check_field(&f, 0, "flag", "");
	check_field(&f, 1, "a", "1");
	check_field(&f, 2, "other", "");
	assert_non_null(form_get(&f, "flag", NULL));
	assert_int_equal(form_parse(a, L("x="), 10, &f), TD_OK);
	check_field(&f, 0, "x", "");
}

static void
test_parse_empty_key(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse(a, L("=x"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("="), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=1&=2"), 10, &f), TD_EINVAL);
	/* A failed parse leaves an empty form, not half a one. */
	assert_int_equal(f.n, 0);
	assert_null(f.fields);
}

static void
test_parse_max_fields(void **state)
{
	struct arena *a = *state;
	struct form f;
	char big[4 * 1000 + 1];
	size_t i;

	assert_int_equal(form_parse(a, L("a=1&b=2&c=3"), 3, &f), TD_OK);
	assert_int_equal(f.n, 3);
	assert_int_equal(form_parse(a, L("a=1&b=2&c=3"), 2, &f), TD_ETOOBIG);
	assert_int_equal(f.n, 0);
	assert_int_equal(form_parse(a, L("a"), 0, &f), TD_ETOOBIG);
	assert_int_equal(form_parse(a, L(""), 0, &f), TD_OK);
	/* A flood of pairs is refused before anything is decoded, so even
	 * a bad escape in it gives TD_ETOOBIG. */
	for (i = 0; i < 1000; i++)
		memcpy(big + 4 * i, "a=1&", 4);
	big[3] = '%';
	assert_int_equal(form_parse(a, big, sizeof(big) - 1, 100, &f),
	    TD_ETOOBIG);
}

static void
test_parse_bad_encoding(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse(a, L("a=%zz"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=1&b=%4"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=1&b=%"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a%=1"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=%00"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a%00=1"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=x\0y"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=%C3%28"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=%ED%A0%80"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("%ED%A0%80=1"), 10, &f), TD_EINVAL);
	assert_int_equal(form_parse(a, L("a=1&b=\xff"), 10, &f), TD_EINVAL);
	assert_int_equal(f.n, 0);
	/* Escapes do not leak across the '&': "%C3&%A9" is two bad halves. */
	assert_int_equal(form_parse(a, L("a=%C3&b=%A9"), 10, &f), TD_EINVAL);
}

static void
test_parse_enomem(void **state)
{
	struct arena *a;
	struct form f;
	char body[2000];
	size_t i;

	(void)state;
	/* "k=vvvv...&" pairs, 200 bytes each, 10 of them. */
	for (i = 0; i < sizeof(body); i++)
		body[i] = (i % 200 == 199) ? '&' : (i % 200 == 0) ? 'k' :
		    (i % 200 == 1) ? '=' : 'v';
	/* Too small even for the field array. */
	assert_non_null(a = arena_new(16));
	assert_int_equal(form_parse(a, body, sizeof(body), 100, &f),
	    TD_ENOMEM);
	assert_int_equal(f.n, 0);
	arena_free(a);
	/* Room for the fields and a few values, not all. */
	assert_non_null(a = arena_new(1024));
	assert_int_equal(form_parse(a, body, sizeof(body), 100, &f),
	    TD_ENOMEM);
	assert_null(f.fields);
	arena_free(a);
	/* Enough room. */
	assert_non_null(a = arena_new(8192));
	assert_int_equal(form_parse(a, body, sizeof(body), 100, &f), TD_OK);
	assert_int_equal(f.n, 10);
	assert_int_equal(f.fields[9].val_len, 197);
	arena_free(a);
}

static void
test_cookies_basic(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse_cookies(a, L("sid=abc123; theme=dark"),
	    10, &f), TD_OK);
	assert_int_equal(f.n, 2);
	check_field(&f, 0, "sid", "abc123");
	check_field(&f, 1, "theme", "dark");
	assert_string_equal(form_get(&f, "theme", NULL), "dark");
	/* One cookie, no separator. */
	assert_int_equal(form_parse_cookies(a, L("a=1"), 10, &f), TD_OK);
	assert_int_equal(f.n, 1);
	check_field(&f, 0, "a", "1");
	/* Empty header. */
	assert_int_equal(form_parse_cookies(a, L(""), 10, &f), TD_OK);
	assert_int_equal(f.n, 0);
}

static void
test_cookies_whitespace(void **state)
{
	struct arena *a = *state;
	struct form f;

	/* No space after ';', extra spaces and tabs, trailing ';'. */
	assert_int_equal(form_parse_cookies(a,
	    L("  a=1;b=2 ;\tc=3  ;  d = 4 ;;; "), 10, &f), TD_OK);
	assert_int_equal(f.n, 4);
	check_field(&f, 0, "a", "1");
	check_field(&f, 1, "b", "2");
	check_field(&f, 2, "c", "3");
	check_field(&f, 3, "d", "4");
}

static void
test_cookies_quoted_and_empty(void **state)
{
	struct arena *a = *state;
	struct form f;

	assert_int_equal(form_parse_cookies(a,
	    L("q=\"hello world\"; e=; eq=\"\"; one=\"; b=x"), 10, &f), TD_OK);
	assert_int_equal(f.n, 5);
	check_field(&f, 0, "q", "hello world");
	check_field(&f, 1, "e", "");
	check_field(&f, 2, "eq", "");
	/* A lone quote is not a quoted value: kept as it is. */
	check_field(&f, 3, "one", "\"");
	check_field(&f, 4, "b", "x");
	/* Escapes inside quotes are decoded too. */
	assert_int_equal(form_parse_cookies(a, L("q=\"a%20b\""), 10, &f),
	    TD_OK);
	check_field(&f, 0, "q", "a b");
}

static void
test_cookies_decoding(void **state)
{
	struct arena *a = *state;
	struct form f;

	/* Values are percent-decoded, '+' stays '+', names are not decoded. */
	assert_int_equal(form_parse_cookies(a,
	    L("msg=a+b%20c%2B; n%41me=%C3%A9; b64=YWJj+/=="), 10, &f), TD_OK);
	assert_int_equal(f.n, 3);
	check_field(&f, 0, "msg", "a+b c+");
	check_field(&f, 1, "n%41me", "\xc3\xa9");
	/* Only the first '=' splits: base64 padding survives. */
	check_field(&f, 2, "b64", "YWJj+/==");
}

static void
test_cookies_skipped(void **state)
{
	struct arena *a = *state;
	struct form f;

	/* Pairs without '=' and with an empty name are skipped, and do not
	 * count against max_fields. */
	assert_int_equal(form_parse_cookies(a,
	    L("lonely; a=1; =nameless; ; b=2; flag"), 2, &f), TD_OK);
	assert_int_equal(f.n, 2);
	check_field(&f, 0, "a", "1");
	check_field(&f, 1, "b", "2");
	assert_null(form_get(&f, "lonely", NULL));
	assert_null(form_get(&f, "", NULL));
}

static void
test_cookies_bad_encoding(void **state)
{
	struct arena *a = *state;
	struct form f;
	static const char *const bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%00", "a=%C3%28", "a=%ED%A0%80",
		"a=\xc3",
		/* Names: no decoding, but no NUL and valid UTF-8 all the same. */
		"\xff=1",
	};
	char hdr[64];
	size_t i;

	/* A bad cookie is skipped alone: the others around it are kept
	 * (another app's cookie must not sign anyone out). */
	assert_int_equal(form_parse_cookies(a, L("other=%zz; flash=added"), 10,
	    &f), TD_OK);
	assert_int_equal(f.n, 1);
	check_field(&f, 0, "flash", "added");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(hdr, sizeof(hdr), "x=1; %s; y=2", bad[i]);
		assert_int_equal(form_parse_cookies(a, hdr, strlen(hdr), 10, &f),
		    TD_OK);
		assert_int_equal(f.n, 2);
		check_field(&f, 0, "x", "1");
		check_field(&f, 1, "y", "2");
	}
	assert_int_equal(form_parse_cookies(a, L("a\0b=1; c=2"), 10, &f),
	    TD_OK);
	assert_int_equal(f.n, 1);
	check_field(&f, 0, "c", "2");
	/* Nothing well-formed: no cookies, no error. */
	assert_int_equal(form_parse_cookies(a, L("a=1%; b=%zz"), 10, &f),
	    TD_OK);
	assert_int_equal(f.n, 0);
	assert_int_equal(form_parse_cookies(a, L("caf\xc3\xa9=1"), 10, &f),
	    TD_OK);
	check_field(&f, 0, "caf\xc3\xa9", "1");
}

static void
test_cookies_max_fields_and_enomem(void **state)
{
	struct arena *a = *state, *small;
	struct form f;

	/* Past max_fields the first ones are kept. */
	assert_int_equal(form_parse_cookies(a, L("a=1; b=2; c=3"), 2, &f),
	    TD_OK);
	assert_int_equal(f.n, 2);
	check_field(&f, 0, "a", "1");
	check_field(&f, 1, "b", "2");
	assert_null(form_get(&f, "c", NULL));
	/* A skipped bad pair leaves its place to the next good one. */
	assert_int_equal(form_parse_cookies(a, L("a=%zz; b=2; c=3; d=4"), 2,
	    &f), TD_OK);
	assert_int_equal(f.n, 2);
	check_field(&f, 0, "b", "2");
	check_field(&f, 1, "c", "3");
	assert_int_equal(form_parse_cookies(a, L("a=1; b=2; c=3"), 3, &f),
	    TD_OK);
	assert_int_equal(f.n, 3);
	assert_non_null(small = arena_new(32));
	assert_int_equal(form_parse_cookies(small, L("a=1; b=2; c=3"), 3, &f),
	    TD_ENOMEM);
	arena_free(small);
}

static void
test_get_by_length(void **state)
{
	struct arena *a = *state;
	struct form f;
	size_t len = 0;

	/* Keys compare by whole length, not by prefix. */
	assert_int_equal(form_parse(a, L("ab=1&a=2&abc=3"), 10, &f), TD_OK);
	assert_string_equal(form_get(&f, "a", &len), "2");
	assert_int_equal(len, 1);
	assert_string_equal(form_get(&f, "abc", NULL), "3");
	assert_null(form_get(&f, "b", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_decode_mixed_raw_escaped),
		cmocka_unit_test(test_decode_plus),
		cmocka_unit_test(test_decode_null_len_and_bounds),
		cmocka_unit_test(test_decode_enomem),
		cmocka_unit_test(test_decode_returns_unused_space),
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_keys_decoded),
		cmocka_unit_test(test_parse_duplicates_first_wins),
		cmocka_unit_test(test_parse_empty_pairs),
		cmocka_unit_test(test_parse_missing_eq),
		cmocka_unit_test(test_parse_empty_key),
		cmocka_unit_test(test_parse_max_fields),
		cmocka_unit_test(test_parse_bad_encoding),
		cmocka_unit_test(test_parse_enomem),
		cmocka_unit_test(test_cookies_basic),
		cmocka_unit_test(test_cookies_whitespace),
		cmocka_unit_test(test_cookies_quoted_and_empty),
		cmocka_unit_test(test_cookies_decoding),
		cmocka_unit_test(test_cookies_skipped),
		cmocka_unit_test(test_cookies_bad_encoding),
		cmocka_unit_test(test_cookies_max_fields_and_enomem),
		cmocka_unit_test(test_get_by_length),
	};

	return cmocka_run_group_tests_name("form", tests, setup, teardown);
}
