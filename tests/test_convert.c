/* test_convert.c - every SQLite-to-PostgreSQL conversion rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "convert.h"

static struct conv_tz utc;

static struct conv_value
text(const char *s)
{
	struct conv_value v = { .type = CONV_TEXT, .p = s, .n = strlen(s) };

	return v;
}

static struct conv_value
bytes(const char *s, size_t n)
{
	struct conv_value v = { .type = CONV_TEXT, .p = s, .n = n };

	return v;
}

static struct conv_value
integer(int64_t i)
{
	struct conv_value v = { .type = CONV_INT, .i = i };

	return v;
}

/* Converts s in tz and returns the ISO UTC form (static buffer). */
static const char *
ts_in(const char *s, const struct conv_tz *tz)
{
	static char buf[32];
	struct conv_value v = text(s);
	const char *why = NULL;
	int64_t us;

	if (conv_timestamp(&v, tz, &us, &why) != TD_OK)
		return why;
	conv_format_ts(us, true, buf);
	return buf;
}

static const char *
ts(const char *s)
{
	return ts_in(s, &utc);
}

static void
t_formats(void **state)
{
	(void)state;
	/* The Python version's own format. */
	assert_string_equal(ts("2025-03-01 15:36:00.691420"),
	    "2025-03-01T15:36:00.691420Z");
	assert_string_equal(ts("2025-03-01 15:36:00"),
	    "2025-03-01T15:36:00.000000Z");
	assert_string_equal(ts("2025-03-01 15:36"),
	    "2025-03-01T15:36:00.000000Z");
	assert_string_equal(ts("2025-03-01 15:36:00.5"),
	    "2025-03-01T15:36:00.500000Z");
	assert_string_equal(ts("2025-03-01T15:36:00.123"),
	    "2025-03-01T15:36:00.123000Z");
	assert_string_equal(ts("2025-03-01"), "2025-03-01T00:00:00.000000Z");
	assert_string_equal(ts("2024-02-29 23:59:59.999999"),
	    "2024-02-29T23:59:59.999999Z");
	/* Nanoseconds only when the extra digits are zeros. */
	assert_string_equal(ts("2025-03-01 15:36:00.123456000"),
	    "2025-03-01T15:36:00.123456Z");
	assert_string_equal(ts("2025-03-01 15:36:00.1234567"),
	    "date has more than microsecond precision");
	assert_string_equal(ts("0001-01-01 00:00:00"),
	    "0001-01-01T00:00:00.000000Z");
	assert_string_equal(ts("9999-12-31 23:59:59.999999"),
	    "9999-12-31T23:59:59.999999Z");
}

static void
t_offsets(void **state)
{
	(void)state;
	assert_string_equal(ts("2025-03-01T15:36:00Z"),
	    "2025-03-01T15:36:00.000000Z");
	assert_string_equal(ts("2025-03-01T15:36:00z"),
	    "2025-03-01T15:36:00.000000Z");
	assert_string_equal(ts("2025-03-01T15:36:00+01:00"),
	    "2025-03-01T14:36:00.000000Z");
	assert_string_equal(ts("2025-03-01T15:36:00.25-0530"),
	    "2025-03-01T21:06:00.250000Z");
	assert_string_equal(ts("2025-03-01 15:36:00+02"),
	    "2025-03-01T13:36:00.000000Z");
	/* Crossing midnight and a year. */
	assert_string_equal(ts("2025-01-01T00:30:00+01:00"),
	    "2024-12-31T23:30:00.000000Z");
}

static void
t_unreadable(void **state)
{
	static const char *const bad[] = { "", "yesterday", "2025-3-1",
	    "2025-03-01 ", " 2025-03-01", "2025-03-01X10:00", "2025-03-01 25:00",
	    "2025-03-01 10:60", "2025-03-01 10:00:60", "2025-02-29",
	    "2025-13-01", "2025-00-10", "0000-01-01", "2025-03-01 10:00:00.",
	    "2025-03-01 10:00:00+1", "2025-03-01 10:00:00+16:00",
	    "2025-03-01 10:00:00 +01:00", "2025-03-01 10:00:00ZZ",
	    "1700000000", "2025/03/01" };
	const char *why = NULL;
	struct conv_value v;
	int64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = text(bad[i]);
		assert_int_equal(conv_timestamp(&v, &utc, &us, &why),
		    TD_EINVAL);
		assert_non_null(why);
	}
	v = (struct conv_value){ .type = CONV_REAL, .r = 2460000.5 };
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_EINVAL);
	assert_non_null(strstr(why, "REAL"));
	v = (struct conv_value){ .type = CONV_NULL };
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_EINVAL);
	v = bytes("2025-03-01\0", 11);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_EINVAL);
}

static void
t_epochs(void **state)
{
	struct conv_value v;
	const char *why;
	char buf[32];
	int64_t us;

	(void)state;
	v = integer(1740843360);	/* seconds */
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_OK);
	conv_format_ts(us, true, buf);
	assert_string_equal(buf, "2025-03-01T15:36:00.000000Z");
	v = integer(1740843360123);	/* milliseconds */
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_OK);
	conv_format_ts(us, true, buf);
	assert_string_equal(buf, "2025-03-01T15:36:00.123000Z");
	v = integer(0);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_OK);
	assert_int_equal(us, 0);
	v = integer(-86400);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_OK);
	conv_format_ts(us, true, buf);
	assert_string_equal(buf, "1969-12-31T00:00:00.000000Z");
	/* The boundary: 1e11 - 1 is seconds (year 5138), 1e11 is ms. */
	v = integer(99999999999LL);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_OK);
	assert_int_equal(us, 99999999999LL * 1000000);
	v = integer(100000000000LL);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_OK);
	assert_int_equal(us, 100000000000LL * 1000);
	/* Microsecond epochs are not guessed. */
	v = integer(1740843360123456LL);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_EINVAL);
	v = integer(INT64_MIN);
	assert_int_equal(conv_timestamp(&v, &utc, &us, &why), TD_EINVAL);
	/* Naive epochs ignore the source zone: they are UTC by definition. */
	struct conv_tz ny;
	assert_int_equal(conv_tz_parse("America/New_York", &ny), TD_OK);
	v = integer(1740843360);
	assert_int_equal(conv_timestamp(&v, &ny, &us, &why), TD_OK);
	assert_int_equal(us, 1740843360LL * 1000000);
}

static void
t_zones(void **state)
{
	struct conv_tz tz;

	(void)state;
	assert_int_equal(conv_tz_parse("UTC", &tz), TD_OK);
	assert_int_equal(tz.kind, TZ_UTC);
	assert_int_equal(conv_tz_parse("+05:30", &tz), TD_OK);
	assert_int_equal(tz.kind, TZ_FIXED);
	assert_string_equal(ts_in("2025-03-01 12:00:00", &tz),
	    "2025-03-01T06:30:00.000000Z");
	/* An explicit offset wins over the source zone. */
	assert_string_equal(ts_in("2025-03-01 12:00:00Z", &tz),
	    "2025-03-01T12:00:00.000000Z");
	assert_int_equal(conv_tz_parse("Nowhere/Atlantis", &tz), TD_EINVAL);
	assert_int_equal(conv_tz_parse("../../etc/passwd", &tz), TD_EINVAL);
	assert_int_equal(conv_tz_parse("/etc/localtime", &tz), TD_EINVAL);
	assert_int_equal(conv_tz_parse("", &tz), TD_EINVAL);

	assert_int_equal(conv_tz_parse("Europe/Berlin", &tz), TD_OK);
	assert_int_equal(tz.kind, TZ_NAMED);
	assert_string_equal(ts_in("2025-01-15 12:00:00", &tz),
	    "2025-01-15T11:00:00.000000Z");
	assert_string_equal(ts_in("2025-07-15 12:00:00.5", &tz),
	    "2025-07-15T10:00:00.500000Z");
	assert_string_equal(ts_in("2025-07-15", &tz),
	    "2025-07-14T22:00:00.000000Z");
	/* 2025-03-30 02:30 does not exist in Berlin. */
	assert_non_null(strstr(ts_in("2025-03-30 02:30:00", &tz), "DST gap"));
	/* 2025-10-26 02:30 happens twice: the later (standard time) one,
	 * as PostgreSQL picks. */
	assert_string_equal(ts_in("2025-10-26 02:30:00", &tz),
	    "2025-10-26T01:30:00.000000Z");
	assert_string_equal(ts_in("2025-10-26 03:30:00", &tz),
	    "2025-10-26T02:30:00.000000Z");
	assert_string_equal(ts_in("2025-10-26 01:30:00", &tz),
	    "2025-10-25T23:30:00.000000Z");
}

static void
t_booleans(void **state)
{
	static const char *const yes[] = { "1", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "false", "FALSE" };
	static const char *const bad[] = { "", "2", "yes", "t", "truee",
	    " 1" };
	struct conv_value v;
	const char *why;
	bool b;
	size_t i;

	(void)state;
	v = integer(1);
	assert_int_equal(conv_bool(&v, &b, &why), TD_OK);
	assert_true(b);
	v = integer(0);
	assert_int_equal(conv_bool(&v, &b, &why), TD_OK);
	assert_false(b);
	v = integer(2);
	assert_int_equal(conv_bool(&v, &b, &why), TD_EINVAL);
	v = integer(-1);
	assert_int_equal(conv_bool(&v, &b, &why), TD_EINVAL);
	v = (struct conv_value){ .type = CONV_NULL };
	assert_int_equal(conv_bool(&v, &b, &why), TD_EINVAL);
	v = (struct conv_value){ .type = CONV_REAL, .r = 1.0 };
	assert_int_equal(conv_bool(&v, &b, &why), TD_EINVAL);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = text(yes[i]);
		b = false;
		assert_int_equal(conv_bool(&v, &b, &why), TD_OK);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = text(no[i]);
		b = true;
		assert_int_equal(conv_bool(&v, &b, &why), TD_OK);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = text(bad[i]);
		assert_int_equal(conv_bool(&v, &b, &why), TD_EINVAL);
		assert_string_equal(why,
		    "boolean is neither 0/1 nor true/false");
	}
}

static void
t_text(void **state)
{
	char long_title[4 * 201 + 1];
	struct conv_value v;
	const char *why, *out;
	size_t len;
	int i;

	(void)state;
	/* Byte for byte, padding included. */
	v = text("  padded  ");
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why), TD_OK);
	assert_int_equal(len, 10);
	assert_memory_equal(out, "  padded  ", 10);
	v = text(" ");
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why), TD_OK);
	v = text("");
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
	assert_string_equal(why, "empty");
	/* Empty stays distinct from NULL. */
	assert_int_equal(conv_text(&v, true, 0, 2000, &out, &len, &why), TD_OK);
	assert_non_null(out);
	assert_int_equal(len, 0);
	v = (struct conv_value){ .type = CONV_NULL };
	assert_int_equal(conv_text(&v, true, 0, 2000, &out, &len, &why), TD_OK);
	assert_null(out);
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
	/* 200 code points of a 4-byte emoji pass, 201 do not. */
	for (i = 0; i < 201; i++)
		memcpy(long_title + 4 * i, "\xF0\x9F\x98\x80", 4);
	v = bytes(long_title, 800);
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why), TD_OK);
	v = bytes(long_title, 804);
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
	assert_string_equal(why, "too long");
	/* Invalid UTF-8 and NUL. */
	v = bytes("ab\xC3", 3);
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
	assert_string_equal(why, "invalid UTF-8");
	v = bytes("\xED\xA0\x80", 3);	/* a surrogate */
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
	v = bytes("a\0b", 3);
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
	assert_string_equal(why, "contains a NUL byte");
	v = integer(5);
	assert_int_equal(conv_text(&v, false, 1, 200, &out, &len, &why),
	    TD_EINVAL);
}

static void
t_row(void **state)
{
	struct conv_value v[CONV_NCOLS];
	struct conv_row r;
	enum conv_col bad;
	const char *why;

	(void)state;
	v[COL_ID] = integer(7);
	v[COL_TITLE] = text("Buy milk");
	v[COL_DESCRIPTION] = (struct conv_value){ .type = CONV_NULL };
	v[COL_COMPLETED] = integer(1);
	v[COL_CREATED_AT] = text("2025-03-01 15:36:00.691420");
	v[COL_UPDATED_AT] = integer(1740843360);
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_OK);
	assert_int_equal(r.id, 7);
	assert_null(r.desc);
	assert_true(r.completed);
	v[COL_TITLE] = text("");
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_EINVAL);
	assert_int_equal(bad, COL_TITLE);
	assert_string_equal(why, "title is empty");
	v[COL_TITLE] = text("ok");
	v[COL_UPDATED_AT] = text("soon");
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_EINVAL);
	assert_int_equal(bad, COL_UPDATED_AT);
	v[COL_UPDATED_AT] = text("2025-03-01");
	v[COL_ID] = integer(INT64_MAX);
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_EINVAL);
	assert_int_equal(bad, COL_ID);
	v[COL_ID] = integer(INT64_MAX - 1);
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_OK);
	v[COL_ID] = integer(0);
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_EINVAL);
	assert_int_equal(bad, COL_ID);
	v[COL_ID] = integer(-5);
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_EINVAL);
	assert_int_equal(bad, COL_ID);
	assert_string_equal(why, "id is 0 or negative: the app's ids start "
	    "at 1");
	v[COL_ID] = text("7");
	assert_int_equal(conv_row(v, &utc, &r, &bad, &why), TD_EINVAL);
	assert_int_equal(bad, COL_ID);
}

/* Ids: what the identity can hand out and the router can address
 * (1..INT64_MAX), less INT64_MAX itself, which would leave the generator
 * nothing to hand out. */
static void
t_ids(void **state)
{
	struct conv_value v;
	const char *why;
	int64_t id;

	(void)state;
	v = integer(1);
	assert_int_equal(conv_id(&v, &id, &why), TD_OK);
	assert_int_equal(id, 1);
	v = integer(INT64_C(1000000000000000000));
	assert_int_equal(conv_id(&v, &id, &why), TD_OK);
	assert_int_equal(id, INT64_C(1000000000000000000));
	v = integer(INT64_MAX - 1);
	assert_int_equal(conv_id(&v, &id, &why), TD_OK);
	assert_int_equal(id, INT64_MAX - 1);

	v = integer(0);
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_string_equal(why, "id is 0 or negative: the app's ids start "
	    "at 1");
	v = integer(-5);
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_string_equal(why, "id is 0 or negative: the app's ids start "
	    "at 1");
	v = integer(INT64_MIN);
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	v = integer(INT64_MAX);
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_non_null(strstr(why, "largest bigint"));

	/* Past INT64_MAX SQLite has no INTEGER: such a value comes as a
	 * REAL (or as text in a column without affinity). */
	v = (struct conv_value){ .type = CONV_REAL, .r = 9223372036854775808.0 };
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_string_equal(why, "id is not an integer");
	v = (struct conv_value){ .type = CONV_REAL, .r = 7.0 };
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_string_equal(why, "id is not an integer");
	v = text("9223372036854775808");
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_string_equal(why, "id is not an integer");
	v = text("7");
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	v = (struct conv_value){ .type = CONV_NULL };
	assert_int_equal(conv_id(&v, &id, &why), TD_EINVAL);
	assert_string_equal(why, "id is NULL");
}

static void
t_hash(void **state)
{
	struct conv_row a = { .id = 1, .title = "x", .title_len = 1,
	    .desc = NULL, .completed = false, .created_us = 0,
	    .updated_us = 1 };
	struct conv_row b = a;
	unsigned char ha[CONV_HASH_LEN], hb[CONV_HASH_LEN];

	(void)state;
	conv_row_hash(&a, ha);
	conv_row_hash(&b, hb);
	assert_memory_equal(ha, hb, CONV_HASH_LEN);
	assert_int_equal(conv_row_diff(&a, &b), 0);
	/* NULL and "" differ. */
	b.desc = "";
	conv_row_hash(&b, hb);
	assert_memory_not_equal(ha, hb, CONV_HASH_LEN);
	assert_int_equal(conv_row_diff(&a, &b), 1u << COL_DESCRIPTION);
	/* Field boundaries cannot shift: "ab"+"" vs "a"+"b". */
	a.title = "ab";
	a.title_len = 2;
	a.desc = "";
	b.title = "a";
	b.title_len = 1;
	b.desc = "b";
	b.desc_len = 1;
	conv_row_hash(&a, ha);
	conv_row_hash(&b, hb);
	assert_memory_not_equal(ha, hb, CONV_HASH_LEN);
	b = a;
	b.updated_us++;
	b.completed = true;
	assert_int_equal(conv_row_diff(&a, &b),
	    1u << COL_UPDATED_AT | 1u << COL_COMPLETED);
}

static void
t_copy(void **state)
{
	static const char src[] = "a\\b\tc\nd\re\\N";
	char out[64], back[64];
	size_t n;
	bool isnull;

	(void)state;
	n = conv_copy_escape(out, src, sizeof(src) - 1);
	assert_int_equal(n, 16);
	assert_memory_equal(out, "a\\\\b\\tc\\nd\\re\\\\N", n);
	memcpy(back, out, n);
	n = conv_copy_unescape(back, n, &isnull);
	assert_false(isnull);
	assert_int_equal(n, sizeof(src) - 1);
	assert_memory_equal(back, src, n);
	memcpy(back, "\\N", 2);
	conv_copy_unescape(back, 2, &isnull);
	assert_true(isnull);
	memcpy(back, "\\x41\\101\\v", 10);
	n = conv_copy_unescape(back, 10, &isnull);
	assert_int_equal(n, 3);
	assert_memory_equal(back, "AA\v", 3);
}

static void
t_format_show(void **state)
{
	char buf[300];
	char big[600];
	struct conv_value v;

	(void)state;
	conv_format_ts(-1, false, buf);
	assert_string_equal(buf, "1969-12-31 23:59:59.999999+00");
	conv_format_ts(1740843360691420LL, false, buf);
	assert_string_equal(buf, "2025-03-01 15:36:00.691420+00");
	v = bytes("ok \xC3\xA9 \xFF\x00\\\n", 10);
	conv_show(&v, buf, sizeof(buf));
	assert_string_equal(buf, "ok \xC3\xA9 \\xFF\\x00\\\\\\x0A");
	memset(big, 'a', sizeof(big));
	v = bytes(big, sizeof(big));
	conv_show(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "(600 bytes in all)"));
	assert_true(strlen(buf) < sizeof(buf));
	v = integer(-3);
	conv_show(&v, buf, sizeof(buf));
	assert_string_equal(buf, "-3");
	v = (struct conv_value){ .type = CONV_NULL };
	conv_show(&v, buf, sizeof(buf));
	assert_string_equal(buf, "NULL");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_formats),
		cmocka_unit_test(t_offsets),
		cmocka_unit_test(t_unreadable),
		cmocka_unit_test(t_epochs),
		cmocka_unit_test(t_zones),
		cmocka_unit_test(t_booleans),
		cmocka_unit_test(t_text),
		cmocka_unit_test(t_row),
		cmocka_unit_test(t_ids),
		cmocka_unit_test(t_hash),
		cmocka_unit_test(t_copy),
		cmocka_unit_test(t_format_show),
	};

	if (sodium_init() < 0)
		return 1;
	if (conv_tz_parse("UTC", &utc) != TD_OK)
		return 1;
	return cmocka_run_group_tests_name("convert", tests, NULL, NULL);
}
