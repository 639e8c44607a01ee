/* reltime.c - see reltime.h. Formatted by hand, not by snprintf and
 * gmtime_r: a list page formats three times for each of its 50 rows, and
 * those two were a third of a worker's instructions per page. */
#include "reltime.h"

#include <stdbool.h>
#include <string.h>

#include "arena.h"

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* A local wall-clock time, broken down. */
struct civil {
	unsigned year, month, day, hour, min, sec;   /* year % 10000 */
};

/* Floor division: instants before 1970 round towards the past. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * civil_from_days: eras of 400 years, March-based years). */
static void
civil_from_days(int64_t z, struct civil *c)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->month = mp < 10 ? mp + 3 : mp - 9;
	y += c->month <= 2;
	/* Bounded for the four-digit field: a timestamptz's year fits. */
	c->year = (unsigned)(((y % 10000) + 10000) % 10000);
}

/* Seconds since the epoch of t's local wall-clock time. */
static int64_t
local_secs(const struct reltime_at *t)
{
	return floor_div(t->us, 1000000) + t->off_s;
}

static void
local_civil(const struct reltime_at *t, struct civil *c)
{
	int64_t s = local_secs(t), day = floor_div(s, 86400);
	unsigned sod = (unsigned)(s - day * 86400);

	civil_from_days(day, c);
	c->hour = sod / 3600;
	c->min = sod / 60 % 60;
	c->sec = sod % 60;
}

/* Days since the epoch of t's local date. */
static int64_t
local_day(const struct reltime_at *t)
{
	return floor_div(local_secs(t), 86400);
}

/* Two digits by table: a page writes ~16 pairs a row. */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline char *
put2(char *p, unsigned v)
{
	memcpy(p, pairs + 2 * (v % 100), 2);
	return p + 2;
}

static char *
put4(char *p, unsigned v)
{
	return put2(put2(p, v / 100), v % 100);
}

/* An unsigned number without leading zeros. */
static char *
putu(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}


/* "29 Nov 2026" */
static char *
put_date(char *p, const struct civil *c)
{
	p = putu(p, c->day);
	*p++ = ' ';
	memcpy(p, months[(c->month - 1) % 12], 3);
	p[3] = ' ';
	return put4(p + 4, c->year);
}

/* The ISO form of local time c at offset off_s (whole minutes); the
 * end (its NUL). */
static char *
put_iso(const struct civil *cv, int32_t off_s, char out[RELTIME_ISO_MAX])
{
	const struct civil c = *cv;
	unsigned off = (unsigned)(off_s < 0 ? -(int64_t)off_s : off_s);
	char *p = out;

	p = put4(p, c.year);
	*p++ = '-';
	p = put2(p, c.month);
	*p++ = '-';
	p = put2(p, c.day);
	*p++ = 'T';
	p = put2(p, c.hour);
	*p++ = ':';
	p = put2(p, c.min);
	*p++ = ':';
	p = put2(p, c.sec);
	*p++ = off_s < 0 ? '-' : '+';
	p = put2(p, off / 3600 % 100);
	*p++ = ':';
	p = put2(p, off / 60 % 60);
	*p = '\0';
	return p;
}

/* HTML's offsets are whole minutes; old local mean times are not (Paris
 * was +00:09:21): those are shown in UTC. c: t's local time, or NULL. */
static char *
iso_of(const struct reltime_at *t, const struct civil *c,
    char out[RELTIME_ISO_MAX])
{
	struct reltime_at at = *t;
	struct civil own;

	if (at.off_s % 60 != 0) {
		at.off_s = 0;
		c = NULL;
	}
	if (c == NULL) {
		local_civil(&at, &own);
		c = &own;
	}
	return put_iso(c, at.off_s, out);
}

void
reltime_iso(const struct reltime_at *t, char out[RELTIME_ISO_MAX])
{
	iso_of(t, NULL, out);
}

static void
put_title(const struct civil *c, char out[RELTIME_TITLE_MAX])
{
	char *p = put_date(out, c);

	*p++ = ',';
	*p++ = ' ';
	p = put2(p, c->hour);
	*p++ = ':';
	p = put2(p, c->min);
	*p = '\0';
}

void
reltime_title(const struct reltime_at *t, char out[RELTIME_TITLE_MAX])
{
	struct civil c;

	local_civil(t, &c);
	put_title(&c, out);
}

/* The units of "N unit ago", each padded to 8 bytes (copied whole). */
static const char units[3][8] = { "minute", "hour", "day" };

/* "N unit ago", "N units ago" (n is below 100 but for odd offsets); the
 * end (its NUL). out has room for the 8 bytes of a unit. */
static inline char *
put_ago(char *p, int64_t n, const char unit[8], size_t ulen)
{
	if (n >= 0 && n < 10)
		*p++ = (char)('0' + n);
	else if (n >= 10 && n < 100)
		p = put2(p, (unsigned)n);
	else
		p = putu(p, (uint64_t)n);
	*p++ = ' ';
	memcpy(p, unit, 8);
	p += ulen;
	if (n != 1)
		*p++ = 's';
	memcpy(p, " ago", 5);
	return p + 4;
}

/* Which wording t gets against now (enum rel_kind), and its number. */
enum rel_kind { REL_NOW, REL_MINUTES, REL_HOURS, REL_YESTERDAY, REL_DAYS, REL_DATE };

static inline enum rel_kind
relative_kind(const struct reltime_at *t, const struct reltime_at *now, int64_t *n)
{
	int64_t secs = floor_div(now->us - t->us, 1000000), days;

	*n = 0;
	if (secs < 60)
		return REL_NOW;
	if (secs < 3600) {
		*n = secs / 60;
		return REL_MINUTES;
	}
	if (secs < 86400 || (days = local_day(now) - local_day(t)) < 1) {
		/* (24 h or more, yet the same local date: a DST day of 25 h) */
		*n = secs / 3600;
		return REL_HOURS;
	}
	if (days == 1)
		return REL_YESTERDAY;
	if (days < 7) {
		*n = days;
		return REL_DAYS;
	}
	return REL_DATE;
}

/* The words of kind k with its number n; c: t's local time, or NULL.
 * Their length. */
static size_t
put_relative(enum rel_kind k, int64_t n, const struct reltime_at *t,
    const struct civil *c, char out[RELTIME_REL_MAX])
{
	struct civil own;
	char *e = out;

	switch (k) {
	case REL_NOW:
		memcpy(out, "just now", 9);
		e = out + 8;
		break;
	case REL_MINUTES:
		e = put_ago(out, n, units[0], 6);
		break;
	case REL_HOURS:
		e = put_ago(out, n, units[1], 4);
		break;
	case REL_YESTERDAY:
		memcpy(out, "yesterday", 10);
		e = out + 9;
		break;
	case REL_DAYS:
		e = put_ago(out, n, units[2], 3);
		break;
	case REL_DATE:
		if (c == NULL) {
			local_civil(t, &own);
			c = &own;
		}
		e = put_date(out, c);
		*e = '\0';
		break;
	}
	return (size_t)(e - out);
}

static void
relative_of(const struct reltime_at *t, const struct civil *c,
    const struct reltime_at *now, char out[RELTIME_REL_MAX])
{
	int64_t n;
	enum rel_kind k = relative_kind(t, now, &n);

	put_relative(k, n, t, c, out);
}

uint32_t
reltime_relative_key(const struct reltime_at *t, const struct reltime_at *now)
{
	int64_t n;
	enum rel_kind k = relative_kind(t, now, &n);

	/* n < 60 minutes, < 48 hours (a DST day, offsets), < 7 days. */
	return (uint32_t)k << 16 | (uint32_t)(n & 0xffff);
}

void
reltime_relative(const struct reltime_at *t, const struct reltime_at *now,
    char out[RELTIME_REL_MAX])
{
	relative_of(t, NULL, now, out);
}

/* The last local day reltime_text() broke down, and its two date forms:
 * a page's rows fall on a few days, most on the one before. (A worker
 * formats one page at a time; this is a cache of a pure function.) */
static struct {
	bool set;
	int64_t day;
	struct civil c;		/* year, month, day */
	char iso[16];		/* "2026-11-29" */
	char date[16];		/* "29 Nov 2026" */
	size_t date_n;
} last_day;

/* The last whole-minute offset reltime_text_in() wrote, as "+01:00". */
static struct {
	bool set;
	int32_t off_s;
	char s[8];
} last_off;

static void
day_forms(int64_t day)
{
	char *p;

	if (last_day.set && last_day.day == day)
		return;
	civil_from_days(day, &last_day.c);
	p = put4(last_day.iso, last_day.c.year);
	*p++ = '-';
	p = put2(p, last_day.c.month);
	*p++ = '-';
	put2(p, last_day.c.day);
	last_day.date_n = (size_t)(put_date(last_day.date, &last_day.c) - last_day.date);
	last_day.day = day;
	last_day.set = true;
}

int
reltime_text(struct arena *a, const struct reltime_at *t,
    const struct reltime_at *now, struct reltime_text *out)
{
	char *s = arena_alloc(a, RELTIME_TEXT_BYTES);

	if (s == NULL)
		return 0;
	reltime_text_in(s, t, now, out);
	return 1;
}

void
reltime_text_in(char s[RELTIME_TEXT_BYTES], const struct reltime_at *t,
    const struct reltime_at *now, struct reltime_text *out)
{
	/* t's local time broken down once for the three (a page has 50
	 * rows), its date's forms kept from the row before when it is the
	 * same day. */
	char *iso = s, *title = s + RELTIME_ISO_MAX, *rel = title + RELTIME_TITLE_MAX, *p;
	int64_t secs = local_secs(t), day = floor_div(secs, 86400), n;
	unsigned sod = (unsigned)(secs - day * 86400),
	    off = (unsigned)(t->off_s < 0 ? -(int64_t)t->off_s : t->off_s);
	enum rel_kind k;
	struct civil c;

	day_forms(day);
	c = last_day.c;
	c.hour = sod / 3600;
	c.min = sod / 60 % 60;
	c.sec = sod % 60;
	if (t->off_s % 60 != 0) {
		p = iso_of(t, NULL, iso);
	} else {
		/* put_iso() with the date copied */
		memcpy(iso, last_day.iso, 10);
		p = iso + 10;
		*p++ = 'T';
		p = put2(p, c.hour);
		*p++ = ':';
		p = put2(p, c.min);
		*p++ = ':';
		p = put2(p, c.sec);
		/* "+01:00": the rows of a page mostly share one offset */
		if (!last_off.set || last_off.off_s != t->off_s) {
			last_off.s[0] = t->off_s < 0 ? '-' : '+';
			put2(last_off.s + 1, off / 3600 % 100);
			last_off.s[3] = ':';
			put2(last_off.s + 4, off / 60 % 60);
			last_off.s[6] = '\0';
			last_off.off_s = t->off_s;
			last_off.set = true;
		}
		memcpy(p, last_off.s, 7);
		p += 6;
	}
	out->iso_n = (size_t)(p - iso);
	/* put_title() with the date copied */
	memcpy(title, last_day.date, sizeof(last_day.date));
	p = title + last_day.date_n;
	*p++ = ',';
	*p++ = ' ';
	p = put2(p, c.hour);
	*p++ = ':';
	p = put2(p, c.min);
	*p = '\0';
	out->title_n = (size_t)(p - title);
	if ((k = relative_kind(t, now, &n)) == REL_DATE) {
		memcpy(rel, last_day.date, sizeof(last_day.date));
		rel[last_day.date_n] = '\0';
		out->relative_n = last_day.date_n;
	} else {
		out->relative_n = put_relative(k, n, t, &c, rel);
	}
	out->iso = iso;
	out->title = title;
	out->relative = rel;
}
