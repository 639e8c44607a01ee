/* reltime.c - see reltime.h. */
#include "reltime.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Bounded for the format widths (gmtime's fields are in range; the year
 * of any timestamptz fits in four digits... up to 9999). */
#define F2(x) ((unsigned)(x) % 100u)
#define YEAR(tm) ((unsigned)((tm)->tm_year + 1900) % 10000u)

/* Floor division: instants before 1970 round towards the past. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The local wall-clock time of t, broken down. */
static void
local_tm(const struct reltime_at *t, struct tm *tm)
{
	time_t s = (time_t)(floor_div(t->us, 1000000) + t->off_s);

	if (gmtime_r(&s, tm) == NULL)
		memset(tm, 0, sizeof(*tm));
}

/* Days since the epoch of t's local date. */
static int64_t
local_day(const struct reltime_at *t)
{
	return floor_div(floor_div(t->us, 1000000) + t->off_s, 86400);
}

void
reltime_iso(const struct reltime_at *t, char out[RELTIME_ISO_MAX])
{
	struct reltime_at at = *t;
	int32_t off;
	struct tm tm;

	/* HTML's offsets are whole minutes; old local mean times are not
	 * (Paris was +00:09:21): those are shown in UTC. */
	if (at.off_s % 60 != 0)
		at.off_s = 0;
	local_tm(&at, &tm);
	off = at.off_s < 0 ? -at.off_s : at.off_s;
	snprintf(out, RELTIME_ISO_MAX, "%04u-%02u-%02uT%02u:%02u:%02u%c%02u:%02u",
	    YEAR(&tm), F2(tm.tm_mon + 1), F2(tm.tm_mday), F2(tm.tm_hour),
	    F2(tm.tm_min), F2(tm.tm_sec), at.off_s < 0 ? '-' : '+',
	    F2(off / 3600), F2(off / 60 % 60));
}

static void
local_date(const struct tm *tm, char *out, size_t n)
{
	snprintf(out, n, "%u %s %04u", F2(tm->tm_mday), months[F2(tm->tm_mon) % 12u],
	    YEAR(tm));
}

void
reltime_title(const struct reltime_at *t, char out[RELTIME_TITLE_MAX])
{
	char date[16];
	struct tm tm;

	local_tm(t, &tm);
	local_date(&tm, date, sizeof(date));
	snprintf(out, RELTIME_TITLE_MAX, "%s, %02u:%02u", date, F2(tm.tm_hour),
	    F2(tm.tm_min));
}

void
reltime_relative(const struct reltime_at *t, const struct reltime_at *now,
    char out[RELTIME_REL_MAX])
{
	int64_t secs = floor_div(now->us - t->us, 1000000), days;
	struct tm tm;

	if (secs < 60) {
		snprintf(out, RELTIME_REL_MAX, "just now");
	} else if (secs < 3600) {
		snprintf(out, RELTIME_REL_MAX, "%d minute%s ago", (int)(secs / 60),
		    secs < 120 ? "" : "s");
	} else if (secs < 86400 || (days = local_day(now) - local_day(t)) < 1) {
		/* (24 h or more, yet the same local date: a DST day of 25 h) */
		snprintf(out, RELTIME_REL_MAX, "%d hour%s ago", (int)(secs / 3600),
		    secs < 7200 ? "" : "s");
	} else if (days == 1) {
		snprintf(out, RELTIME_REL_MAX, "yesterday");
	} else if (days < 7) {
		snprintf(out, RELTIME_REL_MAX, "%d days ago", (int)days);
	} else {
		local_tm(t, &tm);
		local_date(&tm, out, RELTIME_REL_MAX);
	}
}

int
reltime_text(struct arena *a, const struct reltime_at *t,
    const struct reltime_at *now, struct reltime_text *out)
{
	char iso[RELTIME_ISO_MAX], title[RELTIME_TITLE_MAX], rel[RELTIME_REL_MAX];

	reltime_iso(t, iso);
	reltime_title(t, title);
	reltime_relative(t, now, rel);
	out->iso = arena_strndup(a, iso, strlen(iso));
	out->title = arena_strndup(a, title, strlen(title));
	out->relative = arena_strndup(a, rel, strlen(rel));
	return out->iso != NULL && out->title != NULL && out->relative != NULL;
}
