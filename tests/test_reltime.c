/* test_reltime.c - local ISO times, titles and relative wording, at their
 * boundaries: 59 s / 60 s, 59 min / 60 min, 23 h / 24 h, "yesterday"
 * decided by the person's local midnight, a DST change, negative and
 * half-hour offsets, instants before 1970. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "reltime.h"

#define S 1000000LL                 /* one second in microseconds */
/* 2026-11-29T12:00:00Z */
#define NOON_Z (1795953600LL * S)

static const char *
rel(int64_t t_us, int32_t t_off, int64_t now_us, int32_t now_off)
{
	static char out[RELTIME_REL_MAX];
	struct reltime_at t = { t_us, t_off }, now = { now_us, now_off };

	reltime_relative(&t, &now, out);
	return out;
}

static void
test_noon_is_what_we_think(void **state)
{
	struct reltime_at t = { NOON_Z, 0 };
	char iso[RELTIME_ISO_MAX];

	(void)state;
	reltime_iso(&t, iso);
	assert_string_equal(iso, "2026-11-29T12:00:00+00:00");
}

static void
test_minutes_and_hours(void **state)
{
	(void)state;
	assert_string_equal(rel(NOON_Z, 0, NOON_Z, 0), "just now");
	assert_string_equal(rel(NOON_Z - 59 * S, 0, NOON_Z, 0), "just now");
	/* 59.999999 s is still under a minute */
	assert_string_equal(rel(NOON_Z - 60 * S + 1, 0, NOON_Z, 0), "just now");
	assert_string_equal(rel(NOON_Z - 60 * S, 0, NOON_Z, 0), "1 minute ago");
	assert_string_equal(rel(NOON_Z - 119 * S, 0, NOON_Z, 0), "1 minute ago");
	assert_string_equal(rel(NOON_Z - 120 * S, 0, NOON_Z, 0), "2 minutes ago");
	assert_string_equal(rel(NOON_Z - 3599 * S, 0, NOON_Z, 0), "59 minutes ago");
	assert_string_equal(rel(NOON_Z - 3600 * S, 0, NOON_Z, 0), "1 hour ago");
	assert_string_equal(rel(NOON_Z - 2 * 3600 * S, 0, NOON_Z, 0), "2 hours ago");
	assert_string_equal(rel(NOON_Z - 23 * 3600 * S, 0, NOON_Z, 0), "23 hours ago");
	assert_string_equal(rel(NOON_Z - (86400 - 1) * S, 0, NOON_Z, 0), "23 hours ago");
	assert_string_equal(rel(NOON_Z - 86400 * S, 0, NOON_Z, 0), "yesterday");
	/* a clock a little ahead of the request's: not "in the future" */
	assert_string_equal(rel(NOON_Z + 5 * S, 0, NOON_Z, 0), "just now");
}

static void
test_yesterday_by_local_midnight(void **state)
{
	(void)state;
	/* Now 00:30 local (UTC+1): 23:30 UTC. 25 h ago is 23:30 local two
	 * days back: "2 days ago", though in UTC it would be "yesterday". */
	assert_string_equal(rel(NOON_Z + 11 * 3600 * S + 1800 * S - 25 * 3600 * S, 3600,
	    NOON_Z + 11 * 3600 * S + 1800 * S, 3600), "2 days ago");
	/* The same instants read in UTC: 23:30 now, 22:30 the day before. */
	assert_string_equal(rel(NOON_Z + 11 * 3600 * S + 1800 * S - 25 * 3600 * S, 0,
	    NOON_Z + 11 * 3600 * S + 1800 * S, 0), "yesterday");
	/* 47 h before 23:00 is yesterday's 00:00: still yesterday */
	assert_string_equal(rel(NOON_Z - 36 * 3600 * S, 0, NOON_Z + 11 * 3600 * S, 0),
	    "yesterday");
	/* New York (UTC-5), now 01:00 local = 06:00Z; 30 h ago is 19:00
	 * local two days back. */
	assert_string_equal(rel(NOON_Z - 6 * 3600 * S - 30 * 3600 * S, -18000,
	    NOON_Z - 6 * 3600 * S, -18000), "2 days ago");
	assert_string_equal(rel(NOON_Z - 6 * 86400 * S, 0, NOON_Z, 0), "6 days ago");
	assert_string_equal(rel(NOON_Z - 7 * 86400 * S, 0, NOON_Z, 0), "22 Nov 2026");
}

static void
test_local_forms(void **state)
{
	struct reltime_at t = { NOON_Z - 2 * 3600 * S, 3600 };   /* 10:00Z = 11:00 Paris */
	char iso[RELTIME_ISO_MAX], title[RELTIME_TITLE_MAX];

	(void)state;
	reltime_iso(&t, iso);
	reltime_title(&t, title);
	assert_string_equal(iso, "2026-11-29T11:00:00+01:00");
	assert_string_equal(title, "29 Nov 2026, 11:00");
	/* negative offset across midnight: 03:00Z is the evening before */
	t.us = NOON_Z - 9 * 3600 * S;
	t.off_s = -8 * 3600;
	reltime_iso(&t, iso);
	reltime_title(&t, title);
	assert_string_equal(iso, "2026-11-28T19:00:00-08:00");
	assert_string_equal(title, "28 Nov 2026, 19:00");
	/* half and quarter hours */
	t.off_s = -(3 * 3600 + 1800);           /* Newfoundland */
	reltime_iso(&t, iso);
	assert_string_equal(iso, "2026-11-28T23:30:00-03:30");
	t.off_s = 5 * 3600 + 45 * 60;           /* Kathmandu */
	reltime_iso(&t, iso);
	assert_string_equal(iso, "2026-11-29T08:45:00+05:45");
	/* an offset with seconds (old local mean time): shown in UTC */
	t.off_s = 561;
	reltime_iso(&t, iso);
	assert_string_equal(iso, "2026-11-29T03:00:00+00:00");
	/* before 1970: one microsecond before the epoch is still 1969 */
	t.us = -1;
	t.off_s = 0;
	reltime_iso(&t, iso);
	assert_string_equal(iso, "1969-12-31T23:59:59+00:00");
	/* the date wording is the local date: 23:30Z is 00:30 in Paris */
	assert_string_equal(rel(NOON_Z - 30 * 86400 * S - 12 * 3600 * S - 1800 * S, 3600,
	    NOON_Z, 3600), "30 Oct 2026");
	assert_string_equal(rel(NOON_Z - 30 * 86400 * S - 12 * 3600 * S - 1800 * S, 0,
	    NOON_Z, 0), "29 Oct 2026");
}

static void
test_dst_change(void **state)
{
	/* Europe/Paris, 2026-10-25: clocks go from 03:00 +02:00 back to
	 * 02:00 +01:00 at 01:00Z. That day has 25 local hours. */
	int64_t change = 1792890000LL * S;       /* 2026-10-25T01:00:00Z */
	struct reltime_at before = { change - 1800 * S, 7200 };
	struct reltime_at after = { change + 1800 * S, 3600 };
	char iso[RELTIME_ISO_MAX];

	(void)state;
	reltime_iso(&before, iso);
	assert_string_equal(iso, "2026-10-25T02:30:00+02:00");
	reltime_iso(&after, iso);
	assert_string_equal(iso, "2026-10-25T02:30:00+01:00");
	/* one hour apart though the wall clock reads the same */
	assert_string_equal(rel(before.us, before.off_s, after.us, after.off_s),
	    "1 hour ago");
	/* 24 h after 00:30 (+02:00) on the 25th is 23:30 (+01:00) the same
	 * local day: never "yesterday" for a same-day instant... */
	assert_string_equal(rel(change - 2 * 3600 * S - 1800 * S, 7200,
	    change + 21 * 3600 * S + 1800 * S, 3600), "24 hours ago");
	/* ...and 24 h before 01:30 on the 26th (+01:00) is 02:30 (+02:00)
	 * on the 25th: yesterday, by the local date. */
	assert_string_equal(rel(change + 23 * 3600 * S + 1800 * S - 86400 * S, 7200,
	    change + 23 * 3600 * S + 1800 * S, 3600), "yesterday");
}

static void
test_arena_text(void **state)
{
	struct arena *a = arena_new(4096);
	struct reltime_at t = { NOON_Z - 2 * 3600 * S, 3600 }, now = { NOON_Z, 3600 };
	struct reltime_text out;

	(void)state;
	assert_non_null(a);
	assert_true(reltime_text(a, &t, &now, &out));
	assert_string_equal(out.iso, "2026-11-29T11:00:00+01:00");
	assert_string_equal(out.title, "29 Nov 2026, 11:00");
	assert_string_equal(out.relative, "2 hours ago");
	arena_free(a);
}

/* reltime_text's three forms are what the three functions give one by
 * one. */
static void
assert_text_matches_parts(struct arena *a, const struct reltime_at *t,
    const struct reltime_at *now)
{
	char iso[RELTIME_ISO_MAX], title[RELTIME_TITLE_MAX], rel_[RELTIME_REL_MAX];
	struct reltime_text out;

	char block[RELTIME_TEXT_BYTES];
	struct reltime_text in;

	assert_true(reltime_text(a, t, now, &out));
	reltime_iso(t, iso);
	reltime_title(t, title);
	reltime_relative(t, now, rel_);
	assert_string_equal(out.iso, iso);
	assert_string_equal(out.title, title);
	assert_string_equal(out.relative, rel_);
	/* Their lengths (the list renders by them, not by strlen). */
	assert_int_equal(out.iso_n, strlen(iso));
	assert_int_equal(out.title_n, strlen(title));
	assert_int_equal(out.relative_n, strlen(rel_));
	/* Into the caller's block: the same. */
	reltime_text_in(block, t, now, &in);
	assert_true(in.iso >= block && in.relative < block + sizeof(block));
	assert_string_equal(in.iso, iso);
	assert_string_equal(in.title, title);
	assert_string_equal(in.relative, rel_);
	assert_int_equal(in.iso_n, strlen(iso));
	assert_int_equal(in.title_n, strlen(title));
	assert_int_equal(in.relative_n, strlen(rel_));
}

/* reltime_text breaks the instant down once for its three forms: they
 * must be what the three functions give one by one, for every branch
 * (an offset of seconds shown in UTC, negative offsets, before 1970, a
 * date more than a week back). */
static void
test_text_matches_parts(void **state)
{
	static const int32_t offs[] = { 0, 3600, -8 * 3600, -(3 * 3600 + 1800),
	    5 * 3600 + 45 * 60, 561, -561 };
	static const int64_t ago[] = { 0, 59 * S, 61 * S, 3599 * S, 5 * 3600 * S,
	    30 * 3600 * S, 3 * 86400 * S, 8 * 86400 * S, 400 * 86400 * S,
	    NOON_Z + 86400 * 365 * 3 * S, 9 * 60 * S, 10 * 60 * S, 11 * 3600 * S,
	    60 * S, 3600 * S, 2 * 86400 * S, -5 * S };
	struct arena *a = arena_new(0);
	struct reltime_text out;
	size_t i, j;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (j = 0; j < sizeof(ago) / sizeof(ago[0]); j++) {
			struct reltime_at t = { NOON_Z - ago[j] + 1234567, offs[i] };
			struct reltime_at now = { NOON_Z, offs[i] };

			assert_text_matches_parts(a, &t, &now);
		}
	/* The seconds' offset: the ISO form in UTC, the title local. */
	{
		struct reltime_at t = { NOON_Z, 561 }, now = { NOON_Z, 561 };

		assert_true(reltime_text(a, &t, &now, &out));
		assert_string_equal(out.iso, "2026-11-29T12:00:00+00:00");
		assert_string_equal(out.title, "29 Nov 2026, 12:09");
	}
	arena_free(a);
}

/* reltime_text keeps the last day's date forms: rows on one day, on
 * days in turn (A, B, A), and a walk over ten days in uneven steps across
 * midnights, each offset, must still match the forms one by one. */
static void
test_text_days_in_turn(void **state)
{
	static const int32_t offs[] = { 0, 3600, -8 * 3600, 5 * 3600 + 45 * 60, 561 };
	static const int64_t at[] = { 0, 3600 * S, 86400 * S, 2 * 3600 * S,
	    -86400 * S, 86400 * S, 400 * 86400 * S, 0 };
	struct arena *a = arena_new(0);
	size_t i, j;
	int64_t w;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct reltime_at now = { NOON_Z, offs[i] }, t;

		for (j = 0; j < sizeof(at) / sizeof(at[0]) * 2; j++) {
			t = (struct reltime_at){ NOON_Z - 3 * 86400 * S +
			    at[j % (sizeof(at) / sizeof(at[0]))], offs[i] };
			assert_text_matches_parts(a, &t, &now);
		}
		for (w = 0; w < 10 * 86400; w += 3 * 3600 + 7 * 60 + 13) {
			t = (struct reltime_at){ NOON_Z - w * S, offs[i] };
			assert_text_matches_parts(a, &t, &now);
		}
	}
	arena_free(a);
}

/* The key etag.c digests in place of the words: along a walk of now
 * (uneven steps, over 9 days, with offsets that differ between t and now as
 * across a DST change), it changes exactly when the words do. */
static void
test_relative_key(void **state)
{
	static const int32_t offs[][2] = { { 0, 0 }, { 3600, 7200 }, { -16200, -16200 },
		{ 7200, 3600 }, { 19800, 20700 } };
	char prev[RELTIME_REL_MAX], cur[RELTIME_REL_MAX];
	uint32_t pk, ck;
	size_t i;
	int64_t d;
	int changes;

	(void)state;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct reltime_at t = { NOON_Z + 1234567, offs[i][0] };
		struct reltime_at now = { t.us - 120 * S, offs[i][1] };

		reltime_relative(&t, &now, prev);
		pk = reltime_relative_key(&t, &now);
		changes = 0;
		for (d = 1; now.us < t.us + 9 * 86400 * S; d = d % 13 + 1) {
			now.us += d * 7 * S;
			reltime_relative(&t, &now, cur);
			ck = reltime_relative_key(&t, &now);
			assert_int_equal(ck == pk, strcmp(cur, prev) == 0);
			assert_true(ck < 1u << 24);
			changes += ck != pk;
			memcpy(prev, cur, sizeof(prev));
			pk = ck;
		}
		/* minutes 1-59 (a step may skip one), hours, yesterday, days 2-6,
		 * the date */
		assert_true(changes > 70);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noon_is_what_we_think),
		cmocka_unit_test(test_minutes_and_hours),
		cmocka_unit_test(test_yesterday_by_local_midnight),
		cmocka_unit_test(test_local_forms),
		cmocka_unit_test(test_dst_change),
		cmocka_unit_test(test_arena_text),
		cmocka_unit_test(test_text_matches_parts),
		cmocka_unit_test(test_text_days_in_turn),
		cmocka_unit_test(test_relative_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
